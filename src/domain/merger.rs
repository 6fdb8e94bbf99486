//! Municipal mergers (gemeentelijke herindeling): what the merged
//! organisation knows on a topic both knew.

/// What a merger moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Moved {
    /// Expertise topics moved, or combined with the same topic of the new
    /// organisation.
    pub expertise: usize,
    /// Visit sides (as requester or host) moved.
    pub visits: usize,
    /// Lesson sides (as author or host) moved.
    pub lessons: usize,
    pub accounts: usize,
    /// Links in emails sent that now act for the new organisation.
    pub links: usize,
}

/// An organisation's expertise on one topic, as a merger weighs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Know {
    pub level: i32,
    pub summary: String,
    pub since_year: Option<i32>,
    pub willing_to_host: bool,
}

/// The best of both: the higher level, the longer experience, willing to
/// host if either was, and the new organisation's summary unless it has
/// none.
pub fn combined(kept: &Know, gone: &Know) -> Know {
    Know {
        level: kept.level.max(gone.level),
        summary: if kept.summary.trim().is_empty() {
            gone.summary.clone()
        } else {
            kept.summary.clone()
        },
        since_year: match (kept.since_year, gone.since_year) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        },
        willing_to_host: kept.willing_to_host || gone.willing_to_host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_merged_organisation_knows_what_either_knew() {
        let kept = Know {
            level: 2,
            summary: String::new(),
            since_year: Some(2021),
            willing_to_host: false,
        };
        let gone = Know {
            level: 4,
            summary: "Exitplan per applicatie".into(),
            since_year: Some(2019),
            willing_to_host: true,
        };
        assert_eq!(
            combined(&kept, &gone),
            Know {
                level: 4,
                summary: "Exitplan per applicatie".into(),
                since_year: Some(2019),
                willing_to_host: true,
            }
        );
        let told = Know {
            summary: "Eigen verhaal".into(),
            since_year: None,
            ..kept.clone()
        };
        let both = combined(&told, &gone);
        assert_eq!(
            (both.summary.as_str(), both.since_year),
            ("Eigen verhaal", Some(2019))
        );
    }
}
