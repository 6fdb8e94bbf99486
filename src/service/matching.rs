//! Finding peers: the match list and "why not?" for one candidate.
//!
//! Ranking works on an in-memory [`Snapshot`] of the directory. Triggers
//! raise a directory version on every change; the snapshot is rebuilt when
//! it moved. The version is read again after any write by this process, and
//! otherwise at most every `database.max_staleness_ms`, so a request usually
//! touches no database at all.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::Utc;
use chrono_tz::Europe::Amsterdam;
use tracing::instrument;

use super::ServiceError;
use crate::db::{self, DbConn, DbPool, Freshness};
use crate::domain::account::User;
use crate::domain::matching::{
    self, text, Candidate, Context, Exclusion, Explanation, Host, MatchError, MatchQuery,
    Preference, RequesterError, Snapshot, SnapshotTopic, Tuning,
};
use crate::domain::organisation::{Language, OrganisationId, OrganisationKind};
use crate::domain::refusal::DirectoryRefusal;
use crate::domain::topic::TopicSlug;
use crate::mail::templates::Suggestion;

/// The current snapshot, shared by all workers of one instance.
pub struct MatchIndex {
    tuning: Tuning,
    max_staleness: Duration,
    current: RwLock<Option<Current>>,
    // One rebuild at a time; the others wait for it instead of repeating it.
    rebuild: tokio::sync::Mutex<()>,
}

/// A snapshot and when its version was last confirmed against the database.
#[derive(Clone)]
struct Current {
    snapshot: Arc<Loaded>,
    confirmed: Freshness,
}

/// The directory and what is known about hosts, loaded together.
pub struct Loaded {
    pub snapshot: Snapshot,
    pub context: Context,
    /// The Dutch day the context was computed for: "recent" and "ahead"
    /// move with the calendar even when no data changes.
    pub day: chrono::NaiveDate,
}

impl MatchIndex {
    pub fn new(tuning: Tuning, max_staleness: Duration) -> Self {
        MatchIndex {
            tuning,
            max_staleness,
            current: RwLock::new(None),
            rebuild: tokio::sync::Mutex::new(()),
        }
    }

    pub fn tuning(&self) -> &Tuning {
        &self.tuning
    }

    fn current(&self) -> Option<Current> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set(&self, current: Current) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(current);
    }

    /// The directory as it is now. Without asking the database while this
    /// process has written nothing and the last check is recent; otherwise
    /// one read of the version, and a rebuild only when it moved.
    pub async fn snapshot(&self, pool: &DbPool) -> Result<Arc<Loaded>, ServiceError> {
        // One look at the clock per call: "recent" moves with the Dutch day.
        let today = super::clock::today();
        if let Some(current) = self.current() {
            if current.confirmed.still_good(self.max_staleness) && current.snapshot.day == today {
                return Ok(current.snapshot);
            }
        }
        let _one_at_a_time = self.rebuild.lock().await;
        if let Some(current) = self.current() {
            if current.confirmed.still_good(self.max_staleness) && current.snapshot.day == today {
                return Ok(current.snapshot);
            }
        }
        let confirmed = Freshness::now();
        let version = pool
            .run(|conn| Ok::<_, ServiceError>(db::matching::version(conn)?))
            .await?;
        if let Some(current) = self.current() {
            if current.snapshot.snapshot.version == version && current.snapshot.day == today {
                self.set(Current {
                    snapshot: current.snapshot.clone(),
                    confirmed,
                });
                return Ok(current.snapshot);
            }
        }
        let (horizon, rules) = (self.tuning.horizon_months, self.tuning.reputation);
        let loaded = pool
            .run(move |conn| {
                let day = today;
                let snapshot = db::matching::load_snapshot(conn)?;
                let context = host_context(conn, day, horizon, &rules)?;
                Ok::<_, ServiceError>(Loaded {
                    snapshot,
                    context,
                    day,
                })
            })
            .await?;
        tracing::info!(
            version = loaded.snapshot.version,
            organisations = loaded.snapshot.len(),
            "matching snapshot rebuilt"
        );
        let loaded = Arc::new(loaded);
        self.set(Current {
            snapshot: loaded.clone(),
            confirmed,
        });
        Ok(loaded)
    }
}

/// How many other hosts a decline or expiry email proposes.
pub const ALTERNATIVES: usize = 3;

/// Ranking on one snapshot, for emails that propose other hosts.
#[derive(Clone)]
pub struct Suggester {
    loaded: Arc<Loaded>,
    tuning: Tuning,
}

impl MatchIndex {
    pub async fn suggester(&self, pool: &DbPool) -> Result<Suggester, ServiceError> {
        Ok(Suggester {
            loaded: self.snapshot(pool).await?,
            tuning: self.tuning,
        })
    }
}

impl Suggester {
    /// The best [`ALTERNATIVES`] hosts for `requester` on `topic` other than
    /// `not` (who just declined or did not answer), each with its first
    /// reason. Empty when the requester or the topic left the directory.
    pub fn alternatives(
        &self,
        requester: OrganisationId,
        topic: &str,
        not: OrganisationId,
        lang: Language,
    ) -> Vec<Suggestion> {
        let snapshot = &self.loaded.snapshot;
        let (Some(topic), Some(_)) = (snapshot.topic_by_slug(topic), snapshot.host(requester))
        else {
            return Vec::new();
        };
        let query = MatchQuery {
            requester,
            topic: topic.id,
            limit: ALTERNATIVES + 1,
            kinds: Vec::new(),
            province: None,
            max_distance_km: None,
            // The same order a coordinator sees by default.
            preference: Preference::Best,
            today: self.loaded.day,
        };
        let Ok(ranked) = matching::rank(snapshot, &query, &self.loaded.context, &self.tuning)
        else {
            return Vec::new();
        };
        ranked
            .into_iter()
            .filter(|c| c.host != not)
            .take(ALTERNATIVES)
            .filter_map(|c| {
                let host = snapshot.host(c.host)?;
                Some(Suggestion {
                    name: host.name.clone(),
                    reason: text::headline(&c, host, topic, lang),
                })
            })
            .collect()
    }
}

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

/// What the visits and lessons know about hosts: recent visits, bookings,
/// declines, reputation per topic and published lessons.
fn host_context(
    conn: &mut DbConn,
    today: chrono::NaiveDate,
    horizon_months: u32,
    rules: &crate::domain::lesson::ReputationRules,
) -> Result<Context, ServiceError> {
    let since =
        today - chrono::Duration::days(matching::RECENT_DAYS.max(matching::DECLINE_MEMORY_DAYS));
    let facts = db::visits::facts_since(conn, since)?
        .into_iter()
        .map(|(host, requester, topic, state, date, answered_at)| {
            Ok(matching::VisitFact {
                host: OrganisationId(host),
                requester: OrganisationId(requester),
                topic: crate::domain::topic::TopicId(topic),
                state: state
                    .parse()
                    .map_err(|e: crate::domain::Invalid| anyhow::anyhow!(e.0))?,
                date,
                answered_on: answered_at
                    .map(|at| at.and_utc().with_timezone(&Amsterdam).date_naive()),
            })
        })
        .collect::<Result<Vec<_>, anyhow::Error>>()
        .map_err(ServiceError::Internal)?;
    let mut context = Context::from_visits(&facts, today, horizon_months);
    let lessons = db::lessons::facts(conn)?
        .into_iter()
        .map(
            |(host, topic, side, rating, hours_saved, on, publish)| matching::LessonFact {
                host: OrganisationId(host),
                topic: crate::domain::topic::TopicId(topic),
                by_visitor: side == "requester",
                rating: rating.clamp(1, 5) as u8,
                hours_saved,
                on,
                published: publish != "no",
            },
        )
        .collect::<Vec<_>>();
    context.add_lessons(&lessons, rules, today);
    Ok(context)
}

struct Prepared {
    loaded: Arc<Loaded>,
    query: MatchQuery,
}

async fn prepare(
    pool: &DbPool,
    index: &MatchIndex,
    user: &User,
    request: &MatchRequest,
) -> Result<Prepared, ServiceError> {
    let requester_id = requester(user, request.organisation)?;
    let loaded = index.snapshot(pool).await?;
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
        today: Utc::now().with_timezone(&Amsterdam).date_naive(),
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

/// The best peers to visit on a topic, best first, with reasons.
#[instrument(skip_all, fields(user = %user.id, topic = request.topic.as_str()))]
pub async fn find_matches(
    pool: &DbPool,
    index: &MatchIndex,
    user: User,
    request: MatchRequest,
    lang: Language,
) -> Result<MatchList, ServiceError> {
    let p = prepare(pool, index, &user, &request).await?;
    ranked(&p, index.tuning(), lang)
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
    pool: &DbPool,
    index: &MatchIndex,
    user: User,
    request: MatchRequest,
    candidate: OrganisationId,
    lang: Language,
) -> Result<MatchExplanation, ServiceError> {
    let p = prepare(pool, index, &user, &request).await?;
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
#[derive(Debug, Clone)]
pub struct PeerSearch {
    /// Sorted by name in the asked language.
    pub topics: Vec<TopicLabel>,
    /// Every organisation's name, for the "why not?" field's suggestions.
    pub names: Vec<String>,
    pub list: Option<MatchList>,
    /// Both at a glance, whatever order the list has.
    pub glance: Option<Glance>,
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
    pool: &DbPool,
    index: &MatchIndex,
    user: User,
    request: Option<MatchRequest>,
    lang: Language,
) -> Result<PeerSearch, ServiceError> {
    let loaded = index.snapshot(pool).await?;
    let topics = sorted_topics(&loaded.snapshot, lang);
    let names: Vec<String> = loaded
        .snapshot
        .hosts_by_name()
        .map(|h| h.name.clone())
        .collect();
    let Some(request) = request else {
        return Ok(PeerSearch {
            topics,
            names,
            list: None,
            glance: None,
        });
    };
    let mut p = prepare(pool, index, &user, &request).await?;
    let tuning = index.tuning();
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
    Ok(PeerSearch {
        topics,
        names,
        list: Some(list),
        glance: Some(Glance {
            best,
            best_in_class: glance.best_in_class,
            near,
        }),
    })
}

/// The active topics, by name in `lang`, for a page's choice.
pub fn sorted_topics(snapshot: &Snapshot, lang: Language) -> Vec<TopicLabel> {
    let mut topics: Vec<TopicLabel> = snapshot.topics().map(TopicLabel::from).collect();
    topics.sort_by_cached_key(|t| crate::domain::search::fold(t.name(lang)));
    topics
}

/// "Why not X?" with X as a person types it: a code, a name or part of one.
pub async fn explain_named(
    pool: &DbPool,
    index: &MatchIndex,
    user: User,
    request: MatchRequest,
    name: &str,
    lang: Language,
) -> Result<MatchExplanation, ServiceError> {
    let loaded = index.snapshot(pool).await?;
    let Some(host) = loaded.snapshot.find_by_name(name) else {
        return Err(DirectoryRefusal::UnknownOrganisationName {
            name: name.trim().to_string(),
        }
        .into());
    };
    explain_match(pool, index, user, request, host.id, lang).await
}

/// Best in class on a topic (docs/lessons.md).
#[derive(Debug, Clone)]
pub struct LeaderList {
    pub topic: TopicLabel,
    /// Best first, with the host's directory entry.
    pub leaders: Vec<(Host, matching::Leader)>,
}

/// Who leads on a topic by their visitors' lessons: for logged-in users
/// and partners with `lessons:read`.
pub async fn topic_leaders(
    pool: &DbPool,
    index: &MatchIndex,
    reader: &super::reader::Reader,
    topic: &TopicSlug,
    limit: usize,
) -> Result<LeaderList, ServiceError> {
    reader.require(crate::domain::partner::Scope::LessonsRead)?;
    let loaded = index.snapshot(pool).await?;
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
    Ok(LeaderList {
        topic: TopicLabel::from(label),
        leaders,
    })
}
