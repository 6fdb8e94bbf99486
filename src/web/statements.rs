//! The accessibility statement (toegankelijkheidsverklaring), the
//! privacy statement and the API's problem types: public, logged in or not.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::session::{self, here, Nav};
use super::{page, Chrome, Session};
use crate::domain::organisation::Language;
use crate::domain::privacy::Retention;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "web/accessibility.html")]
struct AccessibilityPage {
    c: Chrome,
}

#[derive(Template)]
#[template(path = "web/privacy.html")]
struct PrivacyPage {
    c: Chrome,
    /// What is kept how long, from this installation's settings.
    retention: Vec<(&'static str, String)>,
}

/// The retention periods as the privacy statement lists them.
fn retention_rows(r: &Retention, lang: Language) -> Vec<(&'static str, String)> {
    let nl = lang == Language::Nl;
    let days = |n: u32| {
        if nl {
            format!("{n} dagen")
        } else {
            format!("{n} days")
        }
    };
    let rows: [(&str, &str, String); 7] = [
        ("Beveiligingslog (met IP-adressen)", "Security log (with IP addresses)", days(r.audit_log_days)),
        (
            "Verstuurde e-mails: adres, onderwerp en tijd (de inhoud gaat weg zodra hij verstuurd is)",
            "Sent emails: address, subject and time (the content goes once sent)",
            days(r.sent_mail_days),
        ),
        ("E-mails die niet bezorgd konden worden, na de laatste poging", "Emails that could not be delivered, after the last attempt", days(r.dead_mail_days)),
        ("Links in e-mails, nadat ze gebruikt of verlopen zijn", "Links in emails, once used or expired", days(r.link_tokens_days)),
        (
            "Doel en redenen van afgeronde meeloopdagen, antwoorden op de terugblik en niet-gepubliceerde lessen: daarna vervangen we de tekst; aantallen en waarderingen blijven",
            "Goals and reasons of finished visits, follow-up answers and unpublished lessons: after this the text is replaced; counts and ratings stay",
            days(r.free_text_days),
        ),
        ("E-mails als bestand (alleen als deze installatie geen mailserver gebruikt)", "Emails as files (only when this installation uses no mail server)", days(r.mail_files_days)),
        ("Webhooks aan partners die afgeleverd zijn of het opgaven, met hun pogingen", "Webhooks to partners that were delivered or gave up, with their attempts", days(r.webhook_log_days)),
    ];
    rows.into_iter()
        .map(|(n, e, period)| (if nl { n } else { e }, period))
        .collect()
}

#[derive(Template)]
#[template(path = "web/problems.html")]
struct ProblemsPage {
    c: Chrome,
    types: Vec<crate::http::problem::ProblemType>,
}

/// The frame: with the menu for a logged-in user, without otherwise.
fn chrome(req: &HttpRequest, session: Option<Session>) -> Chrome {
    match session {
        Some(s) => s.chrome(Nav::None),
        None => Chrome::new(session::language(req), &here(req), Nav::None),
    }
}

/// GET /toegankelijkheid
pub async fn accessibility(req: HttpRequest, session: Option<Session>) -> HttpResponse {
    page(
        StatusCode::OK,
        &AccessibilityPage {
            c: chrome(&req, session),
        },
    )
}

/// GET /privacy: with the retention periods this installation is set to.
pub async fn privacy(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Option<Session>,
) -> HttpResponse {
    let c = chrome(&req, session);
    let retention = retention_rows(&state.ctx.retention, c.lang);
    page(StatusCode::OK, &PrivacyPage { c, retention })
}

/// GET /problems: what each problem `type` of the API means (RFC 9457
/// §3.1.1: a type URI should lead to its explanation).
pub async fn problems(req: HttpRequest, session: Option<Session>) -> HttpResponse {
    page(
        StatusCode::OK,
        &ProblemsPage {
            c: chrome(&req, session),
            types: crate::http::problem::problem_types(),
        },
    )
}
