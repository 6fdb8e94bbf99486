//! Retention (docs/privacy.md): the purge removes exactly what is past its
//! period, on both databases, once however many schedulers run it.

use std::time::{Duration as StdDuration, SystemTime};

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use meeloop::db::schema::{audit_log, followups, lessons, link_tokens, outbox, visits};
use meeloop::db::DbConn;
use meeloop::domain::privacy::{Purged, PSEUDONYMISED};
use meeloop::jobs::Scheduler;
use meeloop::service::context::{Clock, Context};

use crate::backend_tests;
use crate::helpers::{dump_texts, queued, spawn_demo_app, Backend, TestApp};
use meeloop::domain::account::Role;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;

backend_tests!(
    an_erased_person_is_gone_from_every_table_and_file_while_history_stays,
    erasure_from_the_admin_pages_asks_first_and_covers_an_organisation,
    my_account_offers_my_data_and_admins_anyone_s,
    an_export_holds_every_row_that_mentions_the_person,
    exports_are_for_oneself_or_admins_audited_and_limited,
    the_purge_removes_exactly_what_is_past_its_period,
    two_schedulers_purge_once_per_interval,
    the_privacy_statement_shows_the_configured_periods,
);

/// Sets `column` of the rows `condition` picks to `at`: data of a chosen age.
fn set_time(conn: &mut DbConn, table: &str, column: &str, condition: &str, at: NaiveDateTime) {
    use diesel::sql_types::Timestamp;
    let changed = match conn {
        DbConn::Sqlite(c) => {
            diesel::sql_query(format!("UPDATE {table} SET {column} = ? WHERE {condition}"))
                .bind::<Timestamp, _>(at)
                .execute(&mut **c)
        }
        DbConn::Pg(c) => diesel::sql_query(format!(
            "UPDATE {table} SET {column} = $1 WHERE {condition}"
        ))
        .bind::<Timestamp, _>(at)
        .execute(&mut **c),
    }
    .unwrap();
    assert!(changed > 0, "{table} {condition}");
}

fn run(conn: &mut DbConn, sql: &str) {
    meeloop::dispatch!(conn, c => diesel::sql_query(sql).execute(c)).unwrap();
}

/// The app's context on a clock that stands at `now`.
fn ctx_at(app: &TestApp, now: NaiveDateTime) -> Context {
    app.ctx().with_clock(Clock::manual(now))
}

fn eml(app: &TestApp, name: &str, written: NaiveDateTime) -> std::path::PathBuf {
    eml_in(&app.db.data_dir.path().join("mail"), name, written)
}

/// A file in the files transport's folder, last written at `written`.
fn eml_in(folder: &std::path::Path, name: &str, written: NaiveDateTime) -> std::path::PathBuf {
    std::fs::create_dir_all(folder).unwrap();
    let path = folder.join(name);
    std::fs::write(&path, "To: iemand@zwolle.example\r\n\r\nHallo").unwrap();
    let at = SystemTime::UNIX_EPOCH
        + StdDuration::from_secs(written.and_utc().timestamp().try_into().unwrap());
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(at)
        .unwrap();
    path
}

async fn the_purge_removes_exactly_what_is_past_its_period(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    meeloop::service::demo::load_history(&mut app.db.pool.get().unwrap()).unwrap();
    let now = meeloop::db::now();
    let ctx = ctx_at(&app, now);
    let days = Duration::days;

    // Nothing in fresh demo data is past its period.
    let none = meeloop::service::privacy::purge(&ctx, "test", now, true)
        .await
        .unwrap();
    assert_eq!(none, Purged::default());

    let mut conn = app.db.pool.get().unwrap();
    // The audit log: one entry just past a year, one just inside.
    for action in ["test.old", "test.recent"] {
        meeloop::db::audit::record(
            &mut conn,
            &meeloop::db::audit::AuditEvent {
                actor: "cli".into(),
                action,
                address: Some("192.0.2.7".into()),
                subject: None,
                details: serde_json::json!({}),
            },
        )
        .unwrap();
    }
    set_time(
        &mut conn,
        "audit_log",
        "at",
        "action = 'test.old'",
        now - days(366),
    );
    set_time(
        &mut conn,
        "audit_log",
        "at",
        "action = 'test.recent'",
        now - days(364),
    );

    // The outbox: sent and dead messages on either side of 90 days, and an
    // old one still waiting (never purged: it has not been handled).
    let mut message = |key: &str| {
        let m = crate::mail::message(key, "iemand@zwolle.example", "nl");
        queued(meeloop::db::outbox::enqueue(&mut conn, &m).unwrap())
    };
    let ids: Vec<i64> = ["sent-old", "sent-new", "dead-old", "dead-new", "waiting"]
        .into_iter()
        .map(&mut message)
        .collect();
    for (id, state, column, age) in [
        (ids[0], "sent", "sent_at", 91),
        (ids[1], "sent", "sent_at", 89),
        (ids[2], "dead", "given_up_at", 91),
        (ids[3], "dead", "given_up_at", 89),
    ] {
        run(
            &mut conn,
            &format!("UPDATE outbox SET state = '{state}' WHERE id = {id}"),
        );
        set_time(
            &mut conn,
            "outbox",
            column,
            &format!("id = {id}"),
            now - days(age),
        );
    }
    set_time(
        &mut conn,
        "outbox",
        "created_at",
        &format!("id = {}", ids[4]),
        now - days(400),
    );

    // Link tokens of a demo visit: expired or used more than 30 days ago go.
    let visit: i64 = meeloop::dispatch!(&mut conn, c => visits::table
        .select(visits::id)
        .order(visits::id)
        .first(c))
    .unwrap();
    let host: i64 = meeloop::dispatch!(&mut conn, c => visits::table
        .find(visit)
        .select(visits::host_id)
        .first(c))
    .unwrap();
    for (hash, expires, used) in [
        ("expired-old", -31, None),
        ("used-old", 10, Some(-31)),
        ("used-recent", 10, Some(-29)),
        ("live", 10, None),
        ("expired-recent", -29, None),
    ] {
        meeloop::db::visits::insert_token(
            &mut conn,
            meeloop::db::visits::NewLinkToken {
                token_hash: hash.into(),
                purpose: meeloop::domain::visit::LinkPurpose::Invitation,
                visit_id: visit,
                organisation_id: host,
                expires_at: now + days(expires),
                created_at: now - days(40),
            },
        )
        .unwrap();
        if let Some(used) = used {
            set_time(
                &mut conn,
                "link_tokens",
                "used_at",
                &format!("token_hash = '{hash}'"),
                now + days(used),
            );
        }
    }

    // Sign-in links: one expired 31 days ago goes, a live one stays.
    let someone: i64 = meeloop::dispatch!(&mut conn, c => meeloop::db::schema::users::table
        .select(meeloop::db::schema::users::id)
        .order(meeloop::db::schema::users::id)
        .first(c))
    .unwrap();
    for (hash, purpose, expires) in [
        (
            "account-old",
            meeloop::domain::account::SignInPurpose::Reset,
            -31,
        ),
        (
            "account-live",
            meeloop::domain::account::SignInPurpose::Invitation,
            3,
        ),
    ] {
        meeloop::db::sign_in::insert(
            &mut conn,
            meeloop::domain::account::UserId(someone),
            purpose,
            hash,
            now + days(expires),
            now - days(40),
        )
        .unwrap();
    }

    // The digest's unsubscribe links: used more than 30 days ago, or
    // stopped working (after a year) more than 30 days ago, go.
    for (hash, created, used) in [
        ("unsub-used-old", -40, Some(-31)),
        ("unsub-used-recent", -40, Some(-29)),
        ("unsub-expired-old", -365 - 31, None),
        ("unsub-expired-recent", -365 - 29, None),
        ("unsub-live", -40, None),
    ] {
        meeloop::db::unsubscribe::insert(
            &mut conn,
            hash,
            meeloop::domain::account::UserId(someone),
            now + days(created),
        )
        .unwrap();
        if let Some(used) = used {
            set_time(
                &mut conn,
                "unsubscribe_tokens",
                "used_at",
                &format!("token_hash = '{hash}'"),
                now + days(used),
            );
        }
    }

    // Sessions: one that ended 31 days ago goes; an open one stays.
    for (sid, ended) in [("ended-old", Some(-31)), ("open", None)] {
        meeloop::db::sessions::insert(
            &mut conn,
            &meeloop::db::sessions::NewSession {
                sid,
                user: meeloop::domain::account::UserId(someone),
                kind: meeloop::domain::session::SessionKind::Api,
                now: now - days(40),
                expires_at: now + days(1),
                address: None,
                user_agent: "test",
            },
        )
        .unwrap();
        if let Some(ended) = ended {
            set_time(
                &mut conn,
                "sessions",
                "ended_at",
                &format!("sid = '{sid}'"),
                now + days(ended),
            );
        }
    }

    // Free text: one finished visit five years and a day ago, one a day
    // short; an unfinished one, however old, keeps its text.
    let demo: Vec<(i64, String)> = meeloop::dispatch!(&mut conn, c => visits::table
        .select((visits::id, visits::goal))
        .order(visits::id)
        .load(c))
    .unwrap();
    assert!(demo.len() >= 3, "the demo has held visits");
    let (old_visit, kept_visit, open_visit) = (demo[0].0, demo[1].0, demo[2].0);
    run(
        &mut conn,
        &format!("UPDATE visits SET reason = 'Wij hadden het te druk' WHERE id = {old_visit}"),
    );
    set_time(
        &mut conn,
        "visits",
        "updated_at",
        &format!("id = {old_visit}"),
        now - days(1826),
    );
    set_time(
        &mut conn,
        "visits",
        "updated_at",
        &format!("id = {kept_visit}"),
        now - days(1824),
    );
    run(
        &mut conn,
        &format!("UPDATE visits SET state = 'requested' WHERE id = {open_visit}"),
    );
    set_time(
        &mut conn,
        "visits",
        "updated_at",
        &format!("id = {open_visit}"),
        now - days(3000),
    );

    // Lessons: an unpublished old one loses its words, a published old one
    // and an unpublished recent one do not; ratings all stay.
    let lesson_ids: Vec<i64> = meeloop::dispatch!(&mut conn, c => lessons::table
        .select(lessons::id)
        .order(lessons::id)
        .load(c))
    .unwrap();
    assert!(lesson_ids.len() >= 3, "the demo has lessons");
    let (old_lesson, published_lesson, recent_lesson) =
        (lesson_ids[0], lesson_ids[1], lesson_ids[2]);
    run(
        &mut conn,
        &format!("UPDATE lessons SET publish = 'no' WHERE id IN ({old_lesson}, {recent_lesson})"),
    );
    run(
        &mut conn,
        &format!("UPDATE lessons SET publish = 'named' WHERE id = {published_lesson}"),
    );
    for (id, age) in [
        (old_lesson, 1826),
        (published_lesson, 1826),
        (recent_lesson, 1824),
    ] {
        set_time(
            &mut conn,
            "lessons",
            "submitted_at",
            &format!("id = {id}"),
            now - days(age),
        );
    }
    let ratings = |conn: &mut DbConn| -> Vec<(i64, i16, i32)> {
        meeloop::dispatch!(conn, c => lessons::table
            .select((lessons::id, lessons::rating, lessons::hours_saved))
            .order(lessons::id)
            .load(c))
        .unwrap()
    };
    let ratings_before = ratings(&mut conn);

    // Follow-up answers.
    for (visit, age) in [(demo[0].0, 1826), (demo[1].0, 10)] {
        meeloop::db::lessons::insert_followup(
            &mut conn,
            &meeloop::db::lessons::FollowUpRow {
                visit_id: visit,
                applied: "partly".into(),
                changes: "We hebben het exitplan van Zwolle overgenomen.".into(),
                answered_at: now - days(age),
            },
        )
        .unwrap();
    }

    // Webhook deliveries: delivered or dead 31 days ago go, with their
    // attempts; a day short, or still pending however old, stay.
    let endpoint = crate::webhooks::seed_endpoint(&app);
    for (n, state, age) in [
        (1, "delivered", 31),
        (2, "dead", 31),
        (3, "delivered", 29),
        (4, "pending", 400),
    ] {
        let at = now - days(age);
        meeloop::db::webhooks::enqueue(
            &mut conn,
            &meeloop::db::webhooks::NewDelivery {
                endpoint_id: endpoint,
                webhook_id: &format!("msg_purge{n}"),
                event_type: "visit.accepted",
                payload: "{}",
                state,
                attempts: 1,
                next_attempt_at: at,
                created_at: at,
            },
        )
        .unwrap();
        let column = if state == "dead" {
            "given_up_at"
        } else {
            "delivered_at"
        };
        set_time(
            &mut conn,
            "webhook_deliveries",
            column,
            &format!("webhook_id = 'msg_purge{n}'"),
            at,
        );
    }

    // Mail files: an old one goes; a recent one and what is not an email stay.
    let old_file = eml(&app, "000001-iemand@zwolle.example.eml", now - days(31));
    let new_file = eml(&app, "000002-iemand@zwolle.example.eml", now - days(29));
    let other = eml(&app, "notes.txt", now - days(400));
    drop(conn);

    let expected = Purged {
        audit_entries: 1,
        sent_messages: 1,
        dead_messages: 1,
        // Two of visits, one sign-in link, two unsubscribe links.
        link_tokens: 5,
        sessions: 1,
        mail_files: 1,
        visit_texts: 1,
        lesson_texts: 1,
        followup_texts: 1,
        // Two staged here, and the seeded endpoint's dead delivery (given up now) stays.
        webhook_deliveries: 2,
    };
    let dry = meeloop::service::privacy::purge(&ctx, "test", now, true)
        .await
        .unwrap();
    assert_eq!(dry, expected, "the dry run counts");
    assert!(old_file.exists(), "a dry run changes nothing");
    let done = meeloop::service::privacy::purge(&ctx, "test", now, false)
        .await
        .unwrap();
    assert_eq!(done, expected);

    let mut conn = app.db.pool.get().unwrap();
    let left: Vec<String> = {
        use meeloop::db::schema::webhook_deliveries as d;
        meeloop::dispatch!(&mut conn, c => d::table
            .select(d::webhook_id)
            .order(d::webhook_id)
            .load(c))
        .unwrap()
    };
    assert_eq!(left, ["msg_purge3", "msg_purge4", "msg_seeded"]);
    let actions: Vec<String> = meeloop::dispatch!(&mut conn, c => audit_log::table
        .select(audit_log::action)
        .filter(audit_log::action.like("test.%").or(audit_log::action.eq("privacy.purged")))
        .order(audit_log::id)
        .load(c))
    .unwrap();
    assert_eq!(actions, ["test.recent", "privacy.purged"]);
    let details: String = meeloop::dispatch!(&mut conn, c => audit_log::table
        .filter(audit_log::action.eq("privacy.purged"))
        .select(audit_log::details)
        .first(c))
    .unwrap();
    let details: serde_json::Value = serde_json::from_str(&details).unwrap();
    assert_eq!(details["purged"]["link_tokens"], 5, "{details}");
    let unsubscribe: Vec<String> =
        meeloop::dispatch!(&mut conn, c => meeloop::db::schema::unsubscribe_tokens::table
        .select(meeloop::db::schema::unsubscribe_tokens::token_hash)
        .order(meeloop::db::schema::unsubscribe_tokens::token_hash)
        .load(c))
        .unwrap();
    assert_eq!(
        unsubscribe,
        ["unsub-expired-recent", "unsub-live", "unsub-used-recent"]
    );
    let account_links: Vec<String> =
        meeloop::dispatch!(&mut conn, c => meeloop::db::schema::account_links::table
        .select(meeloop::db::schema::account_links::token_hash)
        .load(c))
        .unwrap();
    assert_eq!(account_links, ["account-live"]);
    let sessions: Vec<String> =
        meeloop::dispatch!(&mut conn, c => meeloop::db::schema::sessions::table
        .select(meeloop::db::schema::sessions::sid)
        .load(c))
        .unwrap();
    assert!(
        sessions.contains(&"open".to_string()) && !sessions.contains(&"ended-old".to_string()),
        "{sessions:?}"
    );

    let left: Vec<i64> = meeloop::dispatch!(&mut conn, c => outbox::table
        .select(outbox::id)
        .filter(outbox::id.eq_any(&ids))
        .order(outbox::id)
        .load(c))
    .unwrap();
    assert_eq!(left, [ids[1], ids[3], ids[4]]);

    let tokens: Vec<String> = meeloop::dispatch!(&mut conn, c => link_tokens::table
        .select(link_tokens::token_hash)
        .filter(link_tokens::visit_id.eq(visit))
        .order(link_tokens::token_hash)
        .load(c))
    .unwrap();
    assert_eq!(tokens, ["expired-recent", "live", "used-recent"]);

    let texts: Vec<(i64, String, Option<String>)> =
        meeloop::dispatch!(&mut conn, c => visits::table
        .select((visits::id, visits::goal, visits::reason))
        .filter(visits::id.eq_any([old_visit, kept_visit, open_visit]))
        .order(visits::id)
        .load(c))
        .unwrap();
    assert_eq!(texts[0], (old_visit, PSEUDONYMISED.to_string(), None));
    assert_eq!(texts[1].1, demo[1].1, "a day short of five years: kept");
    assert_eq!(texts[2].1, demo[2].1, "not finished: kept");

    let words: Vec<(i64, String, String, Option<i64>)> =
        meeloop::dispatch!(&mut conn, c => lessons::table
        .select((lessons::id, lessons::strengths, lessons::search_text, lessons::author_id))
        .filter(lessons::id.eq_any([old_lesson, published_lesson, recent_lesson]))
        .order(lessons::id)
        .load(c))
        .unwrap();
    assert_eq!(
        (words[0].1.as_str(), words[0].2.as_str(), words[0].3),
        (PSEUDONYMISED, "", None)
    );
    assert_ne!(words[1].1, PSEUDONYMISED, "published lessons stay");
    assert_ne!(words[2].1, PSEUDONYMISED);
    assert_eq!(
        ratings(&mut conn),
        ratings_before,
        "ratings and hours saved stay"
    );

    let changes: Vec<String> = meeloop::dispatch!(&mut conn, c => followups::table
        .select(followups::changes)
        .order(followups::visit_id)
        .load(c))
    .unwrap();
    assert_eq!(changes[0], PSEUDONYMISED);
    assert_ne!(changes[1], PSEUDONYMISED);

    assert!(!old_file.exists() && new_file.exists() && other.exists());

    // Done once: the same purge again finds nothing.
    let again = meeloop::service::privacy::purge(&ctx, "test", now, false)
        .await
        .unwrap();
    assert_eq!(again, Purged::default());
}

async fn two_schedulers_purge_once_per_interval(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    let now = meeloop::db::now();
    let ctx = ctx_at(&app, now);
    let old = |conn: &mut DbConn, action: &'static str| {
        meeloop::db::audit::record(
            conn,
            &meeloop::db::audit::AuditEvent {
                actor: "cli".into(),
                action,
                address: None,
                subject: None,
                details: serde_json::json!({}),
            },
        )
        .unwrap();
        set_time(
            conn,
            "audit_log",
            "at",
            &format!("action = '{action}'"),
            now - Duration::days(400),
        );
    };
    old(&mut app.db.pool.get().unwrap(), "test.first");

    let (a, b) = (Scheduler::new(ctx.clone()), Scheduler::new(ctx.clone()));
    let (ra, rb) = futures_util::future::join(a.run_at(now), b.run_at(now)).await;
    let purges: Vec<Purged> = [ra.unwrap(), rb.unwrap()]
        .iter()
        .filter_map(|r| r.purged)
        .collect();
    assert_eq!(purges.len(), 1, "one of the two purged: {purges:?}");
    assert_eq!(purges[0].audit_entries, 1);

    // Within the interval nobody purges again; after it, one does.
    old(&mut app.db.pool.get().unwrap(), "test.second");
    let later = a.run_at(now + Duration::hours(23)).await.unwrap();
    assert_eq!(later.purged, None);
    let next_day = b.run_at(now + Duration::hours(25)).await.unwrap();
    assert_eq!(next_day.purged.map(|p| p.audit_entries), Some(1));

    let mut conn = app.db.pool.get().unwrap();
    let purges: i64 = meeloop::dispatch!(&mut conn, c => audit_log::table
        .filter(audit_log::action.eq("privacy.purged"))
        .filter(audit_log::actor.eq("scheduler"))
        .count()
        .get_result(c))
    .unwrap();
    assert_eq!(purges, 2, "each purge audited once");
}

async fn the_privacy_statement_shows_the_configured_periods(backend: Backend) {
    let app = crate::helpers::spawn_app_with(backend, |f| {
        f.merge(("privacy.audit_log_days", 400))
            .merge(("privacy.free_text_days", 2000))
    })
    .await;
    let page = app.text(format!("{}/privacy", app.address)).await;
    assert!(page.contains("<td>400 dagen</td>"), "{page}");
    assert!(page.contains("<td>2000 dagen</td>"));
    assert!(
        page.contains("<td>90 dagen</td>"),
        "the defaults for the rest"
    );
    let web = crate::pages::Web::new(&app);
    let english = web
        .with_cookie("meeloop_lang=en")
        .get("/privacy")
        .await
        .body;
    assert!(english.contains("<td>400 days</td>"), "{english}");
}

#[test]
fn the_purge_from_the_command_line() {
    let db = crate::helpers::test_db(Backend::Sqlite);
    crate::helpers::succeeded(&crate::cli::meeloop(&db, &["migrate"]));
    let folder = db.data_dir.path().join("mail");
    let old = eml_in(
        &folder,
        "000001-iemand@zwolle.example.eml",
        meeloop::db::now() - Duration::days(40),
    );

    let dry = crate::helpers::succeeded(&crate::cli::meeloop(
        &db,
        &["privacy", "purge", "--dry-run"],
    ));
    assert!(
        dry.contains("Would purge (dry run, nothing changed):"),
        "{dry}"
    );
    assert!(dry.contains("       1  mail files"), "{dry}");
    assert!(
        dry.contains("audit log 365, sent emails 90"),
        "the periods: {dry}"
    );
    assert!(old.exists());

    let done = crate::helpers::succeeded(&crate::cli::meeloop(&db, &["privacy", "purge"]));
    assert!(
        done.contains("Purged:") && done.contains("       1  in all"),
        "{done}"
    );
    assert!(!old.exists());
    let mut conn = db.pool.get().unwrap();
    let actor: String = meeloop::dispatch!(&mut conn, c => audit_log::table
        .filter(audit_log::action.eq("privacy.purged"))
        .select(audit_log::actor)
        .first(c))
    .unwrap();
    assert_eq!(actor, "cli");
}

const FEMKE: (&str, &str) = ("femke.dewit@sudwestfryslan.example", "Femke de Wit");

/// A coordinator with a name of her own who leaves traces everywhere: a
/// request she made, a reason and a goal of others that name her, a failed
/// login, an expertise summary. Returns (admin token, her token, her id).
async fn traces(app: &TestApp) -> (String, String, i64) {
    let admin = app.admin_token("beheer@meeloop.example").await;
    let femke = app
        .token_named(FEMKE.0, FEMKE.1, Role::Coordinator, Some("GM1900"))
        .await;
    let bram = app.coordinator_token("bram@zwolle.example", "GM0193").await;
    let (zwolle, amsterdam) = (
        app.organisation_id("GM0193").await,
        app.organisation_id("GM0363").await,
    );
    let ask = |host: i64, goal: &str| {
        json!({
            "hostOrganisationId": host,
            "topic": "cloud-migration",
            "proposedDates": crate::visits::working_days_ahead(3),
            "goal": goal,
            "participants": 2,
        })
    };
    let (status, asked) = app
        .post_as(
            "/api/v1/visits",
            &femke,
            ask(zwolle, "Hoe plande u de exit uit het eigen datacenter?"),
        )
        .await;
    assert_eq!(status, 201, "{asked}");
    let (status, _) = app
        .post_as(
            &format!("/api/v1/visits/{}/decline", asked["id"]),
            &bram,
            json!({"reason": "Femke de Wit belde al; maart past beter."}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, other) = app
        .post_as(
            "/api/v1/visits",
            &bram,
            ask(
                amsterdam,
                "Na het gesprek met femke de wit willen we uw aanpak zien.",
            ),
        )
        .await;
    assert_eq!(status, 201, "{other}");
    let (status, _) = app
        .send(
            Method::PUT,
            &format!("/api/v1/organisations/{zwolle}/expertise/cloud-migration"),
            Some(&bram),
            Some(json!({"level": 4, "willingToHost": true, "summary": "Vragen? Femke.DeWit@sudwestfryslan.example weet er alles van."})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": FEMKE.0, "password": "not her password at all"})),
        )
        .await;
    assert_eq!(status, 401);
    let (_, me) = app.json_as("/api/v1/me", &femke).await;
    (admin, femke, me["id"].as_i64().unwrap())
}

/// (table, key) of every row whose text mentions one of `needles`.
fn mentioned(app: &TestApp, needles: &[&str]) -> BTreeSet<(String, String)> {
    dump_texts(&mut app.db.pool.get().unwrap())
        .into_iter()
        .filter(|cell| {
            let text = cell.text.to_lowercase();
            needles.iter().any(|n| text.contains(&n.to_lowercase()))
        })
        .map(|cell| (cell.table, cell.key))
        .collect()
}

/// (table, key) of every row in an export, keyed as the dump keys them.
fn exported(export: &Value) -> BTreeSet<(String, String)> {
    let mut rows = BTreeSet::new();
    for (table, list) in export["tables"].as_object().unwrap() {
        for row in list.as_array().unwrap() {
            let key = match table.as_str() {
                "expertise" => format!("{}:{}", row["organisation_id"], row["topic_id"]),
                "followups" => row["visit_id"].to_string(),
                _ => row["id"].to_string(),
            };
            rows.insert((table.clone(), key));
        }
    }
    rows
}

async fn an_export_holds_every_row_that_mentions_the_person(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    let (admin, _, femke) = traces(&app).await;

    let response = app
        .get_as(&format!("/api/v1/admin/users/{femke}/export"), &admin)
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with(&format!("attachment; filename=\"meeloop-user-{femke}-")),
        "{disposition}"
    );
    let raw = response.text().await.unwrap();
    let export: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(export["subject"], format!("user:{femke}"));

    let about_her = mentioned(&app, &[FEMKE.0, FEMKE.1]);
    let held = exported(&export);
    let missing: Vec<_> = about_her.difference(&held).collect();
    assert!(
        missing.is_empty(),
        "rows about her not in the export: {missing:?}"
    );
    // Every kind of trace is there: the account, her request, the other
    // coordinator's goal naming her, the summary, the failed login, email.
    for table in ["users", "visits", "expertise", "audit_log", "outbox"] {
        assert!(
            about_her.iter().any(|(t, _)| t == table),
            "no {table} row mentions her"
        );
    }
    assert!(export["tables"]["visits"].as_array().unwrap().len() >= 2);
    // Never a secret or an email body.
    for secret in [
        "password_hash",
        "token_hash",
        "secret_hash",
        "body_text",
        "body_html",
        "$argon2",
    ] {
        assert!(!raw.contains(secret), "{secret} in the export");
    }

    // Her organisation's export holds her too, and all rows about its people.
    let frysl = app.organisation_id("GM1900").await;
    let response = app
        .get_as(
            &format!("/api/v1/admin/organisations/{frysl}/export"),
            &admin,
        )
        .await;
    assert_eq!(response.status(), 200);
    let org: Value = response.json().await.unwrap();
    let org_rows = exported(&org);
    assert!(org_rows.contains(&("users".to_string(), femke.to_string())));
    assert!(org_rows.contains(&("organisations".to_string(), frysl.to_string())));
    let missing: Vec<_> = about_her.difference(&org_rows).collect();
    assert!(
        missing.is_empty(),
        "rows about her not in her organisation's export: {missing:?}"
    );
}

async fn exports_are_for_oneself_or_admins_audited_and_limited(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    let (admin, femke, id) = traces(&app).await;

    // Her own, readable, in her language.
    let url = format!("{}/api/v1/me/export?format=text", app.address);
    let request = app.client.get(url).bearer_auth(&femke);
    let response = request
        .header("Accept-Language", "nl")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = response.text().await.unwrap();
    assert!(
        text.contains(&format!("Meeloop: alle gegevens over user:{id}")),
        "{text}"
    );
    assert!(
        text.contains("== Meeloopdagen (") && text.contains(FEMKE.0),
        "{text}"
    );

    // Another coordinator cannot read hers; a bad format is a clear 400.
    let kees = app.coordinator_token("kees@zwolle.example", "GM0193").await;
    let (status, _) = app
        .json_as(&format!("/api/v1/admin/users/{id}/export"), &kees)
        .await;
    assert_eq!(status, 403);
    let (status, problem) = app.json_as("/api/v1/me/export?format=pdf", &femke).await;
    assert_eq!(status, 400);
    assert!(
        problem["detail"].as_str().unwrap().contains("json or text"),
        "{problem}"
    );
    let (status, _) = app
        .json_as("/api/v1/admin/users/999999/export", &admin)
        .await;
    assert_eq!(status, 404);

    // Audited, naming whose data went out.
    let mut conn = app.db.pool.get().unwrap();
    let exports: Vec<(String, Option<String>)> =
        meeloop::dispatch!(&mut conn, c => audit_log::table
        .filter(audit_log::action.eq("privacy.exported"))
        .select((audit_log::actor, audit_log::subject))
        .load(c))
        .unwrap();
    assert_eq!(
        exports,
        [(format!("user:{id}"), Some(format!("user:{id}")))]
    );
    drop(conn);

    // Five at once, then a pause.
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(app.json_as("/api/v1/me/export", &femke).await.0);
    }
    assert_eq!(
        statuses,
        [200, 200, 200, 200, 429],
        "one export above, four more"
    );
}

async fn my_account_offers_my_data_and_admins_anyone_s(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    let (_, _, femke) = traces(&app).await;
    let web = crate::pages::Web::new(&app).logged_in(FEMKE.0).await;
    let page = web.get("/account").await;
    assert_eq!(page.status, 200);
    for text in [
        FEMKE.1,
        FEMKE.0,
        "Súdwest-Fryslân",
        "/account/export.txt",
        "/account/export.json",
        r#"aria-current="page">Mijn account"#,
    ] {
        assert!(page.body.contains(text), "{text} on {}", page.body);
    }
    let text = web.get("/account/export.txt").await;
    assert_eq!(text.status, 200);
    assert!(
        text.body
            .contains(&format!("alle gegevens over user:{femke}")),
        "{}",
        text.body
    );
    let json: Value = serde_json::from_str(&web.get("/account/export.json").await.body).unwrap();
    assert_eq!(json["tables"]["users"][0]["email"], FEMKE.0);
    assert_eq!(web.get("/account/export.pdf").await.status, 404);
    // Not an admin: nobody else's.
    assert_eq!(
        web.get(&format!("/admin/users/{femke}/export.json"))
            .await
            .status,
        403
    );

    let admin = crate::pages::Web::new(&app)
        .logged_in("beheer@meeloop.example")
        .await;
    let users = admin.get("/admin/users").await;
    assert!(users
        .body
        .contains(&format!("/admin/users/{femke}/export.txt")));
    let hers: Value = serde_json::from_str(
        &admin
            .get(&format!("/admin/users/{femke}/export.json"))
            .await
            .body,
    )
    .unwrap();
    assert_eq!(hers["subject"], format!("user:{femke}"));
    let frysl = app.organisation_id("GM1900").await;
    let org = admin
        .get(&format!("/admin/organisations/{frysl}/export.txt"))
        .await;
    assert_eq!(org.status, 200);
    assert!(org.body.contains(FEMKE.0));
    assert_eq!(admin.get("/admin/topics/1/export.json").await.status, 404);

    // Logged out: the login page first.
    let anonymous = crate::pages::Web::new(&app)
        .get("/account/export.json")
        .await;
    assert_eq!(anonymous.status, 303);
    assert!(anonymous.location().starts_with("/login"));
}

#[test]
fn the_export_from_the_command_line() {
    let db = jan_on_the_demo();
    let mut conn = db.pool.get().unwrap();
    let run = |args: &[&str]| crate::cli::meeloop(&db, args);

    let json: Value = serde_json::from_str(&crate::helpers::succeeded(&run(&[
        "privacy",
        "export",
        "--user",
        "Jan@Amsterdam.example",
    ])))
    .unwrap();
    assert_eq!(json["tables"]["users"][0]["name"], "Jan Jansen");
    let text = crate::helpers::succeeded(&run(&[
        "privacy",
        "export",
        "--user",
        "jan@amsterdam.example",
        "--format",
        "text",
        "--language",
        "en",
    ]));
    assert!(text.starts_with("Meeloop: all data about user:"), "{text}");
    assert!(
        text.contains("== Accounts (1) ==") && text.contains("name: Jan Jansen"),
        "{text}"
    );
    let org: Value = serde_json::from_str(&crate::helpers::succeeded(&run(&[
        "privacy",
        "export",
        "--organisation",
        "GM0363",
    ])))
    .unwrap();
    assert_eq!(org["tables"]["organisations"][0]["code"], "GM0363");
    assert!(org["tables"]["users"]
        .to_string()
        .contains("jan@amsterdam.example"));

    let unknown = run(&["privacy", "export", "--user", "niemand@amsterdam.example"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no account with the address"));
    let both = run(&[
        "privacy",
        "export",
        "--user",
        "a@b.example",
        "--organisation",
        "GM0363",
    ]);
    assert!(!both.status.success(), "one subject at a time");

    let actors: Vec<String> = meeloop::dispatch!(&mut conn, c => audit_log::table
        .filter(audit_log::action.eq("privacy.exported"))
        .select(audit_log::actor)
        .load(c))
    .unwrap();
    assert_eq!(actors, ["cli", "cli", "cli"]);
}

/// The texts that identify Femke, as erasure looks for them.
fn femke_needles() -> [String; 3] {
    [
        FEMKE.0.to_string(),
        FEMKE.1.to_lowercase(),
        meeloop::domain::search::fold(FEMKE.1),
    ]
}

/// Mail files (name or content) that mention one of `needles`.
fn files_mentioning(app: &TestApp, needles: &[String]) -> Vec<String> {
    let folder = app.db.data_dir.path().join("mail");
    let Ok(entries) = std::fs::read_dir(&folder) else {
        return Vec::new();
    };
    entries
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let text = format!(
                "{} {}",
                p.display(),
                String::from_utf8_lossy(&std::fs::read(p).unwrap())
            )
            .to_lowercase()
            .replace("=\r\n", "");
            needles.iter().any(|n| text.contains(&n.to_lowercase()))
        })
        .map(|p| p.display().to_string())
        .collect()
}

/// Cells of the database that mention one of `needles`.
fn cells_mentioning(app: &TestApp, needles: &[String]) -> Vec<crate::helpers::TextCell> {
    dump_texts(&mut app.db.pool.get().unwrap())
        .into_iter()
        .filter(|c| {
            let text = c.text.to_lowercase();
            needles.iter().any(|n| text.contains(&n.to_lowercase()))
        })
        .collect()
}

async fn waiting_mail(app: &TestApp) {
    // Sent or given up: a message being sent may not be on disk yet.
    crate::smtp::wait_until(StdDuration::from_secs(20), "the mail worker", || {
        crate::helpers::state_counts(&mut app.db.pool.get().unwrap())
            .iter()
            .all(|(state, _)| {
                use meeloop::domain::mail::MessageState::{Dead, Sent};
                matches!(state, Sent | Dead)
            })
    })
    .await;
}

async fn an_erased_person_is_gone_from_every_table_and_file_while_history_stays(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    meeloop::service::demo::load_history(&mut app.db.pool.get().unwrap()).unwrap();
    let (admin, femke_token, femke) = traces(&app).await;
    waiting_mail(&app).await;
    let needles = femke_needles();
    assert!(
        cells_mentioning(&app, &needles).len() >= 5,
        "she left traces"
    );
    assert!(
        !files_mentioning(&app, &needles).is_empty(),
        "and mail files"
    );
    // Her address is also her organisation's contact address.
    let frysl = app.organisation_id("GM1900").await;
    let (path, hers) = (
        format!("/api/v1/organisations/{frysl}"),
        json!({"contactEmail": FEMKE.0}),
    );
    let (status, _) = app
        .send(Method::PATCH, &path, Some(&admin), Some(hers))
        .await;
    assert_eq!(status, 200);
    let before = history(&app, &admin).await;

    // A slip of the keyboard erases nothing.
    let path = format!("/api/v1/admin/users/{femke}/erasure");
    let (status, problem) = app
        .post_as(&path, &admin, json!({"confirm": "femke@elders.example"}))
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("not_confirmed")),
        "{problem}"
    );
    assert!(
        problem["detail"].as_str().unwrap().contains("confirm"),
        "{problem}"
    );
    assert!(!cells_mentioning(&app, &needles).is_empty());

    let (status, erased) = app
        .post_as(&path, &admin, json!({"confirm": FEMKE.0.to_uppercase()}))
        .await;
    assert_eq!(status, 200, "{erased}");
    assert_eq!(erased["accounts"], 1);
    assert!(erased["texts"].as_u64().unwrap() >= 4, "{erased}");
    assert!(erased["mailFiles"].as_u64().unwrap() >= 1, "{erased}");

    let left = cells_mentioning(&app, &needles);
    assert!(left.is_empty(), "still in the database: {left:?}");
    let files = files_mentioning(&app, &needles);
    assert!(files.is_empty(), "still in mail files: {files:?}");
    assert_eq!(
        history(&app, &admin).await,
        before,
        "statistics, best in class and published lessons stay"
    );

    let mut conn = app.db.pool.get().unwrap();
    let contact: Option<String> =
        meeloop::dispatch!(&mut conn, c => meeloop::db::schema::organisations::table
        .find(frysl)
        .select(meeloop::db::schema::organisations::contact_email)
        .first(c))
        .unwrap();
    assert_eq!(contact, None, "the contact address that was hers is gone");
    drop(conn);

    // What is left says so, and works for no one.
    let (_, users) = app.json_as("/api/v1/admin/users?limit=100", &admin).await;
    let row = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == femke)
        .unwrap()
        .clone();
    assert_eq!(row["name"], "verwijderde gebruiker");
    assert_eq!(row["active"], false);
    let (status, _) = app.json_as("/api/v1/me", &femke_token).await;
    assert_eq!(status, 401, "her tokens ended");
    let (status, _) = app
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": FEMKE.0, "password": "a long enough password"})),
        )
        .await;
    assert_eq!(status, 401);
    let (status, visits) = app.json_as("/api/v1/visits?limit=100", &admin).await;
    assert_eq!(status, 200);
    assert!(
        visits.to_string().contains("verwijderde gebruiker"),
        "her visit stays, with the reason that named her"
    );

    // Audited, without whom.
    let mut conn = app.db.pool.get().unwrap();
    let entry: (Option<String>, String) = meeloop::dispatch!(&mut conn, c => audit_log::table
        .filter(audit_log::action.eq("privacy.erased"))
        .select((audit_log::subject, audit_log::details))
        .first(c))
    .unwrap();
    assert_eq!(entry.0, Some(format!("user:{femke}")));
    drop(conn);

    // Admins cannot erase themselves.
    let (_, me) = app.json_as("/api/v1/me", &admin).await;
    let (status, problem) = app
        .post_as(
            &format!("/api/v1/admin/users/{}/erasure", me["id"]),
            &admin,
            json!({"confirm": "beheer@meeloop.example"}),
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("own_account"))
    );
}

async fn erasure_from_the_admin_pages_asks_first_and_covers_an_organisation(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    let (_, _, femke) = traces(&app).await;
    waiting_mail(&app).await;
    let frysl = app.organisation_id("GM1900").await;
    let admin = crate::pages::Web::new(&app)
        .logged_in("beheer@meeloop.example")
        .await;

    let users = admin.get("/admin/users").await;
    assert!(users.body.contains(&format!("/admin/users/{femke}/erase")));
    let page = admin
        .get(&format!("/admin/organisations/{frysl}/erase"))
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Súdwest-Fryslân (GM1900)") && page.body.contains("Typ de code"),
        "{}",
        page.body
    );
    let csrf = crate::pages::hidden(&page.body, "csrf");
    let wrong = admin
        .post(
            &format!("/admin/organisations/{frysl}/erase"),
            &[("csrf", csrf.clone()), ("confirm", "GM0193".into())],
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("er is niets gewist"), "{}", wrong.body);
    assert!(!cells_mentioning(&app, &femke_needles()).is_empty());
    let done = admin
        .post(
            &format!("/admin/organisations/{frysl}/erase"),
            &[("csrf", csrf), ("confirm", "gm1900".into())],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Gewist"));

    // Every account of the organisation and its contact address are gone;
    // the organisation stays in the directory.
    let left = cells_mentioning(&app, &femke_needles());
    assert!(left.is_empty(), "{left:?}");
    let mut conn = app.db.pool.get().unwrap();
    let (contact, active): (Option<String>, bool) = meeloop::dispatch!(&mut conn, c => meeloop::db::schema::organisations::table
        .find(frysl)
        .select((meeloop::db::schema::organisations::contact_email, meeloop::db::schema::organisations::active))
        .first(c))
    .unwrap();
    assert_eq!((contact, active), (None, true));
    let names: Vec<String> = meeloop::dispatch!(&mut conn, c => meeloop::db::schema::users::table
        .filter(meeloop::db::schema::users::organisation_id.eq(frysl))
        .select(meeloop::db::schema::users::name)
        .load(c))
    .unwrap();
    assert!(
        !names.is_empty() && names.iter().all(|n| n == "verwijderde gebruiker"),
        "{names:?}"
    );
    // A coordinator does not get the page.
    let kees = crate::pages::Web::new(&app);
    app.coordinator_token("kees@zwolle.example", "GM0193").await;
    let kees = kees.logged_in("kees@zwolle.example").await;
    assert_eq!(
        kees.get(&format!("/admin/users/{femke}/erase"))
            .await
            .status,
        403
    );
}

#[test]
fn erasure_from_the_command_line() {
    let db = jan_on_the_demo();
    let mut conn = db.pool.get().unwrap();
    let run = |args: &[&str]| crate::cli::meeloop(&db, args);
    let asked = run(&["privacy", "erase", "--user", "jan@amsterdam.example"]);
    assert!(!asked.status.success(), "no terminal to confirm on");
    assert!(String::from_utf8_lossy(&asked.stderr).contains("add --yes"));
    let done = crate::helpers::succeeded(&run(&[
        "privacy",
        "erase",
        "--user",
        "jan@amsterdam.example",
        "--yes",
    ]));
    assert!(done.contains("1 account(s) made anonymous"), "{done}");
    let names: Vec<String> = meeloop::dispatch!(&mut conn, c => meeloop::db::schema::users::table
        .select(meeloop::db::schema::users::name)
        .load(c))
    .unwrap();
    assert!(!names.iter().any(|n| n.contains("Jan Jansen")));
    let gone = run(&[
        "privacy",
        "erase",
        "--user",
        "jan@amsterdam.example",
        "--yes",
    ]);
    assert!(
        String::from_utf8_lossy(&gone.stderr).contains("no account with the address"),
        "the address is gone too"
    );
}

/// Statistics, best in class and the published lessons, as an admin reads them.
async fn history(app: &TestApp, admin: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    for path in [
        "/api/v1/stats",
        "/api/v1/topics/cloud-migration/leaders",
        "/api/v1/lessons?limit=100",
    ] {
        let (status, body) = app.json_as(path, admin).await;
        assert_eq!(status, 200, "{path}: {body}");
        seen.push(body);
    }
    seen
}

/// The demo directory on SQLite, with Jan Jansen coordinating for Amsterdam.
fn jan_on_the_demo() -> crate::helpers::TestDb {
    let db = crate::helpers::test_db(Backend::Sqlite);
    db.migrate();
    let mut conn = db.pool.get().unwrap();
    meeloop::service::demo::load(&mut conn).unwrap();
    let jan = meeloop::service::accounts::NewAccount {
        email: "jan@amsterdam.example".into(),
        name: "Jan Jansen".into(),
        role: Role::Coordinator,
        organisation: Some("GM0363".into()),
        password: meeloop::domain::account::Password::parse("a long enough password").unwrap(),
    };
    meeloop::service::accounts::create_user(&mut conn, &jan).unwrap();
    drop(conn);
    db
}
