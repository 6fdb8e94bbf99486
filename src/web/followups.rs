//! The three-month follow-up behind its emailed link: what came of the
//! visit, asked of the requester once.

use super::lessons::{closed_page, message, texts, Texts};
use crate::domain::calendar::long_date;
use crate::domain::lesson::{self, FieldError};
use crate::domain::organisation::Language;
use crate::domain::refusal::Kind;
use crate::service::lessons::{self, FollowUpLink, FormContext};
use crate::state::AppState;
use crate::web::{link_failure, page, unknown_link, Chrome};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

/// The follow-up as typed.
#[derive(Debug, Default, Deserialize)]
pub struct FollowUpForm {
    #[serde(default)]
    applied: String,
    #[serde(default)]
    changes: String,
}

#[derive(Template)]
#[template(path = "web/followup.html")]
struct FollowUpPage<'a> {
    c: Chrome,
    t: &'a Texts,
    intro: String,
    form: &'a FollowUpForm,
    errors: &'a [FieldError],
}

impl FollowUpPage<'_> {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

fn followup_page(
    status: StatusCode,
    context: &FormContext,
    form: &FollowUpForm,
    errors: &[FieldError],
) -> HttpResponse {
    let language = context.language;
    let visit = &context.visit;
    let day = visit
        .date
        .map(|d| long_date(d, language))
        .unwrap_or_default();
    let intro = match language {
        Language::Nl => format!(
            "Op {day} liep u mee bij {} over {}.",
            visit.host_name, visit.topic_names.0
        ),
        Language::En => format!(
            "On {day} you spent a day at {} on {}.",
            visit.host_name, visit.topic_names.1
        ),
    };
    page(
        status,
        &FollowUpPage {
            c: Chrome::link_page(language),
            t: texts(language),
            intro,
            form,
            errors,
        },
    )
}

fn followup_closed(context: &FormContext, answered: bool) -> HttpResponse {
    let nl = context.language == Language::Nl;
    if answered {
        message(
            StatusCode::OK,
            context.language,
            if nl { "Dank u wel" } else { "Thank you" },
            if nl {
                "Uw antwoord is opgeslagen. Het helpt ons zien wat meeloopdagen opleveren.".into()
            } else {
                "Your answer is saved. It helps us see what shadow visits bring.".into()
            },
        )
    } else {
        closed_page(context, None)
    }
}

/// GET and HEAD: show, never change.
pub async fn followup_show(
    req: HttpRequest,
    token: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    match lessons::followup_link(&state.ctx, &token).await {
        Ok(FollowUpLink::Open(context)) => {
            followup_page(StatusCode::OK, &context, &FollowUpForm::default(), &[])
        }
        Ok(FollowUpLink::Closed(context, answer)) => followup_closed(&context, answer.is_some()),
        Ok(FollowUpLink::Unknown) => unknown_link(&req),
        Err(e) => link_failure(&req, &e),
    }
}

/// POST: saves a valid answer once; otherwise the form comes back.
pub async fn followup_submit(
    req: HttpRequest,
    token: web::Path<String>,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let form: FollowUpForm = match super::decode(&body, super::session::language(&req)) {
        Ok(form) => form,
        Err(refused) => return actix_web::ResponseError::error_response(&refused),
    };
    let context = match lessons::followup_link(&state.ctx, &token).await {
        Ok(FollowUpLink::Open(context)) => context,
        Ok(FollowUpLink::Closed(context, answer)) => {
            let mut response = followup_closed(&context, answer.is_some());
            *response.status_mut() = StatusCode::CONFLICT;
            return response;
        }
        Ok(FollowUpLink::Unknown) => return unknown_link(&req),
        Err(e) => return link_failure(&req, &e),
    };
    let (applied, changes) =
        match lesson::check_followup(&form.applied, &form.changes, context.language) {
            Ok(answer) => answer,
            Err(errors) => return followup_page(StatusCode::BAD_REQUEST, &context, &form, &errors),
        };
    match lessons::submit_followup(&state.ctx, &token, applied, changes).await {
        Ok(()) => HttpResponse::SeeOther()
            .insert_header((actix_web::http::header::LOCATION, req.path().to_string()))
            .finish(),
        Err(e) if e.kind() == Some(Kind::Conflict) => {
            let mut response = followup_closed(&context, true);
            *response.status_mut() = StatusCode::CONFLICT;
            response
        }
        Err(e) if e.kind() == Some(Kind::NotFound) => unknown_link(&req),
        Err(e) => link_failure(&req, &e),
    }
}
