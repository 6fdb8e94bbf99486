//! `meeloop mail …`: deliver, inspect and requeue the outbox, send a test.

use std::process::ExitCode;

use clap::Subcommand;

use super::connect_and_migrate;
use crate::config::Settings;
use crate::service;

#[derive(Debug, Subcommand)]
pub(super) enum MailCommand {
    /// Deliver queued email (what `serve` does in the background).
    Deliver {
        /// Deliver what is due now, then exit.
        #[arg(long)]
        once: bool,
    },
    /// Messages per state, the oldest waiting one, and the latest errors.
    Status,
    /// Give dead messages a fresh set of attempts.
    Requeue {
        /// Requeue dead messages (required, so nothing is requeued by accident).
        #[arg(long, required = true)]
        dead: bool,
        /// Only this message.
        #[arg(long)]
        id: Option<i64>,
    },
    /// Send a test message through the configured transport and report the result.
    SendTest {
        /// The recipient.
        #[arg(long)]
        to: String,
        /// nl or en.
        #[arg(long, default_value = "nl")]
        language: crate::domain::organisation::Language,
        /// Only queue it; a running `serve` delivers it.
        #[arg(long)]
        queue_only: bool,
        /// Send this many (1 to 10,000), to check a relay's pace.
        #[arg(long, default_value_t = 1)]
        count: u32,
    },
}

pub(super) fn mail(settings: &Settings, command: MailCommand) -> anyhow::Result<ExitCode> {
    let pool = connect_and_migrate(settings)?;
    actix_web::rt::System::new().block_on(async move {
        // Inside the runtime: the SMTP pool starts a background task.
        let mailer = crate::mail::Mailer::from_settings(settings).map_err(anyhow::Error::msg)?;
        let ctx = crate::service::context::Context::from_settings(
            pool.clone(),
            settings,
            mailer.base_url.clone(),
            std::time::Duration::ZERO,
        );
        match command {
            MailCommand::Deliver { once: true } => {
                let round =
                    crate::mail::worker::drain(&pool, &mailer.transport, &mailer.sender).await?;
                println!(
                    "Delivered {} message(s); {} to retry later, {} dead.",
                    round.sent, round.retrying, round.dead
                );
                Ok(if round.retrying + round.dead > 0 {
                    ExitCode::FAILURE
                } else {
                    ExitCode::SUCCESS
                })
            }
            MailCommand::Deliver { once: false } => {
                let (stop, stopped) = tokio::sync::watch::channel(false);
                let worker = actix_web::rt::spawn(crate::mail::worker::run(
                    pool,
                    mailer.transport,
                    mailer.sender,
                    mailer.poll,
                    stopped,
                ));
                tokio::signal::ctrl_c().await?;
                let _ = stop.send(true);
                let _ = worker.await;
                Ok(ExitCode::SUCCESS)
            }
            MailCommand::Status => {
                let status = service::mail::status(&ctx).await?;
                for (state, n) in &status.counts {
                    println!("{:<8} {n:>8}", state.as_str());
                }
                match status.oldest_waiting {
                    Some(w) => println!(
                        "Oldest waiting message: queued {}, next attempt {}.",
                        local_time(w.queued_at),
                        local_time(w.next_attempt_at)
                    ),
                    None => println!("Nothing is waiting."),
                }
                if !status.recent_errors.is_empty() {
                    println!("Latest errors:");
                }
                for m in status.recent_errors {
                    println!(
                        "  #{} {} to {} ({}, {} attempt(s)): {}",
                        m.id,
                        m.state,
                        m.recipient,
                        m.template,
                        m.attempts,
                        m.last_error.unwrap_or_default()
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
            MailCommand::Requeue { dead: _, id } => {
                let n = service::mail::requeue_dead(&ctx, id).await?;
                println!("Requeued {n} dead message(s); they are due now.");
                Ok(ExitCode::SUCCESS)
            }
            MailCommand::SendTest {
                to,
                language,
                queue_only,
                count,
            } => {
                let ids = service::mail::queue_test(&ctx, &to, language, count).await?;
                if queue_only {
                    println!("Queued {} test message(s) to {to}.", ids.len());
                    return Ok(ExitCode::SUCCESS);
                }
                let started = std::time::Instant::now();
                crate::mail::worker::drain(&pool, &mailer.transport, &mailer.sender).await?;
                let elapsed = started.elapsed();
                let mut failed = 0;
                for &id in &ids {
                    let message = service::mail::message(&ctx, id).await?;
                    if message.state != crate::domain::mail::MessageState::Sent {
                        failed += 1;
                        println!(
                            "Test message {id} to {to} is {}: {}",
                            message.state,
                            message.last_error.unwrap_or_default()
                        );
                    }
                }
                if failed > 0 {
                    return Ok(ExitCode::FAILURE);
                }
                let what = match &mailer.transport {
                    crate::mail::transport::Transport::Files(folder) => format!(
                        "written to {} (mail.transport = \"files\": nothing leaves this machine)",
                        folder.display()
                    ),
                    _ => "accepted by the mail relay".to_string(),
                };
                if ids.len() == 1 {
                    println!("Test message {} to {to} was {what}.", ids[0]);
                } else {
                    println!(
                        "{} test messages to {to} were {what} in {:.2} s ({:.0} per second).",
                        ids.len(),
                        elapsed.as_secs_f64(),
                        ids.len() as f64 / elapsed.as_secs_f64().max(1e-9)
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

/// A stored UTC time as Dutch local time.
fn local_time(at: chrono::NaiveDateTime) -> String {
    at.and_utc()
        .with_timezone(&chrono_tz::Europe::Amsterdam)
        .format("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}
