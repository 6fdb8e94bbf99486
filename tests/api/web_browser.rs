//! The coordinators' web frontend in a real headless Chromium: the whole
//! journey by clicking, and axe-core on every page in both languages,
//! logged in and out. (SQLite: the pages are the same on PostgreSQL, whose
//! queries the API tests cover.)

use std::time::Duration;

use chrono::{Datelike, NaiveDate};
use meeloop::service::visits::{answer_visit, Answer};

use crate::browser::{browser_available, Browser, Violation};
use crate::helpers::Backend;
use crate::journey::{demo_app_with_smtp, inbox};
use crate::schedule::{ask, dutch, keyed, queued, scheduler};
use crate::smtp::{wait_until, SmtpServer};
use crate::visits::{coordinator, demo_app, working_days_ahead};

const PASSWORD: &str = "a long enough password";

async fn log_in(b: &Browser, email: &str) {
    b.goto("/dashboard").await;
    assert!(
        b.path().await.starts_with("/login?next="),
        "{}",
        b.path().await
    );
    b.screenshot("login").await;
    b.fill("#email", email).await;
    b.fill("#password", PASSWORD).await;
    b.go("main form button[type=submit]").await;
    assert_eq!(b.path().await, "/dashboard");
}

fn saturday_after(day: NaiveDate) -> NaiveDate {
    let mut d = day;
    while d.weekday() != chrono::Weekday::Sat {
        d += chrono::Duration::days(1);
    }
    d
}

#[actix_web::test]
async fn a_coordinator_does_the_whole_journey_in_chromium() {
    if !browser_available() {
        return;
    }
    let server = SmtpServer::start();
    let app = demo_app_with_smtp(Backend::Sqlite, &server).await;
    coordinator(&app, "anne@sudwestfryslan.example", "GM1900");
    let b = Browser::start(&app.address).await;

    // Log in: the page asked for comes after.
    log_in(&b, "anne@sudwestfryslan.example").await;
    assert_eq!(b.text("h1").await, "Overzicht");
    assert!(b.text("header").await.contains("Anne de Boer"));
    let session = b.cookie("meeloop_session").await.expect("a session cookie");
    assert_eq!(session.http_only(), Some(true), "scripts cannot read it");

    // Find a peer on cloud migration.
    b.go_text("main a", "Vind een collega").await;
    assert_eq!(b.path().await, "/peers");
    b.find("#topic")
        .await
        .select_by_value("cloud-migration")
        .await
        .unwrap();
    b.go_text("main form button", "Zoeken").await;
    assert!(b
        .text("#results-h")
        .await
        .contains("Migratie naar de cloud"));
    // At a glance: the best in class beside good peers nearby.
    assert_eq!(b.text("#best-h").await, "De besten van de klas");
    assert_eq!(b.text("#near-h").await, "Goede collega's dichtbij");
    assert!(
        b.text(".glance-near").await.contains("Leeuwarden"),
        "the Frisian neighbour is nearby"
    );
    b.screenshot_at("peers", "#glance-h").await;
    // On a phone the same page, one column.
    b.client.set_window_size(390, 844).await.unwrap();
    b.screenshot_at("peers-phone", "#results-h").await;
    b.client.set_window_size(1280, 900).await.unwrap();
    let mut zwolle = None;
    for card in b.find_all("ol.peers > li").await {
        let name = card
            .find(fantoccini::Locator::Css("h3"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if name == "Zwolle" {
            zwolle = Some(card);
        }
    }
    let zwolle = zwolle.expect("Zwolle is among the peers");
    // "Why this match": the reasons open without a script.
    let reasons = zwolle
        .find(fantoccini::Locator::Css("details ul"))
        .await
        .unwrap();
    assert!(!reasons.is_displayed().await.unwrap(), "closed at first");
    zwolle
        .find(fantoccini::Locator::Css("summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(reasons.is_displayed().await.unwrap());
    assert!(
        reasons
            .text()
            .await
            .unwrap()
            .contains("Volgorde: de besten eerst"),
        "the reasons say what ordered the list"
    );
    // "Why not Amsterdam?"
    b.fill("#name", "amsterdam").await;
    b.go_text("main form button", "Uitleg tonen").await;
    let why = b.text("[role=status]").await;
    assert!(why.starts_with("Amsterdam "), "{why}");

    // Request a visit from Zwolle's card: a Saturday is refused, with the
    // reason, and what was typed stays.
    b.goto("/peers?topic=cloud-migration").await;
    b.go_text("ol.peers a.button", "Zwolle").await;
    assert!(b.path().await.starts_with("/visits/new?host="));
    assert_eq!(b.text("h1").await, "Meeloopdag aanvragen bij Zwolle");
    let days = working_days_ahead(2);
    let saturday = saturday_after(days[0]);
    b.set_value("#date1", &saturday.to_string()).await;
    b.fill(
        "#goal",
        "Hoe hebben jullie de exit uit het eigen datacenter gepland?",
    )
    .await;
    b.fill("#participants", "2").await;
    b.go_text("main form button", "Verzoek versturen").await;
    assert!(b
        .text(".error-summary")
        .await
        .contains("valt in het weekend"));
    assert_eq!(
        b.find("#goal")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("Hoe hebben jullie de exit uit het eigen datacenter gepland?")
    );
    b.screenshot("request-errors").await;
    b.set_value("#date1", &days[0].to_string()).await;
    b.set_value("#date2", &days[1].to_string()).await;
    b.go_text("main form button", "Verzoek versturen").await;
    let visit_path = b.path().await;
    assert!(visit_path.starts_with("/visits/"), "{visit_path}");
    assert!(b.text("main").await.contains("wacht op antwoord"));

    // The host opens the invitation from the email, in its own browser, and
    // accepts the second day.
    wait_until(Duration::from_secs(30), "the invitation", || {
        server.received_count() >= 1
    })
    .await;
    let invitation = &inbox(&server)[0];
    assert_eq!(invitation.to, "meeloop@zwolle.example");
    let link = invitation
        .text
        .split_whitespace()
        .find(|w| w.contains("/invitations/"))
        .expect("a link")
        .to_string();
    let host = Browser::start(&app.address).await;
    host.goto(&link).await;
    host.click(&format!("input[name=date][value='{}']", days[1]))
        .await;
    host.go_text("main form button", "Accepteren").await;
    let long_day =
        meeloop::domain::calendar::long_date(days[1], meeloop::domain::organisation::Language::Nl);
    let answered = host.text("main").await;
    assert!(
        answered.contains(&format!("al geaccepteerd: de meeloopdag is op {long_day}")),
        "{answered}"
    );
    host.close().await;

    // The requester's dashboard shows the scheduled day and its calendar file.
    b.goto("/dashboard").await;
    let upcoming = b.text("section[aria-labelledby=upcoming-h]").await;
    assert!(
        upcoming.contains(&format!("{long_day}: bezoek aan Zwolle")),
        "{upcoming}"
    );
    b.screenshot("dashboard").await;
    let href = b
        .find("section[aria-labelledby=upcoming-h] a[href$='calendar.ics']")
        .await
        .attr("href")
        .await
        .unwrap()
        .expect("a calendar link");
    let ics = app
        .client
        .get(format!("{}{href}", app.address))
        .header("Cookie", format!("meeloop_session={}", session.value()))
        .send()
        .await
        .unwrap();
    assert_eq!(ics.status(), 200);
    assert!(ics.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/calendar"));
    let ics = ics.text().await.unwrap();
    let start = format!(
        "DTSTART;TZID=Europe/Amsterdam:{}T093000",
        days[1].format("%Y%m%d")
    );
    assert!(ics.contains(&start), "{ics}");

    // The day after, the scheduler completes the visit; the form waits on
    // the dashboard.
    let jobs = scheduler(&app);
    let done = jobs
        .run_at(dutch(days[1] + chrono::Duration::days(1), 6))
        .await
        .unwrap();
    assert_eq!(done.completed, 1);
    b.goto("/dashboard").await;
    b.go_text("section[aria-labelledby=forms-h] a", "Zwolle")
        .await;
    assert!(b.path().await.ends_with("/lessons"));
    b.fill(
        "#strengths",
        "Een exit-draaiboek per applicatie, met een vaste migratiedag per week.",
    )
    .await;
    b.fill(
        "#mistakes",
        "Licenties niet te vroeg opzeggen: de overloop duurde drie maanden.",
    )
    .await;
    b.fill("#hoursSaved", "40").await;
    b.click("input[name=rating][value='5']").await;
    b.click("input[name=recommend][value=yes]").await;
    b.click("input[name=publish][value=named]").await;
    b.screenshot("lessons-form").await;
    b.go("main form button[type=submit]").await;
    assert!(b
        .text("main")
        .await
        .contains("in de kennisbank, onder de naam van uw organisatie"));

    // The lesson is in the knowledge base, under the topic.
    b.goto("/knowledge?topic=cloud-migration").await;
    let knowledge = b.text("main").await;
    assert!(
        knowledge.contains("Een exit-draaiboek per applicatie"),
        "{knowledge}"
    );
    assert!(
        knowledge.contains("Súdwest-Fryslân, bezoeker"),
        "{knowledge}"
    );
    b.screenshot_at("knowledge", "#leaders-h").await;
    b.close().await;
}

/// Every page in both languages, logged out and in (as a coordinator of
/// each side and as an admin), with its error states: axe-core finds no
/// WCAG 2.1 A/AA violation.
#[actix_web::test]
async fn every_page_passes_axe_core_in_both_languages() {
    if !browser_available() {
        return;
    }
    // The scheduler runs 100 days ahead below while the pages are read
    // today: its retention purge must leave today's links alone.
    let app = crate::helpers::spawn_app_with(Backend::Sqlite, |f| {
        f.merge(("mail.deliver", false))
            .merge(("privacy.link_tokens_days", 365))
    })
    .await;
    meeloop::service::demo::load(&mut app.db.pool.get().unwrap()).unwrap();
    // Held visits of the past weeks: the charts and the network have data.
    meeloop::service::demo::load_history(&mut app.db.pool.get().unwrap()).unwrap();
    let anne = coordinator(&app, "anne@sudwestfryslan.example", "GM1900");
    let bram = coordinator(&app, "bram@zwolle.example", "GM0193");
    let twee = coordinator(&app, "twee@zwolle.example", "GM0193");
    {
        let secret = meeloop::auth::totp::new_secret();
        let mut conn = app.db.pool.get().unwrap();
        meeloop::db::two_step::enable(&mut conn, twee.id, &secret, 0, meeloop::db::now()).unwrap();
    }
    let admin = app.admin_token("admin@meeloop.example").await;
    let zwolle = app.organisation_id("GM0193").await;
    let hook = crate::webhooks::seed_endpoint(&app);
    // An invitation to choose a password, and a password reset.
    let (status, invited) = app
        .post_as(
            "/api/v1/admin/users",
            &admin,
            serde_json::json!({"email": "nieuw@zwolle.example", "name": "Nieuw",
                "role": "coordinator", "organisationId": zwolle}),
        )
        .await;
    assert_eq!(status, 201, "{invited}");
    let welcome = app.mailed_link("nieuw@zwolle.example", "/welcome/").await;
    let (status, _) = app
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/admin/users/{}/password-reset", anne.id),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 202);
    let reset = app
        .mailed_link("anne@sudwestfryslan.example", "/password/reset/")
        .await;
    // A visit held (with both forms to fill in), and an open request.
    let days = working_days_ahead(1);
    let held = ask(&app, &anne, "cloud-migration", &days).await;
    answer_visit(&app.ctx(), bram, held.id, Answer::Accept(days[0]))
        .await
        .unwrap();
    scheduler(&app)
        .run_at(dutch(days[0] + chrono::Duration::days(1), 6))
        .await
        .unwrap();
    // Three months on: the follow-up (one job per visit and round: the
    // first round settles the lessons reminder, the second the follow-up).
    for _ in 0..2 {
        scheduler(&app)
            .run_at(dutch(days[0] + chrono::Duration::days(100), 6))
            .await
            .unwrap();
    }
    let open = ask(&app, &anne, "cloud-migration", &working_days_ahead(2)).await;
    let mail = queued(&app);
    let link = |key: &str, path: &str| {
        let m = keyed(&mail, key).unwrap_or_else(|| panic!("{key} queued"));
        let at = m.body_text.find(path).expect("a link");
        m.body_text[at..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    let invitation = link(&format!("invitation:{}", open.id), "/invitations/");
    let form = link(&format!("lessons:{}:host", held.id), "/lessons-forms/");
    let followup = link(&format!("followup:{}", held.id), "/follow-ups/");

    let mut found: Vec<(String, Vec<Violation>)> = Vec::new();
    // Dutch error states that show a refusal, with English words found there.
    let mut english: Vec<String> = Vec::new();
    let mut dutch_only = |state: &str, text: &str, expected: &str| {
        assert!(
            text.contains(expected),
            "{state}: no '{expected}' in {text}"
        );
        let padded = format!(
            " {} ",
            text.to_lowercase().replace(['\n', '.', ',', ';', ':'], " ")
        );
        for word in [
            " the ",
            " you ",
            " your ",
            " not ",
            " already ",
            " only ",
            " does ",
            " must ",
            " this ",
        ] {
            if padded.contains(word) {
                english.push(format!("{state}: '{}' in {text}", word.trim()));
            }
        }
    };
    let b = Browser::start(&app.address).await;
    // First, that axe does see a violation: an image without a text.
    b.goto("/login").await;
    b.client
        .execute(
            "document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/assets/x.png\">');",
            vec![],
        )
        .await
        .unwrap();
    let seen = b.axe().await;
    assert!(
        seen.iter().any(|v| v.id == "image-alt"),
        "axe-core reports an image without alt: {seen:?}"
    );

    for lang in ["nl", "en"] {
        b.goto(&format!("/language/{lang}?back=/login")).await;
        let mut check =
            |page: String, v: Vec<Violation>| found.push((format!("[{lang}] {page}"), v));

        // Logged out.
        for path in [
            "/login",
            "/toegankelijkheid",
            "/privacy",
            "/problems",
            "/login?out=1",
            "/login?changed=1",
            "/password/forgot",
            &welcome,
            &reset,
            &invitation,
            &form,
            &followup,
            "/invitations/unknown",
        ] {
            b.goto(path).await;
            check(path.to_string(), b.axe().await);
        }
        b.goto("/login").await;
        b.fill("#email", "anne@sudwestfryslan.example").await;
        b.fill("#password", "wrong").await;
        b.go("main form button[type=submit]").await;
        check("login, wrong password".into(), b.axe().await);
        b.goto("/password/forgot").await;
        b.fill("#email", "geen adres").await;
        b.go("main form button[type=submit]").await;
        check("forgot password, bad address".into(), b.axe().await);
        b.fill("#email", "niemand@zwolle.example").await;
        b.go("main form button[type=submit]").await;
        check("forgot password, sent".into(), b.axe().await);
        b.goto(&welcome).await;
        b.fill("#password", "twaalf tekens of meer").await;
        b.fill("#repeat", "iets anders").await;
        b.go("main form button[type=submit]").await;
        check("welcome, passwords differ".into(), b.axe().await);
        // The invitation form and the emailed lessons form with errors.
        b.goto(&invitation).await;
        b.go("main form button.primary").await;
        check("invitation, no day picked".into(), b.axe().await);
        b.goto(&form).await;
        b.go("main form button[type=submit]").await;
        check("lessons form by link, empty".into(), b.axe().await);
        b.goto(&followup).await;
        b.go("main form button[type=submit]").await;
        check("follow-up by link, empty".into(), b.axe().await);
        // The digest's unsubscribe link (one per language: it works once).
        let unsubscribe = meeloop::service::follows::unsubscribe_link(
            &mut app.db.pool.get().unwrap(),
            anne.id,
            &app.address,
            chrono::Utc::now().naive_utc(),
        )
        .unwrap();
        b.goto(&unsubscribe).await;
        check("unsubscribe link".into(), b.axe().await);
        b.go("main form button[type=submit]").await;
        check("unsubscribed".into(), b.axe().await);

        // A coordinator of the requester.
        b.goto("/login").await;
        b.fill("#email", "anne@sudwestfryslan.example").await;
        b.fill("#password", PASSWORD).await;
        b.go("main form button[type=submit]").await;
        assert_eq!(b.path().await, "/dashboard");
        let pages = [
            "/dashboard".to_string(),
            "/peers".into(),
            "/peers?topic=cloud-migration&name=Amsterdam".into(),
            "/peers?topic=cloud-migration&distance=abc".into(),
            format!("/visits/new?host={zwolle}&topic=cloud-migration"),
            format!("/visits/{}", open.id),
            format!("/visits/{}", held.id),
            format!("/visits/{}/lessons", held.id),
            "/knowledge".into(),
            "/organisation".into(),
            "/account".into(),
            "/account/sessions".into(),
            "/account/topics".into(),
            "/account/two-step".into(),
            "/knowledge?topic=cloud-migration".into(),
            "/knowledge?q=datacenter".into(),
            "/statistics".into(),
            "/statistics?from=2020-13".into(),
            "/topics/cloud-migration".into(),
            "/topics/privacy".into(),
            format!("/organisations/{zwolle}"),
            "/toegankelijkheid".into(),
            "/privacy".into(),
            "/problems".into(),
            "/visits/999999".into(),
        ];
        for path in &pages {
            b.goto(path).await;
            check(path.clone(), b.axe().await);
        }
        // The pictures, for docs/screenshots (MEELOOP_SCREENSHOTS).
        if lang == "nl" {
            b.goto("/statistics").await;
            b.screenshot_at("statistics", "#visits-h").await;
            b.goto("/topics/cloud-migration").await;
            b.screenshot_at("topic-map", "#map-h").await;
            b.screenshot_at("topic-network", "#network-h").await;
            b.goto(&format!("/organisations/{zwolle}")).await;
            b.screenshot("organisation-history").await;
        }
        // Setting up two-step verification: the QR code and its form.
        b.goto("/account/two-step").await;
        b.go("main form button[type=submit]").await;
        check("two-step set-up, QR code".into(), b.axe().await);
        b.go("main form button[type=submit]").await;
        check("two-step set-up, no code".into(), b.axe().await);
        if lang == "nl" {
            for (path, says) in [
                ("/peers?topic=knitting", "onbekend onderwerp 'knitting'"),
                (
                    "/peers?topic=cloud-migration&name=Atlantis",
                    "geen organisatie gevonden die 'Atlantis' heet",
                ),
            ] {
                b.goto(path).await;
                dutch_only(path, &b.text("main").await, says);
            }
        }
        b.goto(&format!("/visits/new?host={zwolle}&topic=cloud-migration"))
            .await;
        b.go("main form button[type=submit]").await;
        check("request form, empty".into(), b.axe().await);
        b.goto(&format!("/visits/{}/lessons", held.id)).await;
        b.go("main form button[type=submit]").await;
        check("lessons form, empty".into(), b.axe().await);
        b.goto("/organisation").await;
        b.fill("#contact_email", "geen adres").await;
        b.go("#profile-h + form button[type=submit]").await;
        check("organisation profile, bad address".into(), b.axe().await);
        b.go("header form.logout button").await;
        assert!(b.path().await.starts_with("/login"), "logged out");

        // An account with two-step verification: the code after the password.
        b.goto("/login").await;
        b.fill("#email", "twee@zwolle.example").await;
        b.fill("#password", PASSWORD).await;
        b.go("main form button[type=submit]").await;
        assert!(
            b.path().await.starts_with("/login/two-step"),
            "{}",
            b.path().await
        );
        check("login, second step".into(), b.axe().await);
        b.fill("#code", "000000").await;
        b.go("main form button[type=submit]").await;
        check("login, second step, wrong code".into(), b.axe().await);

        // The host's coordinator, with an invitation on the dashboard, and an admin.
        for email in ["bram@zwolle.example", "admin@meeloop.example"] {
            b.goto("/login").await;
            b.fill("#email", email).await;
            b.fill("#password", PASSWORD).await;
            b.go("main form button[type=submit]").await;
            b.goto("/dashboard").await;
            check(format!("/dashboard as {email}"), b.axe().await);
            if lang == "en" && email.starts_with("bram") {
                b.screenshot("dashboard-invitation-en").await;
            }
            if email.starts_with("admin") {
                for path in [
                    "/admin",
                    "/admin/organisations",
                    "/admin/users",
                    "/admin/partners",
                    "/admin/sso",
                    "/admin/mail",
                    "/admin/audit",
                    "/admin/webhooks",
                    &format!("/admin/webhooks/{hook}"),
                ] {
                    b.goto(path).await;
                    check(path.to_string(), b.axe().await);
                }
                b.goto("/admin/users").await;
                b.go("#new-user-h + form button[type=submit]").await;
                check("new user, empty".into(), b.axe().await);
                if lang == "nl" {
                    b.fill("#email", "x@zwolle.example").await;
                    b.fill("#name", "X").await;
                    b.fill("#organisation", "GM0000").await;
                    b.go("#new-user-h + form button[type=submit]").await;
                    let text = b.text("main").await;
                    dutch_only(
                        "new user, unknown code",
                        &text,
                        "geen organisatie heeft code 'GM0000'",
                    );
                }
            }
            b.go("header form.logout button").await;
        }
    }
    b.close().await;
    let failures: Vec<String> = found
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .flat_map(|(page, v)| {
            v.iter().map(move |v| {
                format!(
                    "{page}: {} ({}) {}: {:?}",
                    v.id,
                    v.impact.as_deref().unwrap_or("?"),
                    v.help,
                    v.nodes
                )
            })
        })
        .collect();
    assert!(found.len() > 50, "every page was checked ({})", found.len());
    assert!(
        english.is_empty(),
        "English on Dutch pages:\n{}",
        english.join("\n")
    );
    assert!(
        failures.is_empty(),
        "axe-core found:\n{}",
        failures.join("\n")
    );
}

const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";

/// Keyboard alone: the skip link comes first and shows its focus, Tab
/// reaches the fields in order, Enter submits, and everything Tab reaches
/// on the dashboard shows its focus.
#[actix_web::test]
async fn a_coordinator_gets_around_with_the_keyboard_alone() {
    if !browser_available() {
        return;
    }
    let app = demo_app(Backend::Sqlite).await;
    coordinator(&app, "anne@sudwestfryslan.example", "GM1900");
    let b = Browser::start(&app.address).await;
    b.goto("/login").await;
    b.press(TAB).await;
    let (what, text, outlined) = b.focused().await;
    assert_eq!((what.as_str(), text.as_str()), ("a", "Naar de inhoud"));
    assert!(outlined, "the focus is visible");
    b.press(ENTER).await;
    assert_eq!(
        b.focused().await.0,
        "main#main",
        "the skip link lands on the content"
    );
    b.press(TAB).await;
    assert_eq!(b.focused().await.0, "input#email");
    b.press("anne@sudwestfryslan.example").await;
    b.press(TAB).await;
    assert_eq!(b.focused().await.0, "input#password");
    b.press(PASSWORD).await;
    b.press(ENTER).await;
    // Enter submitted the form: wait for the dashboard.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while b.path().await != "/dashboard" {
        assert!(
            std::time::Instant::now() < deadline,
            "no dashboard after Enter"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(b.text("h1").await, "Overzicht");

    // Every focusable element on the dashboard shows its focus.
    for _ in 0..8 {
        b.press(TAB).await;
        let (what, text, outlined) = b.focused().await;
        assert!(outlined, "{what} '{text}' shows no focus");
    }
    b.close().await;
}

/// Swagger UI still works under the policy it gets: its scripts, styles
/// and the OpenAPI document come from this server, and it renders every
/// operation.
#[actix_web::test]
async fn swagger_ui_renders_under_its_content_security_policy() {
    if !browser_available() {
        return;
    }
    let app = crate::helpers::spawn_app(Backend::Sqlite).await;
    let b = Browser::start(&app.address).await;
    b.goto("/api/v1/docs/").await;
    b.client
        .wait()
        .for_element(fantoccini::Locator::Css(".opblock"))
        .await
        .expect("Swagger UI lists the operations");
    assert!(b.find_all(".opblock").await.len() > 10);
    b.close().await;
}
