//! `/lessons-forms/{token}`: a side's lessons-learned form, from the link
//! in the email after the visit. GET and HEAD only show; POST saves a
//! complete form, and a form with errors comes back with every error next
//! to its field and everything that was typed.

use crate::web::session::OnPage;
use crate::web::PageResult;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{link_failure, page, unknown_link, Chrome, MessagePage, Nav, Session};
use crate::domain::calendar::long_date;
use crate::domain::lesson::{self, Draft, FieldError, Publish};
use crate::domain::organisation::Language;
use crate::domain::refusal::Kind;
use crate::domain::visit::VisitRole;
use crate::service::lessons::{self, FormContext, FormLink, LessonView};
use crate::state::AppState;

/// Every text of these pages, per language.
pub struct Texts {
    pub title: &'static str,
    pub errors_heading: &'static str,
    pub situation: &'static str,
    pub situation_hint: &'static str,
    pub strengths: &'static str,
    pub strengths_hint: &'static str,
    pub mistakes: &'static str,
    pub mistakes_hint: &'static str,
    pub recommendations: &'static str,
    pub hours: &'static str,
    pub hours_hint: &'static str,
    pub rating: &'static str,
    pub rating_low: &'static str,
    pub rating_high: &'static str,
    pub recommend: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub publish: &'static str,
    pub publish_hint: &'static str,
    pub publish_no: &'static str,
    pub publish_named: &'static str,
    pub publish_pseudonymous: &'static str,
    pub send: &'static str,
    pub followup_title: &'static str,
    pub applied: &'static str,
    pub applied_yes: &'static str,
    pub applied_partly: &'static str,
    pub applied_no: &'static str,
    pub changes: &'static str,
    pub changes_hint: &'static str,
}

const NL: Texts = Texts {
    title: "Wat heeft de meeloopdag opgeleverd?",
    errors_heading: "Nog niet alles is goed ingevuld",
    situation: "Met welke situatie kwam u? (niet verplicht)",
    situation_hint: "Waar stond u, wat wilde u weten?",
    strengths: "Sterke punten om over te nemen",
    strengths_hint: "Wat doen zij goed dat anderen zouden moeten kopiëren?",
    mistakes: "Fouten om te vermijden",
    mistakes_hint: "Welke misstappen kunt u anderen besparen?",
    recommendations: "Aanbevelingen (niet verplicht)",
    hours: "Hoeveel uur bespaart dit bezoek naar schatting?",
    hours_hint: "Een heel getal, 0 als het geen tijd scheelt.",
    rating: "Uw cijfer voor het bezoek",
    rating_low: "slecht",
    rating_high: "uitstekend",
    recommend: "Raadt u deze organisatie aan op dit onderwerp?",
    yes: "Ja",
    no: "Nee",
    publish: "Mag dit in de kennisbank?",
    publish_hint: "Andere organisaties kunnen gepubliceerde lessen lezen. Uw naam en e-mailadres worden nooit getoond.",
    publish_no: "Nee, alleen voor de twee organisaties van dit bezoek",
    publish_named: "Ja, onder de naam van onze organisatie",
    publish_pseudonymous: "Ja, zonder naam (alleen soort en grootte van de organisatie)",
    send: "Versturen",
    followup_title: "Drie maanden later",
    applied: "Heeft u toegepast wat u zag?",
    applied_yes: "Ja",
    applied_partly: "Gedeeltelijk",
    applied_no: "Nee",
    changes: "Wat is er sindsdien veranderd? (niet verplicht)",
    changes_hint: "Wat werkt nu anders, wat leverde het op, wat liep anders dan gedacht?",
};

const EN: Texts = Texts {
    title: "What did the shadow visit bring?",
    errors_heading: "Some answers need attention",
    situation: "What situation did you come with? (optional)",
    situation_hint: "Where did you stand, what did you want to know?",
    strengths: "Strong aspects to copy",
    strengths_hint: "What do they do well that others should copy?",
    mistakes: "Mistakes to avoid",
    mistakes_hint: "Which missteps can you spare others?",
    recommendations: "Recommendations (optional)",
    hours: "About how many hours does this visit save?",
    hours_hint: "A whole number; 0 if it saves no time.",
    rating: "Your rating of the visit",
    rating_low: "poor",
    rating_high: "excellent",
    recommend: "Do you recommend this organisation on this topic?",
    yes: "Yes",
    no: "No",
    publish: "May this go into the knowledge base?",
    publish_hint: "Other organisations can read published lessons. Your name and email address are never shown.",
    publish_no: "No, only for the two organisations of this visit",
    publish_named: "Yes, under our organisation's name",
    publish_pseudonymous: "Yes, without a name (only the kind and size of our organisation)",
    send: "Send",
    followup_title: "Three months on",
    applied: "Did you apply what you saw?",
    applied_yes: "Yes",
    applied_partly: "Partly",
    applied_no: "No",
    changes: "What has changed since? (optional)",
    changes_hint: "What works differently now, what did it bring, what went otherwise than expected?",
};

pub(super) fn texts(language: Language) -> &'static Texts {
    match language {
        Language::Nl => &NL,
        Language::En => &EN,
    }
}

/// What was typed, kept when the page comes back with errors.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Form {
    #[serde(default)]
    situation: String,
    #[serde(default)]
    strengths: String,
    #[serde(default)]
    mistakes: String,
    #[serde(default)]
    recommendations: String,
    #[serde(default)]
    hours_saved: String,
    #[serde(default)]
    rating: String,
    #[serde(default)]
    recommend: String,
    #[serde(default)]
    publish: String,
}

impl Form {
    fn draft(&self) -> Draft {
        Draft {
            situation: self.situation.clone(),
            strengths: self.strengths.clone(),
            mistakes: self.mistakes.clone(),
            recommendations: self.recommendations.clone(),
            hours_saved: self.hours_saved.trim().parse().ok(),
            rating: self.rating.trim().parse().ok(),
            recommend: match self.recommend.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
            // Anything but an explicit choice keeps it unpublished.
            publish: self.publish.parse().unwrap_or(Publish::No),
        }
    }
}

#[derive(Template)]
#[template(path = "web/lessons.html")]
struct FormPage<'a> {
    c: Chrome,
    /// The session's CSRF token on the logged-in form; empty behind a link
    /// (the link's token is the credential there).
    csrf: String,
    t: &'a Texts,
    intro: String,
    ask_recommend: bool,
    form: &'a Form,
    errors: &'a [FieldError],
    expires: String,
}

impl FormPage<'_> {
    /// The error of one field, if any (for the message next to it).
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// The field's `aria-describedby`: its hint and, if any, its error.
    fn described_by(&self, field: &str, hint: bool) -> String {
        let mut ids = Vec::new();
        if hint {
            ids.push(format!("{field}-hint"));
        }
        if self.error(field).is_some() {
            ids.push(format!("{field}-error"));
        }
        ids.join(" ")
    }
}

fn intro(context: &FormContext) -> String {
    let visit = &context.visit;
    let day = visit
        .date
        .map(|d| long_date(d, context.language))
        .unwrap_or_default();
    let (nl_topic, en_topic) = &visit.topic_names;
    match (context.language, context.side) {
        (Language::Nl, VisitRole::Requester) => format!(
            "Op {day} liep u mee bij {} over {nl_topic}. Wat neemt u mee naar huis?",
            visit.host_name
        ),
        (Language::Nl, VisitRole::Host) => format!(
            "Op {day} liep {} bij u mee over {nl_topic}. Wat heeft het u opgeleverd?",
            visit.requester_name
        ),
        (Language::En, VisitRole::Requester) => format!(
            "On {day}, you spent a day at {} on {en_topic}. What do you take home?",
            visit.host_name
        ),
        (Language::En, VisitRole::Host) => format!(
            "On {day}, {} spent a day with you on {en_topic}. What did it bring you?",
            visit.requester_name
        ),
    }
}

fn form_page(
    status: StatusCode,
    context: &FormContext,
    form: &Form,
    errors: &[FieldError],
) -> HttpResponse {
    let language = context.language;
    let expires_on = long_date(
        context
            .expires_at
            .and_utc()
            .with_timezone(&chrono_tz::Europe::Amsterdam)
            .date_naive(),
        language,
    );
    let expires = match language {
        Language::Nl => format!("Het formulier werkt tot {expires_on}."),
        Language::En => format!("The form works until {expires_on}."),
    };
    render_form(
        status,
        Chrome::link_page(language),
        String::new(),
        expires,
        context,
        form,
        errors,
    )
}

fn render_form(
    status: StatusCode,
    c: Chrome,
    csrf: String,
    expires: String,
    context: &FormContext,
    form: &Form,
    errors: &[FieldError],
) -> HttpResponse {
    page(
        status,
        &FormPage {
            c,
            csrf,
            t: texts(context.language),
            intro: intro(context),
            ask_recommend: context.side == VisitRole::Requester,
            form,
            errors,
            expires,
        },
    )
}

pub(super) use super::link_message as message;

/// A form that takes no answers (any more): what happened.
/// What a side that answered already is told: when, and who sees it.
fn saved_text(context: &FormContext, lesson: &LessonView) -> (String, String) {
    let nl = context.language == Language::Nl;
    let on = long_date(
        lesson
            .submitted_at
            .and_utc()
            .with_timezone(&chrono_tz::Europe::Amsterdam)
            .date_naive(),
        context.language,
    );
    let published = match (lesson.lesson.publish, nl) {
        (Publish::No, true) => "Alleen de twee organisaties van dit bezoek zien ze.",
        (Publish::No, false) => "Only the two organisations of this visit see them.",
        (Publish::Named, true) => "Ze staan in de kennisbank, onder de naam van uw organisatie.",
        (Publish::Named, false) => "They are in the knowledge base under your organisation's name.",
        (Publish::Pseudonymous, true) => "Ze staan in de kennisbank, zonder naam.",
        (Publish::Pseudonymous, false) => "They are in the knowledge base, without a name.",
    };
    if nl {
        (
            "Dank u wel".into(),
            format!("Uw antwoorden zijn al opgeslagen op {on}. {published}"),
        )
    } else {
        (
            "Thank you".into(),
            format!("Your answers were saved already on {on}. {published}"),
        )
    }
}

/// A form that takes no answers (any more): what happened.
pub(super) fn closed_page(context: &FormContext, lesson: Option<&LessonView>) -> HttpResponse {
    let nl = context.language == Language::Nl;
    match lesson {
        Some(lesson) => {
            let (heading, text) = saved_text(context, lesson);
            message(StatusCode::OK, context.language, &heading, text)
        }
        None => message(
            StatusCode::OK,
            context.language,
            if nl { "Verlopen" } else { "Expired" },
            if nl {
                "Deze link werkt niet meer. Wilt u toch iets kwijt? Mail uw contactpersoon bij Meeloop.".into()
            } else {
                "This link no longer works. Still want to share something? Email your Meeloop contact.".into()
            },
        ),
    }
}

/// GET and HEAD: show, never change.
pub async fn show(
    req: HttpRequest,
    token: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    match lessons::form_link(&state.ctx, &token).await {
        Ok(FormLink::Open(context)) => form_page(StatusCode::OK, &context, &Form::default(), &[]),
        Ok(FormLink::Closed(context, lesson)) => closed_page(&context, lesson.as_ref()),
        Ok(FormLink::Unknown) => unknown_link(&req),
        Err(e) => link_failure(&req, &e),
    }
}

/// POST: saves a complete form once; otherwise the form comes back with
/// its errors and everything typed, and the link stays valid.
pub async fn submit(
    req: HttpRequest,
    token: web::Path<String>,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let form: Form = match super::decode(&body, super::session::language(&req)) {
        Ok(form) => form,
        Err(refused) => return actix_web::ResponseError::error_response(&refused),
    };
    let context = match lessons::form_link(&state.ctx, &token).await {
        Ok(FormLink::Open(context)) => context,
        Ok(FormLink::Closed(context, lesson)) => {
            let mut response = closed_page(&context, lesson.as_ref());
            *response.status_mut() = StatusCode::CONFLICT;
            return response;
        }
        Ok(FormLink::Unknown) => return unknown_link(&req),
        Err(e) => return link_failure(&req, &e),
    };
    let checked = match lesson::check(&form.draft(), context.side, context.language) {
        Ok(checked) => checked,
        Err(errors) => return form_page(StatusCode::BAD_REQUEST, &context, &form, &errors),
    };
    match lessons::submit_by_link(&state.ctx, &token, checked).await {
        // Post/redirect/get: the page now thanks and says who sees it.
        Ok(_) => HttpResponse::SeeOther()
            .insert_header((actix_web::http::header::LOCATION, req.path().to_string()))
            .finish(),
        Err(e) if e.kind() == Some(Kind::Conflict) => {
            match lessons::form_link(&state.ctx, &token).await {
                Ok(FormLink::Closed(context, lesson)) => {
                    let mut response = closed_page(&context, lesson.as_ref());
                    *response.status_mut() = StatusCode::CONFLICT;
                    response
                }
                _ => unknown_link(&req),
            }
        }
        Err(e) if e.kind() == Some(Kind::NotFound) => unknown_link(&req),
        Err(e) => link_failure(&req, &e),
    }
}

/// The logged-in form's page for an answered side: what was saved.
fn own_closed(session: &Session, context: &FormContext, lesson: &LessonView) -> HttpResponse {
    let (heading, message) = saved_text(context, lesson);
    page(
        StatusCode::OK,
        &MessagePage {
            c: session.chrome(Nav::Dashboard),
            heading,
            message,
        },
    )
}

/// GET /visits/{id}/lessons: the form for the logged-in coordinator's side.
pub async fn own_show(session: Session, id: web::Path<String>) -> PageResult {
    let lang = session.lang;
    let id = super::visits::parse_id(&id, lang)?;
    let (context, lesson) = lessons::own_form(session.ctx(), session.user.clone(), id, lang)
        .await
        .on_page(lang)?;
    Ok(match lesson {
        Some(lesson) => own_closed(&session, &context, &lesson),
        None => render_form(
            StatusCode::OK,
            session.chrome(Nav::Dashboard),
            session.csrf.clone(),
            String::new(),
            &context,
            &Form::default(),
            &[],
        ),
    })
}

/// POST /visits/{id}/lessons
pub async fn own_submit(session: Session, id: web::Path<String>, body: web::Bytes) -> PageResult {
    let lang = session.lang;
    let id = super::visits::parse_id(&id, lang)?;
    let form: Form = session.form(&body)?;
    let (context, lesson) = lessons::own_form(session.ctx(), session.user.clone(), id, lang)
        .await
        .on_page(lang)?;
    if let Some(lesson) = lesson {
        let mut response = own_closed(&session, &context, &lesson);
        *response.status_mut() = StatusCode::CONFLICT;
        return Ok(response);
    }
    let draft = form.draft();
    if let Err(errors) = lesson::check(&draft, context.side, lang) {
        return Ok(render_form(
            StatusCode::BAD_REQUEST,
            session.chrome(Nav::Dashboard),
            session.csrf.clone(),
            String::new(),
            &context,
            &form,
            &errors,
        ));
    }
    lessons::submit_lesson(session.ctx(), session.user.clone(), id, draft, lang)
        .await
        .on_page(lang)?;
    Ok(HttpResponse::SeeOther()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/visits/{id}/lessons"),
        ))
        .finish())
}
