//! The in-memory snapshot of the directory that matching ranks on, with
//! what the visits and lessons say about hosts. Triggers raise a directory
//! version on every change; the snapshot is rebuilt when it moved. The
//! version is read again after any write by this process, and otherwise at
//! most every `database.max_staleness_ms`, so a request usually touches no
//! database at all. Below `context`, which holds one.
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono_tz::Europe::Amsterdam;

use super::ServiceError;
use crate::db::{self, DbConn, DbPool, Freshness};
use crate::domain::lesson::Publish;
use crate::domain::matching::{self, text, Context, MatchQuery, Preference, Snapshot, Tuning};
use crate::domain::organisation::{Language, OrganisationId};
use crate::domain::visit::VisitRole;
use crate::mail::emails::Suggestion;

/// The current snapshot, shared by all workers of one instance.
pub struct MatchIndex {
    tuning: Tuning,
    max_staleness: Duration,
    current: RwLock<Option<Current>>,
    // One rebuild at a time; the others wait for it instead of repeating it.
    rebuild: tokio::sync::Mutex<()>,
    /// How long the last rebuild took, in microseconds (see `grace`).
    last_rebuild_us: std::sync::atomic::AtomicU64,
    /// Answers rendered on the current snapshot (see [`MatchIndex::answer`]).
    answers: std::sync::Mutex<Answers>,
}

/// Rendered answers of one snapshot, by request.
#[derive(Default)]
struct Answers {
    serial: u64,
    by_request: std::collections::HashMap<String, Arc<[u8]>>,
}

/// Answers kept per snapshot at most; past that the cache starts over.
const ANSWERS_KEPT: usize = 2_000;

/// Numbers each snapshot built by this process, so answers cached for one
/// are never taken for another's.
static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A snapshot and when its version was last confirmed against the database.
#[derive(Clone)]
struct Current {
    snapshot: Arc<Loaded>,
    confirmed: Freshness,
}

/// The directory and what is known about hosts, loaded together.
pub struct Loaded {
    /// Which snapshot of this process this is.
    pub serial: u64,
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
            last_rebuild_us: std::sync::atomic::AtomicU64::new(0),
            answers: std::sync::Mutex::new(Answers::default()),
        }
    }

    /// The answer to `request` (a request's every parameter, written out)
    /// on snapshot `serial`: rendered by `render` the first time, the same
    /// bytes after that, until the snapshot is replaced. An answer depends
    /// on the snapshot and the request alone, and rendering it (reasons,
    /// JSON) cost more than the rest of the request.
    pub fn answer<E>(
        &self,
        serial: u64,
        request: String,
        render: impl FnOnce() -> Result<Vec<u8>, E>,
    ) -> Result<Arc<[u8]>, E> {
        {
            let answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
            if answers.serial == serial {
                if let Some(answer) = answers.by_request.get(&request) {
                    return Ok(answer.clone());
                }
            }
        }
        let answer: Arc<[u8]> = render()?.into();
        let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        // Keep answers of the newest snapshot only (a slow request may
        // finish on one that was replaced meanwhile).
        if serial > answers.serial || answers.by_request.len() >= ANSWERS_KEPT {
            answers.serial = answers.serial.max(serial);
            answers.by_request.clear();
        }
        if answers.serial == serial {
            answers.by_request.insert(request, answer.clone());
        }
        Ok(answer)
    }

    pub fn tuning(&self) -> &Tuning {
        &self.tuning
    }

    /// How old a snapshot may be to answer while another request rebuilds:
    /// 100 ms, or twice the last rebuild when rebuilding takes longer (a
    /// large directory: 0.28 s at 100,000 organisations, when every reader
    /// would otherwise queue behind each rebuild); never more than the
    /// staleness allowed for other processes' changes, and 0 when that is 0
    /// (always wait).
    fn grace(&self) -> Duration {
        let last = Duration::from_micros(
            self.last_rebuild_us
                .load(std::sync::atomic::Ordering::Relaxed),
        );
        self.max_staleness.min(REBUILD_GRACE.max(last * 2))
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
    /// `today` is the caller's Dutch day: a snapshot of another day (the
    /// reputation decays by the day) is rebuilt.
    pub async fn snapshot(
        &self,
        pool: &DbPool,
        today: chrono::NaiveDate,
    ) -> Result<Arc<Loaded>, ServiceError> {
        if let Some(current) = self.current() {
            if current.confirmed.still_good(self.max_staleness) && current.snapshot.day == today {
                return Ok(current.snapshot);
            }
        }
        let _one_at_a_time = match self.rebuild.try_lock() {
            Ok(guard) => guard,
            Err(_) => {
                // Another request is checking or rebuilding right now (a
                // change was just committed). Rather than queue behind it,
                // use the snapshot confirmed moments ago: it holds every
                // change committed before then. Under a steady stream of
                // profile edits this keeps matching from waiting in line.
                if let Some(current) = self.current() {
                    if current.confirmed.younger_than(self.grace()) && current.snapshot.day == today
                    {
                        return Ok(current.snapshot);
                    }
                }
                self.rebuild.lock().await
            }
        };
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
        let started = std::time::Instant::now();
        let loaded = pool
            .run(move |conn| {
                let day = today;
                let snapshot = db::matching::load_snapshot(conn)?;
                let context = host_context(conn, day, horizon, &rules)?;
                Ok::<_, ServiceError>(Loaded {
                    serial: SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                    snapshot,
                    context,
                    day,
                })
            })
            .await?;
        let took = started.elapsed();
        crate::observe::snapshot_rebuilt(took);
        self.last_rebuild_us.store(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            std::sync::atomic::Ordering::Relaxed,
        );
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

/// See [`MatchIndex::grace`].
const REBUILD_GRACE: Duration = Duration::from_millis(100);

/// How many other hosts a decline or expiry email proposes.
pub const ALTERNATIVES: usize = 3;

/// Ranking on one snapshot, for emails that propose other hosts.
#[derive(Clone)]
pub struct Suggester {
    loaded: Arc<Loaded>,
    tuning: Tuning,
}

impl MatchIndex {
    pub async fn suggester(
        &self,
        pool: &DbPool,
        today: chrono::NaiveDate,
    ) -> Result<Suggester, ServiceError> {
        Ok(Suggester {
            loaded: self.snapshot(pool, today).await?,
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
        .map(|v| matching::VisitFact {
            host: OrganisationId(v.host_id),
            requester: OrganisationId(v.requester_id),
            topic: crate::domain::topic::TopicId(v.topic_id),
            state: v.state,
            date: v.visit_date,
            answered_on: v
                .answered_at
                .map(|at| at.and_utc().with_timezone(&Amsterdam).date_naive()),
        })
        .collect::<Vec<_>>();
    let mut context = Context::from_visits(&facts, today, horizon_months);
    let lessons = db::lessons::facts(conn)?
        .into_iter()
        .map(|l| matching::LessonFact {
            host: OrganisationId(l.host_id),
            topic: crate::domain::topic::TopicId(l.topic_id),
            by_visitor: l.side == VisitRole::Requester,
            rating: l.rating.clamp(1, 5) as u8,
            hours_saved: l.hours_saved,
            on: l.visit_date,
            published: l.publish != Publish::No,
        })
        .collect::<Vec<_>>();
    context.add_lessons(&lessons, rules, today);
    Ok(context)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(n: &std::cell::Cell<u32>, text: &str) -> Result<Vec<u8>, ()> {
        n.set(n.get() + 1);
        Ok(text.as_bytes().to_vec())
    }

    #[test]
    fn an_answer_is_rendered_once_per_snapshot_and_request() {
        let index = MatchIndex::new(Tuning::default(), Duration::from_secs(1));
        let renders = std::cell::Cell::new(0);
        let a = index
            .answer(5, "q1".into(), || render(&renders, "one"))
            .unwrap();
        let again = index
            .answer(5, "q1".into(), || render(&renders, "other"))
            .unwrap();
        assert_eq!((&*a, &*again, renders.get()), (&b"one"[..], &b"one"[..], 1));
        // Another request on the same snapshot: its own answer.
        let b = index
            .answer(5, "q2".into(), || render(&renders, "two"))
            .unwrap();
        assert_eq!((&*b, renders.get()), (&b"two"[..], 2));
        // A new snapshot: rendered afresh, and the old answers are gone.
        let c = index
            .answer(6, "q1".into(), || render(&renders, "new"))
            .unwrap();
        assert_eq!((&*c, renders.get()), (&b"new"[..], 3));
        // A slow request finishing on the replaced snapshot gets its answer
        // but leaves nothing behind for the new one.
        let old = index
            .answer(5, "q1".into(), || render(&renders, "late"))
            .unwrap();
        assert_eq!(&*old, &b"late"[..]);
        let d = index
            .answer(6, "q1".into(), || render(&renders, "unused"))
            .unwrap();
        assert_eq!((&*d, renders.get()), (&b"new"[..], 4));
    }
}
