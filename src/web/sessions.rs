//! `/account/sessions`: where one is logged in, with "end this one" and
//! "end all others".

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use askama::Template;

use super::session::{self, Nav, OnPage};
use super::{page, Chrome, PageResult, Session, WebError};
use crate::domain::session::SessionKind;
use crate::service::accounts::{self, Ending};
use crate::service::clock::long_moment;

struct Row {
    id: i64,
    device: String,
    kind: &'static str,
    started: String,
    seen: String,
    address: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "web/sessions.html")]
struct SessionsPage {
    c: Chrome,
    csrf: String,
    rows: Vec<Row>,
    idle_minutes: i64,
    notice: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct Ended {
    ended: Option<usize>,
}

/// GET /account/sessions
pub async fn show(session: Session, query: web::Query<Ended>) -> PageResult {
    let lang = session.lang;
    let own = accounts::own_sessions(session.ctx(), &session.signed)
        .await
        .on_page(lang)?;
    let c = session.chrome(Nav::Account);
    let rows = own
        .into_iter()
        .map(|o| Row {
            id: o.session.id,
            device: o.session.device(lang),
            kind: match o.session.kind {
                SessionKind::Web => c.t("browser", "browser"),
                SessionKind::Api => c.t("API-token", "API token"),
            },
            started: long_moment(o.session.created_at, lang),
            seen: long_moment(o.session.last_seen_at, lang),
            address: o.session.address.unwrap_or_default(),
            current: o.current,
        })
        .collect();
    let notice = query.ended.map(|n| match lang {
        crate::domain::organisation::Language::Nl => format!("{n} sessie(s) beëindigd."),
        crate::domain::organisation::Language::En => format!("{n} session(s) ended."),
    });
    Ok(page(
        StatusCode::OK,
        &SessionsPage {
            c,
            csrf: session.csrf.clone(),
            rows,
            idle_minutes: session.ctx().idle.0.num_minutes(),
            notice,
        },
    ))
}

async fn end(session: Session, body: web::Bytes, ending: Ending) -> PageResult {
    session.check_form(&body)?;
    let ended = accounts::end_sessions(session.ctx(), &session.signed, ending, session.client)
        .await
        .on_page(session.lang)?;
    if ending == Ending::One(session.signed.session) {
        // This browser's own: logged out.
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/login?out=1"))
            .cookie(session::removal(session.state(), session::SESSION_COOKIE))
            .finish());
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/account/sessions?ended={ended}")))
        .finish())
}

/// POST /account/sessions/{id}/end
pub async fn end_one(session: Session, id: web::Path<String>, body: web::Bytes) -> PageResult {
    let id: i64 = id.parse().map_err(|_| WebError::not_found(session.lang))?;
    end(session, body, Ending::One(id)).await
}

/// POST /account/sessions/end-others
pub async fn end_others(session: Session, body: web::Bytes) -> PageResult {
    end(session, body, Ending::Others).await
}
