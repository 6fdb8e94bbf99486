//! What waits for a coordinator's organisation, and the request form's target.

use crate::service::context::Context;
use chrono::{Duration, NaiveDate};

use crate::db::visits::{self as repo};
use crate::db::{self};
use crate::domain::account::{Role, User};
use crate::domain::organisation::OrganisationId;
use crate::domain::refusal::{DirectoryRefusal, VisitRefusal};
use crate::domain::visit::{Section, VisitRole};
use crate::service::ServiceError;

use super::*;

/// A coordinator's dashboard, in sections (see `domain::visit::section`).
#[derive(Debug, Clone, Default)]
pub struct Dashboard {
    pub invitations: Vec<VisitView>,
    pub requests: Vec<VisitView>,
    /// Soonest first.
    pub upcoming: Vec<VisitView>,
    pub forms: Vec<VisitView>,
}

/// What waits for a coordinator's organisation.
pub async fn dashboard(ctx: &Context, user: User) -> Result<Dashboard, ServiceError> {
    let today = ctx.today();
    let org = match (user.role, user.organisation_id) {
        (Role::Coordinator, Some(org)) => org.0,
        _ => return Err(VisitRefusal::CoordinatorsDashboard.into()),
    };
    let since = today - Duration::days(DASHBOARD_DAYS);
    ctx.pool
        .run(move |conn| {
            let rows = repo::current_for(conn, org, since, 200)?;
            let ids: Vec<i64> = rows.iter().map(|r| r.id.0).collect();
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
                    .any(|a| a.visit_id == visit.id && a.side == side);
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
    ctx: &Context,
    user: User,
    host: OrganisationId,
    topic: String,
) -> Result<RequestTarget, ServiceError> {
    let today = ctx.today();
    let rules = ctx.rules;
    if user.role != Role::Coordinator || user.organisation_id.is_none() {
        return Err(VisitRefusal::CoordinatorsRequest.into());
    }
    ctx.pool
        .run(move |conn| {
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
                earliest: today + Duration::days(rules.lead_days),
            })
        })
        .await
}
