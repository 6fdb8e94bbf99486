//! One place where what happened fans out: every step of a visit publishes
//! its event once, inside the step's transaction, to every consumer.

use std::sync::{Arc, Mutex};

use chrono::Duration;
use meeloop::db::DbConn;
use meeloop::domain::event::Event;
use meeloop::domain::lesson::{Draft, Publish};
use meeloop::domain::organisation::{Language, OrganisationId};
use meeloop::domain::schedule::reminder_day;
use meeloop::jobs::Scheduler;
use meeloop::service::context::Context;
use meeloop::service::events::{Consumer, Scene};
use meeloop::service::lessons::submit_lesson;
use meeloop::service::visits::{answer_visit, cancel_visit, request_visit, Answer, VisitRequest};
use meeloop::service::ServiceError;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::schedule::{dutch, queued};
use crate::visits::{coordinator, demo_app, working_days_ahead};

backend_tests!(
    each_step_of_a_visit_publishes_what_happened_once,
    a_consumer_that_fails_undoes_the_step_and_its_emails,
);

/// Writes down every event it is handed.
#[derive(Default)]
struct Recorder(Mutex<Vec<Event>>);

impl Consumer for Recorder {
    fn consume(&self, _: &mut DbConn, _: &Scene<'_>, event: &Event) -> Result<(), ServiceError> {
        self.0.lock().unwrap().push(event.clone());
        Ok(())
    }
}

impl Recorder {
    fn names(&self) -> Vec<&'static str> {
        self.0.lock().unwrap().drain(..).map(|e| e.name()).collect()
    }
}

/// Refuses every event, as a consumer whose store is down would.
struct Broken;

impl Consumer for Broken {
    fn consume(&self, _: &mut DbConn, _: &Scene<'_>, _: &Event) -> Result<(), ServiceError> {
        Err(ServiceError::Internal(anyhow::anyhow!(
            "the consumer is down"
        )))
    }
}

fn request(zwolle: OrganisationId, days: Vec<chrono::NaiveDate>) -> VisitRequest {
    VisitRequest {
        host: zwolle,
        topic: "cloud-migration".into(),
        proposed_dates: days,
        goal: "Hoe hebben jullie de exit uit het eigen datacenter gepland?".into(),
        participants: 2,
    }
}

fn watched(app: &TestApp) -> (Context, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    (app.ctx().with_consumer(recorder.clone()), recorder)
}

async fn each_step_of_a_visit_publishes_what_happened_once(backend: Backend) {
    let app = demo_app(backend).await;
    let (ctx, seen) = watched(&app);
    let anne = coordinator(&app, "anne@sudwestfryslan.example", "GM1900");
    let piet = coordinator(&app, "piet@zwolle.example", "GM0193");
    let zwolle = OrganisationId(app.organisation_id("GM0193").await);
    let day = working_days_ahead(1)[0];

    let visit = request_visit(&ctx, anne.clone(), Language::Nl, request(zwolle, vec![day]))
        .await
        .unwrap();
    assert_eq!(seen.names(), ["visit.requested"]);
    answer_visit(&ctx, piet.clone(), visit.id, Answer::Accept(day))
        .await
        .unwrap();
    assert_eq!(seen.names(), ["visit.accepted"]);
    // A refused step publishes nothing.
    answer_visit(&ctx, piet, visit.id, Answer::Accept(day))
        .await
        .unwrap_err();
    assert!(seen.names().is_empty());

    let jobs = Scheduler::new(ctx.clone());
    jobs.run_at(dutch(reminder_day(day), 7)).await.unwrap();
    assert_eq!(seen.names(), ["visit.near"]);
    jobs.run_at(dutch(day + Duration::days(1), 1))
        .await
        .unwrap();
    assert_eq!(seen.names(), ["visit.completed"]);
    jobs.run_at(dutch(day + Duration::days(2), 1))
        .await
        .unwrap();
    assert!(seen.names().is_empty(), "the scheduler publishes once");

    let draft = Draft {
        strengths: "Een exitplan per applicatie, met een vaste eigenaar.".into(),
        mistakes: "Licenties te laat geïnventariseerd.".into(),
        recommendations: "Begin met de kleinste applicaties.".into(),
        hours_saved: Some(40),
        rating: Some(5),
        recommend: Some(true),
        publish: Publish::Pseudonymous,
        ..Draft::default()
    };
    submit_lesson(&ctx, anne.clone(), visit.id, draft, Language::Nl)
        .await
        .unwrap();
    assert_eq!(seen.names(), ["lesson.submitted", "lesson.published"]);

    // The mailer is a consumer like the recorder: each event queued its emails.
    let keys: Vec<String> = queued(&app)
        .into_iter()
        .map(|m| m.idempotency_key)
        .collect();
    for key in ["invitation", "confirmation", "reminder", "lessons"] {
        assert!(
            keys.iter()
                .any(|k| k.starts_with(&format!("{key}:{}", visit.id))),
            "{key} in {keys:?}"
        );
    }

    // Withdrawn by the requester: the other side is told, with a reason.
    let again = request_visit(
        &ctx,
        anne.clone(),
        Language::Nl,
        request(zwolle, vec![day + Duration::days(7)]),
    )
    .await
    .unwrap();
    cancel_visit(&ctx, anne, again.id, Some("Budget ingetrokken".into()))
        .await
        .unwrap();
    let events: Vec<Event> = seen.0.lock().unwrap().drain(..).collect();
    assert_eq!(
        events.last(),
        Some(&Event::VisitCancelled {
            visit: again.id,
            by: meeloop::domain::visit::VisitRole::Requester,
            reason: Some("Budget ingetrokken".into()),
        })
    );
}

/// Consumers act inside the step's transaction: when one fails, the
/// request is not stored and no email waits in the outbox.
async fn a_consumer_that_fails_undoes_the_step_and_its_emails(backend: Backend) {
    let app = demo_app(backend).await;
    let ctx = app.ctx().with_consumer(Arc::new(Broken));
    let anne = coordinator(&app, "anne@sudwestfryslan.example", "GM1900");
    let zwolle = OrganisationId(app.organisation_id("GM0193").await);
    let refused = request_visit(
        &ctx,
        anne.clone(),
        Language::Nl,
        request(zwolle, working_days_ahead(1)),
    )
    .await
    .unwrap_err();
    assert!(matches!(refused, ServiceError::Internal(_)), "{refused:?}");
    assert!(queued(&app).is_empty(), "no invitation without the request");
    let count: i64 = {
        use diesel::prelude::*;
        use meeloop::db::schema::visits::dsl::visits;
        let mut conn = app.db.pool.get().unwrap();
        meeloop::db::dispatch!(&mut conn, c => visits.count().get_result(c)).unwrap()
    };
    assert_eq!(count, 0);
    // Without the broken consumer the same request goes through.
    request_visit(
        &app.ctx(),
        anne,
        Language::Nl,
        request(zwolle, working_days_ahead(1)),
    )
    .await
    .unwrap();
    assert_eq!(queued(&app).len(), 1);
}
