//! The mailer: what each event means for the people of a visit, as emails
//! queued in the outbox (and the single-use links they carry), inside the
//! transaction that published it. Idempotency keys make a second delivery
//! of the same event queue nothing.

use chrono::NaiveDateTime;

use crate::db::outbox;
use crate::db::DbConn;
use crate::domain::calendar::long_date;
use crate::domain::lesson::{self, schedule};
use crate::domain::visit::{Closure, LinkPurpose, VisitRole};
use crate::mail::emails::{
    Cancelled, Closed, Declined, Expired, FollowUp, LessonsForm, LessonsReminder, Nudge, Reminder,
};
use crate::mail::ics::Method;
use crate::mail::templates::{compose, Attachment, Email};
use crate::service::events::{Consumer, Event, Scene};
use crate::service::parties::{invitation_key, issue_link, local_date, Parties, Recipient};
use crate::service::ServiceError;

pub struct Mailer;

impl Consumer for Mailer {
    fn consume(
        &self,
        conn: &mut DbConn,
        scene: &Scene<'_>,
        event: &Event,
    ) -> Result<(), ServiceError> {
        // Only what happens to visits is emailed from here.
        let (Some(p), Some(suggester)) = (scene.parties, scene.suggester) else {
            return Ok(());
        };
        let (base_url, now) = (scene.base_url, scene.now);
        let id = p.row.id;
        let mut out = Outbox { conn, base_url };
        match event {
            Event::VisitRequested { .. } => {
                if let Some(to) = p.host_side() {
                    let token = invitation_token(out.conn, p, now)?;
                    let invitation =
                        p.invitation(format!("{base_url}/invitations/{token}"), to.language);
                    out.queue(&invitation, invitation_key(id), &to, &[])?;
                }
            }
            Event::RequestOverdue { .. } => {
                if let Some(to) = p.host_side() {
                    let token = invitation_token(out.conn, p, now)?;
                    let nudge = Nudge {
                        invitation: p
                            .invitation(format!("{base_url}/invitations/{token}"), to.language),
                    };
                    out.queue(&nudge, format!("nudge:{id}"), &to, &[])?;
                }
            }
            Event::VisitAccepted { date, .. } => {
                for to in p.both_sides() {
                    let confirmation = p.confirmation(*date, to.language);
                    let file =
                        p.calendar_file((base_url, scene.rules), Method::Request, to.language, now);
                    let key = format!("confirmation:{id}:{}", to.side.as_str());
                    out.queue(&confirmation, key, &to, &file)?;
                }
            }
            Event::VisitDeclined { reason, .. } => {
                let to = p.requester_side();
                let declined = Declined {
                    host: p.host.name.clone(),
                    coordinator: p.coordinator.name.clone(),
                    topic: p.topic(to.language),
                    reason: reason.clone(),
                    alternatives: p.alternatives(suggester, to.language),
                };
                out.queue(&declined, format!("declined:{id}"), &to, &[])?;
            }
            Event::VisitCancelled { by, reason, .. } => {
                let by_name = match by {
                    VisitRole::Requester => &p.requester.name,
                    VisitRole::Host => &p.host.name,
                };
                // A request still waiting is only withdrawn: the side that
                // withdrew it needs no email; a day leaves both calendars.
                let told = p
                    .both_sides()
                    .into_iter()
                    .filter(|r| p.visit.date.is_some() || r.side != *by);
                for to in told {
                    let cancelled = Cancelled {
                        host: p.host.name.clone(),
                        requester: p.requester.name.clone(),
                        by: by_name.clone(),
                        topic: p.topic(to.language),
                        date: p.visit.date.map(|d| long_date(d, to.language)),
                        reason: reason.clone(),
                    };
                    let file =
                        p.calendar_file((base_url, scene.rules), Method::Cancel, to.language, now);
                    let key = format!("cancelled:{id}:{}", to.side.as_str());
                    out.queue(&cancelled, key, &to, &file)?;
                }
            }
            Event::VisitClosed { closure, days, .. } => {
                let to = p.requester_side();
                let closed = Closed {
                    host: p.host.name.clone(),
                    coordinator: p.coordinator.name.clone(),
                    topic: p.topic(to.language),
                    undeliverable: *closure == Closure::Undeliverable,
                    days: days
                        .iter()
                        .map(|(date, o)| o.to_requester(*date, &p.host.name, to.language))
                        .collect(),
                    again: format!(
                        "{base_url}/visits/new?host={}&topic={}",
                        p.row.host_id, p.visit.topic
                    ),
                    alternatives: p.alternatives(suggester, to.language),
                };
                out.queue(&closed, format!("closed:{id}"), &to, &[])?;
            }
            Event::VisitExpired { .. } => {
                let to = p.requester_side();
                let expired = Expired {
                    host: p.host.name.clone(),
                    coordinator: p.coordinator.name.clone(),
                    topic: p.topic(to.language),
                    days: (p.row.expires_at - p.row.created_at).num_days().max(1),
                    alternatives: p.alternatives(suggester, to.language),
                };
                out.queue(&expired, format!("expired:{id}"), &to, &[])?;
            }
            Event::VisitNear { date, .. } => {
                for to in p.both_sides() {
                    let reminder = Reminder {
                        visit: p.confirmation(*date, to.language),
                        start: scene.rules.day_start.format("%H:%M").to_string(),
                        end: scene.rules.day_end.format("%H:%M").to_string(),
                    };
                    let key = format!("reminder:{id}:{}", to.side.as_str());
                    out.queue(&reminder, key, &to, &[])?;
                }
            }
            Event::VisitCompleted { .. } => {
                // Both sides get their form, open from the moment it was held.
                let expires_at = schedule::form_expires(now);
                for to in p.both_sides() {
                    let form = form(out.conn, p, &to, base_url, expires_at, now)?;
                    let key = format!("lessons:{id}:{}", to.side.as_str());
                    out.queue(&form, key, &to, &[])?;
                }
            }
            Event::LessonsOverdue { sides, .. } => {
                let completed_at = p.row.completed_at.unwrap_or(now);
                let expires_at = schedule::form_expires(completed_at);
                let late = p
                    .both_sides()
                    .into_iter()
                    .filter(|to| sides.contains(&to.side));
                for to in late {
                    // A fresh link: only hashes of the first exist.
                    let form = form(out.conn, p, &to, base_url, expires_at, now)?;
                    let key = format!("lessons-reminder:{id}:{}", to.side.as_str());
                    out.queue(&LessonsReminder { form }, key, &to, &[])?;
                }
            }
            Event::FollowUpDue { .. } => {
                let Some(date) = p.visit.date else {
                    return Ok(());
                };
                let to = p.requester_side();
                let expires_at = now + chrono::Duration::days(lesson::FORM_DAYS);
                let token = issue_link(
                    out.conn,
                    LinkPurpose::FollowUp,
                    id,
                    p.row.requester_id,
                    expires_at,
                    now,
                )?;
                let email = FollowUp {
                    host: p.host.name.clone(),
                    topic: p.topic(to.language),
                    date: long_date(date, to.language),
                    link: format!("{base_url}/follow-ups/{token}"),
                    expires_on: long_date(local_date(expires_at), to.language),
                };
                out.queue(&email, format!("followup:{id}"), &to, &[])?;
            }
            // Nobody is emailed about these (yet).
            Event::LessonSubmitted { .. }
            | Event::LessonPublished { .. }
            | Event::FollowUpAnswered { .. }
            | Event::OrganisationUpdated { .. } => {}
        }
        Ok(())
    }
}

/// The outbox, in the publishing transaction.
struct Outbox<'c> {
    conn: &'c mut DbConn,
    base_url: &'c str,
}

impl Outbox<'_> {
    /// Queues one email (once per key).
    fn queue<E: Email>(
        &mut self,
        email: &E,
        key: String,
        to: &Recipient,
        attachments: &[Attachment],
    ) -> Result<(), ServiceError> {
        let message = compose(
            email,
            key,
            &to.email,
            to.language,
            self.base_url,
            attachments,
        )
        .map_err(|e| ServiceError::Internal(e.into()))?;
        outbox::enqueue(self.conn, &message)?;
        Ok(())
    }
}

/// A fresh single-use invitation link for the host, valid as long as the
/// request; the secret for the email (only its hash is stored).
fn invitation_token(
    conn: &mut DbConn,
    p: &Parties,
    now: NaiveDateTime,
) -> Result<String, ServiceError> {
    issue_link(
        conn,
        LinkPurpose::Invitation,
        p.row.id,
        p.row.host_id,
        p.row.expires_at,
        now,
    )
}

/// One side's lessons form email, with a fresh single-use link.
fn form(
    conn: &mut DbConn,
    p: &Parties,
    to: &Recipient,
    base_url: &str,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<LessonsForm, ServiceError> {
    let token = issue_link(
        conn,
        LinkPurpose::Lessons,
        p.row.id,
        p.organisation_of(to.side),
        expires_at,
        now,
    )?;
    Ok(LessonsForm {
        host: p.host.name.clone(),
        requester: p.requester.name.clone(),
        topic: p.topic(to.language),
        date: p
            .visit
            .date
            .map(|d| long_date(d, to.language))
            .unwrap_or_default(),
        to_host: to.side == VisitRole::Host,
        link: format!("{base_url}/lessons-forms/{token}"),
        expires_on: long_date(local_date(expires_at), to.language),
    })
}
