//! Where built messages go: an SMTP relay, a folder of `.eml` files (the embedded default, so a newcomer can open
//! what was sent), or memory (tests).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use secrecy::ExposeSecret;

use crate::config::SmtpSettings;
use crate::domain::mail::SendFailure;

/// A message a transport has taken.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub to: Vec<String>,
    /// The whole message as sent (RFC 5322).
    pub raw: Vec<u8>,
}

/// How to reach an SMTP relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
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
