//! Admins manage organisations, topics, accounts and partner clients over
//! the API, and every change shows where a user would notice it.

use reqwest::Method;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{audit_actions, login, spawn_demo_app, Backend};

backend_tests!(
    organisations_are_added_deactivated_and_reactivated,
    retired_topics_leave_the_catalogue_and_come_back,
    admins_create_and_change_accounts,
    users_change_their_own_password,
    partner_clients_are_managed_over_the_api,
);

const PASSWORD: &str = "a long enough password";

async fn organisations_are_added_deactivated_and_reactivated(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    let admin = app.admin_token("beheer@meeloop.example").await;
    let new = json!({
        "code": "gm0037", "kind": "municipality", "name": "Stadskanaal",
        "province": "Groningen", "size": 32013, "latitude": 53.00223, "longitude": 7.01027,
        "contactEmail": "meeloop@stadskanaal.example",
    });

    // Created: upper-cased code, defaults filled in, contact shown to admins only.
    let response = app
        .client
        .post(format!("{}/api/v1/admin/organisations", app.address))
        .bearer_auth(&admin)
        .json(&new)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["code"], "GM0037");
    assert_eq!(created["contactEmail"], "meeloop@stadskanaal.example");
    assert_eq!(created["monthlyHostingCapacity"], 2);
    assert_eq!(created["language"], "nl");
    assert_eq!(created["active"], true);
    let id = created["id"].as_i64().unwrap();
    assert_eq!(location, format!("/api/v1/organisations/{id}"));
    let (status, public) = app.get_json(&location).await;
    assert_eq!(status, 200);
    assert_eq!(public["name"], "Stadskanaal");
    assert!(public.get("contactEmail").is_none(), "{public}");

    // The same code again, in another case: a conflict, nothing changed.
    let mut again = new.clone();
    again["code"] = json!("GM0037");
    again["name"] = json!("Dubbel");
    let (status, problem) = app
        .send(
            Method::POST,
            "/api/v1/admin/organisations",
            Some(&admin),
            Some(again),
        )
        .await;
    assert_eq!(status, 409, "{problem}");
    let (_, public) = app.get_json(&location).await;
    assert_eq!(public["name"], "Stadskanaal");

    // A municipality needs a CBS code; the problem names the field.
    let mut bad = new.clone();
    bad["code"] = json!("GRONINGEN");
    let (status, problem) = app
        .send(
            Method::POST,
            "/api/v1/admin/organisations",
            Some(&admin),
            Some(bad),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        problem["detail"].as_str().unwrap().contains("code"),
        "{problem}"
    );

    // Deactivated: gone from the public directory, its coordinator locked out.
    let coordinator = app
        .coordinator_token("anne@stadskanaal.example", "GM0037")
        .await;
    let (status, _) = app
        .send(Method::GET, "/api/v1/me", Some(&coordinator), None)
        .await;
    assert_eq!(status, 200);
    let (status, changed) = app
        .send(
            Method::PATCH,
            &format!("/api/v1/admin/organisations/{id}"),
            Some(&admin),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["active"], false);
    assert_eq!(app.get_json(&location).await.0, 404);
    assert_eq!(app.get_json(&format!("{location}/expertise")).await.0, 404);
    let (_, listed) = app.get_json("/api/v1/organisations?q=stadskanaal").await;
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["code"] != "GM0037"),
        "{listed}"
    );
    let (status, _) = app
        .send(Method::GET, "/api/v1/me", Some(&coordinator), None)
        .await;
    assert_eq!(status, 401);
    assert_eq!(
        login(&app, "anne@stadskanaal.example", PASSWORD).await.0,
        401
    );

    // Admins still see it, filtered by status.
    let (status, inactive) = app
        .send(
            Method::GET,
            "/api/v1/admin/organisations?active=false",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let codes: Vec<&str> = inactive["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["GM0037"]);
    let (status, problem) = app
        .send(
            Method::GET,
            "/api/v1/admin/organisations?active=maybe",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        problem["detail"].as_str().unwrap().contains("active"),
        "{problem}"
    );

    // Reactivated: back in the directory, and its coordinator can log in.
    let (status, _) = app
        .send(
            Method::PATCH,
            &format!("/api/v1/admin/organisations/{id}"),
            Some(&admin),
            Some(json!({"active": true})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.get_json(&location).await.0, 200);
    assert_eq!(
        login(&app, "anne@stadskanaal.example", PASSWORD).await.0,
        200
    );

    let actions = audit_actions(&app, &admin).await;
    for action in [
        "organisation.created",
        "organisation.deactivated",
        "organisation.activated",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
}

async fn retired_topics_leave_the_catalogue_and_come_back(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    let admin = app.admin_token("beheer@meeloop.example").await;
    let zwolle = app.organisation_id("GM0193").await;
    let coordinator = app.coordinator_token("anne@zwolle.example", "GM0193").await;

    let (status, topic) = app
        .send(
            Method::POST,
            "/api/v1/admin/topics",
            Some(&admin),
            Some(
                json!({"slug": "woo-verzoeken", "nameNl": "Woo-verzoeken", "nameEn": "FOI requests",
                        "descriptionNl": "Openbaarmaking\nop verzoek"}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{topic}");
    assert_eq!(topic["active"], true);
    assert_eq!(topic["descriptionNl"], "Openbaarmaking\nop verzoek");
    let (status, _) = app
        .send(
            Method::POST,
            "/api/v1/admin/topics",
            Some(&admin),
            Some(json!({"slug": "woo-verzoeken", "nameNl": "Nog eens", "nameEn": "Again"})),
        )
        .await;
    assert_eq!(status, 409);
    let expertise = format!("/api/v1/organisations/{zwolle}/expertise/woo-verzoeken");
    let (status, _) = app
        .send(
            Method::PUT,
            &expertise,
            Some(&coordinator),
            Some(json!({"level": 4, "willingToHost": true})),
        )
        .await;
    assert_eq!(status, 200);

    let slugs = |topics: &Value| -> Vec<String> {
        topics
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["slug"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, catalogue) = app.get_json("/api/v1/topics").await;
    assert!(slugs(&catalogue).contains(&"woo-verzoeken".to_string()));

    // Retired: out of the catalogue, the directory filter and profiles.
    let (status, retired) = app
        .send(
            Method::PATCH,
            "/api/v1/admin/topics/woo-verzoeken",
            Some(&admin),
            Some(json!({"active": false, "nameEn": "Freedom of information requests"})),
        )
        .await;
    assert_eq!(status, 200, "{retired}");
    assert_eq!(retired["active"], false);
    assert_eq!(retired["nameEn"], "Freedom of information requests");
    assert_eq!(retired["nameNl"], "Woo-verzoeken");
    let (_, catalogue) = app.get_json("/api/v1/topics").await;
    assert!(!slugs(&catalogue).contains(&"woo-verzoeken".to_string()));
    assert_eq!(
        app.get_json("/api/v1/organisations?topic=woo-verzoeken")
            .await
            .0,
        404
    );
    let (_, profile) = app
        .get_json(&format!("/api/v1/organisations/{zwolle}/expertise"))
        .await;
    assert!(!profile.to_string().contains("woo-verzoeken"), "{profile}");
    let (status, _) = app
        .send(
            Method::PUT,
            &expertise,
            Some(&coordinator),
            Some(json!({"level": 5, "willingToHost": true})),
        )
        .await;
    assert_eq!(status, 404);
    let (_, all) = app
        .send(Method::GET, "/api/v1/admin/topics", Some(&admin), None)
        .await;
    assert!(slugs(&all).contains(&"woo-verzoeken".to_string()));

    // Restored: the expertise entered before is there again, unchanged.
    let (status, _) = app
        .send(
            Method::PATCH,
            "/api/v1/admin/topics/woo-verzoeken",
            Some(&admin),
            Some(json!({"active": true})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, profile) = app
        .get_json(&format!("/api/v1/organisations/{zwolle}/expertise"))
        .await;
    let entry = profile
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["topic"]["slug"] == "woo-verzoeken")
        .expect("expertise kept while retired");
    assert_eq!(entry["level"], 4);

    // Bad input: named, and `null` is not "leave alone".
    let (status, problem) = app
        .send(
            Method::PATCH,
            "/api/v1/admin/topics/woo-verzoeken",
            Some(&admin),
            Some(json!({"nameNl": null})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        problem["detail"].as_str().unwrap().contains("nameNl"),
        "{problem}"
    );
    let (status, _) = app
        .send(
            Method::PATCH,
            "/api/v1/admin/topics/bestaat-niet",
            Some(&admin),
            Some(json!({"active": true})),
        )
        .await;
    assert_eq!(status, 404);
}

async fn admins_create_and_change_accounts(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    let admin = app.admin_token("beheer@meeloop.example").await;
    let zwolle = app.organisation_id("GM0193").await;
    let frysl = app.organisation_id("GM1900").await;

    let (status, created) = app
        .send(
            Method::POST,
            "/api/v1/admin/users",
            Some(&admin),
            Some(json!({"email": "Piet@Zwolle.example", "name": "Piet", "role": "coordinator", "organisationId": zwolle})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let user_id = created["user"]["id"].as_i64().unwrap();
    assert_eq!(created["user"]["email"], "piet@zwolle.example");
    assert_eq!(created["user"]["organisationId"], zwolle);
    assert!(
        created.get("password").is_none(),
        "no password in any answer"
    );
    assert!(created["linkExpiresAt"].as_str().is_some(), "{created}");
    // No password yet: nothing logs in until Piet chooses one.
    assert_eq!(login(&app, "piet@zwolle.example", "").await.0, 401);
    let welcome = app.mailed_link("piet@zwolle.example", "/welcome/").await;
    let first_password = "Piet kiest zelf een wachtwoord".to_string();
    let chosen = app.choose_password(&welcome, &first_password).await;
    assert_eq!(chosen.status(), 303);
    assert_eq!(chosen.headers()["location"], "/dashboard");

    // His own password works; it is not stored or logged in clear.
    let (status, token) = login(&app, "piet@zwolle.example", &first_password).await;
    assert_eq!(status, 200);
    let piet = token["accessToken"].as_str().unwrap().to_string();
    let (_, me) = app.send(Method::GET, "/api/v1/me", Some(&piet), None).await;
    assert_eq!(me["organisation"]["code"], "GM0193");
    let (_, audit) = app
        .send(
            Method::GET,
            "/api/v1/admin/audit?limit=100",
            Some(&admin),
            None,
        )
        .await;
    assert!(!audit.to_string().contains(&first_password));

    // Same address in another case; a coordinator without organisation; an admin with one.
    for (body, expected) in [
        (
            json!({"email": "PIET@zwolle.example", "name": "P", "role": "coordinator", "organisationId": zwolle}),
            409,
        ),
        (
            json!({"email": "kees@zwolle.example", "name": "Kees", "role": "coordinator"}),
            400,
        ),
        (
            json!({"email": "kees@zwolle.example", "name": "Kees", "role": "admin", "organisationId": zwolle}),
            400,
        ),
        (
            json!({"email": "kees@zwolle.example", "name": "Kees", "role": "coordinator", "organisationId": 999999}),
            404,
        ),
        (
            json!({"email": "geen-adres", "name": "Kees", "role": "admin"}),
            400,
        ),
    ] {
        let (status, problem) = app
            .send(
                Method::POST,
                "/api/v1/admin/users",
                Some(&admin),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, expected, "{body}: {problem}");
        assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }

    // Moving to another organisation ends the old sessions (the token said Zwolle).
    let (status, moved) = app
        .send(
            Method::PATCH,
            &format!("/api/v1/admin/users/{user_id}"),
            Some(&admin),
            Some(json!({"organisationId": frysl})),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["organisationId"], frysl);
    assert_eq!(
        app.send(Method::GET, "/api/v1/me", Some(&piet), None)
            .await
            .0,
        401
    );
    let (_, token) = login(&app, "piet@zwolle.example", &first_password).await;
    let piet = token["accessToken"].as_str().unwrap().to_string();
    let (status, _) = app
        .send(
            Method::PATCH,
            &format!("/api/v1/organisations/{frysl}"),
            Some(&piet),
            Some(json!({"monthlyHostingCapacity": 4})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .send(
            Method::PATCH,
            &format!("/api/v1/organisations/{zwolle}"),
            Some(&piet),
            Some(json!({"monthlyHostingCapacity": 4})),
        )
        .await;
    assert_eq!(status, 404);

    // Promoted: leaves the organisation, may read the audit log.
    let (status, promoted) = app
        .send(
            Method::PATCH,
            &format!("/api/v1/admin/users/{user_id}"),
            Some(&admin),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(status, 200, "{promoted}");
    assert_eq!(promoted["role"], "admin");
    assert!(promoted["organisationId"].is_null());
    let (_, token) = login(&app, "piet@zwolle.example", &first_password).await;
    let piet = token["accessToken"].as_str().unwrap().to_string();
    assert_eq!(
        app.send(Method::GET, "/api/v1/admin/audit", Some(&piet), None)
            .await
            .0,
        200
    );
    // A rename alone keeps the sessions.
    let (status, _) = app
        .send(
            Method::PATCH,
            &format!("/api/v1/admin/users/{user_id}"),
            Some(&admin),
            Some(json!({"name": "Piet Jansen"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.send(Method::GET, "/api/v1/me", Some(&piet), None)
            .await
            .1["name"],
        "Piet Jansen"
    );

    // Admins cannot lock themselves out.
    let (_, me) = app
        .send(Method::GET, "/api/v1/me", Some(&admin), None)
        .await;
    let admin_id = me["id"].as_i64().unwrap();
    for body in [
        json!({"active": false}),
        json!({"role": "coordinator", "organisationId": zwolle}),
    ] {
        let (status, problem) = app
            .send(
                Method::PATCH,
                &format!("/api/v1/admin/users/{admin_id}"),
                Some(&admin),
                Some(body),
            )
            .await;
        assert_eq!(status, 409, "{problem}");
    }

    // A password reset: the old password and token stop working, the new one works.
    let (status, reset) = app
        .send(
            Method::POST,
            &format!("/api/v1/admin/users/{user_id}/password-reset"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 202, "{reset}");
    assert!(reset.get("password").is_none(), "{reset}");
    // Sessions end when the link is used, not when it is sent.
    assert_eq!(
        app.send(Method::GET, "/api/v1/me", Some(&piet), None)
            .await
            .0,
        200
    );
    let link = app
        .mailed_link("piet@zwolle.example", "/password/reset/")
        .await;
    let second_password = "Piet kiest een tweede wachtwoord";
    let chosen = app.choose_password(&link, second_password).await;
    assert_eq!(chosen.status(), 303);
    assert_eq!(chosen.headers()["location"], "/login?changed=1");
    assert_eq!(
        app.send(Method::GET, "/api/v1/me", Some(&piet), None)
            .await
            .0,
        401
    );
    assert_eq!(
        login(&app, "piet@zwolle.example", &first_password).await.0,
        401
    );
    assert_eq!(
        login(&app, "piet@zwolle.example", second_password).await.0,
        200
    );

    // Deactivated: cannot log in; reactivated: can again.
    let user_path = format!("/api/v1/admin/users/{user_id}");
    let deactivate = |active: bool| {
        app.send(
            Method::PATCH,
            &user_path,
            Some(&admin),
            Some(json!({ "active": active })),
        )
    };
    assert_eq!(deactivate(false).await.0, 200);
    assert_eq!(
        login(&app, "piet@zwolle.example", second_password).await.0,
        401
    );
    assert_eq!(deactivate(true).await.0, 200);
    assert_eq!(
        login(&app, "piet@zwolle.example", second_password).await.0,
        200
    );
    assert_eq!(
        app.send(
            Method::PATCH,
            "/api/v1/admin/users/999999",
            Some(&admin),
            Some(json!({"name": "X"}))
        )
        .await
        .0,
        404
    );

    // Listing pages through every account exactly once.
    let mut seen = Vec::new();
    let mut path = "/api/v1/admin/users?limit=1".to_string();
    loop {
        let (status, page) = app.send(Method::GET, &path, Some(&admin), None).await;
        assert_eq!(status, 200, "{page}");
        for user in page["items"].as_array().unwrap() {
            assert!(user.get("passwordHash").is_none());
            seen.push(user["email"].as_str().unwrap().to_string());
        }
        match page["nextAfter"].as_i64() {
            Some(after) => path = format!("/api/v1/admin/users?limit=1&after={after}"),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique, seen);
    assert!(seen.contains(&"piet@zwolle.example".to_string()));
    assert!(seen.contains(&"beheer@meeloop.example".to_string()));

    let actions = audit_actions(&app, &admin).await;
    for action in [
        "user.created",
        "user.invited",
        "user.updated",
        "user.sign_in_link_sent",
        "user.password_chosen",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
}

async fn users_change_their_own_password(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    let old_token = app.coordinator_token("anne@zwolle.example", "GM0193").await;
    let change = |current: &str, new: &str, token: &str| {
        let body = json!({"currentPassword": current, "newPassword": new});
        let token = token.to_string();
        let app = &app;
        async move {
            app.send(Method::PUT, "/api/v1/me/password", Some(&token), Some(body))
                .await
        }
    };
    let (status, problem) = change("not my password!", "a brand new password", &old_token).await;
    assert_eq!(status, 403, "{problem}");
    let (status, problem) = change(PASSWORD, "too short", &old_token).await;
    assert_eq!(status, 400);
    assert!(
        problem["detail"].as_str().unwrap().contains("newPassword"),
        "{problem}"
    );
    // Neither attempt changed anything.
    assert_eq!(login(&app, "anne@zwolle.example", PASSWORD).await.0, 200);

    let (status, fresh) = change(PASSWORD, "a brand new password", &old_token).await;
    assert_eq!(status, 200, "{fresh}");
    let new_token = fresh["accessToken"].as_str().unwrap();
    assert_eq!(
        app.send(Method::GET, "/api/v1/me", Some(&old_token), None)
            .await
            .0,
        401
    );
    assert_eq!(
        app.send(Method::GET, "/api/v1/me", Some(new_token), None)
            .await
            .0,
        200
    );
    assert_eq!(login(&app, "anne@zwolle.example", PASSWORD).await.0, 401);
    assert_eq!(
        login(&app, "anne@zwolle.example", "a brand new password")
            .await
            .0,
        200
    );
}

async fn partner_clients_are_managed_over_the_api(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    let admin = app.admin_token("beheer@meeloop.example").await;
    let (status, created) = app
        .send(
            Method::POST,
            "/api/v1/admin/partners",
            Some(&admin),
            Some(json!({"name": "VNG Realisatie", "scopes": ["stats:read", "organisations:read"]})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let client_id = created["client"]["clientId"].as_str().unwrap().to_string();
    let secret = created["clientSecret"].as_str().unwrap().to_string();
    assert_eq!(
        created["client"]["scopes"],
        json!(["organisations:read", "stats:read"])
    );

    let token_request = || {
        app.send(
            Method::POST,
            "/api/v1/auth/token",
            None,
            Some(json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})),
        )
    };
    let (status, token) = token_request().await;
    assert_eq!(status, 200, "{token}");
    let partner = token["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        app.send(Method::GET, "/api/v1/partner", Some(&partner), None)
            .await
            .0,
        200
    );

    // Narrowing the scopes ends tokens that carry the removed one.
    let (status, narrowed) = app
        .send(
            Method::PATCH,
            &format!("/api/v1/admin/partners/{client_id}"),
            Some(&admin),
            Some(json!({"scopes": ["stats:read"]})),
        )
        .await;
    assert_eq!(status, 200, "{narrowed}");
    assert_eq!(narrowed["scopes"], json!(["stats:read"]));
    assert_eq!(
        app.send(Method::GET, "/api/v1/partner", Some(&partner), None)
            .await
            .0,
        401
    );
    let (_, token) = token_request().await;
    assert_eq!(token["scope"], "stats:read");

    // Revoked: no tokens, listed as inactive, the secret never listed.
    let (status, _) = app
        .send(
            Method::PATCH,
            &format!("/api/v1/admin/partners/{client_id}"),
            Some(&admin),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(token_request().await.0, 401);
    let (status, list) = app
        .send(Method::GET, "/api/v1/admin/partners", Some(&admin), None)
        .await;
    assert_eq!(status, 200);
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["clientId"] == client_id.as_str())
        .unwrap();
    assert_eq!(listed["active"], false);
    assert!(!list.to_string().contains(&secret));

    for (body, expected) in [
        (json!({"name": "X", "scopes": []}), 400),
        (json!({"name": "X", "scopes": ["stats:write"]}), 400),
        (
            json!({"name": "X", "scopes": ["stats:read organisations:read"]}),
            400,
        ),
        (json!({"name": " ", "scopes": ["stats:read"]}), 400),
    ] {
        let (status, problem) = app
            .send(
                Method::POST,
                "/api/v1/admin/partners",
                Some(&admin),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, expected, "{body}: {problem}");
    }
    assert_eq!(
        app.send(
            Method::PATCH,
            "/api/v1/admin/partners/mp_0000000000000000",
            Some(&admin),
            Some(json!({"active": true}))
        )
        .await
        .0,
        404
    );
    let actions = audit_actions(&app, &admin).await;
    for action in ["partner.created", "partner.updated", "partner.revoked"] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
}
