//! Municipal mergers (docs/import.md): everything of the old municipality
//! moves to the new one, the old code answers sensibly, matching sees one
//! organisation, and a CBS list that lacks codes says so.

use diesel::prelude::*;
use meeloop::db::schema::{expertise, lessons, link_tokens, organisations, users, visits};
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::schedule::{keyed, queued};
use crate::visits::{coordinator, demo_app};

backend_tests!(
    a_merger_moves_everything_and_the_old_code_answers_sensibly,
    a_merger_from_the_admin_page,
    a_cbs_list_without_a_code_reports_it,
);

/// How many rows of each table point at `org`.
fn pointing_at(app: &TestApp, org: i64) -> [i64; 5] {
    let mut conn = app.db.pool.get().unwrap();
    let c = &mut conn;
    [
        meeloop::dispatch!(c, x => expertise::table.filter(expertise::organisation_id.eq(org)).count().get_result(x)).unwrap(),
        meeloop::dispatch!(c, x => visits::table.filter(visits::host_id.eq(org).or(visits::requester_id.eq(org))).count().get_result(x)).unwrap(),
        meeloop::dispatch!(c, x => lessons::table.filter(lessons::host_id.eq(org).or(lessons::organisation_id.eq(org))).count().get_result(x)).unwrap(),
        meeloop::dispatch!(c, x => users::table.filter(users::organisation_id.eq(org)).count().get_result(x)).unwrap(),
        meeloop::dispatch!(c, x => link_tokens::table.filter(link_tokens::organisation_id.eq(org)).count().get_result(x)).unwrap(),
    ]
}

async fn a_merger_moves_everything_and_the_old_code_answers_sensibly(backend: Backend) {
    let app = demo_app(backend).await;
    meeloop::service::demo::load_history(&mut app.db.pool.get().unwrap()).unwrap();
    let admin = app.admin_token("beheer@meeloop.example").await;
    let (zwolle, utrecht) = (
        app.organisation_id("GM0193").await,
        app.organisation_id("GM0344").await,
    );
    // Zwolle has expertise, held visits with lessons, a coordinator, and an
    // open request whose invitation link is in an email already.
    let anne = coordinator(&app, "anne@sudwestfryslan.example", "GM1900");
    coordinator(&app, "bram@zwolle.example", "GM0193");
    let open = crate::schedule::ask(
        &app,
        &anne,
        "cloud-migration",
        &crate::visits::working_days_ahead(3),
    )
    .await;
    let before = pointing_at(&app, zwolle);
    assert!(
        before.iter().all(|n| *n > 0),
        "Zwolle has something of every kind: {before:?}"
    );
    let utrecht_before = pointing_at(&app, utrecht);
    let (_, leaders_before) = app
        .json_as("/api/v1/topics/cloud-migration/leaders", &admin)
        .await;
    let lessons_of = |leaders: &Value, name: &str| -> i64 {
        leaders["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["organisation"]["name"] == name)
            .map(|l| l["ratedVisits"].as_i64().unwrap())
            .sum()
    };

    assert!(
        lessons_of(&leaders_before, "Zwolle") > 0,
        "Zwolle's visitors rated it: {leaders_before}"
    );
    let merge = format!("/api/v1/admin/organisations/{zwolle}/merge");
    let (status, merged) = app.post_as(&merge, &admin, json!({"into": "gm0344"})).await;
    assert_eq!(status, 200, "{merged}");
    assert_eq!(merged["intoId"], utrecht);
    assert_eq!(merged["accounts"], before[3]);

    // Nothing points at Zwolle any more; Utrecht has it all.
    assert_eq!(pointing_at(&app, zwolle), [0; 5]);
    let after = pointing_at(&app, utrecht);
    // Topics both knew are combined into one entry; the rest adds up.
    assert_eq!(merged["expertise"], before[0]);
    assert!(
        after[0] >= utrecht_before[0].max(before[0]),
        "{utrecht_before:?} + {before:?} -> {after:?}"
    );
    for i in 1..5 {
        assert_eq!(
            after[i],
            utrecht_before[i] + before[i],
            "kind {i}: {utrecht_before:?} + {before:?} -> {after:?}"
        );
    }
    let mut conn = app.db.pool.get().unwrap();
    let (active, into): (bool, Option<i64>) =
        meeloop::dispatch!(&mut conn, c => organisations::table
        .find(zwolle)
        .select((organisations::active, organisations::merged_into))
        .first(c))
        .unwrap();
    assert_eq!((active, into), (false, Some(utrecht)));
    drop(conn);

    // The old code answers, and says where to go.
    let (status, problem) = app
        .json_as(&format!("/api/v1/organisations/{zwolle}"), &admin)
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (404, Some("merged")),
        "{problem}"
    );
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("Utrecht") && detail.contains(&format!("/organisations/{utrecht}")),
        "{detail}"
    );
    // The link in the email already sent still works, now for Utrecht.
    let mail = queued(&app);
    let body = &keyed(&mail, &format!("invitation:{}", open.id))
        .expect("invitation queued")
        .body_text;
    let at = body.find("/invitations/").unwrap();
    let link = body[at..].split_whitespace().next().unwrap();
    let page = app.get(link).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Utrecht"));
    // Bram coordinates for Utrecht now.
    let bram = app
        .token_for(
            "bram2@zwolle.example",
            meeloop::domain::account::Role::Coordinator,
            Some("GM0344"),
        )
        .await;
    let (_, me) = app.json_as("/api/v1/me", &bram).await;
    assert_eq!(me["organisation"]["id"], utrecht);

    // Matching sees one organisation, and Utrecht carries Zwolle's lessons.
    let frysl = app.organisation_id("GM1900").await;
    let (status, matches) = app
        .json_as(
            &format!("/api/v1/matches?topic=cloud-migration&organisation={frysl}&limit=50"),
            &admin,
        )
        .await;
    assert_eq!(status, 200, "{matches}");
    let names = matches.to_string();
    assert!(
        names.contains("Utrecht") && !names.contains("Zwolle"),
        "{names}"
    );
    let (_, leaders_after) = app
        .json_as("/api/v1/topics/cloud-migration/leaders", &admin)
        .await;
    assert_eq!(
        lessons_of(&leaders_after, "Utrecht"),
        lessons_of(&leaders_before, "Utrecht") + lessons_of(&leaders_before, "Zwolle"),
        "{leaders_before} -> {leaders_after}"
    );

    // Once, between two different active organisations; audited.
    let (status, again) = app.post_as(&merge, &admin, json!({"into": "GM0344"})).await;
    assert_eq!(
        (status, again["code"].as_str()),
        (409, Some("cannot_merge")),
        "{again}"
    );
    // Into itself, or into a code nobody has.
    let utrecht_merge = format!("/api/v1/admin/organisations/{utrecht}/merge");
    for (into, status, code) in [
        ("GM0344", 409, "cannot_merge"),
        ("GM9999", 404, "unknown_organisation_code"),
    ] {
        let (got, problem) = app
            .post_as(&utrecht_merge, &admin, json!({ "into": into }))
            .await;
        assert_eq!(
            (got, problem["code"].as_str()),
            (status, Some(code)),
            "{problem}"
        );
    }
    let (_, audit) = app.json_as("/api/v1/admin/audit?limit=100", &admin).await;
    assert!(audit.to_string().contains("organisation.merged"));
}

async fn a_cbs_list_without_a_code_reports_it(backend: Backend) {
    let app = demo_app(backend).await;
    let admin = app.admin_token("beheer@meeloop.example").await;
    let (status, _) = app
        .post_as(
            "/api/v1/admin/organisations",
            &admin,
            json!({"code": "GM9990", "kind": "municipality", "name": "Oudgemeente", "size": 9000, "latitude": 53.0, "longitude": 6.0}),
        )
        .await;
    assert_eq!(status, 201);
    let csv = std::fs::read(crate::helpers::municipalities_csv()).unwrap();
    let report = app.import(&csv, false);
    assert!(report.applied);
    assert_eq!(
        report.missing,
        [("GM9990".to_string(), "Oudgemeente".to_string())]
    );
    // Reported, not deleted.
    let id = app.organisation_id_by_name("Oudgemeente", "GM9990").await;
    let (status, _) = app
        .json_as(&format!("/api/v1/organisations/{id}"), &admin)
        .await;
    assert_eq!(status, 200);
}

#[test]
fn a_merger_from_the_command_line() {
    let db = crate::helpers::test_db(Backend::Sqlite);
    db.migrate();
    meeloop::service::demo::load(&mut db.pool.get().unwrap()).unwrap();
    let out = crate::helpers::succeeded(&crate::cli::meeloop(
        &db,
        &["organisations", "merge", "GM0193", "GM0344"],
    ));
    assert!(
        out.starts_with("Merged Zwolle (GM0193) into Utrecht (GM0344):"),
        "{out}"
    );
    let again = crate::cli::meeloop(&db, &["organisations", "merge", "GM0193", "GM0344"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("merged already"));
}

async fn a_merger_from_the_admin_page(backend: Backend) {
    let app = demo_app(backend).await;
    app.admin_token("beheer@meeloop.example").await;
    let admin = crate::pages::Web::new(&app)
        .logged_in("beheer@meeloop.example")
        .await;
    let page = admin.get("/admin/organisations").await;
    assert!(page
        .body
        .contains("Samenvoegen (gemeentelijke herindeling)"));
    let csrf = crate::pages::hidden(&page.body, "csrf");
    let form = |old: &str| {
        [
            ("csrf", csrf.clone()),
            ("old", old.to_string()),
            ("new", "GM0344".to_string()),
        ]
    };
    let done = admin
        .post("/admin/organisations/merge", &form("gm0193"))
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.body
            .contains("Zwolle (GM0193) is opgegaan in Utrecht (GM0344)"),
        "{}",
        done.body
    );
    let again = admin
        .post("/admin/organisations/merge", &form("GM0193"))
        .await;
    assert_eq!(again.status, 409);
    assert!(again.body.contains("al samengevoegd"), "{}", again.body);
    let unknown = admin
        .post("/admin/organisations/merge", &form("GM9999"))
        .await;
    assert!(unknown.body.contains("GM9999"), "{}", unknown.body);
}
