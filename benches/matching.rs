//! Ranking speed: top 10 among 1,000, 10,000 and 100,000 organisations with
//! 30 topics, and the cost of rebuilding the snapshot.
//!
//!     cargo bench --bench matching
//!
//! Figures go to docs/performance.md.

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use meeloop::domain::matching::{
    rank, Context, ExpertiseRow, Host, LessonFact, MatchQuery, Preference, Snapshot, Tuning,
    DEFAULT_LIMIT,
};
use meeloop::domain::organisation::{OrganisationId, OrganisationKind};
use meeloop::domain::topic::TopicId;

const TOPICS: i64 = 30;
/// Each organisation reports expertise on this many topics on average.
const TOPICS_PER_ORGANISATION: usize = 4;

type Rows = (
    Vec<Host>,
    Vec<(TopicId, String, String, String)>,
    Vec<ExpertiseRow>,
);

/// A synthetic directory spread over the Netherlands, the same for every run.
fn directory(n: usize) -> Rows {
    let mut rng = StdRng::seed_from_u64(42);
    let kinds = [
        OrganisationKind::Municipality,
        OrganisationKind::HousingCorporation,
        OrganisationKind::Province,
        OrganisationKind::WaterBoard,
    ];
    let hosts = (1..=n as i64)
        .map(|id| {
            Host::new(
                OrganisationId(id),
                (format!("B{id}"), format!("Organisatie {id}")),
                kinds[rng.random_range(0..kinds.len())],
                None,
                rng.random_range(1_000..1_000_000),
                (rng.random_range(50.8..53.5), rng.random_range(3.4..7.2)),
                rng.random_range(0..4),
            )
        })
        .collect();
    let topics = (1..=TOPICS)
        .map(|t| {
            (
                TopicId(t),
                format!("topic-{t}"),
                format!("Onderwerp {t}"),
                format!("Topic {t}"),
            )
        })
        .collect();
    let mut rows = Vec::new();
    for id in 1..=n as i64 {
        for _ in 0..rng.random_range(0..=2 * TOPICS_PER_ORGANISATION) {
            rows.push(ExpertiseRow {
                organisation: OrganisationId(id),
                topic: TopicId(rng.random_range(1..=TOPICS)),
                level: rng.random_range(1..=5),
                since_year: Some(rng.random_range(2010..2027)),
                willing_to_host: rng.random_bool(0.8),
            });
        }
    }
    // One row per organisation and topic, as the database has.
    rows.sort_by_key(|r| (r.organisation.0, r.topic.0));
    rows.dedup_by_key(|r| (r.organisation.0, r.topic.0));
    (hosts, topics, rows)
}

fn query(requester: i64) -> MatchQuery {
    MatchQuery {
        requester: OrganisationId(requester),
        topic: TopicId(7),
        limit: DEFAULT_LIMIT,
        kinds: Vec::new(),
        province: None,
        max_distance_km: None,
        preference: Preference::Best,
        today: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
    }
}

/// One in ten experts has been rated by a few visitors, so reputation
/// lookups hit as well as miss.
fn rated(rows: &[ExpertiseRow]) -> Context {
    let mut rng = StdRng::seed_from_u64(7);
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let mut lessons = Vec::new();
    for r in rows {
        if !rng.random_bool(0.1) {
            continue;
        }
        for _ in 0..rng.random_range(1..6) {
            lessons.push(LessonFact {
                host: r.organisation,
                topic: r.topic,
                by_visitor: true,
                rating: rng.random_range(1..=5),
                hours_saved: 16,
                on: today - chrono::Duration::days(rng.random_range(0..1000)),
                published: rng.random_bool(0.5),
            });
        }
    }
    let mut context = Context::default();
    context.add_lessons(&lessons, &Tuning::default().reputation, today);
    context
}

fn ranking(c: &mut Criterion) {
    let mut group = c.benchmark_group("top 10");
    let tuning = Tuning::default();
    for n in [1_000, 10_000, 100_000] {
        let (hosts, topics, rows) = directory(n);
        let context = rated(&rows);
        let snapshot = Snapshot::build(1, hosts, topics, rows);
        let q = query(n as i64 / 2);
        group.bench_with_input(BenchmarkId::from_parameter(n), &q, |b, q| {
            b.iter(|| rank(black_box(&snapshot), black_box(q), &context, &tuning).unwrap())
        });
    }
    group.finish();
}

fn rebuilding(c: &mut Criterion) {
    let mut group = c.benchmark_group("snapshot build");
    group.sample_size(10);
    for n in [1_000, 10_000, 100_000] {
        let rows = directory(n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &rows, |b, rows| {
            b.iter(|| {
                let (hosts, topics, expertise) = rows.clone();
                Snapshot::build(1, hosts, topics, expertise)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, ranking, rebuilding);
criterion_main!(benches);
