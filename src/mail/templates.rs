//! Email templates: one folder per email under `templates/mail/`, with a
//! Dutch and an English subject, text and HTML, compiled into the binary by
//! askama. A variable a template uses but the data lacks is a compile
//! error, so nothing renders blank in production.

use serde::Serialize;

use crate::db::outbox::NewMessage;
use crate::domain::organisation::Language;

/// What every email's layout needs besides the email's own data.
#[derive(Debug, Clone)]
pub struct Common {
    /// `nl` or `en`, for `<html lang>`.
    pub lang: &'static str,
    /// The instance's address, for the footer link.
    pub base_url: String,
}

/// A rendered email in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// An email Meeloop sends: its data, and templates in both languages.
pub trait Email {
    /// The folder under `templates/mail/`, kept as the outbox's `template`.
    const NAME: &'static str;
    fn render(&self, language: Language, common: &Common) -> Result<Rendered, askama::Error>;
}

/// A file sent with an email (a calendar invitation, for instance).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StoredAttachment<'a> {
    filename: &'a str,
    content_type: &'a str,
    base64: String,
}

/// Renders `email` for one recipient as an outbox row, due now. Queue it
/// with `db::outbox::enqueue` in the transaction of the change that causes it.
pub fn compose<E: Email>(
    email: &E,
    key: String,
    recipient: &str,
    language: Language,
    base_url: &str,
    attachments: &[Attachment],
) -> Result<NewMessage, askama::Error> {
    let common = Common {
        lang: language.as_str(),
        base_url: base_url.trim_end_matches('/').to_string(),
    };
    let rendered = email.render(language, &common)?;
    let stored: Vec<StoredAttachment> = attachments
        .iter()
        .map(|a| {
            use base64::Engine;
            StoredAttachment {
                filename: &a.filename,
                content_type: &a.content_type,
                base64: base64::engine::general_purpose::STANDARD.encode(&a.bytes),
            }
        })
        .collect();
    Ok(NewMessage {
        idempotency_key: key,
        recipient: recipient.trim().to_string(),
        language: language.as_str().to_string(),
        template: E::NAME.to_string(),
        // A subject is one line, however the data wraps.
        subject: rendered
            .subject
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        body_text: rendered.text,
        body_html: rendered.html,
        attachments: serde_json::to_string(&stored).map_err(|e| askama::Error::Custom(e.into()))?,
        list_unsubscribe: None,
    })
}

/// Declares an email's templates: three enums (subject, text, HTML) whose
/// Dutch and English variants each have their own file.
macro_rules! email {
    ($data:ident, $name:literal,
     subject: [$nl_subject:literal, $en_subject:literal],
     text: [$nl_text:literal, $en_text:literal],
     html: [$nl_html:literal, $en_html:literal]) => {
        const _: () = {
            #[derive(Template)]
            enum Subject<'a> {
                #[template(path = $nl_subject)]
                Nl { m: &'a $data, c: &'a Common },
                #[template(path = $en_subject)]
                En { m: &'a $data, c: &'a Common },
            }
            #[derive(Template)]
            enum Text<'a> {
                #[template(path = $nl_text)]
                Nl { m: &'a $data, c: &'a Common },
                #[template(path = $en_text)]
                En { m: &'a $data, c: &'a Common },
            }
            #[derive(Template)]
            enum Html<'a> {
                #[template(path = $nl_html)]
                Nl { m: &'a $data, c: &'a Common },
                #[template(path = $en_html)]
                En { m: &'a $data, c: &'a Common },
            }
            impl Email for $data {
                const NAME: &'static str = $name;
                fn render(
                    &self,
                    language: Language,
                    c: &Common,
                ) -> Result<Rendered, askama::Error> {
                    let m = self;
                    Ok(match language {
                        Language::Nl => Rendered {
                            subject: Subject::Nl { m, c }.render()?,
                            text: Text::Nl { m, c }.render()?,
                            html: Html::Nl { m, c }.render()?,
                        },
                        Language::En => Rendered {
                            subject: Subject::En { m, c }.render()?,
                            text: Text::En { m, c }.render()?,
                            html: Html::En { m, c }.render()?,
                        },
                    })
                }
            }
        };
    };
}

pub(crate) use email;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::emails::*;

    fn invitation() -> Invitation {
        Invitation {
            host: "Gemeente Zwolle".into(),
            requester: "Gemeente Súdwest-Fryslân".into(),
            coordinator: "Anne de Boer".into(),
            coordinator_email: "anne@sudwestfryslan.example".into(),
            topic: "Cloudmigratie".into(),
            goal: "Hoe hebben jullie de exit uit het eigen datacenter gepland?".into(),
            participants: 2,
            dates: vec![
                "dinsdag 2 maart 2027".into(),
                "donderdag 4 maart 2027".into(),
            ],
            link: "https://meeloop.example.nl/invitations/abc".into(),
            expires_on: "dinsdag 16 februari 2027".into(),
        }
    }

    fn lessons_form(to_host: bool) -> LessonsForm {
        LessonsForm {
            host: "Gemeente Zwolle".into(),
            requester: "Gemeente Súdwest-Fryslân".into(),
            topic: "Cloudmigratie".into(),
            date: "dinsdag 2 maart 2027".into(),
            to_host,
            link: "https://meeloop.example.nl/lessons-forms/abc".into(),
            expires_on: "zaterdag 1 mei 2027".into(),
        }
    }

    fn suggestions() -> Vec<Suggestion> {
        vec![
            Suggestion {
                name: "Gemeente Leeuwarden".into(),
                reason: "Niveau 4 op cloudmigratie, sinds 2022".into(),
            },
            Suggestion {
                name: "Gemeente Groningen".into(),
                reason: "Vergelijkbaar: ook een gemeente".into(),
            },
        ]
    }

    /// Every email with sample data; a new email must be added here (the
    /// folder check below fails otherwise).
    fn samples(language: Language, common: &Common) -> Vec<(&'static str, Rendered)> {
        vec![
            (
                WebhookDisabled::NAME,
                WebhookDisabled {
                    partner: "VNG Realisatie".into(),
                    endpoint_id: 3,
                    url: "https://hooks.vng.example/meeloop".into(),
                    failing_since: "02-03-2027 09:15".into(),
                    last_error: "503 Service Unavailable".into(),
                }
                .render(language, common)
                .unwrap(),
            ),
            (
                TestMessage::NAME,
                TestMessage {
                    recipient: "anne@sudwestfryslan.example".into(),
                    queued_at: "23-11-2026 14:05".into(),
                }
                .render(language, common)
                .unwrap(),
            ),
            (
                Invitation::NAME,
                invitation().render(language, common).unwrap(),
            ),
            (
                Confirmation::NAME,
                Confirmation {
                    host: "Gemeente Zwolle".into(),
                    requester: "Gemeente Súdwest-Fryslân".into(),
                    coordinator: "Anne de Boer".into(),
                    coordinator_email: "anne@sudwestfryslan.example".into(),
                    topic: "Cloudmigratie".into(),
                    goal: "Hoe hebben jullie de exit gepland?".into(),
                    participants: 1,
                    date: "dinsdag 2 maart 2027".into(),
                }
                .render(language, common)
                .unwrap(),
            ),
            (
                Declined::NAME,
                Declined {
                    host: "Gemeente Zwolle".into(),
                    coordinator: "Anne de Boer".into(),
                    topic: "Cloudmigratie".into(),
                    reason: Some("Maart is te druk voor ons.".into()),
                    alternatives: suggestions(),
                }
                .render(language, common)
                .unwrap(),
            ),
            (
                Nudge::NAME,
                Nudge {
                    invitation: invitation(),
                }
                .render(language, common)
                .unwrap(),
            ),
            (
                Expired::NAME,
                Expired {
                    host: "Gemeente Zwolle".into(),
                    coordinator: "Anne de Boer".into(),
                    topic: "Cloudmigratie".into(),
                    days: 14,
                    alternatives: Vec::new(),
                }
                .render(language, common)
                .unwrap(),
            ),
            (
                Closed::NAME,
                Closed {
                    host: "Gemeente Zwolle".into(),
                    coordinator: "Anne de Boer".into(),
                    topic: "Cloudmigratie".into(),
                    undeliverable: false,
                    days: vec!["dinsdag 2 maart 2027: die dag is voorbij".into()],
                    again: "https://meeloop.example/visits/new?host=7&topic=cloud-migration".into(),
                    alternatives: Vec::new(),
                }
                .render(language, common)
                .unwrap(),
            ),
            (
                Cancelled::NAME,
                Cancelled {
                    host: "Gemeente Zwolle".into(),
                    requester: "Gemeente Súdwest-Fryslân".into(),
                    by: "Gemeente Zwolle".into(),
                    topic: "Cloudmigratie".into(),
                    date: Some("dinsdag 2 maart 2027".into()),
                    reason: Some("Ziekte in het team.".into()),
                }
                .render(language, common)
                .unwrap(),
            ),
            (
                LessonsForm::NAME,
                lessons_form(false).render(language, common).unwrap(),
            ),
            (
                LessonsReminder::NAME,
                LessonsReminder {
                    form: lessons_form(true),
                }
                .render(language, common)
                .unwrap(),
            ),
            (
                FollowUp::NAME,
                FollowUp {
                    host: "Gemeente Zwolle".into(),
                    topic: "Cloudmigratie".into(),
                    date: "dinsdag 2 maart 2027".into(),
                    link: "https://meeloop.example.nl/follow-ups/abc".into(),
                    expires_on: "zaterdag 1 mei 2027".into(),
                }
                .render(language, common)
                .unwrap(),
            ),
            (
                Reminder::NAME,
                Reminder {
                    visit: Confirmation {
                        host: "Gemeente Zwolle".into(),
                        requester: "Gemeente Súdwest-Fryslân".into(),
                        coordinator: "Anne de Boer".into(),
                        coordinator_email: "anne@sudwestfryslan.example".into(),
                        topic: "Cloudmigratie".into(),
                        goal: "Hoe hebben jullie de exit gepland?".into(),
                        participants: 2,
                        date: "dinsdag 2 maart 2027".into(),
                    },
                    start: "09:30".into(),
                    end: "16:00".into(),
                }
                .render(language, common)
                .unwrap(),
            ),
            (
                Welcome::NAME,
                Welcome {
                    name: "Bert Jansen".into(),
                    inviter: "Anne de Boer".into(),
                    role: "coördinator".into(),
                    organisation: Some("Gemeente Zwolle".into()),
                    link: "https://meeloop.example.nl/welcome/abc".into(),
                    expires: "dinsdag 9 december 2026, 14:05".into(),
                }
                .render(language, common)
                .unwrap(),
            ),
            (
                Digest::NAME,
                Digest {
                    name: "Anne de Boer".into(),
                    month: "november 2026".into(),
                    topics: vec!["Cloudmigratie".into(), "Hybride werken".into()],
                    lessons: vec![DigestLesson {
                        heading: "Cloudmigratie bij Zwolle".into(),
                        byline: "Gemeente Súdwest-Fryslân, bezoeker, 2026-11".into(),
                        strengths: "Een exitplan per applicatie.".into(),
                        hours_saved: 40,
                        link: "https://meeloop.example.nl/knowledge?topic=cloud-migration#lesson-4"
                            .into(),
                    }],
                    more_lessons: 3,
                    knowledge: "https://meeloop.example.nl/knowledge".into(),
                    leaders: vec![("Gemeente Groningen".into(), "Cloudmigratie".into())],
                    visits: vec![DigestVisit {
                        requester: "Gemeente Leeuwarden".into(),
                        host: "Gemeente Zwolle".into(),
                        topic: "Cloudmigratie".into(),
                        date: "dinsdag 12 januari 2027".into(),
                        km: 23,
                    }],
                    more_visits: 0,
                    manage: "https://meeloop.example.nl/account/topics".into(),
                    unsubscribe: "https://meeloop.example.nl/unsubscribe/abc".into(),
                }
                .render(language, common)
                .unwrap(),
            ),
            (
                PasswordReset::NAME,
                PasswordReset {
                    name: "Bert Jansen".into(),
                    link: "https://meeloop.example.nl/password/reset/abc".into(),
                    expires: "dinsdag 2 december 2026, 15:05".into(),
                }
                .render(language, common)
                .unwrap(),
            ),
        ]
    }

    fn common(language: Language) -> Common {
        Common {
            lang: language.as_str(),
            base_url: "https://meeloop.example.nl".into(),
        }
    }

    #[test]
    fn every_template_renders_in_both_languages() {
        for language in [Language::Nl, Language::En] {
            for (name, r) in samples(language, &common(language)) {
                assert!(!r.subject.trim().is_empty(), "{name} {language:?}: subject");
                assert!(!r.subject.contains('\n'), "{name}: one-line subject");
                assert!(r.text.len() > 40, "{name} {language:?}: text");
                assert!(
                    r.html
                        .contains(&format!("<html lang=\"{}\"", language.as_str())),
                    "{name} {language:?}: the layout"
                );
                // Self-contained: no images, fonts, scripts or trackers.
                for forbidden in ["<img", "<script", "url(", "@import", "<link"] {
                    assert!(!r.html.contains(forbidden), "{name}: {forbidden}");
                }
                assert!(
                    r.text.contains("https://meeloop.example.nl"),
                    "{name}: footer"
                );
            }
        }
        let nl = samples(Language::Nl, &common(Language::Nl));
        let en = samples(Language::En, &common(Language::En));
        for ((name, nl), (_, en)) in nl.iter().zip(&en) {
            assert_ne!(nl.subject, en.subject, "{name}: translated");
            assert_ne!(nl.text, en.text, "{name}: translated");
        }
    }

    #[test]
    fn data_is_escaped_in_html_but_not_in_text() {
        let m = TestMessage {
            recipient: "<b>x</b>@example.nl".into(),
            queued_at: "nu".into(),
        };
        let r = m.render(Language::Nl, &common(Language::Nl)).unwrap();
        assert!(r.html.contains("&#60;b&#62;x&#60;/b&#62;") || r.html.contains("&lt;b&gt;"));
        assert!(r.text.contains("<b>x</b>@example.nl"));
    }

    #[test]
    fn every_template_folder_is_an_email_with_both_languages() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/mail");
        let known: Vec<&str> = samples(Language::Nl, &common(Language::Nl))
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        for entry in std::fs::read_dir(&root).unwrap() {
            let path = entry.unwrap().path();
            if !path.is_dir() {
                continue;
            }
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            assert!(known.contains(&name.as_str()), "{name} has no sample");
            for lang in ["nl", "en"] {
                for file in ["subject.txt", "body.txt", "body.html"] {
                    assert!(path.join(lang).join(file).exists(), "{name}/{lang}/{file}");
                }
            }
        }
    }
}
