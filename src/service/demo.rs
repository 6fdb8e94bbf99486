//! The demo data set loaded by `meeloop serve --demo`: the topic catalogue
//! and a few dozen real municipalities, housing corporations, provinces and
//! water boards with plausible (invented) expertise. Municipality names,
//! populations and positions come from CBS / PDOK open data (CC BY 4.0);
//! contact addresses use the reserved `.example` domain so no mail can leave.

use serde::Deserialize;
use tracing::instrument;

use super::accounts::{create_user, NewAccount};
use super::import::{import_organisations, ImportReport};
use super::ServiceError;
use crate::db::expertise::NewExpertise;
use crate::db::topics::NewTopic;
use crate::db::{self, DbConn};
use crate::domain::account::{Password, Role};
use crate::domain::topic::{MaturityLevel, TopicSlug};
use crate::domain::Invalid;

const TOPICS: &str = include_str!("demo/topics.csv");
const ORGANISATIONS: &str = include_str!("demo/organisations.csv");
const EXPERTISE: &str = include_str!("demo/expertise.csv");

#[derive(Debug, Deserialize)]
struct TopicRecord {
    slug: String,
    name_nl: String,
    name_en: String,
    description_nl: String,
    description_en: String,
}

#[derive(Debug, Deserialize)]
struct ExpertiseRecord {
    code: String,
    topic: String,
    level: i64,
    since_year: Option<i32>,
    willing_to_host: bool,
    summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoReport {
    pub topics: usize,
    pub organisations: ImportReport,
    pub expertise: usize,
}

fn records<T: serde::de::DeserializeOwned>(text: &str) -> Result<Vec<T>, Invalid> {
    csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .collect::<Result<_, _>>()
        .map_err(|e| Invalid::new(format!("demo data is broken: {e}")))
}

/// Loads (or refreshes) the demo set. Idempotent: everything is upserted by
/// its natural key, so starting with `--demo` again duplicates nothing.
#[instrument(skip_all)]
pub fn load(conn: &mut DbConn) -> Result<DemoReport, ServiceError> {
    let topics: Vec<TopicRecord> = records(TOPICS)?;
    let expertise: Vec<ExpertiseRecord> = records(EXPERTISE)?;
    conn.write(|conn| {
        let new_topics: Vec<NewTopic> = topics
            .iter()
            .map(|t| {
                TopicSlug::parse(&t.slug)?;
                Ok(NewTopic::new(
                    &t.slug,
                    &t.name_nl,
                    &t.name_en,
                    &t.description_nl,
                    &t.description_en,
                ))
            })
            .collect::<Result<_, Invalid>>()?;
        db::topics::upsert(conn, &new_topics)?;

        let organisations = import_organisations(conn, ORGANISATIONS.as_bytes(), false, &mut ())?;
        if !organisations.invalid.is_empty() {
            let first = &organisations.invalid[0];
            return Err(Invalid::new(format!("demo organisations are broken: {first}")).into());
        }

        let mut new_expertise = Vec::with_capacity(expertise.len());
        for e in &expertise {
            let organisation = db::organisations::id_by_code(conn, &e.code)?.ok_or_else(|| {
                Invalid::new(format!(
                    "demo expertise names unknown organisation {}",
                    e.code
                ))
            })?;
            let topic = db::topics::find_by_slug(conn, &e.topic)?.ok_or_else(|| {
                Invalid::new(format!("demo expertise names unknown topic {}", e.topic))
            })?;
            new_expertise.push(NewExpertise::new(
                organisation,
                &topic,
                MaturityLevel::new(e.level)?,
                &e.summary,
                e.since_year,
                e.willing_to_host,
            ));
        }
        db::expertise::upsert(conn, &new_expertise)?;
        Ok(DemoReport {
            topics: new_topics.len(),
            organisations,
            expertise: new_expertise.len(),
        })
    })
}

/// Demo accounts: an admin and coordinators at a small municipality that
/// wants to learn (Súdwest-Fryslân) and at a host (Zwolle).
const DEMO_ACCOUNTS: [(&str, &str, Role, Option<&str>); 3] = [
    ("admin@meeloop.example", "Demo Beheerder", Role::Admin, None),
    (
        "coordinator@sudwestfryslan.example",
        "Sietske de Vries",
        Role::Coordinator,
        Some("GM1900"),
    ),
    (
        "coordinator@zwolle.example",
        "Jeroen Bakker",
        Role::Coordinator,
        Some("GM0193"),
    ),
];

/// Creates the demo accounts that do not exist yet, each with a fresh random
/// password, and returns (email, role, password) of those it created: the
/// only moment the passwords are known.
pub fn create_accounts(
    conn: &mut DbConn,
) -> Result<Vec<(String, &'static str, String)>, ServiceError> {
    let mut created = Vec::new();
    for (email, name, role, organisation) in DEMO_ACCOUNTS {
        let password = crate::auth::jwt::random_hex(10);
        let account = NewAccount {
            email: email.into(),
            name: name.into(),
            role,
            organisation: organisation.map(str::to_string),
            password: Password::parse(&password)?,
        };
        match create_user(conn, &account) {
            Ok(_) => created.push((email.to_string(), role.as_str(), password)),
            Err(ServiceError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(created)
}
