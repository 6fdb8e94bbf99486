//! Finding peers: the match list and "why not?" for one candidate, ranked
//! on the in-memory snapshot of `service::index`.

pub use super::index::{Loaded, MatchIndex, Suggester, ALTERNATIVES};
use crate::service::context::Context as Ctx;
use std::sync::Arc;

use tracing::instrument;

use super::ServiceError;
use crate::domain::account::User;
use crate::domain::matching::{
    self, text, Candidate, Exclusion, Explanation, Host, MatchError, MatchQuery, Preference,
    RequesterError, Snapshot, SnapshotTopic, Tuning,
};
use crate::domain::organisation::{Language, OrganisationId, OrganisationKind};
use crate::domain::refusal::{DirectoryRefusal, Kind};
use crate::domain::topic::TopicSlug;

/// A match request as parsed at the edge.
#[derive(Debug, Clone)]
pub struct MatchRequest {
    pub topic: TopicSlug,
    /// For admins: whom to match for. Coordinators match for their own.
    pub organisation: Option<OrganisationId>,
    pub limit: usize,
    pub kinds: Vec<OrganisationKind>,
    pub province: Option<String>,
    pub max_distance_km: Option<f64>,
    /// What leads the order (`best` unless the coordinator chose otherwise).
    pub preference: Preference,
}

/// A proposed host with its reasons.
#[derive(Debug, Clone)]
pub struct Match {
    pub host: Host,
    pub candidate: Candidate,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct MatchList {
    pub topic: TopicLabel,
    pub requester: Host,
    /// What ordered the list, and the same in a sentence.
    pub preference: Preference,
    pub ordering: &'static str,
    pub matches: Vec<Match>,
}

/// Why one candidate ranks where it does, or why it is not proposed.
#[derive(Debug, Clone)]
pub enum CandidateStanding {
    Ranked {
        rank: usize,
        of: usize,
        matched: Match,
    },
    Excluded {
        host: Host,
        reason: Exclusion,
        sentence: String,
        distance_km: Option<f64>,
    },
}

#[derive(Debug, Clone)]
pub struct MatchExplanation {
    pub topic: TopicLabel,
    pub requester: Host,
    pub preference: Preference,
    pub ordering: &'static str,
    pub standing: CandidateStanding,
}

fn requester(user: &User, asked: Option<OrganisationId>) -> Result<OrganisationId, ServiceError> {
    matching::requester(user, asked).map_err(|e| match e {
        RequesterError::NotYours => DirectoryRefusal::OwnOrganisationOnly.into(),
        RequesterError::MustName => DirectoryRefusal::NameTheOrganisation.into(),
    })
}

struct Prepared {
    loaded: Arc<Loaded>,
    query: MatchQuery,
}

async fn prepare(ctx: &Ctx, user: &User, request: &MatchRequest) -> Result<Prepared, ServiceError> {
    let requester_id = requester(user, request.organisation)?;
    let loaded = ctx.snapshot().await?;
    let snapshot = &loaded.snapshot;
    if snapshot.host(requester_id).is_none() {
        return Err(DirectoryRefusal::UnknownOrganisation { id: requester_id.0 }.into());
    }
    let topic = snapshot
        .topic_by_slug(request.topic.as_str())
        .ok_or_else(|| {
            ServiceError::from(DirectoryRefusal::UnknownTopic {
                slug: request.topic.as_str().to_string(),
            })
        })?;
    let query = MatchQuery {
        requester: requester_id,
        topic: topic.id,
        limit: request.limit,
        kinds: request.kinds.clone(),
        province: request.province.clone(),
        max_distance_km: request.max_distance_km,
        preference: request.preference,
        today: ctx.today(),
    };
    Ok(Prepared { loaded, query })
}

fn matched(
    p: &Prepared,
    candidate: Candidate,
    tuning: &Tuning,
    lang: Language,
) -> Result<Match, ServiceError> {
    let (topic, requester) = parts(p)?;
    let host = p
        .loaded
        .snapshot
        .host(candidate.host)
        .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("ranked host not in snapshot")))?
        .clone();
    let reasons = text::reasons(
        &candidate,
        requester,
        &host,
        topic,
        tuning.horizon_months,
        p.query.preference,
        lang,
    );
    Ok(Match {
        host,
        candidate,
        reasons,
    })
}

/// `prepare` checked requester and topic against the same snapshot: if the
/// domain does not find them, that is our bug.
fn domain_error(e: MatchError) -> ServiceError {
    ServiceError::Internal(anyhow::anyhow!("after prepare: {e}"))
}

/// The best peers to visit on a topic, best first, with reasons, as the
/// caller renders them (the API's JSON): the same request on the same
/// snapshot gets the same bytes, rendered once.
#[instrument(skip_all, fields(user = %user.id, topic = request.topic.as_str()))]
pub async fn find_matches(
    ctx: &Ctx,
    user: User,
    request: MatchRequest,
    lang: Language,
    render: impl FnOnce(MatchList) -> Result<Vec<u8>, String>,
) -> Result<Arc<[u8]>, ServiceError> {
    let index = &*ctx.matching;
    let p = prepare(ctx, &user, &request).await?;
    // Everything the answer depends on besides the snapshot: the checked
    // query (whose requester the user's rights decided) and the language.
    let key = format!("{:?}|{}", p.query, lang.as_str());
    index.answer(p.loaded.serial, key, || {
        render(ranked(&p, index.tuning(), lang)?)
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!("rendering matches: {e}")))
    })
}

fn ranked(p: &Prepared, tuning: &Tuning, lang: Language) -> Result<MatchList, ServiceError> {
    let ranked = matching::rank(&p.loaded.snapshot, &p.query, &p.loaded.context, tuning)
        .map_err(domain_error)?;
    let matches = ranked
        .into_iter()
        .map(|c| matched(p, c, tuning, lang))
        .collect::<Result<_, _>>()?;
    let (topic, requester) = parts(p)?;
    Ok(MatchList {
        topic: TopicLabel::from(topic),
        requester: requester.clone(),
        preference: p.query.preference,
        ordering: text::ordering(p.query.preference, lang),
        matches,
    })
}

/// The topic and the requester, borrowed from the snapshot (a topic holds
/// all its experts: never clone it per request).
fn parts(p: &Prepared) -> Result<(&SnapshotTopic, &Host), ServiceError> {
    let topic = p.loaded.snapshot.topic(p.query.topic);
    let requester = p.loaded.snapshot.host(p.query.requester);
    topic
        .zip(requester)
        .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("snapshot lost its own entries")))
}

/// A topic's names, for answers.
#[derive(Debug, Clone)]
pub struct TopicLabel {
    pub slug: String,
    pub name_nl: String,
    pub name_en: String,
}

impl TopicLabel {
    /// The topic's name in `lang`.
    pub fn name(&self, lang: Language) -> &str {
        match lang {
            Language::Nl => &self.name_nl,
            Language::En => &self.name_en,
        }
    }
}

impl From<&SnapshotTopic> for TopicLabel {
    fn from(t: &SnapshotTopic) -> Self {
        TopicLabel {
            slug: t.slug.clone(),
            name_nl: t.name_nl.clone(),
            name_en: t.name_en.clone(),
        }
    }
}

/// "Why not?": where one candidate ranks for this request, with every
/// component, or the hard filter that excluded it.
#[instrument(skip_all, fields(user = %user.id, topic = request.topic.as_str(), candidate = %candidate))]
pub async fn explain_match(
    ctx: &Ctx,
    user: User,
    request: MatchRequest,
    candidate: OrganisationId,
    lang: Language,
) -> Result<MatchExplanation, ServiceError> {
    let index = &*ctx.matching;
    let p = prepare(ctx, &user, &request).await?;
    let tuning = index.tuning();
    let (snapshot, context) = (&p.loaded.snapshot, &p.loaded.context);
    let Some(host) = snapshot.host(candidate).cloned() else {
        return Err(DirectoryRefusal::UnknownOrganisation { id: candidate.0 }.into());
    };
    let (topic, requester) = parts(&p)?;
    let explanation =
        matching::explain(snapshot, &p.query, context, tuning, candidate).map_err(domain_error)?;
    let standing = match explanation {
        Explanation::Ranked {
            rank,
            of,
            candidate,
        } => CandidateStanding::Ranked {
            rank,
            of,
            matched: matched(&p, candidate, tuning, lang)?,
        },
        Explanation::Excluded {
            reason,
            distance_km,
        } => CandidateStanding::Excluded {
            sentence: text::exclusion(&reason, topic, lang),
            host,
            reason,
            distance_km,
        },
    };
    Ok(MatchExplanation {
        topic: TopicLabel::from(topic),
        requester: requester.clone(),
        preference: p.query.preference,
        ordering: text::ordering(p.query.preference, lang),
        standing,
    })
}

/// What the "find a peer" page offers and, once a topic is chosen, finds.
#[derive(Debug)]
pub struct PeerSearch {
    /// Sorted by name in the asked language.
    pub topics: Vec<TopicLabel>,
    /// Every organisation's name, for the "why not?" field's suggestions.
    pub names: Vec<String>,
    pub list: Option<MatchList>,
    /// Both at a glance, whatever order the list has.
    pub glance: Option<Glance>,
    /// Why nothing was found for the search (an unknown topic, a field out
    /// of range, a coordinator without an organisation): the page says so
    /// on the form, which still offers the choices.
    pub refused: Option<ServiceError>,
}

/// The best in class and good peers nearby, side by side.
#[derive(Debug, Clone)]
pub struct Glance {
    /// Up to [`GLANCE`] of the best in class who can have the requester,
    /// in the `best` order; when none of them can, the first in that order.
    pub best: Vec<Match>,
    /// Whether `best` holds the best in class (or only the furthest along
    /// of those the requester can visit).
    pub best_in_class: bool,
    /// The first [`GLANCE`] in the `near` order that are not in `best`.
    pub near: Vec<Match>,
}

/// How many hosts each half of the glance shows.
pub const GLANCE: usize = 3;

/// The page behind "find a peer": the choices, and the matches when a
/// topic is chosen.
pub async fn find_peers(
    ctx: &Ctx,
    user: User,
    request: Option<MatchRequest>,
    lang: Language,
) -> Result<PeerSearch, ServiceError> {
    let loaded = ctx.snapshot().await?;
    let topics = sorted_topics(&loaded.snapshot, lang);
    let names: Vec<String> = loaded
        .snapshot
        .hosts_by_name()
        .map(|h| h.name.clone())
        .collect();
    let mut search = PeerSearch {
        topics,
        names,
        list: None,
        glance: None,
        refused: None,
    };
    let Some(request) = request else {
        return Ok(search);
    };
    match ranked_with_glance(ctx, &user, &request, lang).await {
        Ok((list, glance)) => (search.list, search.glance) = (Some(list), Some(glance)),
        Err(e)
            if matches!(
                e.kind(),
                Some(Kind::NotFound | Kind::Invalid | Kind::Forbidden)
            ) =>
        {
            search.refused = Some(e)
        }
        Err(e) => return Err(e),
    }
    Ok(search)
}

/// The match list and both halves at a glance.
async fn ranked_with_glance(
    ctx: &Ctx,
    user: &User,
    request: &MatchRequest,
    lang: Language,
) -> Result<(MatchList, Glance), ServiceError> {
    let mut p = prepare(ctx, user, request).await?;
    let tuning = ctx.matching.tuning();
    let list = ranked(&p, tuning, lang)?;
    let glance = matching::glance(
        &p.loaded.snapshot,
        &p.query,
        &p.loaded.context,
        tuning,
        GLANCE,
    )
    .map_err(domain_error)?;
    // Each half's reasons name the order that placed it.
    let mut matches = |preference, candidates: Vec<Candidate>| {
        p.query.preference = preference;
        candidates
            .into_iter()
            .map(|c| matched(&p, c, tuning, lang))
            .collect::<Result<Vec<_>, _>>()
    };
    let best = matches(Preference::Best, glance.best)?;
    let near = matches(Preference::Near, glance.near)?;
    let glance = Glance {
        best,
        best_in_class: glance.best_in_class,
        near,
    };
    Ok((list, glance))
}

/// The active topics, by name in `lang`, for a page's choice.
pub fn sorted_topics(snapshot: &Snapshot, lang: Language) -> Vec<TopicLabel> {
    let mut topics: Vec<TopicLabel> = snapshot.topics().map(TopicLabel::from).collect();
    topics.sort_by_cached_key(|t| crate::domain::search::fold(t.name(lang)));
    topics
}

/// "Why not X?" with X as a person types it: a code, a name or part of one.
pub async fn explain_named(
    ctx: &Ctx,
    user: User,
    request: MatchRequest,
    name: &str,
    lang: Language,
) -> Result<MatchExplanation, ServiceError> {
    let loaded = ctx.snapshot().await?;
    let Some(host) = loaded.snapshot.find_by_name(name) else {
        return Err(DirectoryRefusal::UnknownOrganisationName {
            name: name.trim().to_string(),
        }
        .into());
    };
    explain_match(ctx, user, request, host.id, lang).await
}

/// Best in class on a topic (docs/lessons.md).
#[derive(Debug, Clone)]
pub struct LeaderList {
    pub topic: TopicLabel,
    /// Best first, with the host's directory entry.
    pub leaders: Vec<(Host, matching::Leader)>,
    /// What their visitors said three months on: did they apply it?
    pub applied: std::collections::HashMap<OrganisationId, crate::domain::insight::AppliedCounts>,
}

/// Who leads on a topic by their visitors' lessons: for logged-in users
/// and partners with `lessons:read`.
pub async fn topic_leaders(
    ctx: &Ctx,
    reader: &super::reader::Reader,
    topic: &TopicSlug,
    limit: usize,
) -> Result<LeaderList, ServiceError> {
    let index = &*ctx.matching;
    reader.require(crate::domain::partner::Scope::LessonsRead)?;
    let loaded = ctx.snapshot().await?;
    let snapshot = &loaded.snapshot;
    let label = snapshot.topic_by_slug(topic.as_str()).ok_or_else(|| {
        ServiceError::from(DirectoryRefusal::UnknownTopic {
            slug: topic.as_str().to_string(),
        })
    })?;
    let leaders = matching::leaders(
        snapshot,
        label.id,
        &loaded.context,
        index.tuning(),
        loaded.day,
        limit,
    )
    .into_iter()
    .filter_map(|l| snapshot.host(l.host).map(|h| (h.clone(), l)))
    .collect();
    let topic_id = label.id.0;
    let answers = ctx
        .pool
        .run(move |conn| {
            Ok::<_, ServiceError>(crate::db::insight::applied_on_topic(conn, topic_id)?)
        })
        .await?;
    let mut by_host: std::collections::HashMap<OrganisationId, Vec<String>> = Default::default();
    for (host, answer) in answers {
        by_host
            .entry(OrganisationId(host))
            .or_default()
            .push(answer);
    }
    Ok(LeaderList {
        topic: TopicLabel::from(label),
        leaders,
        applied: by_host
            .into_iter()
            .map(|(host, answers)| {
                let counts =
                    crate::domain::insight::AppliedCounts::of(answers.iter().map(String::as_str));
                (host, counts)
            })
            .collect(),
    })
}
