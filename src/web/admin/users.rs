//! Accounts: invite (the owner chooses their password), deactivate, send
//! a sign-in link. No page ever shows a password.

use crate::web::PageResult;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use crate::domain::account::{LoginEmail, Role, UserId};
use crate::domain::organisation::parse_name;
use crate::domain::refusal::Kind;
use crate::service::accounts::{self, AccountChanges, AccountFields};
use crate::service::clock::long_moment;
use crate::service::directory::{self};
use crate::service::sign_in;
use crate::web::session::Nav;
use crate::web::{page, Chrome, Session, WebError};

use super::{admin_only, back, fail, Small, PAGE};

#[derive(Template)]
#[template(path = "web/admin/users.html")]
struct UsersPage {
    c: Chrome,
    csrf: String,
    users: Vec<crate::domain::account::User>,
    next: Option<i64>,
    form: NewUserForm,
    error: Option<String>,
    /// (email, until when the link works) right after an invitation or a
    /// sign-in link went out.
    sent: Option<(String, String)>,
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
    session: &Session,
    after: Option<i64>,
    status: StatusCode,
    form: NewUserForm,
    error: Option<String>,
    sent: Option<(String, String)>,
) -> PageResult {
    let (users, next) =
        accounts::list_users(session.ctx(), session.user.clone(), after.map(UserId), PAGE)
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
            sent,
        },
    ))
}

/// GET /admin/users
pub async fn users(session: Session, query: web::Query<UsersQuery>) -> PageResult {
    admin_only(&session)?;
    users_page(
        &session,
        query.after,
        StatusCode::OK,
        NewUserForm::default(),
        None,
        None,
    )
    .await
}

/// POST /admin/users: invites someone; they choose their own password.
pub async fn create_user(session: Session, body: web::Bytes) -> PageResult {
    let lang = session.lang;
    let form: NewUserForm = session.form(&body)?;
    admin_only(&session)?;
    let fields = match account_fields(&session, &form).await {
        Ok(fields) => fields,
        Err(Ok(msg)) => {
            return users_page(
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
    let result = sign_in::invite(
        session.ctx(),
        session.user.clone(),
        session.client,
        fields,
        session.lang,
    )
    .await;
    match result {
        Ok(invited) => {
            let until = long_moment(invited.expires_at, session.lang);
            users_page(
                &session,
                None,
                StatusCode::OK,
                NewUserForm::default(),
                None,
                Some((invited.user.email, until)),
            )
            .await
        }
        Err(e) if e.kind().is_some() => {
            users_page(
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
        (Role::Coordinator, code) => match directory::id_by_code(session.ctx(), code).await {
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
pub async fn user_active(session: Session, id: web::Path<String>, body: web::Bytes) -> PageResult {
    let lang = session.lang;
    let form: Small = session.form(&body)?;
    let id: UserId = id.parse().map_err(|_| WebError::not_found(lang))?;
    let result = accounts::update_user(
        session.ctx(),
        session.user.clone(),
        session.client,
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

/// POST /admin/users/{id}/password: emails the account a link to choose a
/// password (an invitation again while it has none).
pub async fn reset_password(
    session: Session,
    id: web::Path<String>,
    body: web::Bytes,
) -> PageResult {
    let lang = session.lang;
    session.check_form(&body)?;
    let id: UserId = id.parse().map_err(|_| WebError::not_found(lang))?;
    let sent = sign_in::send_link_by_admin(
        session.ctx(),
        session.user.clone(),
        session.client,
        id,
        lang,
    )
    .await
    .map_err(fail(lang))?;
    let until = long_moment(sent.expires_at, lang);
    users_page(
        &session,
        None,
        StatusCode::OK,
        NewUserForm::default(),
        None,
        Some((sent.user.email, until)),
    )
    .await
}

// ---- partners ---------------------------------------------------------
