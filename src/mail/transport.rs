//! Where built messages go: an SMTP relay (coming with the settings), a
//! folder of `.eml` files (the embedded default, so a newcomer can open
//! what was sent), or memory (tests).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use lettre::{AsyncFileTransport, AsyncTransport, Message, Tokio1Executor};

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
    /// Each message becomes `<folder>/<uuid>.eml`.
    Files(PathBuf),
    /// Kept in memory, for tests.
    Memory(Arc<Mutex<Vec<Delivered>>>),
}

impl Transport {
    pub async fn send(&self, message: Message) -> Result<(), SendFailure> {
        match self {
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
