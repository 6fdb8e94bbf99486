//! Pictures of who learns from whom (issue 22): the statistics page's
//! charts, a topic's map and learning network, an organisation's learning
//! history — each SVG parsed as XML and checked against the figures it
//! draws, and the same figures through the partner API.

use reqwest::StatusCode;
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::pages::Web;
use crate::visits::{coordinator, demo_app};

backend_tests!(
    the_statistics_page_draws_the_figures_as_charts_with_tables,
    a_topic_shows_its_map_and_network_and_hides_the_unnamed,
    an_organisation_shows_its_learning_history_and_applied_joins_the_leaders,
);

/// The demo with its history of held visits, and a coordinator of
/// Súdwest-Fryslân logged in on the pages.
async fn demo(backend: Backend) -> TestApp {
    let app = demo_app(backend).await;
    meeloop::service::demo::load_history(&mut app.db.pool.get().unwrap()).unwrap();
    coordinator(&app, "anne@sudwestfryslan.example", "GM1900");
    app
}

/// Every `<svg>…</svg>` of a page, as text.
fn svgs(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg") {
        let end = rest[start..].find("</svg>").expect("a closed svg") + start + 6;
        out.push(rest[start..end].to_string());
        rest = &rest[end..];
    }
    out
}

/// Parses a chart and checks what every chart must have: an accessible
/// name and description that exist, and nothing fetched or scripted.
fn chart(svg: &str) -> roxmltree::Document<'_> {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{e}: {svg}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.attribute("role"), Some("img"));
    let labelled: Vec<&str> = root
        .attribute("aria-labelledby")
        .unwrap()
        .split(' ')
        .collect();
    for (id, tag) in labelled.iter().zip(["title", "desc"]) {
        let node = doc
            .descendants()
            .find(|n| n.attribute("id") == Some(id))
            .unwrap_or_else(|| panic!("#{id} in {svg}"));
        assert_eq!(node.tag_name().name(), tag);
        assert!(node.text().is_some_and(|t| t.len() > 10), "{tag}: {svg}");
    }
    for forbidden in ["script", "image", "foreignObject", "use"] {
        assert!(
            doc.descendants().all(|n| n.tag_name().name() != forbidden),
            "{forbidden} in {svg}"
        );
    }
    assert!(!svg.contains("href=\"http"), "nothing fetched");
    doc
}

fn with_class<'a, 'i>(
    doc: &'a roxmltree::Document<'i>,
    class: &str,
) -> Vec<roxmltree::Node<'a, 'i>> {
    doc.descendants()
        .filter(|n| n.attribute("class") == Some(class))
        .collect()
}

fn number(node: &roxmltree::Node, attribute: &str) -> f64 {
    node.attribute(attribute)
        .unwrap_or_else(|| panic!("{attribute}"))
        .parse()
        .unwrap()
}

/// Bars whose length (or height) is `scale` × their value, up to SVG's
/// one decimal.
fn proportional(bars: &[roxmltree::Node], size: &str) -> f64 {
    let scale = bars
        .iter()
        .map(|b| (number(b, "data-value"), number(b, size)))
        .find(|(v, _)| *v > 0.0)
        .map(|(v, s)| s / v)
        .expect("a bar with a value");
    for b in bars {
        let (v, s) = (number(b, "data-value"), number(b, size));
        assert!(
            (s - v * scale).abs() <= 0.1,
            "{v} drawn {s} at {scale} a unit"
        );
    }
    scale
}

async fn the_statistics_page_draws_the_figures_as_charts_with_tables(backend: Backend) {
    let app = demo(backend).await;
    let anne = Web::new(&app)
        .logged_in("anne@sudwestfryslan.example")
        .await;
    let page = anne.get("/statistics").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let charts = svgs(&page.body);
    assert_eq!(charts.len(), 5, "{}", page.body);
    // The demo: four visits on cloud migration over the past weeks, each
    // with its visitor's lesson (264 hours), every request accepted after a week.
    let visits = chart(&charts[0]);
    let columns = with_class(&visits, "bar");
    assert_eq!(columns.len(), 12, "a column per month, one topic");
    proportional(&columns, "height");
    let drawn: f64 = columns.iter().map(|c| number(c, "data-value")).sum();
    assert_eq!(drawn, 4.0);
    let forms = chart(&charts[1]);
    let answered = with_class(&forms, "bar");
    assert_eq!(number(&answered[0], "data-value"), 0.5, "4 of 8 forms");
    assert_eq!(number(&answered[0], "width"), 170.0, "half of the full 340");
    let hours = chart(&charts[2]);
    assert_eq!(number(&with_class(&hours, "bar")[0], "data-value"), 264.0);
    let accepted = chart(&charts[3]);
    let rate = with_class(&accepted, "bar");
    assert_eq!(
        (number(&rate[0], "data-value"), number(&rate[0], "width")),
        (1.0, 340.0)
    );
    let days = chart(&charts[4]);
    assert_eq!(number(&with_class(&days, "bar")[0], "data-value"), 7.0);
    // Beside every chart, a table with the same figures.
    assert_eq!(page.body.matches("<table>").count(), 5);
    for figure in [
        "<td>264</td>",
        "<td>50%</td>",
        "<td>100%</td>",
        "<td>7,0</td>",
    ] {
        assert!(page.body.contains(figure), "{figure}");
    }

    // An admin sees the same charts.
    app.admin_token("beheer@meeloop.example").await;
    let admin = Web::new(&app).logged_in("beheer@meeloop.example").await;
    let page = admin.get("/statistics").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(svgs(&page.body).len(), 5);

    // In English, and with a period chosen; a bad one is said, not a 500.
    anne.get("/language/en?back=/statistics").await;
    let page = anne.get("/statistics?from=2020-01&to=2020-06").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Hours saved per topic"));
    let charts = svgs(&page.body);
    let empty = chart(&charts[0]);
    assert!(with_class(&empty, "bar").is_empty(), "nothing in 2020");
    let bad = anne.get("/statistics?from=2020-13").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("Write a month as 2027-03."));
    let long = anne.get("/statistics?from=2020-01&to=2026-01").await;
    assert_eq!(long.status, StatusCode::BAD_REQUEST);
    assert!(long.body.contains("at most 36 months"));
}

/// The part of a page from `from` to the next `</section>`.
fn section<'a>(html: &'a str, from: &str) -> &'a str {
    let start = html.find(from).unwrap_or_else(|| panic!("{from}"));
    let end = html[start..].find("</section>").unwrap() + start;
    &html[start..end]
}

async fn a_topic_shows_its_map_and_network_and_hides_the_unnamed(backend: Backend) {
    let app = demo(backend).await;
    let anne = Web::new(&app)
        .logged_in("anne@sudwestfryslan.example")
        .await;
    let page = anne.get("/topics/cloud-migration").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let charts = svgs(&page.body);
    assert_eq!(charts.len(), 2);
    let token = app
        .coordinator_token("lieke@leeuwarden.example", "GM0080")
        .await;

    // The map: a mark per organisation with expertise, as the API lists them.
    let (status, map) = app
        .json_as("/api/v1/topics/cloud-migration/map", &token)
        .await;
    assert_eq!(status, 200, "{map}");
    let items = map["items"].as_array().unwrap();
    let drawn = chart(&charts[0]);
    let marks = with_class(&drawn, "org");
    assert_eq!(marks.len(), items.len());
    assert_eq!(marks.len(), 18, "the demo's experts on cloud migration");
    let best = |m: &&roxmltree::Node| m.attribute("data-best") == Some("true");
    let best_in_api: Vec<&str> = items
        .iter()
        .filter(|i| i["bestInClass"] == true)
        .map(|i| i["organisation"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(best_in_api, ["Zwolle", "Amsterdam", "Groningen"]);
    assert_eq!(marks.iter().filter(best).count(), 3);
    // Sized by level: a municipality's circle grows 1.3 a level.
    for m in marks
        .iter()
        .filter(|m| m.attribute("data-kind") == Some("municipality"))
    {
        let level: f64 = number(m, "data-level");
        let circle = m.children().find(|c| c.has_tag_name("circle")).unwrap();
        assert_eq!(number(&circle, "r"), 2.5 + 1.3 * level);
    }
    // The land: every municipality and directory organisation, drawn faintly.
    let land = with_class(&drawn, "land")[0]
        .children()
        .filter(|c| c.is_element())
        .count();
    assert!(land >= 342, "{land}");
    // Shapes by kind: the housing corporations are squares.
    let corporations: Vec<_> = marks
        .iter()
        .filter(|m| m.attribute("data-kind") == Some("housing_corporation"))
        .collect();
    assert_eq!(corporations.len(), 2);
    assert!(corporations
        .iter()
        .all(|m| m.children().any(|c| c.has_tag_name("rect"))));

    // The network: the demo's four held visits — Schiermonnikoog and
    // Veenendaal at Zwolle, Talis at Ymere, Ede at Amsterdam. Veenendaal
    // published its lesson without its name: it is not named for it.
    let net = chart(&charts[1]);
    let nodes = with_class(&net, "node");
    let arrows = with_class(&net, "visit");
    assert_eq!(arrows.len(), 4, "one arrow per visit");
    assert_eq!(nodes.len(), 7, "one node per party");
    let title = |n: &roxmltree::Node| {
        n.children()
            .find(|c| c.has_tag_name("title"))
            .and_then(|t| t.text())
            .unwrap_or_default()
            .to_string()
    };
    let node_titles: Vec<String> = nodes.iter().map(title).collect();
    let standing = |name: &str| {
        let i = node_titles
            .iter()
            .position(|t| t.starts_with(name))
            .unwrap();
        nodes[i].attribute("data-standing").unwrap().to_string()
    };
    assert_eq!(standing("Zwolle"), "best");
    assert_eq!(standing("Amsterdam"), "best");
    assert_eq!(standing("Ymere"), "host");
    assert_eq!(standing("Talis"), "visitor");
    assert!(
        node_titles
            .iter()
            .any(|t| t.starts_with("een gemeente (50.000–100.000 inwoners)")),
        "{node_titles:?}"
    );
    assert!(!charts[1].contains("Veenendaal"));
    assert!(!section(&page.body, "id=\"network-h\"").contains("Veenendaal"));
    // Arrows go from the visitor's node to the host's.
    let index = |name: &str| {
        node_titles
            .iter()
            .position(|t| t.starts_with(name))
            .unwrap()
            .to_string()
    };
    assert!(arrows.iter().any(|a| {
        a.attribute("data-from") == Some(&index("Talis"))
            && a.attribute("data-to") == Some(&index("Ymere"))
    }));
    let into_zwolle = arrows
        .iter()
        .filter(|a| a.attribute("data-to") == Some(&index("Zwolle")))
        .count();
    assert_eq!(into_zwolle, 2);

    // The same through the API.
    let (status, network) = app
        .json_as("/api/v1/topics/cloud-migration/network", &token)
        .await;
    assert_eq!(status, 200, "{network}");
    let api_nodes = network["nodes"].as_array().unwrap();
    assert_eq!(api_nodes.len(), 7);
    let unnamed: Vec<&Value> = api_nodes
        .iter()
        .filter(|n| n["id"].as_str().unwrap().starts_with("unnamed:"))
        .collect();
    assert_eq!(unnamed.len(), 1);
    assert_eq!(unnamed[0]["organisation"], Value::Null);
    assert!(!network.to_string().contains("Veenendaal"));
    let edges = network["edges"].as_array().unwrap();
    let total: u64 = edges.iter().map(|e| e["visits"].as_u64().unwrap()).sum();
    assert_eq!(total, 4);
    assert!(edges.iter().any(|e| e["from"] == unnamed[0]["id"]));

    // Refusals: unknown topic, a partner without lessons:read, strangers.
    let (status, problem) = app.json_as("/api/v1/topics/knitting/network", &token).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (404, Some("unknown_topic"))
    );
    let counter = crate::matrix::partner_token(&app, "stats:read").await;
    let (status, _) = app
        .json_as("/api/v1/topics/cloud-migration/map", &counter)
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        anne.get("/topics/knitting").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        anne.get("/topics/Not%20a%20slug").await.status,
        StatusCode::NOT_FOUND
    );
    // A topic nobody visited yet: an empty network that says so.
    let quiet = anne.get("/topics/privacy").await;
    assert_eq!(quiet.status, StatusCode::OK);
    let empty = svgs(&quiet.body);
    let net = chart(&empty[1]);
    assert!(with_class(&net, "node").is_empty());
    assert!(empty[1].contains("Nog geen gehouden meeloopdagen"));
}

async fn an_organisation_shows_its_learning_history_and_applied_joins_the_leaders(
    backend: Backend,
) {
    let app = demo(backend).await;
    let zwolle = app.organisation_id("GM0193").await;
    // Schiermonnikoog says, three months on, it applied what it saw in Zwolle.
    {
        use diesel::prelude::*;
        use meeloop::db::schema::{organisations, visits};
        let mut conn = app.db.pool.get().unwrap();
        let visit: i64 = meeloop::db::dispatch!(&mut conn, c => visits::table
            .inner_join(organisations::table.on(organisations::id.eq(visits::requester_id)))
            .filter(organisations::code.eq("GM0088"))
            .select(visits::id)
            .first(c))
        .unwrap();
        meeloop::db::lessons::insert_followup(
            &mut conn,
            &meeloop::db::lessons::FollowUpRow {
                visit_id: visit,
                applied: "yes".into(),
                changes: "Exitplannen per applicatie.".into(),
                answered_at: meeloop::db::now(),
            },
        )
        .unwrap();
    }
    let counter = crate::matrix::partner_token(&app, "stats:read").await;
    let (status, history) = app
        .json_as(&format!("/api/v1/organisations/{zwolle}/history"), &counter)
        .await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(history["visitsHosted"], 2);
    assert_eq!(history["visitsMade"], 0);
    assert_eq!(history["hoursSavedForOthers"], 120, "80 and 40 hours");
    assert_eq!(history["lessonsPublished"], 0);
    assert_eq!(
        history["applied"],
        serde_json::json!({"answered": 1, "yes": 1, "partly": 0, "no": 0, "rate": 1.0})
    );
    let per_year: u64 = history["perYear"]
        .as_array()
        .unwrap()
        .iter()
        .map(|y| y["hosted"].as_u64().unwrap())
        .sum();
    assert_eq!(per_year, 2);
    for (path, status) in [
        ("/api/v1/organisations/999999/history", 404),
        ("/api/v1/organisations/abc/history", 400),
        ("/api/v1/organisations/0/history", 400),
    ] {
        let (got, body) = app.json_as(path, &counter).await;
        assert_eq!(got, status, "{path}: {body}");
    }

    // "Applied" joins the leaders table, in the API and on the page.
    let token = app
        .coordinator_token("lieke@leeuwarden.example", "GM0080")
        .await;
    let (_, leaders) = app
        .json_as("/api/v1/topics/cloud-migration/leaders", &token)
        .await;
    let first = &leaders["items"][0];
    assert_eq!(first["organisation"]["name"], "Zwolle");
    assert_eq!(first["applied"]["answered"], 1);
    assert_eq!(leaders["items"][1]["applied"]["answered"], 0);
    assert_eq!(leaders["items"][1]["applied"]["rate"], Value::Null);
    let anne = Web::new(&app)
        .logged_in("anne@sudwestfryslan.example")
        .await;
    let knowledge = anne.get("/knowledge?topic=cloud-migration").await;
    assert!(knowledge.body.contains("<td>1 van 1 (100%)</td>"));
    assert!(knowledge
        .body
        .contains(&format!("href=\"/organisations/{zwolle}\"")));

    // Zwolle's page.
    let page = anne.get(&format!("/organisations/{zwolle}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<dd>1 van 1 (100%)</dd>"),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains("<dt>Meeloopdagen ontvangen</dt><dd>2</dd>"));
    let charts = svgs(&page.body);
    let years = chart(&charts[0]);
    let bars = with_class(&years, "bar");
    let hosted: f64 = bars.iter().map(|b| number(b, "data-value")).sum();
    assert_eq!(hosted, 2.0);
    assert_eq!(
        anne.get("/organisations/999999").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        anne.get("/organisations/abc").await.status,
        StatusCode::NOT_FOUND
    );
}
