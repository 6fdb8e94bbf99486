//! Both migration folders describe the same schema, and down.sql works.

use meeloop::db::migrations;

use crate::helpers::{postgres_available, test_db, Backend};

#[test]
fn sqlite_and_postgres_end_with_the_same_tables_and_columns() {
    if !postgres_available() {
        return;
    }
    let sqlite = test_db(Backend::Sqlite);
    let postgres = test_db(Backend::Postgres);
    sqlite.migrate();
    postgres.migrate();
    let sqlite_columns = migrations::columns(&mut sqlite.pool.get().unwrap()).unwrap();
    let postgres_columns = migrations::columns(&mut postgres.pool.get().unwrap()).unwrap();
    assert!(sqlite_columns.iter().any(|(t, _)| t == "organisations"));
    assert_eq!(sqlite_columns, postgres_columns);
}

fn up_down_up(backend: Backend) {
    let db = test_db(backend);
    let mut conn = db.pool.get().unwrap();
    let applied = migrations::run_pending(&mut conn).unwrap();
    assert!(!applied.is_empty());
    let first = migrations::columns(&mut conn).unwrap();
    let reverted = migrations::revert_all(&mut conn).unwrap();
    assert_eq!(reverted.len(), applied.len());
    assert!(
        migrations::columns(&mut conn).unwrap().is_empty(),
        "down.sql removes everything"
    );
    assert_eq!(migrations::pending(&mut conn).unwrap().len(), applied.len());
    migrations::run_pending(&mut conn).unwrap();
    assert_eq!(migrations::columns(&mut conn).unwrap(), first);
    assert!(migrations::pending(&mut conn).unwrap().is_empty());
}

#[test]
fn up_down_up_on_sqlite() {
    up_down_up(Backend::Sqlite);
}

#[test]
fn up_down_up_on_postgres() {
    if postgres_available() {
        up_down_up(Backend::Postgres);
    }
}
