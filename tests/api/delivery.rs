//! Delivery under faults, against a real SMTP server: temporary and
//! permanent refusals, a server that is down, a worker killed mid-batch,
//! two application instances on one database, and TLS relays.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use meeloop::app::Application;
use meeloop::db::outbox::{self, Enqueued};
use meeloop::domain::mail::RetryPolicy;
use meeloop::mail::transport::{SmtpSecurity, Transport};
use meeloop::mail::worker::{deliver_once, Round, Sender};

use crate::backend_tests;
use crate::helpers::{test_db, Backend, TestDb};
use crate::mail::{message, sender};
use crate::smtp::{free_port, wait_until, Options, SmtpServer};

backend_tests!(
    a_451_is_retried_and_then_delivered_once,
    a_mailing_carries_its_one_click_unsubscribe,
    a_550_is_dead_with_the_reason_and_can_be_requeued,
    nothing_is_lost_while_the_server_is_down,
    a_worker_killed_mid_batch_loses_nothing,
    two_instances_deliver_1000_messages_once_each,
);

/// Retries come quickly here, so tests wait for conditions, not minutes.
fn quick_sender() -> Sender {
    Sender {
        policy: RetryPolicy {
            first_delay: chrono::Duration::milliseconds(50),
            max_delay: chrono::Duration::milliseconds(200),
            ..RetryPolicy::default()
        },
        ..sender()
    }
}

fn queue(db: &TestDb, n: usize, to: impl Fn(usize) -> String) -> Vec<i64> {
    let mut conn = db.pool.get().unwrap();
    (0..n)
        .map(|i| {
            match outbox::enqueue(&mut conn, &message(&format!("fault:{i}"), &to(i), "nl")).unwrap()
            {
                Enqueued::Queued(id) => id,
                other => panic!("{other:?}"),
            }
        })
        .collect()
}

fn counts(db: &TestDb) -> BTreeMap<String, i64> {
    outbox::counts(&mut db.pool.get().unwrap())
        .unwrap()
        .into_iter()
        .map(|c| (c.state.to_string(), c.count))
        .collect()
}

/// Worker rounds until the outbox counts satisfy `done` (bounded).
async fn deliver_until(
    db: &TestDb,
    transport: &Transport,
    sender: &Sender,
    done: impl Fn(&BTreeMap<String, i64>) -> bool,
) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !done(&counts(db)) {
        assert!(std::time::Instant::now() < deadline, "{:?}", counts(db));
        deliver_once(&db.pool, transport, sender).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Each outbox id received, with how often.
fn tally(server: &SmtpServer) -> BTreeMap<i64, usize> {
    let mut tally = BTreeMap::new();
    for (id, _) in server.received_ids() {
        *tally.entry(id).or_default() += 1;
    }
    tally
}

async fn a_451_is_retried_and_then_delivered_once(backend: Backend) {
    let server = SmtpServer::start();
    let db = test_db(backend);
    db.migrate();
    let ids = queue(&db, 1, |_| "flaky@zwolle.example".into());
    let transport = Transport::smtp(&server.settings()).unwrap();
    let sender = quick_sender();

    let first = deliver_once(&db.pool, &transport, &sender).await.unwrap();
    assert_eq!(
        first,
        Round {
            retrying: 1,
            ..Round::default()
        }
    );
    let waiting = outbox::find(&mut db.pool.get().unwrap(), ids[0])
        .unwrap()
        .unwrap();
    assert_eq!(waiting.state.as_str(), "pending");
    assert!(
        waiting
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("451"),
        "{waiting:?}"
    );
    assert_eq!(server.received_count(), 0);

    // Due again after the (short) backoff: the server now accepts it.
    deliver_until(&db, &transport, &sender, |c| c.get("sent") == Some(&1)).await;
    let done = outbox::find(&mut db.pool.get().unwrap(), ids[0])
        .unwrap()
        .unwrap();
    assert_eq!((done.state.as_str(), done.attempts), ("sent", 2));
    assert_eq!(tally(&server), BTreeMap::from([(ids[0], 1)]));
}

async fn a_550_is_dead_with_the_reason_and_can_be_requeued(backend: Backend) {
    let server = SmtpServer::start();
    let db = test_db(backend);
    db.migrate();
    let ids = queue(&db, 2, |i| {
        if i == 0 {
            "rejected@zwolle.example".into()
        } else {
            "host@zwolle.example".into()
        }
    });
    let transport = Transport::smtp(&server.settings()).unwrap();
    let round = deliver_once(&db.pool, &transport, &quick_sender())
        .await
        .unwrap();
    assert_eq!(
        round,
        Round {
            sent: 1,
            dead: 1,
            ..Round::default()
        }
    );
    let dead = outbox::find(&mut db.pool.get().unwrap(), ids[0])
        .unwrap()
        .unwrap();
    assert_eq!(dead.state.as_str(), "dead");
    let reason = dead.last_error.unwrap();
    assert!(
        reason.contains("550") && reason.contains("no such mailbox"),
        "{reason}"
    );
    assert_eq!(tally(&server), BTreeMap::from([(ids[1], 1)]));

    // Dead stays dead: no worker round picks it up again...
    assert_eq!(
        deliver_once(&db.pool, &transport, &quick_sender())
            .await
            .unwrap()
            .claimed(),
        0
    );
    // ...until an operator requeues it (here it fails again, permanently).
    assert_eq!(
        meeloop::service::mail::requeue_dead(&db.ctx("http://localhost"), None)
            .await
            .unwrap(),
        1
    );
    let again = deliver_once(&db.pool, &transport, &quick_sender())
        .await
        .unwrap();
    assert_eq!(again.dead, 1);
    let dead = outbox::find(&mut db.pool.get().unwrap(), ids[0])
        .unwrap()
        .unwrap();
    assert_eq!((dead.state.as_str(), dead.attempts), ("dead", 1));
}

async fn nothing_is_lost_while_the_server_is_down(backend: Backend) {
    let port = free_port();
    let db = test_db(backend);
    db.migrate();
    let ids = queue(&db, 200, |i| format!("host{i}@zwolle.example"));
    let transport = Transport::smtp(&SmtpServer::settings_for_port(port)).unwrap();
    let sender = Sender {
        batch: 200,
        ..quick_sender()
    };
    // Nobody listens: every attempt fails, temporarily.
    let round = deliver_once(&db.pool, &transport, &sender).await.unwrap();
    assert_eq!(
        round,
        Round {
            retrying: 200,
            ..Round::default()
        }
    );
    assert_eq!(counts(&db), BTreeMap::from([("pending".into(), 200)]));

    // The server comes back on the same port; the retries deliver everything once.
    let server = SmtpServer::start_with(Options {
        port: Some(port),
        ..Options::default()
    });
    deliver_until(&db, &transport, &sender, |c| c.get("sent") == Some(&200)).await;
    let tally = tally(&server);
    assert_eq!(tally.keys().copied().collect::<Vec<_>>(), ids);
    assert!(tally.values().all(|&n| n == 1), "{tally:?}");
}

/// The real binary (`meeloop mail deliver`) against a slow server, killed
/// with SIGKILL in the middle of a batch, then started again.
async fn a_worker_killed_mid_batch_loses_nothing(backend: Backend) {
    let server = SmtpServer::start_with(Options {
        delay_ms: 20,
        ..Options::default()
    });
    let db = test_db(backend);
    db.migrate();
    let ids = queue(&db, 100, |i| format!("host{i}@zwolle.example"));
    let concurrency = 2;
    let worker = || {
        Command::new(env!("CARGO_BIN_EXE_meeloop"))
            .args(["mail", "deliver"])
            .env("MEELOOP_DATA_DIR", db.data_dir.path())
            .env("MEELOOP_DATABASE__URL", &db.url)
            .env("MEELOOP_MAIL__TRANSPORT", "smtp")
            .env("MEELOOP_MAIL__SMTP__HOST", "127.0.0.1")
            .env("MEELOOP_MAIL__SMTP__PORT", server.port.to_string())
            .env("MEELOOP_MAIL__SMTP__SECURITY", "none")
            .env("MEELOOP_MAIL__BATCH_SIZE", "10")
            .env("MEELOOP_MAIL__CONCURRENCY", concurrency.to_string())
            .env("MEELOOP_MAIL__LEASE_SECS", "2")
            .env("MEELOOP_MAIL__POLL_INTERVAL_MS", "50")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start meeloop mail deliver")
    };
    let mut first = worker();
    wait_until(Duration::from_secs(60), "the first messages", || {
        server.received_count() >= 25
    })
    .await;
    first.kill().unwrap(); // SIGKILL: no chance to finish the batch
    first.wait().unwrap();
    let before_restart = server.received_count();
    assert!(
        before_restart < 100,
        "the kill came too late to test anything"
    );

    let mut second = worker();
    wait_until(Duration::from_secs(60), "every message", || {
        tally(&server).len() == 100
    })
    .await;
    wait_until(Duration::from_secs(20), "the bookkeeping", || {
        counts(&db).get("sent") == Some(&100)
    })
    .await;
    second.kill().unwrap();
    second.wait().unwrap();

    let tally = tally(&server);
    assert_eq!(tally.keys().copied().collect::<Vec<_>>(), ids);
    // Only messages in flight at the kill (accepted by the server, not yet
    // recorded) may come twice; never more often.
    let repeats: Vec<_> = tally.iter().filter(|(_, &n)| n > 1).collect();
    assert!(repeats.len() <= concurrency, "{repeats:?}");
    assert!(tally.values().all(|&n| n <= 2), "{tally:?}");
}

/// Two complete application instances (each its own pool and worker) on one
/// database, delivering 1,000 messages: each arrives exactly once.
async fn two_instances_deliver_1000_messages_once_each(backend: Backend) {
    let server = SmtpServer::start();
    let db = test_db(backend);
    db.migrate();
    let ids = queue(&db, 1000, |i| format!("host{i}@zwolle.example"));
    let mut apps = Vec::new();
    for name in ["a", "b"] {
        let settings: meeloop::config::Settings = meeloop::config::Settings::defaults()
            .merge(("data_dir", db.data_dir.path()))
            .merge(("server.port", 0))
            .merge(("server.workers", 1))
            .merge(("database.url", db.url.as_str()))
            .merge(("database.max_connections", 4))
            .merge(("mail.transport", "smtp"))
            .merge(("mail.message_id_domain", format!("{name}.meeloop.example")))
            .merge(("mail.smtp.host", "127.0.0.1"))
            .merge(("mail.smtp.port", server.port))
            .merge(("mail.smtp.security", "none"))
            .merge(("mail.batch_size", 50))
            .merge(("mail.poll_interval_ms", 50))
            .extract()
            .unwrap();
        let pool = settings
            .database
            .connect(&settings.database_target().unwrap())
            .unwrap();
        let app = Application::build(&settings, pool).unwrap();
        apps.push(actix_web::rt::spawn(app.run_until_stopped()));
    }
    wait_until(Duration::from_secs(120), "1,000 deliveries", || {
        server.received_count() >= 1000
    })
    .await;
    wait_until(Duration::from_secs(20), "the bookkeeping", || {
        counts(&db).get("sent") == Some(&1000)
    })
    .await;
    for app in apps {
        app.abort();
    }
    let received = server.received_ids();
    let tally = tally(&server);
    assert_eq!(tally.keys().copied().collect::<Vec<_>>(), ids);
    assert!(tally.values().all(|&n| n == 1), "duplicates were sent");
    assert_eq!(received.len(), 1000);
    // Both instances took part.
    for name in ["a", "b"] {
        let domain = format!("{name}.meeloop.example");
        assert!(
            received.iter().any(|(_, d)| *d == domain),
            "instance {name} sent nothing"
        );
    }
}

/// STARTTLS and implicit TLS to a relay whose certificate comes from a
/// private CA (`mail.smtp.ca_file`); without that file the certificate is
/// refused and the message waits, never sent in the clear.
#[actix_web::test]
async fn tls_relays_are_verified() {
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();

    for security in [SmtpSecurity::StartTls, SmtpSecurity::Tls] {
        let server = SmtpServer::start_with(Options {
            tls: Some((security, cert.clone(), key.clone())),
            ..Options::default()
        });
        let db = test_db(Backend::Sqlite);
        db.migrate();
        let ids = queue(&db, 1, |_| "host@zwolle.example".into());
        let mut settings = server.settings();
        settings.host = "localhost".into();
        settings.security = security;

        let untrusted = Transport::smtp(&settings).unwrap();
        let round = deliver_once(&db.pool, &untrusted, &quick_sender())
            .await
            .unwrap();
        assert_eq!(
            round.retrying, 1,
            "{security:?}: an unknown certificate is refused"
        );
        assert_eq!(server.received_count(), 0);

        settings.ca_file = Some(cert.clone());
        let trusted = Transport::smtp(&settings).unwrap();
        deliver_until(&db, &trusted, &quick_sender(), |c| {
            c.get("sent") == Some(&1)
        })
        .await;
        assert_eq!(
            tally(&server),
            BTreeMap::from([(ids[0], 1)]),
            "{security:?}"
        );
    }
}

/// A mailing's unsubscribe link (the monthly digest) travels as RFC 8058's
/// two headers and leaves the outbox with the body once sent (it is
/// single-use); a link that could smuggle in a header is refused for good.
async fn a_mailing_carries_its_one_click_unsubscribe(backend: Backend) {
    use diesel::prelude::*;
    let server = SmtpServer::start();
    let db = test_db(backend);
    db.migrate();
    let link = "https://meeloop.example/unsubscribe/abc123";
    let mut good = message("digest:1", "anne@zwolle.example", "nl");
    good.list_unsubscribe = Some(link.into());
    let mut evil = message("digest:2", "piet@zwolle.example", "nl");
    evil.list_unsubscribe = Some("https://x.example/\r\nBcc: all@example.org".into());
    let mut conn = db.pool.get().unwrap();
    let Enqueued::Queued(good_id) = outbox::enqueue(&mut conn, &good).unwrap() else {
        panic!("queued once")
    };
    let Enqueued::Queued(evil_id) = outbox::enqueue(&mut conn, &evil).unwrap() else {
        panic!("queued once")
    };
    drop(conn);
    let transport = Transport::smtp(&server.settings()).unwrap();
    deliver_until(&db, &transport, &quick_sender(), |c| {
        c.get("sent") == Some(&1) && c.get("dead") == Some(&1)
    })
    .await;

    let received = server.received();
    assert_eq!(received.len(), 1, "only the good one went out");
    let parsed = mail_parser::MessageParser::default()
        .parse(&received[0])
        .unwrap();
    let header = |name: &str| crate::mail::raw_header(&parsed, name);
    assert_eq!(header("List-Unsubscribe"), format!("<{link}>"));
    assert_eq!(
        header("List-Unsubscribe-Post"),
        "List-Unsubscribe=One-Click"
    );
    assert!(!String::from_utf8_lossy(&received[0]).contains("all@example.org"));

    let stored = |id: i64| -> Option<String> {
        use meeloop::db::schema::outbox::dsl as o;
        meeloop::db::dispatch!(&mut db.pool.get().unwrap(), c => o::outbox
            .find(id)
            .select(o::list_unsubscribe)
            .first::<Option<String>>(c))
        .unwrap()
    };
    assert_eq!(stored(good_id), None, "a used link is not kept");
    let dead = outbox::find(&mut db.pool.get().unwrap(), evil_id)
        .unwrap()
        .unwrap();
    assert_eq!(dead.state.as_str(), "dead");
    assert!(
        dead.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("unsubscribe link"),
        "{dead:?}"
    );
}
