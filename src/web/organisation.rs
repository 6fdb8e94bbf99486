//! "My organisation": the profile (contact address, language, hosting
//! capacity, size) and the expertise per topic that matching reads.

use crate::web::session::OnPage;
use crate::web::PageResult;
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::session::Nav;
use super::{page, Chrome, Session, WebError};
use crate::domain::lesson::FieldError;
use crate::domain::matching::text::{kind_name, unit};
use crate::domain::organisation::{parse_capacity, parse_name, parse_size, ContactEmail, Language};
use crate::domain::refusal::Kind;
use crate::domain::topic::TopicSlug;
use crate::service::profile::{self, ExpertiseInput, OwnOrganisation, ProfileChanges};

#[derive(Debug, Default, Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    contact_email: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    capacity: String,
    #[serde(default)]
    size: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ExpertiseForm {
    #[serde(default)]
    topic: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    willing: String,
}

/// One topic's expertise as shown and edited.
pub struct Row {
    pub slug: String,
    pub topic: String,
    pub level: String,
    pub since: String,
    pub summary: String,
    pub willing: bool,
}

#[derive(Template)]
#[template(path = "web/organisation.html")]
struct OrganisationPage {
    c: Chrome,
    csrf: String,
    kind: String,
    code: String,
    profile: ProfileForm,
    errors: Vec<FieldError>,
    rows: Vec<Row>,
    /// Topics without expertise yet: (slug, name).
    addable: Vec<(String, String)>,
    expertise_error: Option<String>,
    saved: bool,
    /// Whether the caller may invite colleagues here.
    may_invite: bool,
}

impl OrganisationPage {
    /// (name, label, hint, value, input type) of the profile's text fields.
    fn fields(&self) -> [(&'static str, &'static str, &'static str, &str, &'static str); 4] {
        let c = &self.c;
        let p = &self.profile;
        [
            ("name", c.t("Naam", "Name"), "", &p.name, "text"),
            (
                "contact_email",
                c.t(
                    "E-mailadres voor uitnodigingen",
                    "Email address for invitations",
                ),
                c.t(
                    "Liefst een functioneel adres, zoals meeloop@gemeente.nl. Nooit openbaar.",
                    "Preferably a shared address, such as meeloop@municipality.nl. Never public.",
                ),
                &p.contact_email,
                "email",
            ),
            (
                "capacity",
                c.t(
                    "Meeloopdagen per maand die jullie kunnen ontvangen",
                    "Shadow visits you can host per month",
                ),
                c.t(
                    "0 betekent: nu even niet. Jullie verschijnen dan niet als gastorganisatie.",
                    "0 means: not now. You then do not appear as a host.",
                ),
                &p.capacity,
                "text",
            ),
            (
                "size",
                c.t(
                    "Omvang (inwoners, huurwoningen of medewerkers)",
                    "Size (inhabitants, rental homes or employees)",
                ),
                "",
                &p.size,
                "text",
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
    own: OwnOrganisation,
    profile_form: Option<ProfileForm>,
    errors: Vec<FieldError>,
    expertise_error: Option<String>,
    saved: bool,
) -> HttpResponse {
    let lang = session.lang;
    let org = &own.organisation;
    let profile = profile_form.unwrap_or_else(|| ProfileForm {
        name: org.name.clone(),
        contact_email: org.contact_email.clone().unwrap_or_default(),
        language: org.language.as_str().into(),
        capacity: org.monthly_capacity.to_string(),
        size: org.size.to_string(),
    });
    let rows: Vec<Row> = own
        .expertise
        .iter()
        .map(|e| Row {
            slug: e.topic.slug.clone(),
            topic: e.topic.name(lang).to_string(),
            level: e.level.get().to_string(),
            since: e.since_year.map(|y| y.to_string()).unwrap_or_default(),
            summary: e.summary.clone(),
            willing: e.willing_to_host,
        })
        .collect();
    let addable = own
        .topics
        .iter()
        .filter(|t| !own.expertise.iter().any(|e| e.topic.slug == t.slug))
        .map(|t| (t.slug.clone(), t.name(lang).to_string()))
        .collect();
    page(
        status,
        &OrganisationPage {
            c: session.chrome(Nav::Organisation),
            csrf: session.csrf.clone(),
            kind: format!(
                "{}, {} {}",
                kind_name(org.kind, lang),
                org.size,
                unit(org.kind, lang)
            ),
            code: org.code.clone(),
            profile,
            errors,
            rows,
            addable,
            expertise_error,
            saved,
            may_invite: crate::service::sign_in::may_invite_into(
                session.ctx(),
                &session.user,
                org.id,
            )
            .is_ok(),
        },
    )
}

async fn own(session: &Session) -> Result<OwnOrganisation, WebError> {
    profile::own_organisation(session.ctx(), session.user.clone())
        .await
        .on_page(session.lang)
}

#[derive(Debug, Default, Deserialize)]
pub struct Saved {
    saved: Option<String>,
}

/// GET /organisation
pub async fn show(session: Session, query: web::Query<Saved>) -> PageResult {
    let own = own(&session).await?;
    Ok(render(
        &session,
        StatusCode::OK,
        own,
        None,
        vec![],
        None,
        query.saved.is_some(),
    ))
}

fn field(field: &'static str, nl: &str, en: &str, lang: Language) -> FieldError {
    FieldError {
        field,
        message: match lang {
            Language::Nl => nl.to_string(),
            Language::En => en.to_string(),
        },
    }
}

/// The profile form, checked field by field.
fn changes(form: &ProfileForm, lang: Language) -> Result<ProfileChanges, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = parse_name(&form.name)
        .map_err(|_| {
            errors.push(field(
                "name",
                "Vul een naam in (zonder stuurtekens).",
                "Enter a name (without control characters).",
                lang,
            ))
        })
        .ok();
    let contact_email = match form.contact_email.trim() {
        "" => {
            errors.push(field(
                "contact_email",
                "Vul het adres in waar uitnodigingen heen gaan.",
                "Enter the address invitations go to.",
                lang,
            ));
            None
        }
        raw => ContactEmail::parse(raw)
            .map_err(|_| {
                errors.push(field(
                    "contact_email",
                    "Dit is geen geldig e-mailadres.",
                    "This is not a valid email address.",
                    lang,
                ))
            })
            .ok(),
    };
    let language = form.language.parse::<Language>().ok();
    if language.is_none() {
        errors.push(field(
            "language",
            "Kies Nederlands of Engels.",
            "Choose Dutch or English.",
            lang,
        ));
    }
    let capacity = form
        .capacity
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|n| parse_capacity(n).ok());
    if capacity.is_none() {
        errors.push(field(
            "capacity",
            "Een heel getal van 0 tot 31 (0: nu geen bezoek).",
            "A whole number from 0 to 31 (0: no visits now).",
            lang,
        ));
    }
    let size = parse_size(&form.size).ok();
    if size.is_none() {
        errors.push(field(
            "size",
            "Een heel getal van 0 of meer.",
            "A whole number, 0 or more.",
            lang,
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ProfileChanges {
        name,
        contact_email,
        language,
        monthly_capacity: capacity,
        size,
        ..ProfileChanges::default()
    })
}

/// POST /organisation
pub async fn update(session: Session, body: web::Bytes) -> PageResult {
    let lang = session.lang;
    let form: ProfileForm = session.form(&body)?;
    let own = own(&session).await?;
    let changes = match changes(&form, lang) {
        Ok(c) => c,
        Err(errors) => {
            return Ok(render(
                &session,
                StatusCode::BAD_REQUEST,
                own,
                Some(form),
                errors,
                None,
                false,
            ))
        }
    };
    profile::update_organisation(
        session.ctx(),
        session.user.clone(),
        session.client,
        own.organisation.id,
        changes,
    )
    .await
    .on_page(lang)?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/organisation?saved=1"))
        .finish())
}

/// POST /organisation/expertise: adds or changes one topic.
pub async fn put_expertise(session: Session, body: web::Bytes) -> PageResult {
    let lang = session.lang;
    let form: ExpertiseForm = session.form(&body)?;
    let own = own(&session).await?;
    let refuse = |own, message: String| {
        Ok(render(
            &session,
            StatusCode::BAD_REQUEST,
            own,
            None,
            vec![],
            Some(message),
            false,
        ))
    };
    let Ok(slug) = TopicSlug::parse(&form.topic) else {
        let c = session.chrome(Nav::Organisation);
        return refuse(own, c.t("Kies een onderwerp.", "Pick a topic.").into());
    };
    let since = match form.since.trim() {
        "" => None,
        y => match y.parse::<i64>() {
            Ok(y) => Some(y),
            Err(_) => {
                let c = session.chrome(Nav::Organisation);
                return refuse(
                    own,
                    c.t(
                        "Sinds: een jaartal, zoals 2021.",
                        "Since: a year, such as 2021.",
                    )
                    .into(),
                );
            }
        },
    };
    let level = form.level.trim().parse::<i64>().unwrap_or(0);
    let input = match ExpertiseInput::new(level, &form.summary, since, form.willing == "yes", lang)
    {
        Ok(input) => input,
        Err(e) => return refuse(own, e.message),
    };
    match profile::put_expertise(
        session.ctx(),
        session.user.clone(),
        session.client,
        own.organisation.id,
        slug,
        input,
    )
    .await
    {
        Ok(_) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/organisation?saved=1#expertise-h"))
            .finish()),
        Err(e) if matches!(e.kind(), Some(Kind::Invalid | Kind::NotFound)) => {
            refuse(own, e.message(lang))
        }
        Err(e) => Err(WebError::service(e, lang)),
    }
}

/// POST /organisation/expertise/{slug}/delete
pub async fn delete_expertise(
    session: Session,
    slug: web::Path<String>,
    body: web::Bytes,
) -> PageResult {
    let lang = session.lang;
    session.check_form(&body)?;
    let slug = TopicSlug::parse(&slug).map_err(|_| WebError::not_found(lang))?;
    let organisation = session
        .user
        .organisation_id
        .ok_or_else(|| WebError::not_found(lang))?;
    profile::delete_expertise(
        session.ctx(),
        session.user.clone(),
        session.client,
        organisation,
        slug,
    )
    .await
    .on_page(lang)?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/organisation?saved=1#expertise-h"))
        .finish())
}
