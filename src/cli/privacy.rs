//! `meeloop privacy …`: what an operator does for the privacy officer
//! (docs/privacy.md).

use std::process::ExitCode;

use clap::Subcommand;

use super::connect_and_migrate;
use crate::config::Settings;
use crate::service::context::Context;

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
}

pub(super) fn privacy(settings: &Settings, command: PrivacyCommand) -> anyhow::Result<ExitCode> {
    settings
        .privacy
        .validate()
        .map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    let pool = connect_and_migrate(settings)?;
    let base_url = settings.base_url().map_err(anyhow::Error::msg)?;
    let ctx = Context::from_settings(pool, settings, base_url, std::time::Duration::ZERO);
    match command {
        PrivacyCommand::Purge { dry_run } => {
            let now = ctx.now();
            let purged = actix_web::rt::System::new()
                .block_on(crate::service::privacy::purge(&ctx, "cli", now, dry_run))?;
            let r = &settings.privacy;
            println!(
                "Retention (days): audit log {}, sent emails {}, emails that gave up {}, link tokens {}, mail files {}, free text {}.",
                r.audit_log_days, r.sent_mail_days, r.dead_mail_days, r.link_tokens_days, r.mail_files_days, r.free_text_days
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
