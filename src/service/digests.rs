//! The monthly digest (issue 22, docs/digests.md): from 08:00 on the first
//! of a month, everyone who follows a topic hears what was new on it in the
//! month before — lessons published, new best in class, visits planned
//! nearby — and nothing when nothing was. Run by the scheduler; of several
//! instances exactly one composes each person's digest (`digests` row).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDateTime;

use super::context::Context;
use super::index::Loaded;
use super::ServiceError;
use crate::db;
use crate::domain::account::UserId;
use crate::domain::calendar::{long_date, month_name};
use crate::domain::digest::{self, LessonFact, PlannedFact, Reader};
use crate::domain::matching;
use crate::domain::organisation::{Language, OrganisationId};
use crate::domain::stats::Month;
use crate::domain::topic::TopicId;
use crate::mail::emails::{Digest, DigestLesson, DigestVisit};

/// Digests composed per scheduler round at most: a round stays short, and
/// the next one goes on where this one stopped.
const BATCH: i64 = 500;
/// A lesson's "what to copy" is cut to this many characters in the email.
const EXCERPT: usize = 240;

/// What one round did with the digests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Digests queued in the outbox.
    pub sent: usize,
    /// People with nothing new this month: no email, but done.
    pub nothing_new: usize,
    /// Digests that failed; tried again next round.
    pub failed: usize,
}

/// Composes the digests due at `now` (UTC) that nobody composed yet.
pub async fn send_due(ctx: &Context, now: NaiveDateTime) -> Result<Round, ServiceError> {
    let local = now
        .and_utc()
        .with_timezone(&chrono_tz::Europe::Amsterdam)
        .naive_local();
    let month = digest::due_month(local);
    let (Some(first), Some(last)) = (month.first_day(), month.last_day()) else {
        return Ok(Round::default());
    };
    let (from, to) = (
        super::clock::utc_midnight(first),
        super::clock::utc_midnight(last + chrono::Duration::days(1)),
    );
    let key = month.to_string();
    let readers = {
        let key = key.clone();
        ctx.pool
            .run(move |conn| Ok::<_, ServiceError>(db::digests::due(conn, &key, to, BATCH)?))
            .await?
    };
    let mut round = Round::default();
    if readers.is_empty() {
        return Ok(round);
    }
    let news = Arc::new(gather(ctx, month, (from, to), now).await?);
    for reader in readers {
        match compose_one(ctx, news.clone(), reader, now).await {
            Ok(Some(_)) => round.sent += 1,
            Ok(None) => round.nothing_new += 1,
            Err(e) => {
                // One person's broken digest must not hold up the others'.
                tracing::warn!(user = %reader.0, month = %key, error = %e, "digest failed");
                round.failed += 1;
            }
        }
    }
    Ok(round)
}

/// A month's news for everyone, read once per round.
struct News {
    month: Month,
    /// The end of the month (UTC): follows from later count next month.
    to: NaiveDateTime,
    loaded: Arc<Loaded>,
    lessons: Vec<db::lessons::LessonRow>,
    lesson_facts: Vec<LessonFact>,
    planned: Vec<PlannedFact>,
    leaders: HashMap<TopicId, Vec<OrganisationId>>,
}

async fn gather(
    ctx: &Context,
    month: Month,
    (from, to): (NaiveDateTime, NaiveDateTime),
    now: NaiveDateTime,
) -> Result<News, ServiceError> {
    let loaded = ctx.snapshot().await?;
    // The best in class now, kept as this month's, to tell next month who
    // is new among them.
    let mut standing: Vec<(i64, String)> = loaded
        .snapshot
        .topics()
        .map(|topic| {
            let mut best: Vec<i64> = matching::leaders(
                &loaded.snapshot,
                topic.id,
                &loaded.context,
                ctx.matching.tuning(),
                loaded.day,
                usize::MAX,
            )
            .into_iter()
            .filter(|l| l.best_in_class())
            .map(|l| l.host.0)
            .collect();
            best.sort_unstable();
            (topic.id.0, serde_json::json!(best).to_string())
        })
        .collect();
    // In one order on every instance: two inserting the same rows in
    // different orders would deadlock.
    standing.sort_unstable_by_key(|(topic, _)| *topic);
    let today = super::clock::local_date(now);
    let (key, before) = (month.to_string(), month.minus(1).to_string());
    let (lessons, planned, kept, earlier) = ctx
        .pool
        .run(move |conn| {
            conn.write_outside_accounts(|conn| {
                db::digests::forget_before(conn, &month.minus(12).to_string())?;
                for (topic, hosts) in &standing {
                    db::digests::remember_leaders(conn, *topic, &key, hosts, now)?;
                }
                Ok::<_, ServiceError>((
                    db::lessons::published_between(conn, from, to)?,
                    db::visits::planned_between(conn, from, to, today)?,
                    db::digests::leaders(conn, &key)?,
                    db::digests::leaders(conn, &before)?,
                ))
            })
        })
        .await?;
    let ids = |json: &String| -> Vec<OrganisationId> {
        serde_json::from_str::<Vec<i64>>(json)
            .unwrap_or_default()
            .into_iter()
            .map(OrganisationId)
            .collect()
    };
    let leaders = kept
        .iter()
        .map(|(topic, hosts)| {
            let before = earlier.get(topic).map(ids);
            let new = digest::new_leaders(before.as_deref(), &ids(hosts));
            (TopicId(*topic), new)
        })
        .collect();
    let lesson_facts = lessons
        .iter()
        .map(|l| LessonFact {
            topic: TopicId(l.topic_id),
            author: OrganisationId(l.organisation_id),
        })
        .collect();
    let planned = planned
        .into_iter()
        .filter_map(|v| {
            Some(PlannedFact {
                requester: OrganisationId(v.requester_id),
                host: OrganisationId(v.host_id),
                topic: TopicId(v.topic_id),
                date: v.visit_date?,
            })
        })
        .collect();
    Ok(News {
        month,
        to,
        loaded,
        lessons,
        lesson_facts,
        planned,
        leaders,
    })
}

/// `reader`'s digest of the month, in one transaction: claimed, and queued
/// with a fresh unsubscribe link when there is something new. `None`: the
/// digest was empty, or another instance had it.
async fn compose_one(
    ctx: &Context,
    news: Arc<News>,
    reader: UserId,
    now: NaiveDateTime,
) -> Result<Option<usize>, ServiceError> {
    let base_url = ctx.base_url.clone();
    ctx.pool
        .run(move |conn| {
            conn.write_outside_accounts(|conn| {
                let key = news.month.to_string();
                if !db::digests::claim(conn, reader, &key, now)? {
                    return Ok(None);
                }
                let Some(user) = db::users::find_enabled(conn, reader)? else {
                    return Ok(None);
                };
                let organisation = match user.organisation_id {
                    Some(id) => db::organisations::find(conn, id)?,
                    None => None,
                };
                let language = organisation.as_ref().map_or(Language::Nl, |o| o.language);
                let follows: Vec<_> = db::follows::of_user(conn, reader)?
                    .into_iter()
                    .filter(|(topic, since)| topic.active && *since < news.to)
                    .map(|(topic, _)| topic)
                    .collect();
                let topics: Vec<TopicId> = follows.iter().map(|t| t.id).collect();
                let snapshot = &news.loaded.snapshot;
                let picked = digest::pick(
                    Reader {
                        organisation: user.organisation_id,
                        topics: &topics,
                    },
                    &news.lesson_facts,
                    &news.leaders,
                    &news.planned,
                    |a, b| Some(matching::distance_km(snapshot.host(a)?, snapshot.host(b)?)),
                );
                let items = picked.items();
                if items == 0 {
                    return Ok(None);
                }
                let base = base_url.trim_end_matches('/');
                let rows = picked
                    .lessons
                    .iter()
                    .map(|&i| news.lessons[i].clone())
                    .collect();
                let lessons = super::published::shape(conn, rows, language)?
                    .into_iter()
                    .map(|l| DigestLesson {
                        heading: l.heading(language),
                        byline: l.byline(language),
                        strengths: excerpt(&l.lesson.strengths),
                        hours_saved: l.lesson.hours_saved,
                        link: format!("{base}/knowledge?topic={}#lesson-{}", l.topic, l.id.0),
                    })
                    .collect();
                let topic_name = |id: TopicId| {
                    snapshot
                        .topic(id)
                        .map_or_else(String::new, |t| match language {
                            Language::Nl => t.name_nl.clone(),
                            Language::En => t.name_en.clone(),
                        })
                };
                let host_name = |id: OrganisationId| {
                    snapshot
                        .host(id)
                        .map_or_else(String::new, |h| h.name.clone())
                };
                let email = Digest {
                    name: user.name.clone(),
                    month: news
                        .month
                        .first_day()
                        .map_or_else(String::new, |d| month_name(d, language)),
                    topics: follows
                        .iter()
                        .map(|t| t.name(language).to_string())
                        .collect(),
                    lessons,
                    more_lessons: picked.more_lessons,
                    knowledge: format!("{base}/knowledge"),
                    leaders: picked
                        .leaders
                        .iter()
                        .map(|&(topic, host)| (host_name(host), topic_name(topic)))
                        .collect(),
                    visits: picked
                        .visits
                        .iter()
                        .map(|&(i, km)| {
                            let v = &news.planned[i];
                            DigestVisit {
                                requester: host_name(v.requester),
                                host: host_name(v.host),
                                topic: topic_name(v.topic),
                                date: long_date(v.date, language),
                                km: km.round() as u32,
                            }
                        })
                        .collect(),
                    more_visits: picked.more_visits,
                    manage: format!("{base}/account/topics"),
                    unsubscribe: super::follows::unsubscribe_link(conn, reader, base, now)?,
                };
                let mut message = crate::mail::templates::compose(
                    &email,
                    format!("digest:{}:{key}", reader.0),
                    &user.email,
                    language,
                    base,
                    &[],
                )
                .map_err(|e| ServiceError::Internal(e.into()))?;
                message.list_unsubscribe = Some(email.unsubscribe.clone());
                db::outbox::enqueue(conn, &message)?;
                db::digests::record(conn, reader, &key, i32::try_from(items).unwrap_or(i32::MAX))?;
                Ok(Some(items))
            })
        })
        .await
}

/// The first [`EXCERPT`] characters of `text` on one line, cut at a word.
fn excerpt(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= EXCERPT {
        return flat;
    }
    let cut: String = flat.chars().take(EXCERPT).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{cut} …")
}

#[cfg(test)]
mod tests {
    use super::excerpt;

    #[test]
    fn long_lessons_are_cut_at_a_word() {
        assert_eq!(excerpt("Een  korte\nles."), "Een korte les.");
        let long = "woord ".repeat(100);
        let cut = excerpt(&long);
        assert!(cut.ends_with("woord …"), "{cut}");
        assert!(cut.chars().count() <= super::EXCERPT + 2);
    }
}
