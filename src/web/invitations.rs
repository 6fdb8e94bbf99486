//! `/invitations/{token}`: the host's answer to a request, from the link in
//! the invitation email. GET and HEAD only show (link scanners fetch every
//! link); POST changes something only with an explicit, valid choice.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use super::{link_failure, link_message, page, unknown_link, Chrome};
use crate::domain::calendar::long_date;
use crate::domain::organisation::Language;
use crate::domain::refusal::Kind;
use crate::domain::visit::{parse_reason, VisitRole, VisitState};
use crate::service::visits::{self, Answer, InvitationLink, VisitView};
use crate::state::AppState;

/// Every text of these pages, per language.
pub struct Texts {
    pub title: &'static str,
    pub goal: &'static str,
    pub pick_day: &'static str,
    pub pick_day_error: &'static str,
    pub accept: &'static str,
    pub decline_heading: &'static str,
    pub reason: &'static str,
    pub decline: &'static str,
}

const NL: Texts = Texts {
    title: "Verzoek om een meeloopdag",
    goal: "Wat zij willen leren",
    pick_day: "Kies een van de voorgestelde dagen",
    pick_day_error: "Kies een dag om te accepteren.",
    accept: "Accepteren op de gekozen dag",
    decline_heading: "Komt het niet uit?",
    reason: "Toelichting voor de aanvrager (niet verplicht)",
    decline: "Afwijzen",
};

const EN: Texts = Texts {
    title: "Request for a shadow visit",
    goal: "What they want to learn",
    pick_day: "Pick one of the proposed days",
    pick_day_error: "Pick a day to accept.",
    accept: "Accept on the chosen day",
    decline_heading: "Does it not suit you?",
    reason: "A note for the requester (optional)",
    decline: "Decline",
};

fn texts(language: Language) -> &'static Texts {
    match language {
        Language::Nl => &NL,
        Language::En => &EN,
    }
}

#[derive(Template)]
#[template(path = "web/invitation.html")]
struct InvitationPage<'a> {
    c: Chrome,
    t: &'a Texts,
    intro: String,
    goal: &'a str,
    /// (ISO date, written out, checked)
    days: Vec<(NaiveDate, String, bool)>,
    error: Option<String>,
    date_error: bool,
    reason: &'a str,
    expires: String,
}

/// What was typed, kept when the page comes back with an error.
#[derive(Debug, Default, Deserialize)]
pub struct Form {
    action: Option<String>,
    date: Option<String>,
    reason: Option<String>,
}

impl Form {
    /// The host's answer, or what to say on the form (and whether the
    /// host was accepting, so the day choice stays open).
    fn answer(
        &self,
        visit: &VisitView,
        language: Language,
    ) -> Result<Answer, (&'static str, bool)> {
        let nl = language == Language::Nl;
        match self.action.as_deref() {
            Some("accept") => self
                .date
                .as_deref()
                .and_then(|d| d.parse::<NaiveDate>().ok())
                .filter(|date| visit.proposed_dates.contains(date))
                .map(Answer::Accept)
                .ok_or(if nl {
                    ("Kies een van de voorgestelde dagen.", true)
                } else {
                    ("Pick one of the proposed days.", true)
                }),
            Some("decline") => parse_reason(self.reason.as_deref())
                .map(Answer::Decline)
                .map_err(|_| {
                    if nl {
                        ("De toelichting is te lang (hooguit 1.000 tekens).", false)
                    } else {
                        ("The note is too long (at most 1,000 characters).", false)
                    }
                }),
            _ => Err(if nl {
                ("Kies een dag en accepteer, of wijs af.", false)
            } else {
                ("Pick a day and accept, or decline.", false)
            }),
        }
    }
}

fn form_page(
    status: StatusCode,
    visit: &VisitView,
    language: Language,
    form: &Form,
    error: Option<String>,
    date_error: bool,
) -> HttpResponse {
    let t = texts(language);
    let topic = visit.topic_name(language);
    let intro = match language {
        Language::Nl => format!(
            "{} wil graag met {} {} bij {} meelopen over {}.",
            visit.requester_name,
            visit.participants,
            if visit.participants == 1 {
                "persoon"
            } else {
                "personen"
            },
            visit.host_name,
            topic
        ),
        Language::En => format!(
            "{} would like to spend a day at {} with {} {}, to learn about {}.",
            visit.requester_name,
            visit.host_name,
            visit.participants,
            if visit.participants == 1 {
                "person"
            } else {
                "people"
            },
            topic
        ),
    };
    let expires_on = long_date(
        visit
            .expires_at
            .and_utc()
            .with_timezone(&chrono_tz::Europe::Amsterdam)
            .date_naive(),
        language,
    );
    let chosen = form.date.as_deref().unwrap_or_default();
    page(
        status,
        &InvitationPage {
            c: Chrome::link_page(language),
            t,
            intro,
            goal: &visit.goal,
            days: visit
                .proposed_dates
                .iter()
                .map(|d| (*d, long_date(*d, language), d.to_string() == chosen))
                .collect(),
            error,
            date_error,
            reason: form.reason.as_deref().unwrap_or_default(),
            expires: match language {
                Language::Nl => format!("U kunt antwoorden tot {expires_on}."),
                Language::En => format!("You can answer until {expires_on}."),
            },
        },
    )
}

/// The page for a link that no longer takes answers: what happened.
fn closed_page(visit: &VisitView, language: Language) -> HttpResponse {
    let day = visit
        .date
        .map(|d| long_date(d, language))
        .unwrap_or_default();
    let nl = language == Language::Nl;
    let (heading, message) = match visit.state {
        VisitState::Accepted => (
            if nl {
                "Al beantwoord"
            } else {
                "Answered already"
            },
            if nl {
                format!("Deze uitnodiging is al geaccepteerd: de meeloopdag is op {day}.")
            } else {
                format!("This invitation was accepted already: the shadow visit is on {day}.")
            },
        ),
        VisitState::Completed => (
            if nl {
                "Al beantwoord"
            } else {
                "Answered already"
            },
            if nl {
                format!("Deze meeloopdag heeft plaatsgevonden op {day}.")
            } else {
                format!("This shadow visit took place on {day}.")
            },
        ),
        VisitState::Declined => (
            if nl {
                "Al beantwoord"
            } else {
                "Answered already"
            },
            if nl {
                "Deze uitnodiging is al afgewezen. De aanvrager is op de hoogte.".to_string()
            } else {
                "This invitation was declined already. The requester knows.".to_string()
            },
        ),
        VisitState::Cancelled if visit.closed.is_some() => (
            if nl { "Gesloten" } else { "Closed" },
            format!(
                "{} {}",
                visit
                    .closed
                    .map(|c| c.message(&visit.host_name, language))
                    .unwrap_or_default(),
                if nl {
                    "De aanvrager is op de hoogte en kan andere dagen voorstellen. U hoeft niets te doen."
                } else {
                    "The requester knows and can propose other days. There is nothing you need to do."
                }
            ),
        ),
        VisitState::Cancelled => {
            let by = match visit.cancelled_by {
                Some(VisitRole::Host) => &visit.host_name,
                _ => &visit.requester_name,
            };
            (
                if nl { "Geannuleerd" } else { "Cancelled" },
                match (nl, visit.date.is_some()) {
                    (true, true) => format!("{by} heeft de meeloopdag van {day} geannuleerd. Beide kanten hebben een annulering voor hun agenda gekregen."),
                    (true, false) => format!("{by} heeft dit verzoek ingetrokken. U hoeft niets te doen."),
                    (false, true) => format!("{by} cancelled the shadow visit on {day}. Both sides received a cancellation for their calendar."),
                    (false, false) => format!("{by} withdrew this request. There is nothing you need to do."),
                },
            )
        }
        VisitState::Expired | VisitState::Requested => (
            if nl { "Verlopen" } else { "Expired" },
            if nl {
                "Deze uitnodiging is verlopen. De aanvrager kan een nieuw verzoek sturen."
                    .to_string()
            } else {
                "This invitation has expired. The requester can send a new request.".to_string()
            },
        ),
    };
    link_message(StatusCode::OK, language, heading, message)
}

/// GET and HEAD: show, never change.
pub async fn show(
    req: HttpRequest,
    token: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    match visits::invitation(&state.ctx, &token).await {
        Ok(InvitationLink::Open { visit, language }) => form_page(
            StatusCode::OK,
            &visit,
            language,
            &Form::default(),
            None,
            false,
        ),
        Ok(InvitationLink::Closed { visit, language }) => closed_page(&visit, language),
        Ok(InvitationLink::Unknown) => unknown_link(&req),
        Err(e) => link_failure(&req, &e),
    }
}

/// POST: accept on a chosen day, or decline. A submit without a valid
/// choice changes nothing and shows the form again with what was typed.
pub async fn answer(
    req: HttpRequest,
    token: web::Path<String>,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let form: Form = match super::decode(&body, super::session::language(&req)) {
        Ok(form) => form,
        Err(refused) => return actix_web::ResponseError::error_response(&refused),
    };
    let (visit, language) = match visits::invitation(&state.ctx, &token).await {
        Ok(InvitationLink::Open { visit, language }) => (visit, language),
        Ok(InvitationLink::Closed { visit, language }) => {
            let mut response = closed_page(&visit, language);
            *response.status_mut() = StatusCode::CONFLICT;
            return response;
        }
        Ok(InvitationLink::Unknown) => return unknown_link(&req),
        Err(e) => return link_failure(&req, &e),
    };
    let answer = match form.answer(&visit, language) {
        Ok(answer) => answer,
        Err((error, accepting)) => {
            let error = Some(error.to_string());
            return form_page(
                StatusCode::BAD_REQUEST,
                &visit,
                language,
                &form,
                error,
                accepting,
            );
        }
    };
    match visits::answer_invitation(&state.ctx, &token, answer).await {
        // Post/redirect/get: the page now says what was decided.
        Ok(_) => HttpResponse::SeeOther()
            .insert_header((actix_web::http::header::LOCATION, req.path().to_string()))
            .finish(),
        Err(e) if e.kind() == Some(Kind::Conflict) => {
            // The day was taken meanwhile, or the month is full: choose again.
            let why = e.message(language);
            let error = if language == Language::Nl {
                format!("Dat lukte niet: {why}.")
            } else {
                format!("That did not work: {why}.")
            };
            form_page(
                StatusCode::CONFLICT,
                &visit,
                language,
                &form,
                Some(error),
                false,
            )
        }
        Err(e) if e.kind() == Some(Kind::NotFound) => unknown_link(&req),
        Err(e) => link_failure(&req, &e),
    }
}
