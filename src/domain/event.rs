//! What happened, as the use cases tell it: one value per fact, published
//! inside the transaction that made it so. `service::events` fans each one
//! out to its consumers (emails today; webhooks, metrics and audit later).

use chrono::NaiveDate;

use crate::domain::lesson::Publish;
use crate::domain::organisation::OrganisationId;
use crate::domain::visit::{Closure, Obstacle, VisitId, VisitRole};
use crate::domain::webhook::EventType;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A coordinator asked a host for a shadow visit.
    VisitRequested { visit: VisitId },
    /// The host took one of the proposed days.
    VisitAccepted { visit: VisitId, date: NaiveDate },
    VisitDeclined {
        visit: VisitId,
        reason: Option<String>,
    },
    /// One side called the visit off.
    VisitCancelled {
        visit: VisitId,
        by: VisitRole,
        reason: Option<String>,
    },
    /// Meeloop closed a request nobody can answer any more; for
    /// [`Closure::NoDaysLeft`], each proposed day with why it is gone.
    VisitClosed {
        visit: VisitId,
        closure: Closure,
        days: Vec<(NaiveDate, Obstacle)>,
    },
    /// The request ran out unanswered.
    VisitExpired { visit: VisitId },
    /// Half the answering time passed without an answer.
    RequestOverdue { visit: VisitId },
    /// The day is two working days away.
    VisitNear { visit: VisitId, date: NaiveDate },
    /// The day has passed: the visit is held.
    VisitCompleted { visit: VisitId },
    /// A week after the forms, these sides have not sent their lesson.
    LessonsOverdue {
        visit: VisitId,
        sides: Vec<VisitRole>,
    },
    /// Three months after the visit: time to ask what came of it.
    FollowUpDue { visit: VisitId },
    LessonSubmitted {
        visit: VisitId,
        side: VisitRole,
        publish: Publish,
    },
    /// A lesson entered the knowledge base (with the submission, when the
    /// side chose to publish it).
    LessonPublished { visit: VisitId, side: VisitRole },
    /// The requester told what came of the visit.
    FollowUpAnswered { visit: VisitId },
    /// An organisation's public profile changed (the fields named, e.g.
    /// `name` or `expertise:cloud-migratie`).
    OrganisationUpdated {
        organisation: OrganisationId,
        changed: Vec<String>,
    },
}

impl Event {
    /// The visit it happened to, if it happened to one.
    pub fn visit(&self) -> Option<VisitId> {
        use Event::*;
        Some(match self {
            VisitRequested { visit }
            | VisitAccepted { visit, .. }
            | VisitDeclined { visit, .. }
            | VisitCancelled { visit, .. }
            | VisitClosed { visit, .. }
            | VisitExpired { visit }
            | RequestOverdue { visit }
            | VisitNear { visit, .. }
            | VisitCompleted { visit }
            | LessonsOverdue { visit, .. }
            | FollowUpDue { visit }
            | LessonSubmitted { visit, .. }
            | LessonPublished { visit, .. }
            | FollowUpAnswered { visit } => *visit,
            OrganisationUpdated { .. } => return None,
        })
    }

    /// A stable name (logs, and the webhook event types of those partners
    /// may hear of: [`Event::webhook_type`]).
    pub fn name(&self) -> &'static str {
        use Event::*;
        match self {
            VisitRequested { .. } => "visit.requested",
            VisitAccepted { .. } => "visit.accepted",
            VisitDeclined { .. } => "visit.declined",
            VisitCancelled { .. } => "visit.cancelled",
            VisitClosed { .. } => "visit.closed",
            VisitExpired { .. } => "visit.expired",
            RequestOverdue { .. } => "visit.request_overdue",
            VisitNear { .. } => "visit.near",
            VisitCompleted { .. } => "visit.completed",
            LessonsOverdue { .. } => "lessons.overdue",
            FollowUpDue { .. } => "followup.due",
            LessonSubmitted { .. } => "lesson.submitted",
            LessonPublished { .. } => "lesson.published",
            FollowUpAnswered { .. } => "followup.answered",
            OrganisationUpdated { .. } => "organisation.updated",
        }
    }

    /// The webhook event type this is, when partners may hear of it.
    pub fn webhook_type(&self) -> Option<EventType> {
        self.name().parse().ok()
    }

    /// What a submitted lesson publishes: the submission, and its entry
    /// into the knowledge base when the side chose to publish.
    pub fn lesson_submitted(visit: VisitId, side: VisitRole, publish: Publish) -> Vec<Event> {
        let mut events = vec![Event::LessonSubmitted {
            visit,
            side,
            publish,
        }];
        if publish != Publish::No {
            events.push(Event::LessonPublished { visit, side });
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partners_hear_of_the_events_the_webhook_catalogue_names() {
        let accepted = Event::VisitAccepted {
            visit: VisitId(1),
            date: NaiveDate::from_ymd_opt(2027, 3, 2).unwrap(),
        };
        assert_eq!(accepted.webhook_type(), Some(EventType::VisitAccepted));
        assert_eq!(
            Event::RequestOverdue { visit: VisitId(1) }.webhook_type(),
            None
        );
        let updated = Event::OrganisationUpdated {
            organisation: OrganisationId(4),
            changed: vec!["name".into()],
        };
        assert_eq!(updated.webhook_type(), Some(EventType::OrganisationUpdated));
        assert_eq!(updated.visit(), None);
    }

    #[test]
    fn a_lesson_kept_private_is_submitted_but_not_published() {
        let kept = Event::lesson_submitted(VisitId(7), VisitRole::Host, Publish::No);
        assert_eq!(kept.len(), 1);
        let shared = Event::lesson_submitted(VisitId(7), VisitRole::Host, Publish::Pseudonymous);
        assert_eq!(
            shared.iter().map(Event::name).collect::<Vec<_>>(),
            ["lesson.submitted", "lesson.published"]
        );
        assert!(shared.iter().all(|e| e.visit() == Some(VisitId(7))));
    }
}
