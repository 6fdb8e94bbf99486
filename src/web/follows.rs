//! "Onderwerpen volgen": which topics the monthly digest is about, chosen
//! with a checkbox each (the API has `/api/v1/me/topics`).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use askama::Template;

use super::{page, Chrome, Nav, Session, WebError};
use crate::domain::organisation::Language;
use crate::domain::topic::TopicSlug;
use crate::service::follows;
use crate::web::session::OnPage;
use crate::web::PageResult;

struct Choice {
    slug: String,
    name: String,
    followed: bool,
}

#[derive(Template)]
#[template(path = "web/follows.html")]
struct FollowsPage {
    c: Chrome,
    csrf: String,
    topics: Vec<Choice>,
    notice: Option<&'static str>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct Saved {
    saved: Option<u8>,
}

/// GET /account/topics
pub async fn show(session: Session, query: web::Query<Saved>) -> PageResult {
    let lang = session.lang;
    let choices = follows::choices(session.ctx(), &session.user)
        .await
        .on_page(lang)?;
    let c = session.chrome(Nav::Account);
    let notice = query.saved.map(|_| c.t("Opgeslagen.", "Saved."));
    Ok(page(
        StatusCode::OK,
        &FollowsPage {
            topics: choices
                .into_iter()
                .map(|(t, followed)| Choice {
                    name: t.name(lang).to_string(),
                    slug: t.slug,
                    followed,
                })
                .collect(),
            c,
            csrf: session.csrf.clone(),
            notice,
        },
    ))
}

/// POST /account/topics: exactly the checked topics are followed.
pub async fn save(session: Session, body: web::Bytes) -> PageResult {
    session.check_form(&body)?;
    let lang = session.lang;
    let pairs: Vec<(String, String)> = super::decode(&body, lang)?;
    let mut slugs = Vec::new();
    for (_, value) in pairs.into_iter().filter(|(k, _)| k == "topic") {
        slugs.push(TopicSlug::parse(&value).map_err(|_| unknown(lang))?);
    }
    follows::set_followed(session.ctx(), &session.user, slugs)
        .await
        .on_page(lang)?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/account/topics?saved=1"))
        .finish())
}

fn unknown(lang: Language) -> WebError {
    WebError::page(
        StatusCode::BAD_REQUEST,
        lang,
        ("Onbekend onderwerp", "Unknown topic"),
        match lang {
            Language::Nl => "Een van de gekozen onderwerpen bestaat niet. Er is niets opgeslagen.",
            Language::En => "One of the topics chosen does not exist. Nothing was saved.",
        },
    )
}
