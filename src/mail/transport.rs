//! Where built messages go: an SMTP relay, a folder of `.eml` files (the embedded default, so a newcomer can open
//! what was sent), or memory (tests).

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use secrecy::ExposeSecret;

pub use crate::config::SmtpSecurity;
use crate::config::SmtpSettings;
use crate::domain::mail::SendFailure;

/// A message a transport has taken.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub to: Vec<String>,
    /// The whole message as sent (RFC 5322).
    pub raw: Vec<u8>,
}

#[derive(Clone)]
pub enum Transport {
    /// An SMTP relay; one pooled transport for the process.
    Smtp(Arc<SmtpPool>),
    /// Each message becomes `<folder>/<uuid>.eml`.
    Files(PathBuf),
    /// Kept in memory, for tests.
    Memory(Arc<Mutex<Vec<Delivered>>>),
}

impl Transport {
    /// Built once at start-up; connections are pooled and reused.
    pub fn smtp(settings: &SmtpSettings) -> Result<Transport, String> {
        let host = settings.host.as_str();
        let tls = || -> Result<TlsParameters, String> {
            let mut params = TlsParameters::builder(host.into());
            if let Some(file) = &settings.ca_file {
                let pem = std::fs::read(file).map_err(|e| {
                    format!("cannot read mail.smtp.ca_file {}: {e}", file.display())
                })?;
                let cert = Certificate::from_pem(&pem)
                    .map_err(|e| format!("mail.smtp.ca_file {}: {e}", file.display()))?;
                params = params.add_root_certificate(cert);
            }
            params.build().map_err(|e| format!("TLS for {host}: {e}"))
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(settings.port)
            .timeout(Some(std::time::Duration::from_secs(
                settings.timeout_secs.max(1),
            )));
        builder = match settings.security {
            SmtpSecurity::StartTls => builder.tls(Tls::Required(tls()?)),
            SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls()?)),
            SmtpSecurity::None => builder.tls(Tls::None),
        };
        match (&settings.username, &settings.password) {
            (Some(user), Some(password)) => {
                builder = builder.credentials(Credentials::new(
                    user.clone(),
                    password.expose_secret().to_string(),
                ));
            }
            (None, None) => {}
            _ => return Err("mail.smtp.username and mail.smtp.password go together".into()),
        }
        Ok(Transport::Smtp(Arc::new(SmtpPool(Some(builder.build())))))
    }

    pub async fn send(&self, message: Message) -> Result<(), SendFailure> {
        match self {
            Transport::Smtp(smtp) => {
                let Some(pool) = &smtp.0 else {
                    return Err(SendFailure::Temporary("the SMTP pool is closed".into()));
                };
                InRuntime(Some(Box::pin(pool.send(message))))
                    .await
                    .map(|_| ())
                    .map_err(|e| {
                        // 5xx on the message or recipient will never work; everything
                        // else (refused connections, timeouts, 4xx) may.
                        if e.is_permanent() {
                            SendFailure::Permanent(e.to_string())
                        } else {
                            SendFailure::Temporary(e.to_string())
                        }
                    })
            }
            Transport::Files(folder) => {
                tokio::fs::create_dir_all(folder).await.map_err(|e| {
                    SendFailure::Temporary(format!("cannot create {}: {e}", folder.display()))
                })?;
                let path = folder.join(eml_name(&message));
                // Written aside and renamed: a reader never sees half a message,
                // and a redelivery replaces the file instead of adding one.
                let partial = path.with_extension("eml.partial");
                tokio::fs::write(&partial, message.formatted())
                    .await
                    .and(tokio::fs::rename(&partial, &path).await)
                    .map_err(|e| {
                        SendFailure::Temporary(format!("cannot write {}: {e}", path.display()))
                    })?;
                tracing::info!(file = %path.display(), "email written");
                Ok(())
            }
            Transport::Memory(sent) => {
                let to = message
                    .envelope()
                    .to()
                    .iter()
                    .map(|a| a.to_string())
                    .collect();
                let raw = message.formatted();
                sent.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(Delivered { to, raw });
                Ok(())
            }
        }
    }
}

/// `000012-meeloop@zwolle.example.eml`: the outbox id (from the Message-ID
/// `<outbox-{id}@…>`) sorts files in queue order; the recipient says whose.
fn eml_name(message: &Message) -> String {
    let id = message
        .headers()
        .get_raw("Message-ID")
        .and_then(|mid| mid.trim_start_matches("<outbox-").split('@').next())
        .and_then(|id| id.parse::<i64>().ok())
        .map(|id| format!("{id:06}"))
        .unwrap_or_else(|| uuid_like(message));
    let to = message
        .envelope()
        .to()
        .first()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let safe: String = to
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "@.-_+".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{id}-{safe}.eml")
}

/// A name for a message without our Message-ID (not ours to number).
fn uuid_like(message: &Message) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(message.formatted());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// lettre's pooled SMTP transport, which must be dropped inside a Tokio
/// runtime (dropping it spawns a task that closes the connections). When
/// the last reference goes while the runtime itself is shutting down, the
/// connections are left to the process exit instead of aborting it.
pub struct SmtpPool(Option<AsyncSmtpTransport<Tokio1Executor>>);

impl Drop for SmtpPool {
    fn drop(&mut self) {
        drop_in_runtime(self.0.take());
    }
}

/// Drops `value` if a Tokio runtime is there to run what its destructor
/// spawns; otherwise (the runtime is shutting down) leaves it to the
/// process exit.
fn drop_in_runtime<T>(value: T) {
    if tokio::runtime::Handle::try_current().is_ok() {
        drop(value);
    } else {
        std::mem::forget(value);
    }
}

/// A send in flight holds a pooled connection whose drop also needs the
/// runtime; the same rule when a send is abandoned at shutdown.
struct InRuntime<F: Future + Unpin>(Option<F>);

impl<F: Future + Unpin> Future for InRuntime<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        match self.0.as_mut() {
            Some(fut) => Pin::new(fut).poll(cx),
            None => Poll::Pending,
        }
    }
}

impl<F: Future + Unpin> Drop for InRuntime<F> {
    fn drop(&mut self) {
        drop_in_runtime(self.0.take());
    }
}
