//! Two-step verification: from an invitation to a login with a code from
//! the app, recovery codes that work once, the API's login, admins who
//! must turn it on, and the rate limit on codes.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{audit_actions, login, spawn_app_with, Backend, TestApp};
use crate::pages::{hidden, Web};

backend_tests!(
    invitation_password_app_code_and_recovery_codes,
    admins_must_turn_it_on_first,
    codes_are_rate_limited,
);

const BERT: &str = "bert@zwolle.example";
const PASSWORD: &str = "Bert zijn eigen wachtwoord";

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The text inside `<code>` after `marker`.
fn code_after(html: &str, marker: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {html}"))
        + marker.len();
    let rest = &html[at..];
    let start = rest.find("<code>").unwrap() + "<code>".len();
    rest[start..].split('<').next().unwrap().to_string()
}

/// Sets two-step verification up on `web`'s account: the secret, the time
/// of the code that confirmed it, and the recovery codes shown once.
async fn enrol(web: &Web<'_>) -> (String, u64, Vec<String>) {
    let page = web.get("/account/two-step").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = hidden(&page.body, "csrf");
    let r = web
        .post(
            "/account/two-step",
            &[("csrf", csrf.clone()), ("action", "start".into())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = web.get("/account/two-step").await;
    // The QR code is drawn in the page: nothing is fetched.
    let svg_at = page.body.find("<svg").expect("an inline QR code");
    assert!(page.body[svg_at..].contains("</svg>"));
    assert!(!page.body.contains("<img"), "no image from elsewhere");
    let secret = code_after(&page.body, "Sleutel:");
    assert!(secret.len() >= 32, "{secret}");
    // A wrong code turns nothing on.
    let r = web
        .post(
            "/account/two-step",
            &[
                ("csrf", csrf.clone()),
                ("action", "confirm".into()),
                ("code", "000000".into()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("de code klopt niet"), "{}", r.body);
    let at = unix_now();
    let code = meeloop::auth::totp::code_at(&secret, at).unwrap();
    let r = web
        .post(
            "/account/two-step",
            &[("csrf", csrf), ("action", "confirm".into()), ("code", code)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let codes: Vec<String> = r
        .body
        .split("<li><code>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 10, "{}", r.body);
    (secret, at, codes)
}

/// Logs in with the password on the page; the answer (to the second step).
async fn password_step(web: &Web<'_>, email: &str, password: &str) -> crate::pages::Answer {
    let csrf = web.login_form().await;
    web.post(
        "/login",
        &[
            ("csrf", csrf),
            ("email", email.into()),
            ("password", password.into()),
            ("next", "/dashboard".into()),
        ],
    )
    .await
}

async fn code_step(web: &Web<'_>, code: &str) -> crate::pages::Answer {
    let form = web.get("/login/two-step?next=/dashboard").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = hidden(&form.body, "csrf");
    web.post(
        "/login/two-step",
        &[
            ("csrf", csrf),
            ("code", code.into()),
            ("next", "/dashboard".into()),
        ],
    )
    .await
}

async fn log_out(web: &Web<'_>) {
    let csrf = web.csrf_on("/dashboard").await;
    assert_eq!(
        web.post("/logout", &[("csrf", csrf)]).await.status,
        StatusCode::SEE_OTHER
    );
}

async fn invited(app: &TestApp) -> Web<'_> {
    let admin = app.admin_token("beheer@meeloop.example").await;
    let zwolle = app.organisation_id("GM0193").await;
    let (status, answer) = app
        .post_as(
            "/api/v1/admin/users",
            &admin,
            json!({"email": BERT, "name": "Bert", "role": "coordinator", "organisationId": zwolle}),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    let link = app.mailed_link(BERT, "/welcome/").await;
    let web = Web::new(app);
    let path = link.trim_start_matches(&app.address).to_string();
    let csrf = hidden(&web.get(&path).await.body, "csrf");
    let r = web
        .post(
            &path,
            &[
                ("csrf", csrf),
                ("password", PASSWORD.into()),
                ("repeat", PASSWORD.into()),
            ],
        )
        .await;
    assert_eq!(r.location(), "/dashboard");
    web
}

async fn invitation_password_app_code_and_recovery_codes(backend: Backend) {
    // Many codes are tried here on purpose; the limit has a test of its own.
    let app = spawn_app_with(backend, |f| {
        f.merge(("auth.two_step.burst", 100))
            .merge(("auth.login_burst", 100))
    })
    .await;
    meeloop::service::demo::load(&mut app.db.pool.get().unwrap()).unwrap();
    let web = invited(&app).await;
    let (secret, enrolled_at, codes) = enrol(&web).await;
    let page = web.get("/account/two-step").await;
    assert!(page.body.contains("Herstelcodes over: 10"), "{}", page.body);
    assert!(!page.body.contains(&codes[0]), "codes are shown once");
    log_out(&web).await;

    // The password alone does not log in: on to the code.
    let r = password_step(&web, BERT, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        r.location().starts_with("/login/two-step"),
        "{}",
        r.location()
    );
    assert!(r.cookie("meeloop_session").is_none());
    assert_eq!(web.get("/dashboard").await.status, StatusCode::SEE_OTHER);
    // The code that turned it on was used; the app's next code works.
    let used = meeloop::auth::totp::code_at(&secret, enrolled_at).unwrap();
    let r = code_step(&web, &used).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    let next = meeloop::auth::totp::code_at(&secret, enrolled_at + 30).unwrap();
    let r = code_step(&web, &next).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/dashboard");
    assert_eq!(web.get("/dashboard").await.status, StatusCode::OK);
    log_out(&web).await;

    // A recovery code works once (typed in upper case, with spaces).
    password_step(&web, BERT, PASSWORD).await;
    let typed = codes[0].to_uppercase().replace('-', " ");
    let r = code_step(&web, &typed).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    log_out(&web).await;
    password_step(&web, BERT, PASSWORD).await;
    let r = code_step(&web, &codes[0]).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "a second use: {}",
        r.body
    );
    assert_eq!(web.get("/dashboard").await.status, StatusCode::SEE_OTHER);

    // The API's login: the code goes with the password.
    let (status, problem) = login(&app, BERT, PASSWORD).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (401, Some("second_step_needed"))
    );
    let with = |code: &str| {
        app.send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": BERT, "password": PASSWORD, "code": code})),
        )
    };
    let (status, token) = with(&codes[1]).await;
    assert_eq!(status, 200, "{token}");
    let (status, problem) = with(&codes[1]).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (401, Some("bad_second_step"))
    );
    let (status, problem) = with("not a code").await;
    assert_eq!(status, 401, "{problem}");

    let admin = app.admin_token("tweede@meeloop.example").await;
    let actions = audit_actions(&app, &admin).await;
    for action in [
        "two_step.enabled",
        "two_step.code_refused",
        "login.succeeded",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
    let audit = app
        .json_as("/api/v1/admin/audit?limit=100", &admin)
        .await
        .1
        .to_string();
    assert!(
        audit.contains("recovery_code") && audit.contains("\"two_step\""),
        "{audit}"
    );
    for secret_thing in [&secret, &codes[2], &PASSWORD.to_string()] {
        assert!(
            !audit.contains(secret_thing.as_str()),
            "no secrets in the audit log"
        );
    }

    // Renewing the recovery codes needs a code; the old ones stop working.
    password_step(&web, BERT, PASSWORD).await;
    assert_eq!(
        code_step(&web, &codes[2]).await.status,
        StatusCode::SEE_OTHER
    );
    let csrf = web.csrf_on("/account/two-step").await;
    let r = web
        .post(
            "/account/two-step",
            &[
                ("csrf", csrf),
                ("action", "renew".into()),
                ("code", codes[3].clone()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body.matches("<li><code>").count(), 10);
    assert_eq!(
        with(&codes[4]).await.0,
        401,
        "the old codes stopped working"
    );
}

async fn admins_must_turn_it_on_first(backend: Backend) {
    let app = spawn_app_with(backend, |f| {
        f.merge(("auth.two_step.required_for_admins", true))
    })
    .await;
    meeloop::service::demo::load(&mut app.db.pool.get().unwrap()).unwrap();
    meeloop::service::accounts::create_user(
        &mut app.db.pool.get().unwrap(),
        &meeloop::service::accounts::NewAccount {
            email: "beheer@meeloop.example".into(),
            name: "Bea Beheer".into(),
            role: meeloop::domain::account::Role::Admin,
            organisation: None,
            password: meeloop::domain::account::Password::parse("a long enough password").unwrap(),
        },
    )
    .unwrap();
    // No API token without it.
    let (status, problem) = login(&app, "beheer@meeloop.example", "a long enough password").await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (403, Some("two_step_required")),
        "{problem}"
    );
    // The pages send the admin to set it up, whatever they asked for.
    let web = Web::new(&app).logged_in("beheer@meeloop.example").await;
    for path in ["/dashboard", "/admin/users", "/account"] {
        let r = web.get(path).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.location(), "/account/two-step", "{path}");
    }
    let page = web.get("/account/two-step").await;
    assert!(page
        .body
        .contains("Beheerders moeten verificatie in twee stappen gebruiken"));
    let (secret, at, _) = enrol(&web).await;
    assert_eq!(web.get("/admin/users").await.status, StatusCode::OK);
    // It stays on: no form to turn it off, and a forged one is refused.
    let page = web.get("/account/two-step").await;
    assert!(!page.body.contains("value=\"off\""), "{}", page.body);
    let code = meeloop::auth::totp::code_at(&secret, at + 30).unwrap();
    let r = web
        .post(
            "/account/two-step",
            &[
                ("csrf", hidden(&page.body, "csrf")),
                ("action", "off".into()),
                ("code", code.clone()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // With the second step the API login works.
    let (status, token) = app
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "beheer@meeloop.example", "password": "a long enough password", "code": code})),
        )
        .await;
    assert_eq!(status, 200, "{token}");
}

async fn codes_are_rate_limited(backend: Backend) {
    let app = spawn_app_with(backend, |f| {
        f.merge(("auth.two_step.burst", 3))
            .merge(("auth.two_step.refill_ms", 600_000))
    })
    .await;
    meeloop::service::demo::load(&mut app.db.pool.get().unwrap()).unwrap();
    let web = invited(&app).await;
    let (secret, at, _) = enrol(&web).await;
    log_out(&web).await;
    password_step(&web, BERT, PASSWORD).await;
    // The enrolment counted two (a wrong code, the right one); one more
    // wrong code, then the limit.
    let r = code_step(&web, "111111").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    let right = meeloop::auth::totp::code_at(&secret, at + 30).unwrap();
    let r = code_step(&web, &right).await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even a right code waits: {}",
        r.body
    );
    let wait: u64 = r.retry_after().parse().unwrap();
    assert!(wait >= 1, "{wait}");
}
