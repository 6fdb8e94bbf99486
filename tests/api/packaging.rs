//! Packaging (docs/deploy.md): the systemd unit, the reverse-proxy examples
//! and the container image's runtime contract, checked with the real tools.
//! No base image can be pulled on these machines, so the image itself is
//! not built here; instead the binary runs the way the image runs it (the
//! Containerfile's USER, ENV, WORKDIR and HEALTHCHECK) under bubblewrap,
//! with a read-only root and only /data writable.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn deploy(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(file)
}

use crate::helpers::ops_tool as tool;

fn run(command: &mut Command) -> (bool, String) {
    let out = command.output().expect("the tool runs");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// `systemd-analyze verify` accepts the unit without a single warning, and
/// its hardening keeps the exposure score at 2.0 or below ("OK").
#[test]
fn the_systemd_unit_verifies_and_stays_hardened() {
    let Some(analyze) = tool("/usr/bin/systemd-analyze") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // verify wants the program to exist: this build's binary stands in.
    let unit = std::fs::read_to_string(deploy("meeloop.service"))
        .unwrap()
        .replace("/usr/local/bin/meeloop", env!("CARGO_BIN_EXE_meeloop"));
    let path = dir.path().join("meeloop.service");
    std::fs::write(&path, unit).unwrap();
    let (ok, said) = run(Command::new(analyze).arg("verify").arg(&path));
    assert!(
        ok && said.trim().is_empty(),
        "systemd-analyze verify: {said}"
    );
    let (ok, said) = run(Command::new(analyze)
        // The threshold counts in tenths: 20 is the 2.0 the table shows.
        .args(["security", "--offline=yes", "--threshold=20"])
        .arg(&path));
    assert!(ok, "exposure above 2.0:\n{said}");
    for directive in [
        "DynamicUser=yes",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "StateDirectory=meeloop",
        "LimitNOFILE=",
    ] {
        assert!(
            std::fs::read_to_string(deploy("meeloop.service"))
                .unwrap()
                .contains(directive),
            "{directive}"
        );
    }
}

/// The nginx and Caddy examples of docs/deploy.md are configurations the
/// real servers accept (upstreams moved to loopback, a throwaway
/// certificate for nginx: nothing is contacted but this machine).
#[test]
fn the_reverse_proxy_examples_are_valid() {
    let (Some(nginx), Some(caddy), Some(openssl)) = (
        tool("/usr/sbin/nginx"),
        tool("/usr/bin/caddy"),
        tool("/usr/bin/openssl"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ok, said) = run(Command::new(openssl)
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=meeloop.example.nl", "-keyout"])
        .arg(d.join("privkey.pem"))
        .arg("-out")
        .arg(d.join("fullchain.pem")));
    assert!(ok, "{said}");
    let loopback = |text: String| {
        text.replace("10.0.0.11", "127.0.0.1")
            .replace("10.0.0.12", "127.0.0.2")
    };
    let conf = loopback(std::fs::read_to_string(deploy("nginx.conf")).unwrap())
        .replace("/etc/ssl/meeloop", &d.to_string_lossy());
    std::fs::write(d.join("nginx.conf"), conf).unwrap();
    let (ok, said) = run(Command::new(nginx)
        .arg("-t")
        .arg("-c")
        .arg(d.join("nginx.conf"))
        .arg("-p")
        .arg(d)
        .arg("-g")
        .arg(format!(
            "pid {0}/nginx.pid; error_log {0}/error.log;",
            d.display()
        )));
    assert!(ok, "nginx -t: {said}");

    let caddyfile = loopback(std::fs::read_to_string(deploy("Caddyfile")).unwrap());
    std::fs::write(d.join("Caddyfile"), caddyfile).unwrap();
    let (ok, said) = run(Command::new(caddy)
        .args(["validate", "--adapter", "caddyfile", "--config"])
        .arg(d.join("Caddyfile"))
        .env("HOME", d)
        .env("XDG_DATA_HOME", d)
        .env("XDG_CONFIG_HOME", d));
    assert!(ok && said.contains("Valid configuration"), "caddy: {said}");
}

/// What the Containerfile's runtime stage says: its USER, its ENV lines,
/// WORKDIR and the HEALTHCHECK command.
struct Image {
    uid: u32,
    env: Vec<(String, String)>,
    workdir: String,
    healthcheck: Vec<String>,
}

fn image() -> Image {
    let text = std::fs::read_to_string(deploy("Containerfile")).unwrap();
    // The runtime stage: after the last FROM. Continuation lines joined.
    let runtime = text.rsplit("\nFROM ").next().unwrap().replace("\\\n", " ");
    let mut image = Image {
        uid: 0,
        env: Vec::new(),
        workdir: "/".into(),
        healthcheck: Vec::new(),
    };
    for line in runtime.lines().map(str::trim) {
        if let Some(user) = line.strip_prefix("USER ") {
            image.uid = user.split(':').next().unwrap().parse().unwrap();
        } else if let Some(env) = line.strip_prefix("ENV ") {
            let (k, v) = env.split_once('=').unwrap();
            image.env.push((k.to_string(), v.to_string()));
        } else if let Some(dir) = line.strip_prefix("WORKDIR ") {
            image.workdir = dir.to_string();
        } else if line.starts_with("HEALTHCHECK ") {
            let cmd = line.split_once(" CMD ").unwrap().1;
            image.healthcheck = serde_json::from_str(cmd).unwrap();
        }
    }
    assert_ne!(image.uid, 0, "the image runs as an unprivileged user");
    assert!(!image.healthcheck.is_empty());
    image
}

/// bubblewrap arranged as the image: /usr, /etc read-only from this
/// machine, the binary at /usr/local/bin/meeloop, `data` at /data (the
/// only writable place), a read-only root, the image's environment, as
/// the image's user (when this test runs as root; otherwise as the
/// unprivileged user it runs as).
fn sandboxed(image: &Image, local: &Path, data: &Path, port: u16, args: &[&str]) -> Command {
    let bwrap = "/usr/bin/bwrap";
    let mut command = if running_as_root() {
        let mut c = Command::new("setpriv");
        c.arg(format!("--reuid={}", image.uid))
            .arg(format!("--regid={}", image.uid))
            .arg("--clear-groups")
            .arg(bwrap);
        c
    } else {
        Command::new(bwrap)
    };
    command
        .args(["--ro-bind", "/usr", "/usr"])
        .args(["--symlink", "usr/lib", "/lib"])
        .args(["--symlink", "usr/lib64", "/lib64"])
        .args(["--symlink", "usr/bin", "/bin"])
        .args(["--symlink", "usr/sbin", "/sbin"])
        .args(["--ro-bind", "/etc", "/etc"])
        .arg("--ro-bind")
        .arg(local)
        .arg("/usr/local")
        .arg("--bind")
        .arg(data)
        .arg("/data")
        .args(["--proc", "/proc", "--dev", "/dev"])
        .args(["--chdir", &image.workdir])
        .args(["--remount-ro", "/"])
        .args(["--unshare-ipc", "--die-with-parent", "--clearenv"]);
    for (k, v) in &image.env {
        command.args(["--setenv", k, v]);
    }
    // The one change: a free port instead of 8080.
    command
        .args(["--setenv", "MEELOOP_SERVER__PORT", &port.to_string()])
        .args(["--setenv", "MEELOOP_LOG__FILTER", "warn"])
        .args(args);
    command
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        == Some("0")
}

/// The image's runtime contract, without the image: as its unprivileged
/// user, on a read-only root with only /data writable, `serve --demo`
/// starts, answers its HEALTHCHECK, takes logins and writes, makes a
/// backup in /data, and stops cleanly on SIGTERM; all it wrote is in /data,
/// owned by the image's user.
#[actix_web::test]
async fn the_image_runs_unprivileged_on_a_read_only_root_writing_only_to_data() {
    if tool("/usr/bin/bwrap").is_none() {
        return;
    }
    let image = image();
    let root = tempfile::tempdir().unwrap();
    let (local, data) = (root.path().join("local"), root.path().join("data"));
    std::fs::create_dir_all(local.join("bin")).unwrap();
    std::fs::create_dir_all(&data).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_meeloop"), local.join("bin/meeloop")).unwrap();
    let uid = if running_as_root() {
        image.uid
    } else {
        std::fs::metadata(&data)
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
            .unwrap()
    };
    use std::os::unix::fs::PermissionsExt;
    for dir in [root.path(), &local, &local.join("bin")] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    if running_as_root() {
        std::os::unix::fs::chown(&data, Some(uid), Some(uid)).unwrap();
    }
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
    let port = crate::smtp::free_port();

    // Not ready before it runs: the probe says so and fails.
    let health: Vec<&str> = image.healthcheck.iter().map(String::as_str).collect();
    let probe = |command: &mut Command| run(command.stdin(Stdio::null()));
    let (ok, said) = probe(&mut sandboxed(&image, &local, &data, port, &health));
    assert!(!ok, "ready before it started? {said}");

    let mut child = sandboxed(
        &image,
        &local,
        &data,
        port,
        &["/usr/local/bin/meeloop", "serve", "--demo"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("bwrap starts");
    let stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    let printed = crate::cli::demo_banner(&mut child);
    assert!(
        printed.contains("Open "),
        "serve --demo did not start: {printed}"
    );

    // The HEALTHCHECK, run as the container runtime would (inside).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (ok, said) = probe(&mut sandboxed(&image, &local, &data, port, &health));
        if ok {
            assert!(said.contains("ready"), "{said}");
            break;
        }
        assert!(Instant::now() < deadline, "never ready: {said}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Logins and a change: writes to the database, the audit log, sessions.
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let client = crate::helpers::test_client(reqwest::Client::builder());
    let email = "coordinator@sudwestfryslan.example";
    let password = printed
        .lines()
        .find(|l| l.contains(email))
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or_else(|| panic!("{email} in {printed}"));
    let r = client
        .post(format!("{base}/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let token = r.json::<Value>().await.unwrap()["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let me: Value = client
        .get(format!("{base}/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let organisation = me["organisation"]["id"].as_i64().expect("an organisation");
    let r = client
        .patch(format!("{base}/organisations/{organisation}"))
        .bearer_auth(&token)
        .json(&json!({"size": 90_210}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    // A backup beside it, into /data.
    let (ok, said) = run(&mut sandboxed(
        &image,
        &local,
        &data,
        port,
        &["/usr/local/bin/meeloop", "backup", "/data/backup.db"],
    ));
    assert!(ok, "backup: {said}");

    // SIGTERM to the service (bwrap's child): a clean stop.
    let (_, inner) = run(Command::new("pgrep").args(["-P", &child.id().to_string()]));
    let inner = inner
        .split_whitespace()
        .next()
        .expect("bwrap runs the service");
    let status = Command::new("kill")
        .args(["-TERM", inner])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    let errors = errors.join().unwrap();
    assert!(exit.success(), "exit {exit:?}; stderr: {errors:?}");
    // Nothing it needed to write was refused (a read-only file system
    // error would be logged as a warning or worse).
    assert!(
        !errors.iter().any(|l| l.contains("Read-only file system")),
        "{errors:?}"
    );

    // All it wrote is in /data, as the image's user.
    let mut names: Vec<String> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for expected in ["backup.db", "jwt-signing-key", "meeloop.db"] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    for entry in std::fs::read_dir(&data).unwrap() {
        let meta = entry.unwrap().metadata().unwrap();
        assert_eq!(std::os::unix::fs::MetadataExt::uid(&meta), uid);
    }
}
