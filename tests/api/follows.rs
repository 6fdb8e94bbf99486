//! Following topics (issue 22): by the API and on the account page, each
//! person their own; in their export, and gone with their erasure.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::pages::{hidden, Web};
use crate::visits::{coordinator, demo_app};

backend_tests!(
    coordinators_follow_topics_and_see_only_their_own,
    the_account_page_follows_the_checked_topics,
    an_erasure_ends_what_a_person_followed,
    the_unsubscribe_link_acts_on_post_only_and_once,
);

async fn followed(app: &TestApp, token: &str) -> Vec<String> {
    let (status, list) = app.json_as("/api/v1/me/topics", token).await;
    assert_eq!(status, 200, "{list}");
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["topic"]["slug"].as_str().unwrap().to_string())
        .collect()
}

async fn put(app: &TestApp, token: &str, slug: &str) -> (u16, Value) {
    app.send(
        Method::PUT,
        &format!("/api/v1/me/topics/{slug}"),
        Some(token),
        None,
    )
    .await
}

async fn coordinators_follow_topics_and_see_only_their_own(backend: Backend) {
    let app = demo_app(backend).await;
    let anne = app
        .coordinator_token("anne2@sudwestfryslan.example", "GM1900")
        .await;
    let piet = app.coordinator_token("piet@zwolle.example", "GM0193").await;
    assert!(followed(&app, &anne).await.is_empty());

    for _ in 0..2 {
        assert_eq!(
            put(&app, &anne, "cloud-migration").await.0,
            204,
            "twice is once"
        );
    }
    assert_eq!(put(&app, &anne, "privacy").await.0, 204);
    assert_eq!(followed(&app, &anne).await, ["cloud-migration", "privacy"]);
    let (_, list) = app.json_as("/api/v1/me/topics", &anne).await;
    let first = &list["items"][0];
    assert_eq!(first["topic"]["nameNl"], "Migratie naar de cloud");
    assert!(first["since"].as_str().unwrap().ends_with('Z'), "{first}");
    assert!(followed(&app, &piet).await.is_empty(), "nobody else's");

    for _ in 0..2 {
        let (status, _) = app
            .send(
                Method::DELETE,
                "/api/v1/me/topics/privacy",
                Some(&anne),
                None,
            )
            .await;
        assert_eq!(status, 204);
    }
    assert_eq!(followed(&app, &anne).await, ["cloud-migration"]);

    let (status, problem) = put(&app, &anne, "no-such-topic").await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (404, Some("unknown_topic")),
        "{problem}"
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("no-such-topic"),
        "{problem}"
    );
    let (status, problem) = put(&app, &anne, "Not%20a%20slug").await;
    assert_eq!(status, 400, "{problem}");
    let anonymous = app
        .client
        .put(format!("{}/api/v1/me/topics/privacy", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        followed(&app, &anne).await,
        ["cloud-migration"],
        "nothing lost"
    );
}

async fn the_account_page_follows_the_checked_topics(backend: Backend) {
    let app = demo_app(backend).await;
    coordinator(&app, "anne@sudwestfryslan.example", "GM1900");
    let anne = Web::new(&app)
        .logged_in("anne@sudwestfryslan.example")
        .await;
    let account = anne.get("/account").await;
    assert!(account.body.contains(r#"href="/account/topics""#));
    let page = anne.get("/account/topics").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(r#"value="cloud-migration">"#),
        "unchecked at first"
    );
    let csrf = hidden(&page.body, "csrf");

    let form = |topics: &[&str]| {
        let mut form = vec![("csrf", csrf.clone())];
        form.extend(topics.iter().map(|t| ("topic", t.to_string())));
        form
    };
    let saved = anne
        .post("/account/topics", &form(&["cloud-migration", "privacy"]))
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let page = anne.get("/account/topics?saved=1").await;
    assert!(page.body.contains("Opgeslagen."));
    assert!(
        page.body.contains(r#"value="cloud-migration" checked>"#),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"value="privacy" checked>"#));

    // Unchecking one leaves the other; a made-up topic saves nothing.
    let saved = anne.post("/account/topics", &form(&["privacy"])).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let bad = anne
        .post("/account/topics", &form(&["no-such-topic"]))
        .await;
    assert_eq!(bad.status, StatusCode::NOT_FOUND, "{}", bad.body);
    let page = anne.get("/account/topics").await;
    assert!(page.body.contains(r#"value="cloud-migration">"#));
    assert!(page.body.contains(r#"value="privacy" checked>"#));
    // A form from elsewhere (no token of this session) changes nothing.
    let forged = anne
        .post("/account/topics", &[("csrf", "forged".to_string())])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(anne
        .get("/account/topics")
        .await
        .body
        .contains(r#"value="privacy" checked>"#));
}

async fn an_erasure_ends_what_a_person_followed(backend: Backend) {
    let app = demo_app(backend).await;
    let anne = app
        .coordinator_token("anne2@sudwestfryslan.example", "GM1900")
        .await;
    assert_eq!(put(&app, &anne, "cloud-migration").await.0, 204);
    let (_, me) = app.json_as("/api/v1/me", &anne).await;
    // A digest she had last month.
    let user = meeloop::domain::account::UserId(me["id"].as_i64().unwrap());
    meeloop::db::digests::claim(
        &mut app.db.pool.get().unwrap(),
        user,
        "2026-11",
        meeloop::db::now(),
    )
    .unwrap();
    let (status, export) = app.json_as("/api/v1/me/export", &anne).await;
    assert_eq!(status, 200);
    for table in ["topic_follows", "digests"] {
        let rows = export["tables"][table].as_array().unwrap();
        assert_eq!(
            rows.len(),
            1,
            "in the person's own export: {table} {rows:?}"
        );
    }

    let admin = app.admin_token("beheer@meeloop.example").await;
    let (status, erased) = app
        .post_as(
            &format!("/api/v1/admin/users/{}/erasure", me["id"]),
            &admin,
            json!({"confirm": "anne2@sudwestfryslan.example"}),
        )
        .await;
    assert_eq!(status, 200, "{erased}");
    let (status, export) = app
        .json_as(&format!("/api/v1/admin/users/{}/export", me["id"]), &admin)
        .await;
    assert_eq!(status, 200, "{export}");
    for table in ["topic_follows", "digests"] {
        assert!(
            export["tables"][table].is_null()
                || export["tables"][table].as_array().unwrap().is_empty(),
            "{table}: {}",
            export["tables"]
        );
    }
}

/// The digest's one-click link (RFC 8058): what a mail scanner fetches
/// changes nothing; the mail program's POST (or the page's button) ends
/// every follow, once: a second POST leaves topics followed since alone.
async fn the_unsubscribe_link_acts_on_post_only_and_once(backend: Backend) {
    let app = demo_app(backend).await;
    let anne = app
        .coordinator_token("anne2@sudwestfryslan.example", "GM1900")
        .await;
    assert_eq!(put(&app, &anne, "cloud-migration").await.0, 204);
    assert_eq!(put(&app, &anne, "privacy").await.0, 204);
    let (_, me) = app.json_as("/api/v1/me", &anne).await;
    let user = meeloop::domain::account::UserId(me["id"].as_i64().unwrap());
    let link_made = |app: &TestApp, days_ago: i64| {
        let mut conn = app.db.pool.get().unwrap();
        meeloop::service::follows::unsubscribe_link(
            &mut conn,
            user,
            &app.address,
            chrono::Utc::now().naive_utc() - chrono::Duration::days(days_ago),
        )
        .unwrap()
    };
    let link = |app: &TestApp| link_made(app, 0);
    let first = link(&app);
    assert!(first.starts_with(&format!("{}/unsubscribe/", app.address)));

    // Scanners: GET and HEAD, as often as they like.
    for _ in 0..2 {
        let page = app.client.get(&first).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let body = page.text().await.unwrap();
        assert!(body.contains(r#"<form method="post""#), "{body}");
        assert_eq!(app.client.head(&first).send().await.unwrap().status(), 200);
    }
    assert_eq!(
        followed(&app, &anne).await.len(),
        2,
        "a GET changed nothing"
    );

    // The mail program's one click.
    let click = |url: String| {
        app.client
            .post(url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
    };
    let done = click(first.clone()).await.unwrap();
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("Afgemeld"));
    assert!(followed(&app, &anne).await.is_empty());

    // Following again later; the used link cannot undo that.
    assert_eq!(put(&app, &anne, "privacy").await.0, 204);
    assert_eq!(click(first.clone()).await.unwrap().status(), 200);
    assert_eq!(followed(&app, &anne).await, ["privacy"], "used once only");
    let page = app
        .client
        .get(&first)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Afgemeld") && !page.contains(r#"<form method="post""#));

    // A fresh link from the next digest works; made-up and mangled ones do not.
    assert_eq!(click(link(&app)).await.unwrap().status(), 200);
    assert!(followed(&app, &anne).await.is_empty());
    let made_up = format!("{}/unsubscribe/{}", app.address, "A".repeat(43));
    assert_eq!(click(made_up.clone()).await.unwrap().status(), 404);
    assert_eq!(app.client.get(&made_up).send().await.unwrap().status(), 404);
    let mangled = format!("{}/unsubscribe/not-a-token", app.address);
    assert_eq!(click(mangled).await.unwrap().status(), 404);

    // A link works for a year; then it is as good as unknown.
    assert_eq!(put(&app, &anne, "privacy").await.0, 204);
    let old = link_made(&app, 366);
    assert_eq!(app.client.get(&old).send().await.unwrap().status(), 404);
    assert_eq!(click(old).await.unwrap().status(), 404);
    assert_eq!(followed(&app, &anne).await, ["privacy"]);
    let nearly = link_made(&app, 364);
    assert_eq!(app.client.get(&nearly).send().await.unwrap().status(), 200);
}
