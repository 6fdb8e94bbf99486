//! One place where what happened fans out (docs/architecture.md,
//! "Events"). A use case publishes each [`Event`] inside the transaction
//! that made it so; every consumer acts on it there, so an email (or,
//! later, a webhook delivery or an audit entry) exists exactly when the
//! change does. The consumers of a running Meeloop are listed once, in
//! `Context::new`.

use std::sync::Arc;

use chrono::NaiveDateTime;

use crate::db::DbConn;
pub use crate::domain::event::Event;
use crate::domain::visit::VisitRules;
use crate::service::index::Suggester;
use crate::service::parties::Parties;
use crate::service::ServiceError;

/// What a consumer sees besides the event: the visit and its parties as
/// they are after the change, and what it needs to write about it.
pub struct Scene<'a> {
    /// The visit, for events that happened to one.
    pub(crate) parties: Option<&'a Parties>,
    pub now: NaiveDateTime,
    pub base_url: &'a str,
    pub rules: VisitRules,
    /// Other hosts to suggest, for events that happened to a visit.
    pub(crate) suggester: Option<&'a Suggester>,
}

/// Acts on what happened, inside the transaction that published it: an
/// error rolls the whole use case back.
pub trait Consumer: Send + Sync {
    fn consume(
        &self,
        conn: &mut DbConn,
        scene: &Scene<'_>,
        event: &Event,
    ) -> Result<(), ServiceError>;
}

/// The consumers, in the order they act.
#[derive(Clone, Default)]
pub struct Consumers(Vec<Arc<dyn Consumer>>);

impl Consumers {
    pub fn new(consumers: Vec<Arc<dyn Consumer>>) -> Self {
        Consumers(consumers)
    }

    pub fn and(mut self, consumer: Arc<dyn Consumer>) -> Self {
        self.0.push(consumer);
        self
    }
}

/// What a transaction needs to publish, taken before it starts (the
/// matching snapshot behind the emails' suggestions may need loading,
/// which a transaction must not wait for).
#[derive(Clone)]
pub struct Fanout {
    pub(crate) consumers: Consumers,
    pub(crate) base_url: String,
    pub(crate) rules: VisitRules,
    /// Loaded for visit events only (`Context::fanout`).
    pub(crate) suggester: Option<Suggester>,
}

impl Fanout {
    /// Hands a visit's `event` to every consumer, in the caller's
    /// transaction; returns the visit as they saw it.
    pub(crate) fn publish(
        &self,
        conn: &mut DbConn,
        now: NaiveDateTime,
        event: Event,
    ) -> Result<Parties, ServiceError> {
        let (Some(visit), Some(suggester)) = (event.visit(), self.suggester.as_ref()) else {
            return Err(ServiceError::Internal(anyhow::anyhow!(
                "{} published without its visit or suggestions",
                event.name()
            )));
        };
        let parties = Parties::load(conn, visit)?;
        self.hand_out(conn, now, Some(&parties), Some(suggester), &event)?;
        Ok(parties)
    }

    /// Hands an event that did not happen to a visit to every consumer.
    pub(crate) fn publish_alone(
        &self,
        conn: &mut DbConn,
        now: NaiveDateTime,
        event: Event,
    ) -> Result<(), ServiceError> {
        self.hand_out(conn, now, None, self.suggester.as_ref(), &event)
    }

    fn hand_out(
        &self,
        conn: &mut DbConn,
        now: NaiveDateTime,
        parties: Option<&Parties>,
        suggester: Option<&Suggester>,
        event: &Event,
    ) -> Result<(), ServiceError> {
        let scene = Scene {
            parties,
            now,
            base_url: &self.base_url,
            rules: self.rules,
            suggester,
        };
        for consumer in &self.consumers.0 {
            consumer.consume(conn, &scene, event)?;
        }
        Ok(())
    }
}

/// One log line per event, for operators following a visit.
pub struct Log;

impl Consumer for Log {
    fn consume(&self, _: &mut DbConn, _: &Scene<'_>, event: &Event) -> Result<(), ServiceError> {
        match event.visit() {
            Some(visit) => tracing::info!(event = event.name(), %visit, "happened"),
            None => tracing::info!(event = event.name(), "happened"),
        }
        Ok(())
    }
}
