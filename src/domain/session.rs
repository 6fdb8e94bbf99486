//! Sessions a person controls: when a session is still good, when its
//! last use is worth writing down, and what a device is called on the
//! sessions page. Pure rules; `db::sessions` stores them.

use chrono::{Duration, NaiveDateTime};

super::named_enum! {
    #[derive(serde::Serialize, utoipa::ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum SessionKind ("session kind") {
        /// A browser, with the session cookie.
        Web = "web",
        /// A program, with a bearer token from `POST /api/v1/auth/login`.
        Api = "api",
    }
}

/// How long a browser session may go unused (`auth.idle_timeout_minutes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Idle(pub Duration);

impl Default for Idle {
    fn default() -> Self {
        Idle(Duration::minutes(30))
    }
}

/// A session as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// How pages and the API name it.
    pub id: i64,
    /// What its token carries: random, never shown.
    pub sid: String,
    pub user: super::account::UserId,
    pub kind: SessionKind,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
    pub address: Option<String>,
    pub user_agent: String,
}

/// The last use is written at most this often (a write per request would
/// be a write per click).
pub const TOUCH_EVERY: Duration = Duration::seconds(60);

impl Session {
    /// Whether the session still lets its owner in at `now`: not ended,
    /// not past its absolute end, and (a browser) used within `idle`.
    pub fn alive(&self, now: NaiveDateTime, idle: Idle) -> bool {
        self.ended_at.is_none()
            && now < self.expires_at
            && (self.kind == SessionKind::Api || now - self.last_seen_at < idle.0)
    }

    /// Whether a use at `now` should be written down.
    pub fn needs_touch(&self, now: NaiveDateTime) -> bool {
        now - self.last_seen_at >= TOUCH_EVERY
    }

    /// "Firefox on Windows", from the user agent the session started with.
    pub fn device(&self, language: super::organisation::Language) -> String {
        device(&self.user_agent, language)
    }
}

/// A readable name for a user agent: the browser and the system, or the
/// program; "unknown" when it says nothing we know.
pub fn device(user_agent: &str, language: super::organisation::Language) -> String {
    let ua = user_agent;
    let browser = [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
        ("python-requests/", "Python"),
        ("reqwest", "reqwest"),
    ]
    .into_iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| name);
    let on = match language {
        super::organisation::Language::Nl => "op",
        super::organisation::Language::En => "on",
    };
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} {on} {s}"),
        (Some(b), None) => b.to_string(),
        (None, Some(s)) => s.to_string(),
        (None, None) => match language {
            super::organisation::Language::Nl => "onbekend apparaat".into(),
            super::organisation::Language::En => "unknown device".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::account::UserId;
    use crate::domain::organisation::Language;

    fn at(minutes: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc()
            + Duration::minutes(minutes)
    }

    fn session(kind: SessionKind) -> Session {
        Session {
            id: 1,
            sid: "s".into(),
            user: UserId(1),
            kind,
            created_at: at(0),
            last_seen_at: at(0),
            expires_at: at(8 * 60),
            ended_at: None,
            address: None,
            user_agent: String::new(),
        }
    }

    #[test]
    fn a_browser_session_ends_when_idle_ended_or_expired() {
        let idle = Idle(Duration::minutes(30));
        let web = session(SessionKind::Web);
        assert!(web.alive(at(29), idle));
        assert!(!web.alive(at(30), idle), "idle for 30 minutes");
        let used = Session {
            last_seen_at: at(460),
            ..web.clone()
        };
        assert!(used.alive(at(479), idle));
        assert!(!used.alive(at(480), idle), "the absolute end");
        let ended = Session {
            ended_at: Some(at(1)),
            ..web.clone()
        };
        assert!(!ended.alive(at(2), idle));
        // An API token has no idle timeout, only its end.
        let api = session(SessionKind::Api);
        assert!(api.alive(at(400), idle));
        assert!(web.needs_touch(at(1)));
        assert!(!web.needs_touch(at(0) + Duration::seconds(59)));
    }

    #[test]
    fn devices_are_named_in_both_languages() {
        let firefox =
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
        assert_eq!(device(firefox, Language::Nl), "Firefox op Windows");
        assert_eq!(device(firefox, Language::En), "Firefox on Windows");
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0 Safari/537.36";
        assert_eq!(device(chrome, Language::En), "Chrome on Linux");
        assert_eq!(device("curl/8.5.0", Language::En), "curl");
        assert_eq!(device("", Language::Nl), "onbekend apparaat");
    }
}
