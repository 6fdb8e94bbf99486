//! `spawn_app()` and the throwaway PostgreSQL cluster.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Once, OnceLock};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use meeloop::app::Application;
use meeloop::config::Settings;
use meeloop::db::{self, DbPool};
use meeloop::service;
use serde_json::Value;
use tempfile::TempDir;

/// Runs each listed async test function once per backend:
/// `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[actix_web::test]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[actix_web::test]
            async fn postgres() {
                if $crate::helpers::postgres_available() {
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            }
        }
    )*};
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn municipalities_csv() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/nl_municipalities.csv")
}

fn init_logging() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter("info")
                .with_test_writer()
                .try_init();
        }
    });
}

/// A database for one test: the settings that point at it and a pool.
pub struct TestDb {
    pub settings: Settings,
    pub pool: DbPool,
    pub url: String,
    pub data_dir: TempDir,
}

impl TestDb {
    /// The use cases' context on this database, links pointing at `base_url`.
    pub fn ctx(&self, base_url: &str) -> service::context::Context {
        service::context::Context::from_settings(
            self.pool.clone(),
            &self.settings,
            base_url.to_string(),
            std::time::Duration::ZERO,
        )
    }
}

impl TestApp {
    /// The use cases' context of this app's database and address.
    pub fn ctx(&self) -> service::context::Context {
        self.db.ctx(&self.address)
    }
}

pub fn test_db(backend: Backend) -> TestDb {
    test_db_with(backend, |f| f)
}

/// A test database whose settings `tweak` may change (e.g. rate limits).
pub fn test_db_with(
    backend: Backend,
    tweak: impl FnOnce(figment::Figment) -> figment::Figment,
) -> TestDb {
    init_logging();
    let data_dir = tempfile::tempdir().expect("temp dir");
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}", data_dir.path().join("test.db").display()),
        Backend::Postgres => fresh_postgres_database(),
    };
    let settings: Settings = tweak(
        Settings::defaults()
            .merge(("data_dir", data_dir.path()))
            .merge(("server.port", 0))
            .merge(("server.workers", 1))
            .merge(("database.url", url.as_str()))
            .merge(("database.max_connections", 4))
            // Tests drive the scheduler themselves (and move its clock).
            .merge(("jobs.run", false))
            // Admins log in with a password alone here; tests/api/two_step.rs
            // turns the requirement on.
            .merge(("auth.two_step.required_for_admins", false)),
    )
    .extract()
    .expect("test settings");
    let target = settings.database_target().expect("target");
    let pool = settings.database.connect(&target).expect("pool");
    TestDb {
        settings,
        pool,
        url,
        data_dir,
    }
}

impl TestDb {
    pub fn migrate(&self) {
        db::migrations::run_pending(&mut self.pool.get().unwrap()).expect("migrations");
    }
}

pub struct TestApp {
    pub address: String,
    /// `http://127.0.0.1:PORT` of the metrics listener, when `metrics.listen` is set.
    pub metrics_address: Option<String>,
    pub client: reqwest::Client,
    pub db: TestDb,
}

/// The real application, migrated, on a random port.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |f| f).await
}

pub async fn spawn_app_with(
    backend: Backend,
    tweak: impl FnOnce(figment::Figment) -> figment::Figment,
) -> TestApp {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    spawn_app_on(backend, listener, tweak).await
}

/// The app on a listener the test bound already (so another process can be
/// told its address first, with no window for the port to be taken).
pub async fn spawn_app_on(
    backend: Backend,
    listener: std::net::TcpListener,
    tweak: impl FnOnce(figment::Figment) -> figment::Figment,
) -> TestApp {
    let db = test_db_with(backend, tweak);
    db.migrate();
    let app = Application::build_on(&db.settings, db.pool.clone(), listener).expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = app
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        address,
        metrics_address,
        client: test_client(reqwest::Client::builder()),
        db,
    }
}

/// A client for tests: no redirects followed, and a deadline, so a request
/// nobody answers fails the test with its name instead of hanging the suite.
pub fn test_client(builder: reqwest::ClientBuilder) -> reqwest::Client {
    builder
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(90))
        .build()
        .unwrap()
}

/// The demo app: spawned and loaded with the demo data set.
pub async fn spawn_demo_app(backend: Backend) -> TestApp {
    let app = spawn_app(backend).await;
    service::demo::load(&mut app.db.pool.get().unwrap()).expect("demo data");
    app
}

impl TestApp {
    /// GET an absolute URL (an emailed link, say); the body as text.
    pub async fn text(&self, url: impl reqwest::IntoUrl) -> String {
        let response = self.client.get(url).send().await.expect("request");
        response.text().await.expect("a text body")
    }

    /// POST a form to an absolute URL, as a browser submits one.
    pub async fn post_form<F: serde::Serialize + ?Sized>(
        &self,
        url: impl reqwest::IntoUrl,
        form: &F,
    ) -> reqwest::Response {
        let request = self.client.post(url).form(form);
        request.send().await.expect("request")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.plain(reqwest::Method::GET, path).await
    }

    pub async fn head(&self, path: &str) -> reqwest::Response {
        self.plain(reqwest::Method::HEAD, path).await
    }

    /// `method path` without a token or body.
    async fn plain(&self, method: reqwest::Method, path: &str) -> reqwest::Response {
        let url = format!("{}{}", self.address, path);
        self.client
            .request(method, url)
            .send()
            .await
            .expect("request")
    }

    /// GET with a bearer token, as a partner program or script would.
    pub async fn get_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{}", self.address, path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// GET, asserting the API-Version header that every response carries.
    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        assert_eq!(
            response
                .headers()
                .get("api-version")
                .map(|v| v.to_str().unwrap()),
            Some("1.0.0"),
            "API-Version header on {path}"
        );
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        if status >= 400 {
            assert_eq!(content_type, "application/problem+json", "{path}");
        }
        (status, response.json().await.expect("JSON body"))
    }

    /// GET expecting a problem document; returns (status, code, detail).
    pub async fn problem(&self, path: &str) -> (u16, String, String) {
        let (status, body) = self.get_json(path).await;
        assert!(status >= 400, "{path} answered {status}: {body}");
        assert_eq!(body["status"], status, "{body}");
        (
            status,
            body["code"].as_str().unwrap().to_string(),
            body["detail"].as_str().unwrap().to_string(),
        )
    }

    pub fn import(&self, bytes: &[u8], skip_invalid: bool) -> service::import::ImportReport {
        service::import::import_organisations(
            &mut self.db.pool.get().unwrap(),
            bytes,
            skip_invalid,
            &mut (),
            None,
        )
        .expect("import")
    }

    /// Follows `nextCursor` through every page of a listing.
    pub async fn all_pages(&self, path_with_query: &str) -> Vec<Value> {
        let sep = if path_with_query.contains('?') {
            '&'
        } else {
            '?'
        };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("{path_with_query}{sep}limit=100&cursor={c}"),
                None => format!("{path_with_query}{sep}limit=100"),
            };
            let (status, body) = self.get_json(&path).await;
            assert_eq!(status, 200, "{path}: {body}");
            items.extend(body["items"].as_array().unwrap().iter().cloned());
            match body["nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => return items,
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The throwaway PostgreSQL cluster

struct Cluster {
    port: u16,
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();

fn required() -> bool {
    std::env::var("MEELOOP_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// Whether PostgreSQL tests can run. Without server binaries they are
/// skipped loudly, unless `MEELOOP_REQUIRE_POSTGRES=1` (CI), which fails them.
pub fn postgres_available() -> bool {
    match CLUSTER.get_or_init(start_cluster) {
        Ok(_) => true,
        Err(why) if required() => {
            panic!("MEELOOP_REQUIRE_POSTGRES=1 but PostgreSQL could not be started: {why}")
        }
        Err(why) => {
            eprintln!(
                "SKIPPED: PostgreSQL test ({why}); run scripts/setup.sh or set MEELOOP_PG_BIN"
            );
            false
        }
    }
}

fn fresh_postgres_database() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let cluster = CLUSTER
        .get_or_init(start_cluster)
        .as_ref()
        .expect("postgres cluster");
    let name = format!(
        "meeloop_test_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let admin = format!("postgres://postgres@127.0.0.1:{}/postgres", cluster.port);
    let mut conn = PgConnection::establish(&admin).expect("connect to the test cluster");
    conn.batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create database");
    format!("postgres://postgres@127.0.0.1:{}/{name}", cluster.port)
}

fn find_bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("MEELOOP_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    candidates.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    candidates.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A command run as the `postgres` user when we are root (initdb refuses root).
fn pg_command(bin: &Path, as_postgres: bool) -> Command {
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

fn start_cluster() -> Result<Cluster, String> {
    let bin = find_bin_dir().ok_or("no PostgreSQL server binaries (initdb) found")?;
    let as_postgres = is_root();
    let base = std::env::temp_dir().join(format!("meeloop-test-pg-{}", std::process::id()));
    let data = base.join("data");
    std::fs::create_dir_all(&base).map_err(|e| e.to_string())?;
    if as_postgres {
        let status = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&base)
            .status()
            .map_err(|e| e.to_string())?;
        if !status.success() {
            return Err("cannot hand the cluster directory to the postgres user".into());
        }
    }
    let out = pg_command(&bin.join("initdb"), as_postgres)
        .arg("-D")
        .arg(&data)
        .args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=en_US.UTF-8",
        ])
        .output()
        .or_else(|_| {
            pg_command(&bin.join("initdb"), as_postgres)
                .arg("-D")
                .arg(&data)
                .output()
        })
        .map_err(|e| format!("initdb: {e}"))?;
    if !out.status.success() {
        // en_US.UTF-8 may be missing; fall back to the C locale.
        let _ = std::fs::remove_dir_all(&data);
        let out = pg_command(&bin.join("initdb"), as_postgres)
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale"])
            .output()
            .map_err(|e| format!("initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
         -c full_page_writes=off -c max_connections=300",
        base.display()
    );
    let out = pg_command(&bin.join("pg_ctl"), as_postgres)
        .arg("-D")
        .arg(&data)
        .args(["-o", &options, "-l"])
        .arg(base.join("log"))
        .args(["start", "-w", "-t", "60"])
        .output()
        .map_err(|e| format!("pg_ctl: {e}"))?;
    if !out.status.success() {
        let log = std::fs::read_to_string(base.join("log")).unwrap_or_default();
        return Err(format!(
            "pg_ctl start failed: {}{log}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // The test process cannot run code at exit, so a watchdog stops the
    // cluster and removes its files once this process has gone.
    let stop = format!(
        "{} {} -D '{}' stop -m immediate",
        if as_postgres {
            "runuser -u postgres --"
        } else {
            ""
        },
        bin.join("pg_ctl").display(),
        data.display()
    );
    let watchdog = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf '{base}'",
        pid = std::process::id(),
        base = base.display()
    );
    Command::new("sh")
        .args(["-c", &watchdog])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("watchdog: {e}"))?;
    Ok(Cluster { port })
}

impl TestApp {
    /// Creates a user and returns a login token for them.
    pub async fn token_for(
        &self,
        email: &str,
        role: meeloop::domain::account::Role,
        organisation: Option<&str>,
    ) -> String {
        self.token_named(email, "Test Gebruiker", role, organisation)
            .await
    }

    /// Creates a user with this name and returns a login token for them.
    pub async fn token_named(
        &self,
        email: &str,
        name: &str,
        role: meeloop::domain::account::Role,
        organisation: Option<&str>,
    ) -> String {
        const PASSWORD: &str = "a long enough password";
        meeloop::service::accounts::create_user(
            &mut self.db.pool.get().unwrap(),
            &meeloop::service::accounts::NewAccount {
                email: email.into(),
                name: name.into(),
                role,
                organisation: organisation.map(str::to_string),
                password: meeloop::domain::account::Password::parse(PASSWORD).unwrap(),
            },
        )
        .expect("create user");
        let response: Value = self
            .client
            .post(format!("{}/api/v1/auth/login", self.address))
            .json(&serde_json::json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        response["accessToken"].as_str().expect("token").to_string()
    }

    /// A new admin's login token.
    pub async fn admin_token(&self, email: &str) -> String {
        use meeloop::domain::account::Role;
        self.token_for(email, Role::Admin, None).await
    }

    /// A new coordinator of the organisation with this CBS code; their token.
    pub async fn coordinator_token(&self, email: &str, code: &str) -> String {
        use meeloop::domain::account::Role;
        self.token_for(email, Role::Coordinator, Some(code)).await
    }

    /// Sends `method path` with an optional token and JSON body; returns status and body
    /// (Null when empty, a string when not JSON).
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{}", self.address, path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap();
        (
            status,
            if bytes.is_empty() {
                Value::Null
            } else {
                // Not JSON (a calendar file, say): the text as a string.
                serde_json::from_slice(&bytes)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
            },
        )
    }

    /// The id of the organisation with this code, found by (part of) its name.
    pub async fn organisation_id_by_name(&self, name: &str, code: &str) -> i64 {
        let (_, page) = self
            .get_json(&format!("/api/v1/organisations?q={name}&limit=100"))
            .await;
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["code"] == code)
            .unwrap_or_else(|| panic!("{code} listed"))["id"]
            .as_i64()
            .unwrap()
    }

    pub async fn organisation_id(&self, code: &str) -> i64 {
        self.organisation_id_by_name(code_name(code), code).await
    }
}

/// A name fragment to search for a demo organisation by code.
fn code_name(code: &str) -> &'static str {
    match code {
        "GM0193" => "zwolle",
        "GM1900" => "sudwest",
        "GM0363" => "amsterdam",
        "GM0344" => "utrecht",
        "GM0014" => "groningen",
        other => panic!("add {other} to code_name"),
    }
}

/// How many outbox messages are in each state that has any.
pub fn state_counts(
    conn: &mut meeloop::db::DbConn,
) -> Vec<(meeloop::domain::mail::MessageState, i64)> {
    meeloop::db::outbox::counts(conn)
        .unwrap()
        .into_iter()
        .map(|c| (c.state, c.count))
        .collect()
}

/// Puts a queued message where the delivery worker leaves one that gave up
/// (`dead` after `attempts`, with the server's `error`), for tests of what
/// comes after.
pub fn give_up_message(conn: &mut db::DbConn, id: i64, attempts: i32, error: &str) {
    use diesel::prelude::*;
    use meeloop::db::schema::outbox::dsl as o;
    meeloop::dispatch!(conn, c => diesel::update(o::outbox.find(id))
        .set((
            o::state.eq("dead"),
            o::attempts.eq(attempts),
            o::last_error.eq(Some(error)),
            o::given_up_at.eq(Some(meeloop::db::now())),
        ))
        .execute(c))
    .unwrap();
}

/// The id of a message `enqueue` has just added (not one queued before).
pub fn queued(enqueued: db::outbox::Enqueued) -> i64 {
    match enqueued {
        db::outbox::Enqueued::Queued(id) => id,
        other => panic!("expected a new message, got {other:?}"),
    }
}

/// Makes a queued message due only at `at`, as a retry would.
pub fn postpone_message(conn: &mut db::DbConn, id: i64, at: chrono::NaiveDateTime) {
    use diesel::prelude::*;
    use meeloop::db::schema::outbox::dsl as o;
    meeloop::dispatch!(conn, c => diesel::update(o::outbox.find(id))
        .set(o::next_attempt_at.eq(at))
        .execute(c))
    .unwrap();
}

/// The standard output of a command that must have succeeded (its error
/// output in the failure message otherwise).
pub fn succeeded(out: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// One text cell of the database: which table, which row (its key as text),
/// which column, and what it holds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TextCell {
    pub table: String,
    pub key: String,
    pub column: String,
    pub text: String,
}

/// Every text column of every table, read generically from the database's
/// own catalogue (so a table or column added later is included without
/// anyone remembering to).
pub fn dump_texts(conn: &mut db::DbConn) -> Vec<TextCell> {
    use diesel::sql_types::{Nullable, Text};
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Column {
        #[diesel(sql_type = Text)]
        t: String,
        #[diesel(sql_type = Text)]
        c: String,
    }
    #[derive(diesel::QueryableByName)]
    struct Cell {
        #[diesel(sql_type = Text)]
        k: String,
        #[diesel(sql_type = Nullable<Text>)]
        v: Option<String>,
    }
    let catalogue = match conn {
        // Ordinary tables (the full-text index keeps no text of its own:
        // its content is `lessons`).
        db::DbConn::Sqlite(_) => "SELECT m.name AS t, p.name AS c FROM pragma_table_list m, pragma_table_info(m.name) p \
             WHERE m.schema = 'main' AND m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations' \
             AND (upper(p.type) LIKE '%TEXT%' OR upper(p.type) LIKE '%CHAR%')",
        db::DbConn::Pg(_) => "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name <> '__diesel_schema_migrations' \
             AND data_type IN ('text', 'character varying')",
    };
    let columns: Vec<Column> =
        meeloop::dispatch!(conn, c => diesel::sql_query(catalogue).load(c)).unwrap();
    assert!(columns.len() > 20, "the catalogue lists the text columns");
    let mut cells = Vec::new();
    for Column { t, c } in columns {
        let key = match t.as_str() {
            "expertise" => "CAST(organisation_id AS TEXT) || ':' || CAST(topic_id AS TEXT)",
            "followups" => "CAST(visit_id AS TEXT)",
            "maintenance" => "name",
            _ => "CAST(id AS TEXT)",
        };
        let sql = format!("SELECT {key} AS k, {c} AS v FROM {t}");
        let rows: Vec<Cell> = meeloop::dispatch!(conn, x => diesel::sql_query(&sql).load(x))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        cells.extend(rows.into_iter().filter_map(|r| {
            r.v.map(|text| TextCell {
                table: t.clone(),
                key: r.k,
                column: c.clone(),
                text,
            })
        }));
    }
    cells
}

impl TestApp {
    /// GET with a token; status and JSON body.
    pub async fn json_as(&self, path: &str, token: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    /// POST a JSON body with a token; status and JSON body.
    pub async fn post_as(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(token), Some(body))
            .await
    }
}

/// Queued emails as `(recipient, template, text body)`, oldest first.
pub fn mails(conn: &mut db::DbConn) -> Vec<(String, String, String)> {
    use diesel::sql_types::Text;
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Mail {
        #[diesel(sql_type = Text)]
        recipient: String,
        #[diesel(sql_type = Text)]
        template: String,
        #[diesel(sql_type = Text)]
        body_text: String,
    }
    let sql = "SELECT recipient, template, body_text FROM outbox ORDER BY id";
    let rows: Vec<Mail> = meeloop::dispatch!(conn, c => diesel::sql_query(sql).load(c)).unwrap();
    rows.into_iter()
        .map(|m| (m.recipient, m.template, m.body_text))
        .collect()
}

impl TestApp {
    /// The newest link under `path` (e.g. "/welcome/") in an email to `to`,
    /// waiting for it to be queued (some are queued after the answer).
    pub async fn mailed_link(&self, to: &str, path: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let found = {
                let mut conn = self.db.pool.get().unwrap();
                mails(&mut conn)
                    .into_iter()
                    .rev()
                    .filter(|(recipient, _, _)| recipient == to)
                    .find_map(|(_, _, text)| {
                        text.split_whitespace()
                            .find(|w| w.contains(path))
                            .map(str::to_string)
                    })
            };
            if let Some(link) = found {
                return link;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no email to {to} with a link under {path}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Chooses a password through an emailed link's page, as a browser
    /// would (the page's form token, then the form); returns the answer.
    pub async fn choose_password(&self, link: &str, password: &str) -> reqwest::Response {
        let page = self.client.get(link).send().await.unwrap();
        assert_eq!(page.status(), 200, "{link}");
        let cookie = page
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("meeloop_form="))
            .map(|v| v.split(';').next().unwrap().to_string())
            .expect("a form cookie");
        let csrf = cookie.trim_start_matches("meeloop_form=").to_string();
        self.client
            .post(link)
            .header("cookie", cookie)
            .form(&[
                ("csrf", csrf.as_str()),
                ("password", password),
                ("repeat", password),
            ])
            .send()
            .await
            .unwrap()
    }
}

/// Logs in over the API; status and body.
pub async fn login(app: &TestApp, email: &str, password: &str) -> (u16, Value) {
    app.send(
        reqwest::Method::POST,
        "/api/v1/auth/login",
        None,
        Some(serde_json::json!({"email": email, "password": password})),
    )
    .await
}

/// The actions of the newest 100 audit entries, newest first.
pub async fn audit_actions(app: &TestApp, admin: &str) -> Vec<String> {
    let (status, page) = app
        .send(
            reqwest::Method::GET,
            "/api/v1/admin/audit?limit=100",
            Some(admin),
            None,
        )
        .await;
    assert_eq!(status, 200, "{page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

/// An operations tool (promtool, systemd-analyze, bubblewrap, nginx, …,
/// installed by scripts/setup.sh) at `path`, or `None` (the test skipped)
/// where it is missing and `MEELOOP_REQUIRE_OPS_TOOLS` is not set.
pub fn ops_tool(path: &str) -> Option<&str> {
    if std::path::Path::new(path).exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("MEELOOP_REQUIRE_OPS_TOOLS").is_none(),
        "{path} is missing: run scripts/setup.sh"
    );
    eprintln!("SKIPPED: {path} missing (run scripts/setup.sh)");
    None
}
