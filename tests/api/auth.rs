//! Accounts, login tokens and the attacks a token must withstand.

use chrono::Utc;
use jsonwebtoken::{encode, EncodingKey, Header};
use meeloop::domain::account::{Password, Role};
use meeloop::service::accounts::{create_user, NewAccount};
use meeloop::service::ServiceError;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{login, spawn_app_with, spawn_demo_app, Backend, TestApp};

backend_tests!(
    login_me_and_logout,
    wrong_password_and_unknown_email_get_the_same_answer,
    password_rules_and_unique_emails,
    forged_and_misused_tokens_are_refused,
    the_signing_key_survives_a_restart,
    login_attempts_are_rate_limited_per_address_and_account,
    each_token_subject_has_its_own_request_budget,
);

const PASSWORD: &str = "a long enough password";

fn add_user(app: &TestApp, email: &str, role: Role, organisation: Option<&str>) {
    create_user(
        &mut app.db.pool.get().unwrap(),
        &NewAccount {
            email: email.into(),
            name: "Test Gebruiker".into(),
            role,
            organisation: organisation.map(str::to_string),
            password: Password::parse(PASSWORD).unwrap(),
        },
    )
    .expect("create user");
}

async fn get_with(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    let response = app
        .client
        .get(format!("{}{}", app.address, path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    if status == 401 {
        assert!(response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer"));
    }
    (status, response.json().await.unwrap())
}

async fn login_me_and_logout(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    add_user(
        &app,
        "Anne@SudwestFryslan.example",
        Role::Coordinator,
        Some("gm1900"),
    );

    // Email addresses are case-insensitive.
    let (status, body) = login(&app, "anne@sudwestfryslan.EXAMPLE", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["tokenType"], "Bearer");
    let expires_in = body["expiresIn"].as_i64().unwrap();
    assert!((3000..=3600).contains(&expires_in));
    let token = body["accessToken"].as_str().unwrap().to_string();

    let (status, me) = get_with(&app, "/api/v1/me", &token).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["email"], "anne@sudwestfryslan.example");
    assert_eq!(me["role"], "coordinator");
    assert_eq!(me["organisation"]["code"], "GM1900");

    // Without a token: 401 with a challenge.
    let (status, code, _) = app.problem("/api/v1/me").await;
    assert_eq!((status, code.as_str()), (401, "unauthorized"));

    // Logging out revokes this token and any other issued before.
    let (_, second) = login(&app, "anne@sudwestfryslan.example", PASSWORD).await;
    let second = second["accessToken"].as_str().unwrap().to_string();
    let response = app
        .client
        .post(format!("{}/api/v1/auth/logout", app.address))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(get_with(&app, "/api/v1/me", &token).await.0, 401);
    assert_eq!(get_with(&app, "/api/v1/me", &second).await.0, 401);
    // A fresh login works again.
    let (status, body) = login(&app, "anne@sudwestfryslan.example", PASSWORD).await;
    assert_eq!(status, 200);
    assert_eq!(
        get_with(&app, "/api/v1/me", body["accessToken"].as_str().unwrap())
            .await
            .0,
        200
    );
}

async fn wrong_password_and_unknown_email_get_the_same_answer(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    add_user(&app, "admin@meeloop.test", Role::Admin, None);
    let wrong_password = login(&app, "admin@meeloop.test", "not the password at all").await;
    let unknown_email = login(&app, "nobody@meeloop.test", PASSWORD).await;
    let not_an_email = login(&app, "nobody", PASSWORD).await;
    assert_eq!(wrong_password.0, 401);
    assert_eq!(wrong_password, unknown_email);
    assert_eq!(wrong_password, not_an_email);

    // A malformed body is a 400 that says what is wrong.
    let response = app
        .client
        .post(format!("{}/api/v1/auth/login", app.address))
        .json(&json!({"email": "admin@meeloop.test", "password": PASSWORD, "remember": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["detail"].as_str().unwrap().contains("remember"),
        "{body}"
    );
}

async fn password_rules_and_unique_emails(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    add_user(
        &app,
        "jan@zwolle.example",
        Role::Coordinator,
        Some("GM0193"),
    );
    let account = |email: &str, role, org: Option<&str>| NewAccount {
        email: email.into(),
        name: "Jan".into(),
        role,
        organisation: org.map(str::to_string),
        password: Password::parse(PASSWORD).unwrap(),
    };
    let mut conn = app.db.pool.get().unwrap();
    assert!(matches!(
        create_user(
            &mut conn,
            &account("JAN@zwolle.example", Role::Coordinator, Some("GM0193"))
        ),
        Err(ServiceError::Refused(
            meeloop::domain::refusal::Refusal::Account(
                meeloop::domain::refusal::AccountRefusal::EmailInUse { .. }
            )
        ))
    ));
    assert!(matches!(
        create_user(
            &mut conn,
            &account("x@zwolle.example", Role::Coordinator, None)
        ),
        Err(ServiceError::Invalid(_))
    ));
    assert!(matches!(
        create_user(
            &mut conn,
            &account("y@zwolle.example", Role::Coordinator, Some("GM9999"))
        ),
        Err(ServiceError::Invalid(_))
    ));
    assert!(Password::parse("elevenchars").is_err());
    // The whole password counts: a 128-character password differing only in its last character fails.
    let long = "p".repeat(127) + "q";
    create_user(
        &mut conn,
        &NewAccount {
            password: Password::parse(&long).unwrap(),
            ..account("long@zwolle.example", Role::Admin, None)
        },
    )
    .unwrap();
    assert_eq!(
        login(&app, "long@zwolle.example", &("p".repeat(127) + "r"))
            .await
            .0,
        401
    );
    assert_eq!(login(&app, "long@zwolle.example", &long).await.0, 200);
}

fn signing_key(app: &TestApp) -> Vec<u8> {
    std::fs::read_to_string(app.db.data_dir.path().join(meeloop::auth::jwt::KEY_FILE))
        .unwrap()
        .trim()
        .as_bytes()
        .to_vec()
}

fn b64(value: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

async fn forged_and_misused_tokens_are_refused(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    add_user(
        &app,
        "eve@zwolle.example",
        Role::Coordinator,
        Some("GM0193"),
    );
    let (_, body) = login(&app, "eve@zwolle.example", PASSWORD).await;
    let good = body["accessToken"].as_str().unwrap().to_string();
    assert_eq!(get_with(&app, "/api/v1/me", &good).await.0, 200);

    let key = signing_key(&app);
    let parts: Vec<&str> = good.split('.').collect();
    let claims: Value = {
        use base64::Engine;
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(parts[1])
                .unwrap(),
        )
        .unwrap()
    };
    let now = Utc::now().timestamp();
    let with = |changes: Value| {
        let mut c = claims.clone();
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c
    };
    let sign = |c: &Value, key: &[u8]| {
        encode(&Header::default(), c, &EncodingKey::from_secret(key)).unwrap()
    };

    let attacks: Vec<(&str, String)> = vec![
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "JWT"})),
                parts[1]
            ),
        ),
        (
            "wrong signature",
            sign(&claims, b"another key that is long enough, really"),
        ),
        (
            "tampered claims",
            format!(
                "{}.{}.{}",
                parts[0],
                b64(&with(json!({"role": "admin"}))),
                parts[2]
            ),
        ),
        (
            "expired",
            sign(&with(json!({"exp": now - 3600, "iat": now - 7200})), &key),
        ),
        ("no exp", sign(&with(json!({"exp": null})), &key)),
        ("no iat", sign(&with(json!({"iat": null})), &key)),
        ("no jti", sign(&with(json!({"jti": null})), &key)),
        (
            "wrong audience",
            sign(&with(json!({"aud": "meeloop:partner"})), &key),
        ),
        (
            "wrong issuer",
            sign(&with(json!({"iss": "someone-else"})), &key),
        ),
        ("another user", sign(&with(json!({"sub": "999999"})), &key)),
        ("old token version", sign(&with(json!({"ver": -1})), &key)),
        (
            "RS256 header on the HS key",
            format!(
                "{}.{}.{}",
                b64(&json!({"alg": "RS256", "typ": "JWT"})),
                parts[1],
                parts[2]
            ),
        ),
        ("garbage", "not.a.token".to_string()),
    ];
    for (name, token) in attacks {
        let (status, body) = get_with(&app, "/api/v1/me", &token).await;
        assert_eq!(status, 401, "{name}: {body}");
        // A token only the key could have signed names an account that is
        // gone or changed: its session ended. Everything else is a forgery.
        let expected = match name {
            "another user" | "old token version" => "session_ended",
            _ => "unauthorized",
        };
        assert_eq!(body["code"], expected, "{name}");
    }
    // Sanity: a correctly re-signed, unchanged token is accepted, so the
    // refusals above are about the attack and not the re-signing.
    assert_eq!(
        get_with(&app, "/api/v1/me", &sign(&claims, &key)).await.0,
        200
    );
}

async fn the_signing_key_survives_a_restart(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    add_user(
        &app,
        "kees@zwolle.example",
        Role::Coordinator,
        Some("GM0193"),
    );
    let (_, body) = login(&app, "kees@zwolle.example", PASSWORD).await;
    let token = body["accessToken"].as_str().unwrap().to_string();
    let key_file = app.db.data_dir.path().join(meeloop::auth::jwt::KEY_FILE);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // A second instance on the same data directory and database accepts the token.
    let second = meeloop::app::Application::build(&app.db.settings, app.db.pool.clone()).unwrap();
    let address = format!("http://127.0.0.1:{}", second.port());
    actix_web::rt::spawn(second.run_until_stopped());
    let response = app
        .client
        .get(format!("{address}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

async fn login_from(
    app: &TestApp,
    forwarded_for: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    app.client
        .post(format!("{}/api/v1/auth/login", app.address))
        .header("X-Forwarded-For", forwarded_for)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn login_attempts_are_rate_limited_per_address_and_account(backend: Backend) {
    // Three attempts at once, then one per 2 s; the test client sits behind
    // a "proxy" on 127.0.0.1 so it can speak from several addresses.
    let app = spawn_app_with(backend, |f| {
        f.merge(("auth.login_burst", 3))
            .merge(("auth.login_refill_ms", 2000))
            .merge(("server.trusted_proxies", vec!["127.0.0.1"]))
    })
    .await;
    add_user(&app, "target@zwolle.example", Role::Admin, None);

    for _ in 0..3 {
        assert_eq!(
            login_from(
                &app,
                "203.0.113.1",
                "target@zwolle.example",
                "wrong password!"
            )
            .await
            .status(),
            401
        );
    }
    let limited = login_from(&app, "203.0.113.1", "target@zwolle.example", PASSWORD).await;
    assert_eq!(limited.status(), 429, "even the right password waits");
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["code"], "too_many_requests");

    // Another address may try another account…
    assert_eq!(
        login_from(&app, "203.0.113.2", "other@zwolle.example", PASSWORD)
            .await
            .status(),
        401
    );
    // …but not the account under attack: it has its own limit.
    assert_eq!(
        login_from(&app, "203.0.113.3", "target@zwolle.example", PASSWORD)
            .await
            .status(),
        429
    );
    // A spoofed X-Forwarded-For entry to the left of the proxy's does not help.
    assert_eq!(
        login_from(
            &app,
            "198.51.100.1, 203.0.113.1",
            "someone@zwolle.example",
            PASSWORD
        )
        .await
        .status(),
        429
    );

    // It recovers: wait for the condition (bounded), not for a fixed time.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let response = login_from(&app, "203.0.113.4", "target@zwolle.example", PASSWORD).await;
        if response.status() == 200 {
            break;
        }
        assert_eq!(response.status(), 429);
        assert!(
            std::time::Instant::now() < deadline,
            "the limit never lifted"
        );
        let wait: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(wait <= 2, "Retry-After {wait} s for a 2 s refill");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn each_token_subject_has_its_own_request_budget(backend: Backend) {
    let app = spawn_app_with(backend, |f| {
        f.merge(("auth.api_burst", 3))
            .merge(("auth.api_refill_ms", 60_000))
    })
    .await;
    meeloop::service::demo::load(&mut app.db.pool.get().unwrap()).unwrap();
    let busy = app.coordinator_token("busy@zwolle.example", "GM0193").await;
    let calm = app.coordinator_token("calm@zwolle.example", "GM0193").await;
    for _ in 0..3 {
        assert_eq!(get_with(&app, "/api/v1/me", &busy).await.0, 200);
    }
    let response = app
        .client
        .get(format!("{}/api/v1/me", app.address))
        .bearer_auth(&busy)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Someone else is not affected, and public routes do not count.
    assert_eq!(get_with(&app, "/api/v1/me", &calm).await.0, 200);
    assert_eq!(app.get("/api/v1/topics").await.status(), 200);
}
