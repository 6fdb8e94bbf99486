//! What every use case may need besides what its caller sends: the
//! database, where links in emails point, the visit rules, the matching
//! index, the clock and the consumers of what happened. Built once (by
//! `app`, the command line or a test) and passed as one value, as Lemmy's
//! `LemmyContext`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, NaiveDateTime};

use super::events::{self, Consumer, Consumers, Fanout};
use super::index::MatchIndex;
use super::notify;
use super::ServiceError;
use crate::auth::limits::LoginLimiter;
use crate::config::Settings;
use crate::db::DbPool;
use crate::domain::account::{SignInRules, TwoStepRules};
use crate::domain::privacy::Retention;
use crate::domain::session::Idle;
use crate::domain::visit::VisitRules;
use crate::domain::webhook::{AllowedHosts, WebhookRules};

#[derive(Clone)]
pub struct Context {
    pub pool: DbPool,
    /// Base of links in emails, without a trailing slash.
    pub base_url: String,
    pub rules: VisitRules,
    pub matching: Arc<MatchIndex>,
    pub clock: Clock,
    /// Who acts on each event the use cases publish.
    pub consumers: Consumers,
    /// How long personal data is kept.
    pub retention: Retention,
    /// The files transport's folder (its `.eml` files are personal data too).
    pub mail_folder: Option<PathBuf>,
    /// Invitations and password resets.
    pub sign_in: SignInRules,
    /// How long a browser session may go unused.
    pub idle: Idle,
    /// Two-step verification: who must, and how many codes may be tried.
    pub two_step: TwoStepRules,
    pub two_step_limiter: Arc<LoginLimiter>,
    /// Identity providers for single sign-on.
    pub oidc: Arc<crate::auth::oidc::Providers>,
    /// Where webhooks may go, and how many endpoints a partner may have.
    pub webhooks: WebhookRules,
}

fn two_step_limiter(rules: &TwoStepRules) -> LoginLimiter {
    LoginLimiter::new(
        rules.burst,
        std::time::Duration::from_millis(rules.refill_ms),
    )
}

/// The consumers of a running Meeloop, in the order they act: the one
/// place to add webhooks, metrics or audit entries.
fn standard_consumers() -> Consumers {
    Consumers::new(vec![
        Arc::new(notify::Mailer),
        Arc::new(super::webhook_queue::Webhooks),
        Arc::new(events::Log),
    ])
}

impl Context {
    pub fn new(
        pool: DbPool,
        base_url: String,
        rules: VisitRules,
        matching: Arc<MatchIndex>,
    ) -> Self {
        Context {
            pool,
            base_url: base_url.trim_end_matches('/').to_string(),
            rules,
            matching,
            clock: Clock::system(),
            consumers: standard_consumers(),
            retention: Retention::default(),
            mail_folder: None,
            sign_in: SignInRules::default(),
            idle: Idle::default(),
            two_step: TwoStepRules::default(),
            two_step_limiter: Arc::new(two_step_limiter(&TwoStepRules::default())),
            oidc: Arc::new(crate::auth::oidc::Providers::none()),
            webhooks: WebhookRules::default(),
        }
    }

    /// The context of a running Meeloop or a command, from its settings; a
    /// matching snapshot may be `staleness` old before it is rebuilt.
    pub fn from_settings(
        pool: DbPool,
        settings: &Settings,
        base_url: String,
        staleness: std::time::Duration,
    ) -> Self {
        let matching = Arc::new(MatchIndex::new(settings.matching, staleness));
        Context {
            retention: settings.privacy,
            mail_folder: settings.mail_folder(),
            sign_in: settings.auth.sign_in,
            idle: Idle(chrono::Duration::minutes(
                settings.auth.idle_timeout_minutes.into(),
            )),
            two_step: settings.auth.two_step,
            two_step_limiter: Arc::new(two_step_limiter(&settings.auth.two_step)),
            oidc: Arc::new(
                crate::auth::oidc::Providers::new(&settings.auth.oidc)
                    .unwrap_or_else(|_| crate::auth::oidc::Providers::none()),
            ),
            webhooks: WebhookRules {
                https_only: settings.environment == crate::config::Environment::Production,
                allowed: AllowedHosts::new(&settings.webhooks.allowed_hosts),
                max_endpoints: settings.webhooks.max_endpoints,
                overlap: chrono::Duration::seconds(settings.webhooks.rotation_overlap_secs),
            },
            ..Context::new(pool, base_url, settings.visits, matching)
        }
    }

    /// The same context with one more consumer (tests watch events so).
    pub fn with_consumer(self, consumer: Arc<dyn Consumer>) -> Self {
        Context {
            consumers: self.consumers.and(consumer),
            ..self
        }
    }

    /// What a transaction needs to publish a visit's events; taken before
    /// it starts.
    pub async fn fanout(&self) -> Result<Fanout, ServiceError> {
        Ok(Fanout {
            suggester: Some(self.matching.suggester(&self.pool, self.today()).await?),
            ..self.plain_fanout()
        })
    }

    /// What a transaction needs to publish events that did not happen to
    /// a visit (no suggestions of other hosts to load).
    pub fn plain_fanout(&self) -> Fanout {
        Fanout {
            consumers: self.consumers.clone(),
            base_url: self.base_url.clone(),
            rules: self.rules,
            suggester: None,
        }
    }

    /// The matching snapshot of the context's day.
    pub async fn snapshot(&self) -> Result<Arc<super::index::Loaded>, ServiceError> {
        self.matching.snapshot(&self.pool, self.today()).await
    }

    /// The same context on another clock (tests).
    pub fn with_clock(self, clock: Clock) -> Self {
        Context { clock, ..self }
    }

    /// Now, as the use cases see it (UTC, microseconds).
    pub fn now(&self) -> NaiveDateTime {
        self.clock.now()
    }

    /// The Dutch day of [`Context::now`].
    pub fn today(&self) -> NaiveDate {
        super::clock::local_date(self.now())
    }
}

/// The time the use cases go by: the system's, or one a test sets and moves.
#[derive(Clone, Default)]
pub struct Clock(Option<Arc<Mutex<NaiveDateTime>>>);

impl Clock {
    pub fn system() -> Self {
        Clock(None)
    }

    /// A clock that stands at `at` until it is set again.
    pub fn manual(at: NaiveDateTime) -> Self {
        Clock(Some(Arc::new(Mutex::new(at))))
    }

    /// Moves a manual clock; the system clock cannot be moved.
    pub fn set(&self, at: NaiveDateTime) {
        if let Some(m) = &self.0 {
            *m.lock().unwrap_or_else(|e| e.into_inner()) = at;
        }
    }

    pub fn now(&self) -> NaiveDateTime {
        match &self.0 {
            None => crate::db::now(),
            Some(m) => *m.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_moved() {
        let start = NaiveDate::from_ymd_opt(2027, 3, 1)
            .unwrap()
            .and_hms_opt(23, 30, 0)
            .unwrap();
        let clock = Clock::manual(start);
        assert_eq!(clock.now(), start);
        clock.set(start + chrono::Duration::hours(1));
        assert_eq!(clock.now(), start + chrono::Duration::hours(1));
        // The system clock moves by itself and ignores `set`.
        let system = Clock::system();
        system.set(start);
        assert_ne!(system.now(), start);
    }
}
