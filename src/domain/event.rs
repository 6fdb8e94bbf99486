//! What happened, as the use cases tell it: one value per fact, published
//! inside the transaction that made it so. `service::events` fans each one
//! out to its consumers (emails today; webhooks, metrics and audit later).

use chrono::NaiveDate;

use crate::domain::lesson::Publish;
use crate::domain::visit::{Closure, Obstacle, VisitId, VisitRole};

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
}

impl Event {
    /// The visit it happened to.
    pub fn visit(&self) -> VisitId {
        use Event::*;
        match self {
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
        }
    }

    /// A stable name (logs today; webhook event types later).
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
        }
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
    fn a_lesson_kept_private_is_submitted_but_not_published() {
        let kept = Event::lesson_submitted(VisitId(7), VisitRole::Host, Publish::No);
        assert_eq!(kept.len(), 1);
        let shared = Event::lesson_submitted(VisitId(7), VisitRole::Host, Publish::Pseudonymous);
        assert_eq!(
            shared.iter().map(Event::name).collect::<Vec<_>>(),
            ["lesson.submitted", "lesson.published"]
        );
        assert!(shared.iter().all(|e| e.visit() == VisitId(7)));
    }
}
