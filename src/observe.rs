//! Prometheus metrics (docs/operations.md, "Monitoring"): every name the
//! service exports, and the one place that records into them.
//!
//! Two kinds. Events this process saw (requests, pool waits, logins that
//! failed, scheduler rounds, snapshot rebuilds, mail and webhook attempts)
//! are recorded through the `metrics` facade into a process-wide Prometheus
//! recorder, installed when metrics are switched on; until then recording is
//! a no-op. The state of the shared database (queue depths, the oldest
//! waiting item) and of this process (pool, memory) is read when scraped
//! ([`Gauges`]), so every instance reports the same queue and nothing goes
//! stale between scrapes.

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::Duration;

use metrics::{counter, describe_counter, describe_histogram, histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const HTTP_REQUESTS: &str = "meeloop_http_requests_total";
pub const HTTP_DURATION: &str = "meeloop_http_request_duration_seconds";
pub const POOL_WAIT: &str = "meeloop_db_pool_wait_seconds";
pub const POOL_TIMEOUTS: &str = "meeloop_db_pool_timeouts_total";
pub const LOGIN_FAILURES: &str = "meeloop_login_failures_total";
pub const SCHEDULER_ROUNDS: &str = "meeloop_scheduler_rounds_total";
pub const SCHEDULER_JOBS: &str = "meeloop_scheduler_jobs_total";
pub const SNAPSHOT_REBUILDS: &str = "meeloop_matching_snapshot_rebuilds_total";
pub const SNAPSHOT_REBUILD_DURATION: &str = "meeloop_matching_snapshot_rebuild_seconds";
pub const MAIL_ATTEMPTS: &str = "meeloop_mail_attempts_total";
pub const WEBHOOK_ATTEMPTS: &str = "meeloop_webhook_attempts_total";

/// Request latencies: most answers take a millisecond or two; the tail is
/// what an alert looks at.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Waiting for a database connection: none at all is the normal case.
const WAIT_BUCKETS: &[f64] = &[0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the recorder (once per process; later calls return the same
/// handle) and a thread that drains histogram samples every few seconds,
/// so memory stays flat when nobody scrapes.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), LATENCY_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(POOL_WAIT.into()), WAIT_BUCKETS)
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(SNAPSHOT_REBUILD_DURATION.into()),
                        LATENCY_BUCKETS,
                    )
                })
                .expect("bucket lists are not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder may be installed only by a test harness; then
            // this one still renders, it just sees nothing.
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was installed already");
            }
            describe();
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || loop {
                    std::thread::sleep(Duration::from_secs(5));
                    upkeep.run_upkeep();
                })
                .expect("a thread for metrics upkeep");
            handle
        })
        .clone()
}

fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by method, route template and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Time from request to response, by method and route template"
    );
    describe_histogram!(
        POOL_WAIT,
        Unit::Seconds,
        "Time spent waiting for a database connection from the pool"
    );
    describe_counter!(
        POOL_TIMEOUTS,
        "Requests for a database connection that gave up waiting"
    );
    describe_counter!(
        LOGIN_FAILURES,
        "Sign-ins refused, by reason (password, rate_limited, two_step, sso)"
    );
    describe_counter!(SCHEDULER_ROUNDS, "Scheduler rounds by outcome (ok, failed)");
    describe_counter!(
        SCHEDULER_JOBS,
        "Scheduled visit jobs by job and outcome (done, failed), and retention purges"
    );
    describe_counter!(
        SNAPSHOT_REBUILDS,
        "Times this process rebuilt its matching snapshot"
    );
    describe_histogram!(
        SNAPSHOT_REBUILD_DURATION,
        Unit::Seconds,
        "Time to rebuild the matching snapshot"
    );
    describe_counter!(
        MAIL_ATTEMPTS,
        "Email delivery attempts by this process, by outcome (sent, retry, dead)"
    );
    describe_counter!(
        WEBHOOK_ATTEMPTS,
        "Webhook delivery attempts by this process, by outcome (delivered, retry, dead)"
    );
}

/// A request answered. `route` is the matched route template
/// (`/api/v1/organisations/{id}`), never the raw path: that keeps the label
/// values a fixed set whatever clients send.
pub fn http_request(method: &str, route: Option<&str>, status: u16, elapsed: Duration) {
    let method = match method {
        "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method.to_string(),
        _ => "other".to_string(),
    };
    let route = route.unwrap_or("unmatched").to_string();
    counter!(HTTP_REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status.to_string())
        .increment(1);
    histogram!(HTTP_DURATION, "method" => method, "route" => route).record(elapsed.as_secs_f64());
}

/// A connection handed out by the pool after `waited`.
pub fn pool_checkout(waited: Duration) {
    histogram!(POOL_WAIT).record(waited.as_secs_f64());
}

/// A wait for a connection that ran out of time.
pub fn pool_timeout() {
    counter!(POOL_TIMEOUTS).increment(1);
}

/// Why a sign-in was refused.
#[derive(Debug, Clone, Copy)]
pub enum LoginFailure {
    /// Unknown address, wrong password or a switched-off account (one answer).
    Password,
    RateLimited,
    TwoStep,
    Sso,
}

pub fn login_failed(reason: LoginFailure) {
    let reason = match reason {
        LoginFailure::Password => "password",
        LoginFailure::RateLimited => "rate_limited",
        LoginFailure::TwoStep => "two_step",
        LoginFailure::Sso => "sso",
    };
    counter!(LOGIN_FAILURES, "reason" => reason).increment(1);
}

pub fn scheduler_round(ok: bool) {
    counter!(SCHEDULER_ROUNDS, "outcome" => if ok { "ok" } else { "failed" }).increment(1);
}

pub fn scheduler_job(job: &'static str, ok: bool) {
    scheduler_jobs(job, ok, 1);
}

/// `n` jobs of one kind at once (the digests of a round).
pub fn scheduler_jobs(job: &'static str, ok: bool, n: usize) {
    counter!(SCHEDULER_JOBS, "job" => job, "outcome" => if ok { "done" } else { "failed" })
        .increment(n as u64);
}

pub fn snapshot_rebuilt(took: Duration) {
    counter!(SNAPSHOT_REBUILDS).increment(1);
    histogram!(SNAPSHOT_REBUILD_DURATION).record(took.as_secs_f64());
}

/// What became of one delivery attempt (an email or a webhook message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    Delivered,
    /// Failed; tried again later.
    Retry,
    /// Failed for the last time.
    Dead,
}

impl Attempt {
    fn label(self, delivered: &'static str) -> &'static str {
        match self {
            Attempt::Delivered => delivered,
            Attempt::Retry => "retry",
            Attempt::Dead => "dead",
        }
    }
}

pub fn mail_attempt(outcome: Attempt) {
    counter!(MAIL_ATTEMPTS, "outcome" => outcome.label("sent")).increment(1);
}

pub fn webhook_attempt(outcome: Attempt) {
    counter!(WEBHOOK_ATTEMPTS, "outcome" => outcome.label("delivered")).increment(1);
}

/// What is read when scraped: the shared queues and this process.
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    /// `postgresql` or `sqlite`.
    pub database: &'static str,
    pub pool_connections: u32,
    pub pool_idle: u32,
    pub pool_max: u32,
    /// Messages per state (`pending`, `sending`, `sent`, `dead`).
    pub outbox: Vec<(String, i64)>,
    /// Age of the oldest message still to be sent, in seconds (0 when none).
    pub outbox_oldest_secs: f64,
    /// Deliveries per state (`pending`, `sending`, `delivered`, `dead`).
    pub webhook_deliveries: Vec<(String, i64)>,
    pub webhook_oldest_secs: f64,
    /// Endpoints per status (`active`, `failing`, `paused`, `held`, `disabled`).
    pub webhook_endpoints: Vec<(String, i64)>,
}

/// The exposition text: what the recorder holds, then the gauges and
/// build and process facts read now.
pub fn render(handle: &PrometheusHandle, gauges: &Gauges) -> String {
    let mut out = handle.render();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    let mut family = |name: &str, help: &str, kind: &str, samples: &[(String, String)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let one = |value: f64| vec![(String::new(), value.to_string())];
    let by = |label: &str, values: &[(String, i64)]| -> Vec<(String, String)> {
        values
            .iter()
            .map(|(v, n)| (format!("{{{label}=\"{}\"}}", escape(v)), n.to_string()))
            .collect()
    };
    family(
        "meeloop_build_info",
        "The running version and its database, as labels; always 1",
        "gauge",
        &[(
            format!(
                "{{version=\"{}\",database=\"{}\"}}",
                env!("CARGO_PKG_VERSION"),
                gauges.database
            ),
            "1".into(),
        )],
    );
    family(
        "meeloop_db_pool_connections",
        "Database connections this process holds, by state (idle, in_use)",
        "gauge",
        &[
            ("{state=\"idle\"}".into(), gauges.pool_idle.to_string()),
            (
                "{state=\"in_use\"}".into(),
                (gauges.pool_connections.saturating_sub(gauges.pool_idle)).to_string(),
            ),
        ],
    );
    family(
        "meeloop_db_pool_max_connections",
        "The most database connections this process opens (database.max_connections)",
        "gauge",
        &one(f64::from(gauges.pool_max)),
    );
    family(
        "meeloop_outbox_messages",
        "Emails in the outbox (all instances), by state",
        "gauge",
        &by("state", &gauges.outbox),
    );
    family(
        "meeloop_outbox_oldest_waiting_seconds",
        "Age of the oldest email not sent yet (pending or sending); 0 when none",
        "gauge",
        &one(gauges.outbox_oldest_secs),
    );
    family(
        "meeloop_webhook_deliveries",
        "Webhook messages (all instances), by state",
        "gauge",
        &by("state", &gauges.webhook_deliveries),
    );
    family(
        "meeloop_webhook_oldest_waiting_seconds",
        "Age of the oldest webhook message not delivered yet; 0 when none",
        "gauge",
        &one(gauges.webhook_oldest_secs),
    );
    family(
        "meeloop_webhook_endpoints",
        "Webhook endpoints, by status (active, failing, paused, held by an admin, disabled)",
        "gauge",
        &by("status", &gauges.webhook_endpoints),
    );
    let process = Process::read();
    if let Some(rss) = process.resident_bytes {
        family(
            "process_resident_memory_bytes",
            "Resident memory size in bytes",
            "gauge",
            &one(rss as f64),
        );
    }
    if let Some(fds) = process.open_fds {
        family(
            "process_open_fds",
            "Open file descriptors",
            "gauge",
            &one(fds as f64),
        );
    }
    family(
        "process_start_time_seconds",
        "Start time of the process since the Unix epoch, in seconds",
        "gauge",
        &one(started_at()),
    );
    out
}

/// A label value as the exposition format wants it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

static STARTED: OnceLock<f64> = OnceLock::new();

/// When this process started (first asked: `serve` asks at start).
pub fn started_at() -> f64 {
    *STARTED.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs() as f64)
    })
}

/// This process, from /proc where there is one.
struct Process {
    resident_bytes: Option<u64>,
    open_fds: Option<usize>,
}

impl Process {
    fn read() -> Process {
        let resident_bytes = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            })
            .map(|kb| kb * 1024);
        let open_fds = std::fs::read_dir("/proc/self/fd").ok().map(|d| d.count());
        Process {
            resident_bytes,
            open_fds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape("x\ny"), "x\\ny");
    }
}
