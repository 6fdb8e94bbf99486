//! Text folding for name search that ignores case and accents.

/// The longest search a person may type (the API and the pages alike).
pub const MAX_QUERY_CHARS: usize = 200;

/// Search words as typed, if not too long.
pub fn parse_query(raw: &str) -> Result<String, super::Invalid> {
    if raw.chars().count() > MAX_QUERY_CHARS {
        Err(super::Invalid::new(format!(
            "at most {MAX_QUERY_CHARS} characters"
        )))
    } else {
        Ok(raw.to_string())
    }
}

/// Folds a name to the form stored in `organisations.name_key` and used for
/// search: accents removed (`Súdwest-Fryslân` → `sudwest fryslan`), lower case,
/// every run of punctuation or white space collapsed to one space.
///
/// The result only contains `[a-z0-9 ]`, so it can be put inside a SQL `LIKE`
/// pattern without escaping and sorts the same under every collation we use.
pub fn fold(text: &str) -> String {
    let ascii = deunicode::deunicode(text);
    let mut out = String::with_capacity(ascii.len());
    let mut pending_space = false;
    for ch in ascii.chars() {
        if ch.is_ascii_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(ch.to_ascii_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// Words (folded: `[a-z0-9]` only) as a full-text query in which every
/// word must begin a word of the text: what `LIKE '% word%'` on the folded
/// text meant, for an index. SQLite's FTS5 (`"word"* AND "word"*`) and
/// PostgreSQL's `to_tsquery('simple', …)` (`word:* & word:*`). Anything but
/// `[a-z0-9]` is dropped, so no query syntax can come from the words.
pub fn prefix_queries(words: &[String]) -> Option<(String, String)> {
    let words: Vec<String> = words
        .iter()
        .map(|w| {
            w.chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return None;
    }
    let fts5 = words
        .iter()
        .map(|w| format!("\"{w}\"*"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let tsquery = words
        .iter()
        .map(|w| format!("{w}:*"))
        .collect::<Vec<_>>()
        .join(" & ");
    Some((fts5, tsquery))
}

#[cfg(test)]
mod tests {
    use super::{fold, prefix_queries};

    #[test]
    fn words_become_prefix_queries_and_nothing_else() {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            prefix_queries(&words(&["cloud", "2024"])),
            Some((
                "\"cloud\"* AND \"2024\"*".to_string(),
                "cloud:* & 2024:*".to_string()
            ))
        );
        // Query syntax never passes: quotes, operators, columns, groups.
        assert_eq!(
            prefix_queries(&words(&["a\"b", "NEAR(", "x:*", "|!&"])),
            Some((
                "\"ab\"* AND \"NEAR\"* AND \"x\"*".to_string(),
                "ab:* & NEAR:* & x:*".to_string()
            ))
        );
        assert_eq!(prefix_queries(&words(&["", "--"])), None);
    }

    #[test]
    fn folds_accents_case_and_punctuation() {
        assert_eq!(fold("Súdwest-Fryslân"), "sudwest fryslan");
        assert_eq!(fold("'s-Gravenhage"), "s gravenhage");
        assert_eq!(
            fold("  Nuenen, Gerwen en Nederwetten "),
            "nuenen gerwen en nederwetten"
        );
        assert_eq!(fold("%_"), "");
    }

    #[test]
    fn output_is_restricted_to_safe_characters() {
        for s in ["Ümlaut Straße", "a%b_c", "漢字", "O'Brien\t\n"] {
            assert!(fold(s)
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == ' '));
        }
    }
}
