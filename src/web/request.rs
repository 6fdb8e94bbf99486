//! Requesting a visit from a match: up to three working days, a goal and
//! the number of participants. Errors come back next to their fields with
//! everything typed.

use crate::web::session::OnPage;
use crate::web::PageResult;
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::session::Nav;
use super::{page, Chrome, Session, WebError};
use crate::domain::calendar::long_date;
use crate::domain::lesson::FieldError;
use crate::domain::organisation::OrganisationId;
use crate::domain::refusal::Kind;
use crate::domain::visit::{check_request, RequestDraft};
use crate::service::visits::{self, RequestTarget, VisitRequest};

#[derive(Debug, Default, Deserialize)]
pub struct Target {
    #[serde(default)]
    host: String,
    #[serde(default)]
    topic: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    host: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    date1: String,
    #[serde(default)]
    date2: String,
    #[serde(default)]
    date3: String,
    #[serde(default)]
    goal: String,
    #[serde(default)]
    participants: String,
}

#[derive(Template)]
#[template(path = "web/request.html")]
struct RequestPage<'a> {
    c: Chrome,
    csrf: String,
    target: &'a RequestTarget,
    topic_name: String,
    earliest: String,
    earliest_iso: String,
    form: &'a RequestForm,
    errors: Vec<FieldError>,
    /// A refusal that belongs to no field (the host is full, asked already).
    problem: Option<String>,
}

impl RequestPage<'_> {
    /// (name, value, label) of the three date fields.
    fn dates(&self) -> [(&'static str, &str, &'static str); 3] {
        let c = &self.c;
        [
            (
                "date1",
                &self.form.date1,
                c.t("Eerste voorkeur", "First choice"),
            ),
            (
                "date2",
                &self.form.date2,
                c.t(
                    "Tweede voorkeur (niet verplicht)",
                    "Second choice (optional)",
                ),
            ),
            (
                "date3",
                &self.form.date3,
                c.t("Derde voorkeur (niet verplicht)", "Third choice (optional)"),
            ),
        ]
    }

    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

fn render(
    session: &Session,
    status: StatusCode,
    target: &RequestTarget,
    form: &RequestForm,
    errors: Vec<FieldError>,
    problem: Option<String>,
) -> HttpResponse {
    let lang = session.lang;
    page(
        status,
        &RequestPage {
            c: session.chrome(Nav::Peers),
            csrf: session.csrf.clone(),
            target,
            topic_name: target.topic.name(lang).to_string(),
            earliest: long_date(target.earliest, lang),
            earliest_iso: target.earliest.to_string(),
            form,
            errors,
            problem,
        },
    )
}

async fn target(session: &Session, host: &str, topic: &str) -> Result<RequestTarget, WebError> {
    let lang = session.lang;
    let host: OrganisationId = host.parse().map_err(|_| WebError::not_found(lang))?;
    visits::request_target(session.ctx(), session.user.clone(), host, topic.to_string())
        .await
        .on_page(lang)
}

/// GET /visits/new?host=ID&topic=SLUG
pub async fn show(session: Session, query: web::Query<Target>) -> PageResult {
    let target = target(&session, &query.host, &query.topic).await?;
    let form = RequestForm {
        participants: "1".into(),
        ..RequestForm::default()
    };
    Ok(render(
        &session,
        StatusCode::OK,
        &target,
        &form,
        vec![],
        None,
    ))
}

/// POST /visits/new
pub async fn create(session: Session, body: web::Bytes) -> PageResult {
    let lang = session.lang;
    let form: RequestForm = session.form(&body)?;
    let target = target(&session, &form.host, &form.topic).await?;
    let draft = RequestDraft {
        dates: vec![form.date1.clone(), form.date2.clone(), form.date3.clone()],
        goal: form.goal.clone(),
        participants: form.participants.clone(),
    };
    let (dates, goal, participants) = match check_request(
        &draft,
        session.ctx().today(),
        session.ctx().rules.lead_days,
        lang,
    ) {
        Ok(checked) => checked,
        Err(errors) => {
            return Ok(render(
                &session,
                StatusCode::BAD_REQUEST,
                &target,
                &form,
                errors,
                None,
            ))
        }
    };
    let result = visits::request_visit(
        session.ctx(),
        session.user.clone(),
        lang,
        VisitRequest {
            host: target.host,
            topic: target.topic.slug.clone(),
            proposed_dates: dates,
            goal,
            participants: participants.into(),
        },
    )
    .await;
    match result {
        Ok(visit) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/visits/{}", visit.id)))
            .finish()),
        Err(e) if matches!(e.kind(), Some(Kind::Conflict | Kind::Invalid)) => {
            let status = match e.kind() {
                Some(Kind::Conflict) => StatusCode::CONFLICT,
                _ => StatusCode::BAD_REQUEST,
            };
            Ok(render(
                &session,
                status,
                &target,
                &form,
                vec![],
                Some(e.message(lang)),
            ))
        }
        Err(e) => Err(WebError::service(e, lang)),
    }
}
