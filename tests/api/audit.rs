//! The audit log records security events, and only admins read it.

use reqwest::Method;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{spawn_demo_app, Backend};

backend_tests!(security_events_are_recorded_for_admins_only);

async fn security_events_are_recorded_for_admins_only(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    let zwolle = app.organisation_id("GM0193").await;
    let coordinator = app.coordinator_token("anne@zwolle.example", "GM0193").await;
    let admin = app.admin_token("beheer@meeloop.example").await;

    let secret_guess = "hunter2-but-longer";
    let (status, _) = app
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "Anne@Zwolle.example", "password": secret_guess})),
        )
        .await;
    assert_eq!(status, 401);
    let (status, _) = app
        .send(
            Method::PATCH,
            &format!("/api/v1/organisations/{zwolle}"),
            Some(&coordinator),
            Some(json!({"monthlyHostingCapacity": 3})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .send(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&coordinator),
            None,
        )
        .await;
    assert_eq!(status, 204);

    // Only admins read it.
    let (status, body) = app
        .send(Method::GET, "/api/v1/admin/audit", None, None)
        .await;
    assert_eq!(status, 401, "{body}");
    let other = app
        .coordinator_token("jan@sudwestfryslan.example", "GM1900")
        .await;
    let (status, body) = app
        .send(Method::GET, "/api/v1/admin/audit", Some(&other), None)
        .await;
    assert_eq!((status, body["code"].as_str()), (403, Some("admins_only")));

    let response = app.get_as("/api/v1/admin/audit?limit=100", &admin).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(!text.contains(secret_guess), "no password in the audit log");
    assert!(!text.contains("argon2"), "no hashes in the audit log");
    let page: Value = serde_json::from_str(&text).unwrap();
    let items = page["items"].as_array().unwrap();
    let actions: Vec<&str> = items
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    let ids: Vec<i64> = items.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");

    let find = |action: &str| {
        items
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("{action} in {actions:?}"))
    };
    let failed = find("login.failed");
    assert_eq!(failed["actor"], "anonymous");
    assert_eq!(failed["details"]["email"], "anne@zwolle.example");
    assert_eq!(failed["address"], "127.0.0.1");
    let updated = find("organisation.updated");
    assert_eq!(updated["subject"], format!("organisation:{zwolle}"));
    assert_eq!(updated["details"], json!({"monthlyHostingCapacity": 3}));
    let anne = updated["actor"].as_str().unwrap().to_string();
    assert!(anne.starts_with("user:"));
    assert_eq!(find("logout")["actor"], anne);
    assert!(items
        .iter()
        .any(|e| e["action"] == "login.succeeded" && e["actor"] == anne));
    assert!(
        items
            .iter()
            .filter(|e| e["action"] == "user.created")
            .count()
            >= 3
    );
    // Reading the audit log is not itself an event, and the log is append-only.
    assert!(!actions.contains(&"audit.read"));

    // Pages do not overlap.
    let (_, first) = app
        .send(
            Method::GET,
            "/api/v1/admin/audit?limit=2",
            Some(&admin),
            None,
        )
        .await;
    let before = first["nextBefore"].as_i64().expect("more pages");
    let (_, second) = app
        .send(
            Method::GET,
            &format!("/api/v1/admin/audit?limit=2&before={before}"),
            Some(&admin),
            None,
        )
        .await;
    let first_ids: Vec<i64> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    let second_ids: Vec<i64> = second["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(first_ids, ids[..2].to_vec());
    assert_eq!(second_ids, ids[2..4].to_vec());
}
