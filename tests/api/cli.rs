//! The `meeloop` binary as an operator uses it.

use std::process::{Command, Output};

use crate::helpers::{municipalities_csv, test_db, Backend, TestDb};

pub(crate) fn meeloop(db: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meeloop"))
        .args(args)
        .current_dir(db.data_dir.path())
        .env("MEELOOP_DATA_DIR", db.data_dir.path())
        .env("MEELOOP_DATABASE__URL", &db.url)
        .env_remove("RUST_LOG")
        .output()
        .expect("run meeloop")
}

fn import_from_the_command_line(backend: Backend) {
    let db = test_db(backend);
    let csv = municipalities_csv();
    let out = meeloop(&db, &["import", "organisations", csv.to_str().unwrap()]);
    let stdout = crate::helpers::succeeded(&out);
    assert!(
        stdout.contains("342 inserted, 0 updated, 0 unchanged"),
        "{stdout}"
    );

    let again = meeloop(&db, &["import", "organisations", csv.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 inserted, 0 updated, 342 unchanged"));

    let broken = db.data_dir.path().join("broken.csv");
    std::fs::write(
        &broken,
        "cbs_code,name,province,population,lat,lon,year\nGM9999,Nergens,Utrecht,-5,52,5,2024\nGM9998,Ook niet,Atlantis,5,52,5,2024\n",
    )
    .unwrap();
    let out = meeloop(&db, &["import", "organisations", broken.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("line 2: population '-5'"), "{stderr}");
    assert!(
        stderr.contains("line 3: unknown province 'Atlantis'"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    // No progress bar or log noise when not on a terminal.
    assert!(String::from_utf8_lossy(&out.stdout).is_empty());

    // The same as Excel saves it (CRLF line ends, a byte order mark, a name
    // over two lines): the lines are the ones a text editor shows.
    std::fs::write(
        &broken,
        "\u{feff}cbs_code,name,province,population,lat,lon,year\r\nGM9997,Een,Utrecht,5,52,5,2024\r\nGM9996,\"Twee\r\nregels\",Utrecht,5,52,5,2024\r\nGM9999,Nergens,Utrecht,-5,52,5,2024\r\nGM9997,Nog eens,Utrecht,5,52,5,2024\r\n",
    )
    .unwrap();
    let out = meeloop(&db, &["import", "organisations", broken.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 3: "), "the two-line name: {stderr}");
    assert!(stderr.contains("line 5: population '-5'"), "{stderr}");
    assert!(
        stderr.contains("line 6: duplicate code GM9997: it already appears on line 2"),
        "{stderr}"
    );
}

#[test]
fn import_from_the_command_line_on_sqlite() {
    import_from_the_command_line(Backend::Sqlite);
}

#[test]
fn import_from_the_command_line_on_postgres() {
    if crate::helpers::postgres_available() {
        import_from_the_command_line(Backend::Postgres);
    }
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["import", "--help"],
        vec!["import", "organisations", "--help"],
        vec!["privacy", "--help"],
        vec!["privacy", "purge", "--help"],
        vec!["privacy", "export", "--help"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_meeloop"))
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage:"),
            "{args:?}"
        );
    }
}

#[test]
fn a_mistyped_database_scheme_is_refused_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_meeloop"))
        .args(["migrate"])
        .current_dir(dir.path())
        .env("MEELOOP_DATA_DIR", dir.path())
        .env(
            "MEELOOP_DATABASE__URL",
            "postgress://meeloop:hunter2@localhost/meeloop",
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("unsupported database URL scheme 'postgress'"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "no password in errors");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file created"
    );
}

#[test]
fn migrate_then_status() {
    let db = test_db(Backend::Sqlite);
    let out = meeloop(&db, &["migrate", "--status"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("pending: "));
    let out = meeloop(&db, &["migrate"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("applied: "));
    let out = meeloop(&db, &["migrate", "--status"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));
}

/// Starts `serve --demo` and returns it with what it printed up to the
/// "Open … in a browser" line, printed once it listens (read, rather than
/// sleeping until it is up).
fn start_demo(db: &crate::helpers::TestDb, port: u16) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_meeloop"))
        .args(["serve", "--demo"])
        .current_dir(db.data_dir.path())
        .env("MEELOOP_DATA_DIR", db.data_dir.path())
        .env("MEELOOP_DATABASE__URL", &db.url)
        .env("MEELOOP_SERVER__PORT", port.to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let printed = demo_banner(&mut child);
    (child, printed)
}

/// What `serve --demo` printed up to its "Open … in a browser" line (its
/// accounts and passwords), printed once it listens; the rest of its
/// output is read and dropped.
pub(crate) fn demo_banner(child: &mut std::process::Child) -> String {
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let mut printed = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if line.starts_with("Open ") {
            break;
        }
    }
    // Keep reading: with the pipe closed, the server's next line would fail.
    std::thread::spawn(move || lines.for_each(drop));
    printed
}

fn stop(mut child: std::process::Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");
}

/// The password `serve --demo` printed for `email`.
fn printed_password(printed: &str, email: &str) -> String {
    printed
        .lines()
        .find(|l| l.contains(email))
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or_else(|| panic!("{email} printed: {printed}"))
        .to_string()
}

/// Logs in on the web page; returns the dashboard's HTML, or None.
async fn web_login(base: &str, email: &str, password: &str) -> Option<String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = client.get(format!("{base}/login")).send().await.unwrap();
    let cookie = form.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let html = form.text().await.unwrap();
    let csrf = crate::pages::hidden(&html, "csrf");
    let r = client
        .post(format!("{base}/login"))
        .header("Cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    if r.status() != 303 {
        return None;
    }
    let session = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let page = client
        .get(format!("{base}/dashboard"))
        .header("Cookie", session)
        .send()
        .await
        .unwrap();
    Some(page.text().await.unwrap())
}

/// `serve` applies migrations, loads the demo data and stops cleanly on
/// SIGTERM; the demo accounts it prints log in on the web pages, also
/// after a restart (which prints new passwords).
#[actix_web::test]
async fn serve_demo_answers_and_shuts_down_on_sigterm() {
    let db = test_db(Backend::Sqlite);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let (child, printed) = start_demo(&db, port);
    assert!(printed.contains("DEMO DATA"), "{printed}");
    assert!(
        printed.contains("Added 4 shadow visits of the past weeks"),
        "{printed}"
    );
    assert!(
        printed.contains(&format!("Open {base}/ in a browser")),
        "{printed}"
    );
    let topics = reqwest::get(format!("{base}/api/v1/topics")).await.unwrap();
    let topics: serde_json::Value = topics.json().await.unwrap();
    assert_eq!(topics.as_array().unwrap().len(), 10);
    let email = "coordinator@sudwestfryslan.example";
    let first = printed_password(&printed, email);
    let dashboard = web_login(&base, email, &first)
        .await
        .expect("the printed password works");
    assert!(
        dashboard.contains("Lessen om in te vullen (1)"),
        "a form waits: {dashboard}"
    );
    // The demo's coordinator follows two topics: the first scheduler round
    // writes last month's digest (the demo's lessons are spread over the
    // past weeks, so some were published last month whatever the date).
    assert!(printed.contains("follows two topics"), "{printed}");
    let mail = db.data_dir.path().join("mail");
    let digests = || -> Vec<String> {
        std::fs::read_dir(&mail)
            .map(|dir| {
                dir.filter_map(|f| std::fs::read_to_string(f.ok()?.path()).ok())
                    .filter(|m| m.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"))
                    .collect()
            })
            .unwrap_or_default()
    };
    crate::smtp::wait_until(
        std::time::Duration::from_secs(30),
        "the demo's digest",
        || !digests().is_empty(),
    )
    .await;
    let digest = &digests()[0];
    assert!(
        digest.contains("To: coordinator@sudwestfryslan.example"),
        "{digest}"
    );
    assert!(digest.contains("Subject: Nieuw in "), "{digest}");
    stop(child);

    // A restart: new passwords, the old ones no longer work, nothing doubles.
    let (child, printed) = start_demo(&db, port);
    let second = printed_password(&printed, email);
    assert_ne!(first, second);
    assert!(web_login(&base, email, &first).await.is_none());
    let dashboard = web_login(&base, email, &second)
        .await
        .expect("the new password works");
    assert!(
        dashboard.contains("Lessen om in te vullen (1)"),
        "{dashboard}"
    );
    stop(child);
    assert_eq!(digests().len(), 1, "one digest a month, restarts or not");
}

#[test]
fn partners_from_the_command_line() {
    let db = test_db(Backend::Sqlite);
    let out = meeloop(
        &db,
        &[
            "partner",
            "create",
            "--name",
            "Aedes",
            "--scopes",
            "lessons:read,stats:read",
        ],
    );
    let stdout = crate::helpers::succeeded(&out);
    let field = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix(name).map(|v| v.trim().to_string()))
            .unwrap_or_else(|| panic!("{name} in {stdout}"))
    };
    let client_id = field("client_id:");
    assert!(field("client_secret:").starts_with("mps_"));
    assert_eq!(field("scopes:"), "lessons:read stats:read");

    let bad = meeloop(
        &db,
        &["partner", "create", "--name", "X", "--scopes", "admin"],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown scope 'admin'"));

    assert!(meeloop(&db, &["partner", "revoke", &client_id])
        .status
        .success());
    let again = meeloop(&db, &["partner", "revoke", &client_id]);
    assert!(!again.status.success());
}
