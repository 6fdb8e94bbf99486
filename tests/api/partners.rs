//! Partner clients: client credentials, scopes, audiences, revocation.

use meeloop::domain::partner::Scopes;
use meeloop::service::partners::{create_partner, revoke_partner};
use reqwest::Method;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{spawn_demo_app, Backend, TestApp};

backend_tests!(
    client_credentials_give_a_scoped_token,
    bad_credentials_and_requests_are_refused,
    login_and_partner_tokens_are_not_interchangeable,
    revoking_a_partner_stops_its_tokens,
);

fn new_partner(app: &TestApp, scopes: &str) -> (String, String) {
    let (partner, secret) = create_partner(
        &mut app.db.pool.get().unwrap(),
        "VNG Realisatie",
        Scopes::parse(scopes).unwrap(),
        None,
    )
    .unwrap();
    (partner.client_id, secret)
}

async fn token_json(app: &TestApp, body: Value) -> (u16, Value) {
    app.send(Method::POST, "/api/v1/auth/token", None, Some(body))
        .await
}

async fn client_credentials_give_a_scoped_token(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    let (client_id, secret) = new_partner(&app, "stats:read,organisations:read");

    let (status, body) = token_json(
        &app,
        json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["scope"], "organisations:read stats:read");
    let token = body["access_token"].as_str().unwrap();
    let (status, me) = app
        .send(Method::GET, "/api/v1/partner", Some(token), None)
        .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["clientId"], client_id.as_str());
    assert_eq!(me["scopes"], json!(["organisations:read", "stats:read"]));

    // Form-encoded, as OAuth2 clients send it, asking for less.
    let response = app
        .client
        .post(format!("{}/api/v1/auth/token", app.address))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("grant_type=client_credentials&client_id={client_id}&client_secret={secret}&scope=stats%3Aread"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["scope"], "stats:read");
    let (_, me) = app
        .send(
            Method::GET,
            "/api/v1/partner",
            body["access_token"].as_str(),
            None,
        )
        .await;
    assert_eq!(me["scopes"], json!(["stats:read"]));

    // Only a hash of the secret is stored, and it is in no log.
    let hash = meeloop::db::partners::find_with_secret(&mut app.db.pool.get().unwrap(), &client_id)
        .unwrap()
        .unwrap()
        .secret_hash;
    assert!(hash.starts_with("$argon2id$"));
    assert!(!hash.contains(&secret));
    let admin = app.admin_token("beheer@meeloop.example").await;
    let response = app.get_as("/api/v1/admin/audit?limit=100", &admin).await;
    let audit = response.text().await.unwrap();
    assert!(audit.contains("token.issued") && audit.contains("partner.created"));
    assert!(!audit.contains(&secret));
}

async fn bad_credentials_and_requests_are_refused(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    let (client_id, secret) = new_partner(&app, "organisations:read");
    let wrong_secret = token_json(
        &app,
        json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": "mps_wrong"}),
    )
    .await;
    let unknown_client = token_json(
        &app,
        json!({"grant_type": "client_credentials", "client_id": "mp_nobody", "client_secret": secret}),
    )
    .await;
    assert_eq!(wrong_secret.0, 401);
    assert_eq!(
        wrong_secret, unknown_client,
        "the answer does not say which part was wrong"
    );

    let (status, body) = token_json(
        &app,
        json!({"grant_type": "password", "client_id": client_id, "client_secret": secret}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (status, body) = token_json(
        &app,
        json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, "scope": "lessons:read"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["detail"].as_str().unwrap().contains("lessons:read"),
        "{body}"
    );
    let (status, body) = token_json(
        &app,
        json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, "scope": null}),
    )
    .await;
    assert_eq!(
        status, 400,
        "scope may be left out but is never null: {body}"
    );
    let (status, body) = token_json(
        &app,
        json!({"grant_type": "client_credentials", "client_id": client_id}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["detail"].as_str().unwrap().contains("client_secret"),
        "{body}"
    );
}

async fn login_and_partner_tokens_are_not_interchangeable(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    let (client_id, secret) = new_partner(&app, "organisations:read");
    let (_, body) = token_json(
        &app,
        json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}),
    )
    .await;
    let partner_token = body["access_token"].as_str().unwrap().to_string();
    let login_token = app.coordinator_token("anne@zwolle.example", "GM0193").await;

    assert_eq!(
        app.send(Method::GET, "/api/v1/me", Some(&partner_token), None)
            .await
            .0,
        401
    );
    let zwolle = app.organisation_id("GM0193").await;
    let (status, _) = app
        .send(
            Method::PATCH,
            &format!("/api/v1/organisations/{zwolle}"),
            Some(&partner_token),
            Some(json!({"size": 1})),
        )
        .await;
    assert_eq!(status, 401, "partners never write");
    assert_eq!(
        app.send(Method::GET, "/api/v1/partner", Some(&login_token), None)
            .await
            .0,
        401
    );
    assert_eq!(
        app.send(Method::GET, "/api/v1/partner", Some(&partner_token), None)
            .await
            .0,
        200
    );
}

async fn revoking_a_partner_stops_its_tokens(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    let (client_id, secret) = new_partner(&app, "organisations:read");
    let request = json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret});
    let (_, body) = token_json(&app, request.clone()).await;
    let token = body["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        app.send(Method::GET, "/api/v1/partner", Some(&token), None)
            .await
            .0,
        200
    );

    revoke_partner(&mut app.db.pool.get().unwrap(), &client_id).unwrap();
    assert_eq!(
        app.send(Method::GET, "/api/v1/partner", Some(&token), None)
            .await
            .0,
        401
    );
    assert_eq!(token_json(&app, request).await.0, 401);
    assert!(
        revoke_partner(&mut app.db.pool.get().unwrap(), &client_id).is_err(),
        "already revoked"
    );
}
