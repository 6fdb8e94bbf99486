//! Keyset (cursor) pagination over the directory, ordered by folded name and id.
//!
//! A cursor is the position of the last item on the previous page: its folded
//! name (spaces as `_`) and id, as `name_key.id`. Clients treat it as opaque;
//! it is readable so that every string of that shape is a valid position and
//! can be described exactly in the OpenAPI document. Keyset pagination stays
//! correct when rows are inserted between two page requests, unlike offsets.

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
        format!("{}.{}", self.name_key.replace(' ', "_"), self.id)
    }

    pub fn decode(raw: &str) -> Result<Self, Invalid> {
        let bad = || Invalid::new("cursor is not valid; use the nextCursor of a previous page");
        let (name_key, id) = raw.rsplit_once('.').ok_or_else(bad)?;
        let name_ok = name_key.len() <= 400
            && name_key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        let id_ok = (1..=18).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit());
        if !name_ok || !id_ok {
            return Err(bad());
        }
        Ok(Cursor {
            name_key: name_key.replace('_', " "),
            id: id.parse().map_err(|_| bad())?,
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
        assert_eq!(c.encode(), "s_gravenhage.42");
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        // Any string of the documented shape is a position.
        assert_eq!(Cursor::decode(".7").unwrap().id, 7);
    }

    #[test]
    fn garbage_cursors_are_rejected() {
        for bad in [
            "",
            "!!",
            "abc",
            "abc.",
            "abc.-1",
            "ABC.1",
            "a b.1",
            "a.1234567890123456789",
        ] {
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
