//! A real SMTP server for tests: aiosmtpd (installed by scripts/setup.sh)
//! running `tests/support/smtp_server.py`, storing what it receives in a
//! maildir. Stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use meeloop::config::SmtpSettings;
use meeloop::mail::transport::SmtpSecurity;

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Slow every message down by this much.
    pub delay_ms: u64,
    /// Serve TLS with this certificate and key (PEM files).
    pub tls: Option<(SmtpSecurity, PathBuf, PathBuf)>,
    /// Listen on this port (to bring a server "back"); a free one otherwise.
    pub port: Option<u16>,
}

pub struct SmtpServer {
    child: Option<Child>,
    pub port: u16,
    maildir: tempfile::TempDir,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn python() -> PathBuf {
    let tools = std::env::var("MEELOOP_TOOLS").unwrap_or_else(|_| {
        format!(
            "{}/.cache/meeloop",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let python = Path::new(&tools).join("venv/bin/python");
    assert!(
        python.exists(),
        "no SMTP server for the mail tests: run scripts/setup.sh (it installs aiosmtpd)"
    );
    python
}

/// Waits for `done` to hold, polling; fails with `what` after `limit`.
pub async fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        SmtpServer::start_with(Options::default())
    }

    pub fn start_with(options: Options) -> SmtpServer {
        let port = options.port.unwrap_or_else(free_port);
        let maildir = tempfile::tempdir().unwrap();
        let mut command = Command::new(python());
        command
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py"))
            .args(["--port", &port.to_string()])
            .arg("--maildir")
            .arg(maildir.path().join("box"))
            .args(["--delay-ms", &options.delay_ms.to_string()]);
        if let Some((security, cert, key)) = &options.tls {
            let mode = match security {
                SmtpSecurity::StartTls => "starttls",
                SmtpSecurity::Tls => "smtps",
                SmtpSecurity::None => "plain",
            };
            command
                .args(["--mode", mode])
                .arg("--cert")
                .arg(cert)
                .arg("--key")
                .arg(key);
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP server");
        let mut server = SmtpServer {
            child: Some(child),
            port,
            maildir,
        };
        // Ready when it accepts connections (bounded wait).
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = server.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("the SMTP server exited: {status}");
            }
            assert!(Instant::now() < deadline, "the SMTP server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// Settings for Meeloop to reach this server.
    pub fn settings(&self) -> SmtpSettings {
        SmtpServer::settings_for_port(self.port)
    }

    /// Settings for a plain server on `port` (which may not be running).
    pub fn settings_for_port(port: u16) -> SmtpSettings {
        SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            security: SmtpSecurity::None,
            username: None,
            password: None,
            ca_file: None,
            timeout_secs: 10,
        }
    }

    /// The raw messages received so far.
    pub fn received(&self) -> Vec<Vec<u8>> {
        let new = self.maildir.path().join("box/new");
        let Ok(entries) = std::fs::read_dir(new) else {
            return Vec::new();
        };
        entries
            .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
            .collect()
    }

    pub fn received_count(&self) -> usize {
        std::fs::read_dir(self.maildir.path().join("box/new")).map_or(0, |d| d.count())
    }

    /// Outbox ids of the received messages, from their Message-IDs
    /// (`<outbox-{id}@{domain}>`), with the domain; repeats included.
    pub fn received_ids(&self) -> Vec<(i64, String)> {
        self.received()
            .iter()
            .map(|raw| {
                let parsed = mail_parser::MessageParser::default().parse(raw).unwrap();
                let mid = parsed.message_id().expect("a Message-ID").to_string();
                let (local, domain) = mid.split_once('@').unwrap();
                let id = local.strip_prefix("outbox-").unwrap().parse().unwrap();
                (id, domain.to_string())
            })
            .collect()
    }

    /// Stops the server (what it received stays readable).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}
