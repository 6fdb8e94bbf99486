//! Topics organisations can learn from each other, and expertise on them.

use chrono::{DateTime, Utc};

use super::organisation::OrganisationId;
use super::Invalid;

/// Database id of a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TopicId(pub i64);

/// A topic in the catalogue, named in both languages.
#[derive(Debug, Clone, PartialEq)]
pub struct Topic {
    pub id: TopicId,
    pub slug: String,
    pub name_nl: String,
    pub name_en: String,
    pub description_nl: String,
    pub description_en: String,
    /// Retired topics leave the catalogue; expertise on them is kept but hidden.
    pub active: bool,
}

/// What one organisation knows about one topic.
#[derive(Debug, Clone, PartialEq)]
pub struct Expertise {
    pub organisation_id: OrganisationId,
    pub topic: Topic,
    pub level: MaturityLevel,
    /// What they did, in their own words.
    pub summary: String,
    pub since_year: Option<i32>,
    pub willing_to_host: bool,
    pub updated_at: DateTime<Utc>,
}

impl Topic {
    /// The topic's name in `language`.
    pub fn name(&self, language: super::organisation::Language) -> &str {
        match language {
            super::organisation::Language::Nl => &self.name_nl,
            super::organisation::Language::En => &self.name_en,
        }
    }
}

/// URL-safe topic identifier such as `cloud-migration`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TopicSlug(String);

impl TopicSlug {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let valid = (2..=64).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !raw.starts_with('-')
            && !raw.ends_with('-');
        if valid {
            Ok(TopicSlug(raw.to_string()))
        } else {
            Err(Invalid::new(format!(
                "'{raw}' is not a topic slug (2 to 64 lower-case letters, digits and '-', e.g. cloud-migration)"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub const MAX_DESCRIPTION_CHARS: usize = 2000;

/// A topic description: may be empty, at most 2000 characters; line breaks
/// are fine, other control characters are not.
pub fn parse_description(raw: &str) -> Result<String, Invalid> {
    let text = raw.trim();
    // Checked before trimming: `trim` also removes some control characters
    // (U+0085), which the schema forbids anywhere.
    if text.chars().count() > MAX_DESCRIPTION_CHARS
        || raw
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(Invalid::new(format!(
            "a description must be at most {MAX_DESCRIPTION_CHARS} characters without control characters"
        )));
    }
    Ok(text.to_string())
}

/// How far an organisation has come on a topic, from 1 (just starting) to
/// 5 (done, and could teach it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct MaturityLevel(u8);

impl MaturityLevel {
    pub const MIN: u8 = 1;
    pub const MAX: u8 = 5;

    pub fn new(level: i64) -> Result<Self, Invalid> {
        if (i64::from(Self::MIN)..=i64::from(Self::MAX)).contains(&level) {
            Ok(MaturityLevel(level as u8))
        } else {
            Err(Invalid::new(format!(
                "maturity level {level} must be between {} and {}",
                Self::MIN,
                Self::MAX
            )))
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_refuse_control_characters_even_where_trim_would_drop_them() {
        assert_eq!(
            parse_description(" Regels\nen kaders ").unwrap(),
            "Regels\nen kaders"
        );
        assert!(parse_description("Kaders\u{0085}").is_err());
        assert!(parse_description("Ka\u{1}ders").is_err());
    }

    #[test]
    fn slugs() {
        assert!(TopicSlug::parse("cloud-migration").is_ok());
        assert!(TopicSlug::parse("ai2").is_ok());
        for bad in ["Cloud", "-x", "x-", "a", "a b", "a_b", ""] {
            assert!(TopicSlug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn descriptions_keep_line_breaks_but_no_other_control_characters() {
        assert_eq!(parse_description("  a\nb ").unwrap(), "a\nb");
        assert!(parse_description("a\u{7}b").is_err());
        assert!(parse_description(&"x".repeat(2001)).is_err());
        assert_eq!(parse_description("").unwrap(), "");
    }

    #[test]
    fn maturity_is_one_to_five() {
        assert_eq!(MaturityLevel::new(5).unwrap().get(), 5);
        assert!(MaturityLevel::new(0).is_err());
        assert!(MaturityLevel::new(6).is_err());
    }
}

/// What an admin may change of a topic; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct TopicChanges {
    pub name_nl: Option<String>,
    pub name_en: Option<String>,
    pub description_nl: Option<String>,
    pub description_en: Option<String>,
    pub active: Option<bool>,
}
