//! The `meeloop` command line: parse arguments, load settings, set up
//! logging, and hand over to the application or a service function.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use tracing_subscriber::EnvFilter;

use crate::app::Application;
use crate::config::{LogFormat, Settings};
use crate::db::{self, DbPool};
use crate::domain::account::{Password, Role};
use crate::domain::partner::Scopes;
use crate::service;

mod mail;
mod privacy;
use mail::{mail, MailCommand};
use privacy::{privacy, PrivacyCommand};

#[derive(Debug, Parser)]
#[command(
    name = "meeloop",
    version,
    about = "Meeloop: find a best-in-class peer for a shadow visit (meeloopdag)"
)]
struct Cli {
    /// Configuration file (default: meeloop.toml in the working directory, if present).
    #[arg(long, global = true, env = "MEELOOP_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web service; applies pending migrations first.
    Serve {
        /// Load the demo data set (topics, organisations, expertise) before starting.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations.
    Migrate {
        /// Only list pending migrations; change nothing.
        #[arg(long)]
        status: bool,
    },
    /// Import data from a file.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage partner clients (programs with read-only API access).
    #[command(subcommand)]
    Partner(PartnerCommand),
    /// Outgoing email: deliver, inspect and requeue the outbox.
    #[command(subcommand)]
    Mail(MailCommand),
    /// The visit scheduler (nudges, expiry, reminders, completion).
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Organisations: municipal mergers.
    #[command(subcommand)]
    Organisations(OrganisationsCommand),
    /// Personal data: the retention purge (docs/privacy.md).
    #[command(subcommand)]
    Privacy(PrivacyCommand),
    /// A consistent copy of the embedded SQLite database, taken while the
    /// service runs (SQLite's online backup API), checked with
    /// `PRAGMA integrity_check`. PostgreSQL: use `pg_dump` (docs/operations.md).
    Backup {
        /// Where the copy goes; must not exist yet.
        file: std::path::PathBuf,
    },
    /// Print the OpenAPI document (JSON) that `serve` publishes at
    /// /api/v1/openapi.json, for code generators and linters.
    Openapi,
    /// Ask the instance these settings describe whether it is ready
    /// (`/readyz`): exit 0 if so, 1 if not. For a container's HEALTHCHECK,
    /// where there is no curl.
    Probe,
}

#[derive(Debug, Subcommand)]
enum OrganisationsCommand {
    /// A municipal merger: OLD goes into NEW with its expertise, visit
    /// history, lessons (and so its reputation), accounts and email links;
    /// OLD is retired and points at NEW. Audited.
    Merge {
        /// The code of the organisation that goes, e.g. GM0088.
        old: String,
        /// The code of the one it goes into, e.g. GM1966.
        new: String,
    },
}

#[derive(Debug, Subcommand)]
enum JobsCommand {
    /// Do what is due now once, then exit (what `serve` does every `jobs.interval_secs`).
    RunOnce,
}

#[derive(Debug, Subcommand)]
enum PartnerCommand {
    /// Create a partner client; prints its client id and secret once.
    Create {
        /// Who it is, e.g. "VNG Realisatie".
        #[arg(long)]
        name: String,
        /// Comma-separated: organisations:read, lessons:read, stats:read,
        /// webhooks:manage.
        #[arg(long)]
        scopes: String,
        /// Who is emailed when one of the partner's webhook endpoints is
        /// switched off.
        #[arg(long)]
        contact: Option<String>,
    },
    /// Revoke a partner client: its tokens stop working at once.
    Revoke {
        /// The client id printed by `partner create`.
        client_id: String,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account. The password is read from MEELOOP_USER_PASSWORD or
    /// asked for on the terminal; it is never an argument.
    Create {
        /// Login email address.
        #[arg(long)]
        email: String,
        /// Full name.
        #[arg(long)]
        name: String,
        /// admin or coordinator.
        #[arg(long)]
        role: Role,
        /// Code of the coordinator's organisation (e.g. GM0363).
        #[arg(long, value_name = "CODE")]
        organisation: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Import organisations from a CSV file (CBS municipality list or the general format; see docs/import.md).
    Organisations {
        /// The CSV file (UTF-8).
        file: PathBuf,
        /// Import the valid rows even when some rows are invalid.
        #[arg(long)]
        skip_invalid: bool,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("meeloop: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let long_running = matches!(
        cli.command,
        Command::Serve { .. } | Command::Mail(MailCommand::Deliver { once: false })
    );
    init_tracing(&settings, long_running);
    keep_files_private(&settings.data_dir);
    let result = match cli.command {
        Command::Backup { file } => backup(&settings, &file),
        Command::Probe => Ok(probe(&settings)),
        Command::Openapi => {
            let base = settings.base_url().unwrap_or_default();
            let doc = crate::http::openapi(&base, &settings.mail.from);
            println!("{}", doc.to_pretty_json().unwrap_or_default());
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { demo } => serve(settings, demo),
        Command::Privacy(command) => privacy(&settings, command),
        Command::Organisations(OrganisationsCommand::Merge { old, new }) => {
            merge_organisations(&settings, old, new)
        }
        Command::Migrate { status } => migrate(&settings, status),
        Command::Import(ImportCommand::Organisations { file, skip_invalid }) => {
            import_organisations(&settings, &file, skip_invalid)
        }
        Command::User(UserCommand::Create {
            email,
            name,
            role,
            organisation,
        }) => create_user(&settings, email, name, role, organisation),
        Command::Partner(PartnerCommand::Create {
            name,
            scopes,
            contact,
        }) => create_partner(&settings, &name, &scopes, contact.as_deref()),
        Command::Partner(PartnerCommand::Revoke { client_id }) => {
            revoke_partner(&settings, &client_id)
        }
        Command::Mail(command) => mail(&settings, command),
        Command::Jobs(JobsCommand::RunOnce) => run_jobs_once(&settings),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("meeloop: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The database (password hashes, personal data), the signing key and the
/// mail files (working single-use links) are for this user alone: every
/// file and folder created from here on is 600/700 (umask 077), and an
/// existing data directory is closed to others (700), which also hides
/// files an earlier version left readable.
fn keep_files_private(data_dir: &Path) {
    // SAFETY: umask only sets the process's file creation mask; it cannot
    // fail and touches no memory.
    unsafe {
        libc::umask(0o077);
    }
    if data_dir.is_dir() {
        use std::os::unix::fs::PermissionsExt;
        if let Err(e) = std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700)) {
            tracing::warn!(error = %e, dir = %data_dir.display(), "cannot close the data directory to other users");
        }
    }
}

/// Logs go to stderr. `RUST_LOG` overrides the configured filter; commands
/// other than `serve` only log warnings unless asked, to keep their output clean.
fn init_tracing(settings: &Settings, serving: bool) {
    let default = if serving {
        settings.log.filter.as_str()
    } else {
        "warn"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // Colours only for a person at a terminal: in a log file or journal
    // they are escape sequences in the middle of every line.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match settings.log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

fn connect(settings: &Settings) -> anyhow::Result<DbPool> {
    let target = settings.database_target().map_err(anyhow::Error::msg)?;
    tracing::info!(database = %target.redacted(), "connecting to the database");
    settings
        .database
        .connect(&target)
        .with_context(|| format!("cannot open the database {}", target.redacted()))
}

fn connect_and_migrate(settings: &Settings) -> anyhow::Result<DbPool> {
    let pool = connect(settings)?;
    let applied = db::migrations::run_pending(&mut pool.get()?)?;
    for name in applied {
        tracing::info!(migration = %name, "migration applied");
    }
    Ok(pool)
}

fn serve(settings: Settings, demo: bool) -> anyhow::Result<ExitCode> {
    let pool = connect_and_migrate(&settings)?;
    if demo {
        let mut conn = pool.get()?;
        let report = service::demo::load(&mut conn)?;
        println!(
            "Meeloop is running with DEMO DATA: {} topics, {} organisations ({} new), {} expertise entries.",
            report.topics,
            report.organisations.inserted + report.organisations.updated + report.organisations.unchanged,
            report.organisations.inserted,
            report.expertise
        );
        let history = service::demo::load_history(&mut conn)?;
        if history > 0 {
            println!(
                "Added {history} shadow visits of the past weeks with their lessons (the knowledge base)."
            );
        }
        let accounts = service::demo::create_accounts(&mut conn)?;
        service::demo::load_waiting_form(&mut conn)?;
        if service::demo::follow_topics(&mut conn)? {
            println!(
                "Sietske de Vries (Súdwest-Fryslân) follows two topics: last month's digest is written to the outbox (data/mail/ with the default files transport)."
            );
        }
        for provider in &settings.auth.oidc {
            let domains = service::demo::map_sso_domains(&mut conn, &provider.id)?;
            println!(
                "Single sign-on: {} sign in through '{}' ({}).",
                domains.join(" and "),
                provider.name,
                provider.issuer
            );
        }
        println!("Demo accounts (new passwords at every start with --demo):");
        for (email, role, password) in accounts {
            println!("  {role:<12} {email:<40} {password}");
        }
    }
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(&settings, pool)
            .with_context(|| format!("cannot listen on {}", settings.bind_address()))?;
        let base = format!("http://{}:{}", settings.server.host, app.port());
        println!("Listening on {base}  (API docs: {base}/api/v1/docs/)");
        println!("Open {base}/ in a browser and log in with an account above.");
        match (&settings.mail.transport, settings.mail.deliver) {
            (_, false) => println!("Email: not delivered by this instance (mail.deliver = false)."),
            (crate::config::MailTransport::Files, true) => println!(
                "Email: written as .eml files to {} (set [mail.smtp] to send for real).",
                settings.mail_folder().unwrap_or_default().display()
            ),
            (crate::config::MailTransport::Smtp, true) => println!(
                "Email: sent through {}:{}.",
                settings.mail.smtp.host, settings.mail.smtp.port
            ),
        }
        tracing::info!(%base, "listening");
        app.run_until_stopped().await?;
        tracing::info!("stopped");
        Ok(ExitCode::SUCCESS)
    })
}

fn migrate(settings: &Settings, status_only: bool) -> anyhow::Result<ExitCode> {
    let pool = connect(settings)?;
    let mut conn = pool.get()?;
    if status_only {
        let pending = db::migrations::pending(&mut conn)?;
        if pending.is_empty() {
            println!("The database is up to date.");
        }
        for name in pending {
            println!("pending: {name}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let applied = db::migrations::run_pending(&mut conn)?;
    if applied.is_empty() {
        println!("The database is up to date.");
    }
    for name in applied {
        println!("applied: {name}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Shows a progress bar on a terminal; nothing otherwise.
struct Bar(ProgressBar);

impl service::import::Progress for Bar {
    fn start(&mut self, total: u64) {
        self.0.set_length(total);
    }
    fn advance(&mut self, rows: u64) {
        self.0.inc(rows);
    }
}

fn import_organisations(
    settings: &Settings,
    file: &Path,
    skip_invalid: bool,
) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let pool = connect_and_migrate(settings)?;
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new(0).with_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} rows written ({eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        )
    } else {
        ProgressBar::hidden()
    };
    let mut progress = Bar(bar);
    let report = service::import::import_organisations(
        &mut pool.get()?,
        &bytes,
        skip_invalid,
        &mut progress,
        Some(&service::import::Importer {
            actor: "cli".into(),
            address: None,
        }),
    )?;
    progress.0.finish_and_clear();
    for error in &report.invalid {
        eprintln!("{}: {error}", file.display());
    }
    if !report.applied {
        eprintln!(
            "{} invalid row(s): nothing was imported. Fix them, or use --skip-invalid to import the valid rows only.",
            report.invalid.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    println!(
        "Imported {} ({} format): {} inserted, {} updated, {} unchanged{}.",
        file.display(),
        report.format.name(),
        report.inserted,
        report.updated,
        report.unchanged,
        if report.invalid.is_empty() {
            String::new()
        } else {
            format!(", {} invalid row(s) skipped", report.invalid.len())
        }
    );
    if !report.missing.is_empty() {
        println!(
            "{} municipalit(y/ies) in Meeloop are not in this list (kept as they are; if they merged, run `meeloop organisations merge OLD NEW`):",
            report.missing.len()
        );
        for (code, name) in &report.missing {
            println!("  {code}  {name}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn create_user(
    settings: &Settings,
    email: String,
    name: String,
    role: Role,
    organisation: Option<String>,
) -> anyhow::Result<ExitCode> {
    let password = match std::env::var("MEELOOP_USER_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            let first = rpassword::prompt_password("Password (12-128 characters): ")
                .context("no terminal to ask for a password on; set MEELOOP_USER_PASSWORD")?;
            let again = rpassword::prompt_password("Password again: ")?;
            anyhow::ensure!(first == again, "the passwords differ");
            first
        }
    };
    let password = Password::parse(&password)?;
    let pool = connect_and_migrate(settings)?;
    let user = service::accounts::create_user(
        &mut pool.get()?,
        &service::accounts::NewAccount {
            email,
            name,
            role,
            organisation,
            password,
        },
    )?;
    println!(
        "Created {} {} (id {}).",
        user.role.as_str(),
        user.email,
        user.id
    );
    Ok(ExitCode::SUCCESS)
}

fn create_partner(
    settings: &Settings,
    name: &str,
    scopes: &str,
    contact: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let scopes = Scopes::parse(scopes)?;
    let pool = connect_and_migrate(settings)?;
    let (partner, secret) =
        service::partners::create_partner(&mut pool.get()?, name, scopes, contact)?;
    println!("Created partner client for {}.", partner.name);
    println!("  client_id:     {}", partner.client_id);
    println!("  client_secret: {secret}");
    println!("  scopes:        {}", partner.scopes);
    println!("Store the secret now: it is not kept and cannot be shown again.");
    Ok(ExitCode::SUCCESS)
}

fn backup(settings: &Settings, file: &std::path::Path) -> anyhow::Result<ExitCode> {
    match settings
        .database_target()
        .map_err(|e| anyhow::anyhow!("configuration: {e}"))?
    {
        crate::config::DatabaseTarget::Sqlite(path) => {
            let started = std::time::Instant::now();
            let copied = db::backup::sqlite(&path, file).map_err(|e| anyhow::anyhow!(e))?;
            println!(
                "Backed up {} to {} ({} pages, {} bytes) in {:.1} s; its integrity check says ok.",
                path.display(),
                file.display(),
                copied.pages,
                copied.bytes,
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        crate::config::DatabaseTarget::Postgres(_) => {
            eprintln!(
                "The database is PostgreSQL: back it up with pg_dump (docs/operations.md, \"Backups\")."
            );
            Ok(ExitCode::from(2))
        }
    }
}

fn revoke_partner(settings: &Settings, client_id: &str) -> anyhow::Result<ExitCode> {
    let pool = connect_and_migrate(settings)?;
    service::partners::revoke_partner(&mut pool.get()?, client_id)?;
    println!("Revoked {client_id}; its tokens no longer work.");
    Ok(ExitCode::SUCCESS)
}

/// The use cases' context for a command: the database (migrated), links
/// from the settings, no matching snapshot kept between calls.
fn command_context(settings: &Settings) -> anyhow::Result<crate::service::context::Context> {
    let pool = connect_and_migrate(settings)?;
    let base_url = settings.base_url().map_err(anyhow::Error::msg)?;
    Ok(crate::service::context::Context::from_settings(
        pool,
        settings,
        base_url,
        std::time::Duration::ZERO,
    ))
}

fn merge_organisations(settings: &Settings, old: String, new: String) -> anyhow::Result<ExitCode> {
    let ctx = command_context(settings)?;
    let merged = actix_web::rt::System::new()
        .block_on(crate::service::merger::merge_by_operator(&ctx, old, new))?;
    let m = merged.moved;
    println!(
        "Merged {} into {}: {} expertise topic(s), {} visit side(s), {} lesson side(s), {} account(s) and {} email link(s) moved.",
        merged.from, merged.into, m.expertise, m.visits, m.lessons, m.accounts, m.links
    );
    Ok(ExitCode::SUCCESS)
}

fn run_jobs_once(settings: &Settings) -> anyhow::Result<ExitCode> {
    settings
        .matching
        .validate()
        .map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    let ctx = command_context(settings)?;
    let scheduler = crate::jobs::Scheduler::new(ctx);
    let report = actix_web::rt::System::new().block_on(scheduler.run_once())?;
    println!(
        "Nudged {}, expired {}, reminded {}, completed {} visit(s); reminded {} about lessons; followed up {}; closed {} request(s) nobody can answer; {} failed.",
        report.nudged, report.expired, report.reminded, report.completed, report.lessons_reminded, report.followed_up,
        report.closed_undeliverable + report.closed_no_days_left, report.failed
    );
    let d = report.digests;
    if d.sent + d.nothing_new + d.failed > 0 {
        println!(
            "Monthly digest: {} queued, {} with nothing new (none sent), {} failed.",
            d.sent, d.nothing_new, d.failed
        );
    }
    if let Some(purged) = report.purged {
        println!(
            "Retention purge: {} record(s) or file(s) past their period removed or pseudonymised.",
            purged.total()
        );
    }
    println!("Emails are queued; `meeloop mail deliver --once` or `serve` sends them.");
    Ok(if report.failed + d.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// One `GET /readyz` over plain HTTP/1.0 to this instance's port, two
/// seconds at most; 200 is ready.
fn probe(settings: &Settings) -> ExitCode {
    use std::io::{Read, Write};
    use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
    use std::time::Duration;
    // Listening on every address: ask on loopback.
    let host = match settings.server.host.parse::<IpAddr>() {
        Ok(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        Ok(ip) => ip,
        Err(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    let address = SocketAddr::new(host, settings.server.port);
    let timeout = Duration::from_secs(2);
    let answer = TcpStream::connect_timeout(&address, timeout).and_then(|mut stream| {
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        write!(stream, "GET /readyz HTTP/1.0\r\nHost: {address}\r\n\r\n")?;
        let mut head = [0_u8; 12];
        stream.read_exact(&mut head)?;
        Ok(head)
    });
    match answer {
        Ok(head) if head.starts_with(b"HTTP/1.") && &head[9..12] == b"200" => {
            println!("ready");
            ExitCode::SUCCESS
        }
        Ok(head) => {
            eprintln!("not ready: {}", String::from_utf8_lossy(&head).trim());
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("not ready: {address}: {e}");
            ExitCode::FAILURE
        }
    }
}
