//! "Mijn account" with the download of one's own data, and the admins'
//! downloads of a person's or an organisation's data (AVG art. 15 and 20;
//! docs/privacy.md). The downloads are GETs that change nothing but the
//! audit log; each goes through the same use case as the API.

use crate::web::session::OnPage;
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
        .on_page(lang)?;
    let role = user.role.name_in(lang);
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
    attachment(&export, text, session.lang, slug).on_page(session.lang)
}

/// GET /account/export.{json|txt}
pub async fn own_export(session: Session, extension: web::Path<String>) -> PageResult {
    let text = text(&extension, &session)?;
    let (ctx, user, limiter) = (
        session.ctx(),
        session.user.clone(),
        &session.state().export_limiter,
    );
    let export = privacy::export_own(ctx, user, session.client, limiter).await;
    download(
        export.on_page(session.lang)?,
        text,
        &session,
        "my-data".into(),
    )
}

/// `/admin/{users|organisations}/{id}/…`: whose data.
fn whose(kind: &str, id: &str, session: &Session) -> Result<Whose, WebError> {
    let missing = || WebError::not_found(session.lang);
    match kind {
        "users" => Ok(Whose::User(id.parse::<UserId>().map_err(|_| missing())?)),
        "organisations" => Ok(Whose::Organisation(
            id.parse::<OrganisationId>().map_err(|_| missing())?,
        )),
        _ => Err(missing()),
    }
}

/// GET /admin/users/{id}/export.{json|txt} and
/// /admin/organisations/{id}/export.{json|txt}
pub async fn admin_export(
    session: Session,
    path: web::Path<(String, String, String)>,
) -> PageResult {
    let (kind, id, extension) = path.into_inner();
    let text = text(&extension, &session)?;
    let whose = whose(&kind, &id, &session)?;
    let (ctx, user, limiter) = (
        session.ctx(),
        session.user.clone(),
        &session.state().export_limiter,
    );
    let export = privacy::export_for_admin(ctx, user, session.client, whose, limiter).await;
    download(export.on_page(session.lang)?, text, &session, whose.slug())
}

#[derive(Template)]
#[template(path = "web/admin/erase.html")]
struct ErasePage {
    c: Chrome,
    csrf: String,
    label: String,
    organisation: bool,
    action: String,
    back: &'static str,
    error: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct EraseForm {
    #[serde(default)]
    confirm: String,
}

async fn erase_page(
    session: &Session,
    whose: Whose,
    status: StatusCode,
    error: Option<String>,
) -> PageResult {
    let label = privacy::describe(session.ctx(), session.user.clone(), whose)
        .await
        .on_page(session.lang)?;
    let (kind, id, back) = match whose {
        Whose::User(id) => ("users", id.0, "/admin/users"),
        Whose::Organisation(id) => ("organisations", id.0, "/admin/organisations"),
    };
    Ok(page(
        status,
        &ErasePage {
            c: session.chrome(Nav::Admin),
            csrf: session.csrf.clone(),
            label,
            organisation: kind == "organisations",
            action: format!("/admin/{kind}/{id}/erase"),
            back,
            error,
        },
    ))
}

/// GET /admin/{users|organisations}/{id}/erase: what erasure does, and a
/// form that asks for the address (or code) again.
pub async fn erase_show(session: Session, path: web::Path<(String, String)>) -> PageResult {
    let (kind, id) = path.into_inner();
    let whose = whose(&kind, &id, &session)?;
    erase_page(&session, whose, StatusCode::OK, None).await
}

/// POST /admin/{users|organisations}/{id}/erase
pub async fn erase(
    session: Session,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> PageResult {
    let (kind, id) = path.into_inner();
    let whose = whose(&kind, &id, &session)?;
    let form: EraseForm = session.form(&body)?;
    let lang = session.lang;
    let (ctx, user, limiter) = (
        session.ctx(),
        session.user.clone(),
        &session.state().export_limiter,
    );
    let confirm = form.confirm.as_str();
    let result = privacy::erase_for_admin(ctx, user, session.client, whose, confirm, limiter).await;
    match result {
        Ok(erased) => {
            let nl = lang == crate::domain::organisation::Language::Nl;
            let message = if nl {
                format!(
                    "{} account(s) anoniem gemaakt, {} tekst(en) aangepast, {} onverstuurde e-mail(s) en {} e-mailbestand(en) verwijderd.",
                    erased.accounts, erased.texts, erased.unsent_emails, erased.mail_files
                )
            } else {
                format!(
                    "{} account(s) made anonymous, {} text(s) rewritten, {} unsent email(s) and {} mail file(s) deleted.",
                    erased.accounts, erased.texts, erased.unsent_emails, erased.mail_files
                )
            };
            Ok(page(
                StatusCode::OK,
                &super::MessagePage {
                    c: session.chrome(Nav::Admin),
                    heading: (if nl { "Gewist" } else { "Erased" }).into(),
                    message,
                },
            ))
        }
        Err(crate::service::ServiceError::Refused(crate::domain::refusal::Refusal::Account(
            crate::domain::refusal::AccountRefusal::NotConfirmed,
        ))) => {
            let error = match lang {
                crate::domain::organisation::Language::Nl => {
                    "Dat is niet het e-mailadres (of de code): er is niets gewist."
                }
                crate::domain::organisation::Language::En => {
                    "That is not the email address (or code): nothing was erased."
                }
            };
            erase_page(&session, whose, StatusCode::BAD_REQUEST, Some(error.into())).await
        }
        Err(e) => Err(WebError::service(e, lang)),
    }
}
