//! The journey the product exists for, end to end through a real SMTP
//! server: a coordinator requests a visit over the API, the host answers
//! from the invitation email after link scanners have fetched it, both
//! sides get the day in their calendar, and a cancellation takes it out.

use std::time::Duration;

use mail_parser::{MessageParser, MimeHeaders};
use meeloop::domain::account::Role;
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{spawn_app_with, Backend, TestApp};
use crate::schedule::Ics;
use crate::smtp::{wait_until, SmtpServer};
use crate::visits::working_days_ahead;

backend_tests!(a_visit_goes_from_request_to_both_calendars_by_real_email,);

/// A received email: recipient, subject, text part and calendar attachment.
struct Received {
    to: String,
    subject: String,
    text: String,
    ics: Option<(String, Ics)>,
}

fn inbox(server: &SmtpServer) -> Vec<Received> {
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

async fn demo_app_with_smtp(backend: Backend, server: &SmtpServer) -> TestApp {
    let port = server.settings().port;
    let app = spawn_app_with(backend, |f| {
        f.merge(("mail.transport", "smtp"))
            .merge(("mail.smtp.host", "127.0.0.1"))
            .merge(("mail.smtp.port", port))
            .merge(("mail.smtp.security", "none"))
            .merge(("mail.poll_interval_ms", 50))
    })
    .await;
    meeloop::service::demo::load(&mut app.db.pool.get().unwrap()).unwrap();
    app
}

async fn a_visit_goes_from_request_to_both_calendars_by_real_email(backend: Backend) {
    let server = SmtpServer::start();
    let app = demo_app_with_smtp(backend, &server).await;
    let anne = app
        .token_for(
            "anne@sudwestfryslan.example",
            Role::Coordinator,
            Some("GM1900"),
        )
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
    let page = app
        .client
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
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
    let page = app
        .client
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("geannuleerd"), "{page}");
}
