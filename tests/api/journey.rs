//! The journey the product exists for, end to end through a real SMTP
//! server: a coordinator requests a visit over the API, the host answers
//! from the invitation email after link scanners have fetched it, both
//! sides get the day in their calendar, and a cancellation takes it out.

use std::time::Duration;

use mail_parser::{MessageParser, MimeHeaders};
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{spawn_app_with, Backend, TestApp};
use crate::schedule::Ics;
use crate::smtp::{wait_until, SmtpServer};
use crate::visits::working_days_ahead;

backend_tests!(
    a_visit_goes_from_request_to_both_calendars_by_real_email,
    after_the_visit_both_forms_arrive_by_real_email_and_feed_the_knowledge_base,
);

/// A received email: recipient, subject, text part and calendar attachment.
pub struct Received {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub ics: Option<(String, Ics)>,
}

pub fn inbox(server: &SmtpServer) -> Vec<Received> {
    server
        .received()
        .iter()
        .map(|raw| {
            let m = MessageParser::default()
                .parse(raw)
                .expect("a parsable email");
            let to = m
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap_or_default()
                .to_string();
            let ics = m.attachments().find_map(|a| {
                let name = a.attachment_name()?;
                name.ends_with(".ics").then(|| {
                    let content_type = a
                        .content_type()
                        .map(|c| {
                            let params = c
                                .attributes()
                                .unwrap_or_default()
                                .iter()
                                .map(|a| format!("{}={}", a.name, a.value))
                                .collect::<Vec<_>>()
                                .join(";");
                            format!("{}/{};{params}", c.ctype(), c.subtype().unwrap_or(""))
                        })
                        .unwrap_or_default();
                    let text = String::from_utf8(a.contents().to_vec()).unwrap();
                    (content_type, Ics::parse(&text))
                })
            });
            Received {
                to,
                subject: m.subject().unwrap_or_default().to_string(),
                text: m.body_text(0).unwrap_or_default().to_string(),
                ics,
            }
        })
        .collect()
}

pub async fn demo_app_with_smtp(backend: Backend, server: &SmtpServer) -> TestApp {
    let app = app_with_smtp(backend, server).await;
    meeloop::service::demo::load(&mut app.db.pool.get().unwrap()).unwrap();
    app
}

/// The application sending its email to `server`, its worker polling often.
pub async fn app_with_smtp(backend: Backend, server: &SmtpServer) -> TestApp {
    let port = server.settings().port;
    spawn_app_with(backend, |f| {
        f.merge(("mail.transport", "smtp"))
            .merge(("mail.smtp.host", "127.0.0.1"))
            .merge(("mail.smtp.port", port))
            .merge(("mail.smtp.security", "none"))
            .merge(("mail.poll_interval_ms", 50))
    })
    .await
}

async fn a_visit_goes_from_request_to_both_calendars_by_real_email(backend: Backend) {
    let server = SmtpServer::start();
    let app = demo_app_with_smtp(backend, &server).await;
    let anne = app
        .coordinator_token("anne@sudwestfryslan.example", "GM1900")
        .await;
    let zwolle = app.organisation_id("GM0193").await;
    let dates = working_days_ahead(3);

    // The coordinator asks over the API.
    let (status, visit) = app
        .send(
            reqwest::Method::POST,
            "/api/v1/visits",
            Some(&anne),
            Some(json!({
                "hostOrganisationId": zwolle,
                "topic": "cloud-migration",
                "proposedDates": dates,
                "goal": "Hoe hebben jullie de exit uit het eigen datacenter gepland?",
                "participants": 2,
            })),
        )
        .await;
    assert_eq!(status, 201, "{visit}");
    let id = visit["id"].as_i64().unwrap();

    // The invitation arrives at Zwolle's contact address.
    wait_until(Duration::from_secs(30), "the invitation", || {
        server.received_count() >= 1
    })
    .await;
    let mail = inbox(&server);
    assert_eq!(mail.len(), 1);
    let invitation = &mail[0];
    assert_eq!(invitation.to, "meeloop@zwolle.example");
    assert!(
        invitation.subject.contains("Súdwest-Fryslân"),
        "{}",
        invitation.subject
    );
    assert!(
        invitation.ics.is_none(),
        "nothing goes to calendars while pending"
    );
    let link = invitation
        .text
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{}/invitations/", app.address)))
        .expect("a link to the invitation page")
        .to_string();

    // Link scanners fetch it three times and once with HEAD: nothing changes.
    for _ in 0..3 {
        let page = app.client.get(&link).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("name=\"date\""));
    }
    assert_eq!(app.client.head(&link).send().await.unwrap().status(), 200);
    let (_, still) = app
        .send(
            reqwest::Method::GET,
            &format!("/api/v1/visits/{id}"),
            Some(&anne),
            None,
        )
        .await;
    assert_eq!(still["state"], "requested");

    // The host picks the second day.
    let day = dates[1].to_string();
    let accepted = app
        .client
        .post(&link)
        .form(&[("action", "accept"), ("date", day.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 303);
    let page = app.text(&link).await;
    assert!(page.contains("al geaccepteerd"), "{page}");

    // Both confirmations arrive, each with the day in a calendar file.
    wait_until(Duration::from_secs(30), "two confirmations", || {
        server.received_count() >= 3
    })
    .await;
    let mail = inbox(&server);
    let host_name = app
        .address
        .split("://")
        .nth(1)
        .unwrap()
        .split(':')
        .next()
        .unwrap();
    let uid = format!("visit-{id}@{host_name}");
    let confirmations: Vec<&Received> = mail.iter().filter(|m| m.ics.is_some()).collect();
    let mut recipients: Vec<&str> = confirmations.iter().map(|m| m.to.as_str()).collect();
    recipients.sort();
    assert_eq!(
        recipients,
        ["anne@sudwestfryslan.example", "meeloop@zwolle.example"]
    );
    for message in &confirmations {
        let (content_type, ics) = message.ics.as_ref().unwrap();
        assert!(content_type.starts_with("text/calendar"), "{content_type}");
        assert_eq!(ics.method, "REQUEST");
        assert!(ics.has_timezone);
        assert_eq!(ics.get("UID"), Some(uid.as_str()));
        assert_eq!(
            ics.get("DTSTART"),
            Some(format!("{}T093000", dates[1].format("%Y%m%d")).as_str())
        );
        assert_eq!(ics.tzid("DTSTART"), Some("Europe/Amsterdam"));
        assert_eq!(ics.get("SEQUENCE"), Some("0"));
    }

    // A second answer through the link is refused with a page that says why.
    let again = app
        .client
        .post(&link)
        .form(&[
            ("action", "accept"),
            ("date", dates[0].to_string().as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    assert!(again.text().await.unwrap().contains("al geaccepteerd"));

    // The requester cancels: both calendars get the cancellation.
    let (status, cancelled) = app
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/visits/{id}/cancel"),
            Some(&anne),
            Some(json!({"reason": "Ons project is uitgesteld."})),
        )
        .await;
    assert_eq!(status, 200, "{cancelled}");
    wait_until(Duration::from_secs(30), "two cancellations", || {
        server.received_count() >= 5
    })
    .await;
    let mail = inbox(&server);
    let cancellations: Vec<&Received> = mail
        .iter()
        .filter(|m| {
            m.ics
                .as_ref()
                .is_some_and(|(_, ics)| ics.method == "CANCEL")
        })
        .collect();
    assert_eq!(cancellations.len(), 2);
    for message in cancellations {
        let (_, ics) = message.ics.as_ref().unwrap();
        assert_eq!(ics.get("UID"), Some(uid.as_str()));
        assert_eq!(ics.get("SEQUENCE"), Some("1"));
        assert!(message.text.contains("Ons project is uitgesteld."));
    }
    let page = app.text(&link).await;
    assert!(page.contains("geannuleerd"), "{page}");
}

/// The link to `path` in a received email's text.
fn link_to(message: &Received, path: &str) -> String {
    message
        .text
        .split_whitespace()
        .find(|w| w.contains(path))
        .unwrap_or_else(|| panic!("a {path} link in: {}", message.text))
        .to_string()
}

async fn after_the_visit_both_forms_arrive_by_real_email_and_feed_the_knowledge_base(
    backend: Backend,
) {
    let server = SmtpServer::start();
    let app = demo_app_with_smtp(backend, &server).await;
    let anne = app
        .coordinator_token("anne@sudwestfryslan.example", "GM1900")
        .await;
    let host = app.coordinator_token("piet@zwolle.example", "GM0193").await;
    let zwolle = app.organisation_id("GM0193").await;
    let day = working_days_ahead(1)[0];
    let (status, visit) = app
        .send(
            reqwest::Method::POST,
            "/api/v1/visits",
            Some(&anne),
            Some(json!({
                "hostOrganisationId": zwolle, "topic": "cloud-migration",
                "proposedDates": [day], "participants": 1,
                "goal": "Hoe hebben jullie de exit uit het eigen datacenter gepland?",
            })),
        )
        .await;
    assert_eq!(status, 201, "{visit}");
    let id = visit["id"].as_i64().unwrap();
    let (status, _) = app
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/visits/{id}/accept"),
            Some(&host),
            Some(json!({"date": day})),
        )
        .await;
    assert_eq!(status, 200);
    wait_until(
        Duration::from_secs(30),
        "invitation and confirmations",
        || server.received_count() >= 3,
    )
    .await;
    let (_, before) = app
        .send(
            reqwest::Method::GET,
            &format!("/api/v1/matches/explain?topic=cloud-migration&candidate={zwolle}"),
            Some(&anne),
            None,
        )
        .await;

    // The day after the visit the scheduler completes it: both forms arrive.
    let jobs = crate::schedule::scheduler(&app);
    let done = crate::schedule::dutch(day + chrono::Duration::days(1), 6);
    assert_eq!(jobs.run_at(done).await.unwrap().completed, 1);
    wait_until(Duration::from_secs(30), "two forms", || {
        server.received_count() >= 5
    })
    .await;
    let mail = inbox(&server);
    let forms: Vec<&Received> = mail
        .iter()
        .filter(|m| m.text.contains("/lessons-forms/"))
        .collect();
    assert_eq!(forms.len(), 2);
    let to_anne = forms
        .iter()
        .find(|m| m.to == "anne@sudwestfryslan.example")
        .unwrap();
    let to_zwolle = forms
        .iter()
        .find(|m| m.to == "meeloop@zwolle.example")
        .unwrap();
    let (anne_link, zwolle_link) = (
        link_to(to_anne, "/lessons-forms/"),
        link_to(to_zwolle, "/lessons-forms/"),
    );

    // A scanner fetches the link; it stays valid. The visitor answers and
    // publishes under the organisation's name.
    for _ in 0..2 {
        assert_eq!(
            app.client.get(&anne_link).send().await.unwrap().status(),
            200
        );
    }
    assert_eq!(
        app.client.head(&anne_link).send().await.unwrap().status(),
        200
    );
    let sent = app
        .post_form(
            &anne_link,
            &[
                (
                    "strengths",
                    "Een openbaar kostenmodel dat het college vooraf kende.",
                ),
                (
                    "mistakes",
                    "Vergeet de licenties niet te tellen vóór de migratie.",
                ),
                ("hoursSaved", "60"),
                ("rating", "5"),
                ("recommend", "yes"),
                ("publish", "named"),
            ],
        )
        .await;
    assert_eq!(sent.status(), 303);
    let again = app.text(&anne_link).await;
    assert!(
        again.contains("al opgeslagen"),
        "a used link says so: {again}"
    );

    // The host's quality on the topic moved; Anne's lesson is in the
    // knowledge base for a partner.
    let (_, after) = app
        .send(
            reqwest::Method::GET,
            &format!("/api/v1/matches/explain?topic=cloud-migration&candidate={zwolle}"),
            Some(&anne),
            None,
        )
        .await;
    assert!(
        after["components"]["quality"].as_f64().unwrap()
            > before["components"]["quality"].as_f64().unwrap(),
        "{before} → {after}"
    );
    assert!(after["score"].as_f64().unwrap() > before["score"].as_f64().unwrap());
    let partner = crate::matrix::partner_token(&app, "lessons:read").await;
    let (_, page) = app
        .send(
            reqwest::Method::GET,
            "/api/v1/lessons?q=licenties",
            Some(&partner),
            None,
        )
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["items"][0]["author"]["name"], "Súdwest-Fryslân");

    // A week later only Zwolle, which has not answered, is reminded.
    let week = done + chrono::Duration::days(7) + chrono::Duration::hours(1);
    assert_eq!(jobs.run_at(week).await.unwrap().lessons_reminded, 1);
    wait_until(Duration::from_secs(30), "the reminder", || {
        server.received_count() >= 6
    })
    .await;
    let mail = inbox(&server);
    let reminders: Vec<&Received> = mail
        .iter()
        .filter(|m| m.subject.starts_with("Herinnering: uw lessen"))
        .collect();
    assert_eq!(reminders.len(), 1);
    assert_eq!(reminders[0].to, "meeloop@zwolle.example");
    // Zwolle answers from the reminder's link, without publishing: no
    // partner sees it.
    let reminder_link = link_to(reminders[0], "/lessons-forms/");
    assert_ne!(reminder_link, zwolle_link);
    let sent = app
        .post_form(
            &reminder_link,
            &[
                ("strengths", "Goede vragen over ons exitplan en de kosten."),
                ("mistakes", "Wij hadden de planning vooraf moeten delen."),
                ("hoursSaved", "4"),
                ("rating", "4"),
            ],
        )
        .await;
    assert_eq!(sent.status(), 303);
    let (_, page) = app
        .send(
            reqwest::Method::GET,
            "/api/v1/lessons",
            Some(&partner),
            None,
        )
        .await;
    assert!(
        !page.to_string().contains("exitplan en de kosten"),
        "{page}"
    );
    // The first link closed with it.
    let first = app.post_form(&zwolle_link, &[("rating", "3")]).await;
    assert_eq!(first.status(), 409);
}
