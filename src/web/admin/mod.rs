//! The admin's pages: organisations (with the CSV import), accounts,
//! partner clients, the mail queue and the audit log. Every handler starts
//! from the session; the services check the admin role again.

mod mail;
mod organisations;
mod partners;
mod sso;
mod users;
mod webhooks;

pub use mail::{mail_queue, requeue};
pub use organisations::{
    import_organisations, merge_organisations, organisation_active, organisations,
};
pub use partners::{create_partner, partner_active, partners};
pub use sso::{change as sso_change, show as sso_show};
pub use users::{create_user, reset_password, user_active, users};
pub use webhooks::{pause as webhook_pause, redeliver as webhook_redeliver, webhook, webhooks};

use crate::web::PageResult;
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::session::Nav;
use super::{page, Chrome, Session, WebError};
use crate::domain::audit::AuditEntry;
use crate::service::mail::QueueStatus;
use crate::service::{admin, ServiceError};

/// The largest CSV the page takes (the whole country is about 40 kB).
pub(super) const MAX_UPLOAD: usize = 5 * 1024 * 1024;
pub(super) const PAGE: i64 = 50;

pub(super) fn fail(
    lang: crate::domain::organisation::Language,
) -> impl Fn(ServiceError) -> WebError {
    move |e| WebError::service(e, lang)
}

pub(super) fn back(to: String) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// Forms whose only field is the CSRF token (and, for some, one more).
#[derive(Debug, Default, Deserialize)]
pub struct Small {
    #[serde(default)]
    pub(super) active: String,
}

pub(super) fn admin_only(session: &Session) -> Result<(), WebError> {
    admin::require_admin(&session.user).map_err(fail(session.lang))
}

#[derive(Template)]
#[template(path = "web/admin/overview.html")]
struct OverviewPage {
    c: Chrome,
    counts: Vec<(&'static str, i64)>,
    entries: Vec<AuditEntry>,
    undeliverable: Vec<admin::Undeliverable>,
}

/// GET /admin
pub async fn overview(session: Session) -> PageResult {
    admin_only(&session)?;
    let lang = session.lang;
    let (status, _, _) =
        crate::service::mail::outbox_page(session.ctx(), session.user.clone(), None, None, 1)
            .await
            .map_err(fail(lang))?;
    let (entries, _) = admin::audit_log(session.ctx(), session.user.clone(), None, 10)
        .await
        .map_err(fail(lang))?;
    let undeliverable = admin::undeliverable_contacts(session.ctx(), session.user.clone())
        .await
        .map_err(fail(lang))?;
    Ok(page(
        StatusCode::OK,
        &OverviewPage {
            c: session.chrome(Nav::Admin),
            counts: counts(&status),
            entries,
            undeliverable,
        },
    ))
}

pub(super) fn counts(status: &QueueStatus) -> Vec<(&'static str, i64)> {
    status
        .counts
        .iter()
        .map(|(s, n)| (s.as_str(), *n))
        .collect()
}

// ---- organisations ----------------------------------------------------

#[derive(Template)]
#[template(path = "web/admin/audit.html")]
struct AuditPage {
    c: Chrome,
    entries: Vec<AuditEntry>,
    older: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    before: Option<i64>,
}

/// GET /admin/audit?before=
pub async fn audit(session: Session, query: web::Query<AuditQuery>) -> PageResult {
    admin_only(&session)?;
    let (entries, next) = admin::audit_log(session.ctx(), session.user.clone(), query.before, PAGE)
        .await
        .map_err(fail(session.lang))?;
    Ok(page(
        StatusCode::OK,
        &AuditPage {
            c: session.chrome(Nav::Admin),
            entries,
            older: next.map(|n| format!("/admin/audit?before={n}")),
        },
    ))
}
