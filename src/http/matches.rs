//! Matching: the best peers to visit on a topic, and "why not?".

use crate::http::call::Call;
use crate::http::ApiResult;
use actix_web::http::header::{CONTENT_LANGUAGE, VARY};
use actix_web::route;
use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::organisations::Province;
use super::problem::{ApiError, Problem};
use super::query::{documented, QueryParams};
use crate::domain::matching::{
    self as matching_rules, Class, Components, Host, Preference, DEFAULT_LIMIT,
};
use crate::domain::organisation::{
    parse_province, Language, OrganisationId, OrganisationKind, SizeUnit,
};
use crate::domain::topic::TopicSlug;
use crate::http::extract::CurrentUser;
use crate::http::responses::Guarded;
use crate::service::matching::{self, CandidateStanding, Match, MatchRequest, TopicLabel};

/// The organisation a match is about.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MatchOrganisation {
    pub id: i64,
    #[schema(example = "GM0193")]
    pub code: String,
    #[schema(example = "Zwolle")]
    pub name: String,
    pub kind: OrganisationKind,
    pub province: Option<String>,
    pub size: i64,
    pub size_unit: SizeUnit,
    pub latitude: f64,
    pub longitude: f64,
}

impl From<&Host> for MatchOrganisation {
    fn from(h: &Host) -> Self {
        MatchOrganisation {
            id: h.id.0,
            code: h.code.clone(),
            name: h.name.clone(),
            kind: h.kind,
            province: h.province.clone(),
            size: h.size,
            size_unit: h.kind.size_unit(),
            latitude: h.latitude,
            longitude: h.longitude,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MatchTopic {
    #[schema(example = "cloud-migration")]
    pub slug: String,
    pub name_nl: String,
    pub name_en: String,
}

impl From<&TopicLabel> for MatchTopic {
    fn from(t: &TopicLabel) -> Self {
        MatchTopic {
            slug: t.slug.clone(),
            name_nl: t.name_nl.clone(),
            name_en: t.name_en.clone(),
        }
    }
}

/// The parts of the score, each 0 to 1 (docs/matching.md).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScoreComponents {
    /// Level on the topic, recent experience counting more.
    pub maturity: f64,
    /// Ratings by earlier visitors; 0.5 (neutral) until there are some.
    pub quality: f64,
    /// Level, recent experience and ratings together: what leads the
    /// `best` order (a level is about 0.19).
    pub mastery: f64,
    /// Same kind of organisation and a similar size.
    pub similarity: f64,
    /// Nearer is better; halves every `matching.proximity_half_km`.
    pub proximity: f64,
    /// Share of visit slots still free in the coming months.
    pub availability: f64,
    /// Lower for hosts with many recent visits.
    pub fairness: f64,
}

pub(crate) fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

impl From<Components> for ScoreComponents {
    fn from(c: Components) -> Self {
        ScoreComponents {
            maturity: round(c.maturity, 4),
            quality: round(c.quality, 4),
            mastery: round(c.mastery, 4),
            similarity: round(c.similarity, 4),
            proximity: round(c.proximity, 4),
            availability: round(c.availability, 4),
            fairness: round(c.fairness, 4),
        }
    }
}

/// Where a host stands among everyone with expertise on the topic.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// The only one within half a level of mastery of the top.
    BestInClass,
    /// One of several within half a level of mastery of the top.
    AmongBestInClass,
    /// Further along than the requester, below the best.
    Ahead,
}

impl From<Class> for Standing {
    fn from(c: Class) -> Self {
        match c {
            Class::Best => Standing::BestInClass,
            Class::AmongBest => Standing::AmongBestInClass,
            Class::Ahead => Standing::Ahead,
        }
    }
}

/// What leads the order of a match list.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PreferenceView {
    Best,
    Near,
    Similar,
}

impl From<Preference> for PreferenceView {
    fn from(p: Preference) -> Self {
        match p {
            Preference::Best => PreferenceView::Best,
            Preference::Near => PreferenceView::Near,
            Preference::Similar => PreferenceView::Similar,
        }
    }
}

/// One proposed host.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MatchView {
    #[schema(example = 1)]
    pub rank: usize,
    pub organisation: MatchOrganisation,
    /// The ordering key, 0 to 1: the component the preference puts first,
    /// plus a band in which the others order comparable hosts.
    #[schema(example = 0.8123)]
    pub score: f64,
    pub standing: Standing,
    pub components: ScoreComponents,
    #[schema(example = 32.4)]
    pub distance_km: f64,
    /// Estimated travel time by road, in minutes (a quarter hour at least).
    #[schema(example = 90)]
    pub travel_minutes: u32,
    /// In the response's language: first the headline (how good the host
    /// is at the topic, on what record, how far), then the order that
    /// placed it, then one sentence per component.
    pub reasons: Vec<String>,
    /// Lessons about this host on this topic in the knowledge base.
    #[schema(example = 2)]
    pub published_lessons: u32,
}

fn view(rank: usize, m: Match) -> MatchView {
    MatchView {
        rank,
        organisation: MatchOrganisation::from(&m.host),
        score: round(m.candidate.score, 4),
        standing: m.candidate.class.into(),
        components: ScoreComponents::from(m.candidate.components),
        distance_km: round(m.candidate.distance_km, 1),
        travel_minutes: matching_rules::text::travel_minutes(m.candidate.distance_km),
        published_lessons: m.candidate.reputation.published,
        reasons: m.reasons,
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MatchListView {
    pub topic: MatchTopic,
    /// The organisation the peers were found for.
    pub requester: MatchOrganisation,
    pub language: Language,
    /// What ordered the list (`prefer`, `best` by default).
    pub preference: PreferenceView,
    /// The order in a sentence, in the response's language.
    pub ordering: String,
    /// In that order; ties are broken by recent load, distance, then id.
    pub items: Vec<MatchView>,
}

/// Filters and options of both matching routes: documented, and the names
/// the strict parser accepts ([`QueryParams::named`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct MatchParams {
    /// The topic to find peers on (a slug from `/api/v1/topics`).
    #[param(
        pattern = "^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$",
        example = "cloud-migration"
    )]
    pub topic: String,
    /// Admins only: the organisation to find peers for. Coordinators find
    /// peers for their own organisation.
    #[param(minimum = 1, maximum = 9223372036854775807_i64)]
    pub organisation: Option<i64>,
    /// Only these kinds, separated by commas.
    #[param(
        pattern = "^(municipality|housing_corporation|province|water_board|other)(,(municipality|housing_corporation|province|water_board|other))*$",
        example = "municipality,water_board"
    )]
    pub kinds: Option<String>,
    /// Only hosts in this province.
    #[param(inline)]
    pub province: Option<Province>,
    /// Only hosts at most this far away (km), 1 to 1000.
    #[param(minimum = 1, maximum = 1000, example = 50)]
    pub max_distance_km: Option<f64>,
    /// What comes first: `best` (default; the organisations best at the
    /// topic), `near` (the shortest journey) or `similar` (the same kind
    /// and size). The others order hosts that are comparable on it.
    #[param(inline)]
    pub prefer: Option<PreferenceView>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LimitParam {
    /// How many peers, 1 to 50 (default 10).
    #[param(minimum = 1, maximum = 50, example = 10)]
    pub limit: Option<i64>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CandidateParam {
    /// The organisation to explain.
    #[param(minimum = 1, maximum = 9223372036854775807_i64)]
    pub candidate: i64,
}

fn request(params: &QueryParams) -> Result<MatchRequest, ApiError> {
    Ok(MatchRequest {
        topic: params
            .get("topic", TopicSlug::parse)?
            .ok_or_else(|| ApiError::bad_request("missing_parameter", "add topic=SLUG"))?,
        organisation: params.get("organisation", str::parse::<OrganisationId>)?,
        limit: params
            .get("limit", matching_rules::parse_limit)?
            .unwrap_or(DEFAULT_LIMIT),
        kinds: params
            .get("kinds", matching_rules::parse_kinds)?
            .unwrap_or_default(),
        province: params.get("province", parse_province)?.map(str::to_string),
        max_distance_km: params.get("maxDistanceKm", matching_rules::parse_max_distance)?,
        preference: params
            .get("prefer", str::parse::<Preference>)?
            .unwrap_or_default(),
    })
}

fn localised(language: Language) -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::Ok();
    response
        .insert_header((CONTENT_LANGUAGE, language.as_str()))
        .insert_header((VARY, "Accept-Language, Authorization"))
        .insert_header(("Cache-Control", "private, no-cache"));
    response
}

/// Peers most worth visiting
///
/// The organisations most worth visiting on a topic, best first, each with its
/// score, the parts of the score and the reasons in Dutch or English
/// (`Accept-Language`; Dutch by default). Coordinators match for their own
/// organisation; admins name one (`organisation`). `prefer` puts the best in
/// class, the nearest or the most similar first.
#[utoipa::path(
    get,
    tag = "matching",
    params(MatchParams, LimitParam),
    responses(
        (status = 200, description = "Peers, best first", body = MatchListView),
        (status = 400, description = "A missing, unknown or malformed parameter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A coordinator asked for another organisation", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown topic or organisation", body = Problem, content_type = "application/problem+json"),
        Guarded,
    )
)]
#[route("/matches", method = "GET", method = "HEAD")]
pub async fn list(call: Call, user: CurrentUser) -> ApiResult {
    let names = [documented::<MatchParams>(), documented::<LimitParam>()];
    let params = call.query_named(&names)?;
    let request = request(&params)?;
    let language = call.lang();
    let body = matching::find_matches(call.ctx(), user.0, request, language, |list| {
        serde_json::to_vec(&MatchListView {
            topic: MatchTopic::from(&list.topic),
            requester: MatchOrganisation::from(&list.requester),
            language,
            preference: list.preference.into(),
            ordering: list.ordering.to_string(),
            items: list
                .matches
                .into_iter()
                .enumerate()
                .map(|(i, m)| view(i + 1, m))
                .collect(),
        })
        .map_err(|e| e.to_string())
    })
    .await?;
    Ok(localised(language)
        .content_type(actix_web::http::header::ContentType::json())
        .body(actix_web::web::Bytes::copy_from_slice(&body)))
}

/// Why a candidate was excluded: the first hard filter it failed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExclusionView {
    /// Stable code of the filter.
    #[schema(example = "not_ahead")]
    pub code: &'static str,
    /// The same in a sentence, in the response's language.
    pub reason: String,
}

/// Where one candidate stands for this request.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExplanationView {
    pub topic: MatchTopic,
    pub requester: MatchOrganisation,
    pub language: Language,
    /// The order the rank is in (`prefer`, `best` by default).
    pub preference: PreferenceView,
    pub ordering: String,
    pub candidate: MatchOrganisation,
    /// `ranked` or `excluded`.
    #[schema(example = "ranked")]
    pub status: &'static str,
    /// Position among all candidates that pass the filters (1 is best),
    /// whatever `limit` a match list would use.
    pub rank: Option<usize>,
    /// How many candidates pass the filters.
    pub of: Option<usize>,
    pub score: Option<f64>,
    pub standing: Option<Standing>,
    pub components: Option<ScoreComponents>,
    pub distance_km: Option<f64>,
    pub travel_minutes: Option<u32>,
    pub reasons: Vec<String>,
    pub exclusion: Option<ExclusionView>,
}

/// Why (not) this peer
///
/// Where a candidate ranks for this request and every part of its score, or
/// which hard filter excluded it (not willing to host, no expertise, inactive).
#[utoipa::path(
    get,
    tag = "matching",
    params(MatchParams, CandidateParam),
    responses(
        (status = 200, description = "The candidate's standing", body = ExplanationView),
        (status = 400, description = "A missing, unknown or malformed parameter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A coordinator asked for another organisation", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown topic, organisation or candidate", body = Problem, content_type = "application/problem+json"),
        Guarded,
    )
)]
#[route("/matches/explain", method = "GET", method = "HEAD")]
pub async fn explain(call: Call, user: CurrentUser) -> ApiResult {
    let names = [documented::<MatchParams>(), documented::<CandidateParam>()];
    let params = call.query_named(&names)?;
    let request = request(&params)?;
    let candidate = params
        .get("candidate", str::parse::<OrganisationId>)?
        .ok_or_else(|| ApiError::bad_request("missing_parameter", "add candidate=ID"))?;
    let language = call.lang();
    let explained =
        matching::explain_match(call.ctx(), user.0, request, candidate, language).await?;
    let (topic, requester) = (
        MatchTopic::from(&explained.topic),
        MatchOrganisation::from(&explained.requester),
    );
    let (preference, ordering) = (
        PreferenceView::from(explained.preference),
        explained.ordering.to_string(),
    );
    let body = match explained.standing {
        CandidateStanding::Ranked { rank, of, matched } => {
            let v = view(rank, matched);
            ExplanationView {
                topic,
                requester,
                language,
                preference,
                ordering,
                candidate: v.organisation,
                status: "ranked",
                rank: Some(rank),
                of: Some(of),
                score: Some(v.score),
                standing: Some(v.standing),
                components: Some(v.components),
                distance_km: Some(v.distance_km),
                travel_minutes: Some(v.travel_minutes),
                reasons: v.reasons,
                exclusion: None,
            }
        }
        CandidateStanding::Excluded {
            host,
            reason,
            sentence,
            distance_km,
        } => ExplanationView {
            topic,
            requester,
            language,
            preference,
            ordering,
            candidate: MatchOrganisation::from(&host),
            status: "excluded",
            rank: None,
            of: None,
            score: None,
            standing: None,
            components: None,
            distance_km: distance_km.map(|d| round(d, 1)),
            travel_minutes: distance_km.map(matching_rules::text::travel_minutes),
            reasons: Vec::new(),
            exclusion: Some(ExclusionView {
                code: reason.code(),
                reason: sentence,
            }),
        },
    };
    Ok(localised(language).json(body))
}
