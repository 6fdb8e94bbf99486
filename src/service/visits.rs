//! Shadow visits: a coordinator asks, the host answers from its inbox (or
//! the API), both get it in their calendar. docs/visits.md.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};

use super::ServiceError;
use crate::auth::links;
use crate::db::outbox;
use crate::db::visits::{self as repo, NewLinkToken, NewVisit, VisitRow};
use crate::db::{self, DbConn, DbPool};
use crate::domain::account::{Role, User};
use crate::domain::calendar::long_date;
use crate::domain::organisation::{Language, OrganisationId};
pub use crate::domain::visit::VisitRules;
use crate::domain::visit::{
    check_participants, check_proposed_dates, parse_goal, transition, TransitionError, Visit,
    VisitEvent, VisitRole, VisitState,
};
use crate::domain::Invalid;
use crate::mail::ics::{CalendarEntry, Method, Person};
use crate::mail::templates::{compose, Attachment, Confirmation, Declined, Invitation};

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
    /// The topic's name in Dutch and in English.
    pub topic_names: (String, String),
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
    let (requester_name, host_name, (topic, name_nl, name_en)) =
        repo::names(conn, row.requester_id, row.host_id, row.topic_id)?;
    Ok(VisitView {
        id: row.id,
        state: row.state.parse().map_err(|e: Invalid| corrupt(e.0))?,
        requester_id: row.requester_id,
        requester_name,
        host_id: row.host_id,
        host_name,
        topic,
        topic_names: (name_nl, name_en),
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

/// The host's answer to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// One of the proposed days.
    Accept(NaiveDate),
    Decline(Option<String>),
}

/// A coordinator of the host organisation answers over the API.
pub async fn answer_visit(
    pool: &DbPool,
    user: User,
    base_url: String,
    rules: VisitRules,
    id: i64,
    answer: Answer,
) -> Result<VisitView, ServiceError> {
    if let Answer::Decline(reason) = &answer {
        crate::domain::visit::parse_reason(reason.as_deref())
            .map_err(|e| Invalid::new(format!("reason: {e}")))?;
    }
    pool.run(move |conn| {
        conn.write(|conn| {
            let not_found = || ServiceError::NotFound(format!("no visit {id}"));
            let row = repo::find(conn, id)?.ok_or_else(not_found)?;
            if !may_see(&user, &row) {
                return Err(not_found());
            }
            if user.organisation_id.map(|o| o.0) != Some(row.host_id) {
                return Err(ServiceError::Forbidden(
                    "only a coordinator of the host organisation answers a request".into(),
                ));
            }
            answer_in_tx(conn, &base_url, rules, id, answer)
        })
    })
    .await
}

/// The answer, inside the caller's transaction: the state machine decides
/// whether it may happen; the host's row lock (PostgreSQL) or the write
/// lock (SQLite) makes the day and capacity checks race-free, and the
/// unique indexes back them up. Emails are queued with it.
fn answer_in_tx(
    conn: &mut DbConn,
    base_url: &str,
    rules: VisitRules,
    id: i64,
    answer: Answer,
) -> Result<VisitView, ServiceError> {
    let host_id = repo::find(conn, id)?
        .ok_or_else(|| ServiceError::NotFound(format!("no visit {id}")))?
        .host_id;
    repo::lock_organisation(conn, host_id)?;
    let row =
        repo::find(conn, id)?.ok_or_else(|| ServiceError::NotFound(format!("no visit {id}")))?;
    let current = view(conn, row.clone())?;
    let event = match &answer {
        Answer::Accept(date) => VisitEvent::Accept(*date),
        Answer::Decline(_) => VisitEvent::Decline,
    };
    transition(
        &Visit {
            state: current.state,
            proposed_dates: current.proposed_dates.clone(),
            date: current.date,
        },
        event,
    )
    .map_err(|e| match e {
        TransitionError::NotProposed(_) => {
            ServiceError::Invalid(Invalid::new(format!("date: {e}")))
        }
        other => ServiceError::Conflict(other.to_string()),
    })?;
    let now = db::now();
    let host = db::organisations::find(conn, OrganisationId(row.host_id))?
        .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("host of visit {id} vanished")))?;
    let requester_user = db::users::find(conn, crate::domain::account::UserId(row.requested_by))?
        .ok_or_else(|| {
        ServiceError::Internal(anyhow::anyhow!("requester of visit {id} vanished"))
    })?;
    let requester_lang = db::organisations::find(conn, OrganisationId(row.requester_id))?
        .map(|o| o.language)
        .unwrap_or_default();
    let topic = db::topics::find_by_slug(conn, &current.topic)?
        .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("topic of visit {id} vanished")))?;
    let topic_name = |lang: Language| match lang {
        Language::Nl => topic.name_nl.clone(),
        Language::En => topic.name_en.clone(),
    };
    let internal = |e: askama::Error| ServiceError::Internal(e.into());
    match answer {
        Answer::Accept(date) => {
            if date <= today() {
                return Err(ServiceError::Conflict(format!(
                    "{date} has passed; the requester should propose new dates"
                )));
            }
            let taken = |who: &str| {
                ServiceError::Conflict(format!(
                    "{who} already has a visit on {date}; pick another of the proposed dates"
                ))
            };
            if repo::booked_on(conn, row.host_id, date)? {
                return Err(taken(&host.name));
            }
            if repo::booked_on(conn, row.requester_id, date)? {
                return Err(taken(&current.requester_name));
            }
            let first = date.with_day(1).unwrap_or(date);
            let last = (first + chrono::Months::new(1)).pred_opt().unwrap_or(date);
            if repo::hosted_between(conn, row.host_id, first, last)?
                >= i64::from(host.monthly_capacity)
            {
                return Err(ServiceError::Conflict(format!(
                    "{} is fully booked in {} ({} visits a month); pick a date in another month",
                    host.name,
                    date.format("%Y-%m"),
                    host.monthly_capacity
                )));
            }
            match repo::set_accepted(conn, id, date, now) {
                Ok(true) => {}
                Ok(false) => {
                    return Err(ServiceError::Conflict(format!(
                        "visit {id} was answered already"
                    )))
                }
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => return Err(taken("one of the organisations")),
                Err(e) => return Err(e.into()),
            }
            let confirmation = |lang: Language| Confirmation {
                host: host.name.clone(),
                requester: current.requester_name.clone(),
                coordinator: requester_user.name.clone(),
                coordinator_email: requester_user.email.clone(),
                topic: topic_name(lang),
                goal: current.goal.clone(),
                participants: current.participants,
                date: long_date(date, lang),
            };
            let coordinator = Person {
                name: requester_user.name.clone(),
                email: requester_user.email.clone(),
            };
            let mut attendees = vec![coordinator.clone()];
            if let Some(contact) = &host.contact_email {
                attendees.push(Person {
                    name: host.name.clone(),
                    email: contact.clone(),
                });
            }
            let calendar_file = |lang: Language| {
                let event = CalendarEntry {
                    uid: calendar_uid(id, base_url),
                    sequence: u32::try_from(row.sequence).unwrap_or(0),
                    method: Method::Request,
                    date,
                    start: rules.day_start,
                    end: rules.day_end,
                    summary: match lang {
                        Language::Nl => format!(
                            "Meeloopdag {} bij {}: {}",
                            current.requester_name,
                            host.name,
                            topic_name(lang)
                        ),
                        Language::En => format!(
                            "Shadow visit {} at {}: {}",
                            current.requester_name,
                            host.name,
                            topic_name(lang)
                        ),
                    },
                    location: host.name.clone(),
                    description: current.goal.clone(),
                    organizer: coordinator.clone(),
                    attendees: attendees.clone(),
                    stamp: chrono::Utc::now(),
                };
                vec![Attachment {
                    filename: "meeloopdag.ics".into(),
                    content_type: "text/calendar; charset=utf-8; method=REQUEST".into(),
                    bytes: crate::mail::ics::render(&event).into_bytes(),
                }]
            };
            let to_requester = compose(
                &confirmation(requester_lang),
                format!("confirmation:{id}:requester"),
                &requester_user.email,
                requester_lang,
                base_url,
                &calendar_file(requester_lang),
            )
            .map_err(internal)?;
            outbox::enqueue(conn, &to_requester)?;
            if let Some(contact) = &host.contact_email {
                let to_host = compose(
                    &confirmation(host.language),
                    format!("confirmation:{id}:host"),
                    contact,
                    host.language,
                    base_url,
                    &calendar_file(host.language),
                )
                .map_err(internal)?;
                outbox::enqueue(conn, &to_host)?;
            }
        }
        Answer::Decline(reason) => {
            let reason = crate::domain::visit::parse_reason(reason.as_deref())?;
            if !repo::set_declined(conn, id, reason.as_deref(), now)? {
                return Err(ServiceError::Conflict(format!(
                    "visit {id} was answered already"
                )));
            }
            let message = compose(
                &Declined {
                    host: host.name.clone(),
                    coordinator: requester_user.name.clone(),
                    topic: topic_name(requester_lang),
                    reason,
                },
                format!("declined:{id}"),
                &requester_user.email,
                requester_lang,
                base_url,
                &[],
            )
            .map_err(internal)?;
            outbox::enqueue(conn, &message)?;
        }
    }
    repo::use_tokens_of(conn, id, "invitation", now)?;
    let row = repo::find(conn, id)?
        .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("visit {id} vanished")))?;
    view(conn, row)
}

/// What an invitation link leads to.
#[derive(Debug, Clone, PartialEq)]
pub enum InvitationLink {
    /// Waiting for the host's answer.
    Open {
        visit: VisitView,
        language: Language,
    },
    /// Answered (or cancelled, expired, completed): the visit's state says
    /// what happened, for a page that explains it.
    Closed {
        visit: VisitView,
        language: Language,
    },
    /// Not one of ours, or not an invitation.
    Unknown,
}

/// Reads what a link is about. Changes nothing, however often a link
/// scanner fetches it.
pub async fn invitation(pool: &DbPool, token: &str) -> Result<InvitationLink, ServiceError> {
    let Some(hash) = links::hash(token) else {
        return Ok(InvitationLink::Unknown);
    };
    pool.run(move |conn| {
        let Some(link) = repo::find_token(conn, &hash)?.filter(|t| t.purpose == "invitation")
        else {
            return Ok(InvitationLink::Unknown);
        };
        let row = repo::find(conn, link.visit_id)?.ok_or_else(|| {
            ServiceError::Internal(anyhow::anyhow!("visit {} vanished", link.visit_id))
        })?;
        let language = db::organisations::find(conn, OrganisationId(link.organisation_id))?
            .map(|o| o.language)
            .unwrap_or_default();
        let visit = view(conn, row)?;
        let open = visit.state == VisitState::Requested
            && link.used_at.is_none()
            && link.expires_at > db::now();
        Ok(if open {
            InvitationLink::Open { visit, language }
        } else {
            InvitationLink::Closed { visit, language }
        })
    })
    .await
}

/// The host answers through the invitation link: valid, unused and
/// unexpired, or the answer is refused (409) and nothing changes.
pub async fn answer_invitation(
    pool: &DbPool,
    base_url: String,
    rules: VisitRules,
    token: &str,
    answer: Answer,
) -> Result<VisitView, ServiceError> {
    let hash = links::hash(token)
        .ok_or_else(|| ServiceError::NotFound("this link is not valid".into()))?;
    pool.run(move |conn| {
        conn.write(|conn| {
            let link = repo::find_token(conn, &hash)?
                .filter(|t| t.purpose == "invitation")
                .ok_or_else(|| ServiceError::NotFound("this link is not valid".into()))?;
            if link.used_at.is_some() {
                return Err(ServiceError::Conflict(
                    "this invitation was answered already".into(),
                ));
            }
            if link.expires_at <= db::now() {
                return Err(ServiceError::Conflict("this invitation has expired".into()));
            }
            answer_in_tx(conn, &base_url, rules, link.visit_id, answer)
        })
    })
    .await
}

/// A page of visits, newest first: a coordinator's organisation's (as
/// requester, host or both); for admins all, or one organisation's.
pub async fn list_visits(
    pool: &DbPool,
    user: User,
    organisation: Option<OrganisationId>,
    role: Option<VisitRole>,
    state: Option<VisitState>,
    before: Option<i64>,
    limit: i64,
) -> Result<(Vec<VisitView>, Option<i64>), ServiceError> {
    let organisation = match (user.role, user.organisation_id, organisation) {
        (Role::Admin, _, chosen) => chosen,
        (Role::Coordinator, Some(own), None) => Some(own),
        (Role::Coordinator, Some(own), Some(chosen)) if chosen == own => Some(own),
        (Role::Coordinator, _, _) => {
            return Err(ServiceError::Forbidden(
                "coordinators list the visits of their own organisation".into(),
            ))
        }
    };
    if organisation.is_none() && role.is_some() {
        return Err(Invalid::new("role: name an organisation to filter by its role").into());
    }
    pool.run(move |conn| {
        let filter = repo::VisitFilter {
            organisation: organisation.map(|o| o.0),
            as_host: role.map(|r| r == VisitRole::Host),
            state: state.map(VisitState::as_str),
        };
        let mut rows = repo::page(conn, filter, before, limit + 1)?;
        let next = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|r| r.id)
        } else {
            None
        };
        let visits = rows
            .into_iter()
            .map(|row| view(conn, row))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((visits, next))
    })
    .await
}

/// The calendar UID of a visit: stable, so updates and cancellations
/// replace the same entry. The domain is the instance's.
pub fn calendar_uid(id: i64, base_url: &str) -> String {
    let host = base_url
        .split("://")
        .nth(1)
        .unwrap_or(base_url)
        .split(['/', ':'])
        .next()
        .unwrap_or("meeloop");
    format!("visit-{id}@{host}")
}
