//! Shadow visits: a coordinator asks, the host answers from its inbox (or
//! the API), both get it in their calendar. docs/visits.md.

mod answer;
mod dashboard;

pub(crate) use super::parties::Parties;
pub use super::parties::{calendar_uid, VisitView, MEELOOP};
use super::parties::{view, views};
use crate::domain::visit::LinkPurpose;
use crate::domain::visit::VisitId;
use crate::service::context::Context;
pub(crate) use answer::close_request;
pub use answer::{answer_invitation, answer_visit, invitation, Answer, InvitationLink};
use chrono::{Duration, NaiveDate};
pub use dashboard::{dashboard, request_target, Dashboard, RequestTarget};

use super::ServiceError;
use crate::db::visits::{self as repo, NewVisit, VisitRow};
use crate::db::{self, DbConn};
use crate::domain::account::{Role, User};
use crate::domain::event::Event;
use crate::domain::organisation::{Language, OrganisationId};
use crate::domain::refusal::{DirectoryRefusal, Named, VisitRefusal};
pub use crate::domain::schedule::Job;
pub use crate::domain::visit::Closure;
pub use crate::domain::visit::VisitRules;
use crate::domain::visit::{
    check_participants, check_proposed_dates, parse_goal, parse_reason, VisitEvent, VisitRole,
    VisitState,
};
use crate::domain::Invalid;
use crate::mail::ics::Method;

/// What a coordinator asks for.
#[derive(Debug, Clone)]
pub struct VisitRequest {
    pub host: OrganisationId,
    pub topic: String,
    pub proposed_dates: Vec<NaiveDate>,
    pub goal: String,
    pub participants: i64,
}

pub use super::clock::today;

/// A coordinator requests a visit for their own organisation. The
/// invitation to the host's contact address is queued in the same
/// transaction, with a single-use link.
pub async fn request_visit(
    ctx: &Context,
    user: User,
    language: Language,
    request: VisitRequest,
) -> Result<VisitView, ServiceError> {
    let (now, today, rules) = (ctx.now(), ctx.today(), ctx.rules);
    let requester = may_request(&user)?;
    if requester == request.host {
        return Err(VisitRefusal::OwnOrganisation.into());
    }
    let goal = parse_goal(&request.goal)?;
    let participants = check_participants(request.participants)?;
    let dates = check_proposed_dates(&request.proposed_dates, today, rules.lead_days, language)
        .map_err(|e| Invalid::of("proposedDates", e))?;
    let fanout = ctx.fanout().await?;
    ctx.pool
        .run(move |conn| {
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
                let expires_at = now + Duration::days(rules.invitation_days);
                let id = repo::insert(
                    conn,
                    NewVisit {
                        requester_id: requester.0,
                        host_id: host.id.0,
                        topic_id: topic.id.0,
                        requested_by: user.id.0,
                        state: VisitState::Requested,
                        goal: goal.clone(),
                        participants,
                        proposed_dates: serde_json::to_string(&dates)
                            .map_err(|e| ServiceError::Internal(e.into()))?,
                        expires_at,
                        created_at: now,
                        updated_at: now,
                    },
                )?;
                let requested = Event::VisitRequested { visit: id };
                Ok(fanout.publish(conn, now, requested)?.visit)
            })
        })
        .await
}

/// One visit, for coordinators of its two organisations and for admins;
/// anyone else learns nothing (404, as for a visit that does not exist).
pub async fn get_visit(ctx: &Context, user: User, id: VisitId) -> Result<VisitView, ServiceError> {
    ctx.pool
        .run(move |conn| {
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
    id: VisitId,
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
pub async fn may_act(
    ctx: &Context,
    user: &User,
    id: VisitId,
    act: Act,
) -> Result<(), ServiceError> {
    let user = user.clone();
    ctx.pool
        .run(move |conn| authorise(conn, &user, id, act).map(|_| ()))
        .await
}

/// The visit, if `user` may see it; otherwise the same 404 as for a visit
/// that does not exist.
pub(super) fn visible(
    conn: &mut DbConn,
    user: &User,
    id: VisitId,
) -> Result<VisitRow, ServiceError> {
    let not_found = || ServiceError::from(VisitRefusal::UnknownVisit { id });
    let row = repo::find(conn, id)?.ok_or_else(not_found)?;
    if may_see(user, &row) {
        Ok(row)
    } else {
        Err(not_found())
    }
}

/// Either side calls a visit off. For a visit with a day, both sides get a
/// calendar cancellation (METHOD:CANCEL, a higher SEQUENCE) so the entry
/// leaves every calendar; a request still waiting is only withdrawn, and
/// the other side is told.
pub async fn cancel_visit(
    ctx: &Context,
    user: User,
    id: VisitId,
    reason: Option<String>,
) -> Result<VisitView, ServiceError> {
    let now = ctx.now();
    let fanout = ctx.fanout().await?;
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                let (_, by) = authorise(conn, &user, id, Act::Cancel)?;
                let reason =
                    parse_reason(reason.as_deref()).map_err(|e| Invalid::of("reason", e))?;
                let p = Parties::lock(conn, id)?;
                p.check(VisitEvent::Cancel)?;
                if !repo::set_cancelled(conn, id, by.as_str(), reason.as_deref(), now)? {
                    return Err(VisitRefusal::ChangedMeanwhile { id }.into());
                }
                repo::use_tokens_of(conn, id, LinkPurpose::Invitation, now)?;
                let cancelled = Event::VisitCancelled {
                    visit: id,
                    by,
                    reason,
                };
                Ok(fanout.publish(conn, now, cancelled)?.visit)
            })
        })
        .await
}

/// The visit's calendar file for its participants (and admins): a visit
/// with a day, as an entry to import (METHOD:PUBLISH, same UID and
/// SEQUENCE as the emailed ones).
pub async fn calendar_file(
    ctx: &Context,
    user: User,
    id: VisitId,
    language: Language,
) -> Result<String, ServiceError> {
    let (base_url, rules, now) = (ctx.base_url.clone(), ctx.rules, ctx.now());
    ctx.pool
        .run(move |conn| {
            let row = visible(conn, &user, id)?;
            if !matches!(row.state, VisitState::Accepted | VisitState::Completed) {
                let state = row.state;
                return Err(VisitRefusal::NotInCalendar { state }.into());
            }
            let p = Parties::load(conn, id)?;
            let entry = p
                .calendar((&base_url, rules), Method::Publish, language, now)
                .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("visit {id} has no day")))?;
            Ok(crate::mail::ics::render(&entry))
        })
        .await
}

/// A page of visits, newest first: a coordinator's organisation's (as
/// requester, host or both); for admins all, or one organisation's.
pub async fn list_visits(
    ctx: &Context,
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
    ctx.pool
        .run(move |conn| {
            let filter = repo::VisitFilter {
                organisation: organisation.map(|o| o.0),
                as_host: role.map(|r| r == VisitRole::Host),
                state: state.map(VisitState::as_str),
            };
            let mut rows = repo::page(conn, filter, before, limit + 1)?;
            let next = if rows.len() as i64 > limit {
                rows.truncate(limit as usize);
                rows.last().map(|r| r.id.0)
            } else {
                None
            };
            let visits = views(conn, rows)?;
            Ok((visits, next))
        })
        .await
}

/// How far back the dashboard looks: as long as a lessons form works.
const DASHBOARD_DAYS: i64 = crate::domain::lesson::FORM_DAYS;
