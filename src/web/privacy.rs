//! "Mijn account" with the download of one's own data, and the admins'
//! downloads of a person's or an organisation's data (AVG art. 15 and 20;
//! docs/privacy.md). The downloads are GETs that change nothing but the
//! audit log; each goes through the same use case as the API.

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;

use super::{page, Chrome, Nav, Session, WebError};
use crate::domain::account::UserId;
use crate::domain::organisation::OrganisationId;
use crate::http::privacy::attachment;
use crate::service::accounts;
use crate::service::privacy::{self, Export, Whose};
use crate::web::PageResult;

#[derive(Template)]
#[template(path = "web/account.html")]
struct AccountPage {
    c: Chrome,
    name: String,
    email: String,
    role: &'static str,
    organisation: Option<String>,
}

/// GET /account
pub async fn show(session: Session) -> PageResult {
    let lang = session.lang;
    let (user, organisation) = accounts::me(session.ctx(), session.user.clone())
        .await
        .map_err(|e| WebError::service(e, lang))?;
    let role = match (user.role, lang) {
        (crate::domain::account::Role::Admin, crate::domain::organisation::Language::Nl) => {
            "beheerder"
        }
        (crate::domain::account::Role::Admin, _) => "administrator",
        (_, crate::domain::organisation::Language::Nl) => "coördinator",
        _ => "coordinator",
    };
    Ok(page(
        StatusCode::OK,
        &AccountPage {
            c: session.chrome(Nav::Account),
            name: user.name,
            email: user.email,
            role,
            organisation: organisation.map(|o| o.name),
        },
    ))
}

/// `json` or `txt`, from the file name asked for.
fn text(extension: &str, session: &Session) -> Result<bool, WebError> {
    match extension {
        "json" => Ok(false),
        "txt" => Ok(true),
        _ => Err(WebError::not_found(session.lang)),
    }
}

fn download(export: Export, text: bool, session: &Session, slug: String) -> PageResult {
    attachment(&export, text, session.lang, slug).map_err(|e| WebError::service(e, session.lang))
}

/// GET /account/export.{json|txt}
pub async fn own_export(session: Session, extension: web::Path<String>) -> PageResult {
    let text = text(&extension, &session)?;
    let limiter = &session.state().export_limiter;
    let export = privacy::export_own(session.ctx(), session.user.clone(), session.client, limiter)
        .await
        .map_err(|e| WebError::service(e, session.lang))?;
    download(export, text, &session, "my-data".into())
}

/// GET /admin/users/{id}/export.{json|txt} and
/// /admin/organisations/{id}/export.{json|txt}
pub async fn admin_export(
    session: Session,
    path: web::Path<(String, String, String)>,
) -> PageResult {
    let (kind, id, extension) = path.into_inner();
    let text = text(&extension, &session)?;
    let missing = || WebError::not_found(session.lang);
    let whose = match kind.as_str() {
        "users" => Whose::User(id.parse::<UserId>().map_err(|_| missing())?),
        "organisations" => {
            Whose::Organisation(id.parse::<OrganisationId>().map_err(|_| missing())?)
        }
        _ => return Err(missing()),
    };
    let limiter = &session.state().export_limiter;
    let export = privacy::export_for_admin(
        session.ctx(),
        session.user.clone(),
        session.client,
        whose,
        limiter,
    )
    .await
    .map_err(|e| WebError::service(e, session.lang))?;
    download(export, text, &session, whose.slug())
}
