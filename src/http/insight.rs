//! The figures behind the pictures of who learns from whom (issue 22), as
//! JSON so partners can draw their own: a topic's map and learning network,
//! an organisation's learning history (docs/insight.md).

use actix_web::{route, web, HttpResponse};
use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::insight::{AppliedCounts, Party, Standing};
use crate::domain::organisation::{OrganisationId, OrganisationKind};
use crate::domain::topic::TopicSlug;
use crate::http::call::Call;
use crate::http::extract::CurrentReader;
use crate::http::matches::{round, MatchOrganisation, MatchTopic};
use crate::http::problem::Problem;
use crate::http::query::{path, positive_id};
use crate::http::responses::Guarded;
use crate::http::ApiResult;
use crate::service::insight;

/// What visitors said three months after their visits: did they apply
/// what they learnt?
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppliedView {
    pub answered: u32,
    pub yes: u32,
    pub partly: u32,
    pub no: u32,
    /// (yes + partly) ÷ answered; absent without answers.
    #[schema(example = 0.75)]
    pub rate: Option<f64>,
}

impl From<AppliedCounts> for AppliedView {
    fn from(a: AppliedCounts) -> Self {
        AppliedView {
            answered: a.answered(),
            yes: a.yes,
            partly: a.partly,
            no: a.no,
            rate: a.rate().map(|r| round(r, 4)),
        }
    }
}

/// An organisation with expertise on the topic.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MapItemView {
    /// With its coordinates (WGS84).
    pub organisation: MatchOrganisation,
    #[schema(minimum = 1, maximum = 5, example = 4)]
    pub level: u8,
    /// Best or among the best in class on the topic.
    pub best_in_class: bool,
    /// The reputation from its visitors' ratings (1 to 5).
    #[schema(example = 3.6)]
    pub score: f64,
    pub rated_visits: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TopicMapView {
    pub topic: MatchTopic,
    /// Everyone with expertise on the topic, best first.
    pub items: Vec<MapItemView>,
}

/// Topic map
///
/// Where the organisations with expertise on a topic are, with their level
/// and standing: what the topic page's map draws. For signed-in people and
/// partners with `lessons:read`.
#[utoipa::path(
    get,
    tag = "lessons",
    params(("slug" = String, Path, description = "Topic slug", pattern = "^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$")),
    responses(
        (status = 200, description = "The organisations on the map", body = TopicMapView),
        (status = 400, description = "A malformed slug", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A partner without lessons:read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown topic", body = Problem, content_type = "application/problem+json"),
        Guarded,
    )
)]
#[route("/topics/{slug}/map", method = "GET", method = "HEAD")]
pub async fn map(call: Call, slug: web::Path<String>, reader: CurrentReader) -> ApiResult {
    call.no_query()?;
    let topic = path("slug", &slug, TopicSlug::parse)?;
    let picture = insight::topic_picture(call.ctx(), &reader.0, &topic, call.lang()).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(TopicMapView {
            topic: MatchTopic::from(&picture.topic),
            items: picture
                .experts
                .iter()
                .map(|e| MapItemView {
                    organisation: MatchOrganisation::from(&e.host),
                    level: e.level,
                    best_in_class: e.best,
                    score: round(e.reputation.score, 2),
                    rated_visits: e.reputation.visits,
                })
                .collect(),
        }))
}

/// Where a node stands.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NodeStanding {
    BestInClass,
    Host,
    Visitor,
}

/// One organisation in the network, or one group of organisations that
/// published their lesson on a visit without their name.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeView {
    /// `organisation:{id}`, or `unnamed:{kind}:{n}` for a group.
    #[schema(example = "organisation:12")]
    pub id: String,
    /// Absent for a group that is not named.
    pub organisation: Option<MatchOrganisation>,
    /// The name, or the kind and size class in the response's language.
    pub label: String,
    pub kind: OrganisationKind,
    pub standing: NodeStanding,
    pub visits_made: u32,
    pub visits_hosted: u32,
}

/// Visits from one node to another.
#[derive(Debug, Serialize, ToSchema)]
pub struct EdgeView {
    /// The visitor's node id.
    pub from: String,
    /// The host's node id.
    pub to: String,
    pub visits: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NetworkView {
    pub topic: MatchTopic,
    /// The first day of the visits counted (two years back).
    #[schema(value_type = String, format = Date, example = "2024-12-01")]
    pub since: NaiveDate,
    /// Best in class first, then hosts, then visitors.
    pub nodes: Vec<NodeView>,
    pub edges: Vec<EdgeView>,
}

/// Learning network
///
/// Who visited whom on a topic: the visits held in the last two years, one
/// node per organisation, one edge per visitor and host with the number of
/// visits. An organisation that published its lesson on a visit without its
/// name is, for that visit, part of an unnamed group of its kind and size.
/// For signed-in people and partners with `lessons:read`.
#[utoipa::path(
    get,
    tag = "lessons",
    params(("slug" = String, Path, description = "Topic slug", pattern = "^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$")),
    responses(
        (status = 200, description = "The network", body = NetworkView),
        (status = 400, description = "A malformed slug", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A partner without lessons:read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown topic", body = Problem, content_type = "application/problem+json"),
        Guarded,
    )
)]
#[route("/topics/{slug}/network", method = "GET", method = "HEAD")]
pub async fn network(call: Call, slug: web::Path<String>, reader: CurrentReader) -> ApiResult {
    call.no_query()?;
    let topic = path("slug", &slug, TopicSlug::parse)?;
    let picture = insight::topic_picture(call.ctx(), &reader.0, &topic, call.lang()).await?;
    let mut unnamed = 0;
    let ids: Vec<String> = picture
        .network
        .nodes
        .iter()
        .map(|n| match &n.party {
            Party::Named(OrganisationId(id)) => format!("organisation:{id}"),
            Party::Unnamed(kind, _) => {
                unnamed += 1;
                format!("unnamed:{}:{unnamed}", kind.as_str())
            }
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(NetworkView {
            topic: MatchTopic::from(&picture.topic),
            since: picture.since,
            nodes: picture
                .network
                .nodes
                .iter()
                .zip(&picture.labels)
                .zip(&ids)
                .map(|((node, label), id)| NodeView {
                    id: id.clone(),
                    organisation: label.host.as_ref().map(MatchOrganisation::from),
                    label: label.label.clone(),
                    kind: label.kind,
                    standing: match node.standing {
                        Standing::BestInClass => NodeStanding::BestInClass,
                        Standing::Host => NodeStanding::Host,
                        Standing::Visitor => NodeStanding::Visitor,
                    },
                    visits_made: node.visits_made,
                    visits_hosted: node.visits_hosted,
                })
                .collect(),
            edges: picture
                .network
                .pairs()
                .into_iter()
                .map(|(from, to, visits)| EdgeView {
                    from: ids[from].clone(),
                    to: ids[to].clone(),
                    visits,
                })
                .collect(),
        }))
}

/// Held visits in one year.
#[derive(Debug, Serialize, ToSchema)]
pub struct YearView {
    #[schema(example = 2026)]
    pub year: i32,
    pub made: u32,
    pub hosted: u32,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryView {
    pub organisation_id: i64,
    /// Held visits it made, as the visitor.
    pub visits_made: u32,
    pub visits_hosted: u32,
    /// Its lessons in the knowledge base (either side, named or not).
    pub lessons_published: u32,
    /// Hours its visitors say their visits there saved them.
    pub hours_saved_for_others: i64,
    /// Its visitors three months on.
    pub applied: AppliedView,
    pub per_year: Vec<YearView>,
}

/// Learning history
///
/// What an organisation learnt and taught: held visits made and hosted,
/// lessons published, hours its visitors saved, and how often they applied
/// what they learnt there (the three-month follow-ups). For signed-in
/// people and partners with `stats:read`.
#[utoipa::path(
    get,
    tag = "organisations",
    params(("id" = i64, Path, description = "Organisation id", minimum = 1)),
    responses(
        (status = 200, description = "The history", body = HistoryView),
        (status = 400, description = "A malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A partner without stats:read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown organisation, or one merged into another (the problem names it)", body = Problem, content_type = "application/problem+json"),
        Guarded,
    )
)]
#[route("/organisations/{id}/history", method = "GET", method = "HEAD")]
pub async fn history(call: Call, id: web::Path<String>, reader: CurrentReader) -> ApiResult {
    call.no_query()?;
    let id = OrganisationId(path("id", &id, positive_id)?);
    let h = insight::learning_history(call.ctx(), &reader.0, id).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(HistoryView {
            organisation_id: id.0,
            visits_made: h.visits_made,
            visits_hosted: h.visits_hosted,
            lessons_published: h.lessons_published,
            hours_saved_for_others: h.hours_saved_for_others,
            applied: h.applied.into(),
            per_year: h
                .per_year
                .iter()
                .map(|(year, (made, hosted))| YearView {
                    year: *year,
                    made: *made,
                    hosted: *hosted,
                })
                .collect(),
        }))
}
