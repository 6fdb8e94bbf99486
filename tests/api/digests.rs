//! The monthly digest (issue 22): what is new on the topics a person
//! follows, once a month through the outbox and the scheduler, with a
//! one-click unsubscribe; nothing when nothing is new; one per person with
//! two schedulers.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use meeloop::db::{dispatch, DbConn};
use meeloop::domain::organisation::{Language, OrganisationId};
use meeloop::jobs::Scheduler;
use meeloop::mail::transport::Transport;
use meeloop::mail::worker::deliver_once;
use meeloop::service::visits::{request_visit, today, VisitRequest};
use reqwest::Method;
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::mail::sender;
use crate::schedule::{accepted_next_working_day, dutch, scheduler};
use crate::smtp::SmtpServer;
use crate::visits::{coordinator, demo_app, working_days_ahead};

backend_tests!(
    a_digest_brings_last_months_lessons_and_visits_nearby_once,
    new_best_in_class_are_news_once_and_then_nothing_is,
    two_schedulers_send_one_digest_per_person,
);

/// (key, recipient, subject, text, List-Unsubscribe) of every queued digest.
type Queued = (String, String, String, String, Option<String>);

fn digests(app: &TestApp) -> Vec<Queued> {
    use meeloop::db::schema::outbox::dsl as o;
    dispatch!(&mut app.db.pool.get().unwrap(), c => o::outbox
        .filter(o::template.eq("digest"))
        .order(o::id)
        .select((o::idempotency_key, o::recipient, o::subject, o::body_text, o::list_unsubscribe))
        .load::<Queued>(c))
    .unwrap()
}

fn count(app: &TestApp, table: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let query = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"));
    let row: N = match &mut app.db.pool.get().unwrap() {
        DbConn::Sqlite(c) => query.get_result(&mut **c),
        DbConn::Pg(c) => query.get_result(&mut **c),
    }
    .unwrap();
    row.n
}

/// 09:00 on the first of the month after `day`: when that month's digest
/// is due.
fn first_of_next_month(day: NaiveDate) -> NaiveDateTime {
    let first = NaiveDate::from_ymd_opt(day.year(), day.month(), 1).unwrap();
    dutch(first + chrono::Months::new(1), 9)
}

/// As if last month's digests had found nobody best in class on cloud
/// migration: everyone who is now is new.
fn nobody_was_best_last_month(app: &TestApp) {
    let mut conn = app.db.pool.get().unwrap();
    let topic = meeloop::db::topics::find_by_slug(&mut conn, "cloud-migration")
        .unwrap()
        .unwrap();
    let last_month = meeloop::domain::stats::Month::of(today()).minus(1);
    meeloop::db::digests::remember_leaders(
        &mut conn,
        topic.id.0,
        &last_month.to_string(),
        "[]",
        meeloop::db::now(),
    )
    .unwrap();
}

async fn follow(app: &TestApp, token: &str, slug: &str) {
    let (status, body) = app
        .send(
            Method::PUT,
            &format!("/api/v1/me/topics/{slug}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, 204, "{body}");
}

async fn a_digest_brings_last_months_lessons_and_visits_nearby_once(backend: Backend) {
    let app = demo_app(backend).await;
    // Leeuwarden's coordinator follows cloud migration; so does Súdwest-
    // Fryslân's, whose own lesson and visit are no news to her.
    let reader = app
        .coordinator_token("lieke@leeuwarden.example", "GM0080")
        .await;
    follow(&app, &reader, "cloud-migration").await;
    let sudwest = app
        .coordinator_token("sietse@sudwestfryslan.example", "GM1900")
        .await;
    follow(&app, &sudwest, "cloud-migration").await;

    // This month Súdwest-Fryslân visited Zwolle and published its lesson...
    let zwolle = app.coordinator_token("piet@zwolle.example", "GM0193").await;
    let (held, day) = accepted_next_working_day(&app, &zwolle).await;
    let report = scheduler(&app)
        .run_at(dutch(day + Duration::days(1), 6))
        .await
        .unwrap();
    assert_eq!(report.completed, 1);
    let (status, lesson) = app
        .send(
            Method::POST,
            &format!("/api/v1/visits/{}/lessons", held.id),
            Some(&sudwest),
            Some(json!({
                "strengths": "Een exitplan per applicatie, vooraf met de leverancier besproken.",
                "mistakes": "Licenties niet vooraf geteld.",
                "hoursSaved": 60,
                "rating": 5,
                "recommend": true,
                "publish": "named",
            })),
        )
        .await;
    assert_eq!(status, 201, "{lesson}");

    // ...and planned a visit to Groningen after the digest goes out.
    let month_now = today();
    let due = first_of_next_month(month_now);
    let later = working_days_ahead(60)
        .into_iter()
        .find(|d| dutch(*d, 0) > due + Duration::days(7))
        .unwrap();
    let bram = coordinator(&app, "bram@sudwestfryslan.example", "GM1900");
    let groningen = OrganisationId(app.organisation_id("GM0014").await);
    let planned = request_visit(
        &app.ctx(),
        bram,
        Language::Nl,
        VisitRequest {
            host: groningen,
            topic: "cloud-migration".into(),
            proposed_dates: vec![later],
            goal: "Hoe regelen jullie de regie op de SaaS-leveranciers?".into(),
            participants: 2,
        },
    )
    .await
    .unwrap();
    let host = app
        .coordinator_token("gea@groningen.example", "GM0014")
        .await;
    let (status, body) = app
        .send(
            Method::POST,
            &format!("/api/v1/visits/{}/accept", planned.id),
            Some(&host),
            Some(json!({"date": later})),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // Before 08:00 on the first, last month's digest is not due yet.
    let early = due - Duration::hours(2);
    let report = scheduler(&app).run_at(early).await.unwrap();
    assert_eq!(report.digests, Default::default(), "{report:?}");
    assert!(digests(&app).is_empty());

    let report = scheduler(&app).run_at(due).await.unwrap();
    assert_eq!(
        (report.digests.sent, report.digests.failed),
        (1, 0),
        "{report:?}"
    );
    assert!(
        report.digests.nothing_new >= 1,
        "Súdwest-Fryslân: its own news only"
    );
    let queued = digests(&app);
    assert_eq!(queued.len(), 1, "{queued:?}");
    let (key, to, subject, text, unsubscribe) = &queued[0];
    assert!(key.starts_with("digest:"), "{key}");
    assert_eq!(to, "lieke@leeuwarden.example");
    let month = meeloop::domain::calendar::month_name(month_now, Language::Nl);
    assert_eq!(
        subject,
        &format!("Nieuw in {month} op Migratie naar de cloud")
    );
    assert!(text.contains("Migratie naar de cloud bij Zwolle"), "{text}");
    assert!(
        text.contains("Súdwest-Fryslân, bezoeker") && text.contains("60 uur bespaard"),
        "{text}"
    );
    assert!(
        text.contains("Een exitplan per applicatie"),
        "what to copy: {text}"
    );
    let visit_line = format!(
        "{}: Súdwest-Fryslân (",
        meeloop::domain::calendar::long_date(later, Language::Nl)
    );
    assert!(text.contains(&visit_line), "{text}");
    assert!(text.contains("km) loopt mee bij Groningen"), "{text}");
    let link = unsubscribe.clone().expect("a one-click link");
    assert!(text.contains(&link), "the link is in the body too");

    // Through the real SMTP server, with the unsubscribe headers.
    let server = SmtpServer::start();
    let transport = Transport::smtp(&server.settings()).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !server
        .received()
        .iter()
        .any(|m| String::from_utf8_lossy(m).contains("lieke@leeuwarden.example"))
    {
        assert!(std::time::Instant::now() < deadline, "never delivered");
        deliver_once(&app.db.pool, &transport, &sender())
            .await
            .unwrap();
    }
    let received = server.received();
    let raw = received
        .iter()
        .find(|m| String::from_utf8_lossy(m).contains("lieke@leeuwarden.example"))
        .unwrap();
    let parsed = mail_parser::MessageParser::default().parse(raw).unwrap();
    let header = |name: &str| crate::mail::raw_header(&parsed, name);
    assert_eq!(header("List-Unsubscribe"), format!("<{link}>"));
    assert_eq!(
        header("List-Unsubscribe-Post"),
        "List-Unsubscribe=One-Click"
    );
    assert_eq!(parsed.subject(), Some(subject.as_str()));
    let html = parsed.body_html(0).unwrap();
    assert!(html.contains("Nieuwe lessen"), "{html}");
    assert!(html.contains("Meeloopdagen gepland in uw buurt"), "{html}");

    // Once: the next round (or any later one this month) sends nothing.
    let report = scheduler(&app)
        .run_at(due + Duration::days(3))
        .await
        .unwrap();
    assert_eq!(report.digests, Default::default());
    assert_eq!(digests(&app).len(), 1);

    // The scanner's GET changes nothing; the mail program's POST ends it.
    // (Counted in the table: the scheduler's purge, run weeks ahead, ended
    // the test's sessions.)
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(count(&app, "topic_follows"), 2, "Lieke and Sietse");
    let click = app
        .client
        .post(&link)
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap();
    assert_eq!(click.status(), 200);
    assert_eq!(count(&app, "topic_follows"), 1, "Sietse's only");
}

/// The best in class on cloud migration, by name, as the API lists them.
async fn best_in_class(app: &TestApp, token: &str) -> Vec<String> {
    let (status, list) = app
        .json_as("/api/v1/topics/cloud-migration/leaders?limit=50", token)
        .await;
    assert_eq!(status, 200, "{list}");
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["standing"] != "ahead")
        .map(|l| l["organisation"]["name"].as_str().unwrap().to_string())
        .collect()
}

async fn new_best_in_class_are_news_once_and_then_nothing_is(backend: Backend) {
    let app = demo_app(backend).await;
    let reader = app
        .coordinator_token("lieke@leeuwarden.example", "GM0080")
        .await;
    follow(&app, &reader, "cloud-migration").await;
    let best = best_in_class(&app, &reader).await;
    assert!(!best.is_empty());

    // The month before this one, nobody was best in class on the topic.
    let month_now = today();
    nobody_was_best_last_month(&app);
    let due = first_of_next_month(month_now);
    let report = scheduler(&app).run_at(due).await.unwrap();
    assert_eq!(report.digests.sent, 1, "{report:?}");
    let queued = digests(&app);
    let text = &queued[0].3;
    let section = text
        .split("NIEUW BIJ DE BESTE VAN DE KLAS")
        .nth(1)
        .unwrap_or_else(|| panic!("{text}"));
    let listed: Vec<&str> = section
        .lines()
        .filter_map(|l| l.strip_prefix("* "))
        .map(|l| l.trim_end_matches(" (Migratie naar de cloud)"))
        .collect();
    let mut expected = best.clone();
    expected.sort();
    let mut listed_sorted: Vec<String> = listed.iter().map(|s| s.to_string()).collect();
    listed_sorted.sort();
    assert_eq!(listed_sorted, expected, "{text}");
    assert!(!text.contains("NIEUWE LESSEN"), "no lessons: {text}");

    // A month later the best in class are the same, and nothing else
    // happened: no digest, but the month is done.
    let next = dutch(
        NaiveDate::from_ymd_opt(month_now.year(), month_now.month(), 1).unwrap()
            + chrono::Months::new(2),
        9,
    );
    let report = scheduler(&app).run_at(next).await.unwrap();
    assert_eq!(
        (report.digests.sent, report.digests.nothing_new),
        (0, 1),
        "{report:?}"
    );
    assert_eq!(digests(&app).len(), 1);
    let report = scheduler(&app)
        .run_at(next + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(report.digests, Default::default(), "decided once");
}

async fn two_schedulers_send_one_digest_per_person(backend: Backend) {
    let app = demo_app(backend).await;
    let mut readers = Vec::new();
    for i in 0..12 {
        // Not through the API: logging in twelve times would hit its limit.
        let reader = coordinator(&app, &format!("lezer{i}@leeuwarden.example"), "GM0080");
        meeloop::service::follows::follow(
            &app.ctx(),
            &reader,
            meeloop::domain::topic::TopicSlug::parse("cloud-migration").unwrap(),
        )
        .await
        .unwrap();
        readers.push(reader);
    }
    // Something new for everyone: last month nobody was best in class.
    let month_now = today();
    nobody_was_best_last_month(&app);
    let due = first_of_next_month(month_now);
    let (a, b) = (Scheduler::new(app.ctx()), Scheduler::new(app.ctx()));
    let (ra, rb) = tokio::join!(a.run_at(due), b.run_at(due));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.digests.failed + rb.digests.failed, 0);
    assert_eq!(
        ra.digests.sent + rb.digests.sent,
        readers.len(),
        "{ra:?} {rb:?}"
    );
    let queued = digests(&app);
    let mut recipients: Vec<&str> = queued.iter().map(|q| q.1.as_str()).collect();
    recipients.sort();
    recipients.dedup();
    assert_eq!(recipients.len(), readers.len(), "one each");
    assert_eq!(queued.len(), readers.len());
    assert_eq!(
        count(&app, "unsubscribe_tokens"),
        readers.len() as i64,
        "no link made for a digest that was not sent"
    );
}
