//! Shadow visits: a coordinator asks, the host answers from its inbox (or
//! the API), both get it in their calendar. docs/visits.md.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};

use super::matching::{MatchIndex, Suggester};
use super::ServiceError;
use crate::auth::links;
use crate::db::outbox;
use crate::db::visits::{self as repo, NewLinkToken, NewVisit, VisitRow};
use crate::db::{self, DbConn, DbPool};
use crate::domain::account::{Role, User, UserId};
use crate::domain::calendar::long_date;
use crate::domain::organisation::{Language, Organisation, OrganisationId};
use crate::domain::refusal::{DirectoryRefusal, LinkRefusal, Named, VisitRefusal};
pub use crate::domain::schedule::Job;
pub use crate::domain::visit::Closure;
pub use crate::domain::visit::VisitRules;
use crate::domain::visit::{
    check_participants, check_proposed_dates, obstacle, parse_goal, parse_reason, transition,
    DayFacts, Obstacle, Section, TransitionError, Visit, VisitEvent, VisitRole, VisitState,
};
use crate::domain::Invalid;
use crate::mail::ics::{CalendarEntry, Method, Person};
use crate::mail::templates::{
    compose, Attachment, Cancelled, Closed, Confirmation, Declined, Email, Invitation, Suggestion,
};

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
    /// Which side called it off (neither: Meeloop closed it, see `closed`).
    pub cancelled_by: Option<VisitRole>,
    /// Why Meeloop closed the request itself.
    pub closed: Option<Closure>,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

impl VisitView {
    /// The topic's name in `language`.
    pub fn topic_name(&self, language: Language) -> &str {
        match language {
            Language::Nl => &self.topic_names.0,
            Language::En => &self.topic_names.1,
        }
    }
}

fn view(conn: &mut DbConn, row: VisitRow) -> Result<VisitView, ServiceError> {
    Ok(views(conn, vec![row])?.remove(0))
}

/// Visits as shown, with their names looked up in two queries for the lot.
fn views(conn: &mut DbConn, rows: Vec<VisitRow>) -> Result<Vec<VisitView>, ServiceError> {
    use std::collections::HashMap;
    let corrupt = |what: String| ServiceError::Internal(anyhow::anyhow!(what));
    let mut organisations: Vec<i64> = rows
        .iter()
        .flat_map(|r| [r.requester_id, r.host_id])
        .collect();
    organisations.sort_unstable();
    organisations.dedup();
    let mut topics: Vec<i64> = rows.iter().map(|r| r.topic_id).collect();
    topics.sort_unstable();
    topics.dedup();
    let names: HashMap<i64, String> = repo::organisation_names(conn, &organisations)?
        .into_iter()
        .collect();
    let topic_names: HashMap<i64, (String, String, String)> = repo::topic_names(conn, &topics)?
        .into_iter()
        .map(|(id, slug, nl, en)| (id, (slug, nl, en)))
        .collect();
    rows.into_iter()
        .map(|row| {
            let name = |id: i64| {
                names
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| corrupt(format!("visit {}: organisation {id} vanished", row.id)))
            };
            let (topic, name_nl, name_en) = topic_names
                .get(&row.topic_id)
                .cloned()
                .ok_or_else(|| corrupt(format!("visit {}: topic vanished", row.id)))?;
            Ok(VisitView {
                id: row.id,
                state: row.state.parse().map_err(|e: Invalid| corrupt(e.0))?,
                requester_id: row.requester_id,
                requester_name: name(row.requester_id)?,
                host_id: row.host_id,
                host_name: name(row.host_id)?,
                topic,
                topic_names: (name_nl, name_en),
                goal: row.goal,
                participants: row.participants,
                proposed_dates: serde_json::from_str(&row.proposed_dates)
                    .map_err(|e| corrupt(format!("visit {}: proposed dates: {e}", row.id)))?,
                date: row.visit_date,
                reason: row.reason,
                cancelled_by: row
                    .cancelled_by
                    .as_deref()
                    .filter(|by| *by != MEELOOP)
                    .map(str::parse)
                    .transpose()
                    .map_err(|e: Invalid| corrupt(e.0))?,
                closed: row
                    .closed_because
                    .as_deref()
                    .map(str::parse)
                    .transpose()
                    .map_err(|e: Invalid| corrupt(e.0))?,
                expires_at: row.expires_at,
                created_at: row.created_at,
            })
        })
        .collect()
}

/// `cancelled_by` of a request Meeloop closed itself.
pub const MEELOOP: &str = "meeloop";

pub use super::clock::today;

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
    let requester = may_request(&user)?;
    if requester == request.host {
        return Err(VisitRefusal::OwnOrganisation.into());
    }
    let goal = parse_goal(&request.goal)?;
    let participants = check_participants(request.participants)?;
    let dates = check_proposed_dates(&request.proposed_dates, today(), rules.lead_days, language)
        .map_err(|e| Invalid::new(format!("proposedDates: {e}")))?;
    pool.run(move |conn| {
        conn.write(|conn| {
            let not_found = || DirectoryRefusal::UnknownOrganisation { id: request.host.0 };
            let host = db::organisations::find(conn, request.host)?
                .filter(|h| h.active)
                .ok_or_else(not_found)?;
            if db::organisations::find(conn, requester)?.is_none() {
                return Err(DirectoryRefusal::OrganisationInactive.into());
            }
            let topic = db::topics::find_by_slug(conn, &request.topic)?
                .filter(|t| t.active)
                .ok_or_else(|| DirectoryRefusal::UnknownTopic {
                    slug: request.topic.clone(),
                })?;
            let willing = db::expertise::for_organisation(conn, host.id)?
                .into_iter()
                .any(|e| e.topic.id == topic.id && e.willing_to_host);
            let topic_name = || Named {
                nl: topic.name_nl.clone(),
                en: topic.name_en.clone(),
            };
            if !willing {
                return Err(VisitRefusal::NotHosting {
                    host: host.name,
                    topic: topic_name(),
                }
                .into());
            }
            if host.monthly_capacity == 0 {
                return Err(VisitRefusal::HostsNone { host: host.name }.into());
            }
            // An address stored before addresses were checked as the mail
            // layer checks them would bury the invitation (issue 16).
            let reachable = host
                .contact_email
                .as_deref()
                .is_some_and(|a| crate::domain::organisation::ContactEmail::parse(a).is_ok());
            if !reachable {
                return Err(VisitRefusal::HostUnreachable { host: host.name }.into());
            }
            if let Some(open) = repo::open_request(conn, requester.0, host.id.0, topic.id.0)? {
                return Err(VisitRefusal::AlreadyAsked {
                    host: host.name,
                    topic: topic_name(),
                    visit: open,
                }
                .into());
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
            let p = Parties::load(conn, id)?;
            let token = invitation_token(conn, &p)?;
            if let Some(to) = p.host_side() {
                let invitation =
                    p.invitation(format!("{base_url}/invitations/{token}"), to.language);
                queue(conn, &invitation, invitation_key(id), &to, &base_url, &[])?;
            }
            Ok(p.visit)
        })
    })
    .await
}

/// One visit, for coordinators of its two organisations and for admins;
/// anyone else learns nothing (404, as for a visit that does not exist).
pub async fn get_visit(pool: &DbPool, user: User, id: i64) -> Result<VisitView, ServiceError> {
    pool.run(move |conn| {
        let row = visible(conn, &user, id)?;
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
    index: &MatchIndex,
    user: User,
    base_url: String,
    rules: VisitRules,
    id: i64,
    answer: Answer,
) -> Result<VisitView, ServiceError> {
    let suggester = index.suggester(pool).await?;
    let (sweeper, link_base) = (suggester.clone(), base_url.clone());
    let visit = pool
        .run(move |conn| {
            conn.write(|conn| {
                authorise(conn, &user, id, Act::Answer)?;
                if let Answer::Decline(reason) = &answer {
                    parse_reason(reason.as_deref())
                        .map_err(|e| Invalid::new(format!("reason: {e}")))?;
                }
                answer_in_tx(conn, &base_url, rules, &suggester, id, answer)
            })
        })
        .await?;
    close_stuck_after(pool, &sweeper, &link_base, &visit).await;
    Ok(visit)
}

/// After a booking: the requests it left without a day that can still be
/// booked (the host's and the requester's, on either side) are closed at
/// once, each in its own transaction with its host locked, so that a
/// host is never asked, or nudged, about a request it cannot accept. Runs
/// after the booking committed: the booking stands whatever happens here,
/// and what is left undone (a crash, an error) the scheduler's next round
/// finds too.
async fn close_stuck_after(
    pool: &DbPool,
    suggester: &Suggester,
    base_url: &str,
    booked: &VisitView,
) {
    if booked.state != VisitState::Accepted {
        return;
    }
    let involved = [booked.host_id, booked.requester_id];
    let ids = match pool
        .run(move |conn| Ok::<_, ServiceError>(repo::requested_involving(conn, &involved)?))
        .await
    {
        Ok(ids) => ids,
        Err(e) => {
            tracing::warn!(visit = booked.id, error = %e, "could not look for requests the booking closed; the scheduler will");
            return;
        }
    };
    for id in ids {
        let (suggester, base_url) = (suggester.clone(), base_url.to_string());
        let closed = pool
            .run(move |conn| {
                conn.write(|conn| {
                    let p = Parties::lock(conn, id)?;
                    let closed = close_request(
                        conn,
                        &p,
                        Closure::NoDaysLeft,
                        &suggester,
                        &base_url,
                        db::now(),
                    )?;
                    Ok::<_, ServiceError>(closed.then_some(()))
                })
            })
            .await;
        match closed {
            Ok(Some(_)) => tracing::info!(
                visit = id,
                booked = booked.id,
                "request closed: no proposed day left"
            ),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(visit = id, error = %e, "could not close a request; the scheduler will")
            }
        }
    }
}

/// Who may request a visit: a coordinator, for their own organisation.
pub fn may_request(user: &User) -> Result<OrganisationId, ServiceError> {
    match (user.role, user.organisation_id) {
        (Role::Coordinator, Some(org)) => Ok(org),
        _ => Err(VisitRefusal::CoordinatorsRequest.into()),
    }
}

/// What a caller wants to do with a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// Accept or decline: the host's coordinators.
    Answer,
    /// Call it off: either side's coordinators.
    Cancel,
    /// Fill in the lessons: either side's coordinators.
    WriteLessons,
}

/// Whether `user` may do `act` on visit `id`, with the refusal the use case
/// itself gives: 404 to whoever may not see the visit (as for one that does
/// not exist), 403 to whoever sees it but may not do this. Returns the
/// visit and the caller's side.
pub(super) fn authorise(
    conn: &mut DbConn,
    user: &User,
    id: i64,
    act: Act,
) -> Result<(VisitRow, VisitRole), ServiceError> {
    let not_found = || ServiceError::from(VisitRefusal::UnknownVisit { id });
    if act == Act::WriteLessons {
        let row = repo::find(conn, id)?.ok_or_else(not_found)?;
        let Some(org) = user
            .organisation_id
            .filter(|_| user.role == Role::Coordinator)
        else {
            return Err(VisitRefusal::PartiesWriteLessons.into());
        };
        return match org.0 {
            o if o == row.requester_id => Ok((row, VisitRole::Requester)),
            o if o == row.host_id => Ok((row, VisitRole::Host)),
            _ => Err(not_found()),
        };
    }
    let row = visible(conn, user, id)?;
    let side = match user.organisation_id.map(|o| o.0) {
        Some(org) if org == row.host_id => Some(VisitRole::Host),
        Some(org) if org == row.requester_id => Some(VisitRole::Requester),
        _ => None,
    };
    match (act, side) {
        (Act::Answer, Some(VisitRole::Host)) => Ok((row, VisitRole::Host)),
        (Act::Answer, _) => Err(VisitRefusal::HostAnswers.into()),
        (_, Some(side)) => Ok((row, side)),
        (_, None) => Err(VisitRefusal::PartiesCancel.into()),
    }
}

/// [`authorise`] alone, for an edge that must refuse a caller before it
/// looks at what they sent.
pub async fn may_act(pool: &DbPool, user: &User, id: i64, act: Act) -> Result<(), ServiceError> {
    let user = user.clone();
    pool.run(move |conn| authorise(conn, &user, id, act).map(|_| ()))
        .await
}

/// The visit, if `user` may see it; otherwise the same 404 as for a visit
/// that does not exist.
pub(super) fn visible(conn: &mut DbConn, user: &User, id: i64) -> Result<VisitRow, ServiceError> {
    let not_found = || ServiceError::from(VisitRefusal::UnknownVisit { id });
    let row = repo::find(conn, id)?.ok_or_else(not_found)?;
    if may_see(user, &row) {
        Ok(row)
    } else {
        Err(not_found())
    }
}

/// A visit with the organisations and the coordinator its emails concern,
/// loaded once per use case.
pub(super) struct Parties {
    pub(super) row: VisitRow,
    pub(super) visit: VisitView,
    pub(super) host: Organisation,
    pub(super) requester: Organisation,
    /// The coordinator who asked.
    pub(super) coordinator: User,
}

/// Where one side's email goes, and in which language.
pub(super) struct Recipient {
    pub(super) side: VisitRole,
    pub(super) email: String,
    pub(super) language: Language,
}

impl Parties {
    pub(super) fn load(conn: &mut DbConn, id: i64) -> Result<Parties, ServiceError> {
        let row = repo::find(conn, id)?.ok_or(VisitRefusal::UnknownVisit { id })?;
        let vanished = |what: &str| {
            ServiceError::Internal(anyhow::anyhow!("the {what} of visit {id} vanished"))
        };
        let visit = view(conn, row.clone())?;
        let host = db::organisations::find(conn, OrganisationId(row.host_id))?
            .ok_or_else(|| vanished("host"))?;
        let requester = db::organisations::find(conn, OrganisationId(row.requester_id))?
            .ok_or_else(|| vanished("requester"))?;
        let coordinator = db::users::find(conn, UserId(row.requested_by))?
            .ok_or_else(|| vanished("coordinator"))?;
        Ok(Parties {
            row,
            visit,
            host,
            requester,
            coordinator,
        })
    }

    /// Loads the visit after locking its host (bookings for one host are
    /// serialised; see `db::visits::lock_organisation`).
    pub(super) fn lock(conn: &mut DbConn, id: i64) -> Result<Parties, ServiceError> {
        let row = repo::find(conn, id)?.ok_or(VisitRefusal::UnknownVisit { id })?;
        repo::lock_organisation(conn, row.host_id)?;
        Parties::load(conn, id)
    }

    pub(super) fn topic(&self, language: Language) -> String {
        self.visit.topic_name(language).to_string()
    }

    /// Whether `event` may happen now, as the state machine says; why not
    /// in `language`.
    pub(super) fn check(&self, event: VisitEvent) -> Result<VisitState, ServiceError> {
        let visit = Visit {
            state: self.visit.state,
            proposed_dates: self.visit.proposed_dates.clone(),
            date: self.visit.date,
        };
        transition(&visit, event).map_err(|e| match (e, self.visit.closed) {
            (e @ TransitionError::NotProposed(_), _) => VisitRefusal::from(e).into(),
            // Say why Meeloop closed it rather than just "cancelled".
            (_, Some(closure)) => VisitRefusal::ClosedByMeeloop {
                host: self.host.name.clone(),
                closure,
            }
            .into(),
            (other, None) => VisitRefusal::from(other).into(),
        })
    }

    /// The next hosts to suggest to the requester instead of this one.
    pub(super) fn alternatives(
        &self,
        suggester: &Suggester,
        language: Language,
    ) -> Vec<Suggestion> {
        suggester.alternatives(
            OrganisationId(self.row.requester_id),
            &self.visit.topic,
            OrganisationId(self.row.host_id),
            language,
        )
    }

    pub(super) fn requester_side(&self) -> Recipient {
        Recipient {
            side: VisitRole::Requester,
            email: self.coordinator.email.clone(),
            language: self.requester.language,
        }
    }

    /// The host's contact address (an organisation without one is told nothing).
    pub(super) fn host_side(&self) -> Option<Recipient> {
        self.host.contact_email.clone().map(|email| Recipient {
            side: VisitRole::Host,
            email,
            language: self.host.language,
        })
    }

    pub(super) fn both_sides(&self) -> Vec<Recipient> {
        std::iter::once(self.requester_side())
            .chain(self.host_side())
            .collect()
    }

    pub(super) fn invitation(&self, link: String, language: Language) -> Invitation {
        Invitation {
            host: self.host.name.clone(),
            requester: self.requester.name.clone(),
            coordinator: self.coordinator.name.clone(),
            coordinator_email: self.coordinator.email.clone(),
            topic: self.topic(language),
            goal: self.visit.goal.clone(),
            participants: self.visit.participants,
            dates: self
                .visit
                .proposed_dates
                .iter()
                .map(|d| long_date(*d, language))
                .collect(),
            link,
            expires_on: long_date(local_date(self.row.expires_at), language),
        }
    }

    /// The visit's day and who is involved, as the confirmation and the
    /// reminder tell it.
    pub(super) fn confirmation(&self, date: NaiveDate, language: Language) -> Confirmation {
        Confirmation {
            host: self.host.name.clone(),
            requester: self.requester.name.clone(),
            coordinator: self.coordinator.name.clone(),
            coordinator_email: self.coordinator.email.clone(),
            topic: self.topic(language),
            goal: self.visit.goal.clone(),
            participants: self.visit.participants,
            date: long_date(date, language),
        }
    }

    /// The calendar entry of a visit with a day; `None` before it has one.
    fn calendar(
        &self,
        base_url: &str,
        rules: VisitRules,
        method: Method,
        language: Language,
    ) -> Option<CalendarEntry> {
        let date = self.visit.date?;
        let coordinator = Person {
            name: self.coordinator.name.clone(),
            email: self.coordinator.email.clone(),
        };
        let mut attendees = vec![coordinator.clone()];
        if let Some(contact) = &self.host.contact_email {
            attendees.push(Person {
                name: self.host.name.clone(),
                email: contact.clone(),
            });
        }
        let (requester, host, topic) =
            (&self.requester.name, &self.host.name, self.topic(language));
        Some(CalendarEntry {
            uid: calendar_uid(self.row.id, base_url),
            sequence: u32::try_from(self.row.sequence).unwrap_or(0),
            method,
            date,
            start: rules.day_start,
            end: rules.day_end,
            summary: match language {
                Language::Nl => format!("Meeloopdag {requester} bij {host}: {topic}"),
                Language::En => format!("Shadow visit {requester} at {host}: {topic}"),
            },
            location: host.clone(),
            description: self.visit.goal.clone(),
            organizer: coordinator,
            attendees,
            stamp: chrono::Utc::now(),
        })
    }

    /// The calendar entry as an email attachment.
    pub(super) fn calendar_file(
        &self,
        base_url: &str,
        rules: VisitRules,
        method: Method,
        language: Language,
    ) -> Vec<Attachment> {
        self.calendar(base_url, rules, method, language)
            .map(|entry| Attachment {
                filename: "meeloopdag.ics".into(),
                content_type: format!("text/calendar; charset=utf-8; method={}", method.as_str()),
                bytes: crate::mail::ics::render(&entry).into_bytes(),
            })
            .into_iter()
            .collect()
    }
}

/// Queues one email inside the caller's transaction (once per key).
pub(super) fn queue<E: Email>(
    conn: &mut DbConn,
    email: &E,
    key: String,
    to: &Recipient,
    base_url: &str,
    attachments: &[Attachment],
) -> Result<(), ServiceError> {
    let message = compose(email, key, &to.email, to.language, base_url, attachments)
        .map_err(|e| ServiceError::Internal(e.into()))?;
    outbox::enqueue(conn, &message)?;
    Ok(())
}

pub(super) use super::clock::local_date;

/// The answer, inside the caller's transaction: the state machine decides
/// whether it may happen; the host's row lock (PostgreSQL) or the write
/// lock (SQLite) makes the day and capacity checks race-free, and the
/// unique indexes back them up. Emails are queued with it.
fn answer_in_tx(
    conn: &mut DbConn,
    base_url: &str,
    rules: VisitRules,
    suggester: &Suggester,
    id: i64,
    answer: Answer,
) -> Result<VisitView, ServiceError> {
    let p = Parties::lock(conn, id)?;
    let now = db::now();
    match answer {
        Answer::Accept(date) => {
            p.check(VisitEvent::Accept(date))?;
            book(conn, &p, date, now)?;
            let p = Parties::load(conn, id)?;
            for to in p.both_sides() {
                let confirmation = p.confirmation(date, to.language);
                let file = p.calendar_file(base_url, rules, Method::Request, to.language);
                let key = format!("confirmation:{id}:{}", to.side.as_str());
                queue(conn, &confirmation, key, &to, base_url, &file)?;
            }
        }
        Answer::Decline(reason) => {
            p.check(VisitEvent::Decline)?;
            let reason = parse_reason(reason.as_deref())?;
            if !repo::set_declined(conn, id, reason.as_deref(), now)? {
                return Err(VisitRefusal::AlreadyAnswered.into());
            }
            let to = p.requester_side();
            let declined = Declined {
                host: p.host.name.clone(),
                coordinator: p.coordinator.name.clone(),
                topic: p.topic(to.language),
                reason,
                alternatives: p.alternatives(suggester, to.language),
            };
            queue(
                conn,
                &declined,
                format!("declined:{id}"),
                &to,
                base_url,
                &[],
            )?;
        }
    }
    repo::use_tokens_of(conn, id, "invitation", now)?;
    Ok(Parties::load(conn, id)?.visit)
}

/// Books the day: the host's and the requester's other visits that day and
/// the host's monthly capacity decide; the unique indexes catch what slips
/// past (they never should, with the host locked).
fn book(
    conn: &mut DbConn,
    p: &Parties,
    date: NaiveDate,
    now: NaiveDateTime,
) -> Result<(), ServiceError> {
    let id = p.row.id;
    if let Some(o) = obstacle_on(conn, p, date, today())? {
        return Err(VisitRefusal::day(o, date, &p.host.name, &p.requester.name).into());
    }
    match repo::set_accepted(conn, id, date, now) {
        Ok(true) => Ok(()),
        Ok(false) => Err(VisitRefusal::AlreadyAnswered.into()),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Err(VisitRefusal::DayTaken { who: None, date }.into()),
        Err(e) => Err(e.into()),
    }
}

/// What keeps `date` from being booked for this visit, if anything: the
/// domain's rule on what the calendars say (no query for a day gone by).
fn obstacle_on(
    conn: &mut DbConn,
    p: &Parties,
    date: NaiveDate,
    today: NaiveDate,
) -> Result<Option<Obstacle>, ServiceError> {
    let facts = if date <= today {
        DayFacts::default()
    } else {
        let first = date.with_day(1).unwrap_or(date);
        let last = (first + chrono::Months::new(1)).pred_opt().unwrap_or(date);
        DayFacts {
            host_busy: repo::booked_on(conn, p.row.host_id, date)?,
            requester_busy: repo::booked_on(conn, p.row.requester_id, date)?,
            hosted_that_month: repo::hosted_between(conn, p.row.host_id, first, last)?,
        }
    };
    Ok(obstacle(date, today, p.host.monthly_capacity, facts))
}

/// The idempotency key of a visit's invitation email.
pub(super) fn invitation_key(id: i64) -> String {
    format!("invitation:{id}")
}

/// Meeloop closes a request nobody can answer any more, if that is still
/// so with the host locked: `closure` is checked again (the scheduler's
/// list may be old). The requester is told why, day by day, and whom else
/// to ask; the host's invitation link stops working. `false` if there was
/// nothing to close.
pub(super) fn close_request(
    conn: &mut DbConn,
    p: &Parties,
    closure: Closure,
    suggester: &Suggester,
    base_url: &str,
    now: NaiveDateTime,
) -> Result<bool, ServiceError> {
    let id = p.row.id;
    if p.check(VisitEvent::Close).is_err() {
        return Ok(false);
    }
    // Each proposed day that is gone, with why (only a closure for that
    // reason looks at the days).
    let mut gone = Vec::new();
    let still = match closure {
        Closure::NoDaysLeft => {
            for &date in &p.visit.proposed_dates {
                match obstacle_on(conn, p, date, local_date(now))? {
                    Some(o) => gone.push((date, o)),
                    None => return Ok(false),
                }
            }
            true
        }
        Closure::Undeliverable => !outbox::dead_among(conn, &[invitation_key(id)])?.is_empty(),
    };
    if !still || !repo::set_closed(conn, id, closure.as_str(), now)? {
        return Ok(false);
    }
    repo::use_tokens_of(conn, id, "invitation", now)?;
    let to = p.requester_side();
    let closed = Closed {
        host: p.host.name.clone(),
        coordinator: p.coordinator.name.clone(),
        topic: p.topic(to.language),
        undeliverable: closure == Closure::Undeliverable,
        days: gone
            .iter()
            .map(|(date, o)| o.to_requester(*date, &p.host.name, to.language))
            .collect(),
        again: format!(
            "{base_url}/visits/new?host={}&topic={}",
            p.row.host_id, p.visit.topic
        ),
        alternatives: p.alternatives(suggester, to.language),
    };
    queue(conn, &closed, format!("closed:{id}"), &to, base_url, &[])?;
    Ok(true)
}

/// Either side calls a visit off. For a visit with a day, both sides get a
/// calendar cancellation (METHOD:CANCEL, a higher SEQUENCE) so the entry
/// leaves every calendar; a request still waiting is only withdrawn, and
/// the other side is told.
pub async fn cancel_visit(
    pool: &DbPool,
    user: User,
    base_url: String,
    rules: VisitRules,
    id: i64,
    reason: Option<String>,
) -> Result<VisitView, ServiceError> {
    pool.run(move |conn| {
        conn.write(|conn| {
            let (_, by) = authorise(conn, &user, id, Act::Cancel)?;
            let reason = parse_reason(reason.as_deref())
                .map_err(|e| Invalid::new(format!("reason: {e}")))?;
            let p = Parties::lock(conn, id)?;
            p.check(VisitEvent::Cancel)?;
            let now = db::now();
            if !repo::set_cancelled(conn, id, by.as_str(), reason.as_deref(), now)? {
                return Err(VisitRefusal::ChangedMeanwhile { id }.into());
            }
            repo::use_tokens_of(conn, id, "invitation", now)?;
            let p = Parties::load(conn, id)?;
            let by_name = match by {
                VisitRole::Requester => p.requester.name.clone(),
                VisitRole::Host => p.host.name.clone(),
            };
            let told: Vec<Recipient> = if p.visit.date.is_some() {
                p.both_sides()
            } else {
                p.both_sides()
                    .into_iter()
                    .filter(|r| r.side != by)
                    .collect()
            };
            for to in told {
                let cancelled = Cancelled {
                    host: p.host.name.clone(),
                    requester: p.requester.name.clone(),
                    by: by_name.clone(),
                    topic: p.topic(to.language),
                    date: p.visit.date.map(|d| long_date(d, to.language)),
                    reason: reason.clone(),
                };
                let file = p.calendar_file(&base_url, rules, Method::Cancel, to.language);
                let key = format!("cancelled:{id}:{}", to.side.as_str());
                queue(conn, &cancelled, key, &to, &base_url, &file)?;
            }
            Ok(p.visit)
        })
    })
    .await
}

/// The visit's calendar file for its participants (and admins): a visit
/// with a day, as an entry to import (METHOD:PUBLISH, same UID and
/// SEQUENCE as the emailed ones).
pub async fn calendar_file(
    pool: &DbPool,
    user: User,
    base_url: String,
    rules: VisitRules,
    id: i64,
    language: Language,
) -> Result<String, ServiceError> {
    pool.run(move |conn| {
        let row = visible(conn, &user, id)?;
        if !matches!(row.state.as_str(), "accepted" | "completed") {
            let state = row
                .state
                .parse()
                .map_err(|e: Invalid| ServiceError::Internal(anyhow::anyhow!("visit {id}: {e}")))?;
            return Err(VisitRefusal::NotInCalendar { state }.into());
        }
        let p = Parties::load(conn, id)?;
        let entry = p
            .calendar(&base_url, rules, Method::Publish, language)
            .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("visit {id} has no day")))?;
        Ok(crate::mail::ics::render(&entry))
    })
    .await
}

/// A fresh single-use invitation link for the host, valid as long as the
/// request; returns the secret for the email (only its hash is stored).
pub(super) fn invitation_token(conn: &mut DbConn, p: &Parties) -> Result<String, ServiceError> {
    issue_link(
        conn,
        "invitation",
        p.row.id,
        p.row.host_id,
        p.row.expires_at,
    )
}

/// Stores a new emailed link of `purpose` for one organisation's side of a
/// visit (only its hash) and returns the secret to put in the email.
pub(super) fn issue_link(
    conn: &mut DbConn,
    purpose: &'static str,
    visit: i64,
    organisation: i64,
    expires_at: NaiveDateTime,
) -> Result<String, ServiceError> {
    let token = links::new_token();
    repo::insert_token(
        conn,
        &NewLinkToken {
            token_hash: token.hash,
            purpose,
            visit_id: visit,
            organisation_id: organisation,
            expires_at,
            created_at: db::now(),
        },
    )?;
    Ok(token.plain)
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
        let open = visit.state == VisitState::Requested && link.usable(db::now());
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
    index: &MatchIndex,
    base_url: String,
    rules: VisitRules,
    token: &str,
    answer: Answer,
) -> Result<VisitView, ServiceError> {
    let hash = links::hash(token).ok_or(LinkRefusal::InvalidLink)?;
    let suggester = index.suggester(pool).await?;
    let (sweeper, link_base) = (suggester.clone(), base_url.clone());
    let visit = pool
        .run(move |conn| {
            conn.write(|conn| {
                let link = repo::find_token(conn, &hash)?
                    .filter(|t| t.purpose == "invitation")
                    .ok_or(LinkRefusal::InvalidLink)?;
                if link.used_at.is_some() {
                    let closed = Parties::load(conn, link.visit_id)?;
                    return Err(match closed.visit.closed {
                        Some(closure) => VisitRefusal::ClosedByMeeloop {
                            host: closed.host.name,
                            closure,
                        }
                        .into(),
                        None => VisitRefusal::AlreadyAnswered.into(),
                    });
                }
                if link.expires_at <= db::now() {
                    return Err(LinkRefusal::LinkExpired.into());
                }
                answer_in_tx(conn, &base_url, rules, &suggester, link.visit_id, answer)
            })
        })
        .await?;
    close_stuck_after(pool, &sweeper, &link_base, &visit).await;
    Ok(visit)
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
        (Role::Coordinator, _, _) => return Err(VisitRefusal::OwnVisitsOnly.into()),
    };
    if organisation.is_none() && role.is_some() {
        return Err(VisitRefusal::RoleNeedsOrganisation.into());
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
        let visits = views(conn, rows)?;
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

/// A coordinator's dashboard, in sections (see `domain::visit::section`).
#[derive(Debug, Clone, Default)]
pub struct Dashboard {
    pub invitations: Vec<VisitView>,
    pub requests: Vec<VisitView>,
    /// Soonest first.
    pub upcoming: Vec<VisitView>,
    pub forms: Vec<VisitView>,
}

/// How far back the dashboard looks: as long as a lessons form works.
const DASHBOARD_DAYS: i64 = crate::domain::lesson::FORM_DAYS;

/// What waits for a coordinator's organisation.
pub async fn dashboard(pool: &DbPool, user: User) -> Result<Dashboard, ServiceError> {
    let org = match (user.role, user.organisation_id) {
        (Role::Coordinator, Some(org)) => org.0,
        _ => return Err(VisitRefusal::CoordinatorsDashboard.into()),
    };
    let since = today() - Duration::days(DASHBOARD_DAYS);
    pool.run(move |conn| {
        let rows = repo::current_for(conn, org, since, 200)?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let answered = db::lessons::sides_answered(conn, &ids)?;
        let mut board = Dashboard::default();
        for visit in views(conn, rows)? {
            let side = if visit.host_id == org {
                VisitRole::Host
            } else {
                VisitRole::Requester
            };
            let done = answered
                .iter()
                .any(|(v, s)| *v == visit.id && s == side.as_str());
            match crate::domain::visit::section(visit.state, side, done) {
                Some(Section::Invitation) => board.invitations.push(visit),
                Some(Section::Request) => board.requests.push(visit),
                Some(Section::Upcoming) => board.upcoming.push(visit),
                Some(Section::Form) => board.forms.push(visit),
                None => {}
            }
        }
        board.upcoming.sort_by_key(|v| v.date);
        Ok(board)
    })
    .await
}

/// What the request form names: the host and the topic.
#[derive(Debug, Clone)]
pub struct RequestTarget {
    pub host: OrganisationId,
    pub host_name: String,
    pub topic: crate::domain::topic::Topic,
    /// The first day that may be proposed.
    pub earliest: NaiveDate,
}

/// The host and topic of a request form, if a coordinator may ask them:
/// the same checks as `request_visit` makes before it books anything.
pub async fn request_target(
    pool: &DbPool,
    user: User,
    rules: VisitRules,
    host: OrganisationId,
    topic: String,
) -> Result<RequestTarget, ServiceError> {
    if user.role != Role::Coordinator || user.organisation_id.is_none() {
        return Err(VisitRefusal::CoordinatorsRequest.into());
    }
    pool.run(move |conn| {
        let org = db::organisations::find(conn, host)?
            .filter(|h| h.active)
            .ok_or(DirectoryRefusal::UnknownOrganisation { id: host.0 })?;
        let t = db::topics::find_by_slug(conn, &topic)?
            .filter(|t| t.active)
            .ok_or_else(|| DirectoryRefusal::UnknownTopic {
                slug: topic.clone(),
            })?;
        Ok(RequestTarget {
            host,
            host_name: org.name,
            topic: t,
            earliest: today() + Duration::days(rules.lead_days),
        })
    })
    .await
}
