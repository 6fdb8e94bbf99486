//! The coordinators' pages over plain HTTP: sessions, CSRF, the language
//! switch, and what a page does with bad input. (The browser tests in
//! `web_browser.rs` drive the same pages in Chromium.)

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::visits::{coordinator, demo_app, working_days_ahead};

backend_tests!(
    login_sets_an_httponly_session_cookie_that_the_api_refuses,
    a_form_without_its_sessions_csrf_token_is_refused_and_changes_nothing,
    logging_out_ends_the_session,
    a_wrong_password_comes_back_with_the_address_kept,
    a_request_with_errors_comes_back_with_every_field_kept,
    an_import_and_its_audit_entry_commit_together,
);

/// The audit entry of an upload is written in the import's transaction:
/// when it cannot be written, nothing is imported (before, the rows were
/// committed first and the entry could go missing).
async fn an_import_and_its_audit_entry_commit_together(backend: Backend) {
    use diesel::{QueryDsl, RunQueryDsl};
    use meeloop::db::schema::organisations;
    let app = crate::helpers::spawn_app(backend).await;
    app.admin_token("admin@meeloop.example").await;
    let admin = Web::new(&app).logged_in("admin@meeloop.example").await;
    let csrf = admin.csrf_on("/admin/organisations").await;
    let csv = std::fs::read(crate::helpers::municipalities_csv()).unwrap();
    let post = |body: (String, Vec<u8>)| admin.upload(body);
    // The audit log cannot take entries any more (as if the disk filled up
    // between the rows and the entry).
    let mut conn = app.db.pool.get().unwrap();
    meeloop::db::dispatch!(&mut conn, c => diesel::sql_query("ALTER TABLE audit_log RENAME TO audit_log_away").execute(c)).unwrap();
    let r = post(upload(&csrf, &csv, false)).await.unwrap();
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let count = |conn: &mut meeloop::db::DbConn| -> i64 {
        meeloop::db::dispatch!(conn, c => organisations::table.count().get_result(c)).unwrap()
    };
    assert_eq!(
        count(&mut conn),
        0,
        "nothing imported without its audit entry"
    );
    meeloop::db::dispatch!(&mut conn, c => diesel::sql_query("ALTER TABLE audit_log_away RENAME TO audit_log").execute(c)).unwrap();
    let r = post(upload(&csrf, &csv, false)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(count(&mut conn), 342);
    let audit = admin.get("/admin/audit").await;
    assert!(audit.body.contains("organisations.imported"));
}

#[actix_web::test]
async fn the_language_switch_is_remembered_and_only_goes_back_to_this_site() {
    let app = crate::helpers::spawn_app(Backend::Sqlite).await;
    let web = Web::new(&app);
    let r = web
        .get("/language/en?back=%2Flogin%3Fnext%3D%252Fpeers")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/login?next=%2Fpeers");
    let lang = r.cookie("meeloop_lang").expect("remembered in a cookie");
    assert!(lang.starts_with("meeloop_lang=en;"), "{lang}");
    assert!(lang.contains("Max-Age=31536000"), "a year: {lang}");
    let page = web.with_cookie("meeloop_lang=en").get("/login").await;
    assert!(page.body.contains(r#"<html lang="en">"#));
    assert!(page.body.contains("<h1>Log in</h1>"));
    assert!(page
        .body
        .contains(r#"lang="nl" hreflang="nl">Nederlands</a>"#));
    let dutch = Web::new(&app).get("/login").await;
    assert!(
        dutch.body.contains(r#"<html lang="nl">"#),
        "Dutch by default"
    );
    for evil in [
        "//evil.example/x",
        "/\\evil.example",
        "https://evil.example/",
    ] {
        let q = serde_urlencoded::to_string([("back", evil)]).unwrap();
        let r = web.get(&format!("/language/nl?{q}")).await;
        assert_eq!(r.location(), "/dashboard", "{evil} is not followed");
    }
}

#[actix_web::test]
async fn pages_send_strangers_to_the_login_page_and_back() {
    let app = demo_app(Backend::Sqlite).await;
    let web = Web::new(&app);
    for path in [
        "/dashboard",
        "/peers?topic=cloud-migration",
        "/knowledge",
        "/statistics",
        "/topics/cloud-migration",
        "/organisations/1",
        "/visits/1",
        "/visits/new?host=1&topic=cloud-migration",
    ] {
        let r = web.get(path).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        let next = serde_urlencoded::to_string([("next", path)]).unwrap();
        assert_eq!(r.location(), format!("/login?{next}"), "{path}");
    }
    for path in ["/toegankelijkheid", "/privacy", "/problems", "/login"] {
        assert_eq!(web.get(path).await.status, StatusCode::OK, "{path}");
    }
    // After logging in, the page asked for.
    coordinator(&app, "anne@sudwestfryslan.example", "GM1900");
    let r = web.login("anne@sudwestfryslan.example", "/knowledge").await;
    assert_eq!(r.location(), "/knowledge");
    // A login form that names another site goes to the dashboard instead.
    let r = web
        .login("anne@sudwestfryslan.example", "//evil.example")
        .await;
    assert_eq!(r.location(), "/dashboard");
}

async fn login_sets_an_httponly_session_cookie_that_the_api_refuses(backend: Backend) {
    let app = demo_app(backend).await;
    coordinator(&app, "anne@sudwestfryslan.example", "GM1900");
    let web = Web::new(&app);
    let r = web.login("anne@sudwestfryslan.example", "/dashboard").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let cookie = r.cookie("meeloop_session").expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=28800"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let session = cookie.split(';').next().unwrap().to_string();
    let page = web.with_cookie(&session).get("/dashboard").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Anne de Boer"),
        "the menu names the user"
    );

    // The JSON API takes bearer tokens only: not the cookie, and not the
    // cookie's value as a bearer token.
    let value = session.trim_start_matches("meeloop_session=");
    let me = app
        .client
        .get(format!("{}/api/v1/me", app.address))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .send(reqwest::Method::GET, "/api/v1/me", Some(value), None)
        .await;
    assert_eq!(status, 401, "a session cookie is no bearer token");
    // Nor is an API token a session.
    let token = app.coordinator_token("bram@zwolle.example", "GM0193").await;
    let r = web
        .with_cookie(&format!("meeloop_session={token}"))
        .get("/dashboard")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "to the login page");
}

async fn a_form_without_its_sessions_csrf_token_is_refused_and_changes_nothing(backend: Backend) {
    let app = demo_app(backend).await;
    coordinator(&app, "anne@sudwestfryslan.example", "GM1900");
    coordinator(&app, "bram@zwolle.example", "GM0193");
    let anne = Web::new(&app)
        .logged_in("anne@sudwestfryslan.example")
        .await;
    let bram = Web::new(&app).logged_in("bram@zwolle.example").await;
    let zwolle = app.organisation_id("GM0193").await;
    let day = working_days_ahead(1)[0].to_string();
    let request = |csrf: &str| {
        vec![
            ("csrf", csrf.to_string()),
            ("host", zwolle.to_string()),
            ("topic", "cloud-migration".to_string()),
            ("date1", day.clone()),
            (
                "goal",
                "Hoe pakten jullie de exit uit het datacenter aan?".into(),
            ),
            ("participants", "2".into()),
        ]
    };
    let anne_csrf = anne.csrf_on("/dashboard").await;
    let bram_csrf = bram.csrf_on("/dashboard").await;
    for (what, csrf) in [("no token", ""), ("another session's", bram_csrf.as_str())] {
        let r = anne.post("/visits/new", &request(csrf)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{what}");
        assert!(r.body.contains("Formulier verlopen"), "{what}: {}", r.body);
        assert!(r.body.contains("Er is niets opgeslagen"));
    }
    let visits = anne.get("/dashboard").await;
    assert!(
        visits.body.contains("Jullie verzoeken (0)"),
        "nothing was asked"
    );
    let r = anne.post("/visits/new", &request(&anne_csrf)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(r.location().starts_with("/visits/"));
    let visits = anne.get("/dashboard").await;
    assert!(visits.body.contains("Jullie verzoeken (1)"));
    // Asking again while the first is open: refused, in the page's language.
    let again = anne.post("/visits/new", &request(&anne_csrf)).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(
        again
            .body
            .contains("je hebt Zwolle al gevraagd over Migratie naar de cloud"),
        "{}",
        again.body
    );

    // The login form has its own token, in a cookie of its own.
    let fresh = Web::new(&app);
    let r = fresh
        .post(
            "/login",
            &[
                ("email", "anne@sudwestfryslan.example".into()),
                ("password", "a long enough password".into()),
                ("csrf", "0".repeat(64)),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.cookie("meeloop_session").is_none());
}

async fn logging_out_ends_the_session(backend: Backend) {
    let app = demo_app(backend).await;
    coordinator(&app, "anne@sudwestfryslan.example", "GM1900");
    let anne = Web::new(&app)
        .logged_in("anne@sudwestfryslan.example")
        .await;
    let r = anne.post("/logout", &[("csrf", String::new())]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "not without the token");
    assert_eq!(anne.get("/dashboard").await.status, StatusCode::OK);
    let csrf = anne.csrf_on("/dashboard").await;
    let old_cookie = anne.cookies.borrow().join("; ");
    let r = anne.post("/logout", &[("csrf", csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/login?out=1");
    let removed = r.cookie("meeloop_session").expect("the cookie is cleared");
    assert!(removed.contains("Max-Age=0"), "{removed}");
    // The old cookie, replayed, no longer works.
    let replayed = anne.with_cookie(&old_cookie).get("/dashboard").await;
    assert_eq!(replayed.status, StatusCode::SEE_OTHER);
    assert!(replayed.location().starts_with("/login"));
    let page = Web::new(&app).get("/login?out=1").await;
    assert!(page.body.contains("Je bent uitgelogd."));
}

async fn a_wrong_password_comes_back_with_the_address_kept(backend: Backend) {
    let app = demo_app(backend).await;
    coordinator(&app, "anne@sudwestfryslan.example", "GM1900");
    let web = Web::new(&app);
    let csrf = web.login_form().await;
    let r = web
        .post(
            "/login",
            &[
                ("csrf", csrf),
                ("email", "anne@sudwestfryslan.example".into()),
                ("password", "not the password".into()),
                ("next", "/peers".into()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.cookie("meeloop_session").is_none());
    assert!(r
        .body
        .contains("Het e-mailadres of het wachtwoord klopt niet."));
    assert!(r.body.contains(r#"value="anne@sudwestfryslan.example""#));
    assert!(r
        .body
        .contains(r#"aria-describedby="login-error" aria-invalid="true""#));
    assert!(r.body.contains(r#"name="next" value="/peers""#));
}

async fn a_request_with_errors_comes_back_with_every_field_kept(backend: Backend) {
    let app = demo_app(backend).await;
    coordinator(&app, "anne@sudwestfryslan.example", "GM1900");
    let anne = Web::new(&app)
        .logged_in("anne@sudwestfryslan.example")
        .await;
    let zwolle = app.organisation_id("GM0193").await;
    let form = anne
        .get(&format!("/visits/new?host={zwolle}&topic=cloud-migration"))
        .await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("Meeloopdag aanvragen bij Zwolle"));
    let csrf = hidden(&form.body, "csrf");
    // A Saturday, a goal too short, too many people.
    let mut saturday = working_days_ahead(1)[0];
    while chrono::Datelike::weekday(&saturday) != chrono::Weekday::Sat {
        saturday += chrono::Duration::days(1);
    }
    let r = anne
        .post(
            "/visits/new",
            &[
                ("csrf", csrf),
                ("host", zwolle.to_string()),
                ("topic", "cloud-migration".into()),
                ("date1", saturday.to_string()),
                ("goal", "kort <b>".into()),
                ("participants", "9".into()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("valt in het weekend"), "{}", r.body);
    assert!(r.body.contains("minstens 10 tekens"));
    assert!(r.body.contains("1 tot 5 personen"));
    assert!(
        r.body.contains(&format!(r#"value="{saturday}""#)),
        "date kept"
    );
    assert!(
        r.body.contains("kort &#60;b&#62;</textarea>"),
        "goal kept, escaped"
    );
    assert!(r.body.contains(r#"value="9""#), "participants kept");
    assert!(
        r.body.contains(r##"href="#date1""##),
        "the summary links to the field"
    );
    assert!(anne
        .get("/dashboard")
        .await
        .body
        .contains("Jullie verzoeken (0)"));
    // An unknown host or topic is a page that says so, not a crash.
    assert_eq!(
        anne.get("/visits/new?host=999999&topic=cloud-migration")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        anne.get("/visits/new?host=abc&topic=").await.status,
        StatusCode::NOT_FOUND
    );
}

/// A browser without a browser: keeps cookies, posts forms.
pub struct Web<'a> {
    app: &'a TestApp,
    cookies: std::cell::RefCell<Vec<String>>,
}

pub struct Answer {
    pub status: StatusCode,
    pub body: String,
    set_cookies: Vec<String>,
    location: Option<String>,
    retry_after: Option<String>,
}

impl Answer {
    pub fn location(&self) -> &str {
        self.location.as_deref().unwrap_or("")
    }

    pub fn retry_after(&self) -> &str {
        self.retry_after.as_deref().unwrap_or("")
    }

    /// The whole Set-Cookie line for `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .cloned()
    }
}

/// The value of a hidden form field.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

impl<'a> Web<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Web {
            app,
            cookies: Default::default(),
        }
    }

    pub fn with_cookie(&self, cookie: &str) -> Self {
        Web {
            app: self.app,
            cookies: std::cell::RefCell::new(vec![cookie.to_string()]),
        }
    }

    async fn answer(&self, request: reqwest::RequestBuilder) -> Answer {
        let jar = self.cookies.borrow().join("; ");
        let request = if jar.is_empty() {
            request
        } else {
            request.header(COOKIE, jar)
        };
        let response = request.send().await.unwrap();
        let set_cookies: Vec<String> = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        {
            let mut jar = self.cookies.borrow_mut();
            for c in &set_cookies {
                let pair = c.split(';').next().unwrap().to_string();
                let name = pair.split('=').next().unwrap().to_string();
                jar.retain(|old| !old.starts_with(&format!("{name}=")));
                if !c.contains("Max-Age=0") {
                    jar.push(pair);
                }
            }
        }
        Answer {
            status: response.status(),
            location: response
                .headers()
                .get(LOCATION)
                .map(|v| v.to_str().unwrap().to_string()),
            set_cookies,
            retry_after: response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string()),
            body: response.text().await.unwrap(),
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.answer(self.app.client.get(format!("{}{path}", self.app.address)))
            .await
    }

    pub async fn post(&self, path: &str, form: &[(&str, String)]) -> Answer {
        self.answer(
            self.app
                .client
                .post(format!("{}{path}", self.app.address))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(serde_urlencoded::to_string(form).unwrap()),
        )
        .await
    }

    /// Shows the login form (which sets its token cookie); returns the token.
    pub async fn login_form(&self) -> String {
        hidden(&self.get("/login").await.body, "csrf")
    }

    pub async fn login(&self, email: &str, next: &str) -> Answer {
        let csrf = self.login_form().await;
        self.post(
            "/login",
            &[
                ("csrf", csrf),
                ("email", email.into()),
                ("password", "a long enough password".into()),
                ("next", next.into()),
            ],
        )
        .await
    }

    pub async fn logged_in(self, email: &str) -> Self {
        let r = self.login(email, "/dashboard").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "login: {}", r.body);
        self
    }

    /// Posts a multipart body (see [`upload`]) to the admin's CSV import.
    pub fn upload(
        &self,
        (content_type, body): (String, Vec<u8>),
    ) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> {
        let jar = self.cookies.borrow().join("; ");
        self.app
            .client
            .post(format!("{}/admin/organisations/import", self.app.address))
            .header("Content-Type", content_type)
            .header(COOKIE, jar)
            .body(body)
            .send()
    }

    /// The session's CSRF token, as a page's forms carry it.
    pub async fn csrf_on(&self, path: &str) -> String {
        hidden(&self.get(path).await.body, "csrf")
    }
}

#[actix_web::test]
async fn a_coordinator_keeps_the_profile_and_expertise_up_to_date() {
    let app = demo_app(Backend::Sqlite).await;
    coordinator(&app, "anne@sudwestfryslan.example", "GM1900");
    let anne = Web::new(&app)
        .logged_in("anne@sudwestfryslan.example")
        .await;
    let page = anne.get("/organisation").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<h1>Súdwest-Fryslân</h1>"));
    let csrf = hidden(&page.body, "csrf");
    let profile = |email: &str, capacity: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("name", "Súdwest-Fryslân".to_string()),
            ("contact_email", email.to_string()),
            ("language", "nl".to_string()),
            ("capacity", capacity.to_string()),
            ("size", "90421".to_string()),
        ]
    };
    let r = anne
        .post("/organisation", &profile("geen adres", "99"))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("Dit is geen geldig e-mailadres."));
    assert!(r.body.contains("Een heel getal van 0 tot 31"));
    assert!(r.body.contains(r#"value="geen adres""#), "kept");
    assert!(r.body.contains(r##"href="#contact_email""##));
    let r = anne
        .post(
            "/organisation",
            &profile("meeloop@sudwestfryslan.example", "0"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = anne.get("/organisation?saved=1").await;
    assert!(page.body.contains("Opgeslagen."));
    assert!(page
        .body
        .contains(r#"value="meeloop@sudwestfryslan.example""#));
    let id = app.organisation_id("GM1900").await;
    let (_, org) = app.get_json(&format!("/api/v1/organisations/{id}")).await;
    assert_eq!(org["monthlyHostingCapacity"], 0, "{org}");

    // Expertise: add a topic, then remove it.
    let topic = "integration-platform";
    let r = anne
        .post(
            "/organisation/expertise",
            &[
                ("csrf", csrf.clone()),
                ("topic", topic.into()),
                ("level", "4".into()),
                ("since", "2021".into()),
                ("summary", "Eigen ESB vervangen door een iPaaS.".into()),
                ("willing", "yes".into()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (_, expertise) = app
        .get_json(&format!("/api/v1/organisations/{id}/expertise"))
        .await;
    let added = expertise
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["topic"]["slug"] == topic)
        .cloned()
        .unwrap_or_else(|| panic!("{topic} added: {expertise}"));
    assert_eq!(added["level"], 4);
    let r = anne
        .post(
            "/organisation/expertise",
            &[
                ("csrf", csrf.clone()),
                ("topic", topic.into()),
                ("level", "9".into()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("Kies een niveau van 1 tot 5"), "{}", r.body);
    let r = anne
        .post(
            &format!("/organisation/expertise/{topic}/delete"),
            &[("csrf", csrf.clone())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let (_, expertise) = app
        .get_json(&format!("/api/v1/organisations/{id}/expertise"))
        .await;
    assert!(!expertise.to_string().contains(topic), "{expertise}");
    // Coordinators see no admin pages.
    assert_eq!(anne.get("/admin").await.status, StatusCode::FORBIDDEN);
    assert_eq!(anne.get("/admin/users").await.status, StatusCode::FORBIDDEN);
}

/// A multipart body with the CSRF token, a file and the skip choice.
fn upload(csrf: &str, file: &[u8], skip_invalid: bool) -> (String, Vec<u8>) {
    let boundary = "meeloop-test-boundary";
    let mut body = Vec::new();
    let mut part = |name: &str, filename: Option<&str>, value: &[u8]| {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    };
    part("csrf", None, csrf.as_bytes());
    part("file", Some("organisations.csv"), file);
    if skip_invalid {
        part("skip_invalid", None, b"yes");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[actix_web::test]
async fn an_admin_imports_organisations_and_manages_accounts_and_partners() {
    let app = crate::helpers::spawn_app(Backend::Sqlite).await;
    app.admin_token("admin@meeloop.example").await;
    let admin = Web::new(&app).logged_in("admin@meeloop.example").await;
    let csrf = admin.csrf_on("/admin/organisations").await;
    let csv = std::fs::read(crate::helpers::municipalities_csv()).unwrap();
    let post = |body: (String, Vec<u8>)| admin.upload(body);
    let r = post(upload(&csrf, &csv, false)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("Geïmporteerd: 342 nieuw, 0 bijgewerkt"),
        "{text}"
    );
    let r = post(upload(&csrf, &csv, false)).await.unwrap();
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("0 nieuw, 0 bijgewerkt, 342 ongewijzigd"));
    // As a browser uploads what Excel saved (CRLF): the line a text editor shows.
    let crlf = b"cbs_code,name,province,population,lat,lon,year\r\nGM0363,Amsterdam,Noord-Holland,931298,52.37,4.89,2024\r\nGM9999,Nergens,Atlantis,10,52.0,5.0,2024\r\n";
    let r = post(upload(&csrf, crlf, false)).await.unwrap();
    let text = r.text().await.unwrap();
    assert!(
        text.contains("Regel 3") || text.contains("line 3"),
        "{text}"
    );
    // A bad row stops the file; nothing is written.
    let bad = b"cbs_code,name,province,population,lat,lon,year\nGM9999,Nergens,Atlantis,10,52.0,5.0,2024\n";
    let r = post(upload(&csrf, bad, false)).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let text = r.text().await.unwrap();
    assert!(text.contains("Niets geïmporteerd"), "{text}");
    assert!(
        text.contains("Atlantis"),
        "the row's problem is named: {text}"
    );
    // Without the session's token, no import.
    let r = post(upload("wrong", &csv, false)).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let audit = admin.get("/admin/audit").await;
    assert!(audit.body.contains("organisations.imported"));

    // A coordinator account: invited by email; she chooses her own password.
    let csrf = admin.csrf_on("/admin/users").await;
    let r = admin
        .post(
            "/admin/users",
            &[
                ("csrf", csrf.clone()),
                ("email", "coordinator@amsterdam.example".into()),
                ("name", "Cor Dinator".into()),
                ("role", "coordinator".into()),
                ("organisation", "gm0363".into()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body
            .contains("Er is een e-mail gestuurd naar coordinator@amsterdam.example"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("<code>"), "no password on the page");
    let link = app
        .mailed_link("coordinator@amsterdam.example", "/welcome/")
        .await;
    let chosen = app.choose_password(&link, "Cor kiest zelf iets lang").await;
    assert_eq!(chosen.status(), StatusCode::SEE_OTHER);
    let (status, _) = app
        .send(
            reqwest::Method::POST,
            "/api/v1/auth/login",
            None,
            Some(serde_json::json!({
                "email": "coordinator@amsterdam.example",
                "password": "Cor kiest zelf iets lang",
            })),
        )
        .await;
    assert_eq!(status, 200, "her own password works");
    let r = admin
        .post(
            "/admin/users",
            &[
                ("csrf", csrf.clone()),
                ("email", "x@amsterdam.example".into()),
                ("name", "X".into()),
                ("role", "coordinator".into()),
                ("organisation", "GM0000".into()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body
            .contains("geen organisatie heeft code &#39;GM0000&#39;"),
        "{}",
        r.body
    );
    assert!(r.body.contains(r#"value="x@amsterdam.example""#), "kept");

    // A partner client: the secret is shown once; revoking it shows.
    let csrf = admin.csrf_on("/admin/partners").await;
    let r = admin
        .post(
            "/admin/partners",
            &[
                ("csrf", csrf.clone()),
                ("name", "VNG Realisatie".into()),
                ("scope", "lessons:read".into()),
                ("scope", "stats:read".into()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Geheim: <code>"));
    let client_id = hidden_code(&r.body, "Client id: <code>");
    let r = admin
        .post(
            &format!("/admin/partners/{client_id}/active"),
            &[("csrf", csrf.clone()), ("active", "no".into())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(admin
        .get("/admin/partners")
        .await
        .body
        .contains("ingetrokken"));
    assert_eq!(admin.get("/admin/mail").await.status, StatusCode::OK);
    assert_eq!(admin.get("/admin").await.status, StatusCode::OK);
}

/// The text inside `<code>` after `marker`.
fn hidden_code(html: &str, marker: &str) -> String {
    let at = html.find(marker).unwrap_or_else(|| panic!("{marker}")) + marker.len();
    html[at..].split('<').next().unwrap().to_string()
}

/// The login page counts against the same limits as the API's login: per
/// address and per account, shared between the two.
#[actix_web::test]
async fn the_login_page_has_the_apis_rate_limits() {
    let app = crate::helpers::spawn_app_with(Backend::Sqlite, |f| {
        f.merge(("auth.login_burst", 3))
            .merge(("auth.login_refill_ms", 60_000))
    })
    .await;
    app.admin_token("bram@zwolle.example").await;
    let web = Web::new(&app);
    // token_for logged in once already: two wrong attempts use up the burst.
    for _ in 0..2 {
        let csrf = web.login_form().await;
        let r = web
            .post(
                "/login",
                &[
                    ("csrf", csrf),
                    ("email", "bram@zwolle.example".into()),
                    ("password", "wrong password!".into()),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = web.login("bram@zwolle.example", "/dashboard").await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert!(
        r.body.contains("Te veel pogingen. Probeer het over"),
        "{}",
        r.body
    );
    assert!(r.cookie("meeloop_session").is_none());
    // The API's login for that account waits too.
    let (status, _) = app
        .send(
            reqwest::Method::POST,
            "/api/v1/auth/login",
            None,
            Some(serde_json::json!({"email": "bram@zwolle.example", "password": "a long enough password"})),
        )
        .await;
    assert_eq!(status, 429);
}

/// The host answers on its dashboard; a day it already gave away comes
/// back with the reason in the page's language, and the request stays open.
#[actix_web::test]
async fn a_host_accepts_on_the_dashboard_and_a_taken_day_is_explained() {
    let app = demo_app(Backend::Sqlite).await;
    let anne = coordinator(&app, "anne@sudwestfryslan.example", "GM1900");
    coordinator(&app, "bram@zwolle.example", "GM0193");
    let days = working_days_ahead(2);
    let first = crate::schedule::ask(&app, &anne, "cloud-migration", &days[..1]).await;
    // A second day keeps the second request open once the first is booked.
    let second = crate::schedule::ask(&app, &anne, "common-ground", &days).await;
    let bram = Web::new(&app).logged_in("bram@zwolle.example").await;
    let board = bram.get("/dashboard").await;
    assert!(
        board.body.contains("Uitnodigingen voor jullie (2)"),
        "{}",
        board.body
    );
    let csrf = hidden(&board.body, "csrf");
    let bram = &bram;
    let accept = |id: i64| {
        let csrf = csrf.clone();
        let day = days[0].to_string();
        async move {
            bram.post(
                &format!("/visits/{id}/answer"),
                &[("csrf", csrf), ("action", "accept".into()), ("date", day)],
            )
            .await
        }
    };
    let r = accept(first.id.0).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), format!("/visits/{}", first.id));
    let r = accept(second.id.0).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let long =
        meeloop::domain::calendar::long_date(days[0], meeloop::domain::organisation::Language::Nl);
    assert!(
        r.body
            .contains(&format!("Zwolle heeft op {long} al een meeloopdag")),
        "{}",
        r.body
    );
    assert!(r.body.contains("wacht op antwoord"), "still open");
    // Without a day: the page asks for one.
    let r = bram
        .post(
            &format!("/visits/{}/answer", second.id),
            &[("csrf", csrf.clone()), ("action", "accept".into())],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("Kies een dag om te accepteren."));
    // The requester's dashboard lists the booked day.
    let anne_web = Web::new(&app)
        .logged_in("anne@sudwestfryslan.example")
        .await;
    let board = anne_web.get("/dashboard").await;
    assert!(
        board.body.contains(&format!("{long}: bezoek aan Zwolle")),
        "{}",
        board.body
    );
    // A stranger's visit is not found.
    coordinator(&app, "cas@amsterdam.example", "GM0363");
    let cas = Web::new(&app).logged_in("cas@amsterdam.example").await;
    assert_eq!(
        cas.get(&format!("/visits/{}", first.id)).await.status,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn an_unknown_page_is_a_page_for_browsers_and_problem_json_for_programs() {
    let app = crate::helpers::spawn_app(Backend::Sqlite).await;
    let page = app
        .client
        .get(format!("{}/no/such/page", app.address))
        .header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .header(COOKIE, "meeloop_lang=en")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let body = page.text().await.unwrap();
    assert!(body.contains("<h1>Not found</h1>"), "{body}");
    let (status, code, _) = app.problem("/no/such/page").await;
    assert_eq!((status, code.as_str()), (404, "not_found"));
    let api = app
        .client
        .get(format!("{}/api/v1/nothing", app.address))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(api.headers()["content-type"], "application/problem+json");
}

#[actix_web::test]
async fn pages_answer_head_and_name_their_methods() {
    let app = crate::helpers::spawn_app(Backend::Sqlite).await;
    let head = app.head("/login").await;
    assert_eq!(head.status(), StatusCode::OK);
    let head = app.head("/dashboard").await;
    assert_eq!(head.status(), StatusCode::SEE_OTHER, "to the login page");
    for (method, path, allow) in [
        (reqwest::Method::PUT, "/login", "GET, HEAD, POST"),
        (reqwest::Method::POST, "/dashboard", "GET, HEAD"),
        (reqwest::Method::GET, "/logout", "POST"),
        (reqwest::Method::DELETE, "/visits/1", "GET, HEAD"),
    ] {
        let r = app
            .client
            .request(method.clone(), format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(r.headers()["allow"], allow, "{method} {path}");
    }
}
