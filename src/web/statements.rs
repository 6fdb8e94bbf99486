//! The accessibility statement (toegankelijkheidsverklaring), the
//! privacy statement and the API's problem types: public, logged in or not.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use super::session::{self, here, Nav};
use super::{page, Chrome, Session};

#[derive(Template)]
#[template(path = "web/accessibility.html")]
struct AccessibilityPage {
    c: Chrome,
}

#[derive(Template)]
#[template(path = "web/privacy.html")]
struct PrivacyPage {
    c: Chrome,
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

/// GET /privacy
pub async fn privacy(req: HttpRequest, session: Option<Session>) -> HttpResponse {
    page(
        StatusCode::OK,
        &PrivacyPage {
            c: chrome(&req, session),
        },
    )
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
