//! Visits: requests, invitations with single-use links, answers.

use chrono::{Datelike, Duration, NaiveDate};
use meeloop::db::outbox;
use meeloop::domain::account::{Password, Role, User};
use meeloop::domain::calendar::is_working_day;
use meeloop::domain::organisation::{Language, OrganisationId};
use meeloop::domain::refusal::Explain;
use meeloop::domain::visit::VisitState;
use meeloop::service::accounts::{create_user, NewAccount};
use meeloop::service::context::Clock;
use meeloop::service::visits::{request_visit, today, VisitRequest, VisitRules};
use meeloop::service::ServiceError;

use crate::backend_tests;
use crate::helpers::{spawn_app_with, Backend, TestApp};

backend_tests!(
    a_request_goes_by_the_contexts_clock,
    a_request_queues_one_invitation_with_a_single_use_link,
    the_api_requests_and_shows_visits_to_their_parties_only,
    the_host_accepts_or_declines_once_and_both_sides_hear_of_it,
    fifty_simultaneous_accepts_for_one_host_and_day_book_one_visit,
    the_invitation_link_survives_scanners_and_answers_once,
    each_organisation_lists_its_own_visits,
    koningsdag_and_saturdays_are_refused_with_the_reason,
);

pub const RULES: VisitRules = VisitRules {
    lead_days: 7,
    invitation_days: 14,
    day_start: chrono::NaiveTime::from_hms_opt(9, 30, 0).unwrap(),
    day_end: chrono::NaiveTime::from_hms_opt(16, 0, 0).unwrap(),
};

/// The first `n` working days at least `RULES.lead_days` ahead.
pub fn working_days_ahead(n: usize) -> Vec<NaiveDate> {
    let mut day = today() + Duration::days(RULES.lead_days);
    let mut days = Vec::new();
    while days.len() < n {
        if is_working_day(day) {
            days.push(day);
        }
        day += Duration::days(1);
    }
    days
}

pub async fn demo_app(backend: Backend) -> TestApp {
    let app = spawn_app_with(backend, |f| f.merge(("mail.deliver", false))).await;
    meeloop::service::demo::load(&mut app.db.pool.get().unwrap()).unwrap();
    app
}

pub fn coordinator(app: &TestApp, email: &str, code: &str) -> User {
    create_user(
        &mut app.db.pool.get().unwrap(),
        &NewAccount {
            email: email.into(),
            name: "Anne de Boer".into(),
            role: Role::Coordinator,
            organisation: Some(code.into()),
            password: Password::parse("a long enough password").unwrap(),
        },
    )
    .unwrap()
}

/// A use case goes by its context's clock, not the wall's: with the clock in
/// 2030, days that are weeks ahead by the wall clock have passed.
async fn a_request_goes_by_the_contexts_clock(backend: Backend) {
    let app = demo_app(backend).await;
    let anne = coordinator(&app, "anne@sudwestfryslan.example", "GM1900");
    let zwolle = OrganisationId(app.organisation_id("GM0193").await);
    let request = |dates: Vec<NaiveDate>| VisitRequest {
        host: zwolle,
        topic: "cloud-migration".into(),
        proposed_dates: dates,
        goal: "Hoe hebben jullie de exit uit het eigen datacenter gepland?".into(),
        participants: 2,
    };
    let in_2030 = NaiveDate::from_ymd_opt(2030, 1, 7)
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    let clock = Clock::manual(in_2030);
    let ctx = app.ctx().with_clock(clock.clone());
    let refused = request_visit(
        &ctx,
        anne.clone(),
        Language::En,
        request(working_days_ahead(1)),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&refused, ServiceError::Invalid(e) if e.field == Some("proposedDates")),
        "{refused:?}"
    );
    // Two weeks on in 2030: a Monday three weeks ahead is fine, and the
    // request is stamped with the clock's time.
    clock.set(in_2030 + Duration::days(14));
    let visit = request_visit(
        &ctx,
        anne,
        Language::En,
        request(vec![NaiveDate::from_ymd_opt(2030, 2, 11).unwrap()]),
    )
    .await
    .unwrap();
    let row = meeloop::db::visits::find(&mut app.db.pool.get().unwrap(), visit.id)
        .unwrap()
        .unwrap();
    assert_eq!(row.created_at, in_2030 + Duration::days(14));
    assert_eq!(
        row.expires_at,
        row.created_at + Duration::days(RULES.invitation_days)
    );
}

async fn a_request_queues_one_invitation_with_a_single_use_link(backend: Backend) {
    let app = demo_app(backend).await;
    let anne = coordinator(&app, "anne@sudwestfryslan.example", "GM1900");
    let zwolle = OrganisationId(app.organisation_id("GM0193").await);
    let dates = working_days_ahead(2);
    let request = |host: OrganisationId, topic: &str, dates: Vec<NaiveDate>| VisitRequest {
        host,
        topic: topic.into(),
        proposed_dates: dates,
        goal: "Hoe hebben jullie de exit uit het eigen datacenter gepland?".into(),
        participants: 2,
    };
    let visit = request_visit(
        &app.db.ctx("https://meeloop.example.nl"),
        anne.clone(),
        Language::En,
        request(zwolle, "cloud-migration", dates.clone()),
    )
    .await
    .unwrap();
    assert_eq!(visit.state.as_str(), "requested");
    assert_eq!(visit.proposed_dates, dates);
    assert_eq!(visit.host_id, zwolle.0);
    assert_eq!(
        (visit.host_name.as_str(), visit.topic.as_str()),
        ("Zwolle", "cloud-migration")
    );

    // One invitation, to the host's contact address, in the host's language.
    let mut conn = app.db.pool.get().unwrap();
    let queued = outbox::page(&mut conn, None, None, 10).unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(
        (
            queued[0].template.as_str(),
            queued[0].recipient.as_str(),
            queued[0].language.as_str()
        ),
        ("invitation", "meeloop@zwolle.example", "nl")
    );
    assert!(
        queued[0].subject.contains("Súdwest-Fryslân"),
        "{}",
        queued[0].subject
    );
    let claimed = outbox::claim_due(
        &mut conn,
        meeloop::db::now(),
        meeloop::db::now() + Duration::minutes(1),
        10,
    )
    .unwrap();
    let body = &claimed[0].body_text;
    assert!(body.contains("Migratie naar de cloud"), "{body}");
    assert!(
        body.contains(&meeloop::domain::calendar::long_date(
            dates[0],
            Language::Nl
        )),
        "{body}"
    );
    let link = body
        .split_whitespace()
        .find(|w| w.starts_with("https://meeloop.example.nl/invitations/"))
        .expect("the link");
    let token = link.rsplit('/').next().unwrap();
    assert_eq!(token.len(), 43);
    // Only the hash is stored.
    let hash = meeloop::auth::links::hash(token).unwrap();
    let stored = meeloop::db::visits::find_token(&mut conn, &hash)
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.visit_id, stored.organisation_id, stored.used_at),
        (visit.id, zwolle.0, None)
    );
    assert!(meeloop::db::visits::find_token(&mut conn, token)
        .unwrap()
        .is_none());
    drop(conn);

    // Refusals that say why: the same request while the first is open,
    // one's own organisation, a Saturday, an unknown topic, an unwilling host.
    let own = OrganisationId(app.organisation_id("GM1900").await);
    let amsterdam = OrganisationId(app.organisation_id("GM0363").await);
    let saturday = (0..14)
        .map(|i| today() + Duration::days(RULES.lead_days + i))
        .find(|d| chrono::Datelike::weekday(d) == chrono::Weekday::Sat)
        .unwrap();
    let cases: [(VisitRequest, &str); 5] = [
        (
            request(zwolle, "cloud-migration", dates.clone()),
            "already_asked: you already asked",
        ),
        (
            request(own, "cloud-migration", dates.clone()),
            "own_organisation: own organisation",
        ),
        (
            request(zwolle, "data-quality", vec![saturday]),
            "invalid: weekend",
        ),
        (
            request(zwolle, "no-such-topic", dates.clone()),
            "unknown_topic: unknown topic",
        ),
        (
            request(amsterdam, "common-ground", dates.clone()),
            "not_hosting: does not host",
        ),
    ];
    for (refused, expected) in cases {
        let err = request_visit(
            &app.db.ctx("https://x"),
            anne.clone(),
            Language::En,
            refused,
        )
        .await
        .unwrap_err();
        let got = match &err {
            ServiceError::Refused(r) => format!("{}: {}", r.code(), r.message(Language::En)),
            ServiceError::Invalid(e) => format!("invalid: {e}"),
            other => format!("{other:?}"),
        };
        let (kind, words) = expected.split_once(": ").unwrap();
        assert!(
            got.starts_with(kind) && got.contains(words),
            "{expected}: {got}"
        );
    }
    // Nothing else was queued by the refused requests.
    assert_eq!(
        outbox::counts(&mut app.db.pool.get().unwrap())
            .unwrap()
            .iter()
            .map(|c| c.count)
            .sum::<i64>(),
        1
    );
}

async fn the_api_requests_and_shows_visits_to_their_parties_only(backend: Backend) {
    let app = demo_app(backend).await;
    let anne = app
        .coordinator_token("anne@sudwestfryslan.example", "GM1900")
        .await;
    let host_coordinator = app.coordinator_token("piet@zwolle.example", "GM0193").await;
    let stranger = app
        .coordinator_token("kees@amsterdam.example", "GM0363")
        .await;
    let zwolle = app.organisation_id("GM0193").await;
    let dates = working_days_ahead(2);
    let body = serde_json::json!({
        "hostOrganisationId": zwolle,
        "topic": "cloud-migration",
        "proposedDates": dates,
        "goal": "Hoe hebben jullie de exit uit het eigen datacenter gepland?",
        "participants": 2,
    });
    let response = app
        .client
        .post(format!("{}/api/v1/visits", app.address))
        .bearer_auth(&anne)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let visit: serde_json::Value = response.json().await.unwrap();
    assert_eq!(location, format!("/api/v1/visits/{}", visit["id"]));
    assert_eq!(visit["state"], "requested");
    assert_eq!(visit["host"]["name"], "Zwolle");
    assert_eq!(visit["requester"]["name"], "Súdwest-Fryslân");
    assert_eq!(visit["proposedDates"], serde_json::json!(dates));
    assert!(visit["date"].is_null());

    let get = reqwest::Method::GET;
    for (token, expected) in [(&anne, 200), (&host_coordinator, 200), (&stranger, 404)] {
        let (status, _) = app.send(get.clone(), &location, Some(token), None).await;
        assert_eq!(status, expected);
    }
    let (status, _) = app
        .send(get.clone(), "/api/v1/visits/999999", Some(&anne), None)
        .await;
    assert_eq!(status, 404);

    // Bad input: 400 naming the field, in the caller's language.
    let saturday = (0..14)
        .map(|i| today() + Duration::days(RULES.lead_days + i))
        .find(|d| chrono::Datelike::weekday(d) == chrono::Weekday::Sat)
        .unwrap();
    let mut weekend = body.clone();
    weekend["topic"] = "data-quality".into();
    weekend["proposedDates"] = serde_json::json!([saturday]);
    let response = app
        .client
        .post(format!("{}/api/v1/visits", app.address))
        .bearer_auth(&anne)
        .header("Accept-Language", "nl")
        .json(&weekend)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let problem: serde_json::Value = response.json().await.unwrap();
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("proposedDates") && detail.contains("valt in het weekend"),
        "{detail}"
    );
    for (field, value) in [
        ("participants", serde_json::json!(6)),
        ("goal", serde_json::json!("kort")),
        ("hostOrganisationId", serde_json::json!(0)),
    ] {
        let mut bad = body.clone();
        bad["topic"] = "data-quality".into();
        bad[field] = value;
        let (status, problem) = app
            .send(
                reqwest::Method::POST,
                "/api/v1/visits",
                Some(&anne),
                Some(bad),
            )
            .await;
        assert_eq!(status, 400, "{field}: {problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains(field),
            "{field}: {problem}"
        );
    }
    let mut extra = body.clone();
    extra["when"] = "morgen".into();
    let (status, _) = app
        .send(
            reqwest::Method::POST,
            "/api/v1/visits",
            Some(&anne),
            Some(extra),
        )
        .await;
    assert_eq!(status, 400);
    // Nothing but the first request was queued.
    let counts: Vec<_> = outbox::counts(&mut app.db.pool.get().unwrap())
        .unwrap()
        .into_iter()
        .map(|c| (c.state, c.count))
        .collect();
    assert_eq!(counts, [(meeloop::domain::mail::MessageState::Pending, 1)]);
}

async fn the_host_accepts_or_declines_once_and_both_sides_hear_of_it(backend: Backend) {
    let app = demo_app(backend).await;
    let anne = coordinator(&app, "anne@sudwestfryslan.example", "GM1900");
    let anne_token = app
        .coordinator_token("anne2@sudwestfryslan.example", "GM1900")
        .await;
    let host = app.coordinator_token("piet@zwolle.example", "GM0193").await;
    let zwolle = OrganisationId(app.organisation_id("GM0193").await);
    let dates = working_days_ahead(3);
    let ask = |topic: &str| VisitRequest {
        host: zwolle,
        topic: topic.into(),
        proposed_dates: dates[..2].to_vec(),
        goal: "Hoe hebben jullie de exit uit het eigen datacenter gepland?".into(),
        participants: 1,
    };
    let first = request_visit(
        &app.db.ctx("https://m.example"),
        anne.clone(),
        Language::Nl,
        ask("cloud-migration"),
    )
    .await
    .unwrap();
    let post = reqwest::Method::POST;
    let accept = format!("/api/v1/visits/{}/accept", first.id);

    // The requester cannot answer its own request; a date that was not proposed is refused.
    let (status, _) = app
        .send(
            post.clone(),
            &accept,
            Some(&anne_token),
            Some(serde_json::json!({"date": dates[0]})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, problem) = app
        .send(
            post.clone(),
            &accept,
            Some(&host),
            Some(serde_json::json!({"date": dates[2]})),
        )
        .await;
    assert_eq!(status, 400, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("is geen van de voorgestelde dagen"),
        "Dutch unless asked otherwise: {problem}"
    );

    let (status, visit) = app
        .send(
            post.clone(),
            &accept,
            Some(&host),
            Some(serde_json::json!({"date": dates[1]})),
        )
        .await;
    assert_eq!(status, 200, "{visit}");
    assert_eq!(
        (visit["state"].as_str(), visit["date"].clone()),
        (Some("accepted"), serde_json::json!(dates[1]))
    );
    // Once only.
    let (status, problem) = app
        .send(
            post.clone(),
            &accept,
            Some(&host),
            Some(serde_json::json!({"date": dates[0]})),
        )
        .await;
    assert_eq!(status, 409);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("al geaccepteerd"),
        "{problem}"
    );
    let (status, _) = app
        .send(
            post.clone(),
            &format!("/api/v1/visits/{}/decline", first.id),
            Some(&host),
            Some(serde_json::json!({})),
        )
        .await;
    assert_eq!(status, 409);

    // Both sides get a confirmation naming the day; the invitation link is used up.
    let mut conn = app.db.pool.get().unwrap();
    let mut confirmations: Vec<(String, String)> = outbox::page(&mut conn, None, None, 20)
        .unwrap()
        .into_iter()
        .filter(|m| m.template == "confirmation")
        .map(|m| (m.recipient, m.subject))
        .collect();
    confirmations.sort();
    let day = meeloop::domain::calendar::long_date(dates[1], Language::Nl);
    assert_eq!(
        confirmations,
        [
            (
                "anne@sudwestfryslan.example".to_string(),
                format!("Meeloopdag bevestigd: {day} bij Zwolle")
            ),
            (
                "meeloop@zwolle.example".to_string(),
                format!("Meeloopdag bevestigd: {day} bij Zwolle")
            ),
        ]
    );
    drop(conn);

    // A decline, with a reason the requester reads.
    let second = request_visit(
        &app.db.ctx("https://m.example"),
        anne.clone(),
        Language::Nl,
        ask("common-ground"),
    )
    .await
    .unwrap();
    let (status, visit) = app
        .send(
            post.clone(),
            &format!("/api/v1/visits/{}/decline", second.id),
            Some(&host),
            Some(serde_json::json!({"reason": "Maart is te druk voor ons."})),
        )
        .await;
    assert_eq!(status, 200, "{visit}");
    assert_eq!(
        (visit["state"].as_str(), visit["reason"].as_str()),
        (Some("declined"), Some("Maart is te druk voor ons."))
    );
    let mut conn = app.db.pool.get().unwrap();
    let declined: Vec<_> = outbox::page(&mut conn, None, None, 20)
        .unwrap()
        .into_iter()
        .filter(|m| m.template == "declined")
        .collect();
    assert_eq!(declined.len(), 1);
    assert_eq!(declined[0].recipient, "anne@sudwestfryslan.example");
    let claimed = outbox::claim_due(
        &mut conn,
        meeloop::db::now(),
        meeloop::db::now() + Duration::minutes(1),
        50,
    )
    .unwrap();
    let text = &claimed
        .iter()
        .find(|m| m.template == "declined")
        .unwrap()
        .body_text;
    assert!(text.contains("Maart is te druk voor ons."), "{text}");
}

async fn fifty_simultaneous_accepts_for_one_host_and_day_book_one_visit(backend: Backend) {
    let app = spawn_app_with(backend, |f| f.merge(("mail.deliver", false))).await;
    app.import(
        &std::fs::read(crate::helpers::municipalities_csv()).unwrap(),
        false,
    );
    meeloop::service::demo::load(&mut app.db.pool.get().unwrap()).unwrap();
    let zwolle = OrganisationId(app.organisation_id("GM0193").await);
    let day = working_days_ahead(1);
    let requesters: Vec<String> = app
        .all_pages("/api/v1/organisations?kind=municipality")
        .await
        .into_iter()
        .map(|o| o["code"].as_str().unwrap().to_string())
        .filter(|code| code != "GM0193")
        .take(50)
        .collect();
    assert_eq!(requesters.len(), 50);
    let mut ids = Vec::new();
    for (i, code) in requesters.iter().enumerate() {
        let user = coordinator(&app, &format!("c{i}@requester.example"), code);
        let visit = request_visit(
            &app.db.ctx("https://m.example"),
            user,
            Language::Nl,
            VisitRequest {
                host: zwolle,
                topic: "cloud-migration".into(),
                proposed_dates: day.clone(),
                goal: "Hoe hebben jullie de exit uit het eigen datacenter gepland?".into(),
                participants: 1,
            },
        )
        .await
        .unwrap();
        ids.push(visit.id.0);
    }
    let host = app.coordinator_token("piet@zwolle.example", "GM0193").await;
    let answers = futures_util::future::join_all(ids.iter().map(|id| {
        let request = app
            .client
            .post(format!("{}/api/v1/visits/{id}/accept", app.address))
            .bearer_auth(&host)
            .json(&serde_json::json!({"date": day[0]}));
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<serde_json::Value>().await.unwrap())
        }
    }))
    .await;
    let accepted = answers.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(accepted, 1, "{answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != 200) {
        assert_eq!(*status, 409, "{body}");
        // Lost the race for the day, or found its request closed already
        // because the winner took its only day.
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.contains("kies een andere") || detail.contains("Gesloten door Meeloop"),
            "{body}"
        );
    }
    // The 49 others can never be accepted now: closed at once, each
    // requester told, and the host is nudged about none of them.
    let mut closed = 0;
    for id in &ids {
        let row = meeloop::db::visits::find(
            &mut app.db.pool.get().unwrap(),
            meeloop::domain::visit::VisitId(*id),
        )
        .unwrap()
        .unwrap();
        if row.state == VisitState::Cancelled {
            assert_eq!(row.cancelled_by.as_deref(), Some("meeloop"));
            assert_eq!(row.closed_because.as_deref(), Some("no_days_left"));
            closed += 1;
        } else {
            assert_eq!(row.state, VisitState::Accepted);
        }
    }
    assert_eq!(closed, 49);
    let halfway =
        meeloop::db::now() + Duration::days(RULES.invitation_days / 2) + Duration::minutes(1);
    let report = crate::schedule::scheduler(&app)
        .run_at(halfway)
        .await
        .unwrap();
    assert_eq!(report.nudged, 0, "{report:?}");
    // The database agrees: one visit that day, two confirmations.
    let mut conn = app.db.pool.get().unwrap();
    assert!(meeloop::db::visits::booked_on(&mut conn, zwolle.0, day[0]).unwrap());
    assert_eq!(
        meeloop::db::visits::hosted_between(&mut conn, zwolle.0, day[0], day[0]).unwrap(),
        1
    );
    let sent = outbox::page(&mut conn, None, None, 200).unwrap();
    let count = |template: &str| sent.iter().filter(|m| m.template == template).count();
    assert_eq!(count("confirmation"), 2);
    assert_eq!((count("closed"), count("nudge")), (49, 0));
}

/// The link in the invitation (from the queued email's text part).
fn invitation_link(app: &TestApp) -> String {
    let mut conn = app.db.pool.get().unwrap();
    let claimed = outbox::claim_due(
        &mut conn,
        meeloop::db::now(),
        meeloop::db::now() + Duration::seconds(1),
        50,
    )
    .unwrap();
    let invitation = claimed
        .iter()
        .find(|m| m.template == "invitation")
        .expect("an invitation");
    invitation
        .body_text
        .split_whitespace()
        .find(|w| w.contains("/invitations/"))
        .unwrap()
        .to_string()
}

async fn the_invitation_link_survives_scanners_and_answers_once(backend: Backend) {
    let app = demo_app(backend).await;
    let anne = coordinator(&app, "anne@sudwestfryslan.example", "GM1900");
    let zwolle = OrganisationId(app.organisation_id("GM0193").await);
    let dates = working_days_ahead(2);
    let visit = request_visit(
        &app.ctx(),
        anne,
        Language::En,
        VisitRequest {
            host: zwolle,
            topic: "cloud-migration".into(),
            proposed_dates: dates.clone(),
            goal: "Hoe hebben jullie de exit uit het eigen datacenter gepland?".into(),
            participants: 2,
        },
    )
    .await
    .unwrap();
    let link = invitation_link(&app);
    assert!(
        link.starts_with(&format!("{}/invitations/", app.address)),
        "{link}"
    );
    let state = |app: &TestApp| {
        let mut conn = app.db.pool.get().unwrap();
        meeloop::db::visits::find(&mut conn, visit.id)
            .unwrap()
            .unwrap()
            .state
    };

    // A link scanner: three GETs and a HEAD change nothing.
    for _ in 0..3 {
        let response = app.client.get(&link).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        assert!(headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'"));
        assert_eq!(headers["x-robots-tag"], "noindex, nofollow");
        assert_eq!(headers["cache-control"], "no-store");
        let html = response.text().await.unwrap();
        assert!(html.contains("<html lang=\"nl\""), "the host's language");
        assert!(html.contains("Súdwest-Fryslân wil graag met 2 personen bij Zwolle meelopen over Migratie naar de cloud."), "{html}");
        assert!(!html.contains("checked"), "no day is preselected");
        assert!(
            !html.contains("http://") && !html.contains("https://") && !html.contains("<script"),
            "nothing external"
        );
    }
    let head = app.client.head(&link).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(state(&app), VisitState::Requested);

    // Blind or incomplete submits are refused and the link stays valid.
    let post =
        |form: &'static [(&'static str, &'static str)]| app.client.post(&link).form(form).send();
    let blind = post(&[]).await.unwrap();
    assert_eq!(blind.status(), 400);
    let no_day = post(&[("action", "accept")]).await.unwrap();
    assert_eq!(no_day.status(), 400);
    assert!(no_day
        .text()
        .await
        .unwrap()
        .contains("Kies een van de voorgestelde dagen."));
    let wrong_day = app
        .post_form(&link, &[("action", "accept"), ("date", "2030-01-01")])
        .await;
    assert_eq!(wrong_day.status(), 400);
    let long = "x".repeat(1001);
    let too_long = app
        .client
        .post(&link)
        .form(&[("action", "decline"), ("reason", long.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(too_long.status(), 400);
    assert!(
        too_long.text().await.unwrap().contains(&long),
        "what was typed is kept"
    );
    assert_eq!(state(&app), VisitState::Requested);

    // An explicit choice answers, then the page says what happened.
    let day = dates[1].to_string();
    let accepted = app
        .client
        .post(&link)
        .form(&[("action", "accept"), ("date", day.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 303);
    assert_eq!(
        accepted.headers()["location"],
        link.trim_start_matches(&app.address)
    );
    assert_eq!(state(&app), VisitState::Accepted);
    let page = app.text(&link).await;
    let written = meeloop::domain::calendar::long_date(dates[1], Language::Nl);
    assert!(
        page.contains(&format!("de meeloopdag is op {written}")),
        "{page}"
    );
    // Both confirmations carry a calendar file that a real parser reads.
    let mut conn = app.db.pool.get().unwrap();
    let claimed = outbox::claim_due(
        &mut conn,
        meeloop::db::now(),
        meeloop::db::now() + Duration::seconds(1),
        50,
    )
    .unwrap();
    drop(conn);
    let confirmations: Vec<_> = claimed
        .iter()
        .filter(|m| m.template == "confirmation")
        .collect();
    assert_eq!(confirmations.len(), 2);
    let host = app
        .address
        .split("://")
        .nth(1)
        .unwrap()
        .split(':')
        .next()
        .unwrap()
        .to_string();
    for message in confirmations {
        let files: serde_json::Value = serde_json::from_str(&message.attachments).unwrap();
        assert_eq!(files[0]["filename"], "meeloopdag.ics");
        assert!(files[0]["contentType"]
            .as_str()
            .unwrap()
            .contains("method=REQUEST"));
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(files[0]["base64"].as_str().unwrap())
            .unwrap();
        let text = icalendar::parser::unfold(std::str::from_utf8(&bytes).unwrap());
        let calendar = icalendar::parser::read_calendar(&text).unwrap();
        let event = calendar
            .components
            .iter()
            .find(|c| c.name == "VEVENT")
            .unwrap();
        let value = |key: &str| {
            event
                .properties
                .iter()
                .find(|p| p.name == key)
                .map(|p| p.val.to_string())
        };
        assert_eq!(value("UID"), Some(format!("visit-{}@{host}", visit.id)));
        assert_eq!(
            value("DTSTART"),
            Some(format!("{}T093000", dates[1].format("%Y%m%d")))
        );
        assert_eq!(value("SEQUENCE").as_deref(), Some("0"));
        let start = event
            .properties
            .iter()
            .find(|p| p.name == "DTSTART")
            .unwrap();
        assert!(start
            .params
            .iter()
            .any(|p| p.key == "TZID"
                && p.val.as_ref().map(|v| v.as_str()) == Some("Europe/Amsterdam")));
        assert!(calendar.components.iter().any(|c| c.name == "VTIMEZONE"));
        assert!(calendar
            .properties
            .iter()
            .any(|p| p.name == "METHOD" && p.val.as_str() == "REQUEST"));
    }
    let again = app.post_form(&link, &[("action", "decline")]).await;
    assert_eq!(again.status(), 409);
    assert!(again.text().await.unwrap().contains("al geaccepteerd"));
    assert_eq!(state(&app), VisitState::Accepted);

    // Links that are not ours.
    for bad in [
        "/invitations/nope",
        "/invitations/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let response = app.get(bad).await;
        assert_eq!(response.status(), 404, "{bad}");
    }
}

async fn each_organisation_lists_its_own_visits(backend: Backend) {
    let app = demo_app(backend).await;
    let anne = coordinator(&app, "anne@sudwestfryslan.example", "GM1900");
    let anne_token = app
        .coordinator_token("anne2@sudwestfryslan.example", "GM1900")
        .await;
    let zwolle_token = app.coordinator_token("piet@zwolle.example", "GM0193").await;
    let stranger = app
        .coordinator_token("kees@rotterdam.example", "GM0599")
        .await;
    let admin = app.admin_token("beheer@meeloop.example").await;
    let mut ids = Vec::new();
    for (code, topic) in [
        ("GM0193", "cloud-migration"),
        ("GM0193", "common-ground"),
        ("GM0363", "cloud-migration"),
    ] {
        let host = OrganisationId(app.organisation_id(code).await);
        let visit = request_visit(
            &app.db.ctx("https://m.example"),
            anne.clone(),
            Language::Nl,
            VisitRequest {
                host,
                topic: topic.into(),
                proposed_dates: working_days_ahead(1),
                goal: "Hoe hebben jullie de exit uit het eigen datacenter gepland?".into(),
                participants: 1,
            },
        )
        .await
        .unwrap();
        ids.push(visit.id.0);
    }
    let listed = |body: &serde_json::Value| -> Vec<i64> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["id"].as_i64().unwrap())
            .collect()
    };
    let get = reqwest::Method::GET;
    let (status, mine) = app
        .send(
            get.clone(),
            "/api/v1/visits?role=requester",
            Some(&anne_token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(listed(&mine), [ids[2], ids[1], ids[0]], "newest first");
    let (_, hosted) = app
        .send(
            get.clone(),
            "/api/v1/visits?role=host",
            Some(&zwolle_token),
            None,
        )
        .await;
    assert_eq!(listed(&hosted), [ids[1], ids[0]]);
    let (_, none) = app
        .send(
            get.clone(),
            "/api/v1/visits?role=host",
            Some(&anne_token),
            None,
        )
        .await;
    assert!(listed(&none).is_empty());
    let (_, strangers) = app
        .send(get.clone(), "/api/v1/visits", Some(&stranger), None)
        .await;
    assert!(
        listed(&strangers).is_empty(),
        "others' visits stay out of sight"
    );
    let (_, page) = app
        .send(
            get.clone(),
            "/api/v1/visits?limit=2",
            Some(&anne_token),
            None,
        )
        .await;
    assert_eq!(listed(&page), [ids[2], ids[1]]);
    let next = page["nextBefore"].as_i64().unwrap();
    let (_, rest) = app
        .send(
            get.clone(),
            &format!("/api/v1/visits?limit=2&before={next}"),
            Some(&anne_token),
            None,
        )
        .await;
    assert_eq!(listed(&rest), [ids[0]]);
    assert!(rest["nextBefore"].is_null());
    let (_, accepted) = app
        .send(
            get.clone(),
            "/api/v1/visits?state=accepted",
            Some(&anne_token),
            None,
        )
        .await;
    assert!(listed(&accepted).is_empty());
    let (_, all) = app
        .send(get.clone(), "/api/v1/visits", Some(&admin), None)
        .await;
    assert_eq!(listed(&all).len(), 3);
    let zwolle = app.organisation_id("GM0193").await;
    let (_, hosted) = app
        .send(
            get.clone(),
            &format!("/api/v1/visits?organisation={zwolle}&role=host"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(listed(&hosted), [ids[1], ids[0]]);
    for (path, token, status) in [
        (
            format!("/api/v1/visits?organisation={zwolle}"),
            &anne_token,
            403,
        ),
        ("/api/v1/visits?role=host".to_string(), &admin, 400),
        ("/api/v1/visits?role=guest".to_string(), &anne_token, 400),
        ("/api/v1/visits?state=lost".to_string(), &anne_token, 400),
    ] {
        let (got, problem) = app.send(get.clone(), &path, Some(token), None).await;
        assert_eq!(got, status, "{path}: {problem}");
    }
}

/// The API names the refused day and why, in the caller's language.
async fn koningsdag_and_saturdays_are_refused_with_the_reason(backend: Backend) {
    let app = demo_app(backend).await;
    let anne = app
        .coordinator_token("anne@sudwestfryslan.example", "GM1900")
        .await;
    let zwolle = app.organisation_id("GM0193").await;
    // The next Koningsdag at least a lead time ahead, and a Saturday.
    let kings_day = (today().year()..)
        .filter_map(|y| NaiveDate::from_ymd_opt(y, 4, 27))
        .find(|d| {
            *d >= today() + Duration::days(RULES.lead_days)
                && !matches!(d.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun)
        })
        .unwrap();
    let saturday = (0..7)
        .map(|i| today() + Duration::days(RULES.lead_days + i))
        .find(|d| d.weekday() == chrono::Weekday::Sat)
        .unwrap();
    for (day, language, words) in [
        (
            kings_day,
            "nl",
            "is een feestdag (Koningsdag): kies een werkdag",
        ),
        (kings_day, "en", "is a public holiday (King's Day)"),
        (saturday, "nl", "valt in het weekend"),
        (saturday, "en", "is in a weekend"),
    ] {
        let response = app
            .client
            .post(format!("{}/api/v1/visits", app.address))
            .bearer_auth(&anne)
            .header("Accept-Language", language)
            .json(&serde_json::json!({
                "hostOrganisationId": zwolle,
                "topic": "cloud-migration",
                "proposedDates": [day],
                "goal": "Hoe hebben jullie de exit uit het eigen datacenter gepland?",
                "participants": 1,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        let problem: serde_json::Value = response.json().await.unwrap();
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains("proposedDates") && detail.contains(words),
            "{day} ({language}): {detail}"
        );
    }
    let (_, visits) = app
        .send(reqwest::Method::GET, "/api/v1/visits", Some(&anne), None)
        .await;
    assert_eq!(
        visits["items"],
        serde_json::json!([]),
        "nothing was requested"
    );
}
