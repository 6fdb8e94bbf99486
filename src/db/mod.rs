//! Database access: the pool, the schema, repositories and the few places
//! where SQLite and PostgreSQL differ.
//!
//! Both backends run the same diesel code: [`dispatch!`] expands a body once
//! per backend, so repositories are written once but may still use features
//! a generic multi-backend connection would hide (upserts, row locking).

pub mod audit;
pub mod backup;
pub mod digests;
pub mod expertise;
pub mod follows;
pub mod insight;
pub mod lessons;
pub mod matching;
pub mod merge;
pub mod migrations;
pub mod organisations;
pub mod outbox;
pub mod partners;
pub mod privacy;
pub mod schema;
pub mod sessions;
pub mod sign_in;
pub mod sso;
pub mod subject;
pub mod topics;
pub mod two_step;
pub mod unsubscribe;
pub mod users;
pub mod visits;
pub mod webhooks;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::{PgConnection, SqliteConnection};
use secrecy::ExposeSecret;

use crate::config::{DatabaseSettings, DatabaseTarget};

type SqliteManager = ConnectionManager<SqliteConnection>;
type PgManager = ConnectionManager<PgConnection>;

/// Runs `$body` with `$c` bound to the backend's own connection type.
#[macro_export]
macro_rules! dispatch {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => {
                let $c: &mut ::diesel::SqliteConnection = &mut **$c;
                $body
            }
            $crate::db::DbConn::Pg($c) => {
                let $c: &mut ::diesel::PgConnection = &mut **$c;
                $body
            }
        }
    };
}
pub use dispatch;

/// Runs an upsert statement over many rows. PostgreSQL takes them all in one
/// multi-row statement; diesel cannot combine a multi-row VALUES with
/// ON CONFLICT on SQLite, so there each row is its own prepared (and cached)
/// statement inside the caller's transaction — cheap on an embedded database.
/// `$rows` must be a `&[T]`; `$v` is bound to `&[T]` on PostgreSQL and `&T` on SQLite.
#[macro_export]
macro_rules! upsert_rows {
    ($conn:expr, $rows:expr, $v:ident => $stmt:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite(c) => {
                let c: &mut ::diesel::SqliteConnection = &mut **c;
                let mut written = 0;
                for $v in $rows.iter() {
                    written += ::diesel::RunQueryDsl::execute($stmt, c)?;
                }
                Ok::<usize, ::diesel::result::Error>(written)
            }
            $crate::db::DbConn::Pg(c) => {
                let c: &mut ::diesel::PgConnection = &mut **c;
                let $v = $rows;
                ::diesel::RunQueryDsl::execute($stmt, c)
            }
        }
    };
}
pub use upsert_rows;

/// Write transactions committed by this process. Caches of what was read
/// from the database compare it to know whether this process changed
/// anything since (see [`Freshness`]).
static LOCAL_WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
/// Those of them that may have changed an account, a session or whether an
/// organisation is active: all but [`DbConn::write_outside_accounts`].
static ACCOUNT_WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// When something was read from the database, to decide whether it may be
/// used again without asking. Take it *before* reading.
#[derive(Debug, Clone, Copy)]
pub struct Freshness {
    counter: &'static std::sync::atomic::AtomicU64,
    writes: u64,
    at: std::time::Instant,
}

impl Freshness {
    /// For what any write may change.
    pub fn now() -> Freshness {
        Self::counting(&LOCAL_WRITES)
    }

    /// For accounts and sessions: writes that cannot change them (a
    /// profile edit, say) leave it good.
    pub fn of_accounts() -> Freshness {
        Self::counting(&ACCOUNT_WRITES)
    }

    fn counting(counter: &'static std::sync::atomic::AtomicU64) -> Freshness {
        Freshness {
            counter,
            writes: counter.load(std::sync::atomic::Ordering::Acquire),
            at: std::time::Instant::now(),
        }
    }

    /// Still good: this process has committed no write since that may
    /// matter, and changes by other processes (instances, CLI commands) may
    /// be `max_age` late.
    pub fn still_good(&self, max_age: Duration) -> bool {
        self.writes == self.counter.load(std::sync::atomic::Ordering::Acquire)
            && self.at.elapsed() < max_age
    }

    /// Confirmed less than `age` ago: it holds every change committed
    /// before then, by this process or any other.
    pub fn younger_than(&self, age: Duration) -> bool {
        self.at.elapsed() < age
    }
}

/// The current time as stored: UTC, truncated to microseconds, which is
/// what PostgreSQL keeps, so both backends return the same value.
pub fn now() -> chrono::NaiveDateTime {
    use chrono::SubsecRound;
    chrono::Utc::now().naive_utc().trunc_subsecs(6)
}

/// A connection pool for whichever backend the settings chose.
#[derive(Clone)]
pub enum DbPool {
    Sqlite(Pool<SqliteManager>),
    Pg(Pool<PgManager>),
}

/// A pooled connection; dereference through [`dispatch!`].
pub enum DbConn {
    Sqlite(PooledConnection<SqliteManager>),
    Pg(PooledConnection<PgManager>),
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("no database connection available: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error("database task failed: {0}")]
    Task(String),
}

/// Settings applied to every SQLite connection the pool hands out.
#[derive(Debug)]
struct SqlitePragmas {
    busy_timeout_ms: u64,
}

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        // WAL is set once when the pool is made (it is kept in the file);
        // switching here, from several new connections at once, made r2d2
        // log "database is locked" at every start.
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {}; \
             PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536;",
            self.busy_timeout_ms
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Reports how long requests for a connection waited (docs/operations.md:
/// pool waits are the first sign that `max_connections` is too small).
#[derive(Debug)]
struct PoolEvents;

impl diesel::r2d2::HandleEvent for PoolEvents {
    fn handle_checkout(&self, event: diesel::r2d2::event::CheckoutEvent) {
        crate::observe::pool_checkout(event.duration());
    }

    fn handle_timeout(&self, _event: diesel::r2d2::event::TimeoutEvent) {
        crate::observe::pool_timeout();
    }
}

/// The pool's state now.
#[derive(Debug, Clone, Copy)]
pub struct PoolState {
    pub connections: u32,
    pub idle: u32,
    pub max: u32,
}

impl DatabaseSettings {
    /// Opens a pool on `target`, creating the SQLite file (and its folder) on
    /// first use. Fails fast when the database cannot be reached.
    pub fn connect(&self, target: &DatabaseTarget) -> Result<DbPool, DbError> {
        let timeout = Duration::from_secs(self.connect_timeout_secs.max(1));
        Ok(match target {
            DatabaseTarget::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        DbError::Task(format!("cannot create {}: {e}", dir.display()))
                    })?;
                }
                // Write-ahead logging lets readers work while one writer
                // writes. It is a property of the file: set it once, alone.
                {
                    use diesel::Connection;
                    let mut first =
                        SqliteConnection::establish(&path.to_string_lossy()).map_err(|e| {
                            DbError::Task(format!("cannot open {}: {e}", path.display()))
                        })?;
                    first.batch_execute(&format!(
                        "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL;",
                        self.busy_timeout_ms
                    ))?;
                }
                let manager = SqliteManager::new(path.to_string_lossy());
                DbPool::Sqlite(
                    Pool::builder()
                        .max_size(self.max_connections.max(1))
                        .connection_timeout(timeout)
                        .connection_customizer(Box::new(SqlitePragmas {
                            busy_timeout_ms: self.busy_timeout_ms,
                        }))
                        .event_handler(Box::new(PoolEvents))
                        .build(manager)?,
                )
            }
            DatabaseTarget::Postgres(url) => {
                let manager = PgManager::new(url.expose_secret());
                DbPool::Pg(
                    Pool::builder()
                        .max_size(self.max_connections.max(1))
                        .connection_timeout(timeout)
                        .event_handler(Box::new(PoolEvents))
                        .build(manager)?,
                )
            }
        })
    }
}

impl DbPool {
    /// Connections open and idle now, and the most there may be.
    pub fn state(&self) -> PoolState {
        let (state, max) = match self {
            DbPool::Sqlite(p) => (p.state(), p.max_size()),
            DbPool::Pg(p) => (p.state(), p.max_size()),
        };
        PoolState {
            connections: state.connections,
            idle: state.idle_connections,
            max,
        }
    }

    pub fn get(&self) -> Result<DbConn, DbError> {
        Ok(match self {
            DbPool::Sqlite(p) => DbConn::Sqlite(p.get()?),
            DbPool::Pg(p) => DbConn::Pg(p.get()?),
        })
    }

    /// Runs blocking diesel work on the blocking thread pool, taking the
    /// connection inside the closure so no async worker ever waits on the
    /// database or on the pool.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| E::from(DbError::Task(e.to_string())))?
    }
}

impl DbConn {
    /// Runs `f` in a write transaction (a savepoint when already inside one).
    /// On SQLite it is `BEGIN IMMEDIATE`,
    /// which takes the write lock up front: a deferred transaction that reads
    /// first and writes later can fail with SQLITE_BUSY without waiting.
    pub fn write<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        let result = self.write_outside_accounts(f);
        if result.is_ok() {
            ACCOUNT_WRITES.fetch_add(1, std::sync::atomic::Ordering::Release);
        }
        result
    }

    /// [`write`](Self::write) for a change that touches no account, session
    /// or organisation's `active` flag (a profile edit, expertise): sessions
    /// this process has cached stay good, so the next requests need not
    /// read them again. Any doubt: use `write`.
    pub fn write_outside_accounts<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        let result = self.transaction("BEGIN IMMEDIATE", None, f);
        if result.is_ok() {
            // Counted even for savepoints: an extra bump only costs a re-read.
            LOCAL_WRITES.fetch_add(1, std::sync::atomic::Ordering::Release);
        }
        result
    }

    /// Runs `f` on one consistent view of the database, for reads that
    /// must agree with each other (SQLite: a deferred transaction, whose
    /// snapshot is fixed at the first read in WAL mode; PostgreSQL:
    /// REPEATABLE READ, READ ONLY).
    pub fn read_consistent<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        self.transaction(
            "BEGIN DEFERRED",
            Some("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"),
            f,
        )
    }

    fn transaction<T, E, F>(
        &mut self,
        sqlite_begin: &str,
        pg_begin: Option<&str>,
        f: F,
    ) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        match self {
            DbConn::Sqlite(c) => {
                let c: &mut SqliteConnection = c;
                // Nested calls become savepoints inside the outer transaction.
                let nested = AnsiTransactionManager::transaction_manager_status_mut(c)
                    .transaction_depth()?
                    .is_some();
                if nested {
                    AnsiTransactionManager::begin_transaction(c)?
                } else {
                    AnsiTransactionManager::begin_transaction_sql(c, sqlite_begin)?
                }
            }
            DbConn::Pg(c) => {
                let c: &mut PgConnection = c;
                let nested = AnsiTransactionManager::transaction_manager_status_mut(c)
                    .transaction_depth()?
                    .is_some();
                match pg_begin {
                    Some(sql) if !nested => AnsiTransactionManager::begin_transaction_sql(c, sql)?,
                    _ => AnsiTransactionManager::begin_transaction(c)?,
                }
            }
        }
        match f(self) {
            Ok(value) => {
                dispatch!(self, c => AnsiTransactionManager::commit_transaction(c))?;
                Ok(value)
            }
            Err(error) => {
                match dispatch!(self, c => AnsiTransactionManager::rollback_transaction(c)) {
                    // The caller's error says more than a failed rollback of a broken connection.
                    Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
                    Err(rollback) => Err(rollback.into()),
                }
            }
        }
    }

    /// Checks that the database answers (readiness probe).
    pub fn ping(&mut self) -> Result<(), DbError> {
        dispatch!(self, c => c.batch_execute("SELECT 1"))?;
        Ok(())
    }
}
