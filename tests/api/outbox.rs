//! The outbox table: queued once per key, claimed by one worker at a time,
//! retried or given up as the worker reports.

use chrono::{Duration, NaiveDateTime};
use meeloop::db::outbox::{self, Enqueued, NewMessage};
use meeloop::db::DbPool;

use crate::backend_tests;
use crate::helpers::{postpone_message, queued, test_db, Backend};

backend_tests!(
    a_key_is_queued_once,
    a_claim_holds_until_its_lease_ends_then_retries_and_gives_up,
    two_workers_never_claim_the_same_message,
);

fn message(key: &str) -> NewMessage {
    NewMessage {
        idempotency_key: key.into(),
        recipient: "meeloop@zwolle.example".into(),
        language: "nl".into(),
        template: "test".into(),
        subject: "Test".into(),
        body_text: "Hallo".into(),
        body_html: "<p>Hallo</p>".into(),
        attachments: "[]".into(),
        list_unsubscribe: None,
    }
}

fn in_(minutes: i64) -> NaiveDateTime {
    meeloop::db::now() + Duration::minutes(minutes)
}

async fn a_key_is_queued_once(backend: Backend) {
    let db = test_db(backend);
    db.migrate();
    let mut conn = db.pool.get().unwrap();
    let first = outbox::enqueue(&mut conn, &message("invitation:1")).unwrap();
    let Enqueued::Queued(id) = first else {
        panic!("{first:?}")
    };
    // The same key again, even with other content: nothing new.
    let mut other = message("invitation:1");
    other.subject = "Anders".into();
    assert_eq!(
        outbox::enqueue(&mut conn, &other).unwrap(),
        Enqueued::AlreadyQueued(id)
    );
    // Inside a transaction that fails, nothing is queued at all.
    let failed: Result<(), diesel::result::Error> = conn.write(|conn| {
        outbox::enqueue(conn, &message("invitation:2"))?;
        Err(diesel::result::Error::RollbackTransaction)
    });
    assert!(failed.is_err());
    assert_eq!(
        crate::helpers::state_counts(&mut conn),
        [(meeloop::domain::mail::MessageState::Pending, 1)]
    );
}

async fn a_claim_holds_until_its_lease_ends_then_retries_and_gives_up(backend: Backend) {
    let db = test_db(backend);
    db.migrate();
    let mut conn = db.pool.get().unwrap();
    outbox::enqueue(&mut conn, &message("a")).unwrap();
    let later = queued(outbox::enqueue(&mut conn, &message("b")).unwrap());
    postpone_message(&mut conn, later, in_(60));

    let claimed = outbox::claim_due(&mut conn, in_(0), in_(5), 10).unwrap();
    assert_eq!(claimed.len(), 1, "only the due one");
    let a = &claimed[0];
    assert_eq!((a.idempotency_key.as_str(), a.attempts), ("a", 1));
    // Held: another worker gets nothing while the lease runs.
    assert!(outbox::claim_due(&mut conn, in_(1), in_(6), 10)
        .unwrap()
        .is_empty());
    // The worker died: after the lease another takes it, as a second attempt.
    let again = outbox::claim_due(&mut conn, in_(6), in_(11), 10).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 2);
    // The first worker, back from the dead, cannot report over the new claim.
    assert!(!outbox::mark_sent(&mut conn, a, in_(7)).unwrap());
    let a = &again[0];

    // A temporary failure: pending again, due only at the retry time.
    assert!(outbox::mark_failed(&mut conn, a, "451 try later", Some(in_(30))).unwrap());
    assert!(outbox::claim_due(&mut conn, in_(20), in_(25), 10)
        .unwrap()
        .is_empty());
    let third = outbox::claim_due(&mut conn, in_(31), in_(36), 10).unwrap();
    assert_eq!(third.len(), 1);
    assert_eq!(third[0].attempts, 3);
    // A permanent one: dead, never claimed again.
    let a = &third[0];
    assert!(outbox::mark_failed(&mut conn, a, "550 no such user", None).unwrap());
    // Reporting twice does nothing: the claim is gone.
    assert!(!outbox::mark_sent(&mut conn, a, in_(32)).unwrap());
    let b = outbox::claim_due(&mut conn, in_(61), in_(66), 10).unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].idempotency_key, "b");
    assert!(outbox::mark_sent(&mut conn, &b[0], in_(61)).unwrap());
    assert_eq!(
        crate::helpers::state_counts(&mut conn),
        [
            (meeloop::domain::mail::MessageState::Dead, 1),
            (meeloop::domain::mail::MessageState::Sent, 1)
        ]
    );
}

async fn two_workers_never_claim_the_same_message(backend: Backend) {
    let db = test_db(backend);
    db.migrate();
    {
        let mut conn = db.pool.get().unwrap();
        conn.write(|conn| {
            for i in 0..1000 {
                outbox::enqueue(conn, &message(&format!("bulk:{i}")))?;
            }
            Ok::<_, diesel::result::Error>(())
        })
        .unwrap();
    }
    let worker = |pool: DbPool| {
        std::thread::spawn(move || {
            let mut conn = pool.get().unwrap();
            let mut mine = Vec::new();
            loop {
                let batch = outbox::claim_due(&mut conn, in_(0), in_(5), 25).unwrap();
                if batch.is_empty() {
                    break mine;
                }
                for m in batch {
                    assert!(outbox::mark_sent(&mut conn, &m, in_(0)).unwrap());
                    mine.push(m.id);
                }
            }
        })
    };
    let (one, two) = (worker(db.pool.clone()), worker(db.pool.clone()));
    let (one, two) = (one.join().unwrap(), two.join().unwrap());
    let mut all: Vec<i64> = one.iter().chain(two.iter()).copied().collect();
    let total = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), total, "a message was claimed twice");
    assert_eq!(total, 1000);
    let mut conn = db.pool.get().unwrap();
    assert_eq!(
        crate::helpers::state_counts(&mut conn),
        [(meeloop::domain::mail::MessageState::Sent, 1000)]
    );
}
