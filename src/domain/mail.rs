//! Outgoing email: states, and when to try again after a failure. Pure;
//! the outbox table, the worker and the transports build on it.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

super::named_enum! {
    /// Where a message is in its life.
    pub enum MessageState ("message state") {
        /// Waiting for its next attempt.
        Pending = "pending",
        /// Claimed by a worker until its lease ends.
        Sending = "sending",
        Sent = "sent",
        /// Given up: a permanent failure or too many attempts. An admin may requeue it.
        Dead = "dead",
    }
}

/// Why an attempt failed, as the transport classifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendFailure {
    /// Worth trying again: connection refused, timeouts, SMTP 4xx.
    Temporary(String),
    /// Will never work: SMTP 5xx on the recipient, an invalid address.
    Permanent(String),
}

/// What to do with a message after a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterFailure {
    RetryAt(DateTime<Utc>),
    Dead,
}

/// How retries are spaced: exponential from `first_delay`, capped, with
/// jitter so that many messages failing together do not retry together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// Attempts after which a message is dead, however temporary the failures.
    pub max_attempts: u32,
    /// ± this share of the delay, e.g. 0.2.
    pub jitter: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            first_delay: Duration::seconds(30),
            max_delay: Duration::hours(6),
            max_attempts: 10,
            jitter: 0.2,
        }
    }
}

impl RetryPolicy {
    /// The delay before the next attempt after `attempts` failed ones
    /// (1 = the first failed), without jitter.
    pub fn base_delay(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        let millis = self
            .first_delay
            .num_milliseconds()
            .saturating_mul(1i64 << doublings);
        Duration::milliseconds(millis.min(self.max_delay.num_milliseconds()))
    }

    /// After `attempts` attempts (the failed one included), with `random`
    /// a number in 0..1 chosen by the caller (so this stays pure).
    pub fn after_failure(
        &self,
        attempts: u32,
        failure: &SendFailure,
        now: DateTime<Utc>,
        random: f64,
    ) -> AfterFailure {
        if matches!(failure, SendFailure::Permanent(_)) || attempts >= self.max_attempts {
            return AfterFailure::Dead;
        }
        let base = self.base_delay(attempts).num_milliseconds() as f64;
        let factor = 1.0 + self.jitter * (2.0 * random.clamp(0.0, 1.0) - 1.0);
        AfterFailure::RetryAt(now + Duration::milliseconds((base * factor).round() as i64))
    }
}

/// The `Message-ID` of an outbox message: derived from its id, so a
/// repeat after a crash carries the same one and can be recognised.
pub fn message_id(outbox_id: i64, domain: &str) -> String {
    format!("<outbox-{outbox_id}@{domain}>")
}

/// The oldest message still waiting to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    pub queued_at: NaiveDateTime,
    pub next_attempt_at: NaiveDateTime,
}

/// A queued message as admins see it: never its body, which may hold
/// single-use links.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageSummary {
    pub id: i64,
    pub recipient: String,
    pub language: String,
    pub template: String,
    pub subject: String,
    pub state: MessageState,
    pub attempts: i32,
    pub next_attempt_at: chrono::NaiveDateTime,
    pub last_error: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub sent_at: Option<chrono::NaiveDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    #[test]
    fn delays_double_up_to_the_cap() {
        let p = RetryPolicy::default();
        assert_eq!(p.base_delay(1), Duration::seconds(30));
        assert_eq!(p.base_delay(2), Duration::seconds(60));
        assert_eq!(p.base_delay(5), Duration::seconds(480));
        assert_eq!(p.base_delay(20), Duration::hours(6));
        assert_eq!(p.base_delay(u32::MAX), Duration::hours(6));
    }

    #[test]
    fn jitter_stays_within_its_share() {
        let p = RetryPolicy::default();
        let temporary = SendFailure::Temporary("451 try later".into());
        let earliest = p.after_failure(3, &temporary, at(), 0.0);
        let latest = p.after_failure(3, &temporary, at(), 1.0);
        assert_eq!(
            earliest,
            AfterFailure::RetryAt(at() + Duration::seconds(96))
        );
        assert_eq!(latest, AfterFailure::RetryAt(at() + Duration::seconds(144)));
    }

    #[test]
    fn permanent_failures_and_too_many_attempts_are_dead() {
        let p = RetryPolicy::default();
        let permanent = SendFailure::Permanent("550 no such user".into());
        assert_eq!(
            p.after_failure(1, &permanent, at(), 0.5),
            AfterFailure::Dead
        );
        let temporary = SendFailure::Temporary("connection refused".into());
        assert!(matches!(
            p.after_failure(9, &temporary, at(), 0.5),
            AfterFailure::RetryAt(_)
        ));
        assert_eq!(
            p.after_failure(10, &temporary, at(), 0.5),
            AfterFailure::Dead
        );
    }

    #[test]
    fn states_and_message_ids() {
        for s in MessageState::ALL {
            assert_eq!(s.as_str().parse::<MessageState>().unwrap(), s);
        }
        assert!("lost".parse::<MessageState>().is_err());
        assert_eq!(
            message_id(42, "meeloop.example"),
            "<outbox-42@meeloop.example>"
        );
    }
}
