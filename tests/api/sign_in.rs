//! Invitations and "forgot password": single-use links that survive link
//! scanners, the same answer for known and unknown addresses, every
//! session ended by a reset, and no password in any answer.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{audit_actions, login, mails, spawn_app_with, Backend};
use crate::pages::{hidden, Web};
use crate::visits::{coordinator, demo_app};

backend_tests!(
    an_invitation_link_survives_scanners_and_signs_in_once,
    forgot_password_answers_the_same_for_known_and_unknown_addresses,
    a_reset_ends_every_session_and_its_link_works_once,
    coordinators_invite_colleagues_only_when_allowed,
);

/// Posts a choose-password form to `path` with `csrf`.
async fn post_password(
    web: &Web<'_>,
    path: &str,
    csrf: &str,
    (password, repeat): (&str, &str),
) -> crate::pages::Answer {
    web.post(
        path,
        &[
            ("csrf", csrf.to_string()),
            ("password", password.into()),
            ("repeat", repeat.into()),
        ],
    )
    .await
}

async fn an_invitation_link_survives_scanners_and_signs_in_once(backend: Backend) {
    let app = demo_app(backend).await;
    let admin = app.admin_token("beheer@meeloop.example").await;
    let zwolle = app.organisation_id("GM0193").await;
    let (status, invited) = app
        .post_as(
            "/api/v1/admin/users",
            &admin,
            json!({"email": "bert@zwolle.example", "name": "Bert Jansen",
                "role": "coordinator", "organisationId": zwolle}),
        )
        .await;
    assert_eq!(status, 201, "{invited}");
    let link = app.mailed_link("bert@zwolle.example", "/welcome/").await;
    assert!(
        link.starts_with(&format!("{}/welcome/", app.address)),
        "{link}"
    );
    let token = link.rsplit('/').next().unwrap();
    {
        // Only the token's hash is stored.
        let mut conn = app.db.pool.get().unwrap();
        let cells = crate::helpers::dump_texts(&mut conn);
        assert!(
            cells
                .iter()
                .all(|c| c.table == "outbox" || !c.text.contains(token)),
            "the plain token is only in the email"
        );
        let welcome = mails(&mut conn)
            .into_iter()
            .find(|(to, template, _)| to == "bert@zwolle.example" && template == "welcome")
            .expect("a welcome email");
        assert!(welcome.2.contains("Bert Jansen"), "{}", welcome.2);
    }

    // A link scanner: GETs and a HEAD show the form and use nothing.
    for _ in 0..3 {
        let page = app.client.get(&link).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers()["cache-control"], "no-store");
        let html = page.text().await.unwrap();
        assert!(html.contains("bert@zwolle.example"), "{html}");
        assert!(html.contains("Minstens 12"), "the policy is shown: {html}");
    }
    assert_eq!(
        app.client.head(&link).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(login(&app, "bert@zwolle.example", "").await.0, 401);

    // Posts that fail change nothing: no form token, passwords that differ
    // or are too short.
    let web = Web::new(&app);
    let path = link.trim_start_matches(&app.address).to_string();
    let own = "Bert zijn eigen wachtwoord";
    let r = post_password(&web, &path, "", (own, own)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "no form token");
    let csrf = hidden(&web.get(&path).await.body, "csrf");
    for (password, repeat, says) in [
        ("Bert zijn eigen wachtwoord", "iets anders", "niet gelijk"),
        ("kort", "kort", "minstens 12"),
    ] {
        let r = post_password(&web, &path, &csrf, (password, repeat)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains(says), "{}", r.body);
        assert!(!r.body.contains("Bert zijn eigen wachtwoord"), "not echoed");
    }

    // Chosen: signed in (a session cookie), the dashboard opens.
    let r = post_password(&web, &path, &csrf, (own, own)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/dashboard");
    assert!(r.cookie("meeloop_session").is_some());
    let dashboard = web.get("/dashboard").await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert!(dashboard.body.contains("Bert Jansen"), "{}", dashboard.body);
    assert_eq!(
        login(&app, "bert@zwolle.example", "Bert zijn eigen wachtwoord")
            .await
            .0,
        200
    );

    // Used: the link shows nothing any more and takes no second password.
    assert_eq!(
        app.client.get(&link).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let again = Web::new(&app);
    let csrf = hidden(&again.get("/password/forgot").await.body, "csrf");
    let other = "Iemand anders probeert het";
    let r = post_password(&again, &path, &csrf, (other, other)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        login(&app, "bert@zwolle.example", "Iemand anders probeert het")
            .await
            .0,
        401
    );
    let actions = audit_actions(&app, &admin).await;
    for action in ["user.invited", "user.password_chosen", "login.succeeded"] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
    let audit = app
        .json_as("/api/v1/admin/audit?limit=100", &admin)
        .await
        .1
        .to_string();
    assert!(!audit.contains("Bert zijn eigen wachtwoord"));
    assert!(!audit.contains(token));
}

async fn forgot_password_answers_the_same_for_known_and_unknown_addresses(backend: Backend) {
    let app = demo_app(backend).await;
    let admin = app.admin_token("beheer@meeloop.example").await;
    coordinator(&app, "anne@sudwestfryslan.example", "GM1900");

    // Over the API: the same status, headers and (empty) body.
    let ask = |email: &'static str| {
        app.client
            .post(format!("{}/api/v1/auth/password-reset", app.address))
            .json(&json!({ "email": email }))
            .send()
    };
    let known = ask("anne@sudwestfryslan.example").await.unwrap();
    let unknown = ask("niemand@sudwestfryslan.example").await.unwrap();
    assert_eq!(known.status(), StatusCode::ACCEPTED);
    assert_eq!(known.status(), unknown.status());
    let names = |r: &reqwest::Response| {
        let mut n: Vec<String> = r
            .headers()
            .keys()
            .filter(|k| *k != "date")
            .map(|k| k.to_string())
            .collect();
        n.sort();
        n
    };
    assert_eq!(names(&known), names(&unknown));
    assert_eq!(known.bytes().await.unwrap(), unknown.bytes().await.unwrap());

    // On the page: the same page for both.
    let page = |email: &'static str| {
        let app = &app;
        async move {
            let web = Web::new(app);
            let csrf = hidden(&web.get("/password/forgot").await.body, "csrf");
            let r = web
                .post(
                    "/password/forgot",
                    &[("csrf", csrf.clone()), ("email", email.into())],
                )
                .await;
            (r.status, r.body.replace(&csrf, ""))
        }
    };
    let (known_status, known_page) = page("anne@sudwestfryslan.example").await;
    let (unknown_status, unknown_page) = page("niemand@sudwestfryslan.example").await;
    assert_eq!(known_status, StatusCode::OK);
    assert_eq!((known_status, &known_page), (unknown_status, &unknown_page));
    assert!(known_page.contains("Als er een account met dit e-mailadres is"));

    // Only the known address gets an email (two: API and page); the
    // unknown one gets nothing, and both are audited.
    let link = app
        .mailed_link("anne@sudwestfryslan.example", "/password/reset/")
        .await;
    assert!(link.contains("/password/reset/"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let actions = audit_actions(&app, &admin).await;
        let count = |a: &str| actions.iter().filter(|x| *x == a).count();
        if count("user.password_reset_requested") == 2 && count("password_reset.no_account") == 2 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{actions:?}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let mut conn = app.db.pool.get().unwrap();
    let all = mails(&mut conn);
    assert_eq!(
        all.iter()
            .filter(|(_, t, _)| t == "password_reset")
            .map(|(to, _, _)| to.as_str())
            .collect::<Vec<_>>(),
        ["anne@sudwestfryslan.example"; 2]
    );
    assert!(all.iter().all(|(to, _, _)| !to.starts_with("niemand")));

    // An address no account can have: the same answer, nothing sent; a
    // body without one is a 400 naming the field.
    let (status, answer) = app
        .send(
            Method::POST,
            "/api/v1/auth/password-reset",
            None,
            Some(json!({"email": "geen adres"})),
        )
        .await;
    assert_eq!(status, 202, "{answer}");
    let (status, problem) = app
        .send(
            Method::POST,
            "/api/v1/auth/password-reset",
            None,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 400, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("email"),
        "{problem}"
    );
    assert_eq!(mails(&mut conn).len(), all.len(), "nothing more was sent");
}

async fn a_reset_ends_every_session_and_its_link_works_once(backend: Backend) {
    let app = spawn_app_with(backend, |f| f.merge(("auth.reset_burst", 2))).await;
    meeloop::service::demo::load(&mut app.db.pool.get().unwrap()).unwrap();
    let token = app
        .coordinator_token("anne@sudwestfryslan.example", "GM1900")
        .await;
    let anne = meeloop::domain::account::UserId(
        app.json_as("/api/v1/me", &token).await.1["id"]
            .as_i64()
            .unwrap(),
    );
    let browser = Web::new(&app)
        .logged_in("anne@sudwestfryslan.example")
        .await;
    assert_eq!(browser.get("/dashboard").await.status, StatusCode::OK);

    let forgot = Web::new(&app);
    let csrf = hidden(&forgot.get("/password/forgot").await.body, "csrf");
    let r = forgot
        .post(
            "/password/forgot",
            &[
                ("csrf", csrf.clone()),
                ("email", "ANNE@sudwestfryslan.example".into()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let first = app
        .mailed_link("anne@sudwestfryslan.example", "/password/reset/")
        .await;
    // A second request: only the newest link works.
    let r = forgot
        .post(
            "/password/forgot",
            &[
                ("csrf", csrf.clone()),
                ("email", "anne@sudwestfryslan.example".into()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let second = loop {
        let link = app
            .mailed_link("anne@sudwestfryslan.example", "/password/reset/")
            .await;
        if link != first {
            break link;
        }
        assert!(std::time::Instant::now() < deadline, "a second link");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(
        app.client.get(&first).send().await.unwrap().status(),
        StatusCode::NOT_FOUND,
        "the older link stopped working"
    );
    // The third within the burst of 2: refused, with Retry-After.
    let r = app
        .client
        .post(format!("{}/api/v1/auth/password-reset", app.address))
        .json(&json!({"email": "anne@sudwestfryslan.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));

    // Scanners change nothing; the session and token still work until the
    // link is used.
    for _ in 0..2 {
        assert_eq!(
            app.client.get(&second).send().await.unwrap().status(),
            StatusCode::OK
        );
        assert_eq!(
            app.client.head(&second).send().await.unwrap().status(),
            StatusCode::OK
        );
    }
    assert_eq!(app.json_as("/api/v1/me", &token).await.0, 200);
    let chosen = app
        .choose_password(&second, "Anne heeft een nieuw wachtwoord")
        .await;
    assert_eq!(chosen.status(), StatusCode::SEE_OTHER);
    assert_eq!(chosen.headers()["location"], "/login?changed=1");

    // Every session and token ended; the old password no longer works.
    assert_eq!(app.json_as("/api/v1/me", &token).await.0, 401);
    let r = browser.get("/dashboard").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "the browser session ended");
    assert_eq!(
        login(
            &app,
            "anne@sudwestfryslan.example",
            "a long enough password"
        )
        .await
        .0,
        401
    );
    assert_eq!(
        login(
            &app,
            "anne@sudwestfryslan.example",
            "Anne heeft een nieuw wachtwoord"
        )
        .await
        .0,
        200
    );
    // Used once: a second use is refused.
    assert_eq!(
        app.client.get(&second).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let late = Web::new(&app);
    let csrf = hidden(&late.get("/password/forgot").await.body, "csrf");
    let path = second.trim_start_matches(&app.address).to_string();
    let other = "Nog een ander wachtwoord!";
    let r = post_password(&late, &path, &csrf, (other, other)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // An expired link shows nothing.
    let expired = meeloop::auth::links::new_token();
    {
        let mut conn = app.db.pool.get().unwrap();
        let past = meeloop::db::now() - chrono::Duration::minutes(1);
        meeloop::db::sign_in::insert(
            &mut conn,
            anne,
            meeloop::domain::account::SignInPurpose::Reset,
            &expired.hash,
            past,
            past - chrono::Duration::hours(1),
        )
        .unwrap();
    }
    let url = format!("{}/password/reset/{}", app.address, expired.plain);
    assert_eq!(
        app.client.get(&url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    // And an invitation's token is no reset link (nor the other way round).
    let welcome = format!(
        "{}/welcome/{}",
        app.address,
        second.rsplit('/').next().unwrap()
    );
    assert_eq!(
        app.client.get(&welcome).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

async fn coordinators_invite_colleagues_only_when_allowed(backend: Backend) {
    for allowed in [false, true] {
        let app = spawn_app_with(backend, |f| {
            f.merge(("auth.sign_in.coordinators_invite", allowed))
        })
        .await;
        meeloop::service::demo::load(&mut app.db.pool.get().unwrap()).unwrap();
        let anne = app
            .coordinator_token("anne@sudwestfryslan.example", "GM1900")
            .await;
        let own = app.organisation_id("GM1900").await;
        let other = app.organisation_id("GM0193").await;
        let (status, answer) = app
            .post_as(
                &format!("/api/v1/organisations/{own}/members"),
                &anne,
                json!({"email": "collega@sudwestfryslan.example", "name": "Collega"}),
            )
            .await;
        if allowed {
            assert_eq!(status, 201, "{answer}");
            assert_eq!(answer["user"]["role"], "coordinator");
            assert_eq!(answer["user"]["organisationId"], own);
            assert!(answer.get("password").is_none());
            app.mailed_link("collega@sudwestfryslan.example", "/welcome/")
                .await;
        } else {
            assert_eq!(status, 403, "{answer}");
            assert_eq!(answer["code"], "may_not_invite");
        }
        // Never into another organisation, whatever the body says.
        for body in [json!({"email": "x@zwolle.example", "name": "X"}), json!({})] {
            let (status, answer) = app
                .post_as(
                    &format!("/api/v1/organisations/{other}/members"),
                    &anne,
                    body,
                )
                .await;
            assert_eq!(status, 403, "{answer}");
        }
        // The same on the pages: a link on the organisation page and a form.
        let web = Web::new(&app)
            .logged_in("anne@sudwestfryslan.example")
            .await;
        let organisation = web.get("/organisation").await;
        assert_eq!(
            organisation.body.contains("/organisation/members"),
            allowed,
            "the link only when allowed"
        );
        let form = web.get("/organisation/members").await;
        if allowed {
            assert_eq!(form.status, StatusCode::OK);
            let csrf = hidden(&form.body, "csrf");
            let r = web
                .post(
                    "/organisation/members",
                    &[
                        ("csrf", csrf),
                        ("email", "tweede@sudwestfryslan.example".into()),
                        ("name", "Tweede Collega".into()),
                    ],
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert!(r
                .body
                .contains("Er is een e-mail gestuurd naar tweede@sudwestfryslan.example"));
            app.mailed_link("tweede@sudwestfryslan.example", "/welcome/")
                .await;
        } else {
            assert_eq!(form.status, StatusCode::FORBIDDEN);
        }
        let mut conn = app.db.pool.get().unwrap();
        assert_eq!(
            meeloop::db::users::id_by_email(&mut conn, "x@zwolle.example").unwrap(),
            None
        );
    }
}
