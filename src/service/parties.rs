//! A visit as its participants see it, and with the organisations and
//! people its emails concern (loaded once per use case); the links it
//! sends. Below the use cases that change visits and the consumers of
//! what happened to them (`service::events`).

use chrono::{NaiveDate, NaiveDateTime};

use crate::auth::links;
use crate::db::visits::{self as repo, NewLinkToken, VisitRow};
use crate::db::{self, DbConn};
use crate::domain::account::{User, UserId};
use crate::domain::calendar::long_date;
use crate::domain::organisation::{Language, Organisation, OrganisationId};
use crate::domain::refusal::VisitRefusal;
use crate::domain::visit::{transition, TransitionError, Visit, VisitEvent, VisitRole, VisitState};
use crate::domain::visit::{Closure, LinkPurpose, VisitId, VisitRules};
use crate::domain::Invalid;
use crate::mail::emails::{Confirmation, Invitation, Suggestion};
use crate::mail::ics::{CalendarEntry, Method, Person};
use crate::mail::templates::Attachment;
use crate::service::index::Suggester;
use crate::service::ServiceError;

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
    pub(crate) fn load(conn: &mut DbConn, id: VisitId) -> Result<Parties, ServiceError> {
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
    pub(crate) fn lock(conn: &mut DbConn, id: VisitId) -> Result<Parties, ServiceError> {
        let row = repo::find(conn, id)?.ok_or(VisitRefusal::UnknownVisit { id })?;
        repo::lock_organisation(conn, row.host_id)?;
        Parties::load(conn, id)
    }

    /// The organisation of one side.
    pub(crate) fn organisation_of(&self, side: VisitRole) -> i64 {
        match side {
            VisitRole::Requester => self.row.requester_id,
            VisitRole::Host => self.row.host_id,
        }
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

    /// The calendar entry of a visit with a day, stamped `now`; `None`
    /// before it has one.
    pub(crate) fn calendar(
        &self,
        (base_url, rules): (&str, VisitRules),
        method: Method,
        language: Language,
        now: NaiveDateTime,
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
            stamp: now.and_utc(),
        })
    }

    /// The calendar entry as an email attachment.
    pub(crate) fn calendar_file(
        &self,
        scene: (&str, VisitRules),
        method: Method,
        language: Language,
        now: NaiveDateTime,
    ) -> Vec<Attachment> {
        self.calendar(scene, method, language, now)
            .map(|entry| Attachment {
                filename: "meeloopdag.ics".into(),
                content_type: format!("text/calendar; charset=utf-8; method={}", method.as_str()),
                bytes: crate::mail::ics::render(&entry).into_bytes(),
            })
            .into_iter()
            .collect()
    }
}

pub(crate) use crate::service::clock::local_date;

/// `cancelled_by` of a request Meeloop closed itself.
pub const MEELOOP: &str = "meeloop";

/// The idempotency key of a visit's invitation email.
pub(crate) fn invitation_key(id: VisitId) -> String {
    format!("invitation:{id}")
}

/// Stores a new emailed link of `purpose` for one organisation's side of a
/// visit (only its hash) and returns the secret to put in the email.
pub(crate) fn issue_link(
    conn: &mut DbConn,
    purpose: LinkPurpose,
    visit: VisitId,
    organisation: i64,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<String, ServiceError> {
    let token = links::new_token();
    repo::insert_token(
        conn,
        NewLinkToken {
            token_hash: token.hash,
            purpose,
            visit_id: visit.0,
            organisation_id: organisation,
            expires_at,
            created_at: now,
        },
    )?;
    Ok(token.plain)
}

/// A visit as its participants see it.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitView {
    pub id: VisitId,
    pub state: VisitState,
    pub requester_id: i64,
    pub requester_name: String,
    pub host_id: i64,
    pub host_name: String,
    pub topic: String,
    /// The topic's name in Dutch and in English.
    pub topic_names: (String, String),
    pub goal: String,
    pub participants: i32,
    pub proposed_dates: Vec<NaiveDate>,
    pub date: Option<NaiveDate>,
    pub reason: Option<String>,
    /// Which side called it off (neither: Meeloop closed it, see `closed`).
    pub cancelled_by: Option<VisitRole>,
    /// Why Meeloop closed the request itself.
    pub closed: Option<Closure>,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

impl VisitView {
    /// The topic's name in `language`.
    pub fn topic_name(&self, language: Language) -> &str {
        match language {
            Language::Nl => &self.topic_names.0,
            Language::En => &self.topic_names.1,
        }
    }
}

pub(crate) fn view(conn: &mut DbConn, row: VisitRow) -> Result<VisitView, ServiceError> {
    Ok(views(conn, vec![row])?.remove(0))
}

/// Visits as shown, with their names looked up in two queries for the lot.
pub(crate) fn views(
    conn: &mut DbConn,
    rows: Vec<VisitRow>,
) -> Result<Vec<VisitView>, ServiceError> {
    let corrupt = |what: String| ServiceError::Internal(anyhow::anyhow!(what));
    let mut organisations: Vec<i64> = rows
        .iter()
        .flat_map(|r| [r.requester_id, r.host_id])
        .collect();
    organisations.sort_unstable();
    organisations.dedup();
    let mut topics: Vec<i64> = rows.iter().map(|r| r.topic_id).collect();
    topics.sort_unstable();
    topics.dedup();
    let names = repo::organisation_names(conn, &organisations)?;
    let topic_names = repo::topic_names(conn, &topics)?;
    rows.into_iter()
        .map(|row| {
            let name = |id: i64| {
                names
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| corrupt(format!("visit {}: organisation {id} vanished", row.id)))
            };
            let topic = topic_names
                .get(&row.topic_id)
                .cloned()
                .ok_or_else(|| corrupt(format!("visit {}: topic vanished", row.id)))?;
            Ok(VisitView {
                id: row.id,
                state: row.state,
                requester_id: row.requester_id,
                requester_name: name(row.requester_id)?,
                host_id: row.host_id,
                host_name: name(row.host_id)?,
                topic_names: (topic.nl, topic.en),
                topic: topic.slug,
                goal: row.goal,
                participants: row.participants,
                proposed_dates: serde_json::from_str(&row.proposed_dates)
                    .map_err(|e| corrupt(format!("visit {}: proposed dates: {e}", row.id)))?,
                date: row.visit_date,
                reason: row.reason,
                cancelled_by: row
                    .cancelled_by
                    .as_deref()
                    .filter(|by| *by != MEELOOP)
                    .map(str::parse)
                    .transpose()
                    .map_err(|e: Invalid| corrupt(e.message))?,
                closed: row
                    .closed_because
                    .as_deref()
                    .map(str::parse)
                    .transpose()
                    .map_err(|e: Invalid| corrupt(e.message))?,
                expires_at: row.expires_at,
                created_at: row.created_at,
            })
        })
        .collect()
}

/// The calendar UID of a visit: stable, so updates and cancellations
/// replace the same entry. The domain is the instance's.
pub fn calendar_uid(id: VisitId, base_url: &str) -> String {
    let host = base_url
        .split("://")
        .nth(1)
        .unwrap_or(base_url)
        .split(['/', ':'])
        .next()
        .unwrap_or("meeloop");
    format!("visit-{id}@{host}")
}
