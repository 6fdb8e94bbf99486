//! The public directory API, on both backends.

use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{spawn_app, spawn_demo_app, Backend};

backend_tests!(
    topics_are_listed_by_slug_in_both_languages,
    pages_walk_every_organisation_once_in_name_order,
    filters_narrow_the_listing,
    name_search_ignores_case_accents_and_punctuation,
    contact_emails_are_never_public,
    one_organisation_and_its_expertise,
    bad_input_gets_a_problem_that_names_it,
    methods_and_paths_that_do_not_exist,
    probes_and_openapi,
);

async fn topics_are_listed_by_slug_in_both_languages(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    let (status, body) = app.get_json("/api/v1/topics").await;
    assert_eq!(status, 200);
    let topics = body.as_array().unwrap();
    assert_eq!(topics.len(), 10);
    let slugs: Vec<&str> = topics.iter().map(|t| t["slug"].as_str().unwrap()).collect();
    let mut sorted = slugs.clone();
    sorted.sort();
    assert_eq!(slugs, sorted);
    let cloud = topics
        .iter()
        .find(|t| t["slug"] == "cloud-migration")
        .unwrap();
    assert_eq!(cloud["nameNl"], "Migratie naar de cloud");
    assert_eq!(cloud["nameEn"], "Cloud migration");
}

async fn pages_walk_every_organisation_once_in_name_order(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    // Small pages force many cursor hops.
    let mut seen: Vec<Value> = Vec::new();
    let mut path = "/api/v1/organisations?limit=7".to_string();
    loop {
        let (status, body) = app.get_json(&path).await;
        assert_eq!(status, 200, "{body}");
        let items = body["items"].as_array().unwrap();
        assert!(items.len() <= 7);
        seen.extend(items.iter().cloned());
        match body["nextCursor"].as_str() {
            Some(c) => path = format!("/api/v1/organisations?limit=7&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 50, "every demo organisation exactly once");
    let mut ids: Vec<i64> = seen.iter().map(|o| o["id"].as_i64().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 50);
    let names: Vec<String> = seen
        .iter()
        .map(|o| meeloop::domain::search::fold(o["name"].as_str().unwrap()))
        .collect();
    assert!(
        names.windows(2).all(|w| w[0] <= w[1]),
        "ordered by name: {names:?}"
    );
    // 's-Gravenhage sorts under s, Súdwest-Fryslân next to other s-names.
    assert!(
        names.iter().position(|n| n == "s gravenhage")
            < names.iter().position(|n| n == "sudwest fryslan")
    );

    // The default page size is 20.
    let (_, body) = app.get_json("/api/v1/organisations").await;
    assert_eq!(body["items"].as_array().unwrap().len(), 20);
}

async fn filters_narrow_the_listing(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    let corporations = app
        .all_pages("/api/v1/organisations?kind=housing_corporation")
        .await;
    assert_eq!(corporations.len(), 10);
    assert!(corporations
        .iter()
        .all(|o| o["kind"] == "housing_corporation" && o["sizeUnit"] == "rental_homes"));

    // Province names ignore case and accents, and answer in CBS spelling.
    let frisian = app
        .all_pages("/api/v1/organisations?province=fryslan")
        .await;
    assert!(!frisian.is_empty());
    assert!(frisian.iter().all(|o| o["province"] == "Fryslân"));

    // Topic: exactly the organisations that list expertise on it.
    let cloud = app
        .all_pages("/api/v1/organisations?topic=cloud-migration")
        .await;
    assert!(cloud.len() >= 10, "{}", cloud.len());
    for org in &cloud {
        let (_, expertise) = app
            .get_json(&format!("/api/v1/organisations/{}/expertise", org["id"]))
            .await;
        assert!(expertise
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["topic"]["slug"] == "cloud-migration"));
    }

    // Filters combine with AND.
    let both = app
        .all_pages(
            "/api/v1/organisations?topic=cloud-migration&kind=municipality&province=Noord-Holland",
        )
        .await;
    let codes: Vec<&str> = both.iter().map(|o| o["code"].as_str().unwrap()).collect();
    assert_eq!(codes, vec!["GM0363"], "Amsterdam only");
}

async fn name_search_ignores_case_accents_and_punctuation(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    for (q, expected) in [
        ("sudwest", "Súdwest-Fryslân"),
        ("SÚDWEST-fryslân", "Súdwest-Fryslân"),
        ("%27S-GRAVENHAGE", "'s-Gravenhage"),
        ("s%20gravenhage", "'s-Gravenhage"),
    ] {
        let found = app.all_pages(&format!("/api/v1/organisations?q={q}")).await;
        let names: Vec<&str> = found.iter().map(|o| o["name"].as_str().unwrap()).collect();
        assert_eq!(names, vec![expected], "q={q}");
    }
    // LIKE wildcards are not wildcards: punctuation is ignored like an absent q.
    assert_eq!(
        app.all_pages("/api/v1/organisations?q=%25_").await.len(),
        50
    );
    let (status, _, detail) = app.problem("/api/v1/organisations?q=").await;
    assert_eq!(status, 400);
    assert!(detail.contains("must not be empty"), "{detail}");
    assert!(app
        .all_pages("/api/v1/organisations?q=zzzz")
        .await
        .is_empty());
}

async fn contact_emails_are_never_public(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    let listing = app
        .get("/api/v1/organisations?limit=100")
        .await
        .text()
        .await
        .unwrap();
    assert!(listing.contains("Amsterdam"));
    assert!(
        !listing.contains('@'),
        "no email address in the public listing"
    );
    assert!(!listing.to_lowercase().contains("email"));
    let (_, org) = app.get_json("/api/v1/organisations?q=amsterdam").await;
    let id = org["items"][0]["id"].as_i64().unwrap();
    let one = app
        .get(&format!("/api/v1/organisations/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!one.contains('@'));
}

async fn one_organisation_and_its_expertise(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    let (_, page) = app.get_json("/api/v1/organisations?q=zwolle").await;
    let listed = &page["items"][0];
    let id = listed["id"].as_i64().unwrap();
    let (status, org) = app.get_json(&format!("/api/v1/organisations/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(&org, listed);
    assert_eq!(org["code"], "GM0193");
    assert_eq!(org["province"], "Overijssel");
    assert!(org["createdAt"].as_str().unwrap().ends_with('Z'));

    let (status, expertise) = app
        .get_json(&format!("/api/v1/organisations/{id}/expertise"))
        .await;
    assert_eq!(status, 200);
    let cloud = expertise
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["topic"]["slug"] == "cloud-migration")
        .expect("Zwolle knows cloud migration");
    assert_eq!(cloud["level"], 5);
    assert_eq!(cloud["sinceYear"], 2020);
    assert_eq!(cloud["willingToHost"], true);

    let (status, code, detail) = app.problem("/api/v1/organisations/999999").await;
    assert_eq!((status, code.as_str()), (404, "unknown_organisation"));
    assert!(detail.contains("999999"));
    let (status, _, _) = app.problem("/api/v1/organisations/999999/expertise").await;
    assert_eq!(status, 404);
}

async fn bad_input_gets_a_problem_that_names_it(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    for (path, code, mentions) in [
        (
            "/api/v1/organisations?colour=blue",
            "unknown_parameter",
            "colour",
        ),
        (
            "/api/v1/organisations?limit=0",
            "invalid_parameter",
            "limit",
        ),
        (
            "/api/v1/organisations?limit=101",
            "invalid_parameter",
            "limit",
        ),
        (
            "/api/v1/organisations?limit=ten",
            "invalid_parameter",
            "limit",
        ),
        (
            "/api/v1/organisations?limit=5&limit=6",
            "invalid_parameter",
            "more than once",
        ),
        (
            "/api/v1/organisations?kind=gemeente",
            "invalid_parameter",
            "kind",
        ),
        (
            "/api/v1/organisations?province=Vlaanderen",
            "invalid_parameter",
            "province",
        ),
        (
            "/api/v1/organisations?topic=Cloud%20Migration",
            "invalid_parameter",
            "topic",
        ),
        (
            "/api/v1/organisations?cursor=not-a-cursor",
            "invalid_parameter",
            "cursor",
        ),
        ("/api/v1/organisations/abc", "invalid_parameter", "id"),
        ("/api/v1/organisations/0", "invalid_parameter", "id"),
        (
            "/api/v1/organisations/-4/expertise",
            "invalid_parameter",
            "id",
        ),
        (
            "/api/v1/organisations/99999999999999999999999",
            "invalid_parameter",
            "id",
        ),
        ("/api/v1/topics?lang=nl", "unknown_parameter", "lang"),
    ] {
        let (status, got_code, detail) = app.problem(path).await;
        assert_eq!(status, 400, "{path}");
        assert_eq!(got_code, code, "{path}: {detail}");
        assert!(detail.contains(mentions), "{path}: {detail}");
    }
    // A well-formed topic that does not exist is a missing resource.
    let (status, code, detail) = app.problem("/api/v1/organisations?topic=knitting").await;
    assert_eq!((status, code.as_str()), (404, "unknown_topic"));
    assert!(detail.contains("onbekend onderwerp 'knitting'"), "{detail}");
}

async fn methods_and_paths_that_do_not_exist(backend: Backend) {
    let app = spawn_app(backend).await;
    for method in [
        reqwest::Method::POST,
        reqwest::Method::DELETE,
        reqwest::Method::PUT,
        reqwest::Method::TRACE,
    ] {
        let response = app
            .client
            .request(
                method.clone(),
                format!("{}/api/v1/organisations", app.address),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{method}");
        assert_eq!(response.headers()["allow"], "GET, HEAD");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    let (status, code, _) = app.problem("/api/v1/nothing-here").await;
    assert_eq!((status, code.as_str()), (404, "not_found"));

    // HEAD answers like GET, without a body.
    let response = app.head("/api/v1/topics").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["api-version"], "1.0.0");
    assert!(response.bytes().await.unwrap().is_empty());
}

async fn probes_and_openapi(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(
        app.get_json("/healthz").await,
        (200, serde_json::json!({"status": "ok"}))
    );
    assert_eq!(
        app.get_json("/readyz").await,
        (200, serde_json::json!({"status": "ready"}))
    );
    let response = app.get("/healthz").await;
    assert!(response.headers().contains_key("x-request-id"));

    let (status, spec) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    // The NL API Design Rules' shape: the server carries the major version,
    // paths are relative to it (the probes name their own server).
    assert_eq!(spec["servers"][0]["url"], format!("{}/api/v1", app.address));
    assert!(
        spec["info"]["contact"]["email"].is_string(),
        "{}",
        spec["info"]
    );
    for path in [
        "/organisations",
        "/organisations/{id}",
        "/organisations/{id}/expertise",
        "/topics",
        "/healthz",
        "/readyz",
    ] {
        let get = &spec["paths"][path]["get"];
        assert!(get.is_object(), "{path} documented");
        assert!(
            get["responses"]["200"]["headers"]["API-Version"].is_object(),
            "{path} declares API-Version"
        );
        assert!(get["description"].is_string(), "{path} described");
    }
    assert_eq!(spec["paths"]["/healthz"]["servers"][0]["url"], app.address);
    let mut ids = std::collections::BTreeSet::new();
    for item in spec["paths"].as_object().unwrap().values() {
        for (_, operation) in item
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| *k != "servers")
        {
            let id = operation["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_string()), "operationId {id} twice");
        }
    }
    assert!(ids.contains("getVisitsIdCalendarIcs"), "{ids:?}");
    // Every problem type is listed, refusals and the edge's own.
    let types = &spec["components"]["schemas"]["Problem"]["properties"]["type"]["enum"];
    for t in [
        "/problems#day_taken",
        "/problems#invalid_parameter",
        "/problems#not_found",
    ] {
        assert!(types.as_array().unwrap().iter().any(|v| v == t), "{t}");
    }
    assert!(spec["components"]["schemas"]["Problem"]["properties"]["code"].is_null());
    let docs = app.get("/api/v1/docs/").await;
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));
    let redirect = app.get("/api/v1/docs").await;
    assert_eq!(redirect.status(), 308);
}
