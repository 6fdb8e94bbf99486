//! Where built messages go: an SMTP relay (coming with the settings), a
//! folder of `.eml` files (the embedded default, so a newcomer can open
//! what was sent), or memory (tests).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::domain::mail::SendFailure;

/// A message a transport has taken.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub to: Vec<String>,
    /// The whole message as sent (RFC 5322).
    pub raw: Vec<u8>,
}

/// How to reach an SMTP relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain, then upgraded with STARTTLS (required).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same machine or network.
    None,
}

#[derive(Clone)]
pub enum Transport {
    /// An SMTP relay; one pooled transport for the process.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// Each message becomes `<folder>/<uuid>.eml`.
    Files(PathBuf),
    /// Kept in memory, for tests.
    Memory(Arc<Mutex<Vec<Delivered>>>),
}

impl Transport {
    /// Built once at start-up; connections are pooled and reused.
    pub fn smtp(
        host: &str,
        port: u16,
        security: SmtpSecurity,
        credentials: Option<(String, String)>,
    ) -> Result<Transport, String> {
        let tls = |host: &str| {
            TlsParameters::new(host.into()).map_err(|e| format!("TLS for {host}: {e}"))
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(std::time::Duration::from_secs(30)));
        builder = match security {
            SmtpSecurity::StartTls => builder.tls(Tls::Required(tls(host)?)),
            SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls(host)?)),
            SmtpSecurity::None => builder.tls(Tls::None),
        };
        if let Some((user, password)) = credentials {
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(Transport::Smtp(builder.build()))
    }

    pub async fn send(&self, message: Message) -> Result<(), SendFailure> {
        match self {
            Transport::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(|e| {
                // 5xx on the message or recipient will never work; everything
                // else (refused connections, timeouts, 4xx) may.
                if e.is_permanent() {
                    SendFailure::Permanent(e.to_string())
                } else {
                    SendFailure::Temporary(e.to_string())
                }
            }),
            Transport::Files(folder) => {
                tokio::fs::create_dir_all(folder).await.map_err(|e| {
                    SendFailure::Temporary(format!("cannot create {}: {e}", folder.display()))
                })?;
                let id = AsyncFileTransport::<Tokio1Executor>::new(folder)
                    .send(message)
                    .await
                    .map_err(|e| {
                        SendFailure::Temporary(format!("cannot write the message: {e}"))
                    })?;
                tracing::info!(file = %folder.join(format!("{id}.eml")).display(), "email written");
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
