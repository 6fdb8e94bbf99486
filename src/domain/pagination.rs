//! Keyset (cursor) pagination over the directory, ordered by folded name and id.
//!
//! A cursor is opaque to clients: base64url of `name_key` and `id` of the last
//! item on the previous page. Keyset pagination stays correct when rows are
//! inserted between two page requests, unlike offsets.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::Invalid;

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub name_key: String,
    pub id: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}\n{}", self.id, self.name_key))
    }

    pub fn decode(raw: &str) -> Result<Self, Invalid> {
        let bad = || Invalid::new("cursor is not valid; use the nextCursor of a previous page");
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (id, name_key) = text.split_once('\n').ok_or_else(bad)?;
        let id = id.parse::<i64>().map_err(|_| bad())?;
        Ok(Cursor {
            name_key: name_key.to_string(),
            id,
        })
    }
}

/// Parses a page size: 1..=MAX_LIMIT.
pub fn parse_limit(raw: &str) -> Result<i64, Invalid> {
    match raw.parse::<i64>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(Invalid::new(format!(
            "limit must be a whole number from 1 to {MAX_LIMIT}, not '{raw}'"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let c = Cursor {
            name_key: "s gravenhage".into(),
            id: 42,
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
    }

    #[test]
    fn garbage_cursors_are_rejected() {
        for bad in ["", "!!", "bm9uZQ", "YWJjCmRlZg"] {
            assert!(Cursor::decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn limits() {
        assert_eq!(parse_limit("100").unwrap(), 100);
        assert!(parse_limit("0").is_err());
        assert!(parse_limit("101").is_err());
        assert!(parse_limit("ten").is_err());
    }
}
