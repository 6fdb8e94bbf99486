//! Single sign-on for admins: the providers, email domains mapped to
//! organisations, subjects linked to accounts, password login per
//! organisation.

use actix_web::http::StatusCode;
use askama::Template;
use serde::Deserialize;

use super::{admin_only, back, fail};
use crate::service::{directory, sso, ServiceError};
use crate::web::session::Nav;
use crate::web::{page, Chrome, PageResult, Session, WebError};

#[derive(Template)]
#[template(path = "web/admin/sso.html")]
struct SsoPage {
    c: Chrome,
    csrf: String,
    providers: Vec<(String, String, String, bool)>,
    /// (domain, organisation id, provider)
    domains: Vec<(String, i64, String)>,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct SsoForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    allowed: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct Done {
    done: Option<String>,
}

async fn sso_page(
    session: &Session,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> PageResult {
    let o = sso::overview(session.ctx(), &session.user)
        .await
        .map_err(fail(session.lang))?;
    Ok(page(
        status,
        &SsoPage {
            c: session.chrome(Nav::Admin),
            csrf: session.csrf.clone(),
            providers: o.providers,
            domains: o
                .domains
                .into_iter()
                .map(|m| (m.domain, m.organisation.0, m.provider))
                .collect(),
            notice,
            error,
        },
    ))
}

/// GET /admin/sso
pub async fn show(session: Session, query: actix_web::web::Query<Done>) -> PageResult {
    admin_only(&session)?;
    let notice = query.done.as_ref().map(|_| {
        session
            .chrome(Nav::Admin)
            .t("Opgeslagen.", "Saved.")
            .to_string()
    });
    sso_page(&session, StatusCode::OK, notice, None).await
}

/// POST /admin/sso: `action` = map, unmap, link or password.
pub async fn change(session: Session, body: actix_web::web::Bytes) -> PageResult {
    let form: SsoForm = session.form(&body)?;
    admin_only(&session)?;
    let (ctx, admin, client) = (session.ctx(), session.user.clone(), session.client);
    let result: Result<(), ServiceError> = match form.action.as_str() {
        "map" => match directory::id_by_code(ctx, &form.organisation).await {
            Ok(org) => sso::map_domain(ctx, admin, client, &form.domain, org, form.provider.trim())
                .await
                .map(drop),
            Err(e) => Err(e),
        },
        "unmap" => sso::unmap_domain(ctx, admin, client, &form.domain).await,
        "link" => {
            sso::link_subject_by_email(
                ctx,
                admin,
                client,
                &form.email,
                form.provider.trim(),
                &form.subject,
            )
            .await
        }
        "password" => match directory::id_by_code(ctx, &form.organisation).await {
            Ok(org) => {
                sso::set_password_login(ctx, admin, client, org, form.allowed == "yes").await
            }
            Err(e) => Err(e),
        },
        _ => return Err(WebError::not_found(session.lang)),
    };
    match result {
        Ok(()) => Ok(back("/admin/sso?done=1".into())),
        Err(e) if e.kind().is_some() => {
            let status = match e.kind() {
                Some(kind) => crate::http::problem::status_of(kind),
                None => StatusCode::BAD_REQUEST,
            };
            sso_page(&session, status, None, Some(e.message(session.lang))).await
        }
        Err(e) => Err(WebError::service(e, session.lang)),
    }
}
