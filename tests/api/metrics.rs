//! `/metrics` (docs/operations.md, "Monitoring"): never open by default,
//! on its own listener or behind a bearer token, and output that
//! Prometheus's own `promtool` accepts and that moves with what happens.
//!
//! The recorder is one per process, so counters here are compared before
//! and after (other tests in this process count too); the queue gauges are
//! read from the app's own database when scraped, so those are exact.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::backend_tests;
use crate::helpers::{login, spawn_app, spawn_app_with, Backend, TestApp};
use reqwest::{Method, StatusCode};

const TOKEN: &str = "a-bearer-token-for-the-metrics-of-this-test";

/// `promtool` from Debian's `prometheus` package (scripts/setup.sh), or
/// `None` (the check skipped) where it is missing and not required.
fn promtool() -> Option<&'static str> {
    crate::helpers::ops_tool("/usr/bin/promtool")
}

/// What `promtool check metrics` says about `text` (lint included): empty
/// when it accepts it.
fn promtool_problems(text: &str) -> Option<String> {
    let mut child = Command::new(promtool()?)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(if out.status.success() {
        String::new()
    } else {
        said
    })
}

/// The value of the sample `name{labels}` exactly as rendered (labels in
/// the order written), or 0.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

async fn scrape(app: &TestApp) -> String {
    let r = app
        .client
        .get(format!("{}/metrics", app.address))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "{:?}",
        r.headers()
    );
    r.text().await.unwrap()
}

async fn metrics_are_not_served_unless_switched_on(backend: Backend) {
    let app = spawn_app(backend).await;
    let r = app.get("/metrics").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert!(app.metrics_address.is_none());
}

async fn a_bearer_token_opens_metrics_that_promtool_accepts_and_that_move(backend: Backend) {
    let app = spawn_app_with(backend, |f| {
        f.merge(("metrics.bearer_token", TOKEN))
            .merge(("mail.deliver", false))
    })
    .await;
    // Without the token, or with another: 401 with the challenge, nothing else.
    for auth in [None, Some("Bearer not-the-token"), Some(TOKEN)] {
        let mut request = app.client.get(format!("{}/metrics", app.address));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        assert!(r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer"));
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        assert!(!r.text().await.unwrap().contains("meeloop_"));
    }

    let before = scrape(&app).await;
    if let Some(problems) = promtool_problems(&before) {
        assert_eq!(problems, "", "promtool on:\n{before}");
    }
    // Build, process and pool facts are there from the start.
    let database = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgresql",
    };
    assert_eq!(
        sample(
            &before,
            &format!(
                "meeloop_build_info{{version=\"{}\",database=\"{database}\"}}",
                env!("CARGO_PKG_VERSION")
            )
        ),
        1.0,
        "{before}"
    );
    assert_eq!(sample(&before, "meeloop_db_pool_max_connections"), 4.0);
    assert!(sample(&before, "process_resident_memory_bytes") > 1e6);

    // Things happen: two failed logins, a page of one organisation by id,
    // three queued emails, a scheduler round, a match (a snapshot rebuild).
    for _ in 0..2 {
        let (status, _) = login(&app, "nobody@example.nl", "not a password at all").await;
        assert_eq!(status, 401);
    }
    meeloop::service::demo::load(&mut app.db.pool.get().unwrap()).unwrap();
    let admin = app.admin_token("beheer@meeloop.example").await;
    let zwolle = app.organisation_id("GM0193").await;
    let (status, _) = app
        .send(
            Method::GET,
            &format!("/api/v1/organisations/{zwolle}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let ctx = app.db.ctx(&app.address);
    let before_mail = scrape(&app).await;
    let waiting = sample(&before_mail, "meeloop_outbox_messages{state=\"pending\"}");
    meeloop::service::mail::queue_test(
        &ctx,
        "ops@example.nl",
        meeloop::domain::organisation::Language::Nl,
        3,
    )
    .await
    .unwrap();
    meeloop::jobs::Scheduler::new(ctx).run_once().await.unwrap();
    let coordinator = app
        .coordinator_token("metrics@zwolle.example", "GM0193")
        .await;
    let (status, _) = app
        .send(
            Method::GET,
            "/api/v1/matches?topic=cloud-migration",
            Some(&coordinator),
            None,
        )
        .await;
    assert_eq!(status, 200);

    let after = scrape(&app).await;
    if let Some(problems) = promtool_problems(&after) {
        assert_eq!(problems, "", "promtool on:\n{after}");
    }
    let grew = |series: &str, by: f64| {
        let (b, a) = (sample(&before, series), sample(&after, series));
        assert!(a - b >= by, "{series}: {b} → {a}\n{after}");
    };
    grew("meeloop_login_failures_total{reason=\"password\"}", 2.0);
    grew("meeloop_scheduler_rounds_total{outcome=\"ok\"}", 1.0);
    grew("meeloop_matching_snapshot_rebuilds_total", 1.0);
    grew(
        "meeloop_http_requests_total{method=\"GET\",route=\"/api/v1/organisations/{id}\",status=\"200\"}",
        1.0,
    );
    grew(
        "meeloop_http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/organisations/{id}\"}",
        1.0,
    );
    grew("meeloop_db_pool_wait_seconds_count", 1.0);
    // Route templates only: the id itself is never a label.
    assert!(!after.contains(&format!("route=\"/api/v1/organisations/{zwolle}\"")));
    // The queue as the database holds it: exactly three more waiting, the
    // oldest of them waiting for some time already.
    assert_eq!(
        sample(&after, "meeloop_outbox_messages{state=\"pending\"}") - waiting,
        3.0,
        "{after}"
    );
    assert!(sample(&after, "meeloop_outbox_oldest_waiting_seconds") >= 0.0);
    assert!(after.contains("meeloop_outbox_oldest_waiting_seconds "));
    assert_eq!(
        sample(&after, "meeloop_webhook_endpoints{status=\"active\"}"),
        0.0
    );
    assert!(after.contains("# TYPE meeloop_webhook_deliveries gauge"));
}

async fn metrics_get_a_listener_of_their_own(backend: Backend) {
    let app = spawn_app_with(backend, |f| f.merge(("metrics.listen", "127.0.0.1:0"))).await;
    let metrics = app.metrics_address.clone().expect("a metrics listener");
    // Not on the main listener, with or without a token.
    let r = app.get("/metrics").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // On its own listener without credentials, and nothing else there.
    let _ = app.get("/healthz").await;
    let r = app
        .client
        .get(format!("{metrics}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(
        text.contains(
            "meeloop_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}"
        ),
        "{text}"
    );
    if let Some(problems) = promtool_problems(&text) {
        assert_eq!(problems, "", "promtool on:\n{text}");
    }
    for path in ["/healthz", "/api/v1/organisations", "/"] {
        let r = app
            .client
            .get(format!("{metrics}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

backend_tests!(
    metrics_are_not_served_unless_switched_on,
    a_bearer_token_opens_metrics_that_promtool_accepts_and_that_move,
    metrics_get_a_listener_of_their_own,
);

/// A token too short, or a listener that is no address, stops the start.
#[test]
fn metrics_settings_are_checked() {
    let settings = |key: &str, value: &str| {
        meeloop::config::Settings::defaults()
            .merge((key, value))
            .extract::<meeloop::config::Settings>()
            .unwrap()
    };
    let short = settings("metrics.bearer_token", "short");
    assert!(short.metrics.validate().unwrap_err().contains("32"));
    let bad = settings("metrics.listen", "localhost");
    assert!(bad
        .metrics
        .validate()
        .unwrap_err()
        .contains("metrics.listen"));
    let fine = settings("metrics.listen", "127.0.0.1:9464");
    assert!(fine.metrics.validate().is_ok());
}

/// The alerting rules operators are given (deploy/prometheus/alerts.yml)
/// are valid, and fire on the trouble they name in promtool's own unit
/// tests (alerts.test.yml); every metric they use is one the service
/// exports.
#[test]
fn the_alerting_rules_hold_and_name_real_metrics() {
    let Some(promtool) = promtool() else {
        return;
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/prometheus");
    for args in [
        ["check", "rules", "alerts.yml"],
        ["test", "rules", "alerts.test.yml"],
    ] {
        let out = Command::new(promtool)
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let rules = std::fs::read_to_string(dir.join("alerts.yml")).unwrap();
    let exported = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/observe.rs"),
    )
    .unwrap();
    for name in rules
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("meeloop_"))
    {
        let base = name
            .trim_end_matches("_bucket")
            .trim_end_matches("_count")
            .trim_end_matches("_sum");
        assert!(
            exported.contains(&format!("\"{base}\"")),
            "{name} in alerts.yml is not a metric src/observe.rs exports"
        );
    }
}
