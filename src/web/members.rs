//! `/organisation/members`: a coordinator invites a colleague into their
//! own organisation, when the operator allows it
//! (`auth.sign_in.coordinators_invite`; admins use the users page).

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::session::{Nav, OnPage};
use super::{page, Chrome, PageResult, Session, WebError};
use crate::domain::account::{LoginEmail, Role};
use crate::domain::organisation::parse_name;
use crate::service::accounts::AccountFields;
use crate::service::clock::long_moment;
use crate::service::{profile, sign_in};

#[derive(Template)]
#[template(path = "web/members.html")]
struct MembersPage {
    c: Chrome,
    csrf: String,
    organisation: String,
    email: String,
    name: String,
    error: Option<String>,
    sent: Option<(String, String)>,
}

#[derive(Debug, Default, Deserialize)]
pub struct MemberForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
}

/// The caller's organisation, if they may invite into it (a 403 page
/// otherwise, before anything is read).
async fn allowed(
    session: &Session,
) -> Result<(crate::domain::organisation::OrganisationId, String), WebError> {
    let own = profile::own_organisation(session.ctx(), session.user.clone())
        .await
        .on_page(session.lang)?;
    let id = own.organisation.id;
    sign_in::may_invite_into(session.ctx(), &session.user, id).on_page(session.lang)?;
    Ok((id, own.organisation.name))
}

fn render(
    session: &Session,
    status: StatusCode,
    organisation: String,
    form: MemberForm,
    error: Option<String>,
    sent: Option<(String, String)>,
) -> PageResult {
    Ok(page(
        status,
        &MembersPage {
            c: session.chrome(Nav::Organisation),
            csrf: session.csrf.clone(),
            organisation,
            email: form.email,
            name: form.name,
            error,
            sent,
        },
    ))
}

/// GET /organisation/members
pub async fn show(session: Session) -> PageResult {
    let (_, organisation) = allowed(&session).await?;
    render(
        &session,
        StatusCode::OK,
        organisation,
        MemberForm::default(),
        None,
        None,
    )
}

/// POST /organisation/members
pub async fn invite(session: Session, body: web::Bytes) -> PageResult {
    let form: MemberForm = session.form(&body)?;
    let (id, organisation) = allowed(&session).await?;
    let lang = session.lang;
    let c = session.chrome(Nav::Organisation);
    let fields = match (LoginEmail::parse(&form.email), parse_name(&form.name)) {
        (Ok(email), Ok(name)) => Ok(AccountFields {
            email,
            name,
            role: Role::Coordinator,
            organisation: Some(id),
        }),
        (Err(_), _) => Err(c.t(
            "Vul een geldig e-mailadres in.",
            "Enter a valid email address.",
        )),
        (_, Err(_)) => Err(c.t("Vul een naam in.", "Enter a name.")),
    };
    // What to say: the invitation sent, or why not (with what was typed).
    let outcome = match fields {
        Err(error) => Err((StatusCode::BAD_REQUEST, error.to_string())),
        Ok(fields) => {
            let (ctx, user) = (session.ctx(), session.user.clone());
            match sign_in::invite(ctx, user, session.client, fields, lang).await {
                Ok(invited) => Ok(invited),
                Err(e) if e.kind().is_some() => Err((StatusCode::CONFLICT, e.message(lang))),
                Err(e) => return Err(WebError::service(e, lang)),
            }
        }
    };
    match outcome {
        Ok(invited) => {
            let sent = Some((invited.user.email, long_moment(invited.expires_at, lang)));
            render(
                &session,
                StatusCode::OK,
                organisation,
                MemberForm::default(),
                None,
                sent,
            )
        }
        Err((status, error)) => render(&session, status, organisation, form, Some(error), None),
    }
}
