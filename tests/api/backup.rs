//! `meeloop backup`: a consistent copy of the embedded database while it
//! is being written to.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use diesel::{Connection, RunQueryDsl};

use crate::cli::meeloop;
use crate::helpers::{test_db, Backend};

#[derive(diesel::QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[test]
fn a_backup_during_writes_holds_every_write_committed_before_it_began() {
    let db = test_db(Backend::Sqlite);
    db.migrate();
    // A writer commits one audit entry per transaction, as fast as it can,
    // counting what it committed.
    let (stop, committed) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let writer = {
        let (pool, stop, committed) = (db.pool.clone(), stop.clone(), committed.clone());
        std::thread::spawn(move || {
            let mut conn = pool.get().unwrap();
            while !stop.load(Ordering::Relaxed) {
                conn.write(|conn| {
                    meeloop::db::audit::record(
                        conn,
                        &meeloop::db::audit::AuditEvent {
                            actor: "test".into(),
                            action: "test.load",
                            address: None,
                            subject: None,
                            details: serde_json::json!({"padding": "x".repeat(500)}),
                        },
                    )
                })
                .unwrap();
                committed.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    while committed.load(Ordering::Relaxed) < 200 {
        std::thread::yield_now();
    }
    let before = committed.load(Ordering::Relaxed);
    let target = db.data_dir.path().join("backup.db");
    let out = meeloop(&db, &["backup", target.to_str().unwrap()]);
    let during = committed.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let stdout = crate::helpers::succeeded(&out);
    assert!(stdout.contains("integrity check says ok"), "{stdout}");
    assert!(
        during > before,
        "the writer went on while the copy was taken"
    );

    let mut copy = diesel::SqliteConnection::establish(target.to_str().unwrap()).unwrap();
    let check: Vec<Text> =
        diesel::sql_query("SELECT integrity_check AS value FROM pragma_integrity_check")
            .load(&mut copy)
            .unwrap();
    assert_eq!(check.len(), 1);
    assert_eq!(check[0].value, "ok");
    let rows: Vec<Count> =
        diesel::sql_query("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'test.load'")
            .load(&mut copy)
            .unwrap();
    let copied = rows[0].n as usize;
    assert!(
        copied >= before,
        "{copied} of the {before} writes committed before the backup"
    );
    assert!(copied <= during, "no more than were committed by its end");
    // The copy is a working database: its migrations are all there.
    let migrations = "SELECT COUNT(*) AS n FROM __diesel_schema_migrations";
    let applied: Vec<Count> = diesel::sql_query(migrations).load(&mut copy).unwrap();
    let source: Vec<Count> = meeloop::dispatch!(&mut db.pool.get().unwrap(), c =>
        diesel::sql_query(migrations).load(c))
    .unwrap();
    assert_eq!(applied[0].n, source[0].n);

    // A backup never overwrites a file.
    let again = meeloop(&db, &["backup", target.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("never overwrites"));
}

#[test]
fn postgres_is_backed_up_with_pg_dump() {
    let mut db = test_db(Backend::Sqlite);
    db.url = "postgres://meeloop@127.0.0.1:1/meeloop".into();
    let out = meeloop(&db, &["backup", "/tmp/never-written.db"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
    assert!(!std::path::Path::new("/tmp/never-written.db").exists());
}
