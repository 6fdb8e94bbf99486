//! Typed settings, layered: embedded defaults < optional `meeloop.toml` (or
//! the file given with `--config`) < `MEELOOP_*` environment variables.
//! Every key is documented in `docs/configuration.md`.

use std::fmt;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

const DEFAULTS: &str = include_str!("../config/default.toml");
/// The configuration file read from the working directory when no `--config` is given.
pub const DEFAULT_CONFIG_FILE: &str = "meeloop.toml";
/// Top-level keys; other `MEELOOP_*` variables (test switches) are not settings.
const SECTIONS: [&str; 13] = [
    "environment",
    "data_dir",
    "server",
    "database",
    "auth",
    "log",
    "matching",
    "mail",
    "visits",
    "jobs",
    "privacy",
    "webhooks",
    "metrics",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub environment: Environment,
    /// Where the embedded database and other local state live.
    pub data_dir: PathBuf,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub log: LogSettings,
    /// Weights and parameters of the matching model (docs/matching.md).
    pub matching: crate::domain::matching::Tuning,
    pub mail: MailSettings,
    /// Lead time and invitation lifetime (docs/visits.md).
    pub visits: crate::domain::visit::VisitRules,
    pub jobs: JobsSettings,
    /// Retention periods (docs/privacy.md).
    pub privacy: crate::domain::privacy::Retention,
    /// Webhook deliveries (docs/webhooks.md).
    pub webhooks: WebhookSettings,
    /// Prometheus metrics (docs/operations.md).
    pub metrics: MetricsSettings,
}

/// Where `/metrics` is served: nowhere unless one of these is set.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// A listener of its own (`127.0.0.1:9464`) that serves `/metrics` and
    /// nothing else, without credentials: bind it where only the collector
    /// reaches it.
    pub listen: Option<String>,
    /// Or `/metrics` on the main listener for `Authorization: Bearer <this>`
    /// (at least 32 characters).
    pub bearer_token: Option<SecretString>,
}

impl MetricsSettings {
    pub fn enabled(&self) -> bool {
        self.listen.is_some() || self.bearer_token.is_some()
    }

    pub fn validate(&self) -> Result<(), String> {
        if let Some(listen) = &self.listen {
            listen.parse::<std::net::SocketAddr>().map_err(|_| {
                format!("metrics.listen must be an address and port such as 127.0.0.1:9464, not '{listen}'")
            })?;
        }
        if let Some(token) = &self.bearer_token {
            if token.expose_secret().chars().count() < 32 {
                return Err("metrics.bearer_token must be at least 32 characters".into());
            }
        }
        Ok(())
    }
}

/// Webhook endpoints and their delivery worker (docs/webhooks.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// Whether `serve` runs the delivery worker (every instance may).
    pub deliver: bool,
    /// Hosts that may resolve to loopback or private addresses (a receiver
    /// inside the operator's own network); nothing else may.
    pub allowed_hosts: Vec<String>,
    pub batch_size: i64,
    /// Deliveries in flight at once per worker.
    pub concurrency: usize,
    /// A claimed delivery waits this long before another worker may take it over.
    pub lease_secs: i64,
    pub poll_interval_ms: u64,
    /// How long a receiver may take to answer.
    pub timeout_ms: u64,
    /// Delays between attempts; one more attempt than delays, then dead.
    pub retry_delays_secs: Vec<i64>,
    /// Failing this long switches an endpoint off (and tells its partner).
    pub disable_after_secs: i64,
    /// After a secret rotation, deliveries carry the old secret's signature this long too.
    pub rotation_overlap_secs: i64,
    /// Endpoints one partner may have.
    pub max_endpoints: i64,
}

impl WebhookSettings {
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=500).contains(&self.batch_size) {
            return Err("webhooks.batch_size must be 1 to 500".into());
        }
        if !(1..=64).contains(&self.concurrency) {
            return Err("webhooks.concurrency must be 1 to 64".into());
        }
        if !(100..=60_000).contains(&self.timeout_ms) {
            return Err("webhooks.timeout_ms must be 100 to 60000".into());
        }
        if self.lease_secs * 1000 <= self.timeout_ms as i64 * 2 {
            return Err("webhooks.lease_secs must be longer than two timeouts".into());
        }
        if self.retry_delays_secs.len() > 20 || self.retry_delays_secs.iter().any(|d| *d < 1) {
            return Err("webhooks.retry_delays_secs: at most 20 delays of a second or more".into());
        }
        if self.disable_after_secs < 60 || self.rotation_overlap_secs < 0 {
            return Err("webhooks.disable_after_secs must be 60 or more and rotation_overlap_secs 0 or more".into());
        }
        if !(1..=100).contains(&self.max_endpoints) {
            return Err("webhooks.max_endpoints must be 1 to 100".into());
        }
        Ok(())
    }

    pub fn schedule(&self) -> crate::domain::webhook::Schedule {
        crate::domain::webhook::Schedule {
            delays: self
                .retry_delays_secs
                .iter()
                .map(|s| chrono::Duration::seconds(*s))
                .collect(),
            jitter: 0.2,
        }
    }
}

/// The scheduler inside `serve` (docs/visits.md, "Scheduler").
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsSettings {
    /// Whether `serve` runs it (every instance may: jobs are idempotent).
    pub run: bool,
    /// Seconds between rounds.
    pub interval_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    pub transport: MailTransport,
    /// The sender, e.g. `Meeloop <meeloop@gemeente.example>`.
    pub from: String,
    /// Domain of Message-IDs; unset means the domain of `from`.
    pub message_id_domain: Option<String>,
    /// Files transport folder; unset means `<data_dir>/mail`.
    pub folder: Option<PathBuf>,
    /// Production refuses the files transport unless this is set.
    pub allow_files_in_production: bool,
    /// Whether `serve` runs the delivery worker (one instance may be enough).
    pub deliver: bool,
    pub batch_size: i64,
    /// Messages sent at the same time by one worker.
    pub concurrency: usize,
    pub lease_secs: i64,
    pub poll_interval_ms: u64,
    pub retry_first_secs: i64,
    pub retry_max_secs: i64,
    pub max_attempts: u32,
    pub smtp: SmtpSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    Files,
    Smtp,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    /// Extra CA certificate (PEM) to trust, for a relay with a private CA.
    pub ca_file: Option<PathBuf>,
    pub timeout_secs: u64,
}

/// One identity provider, as the operator configures it (`[[auth.oidc]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcProviderSettings {
    /// Short name in URLs: `/login/sso/{id}`.
    pub id: String,
    /// Shown on the login page: "Inloggen met {name}".
    pub name: String,
    /// The issuer URL; `{issuer}/.well-known/openid-configuration` is read.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// Make an account at the first sign-in of someone unknown whose
    /// address's domain an admin mapped to an organisation for this
    /// provider. Off unless set.
    #[serde(default)]
    pub create_accounts: bool,
}

impl OidcProviderSettings {
    pub fn validate(&self, production: bool) -> Result<(), String> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 32
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !id_ok {
            return Err(format!(
                "auth.oidc id '{}' must be 1 to 32 lower-case letters, digits or '-'",
                self.id
            ));
        }
        if self.name.trim().is_empty() || self.client_id.trim().is_empty() {
            return Err(format!(
                "auth.oidc '{}' needs a name and a client_id",
                self.id
            ));
        }
        if openidconnect::IssuerUrl::new(self.issuer.clone()).is_err() {
            return Err(format!("auth.oidc '{}': issuer is not a URL", self.id));
        }
        if production && !self.issuer.starts_with("https://") {
            return Err(format!("auth.oidc '{}': the issuer must be https", self.id));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// HS256 signing key; unset means a random key kept in the data directory.
    pub jwt_secret: Option<SecretString>,
    /// Lifetime of a login token.
    pub token_ttl_secs: i64,
    /// `iss` of issued tokens; several instances must share it (and the key).
    pub issuer: String,
    /// Login attempts allowed at once per client address and per account.
    pub login_burst: u32,
    /// After the burst, one more attempt per this many milliseconds.
    pub login_refill_ms: u64,
    /// Authenticated requests allowed at once per user or partner client.
    pub api_burst: u32,
    /// After that burst, one more request per this many milliseconds.
    pub api_refill_ms: u64,
    /// "Forgot password" requests allowed at once per client address and
    /// per address asked about.
    pub reset_burst: u32,
    /// After that burst, one more per this many milliseconds.
    pub reset_refill_ms: u64,
    /// Invitations and password resets by email.
    #[serde(default)]
    pub sign_in: crate::domain::account::SignInRules,
    /// A browser session ends after this many minutes without use (besides
    /// its absolute end after 8 hours).
    pub idle_timeout_minutes: u32,
    /// Two-step verification.
    #[serde(default)]
    pub two_step: crate::domain::account::TwoStepRules,
    /// Identity providers for single sign-on (`[[auth.oidc]]`).
    #[serde(default)]
    pub oidc: Vec<OidcProviderSettings>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub workers: Option<usize>,
    pub shutdown_timeout_secs: u64,
    pub public_url: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` header is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Time a client has to send its whole request body, once the headers
    /// are in (those have 10 s): slow or stalled bodies get 408 and their
    /// connection closed.
    pub body_timeout_secs: u64,
    /// Open connections this instance accepts at once, over all workers;
    /// more wait in the listen backlog.
    pub max_connections: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://…` or `sqlite://PATH`; unset means `sqlite://<data_dir>/meeloop.db`.
    pub url: Option<SecretString>,
    pub max_connections: u32,
    pub connect_timeout_secs: u64,
    pub busy_timeout_ms: u64,
    /// How late this instance may see a change made by another process
    /// (another instance, a CLI command) to sessions and the matching
    /// snapshot. Its own changes it sees at once. 0: ask every time.
    pub max_staleness_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// A `tracing` filter such as `info` or `meeloop=debug,actix_web=info`.
    pub filter: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Where the data lives, decided from the URL scheme alone: a mistyped
/// `postgress://` is an error, never a new SQLite file with that name.
#[derive(Clone)]
pub enum DatabaseTarget {
    Sqlite(PathBuf),
    Postgres(SecretString),
}

impl fmt::Debug for DatabaseTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl DatabaseTarget {
    /// A printable form with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseTarget::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseTarget::Postgres(url) => redact_url(url.expose_secret()),
        }
    }
}

fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "***".into();
    };
    let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    // Query parameters may carry a password too (`?password=`): drop them.
    let tail = tail.split('?').next().unwrap_or_default();
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        None => format!("{scheme}://{authority}{tail}"),
    }
}

impl Settings {
    /// Where links in emails point: `server.public_url`, or this host and
    /// port outside production.
    pub fn base_url(&self) -> Result<String, String> {
        match &self.server.public_url {
            Some(url) => Ok(url.trim_end_matches('/').to_string()),
            None if self.environment == Environment::Production => Err(
                "server.public_url must be set in production: links in emails are built from it"
                    .into(),
            ),
            None => Ok(format!("http://{}:{}", self.server.host, self.server.port)),
        }
    }

    /// Loads settings: embedded defaults, then `config_file` (or `meeloop.toml`
    /// in the working directory when it exists), then the environment.
    pub fn load(config_file: Option<&Path>) -> Result<Settings, Box<figment::Error>> {
        Self::figment(config_file).extract().map_err(Box::new)
    }

    /// The embedded defaults alone (tests start from these).
    pub fn defaults() -> Figment {
        Figment::from(Toml::string(DEFAULTS))
    }

    pub fn figment(config_file: Option<&Path>) -> Figment {
        let mut figment = Self::defaults();
        figment = match config_file {
            // An explicitly named file must exist.
            Some(path) => figment.merge(Toml::file_exact(path)),
            None => figment.merge(Toml::file(DEFAULT_CONFIG_FILE)),
        };
        figment.merge(Env::prefixed("MEELOOP_").split("__").filter(|key| {
            // Keys arrive upper case here; they are lowercased afterwards.
            let key = key.as_str().to_ascii_lowercase();
            let section = key.split('.').next().unwrap_or_default();
            SECTIONS.contains(&section)
        }))
    }

    pub fn database_target(&self) -> Result<DatabaseTarget, String> {
        self.database.target(&self.data_dir)
    }

    /// The socket address to bind, e.g. `127.0.0.1:8080`.
    pub fn bind_address(&self) -> String {
        format!("{}:{}", self.server.host, self.server.port)
    }

    /// Where the files transport writes `.eml` files; `None` when email
    /// goes out by SMTP.
    pub fn mail_folder(&self) -> Option<PathBuf> {
        (self.mail.transport == MailTransport::Files).then(|| {
            self.mail
                .folder
                .clone()
                .unwrap_or_else(|| self.data_dir.join("mail"))
        })
    }
}

impl DatabaseSettings {
    pub fn target(&self, data_dir: &Path) -> Result<DatabaseTarget, String> {
        let Some(url) = &self.url else {
            return Ok(DatabaseTarget::Sqlite(data_dir.join("meeloop.db")));
        };
        let url = url.expose_secret().trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseTarget::Postgres(SecretString::from(
                url.to_string(),
            )));
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() || path.starts_with(':') {
                return Err(
                    "sqlite:// needs a file path (in-memory databases are not supported)".into(),
                );
            }
            return Ok(DatabaseTarget::Sqlite(PathBuf::from(path)));
        }
        let scheme = url.split_once("://").map_or("(none)", |(s, _)| s);
        Err(format!(
            "unsupported database URL scheme '{scheme}': use postgres://USER:PASSWORD@HOST/DB or sqlite://PATH"
        ))
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's own signature
mod tests {
    use super::*;

    fn settings_with_url(url: &str) -> DatabaseSettings {
        DatabaseSettings {
            url: Some(SecretString::from(url.to_string())),
            max_connections: 1,
            connect_timeout_secs: 1,
            busy_timeout_ms: 1,
            max_staleness_ms: 1000,
        }
    }

    #[test]
    fn backend_is_chosen_by_scheme_only() {
        let dir = Path::new("d");
        assert!(matches!(
            settings_with_url("postgres://u:p@h/db").target(dir),
            Ok(DatabaseTarget::Postgres(_))
        ));
        assert!(matches!(
            settings_with_url("postgresql://h/db").target(dir),
            Ok(DatabaseTarget::Postgres(_))
        ));
        assert!(matches!(
            settings_with_url("sqlite://x/m.db").target(dir),
            Ok(DatabaseTarget::Sqlite(p)) if p == Path::new("x/m.db")
        ));
        for bad in [
            "postgress://h/db",
            "mysql://h/db",
            "meeloop.db",
            "sqlite://",
            "sqlite://:memory:",
        ] {
            let err = settings_with_url(bad).target(dir).unwrap_err();
            assert!(!err.contains("p@"), "{err}");
        }
    }

    #[test]
    fn redaction_hides_passwords() {
        assert_eq!(
            redact_url("postgres://meeloop:s3cret@db:5432/meeloop?password=x"),
            "postgres://meeloop:***@db:5432/meeloop"
        );
        assert_eq!(redact_url("postgres://db/meeloop"), "postgres://db/meeloop");
        let target = DatabaseTarget::Postgres(SecretString::from("postgres://a:b@c/d".to_string()));
        assert!(!format!("{target:?}").contains(":b@"));
    }

    #[test]
    fn layers_defaults_file_and_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "meeloop.toml",
                "data_dir = \"/srv/meeloop\"\n[server]\nport = 9000\n",
            )?;
            jail.set_env("MEELOOP_SERVER__PORT", "9100");
            jail.set_env("MEELOOP_DATABASE__MAX_CONNECTIONS", "3");
            jail.set_env("MEELOOP_REQUIRE_POSTGRES", "1");
            let s = Settings::load(None).map_err(|e| *e)?;
            assert_eq!(s.data_dir, Path::new("/srv/meeloop"));
            assert_eq!(s.server.port, 9100);
            assert_eq!(s.server.host, "127.0.0.1");
            assert_eq!(s.database.max_connections, 3);
            Ok(())
        });
    }

    #[test]
    fn typos_in_the_file_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("meeloop.toml", "[databse]\nurl = \"x\"\n")?;
            assert!(Settings::load(None).is_err());
            Ok(())
        });
    }

    #[test]
    fn matching_weights_come_from_file_and_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "meeloop.toml",
                "[matching]\nproximity_half_km = 25.0\n[matching.weights]\nfairness = 0.3\n",
            )?;
            jail.set_env("MEELOOP_MATCHING__WEIGHTS__PROXIMITY", "0.5");
            let s = Settings::load(None).map_err(|e| *e)?;
            assert_eq!(s.matching.proximity_half_km, 25.0);
            assert_eq!(s.matching.weights.fairness, 0.3);
            assert_eq!(s.matching.weights.proximity, 0.5);
            assert_eq!(s.matching.weights.mastery, 0.45);
            assert!(s.matching.validate().is_ok());
            jail.set_env("MEELOOP_MATCHING__WEIGHTS__MASTERY", "-1");
            let s = Settings::load(None).map_err(|e| *e)?;
            assert!(s.matching.validate().is_err());
            Ok(())
        });
    }
}

/// How to reach an SMTP relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain, then upgraded with STARTTLS (required).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same machine or network.
    None,
}
