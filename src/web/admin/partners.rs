//! Partner clients: create (the secret shown once), revoke, restore.

use crate::web::PageResult;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;

use crate::domain::organisation::parse_name;
use crate::domain::partner::{Partner, Scope, Scopes};
use crate::service::partners::{self, PartnerUpdate};
use crate::web::session::Nav;
use crate::web::{page, Chrome, Session};

use super::{admin_only, back, fail, Small};

#[derive(Template)]
#[template(path = "web/admin/partners.html")]
struct PartnersPage {
    c: Chrome,
    csrf: String,
    partners: Vec<Partner>,
    scopes: Vec<&'static str>,
    error: Option<String>,
    /// (client id, secret) of a new client: shown once.
    secret: Option<(String, String)>,
}

async fn partners_page(
    session: &Session,
    status: StatusCode,
    error: Option<String>,
    secret: Option<(String, String)>,
) -> PageResult {
    let partners = partners::list_partners(session.ctx(), session.user.clone())
        .await
        .map_err(fail(session.lang))?;
    Ok(page(
        status,
        &PartnersPage {
            c: session.chrome(Nav::Admin),
            csrf: session.csrf.clone(),
            partners,
            scopes: Scope::ALL.iter().map(|s| s.as_str()).collect(),
            error,
            secret,
        },
    ))
}

/// GET /admin/partners
pub async fn partners(session: Session) -> PageResult {
    admin_only(&session)?;
    partners_page(&session, StatusCode::OK, None, None).await
}

/// POST /admin/partners (name, scope…): the secret is shown once.
pub async fn create_partner(session: Session, body: web::Bytes) -> PageResult {
    let lang = session.lang;
    let pairs: Vec<(String, String)> = crate::web::decode(&body, lang)?;
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    session.check_form(&body)?;
    admin_only(&session)?;
    let c = session.chrome(Nav::Admin);
    let scopes: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v.as_str())
        .collect();
    let Ok(name) = parse_name(&get("name")) else {
        let msg = c.t("Vul een naam in.", "Enter a name.").into();
        return partners_page(&session, StatusCode::BAD_REQUEST, Some(msg), None).await;
    };
    let Ok(scopes) = Scopes::parse(&scopes.join(" ")) else {
        let msg = c
            .t(
                "Kies minstens één bevoegdheid.",
                "Choose at least one scope.",
            )
            .into();
        return partners_page(&session, StatusCode::BAD_REQUEST, Some(msg), None).await;
    };
    let contact = match get("contact").trim() {
        "" => None,
        raw => match crate::domain::organisation::ContactEmail::parse(raw) {
            Ok(email) => Some(email),
            Err(_) => {
                let msg = c
                    .t(
                        "Het contactadres is geen geldig e-mailadres.",
                        "The contact address is not a valid email address.",
                    )
                    .into();
                return partners_page(&session, StatusCode::BAD_REQUEST, Some(msg), None).await;
            }
        },
    };
    let (partner, secret) = partners::admin_create_partner(
        session.ctx(),
        session.user.clone(),
        session.client,
        name,
        scopes,
        contact,
    )
    .await
    .map_err(fail(lang))?;
    partners_page(
        &session,
        StatusCode::OK,
        None,
        Some((partner.client_id, secret)),
    )
    .await
}

/// POST /admin/partners/{client_id}/active (active=yes|no)
pub async fn partner_active(
    session: Session,
    client_id: web::Path<String>,
    body: web::Bytes,
) -> PageResult {
    let lang = session.lang;
    let form: Small = session.form(&body)?;
    partners::update_partner(
        session.ctx(),
        session.user.clone(),
        session.client,
        client_id.into_inner(),
        PartnerUpdate {
            active: Some(form.active == "yes"),
            ..PartnerUpdate::default()
        },
    )
    .await
    .map_err(fail(lang))?;
    Ok(back("/admin/partners".into()))
}

// ---- mail queue -------------------------------------------------------
