//! The mail queue: counts, messages, requeueing a dead one.

use crate::web::PageResult;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use crate::domain::mail::MessageState;
use crate::domain::mail::MessageSummary as Summary;
use crate::service::mail;
use crate::web::session::Nav;
use crate::web::{page, Chrome, Session, WebError};

use super::{admin_only, back, counts, fail, PAGE};

#[derive(Template)]
#[template(path = "web/admin/mail.html")]
struct MailPage {
    c: Chrome,
    csrf: String,
    counts: Vec<(&'static str, i64)>,
    state: String,
    messages: Vec<Summary>,
    older: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct MailQuery {
    state: Option<String>,
    before: Option<i64>,
}

/// GET /admin/mail?state=&before=
pub async fn mail_queue(session: Session, query: web::Query<MailQuery>) -> PageResult {
    admin_only(&session)?;
    let lang = session.lang;
    let filter = match query.state.as_deref() {
        None | Some("") => None,
        Some(s) => Some(
            s.parse::<MessageState>()
                .map_err(|_| WebError::not_found(lang))?,
        ),
    };
    let (status, messages, next) = mail::outbox_page(
        session.ctx(),
        session.user.clone(),
        filter,
        query.before,
        PAGE,
    )
    .await
    .map_err(fail(lang))?;
    let shown = filter.map(|s| s.as_str()).unwrap_or("");
    Ok(page(
        StatusCode::OK,
        &MailPage {
            c: session.chrome(Nav::Admin),
            csrf: session.csrf.clone(),
            counts: counts(&status),
            state: shown.to_string(),
            older: next.map(|n| format!("/admin/mail?state={shown}&before={n}")),
            messages,
        },
    ))
}

/// POST /admin/mail/{id}/requeue: a dead message gets a fresh start.
pub async fn requeue(session: Session, id: web::Path<String>, body: web::Bytes) -> PageResult {
    let lang = session.lang;
    session.check_form(&body)?;
    let id: i64 = id.parse().map_err(|_| WebError::not_found(lang))?;
    mail::requeue(session.ctx(), session.user.clone(), session.client, id)
        .await
        .map_err(fail(lang))?;
    Ok(back("/admin/mail?state=pending".into()))
}

// ---- audit log --------------------------------------------------------
