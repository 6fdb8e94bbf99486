//! Pictures of who learns from whom (issue 22, docs/insight.md): a topic's
//! map and learning network, and an organisation's learning history. For
//! signed-in people and partners (`lessons:read` for a topic's pictures,
//! `stats:read` for a history).

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};

use super::context::Context;
use super::matching::TopicLabel;
use super::reader::Reader;
use super::ServiceError;
use crate::db;
use crate::domain::insight::{self, AppliedCounts, HeldVisit, History, Network, Party};
use crate::domain::lesson::{size_class, Reputation};
use crate::domain::matching::{self, Host};
use crate::domain::organisation::{kind_name, Language, OrganisationId, OrganisationKind};
use crate::domain::partner::Scope;
use crate::domain::refusal::DirectoryRefusal;
use crate::domain::topic::TopicSlug;
use crate::domain::visit::VisitRole;

/// The network shows the visits held in the last this many years.
pub const NETWORK_YEARS: u32 = 2;

/// An organisation with expertise on the topic, as the map draws it.
#[derive(Debug, Clone)]
pub struct MapPoint {
    pub host: Host,
    pub level: u8,
    pub reputation: Reputation,
    /// Best or among the best in class.
    pub best: bool,
}

/// A node of the network as people read it.
#[derive(Debug, Clone)]
pub struct NodeLabel {
    /// The organisation, when it may be named.
    pub host: Option<Host>,
    /// Its name, or its kind and size class.
    pub label: String,
    pub kind: OrganisationKind,
}

/// A topic's map and learning network.
#[derive(Debug, Clone)]
pub struct TopicPicture {
    pub topic: TopicLabel,
    /// Where every active organisation is (latitude, longitude): drawn
    /// faintly, they make the map of the Netherlands.
    pub directory: Vec<(f64, f64)>,
    /// Everyone with expertise on the topic, best first.
    pub experts: Vec<MapPoint>,
    pub network: Network,
    /// One per network node, in its order.
    pub labels: Vec<NodeLabel>,
    /// The first day of the visits in the network.
    pub since: NaiveDate,
}

/// The map and network of `slug`.
pub async fn topic_picture(
    ctx: &Context,
    reader: &Reader,
    slug: &TopicSlug,
    language: Language,
) -> Result<TopicPicture, ServiceError> {
    reader.require(Scope::LessonsRead)?;
    let loaded = ctx.snapshot().await?;
    let snapshot = &loaded.snapshot;
    let topic = snapshot.topic_by_slug(slug.as_str()).ok_or_else(|| {
        ServiceError::from(DirectoryRefusal::UnknownTopic {
            slug: slug.as_str().to_string(),
        })
    })?;
    let leaders = matching::leaders(
        snapshot,
        topic.id,
        &loaded.context,
        ctx.matching.tuning(),
        loaded.day,
        usize::MAX,
    );
    let best: Vec<OrganisationId> = leaders
        .iter()
        .filter(|l| l.best_in_class())
        .map(|l| l.host)
        .collect();
    let experts = leaders
        .iter()
        .filter_map(|l| {
            Some(MapPoint {
                host: snapshot.host(l.host)?.clone(),
                level: l.level,
                reputation: l.reputation,
                best: best.contains(&l.host),
            })
        })
        .collect();
    let since = loaded
        .day
        .with_day(1)
        .and_then(|d| d.checked_sub_months(chrono::Months::new(12 * NETWORK_YEARS)))
        .unwrap_or(loaded.day);
    let topic_id = topic.id.0;
    let (held, unnamed) = ctx
        .pool
        .run(move |conn| {
            let held = db::insight::held_on_topic(conn, topic_id, since)?;
            let ids: Vec<i64> = held.iter().map(|h| h.0).collect();
            let unnamed = db::insight::unnamed_sides(conn, &ids)?;
            Ok::<_, ServiceError>((held, unnamed))
        })
        .await?;
    let unnamed: HashSet<(i64, String)> = unnamed.into_iter().collect();
    let party = |id: i64, visit: i64, side: VisitRole| -> Option<Party> {
        let host = snapshot.host(OrganisationId(id))?;
        Some(if unnamed.contains(&(visit, side.as_str().to_string())) {
            Party::Unnamed(host.kind, size_class(host.kind, host.size, language))
        } else {
            Party::Named(host.id)
        })
    };
    // Visits of organisations no longer in the directory are left out.
    let visits: Vec<HeldVisit> = held
        .iter()
        .filter_map(|&(visit, requester, host, _)| {
            Some(HeldVisit {
                requester: party(requester, visit, VisitRole::Requester)?,
                host: party(host, visit, VisitRole::Host)?,
            })
        })
        .collect();
    let network = insight::network(&visits, &best);
    let labels = network
        .nodes
        .iter()
        .map(|n| match &n.party {
            Party::Named(id) => {
                let host = snapshot.host(*id).cloned();
                NodeLabel {
                    label: host.as_ref().map_or_else(String::new, |h| h.name.clone()),
                    kind: host.as_ref().map_or(OrganisationKind::Other, |h| h.kind),
                    host,
                }
            }
            Party::Unnamed(kind, class) => NodeLabel {
                host: None,
                label: unnamed_label(*kind, class, language),
                kind: *kind,
            },
        })
        .collect();
    Ok(TopicPicture {
        topic: TopicLabel::from(topic),
        directory: snapshot
            .hosts_by_name()
            .map(|h| (h.latitude, h.longitude))
            .collect(),
        experts,
        network,
        labels,
        since,
    })
}

/// "een gemeente (20.000–50.000 inwoners)": a party not named.
fn unnamed_label(kind: OrganisationKind, class: &str, language: Language) -> String {
    // `class` starts with the kind's name; the label says it once.
    let range = class
        .strip_prefix(kind_name(kind, language))
        .map(|r| r.trim_start_matches(", "))
        .unwrap_or(class);
    match language {
        Language::Nl => format!("een {} ({range})", kind_name(kind, language)),
        Language::En => format!("a {} ({range})", kind_name(kind, language)),
    }
}

/// An organisation's learning history (all topics, all time); an
/// organisation no longer in the directory is unknown (a merged one says
/// where it went).
pub async fn learning_history(
    ctx: &Context,
    reader: &Reader,
    organisation: OrganisationId,
) -> Result<History, ServiceError> {
    reader.require(Scope::StatsRead)?;
    super::directory::get_organisation(ctx, organisation).await?;
    ctx.pool.run(move |conn| history(conn, organisation)).await
}

/// An organisation's page: its directory entry, what it knows, and its
/// learning history.
#[derive(Debug, Clone)]
pub struct OrganisationPage {
    pub organisation: crate::domain::organisation::Organisation,
    pub expertise: Vec<crate::domain::topic::Expertise>,
    pub history: History,
}

/// The page of `organisation`, for anyone signed in (`_viewer`: the
/// figures are counts, shown to every organisation alike).
pub async fn organisation_page(
    ctx: &Context,
    _viewer: &crate::domain::account::User,
    organisation: OrganisationId,
) -> Result<OrganisationPage, ServiceError> {
    let entry = super::directory::get_organisation(ctx, organisation).await?;
    ctx.pool
        .run(move |conn| {
            Ok(OrganisationPage {
                expertise: db::expertise::for_organisation(conn, organisation)?,
                history: history(conn, organisation)?,
                organisation: entry,
            })
        })
        .await
}

/// The statistics page's figures: the numbers, and the topics' names.
#[derive(Debug, Clone)]
pub struct Figures {
    pub stats: crate::domain::stats::Stats,
    pub topics: Vec<TopicLabel>,
}

/// The statistics of the months `from` to `to` with the topics' names.
pub async fn figures(
    ctx: &Context,
    reader: Reader,
    from: crate::domain::stats::Month,
    to: crate::domain::stats::Month,
    language: Language,
) -> Result<Figures, ServiceError> {
    let stats = super::lessons::statistics(ctx, reader, from, to).await?;
    let topics = super::matching::sorted_topics(&ctx.snapshot().await?.snapshot, language);
    Ok(Figures { stats, topics })
}

fn history(conn: &mut db::DbConn, organisation: OrganisationId) -> Result<History, ServiceError> {
    let id = organisation.0;
    let mut history = History {
        lessons_published: u32::try_from(db::insight::published_by(conn, id)?).unwrap_or(u32::MAX),
        hours_saved_for_others: db::insight::hours_saved_at(conn, id)?,
        ..History::default()
    };
    let (made, hosted) = db::insight::held_by(conn, id)?;
    for day in &made {
        history.per_year.entry(day.year()).or_default().0 += 1;
    }
    for day in &hosted {
        history.per_year.entry(day.year()).or_default().1 += 1;
    }
    history.visits_made = u32::try_from(made.len()).unwrap_or(u32::MAX);
    history.visits_hosted = u32::try_from(hosted.len()).unwrap_or(u32::MAX);
    history.applied = AppliedCounts::of(
        db::insight::applied_at(conn, id)?
            .iter()
            .map(String::as_str),
    );
    Ok(history)
}
