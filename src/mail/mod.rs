//! Email: building messages from the outbox, the transports that carry
//! them, and the worker that delivers what is due (docs/mail.md).

pub mod emails;
pub mod files;
pub mod ics;
pub mod templates;
pub mod transport;
pub mod worker;

use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue, MessageId};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::Message;
use serde::Deserialize;

use crate::config::{Environment, MailTransport, Settings};
use crate::db::outbox::Claimed;
use crate::domain::mail::{message_id, RetryPolicy, SendFailure};
use transport::Transport;
use worker::Sender;

/// The mail setup of this process, built once from the settings: the
/// transport (one SMTP pool), who sends, and how the worker paces itself.
#[derive(Clone)]
pub struct Mailer {
    pub transport: Transport,
    pub sender: Sender,
    pub poll: std::time::Duration,
    /// Whether `serve` runs the worker.
    pub deliver: bool,
    /// Base of links in emails, without a trailing slash.
    pub base_url: String,
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> Result<Mailer, String> {
        let mail = &settings.mail;
        let from: Mailbox = mail
            .from
            .parse()
            .map_err(|e| format!("mail.from '{}' is not an address: {e}", mail.from))?;
        let domain = match &mail.message_id_domain {
            Some(d) if !d.trim().is_empty() => d.trim().to_string(),
            _ => from.email.domain().to_string(),
        };
        let check = |ok: bool, what: &str| if ok { Ok(()) } else { Err(what.to_string()) };
        check(
            (1..=1000).contains(&mail.batch_size),
            "mail.batch_size must be 1..1000",
        )?;
        check(
            (1..=64).contains(&mail.concurrency),
            "mail.concurrency must be 1..64",
        )?;
        check(mail.lease_secs >= 1, "mail.lease_secs must be at least 1")?;
        check(
            mail.retry_first_secs >= 1,
            "mail.retry_first_secs must be at least 1",
        )?;
        check(
            mail.retry_max_secs >= mail.retry_first_secs,
            "mail.retry_max_secs must be at least mail.retry_first_secs",
        )?;
        check(
            mail.max_attempts >= 1,
            "mail.max_attempts must be at least 1",
        )?;
        let transport = match mail.transport {
            MailTransport::Smtp => Transport::smtp(&mail.smtp)?,
            MailTransport::Files => {
                if settings.environment == Environment::Production
                    && !mail.allow_files_in_production
                {
                    return Err("mail.transport = \"files\" in production writes email to disk instead of sending it; configure [mail.smtp] with transport = \"smtp\", or set mail.allow_files_in_production = true".into());
                }
                Transport::Files(settings.mail_folder().unwrap_or_default())
            }
        };
        let base_url = settings.base_url()?;
        Ok(Mailer {
            transport,
            sender: Sender {
                from,
                domain,
                policy: RetryPolicy {
                    first_delay: chrono::Duration::seconds(mail.retry_first_secs),
                    max_delay: chrono::Duration::seconds(mail.retry_max_secs),
                    max_attempts: mail.max_attempts,
                    ..RetryPolicy::default()
                },
                lease: chrono::Duration::seconds(mail.lease_secs),
                batch: mail.batch_size,
                concurrency: mail.concurrency,
            },
            poll: std::time::Duration::from_millis(mail.poll_interval_ms.max(10)),
            deliver: mail.deliver,
            base_url,
        })
    }
}

/// One attachment as the outbox stores it (JSON).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredAttachment {
    filename: String,
    content_type: String,
    base64: String,
}

/// `Content-Language` of the whole message (the recipient's language).
#[derive(Debug, Clone)]
struct ContentLanguage(String);

impl Header for ContentLanguage {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Content-Language")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ContentLanguage(s.into()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): out-of-office robots
/// must not answer it.
#[derive(Debug, Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".into())
    }
}

/// `List-Unsubscribe: <https://…>` (RFC 2369): where the recipient's mail
/// program unsubscribes.
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.into()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058): the
/// link unsubscribes by a POST with that body, with no page in between;
/// a GET (a scanner) changes nothing.
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".into())
    }
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
    let mut message = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(claim.subject.clone())
        .header(MessageId::from(message_id(claim.id, domain)))
        .header(ContentLanguage(claim.language.clone()))
        .header(AutoSubmitted);
    if let Some(link) = &claim.list_unsubscribe {
        // Only an https or http URL of our own making; never a line break.
        if !(link.starts_with("https://") || link.starts_with("http://"))
            || link.contains(['\r', '\n', '<', '>'])
        {
            return Err(SendFailure::Permanent(
                "unsubscribe link is not a plain URL".into(),
            ));
        }
        message = message
            .header(ListUnsubscribe(format!("<{link}>")))
            .header(ListUnsubscribePost);
    }
    message
        .multipart(body)
        .map_err(|e| permanent("message cannot be built", &e))
}
