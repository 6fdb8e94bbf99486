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
use crate::domain::refusal::{AccountRefusal, Refusal};
use crate::domain::topic::{MaturityLevel, TopicSlug};
use crate::domain::Invalid;

const TOPICS: &str = include_str!("demo/topics.csv");
const ORGANISATIONS: &str = include_str!("demo/organisations.csv");
const EXPERTISE: &str = include_str!("demo/expertise.csv");
const VISITS: &str = include_str!("demo/visits.csv");

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

/// A visit that took place before the demo starts, with the visitor's lessons.
#[derive(Debug, Deserialize)]
struct VisitRecord {
    requester: String,
    host: String,
    topic: String,
    working_days_ago: u32,
    goal: String,
    situation: String,
    strengths: String,
    mistakes: String,
    recommendations: String,
    hours_saved: i64,
    rating: i64,
    recommend: bool,
    publish: String,
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

        let organisations =
            import_organisations(conn, ORGANISATIONS.as_bytes(), false, &mut (), None)?;
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

/// Creates the demo accounts, or gives the existing ones a fresh random
/// password, and returns (email, role, password) of each: a newcomer who
/// restarts the demo can always log in, and a demo password never outlives
/// the run that printed it.
pub fn create_accounts(
    conn: &mut DbConn,
) -> Result<Vec<(String, &'static str, String)>, ServiceError> {
    let mut accounts = Vec::new();
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
            Ok(_) => {}
            Err(ServiceError::Refused(Refusal::Account(AccountRefusal::EmailInUse { .. }))) => {
                let user = db::users::find_for_login(conn, email)?
                    .map(|l| l.user)
                    .ok_or_else(|| {
                        ServiceError::Internal(anyhow::anyhow!("demo account {email} vanished"))
                    })?;
                let hash = crate::auth::password::hash(&account.password)
                    .map_err(|e| ServiceError::Internal(anyhow::anyhow!(e)))?;
                db::users::set_password(conn, user.id, &hash)?;
            }
            Err(e) => return Err(e),
        }
        accounts.push((email.to_string(), role.as_str(), password));
    }
    Ok(accounts)
}

/// A visit Súdwest-Fryslân's demo coordinator held at Utrecht last week,
/// whose lessons form is still empty: the dashboard has a form waiting.
/// Idempotent; call after [`create_accounts`].
pub fn load_waiting_form(conn: &mut DbConn) -> Result<bool, ServiceError> {
    conn.write(|conn| {
        let (Some(requester), Some(host)) = (
            db::organisations::id_by_code(conn, "GM1900")?,
            db::organisations::id_by_code(conn, "GM0344")?,
        ) else {
            return Ok(false);
        };
        let Some(coordinator) =
            db::users::find_for_login(conn, "coordinator@sudwestfryslan.example")?.map(|l| l.user)
        else {
            return Ok(false);
        };
        let Some(topic) = db::topics::find_by_slug(conn, "hybrid-working")? else {
            return Ok(false);
        };
        let date = crate::domain::calendar::working_days_before(super::visits::today(), 3);
        if db::visits::booked_on(conn, host.0, date)? {
            return Ok(false);
        }
        held_visit(
            conn,
            (requester, host, topic.id.0),
            coordinator.id.0,
            "Hoe organiseren jullie hybride werken op de publiekslocaties?",
            date,
        )?;
        Ok(true)
    })
}

/// Súdwest-Fryslân's coordinator follows cloud migration and hybrid
/// working since three months ago, so the scheduler's first round writes
/// last month's digest (the demo's lessons are spread over the past
/// weeks: some were published last month, whatever today's date).
/// Idempotent; call after [`create_accounts`]. `false` when they did already.
pub fn follow_topics(conn: &mut DbConn) -> Result<bool, ServiceError> {
    conn.write_outside_accounts(|conn| {
        let Some(coordinator) =
            db::users::find_for_login(conn, "coordinator@sudwestfryslan.example")?.map(|l| l.user)
        else {
            return Ok(false);
        };
        let since = db::now() - chrono::Duration::days(91);
        let mut added = false;
        for slug in ["cloud-migration", "hybrid-working"] {
            if let Some(topic) = db::topics::find_by_slug(conn, slug)? {
                added |= db::follows::follow(conn, coordinator.id, topic.id, since)?;
            }
        }
        Ok(added)
    })
}

/// A visit asked three weeks before `date`, accepted, held on `date` and
/// completed the next morning; returns its id and when it was completed.
fn held_visit(
    conn: &mut DbConn,
    (requester, host, topic): (
        crate::domain::organisation::OrganisationId,
        crate::domain::organisation::OrganisationId,
        i64,
    ),
    requested_by: i64,
    goal: &str,
    date: chrono::NaiveDate,
) -> Result<(crate::domain::visit::VisitId, chrono::NaiveDateTime), ServiceError> {
    let held = date.and_hms_opt(16, 0, 0).unwrap_or_default();
    let completed = held + chrono::Duration::hours(14);
    let visit = db::visits::insert(
        conn,
        crate::db::visits::NewVisit {
            requester_id: requester.0,
            host_id: host.0,
            topic_id: topic,
            requested_by,
            state: crate::domain::visit::VisitState::Requested,
            goal: goal.to_string(),
            participants: 2,
            proposed_dates: serde_json::to_string(&[date])
                .map_err(|e| ServiceError::Internal(e.into()))?,
            expires_at: held,
            created_at: held - chrono::Duration::days(21),
            updated_at: held,
        },
    )?;
    db::visits::set_accepted(conn, visit, date, held - chrono::Duration::days(14))?;
    db::visits::set_completed(conn, visit, date + chrono::Duration::days(1), completed)?;
    Ok((visit, completed))
}

/// Loads (after [`load`]) visits that took place in the weeks before today,
/// with the visitors' lessons (most of them published), so reputation and
/// the knowledge base are not empty on first start. Each requester's visits
/// were asked by an archived coordinator who cannot log in. Idempotent:
/// returns how many visits it added.
#[instrument(skip_all)]
pub fn load_history(conn: &mut DbConn) -> Result<usize, ServiceError> {
    let visits: Vec<VisitRecord> = records(VISITS)?;
    conn.write(|conn| history(conn, &visits))
}

fn history(conn: &mut DbConn, visits: &[VisitRecord]) -> Result<usize, ServiceError> {
    use crate::db::lessons::LessonPlace;
    use crate::domain::lesson::{check, Draft};
    use crate::domain::visit::VisitRole;
    let today = super::visits::today();
    let mut added = 0;
    for v in visits {
        let id_of = |conn: &mut DbConn, code: &str| {
            db::organisations::id_by_code(conn, code)?.ok_or_else(|| {
                ServiceError::from(Invalid::new(format!(
                    "demo visit names unknown organisation {code}"
                )))
            })
        };
        let (requester, host) = (id_of(conn, &v.requester)?, id_of(conn, &v.host)?);
        let topic = db::topics::find_by_slug(conn, &v.topic)?
            .ok_or_else(|| Invalid::new(format!("demo visit names unknown topic {}", v.topic)))?;
        let date = crate::domain::calendar::working_days_before(today, v.working_days_ago);
        if db::visits::booked_on(conn, host.0, date)? {
            continue;
        }
        let lesson = check(
            &Draft {
                situation: v.situation.clone(),
                strengths: v.strengths.clone(),
                mistakes: v.mistakes.clone(),
                recommendations: v.recommendations.clone(),
                hours_saved: Some(v.hours_saved),
                rating: Some(v.rating),
                recommend: Some(v.recommend),
                publish: v.publish.parse()?,
            },
            VisitRole::Requester,
            crate::domain::organisation::Language::Nl,
        )
        .map_err(|e| Invalid::new(format!("demo lesson is broken: {e:?}")))?;
        let coordinator = archived_coordinator(conn, &v.requester, requester)?;
        let (visit, completed) = held_visit(
            conn,
            (requester, host, topic.id.0),
            coordinator,
            &v.goal,
            date,
        )?;
        db::visits::set_lessons_reminded(conn, visit, completed)?;
        let place = LessonPlace {
            visit_id: visit,
            side: VisitRole::Requester,
            organisation_id: requester.0,
            host_id: host.0,
            topic_id: topic.id.0,
            visit_date: date,
            author_id: None,
            submitted_at: completed + chrono::Duration::days(2),
        };
        crate::db::lessons::insert(conn, place, lesson)?;
        added += 1;
    }
    Ok(added)
}

/// `archief@{code}.example`: inactive, with an unusable password.
fn archived_coordinator(
    conn: &mut DbConn,
    code: &str,
    organisation: crate::domain::organisation::OrganisationId,
) -> Result<i64, ServiceError> {
    let email = format!("archief@{}.example", code.to_ascii_lowercase());
    let now = db::now();
    let inserted = db::users::insert(
        conn,
        &db::users::NewUser {
            email: &email,
            name: "Voormalig coördinator",
            role: Role::Coordinator.as_str(),
            organisation_id: Some(organisation.0),
            // Not an argon2 hash: no password matches it.
            password_hash: "!archived",
            active: false,
            token_version: 0,
            created_at: now,
            updated_at: now,
        },
    )?;
    match inserted {
        Some(id) => Ok(id.0),
        None => db::users::find_for_login(conn, &email)?
            .map(|l| l.user.id.0)
            .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("{email} vanished"))),
    }
}

/// With an identity provider configured, the demo's two organisations sign
/// in through it: `zwolle.example` and `sudwestfryslan.example` are mapped
/// to them for `provider` (docs: README, "Single sign-on"). Returns the
/// domains mapped.
pub fn map_sso_domains(conn: &mut DbConn, provider: &str) -> Result<Vec<String>, ServiceError> {
    let mut mapped = Vec::new();
    for (domain, code) in [
        ("zwolle.example", "GM0193"),
        ("sudwestfryslan.example", "GM1900"),
    ] {
        if let Some(id) = db::organisations::id_by_code(conn, code)? {
            let mapping = crate::domain::account::DomainMapping {
                domain: domain.to_string(),
                organisation: id,
                provider: provider.to_string(),
            };
            conn.write(|conn| db::sso::set_domain(conn, &mapping, db::now()))?;
            mapped.push(domain.to_string());
        }
    }
    Ok(mapped)
}
