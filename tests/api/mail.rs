//! The delivery worker: to a real SMTP server (aiosmtpd, started here),
//! to files, and to memory.

use std::sync::{Arc, Mutex};

use chrono::Duration;
use mail_parser::MimeHeaders;
use meeloop::db::outbox::{self, NewMessage};
use meeloop::domain::mail::RetryPolicy;
use meeloop::mail::transport::{Delivered, Transport};
use meeloop::mail::worker::{deliver_once, Round, Sender};

use crate::backend_tests;
use crate::helpers::{give_up_message, queued, spawn_app_with, test_db, Backend, TestDb};
use crate::smtp::SmtpServer;

backend_tests!(
    messages_arrive_once_at_a_real_smtp_server,
    due_messages_are_delivered_once_as_multipart_with_their_message_id,
    an_undeliverable_address_is_dead_with_the_reason,
    the_file_transport_writes_one_eml_per_message,
    admins_see_the_queue_without_bodies_and_requeue_dead_messages,
    operators_test_watch_and_requeue_from_the_command_line,
    the_worker_inside_serve_delivers_what_is_queued,
);

pub(crate) fn message(key: &str, to: &str, language: &str) -> NewMessage {
    let (subject, text, html) = match language {
        "en" => (
            "Test message",
            "Hello, this is a test.",
            "<p>Hello, this is a <b>test</b>.</p>",
        ),
        _ => (
            "Testbericht",
            "Hallo, dit is een test.",
            "<p>Hallo, dit is een <b>test</b>.</p>",
        ),
    };
    NewMessage {
        idempotency_key: key.into(),
        recipient: to.into(),
        language: language.into(),
        template: "test".into(),
        subject: subject.into(),
        body_text: text.into(),
        body_html: html.into(),
        attachments: "[]".into(),
        list_unsubscribe: None,
    }
}

/// A header of a received message as it was sent, trimmed ("" when absent).
pub(crate) fn raw_header(message: &mail_parser::Message, name: &str) -> String {
    message
        .header_raw(name)
        .map(|v| v.trim().to_string())
        .unwrap_or_default()
}

pub(crate) fn sender() -> Sender {
    Sender {
        from: "Meeloop <meeloop@meeloop.example>".parse().unwrap(),
        domain: "meeloop.example".into(),
        policy: RetryPolicy::default(),
        lease: Duration::minutes(5),
        batch: 50,
        concurrency: 4,
    }
}

async fn due_messages_are_delivered_once_as_multipart_with_their_message_id(backend: Backend) {
    let db = test_db(backend);
    db.migrate();
    let mut conn = db.pool.get().unwrap();
    let mut with_file = message("invitation:7", "host@zwolle.example", "en");
    with_file.attachments =
        r#"[{"filename": "meeloopdag.ics", "contentType": "text/calendar; charset=utf-8", "base64": "QkVHSU46VkNBTEVOREFSDQpFTkQ6VkNBTEVOREFSDQo="}]"#.into();
    let ids: Vec<i64> = [
        message("test:1", "anne@sudwestfryslan.example", "nl"),
        with_file,
    ]
    .iter()
    .map(|m| match outbox::enqueue(&mut conn, m).unwrap() {
        outbox::Enqueued::Queued(id) => id,
        other => panic!("{other:?}"),
    })
    .collect();
    drop(conn);

    let sent: Arc<Mutex<Vec<Delivered>>> = Arc::default();
    let transport = Transport::Memory(sent.clone());
    let round = deliver_once(&db.pool, &transport, &sender()).await.unwrap();
    assert_eq!(
        round,
        Round {
            sent: 2,
            ..Round::default()
        }
    );
    // Nothing is sent twice.
    let again = deliver_once(&db.pool, &transport, &sender()).await.unwrap();
    assert_eq!(again.claimed(), 0);

    let sent = sent.lock().unwrap();
    assert_eq!(sent.len(), 2);
    let dutch = mail_parser::MessageParser::default()
        .parse(&sent[0].raw)
        .unwrap();
    assert_eq!(sent[0].to, ["anne@sudwestfryslan.example"]);
    assert_eq!(dutch.subject(), Some("Testbericht"));
    assert_eq!(
        dutch.message_id(),
        Some(format!("outbox-{}@meeloop.example", ids[0]).as_str())
    );
    assert_eq!(
        dutch.body_text(0).unwrap().trim(),
        "Hallo, dit is een test."
    );
    assert!(dutch.body_html(0).unwrap().contains("<b>test</b>"));
    let english = mail_parser::MessageParser::default()
        .parse(&sent[1].raw)
        .unwrap();
    assert_eq!(english.subject(), Some("Test message"));
    assert_eq!(
        english.body_text(0).unwrap().trim(),
        "Hello, this is a test."
    );
    let attachment = english.attachment(0).expect("the calendar file");
    assert_eq!(attachment.attachment_name(), Some("meeloopdag.ics"));
    assert!(String::from_utf8_lossy(attachment.contents()).starts_with("BEGIN:VCALENDAR"));
    let mut conn = db.pool.get().unwrap();
    assert_eq!(
        crate::helpers::state_counts(&mut conn),
        [(meeloop::domain::mail::MessageState::Sent, 2)]
    );
}

async fn an_undeliverable_address_is_dead_with_the_reason(backend: Backend) {
    let db = test_db(backend);
    db.migrate();
    let mut conn = db.pool.get().unwrap();
    outbox::enqueue(&mut conn, &message("test:2", "not an address", "nl")).unwrap();
    drop(conn);
    let transport = Transport::Memory(Arc::default());
    let round = deliver_once(&db.pool, &transport, &sender()).await.unwrap();
    assert_eq!(
        round,
        Round {
            dead: 1,
            ..Round::default()
        }
    );
    let mut conn = db.pool.get().unwrap();
    assert_eq!(
        crate::helpers::state_counts(&mut conn),
        [(meeloop::domain::mail::MessageState::Dead, 1)]
    );
}

async fn the_file_transport_writes_one_eml_per_message(backend: Backend) {
    let db = test_db(backend);
    db.migrate();
    let mut conn = db.pool.get().unwrap();
    let mut expected = Vec::new();
    for i in 0..3 {
        match outbox::enqueue(
            &mut conn,
            &message(&format!("test:{i}"), "anne@sudwestfryslan.example", "nl"),
        )
        .unwrap()
        {
            // Named by outbox id and recipient, so they sort in queue order.
            outbox::Enqueued::Queued(id) => {
                expected.push(format!("{id:06}-anne@sudwestfryslan.example.eml"))
            }
            other => panic!("{other:?}"),
        }
    }
    drop(conn);
    let folder = db.data_dir.path().join("mail");
    let round = deliver_once(&db.pool, &Transport::Files(folder.clone()), &sender())
        .await
        .unwrap();
    assert_eq!(round.sent, 3);
    let files: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    let mut names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, expected);
    for file in files {
        let raw = std::fs::read(&file).unwrap();
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(parsed.subject(), Some("Testbericht"), "{}", file.display());
    }
}

async fn messages_arrive_once_at_a_real_smtp_server(backend: Backend) {
    let server = SmtpServer::start();
    let db = test_db(backend);
    db.migrate();
    let mut conn = db.pool.get().unwrap();
    let mut ids = Vec::new();
    for (i, lang) in ["nl", "en"].iter().enumerate() {
        let to = format!("host{i}@zwolle.example");
        match outbox::enqueue(&mut conn, &message(&format!("test:{i}"), &to, lang)).unwrap() {
            outbox::Enqueued::Queued(id) => ids.push(id),
            other => panic!("{other:?}"),
        }
    }
    drop(conn);
    let transport = Transport::smtp(&server.settings()).unwrap();
    let round = deliver_once(&db.pool, &transport, &sender()).await.unwrap();
    assert_eq!(
        round,
        Round {
            sent: 2,
            ..Round::default()
        }
    );
    assert_eq!(
        deliver_once(&db.pool, &transport, &sender())
            .await
            .unwrap()
            .claimed(),
        0
    );

    let mut received: Vec<(String, String, String)> = server
        .received()
        .iter()
        .map(|raw| {
            let m = mail_parser::MessageParser::default().parse(raw).unwrap();
            (
                m.message_id().unwrap().to_string(),
                m.subject().unwrap().to_string(),
                m.body_text(0).unwrap().trim().to_string(),
            )
        })
        .collect();
    received.sort();
    let mut expected = vec![
        (
            format!("outbox-{}@meeloop.example", ids[0]),
            "Testbericht".to_string(),
            "Hallo, dit is een test.".to_string(),
        ),
        (
            format!("outbox-{}@meeloop.example", ids[1]),
            "Test message".to_string(),
            "Hello, this is a test.".to_string(),
        ),
    ];
    expected.sort();
    assert_eq!(received, expected);
}

async fn admins_see_the_queue_without_bodies_and_requeue_dead_messages(backend: Backend) {
    // No worker: the queue stays as the test makes it.
    let app = spawn_app_with(backend, |f| f.merge(("mail.deliver", false))).await;
    let admin = app
        .token_for(
            "beheer@meeloop.example",
            meeloop::domain::account::Role::Admin,
            None,
        )
        .await;
    let mut conn = app.db.pool.get().unwrap();
    let mut ids = Vec::new();
    for (i, state) in ["pending", "dead", "dead"].iter().enumerate() {
        let m = message(
            &format!("admin:{i}"),
            &format!("host{i}@zwolle.example"),
            "nl",
        );
        let id = queued(outbox::enqueue(&mut conn, &m).unwrap());
        if *state == "dead" {
            give_up_message(&mut conn, id, 1, "550 5.1.1 no such mailbox");
        }
        ids.push(id);
    }
    drop(conn);
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;

    let (status, page) = app
        .send(get.clone(), "/api/v1/admin/outbox", Some(&admin), None)
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        page["counts"],
        serde_json::json!({"pending": 1, "sending": 0, "sent": 0, "dead": 2})
    );
    assert!(page["oldestWaitingSince"].is_string());
    let listed: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, [ids[2], ids[1], ids[0]], "newest first");
    // Bodies may hold single-use links: never shown.
    let item = page["items"][0].as_object().unwrap();
    for hidden in ["bodyText", "bodyHtml", "attachments", "idempotencyKey"] {
        assert!(!item.contains_key(hidden), "{hidden}");
    }
    assert_eq!(item["lastError"], "550 5.1.1 no such mailbox");

    let (_, dead) = app
        .send(
            get.clone(),
            "/api/v1/admin/outbox?state=dead&limit=1",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(dead["items"].as_array().unwrap().len(), 1);
    assert_eq!(dead["items"][0]["id"], ids[2]);
    let next = dead["nextBefore"].as_i64().unwrap();
    let (_, rest) = app
        .send(
            get.clone(),
            &format!("/api/v1/admin/outbox?state=dead&limit=1&before={next}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(rest["items"][0]["id"], ids[1]);
    assert!(rest["nextBefore"].is_null());
    let (status, problem) = app
        .send(
            get.clone(),
            "/api/v1/admin/outbox?state=lost",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        problem["detail"].as_str().unwrap().contains("lost"),
        "{problem}"
    );

    // Requeue: only dead messages, only existing ones.
    let (status, problem) = app
        .send(
            post.clone(),
            &format!("/api/v1/admin/outbox/{}/requeue", ids[0]),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 409, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("pending"));
    let (status, _) = app
        .send(
            post.clone(),
            "/api/v1/admin/outbox/999999/requeue",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, requeued) = app
        .send(
            post.clone(),
            &format!("/api/v1/admin/outbox/{}/requeue", ids[1]),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 200, "{requeued}");
    assert_eq!(
        (requeued["state"].as_str(), requeued["attempts"].as_i64()),
        (Some("pending"), Some(0))
    );
    let (_, page) = app
        .send(get.clone(), "/api/v1/admin/outbox", Some(&admin), None)
        .await;
    assert_eq!(page["counts"]["dead"], 1);
    assert_eq!(page["counts"]["pending"], 2);
    let (_, audit) = app
        .send(get, "/api/v1/admin/audit", Some(&admin), None)
        .await;
    assert!(
        audit["items"].as_array().unwrap().iter().any(|e| e["action"] == "mail.requeued"
            && e["subject"] == format!("outbox:{}", ids[1])),
        "{audit}"
    );
}

fn meeloop(db: &TestDb, server_port: u16, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_meeloop"))
        .args(args)
        .current_dir(db.data_dir.path())
        .env("MEELOOP_DATA_DIR", db.data_dir.path())
        .env("MEELOOP_DATABASE__URL", &db.url)
        .env("MEELOOP_MAIL__TRANSPORT", "smtp")
        .env("MEELOOP_MAIL__FROM", "Meeloop <meeloop@zwolle.example>")
        .env("MEELOOP_MAIL__SMTP__HOST", "127.0.0.1")
        .env("MEELOOP_MAIL__SMTP__PORT", server_port.to_string())
        .env("MEELOOP_MAIL__SMTP__SECURITY", "none")
        .env_remove("RUST_LOG")
        .output()
        .expect("run meeloop")
}

fn stdout(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

async fn operators_test_watch_and_requeue_from_the_command_line(backend: Backend) {
    let server = SmtpServer::start();
    let db = test_db(backend);
    db.migrate();

    let out = meeloop(
        &db,
        server.port,
        &[
            "mail",
            "send-test",
            "--to",
            "anne@zwolle.example",
            "--language",
            "en",
        ],
    );
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("accepted by the mail relay"),
        "{}",
        stdout(&out)
    );
    let received = server.received();
    assert_eq!(received.len(), 1);
    let parsed = mail_parser::MessageParser::default()
        .parse(&received[0])
        .unwrap();
    assert_eq!(parsed.subject(), Some("Test message from Meeloop"));
    assert!(parsed.message_id().unwrap().ends_with("@zwolle.example"));
    let from = parsed.from().unwrap().first().unwrap();
    assert_eq!(
        (from.name(), from.address()),
        (Some("Meeloop"), Some("meeloop@zwolle.example"))
    );
    assert_eq!(
        parsed.to().unwrap().first().unwrap().address(),
        Some("anne@zwolle.example")
    );
    let header = |name: &str| {
        parsed
            .header_raw(name)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    assert_eq!(header("Content-Language"), "en");
    assert_eq!(header("Auto-Submitted"), "auto-generated");
    assert!(parsed.date().is_some());
    assert!(parsed
        .body_text(0)
        .unwrap()
        .contains("sent to anne@zwolle.example"));
    assert!(parsed.body_html(0).unwrap().contains("<html lang=\"en\""));

    // A relay that refuses the recipient: reported, exit code 1, dead.
    let out = meeloop(
        &db,
        server.port,
        &["mail", "send-test", "--to", "reject@zwolle.example"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("is dead: ") && stdout(&out).contains("550"),
        "{}",
        stdout(&out)
    );

    let out = meeloop(&db, server.port, &["mail", "status"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    for line in [
        "sent            1",
        "dead            1",
        "Nothing is waiting.",
        "to reject@zwolle.example (test, 1 attempt(s)): ",
    ] {
        assert!(text.contains(line), "{line:?} in {text}");
    }
    let out = meeloop(&db, server.port, &["mail", "requeue"]);
    assert!(!out.status.success(), "--dead is required");
    let out = meeloop(&db, server.port, &["mail", "requeue", "--dead"]);
    assert!(
        stdout(&out).contains("Requeued 1 dead message(s)"),
        "{}",
        stdout(&out)
    );
    let out = meeloop(&db, server.port, &["mail", "deliver", "--once"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("Delivered 0 message(s); 0 to retry later, 1 dead."),
        "{}",
        stdout(&out)
    );

    let out = meeloop(
        &db,
        server.port,
        &["mail", "send-test", "--to", "not an address"],
    );
    assert!(
        stdout(&out).contains("'not an address' is not an email address"),
        "{}",
        stdout(&out)
    );
    assert_eq!(server.received_count(), 1);
}

/// `meeloop serve` runs the worker: a message queued by anyone arrives.
async fn the_worker_inside_serve_delivers_what_is_queued(backend: Backend) {
    let server = SmtpServer::start();
    let app = crate::journey::app_with_smtp(backend, &server).await;
    let id = meeloop::service::mail::queue_test(
        &app.db.ctx("http://localhost"),
        "anne@zwolle.example",
        meeloop::domain::organisation::Language::Nl,
        1,
    )
    .await
    .unwrap()[0];
    crate::smtp::wait_until(std::time::Duration::from_secs(20), "the delivery", || {
        let mut conn = app.db.pool.get().unwrap();
        outbox::find(&mut conn, id).unwrap().unwrap().state.as_str() == "sent"
    })
    .await;
    let ids = server.received_ids();
    assert_eq!(ids[0].0, id);
    // The production guard: the files transport needs an explicit setting.
    let refused = meeloop::config::Settings::defaults()
        .merge(("environment", "production"))
        .merge(("server.public_url", "https://meeloop.example.nl"))
        .extract::<meeloop::config::Settings>()
        .unwrap();
    let err = meeloop::mail::Mailer::from_settings(&refused)
        .err()
        .unwrap();
    assert!(err.contains("allow_files_in_production"), "{err}");
    let allowed = meeloop::config::Settings::defaults()
        .merge(("environment", "production"))
        .merge(("server.public_url", "https://meeloop.example.nl"))
        .merge(("mail.allow_files_in_production", true))
        .extract::<meeloop::config::Settings>()
        .unwrap();
    assert!(meeloop::mail::Mailer::from_settings(&allowed).is_ok());
}
