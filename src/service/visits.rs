//! Shadow visits: a coordinator asks, the host answers from its inbox (or
//! the API), both get it in their calendar. docs/visits.md.

use chrono::{Duration, NaiveDate, NaiveDateTime};

use super::ServiceError;
use crate::auth::links;
use crate::db::outbox;
use crate::db::visits::{self as repo, NewLinkToken, NewVisit, VisitRow};
use crate::db::{self, DbConn, DbPool};
use crate::domain::account::{Role, User};
use crate::domain::calendar::long_date;
use crate::domain::organisation::{Language, OrganisationId};
pub use crate::domain::visit::VisitRules;
use crate::domain::visit::{check_participants, check_proposed_dates, parse_goal, VisitState};
use crate::domain::Invalid;
use crate::mail::templates::{compose, Invitation};

/// What a coordinator asks for.
#[derive(Debug, Clone)]
pub struct VisitRequest {
    pub host: OrganisationId,
    pub topic: String,
    pub proposed_dates: Vec<NaiveDate>,
    pub goal: String,
    pub participants: i64,
}

/// A visit as its participants see it.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitView {
    pub id: i64,
    pub state: VisitState,
    pub requester_id: i64,
    pub requester_name: String,
    pub host_id: i64,
    pub host_name: String,
    pub topic: String,
    pub goal: String,
    pub participants: i32,
    pub proposed_dates: Vec<NaiveDate>,
    pub date: Option<NaiveDate>,
    pub reason: Option<String>,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

fn view(conn: &mut DbConn, row: VisitRow) -> Result<VisitView, ServiceError> {
    let corrupt = |what: String| ServiceError::Internal(anyhow::anyhow!(what));
    let (requester_name, host_name, topic) =
        repo::names(conn, row.requester_id, row.host_id, row.topic_id)?;
    Ok(VisitView {
        id: row.id,
        state: row.state.parse().map_err(|e: Invalid| corrupt(e.0))?,
        requester_id: row.requester_id,
        requester_name,
        host_id: row.host_id,
        host_name,
        topic,
        goal: row.goal,
        participants: row.participants,
        proposed_dates: serde_json::from_str(&row.proposed_dates)
            .map_err(|e| corrupt(format!("visit {}: proposed dates: {e}", row.id)))?,
        date: row.visit_date,
        reason: row.reason,
        expires_at: row.expires_at,
        created_at: row.created_at,
    })
}

/// Dutch "today".
pub fn today() -> NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Amsterdam)
        .date_naive()
}

/// A coordinator requests a visit for their own organisation. The
/// invitation to the host's contact address is queued in the same
/// transaction, with a single-use link.
pub async fn request_visit(
    pool: &DbPool,
    user: User,
    base_url: String,
    rules: VisitRules,
    language: Language,
    request: VisitRequest,
) -> Result<VisitView, ServiceError> {
    let requester = match (user.role, user.organisation_id) {
        (Role::Coordinator, Some(org)) => org,
        _ => {
            return Err(ServiceError::Forbidden(
                "only a coordinator requests visits, for their own organisation".into(),
            ))
        }
    };
    if requester == request.host {
        return Err(
            Invalid::new("hostOrganisationId: you cannot visit your own organisation").into(),
        );
    }
    let goal = parse_goal(&request.goal)?;
    let participants = check_participants(request.participants)?;
    let dates = check_proposed_dates(&request.proposed_dates, today(), rules.lead_days, language)
        .map_err(|e| Invalid::new(format!("proposedDates: {e}")))?;
    pool.run(move |conn| {
        conn.write(|conn| {
            let not_found = || ServiceError::NotFound(format!("no organisation {}", request.host));
            let host = db::organisations::find(conn, request.host)?
                .filter(|h| h.active)
                .ok_or_else(not_found)?;
            let Some(requesting) = db::organisations::find(conn, requester)? else {
                return Err(ServiceError::Forbidden("your organisation is not active".into()));
            };
            let topic = db::topics::find_by_slug(conn, &request.topic)?
                .filter(|t| t.active)
                .ok_or_else(|| ServiceError::NotFound(format!("no topic '{}'", request.topic)))?;
            let willing = db::expertise::for_organisation(conn, host.id)?
                .into_iter()
                .any(|e| e.topic.id == topic.id && e.willing_to_host);
            if !willing {
                return Err(ServiceError::Conflict(format!(
                    "{} does not host visits on {}",
                    host.name, topic.slug
                )));
            }
            if host.monthly_capacity == 0 {
                return Err(ServiceError::Conflict(format!(
                    "{} hosts no visits at the moment (capacity 0)",
                    host.name
                )));
            }
            let Some(contact) = host.contact_email.clone() else {
                return Err(ServiceError::Conflict(format!(
                    "{} has no contact address to invite; ask an admin to add one",
                    host.name
                )));
            };
            if let Some(open) = repo::open_request(conn, requester.0, host.id.0, topic.id.0)? {
                return Err(ServiceError::Conflict(format!(
                    "you already asked {} about {} (visit {open}); wait for the answer or cancel it",
                    host.name, topic.slug
                )));
            }
            let now = db::now();
            let expires_at = now + Duration::days(rules.invitation_days);
            let id = repo::insert(
                conn,
                &NewVisit {
                    requester_id: requester.0,
                    host_id: host.id.0,
                    topic_id: topic.id.0,
                    requested_by: user.id.0,
                    state: VisitState::Requested.as_str(),
                    goal: goal.clone(),
                    participants,
                    proposed_dates: serde_json::to_string(&dates)
                        .map_err(|e| ServiceError::Internal(e.into()))?,
                    expires_at,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            let token = links::new_token();
            repo::insert_token(
                conn,
                &NewLinkToken {
                    token_hash: token.hash,
                    purpose: "invitation",
                    visit_id: id,
                    organisation_id: host.id.0,
                    expires_at,
                    created_at: now,
                },
            )?;
            let lang = host.language;
            let invitation = Invitation {
                host: host.name.clone(),
                requester: requesting.name.clone(),
                coordinator: user.name.clone(),
                coordinator_email: user.email.clone(),
                topic: match lang {
                    Language::Nl => topic.name_nl.clone(),
                    Language::En => topic.name_en.clone(),
                },
                goal: goal.clone(),
                participants,
                dates: dates.iter().map(|d| long_date(*d, lang)).collect(),
                link: format!("{base_url}/invitations/{}", token.plain),
                expires_on: long_date(
                    expires_at
                        .and_utc()
                        .with_timezone(&chrono_tz::Europe::Amsterdam)
                        .date_naive(),
                    lang,
                ),
            };
            let message = compose(&invitation, format!("invitation:{id}"), &contact, lang, &base_url, &[])
                .map_err(|e| ServiceError::Internal(e.into()))?;
            outbox::enqueue(conn, &message)?;
            let row = repo::find(conn, id)?.ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("visit {id} vanished")))?;
            view(conn, row)
        })
    })
    .await
}

/// One visit, for coordinators of its two organisations and for admins;
/// anyone else learns nothing (404, as for a visit that does not exist).
pub async fn get_visit(pool: &DbPool, user: User, id: i64) -> Result<VisitView, ServiceError> {
    pool.run(move |conn| {
        let not_found = || ServiceError::NotFound(format!("no visit {id}"));
        let row = repo::find(conn, id)?.ok_or_else(not_found)?;
        if !may_see(&user, &row) {
            return Err(not_found());
        }
        view(conn, row)
    })
    .await
}

fn may_see(user: &User, row: &VisitRow) -> bool {
    match (user.role, user.organisation_id) {
        (Role::Admin, _) => true,
        (Role::Coordinator, Some(org)) => org.0 == row.requester_id || org.0 == row.host_id,
        _ => false,
    }
}
