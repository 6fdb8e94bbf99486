//! Webhooks end to end: a real receiver (tests/support/webhook_receiver.py)
//! verifies every delivery with the reference `standardwebhooks` library.
//! Everything connects to 127.0.0.1 only.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Duration as Days;
use reqwest::Method;
use serde_json::{json, Value};

use meeloop::domain::lesson::{Draft, Publish};
use meeloop::domain::organisation::Language;
use meeloop::domain::visit::VisitState;
use meeloop::service::lessons::submit_lesson;
use meeloop::service::visits::{answer_visit, cancel_visit, Answer};

use crate::backend_tests;
use crate::helpers::{spawn_app_with, Backend, TestApp};
use crate::matrix::partner_token;
use crate::schedule::{ask, dutch, scheduler, visit_row};
use crate::smtp::{free_port, wait_until};
use crate::visits::{coordinator, working_days_ahead, RULES};

backend_tests!(
    every_event_reaches_the_partner_verified_by_the_reference_library,
    a_receiver_that_was_down_gets_every_message_once_when_it_is_back,
    failing_deliveries_are_retried_then_dead_then_sent_again_by_hand,
    a_slow_receiver_times_out_and_is_tried_again,
    an_endpoint_failing_for_a_day_is_switched_off_and_its_partner_told,
    during_a_rotation_both_secrets_sign,
    loopback_targets_are_refused_unless_the_operator_allows_them,
    partners_see_only_their_own_endpoints_and_admins_pause_any,
    two_instances_on_one_database_send_each_message_once,
    admins_pause_resume_and_send_again_on_the_pages,
);

fn python() -> std::path::PathBuf {
    let tools = std::env::var("MEELOOP_TOOLS").unwrap_or_else(|_| {
        format!(
            "{}/.cache/meeloop",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let python = Path::new(&tools).join("venv/bin/python");
    assert!(
        python.exists(),
        "no webhook receiver: run scripts/setup.sh (it installs standardwebhooks)"
    );
    python
}

/// The receiver: a Python process on a port of 127.0.0.1, with its state
/// in files. Stopped when dropped.
pub struct Receiver {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
}

/// What the receiver saw of one request.
#[derive(Debug, Clone)]
pub struct Seen {
    pub id: String,
    pub event_type: String,
    pub path: String,
    /// Per secret in `secrets.json`: whether the library verified it.
    pub verified: Vec<bool>,
    pub signatures: usize,
    pub status: u16,
    pub body: Value,
}

impl Receiver {
    pub fn start() -> Receiver {
        let mut receiver = Receiver {
            child: None,
            port: free_port(),
            dir: tempfile::tempdir().unwrap(),
        };
        receiver.up();
        receiver
    }

    /// A receiver whose port is chosen but which is not running yet.
    fn down() -> Receiver {
        Receiver {
            child: None,
            port: free_port(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn up(&mut self) {
        let child = Command::new(python())
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/webhook_receiver.py"))
            .args(["--port", &self.port.to_string()])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the webhook receiver");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("the webhook receiver exited: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "the webhook receiver did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn secrets(&self, secrets: &[&str]) {
        std::fs::write(
            self.dir.path().join("secrets.json"),
            json!(secrets).to_string(),
        )
        .unwrap();
    }

    pub fn answer(&self, status: u16, delay_ms: u64) {
        std::fs::write(
            self.dir.path().join("mode.json"),
            json!({"status": status, "delay_ms": delay_ms}).to_string(),
        )
        .unwrap();
    }

    pub fn seen(&self) -> Vec<Seen> {
        let Ok(text) = std::fs::read_to_string(self.dir.path().join("received.jsonl")) else {
            return Vec::new();
        };
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|v| Seen {
                id: v["id"].as_str().unwrap_or_default().to_string(),
                event_type: v["body"]["type"].as_str().unwrap_or_default().to_string(),
                path: v["path"].as_str().unwrap_or_default().to_string(),
                verified: v["verified"]
                    .as_array()
                    .map(|a| a.iter().map(|b| b.as_bool() == Some(true)).collect())
                    .unwrap_or_default(),
                signatures: v["signatures"].as_u64().unwrap_or(0) as usize,
                status: v["status"].as_u64().unwrap_or(0) as u16,
                body: v["body"].clone(),
            })
            .collect()
    }

    /// Stops the process (the port stays this receiver's).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The demo app with webhooks going to 127.0.0.1, quickly retried.
async fn hooks_app(
    backend: Backend,
    tweak: impl FnOnce(figment::Figment) -> figment::Figment,
) -> TestApp {
    let app = spawn_app_with(backend, |f| {
        tweak(
            f.merge(("mail.deliver", false))
                .merge(("webhooks.allowed_hosts", ["127.0.0.1"]))
                .merge(("webhooks.poll_interval_ms", 50))
                .merge(("webhooks.retry_delays_secs", [1, 1, 1, 1, 1, 1])),
        )
    })
    .await;
    meeloop::service::demo::load(&mut app.db.pool.get().unwrap()).unwrap();
    app
}

/// Registers an endpoint for `events` (all when empty); its id and secret.
async fn register(app: &TestApp, token: &str, url: &str, events: &[&str]) -> (i64, String) {
    let events: Vec<&str> = if events.is_empty() {
        ALL.to_vec()
    } else {
        events.to_vec()
    };
    let (status, body) = app
        .send(
            Method::POST,
            "/api/v1/partner/webhooks",
            Some(token),
            Some(json!({"url": url, "eventTypes": events, "description": "tests"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let secret = body["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    (body["endpoint"]["id"].as_i64().unwrap(), secret)
}

const ALL: [&str; 8] = [
    "visit.requested",
    "visit.accepted",
    "visit.declined",
    "visit.cancelled",
    "visit.expired",
    "visit.completed",
    "lesson.published",
    "organisation.updated",
];

const SOON: Duration = Duration::from_secs(30);

/// A coordinator of Zwolle renames it over the API: one
/// `organisation.updated`.
async fn rename_zwolle(app: &TestApp, token: &str, name: &str) {
    let zwolle = app.organisation_id("GM0193").await;
    let (status, body) = app
        .send(
            Method::PATCH,
            &format!("/api/v1/organisations/{zwolle}"),
            Some(token),
            Some(json!({"name": name})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn deliveries(app: &TestApp, token: &str, endpoint: i64) -> Vec<Value> {
    let (status, body) = app
        .send(
            Method::GET,
            &format!("/api/v1/partner/webhooks/{endpoint}/deliveries?limit=100"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().unwrap().clone()
}

/// Polls the delivery log until `done` holds for it.
async fn wait_for_log(
    app: &TestApp,
    token: &str,
    endpoint: i64,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + SOON;
    loop {
        let log = deliveries(app, token, endpoint).await;
        if done(&log) {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {log:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn every_event_reaches_the_partner_verified_by_the_reference_library(backend: Backend) {
    let app = hooks_app(backend, |f| f).await;
    let receiver = Receiver::start();
    let reader = partner_token(&app, "webhooks:manage lessons:read").await;
    let plain = partner_token(&app, "webhooks:manage").await;
    let (_, secret) = register(&app, &reader, &receiver.url("/reader"), &[]).await;
    let (_, other) = register(
        &app,
        &plain,
        &receiver.url("/plain"),
        &["lesson.published", "visit.accepted"],
    )
    .await;
    receiver.secrets(&[&secret, &other]);

    let ctx = app.ctx();
    let anne = coordinator(&app, "anne@sudwestfryslan.example", "GM1900");
    let piet = coordinator(&app, "piet@zwolle.example", "GM0193");
    let days = working_days_ahead(4);
    // Requested, accepted, held, a lesson published.
    let held = ask(&app, &anne, "cloud-migration", &days[..1]).await;
    answer_visit(&ctx, piet.clone(), held.id, Answer::Accept(days[0]))
        .await
        .unwrap();
    let jobs = scheduler(&app);
    jobs.run_at(dutch(days[0] + Days::days(1), 1))
        .await
        .unwrap();
    let draft = Draft {
        strengths: "Een exitplan per applicatie, met een vaste eigenaar.".into(),
        mistakes: "Licenties te laat geïnventariseerd.".into(),
        recommendations: "Begin met de kleinste applicaties.".into(),
        hours_saved: Some(40),
        rating: Some(5),
        recommend: Some(true),
        publish: Publish::Pseudonymous,
        ..Draft::default()
    };
    submit_lesson(&ctx, anne.clone(), held.id, draft, Language::Nl)
        .await
        .unwrap();
    // Declined, cancelled, expired.
    let declined = ask(&app, &anne, "cloud-migration", &days[1..2]).await;
    answer_visit(
        &ctx,
        piet.clone(),
        declined.id,
        Answer::Decline(Some("Te druk, bel Piet op 06-12345678".into())),
    )
    .await
    .unwrap();
    let cancelled = ask(&app, &anne, "cloud-migration", &days[1..2]).await;
    cancel_visit(&ctx, anne.clone(), cancelled.id, Some("Budget".into()))
        .await
        .unwrap();
    let expiring = ask(&app, &anne, "cloud-migration", &days[2..]).await;
    let asked = visit_row(&app, expiring.id).created_at;
    jobs.run_at(asked + Days::days(RULES.invitation_days) + Days::minutes(1))
        .await
        .unwrap();
    assert_eq!(visit_row(&app, expiring.id).state, VisitState::Expired);
    // A profile change.
    let token = app.coordinator_token("kees@zwolle.example", "GM0193").await;
    rename_zwolle(&app, &token, "Gemeente Zwolle").await;

    wait_until(
        SOON,
        "every event type at /reader and two at /plain",
        || {
            let seen = receiver.seen();
            let types: std::collections::HashSet<String> = seen
                .iter()
                .filter(|s| s.path == "/reader")
                .map(|s| s.event_type.clone())
                .collect();
            ALL.iter().all(|t| types.contains(*t))
                && seen.iter().filter(|s| s.path == "/plain").count() >= 2
        },
    )
    .await;
    let seen = receiver.seen();
    for s in &seen {
        let mine = if s.path == "/reader" { 0 } else { 1 };
        assert!(s.verified[mine], "the library verifies {s:?}");
        assert!(
            !s.verified[1 - mine],
            "another endpoint's secret does not: {s:?}"
        );
        assert_eq!(s.status, 200);
        assert!(s.id.starts_with("msg_"), "{s:?}");
        assert!(
            s.body["timestamp"].is_string() && s.body["data"].is_object(),
            "{s:?}"
        );
        // Public fields only: no addresses, no goals, no reasons.
        let text = s.body.to_string();
        for private in [
            "@",
            "exit uit het eigen datacenter",
            "06-12345678",
            "Budget",
        ] {
            assert!(!text.contains(private), "{private} in {text}");
        }
    }
    let reader: Vec<&Seen> = seen.iter().filter(|s| s.path == "/reader").collect();
    let one = |t: &str| {
        let found: Vec<&&Seen> = reader.iter().filter(|s| s.event_type == t).collect();
        assert!(!found.is_empty(), "{t}");
        found[0].body["data"].clone()
    };
    let accepted = one("visit.accepted");
    assert_eq!(accepted["visitId"], json!(held.id.0));
    assert_eq!(accepted["state"], "accepted");
    assert_eq!(accepted["date"], json!(days[0].to_string()));
    assert_eq!(accepted["topic"], "cloud-migration");
    assert_eq!(one("visit.completed")["state"], "completed");
    assert_eq!(one("visit.declined")["visitId"], json!(declined.id.0));
    assert_eq!(one("visit.cancelled")["cancelledBy"], "requester");
    assert_eq!(one("visit.expired")["visitId"], json!(expiring.id.0));
    assert_eq!(one("visit.requested")["state"], "requested");
    let organisation = one("organisation.updated");
    assert_eq!(organisation["code"], "GM0193");
    assert_eq!(organisation["name"], "Gemeente Zwolle");
    assert_eq!(organisation["changed"], json!(["name"]));
    // With lessons:read the lesson as the knowledge base shows it (no
    // author name: it was published pseudonymously); without, its id.
    let lesson = one("lesson.published");
    assert_eq!(lesson["side"], "requester");
    assert_eq!(
        lesson["lesson"]["strengths"],
        "Een exitplan per applicatie, met een vaste eigenaar."
    );
    assert!(lesson["lesson"]["authorName"].is_null());
    let plain_lesson = seen
        .iter()
        .find(|s| s.path == "/plain" && s.event_type == "lesson.published")
        .unwrap();
    assert_eq!(plain_lesson.body["data"]["lessonId"], lesson["lessonId"]);
    assert!(plain_lesson.body["data"]["lesson"].is_null());
    // Each message went once per endpoint: the log says delivered.
    let ids: Vec<&str> = seen.iter().map(|s| s.id.as_str()).collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "no message twice");
}

async fn a_receiver_that_was_down_gets_every_message_once_when_it_is_back(backend: Backend) {
    let app = hooks_app(backend, |f| f).await;
    let mut receiver = Receiver::down();
    let partner = partner_token(&app, "webhooks:manage").await;
    let (endpoint, secret) = register(&app, &partner, &receiver.url("/hook"), &[]).await;
    receiver.secrets(&[&secret]);
    let token = app.coordinator_token("kees@zwolle.example", "GM0193").await;
    for n in 1..=3 {
        rename_zwolle(&app, &token, &format!("Zwolle {n}")).await;
    }
    let log = wait_for_log(&app, &partner, endpoint, "three failed attempts", |log| {
        log.len() == 3
            && log
                .iter()
                .all(|d| d["attempts"].as_i64() >= Some(1) && d["state"] == "pending")
    })
    .await;
    assert!(log[0]["log"][0]["status"].is_null(), "no answer: {log:#?}");
    assert!(log[0]["log"][0]["error"].as_str().unwrap().len() > 3);

    receiver.up();
    wait_for_log(&app, &partner, endpoint, "everything delivered", |log| {
        log.iter().all(|d| d["state"] == "delivered")
    })
    .await;
    let seen = receiver.seen();
    assert_eq!(seen.len(), 3, "each message once: {seen:?}");
    let names: Vec<String> = seen
        .iter()
        .map(|s| s.body["data"]["name"].as_str().unwrap().to_string())
        .collect();
    for n in 1..=3 {
        assert!(names.contains(&format!("Zwolle {n}")), "{names:?}");
    }
    assert!(seen.iter().all(|s| s.verified == [true]));
}

async fn failing_deliveries_are_retried_then_dead_then_sent_again_by_hand(backend: Backend) {
    let app = hooks_app(backend, |f| f.merge(("webhooks.retry_delays_secs", [1, 1]))).await;
    let receiver = Receiver::start();
    receiver.answer(500, 0);
    let partner = partner_token(&app, "webhooks:manage").await;
    let (endpoint, secret) = register(&app, &partner, &receiver.url("/hook"), &[]).await;
    receiver.secrets(&[&secret]);
    let token = app.coordinator_token("kees@zwolle.example", "GM0193").await;
    rename_zwolle(&app, &token, "Zwolle").await;

    let log = wait_for_log(&app, &partner, endpoint, "a dead delivery", |log| {
        log.len() == 1 && log[0]["state"] == "dead"
    })
    .await;
    let dead = &log[0];
    assert_eq!(dead["attempts"], 3, "one try and two retries: {dead:#}");
    let attempts = dead["log"].as_array().unwrap();
    assert_eq!(attempts.len(), 3);
    for a in attempts {
        assert_eq!(a["status"], 500);
        assert_eq!(a["response"], "failing on purpose");
        assert_eq!(a["error"], "HTTP 500 Internal Server Error");
        assert!(a["latencyMs"].as_i64().unwrap() >= 0);
    }
    let seen = receiver.seen();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter().all(|s| s.id == dead["webhookId"]),
        "the same webhook-id every time"
    );

    // Mended: sent again by hand, with the same webhook-id.
    receiver.answer(200, 0);
    let id = dead["id"].as_i64().unwrap();
    let path = format!("/api/v1/partner/webhooks/{endpoint}/deliveries/{id}/redeliver");
    let (status, body) = app.send(Method::POST, &path, Some(&partner), None).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["state"], "pending");
    wait_for_log(&app, &partner, endpoint, "delivered after all", |log| {
        log[0]["state"] == "delivered"
    })
    .await;
    let seen = receiver.seen();
    assert_eq!(seen.len(), 4);
    assert_eq!(seen[3].status, 200);
    assert_eq!(seen[3].id, dead["webhookId"]);
    let missing = format!("/api/v1/partner/webhooks/{endpoint}/deliveries/999999/redeliver");
    let (status, body) = app.send(Method::POST, &missing, Some(&partner), None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("unknown_delivery"))
    );
    let admin = app.admin_token("audit-admin@meeloop.example").await;
    let audit = crate::helpers::audit_actions(&app, &admin).await;
    assert!(
        audit.contains(&"webhook.redelivered".to_string()),
        "{audit:?}"
    );
}

async fn a_slow_receiver_times_out_and_is_tried_again(backend: Backend) {
    let app = hooks_app(backend, |f| {
        f.merge(("webhooks.timeout_ms", 300))
            .merge(("webhooks.lease_secs", 10))
    })
    .await;
    let receiver = Receiver::start();
    receiver.answer(200, 1500);
    let partner = partner_token(&app, "webhooks:manage").await;
    let (endpoint, secret) = register(&app, &partner, &receiver.url("/hook"), &[]).await;
    receiver.secrets(&[&secret]);
    let token = app.coordinator_token("kees@zwolle.example", "GM0193").await;
    rename_zwolle(&app, &token, "Zwolle").await;
    let log = wait_for_log(&app, &partner, endpoint, "a timed-out attempt", |log| {
        log.len() == 1 && log[0]["attempts"].as_i64() >= Some(1) && log[0]["state"] == "pending"
    })
    .await;
    let first = &log[0]["log"][0];
    assert!(first["status"].is_null(), "{first}");
    let error = first["error"].as_str().unwrap();
    assert!(
        error.contains("timed out") || error.contains("timeout"),
        "{error}"
    );
    assert!(first["latencyMs"].as_i64().unwrap() >= 300, "{first}");
    receiver.answer(200, 0);
    wait_for_log(&app, &partner, endpoint, "delivered on a retry", |log| {
        log[0]["state"] == "delivered"
    })
    .await;
}

async fn an_endpoint_failing_for_a_day_is_switched_off_and_its_partner_told(backend: Backend) {
    let app = hooks_app(backend, |f| f).await;
    let receiver = Receiver::start();
    receiver.answer(503, 0);
    let partner = partner_token(&app, "webhooks:manage").await;
    // The partner's contact, set by an admin.
    let admin = app.admin_token("webhook-admin@meeloop.example").await;
    let (_, clients) = app
        .send(Method::GET, "/api/v1/admin/partners", Some(&admin), None)
        .await;
    let client_id = clients[0]["clientId"].as_str().unwrap().to_string();
    let (status, body) = app
        .send(
            Method::PATCH,
            &format!("/api/v1/admin/partners/{client_id}"),
            Some(&admin),
            Some(json!({"contactEmail": "api@onderzoek.example"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["contactEmail"], "api@onderzoek.example");
    let (endpoint, secret) = register(&app, &partner, &receiver.url("/hook"), &[]).await;
    receiver.secrets(&[&secret]);
    // It has failed since yesterday.
    {
        use diesel::prelude::*;
        use meeloop::db::schema::webhook_endpoints as e;
        let since = meeloop::db::now() - Days::hours(25);
        let mut conn = app.db.pool.get().unwrap();
        meeloop::dispatch!(&mut conn, c => diesel::update(e::table.find(endpoint))
            .set(e::failing_since.eq(Some(since)))
            .execute(c))
        .unwrap();
    }
    let token = app.coordinator_token("kees@zwolle.example", "GM0193").await;
    rename_zwolle(&app, &token, "Zwolle").await;
    let endpoint_path = format!("/api/v1/partner/webhooks/{endpoint}");
    let deadline = Instant::now() + SOON;
    loop {
        let (_, body) = app
            .send(Method::GET, &endpoint_path, Some(&partner), None)
            .await;
        if body["endpoint"]["status"] == "disabled" {
            assert!(body["endpoint"]["disabledAt"].is_string());
            break;
        }
        assert!(Instant::now() < deadline, "not switched off: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mails = crate::helpers::mails(&mut app.db.pool.get().unwrap());
    let told: Vec<_> = mails.iter().filter(|m| m.1 == "webhook_disabled").collect();
    assert_eq!(told.len(), 1, "{mails:?}");
    assert_eq!(told[0].0, "api@onderzoek.example");
    assert!(told[0].2.contains(&receiver.url("/hook")), "{}", told[0].2);
    assert!(told[0].2.contains("503"), "{}", told[0].2);
    // Switched off, nothing goes out, but new events wait.
    let before = receiver.seen().len();
    rename_zwolle(&app, &token, "Gemeente Zwolle").await;
    let log = deliveries(&app, &partner, endpoint).await;
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|d| d["state"] == "pending"), "{log:#?}");
    // Mended and switched on again by the partner: everything arrives.
    receiver.answer(200, 0);
    let (status, body) = app
        .send(
            Method::PATCH,
            &endpoint_path,
            Some(&partner),
            Some(json!({"paused": false})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "active");
    wait_for_log(&app, &partner, endpoint, "both delivered", |log| {
        log.iter().all(|d| d["state"] == "delivered")
    })
    .await;
    assert!(receiver.seen().len() >= before + 2);
    let audit = crate::helpers::audit_actions(&app, &admin).await;
    assert!(audit.contains(&"webhook.disabled".to_string()), "{audit:?}");
}

async fn during_a_rotation_both_secrets_sign(backend: Backend) {
    let app = hooks_app(backend, |f| f).await;
    let receiver = Receiver::start();
    let partner = partner_token(&app, "webhooks:manage").await;
    let (endpoint, old) = register(&app, &partner, &receiver.url("/hook"), &[]).await;
    // A test message first, signed like any other.
    receiver.secrets(&[&old]);
    let test = format!("/api/v1/partner/webhooks/{endpoint}/test");
    let (status, body) = app.send(Method::POST, &test, Some(&partner), None).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["eventType"], "webhook.test");
    wait_until(SOON, "the test message", || !receiver.seen().is_empty()).await;
    let tested = receiver.seen().remove(0);
    assert_eq!(tested.event_type, "webhook.test");
    assert_eq!(tested.body["data"]["endpointId"], json!(endpoint));
    assert_eq!(tested.verified, [true]);
    assert_eq!(tested.id, body["webhookId"].as_str().unwrap());
    let path = format!("/api/v1/partner/webhooks/{endpoint}/secret");
    let (status, body) = app.send(Method::POST, &path, Some(&partner), None).await;
    assert_eq!(status, 200, "{body}");
    let new = body["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert!(body["endpoint"]["previousSecretValidUntil"].is_string());
    receiver.secrets(&[&old, &new]);
    let token = app.coordinator_token("kees@zwolle.example", "GM0193").await;
    rename_zwolle(&app, &token, "Zwolle").await;
    wait_until(SOON, "a delivery", || receiver.seen().len() == 2).await;
    let seen = receiver.seen();
    assert_eq!(seen[1].signatures, 2);
    assert_eq!(
        seen[1].verified,
        [true, true],
        "both secrets verify during the overlap"
    );
    // After the overlap, only the new one signs.
    {
        use diesel::prelude::*;
        use meeloop::db::schema::webhook_endpoints as e;
        let past = meeloop::db::now() - Days::minutes(1);
        let mut conn = app.db.pool.get().unwrap();
        meeloop::dispatch!(&mut conn, c => diesel::update(e::table.find(endpoint))
            .set(e::previous_until.eq(Some(past)))
            .execute(c))
        .unwrap();
    }
    rename_zwolle(&app, &token, "Gemeente Zwolle").await;
    wait_until(SOON, "a third delivery", || receiver.seen().len() == 3).await;
    let second = &receiver.seen()[2];
    assert_eq!(second.signatures, 1);
    assert_eq!(second.verified, [false, true]);
}

async fn loopback_targets_are_refused_unless_the_operator_allows_them(backend: Backend) {
    // No allow-list: loopback, private and link-local targets are refused
    // when registered (and nothing is connected to).
    let strict = spawn_app_with(backend, |f| f.merge(("mail.deliver", false))).await;
    let partner = partner_token(&strict, "webhooks:manage").await;
    let receiver = Receiver::start();
    for (url, why) in [
        (receiver.url("/hook"), "loopback"),
        (
            format!("http://localhost:{}/hook", receiver.port),
            "loopback",
        ),
        ("http://10.1.2.3/hook".to_string(), "private"),
        (
            "http://169.254.169.254/latest/meta-data".to_string(),
            "link-local",
        ),
        ("http://[::1]:8080/hook".to_string(), "loopback"),
        ("http://0.0.0.0:8080/hook".to_string(), "reserved"),
        ("ftp://example.nl/hook".to_string(), "https"),
    ] {
        let (status, body) = strict
            .send(
                Method::POST,
                "/api/v1/partner/webhooks",
                Some(&partner),
                Some(json!({"url": url, "eventTypes": ["visit.accepted"]})),
            )
            .await;
        assert_eq!(status, 400, "{url}: {body}");
        assert_eq!(body["code"], "webhook_url_refused", "{url}");
        assert!(
            body["detail"].as_str().unwrap().contains(why),
            "{url}: {body}"
        );
    }

    // Allowed by the operator: registered. No worker runs in this app;
    // the test runs rounds of two workers itself.
    let app = hooks_app(backend, |f| f.merge(("webhooks.deliver", false))).await;
    let partner = partner_token(&app, "webhooks:manage").await;
    let (endpoint, secret) = register(&app, &partner, &receiver.url("/hook"), &[]).await;
    receiver.secrets(&[&secret]);
    let token = app.coordinator_token("kees@zwolle.example", "GM0193").await;
    rename_zwolle(&app, &token, "Zwolle").await;
    // A worker without the allow-list refuses the same target at delivery:
    // where the host points now decides, every time.
    let mut settings = app.db.settings.clone();
    settings.webhooks.allowed_hosts = Vec::new();
    let strict_worker =
        meeloop::jobs::webhooks::Deliverer::from_settings(&settings, &app.address).unwrap();
    let round = meeloop::jobs::webhooks::deliver_once(&app.db.pool, &strict_worker)
        .await
        .unwrap();
    assert_eq!(round.retrying, 1, "{round:?}");
    let log = deliveries(&app, &partner, endpoint).await;
    let refused = &log[0]["log"][0];
    assert!(refused["status"].is_null(), "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("loopback"),
        "{refused}"
    );
    assert!(receiver.seen().is_empty(), "nothing reached the receiver");
    // The operator's worker, which allows 127.0.0.1, delivers on the retry.
    let allowing =
        meeloop::jobs::webhooks::Deliverer::from_settings(&app.db.settings, &app.address).unwrap();
    let deadline = Instant::now() + SOON;
    while receiver.seen().is_empty() {
        assert!(Instant::now() < deadline, "not delivered on the retry");
        meeloop::jobs::webhooks::deliver_once(&app.db.pool, &allowing)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(receiver.seen()[0].verified, [true]);

    // In production only https is accepted, whatever the host.
    let mut production = app.db.settings.clone();
    production.environment = meeloop::config::Environment::Production;
    let ctx = meeloop::service::context::Context::from_settings(
        app.db.pool.clone(),
        &production,
        app.address.clone(),
        std::time::Duration::ZERO,
    );
    let (owner, _) = meeloop::service::partners::create_partner(
        &mut app.db.pool.get().unwrap(),
        "Productie",
        meeloop::domain::partner::Scopes::parse("webhooks:manage").unwrap(),
        None,
    )
    .unwrap();
    let register_in_production = |url: String| {
        meeloop::service::webhooks::create(
            &ctx,
            owner.clone(),
            "127.0.0.1".parse().unwrap(),
            meeloop::service::webhooks::NewEndpointInput {
                url,
                event_types: meeloop::domain::webhook::EventTypes::new(&["visit.accepted".into()])
                    .unwrap(),
                description: None,
                paused: false,
            },
        )
    };
    let refused = register_in_production(receiver.url("/hook"))
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("https"), "{refused}");
    let https = format!("https://127.0.0.1:{}/hook", receiver.port);
    let (endpoint, _) = register_in_production(https.clone()).await.unwrap();
    assert_eq!(endpoint.url, https);
}

async fn partners_see_only_their_own_endpoints_and_admins_pause_any(backend: Backend) {
    let app = hooks_app(backend, |f| f.merge(("webhooks.max_endpoints", 2))).await;
    let receiver = Receiver::start();
    let one = partner_token(&app, "webhooks:manage").await;
    let two = partner_token(&app, "webhooks:manage").await;
    let reader = partner_token(&app, "lessons:read").await;
    let (endpoint, _) = register(&app, &one, &receiver.url("/one"), &["visit.accepted"]).await;
    let mine = format!("/api/v1/partner/webhooks/{endpoint}");

    // Without the scope: 403; another partner: 404; a coordinator: 401.
    let (status, body) = app
        .send(Method::GET, "/api/v1/partner/webhooks", Some(&reader), None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("missing_scope"))
    );
    for (method, path) in [
        (Method::GET, mine.clone()),
        (Method::DELETE, mine.clone()),
        (Method::POST, format!("{mine}/secret")),
        (Method::GET, format!("{mine}/deliveries")),
    ] {
        let (status, body) = app.send(method.clone(), &path, Some(&two), None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("unknown_endpoint")),
            "{method} {path}"
        );
    }
    let (status, list) = app
        .send(Method::GET, "/api/v1/partner/webhooks", Some(&two), None)
        .await;
    assert_eq!((status, list), (200, json!([])));
    let coordinator = app.coordinator_token("kees@zwolle.example", "GM0193").await;
    let (status, _) = app
        .send(
            Method::GET,
            "/api/v1/partner/webhooks",
            Some(&coordinator),
            None,
        )
        .await;
    assert_eq!(status, 401);

    // A limit per partner.
    register(&app, &one, &receiver.url("/two"), &["visit.accepted"]).await;
    let (status, body) = app
        .send(
            Method::POST,
            "/api/v1/partner/webhooks",
            Some(&one),
            Some(json!({"url": receiver.url("/three"), "eventTypes": ["visit.accepted"]})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("too_many_endpoints"))
    );
    // Bad input names the field.
    let (status, body) = app
        .send(
            Method::POST,
            "/api/v1/partner/webhooks",
            Some(&two),
            Some(json!({"url": receiver.url("/x"), "eventTypes": ["visit.exploded"]})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["detail"].as_str().unwrap().contains("eventTypes"),
        "{body}"
    );

    // Admins see all, pause any; the partner cannot resume an admin's pause.
    let admin = app.admin_token("webhook-admin@meeloop.example").await;
    let (status, all) = app
        .send(Method::GET, "/api/v1/admin/webhooks", Some(&admin), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(all[0]["partner"]["name"], "Onderzoeker");
    assert!(
        all.to_string().find("whsec_").is_none(),
        "no secrets in lists"
    );
    let admin_path = format!("/api/v1/admin/webhooks/{endpoint}");
    let (status, body) = app
        .send(
            Method::PATCH,
            &admin_path,
            Some(&admin),
            Some(json!({"paused": true})),
        )
        .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("held")));
    let (status, body) = app
        .send(
            Method::PATCH,
            &mine,
            Some(&one),
            Some(json!({"paused": false})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("held_by_admin"))
    );
    let (status, body) = app
        .send(
            Method::PATCH,
            &admin_path,
            Some(&admin),
            Some(json!({"paused": false})),
        )
        .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("active")));
    // The partner changes and deletes its own.
    let (status, body) = app
        .send(
            Method::PATCH,
            &mine,
            Some(&one),
            Some(json!({"eventTypes": ["lesson.published", "visit.accepted"], "description": "VNG monitor"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["eventTypes"],
        json!(["lesson.published", "visit.accepted"])
    );
    assert_eq!(body["description"], "VNG monitor");
    // A partner whose scope is taken away hears of nothing more.
    let two_endpoint = register(
        &app,
        &two,
        &receiver.url("/two-b"),
        &["organisation.updated"],
    )
    .await
    .0;
    let (_, clients) = app
        .send(Method::GET, "/api/v1/admin/partners", Some(&admin), None)
        .await;
    let two_client = clients.as_array().unwrap()[1]["clientId"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = app
        .send(
            Method::PATCH,
            &format!("/api/v1/admin/partners/{two_client}"),
            Some(&admin),
            Some(json!({"scopes": ["stats:read"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    rename_zwolle(&app, &coordinator, "Zwolle").await;
    let queued = {
        use diesel::prelude::*;
        use meeloop::db::schema::webhook_deliveries as d;
        let mut conn = app.db.pool.get().unwrap();
        meeloop::dispatch!(&mut conn, c => d::table
            .filter(d::endpoint_id.eq(two_endpoint))
            .count()
            .get_result::<i64>(c))
        .unwrap()
    };
    assert_eq!(queued, 0, "nothing queued for a partner without the scope");

    let (status, _) = app.send(Method::DELETE, &mine, Some(&one), None).await;
    assert_eq!(status, 204);
    let (status, _) = app.send(Method::GET, &mine, Some(&one), None).await;
    assert_eq!(status, 404);
    let audit = crate::helpers::audit_actions(&app, &admin).await;
    for action in [
        "webhook.created",
        "webhook.held",
        "webhook.resumed",
        "webhook.updated",
        "webhook.deleted",
    ] {
        assert!(audit.contains(&action.to_string()), "{action} in {audit:?}");
    }
}

async fn two_instances_on_one_database_send_each_message_once(backend: Backend) {
    let app = hooks_app(backend, |f| {
        f.merge(("webhooks.batch_size", 2))
            .merge(("webhooks.concurrency", 1))
            .merge(("webhooks.poll_interval_ms", 10))
    })
    .await;
    // A second instance on the same database, its own worker beside the first.
    let second = meeloop::app::Application::build(&app.db.settings, app.db.pool.clone()).unwrap();
    actix_web::rt::spawn(second.run_until_stopped());
    let receiver = Receiver::start();
    // Slow enough that the two workers overlap.
    receiver.answer(200, 20);
    let partner = partner_token(&app, "webhooks:manage").await;
    let (endpoint, secret) = register(&app, &partner, &receiver.url("/hook"), &[]).await;
    receiver.secrets(&[&secret]);
    let token = app.coordinator_token("kees@zwolle.example", "GM0193").await;
    const N: usize = 30;
    for n in 0..N {
        rename_zwolle(&app, &token, &format!("Zwolle {n}")).await;
    }
    wait_for_log(&app, &partner, endpoint, "all delivered", |log| {
        log.len() == N && log.iter().all(|d| d["state"] == "delivered")
    })
    .await;
    let seen = receiver.seen();
    let mut ids: Vec<&str> = seen.iter().map(|s| s.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), N);
    assert_eq!(seen.len(), N, "no message twice");
    let log = deliveries(&app, &partner, endpoint).await;
    assert!(log.iter().all(|d| d["attempts"] == 1), "one attempt each");
}

/// A partner's endpoint with a dead delivery and its two failed attempts,
/// written straight into the database (for the pages' tests).
pub fn seed_endpoint(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    use meeloop::db::schema::{webhook_attempts as a, webhook_deliveries as d};
    let (partner, _) = meeloop::service::partners::create_partner(
        &mut app.db.pool.get().unwrap(),
        "VNG Realisatie",
        meeloop::domain::partner::Scopes::parse("webhooks:manage").unwrap(),
        Some("api@vng.example"),
    )
    .unwrap();
    let mut conn = app.db.pool.get().unwrap();
    let now = meeloop::db::now();
    let endpoint = meeloop::db::webhooks::insert_endpoint(
        &mut conn,
        &meeloop::db::webhooks::NewEndpoint {
            partner_id: partner.id,
            url: "https://hooks.vng.example/meeloop",
            description: "Kennismonitor",
            event_types: "lesson.published visit.accepted".into(),
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
            paused: false,
            created_at: now,
            updated_at: now,
        },
    )
    .unwrap()
    .id;
    let delivery = meeloop::db::webhooks::enqueue(
        &mut conn,
        &meeloop::db::webhooks::NewDelivery {
            endpoint_id: endpoint,
            webhook_id: "msg_seeded",
            event_type: "visit.accepted",
            payload: "{}",
            state: "dead",
            attempts: 2,
            next_attempt_at: now,
            created_at: now,
        },
    )
    .unwrap();
    for (status, response, error) in [
        (
            Some(503),
            "<html>Service Unavailable</html>",
            Some("HTTP 503 Service Unavailable"),
        ),
        (None, "", Some("error sending request: connection refused")),
    ] {
        meeloop::dispatch!(&mut conn, c => diesel::insert_into(a::table)
            .values((
                a::delivery_id.eq(delivery),
                a::attempted_at.eq(now),
                a::status.eq(status),
                a::latency_ms.eq(120),
                a::response.eq(response),
                a::error.eq(error),
            ))
            .execute(c))
        .unwrap();
    }
    meeloop::dispatch!(&mut conn, c => diesel::update(d::table.find(delivery))
        .set(d::given_up_at.eq(Some(now)))
        .execute(c))
    .unwrap();
    endpoint
}

async fn admins_pause_resume_and_send_again_on_the_pages(backend: Backend) {
    use crate::pages::Web;
    use reqwest::StatusCode;
    let app = hooks_app(backend, |f| f.merge(("webhooks.deliver", false))).await;
    let endpoint = seed_endpoint(&app);
    app.admin_token("admin@meeloop.example").await;
    app.coordinator_token("kees@zwolle.example", "GM0193").await;
    let kees = Web::new(&app).logged_in("kees@zwolle.example").await;
    assert_eq!(
        kees.get("/admin/webhooks").await.status,
        StatusCode::FORBIDDEN
    );
    let admin = Web::new(&app).logged_in("admin@meeloop.example").await;
    let list = admin.get("/admin/webhooks").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body.contains("https://hooks.vng.example/meeloop"),
        "{}",
        list.body
    );
    assert!(list.body.contains("VNG Realisatie") && list.body.contains("actief"));
    assert!(!list.body.contains("whsec_"), "no secrets on pages");
    let csrf = admin.csrf_on("/admin/webhooks").await;
    let pause = format!("/admin/webhooks/{endpoint}/pause");
    let r = admin
        .post(&pause, &[("csrf", csrf.clone()), ("paused", "true".into())])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(admin
        .get("/admin/webhooks")
        .await
        .body
        .contains("stilgezet door beheer"));
    let r = admin.post(&pause, &[("paused", "false".into())]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "no CSRF token, no change");
    let r = admin
        .post(
            &pause,
            &[("csrf", csrf.clone()), ("paused", "false".into())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(admin.get("/admin/webhooks").await.body.contains("actief"));

    let log = admin.get(&format!("/admin/webhooks/{endpoint}")).await;
    assert_eq!(log.status, StatusCode::OK);
    assert!(
        log.body.contains("msg_seeded") && log.body.contains("503"),
        "{}",
        log.body
    );
    assert!(log.body.contains("Service Unavailable"));
    assert!(!log.body.contains("<html>Service"), "answers are escaped");
    assert!(log.body.contains("connection refused"));
    assert!(log.body.contains("Opnieuw versturen"));
    let delivery = deliveries_of(&app, endpoint)[0];
    let r = admin
        .post(
            &format!("/admin/webhooks/{endpoint}/deliveries/{delivery}/redeliver"),
            &[("csrf", csrf.clone())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let log = admin
        .get(&format!("/admin/webhooks/{endpoint}?state=pending"))
        .await;
    assert!(
        log.body.contains("msg_seeded"),
        "pending again: {}",
        log.body
    );
    assert_eq!(
        admin.get("/admin/webhooks/999999").await.status,
        StatusCode::NOT_FOUND
    );
}

fn deliveries_of(app: &TestApp, endpoint: i64) -> Vec<i64> {
    use diesel::prelude::*;
    use meeloop::db::schema::webhook_deliveries as d;
    let mut conn = app.db.pool.get().unwrap();
    meeloop::dispatch!(&mut conn, c => d::table
        .filter(d::endpoint_id.eq(endpoint))
        .select(d::id)
        .load::<i64>(c))
    .unwrap()
}
