//! Sessions a person controls: every login is listed, one or all others
//! can be ended, and a browser session ends after a while without use.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{spawn_app_with, Backend, TestApp};
use crate::pages::{hidden, Web};

backend_tests!(
    a_person_lists_and_ends_their_sessions,
    an_unused_browser_session_ends_and_an_api_token_does_not,
);

const ANNE: &str = "anne@sudwestfryslan.example";

async fn sessions(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, list) = app.json_as("/api/v1/me/sessions", token).await;
    assert_eq!(status, 200, "{list}");
    list["items"].as_array().unwrap().clone()
}

async fn a_person_lists_and_ends_their_sessions(backend: Backend) {
    let app = spawn_app_with(backend, |f| f).await;
    meeloop::service::demo::load(&mut app.db.pool.get().unwrap()).unwrap();
    let token = app.coordinator_token(ANNE, "GM1900").await;
    let other = app.coordinator_token("bram@zwolle.example", "GM0193").await;
    let laptop = Web::new(&app).logged_in(ANNE).await;
    let phone = Web::new(&app).logged_in(ANNE).await;

    // Three: the API token (this request's) and two browsers.
    let listed = sessions(&app, &token).await;
    assert_eq!(listed.len(), 3, "{listed:?}");
    let current: Vec<&Value> = listed.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["kind"], "api");
    assert_eq!(
        listed.iter().filter(|s| s["kind"] == "web").count(),
        2,
        "{listed:?}"
    );
    assert!(listed
        .iter()
        .all(|s| s["address"] == "127.0.0.1" && s["device"].is_string()));

    // The page shows them too, this browser's marked.
    let page = laptop.get("/account/sessions").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body.matches("/end\"").count(), 3, "{}", page.body);
    assert!(page.body.contains("(deze sessie)"), "{}", page.body);

    // Someone else's session, or one that does not exist: 404, nothing ends.
    let bram = sessions(&app, &other).await;
    let (status, problem) = app
        .send(
            Method::DELETE,
            &format!("/api/v1/me/sessions/{}", bram[0]["id"]),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 404, "{problem}");
    assert_eq!(problem["code"], "unknown_session");
    assert_eq!(app.json_as("/api/v1/me", &other).await.0, 200);

    // "End all others" on the laptop: the phone and the token end.
    let csrf = hidden(&page.body, "csrf");
    let r = laptop
        .post("/account/sessions/end-others", &[("csrf", csrf.clone())])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/account/sessions?ended=2");
    assert_eq!(phone.get("/dashboard").await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.json_as("/api/v1/me", &token).await.0, 401);
    assert_eq!(laptop.get("/dashboard").await.status, StatusCode::OK);

    // A new API token ends the laptop's session over the API.
    let fresh = app
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(serde_json::json!({"email": ANNE, "password": "a long enough password"})),
        )
        .await
        .1["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let listed = sessions(&app, &fresh).await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    let web = listed.iter().find(|s| s["kind"] == "web").unwrap();
    let path = format!("/api/v1/me/sessions/{}", web["id"]);
    assert_eq!(
        app.send(Method::DELETE, &path, Some(&fresh), None).await.0,
        204
    );
    assert_eq!(laptop.get("/dashboard").await.status, StatusCode::SEE_OTHER);
    let (status, problem) = app.send(Method::DELETE, &path, Some(&fresh), None).await;
    assert_eq!(status, 404, "ended already: {problem}");

    // Logging out in one browser leaves the other logged in.
    let one = Web::new(&app).logged_in(ANNE).await;
    let two = Web::new(&app).logged_in(ANNE).await;
    let csrf = one.csrf_on("/dashboard").await;
    let r = one.post("/logout", &[("csrf", csrf)]).await;
    assert_eq!(r.location(), "/login?out=1");
    assert_eq!(one.get("/dashboard").await.status, StatusCode::SEE_OTHER);
    assert_eq!(two.get("/dashboard").await.status, StatusCode::OK);
    // The API's logout ends them all.
    assert_eq!(
        app.send(Method::POST, "/api/v1/auth/logout", Some(&fresh), None)
            .await
            .0,
        204
    );
    assert_eq!(two.get("/dashboard").await.status, StatusCode::SEE_OTHER);
    let (_, audit) = app
        .json_as(
            "/api/v1/admin/audit?limit=100",
            &app.admin_token("beheer@meeloop.example").await,
        )
        .await;
    assert!(audit.to_string().contains("sessions.ended"), "{audit}");
}

/// Moves a session's last use back, as if it had not been used since.
fn unused_for(app: &TestApp, minutes: i64) {
    use diesel::RunQueryDsl;
    let mut conn = app.db.pool.get().unwrap();
    let at = meeloop::db::now() - chrono::Duration::minutes(minutes);
    let sql = match &conn {
        meeloop::db::DbConn::Sqlite(_) => "UPDATE sessions SET last_seen_at = ?",
        meeloop::db::DbConn::Pg(_) => "UPDATE sessions SET last_seen_at = $1",
    };
    meeloop::dispatch!(&mut conn, c => diesel::sql_query(sql)
        .bind::<diesel::sql_types::Timestamp, _>(at)
        .execute(c))
    .unwrap();
}

async fn an_unused_browser_session_ends_and_an_api_token_does_not(backend: Backend) {
    // Every request asks the database, so a change made here is seen.
    let app = spawn_app_with(backend, |f| {
        f.merge(("database.max_staleness_ms", 0))
            .merge(("auth.idle_timeout_minutes", 30))
    })
    .await;
    meeloop::service::demo::load(&mut app.db.pool.get().unwrap()).unwrap();
    let token = app.coordinator_token(ANNE, "GM1900").await;
    let browser = Web::new(&app).logged_in(ANNE).await;

    unused_for(&app, 29);
    assert_eq!(browser.get("/dashboard").await.status, StatusCode::OK);
    // That use was written down: another 29 minutes later it still works.
    let listed = sessions(&app, &token).await;
    let web = listed.iter().find(|s| s["kind"] == "web").unwrap();
    let seen: chrono::DateTime<chrono::Utc> = web["lastSeenAt"].as_str().unwrap().parse().unwrap();
    assert!(
        chrono::Utc::now() - seen < chrono::Duration::minutes(1),
        "{web}"
    );

    unused_for(&app, 31);
    let r = browser.get("/dashboard").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "idle: to the login page");
    assert!(r.location().starts_with("/login"));
    assert_eq!(
        app.json_as("/api/v1/me", &token).await.0,
        200,
        "an API token has no idle timeout"
    );
    let listed = sessions(&app, &token).await;
    assert_eq!(listed.len(), 1, "the idle one is not listed: {listed:?}");
}
