//! A visit with the organisations and people its emails concern, loaded
//! once per use case, and the emails and links it sends.

use chrono::{NaiveDate, NaiveDateTime};

use crate::auth::links;
use crate::db::outbox;
use crate::db::visits::{self as repo, NewLinkToken, VisitRow};
use crate::db::{self, DbConn};
use crate::domain::account::{User, UserId};
use crate::domain::calendar::long_date;
use crate::domain::organisation::{Language, Organisation, OrganisationId};
use crate::domain::refusal::VisitRefusal;
use crate::domain::visit::{transition, TransitionError, Visit, VisitEvent, VisitRole, VisitState};
use crate::mail::ics::{CalendarEntry, Method, Person};
use crate::mail::templates::{compose, Attachment, Confirmation, Email, Invitation, Suggestion};
use crate::service::matching::Suggester;
use crate::service::ServiceError;

use super::*;

/// A visit with the organisations and the coordinator its emails concern,
/// loaded once per use case.
pub(crate) struct Parties {
    pub(crate) row: VisitRow,
    pub(crate) visit: VisitView,
    pub(crate) host: Organisation,
    pub(crate) requester: Organisation,
    /// The coordinator who asked.
    pub(crate) coordinator: User,
}

/// Where one side's email goes, and in which language.
pub(crate) struct Recipient {
    pub(crate) side: VisitRole,
    pub(crate) email: String,
    pub(crate) language: Language,
}

impl Parties {
    pub(crate) fn load(conn: &mut DbConn, id: i64) -> Result<Parties, ServiceError> {
        let row = repo::find(conn, id)?.ok_or(VisitRefusal::UnknownVisit { id })?;
        let vanished = |what: &str| {
            ServiceError::Internal(anyhow::anyhow!("the {what} of visit {id} vanished"))
        };
        let visit = view(conn, row.clone())?;
        let host = db::organisations::find(conn, OrganisationId(row.host_id))?
            .ok_or_else(|| vanished("host"))?;
        let requester = db::organisations::find(conn, OrganisationId(row.requester_id))?
            .ok_or_else(|| vanished("requester"))?;
        let coordinator = db::users::find(conn, UserId(row.requested_by))?
            .ok_or_else(|| vanished("coordinator"))?;
        Ok(Parties {
            row,
            visit,
            host,
            requester,
            coordinator,
        })
    }

    /// Loads the visit after locking its host (bookings for one host are
    /// serialised; see `db::visits::lock_organisation`).
    pub(crate) fn lock(conn: &mut DbConn, id: i64) -> Result<Parties, ServiceError> {
        let row = repo::find(conn, id)?.ok_or(VisitRefusal::UnknownVisit { id })?;
        repo::lock_organisation(conn, row.host_id)?;
        Parties::load(conn, id)
    }

    pub(crate) fn topic(&self, language: Language) -> String {
        self.visit.topic_name(language).to_string()
    }

    /// Whether `event` may happen now, as the state machine says; why not
    /// in `language`.
    pub(crate) fn check(&self, event: VisitEvent) -> Result<VisitState, ServiceError> {
        let visit = Visit {
            state: self.visit.state,
            proposed_dates: self.visit.proposed_dates.clone(),
            date: self.visit.date,
        };
        transition(&visit, event).map_err(|e| match (e, self.visit.closed) {
            (e @ TransitionError::NotProposed(_), _) => VisitRefusal::from(e).into(),
            // Say why Meeloop closed it rather than just "cancelled".
            (_, Some(closure)) => VisitRefusal::ClosedByMeeloop {
                host: self.host.name.clone(),
                closure,
            }
            .into(),
            (other, None) => VisitRefusal::from(other).into(),
        })
    }

    /// The next hosts to suggest to the requester instead of this one.
    pub(crate) fn alternatives(
        &self,
        suggester: &Suggester,
        language: Language,
    ) -> Vec<Suggestion> {
        suggester.alternatives(
            OrganisationId(self.row.requester_id),
            &self.visit.topic,
            OrganisationId(self.row.host_id),
            language,
        )
    }

    pub(crate) fn requester_side(&self) -> Recipient {
        Recipient {
            side: VisitRole::Requester,
            email: self.coordinator.email.clone(),
            language: self.requester.language,
        }
    }

    /// The host's contact address (an organisation without one is told nothing).
    pub(crate) fn host_side(&self) -> Option<Recipient> {
        self.host.contact_email.clone().map(|email| Recipient {
            side: VisitRole::Host,
            email,
            language: self.host.language,
        })
    }

    pub(crate) fn both_sides(&self) -> Vec<Recipient> {
        std::iter::once(self.requester_side())
            .chain(self.host_side())
            .collect()
    }

    pub(crate) fn invitation(&self, link: String, language: Language) -> Invitation {
        Invitation {
            host: self.host.name.clone(),
            requester: self.requester.name.clone(),
            coordinator: self.coordinator.name.clone(),
            coordinator_email: self.coordinator.email.clone(),
            topic: self.topic(language),
            goal: self.visit.goal.clone(),
            participants: self.visit.participants,
            dates: self
                .visit
                .proposed_dates
                .iter()
                .map(|d| long_date(*d, language))
                .collect(),
            link,
            expires_on: long_date(local_date(self.row.expires_at), language),
        }
    }

    /// The visit's day and who is involved, as the confirmation and the
    /// reminder tell it.
    pub(crate) fn confirmation(&self, date: NaiveDate, language: Language) -> Confirmation {
        Confirmation {
            host: self.host.name.clone(),
            requester: self.requester.name.clone(),
            coordinator: self.coordinator.name.clone(),
            coordinator_email: self.coordinator.email.clone(),
            topic: self.topic(language),
            goal: self.visit.goal.clone(),
            participants: self.visit.participants,
            date: long_date(date, language),
        }
    }

    /// The calendar entry of a visit with a day; `None` before it has one.
    pub(crate) fn calendar(
        &self,
        base_url: &str,
        rules: VisitRules,
        method: Method,
        language: Language,
    ) -> Option<CalendarEntry> {
        let date = self.visit.date?;
        let coordinator = Person {
            name: self.coordinator.name.clone(),
            email: self.coordinator.email.clone(),
        };
        let mut attendees = vec![coordinator.clone()];
        if let Some(contact) = &self.host.contact_email {
            attendees.push(Person {
                name: self.host.name.clone(),
                email: contact.clone(),
            });
        }
        let (requester, host, topic) =
            (&self.requester.name, &self.host.name, self.topic(language));
        Some(CalendarEntry {
            uid: calendar_uid(self.row.id, base_url),
            sequence: u32::try_from(self.row.sequence).unwrap_or(0),
            method,
            date,
            start: rules.day_start,
            end: rules.day_end,
            summary: match language {
                Language::Nl => format!("Meeloopdag {requester} bij {host}: {topic}"),
                Language::En => format!("Shadow visit {requester} at {host}: {topic}"),
            },
            location: host.clone(),
            description: self.visit.goal.clone(),
            organizer: coordinator,
            attendees,
            stamp: chrono::Utc::now(),
        })
    }

    /// The calendar entry as an email attachment.
    pub(crate) fn calendar_file(
        &self,
        base_url: &str,
        rules: VisitRules,
        method: Method,
        language: Language,
    ) -> Vec<Attachment> {
        self.calendar(base_url, rules, method, language)
            .map(|entry| Attachment {
                filename: "meeloopdag.ics".into(),
                content_type: format!("text/calendar; charset=utf-8; method={}", method.as_str()),
                bytes: crate::mail::ics::render(&entry).into_bytes(),
            })
            .into_iter()
            .collect()
    }
}

/// Queues one email inside the caller's transaction (once per key).
pub(crate) fn queue<E: Email>(
    conn: &mut DbConn,
    email: &E,
    key: String,
    to: &Recipient,
    base_url: &str,
    attachments: &[Attachment],
) -> Result<(), ServiceError> {
    let message = compose(email, key, &to.email, to.language, base_url, attachments)
        .map_err(|e| ServiceError::Internal(e.into()))?;
    outbox::enqueue(conn, &message)?;
    Ok(())
}

pub(crate) use crate::service::clock::local_date;

/// The idempotency key of a visit's invitation email.
pub(crate) fn invitation_key(id: i64) -> String {
    format!("invitation:{id}")
}

/// A fresh single-use invitation link for the host, valid as long as the
/// request; returns the secret for the email (only its hash is stored).
pub(crate) fn invitation_token(
    conn: &mut DbConn,
    p: &Parties,
    now: NaiveDateTime,
) -> Result<String, ServiceError> {
    issue_link(
        conn,
        "invitation",
        p.row.id,
        p.row.host_id,
        p.row.expires_at,
        now,
    )
}

/// Stores a new emailed link of `purpose` for one organisation's side of a
/// visit (only its hash) and returns the secret to put in the email.
pub(crate) fn issue_link(
    conn: &mut DbConn,
    purpose: &'static str,
    visit: i64,
    organisation: i64,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<String, ServiceError> {
    let token = links::new_token();
    repo::insert_token(
        conn,
        &NewLinkToken {
            token_hash: token.hash,
            purpose,
            visit_id: visit,
            organisation_id: organisation,
            expires_at,
            created_at: now,
        },
    )?;
    Ok(token.plain)
}
