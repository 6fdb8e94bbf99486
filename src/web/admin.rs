//! The admin's pages: organisations (with the CSV import), accounts,
//! partner clients, the mail queue and the audit log. Every handler starts
//! from the session; the services check the admin role again.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use futures_util::StreamExt;
use serde::Deserialize;

use super::session::Nav;
use super::{page, Chrome, Session, WebError};
use crate::domain::account::{LoginEmail, Role, UserId};
use crate::domain::audit::AuditEntry;
use crate::domain::mail::MessageState;
use crate::domain::mail::MessageSummary as Summary;
use crate::domain::matching::text::kind_name;
use crate::domain::organisation::{parse_name, Organisation, OrganisationId};
use crate::domain::partner::{Partner, Scope, Scopes};
use crate::domain::refusal::Kind;
use crate::http::client;
use crate::service::accounts::{self, AccountChanges, AccountFields};
use crate::service::directory::{self, OrganisationQuery};
use crate::service::import::ImportReport;
use crate::service::mail::QueueStatus;
use crate::service::partners::{self, PartnerUpdate};
use crate::service::{admin, import, mail, ServiceError};
use crate::state::AppState;

/// The largest CSV the page takes (the whole country is about 40 kB).
const MAX_UPLOAD: usize = 5 * 1024 * 1024;
const PAGE: i64 = 50;

fn fail(lang: crate::domain::organisation::Language) -> impl Fn(ServiceError) -> WebError {
    move |e| WebError::service(e, lang)
}

fn back(to: String) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// Forms whose only field is the CSRF token (and, for some, one more).
#[derive(Debug, Default, Deserialize)]
pub struct Small {
    #[serde(default)]
    active: String,
}

fn admin_only(session: &Session) -> Result<(), WebError> {
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
pub async fn overview(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, WebError> {
    admin_only(&session)?;
    let lang = session.lang;
    let (status, _, _) = mail::outbox_page(&state.pool, session.user.clone(), None, None, 1)
        .await
        .map_err(fail(lang))?;
    let (entries, _) = admin::audit_log(&state.pool, session.user.clone(), None, 10)
        .await
        .map_err(fail(lang))?;
    let undeliverable = admin::undeliverable_contacts(&state.pool, session.user.clone())
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

fn counts(status: &QueueStatus) -> Vec<(&'static str, i64)> {
    status
        .counts
        .iter()
        .map(|(s, n)| (s.as_str(), *n))
        .collect()
}

// ---- organisations ----------------------------------------------------

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
    state: &AppState,
    session: &Session,
    query: &OrgQuery,
    status: StatusCode,
    report: Option<ImportReport>,
    error: Option<String>,
) -> Result<HttpResponse, WebError> {
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
        &state.pool,
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
pub async fn organisations(
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<OrgQuery>,
) -> Result<HttpResponse, WebError> {
    admin_only(&session)?;
    organisations_page(&state, &session, &query, StatusCode::OK, None, None).await
}

/// POST /admin/organisations/{id}/active (active=yes|no)
pub async fn organisation_active(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let lang = session.lang;
    let form: Small = session.form(&body)?;
    let id: OrganisationId = id.parse().map_err(|_| WebError::not_found(lang))?;
    let org = admin::set_organisation_active(
        &state.pool,
        session.user.clone(),
        client::address(&req, &state.trusted_proxies),
        id,
        form.active == "yes",
    )
    .await
    .map_err(fail(lang))?;
    let q = serde_urlencoded::to_string([("q", org.code.as_str())]).unwrap_or_default();
    Ok(back(format!("/admin/organisations?{q}")))
}

/// POST /admin/organisations/import (multipart: csrf, file, skip_invalid)
pub async fn import_organisations(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    mut form: Multipart,
) -> Result<HttpResponse, WebError> {
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
        return organisations_page(&state, &session, &query, status, None, Some(msg)).await;
    }
    match import::admin_import(
        &state.pool,
        session.user.clone(),
        client::address(&req, &state.trusted_proxies),
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
            organisations_page(&state, &session, &query, status, Some(report), None).await
        }
        Err(ServiceError::Invalid(e)) => {
            organisations_page(
                &state,
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

#[derive(Template)]
#[template(path = "web/admin/users.html")]
struct UsersPage {
    c: Chrome,
    csrf: String,
    users: Vec<crate::domain::account::User>,
    next: Option<i64>,
    form: NewUserForm,
    error: Option<String>,
    /// (email, password) right after creating or resetting: shown once.
    secret: Option<(String, String)>,
}

#[derive(Debug, Default, Deserialize)]
pub struct UsersQuery {
    after: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    organisation: String,
}

async fn users_page(
    state: &AppState,
    session: &Session,
    after: Option<i64>,
    status: StatusCode,
    form: NewUserForm,
    error: Option<String>,
    secret: Option<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let (users, next) =
        accounts::list_users(&state.pool, session.user.clone(), after.map(UserId), PAGE)
            .await
            .map_err(fail(session.lang))?;
    Ok(page(
        status,
        &UsersPage {
            c: session.chrome(Nav::Admin),
            csrf: session.csrf.clone(),
            users,
            next: next.map(|u| u.0),
            form,
            error,
            secret,
        },
    ))
}

/// GET /admin/users
pub async fn users(
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<UsersQuery>,
) -> Result<HttpResponse, WebError> {
    admin_only(&session)?;
    users_page(
        &state,
        &session,
        query.after,
        StatusCode::OK,
        NewUserForm::default(),
        None,
        None,
    )
    .await
}

/// POST /admin/users: a new account; its password is shown once.
pub async fn create_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let lang = session.lang;
    let form: NewUserForm = session.form(&body)?;
    admin_only(&session)?;
    let fields = match account_fields(&state, &session, &form).await {
        Ok(fields) => fields,
        Err(Ok(msg)) => {
            return users_page(
                &state,
                &session,
                None,
                StatusCode::BAD_REQUEST,
                form,
                Some(msg),
                None,
            )
            .await
        }
        Err(Err(e)) => return Err(e),
    };
    let result = accounts::admin_create_user(
        &state.pool,
        session.user.clone(),
        client::address(&req, &state.trusted_proxies),
        fields,
    )
    .await;
    match result {
        Ok((user, password)) => {
            users_page(
                &state,
                &session,
                None,
                StatusCode::OK,
                NewUserForm::default(),
                None,
                Some((user.email, password.expose().to_string())),
            )
            .await
        }
        Err(e) if e.kind().is_some() => {
            users_page(
                &state,
                &session,
                None,
                StatusCode::BAD_REQUEST,
                form,
                Some(e.message(session.lang)),
                None,
            )
            .await
        }
        Err(e) => Err(WebError::service(e, lang)),
    }
}

/// The new-account form checked: the account, or what to tell the admin
/// (`Err(Ok)`), or a failure (`Err(Err)`).
async fn account_fields(
    state: &AppState,
    session: &Session,
    form: &NewUserForm,
) -> Result<AccountFields, Result<String, WebError>> {
    let c = session.chrome(Nav::Admin);
    let say = |nl: &str, en: &str| Err(Ok(c.t(nl, en).to_string()));
    let Ok(email) = LoginEmail::parse(&form.email) else {
        return say(
            "Vul een geldig e-mailadres in.",
            "Enter a valid email address.",
        );
    };
    let Ok(name) = parse_name(&form.name) else {
        return say("Vul een naam in.", "Enter a name.");
    };
    let role = if form.role == "admin" {
        Role::Admin
    } else {
        Role::Coordinator
    };
    let organisation = match (role, form.organisation.trim()) {
        (Role::Admin, _) => None,
        (Role::Coordinator, "") => {
            return say(
                "Een coördinator hoort bij een organisatie: vul haar code in.",
                "A coordinator belongs to an organisation: enter its code.",
            )
        }
        (Role::Coordinator, code) => match directory::id_by_code(&state.pool, code).await {
            Ok(id) => Some(id),
            Err(e) if e.kind() == Some(Kind::NotFound) => return Err(Ok(e.message(session.lang))),
            Err(e) => return Err(Err(WebError::service(e, session.lang))),
        },
    };
    Ok(AccountFields {
        email,
        name,
        role,
        organisation,
    })
}

/// POST /admin/users/{id}/active (active=yes|no)
pub async fn user_active(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let lang = session.lang;
    let form: Small = session.form(&body)?;
    let id: UserId = id.parse().map_err(|_| WebError::not_found(lang))?;
    let result = accounts::update_user(
        &state.pool,
        session.user.clone(),
        client::address(&req, &state.trusted_proxies),
        id,
        AccountChanges {
            active: Some(form.active == "yes"),
            ..AccountChanges::default()
        },
    )
    .await;
    match result {
        Ok(_) => Ok(back("/admin/users".into())),
        Err(e) if e.kind() == Some(Kind::Conflict) => {
            users_page(
                &state,
                &session,
                None,
                StatusCode::CONFLICT,
                NewUserForm::default(),
                Some(e.message(session.lang)),
                None,
            )
            .await
        }
        Err(e) => Err(WebError::service(e, lang)),
    }
}

/// POST /admin/users/{id}/password: a new password, shown once.
pub async fn reset_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let lang = session.lang;
    session.check_form(&body)?;
    let id: UserId = id.parse().map_err(|_| WebError::not_found(lang))?;
    let (user, password) = accounts::reset_password(
        &state.pool,
        session.user.clone(),
        client::address(&req, &state.trusted_proxies),
        id,
    )
    .await
    .map_err(fail(lang))?;
    users_page(
        &state,
        &session,
        None,
        StatusCode::OK,
        NewUserForm::default(),
        None,
        Some((user.email, password.expose().to_string())),
    )
    .await
}

// ---- partners ---------------------------------------------------------

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
    state: &AppState,
    session: &Session,
    status: StatusCode,
    error: Option<String>,
    secret: Option<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let partners = partners::list_partners(&state.pool, session.user.clone())
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
pub async fn partners(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, WebError> {
    admin_only(&session)?;
    partners_page(&state, &session, StatusCode::OK, None, None).await
}

/// POST /admin/partners (name, scope…): the secret is shown once.
pub async fn create_partner(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let lang = session.lang;
    let pairs: Vec<(String, String)> = super::decode(&body, lang)?;
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
        return partners_page(&state, &session, StatusCode::BAD_REQUEST, Some(msg), None).await;
    };
    let Ok(scopes) = Scopes::parse(&scopes.join(" ")) else {
        let msg = c
            .t(
                "Kies minstens één bevoegdheid.",
                "Choose at least one scope.",
            )
            .into();
        return partners_page(&state, &session, StatusCode::BAD_REQUEST, Some(msg), None).await;
    };
    let (partner, secret) = partners::admin_create_partner(
        &state.pool,
        session.user.clone(),
        client::address(&req, &state.trusted_proxies),
        name,
        scopes,
    )
    .await
    .map_err(fail(lang))?;
    partners_page(
        &state,
        &session,
        StatusCode::OK,
        None,
        Some((partner.client_id, secret)),
    )
    .await
}

/// POST /admin/partners/{client_id}/active (active=yes|no)
pub async fn partner_active(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    client_id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let lang = session.lang;
    let form: Small = session.form(&body)?;
    partners::update_partner(
        &state.pool,
        session.user.clone(),
        client::address(&req, &state.trusted_proxies),
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
pub async fn mail_queue(
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<MailQuery>,
) -> Result<HttpResponse, WebError> {
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
        &state.pool,
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
pub async fn requeue(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let lang = session.lang;
    session.check_form(&body)?;
    let id: i64 = id.parse().map_err(|_| WebError::not_found(lang))?;
    mail::requeue(
        &state.pool,
        session.user.clone(),
        client::address(&req, &state.trusted_proxies),
        id,
    )
    .await
    .map_err(fail(lang))?;
    Ok(back("/admin/mail?state=pending".into()))
}

// ---- audit log --------------------------------------------------------

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
pub async fn audit(
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, WebError> {
    admin_only(&session)?;
    let (entries, next) = admin::audit_log(&state.pool, session.user.clone(), query.before, PAGE)
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
