//! Shadow visits over the API: request one, read one.

use crate::http::call::Call;
use crate::http::ApiResult;
use actix_web::http::header::LOCATION;
use actix_web::{post, route};
use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::body::{integer, Body};
use super::problem::{ApiError, Problem};
use super::query::{path, positive_id};
use crate::domain::organisation::OrganisationId;
use crate::domain::pagination::{parse_limit, DEFAULT_LIMIT};
use crate::domain::visit::VisitId;
use crate::domain::visit::{VisitRole, VisitState};
use crate::http::extract::CurrentUser;
use crate::http::responses::{BadId, BadQuery, BodyLimits, Guarded};
use crate::service::visits::{self, VisitRequest, VisitView};

/// A request for a shadow visit, for the caller's own organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateVisit {
    /// The organisation to visit: willing to host on the topic, not your own.
    #[serde(deserialize_with = "integer::required")]
    #[schema(minimum = 1, maximum = 9223372036854775807_i64, example = 12)]
    pub host_organisation_id: i64,
    #[schema(
        pattern = "^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$",
        example = "cloud-migration"
    )]
    pub topic: String,
    /// One to three different working days (no weekends or Dutch public
    /// holidays), at least `visits.lead_days` (default 7) days ahead.
    #[schema(min_items = 1, max_items = 3, example = json!(["2027-03-02", "2027-03-04"]))]
    pub proposed_dates: Vec<NaiveDate>,
    /// What you want to learn (10 to 2,000 characters).
    #[schema(
        min_length = 10,
        max_length = 2000,
        example = "How did you plan the exit from your own data centre?"
    )]
    pub goal: String,
    /// How many people come (1 to 5).
    #[serde(deserialize_with = "integer::required")]
    #[schema(minimum = 1, maximum = 5, example = 2)]
    pub participants: i64,
}

/// One side of a visit.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitParty {
    pub id: i64,
    pub name: String,
}

/// A shadow visit.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VisitResponse {
    pub id: i64,
    /// `requested`, `accepted`, `declined`, `expired`, `cancelled` or `completed`.
    #[schema(example = "requested")]
    pub state: String,
    pub requester: VisitParty,
    pub host: VisitParty,
    #[schema(example = "cloud-migration")]
    pub topic: String,
    pub goal: String,
    pub participants: i32,
    pub proposed_dates: Vec<NaiveDate>,
    /// The day the host chose; absent until accepted.
    pub date: Option<NaiveDate>,
    /// Why it was declined or cancelled.
    pub reason: Option<String>,
    /// Who called it off: `requester`, `host`, or `meeloop` for a request
    /// nobody could answer any more (see `closedBecause`); absent unless
    /// cancelled.
    #[schema(example = "requester")]
    pub cancelled_by: Option<String>,
    /// Why Meeloop closed the request: `invitation_undeliverable` (the
    /// host's contact address refused the invitation) or `no_days_left`
    /// (none of the proposed days can be booked any more); absent otherwise.
    #[schema(example = "no_days_left")]
    pub closed_because: Option<String>,
    /// Until when the host can answer.
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl From<VisitView> for VisitResponse {
    fn from(v: VisitView) -> Self {
        VisitResponse {
            id: v.id.0,
            state: v.state.as_str().to_string(),
            requester: VisitParty {
                id: v.requester_id,
                name: v.requester_name,
            },
            host: VisitParty {
                id: v.host_id,
                name: v.host_name,
            },
            topic: v.topic,
            goal: v.goal,
            participants: v.participants,
            proposed_dates: v.proposed_dates,
            date: v.date,
            reason: v.reason,
            cancelled_by: match (v.cancelled_by, v.closed) {
                (Some(side), _) => Some(side.as_str().to_string()),
                (None, Some(_)) => Some(visits::MEELOOP.to_string()),
                (None, None) => None,
            },
            closed_because: v.closed.map(|c| c.as_str().to_string()),
            expires_at: v.expires_at.and_utc(),
            created_at: v.created_at.and_utc(),
        }
    }
}

/// 200 with the visit; never cached (it changes with every answer).
fn visit_ok(visit: VisitView) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(VisitResponse::from(visit))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VisitPage {
    /// Newest first.
    pub items: Vec<VisitResponse>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VisitListParams {
    /// Only visits where the organisation is the requester or the host.
    #[param(inline, value_type = Option<String>, pattern = "^(requester|host)$")]
    pub role: Option<String>,
    /// Only visits in this state.
    #[param(inline, value_type = Option<String>, pattern = "^(requested|accepted|declined|expired|cancelled|completed)$")]
    pub state: Option<String>,
    /// Admins: one organisation's visits (needed with `role`). Coordinators
    /// always see their own organisation's; naming another is 403.
    #[param(minimum = 1, maximum = 9223372036854775807_i64)]
    pub organisation: Option<i64>,
    /// Only visits older than this id (the `nextBefore` of the previous page).
    #[param(minimum = 1, maximum = 9223372036854775807_i64)]
    pub before: Option<i64>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// Visits
///
/// Visits of the caller's organisation newest first, as requester, host or both
/// (`role`); admins see all or one organisation's. A page at a time (`before`,
/// `limit`).
#[utoipa::path(
    get,
    tag = "visits",
    params(VisitListParams),
    responses(
        (status = 200, description = "A page of visits", body = VisitPage),
        BadQuery,
        (status = 403, description = "Another organisation's visits", body = Problem, content_type = "application/problem+json"),
        Guarded,
    )
)]
#[route("/visits", method = "GET", method = "HEAD")]
pub async fn list(call: Call, user: CurrentUser) -> ApiResult {
    let params = call.query::<VisitListParams>()?;
    let role = params.get("role", str::parse::<VisitRole>)?;
    let visit_state = params.get("state", str::parse::<VisitState>)?;
    let organisation = params.get("organisation", str::parse::<OrganisationId>)?;
    let before = params.get("before", positive_id)?;
    let limit = params.get("limit", parse_limit)?.unwrap_or(DEFAULT_LIMIT);
    let (visits, next_before) = visits::list_visits(
        call.ctx(),
        user.0,
        organisation,
        role,
        visit_state,
        before,
        limit,
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(VisitPage {
            items: visits.into_iter().map(VisitResponse::from).collect(),
            next_before,
        }))
}

/// Request a shadow visit
///
/// A coordinator asks a host for a meeloopdag on a topic with a goal,
/// participants and up to five proposed working days. The host's contact
/// address gets an invitation with a single-use link to answer. Refused, among
/// others, with `not_hosting`, `hosts_none`, `host_unreachable`,
/// `already_asked` and `own_organisation`; error details follow `Accept-Language`.
#[utoipa::path(
    post,
    tag = "visits",
    request_body = CreateVisit,
    responses(
        (status = 201, description = "Requested; the invitation is on its way", body = VisitResponse),
        (status = 400, description = "Invalid input, e.g. a date in a weekend, on a public holiday or too soon", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a coordinator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such (active) host or topic", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The host does not host on this topic, has no capacity or contact address, or you already asked", body = Problem, content_type = "application/problem+json"),
        BodyLimits,
        Guarded,
    )
)]
#[post("/visits")]
pub async fn create(call: Call, user: CurrentUser, body: Body<CreateVisit>) -> ApiResult {
    call.no_query()?;
    let body = body
        .after(async { visits::may_request(&user.0).map(|_| ()) })
        .await?;
    let host = OrganisationId::try_from(body.host_organisation_id)
        .map_err(ApiError::field("hostOrganisationId"))?;
    let visit = visits::request_visit(
        call.ctx(),
        user.0,
        call.lang(),
        VisitRequest {
            host,
            topic: body.topic,
            proposed_dates: body.proposed_dates,
            goal: body.goal,
            participants: body.participants,
        },
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/visits/{}", visit.id)))
        .insert_header(("Cache-Control", "no-store"))
        .json(VisitResponse::from(visit)))
}

/// One visit
///
/// One visit with its state, days and both organisations. For coordinators of
/// its two organisations and admins; anyone else gets `unknown_visit`.
#[utoipa::path(
    get,
    tag = "visits",
    params(("id" = i64, Path, description = "Visit id", minimum = 1, maximum = 9223372036854775807_i64)),
    responses(
        (status = 200, description = "The visit", body = VisitResponse),
        BadId,
        (status = 404, description = "No such visit, or not yours", body = Problem, content_type = "application/problem+json"),
        Guarded,
    )
)]
#[route("/visits/{id}", method = "GET", method = "HEAD")]
pub async fn get(call: Call, id: web::Path<String>, user: CurrentUser) -> ApiResult {
    call.no_query()?;
    let id = path("id", &id, str::parse::<VisitId>)?;
    let visit = visits::get_visit(call.ctx(), user.0, id).await?;
    Ok(visit_ok(visit))
}

/// The host picks one of the proposed days.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptVisit {
    /// One of the visit's `proposedDates`.
    #[schema(example = "2027-03-02")]
    pub date: NaiveDate,
}

/// The host says no.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineVisit {
    /// Why, for the requester (optional, at most 1,000 characters).
    #[serde(default)]
    #[schema(max_length = 1000, example = "March is too busy for us.")]
    pub reason: Option<String>,
}

/// Accept a visit
///
/// Coordinators of the host accept a requested visit on one of its proposed
/// days; both sides get a confirmation with a calendar invitation. Refused with
/// `day_taken`, `month_full`, `day_passed`, `not_proposed` or
/// `already_answered` when the day cannot be booked.
#[utoipa::path(
    post,
    tag = "visits",
    params(("id" = i64, Path, description = "Visit id", minimum = 1, maximum = 9223372036854775807_i64)),
    request_body = AcceptVisit,
    responses(
        (status = 200, description = "Accepted; confirmations are on their way", body = VisitResponse),
        (status = 400, description = "Invalid input, e.g. a date that was not proposed", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a coordinator of the host", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such visit, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Answered already, the day is taken or the month is full: pick another date", body = Problem, content_type = "application/problem+json"),
        BodyLimits,
        Guarded,
    )
)]
#[post("/visits/{id}/accept")]
pub async fn accept(
    call: Call,
    id: web::Path<String>,
    user: CurrentUser,
    body: Body<AcceptVisit>,
) -> ApiResult {
    answer(&call, &id, user, body, |b| visits::Answer::Accept(b.date)).await
}

/// The visit's id from the path (no query parameters), then the body once
/// the caller may do `act` on that visit (a stranger learns nothing from
/// what it sent).
pub(super) async fn visit_and_body<T>(
    call: &Call,
    id: &str,
    user: &CurrentUser,
    body: Body<T>,
    act: visits::Act,
) -> Result<(VisitId, T), ApiError> {
    call.no_query()?;
    let id = path("id", id, str::parse::<VisitId>)?;
    let body = body
        .after(visits::may_act(call.ctx(), &user.0, id, act))
        .await?;
    Ok((id, body))
}

/// What accepting and declining share: the host's access first, then the
/// body, one service call, the visit back.
async fn answer<T>(
    call: &Call,
    id: &str,
    user: CurrentUser,
    body: Body<T>,
    answer: impl FnOnce(T) -> visits::Answer,
) -> ApiResult {
    let (id, body) = visit_and_body(call, id, &user, body, visits::Act::Answer).await?;
    let visit = visits::answer_visit(call.ctx(), user.0, id, answer(body)).await?;
    Ok(visit_ok(visit))
}

/// Decline a visit
///
/// Coordinators of the host decline a requested visit, with an optional reason;
/// the requester is told and offered the next three hosts.
#[utoipa::path(
    post,
    tag = "visits",
    params(("id" = i64, Path, description = "Visit id", minimum = 1, maximum = 9223372036854775807_i64)),
    request_body = DeclineVisit,
    responses(
        (status = 200, description = "Declined; the requester is told", body = VisitResponse),
        (status = 400, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a coordinator of the host", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such visit, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Answered already", body = Problem, content_type = "application/problem+json"),
        BodyLimits,
        Guarded,
    )
)]
#[post("/visits/{id}/decline")]
pub async fn decline(
    call: Call,
    id: web::Path<String>,
    user: CurrentUser,
    body: Body<DeclineVisit>,
) -> ApiResult {
    answer(&call, &id, user, body, |b| {
        visits::Answer::Decline(b.reason)
    })
    .await
}

/// Call a visit off.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelVisit {
    /// Why, for the other side (optional, at most 1,000 characters).
    #[serde(default)]
    #[schema(max_length = 1000, example = "Our project was postponed.")]
    pub reason: Option<String>,
}

/// Cancel a visit
///
/// Coordinators of either side cancel a requested or accepted visit. For a
/// visit with a day both sides get a calendar cancellation; a request still
/// waiting is withdrawn and the host is told.
#[utoipa::path(
    post,
    tag = "visits",
    params(("id" = i64, Path, description = "Visit id", minimum = 1, maximum = 9223372036854775807_i64)),
    request_body = CancelVisit,
    responses(
        (status = 200, description = "Cancelled; the other side is told", body = VisitResponse),
        (status = 400, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a coordinator of either side", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such visit, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Declined, expired, cancelled or held already", body = Problem, content_type = "application/problem+json"),
        BodyLimits,
        Guarded,
    )
)]
#[post("/visits/{id}/cancel")]
pub async fn cancel(
    call: Call,
    id: web::Path<String>,
    user: CurrentUser,
    body: Body<CancelVisit>,
) -> ApiResult {
    let (id, body) = visit_and_body(&call, &id, &user, body, visits::Act::Cancel).await?;
    let visit = visits::cancel_visit(call.ctx(), user.0, id, body.reason).await?;
    Ok(visit_ok(visit))
}

/// The visit as a calendar file
///
/// The visit as an iCalendar file (RFC 5545) to import, for its participants
/// and admins, with the same UID and SEQUENCE as the emailed invitations so it
/// never makes a second entry; `Accept-Language` picks the language. Only
/// accepted and held visits (`not_in_calendar`).
#[utoipa::path(
    get,
    tag = "visits",
    params(("id" = i64, Path, description = "Visit id", minimum = 1, maximum = 9223372036854775807_i64)),
    responses(
        (status = 200, description = "The calendar file", body = String, content_type = "text/calendar"),
        BadId,
        (status = 404, description = "No such visit, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The visit has no day (not accepted)", body = Problem, content_type = "application/problem+json"),
        Guarded,
    )
)]
#[route("/visits/{id}/calendar.ics", method = "GET", method = "HEAD")]
pub async fn calendar(call: Call, id: web::Path<String>, user: CurrentUser) -> ApiResult {
    call.no_query()?;
    let id = path("id", &id, str::parse::<VisitId>)?;
    let language = call.lang();
    let ics = visits::calendar_file(call.ctx(), user.0, id, language).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"meeloopdag-{id}.ics\""),
        ))
        .insert_header(("Content-Language", language.as_str()))
        .insert_header(("Vary", "Accept-Language"))
        .insert_header(("Cache-Control", "no-store"))
        .body(ics))
}
