//! `meeloop privacy …`: what an operator does for the privacy officer
//! (docs/privacy.md).

use std::process::ExitCode;

use clap::Subcommand;

use std::io::Write;

use crate::config::Settings;
use crate::service::privacy::Whose;

#[derive(Debug, Subcommand)]
pub(super) enum PrivacyCommand {
    /// Remove (or, for free text, pseudonymise) what is past its retention
    /// period ([privacy] in the configuration), as the scheduler does every
    /// privacy.purge_interval_hours. Audited.
    Purge {
        /// Only show what would go; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Everything Meeloop holds about a person or an organisation (AVG art.
    /// 15 and 20), to standard output: JSON (the tables, without secrets or
    /// email bodies) or readable text. Audited.
    Export {
        #[command(flatten)]
        whose: WhoseArgs,
        /// json (machine-readable) or text (for people).
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        /// Language of the readable text: nl or en.
        #[arg(long, default_value = "nl")]
        language: crate::domain::organisation::Language,
    },
    /// Erase a person (AVG art. 17): their name and address disappear from
    /// every table and mail file; the account stays as "verwijderde
    /// gebruiker" so counts and reputation stay true. For an organisation:
    /// its contact address and every account it has. Asks to type the
    /// address (or code) again unless --yes. Audited.
    Erase {
        #[command(flatten)]
        whose: WhoseArgs,
        /// Do not ask: the caller confirmed already.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub(super) struct WhoseArgs {
    /// The person's login address.
    #[arg(long, value_name = "EMAIL")]
    user: Option<String>,
    /// The organisation's code, e.g. GM0363.
    #[arg(long, value_name = "CODE")]
    organisation: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum Format {
    Json,
    Text,
}

/// An erasure cannot be undone: the operator types the address or code again.
fn confirm(named: &str) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("erasure cannot be undone: run it on a terminal to confirm, or add --yes");
    }
    eprint!("This cannot be undone. Type {named} again to erase: ");
    let mut typed = String::new();
    std::io::stdin().read_line(&mut typed)?;
    if typed.trim().eq_ignore_ascii_case(named.trim()) {
        Ok(())
    } else {
        anyhow::bail!("not confirmed; nothing was erased")
    }
}

/// The subject named on the command line, looked up.
fn whose(pool: &crate::db::DbPool, args: &WhoseArgs) -> anyhow::Result<Whose> {
    let mut conn = pool.get()?;
    match (&args.user, &args.organisation) {
        (Some(email), _) => crate::db::users::id_by_email(&mut conn, email)?
            .map(Whose::User)
            .ok_or_else(|| anyhow::anyhow!("no account with the address {email}")),
        (None, Some(code)) => crate::db::organisations::id_by_code(&mut conn, code.trim())?
            .map(Whose::Organisation)
            .ok_or_else(|| anyhow::anyhow!("no organisation with the code {code}")),
        (None, None) => anyhow::bail!("name --user or --organisation"),
    }
}

pub(super) fn privacy(settings: &Settings, command: PrivacyCommand) -> anyhow::Result<ExitCode> {
    settings
        .privacy
        .validate()
        .map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    let ctx = super::command_context(settings)?;
    match command {
        PrivacyCommand::Erase { whose: args, yes } => {
            let named = args
                .user
                .clone()
                .or(args.organisation.clone())
                .unwrap_or_default();
            let whose = whose(&ctx.pool, &args)?;
            if !yes {
                confirm(&named)?;
            }
            let erased = actix_web::rt::System::new()
                .block_on(crate::service::privacy::erase_by_operator(&ctx, whose))?;
            println!(
                "Erased {}: {} account(s) made anonymous, {} text(s) rewritten, {} unsent email(s) and {} mail file(s) deleted.",
                whose.reference(), erased.accounts, erased.texts, erased.unsent_emails, erased.mail_files
            );
            Ok(ExitCode::SUCCESS)
        }
        PrivacyCommand::Export {
            whose: args,
            format,
            language,
        } => {
            let whose = whose(&ctx.pool, &args)?;
            let export = actix_web::rt::System::new()
                .block_on(crate::service::privacy::export_by_operator(&ctx, whose))?;
            let mut out = std::io::stdout().lock();
            match format {
                Format::Json => serde_json::to_writer_pretty(&mut out, &export)?,
                Format::Text => out.write_all(export.readable(language).as_bytes())?,
            }
            writeln!(out)?;
            Ok(ExitCode::SUCCESS)
        }
        PrivacyCommand::Purge { dry_run } => {
            let now = ctx.now();
            let purged = actix_web::rt::System::new()
                .block_on(crate::service::privacy::purge(&ctx, "cli", now, dry_run))?;
            let r = &settings.privacy;
            println!(
                "Retention (days): audit log {}, sent emails {}, emails that gave up {}, link tokens {}, mail files {}, free text {}, webhook deliveries {}.",
                r.audit_log_days, r.sent_mail_days, r.dead_mail_days, r.link_tokens_days, r.mail_files_days, r.free_text_days, r.webhook_log_days
            );
            println!(
                "{}",
                if dry_run {
                    "Would purge (dry run, nothing changed):"
                } else {
                    "Purged:"
                }
            );
            for (what, n) in purged.rows() {
                println!("  {n:>8}  {what}");
            }
            println!("  {:>8}  in all", purged.total());
            Ok(ExitCode::SUCCESS)
        }
    }
}
