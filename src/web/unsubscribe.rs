//! The digest's one-click unsubscribe link (RFC 8058): GET shows a page
//! with a button and changes nothing (mail scanners fetch every link);
//! POST — from the button, or from the mail program with
//! `List-Unsubscribe=One-Click` — unsubscribes. No session and no form
//! token: the link's secret is the credential, and mail programs post
//! without cookies.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::{link_failure, link_message, page, unknown_link, Chrome};
use crate::service::follows::{self, UnsubscribeLink};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "web/unsubscribe.html")]
struct UnsubscribePage {
    c: Chrome,
    token: String,
}

/// GET /unsubscribe/{token}
pub async fn show(
    req: HttpRequest,
    token: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let lang = crate::http::lang::preferred(&req);
    match follows::unsubscribe_state(&state.ctx, &token).await {
        Ok(UnsubscribeLink::Open) => page(
            StatusCode::OK,
            &UnsubscribePage {
                c: Chrome::link_page(lang),
                token: token.into_inner(),
            },
        ),
        Ok(UnsubscribeLink::Used) => done(lang),
        Ok(UnsubscribeLink::Unknown) => unknown_link(&req),
        Err(e) => link_failure(&req, &e),
    }
}

/// POST /unsubscribe/{token}
pub async fn act(
    req: HttpRequest,
    token: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let lang = crate::http::lang::preferred(&req);
    match follows::unsubscribe(&state.ctx, &token).await {
        Ok(UnsubscribeLink::Unknown) => unknown_link(&req),
        Ok(_) => done(lang),
        Err(e) => link_failure(&req, &e),
    }
}

fn done(lang: crate::domain::organisation::Language) -> HttpResponse {
    let c = Chrome::link_page(lang);
    link_message(
        StatusCode::OK,
        lang,
        c.t("Afgemeld", "Unsubscribed"),
        c.t(
            "U krijgt de maandelijkse e-mail over onderwerpen niet meer: u volgt geen onderwerpen meer. Wilt u later toch weer iets volgen, dan kan dat onder Mijn account.",
            "You will no longer get the monthly email about topics: you follow no topics any more. To follow some again later, go to My account.",
        )
        .into(),
    )
}
