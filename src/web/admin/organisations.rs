//! The directory for admins: deactivate, reactivate, and the CSV import.

use crate::web::PageResult;
use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use futures_util::StreamExt;
use serde::Deserialize;

use crate::domain::matching::text::kind_name;
use crate::domain::organisation::{Organisation, OrganisationId};
use crate::service::directory::OrganisationQuery;
use crate::service::import::ImportReport;
use crate::service::{admin, import, ServiceError};
use crate::web::session::Nav;
use crate::web::{page, Chrome, Session, WebError};

use super::{admin_only, back, fail, Small, MAX_UPLOAD, PAGE};

#[derive(Template)]
#[template(path = "web/admin/organisations.html")]
struct OrganisationsPage {
    c: Chrome,
    csrf: String,
    q: String,
    rows: Vec<(Organisation, &'static str)>,
    next: Option<String>,
    report: Option<ImportReport>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct OrgQuery {
    q: Option<String>,
    after: Option<String>,
}

async fn organisations_page(
    session: &Session,
    query: &OrgQuery,
    status: StatusCode,
    report: Option<ImportReport>,
    error: Option<String>,
) -> PageResult {
    let lang = session.lang;
    let q = query.q.clone().unwrap_or_default();
    let cursor = match query.after.as_deref() {
        Some(raw) => Some(
            crate::domain::pagination::Cursor::decode(raw)
                .map_err(|_| WebError::not_found(lang))?,
        ),
        None => None,
    };
    let found = admin::list_organisations(
        session.ctx(),
        session.user.clone(),
        OrganisationQuery {
            q: Some(q.clone()).filter(|q| !q.trim().is_empty()),
            cursor,
            limit: PAGE,
            active: None,
            ..OrganisationQuery::default()
        },
    )
    .await
    .map_err(fail(lang))?;
    let next = found.next_cursor.map(|c| {
        let p = serde_urlencoded::to_string([("q", q.as_str()), ("after", c.as_str())]);
        format!("/admin/organisations?{}", p.unwrap_or_default())
    });
    Ok(page(
        status,
        &OrganisationsPage {
            c: session.chrome(Nav::Admin),
            csrf: session.csrf.clone(),
            q,
            rows: found
                .items
                .into_iter()
                .map(|o| {
                    let kind = kind_name(o.kind, lang);
                    (o, kind)
                })
                .collect(),
            next,
            report,
            error,
        },
    ))
}

/// GET /admin/organisations?q=&after=
pub async fn organisations(session: Session, query: web::Query<OrgQuery>) -> PageResult {
    admin_only(&session)?;
    organisations_page(&session, &query, StatusCode::OK, None, None).await
}

/// POST /admin/organisations/{id}/active (active=yes|no)
pub async fn organisation_active(
    session: Session,
    id: web::Path<String>,
    body: web::Bytes,
) -> PageResult {
    let lang = session.lang;
    let form: Small = session.form(&body)?;
    let id: OrganisationId = id.parse().map_err(|_| WebError::not_found(lang))?;
    let org = admin::set_organisation_active(
        session.ctx(),
        session.user.clone(),
        session.client,
        id,
        form.active == "yes",
    )
    .await
    .map_err(fail(lang))?;
    let q = serde_urlencoded::to_string([("q", org.code.as_str())]).unwrap_or_default();
    Ok(back(format!("/admin/organisations?{q}")))
}

/// POST /admin/organisations/import (multipart: csrf, file, skip_invalid)
pub async fn import_organisations(session: Session, mut form: Multipart) -> PageResult {
    let lang = session.lang;
    let c = session.chrome(Nav::Admin);
    let (mut csrf, mut file, mut skip_invalid) = (String::new(), Vec::new(), false);
    // A stream that breaks off (or is cut off after server.body_timeout_secs)
    // must not import the part that arrived.
    let (mut too_big, mut broken) = (false, false);
    while let Some(field) = form.next().await {
        let Ok(mut field) = field else {
            broken = true;
            break;
        };
        let name = field.name().unwrap_or_default().to_string();
        let mut value = Vec::new();
        while let Some(chunk) = field.next().await {
            let Ok(chunk) = chunk else {
                broken = true;
                break;
            };
            if value.len() + chunk.len() > MAX_UPLOAD {
                too_big = true;
                break;
            }
            value.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "csrf" => csrf = String::from_utf8_lossy(&value).into_owned(),
            "file" => file = value,
            "skip_invalid" => skip_invalid = value == b"yes",
            _ => {}
        }
    }
    session.check(&csrf)?;
    let query = OrgQuery::default();
    let refuse = |message: &str| message.to_string();
    let refused = if broken {
        Some((
            StatusCode::BAD_REQUEST,
            c.t(
                "Het bestand kwam niet helemaal aan. Er is niets geïmporteerd; probeer het opnieuw.",
                "The file did not arrive whole. Nothing was imported; try again.",
            ),
        ))
    } else if too_big {
        Some((
            StatusCode::PAYLOAD_TOO_LARGE,
            c.t(
                "Het bestand is groter dan 5 MB.",
                "The file is larger than 5 MB.",
            ),
        ))
    } else if file.is_empty() {
        Some((
            StatusCode::BAD_REQUEST,
            c.t("Kies een CSV-bestand.", "Choose a CSV file."),
        ))
    } else {
        None
    };
    if let Some((status, message)) = refused {
        let msg = refuse(message);
        return organisations_page(&session, &query, status, None, Some(msg)).await;
    }
    match import::admin_import(
        session.ctx(),
        session.user.clone(),
        session.client,
        file,
        skip_invalid,
    )
    .await
    {
        Ok(report) => {
            let status = if report.applied {
                StatusCode::OK
            } else {
                StatusCode::BAD_REQUEST
            };
            organisations_page(&session, &query, status, Some(report), None).await
        }
        Err(ServiceError::Invalid(e)) => {
            organisations_page(
                &session,
                &query,
                StatusCode::BAD_REQUEST,
                None,
                Some(e.to_string()),
            )
            .await
        }
        Err(e) => Err(WebError::service(e, lang)),
    }
}

// ---- users ------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct MergeForm {
    #[serde(default)]
    old: String,
    #[serde(default)]
    new: String,
}

/// POST /admin/organisations/merge: a municipal merger, by codes; what
/// moved, or the refusal, on the organisations page.
pub async fn merge_organisations(session: Session, body: web::Bytes) -> PageResult {
    let form: MergeForm = session.form(&body)?;
    let lang = session.lang;
    let query = OrgQuery::default();
    let old = crate::service::merger::Old::Code(form.old);
    match crate::service::merger::merge_for_admin(
        session.ctx(),
        session.user.clone(),
        session.client,
        old,
        form.new,
    )
    .await
    {
        Ok(merged) => {
            let m = merged.moved;
            let message = match lang {
                crate::domain::organisation::Language::Nl => format!(
                    "{} is opgegaan in {}: {} onderwerp(en) expertise, {} meeloopdag(en), {} les(sen), {} account(s) en {} link(s) verhuisd.",
                    merged.from, merged.into, m.expertise, m.visits, m.lessons, m.accounts, m.links
                ),
                crate::domain::organisation::Language::En => format!(
                    "{} went into {}: {} expertise topic(s), {} visit(s), {} lesson(s), {} account(s) and {} link(s) moved.",
                    merged.from, merged.into, m.expertise, m.visits, m.lessons, m.accounts, m.links
                ),
            };
            Ok(page(
                StatusCode::OK,
                &crate::web::MessagePage {
                    c: session.chrome(Nav::Admin),
                    heading: (if lang == crate::domain::organisation::Language::Nl {
                        "Samengevoegd"
                    } else {
                        "Merged"
                    })
                    .into(),
                    message,
                },
            ))
        }
        Err(e @ (ServiceError::Refused(_) | ServiceError::Invalid(_))) => {
            let message = e.message(lang);
            organisations_page(&session, &query, StatusCode::CONFLICT, None, Some(message)).await
        }
        Err(e) => Err(WebError::service(e, lang)),
    }
}
