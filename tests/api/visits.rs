//! Visits: requests, invitations with single-use links, answers.

use chrono::{Duration, NaiveDate};
use meeloop::db::outbox;
use meeloop::domain::account::{Password, Role, User};
use meeloop::domain::calendar::is_working_day;
use meeloop::domain::organisation::{Language, OrganisationId};
use meeloop::service::accounts::{create_user, NewAccount};
use meeloop::service::visits::{request_visit, today, VisitRequest, VisitRules};
use meeloop::service::ServiceError;

use crate::backend_tests;
use crate::helpers::{spawn_app_with, Backend, TestApp};

backend_tests!(
    a_request_queues_one_invitation_with_a_single_use_link,
    the_api_requests_and_shows_visits_to_their_parties_only,
);

pub const RULES: VisitRules = VisitRules {
    lead_days: 7,
    invitation_days: 14,
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
        &app.db.pool,
        anne.clone(),
        "https://meeloop.example.nl".into(),
        RULES,
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

    // The same request again is refused while the first is open.
    let again = request_visit(
        &app.db.pool,
        anne.clone(),
        "https://x".into(),
        RULES,
        Language::En,
        request(zwolle, "cloud-migration", dates.clone()),
    )
    .await;
    assert!(
        matches!(again, Err(ServiceError::Conflict(ref m)) if m.contains("already asked")),
        "{again:?}"
    );

    // Refusals that say why.
    let own = OrganisationId(app.organisation_id("GM1900").await);
    let err = request_visit(
        &app.db.pool,
        anne.clone(),
        "https://x".into(),
        RULES,
        Language::En,
        request(own, "cloud-migration", dates.clone()),
    )
    .await;
    assert!(
        matches!(err, Err(ServiceError::Invalid(ref e)) if e.0.contains("own organisation")),
        "{err:?}"
    );
    let saturday = (0..14)
        .map(|i| today() + Duration::days(RULES.lead_days + i))
        .find(|d| chrono::Datelike::weekday(d) == chrono::Weekday::Sat)
        .unwrap();
    let err = request_visit(
        &app.db.pool,
        anne.clone(),
        "https://x".into(),
        RULES,
        Language::En,
        request(zwolle, "data-quality", vec![saturday]),
    )
    .await;
    assert!(
        matches!(err, Err(ServiceError::Invalid(ref e)) if e.0.contains("weekend")),
        "{err:?}"
    );
    let err = request_visit(
        &app.db.pool,
        anne.clone(),
        "https://x".into(),
        RULES,
        Language::En,
        request(zwolle, "no-such-topic", dates.clone()),
    )
    .await;
    assert!(matches!(err, Err(ServiceError::NotFound(_))), "{err:?}");
    let amsterdam = OrganisationId(app.organisation_id("GM0363").await);
    let err = request_visit(
        &app.db.pool,
        anne.clone(),
        "https://x".into(),
        RULES,
        Language::En,
        request(amsterdam, "common-ground", dates.clone()),
    )
    .await;
    assert!(
        matches!(err, Err(ServiceError::Conflict(ref m)) if m.contains("does not host")),
        "{err:?}"
    );
    // Nothing else was queued by the refused requests.
    assert_eq!(
        outbox::counts(&mut app.db.pool.get().unwrap())
            .unwrap()
            .iter()
            .map(|(_, n)| n)
            .sum::<i64>(),
        1
    );
}

async fn the_api_requests_and_shows_visits_to_their_parties_only(backend: Backend) {
    let app = demo_app(backend).await;
    let anne = app
        .token_for(
            "anne@sudwestfryslan.example",
            Role::Coordinator,
            Some("GM1900"),
        )
        .await;
    let host_coordinator = app
        .token_for("piet@zwolle.example", Role::Coordinator, Some("GM0193"))
        .await;
    let stranger = app
        .token_for("kees@amsterdam.example", Role::Coordinator, Some("GM0363"))
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
    assert_eq!(
        outbox::counts(&mut app.db.pool.get().unwrap()).unwrap(),
        [("pending".to_string(), 1)]
    );
}
