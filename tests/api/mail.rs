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
use crate::helpers::{test_db, Backend};

backend_tests!(
    messages_arrive_once_at_a_real_smtp_server,
    due_messages_are_delivered_once_as_multipart_with_their_message_id,
    an_undeliverable_address_is_dead_with_the_reason,
    the_file_transport_writes_one_eml_per_message,
);

fn message(key: &str, to: &str, language: &str) -> NewMessage {
    let now = meeloop::db::now();
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
        state: "pending".into(),
        attempts: 0,
        next_attempt_at: now,
        lease_until: None,
        last_error: None,
        created_at: now,
        sent_at: None,
    }
}

fn sender() -> Sender {
    Sender {
        from: "Meeloop <meeloop@meeloop.example>".parse().unwrap(),
        domain: "meeloop.example".into(),
        policy: RetryPolicy::default(),
        lease: Duration::minutes(5),
        batch: 50,
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
        outbox::counts(&mut conn).unwrap(),
        [("sent".to_string(), 2)]
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
        outbox::counts(&mut conn).unwrap(),
        [("dead".to_string(), 1)]
    );
}

async fn the_file_transport_writes_one_eml_per_message(backend: Backend) {
    let db = test_db(backend);
    db.migrate();
    let mut conn = db.pool.get().unwrap();
    for i in 0..3 {
        outbox::enqueue(
            &mut conn,
            &message(&format!("test:{i}"), "anne@sudwestfryslan.example", "nl"),
        )
        .unwrap();
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
    assert_eq!(files.len(), 3);
    for file in files {
        let raw = std::fs::read(&file).unwrap();
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(parsed.subject(), Some("Testbericht"), "{}", file.display());
    }
}

/// A real SMTP server (Python's aiosmtpd, installed by scripts/setup.sh)
/// that stores what it receives in a maildir; stopped when dropped.
struct SmtpServer {
    child: std::process::Child,
    port: u16,
    maildir: tempfile::TempDir,
}

impl SmtpServer {
    fn start() -> SmtpServer {
        let tools = std::env::var("MEELOOP_TOOLS").unwrap_or_else(|_| {
            format!(
                "{}/.cache/meeloop",
                std::env::var("HOME").unwrap_or_default()
            )
        });
        let python = std::path::Path::new(&tools).join("venv/bin/python");
        assert!(
            python.exists(),
            "no SMTP server for the mail tests: run scripts/setup.sh (it installs aiosmtpd)"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let maildir = tempfile::tempdir().unwrap();
        let child = std::process::Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path().join("box"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let server = SmtpServer {
            child,
            port,
            maildir,
        };
        // Ready when it accepts connections (bounded wait).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "aiosmtpd did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        server
    }

    /// The raw messages received so far.
    fn received(&self) -> Vec<Vec<u8>> {
        let new = self.maildir.path().join("box/new");
        let Ok(entries) = std::fs::read_dir(new) else {
            return Vec::new();
        };
        entries
            .map(|e| std::fs::read(e.unwrap().path()).unwrap())
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
    let transport = Transport::smtp(
        "127.0.0.1",
        server.port,
        meeloop::mail::transport::SmtpSecurity::None,
        None,
    )
    .unwrap();
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
