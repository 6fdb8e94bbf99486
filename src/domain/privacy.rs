//! How long Meeloop keeps each kind of personal data (configuration section
//! `[privacy]`, docs/privacy.md), and what a purge found. The purge itself
//! is `service::privacy`; this is the arithmetic it goes by.

use chrono::{Duration, NaiveDateTime};

/// Text that replaces free text whose retention period is over: the row
/// stays (visit counts, ratings and reputation stay true), the words go.
pub const PSEUDONYMISED: &str = "[verwijderd na de bewaartermijn]";

/// What replaces a name or an address in text when a person is erased.
pub const ERASED: &str = "verwijderde gebruiker";

/// An erased person's emails go nowhere.
pub const ERASED_RECIPIENT: &str = "verwijderd@meeloop.invalid";

/// The texts that identify a person: their address and name, each also
/// folded as the knowledge base's search text stores it (lower case, no
/// accents or punctuation). Texts under four characters would match anyone; repeats go.
pub fn identifying<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut needles: Vec<String> = texts
        .into_iter()
        .flat_map(|t| [t.trim().to_lowercase(), super::search::fold(t)])
        .filter(|n| n.chars().count() >= 4)
        .collect();
    needles.sort();
    needles.dedup();
    needles
}

/// How erasure rewrites text: every identifying text, in any case, longest
/// first (an address before the name inside it).
pub struct Erasure(regex::Regex);

impl Erasure {
    pub fn new(needles: &[String]) -> Result<Self, regex::Error> {
        let mut needles = needles.to_vec();
        needles.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
        let alternatives: Vec<String> = needles.iter().map(|n| regex::escape(n)).collect();
        regex::RegexBuilder::new(&alternatives.join("|"))
            .case_insensitive(true)
            .build()
            .map(Erasure)
    }

    /// What a text cell of `table.column` becomes: an organisation's
    /// contact address goes; a recipient becomes an address that reaches
    /// no one; any other text keeps its words but for the name and address.
    pub fn rewrite(&self, table: &str, column: &str, text: &str) -> Option<String> {
        match (table, column) {
            ("organisations", "contact_email") => None,
            ("outbox", "recipient") => Some(ERASED_RECIPIENT.into()),
            _ => Some(self.0.replace_all(text, ERASED).into_owned()),
        }
    }
}

/// Days each kind of data is kept. Defaults: `config/default.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Audit log entries (they hold addresses and attempted emails).
    pub audit_log_days: u32,
    /// Sent emails: recipient, subject and time (the body is dropped on sending).
    pub sent_mail_days: u32,
    /// Emails that gave up, counted from when they did.
    pub dead_mail_days: u32,
    /// Email link tokens, once used or expired.
    pub link_tokens_days: u32,
    /// `.eml` files of the files transport.
    pub mail_files_days: u32,
    /// Free text of finished visits (goal, reasons, follow-up answers) and of
    /// unpublished lessons, replaced by [`PSEUDONYMISED`] after this many days.
    pub free_text_days: u32,
    /// Webhook deliveries that were delivered or gave up, with their log
    /// of attempts (receivers' answers included).
    pub webhook_log_days: u32,
    /// Hours between two purges by the scheduler (one instance of several
    /// does each).
    pub purge_interval_hours: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            audit_log_days: 365,
            sent_mail_days: 90,
            dead_mail_days: 90,
            link_tokens_days: 30,
            mail_files_days: 30,
            free_text_days: 5 * 365,
            webhook_log_days: 30,
            purge_interval_hours: 24,
        }
    }
}

impl Retention {
    /// Refuses periods that would purge what is still in use: a link token
    /// must outlive its longest validity, and a visit's text must outlive
    /// the lessons forms and the follow-up three months on.
    pub fn validate(&self) -> Result<(), String> {
        let at_least = |name: &str, days: u32, min: u32| {
            if days < min {
                Err(format!(
                    "privacy.{name} must be at least {min} (days), not {days}"
                ))
            } else {
                Ok(())
            }
        };
        at_least("audit_log_days", self.audit_log_days, 30)?;
        at_least("sent_mail_days", self.sent_mail_days, 1)?;
        at_least("dead_mail_days", self.dead_mail_days, 7)?;
        at_least("link_tokens_days", self.link_tokens_days, 1)?;
        at_least("mail_files_days", self.mail_files_days, 1)?;
        at_least("free_text_days", self.free_text_days, 365)?;
        // A week to see, and send again, what a partner missed.
        at_least("webhook_log_days", self.webhook_log_days, 7)?;
        if !(1..=24 * 7).contains(&self.purge_interval_hours) {
            return Err(format!(
                "privacy.purge_interval_hours must be 1 to 168, not {}",
                self.purge_interval_hours
            ));
        }
        Ok(())
    }

    /// What is older than what, `now` being the purge's time.
    pub fn cutoffs(&self, now: NaiveDateTime) -> Cutoffs {
        let before = |days: u32| now - Duration::days(i64::from(days));
        Cutoffs {
            audit_log: before(self.audit_log_days),
            sent_mail: before(self.sent_mail_days),
            dead_mail: before(self.dead_mail_days),
            link_tokens: before(self.link_tokens_days),
            mail_files: before(self.mail_files_days),
            free_text: before(self.free_text_days),
            webhook_log: before(self.webhook_log_days),
        }
    }

    /// The scheduler's purge is due when the last one is at least this old.
    pub fn purge_interval(&self) -> Duration {
        Duration::hours(i64::from(self.purge_interval_hours))
    }
}

/// Data from before these times (UTC) is past its retention period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoffs {
    pub audit_log: NaiveDateTime,
    pub sent_mail: NaiveDateTime,
    pub dead_mail: NaiveDateTime,
    pub link_tokens: NaiveDateTime,
    pub mail_files: NaiveDateTime,
    pub free_text: NaiveDateTime,
    pub webhook_log: NaiveDateTime,
}

/// What an erasure changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Erased {
    /// Accounts made anonymous ("verwijderde gebruiker", no address, no
    /// password, deactivated).
    pub accounts: usize,
    /// Text cells in any table where the name or address was replaced.
    pub texts: usize,
    /// Queued emails to the address, deleted before they went out.
    pub unsent_emails: usize,
    /// Mail files of the files transport that named the person, deleted.
    pub mail_files: usize,
}

/// What a purge removed (or, in a dry run, would remove).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Purged {
    pub audit_entries: usize,
    pub sent_messages: usize,
    pub dead_messages: usize,
    pub link_tokens: usize,
    /// Sessions that ended or expired (with the link tokens' period).
    pub sessions: usize,
    pub mail_files: usize,
    /// Finished visits whose goal and reasons were replaced.
    pub visit_texts: usize,
    /// Unpublished lessons whose texts were replaced.
    pub lesson_texts: usize,
    /// Follow-up answers whose text was replaced.
    pub followup_texts: usize,
    /// Webhook deliveries (delivered or given up) with their attempts.
    pub webhook_deliveries: usize,
}

impl Purged {
    pub fn total(&self) -> usize {
        self.audit_entries
            + self.sent_messages
            + self.dead_messages
            + self.link_tokens
            + self.sessions
            + self.mail_files
            + self.visit_texts
            + self.lesson_texts
            + self.followup_texts
            + self.webhook_deliveries
    }

    /// `(what, how many)` in a fixed order, for the CLI and the audit entry.
    pub fn rows(&self) -> [(&'static str, usize); 10] {
        [
            ("audit log entries", self.audit_entries),
            ("sent emails", self.sent_messages),
            ("emails that gave up", self.dead_messages),
            ("used or expired link tokens", self.link_tokens),
            ("ended or expired sessions", self.sessions),
            ("mail files", self.mail_files),
            ("visit texts pseudonymised", self.visit_texts),
            ("unpublished lesson texts pseudonymised", self.lesson_texts),
            ("follow-up answers pseudonymised", self.followup_texts),
            ("webhook deliveries", self.webhook_deliveries),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid_and_cut_where_the_docs_say() {
        let r = Retention::default();
        r.validate().unwrap();
        let now = chrono::NaiveDate::from_ymd_opt(2027, 6, 1)
            .unwrap()
            .and_hms_opt(3, 0, 0)
            .unwrap();
        let c = r.cutoffs(now);
        assert_eq!(c.audit_log, now - Duration::days(365));
        assert_eq!(c.sent_mail, now - Duration::days(90));
        assert_eq!(c.link_tokens, now - Duration::days(30));
        assert_eq!(c.free_text, now - Duration::days(1825));
        assert_eq!(r.purge_interval(), Duration::hours(24));
    }

    #[test]
    fn periods_that_would_purge_live_data_are_refused() {
        let short = Retention {
            free_text_days: 30,
            ..Retention::default()
        };
        assert!(short.validate().unwrap_err().contains("free_text_days"));
        let never = Retention {
            purge_interval_hours: 0,
            ..Retention::default()
        };
        assert!(never.validate().is_err());
    }

    #[test]
    fn erasure_finds_a_person_in_any_case_and_keeps_the_rest() {
        let needles = identifying(["Femke.deWit@Fryslan.example", "Fémke de Wit", "Jo"]);
        assert_eq!(
            needles,
            [
                "femke de wit",
                "femke dewit fryslan example",
                "femke.dewit@fryslan.example",
                "fémke de wit"
            ]
        );
        let erasure = Erasure::new(&needles).unwrap();
        assert_eq!(
            erasure.rewrite(
                "visits",
                "reason",
                "FÉMKE DE WIT belde (femke.dewit@fryslan.example)"
            ),
            Some("verwijderde gebruiker belde (verwijderde gebruiker)".into())
        );
        assert_eq!(erasure.rewrite("organisations", "contact_email", "x"), None);
        assert_eq!(
            erasure
                .rewrite("outbox", "recipient", "femke.dewit@fryslan.example")
                .as_deref(),
            Some(ERASED_RECIPIENT)
        );
    }

    #[test]
    fn every_kind_counts_in_the_total() {
        let p = Purged {
            audit_entries: 1,
            sent_messages: 2,
            dead_messages: 3,
            link_tokens: 4,
            mail_files: 5,
            visit_texts: 6,
            lesson_texts: 7,
            followup_texts: 8,
            sessions: 9,
            webhook_deliveries: 10,
        };
        assert_eq!(p.total(), 55);
        assert_eq!(p.rows().iter().map(|(_, n)| n).sum::<usize>(), 55);
    }
}
