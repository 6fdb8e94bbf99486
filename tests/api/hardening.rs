//! Defences found by using and attacking the running service from outside
//! (issue 16), each on both databases where the database is involved.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::Backend;
use crate::pages::Web;
use crate::visits::{demo_app, working_days_ahead};

backend_tests!(
    text_that_cannot_be_stored_is_refused_naming_the_field,
    concurrent_changes_of_different_fields_all_land,
    contact_addresses_are_ones_mail_can_reach,
    an_invitation_that_cannot_be_delivered_closes_the_request,
    a_booking_closes_the_requests_it_leaves_without_a_day,
    the_scheduler_closes_requests_without_a_day_instead_of_nudging,
);

fn request(host: i64, dates: &[chrono::NaiveDate]) -> Value {
    json!({
        "hostOrganisationId": host,
        "topic": "cloud-migration",
        "proposedDates": dates,
        "goal": "Hoe hebben jullie de exit uit het eigen datacenter gepland?",
        "participants": 2,
    })
}

/// The visit as its requester sees it over the API.
async fn visit(app: &crate::helpers::TestApp, token: &str, id: i64) -> Value {
    let (status, body) = app
        .send(
            Method::GET,
            &format!("/api/v1/visits/{id}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

fn closed_by_meeloop(visit: &Value, because: &str) {
    assert_eq!(
        (
            &visit["state"],
            &visit["cancelledBy"],
            &visit["closedBecause"]
        ),
        (&json!("cancelled"), &json!("meeloop"), &json!(because)),
        "{visit}"
    );
}

/// A host address the mail server refuses for good: the request is closed
/// by the next scheduler round (one of two instances), the requester is
/// told with whom else to ask, and may ask again.
async fn an_invitation_that_cannot_be_delivered_closes_the_request(backend: Backend) {
    use crate::schedule::{keyed, queued, scheduler};
    use meeloop::mail::transport::Transport;
    use meeloop::mail::worker::deliver_once;
    let app = demo_app(backend).await;
    let zwolle = app.organisation_id("GM0193").await;
    let piet = app.coordinator_token("piet@zwolle.example", "GM0193").await;
    // Valid to every parser, but nobody receives it there.
    let (status, body) = app
        .send(
            Method::PATCH,
            &format!("/api/v1/organisations/{zwolle}"),
            Some(&piet),
            Some(json!({"contactEmail": "rejected@zwolle.example"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let anne = app
        .coordinator_token("anne@sudwestfryslan.example", "GM1900")
        .await;
    let ask = request(zwolle, &working_days_ahead(2));
    let (status, body) = app
        .send(
            Method::POST,
            "/api/v1/visits",
            Some(&anne),
            Some(ask.clone()),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().unwrap();
    // While it waits, Anne cannot ask Zwolle again.
    let (status, _) = app
        .send(
            Method::POST,
            "/api/v1/visits",
            Some(&anne),
            Some(ask.clone()),
        )
        .await;
    assert_eq!(status, 409);

    let server = crate::smtp::SmtpServer::start();
    let transport = Transport::smtp(&server.settings()).unwrap();
    let round = deliver_once(&app.db.pool, &transport, &crate::mail::sender())
        .await
        .unwrap();
    assert_eq!(round.dead, 1, "{round:?}");
    assert_eq!(visit(&app, &anne, id).await["state"], "requested");

    let (one, two) = (scheduler(&app), scheduler(&app));
    let now = meeloop::db::now();
    let (a, b) = tokio::join!(one.run_at(now), two.run_at(now));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        a.closed_undeliverable + b.closed_undeliverable,
        1,
        "{a:?} {b:?}"
    );
    assert_eq!(a.total() + b.total(), 1, "nothing else: {a:?} {b:?}");
    assert_eq!(one.run_at(now).await.unwrap().total(), 0);
    closed_by_meeloop(&visit(&app, &anne, id).await, "invitation_undeliverable");

    let mail = queued(&app);
    let told = keyed(&mail, &format!("closed:{id}")).expect("the requester is told");
    assert_eq!(told.recipient, "anne@sudwestfryslan.example");
    assert_eq!(told.subject, "Uw uitnodiging kwam niet aan bij Zwolle");
    assert!(
        told.body_text.contains("kon niet worden bezorgd"),
        "{}",
        told.body_text
    );
    assert!(
        told.body_text.contains("3. "),
        "three others to ask: {}",
        told.body_text
    );
    assert!(
        told.body_text
            .contains(&format!("/visits/new?host={zwolle}&topic=cloud-migration")),
        "{}",
        told.body_text
    );
    // The one-open-request rule no longer blocks her.
    let (status, body) = app
        .send(Method::POST, "/api/v1/visits", Some(&anne), Some(ask))
        .await;
    assert_eq!(status, 201, "{body}");
}

/// Zwolle (one visit a month) books a day: every open request that now
/// has no day left — Zwolle's full month, the visitor's busy day, on
/// either side — is closed at once and its requester told in their
/// language; one with a day left stays; the host is asked about none of
/// the closed ones, by link, by API or by a nudge.
async fn a_booking_closes_the_requests_it_leaves_without_a_day(backend: Backend) {
    use crate::schedule::{keyed, queued, scheduler};
    use chrono::Datelike;
    let app = demo_app(backend).await;
    let zwolle = app.organisation_id("GM0193").await;
    let utrecht = app.organisation_id("GM0344").await;
    let amsterdam = app.organisation_id("GM0363").await;
    let piet = app.coordinator_token("piet@zwolle.example", "GM0193").await;
    let anne = app
        .coordinator_token("anne@sudwestfryslan.example", "GM1900")
        .await;
    let kees = app
        .coordinator_token("kees@amsterdam.example", "GM0363")
        .await;
    let ute = app.coordinator_token("ute@utrecht.example", "GM0344").await;
    for (token, org, change) in [
        (&piet, zwolle, json!({"monthlyHostingCapacity": 1})),
        (&kees, amsterdam, json!({"language": "en"})),
    ] {
        let (status, body) = app
            .send(
                Method::PATCH,
                &format!("/api/v1/organisations/{org}"),
                Some(token),
                Some(change),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    // Two days in one month, and one in the month after.
    let ahead = working_days_ahead(45);
    let (d1, d2) = ahead
        .windows(2)
        .map(|w| (w[0], w[1]))
        .find(|(a, b)| a.month() == b.month())
        .unwrap();
    let d3 = *ahead
        .iter()
        .find(|d| **d > d2 && d.month() != d2.month())
        .unwrap();
    let mut ids = Vec::new();
    for (token, host, days) in [
        (&anne, zwolle, vec![d1]),    // booked below
        (&kees, zwolle, vec![d2]),    // Zwolle is then full that month
        (&ute, zwolle, vec![d1, d3]), // the month after is still free
        (&anne, utrecht, vec![d1]),   // Súdwest-Fryslân is busy that day
    ] {
        let (status, body) = app
            .send(
                Method::POST,
                "/api/v1/visits",
                Some(token),
                Some(request(host, &days)),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_i64().unwrap());
    }
    let [booked, full, open, busy] = ids[..] else {
        unreachable!()
    };

    let (status, body) = app
        .send(
            Method::POST,
            &format!("/api/v1/visits/{booked}/accept"),
            Some(&piet),
            Some(json!({"date": d1})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // At once, before any scheduler round.
    closed_by_meeloop(&visit(&app, &kees, full).await, "no_days_left");
    closed_by_meeloop(&visit(&app, &anne, busy).await, "no_days_left");
    assert_eq!(visit(&app, &ute, open).await["state"], "requested");

    let mail = queued(&app);
    let to_kees = keyed(&mail, &format!("closed:{full}")).unwrap();
    assert_eq!(to_kees.recipient, "kees@amsterdam.example");
    assert_eq!(
        to_kees.subject,
        "The days you proposed to Zwolle are no longer free"
    );
    let month =
        meeloop::domain::calendar::month_name(d2, meeloop::domain::organisation::Language::En);
    for expected in [
        format!("Zwolle is fully booked in {month} (1 visit a month)"),
        "Propose other days".to_string(),
        format!("/visits/new?host={zwolle}&topic=cloud-migration"),
    ] {
        assert!(
            to_kees.body_text.contains(&expected),
            "{expected}: {}",
            to_kees.body_text
        );
    }
    let to_anne = keyed(&mail, &format!("closed:{busy}")).unwrap();
    assert!(
        to_anne
            .body_text
            .contains("uw organisatie heeft die dag al een meeloopdag"),
        "{}",
        to_anne.body_text
    );
    assert!(
        to_anne.body_text.contains("1. "),
        "whom else to ask: {}",
        to_anne.body_text
    );
    assert!(keyed(&mail, &format!("closed:{open}")).is_none());

    // The host's link says what happened and takes no answer.
    let link = keyed(&mail, &format!("invitation:{full}"))
        .unwrap()
        .body_text
        .split_whitespace()
        .find(|w| w.contains("/invitations/"))
        .unwrap()
        .to_string();
    let page = app.text(&link).await;
    assert!(page.contains("Gesloten door Meeloop"), "{page}");
    let post = app
        .client
        .post(&link)
        .form(&[("action", "accept"), ("date", &d2.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 409);
    let (status, body) = app
        .send(
            Method::POST,
            &format!("/api/v1/visits/{full}/accept"),
            Some(&piet),
            Some(json!({"date": d2})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("Gesloten door Meeloop"),
        "{body}"
    );

    // Halfway: one nudge, about the request Zwolle can still accept.
    let halfway = meeloop::db::now() + chrono::Duration::days(7) + chrono::Duration::minutes(1);
    let report = scheduler(&app).run_at(halfway).await.unwrap();
    assert_eq!((report.nudged, report.total()), (1, 1), "{report:?}");
    let nudges: Vec<_> = queued(&app)
        .into_iter()
        .filter(|m| m.template == "nudge")
        .map(|m| m.idempotency_key)
        .collect();
    assert_eq!(nudges, [format!("nudge:{open}")]);
}

/// What the moment after a booking missed (a crash) and days that simply
/// passed: the scheduler closes such requests, and never nudges about them.
async fn the_scheduler_closes_requests_without_a_day_instead_of_nudging(backend: Backend) {
    use crate::schedule::{ask, dutch, keyed, queued, scheduler, visit_row};
    use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
    let app = demo_app(backend).await;
    let zwolle = app.organisation_id("GM0193").await;
    let anne = crate::visits::coordinator(&app, "anne@sudwestfryslan.example", "GM1900");
    let ute = app.coordinator_token("ute@utrecht.example", "GM0344").await;
    let days = working_days_ahead(2);
    let (d1, d2) = (days[0], days[1]);
    let annes = ask(&app, &anne, "cloud-migration", &[d1, d2]).await;
    let (status, body) = app
        .send(
            Method::POST,
            "/api/v1/visits",
            Some(&ute),
            Some(request(zwolle, &[d2])),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let utes = body["id"].as_i64().unwrap();
    // Zwolle's booking of d2 committed, and the process died before it
    // closed anything.
    let mut conn = app.db.pool.get().unwrap();
    meeloop::db::dispatch!(&mut conn, c => diesel::update(
        meeloop::db::schema::visits::table.find(annes.id.0),
    )
    .set((
        meeloop::db::schema::visits::state.eq("accepted"),
        meeloop::db::schema::visits::visit_date.eq(Some(d2)),
    ))
    .execute(c))
    .unwrap();
    drop(conn);
    let now = meeloop::db::now();
    let report = scheduler(&app).run_at(now).await.unwrap();
    assert_eq!(
        (report.closed_no_days_left, report.total()),
        (1, 1),
        "{report:?}"
    );
    closed_by_meeloop(&visit(&app, &ute, utes).await, "no_days_left");

    // Ute asks again for d1 only; nobody answers, and d1 passes before the
    // request would expire (and after the nudge was due).
    let (status, body) = app
        .send(
            Method::POST,
            "/api/v1/visits",
            Some(&ute),
            Some(request(zwolle, &[d1])),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let again = body["id"].as_i64().unwrap();
    let after = dutch(d1 + chrono::Duration::days(1), 12);
    let row = visit_row(&app, meeloop::domain::visit::VisitId(again));
    assert!(after < row.expires_at && after > row.created_at + chrono::Duration::days(7));
    let report = scheduler(&app).run_at(after).await.unwrap();
    assert_eq!(
        (report.closed_no_days_left, report.nudged),
        (1, 0),
        "{report:?}"
    );
    closed_by_meeloop(&visit(&app, &ute, again).await, "no_days_left");
    let mail = queued(&app);
    let told = keyed(&mail, &format!("closed:{again}")).unwrap();
    assert!(
        told.body_text.contains(&format!(
            "{}: die dag is voorbij",
            meeloop::domain::calendar::long_date(d1, meeloop::domain::organisation::Language::Nl)
        )),
        "{}",
        told.body_text
    );
    assert!(mail.iter().all(|m| m.template != "nudge"));
}

/// An address the mail library would refuse is refused when it is given,
/// not when the invitation dies; addresses stored before are shown to admins.
async fn contact_addresses_are_ones_mail_can_reach(backend: Backend) {
    use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
    let app = demo_app(backend).await;
    let swf = app.organisation_id("GM1900").await;
    let anne = app
        .coordinator_token("anne@sudwestfryslan.example", "GM1900")
        .await;
    for bad in [
        "<svg/onload=alert(3)>@swf.example",
        "\"quoted\"@swf.example",
        "a,b@swf.example",
    ] {
        let (status, body) = app
            .send(
                Method::PATCH,
                &format!("/api/v1/organisations/{swf}"),
                Some(&anne),
                Some(json!({"contactEmail": bad})),
            )
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(
            body["detail"].as_str().unwrap().contains("contactEmail"),
            "{body}"
        );
    }
    // One stored before the mail library's parser decided.
    let zwolle = app.organisation_id("GM0193").await;
    let mut conn = app.db.pool.get().unwrap();
    meeloop::db::dispatch!(&mut conn, c => diesel::update(
        meeloop::db::schema::organisations::table.find(zwolle),
    )
    .set(meeloop::db::schema::organisations::contact_email.eq("<b>host</b>@zwolle.example"))
    .execute(c))
    .unwrap();
    app.admin_token("beheer@meeloop.example").await;
    let admin = Web::new(&app).logged_in("beheer@meeloop.example").await;
    let overview = admin.get("/admin").await;
    assert_eq!(overview.status, StatusCode::OK);
    assert!(
        overview
            .body
            .contains("Contactadressen waar geen e-mail aankomt (1)"),
        "{}",
        overview.body
    );
    assert!(
        overview
            .body
            .contains("&#60;b&#62;host&#60;/b&#62;@zwolle.example"),
        "shown, escaped: {}",
        overview.body
    );
    assert!(!overview.body.contains("<b>host"));
}

/// Two people change different fields of the same record at the same
/// moment: both changes land, every time (PostgreSQL runs READ COMMITTED,
/// where an unlocked read-modify-write loses one of them).
async fn concurrent_changes_of_different_fields_all_land(backend: Backend) {
    let app = crate::helpers::spawn_app_with(backend, |f| {
        f.merge(("mail.deliver", false))
            .merge(("auth.api_burst", 100_000))
    })
    .await;
    meeloop::service::demo::load(&mut app.db.pool.get().unwrap()).unwrap();
    let admin = app.admin_token("beheer@meeloop.example").await;
    let zwolle = app.organisation_id("GM0193").await;
    let path = format!("/api/v1/organisations/{zwolle}");
    for trial in 0..40 {
        let (lat, lon) = (
            52.0 + f64::from(trial) / 100.0,
            5.0 + f64::from(trial) / 100.0,
        );
        let (a, b) = tokio::join!(
            app.send(
                Method::PATCH,
                &path,
                Some(&admin),
                Some(json!({"latitude": lat}))
            ),
            app.send(
                Method::PATCH,
                &path,
                Some(&admin),
                Some(json!({"longitude": lon}))
            ),
        );
        assert_eq!((a.0, b.0), (200, 200), "{} {}", a.1, b.1);
        let (_, stored) = app.send(Method::GET, &path, Some(&admin), None).await;
        assert_eq!(
            (stored["latitude"].as_f64(), stored["longitude"].as_f64()),
            (Some(lat), Some(lon)),
            "trial {trial}: {stored}"
        );
    }
    // An account's name and organisation, changed at once by two admins.
    let (status, created) = app
        .send(
            Method::POST,
            "/api/v1/admin/users",
            Some(&admin),
            Some(json!({"email": "piet@zwolle.example", "name": "Piet", "role": "coordinator", "organisationId": zwolle})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["user"]["id"].as_i64().unwrap();
    let user = format!("/api/v1/admin/users/{id}");
    let stored_user = || async {
        let (_, page) = app
            .send(
                Method::GET,
                &format!("/api/v1/admin/users?after={}&limit=1", id - 1),
                Some(&admin),
                None,
            )
            .await;
        page["items"][0].clone()
    };
    let (amsterdam, utrecht) = (
        app.organisation_id("GM0363").await,
        app.organisation_id("GM0344").await,
    );
    for trial in 0..20 {
        let (name, org) = (
            format!("Piet {trial}"),
            if trial % 2 == 0 { amsterdam } else { utrecht },
        );
        let (a, b) = tokio::join!(
            app.send(
                Method::PATCH,
                &user,
                Some(&admin),
                Some(json!({"name": name}))
            ),
            app.send(
                Method::PATCH,
                &user,
                Some(&admin),
                Some(json!({"organisationId": org}))
            ),
        );
        assert_eq!((a.0, b.0), (200, 200), "{} {}", a.1, b.1);
        let stored = stored_user().await;
        assert_eq!(
            (stored["name"].as_str(), stored["organisationId"].as_i64()),
            (Some(name.as_str()), Some(org)),
            "trial {trial}: {stored}"
        );
    }
}

/// PostgreSQL cannot store U+0000 in text; SQLite can. Either way the
/// service answers 400 naming the field, stores nothing, and never 500.
async fn text_that_cannot_be_stored_is_refused_naming_the_field(backend: Backend) {
    let app = demo_app(backend).await;
    let detail = |body: &Value| body["detail"].as_str().unwrap_or_default().to_string();

    // Without logging in: the token endpoint, as JSON and as a form.
    let (status, body) = app
        .send(
            Method::POST,
            "/api/v1/auth/token",
            None,
            Some(json!({"grant_type": "client_credentials", "client_id": "mp_\u{0}", "client_secret": "x"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(detail(&body).contains("'client_id'"), "{body}");
    assert!(detail(&body).contains("U+0000"), "{body}");
    let form = app
        .client
        .post(format!("{}/api/v1/auth/token", app.address))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&client_id=mp_%00&client_secret=x")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 400);
    let body: Value = form.json().await.unwrap();
    assert!(detail(&body).contains("'client_id'"), "{body}");
    let (status, body) = app
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "a\u{0}@b.example", "password": "a long enough password"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(detail(&body).contains("'email'"), "{body}");

    // Logged in: a visit's goal, an expertise summary, a search word.
    let anne = app
        .coordinator_token("anne@sudwestfryslan.example", "GM1900")
        .await;
    let zwolle = app.organisation_id("GM0193").await;
    let (status, body) = app
        .send(
            Method::POST,
            "/api/v1/visits",
            Some(&anne),
            Some(json!({
                "hostOrganisationId": zwolle,
                "topic": "cloud-migration",
                "proposedDates": working_days_ahead(1),
                "goal": "Hoe pakten jullie de exit aan?\u{0}",
                "participants": 2,
            })),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(detail(&body).contains("'goal'"), "{body}");
    let (_, visits) = app
        .send(Method::GET, "/api/v1/visits", Some(&anne), None)
        .await;
    assert_eq!(
        visits["items"].as_array().unwrap().len(),
        0,
        "nothing stored"
    );
    let own = app.organisation_id("GM1900").await;
    let (status, body) = app
        .send(
            Method::PUT,
            &format!("/api/v1/organisations/{own}/expertise/cloud-migration"),
            Some(&anne),
            Some(json!({"level": 2, "summary": "Net\u{0} begonnen", "willingToHost": false})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(detail(&body).contains("'summary'"), "{body}");
    let (status, body) = app
        .send(Method::GET, "/api/v1/lessons?q=exit%00", Some(&anne), None)
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(detail(&body).contains("'q'"), "{body}");

    // Pages: a search and a form, refused with a page that names the field.
    let web = Web::new(&app)
        .logged_in("anne@sudwestfryslan.example")
        .await;
    let page = web.get("/knowledge?q=exit%00").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(
        page.body.contains("Het veld &#39;q&#39;") || page.body.contains("Het veld 'q'"),
        "{}",
        page.body
    );
    let csrf = web.csrf_on("/dashboard").await;
    let page = web
        .post(
            "/visits/new",
            &[
                ("csrf", csrf),
                ("host", zwolle.to_string()),
                ("topic", "cloud-migration".to_string()),
                ("date1", working_days_ahead(1)[0].to_string()),
                ("goal", "Hoe pakten jullie de exit\u{0} aan?".to_string()),
                ("participants", "2".to_string()),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(page.body.contains("goal"), "{}", page.body);
    let (_, visits) = app
        .send(Method::GET, "/api/v1/visits", Some(&anne), None)
        .await;
    assert_eq!(
        visits["items"].as_array().unwrap().len(),
        0,
        "nothing stored"
    );
}

/// Starts the real binary (`serve --demo`) under a shell whose soft limit on
/// open files is the common default of 1,024, with `env` added; returns it
/// and its base address once it listens.
fn serve_with_1024_files(
    db: &crate::helpers::TestDb,
    env: &[(&str, &str)],
) -> (std::process::Child, String) {
    serve_binary(db, "ulimit -Sn 1024 && ", env)
}

/// `serve --demo` from the real binary, after `shell` (a prefix for bash);
/// what it logs goes to `<data dir>/serve.log`.
fn serve_binary(
    db: &crate::helpers::TestDb,
    shell: &str,
    env: &[(&str, &str)],
) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = std::fs::File::create(db.data_dir.path().join("serve.log")).unwrap();
    let mut child = std::process::Command::new("bash")
        .args([
            "-c",
            &format!(r#"{shell}exec "$0" serve --demo"#),
            env!("CARGO_BIN_EXE_meeloop"),
        ])
        .current_dir(db.data_dir.path())
        .env("MEELOOP_DATA_DIR", db.data_dir.path())
        .env("MEELOOP_DATABASE__URL", &db.url)
        .env("MEELOOP_SERVER__PORT", port.to_string())
        .env("MEELOOP_LOG__FILTER", "warn")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    for line in lines.by_ref() {
        if line.unwrap().starts_with("Open ") {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    (child, format!("127.0.0.1:{port}"))
}

/// A client that sends its headers and the start of a body, then nothing.
async fn stalled_body(address: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: meeloop\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"email\": \"",
        )
        .await
        .unwrap();
    stream
}

/// What the server sends until it closes the connection (bounded, so a
/// server that never closes fails the test instead of hanging it).
async fn until_closed(mut stream: tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(60),
        stream.read_to_end(&mut got),
    )
    .await
    .expect("the server closes a stalled connection")
    .unwrap();
    String::from_utf8_lossy(&got).into_owned()
}

/// 1,100 clients that send their headers and then stall the body must not
/// keep `/healthz` from answering, and each is cut off: 408, then the
/// connection is closed.
#[actix_web::test]
async fn stalled_request_bodies_are_cut_off_and_do_not_starve_the_service() {
    // This process holds the clients' ends: it needs the room too.
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap();
    assert!(
        limit >= 1_300,
        "this test needs 1,300 open files, the hard limit is {limit}"
    );
    let db = crate::helpers::test_db(Backend::Sqlite);
    let (child, address) =
        serve_with_1024_files(&db, &[("MEELOOP_SERVER__BODY_TIMEOUT_SECS", "3")]);
    let mut stalled = Vec::new();
    for _ in 0..1_100 {
        stalled.push(stalled_body(&address).await);
    }
    let health = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
        .get(format!("http://{address}/healthz"))
        .send()
        .await
        .expect("/healthz answers while 1,100 bodies stall");
    assert_eq!(health.status(), 200);
    // Each stalled client is answered 408 and closed once its time is up.
    let sample: Vec<_> = stalled.drain(..10).collect();
    for stream in sample {
        let answer = until_closed(stream).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("request_timeout"), "{answer}");
    }
    drop(stalled);
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let mut child = child;
    let _ = child.wait();
}

fn stop(mut child: std::process::Child) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

/// Request logs cannot be forged: the client address follows the same
/// trusted-proxy rule as rate limits, control characters in the path are
/// escaped, query strings stay out, and a redirect to the login page is
/// not an error.
#[actix_web::test]
async fn request_logs_cannot_be_forged_and_keep_query_strings_out() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let db = crate::helpers::test_db(Backend::Sqlite);
    let (child, address) = serve_binary(&db, "", &[("MEELOOP_LOG__FILTER", "info")]);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("http://{address}");
    let r = client
        .get(format!("{base}/api/v1/topics"))
        .header("X-Forwarded-For", "203.0.113.66")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client
        .get(format!("{base}/dashboard?note=Geheim-in-de-query"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // A raw request line, so that nothing normalises the path on the way.
    let mut raw = tokio::net::TcpStream::connect(&address).await.unwrap();
    raw.write_all(
        b"GET /api/v1/organisations/1%0D%0A2026-12-02T00:00:00Z%20INFO%20forged HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let mut answer = Vec::new();
    raw.read_to_end(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 4"));
    stop(child);
    let log = std::fs::read_to_string(db.data_dir.path().join("serve.log")).unwrap();
    assert!(log.contains("http.client_ip=127.0.0.1"), "{log}");
    assert!(
        !log.contains("203.0.113.66"),
        "an untrusted X-Forwarded-For: {log}"
    );
    assert!(!log.contains("Geheim"), "query strings stay out: {log}");
    assert!(log.contains("http.target=/dashboard"), "{log}");
    assert!(
        !log.contains(" ERROR "),
        "a redirect is not an error: {log}"
    );
    for line in log.lines() {
        assert!(
            !line.contains("INFO forged") || line.contains("http.target="),
            "{line}"
        );
        assert!(
            !line.starts_with("2026-12-02T00:00:00Z"),
            "a forged line: {line}"
        );
    }
}

/// One route of every family of response, over https: each carries HSTS,
/// nosniff, no framing and a content security policy fit for it.
#[actix_web::test]
async fn every_family_of_response_carries_its_security_headers() {
    let app = crate::helpers::spawn_app_with(Backend::Sqlite, |f| {
        f.merge(("server.public_url", "https://meeloop.example.nl"))
    })
    .await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let families = [
        ("page", "/login", "text/html", 200),
        ("page error", "/visits/abc", "text/html", 303),
        (
            "email-link page",
            "/invitations/no-such-token",
            "text/html",
            404,
        ),
        ("unknown page", "/no-such-page", "text/html", 404),
        ("stylesheet", "/assets/meeloop.css", "text/css", 200),
        ("JSON", "/api/v1/topics", "application/json", 200),
        (
            "problem",
            "/api/v1/no-such-route",
            "application/problem+json",
            404,
        ),
        ("OpenAPI", "/api/v1/openapi.json", "application/json", 200),
        ("Swagger UI", "/api/v1/docs/", "text/html", 200),
        ("probe", "/healthz", "", 200),
    ];
    for (family, path, accept, status) in families {
        let r = client
            .get(format!("{}{path}", app.address))
            .header("Accept", if accept.is_empty() { "*/*" } else { accept })
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{family} {path}");
        let h = r.headers();
        let header = |name: &str| {
            h.get(name)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_else(|| panic!("{family} {path}: no {name}"))
        };
        assert_eq!(
            header("strict-transport-security"),
            "max-age=31536000; includeSubDomains"
        );
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("x-frame-options"), "DENY");
        let csp = header("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{family}: {csp}");
        assert!(csp.starts_with("default-src 'none'"), "{family}: {csp}");
        if family == "Swagger UI" {
            assert!(csp.contains("script-src 'self'"), "{csp}");
        } else {
            assert!(
                !csp.contains("script-src"),
                "{family}: no scripts at all: {csp}"
            );
        }
    }
    // Over plain http there is no HSTS (a browser would ignore it anyway).
    let plain = crate::helpers::spawn_app(Backend::Sqlite).await;
    let r = client
        .get(format!("{}/api/v1/topics", plain.address))
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("strict-transport-security").is_none());
    assert!(r.headers().get("content-security-policy").is_some());
}

/// The data directory and what the service writes in it are readable by
/// its own user only: the database (password hashes, personal data), the
/// signing key, and mail files with working single-use links.
#[actix_web::test]
async fn the_service_keeps_its_files_to_itself() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    // As an operator might have made it, or an earlier version left it.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_meeloop"))
        .args(["serve", "--demo"])
        .current_dir(dir.path())
        .env("MEELOOP_DATA_DIR", &data)
        .env("MEELOOP_SERVER__PORT", port.to_string())
        .env("MEELOOP_LOG__FILTER", "warn")
        .env_remove("MEELOOP_DATABASE__URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    for line in lines.by_ref() {
        if line.unwrap().starts_with("Open ") {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    // A message queued from the shell; the service's worker writes it as
    // a file: wait for it.
    let queued = std::process::Command::new(env!("CARGO_BIN_EXE_meeloop"))
        .args([
            "mail",
            "send-test",
            "--to",
            "beheer@meeloop.example",
            "--queue-only",
        ])
        .current_dir(dir.path())
        .env("MEELOOP_DATA_DIR", &data)
        .env_remove("MEELOOP_DATABASE__URL")
        .output()
        .unwrap();
    assert!(
        queued.status.success(),
        "{}",
        String::from_utf8_lossy(&queued.stderr)
    );
    let mail = data.join("mail");
    crate::smtp::wait_until(std::time::Duration::from_secs(30), "a mail file", || {
        std::fs::read_dir(&mail).is_ok_and(|mut d| d.next().is_some())
    })
    .await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "the data directory");
    assert_eq!(mode(&mail), 0o700, "the mail folder");
    let mut files = 0;
    for entry in std::fs::read_dir(&data)
        .unwrap()
        .chain(std::fs::read_dir(&mail).unwrap())
    {
        let path = entry.unwrap().path();
        if path.is_file() {
            files += 1;
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
    assert!(data.join("meeloop.db").exists() && data.join("jwt-signing-key").exists());
    assert!(files >= 3, "the database, the key and a mail file at least");
    stop(child);
}
