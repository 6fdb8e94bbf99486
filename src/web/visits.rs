//! The coordinator's dashboard and one visit's page: answer an invitation,
//! cancel, download the calendar file, go to the lessons form.

use crate::web::session::OnPage;
use crate::web::PageResult;
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use super::session::Nav;
use super::{page, Chrome, Session, WebError};
use crate::domain::calendar::long_date;
use crate::domain::organisation::Language;
use crate::domain::refusal::Kind;
use crate::domain::visit::VisitId;
use crate::domain::visit::{VisitRole, VisitState};
use crate::service::visits::{self, Answer, VisitView};
use crate::service::ServiceError;

/// A visit as the pages show it, in the page's language.
pub struct Item {
    pub id: i64,
    /// The other organisation.
    pub other: String,
    pub topic: String,
    pub state: &'static str,
    /// The booked day, written out.
    pub day: String,
    pub goal: String,
    pub participants: i32,
    /// (ISO date, written out) of the proposed days.
    pub proposed: Vec<(String, String)>,
    pub we_host: bool,
    pub open: bool,
    pub booked: bool,
    /// Ours to call off: our pending request, or a booked day.
    pub cancellable: bool,
    pub note: String,
}

pub fn state_label(state: VisitState, lang: Language) -> &'static str {
    let (nl, en) = match state {
        VisitState::Requested => ("wacht op antwoord", "waiting for an answer"),
        VisitState::Accepted => ("gepland", "scheduled"),
        VisitState::Declined => ("afgewezen", "declined"),
        VisitState::Expired => ("verlopen", "expired"),
        VisitState::Cancelled => ("geannuleerd", "cancelled"),
        VisitState::Completed => ("gehouden", "held"),
    };
    match lang {
        Language::Nl => nl,
        Language::En => en,
    }
}

pub fn item(v: &VisitView, own: Option<i64>, lang: Language) -> Item {
    let we_host = own == Some(v.host_id);
    let note = match (v.state, &v.reason, v.cancelled_by) {
        (VisitState::Cancelled, _, None) if v.closed.is_some() => v
            .closed
            .map(|c| c.message(&v.host_name, lang))
            .unwrap_or_default(),
        (VisitState::Cancelled, _, Some(by)) => {
            let who = if by == VisitRole::Host {
                &v.host_name
            } else {
                &v.requester_name
            };
            match lang {
                Language::Nl => format!("Geannuleerd door {who}."),
                Language::En => format!("Cancelled by {who}."),
            }
        }
        (_, Some(reason), _) if !reason.is_empty() => reason.clone(),
        _ => String::new(),
    };
    Item {
        id: v.id.0,
        other: if we_host {
            v.requester_name.clone()
        } else {
            v.host_name.clone()
        },
        topic: v.topic_name(lang).to_string(),
        state: state_label(v.state, lang),
        day: v.date.map(|d| long_date(d, lang)).unwrap_or_default(),
        goal: v.goal.clone(),
        participants: v.participants,
        proposed: v
            .proposed_dates
            .iter()
            .map(|d| (d.to_string(), long_date(*d, lang)))
            .collect(),
        we_host,
        open: v.state == VisitState::Requested,
        booked: matches!(v.state, VisitState::Accepted | VisitState::Completed),
        cancellable: v.state == VisitState::Accepted
            || (v.state == VisitState::Requested && !we_host),
        note,
    }
}

#[derive(Template)]
#[template(path = "web/dashboard.html")]
struct DashboardPage {
    c: Chrome,
    csrf: String,
    invitations: Vec<Item>,
    requests: Vec<Item>,
    upcoming: Vec<Item>,
    forms: Vec<Item>,
    admin: bool,
}

/// GET /dashboard
pub async fn dashboard(session: Session) -> PageResult {
    let lang = session.lang;
    let own = session.organisation();
    let c = session.chrome(Nav::Dashboard);
    if session.is_admin() {
        return Ok(page(
            StatusCode::OK,
            &DashboardPage {
                c,
                csrf: session.csrf.clone(),
                invitations: vec![],
                requests: vec![],
                upcoming: vec![],
                forms: vec![],
                admin: true,
            },
        ));
    }
    let board = visits::dashboard(session.ctx(), session.user.clone())
        .await
        .on_page(lang)?;
    let items = |list: &[VisitView]| list.iter().map(|v| item(v, own, lang)).collect();
    Ok(page(
        StatusCode::OK,
        &DashboardPage {
            c,
            csrf: session.csrf.clone(),
            invitations: items(&board.invitations),
            requests: items(&board.requests),
            upcoming: items(&board.upcoming),
            forms: items(&board.forms),
            admin: false,
        },
    ))
}

#[derive(Template)]
#[template(path = "web/visit.html")]
struct VisitPage {
    c: Chrome,
    csrf: String,
    v: Item,
    /// The error of the answer or cancel form, and what was typed.
    error: Option<String>,
    form: ActionForm,
    /// Our side's lessons form is still empty.
    form_waiting: bool,
}

/// An answer or a cancellation, as typed.
#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub reason: String,
}

/// A visit's id from the path; anything else is a page that does not exist.
pub(super) fn parse_id(raw: &str, lang: Language) -> Result<VisitId, WebError> {
    raw.parse().map_err(|_| WebError::not_found(lang))
}

async fn visit_page(
    session: &Session,
    id: VisitId,
    status: StatusCode,
    error: Option<String>,
    form: ActionForm,
) -> PageResult {
    let lang = session.lang;
    let visit = visits::get_visit(session.ctx(), session.user.clone(), id)
        .await
        .on_page(lang)?;
    let form_waiting = if visit.state == VisitState::Completed && !session.is_admin() {
        crate::service::lessons::visit_lessons(session.ctx(), session.user.clone(), id)
            .await
            .map(|lessons| {
                let ours = if session.organisation() == Some(visit.host_id) {
                    VisitRole::Host
                } else {
                    VisitRole::Requester
                };
                !lessons.iter().any(|l| l.side == ours)
            })
            .on_page(lang)?
    } else {
        false
    };
    Ok(page(
        status,
        &VisitPage {
            c: session.chrome(Nav::Dashboard),
            csrf: session.csrf.clone(),
            v: item(&visit, session.organisation(), lang),
            error,
            form,
            form_waiting,
        },
    ))
}

/// GET /visits/{id}
pub async fn show(session: Session, id: web::Path<String>) -> PageResult {
    let id = parse_id(&id, session.lang)?;
    visit_page(&session, id, StatusCode::OK, None, ActionForm::default()).await
}

/// POST /visits/{id}/answer: accept on a day, or decline. Errors come
/// back on the visit's page with what was typed.
pub async fn answer(session: Session, id: web::Path<String>, body: web::Bytes) -> PageResult {
    let lang = session.lang;
    let id = parse_id(&id, lang)?;
    let form: ActionForm = session.form(&body)?;
    let c = session.chrome(Nav::Dashboard);
    let answer = match (form.action.as_str(), form.date.parse::<NaiveDate>()) {
        ("accept", Ok(day)) => Ok(Answer::Accept(day)),
        ("accept", Err(_)) => Err(c.t("Kies een dag om te accepteren.", "Pick a day to accept.")),
        ("decline", _) => Ok(Answer::Decline(
            Some(form.reason.trim().to_string()).filter(|r| !r.is_empty()),
        )),
        _ => Err(c.t("Kies accepteren of afwijzen.", "Choose accept or decline.")),
    };
    let answer = match answer {
        Ok(answer) => answer,
        Err(why) => {
            let why = Some(why.to_string());
            return visit_page(&session, id, StatusCode::BAD_REQUEST, why, form).await;
        }
    };
    let result = visits::answer_visit(session.ctx(), session.user.clone(), id, answer).await;
    after_action(&session, id, form, result).await
}

/// POST /visits/{id}/cancel
pub async fn cancel(session: Session, id: web::Path<String>, body: web::Bytes) -> PageResult {
    let id = parse_id(&id, session.lang)?;
    let form: ActionForm = session.form(&body)?;
    let reason = Some(form.reason.trim().to_string()).filter(|r| !r.is_empty());
    let result = visits::cancel_visit(session.ctx(), session.user.clone(), id, reason).await;
    after_action(&session, id, form, result).await
}

/// Success goes (post/redirect/get) to the visit's page; a refusal the
/// user can act on comes back on that page with its reason.
async fn after_action(
    session: &Session,
    id: VisitId,
    form: ActionForm,
    result: Result<VisitView, ServiceError>,
) -> PageResult {
    match result {
        Ok(_) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/visits/{id}")))
            .finish()),
        Err(e) if matches!(e.kind(), Some(Kind::Invalid | Kind::Conflict)) => {
            let status = match e.kind() {
                Some(Kind::Invalid) => StatusCode::BAD_REQUEST,
                _ => StatusCode::CONFLICT,
            };
            let message = e.message(session.lang);
            visit_page(session, id, status, Some(message), form).await
        }
        Err(e) => Err(WebError::service(e, session.lang)),
    }
}

/// GET /visits/{id}/calendar.ics: the same file as the API's.
pub async fn calendar(session: Session, id: web::Path<String>) -> PageResult {
    let lang = session.lang;
    let id = parse_id(&id, lang)?;
    let ics = visits::calendar_file(session.ctx(), session.user.clone(), id, lang)
        .await
        .on_page(lang)?;
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"meeloopdag-{id}.ics\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(ics))
}
