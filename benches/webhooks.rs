//! Webhooks: how fast the worker drains its queue to a receiver that
//! answers at once, by concurrency, and what queuing costs an event's
//! transaction as endpoints are added.
//!
//!     cargo bench --bench webhooks [-- N]        # N deliveries, default 2,000
//!
//! On SQLite in a temporary directory; the receiver is an actix server in
//! this process on 127.0.0.1 answering 204. Figures go to
//! docs/performance.md.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use actix_web::{web, App, HttpResponse, HttpServer};

use meeloop::config::Settings;
use meeloop::db::webhooks::{NewDelivery, NewEndpoint};
use meeloop::domain::organisation::OrganisationId;
use meeloop::domain::partner::Scopes;

fn settings(dir: &std::path::Path, concurrency: usize) -> Settings {
    Settings::defaults()
        .merge(("data_dir", dir))
        .merge(("webhooks.allowed_hosts", ["127.0.0.1"]))
        .merge(("webhooks.concurrency", concurrency))
        .merge(("webhooks.batch_size", 50))
        .extract()
        .expect("settings")
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(2000);
    actix_web::rt::System::new().block_on(run(n));
}

async fn run(n: usize) {
    let received = Arc::new(AtomicUsize::new(0));
    // How long the receiver takes to answer, in milliseconds.
    let delay = Arc::new(AtomicUsize::new(0));
    let (counter, pause) = (received.clone(), delay.clone());
    let server = HttpServer::new(move || {
        let (counter, pause) = (counter.clone(), pause.clone());
        App::new().default_service(web::to(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            let ms = pause.load(Ordering::Relaxed) as u64;
            async move {
                actix_web::rt::time::sleep(std::time::Duration::from_millis(ms)).await;
                HttpResponse::NoContent().finish()
            }
        }))
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .expect("bind");
    let port = server.addrs()[0].port();
    actix_web::rt::spawn(server.run());

    let dir = tempfile::tempdir().expect("temp dir");
    let base = settings(dir.path(), 1);
    let pool = base
        .database
        .connect(&base.database_target().expect("target"))
        .expect("pool");
    meeloop::db::migrations::run_pending(&mut pool.get().unwrap()).expect("migrations");
    let (partner, _) = meeloop::service::partners::create_partner(
        &mut pool.get().unwrap(),
        "Bench",
        Scopes::parse("webhooks:manage").unwrap(),
        None,
    )
    .unwrap();
    let now = meeloop::db::now();
    let endpoint = |conn: &mut meeloop::db::DbConn, url: &str| {
        meeloop::db::webhooks::insert_endpoint(
            conn,
            &NewEndpoint {
                partner_id: partner.id,
                url,
                description: "",
                event_types: "organisation.updated".into(),
                secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
                paused: false,
                created_at: now,
                updated_at: now,
            },
        )
        .unwrap()
        .id
    };
    let target = endpoint(
        &mut pool.get().unwrap(),
        &format!("http://127.0.0.1:{port}/hook"),
    );
    let payload = format!(
        r#"{{"type":"organisation.updated","timestamp":"2027-03-02T09:15:04Z","data":{{"organisationId":4,"code":"GM0193","name":"Zwolle","kind":"municipality","province":"Overijssel","active":true,"changed":["name"],"updatedAt":"2027-03-02T09:15:04Z","pad":"{}"}}}}"#,
        "x".repeat(300)
    );

    let runs = [
        (0, n, 1),
        (0, n, 4),
        (0, n, 8),
        (50, n / 4, 1),
        (50, n / 4, 4),
        (50, n / 4, 8),
    ];
    println!(
        "drain: deliveries of {} bytes, batches of 50",
        payload.len()
    );
    for (ms, n, concurrency) in runs {
        delay.store(ms, Ordering::Relaxed);
        {
            let mut conn = pool.get().unwrap();
            conn.write(|conn| {
                for i in 0..n {
                    meeloop::db::webhooks::enqueue(
                        conn,
                        &NewDelivery {
                            endpoint_id: target,
                            webhook_id: &format!("msg_bench{ms}_{concurrency}_{i}"),
                            event_type: "organisation.updated",
                            payload: &payload,
                            state: "pending",
                            attempts: 0,
                            next_attempt_at: now,
                            created_at: now,
                        },
                    )?;
                }
                Ok::<_, diesel::result::Error>(())
            })
            .unwrap();
        }
        let before = received.load(Ordering::Relaxed);
        let deliverer = meeloop::jobs::webhooks::Deliverer::from_settings(
            &settings(dir.path(), concurrency),
            "http://127.0.0.1",
        )
        .unwrap();
        let started = Instant::now();
        let mut delivered = 0;
        while delivered < n {
            let round = meeloop::jobs::webhooks::deliver_once(&pool, &deliverer)
                .await
                .unwrap();
            assert_eq!(round.claimed(), round.delivered, "{round:?}");
            assert!(round.delivered > 0, "nothing due");
            delivered += round.delivered;
        }
        let took = started.elapsed().as_secs_f64();
        let arrived = received.load(Ordering::Relaxed) - before;
        assert_eq!(arrived, n);
        println!(
            "  receiver answers in {ms:>2} ms, concurrency {concurrency}: {n} in {took:.2} s ({:.0}/s), {arrived} arrived",
            n as f64 / took
        );
    }

    // What queuing adds to an event's transaction: one profile change,
    // published to 0, 1 and 10 listening endpoints.
    let ctx = meeloop::service::context::Context::from_settings(
        pool.clone(),
        &base,
        "http://127.0.0.1".into(),
        std::time::Duration::ZERO,
    );
    meeloop::service::demo::load(&mut pool.get().unwrap()).unwrap();
    let admin = meeloop::service::accounts::create_user(
        &mut pool.get().unwrap(),
        &meeloop::service::accounts::NewAccount {
            email: "bench@meeloop.example".into(),
            name: "Bench".into(),
            role: meeloop::domain::account::Role::Admin,
            organisation: None,
            password: meeloop::domain::account::Password::parse("a long enough password").unwrap(),
        },
    )
    .unwrap();
    let zwolle = {
        use diesel::prelude::*;
        use meeloop::db::schema::organisations as o;
        let mut conn = pool.get().unwrap();
        meeloop::dispatch!(&mut conn, c => o::table
            .filter(o::code.eq("GM0193"))
            .select(o::id)
            .first::<i64>(c))
        .unwrap()
    };
    // The drain's endpoint stops listening for this part.
    {
        use diesel::prelude::*;
        use meeloop::db::schema::webhook_endpoints as e;
        let mut conn = pool.get().unwrap();
        meeloop::dispatch!(&mut conn, c => diesel::update(e::table.find(target))
            .set(e::event_types.eq("visit.accepted"))
            .execute(c))
        .unwrap();
    }
    const CHANGES: usize = 300;
    println!("queuing: {CHANGES} profile changes (organisation.updated), each its own transaction");
    let mut listening = 0;
    for endpoints in [0, 1, 10] {
        while listening < endpoints {
            endpoint(
                &mut pool.get().unwrap(),
                "https://hooks.bench.example/meeloop",
            );
            listening += 1;
        }
        let started = Instant::now();
        for i in 0..CHANGES {
            meeloop::service::profile::update_organisation(
                &ctx,
                admin.clone(),
                "127.0.0.1".parse().unwrap(),
                OrganisationId(zwolle),
                meeloop::domain::organisation::ProfileChanges {
                    monthly_capacity: Some((i % 5) as i32 + 1),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        }
        let took = started.elapsed().as_secs_f64();
        println!(
            "  {endpoints:>2} endpoints: {:.2} ms per change",
            took * 1000.0 / CHANGES as f64
        );
    }
}
