//! Single sign-on against a real OpenID provider: the certified Node
//! implementation `oidc-provider` (tests/oidc/provider.mjs, installed by
//! scripts/setup.sh), started here for each test. Over HTTP: a sign-in,
//! then what must be refused (wrong nonce, wrong audience, an expired ID
//! token, a bad signature, an unverified address, an unknown person) and
//! what must just work (new keys at the provider, accounts made when
//! allowed, an admin-linked subject, password login switched off).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{
    audit_actions, login, spawn_app_on, spawn_app_with, test_client, Backend, TestApp,
};
use crate::pages::Web;

backend_tests!(
    a_verified_address_of_a_mapped_domain_signs_in_and_stays_linked,
    tampered_expired_and_unknown_answers_are_refused,
    accounts_are_made_only_when_allowed_and_admins_link_subjects,
    admins_set_up_sign_on_on_their_page,
);

/// A running provider; killed when dropped.
pub struct Provider {
    child: Child,
    pub issuer: String,
    _dir: tempfile::TempDir,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tools() -> std::path::PathBuf {
    std::env::var_os("MEELOOP_TOOLS")
        .map(Into::into)
        .unwrap_or_else(|| {
            std::path::Path::new(&std::env::var("HOME").unwrap()).join(".cache/meeloop")
        })
}

/// Whether the provider can run here; a loud skip on a newcomer's machine,
/// a failure where CI requires it.
pub fn provider_available() -> bool {
    let package = tools().join("oidc/node_modules/oidc-provider/package.json");
    let node = Command::new("node").arg("--version").output().is_ok();
    if node && package.exists() {
        return true;
    }
    let required = ["MEELOOP_REQUIRE_OIDC", "MEELOOP_REQUIRE_BROWSER"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|v| v == "1"));
    assert!(
        !required,
        "no OpenID provider (node and oidc-provider): run scripts/setup.sh"
    );
    eprintln!("SKIPPED: no OpenID provider here (run scripts/setup.sh)");
    false
}

/// The accounts the provider knows.
fn accounts() -> Value {
    json!([
        {"sub": "alice-sub", "email": "alice@zwolle.example", "email_verified": true, "name": "Alice Jansen"},
        {"sub": "carol-sub", "email": "carol@zwolle.example", "email_verified": true, "name": "Carol de Vries"},
        {"sub": "dave-sub", "email": "dave@zwolle.example", "email_verified": false, "name": "Dave"},
        {"sub": "erin-sub", "email": "erin@elders.example", "email_verified": true, "name": "Erin"},
        {"sub": "admin-sub", "email": "beheer@meeloop.example", "email_verified": true, "name": "Bea Beheer"},
    ])
}

pub fn start_provider(callback: &str) -> Provider {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("provider.json");
    std::fs::write(
        &config,
        json!({
            "port": 0,
            "clients": [{"client_id": "meeloop", "client_secret": "test-secret-of-meeloop",
                         "redirect_uris": [callback]}],
            "accounts": accounts(),
        })
        .to_string(),
    )
    .unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc/provider.mjs");
    let mut child = Command::new("node")
        .arg(script)
        .arg(&config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs");
    // The READY line, or a failure after a minute (never a hang).
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = sender.send(line);
    });
    let line = receiver
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the OpenID provider said READY within a minute");
    let issuer = line
        .trim()
        .strip_prefix("READY ")
        .unwrap_or_else(|| panic!("the provider did not start: {line}"))
        .to_string();
    // Keep stdin open: the provider exits when it closes.
    let _ = child.stdin.as_mut().unwrap().flush();
    Provider {
        child,
        issuer,
        _dir: dir,
    }
}

/// The provider and an app configured with it (provider id `test`).
async fn setup(backend: Backend, create_accounts: bool) -> (Provider, TestApp) {
    // The app's port is bound before the provider hears of its callback.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let callback = format!("http://127.0.0.1:{port}/login/sso/test/callback");
    let provider = start_provider(&callback);
    let issuer = provider.issuer.clone();
    let app = spawn_app_on(backend, listener, move |f| {
        f.merge(("auth.login_burst", 100)).merge((
            "auth.oidc",
            json!([{
                "id": "test", "name": "Testprovider", "issuer": issuer,
                "client_id": "meeloop", "client_secret": "test-secret-of-meeloop",
                "create_accounts": create_accounts,
            }]),
        ))
    })
    .await;
    meeloop::service::demo::load(&mut app.db.pool.get().unwrap()).unwrap();
    (provider, app)
}

/// Signs in as `who` at the provider, starting from Meeloop's login page;
/// `before_callback` runs when the provider has answered and before the
/// browser goes back (to tamper with the next ID token). Returns the
/// callback's answer.
async fn sign_in(
    app: &TestApp,
    provider: &Provider,
    web: &Web<'_>,
    who: &str,
    tamper: Option<Value>,
) -> crate::pages::Answer {
    let login_page = web.get("/login").await;
    assert!(
        login_page.body.contains("Inloggen met Testprovider"),
        "{}",
        login_page.body
    );
    let r = web.get("/login/sso/test?next=%2Fdashboard").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let authorize = r.location().to_string();
    assert!(authorize.starts_with(&provider.issuer), "{authorize}");
    assert!(
        authorize.contains("code_challenge_method=S256"),
        "PKCE: {authorize}"
    );
    assert!(authorize.contains("nonce="), "{authorize}");
    // The browser at the provider.
    let browser = test_client(reqwest::Client::builder().cookie_store(true));
    let absolute = |location: &str| {
        if location.starts_with("http") {
            location.to_string()
        } else {
            format!("{}{location}", provider.issuer)
        }
    };
    let r = browser.get(&authorize).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let interaction = absolute(r.headers()["location"].to_str().unwrap());
    let form = browser.get(&interaction).send().await.unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let r = browser
        .post(format!("{interaction}/login"))
        .form(&[("login", who)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let resume = absolute(r.headers()["location"].to_str().unwrap());
    let r = browser.get(&resume).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let back = r.headers()["location"].to_str().unwrap().to_string();
    let prefix = format!("{}/login/sso/test/callback?", app.address);
    assert!(back.starts_with(&prefix), "{back}");
    if let Some(tamper) = tamper {
        let r = test_client(reqwest::Client::builder())
            .post(format!("{}/test/tamper", provider.issuer))
            .json(&tamper)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
    web.get(back.trim_start_matches(&app.address)).await
}

/// Alice, a coordinator of Zwolle with a password; her API token.
async fn alice(app: &TestApp) -> String {
    app.token_named(
        "alice@zwolle.example",
        "Alice Jansen",
        meeloop::domain::account::Role::Coordinator,
        Some("GM0193"),
    )
    .await
}

async fn map_zwolle(app: &TestApp, admin: &str) {
    let zwolle = app.organisation_id("GM0193").await;
    let (status, mapped) = app
        .send(
            Method::PUT,
            "/api/v1/admin/sso/domains/zwolle.example",
            Some(admin),
            Some(json!({"organisationId": zwolle, "provider": "test"})),
        )
        .await;
    assert_eq!(status, 200, "{mapped}");
}

async fn a_verified_address_of_a_mapped_domain_signs_in_and_stays_linked(backend: Backend) {
    if !provider_available() {
        return;
    }
    let (provider, app) = setup(backend, false).await;
    let admin = app.admin_token("beheer@meeloop.example").await;
    let alice_token = alice(&app).await;
    // Without a mapping, an address alone links nothing.
    let web = Web::new(&app);
    let r = sign_in(&app, &provider, &web, "alice-sub", None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("vraag de beheerder"), "{}", r.body);

    map_zwolle(&app, &admin).await;
    let r = sign_in(&app, &provider, &web, "alice-sub", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/dashboard");
    assert!(r.cookie("meeloop_session").is_some());
    assert!(web.get("/dashboard").await.body.contains("Alice"));
    // Logging out ends the local session.
    let csrf = web.csrf_on("/dashboard").await;
    web.post("/logout", &[("csrf", csrf)]).await;
    assert_eq!(web.get("/dashboard").await.status, StatusCode::SEE_OTHER);

    // New keys at the provider (the old ones gone): the next sign-in reads
    // them and works.
    let r = test_client(reqwest::Client::builder())
        .post(format!("{}/test/rotate?drop=1", provider.issuer))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let again = Web::new(&app);
    let r = sign_in(&app, &provider, &again, "alice@zwolle.example", None).await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "after key rotation: {}",
        r.body
    );

    // The organisation switches password login off: passwords are refused
    // (after they were checked), SSO goes on.
    let zwolle = app.organisation_id("GM0193").await;
    let (status, _) = app
        .send(
            Method::PUT,
            &format!("/api/v1/admin/organisations/{zwolle}/password-login"),
            Some(&admin),
            Some(json!({"allowed": false})),
        )
        .await;
    assert_eq!(status, 204);
    let (status, problem) = login(&app, "alice@zwolle.example", "a long enough password").await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (403, Some("password_login_off")),
        "{problem}"
    );
    let (status, problem) = login(&app, "alice@zwolle.example", "wrong password!").await;
    assert_eq!(
        status, 401,
        "a wrong password still says only that: {problem}"
    );
    assert_eq!(
        app.json_as("/api/v1/me", &alice_token).await.0,
        200,
        "sessions stay"
    );
    let third = Web::new(&app);
    let r = sign_in(&app, &provider, &third, "alice-sub", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    let actions = audit_actions(&app, &admin).await;
    for action in [
        "sso.linked",
        "sso.domain_mapped",
        "sso.failed",
        "organisation.password_login",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
}

async fn tampered_expired_and_unknown_answers_are_refused(backend: Backend) {
    if !provider_available() {
        return;
    }
    let (provider, app) = setup(backend, false).await;
    let admin = app.admin_token("beheer@meeloop.example").await;
    alice(&app).await;
    map_zwolle(&app, &admin).await;
    let now = chrono::Utc::now().timestamp();
    for (tamper, says) in [
        (json!({"claims": {"nonce": "not-the-one-we-sent"}}), "nonce"),
        (json!({"claims": {"aud": "someone-else"}}), "audience"),
        (
            json!({"claims": {"exp": now - 600, "iat": now - 4200}}),
            "xpired",
        ),
        (
            json!({"claims": {"iss": "http://127.0.0.1:1/elsewhere"}}),
            "ssuer",
        ),
        (json!({"unsigned_key": true}), "ignature"),
    ] {
        let web = Web::new(&app);
        let r = sign_in(&app, &provider, &web, "alice-sub", Some(tamper.clone())).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{tamper}: {}", r.body);
        assert!(r.body.contains(says), "{tamper}: {}", r.body);
        assert!(r.cookie("meeloop_session").is_none());
        assert_eq!(web.get("/dashboard").await.status, StatusCode::SEE_OTHER);
    }
    // An unverified address, an unknown person, an address of an unmapped
    // domain: refused, each saying what to do.
    for (who, says) in [
        ("dave-sub", "niet bevestigd"),
        ("carol-sub", "geen account"),
        ("erin-sub", "geen account"),
    ] {
        let web = Web::new(&app);
        let r = sign_in(&app, &provider, &web, who, None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}: {}", r.body);
        assert!(r.body.contains(says), "{who}: {}", r.body);
    }
    // A callback nobody began here, or with another state: nothing happens.
    let stranger = Web::new(&app);
    let r = stranger
        .get("/login/sso/test/callback?code=abc&state=xyz")
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = stranger
        .get("/login/sso/nope/callback?code=abc&state=xyz")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn accounts_are_made_only_when_allowed_and_admins_link_subjects(backend: Backend) {
    if !provider_available() {
        return;
    }
    let (provider, app) = setup(backend, true).await;
    let admin = app.admin_token("beheer@meeloop.example").await;
    map_zwolle(&app, &admin).await;
    // Carol has no account: one is made, a coordinator of Zwolle.
    let web = Web::new(&app);
    let r = sign_in(&app, &provider, &web, "carol-sub", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let mut conn = app.db.pool.get().unwrap();
    let carol = meeloop::db::users::id_by_email(&mut conn, "carol@zwolle.example")
        .unwrap()
        .expect("made at the first sign-in");
    let user = meeloop::db::users::find(&mut conn, carol).unwrap().unwrap();
    assert_eq!(user.name, "Carol de Vries");
    assert_eq!(user.role, meeloop::domain::account::Role::Coordinator);
    assert_eq!(
        user.organisation_id.map(|o| o.0),
        Some(app.organisation_id("GM0193").await)
    );
    // Not for an unmapped domain.
    let r = sign_in(&app, &provider, &Web::new(&app), "erin-sub", None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // An admin's address never links by itself; an admin links the subject.
    let r = sign_in(&app, &provider, &Web::new(&app), "admin-sub", None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let admin_id = app.json_as("/api/v1/me", &admin).await.1["id"].clone();
    let (status, problem) = app
        .send(
            Method::PUT,
            &format!("/api/v1/admin/users/{admin_id}/sso"),
            Some(&admin),
            Some(json!({"provider": "test", "subject": "admin-sub"})),
        )
        .await;
    assert_eq!(status, 204, "{problem}");
    let web = Web::new(&app);
    let r = sign_in(&app, &provider, &web, "admin-sub", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(web.get("/admin/users").await.status, StatusCode::OK);
    let (_, overview) = app.json_as("/api/v1/admin/sso", &admin).await;
    assert_eq!(overview["providers"][0]["id"], "test");
    assert_eq!(overview["domains"][0]["domain"], "zwolle.example");
    let (status, _) = app
        .send(
            Method::DELETE,
            "/api/v1/admin/sso/domains/zwolle.example",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 204);
}

/// The whole sign-in in headless Chromium: the button on the login page,
/// the provider's own page, back on the dashboard; the pages pass axe-core.
#[actix_web::test]
async fn a_coordinator_signs_in_through_the_identity_provider_in_chromium() {
    if !crate::browser::browser_available() || !provider_available() {
        return;
    }
    let (provider, app) = setup(Backend::Sqlite, false).await;
    let admin = app.admin_token("beheer@meeloop.example").await;
    alice(&app).await;
    map_zwolle(&app, &admin).await;
    let b = crate::browser::Browser::start(&app.address).await;
    b.goto("/dashboard").await;
    assert!(b.path().await.starts_with("/login"));
    let violations = b.axe().await;
    assert!(violations.is_empty(), "login page with SSO: {violations:?}");
    b.go_text("main a.button", "Inloggen met Testprovider")
        .await;
    // The provider's own login page.
    let url = b.client.current_url().await.unwrap();
    assert!(url.as_str().starts_with(&provider.issuer), "{url}");
    b.fill("#login", "alice@zwolle.example").await;
    b.go("#submit").await;
    assert_eq!(b.path().await, "/dashboard");
    assert!(b.text("header").await.contains("Alice Jansen"));
    b.go("header form.logout button").await;
    assert!(b.path().await.starts_with("/login"), "logged out");
    b.close().await;
}

/// The admin's page: map a domain, link an account's subject, switch
/// password login off; mistakes are named and change nothing. (The
/// provider is configured, never reached.)
async fn admins_set_up_sign_on_on_their_page(backend: Backend) {
    let app = spawn_app_with(backend, |f| {
        f.merge((
            "auth.oidc",
            json!([{"id": "entra", "name": "Entra ID", "issuer": "https://login.example.invalid/t/v2.0",
                    "client_id": "meeloop", "client_secret": "never used here"}]),
        ))
    })
    .await;
    meeloop::service::demo::load(&mut app.db.pool.get().unwrap()).unwrap();
    let admin_token = app.admin_token("beheer@meeloop.example").await;
    alice(&app).await;
    let web = Web::new(&app).logged_in("beheer@meeloop.example").await;
    let page = web.get("/admin/sso").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("https://login.example.invalid/t/v2.0"));
    let csrf = crate::pages::hidden(&page.body, "csrf");
    let post = |fields: Vec<(&'static str, String)>| {
        let mut form = vec![("csrf", csrf.clone())];
        form.extend(fields);
        let web = &web;
        async move { web.post("/admin/sso", &form).await }
    };
    let r = post(vec![
        ("action", "map".into()),
        ("domain", "Zwolle.Example".into()),
        ("organisation", "gm0193".into()),
        ("provider", "entra".into()),
    ])
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    for (fields, says) in [
        (
            vec![
                ("action", "map"),
                ("domain", "geen domein"),
                ("organisation", "GM0193"),
                ("provider", "entra"),
            ],
            "is not an email domain",
        ),
        (
            vec![
                ("action", "map"),
                ("domain", "x.example"),
                ("organisation", "GM0193"),
                ("provider", "google"),
            ],
            "geen identiteitsprovider &#39;google&#39;",
        ),
        (
            vec![
                ("action", "link"),
                ("email", "niemand@zwolle.example"),
                ("provider", "entra"),
                ("subject", "s"),
            ],
            "no account has the address",
        ),
    ] {
        let r = post(
            fields
                .into_iter()
                .map(|(k, v)| (k, v.to_string()))
                .collect(),
        )
        .await;
        assert!(r.status.is_client_error(), "{}", r.body);
        assert!(r.body.contains(says), "{says}: {}", r.body);
    }
    let r = post(vec![
        ("action", "link".into()),
        ("email", "alice@zwolle.example".into()),
        ("provider", "entra".into()),
        ("subject", "alice-at-entra".into()),
    ])
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = post(vec![
        ("action", "password".into()),
        ("organisation", "GM0193".into()),
        ("allowed", "no".into()),
    ])
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (_, overview) = app.json_as("/api/v1/admin/sso", &admin_token).await;
    assert_eq!(
        overview["domains"].as_array().unwrap().len(),
        1,
        "{overview}"
    );
    assert_eq!(overview["domains"][0]["domain"], "zwolle.example");
    let mut conn = app.db.pool.get().unwrap();
    let alice = meeloop::db::users::id_by_email(&mut conn, "alice@zwolle.example")
        .unwrap()
        .unwrap();
    assert_eq!(
        meeloop::db::sso::linked(&mut conn, "entra", "alice-at-entra").unwrap(),
        Some(alice)
    );
    assert!(!meeloop::db::sso::password_login(&mut conn, alice).unwrap());
    let (status, problem) = login(&app, "alice@zwolle.example", "a long enough password").await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (403, Some("password_login_off"))
    );
}
