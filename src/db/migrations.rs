//! Embedded migrations, one folder per backend with the same names.

use diesel::connection::SimpleConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::{DbConn, DbError};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Arbitrary key for the PostgreSQL advisory lock that keeps several
/// instances starting at once from migrating concurrently.
const PG_MIGRATION_LOCK: i64 = i64::from_be_bytes(*b"meeloop!");

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn harness_error(e: BoxError) -> DbError {
    DbError::Task(format!("migration failed: {e}"))
}

/// Applies all pending migrations and returns their names.
pub fn run_pending(conn: &mut DbConn) -> Result<Vec<String>, DbError> {
    match conn {
        DbConn::Sqlite(c) => {
            let applied = c.run_pending_migrations(SQLITE).map_err(harness_error)?;
            Ok(applied.iter().map(ToString::to_string).collect())
        }
        DbConn::Pg(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({PG_MIGRATION_LOCK})"))?;
            let result = c
                .run_pending_migrations(POSTGRES)
                .map(|applied| applied.iter().map(ToString::to_string).collect::<Vec<_>>());
            c.batch_execute(&format!("SELECT pg_advisory_unlock({PG_MIGRATION_LOCK})"))?;
            result.map_err(harness_error)
        }
    }
}

/// Reverts every applied migration (used by the migration tests and by
/// `meeloop migrate --revert-all`).
pub fn revert_all(conn: &mut DbConn) -> Result<Vec<String>, DbError> {
    let reverted = match conn {
        DbConn::Sqlite(c) => c.revert_all_migrations(SQLITE),
        DbConn::Pg(c) => c.revert_all_migrations(POSTGRES),
    }
    .map_err(harness_error)?;
    Ok(reverted.iter().map(ToString::to_string).collect())
}

/// Names of migrations not yet applied.
pub fn pending(conn: &mut DbConn) -> Result<Vec<String>, DbError> {
    let pending = match conn {
        DbConn::Sqlite(c) => c
            .pending_migrations(SQLITE)
            .map(|m| m.iter().map(|m| m.name().to_string()).collect()),
        DbConn::Pg(c) => c
            .pending_migrations(POSTGRES)
            .map(|m| m.iter().map(|m| m.name().to_string()).collect()),
    };
    pending.map_err(harness_error)
}

/// Table name → sorted column names of the application's tables, for the
/// test that both migration folders describe the same schema.
pub fn columns(conn: &mut DbConn) -> Result<Vec<(String, Vec<String>)>, DbError> {
    use diesel::sql_types::Text;
    use diesel::{sql_query, QueryableByName, RunQueryDsl};

    #[derive(QueryableByName)]
    struct Column {
        #[diesel(sql_type = Text)]
        table_name: String,
        #[diesel(sql_type = Text)]
        column_name: String,
    }

    let rows: Vec<Column> = match conn {
        DbConn::Sqlite(c) => sql_query(
            // Ordinary tables only: not the full-text index (a virtual
            // table) nor its shadow tables, which PostgreSQL has no use for.
            "SELECT m.name AS table_name, p.name AS column_name \
             FROM pragma_table_list m JOIN pragma_table_info(m.name) p \
             WHERE m.schema = 'main' AND m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
               AND m.name <> '__diesel_schema_migrations'",
        )
        .load(&mut **c)?,
        DbConn::Pg(c) => sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND is_generated = 'NEVER' \
               AND table_name <> '__diesel_schema_migrations'",
        )
        .load(&mut **c)?,
    };
    let mut tables: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for row in rows {
        tables
            .entry(row.table_name)
            .or_default()
            .push(row.column_name);
    }
    Ok(tables
        .into_iter()
        .map(|(t, mut cols)| {
            cols.sort();
            (t, cols)
        })
        .collect())
}
