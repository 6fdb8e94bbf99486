//! Coordinators edit their own organisation; nobody edits someone else's.

use meeloop::domain::organisation::OrganisationId;
use reqwest::Method;
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{spawn_demo_app, Backend};

backend_tests!(
    a_coordinator_edits_their_own_profile,
    other_organisations_are_out_of_reach,
    invalid_profile_fields_are_named,
    expertise_is_set_and_removed,
);

async fn a_coordinator_edits_their_own_profile(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    let zwolle = app.organisation_id("GM0193").await;
    let token = app.coordinator_token("anne@zwolle.example", "GM0193").await;
    let (_, before) = app
        .get_json(&format!("/api/v1/organisations/{zwolle}"))
        .await;

    let (status, after) = app
        .send(
            Method::PATCH,
            &format!("/api/v1/organisations/{zwolle}"),
            Some(&token),
            Some(json!({"monthlyHostingCapacity": 4, "latitude": 52.5, "contactEmail": "meeloop@zwolle.example", "language": "en"})),
        )
        .await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["monthlyHostingCapacity"], 4);
    assert_eq!(after["latitude"], 52.5);
    assert_eq!(
        after["longitude"], before["longitude"],
        "the other half of the position stays"
    );
    assert_eq!(after["language"], "en");
    assert_eq!(after["name"], before["name"]);
    assert!(after.get("contactEmail").is_none(), "still not public");
    let (_, public) = app
        .get_json(&format!("/api/v1/organisations/{zwolle}"))
        .await;
    assert_eq!(public, after);
    let stored =
        meeloop::db::organisations::find(&mut app.db.pool.get().unwrap(), OrganisationId(zwolle))
            .unwrap()
            .unwrap();
    assert_eq!(
        stored.contact_email.as_deref(),
        Some("meeloop@zwolle.example")
    );

    // A new name is searchable at once.
    let (status, _) = app
        .send(
            Method::PATCH,
            &format!("/api/v1/organisations/{zwolle}"),
            Some(&token),
            Some(json!({"name": "Gemeente Zwolle"})),
        )
        .await;
    assert_eq!(status, 200);
    let found = app
        .all_pages("/api/v1/organisations?q=gemeente%20zwolle")
        .await;
    assert_eq!(found.len(), 1);
}

async fn other_organisations_are_out_of_reach(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    let zwolle = app.organisation_id("GM0193").await;
    let amsterdam = app.organisation_id("GM0363").await;
    let coordinator = app.coordinator_token("anne@zwolle.example", "GM0193").await;
    let admin = app.admin_token("beheer@meeloop.example").await;
    let change = json!({"monthlyHostingCapacity": 0});

    // Someone else's organisation answers exactly like one that does not exist.
    let (status, theirs) = app
        .send(
            Method::PATCH,
            &format!("/api/v1/organisations/{amsterdam}"),
            Some(&coordinator),
            Some(change.clone()),
        )
        .await;
    assert_eq!(status, 404);
    let (_, missing) = app
        .send(
            Method::PATCH,
            "/api/v1/organisations/999999",
            Some(&coordinator),
            Some(change.clone()),
        )
        .await;
    assert_eq!(theirs["code"], missing["code"]);
    assert_eq!(
        theirs["detail"]
            .as_str()
            .unwrap()
            .replace(&amsterdam.to_string(), "N"),
        missing["detail"].as_str().unwrap().replace("999999", "N")
    );
    let (status, _) = app
        .send(
            Method::PUT,
            &format!("/api/v1/organisations/{amsterdam}/expertise/privacy"),
            Some(&coordinator),
            Some(json!({"level": 5, "willingToHost": true})),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .send(
            Method::DELETE,
            &format!("/api/v1/organisations/{amsterdam}/expertise/cloud-migration"),
            Some(&coordinator),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (_, amsterdam_now) = app
        .get_json(&format!("/api/v1/organisations/{amsterdam}"))
        .await;
    assert_eq!(
        amsterdam_now["monthlyHostingCapacity"], 2,
        "nothing changed"
    );

    // Anonymous callers are asked to log in.
    let (status, body) = app
        .send(
            Method::PATCH,
            &format!("/api/v1/organisations/{zwolle}"),
            None,
            Some(change.clone()),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));

    // Admins may edit any organisation.
    let (status, body) = app
        .send(
            Method::PATCH,
            &format!("/api/v1/organisations/{amsterdam}"),
            Some(&admin),
            Some(change),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["monthlyHostingCapacity"], 0);
}

async fn invalid_profile_fields_are_named(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    let zwolle = app.organisation_id("GM0193").await;
    let token = app.coordinator_token("anne@zwolle.example", "GM0193").await;
    for (body, mentions) in [
        (json!({"size": -1}), "size"),
        (json!({"name": "   "}), "name"),
        (json!({"latitude": 91}), "latitude"),
        (json!({"contactEmail": "not an address"}), "contactEmail"),
        (json!({"province": "Vlaanderen"}), "province"),
        (
            json!({"monthlyHostingCapacity": 40}),
            "monthlyHostingCapacity",
        ),
        (json!({"colour": "blue"}), "colour"),
        (json!({"size": "large"}), "size"),
    ] {
        let (status, problem) = app
            .send(
                Method::PATCH,
                &format!("/api/v1/organisations/{zwolle}"),
                Some(&token),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, 400, "{body}: {problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains(mentions),
            "{body}: {problem}"
        );
    }
    let (_, unchanged) = app
        .get_json(&format!("/api/v1/organisations/{zwolle}"))
        .await;
    assert_eq!(
        unchanged["monthlyHostingCapacity"], 2,
        "nothing of a rejected change is kept"
    );
}

async fn expertise_is_set_and_removed(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    let zwolle = app.organisation_id("GM0193").await;
    let token = app.coordinator_token("anne@zwolle.example", "GM0193").await;
    let path = format!("/api/v1/organisations/{zwolle}/expertise/privacy");

    let (status, body) = app
        .send(Method::PUT, &path, Some(&token),
              Some(json!({"level": 3, "summary": "AVG-register op orde", "sinceYear": 2022, "willingToHost": false})))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["topic"]["slug"], "privacy");
    assert_eq!(body["level"], 3);
    // Replacing is idempotent; 4.0 is a whole number as JSON Schema counts.
    let (status, body) = app
        .send(
            Method::PUT,
            &path,
            Some(&token),
            Some(json!({"level": 4.0, "willingToHost": true})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            body["level"].as_i64(),
            body["summary"].as_str(),
            body["sinceYear"].is_null()
        ),
        (Some(4), Some(""), true)
    );
    let (_, list) = app
        .get_json(&format!("/api/v1/organisations/{zwolle}/expertise"))
        .await;
    assert_eq!(
        list.as_array()
            .unwrap()
            .iter()
            .filter(|e| e["topic"]["slug"] == "privacy")
            .count(),
        1
    );
    let hosts = app
        .all_pages("/api/v1/organisations?topic=privacy&q=zwolle")
        .await;
    assert_eq!(hosts.len(), 1, "the topic filter sees it");

    for (body, mentions) in [
        (json!({"level": 6, "willingToHost": true}), "level"),
        (json!({"level": 3}), "willingToHost"),
        (
            json!({"level": 3, "willingToHost": true, "sinceYear": 1800}),
            "sinceYear",
        ),
        (json!({"level": 3.5, "willingToHost": true}), "level"),
    ] {
        let (status, problem) = app
            .send(Method::PUT, &path, Some(&token), Some(body.clone()))
            .await;
        assert_eq!(status, 400, "{body}");
        assert!(
            problem["detail"].as_str().unwrap().contains(mentions),
            "{body}: {problem}"
        );
    }
    let (status, _) = app
        .send(
            Method::PUT,
            &format!("/api/v1/organisations/{zwolle}/expertise/knitting"),
            Some(&token),
            Some(json!({"level": 3, "willingToHost": true})),
        )
        .await;
    assert_eq!(status, 404);

    let (status, _) = app.send(Method::DELETE, &path, Some(&token), None).await;
    assert_eq!(status, 204);
    let (status, _) = app.send(Method::DELETE, &path, Some(&token), None).await;
    assert_eq!(status, 404);
    let (_, list) = app
        .get_json(&format!("/api/v1/organisations/{zwolle}/expertise"))
        .await;
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["topic"]["slug"] != "privacy"));
}
