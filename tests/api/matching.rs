//! Matching over HTTP: ranked, explained peers in Dutch or English, on
//! real municipality data, with strict parameters.

use meeloop::domain::account::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{spawn_app, spawn_app_with, spawn_demo_app, Backend, TestApp};

backend_tests!(
    a_demo_coordinator_gets_an_explained_top_ten_in_both_languages,
    why_not_names_the_filter_or_the_rank,
    bad_parameters_get_clear_problems,
    changes_to_the_directory_show_in_the_next_match,
    changes_by_another_process_show_within_the_staleness_bound,
    on_real_data_a_near_similar_peer_beats_a_distant_big_city,
    the_founding_case_puts_the_best_in_class_first_and_near_puts_a_neighbour_first,
);

async fn get(
    app: &TestApp,
    path: &str,
    token: &str,
    lang: Option<&str>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut request = app
        .client
        .get(format!("{}{path}", app.address))
        .bearer_auth(token);
    if let Some(lang) = lang {
        request = request.header("Accept-Language", lang);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, response.json().await.unwrap(), headers)
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["organisation"]["name"].as_str().unwrap().to_string())
        .collect()
}

async fn a_demo_coordinator_gets_an_explained_top_ten_in_both_languages(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    let token = app
        .coordinator_token("anne@sudwestfryslan.example", "GM1900")
        .await;
    let (status, nl, headers) =
        get(&app, "/api/v1/matches?topic=cloud-migration", &token, None).await;
    assert_eq!(status, 200, "{nl}");
    assert_eq!(headers["content-language"], "nl");
    assert!(headers["vary"]
        .to_str()
        .unwrap()
        .contains("Accept-Language"));
    assert_eq!(nl["requester"]["code"], "GM1900");
    let items = nl["items"].as_array().unwrap();
    assert_eq!(items.len(), 10, "{nl}");
    let mut previous = f64::INFINITY;
    for (i, m) in items.iter().enumerate() {
        assert_eq!(m["rank"], i + 1);
        let score = m["score"].as_f64().unwrap();
        assert!(score <= previous && (0.0..=1.0).contains(&score), "{m}");
        previous = score;
        assert_ne!(m["organisation"]["code"], "GM1900");
        for part in [
            "maturity",
            "quality",
            "similarity",
            "proximity",
            "availability",
            "fairness",
        ] {
            let c = m["components"][part].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&c), "{part}: {m}");
        }
        let reasons: Vec<&str> = m["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert_eq!(reasons.len(), 7);
        let name = m["organisation"]["name"].as_str().unwrap();
        assert!(reasons[0].starts_with(name), "{reasons:?}");
        assert!(
            reasons[0].contains(" op Migratie naar de cloud (niveau "),
            "{reasons:?}"
        );
        assert!(reasons[0].contains(" km, ongeveer "), "{reasons:?}");
        assert_eq!(reasons[1], "Volgorde: de besten eerst");
        assert!(
            reasons[4].contains(" km verderop, ongeveer "),
            "{reasons:?}"
        );
        assert!(reasons[6].ends_with(" dit kwartaal"), "{reasons:?}");
        assert!(m["travelMinutes"].as_u64().unwrap() >= 15, "{m}");
    }
    assert_eq!(nl["preference"], "best");
    assert!(nl["ordering"]
        .as_str()
        .unwrap()
        .starts_with("De besten eerst"));
    // Best first: the three hosts at level 5 lead, far as they are (the
    // nearest of them 68 km) and big as Amsterdam is; Leeuwarden, level 4
    // and 23 km away, comes after them.
    let ranked = names(&nl);
    let mut top: Vec<&str> = ranked[..3].iter().map(String::as_str).collect();
    top.sort();
    assert_eq!(top, ["Amsterdam", "Groningen", "Zwolle"], "{ranked:?}");
    for m in &items[..3] {
        assert_eq!(m["standing"], "among_best_in_class", "{m}");
    }
    assert_eq!(ranked[3], "Leeuwarden", "{ranked:?}");
    assert_eq!(items[3]["standing"], "ahead", "{nl}");
    // Nearby first: the Frisian neighbour leads and the capital is still listed.
    let (status, near, _) = get(
        &app,
        "/api/v1/matches?topic=cloud-migration&prefer=near&limit=50",
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{near}");
    assert_eq!(near["preference"], "near");
    let nearby = names(&near);
    assert_eq!(nearby[0], "Leeuwarden", "{nearby:?}");
    assert!(nearby.contains(&"Amsterdam".to_string()), "{nearby:?}");
    assert_eq!(near["items"][0]["reasons"][1], "Volgorde: dichtbij eerst");

    let (status, en, headers) = get(
        &app,
        "/api/v1/matches?topic=cloud-migration",
        &token,
        Some("en-GB,en;q=0.9,nl;q=0.5"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-language"], "en");
    assert_eq!(
        names(&en),
        ranked,
        "the language changes the words, not the order"
    );
    let first = &en["items"][0];
    let reasons = first["reasons"].as_array().unwrap();
    let headline = format!(
        "{} is among the best in class on Cloud migration (level 5 since ",
        ranked[0]
    );
    assert!(
        reasons[0].as_str().unwrap().starts_with(&headline),
        "{first}"
    );
    assert_eq!(reasons[1], "Order: best first");
    assert!(
        reasons[4].as_str().unwrap().contains(" km away, about "),
        "{first}"
    );
    assert!(en["ordering"].as_str().unwrap().starts_with("Best first"));

    // Limit and filters.
    let (_, three, _) = get(
        &app,
        "/api/v1/matches?topic=cloud-migration&limit=3",
        &token,
        None,
    )
    .await;
    assert_eq!(names(&three), ranked[..3]);
    let (_, near, _) = get(
        &app,
        "/api/v1/matches?topic=cloud-migration&limit=50&maxDistanceKm=60",
        &token,
        None,
    )
    .await;
    for m in near["items"].as_array().unwrap() {
        assert!(m["distanceKm"].as_f64().unwrap() <= 60.0, "{m}");
    }
    let (_, corporations, _) = get(
        &app,
        "/api/v1/matches?topic=cloud-migration&limit=50&kinds=housing_corporation,water_board",
        &token,
        None,
    )
    .await;
    let kinds: Vec<&str> = corporations["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["organisation"]["kind"].as_str().unwrap())
        .collect();
    assert!(!kinds.is_empty());
    assert!(
        kinds
            .iter()
            .all(|k| ["housing_corporation", "water_board"].contains(k)),
        "{kinds:?}"
    );
    let (_, frisian, _) = get(
        &app,
        "/api/v1/matches?topic=cloud-migration&limit=50&province=fryslan",
        &token,
        None,
    )
    .await;
    assert_eq!(names(&frisian), ["Leeuwarden", "Schiermonnikoog"]);
}

async fn why_not_names_the_filter_or_the_rank(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    let token = app
        .coordinator_token("anne@sudwestfryslan.example", "GM1900")
        .await;
    let (_, list, _) = get(&app, "/api/v1/matches?topic=cloud-migration", &token, None).await;
    let third = &list["items"][2];
    let id = third["organisation"]["id"].as_i64().unwrap();
    let (status, why, _) = get(
        &app,
        &format!("/api/v1/matches/explain?topic=cloud-migration&candidate={id}"),
        &token,
        Some("en"),
    )
    .await;
    assert_eq!(status, 200, "{why}");
    assert_eq!(why["status"], "ranked");
    assert_eq!(why["rank"], 3);
    assert!(why["of"].as_u64().unwrap() >= 10);
    assert_eq!(why["score"], third["score"]);
    assert_eq!(why["components"], third["components"]);

    // Rotterdam has no cloud expertise; the requester itself is never proposed.
    let rotterdam = app.organisation_id_by_name("Rotterdam", "GM0599").await;
    let (_, why, _) = get(
        &app,
        &format!("/api/v1/matches/explain?topic=cloud-migration&candidate={rotterdam}"),
        &token,
        Some("en"),
    )
    .await;
    assert_eq!(why["status"], "excluded", "{why}");
    assert_eq!(why["exclusion"]["code"], "no_expertise");
    assert_eq!(
        why["exclusion"]["reason"],
        "Has no expertise on Cloud migration"
    );
    assert!(why["distanceKm"].as_f64().unwrap() > 100.0, "{why}");
    let own = app.organisation_id("GM1900").await;
    let (_, why, _) = get(
        &app,
        &format!("/api/v1/matches/explain?topic=cloud-migration&candidate={own}"),
        &token,
        Some("en"),
    )
    .await;
    assert_eq!(why["status"], "excluded");
    assert_eq!(why["exclusion"]["code"], "requester");
    assert_eq!(why["exclusion"]["reason"], "This is your own organisation");
    // A host not further than the requester: Zwolle asks, Amsterdam is level 5 too.
    let zwolle = app.coordinator_token("piet@zwolle.example", "GM0193").await;
    let amsterdam = app.organisation_id("GM0363").await;
    let (_, why, _) = get(
        &app,
        &format!("/api/v1/matches/explain?topic=cloud-migration&candidate={amsterdam}"),
        &zwolle,
        None,
    )
    .await;
    assert_eq!(why["exclusion"]["code"], "not_ahead", "{why}");
    assert_eq!(
        why["exclusion"]["reason"],
        "Niet verder dan u op Migratie naar de cloud: niveau 5/5, het uwe is 5/5"
    );
    let (status, _, _) = get(
        &app,
        "/api/v1/matches/explain?topic=cloud-migration&candidate=999999",
        &token,
        None,
    )
    .await;
    assert_eq!(status, 404);
}

async fn bad_parameters_get_clear_problems(backend: Backend) {
    let app = spawn_demo_app(backend).await;
    let token = app
        .coordinator_token("anne@sudwestfryslan.example", "GM1900")
        .await;
    let admin = app.admin_token("beheer@meeloop.example").await;
    let zwolle = app.organisation_id("GM0193").await;
    for (path, status, needle) in [
        ("/api/v1/matches", 400, "topic"),
        ("/api/v1/matches?topic=teleportatie", 404, "teleportatie"),
        ("/api/v1/matches?topic=Cloud", 400, "topic"),
        (
            "/api/v1/matches?topic=cloud-migration&limit=0",
            400,
            "limit",
        ),
        (
            "/api/v1/matches?topic=cloud-migration&limit=1000",
            400,
            "limit",
        ),
        (
            "/api/v1/matches?topic=cloud-migration&limit=ten",
            400,
            "limit",
        ),
        (
            "/api/v1/matches?topic=cloud-migration&kinds=castle",
            400,
            "kinds",
        ),
        (
            "/api/v1/matches?topic=cloud-migration&maxDistanceKm=0",
            400,
            "maxDistanceKm",
        ),
        (
            "/api/v1/matches?topic=cloud-migration&province=Atlantis",
            400,
            "province",
        ),
        (
            "/api/v1/matches?topic=cloud-migration&colour=red",
            400,
            "colour",
        ),
        (
            "/api/v1/matches?topic=cloud-migration&topic=privacy",
            400,
            "topic",
        ),
        (
            "/api/v1/matches/explain?topic=cloud-migration",
            400,
            "candidate",
        ),
        (
            "/api/v1/matches/explain?topic=cloud-migration&candidate=-1",
            400,
            "candidate",
        ),
    ] {
        let (got, body, headers) = get(&app, path, &token, None).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(
            headers["content-type"], "application/problem+json",
            "{path}"
        );
        assert!(
            body["detail"].as_str().unwrap().contains(needle),
            "{path}: {body}"
        );
    }
    // Coordinators match for their own organisation only; admins say for whom.
    let (status, _, _) = get(
        &app,
        &format!("/api/v1/matches?topic=cloud-migration&organisation={zwolle}"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, body, _) = get(&app, "/api/v1/matches?topic=cloud-migration", &admin, None).await;
    assert_eq!(status, 400);
    assert!(
        body["detail"].as_str().unwrap().contains("organisation"),
        "{body}"
    );
    let (status, body, _) = get(
        &app,
        &format!("/api/v1/matches?topic=cloud-migration&organisation={zwolle}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["requester"]["code"], "GM0193");
    let (status, _, _) = get(
        &app,
        "/api/v1/matches?topic=cloud-migration&organisation=999999",
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 404);
}

async fn changes_to_the_directory_show_in_the_next_match(backend: Backend) {
    // Changes made through this instance show at once, however long the
    // instance may otherwise trust what it read.
    let app = spawn_app_with(backend, |f| {
        f.merge(("database.max_staleness_ms", 3_600_000))
    })
    .await;
    meeloop::service::demo::load(&mut app.db.pool.get().unwrap()).unwrap();
    let token = app
        .coordinator_token("anne@sudwestfryslan.example", "GM1900")
        .await;
    let admin = app.admin_token("beheer@meeloop.example").await;
    let path = "/api/v1/matches?topic=cloud-migration&limit=50";
    let (_, before, _) = get(&app, path, &token, None).await;
    assert!(!names(&before).contains(&"Rotterdam".to_string()));

    // Rotterdam enters expertise: proposed at once.
    let rotterdam = app.organisation_id_by_name("Rotterdam", "GM0599").await;
    let (status, _) = app
        .send(
            Method::PUT,
            &format!("/api/v1/organisations/{rotterdam}/expertise/cloud-migration"),
            Some(&admin),
            Some(json!({"level": 5, "sinceYear": 2024, "willingToHost": true})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, after, _) = get(&app, path, &token, None).await;
    assert!(names(&after).contains(&"Rotterdam".to_string()), "{after}");

    // Rotterdam says it has no room this season: excluded, and why.
    let (status, _) = app
        .send(
            Method::PATCH,
            &format!("/api/v1/organisations/{rotterdam}"),
            Some(&admin),
            Some(json!({"monthlyHostingCapacity": 0})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, after, _) = get(&app, path, &token, None).await;
    assert!(!names(&after).contains(&"Rotterdam".to_string()));
    let (_, why, _) = get(
        &app,
        &format!("/api/v1/matches/explain?topic=cloud-migration&candidate={rotterdam}"),
        &token,
        None,
    )
    .await;
    assert_eq!(why["exclusion"]["code"], "no_capacity", "{why}");

    // A deactivated organisation is never proposed.
    let leeuwarden = app.organisation_id_by_name("Leeuwarden", "GM0080").await;
    let (status, _) = app
        .send(
            Method::PATCH,
            &format!("/api/v1/admin/organisations/{leeuwarden}"),
            Some(&admin),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, after, _) = get(&app, path, &token, None).await;
    assert!(!names(&after).contains(&"Leeuwarden".to_string()));
    // A retired topic cannot be matched on.
    let (status, _) = app
        .send(
            Method::PATCH,
            "/api/v1/admin/topics/cloud-migration",
            Some(&admin),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(get(&app, path, &token, None).await.0, 404);
    // And a logout ends the session at once, though it was just checked.
    assert_eq!(get(&app, "/api/v1/me", &token, None).await.0, 200);
    let (status, _) = app
        .send(Method::POST, "/api/v1/auth/logout", Some(&token), None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(get(&app, "/api/v1/me", &token, None).await.0, 401);
}

async fn changes_by_another_process_show_within_the_staleness_bound(backend: Backend) {
    let app = spawn_app_with(backend, |f| f.merge(("database.max_staleness_ms", 200))).await;
    meeloop::service::demo::load(&mut app.db.pool.get().unwrap()).unwrap();
    let token = app
        .coordinator_token("anne@sudwestfryslan.example", "GM1900")
        .await;
    let path = "/api/v1/matches?topic=cloud-migration&limit=50&province=fryslan";
    let leeuwarden_size =
        |list: &Value| list["items"][0]["reasons"][3].as_str().unwrap().to_string();
    let (_, before, _) = get(&app, path, &token, None).await;
    assert_eq!(before["items"][0]["organisation"]["code"], "GM0080");
    assert!(leeuwarden_size(&before).contains("128.810"), "{before}");

    // An operator re-imports Leeuwarden with a new population, from the shell.
    let file = app.db.data_dir.path().join("leeuwarden.csv");
    std::fs::write(&file, "cbs_code,name,province,population,lat,lon,year\nGM0080,Leeuwarden,Fryslân,130000,53.17004,5.79845,2025\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_meeloop"))
        .args(["import", "organisations", file.to_str().unwrap()])
        .env("MEELOOP_DATA_DIR", app.db.data_dir.path())
        .env("MEELOOP_DATABASE__URL", &app.db.url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Visible within the bound: wait for it, at most ten times the bound.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let (status, after, _) = get(&app, path, &token, None).await;
        assert_eq!(status, 200, "{after}");
        if leeuwarden_size(&after).contains("130.000") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still {after}");
        // Poll, not spin: a tight loop spends the API rate limit (429)
        // before the bound has passed on a fast machine.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn on_real_data_a_near_similar_peer_beats_a_distant_big_city(backend: Backend) {
    let app = spawn_app(backend).await;
    let csv = std::fs::read(crate::helpers::municipalities_csv()).unwrap();
    let report = app.import(&csv, false);
    assert_eq!(report.inserted, 342);
    let admin = app.admin_token("beheer@meeloop.example").await;
    let (status, _) = app
        .send(
            Method::POST,
            "/api/v1/admin/topics",
            Some(&admin),
            Some(json!({"slug": "cloud-migration", "nameNl": "Migratie naar de cloud", "nameEn": "Cloud migration"})),
        )
        .await;
    assert_eq!(status, 201);
    let stadskanaal = app.organisation_id_by_name("Stadskanaal", "GM0037").await;
    let veendam = app.organisation_id_by_name("Veendam", "GM0047").await;
    let amsterdam = app.organisation_id_by_name("Amsterdam", "GM0363").await;
    for host in [veendam, amsterdam] {
        let (status, _) = app
            .send(
                Method::PUT,
                &format!("/api/v1/organisations/{host}/expertise/cloud-migration"),
                Some(&admin),
                Some(json!({"level": 4, "sinceYear": 2023, "willingToHost": true})),
            )
            .await;
        assert_eq!(status, 200);
    }
    let (status, list, _) = get(
        &app,
        &format!("/api/v1/matches?topic=cloud-migration&organisation={stadskanaal}"),
        &admin,
        Some("en"),
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(names(&list), ["Veendam", "Amsterdam"]);
    // Equal in mastery, so proximity and similarity decide.
    let veendam_match = &list["items"][0];
    assert_eq!(
        veendam_match["reasons"][3],
        "Similar size: 27,520 vs 32,013 inhabitants"
    );
    // Centroid distances (CBS/PDOK coordinates), against commonly quoted
    // straight-line distances between the places.
    let km = |m: &Value| m["distanceKm"].as_f64().unwrap();
    assert!((km(veendam_match) - 13.0).abs() < 1.5, "{veendam_match}");
    assert!(
        (km(&list["items"][1]) - 158.0).abs() < 3.0,
        "{}",
        list["items"][1]
    );
    let groningen = app.organisation_id_by_name("Groningen", "GM0014").await;
    let rotterdam = app.organisation_id_by_name("Rotterdam", "GM0599").await;
    let maastricht = app.organisation_id_by_name("Maastricht", "GM0935").await;
    for (from, to, quoted) in [(amsterdam, rotterdam, 57.0), (groningen, maastricht, 270.0)] {
        let (_, why, _) = get(
            &app,
            &format!(
                "/api/v1/matches/explain?topic=cloud-migration&organisation={from}&candidate={to}"
            ),
            &admin,
            None,
        )
        .await;
        let d = why["distanceKm"].as_f64().unwrap();
        assert!(
            (d - quoted).abs() < 3.0,
            "{from}–{to}: {d} km, quoted {quoted}"
        );
    }
}

/// The story Meeloop exists for (docs/matching.md): Waddinxveen wants to
/// move to the cloud; Veere, in Zeeland, is the best of the class; five
/// neighbours are at levels 4 and 3. On the real CBS data.
async fn the_founding_case_puts_the_best_in_class_first_and_near_puts_a_neighbour_first(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let csv = std::fs::read(crate::helpers::municipalities_csv()).unwrap();
    assert_eq!(app.import(&csv, false).inserted, 342);
    let admin = app.admin_token("beheer@meeloop.example").await;
    let (status, _) = app
        .send(
            Method::POST,
            "/api/v1/admin/topics",
            Some(&admin),
            Some(json!({"slug": "cloud-migration", "nameNl": "Migratie naar de cloud", "nameEn": "Cloud migration"})),
        )
        .await;
    assert_eq!(status, 201);
    let expertise = [
        ("Waddinxveen", "GM0627", 1, 2026, false),
        ("Veere", "GM0717", 5, 2019, true),
        ("Gouda", "GM0513", 4, 2021, true),
        ("Krimpenerwaard", "GM1931", 4, 2021, true),
        ("Zuidplas", "GM1892", 3, 2021, true),
        ("Bodegraven-Reeuwijk", "GM1901", 3, 2021, true),
        ("Alphen aan den Rijn", "GM0484", 3, 2021, true),
    ];
    for (name, code, level, since, willing) in expertise {
        let id = app.organisation_id_by_name(name, code).await;
        let (status, body) = app
            .send(
                Method::PUT,
                &format!("/api/v1/organisations/{id}/expertise/cloud-migration"),
                Some(&admin),
                Some(json!({"level": level, "sinceYear": since, "willingToHost": willing})),
            )
            .await;
        assert_eq!(status, 200, "{name}: {body}");
    }
    let email = "automatisering@waddinxveen.example";
    let coordinator = app
        .token_for(email, Role::Coordinator, Some("GM0627"))
        .await;
    let list = |prefer: &'static str| {
        let (app, coordinator) = (&app, &coordinator);
        async move {
            let (status, list, _) = get(
                app,
                &format!("/api/v1/matches?topic=cloud-migration{prefer}"),
                coordinator,
                None,
            )
            .await;
            assert_eq!(status, 200, "{list}");
            list
        }
    };

    // Best first, by default: Veere, then the level 4s, then the level 3s.
    let best = list("").await;
    let ranked = names(&best);
    assert_eq!(ranked[0], "Veere", "{ranked:?}");
    let mut fours: Vec<&str> = ranked[1..3].iter().map(String::as_str).collect();
    fours.sort();
    assert_eq!(fours, ["Gouda", "Krimpenerwaard"]);
    assert_eq!(ranked.len(), 6);
    let veere = &best["items"][0];
    assert_eq!(veere["standing"], "best_in_class");
    assert_eq!(
        veere["reasons"][0],
        "Veere is de beste van de klas op Migratie naar de cloud (niveau 5 sinds 2019; \
         nog geen beoordelingen) — 93 km, ongeveer een uur en een kwartier reizen"
    );
    assert_eq!(veere["travelMinutes"], 75);
    assert_eq!(best["preference"], "best");
    assert!(best["items"][1]["reasons"][0]
        .as_str()
        .unwrap()
        .contains(" is verder dan u op Migratie naar de cloud (niveau 4 sinds 2021; "));
    // The same with `prefer=best` spelled out.
    assert_eq!(names(&list("&prefer=best").await), ranked);

    // Nearby first: a neighbour leads; Veere is still there, last.
    let near = list("&prefer=near").await;
    let nearby = names(&near);
    assert_ne!(nearby[0], "Veere");
    assert!(
        near["items"][0]["distanceKm"].as_f64().unwrap() < 15.0,
        "{near}"
    );
    assert_eq!(
        nearby.last().map(String::as_str),
        Some("Veere"),
        "{nearby:?}"
    );
    assert_eq!(near["preference"], "near");
    assert_eq!(near["items"][0]["reasons"][1], "Volgorde: dichtbij eerst");
    assert!(near["ordering"]
        .as_str()
        .unwrap()
        .starts_with("Dichtbij eerst"));

    // Similar first: the neighbour nearest Waddinxveen's size (34,000).
    let similar = list("&prefer=similar").await;
    assert_eq!(names(&similar)[0], "Bodegraven-Reeuwijk", "{similar}");
    assert_eq!(
        similar["items"][0]["reasons"][1],
        "Volgorde: vergelijkbare organisaties eerst"
    );

    // Explain agrees with each order.
    let veere_id = veere["organisation"]["id"].as_i64().unwrap();
    for (prefer, rank) in [("", 1), ("&prefer=near", 6)] {
        let (status, why, _) = get(
            &app,
            &format!("/api/v1/matches/explain?topic=cloud-migration&candidate={veere_id}{prefer}"),
            &coordinator,
            Some("en"),
        )
        .await;
        assert_eq!(status, 200, "{why}");
        assert_eq!(
            (why["rank"].as_u64(), why["of"].as_u64()),
            (Some(rank), Some(6)),
            "{why}"
        );
        assert_eq!(why["standing"], "best_in_class");
    }

    // An unknown preference is a clear 400 naming the parameter.
    let (status, problem, _) = get(
        &app,
        "/api/v1/matches?topic=cloud-migration&prefer=closest",
        &coordinator,
        None,
    )
    .await;
    assert_eq!(status, 400, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("prefer"),
        "{problem}"
    );

    // The peers page shows both at a glance: the best in class, and good
    // peers nearby, each in its own labelled section.
    let web = crate::pages::Web::new(&app).logged_in(email).await;
    let page = web.get("/peers?topic=cloud-migration").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let section = |from: &str, to: &str| -> String {
        let start = page.body.find(from).unwrap_or_else(|| panic!("no {from}"));
        let end = start + page.body[start..].find(to).unwrap();
        page.body[start..end].to_string()
    };
    let best_section = section(r#"id="best-h""#, r#"id="near-h""#);
    let near_section = section(r#"id="near-h""#, r#"id="results-h""#);
    assert!(
        best_section.contains("De besten van de klas"),
        "{best_section}"
    );
    assert!(
        best_section.contains("<strong>Veere</strong><br>Veere is de beste van de klas"),
        "{best_section}"
    );
    // Only Veere is in its class; the nearby section has the three
    // nearest in the `near` order.
    assert_eq!(
        best_section.matches("<strong>").count(),
        1,
        "{best_section}"
    );
    assert!(near_section.contains("dichtbij"), "{near_section}");
    let shown: Vec<&str> = near_section
        .split("<strong>")
        .skip(1)
        .map(|s| s.split("</strong>").next().unwrap())
        .collect();
    assert_eq!(shown, nearby[..3], "{near_section}");
    // The whole list in the chosen order, and the choice kept on the form.
    let page = web.get("/peers?topic=cloud-migration&prefer=near").await;
    let list_part = section_of(&page.body, r#"id="results-h""#);
    assert!(
        list_part.find(&nearby[0]).unwrap() < list_part.find("Veere").unwrap(),
        "{list_part}"
    );
    assert!(
        page.body.contains(r#"value="near" checked"#),
        "{}",
        page.body
    );
}

fn section_of<'a>(html: &'a str, from: &str) -> &'a str {
    &html[html.find(from).unwrap_or_else(|| panic!("no {from}"))..]
}
