//! Email: building messages from the outbox, the transports that carry
//! them, and the worker that delivers what is due (docs/mail.md).

pub mod transport;
pub mod worker;

use lettre::message::header::{ContentType, MessageId};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::Message;
use serde::Deserialize;

use crate::db::outbox::Claimed;
use crate::domain::mail::{message_id, SendFailure};

/// One attachment as the outbox stores it (JSON).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredAttachment {
    filename: String,
    content_type: String,
    base64: String,
}

/// The MIME message for a claimed outbox row: multipart/alternative with
/// the text part first (what plain readers show), HTML second, then any
/// attachments; the Message-ID derived from the outbox id.
pub fn build(claim: &Claimed, from: &Mailbox, domain: &str) -> Result<Message, SendFailure> {
    let permanent =
        |what: &str, e: &dyn std::fmt::Display| SendFailure::Permanent(format!("{what}: {e}"));
    let to: Mailbox = claim
        .recipient
        .parse()
        .map_err(|e| permanent("invalid recipient", &e))?;
    let alternative = MultiPart::alternative()
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(claim.body_text.clone()),
        )
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(claim.body_html.clone()),
        );
    let attachments: Vec<StoredAttachment> = serde_json::from_str(&claim.attachments)
        .map_err(|e| permanent("stored attachments are not readable", &e))?;
    let body = if attachments.is_empty() {
        alternative
    } else {
        use base64::Engine;
        let mut mixed = MultiPart::mixed().multipart(alternative);
        for a in attachments {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(a.base64.as_bytes())
                .map_err(|e| permanent("attachment is not base64", &e))?;
            let content_type = ContentType::parse(&a.content_type)
                .map_err(|e| permanent("attachment content type", &e))?;
            mixed = mixed.singlepart(Attachment::new(a.filename).body(bytes, content_type));
        }
        mixed
    };
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(claim.subject.clone())
        .header(MessageId::from(message_id(claim.id, domain)))
        .multipart(body)
        .map_err(|e| permanent("message cannot be built", &e))
}
