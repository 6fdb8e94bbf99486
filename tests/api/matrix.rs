//! Every route × every kind of caller, with the status each must get.
//! The routes are read from the OpenAPI document: a route without a row
//! here (or a row for a route that is gone) fails the test.

use std::collections::BTreeSet;

use meeloop::domain::account::Role;
use meeloop::domain::partner::Scopes;
use reqwest::Method;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{give_up_message, queued, spawn_app_with, Backend, TestApp};

backend_tests!(
    every_route_answers_every_caller_as_documented,
    every_documented_query_parameter_is_accepted,
);

/// Expected status for: anonymous, coordinator of the resource's
/// organisation, coordinator of another organisation, partner with the
/// scope, partner without it, admin.
type Expect = [u16; 6];
const CALLERS: [&str; 6] = [
    "anonymous",
    "own coordinator",
    "other coordinator",
    "partner with scope",
    "partner without scope",
    "admin",
];

/// Admin-only: partner tokens are not login tokens at all (401),
/// coordinators are logged in but not allowed (403).
const ADMIN: Expect = [401, 403, 403, 401, 401, 200];
const ADMIN_CREATES: Expect = [401, 403, 403, 401, 401, 201];
/// For partners with a scope: login tokens are not partner tokens (401).
const PARTNER: Expect = [401, 401, 401, 200, 403, 401];

struct Row {
    method: Method,
    /// OpenAPI path template, for the coverage check.
    template: &'static str,
    expect: Expect,
}

fn rows() -> Vec<Row> {
    let row = |method: Method, template: &'static str, expect: Expect| Row {
        method,
        template,
        expect,
    };
    vec![
        row(Method::GET, "/healthz", [200; 6]),
        row(Method::GET, "/readyz", [200; 6]),
        row(Method::GET, "/api/v1/topics", [200; 6]),
        row(Method::GET, "/api/v1/organisations", [200; 6]),
        row(Method::GET, "/api/v1/organisations/{id}", [200; 6]),
        row(
            Method::PATCH,
            "/api/v1/organisations/{id}",
            [401, 200, 404, 401, 401, 200],
        ),
        row(
            Method::GET,
            "/api/v1/organisations/{id}/expertise",
            [200; 6],
        ),
        row(
            Method::PUT,
            "/api/v1/organisations/{id}/expertise/{topic}",
            [401, 200, 404, 401, 401, 200],
        ),
        row(
            Method::DELETE,
            "/api/v1/organisations/{id}/expertise/{topic}",
            [401, 204, 404, 401, 401, 204],
        ),
        row(Method::POST, "/api/v1/auth/login", [200; 6]),
        row(Method::POST, "/api/v1/auth/token", [200; 6]),
        // For the resource's organisation: its coordinator and admins may.
        row(
            Method::GET,
            "/api/v1/matches",
            [401, 200, 403, 401, 401, 200],
        ),
        row(
            Method::GET,
            "/api/v1/matches/explain",
            [401, 200, 403, 401, 401, 200],
        ),
        row(Method::GET, "/api/v1/me", [401, 200, 200, 401, 401, 200]),
        // One's own sessions: partners have none.
        row(
            Method::GET,
            "/api/v1/me/sessions",
            [401, 200, 200, 401, 401, 200],
        ),
        row(
            Method::DELETE,
            "/api/v1/me/sessions/{id}",
            [401, 404, 404, 401, 401, 404],
        ),
        // Each caller's own follows: anyone signed in, nobody else's.
        row(
            Method::GET,
            "/api/v1/me/topics",
            [401, 200, 200, 401, 401, 200],
        ),
        row(
            Method::PUT,
            "/api/v1/me/topics/{topic}",
            [401, 204, 204, 401, 401, 204],
        ),
        row(
            Method::DELETE,
            "/api/v1/me/topics/{topic}",
            [401, 204, 204, 401, 401, 204],
        ),
        row(
            Method::GET,
            "/api/v1/partner",
            [401, 401, 401, 200, 200, 401],
        ),
        row(
            Method::PUT,
            "/api/v1/me/password",
            [401, 200, 200, 401, 401, 200],
        ),
        // Everyone logged in downloads their own data; partners are no one.
        row(
            Method::GET,
            "/api/v1/me/export",
            [401, 200, 200, 401, 401, 200],
        ),
        row(Method::GET, "/api/v1/admin/users/{id}/export", ADMIN),
        row(
            Method::GET,
            "/api/v1/admin/organisations/{id}/export",
            ADMIN,
        ),
        row(Method::GET, "/api/v1/admin/audit", ADMIN),
        row(Method::GET, "/api/v1/admin/organisations", ADMIN),
        row(Method::POST, "/api/v1/admin/organisations", ADMIN_CREATES),
        row(Method::PATCH, "/api/v1/admin/organisations/{id}", ADMIN),
        row(Method::GET, "/api/v1/admin/topics", ADMIN),
        row(Method::POST, "/api/v1/admin/topics", ADMIN_CREATES),
        row(Method::PATCH, "/api/v1/admin/topics/{slug}", ADMIN),
        row(Method::GET, "/api/v1/admin/users", ADMIN),
        row(Method::POST, "/api/v1/admin/users", ADMIN_CREATES),
        row(Method::PATCH, "/api/v1/admin/users/{id}", ADMIN),
        row(
            Method::POST,
            "/api/v1/admin/users/{id}/password-reset",
            [401, 403, 403, 401, 401, 202],
        ),
        // The same answer for everyone, whether or not the address has an account.
        row(Method::POST, "/api/v1/auth/password-reset", [202; 6]),
        // Admins invite into any organisation; coordinators only when the
        // operator allows it (not here), and only into their own.
        row(
            Method::POST,
            "/api/v1/organisations/{id}/members",
            [401, 403, 403, 401, 401, 201],
        ),
        // Single sign-on (a provider is configured, never reached).
        row(Method::GET, "/api/v1/admin/sso", ADMIN),
        row(Method::PUT, "/api/v1/admin/sso/domains/{domain}", ADMIN),
        row(
            Method::DELETE,
            "/api/v1/admin/sso/domains/{domain}",
            [401, 403, 403, 401, 401, 204],
        ),
        row(
            Method::PUT,
            "/api/v1/admin/users/{id}/sso",
            [401, 403, 403, 401, 401, 204],
        ),
        row(
            Method::PUT,
            "/api/v1/admin/organisations/{id}/password-login",
            [401, 403, 403, 401, 401, 204],
        ),
        row(Method::GET, "/api/v1/admin/partners", ADMIN),
        row(Method::POST, "/api/v1/admin/partners", ADMIN_CREATES),
        row(Method::PATCH, "/api/v1/admin/partners/{clientId}", ADMIN),
        // Everyone logged in lists their own organisation's visits (admins all).
        row(
            Method::GET,
            "/api/v1/visits",
            [401, 200, 200, 401, 401, 200],
        ),
        // Coordinators request for their own organisation; admins do not request.
        row(
            Method::POST,
            "/api/v1/visits",
            [401, 201, 201, 401, 401, 403],
        ),
        // Only the two organisations of a visit (and admins) see it.
        row(
            Method::GET,
            "/api/v1/visits/{id}",
            [401, 200, 404, 401, 401, 200],
        ),
        // Only the host's coordinators answer; the requester's side and
        // admins see the visit but may not (403), strangers learn nothing (404).
        row(
            Method::POST,
            "/api/v1/visits/{id}/accept",
            [401, 200, 404, 401, 401, 403],
        ),
        row(
            Method::POST,
            "/api/v1/visits/{id}/decline",
            [401, 200, 404, 401, 401, 403],
        ),
        // After the accept row: the visit has a day. Participants and admins.
        row(
            Method::GET,
            "/api/v1/visits/{id}/calendar.ics",
            [401, 200, 404, 401, 401, 200],
        ),
        // Either side cancels (here the requester); admins may not.
        row(
            Method::POST,
            "/api/v1/visits/{id}/cancel",
            [401, 200, 404, 401, 401, 403],
        ),
        // The knowledge base: logged-in users, and partners with lessons:read.
        row(
            Method::GET,
            "/api/v1/lessons",
            [401, 200, 200, 200, 403, 200],
        ),
        row(
            Method::GET,
            "/api/v1/topics/{slug}/leaders",
            [401, 200, 200, 200, 403, 200],
        ),
        // The topic's map and learning network, as the leaders.
        row(
            Method::GET,
            "/api/v1/topics/{slug}/map",
            [401, 200, 200, 200, 403, 200],
        ),
        row(
            Method::GET,
            "/api/v1/topics/{slug}/network",
            [401, 200, 200, 200, 403, 200],
        ),
        // An organisation's learning history: figures, as the statistics.
        row(
            Method::GET,
            "/api/v1/organisations/{id}/history",
            [401, 200, 200, 200, 200, 200],
        ),
        // Statistics: the "without scope" partner holds only stats:read, so
        // here both partners may.
        row(Method::GET, "/api/v1/stats", [401, 200, 200, 200, 200, 200]),
        // After the visit is held (the accepted one, completed by the
        // scheduler): either side writes its lessons; admins do not.
        row(
            Method::POST,
            "/api/v1/visits/{id}/lessons",
            [401, 201, 404, 401, 401, 403],
        ),
        // After the lessons row: the visit's lessons, published or not, for
        // its two organisations and admins.
        row(
            Method::GET,
            "/api/v1/visits/{id}/lessons",
            [401, 200, 404, 401, 401, 200],
        ),
        row(Method::GET, "/api/v1/admin/outbox", ADMIN),
        row(Method::POST, "/api/v1/admin/outbox/{id}/requeue", ADMIN),
        // Webhooks: the endpoint of the partner with webhooks:manage. Login
        // tokens are not partner tokens (401); the other partner lacks the
        // scope (403); admins use their own routes.
        row(Method::GET, "/api/v1/admin/webhooks", ADMIN),
        row(Method::GET, "/api/v1/admin/webhooks/{id}", ADMIN),
        row(Method::PATCH, "/api/v1/admin/webhooks/{id}", ADMIN),
        row(Method::GET, "/api/v1/admin/webhooks/{id}/deliveries", ADMIN),
        row(
            Method::POST,
            "/api/v1/admin/webhooks/{id}/deliveries/{deliveryId}/redeliver",
            [401, 403, 403, 401, 401, 202],
        ),
        row(Method::GET, "/api/v1/partner/webhooks", PARTNER),
        row(
            Method::POST,
            "/api/v1/partner/webhooks",
            [401, 401, 401, 201, 403, 401],
        ),
        row(Method::GET, "/api/v1/partner/webhooks/{id}", PARTNER),
        row(Method::PATCH, "/api/v1/partner/webhooks/{id}", PARTNER),
        row(
            Method::POST,
            "/api/v1/partner/webhooks/{id}/secret",
            PARTNER,
        ),
        row(
            Method::POST,
            "/api/v1/partner/webhooks/{id}/test",
            [401, 401, 401, 202, 403, 401],
        ),
        row(
            Method::GET,
            "/api/v1/partner/webhooks/{id}/deliveries",
            PARTNER,
        ),
        row(
            Method::POST,
            "/api/v1/partner/webhooks/{id}/deliveries/{deliveryId}/redeliver",
            [401, 401, 401, 202, 403, 401],
        ),
        row(
            Method::DELETE,
            "/api/v1/partner/webhooks/{id}",
            [401, 401, 401, 204, 403, 401],
        ),
        // Near the end: Amsterdam goes into Utrecht, then is erased; the
        // target user is erased too (their coordinators hold no token here).
        row(
            Method::POST,
            "/api/v1/admin/organisations/{id}/merge",
            ADMIN,
        ),
        row(Method::POST, "/api/v1/admin/users/{id}/erasure", ADMIN),
        row(
            Method::POST,
            "/api/v1/admin/organisations/{id}/erasure",
            ADMIN,
        ),
        // Last: it revokes the caller's tokens.
        row(
            Method::POST,
            "/api/v1/auth/logout",
            [401, 204, 204, 401, 401, 204],
        ),
    ]
}

pub async fn partner_token(app: &TestApp, scopes: &str) -> String {
    let (partner, secret) = meeloop::service::partners::create_partner(
        &mut app.db.pool.get().unwrap(),
        "Onderzoeker",
        Scopes::parse(scopes).unwrap(),
        None,
    )
    .unwrap();
    let (status, body) = app
        .send(
            Method::POST,
            "/api/v1/auth/token",
            None,
            Some(json!({"grant_type": "client_credentials", "client_id": partner.client_id, "client_secret": secret})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

/// A message that has given up, straight into the outbox.
fn dead_message(app: &TestApp) -> i64 {
    let message = crate::mail::message(
        &format!("matrix:{}", rand::random::<u64>()),
        "weg@zwolle.example",
        "nl",
    );
    let mut conn = app.db.pool.get().unwrap();
    let id = queued(meeloop::db::outbox::enqueue(&mut conn, &message).unwrap());
    give_up_message(&mut conn, id, 10, "550 no such user");
    id
}

/// A delivery that has given up, straight into the queue of `endpoint`.
fn dead_delivery(app: &TestApp, endpoint: i64) -> i64 {
    use diesel::prelude::*;
    use meeloop::db::schema::webhook_deliveries as d;
    let mut conn = app.db.pool.get().unwrap();
    let now = meeloop::db::now();
    let id = meeloop::db::webhooks::enqueue(
        &mut conn,
        &meeloop::db::webhooks::NewDelivery {
            endpoint_id: endpoint,
            webhook_id: &format!("msg_matrix{}", rand::random::<u64>()),
            event_type: "visit.accepted",
            payload: "{}",
            state: "dead",
            attempts: 8,
            next_attempt_at: now,
            created_at: now,
        },
    )
    .unwrap();
    meeloop::dispatch!(&mut conn, c => diesel::update(d::table.find(id))
        .set(d::given_up_at.eq(Some(now)))
        .execute(c))
    .unwrap();
    id
}

async fn every_route_answers_every_caller_as_documented(backend: Backend) {
    // Login and token requests come from many callers here; lift their limit.
    let app = spawn_app_with(backend, |f| {
        f.merge(("auth.login_burst", 1000))
            .merge(("auth.reset_burst", 1000))
            // Webhook endpoints on 127.0.0.1 (nothing listens: no worker runs).
            .merge(("webhooks.allowed_hosts", ["127.0.0.1"]))
            .merge(("webhooks.deliver", false))
        .merge((
            "auth.oidc",
            json!([{"id": "entra", "name": "Entra ID", "issuer": "https://login.example.invalid/tenant/v2.0",
                    "client_id": "meeloop", "client_secret": "never used here"}]),
        ))
    })
    .await;
    meeloop::service::demo::load(&mut app.db.pool.get().unwrap()).unwrap();
    let zwolle = app.organisation_id("GM0193").await;
    let frysl = app.organisation_id("GM1900").await;
    let mut tokens: [Option<String>; 6] = [
        None,
        Some(
            app.coordinator_token("eigen@zwolle.example", "GM0193")
                .await,
        ),
        Some(
            app.coordinator_token("ander@sudwestfryslan.example", "GM1900")
                .await,
        ),
        Some(
            partner_token(
                &app,
                "organisations:read,lessons:read,stats:read,webhooks:manage",
            )
            .await,
        ),
        Some(partner_token(&app, "stats:read").await),
        Some(app.admin_token("beheer@meeloop.example").await),
    ];
    meeloop::service::accounts::create_user(
        &mut app.db.pool.get().unwrap(),
        &meeloop::service::accounts::NewAccount {
            email: "login@zwolle.example".into(),
            name: "Login".into(),
            role: Role::Coordinator,
            organisation: Some("GM0193".into()),
            password: meeloop::domain::account::Password::parse("a long enough password").unwrap(),
        },
    )
    .unwrap();
    let target = meeloop::service::accounts::create_user(
        &mut app.db.pool.get().unwrap(),
        &meeloop::service::accounts::NewAccount {
            email: "doel@zwolle.example".into(),
            name: "Doel".into(),
            role: Role::Coordinator,
            organisation: Some("GM0193".into()),
            password: meeloop::domain::account::Password::parse("a long enough password").unwrap(),
        },
    )
    .unwrap();
    let (matrix_partner, matrix_secret) = meeloop::service::partners::create_partner(
        &mut app.db.pool.get().unwrap(),
        "Matrix",
        Scopes::parse("stats:read").unwrap(),
        None,
    )
    .unwrap();

    // Coverage: the table and the published API name the same operations.
    let (_, spec) = app.get_json("/api/v1/openapi.json").await;
    // Paths are relative to the server (…/api/v1), but for those that name
    // their own (the probes at the root).
    let server = spec["servers"][0]["url"].as_str().unwrap();
    assert!(server.ends_with("/api/v1"), "{server}");
    let mut documented = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        let full = match item.get("servers") {
            Some(_) => path.clone(),
            None => format!("/api/v1{path}"),
        };
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                documented.insert(format!("{} {full}", method.to_uppercase()));
            }
        }
    }
    let tabled: BTreeSet<String> = rows()
        .iter()
        .map(|r| format!("{} {}", r.method, r.template))
        .collect();
    assert_eq!(
        tabled, documented,
        "every route needs a row in the authorisation matrix"
    );

    let (status, endpoint) = app
        .send(
            Method::POST,
            "/api/v1/partner/webhooks",
            tokens[3].as_deref(),
            Some(json!({"url": "http://127.0.0.1:9/matrix", "eventTypes": ["visit.accepted"]})),
        )
        .await;
    assert_eq!(status, 201, "{endpoint}");
    let endpoint = endpoint["endpoint"]["id"].as_i64().unwrap();

    let amsterdam = app.organisation_id("GM0363").await;
    let visit_body = json!({
        "hostOrganisationId": amsterdam,
        "topic": "cloud-migration",
        "proposedDates": crate::visits::working_days_ahead(1),
        "goal": "How did you plan the exit from your own data centre?",
        "participants": 2,
    });
    // A visit of Zwolle's (its coordinator asks Utrecht), for the read row.
    let mut zwolle_visit_body = visit_body.clone();
    zwolle_visit_body["hostOrganisationId"] = json!(app.organisation_id("GM0344").await);
    let (status, zwolle_visit) = app
        .send(
            Method::POST,
            "/api/v1/visits",
            tokens[1].as_deref(),
            Some(zwolle_visit_body),
        )
        .await;
    assert_eq!(status, 201, "{zwolle_visit}");

    // Two requests to Zwolle, for its coordinator to accept and to decline.
    let mut to_zwolle = Vec::new();
    // Days no other request here proposes: a request left without a day
    // by a booking is closed, and could not be declined or cancelled.
    for (i, (email, code)) in [
        ("a@amsterdam.example", "GM0363"),
        ("u@utrecht.example", "GM0344"),
    ]
    .into_iter()
    .enumerate()
    {
        let token = app.token_for(email, Role::Coordinator, Some(code)).await;
        let mut body = visit_body.clone();
        body["hostOrganisationId"] = json!(zwolle);
        body["proposedDates"] = json!([crate::visits::working_days_ahead(4)[1 + i * 2]]);
        let (status, visit) = app
            .send(Method::POST, "/api/v1/visits", Some(&token), Some(body))
            .await;
        assert_eq!(status, 201, "{visit}");
        to_zwolle.push(visit);
    }

    for row in rows() {
        if row.method == Method::POST && row.template == "/api/v1/visits/{id}/lessons" {
            // Hold the accepted visit: the scheduler completes it the day after.
            let day: chrono::NaiveDate =
                serde_json::from_value(to_zwolle[0]["proposedDates"][0].clone()).unwrap();
            let report = crate::schedule::scheduler(&app)
                .run_at(crate::schedule::dutch(day + chrono::Duration::days(1), 6))
                .await
                .unwrap();
            assert_eq!(report.completed, 1);
        }
        let id = if row.template == "/api/v1/admin/organisations/{id}/erasure"
            || row.template == "/api/v1/admin/organisations/{id}/merge"
        {
            amsterdam.to_string()
        } else if row.template.starts_with("/api/v1/admin/users/") {
            target.id.to_string()
        } else if row.template.ends_with("/accept")
            || row.template.ends_with("/calendar.ics")
            || row.template.ends_with("/lessons")
        {
            to_zwolle[0]["id"].to_string()
        } else if row.template.ends_with("/decline") {
            to_zwolle[1]["id"].to_string()
        } else if row.template.starts_with("/api/v1/visits/") {
            zwolle_visit["id"].to_string()
        } else if row.template.contains("/webhooks/{id}") {
            endpoint.to_string()
        } else if row.template == "/api/v1/me/sessions/{id}" {
            // Nobody's session: every caller who may end sessions gets 404.
            "999999".to_string()
        } else {
            zwolle.to_string()
        };
        let mut path = row
            .template
            .replace("{id}", &id)
            .replace("{topic}", "privacy")
            .replace("{slug}", "privacy")
            .replace("{domain}", "zwolle.example")
            .replace("{clientId}", &matrix_partner.client_id);
        if row.template.starts_with("/api/v1/matches") {
            path.push_str(&format!("?topic=cloud-migration&organisation={zwolle}"));
            if row.template.ends_with("/explain") {
                path.push_str(&format!("&candidate={frysl}"));
            }
        }
        for (caller, expected) in row.expect.into_iter().enumerate() {
            let token = tokens[caller].clone();
            // Each caller gets a dead message of its own to requeue.
            let path = if row.template.starts_with("/api/v1/admin/outbox/") {
                row.template
                    .replace("{id}", &dead_message(&app).to_string())
            } else if row.template.contains("{deliveryId}") {
                path.replace("{deliveryId}", &dead_delivery(&app, endpoint).to_string())
            } else {
                path.clone()
            };
            // Each caller meets the same state: the expertise a DELETE removes exists again.
            if row.method == Method::DELETE && row.template.contains("/expertise/") {
                let (status, _) = app
                    .send(
                        Method::PUT,
                        &path,
                        tokens[5].as_deref(),
                        Some(json!({"level": 3, "willingToHost": true})),
                    )
                    .await;
                assert_eq!(status, 200);
            }
            let body: Option<Value> = match (row.method.clone(), row.template) {
                (Method::PATCH, "/api/v1/organisations/{id}") => {
                    Some(json!({"monthlyHostingCapacity": 3}))
                }
                (Method::PATCH, "/api/v1/partner/webhooks/{id}") => {
                    Some(json!({"description": "Matrix"}))
                }
                (Method::PATCH, "/api/v1/admin/webhooks/{id}") => Some(json!({"paused": false})),
                (Method::POST, "/api/v1/partner/webhooks") => Some(json!({
                    "url": "http://127.0.0.1:9/other", "eventTypes": ["lesson.published"],
                })),
                (
                    Method::PATCH,
                    "/api/v1/admin/users/{id}" | "/api/v1/admin/partners/{clientId}",
                ) => Some(json!({"name": "Hernoemd"})),
                (Method::PATCH, _) => Some(json!({"active": true})),
                (Method::PUT, "/api/v1/me/password") => Some(json!({
                    "currentPassword": "a long enough password",
                    "newPassword": "a long enough password",
                })),
                (Method::POST, "/api/v1/admin/organisations") => Some(json!({
                    "code": "MATRIX-1", "kind": "other", "name": "Matrix", "size": 10,
                    "latitude": 52.0, "longitude": 5.0,
                })),
                (Method::POST, "/api/v1/admin/topics") => Some(json!({
                    "slug": "matrix", "nameNl": "Matrix", "nameEn": "Matrix",
                })),
                (Method::POST, "/api/v1/admin/users") => Some(json!({
                    "email": "nieuw@zwolle.example", "name": "Nieuw", "role": "coordinator",
                    "organisationId": zwolle,
                })),
                (Method::POST, "/api/v1/visits") => Some(visit_body.clone()),
                (Method::POST, "/api/v1/auth/password-reset") => {
                    Some(json!({"email": "login@zwolle.example"}))
                }
                (Method::POST, "/api/v1/organisations/{id}/members") => {
                    Some(json!({"email": "lid@zwolle.example", "name": "Nieuw lid"}))
                }
                (Method::POST, "/api/v1/admin/organisations/{id}/merge") => {
                    Some(json!({"into": "GM0344"}))
                }
                (Method::POST, "/api/v1/admin/users/{id}/erasure") => {
                    Some(json!({"confirm": "doel@zwolle.example"}))
                }
                (Method::POST, "/api/v1/admin/organisations/{id}/erasure") => {
                    Some(json!({"confirm": "GM0363"}))
                }
                (Method::POST, "/api/v1/visits/{id}/accept") => {
                    Some(json!({"date": to_zwolle[0]["proposedDates"][0]}))
                }
                (Method::POST, "/api/v1/visits/{id}/decline" | "/api/v1/visits/{id}/cancel") => {
                    Some(json!({"reason": "Te druk."}))
                }
                (Method::POST, "/api/v1/visits/{id}/lessons") => Some(json!({
                    "strengths": "Goede vragen over ons exitplan.",
                    "mistakes": "De planning vooraf delen.",
                    "hoursSaved": 4, "rating": 4,
                })),
                (Method::POST, "/api/v1/admin/partners") => Some(json!({
                    "name": "Nieuw", "scopes": ["stats:read"],
                })),
                (Method::PUT, "/api/v1/admin/sso/domains/{domain}") => {
                    Some(json!({"organisationId": zwolle, "provider": "entra"}))
                }
                (Method::PUT, "/api/v1/admin/users/{id}/sso") => {
                    Some(json!({"provider": "entra", "subject": "abc"}))
                }
                (Method::PUT, "/api/v1/admin/organisations/{id}/password-login") => {
                    Some(json!({"allowed": true}))
                }
                (Method::PUT, _) => Some(json!({"level": 4, "willingToHost": true})),
                (Method::POST, "/api/v1/auth/login") => Some(
                    json!({"email": "login@zwolle.example", "password": "a long enough password"}),
                ),
                (Method::POST, "/api/v1/auth/token") => Some(json!({
                    "grant_type": "client_credentials",
                    "client_id": matrix_partner.client_id,
                    "client_secret": matrix_secret,
                })),
                _ => None,
            };
            // Whoever may not act gets the same answer whatever they send:
            // an empty object, an unknown field, or not an object at all.
            if body.is_some() && [401, 403, 404].contains(&expected) {
                for bad in [json!({}), json!({"nonsense": true}), json!([1])] {
                    let (status, response) = app
                        .send(
                            row.method.clone(),
                            &path,
                            token.as_deref(),
                            Some(bad.clone()),
                        )
                        .await;
                    assert_eq!(
                        status, expected,
                        "{} {} as {} with {bad}: {response}",
                        row.method, row.template, CALLERS[caller]
                    );
                }
            }
            let (status, response) = app
                .send(row.method.clone(), &path, token.as_deref(), body)
                .await;
            assert_eq!(
                status, expected,
                "{} {} as {}: {response}",
                row.method, row.template, CALLERS[caller]
            );
            // A password change ends the caller's sessions and hands out a new token.
            if row.template == "/api/v1/me/password" && status == 200 {
                tokens[caller] = Some(response["accessToken"].as_str().unwrap().to_string());
            }
        }
    }
}

/// The query parameters the document lists are the names the routes accept
/// (the strict parser reads them from the same declarations): none of them
/// is refused as unknown, whatever its value.
async fn every_documented_query_parameter_is_accepted(backend: Backend) {
    let app = spawn_app_with(backend, |f| f).await;
    meeloop::service::demo::load(&mut app.db.pool.get().unwrap()).unwrap();
    let admin = app.admin_token("beheer@meeloop.example").await;
    let (_, spec) = app.get_json("/api/v1/openapi.json").await;
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        let names: Vec<&str> = get["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        let route = path
            .split('/')
            .map(|part| if part.starts_with('{') { "1" } else { part })
            .collect::<Vec<_>>()
            .join("/");
        for name in names {
            let url = format!("/api/v1{route}?{name}=x");
            let (status, problem) = app.send(Method::GET, &url, Some(&admin), None).await;
            assert!(
                !(status == 400 && problem["code"] == "unknown_parameter"),
                "{url}: {problem}"
            );
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} parameters found");
}
