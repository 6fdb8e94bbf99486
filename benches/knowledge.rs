//! The knowledge base with 100,000 published lessons: how long a search
//! takes, by how often the words searched for occur.
//!
//!     cargo bench --bench knowledge [-- N] [postgres://…]
//!
//! N lessons (default 100,000; two per visit) of generated text over a
//! vocabulary of 3,000 words, added to the demo data on SQLite in a
//! temporary directory, or on the PostgreSQL database named (an empty one;
//! scripts/bench-knowledge.sh makes a throwaway cluster). Each search runs
//! through the use case the page and the API call
//! (`service::lessons::knowledge_base`, 20 per page), 50 times per word;
//! figures go to docs/performance.md.

use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use diesel::RunQueryDsl;

use meeloop::config::Settings;
use meeloop::db::lessons::LessonPlace;
use meeloop::db::visits::NewVisit;
use meeloop::domain::lesson::{Lesson, Publish};
use meeloop::domain::organisation::Language;
use meeloop::domain::visit::{VisitId, VisitRole, VisitState};
use meeloop::service::lessons::{knowledge_base, KnowledgeQuery, Reader};

#[derive(diesel::QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// A small deterministic generator (no dependency, same text every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Word `i` of the vocabulary: pronounceable, lower case, unique.
fn word(i: u64) -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "ve", "lo", "mi", "ster", "dam", "wo", "ning", "be", "leid", "zorg", "wijk", "data",
        "net", "plan", "raad",
    ];
    let mut w = String::new();
    let mut n = i + 16;
    while n > 0 {
        w.push_str(SYLLABLES[(n % 16) as usize]);
        n /= 16;
    }
    w
}

/// Text of `words` words; early words of the vocabulary are common (a
/// Zipf-like skew), late ones rare.
fn text(rng: &mut Lcg, words: usize) -> String {
    (0..words)
        .map(|_| {
            // sqrt of a uniform draw leans to the top: turned round, the
            // vocabulary's first words are common and its last rare.
            let r = rng.below(3000 * 3000);
            word(2999 - ((r as f64).sqrt() as u64).min(2999))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(100_000);
    let postgres = args.iter().find(|a| a.starts_with("postgres")).cloned();
    actix_web::rt::System::new().block_on(run(n, postgres));
}

async fn run(n: usize, postgres: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let url =
        postgres.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("kb.db").display()));
    let settings: Settings = Settings::defaults()
        .merge(("data_dir", dir.path()))
        .merge(("database.url", url.as_str()))
        .extract()
        .unwrap();
    let target = settings.database_target().unwrap();
    let pool = settings.database.connect(&target).unwrap();
    let mut conn = pool.get().unwrap();
    meeloop::db::migrations::run_pending(&mut conn).unwrap();
    meeloop::service::demo::load(&mut conn).unwrap();
    let database = if url.starts_with("sqlite") {
        "SQLite"
    } else {
        "PostgreSQL"
    };

    let ids = |conn: &mut meeloop::db::DbConn, sql: &str| -> Vec<i64> {
        meeloop::db::dispatch!(conn, c => diesel::sql_query(sql).load::<Id>(c))
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect()
    };
    let organisations = ids(&mut conn, "SELECT id FROM organisations WHERE active");
    let topics = ids(&mut conn, "SELECT id FROM topics");
    // The reader and the lessons' author: a coordinator of Zwolle.
    let user = meeloop::service::accounts::create_user(
        &mut conn,
        &meeloop::service::accounts::NewAccount {
            email: "lezer@zwolle.example".into(),
            name: "Lezer".into(),
            role: meeloop::domain::account::Role::Coordinator,
            organisation: Some("GM0193".into()),
            password: meeloop::domain::account::Password::parse("a benchmark password").unwrap(),
        },
    )
    .unwrap();
    let author = user.id.0;

    // N lessons: one visit per two, both sides writing.
    let started = Instant::now();
    let mut rng = Lcg(42);
    let now = Utc::now().naive_utc();
    let day = NaiveDate::from_ymd_opt(2025, 1, 6).unwrap();
    let mut written = 0;
    while written < n {
        conn.write(|conn| {
            for _ in 0..1000 {
                if written >= n {
                    break;
                }
                let pick =
                    |rng: &mut Lcg, from: &[i64]| from[rng.below(from.len() as u64) as usize];
                let requester = pick(&mut rng, &organisations);
                let mut host = pick(&mut rng, &organisations);
                while host == requester {
                    host = pick(&mut rng, &organisations);
                }
                let topic = pick(&mut rng, &topics);
                let visit = meeloop::db::visits::insert(
                    conn,
                    NewVisit {
                        requester_id: requester,
                        host_id: host,
                        topic_id: topic,
                        requested_by: author,
                        // (The knowledge base reads lessons alone; a completed
                        // visit would need its day set after insertion.)
                        state: VisitState::Requested,
                        goal: "Leren van elkaar".into(),
                        participants: 2,
                        proposed_dates: String::new(),
                        expires_at: now,
                        created_at: now,
                        updated_at: now,
                    },
                )?;
                for (side, organisation) in
                    [(VisitRole::Requester, requester), (VisitRole::Host, host)]
                {
                    if written >= n {
                        break;
                    }
                    meeloop::db::lessons::insert(
                        conn,
                        LessonPlace {
                            visit_id: VisitId(visit.0),
                            side,
                            organisation_id: organisation,
                            host_id: host,
                            topic_id: topic,
                            visit_date: day,
                            author_id: Some(author),
                            submitted_at: now,
                        },
                        Lesson {
                            situation: text(&mut rng, 20),
                            strengths: text(&mut rng, 30),
                            mistakes: text(&mut rng, 30),
                            recommendations: text(&mut rng, 20),
                            hours_saved: rng.below(200) as i32,
                            rating: 1 + rng.below(5) as i16,
                            recommend: Some(true),
                            publish: if rng.below(5) == 0 {
                                Publish::Pseudonymous
                            } else {
                                Publish::Named
                            },
                        },
                    )?;
                    written += 1;
                }
            }
            Ok::<_, diesel::result::Error>(())
        })
        .unwrap();
    }
    println!(
        "{database}: {n} lessons written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if let meeloop::db::DbConn::Pg(c) = &mut conn {
        // What autovacuum does after a change of this size: statistics for
        // the planner (which words are common) before anyone searches.
        use diesel::connection::SimpleConnection;
        c.batch_execute("ANALYZE lessons").unwrap();
    }
    drop(conn);

    let ctx = meeloop::service::context::Context::from_settings(
        pool.clone(),
        &settings,
        "http://127.0.0.1".into(),
        Duration::from_secs(1),
    );
    // Words by how many lessons hold them: the vocabulary's first words are
    // in most lessons, the last in a few, one in none.
    let searches: [(&str, String); 7] = [
        ("no words (newest first)", String::new()),
        ("a common word", word(3)),
        ("a word in 5 % of lessons", word(749)),
        ("a word in 1 % of lessons", word(2549)),
        ("a rare word", word(2990)),
        (
            "two words, rare together",
            format!("{} {}", word(40), word(2500)),
        ),
        ("a word in no lesson", "onvindbaarwoord".into()),
    ];
    println!(
        "{:<28} {:>9} {:>9} {:>9}",
        "search (20 per page)", "p50 ms", "p99 ms", "found"
    );
    for (label, q) in searches {
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..50 {
            let query = KnowledgeQuery {
                topic: None,
                kind: None,
                q: (!q.is_empty()).then(|| q.clone()),
                before: None,
            };
            let t = Instant::now();
            let (lessons, _) = knowledge_base(
                &ctx,
                Reader::User(user.clone()),
                query,
                Some(20),
                Language::Nl,
            )
            .await
            .unwrap();
            times.push(t.elapsed());
            found = lessons.len();
        }
        times.sort();
        let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize].as_secs_f64() * 1000.0;
        println!("{label:<28} {:>9.2} {:>9.2} {found:>9}", at(0.5), at(0.99));
    }
    insight(&pool, &ctx, user).await;
}

/// The pictures of issue 22 over the same data, with every visit held on a
/// day in the last two years: a topic's map and network (the use case, and
/// drawing the network as SVG), the statistics page's figures and an
/// organisation's learning history.
async fn insight(
    pool: &meeloop::db::DbPool,
    ctx: &meeloop::service::context::Context,
    user: meeloop::domain::account::User,
) {
    use meeloop::service::insight;
    let mut conn = pool.get().unwrap();
    let held = match &conn {
        meeloop::db::DbConn::Sqlite(_) => "UPDATE visits SET state = 'completed', visit_date = date('now', '-' || (id % 700) || ' days') WHERE goal = 'Leren van elkaar'",
        meeloop::db::DbConn::Pg(_) => "UPDATE visits SET state = 'completed', visit_date = current_date - (id % 700)::int WHERE goal = 'Leren van elkaar'",
    };
    meeloop::db::dispatch!(&mut conn, c => diesel::sql_query(held).execute(c)).unwrap();
    // A lesson keeps its visit's day.
    let days = "UPDATE lessons SET visit_date = (SELECT visit_date FROM visits WHERE visits.id = lessons.visit_id)";
    meeloop::db::dispatch!(&mut conn, c => diesel::sql_query(days).execute(c)).unwrap();
    if let meeloop::db::DbConn::Pg(c) = &mut conn {
        use diesel::connection::SimpleConnection;
        c.batch_execute("ANALYZE visits").unwrap();
    }
    drop(conn);
    let reader = Reader::User(user.clone());
    let slug = meeloop::domain::topic::TopicSlug::parse("cloud-migration").unwrap();
    let zwolle = ctx
        .snapshot()
        .await
        .unwrap()
        .snapshot
        .find_by_name("GM0193")
        .unwrap()
        .id;
    let to = meeloop::domain::stats::Month::of(ctx.today());
    println!(
        "{:<28} {:>9} {:>9} {:>9}",
        "insight", "p50 ms", "p99 ms", "size"
    );
    let report = |label: &str, mut times: Vec<Duration>, size: String| {
        times.sort();
        let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize].as_secs_f64() * 1000.0;
        println!("{label:<28} {:>9.2} {:>9.2} {size:>9}", at(0.5), at(0.99));
    };
    let (mut picture_times, mut draw_times, mut figures_times, mut history_times) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut visits, mut bytes) = (0, 0);
    for _ in 0..50 {
        let t = Instant::now();
        let picture = insight::topic_picture(ctx, &reader, &slug, Language::Nl)
            .await
            .unwrap();
        picture_times.push(t.elapsed());
        let t = Instant::now();
        let nodes: Vec<meeloop::web::charts::NetNode> = picture
            .network
            .nodes
            .iter()
            .zip(&picture.labels)
            .map(|(n, l)| meeloop::web::charts::NetNode {
                label: l.label.clone(),
                kind: l.kind,
                standing: n.standing,
                named: l.host.is_some(),
                summary: l.label.clone(),
            })
            .collect();
        let svg = meeloop::web::charts::network("n", "t", "d", &nodes, &picture.network.edges, "");
        draw_times.push(t.elapsed());
        visits = picture.network.edges.len();
        bytes = svg.len();
        let t = Instant::now();
        insight::figures(ctx, reader.clone(), to.minus(11), to, Language::Nl)
            .await
            .unwrap();
        figures_times.push(t.elapsed());
        let t = Instant::now();
        insight::learning_history(ctx, &reader, zwolle)
            .await
            .unwrap();
        history_times.push(t.elapsed());
    }
    report(
        "topic map and network",
        picture_times,
        format!("{visits} visits"),
    );
    report(
        "network drawn as SVG",
        draw_times,
        format!("{} KB", bytes / 1024),
    );
    report("statistics, 12 months", figures_times, String::new());
    // Where the statistics' time goes: each read on its own.
    let (first, last) = (to.minus(11).first_day().unwrap(), to.last_day().unwrap());
    let mut parts: [Vec<Duration>; 4] = Default::default();
    for _ in 0..20 {
        let mut conn = pool.get().unwrap();
        let t = Instant::now();
        meeloop::db::lessons::visit_counts(&mut conn, first, last).unwrap();
        parts[0].push(t.elapsed());
        let t = Instant::now();
        meeloop::db::lessons::lesson_sums(&mut conn, first, last).unwrap();
        parts[1].push(t.elapsed());
        let t = Instant::now();
        let from_at = first.and_hms_opt(0, 0, 0).unwrap();
        let to_at = last.and_hms_opt(23, 59, 59).unwrap();
        meeloop::db::lessons::requests_between(&mut conn, from_at, to_at).unwrap();
        parts[2].push(t.elapsed());
        drop(conn);
        let t = Instant::now();
        ctx.snapshot().await.unwrap();
        parts[3].push(t.elapsed());
    }
    let [counts, sums, requests, snapshot] = parts;
    report("  visits counted", counts, String::new());
    report("  lessons summed", sums, String::new());
    report("  requests read", requests, String::new());
    report("  snapshot", snapshot, String::new());
    report("learning history (Zwolle)", history_times, String::new());
}
