//! The emails Meeloop sends, each its data and its templates in both
//! languages (declared with `templates::email!`).

use askama::Template;

use super::templates::{email, Common, Email, Rendered};
use crate::domain::organisation::Language;

/// `meeloop mail send-test`: proves that mail leaves this instance.
#[derive(Debug, Clone)]
pub struct TestMessage {
    pub recipient: String,
    /// When it was queued, in Dutch local time.
    pub queued_at: String,
}

email!(TestMessage, "test",
    subject: ["mail/test/nl/subject.txt", "mail/test/en/subject.txt"],
    text: ["mail/test/nl/body.txt", "mail/test/en/body.txt"],
    html: ["mail/test/nl/body.html", "mail/test/en/body.html"]);

/// To the host's contact address: someone asks for a shadow visit.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub host: String,
    pub requester: String,
    pub coordinator: String,
    pub coordinator_email: String,
    /// The topic's name in the host's language.
    pub topic: String,
    pub goal: String,
    pub participants: i32,
    /// The proposed days, written out in the host's language.
    pub dates: Vec<String>,
    /// `{base}/invitations/{token}`.
    pub link: String,
    pub expires_on: String,
}

email!(Invitation, "invitation",
    subject: ["mail/invitation/nl/subject.txt", "mail/invitation/en/subject.txt"],
    text: ["mail/invitation/nl/body.txt", "mail/invitation/en/body.txt"],
    html: ["mail/invitation/nl/body.html", "mail/invitation/en/body.html"]);

/// To both sides: the host accepted; the day is set.
#[derive(Debug, Clone)]
pub struct Confirmation {
    pub host: String,
    pub requester: String,
    pub coordinator: String,
    pub coordinator_email: String,
    pub topic: String,
    pub goal: String,
    pub participants: i32,
    /// The day, written out in the recipient's language.
    pub date: String,
}

email!(Confirmation, "confirmation",
    subject: ["mail/confirmation/nl/subject.txt", "mail/confirmation/en/subject.txt"],
    text: ["mail/confirmation/nl/body.txt", "mail/confirmation/en/body.txt"],
    html: ["mail/confirmation/nl/body.html", "mail/confirmation/en/body.html"]);

/// Another host to try, with the first reason it fits.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub name: String,
    pub reason: String,
}

/// To the requesting coordinator: the host said no.
#[derive(Debug, Clone)]
pub struct Declined {
    pub host: String,
    pub coordinator: String,
    pub topic: String,
    pub reason: Option<String>,
    /// The next best hosts to ask (empty: a link to search instead).
    pub alternatives: Vec<Suggestion>,
}

email!(Declined, "declined",
    subject: ["mail/declined/nl/subject.txt", "mail/declined/en/subject.txt"],
    text: ["mail/declined/nl/body.txt", "mail/declined/en/body.txt"],
    html: ["mail/declined/nl/body.html", "mail/declined/en/body.html"]);

/// To the host, once, halfway to expiry: the invitation again, with a
/// fresh link (the first one's token is stored only as a hash).
#[derive(Debug, Clone)]
pub struct Nudge {
    pub invitation: Invitation,
}

email!(Nudge, "nudge",
    subject: ["mail/nudge/nl/subject.txt", "mail/nudge/en/subject.txt"],
    text: ["mail/nudge/nl/body.txt", "mail/nudge/en/body.txt"],
    html: ["mail/nudge/nl/body.html", "mail/nudge/en/body.html"]);

/// To the requesting coordinator: the host did not answer in time.
#[derive(Debug, Clone)]
pub struct Expired {
    pub host: String,
    pub coordinator: String,
    pub topic: String,
    /// How long the host had.
    pub days: i64,
    pub alternatives: Vec<Suggestion>,
}

email!(Expired, "expired",
    subject: ["mail/expired/nl/subject.txt", "mail/expired/en/subject.txt"],
    text: ["mail/expired/nl/body.txt", "mail/expired/en/body.txt"],
    html: ["mail/expired/nl/body.html", "mail/expired/en/body.html"]);

/// To the requesting coordinator: Meeloop closed the request, because the
/// invitation could not be delivered or none of the proposed days can be
/// booked any more.
#[derive(Debug, Clone)]
pub struct Closed {
    pub host: String,
    pub coordinator: String,
    pub topic: String,
    /// The invitation never reached the host (else: the days are gone).
    pub undeliverable: bool,
    /// Each proposed day that is gone, written out with why.
    pub days: Vec<String>,
    /// The request form for the same host and topic, to propose other days.
    pub again: String,
    pub alternatives: Vec<Suggestion>,
}

email!(Closed, "closed",
    subject: ["mail/closed/nl/subject.txt", "mail/closed/en/subject.txt"],
    text: ["mail/closed/nl/body.txt", "mail/closed/en/body.txt"],
    html: ["mail/closed/nl/body.html", "mail/closed/en/body.html"]);

/// To the other side (and, for a visit with a date, to both, with a
/// calendar cancellation): the visit is off.
#[derive(Debug, Clone)]
pub struct Cancelled {
    pub host: String,
    pub requester: String,
    /// The organisation that called it off.
    pub by: String,
    pub topic: String,
    /// The day that is off, in the recipient's language; none for a request.
    pub date: Option<String>,
    pub reason: Option<String>,
}

email!(Cancelled, "cancelled",
    subject: ["mail/cancelled/nl/subject.txt", "mail/cancelled/en/subject.txt"],
    text: ["mail/cancelled/nl/body.txt", "mail/cancelled/en/body.txt"],
    html: ["mail/cancelled/nl/body.html", "mail/cancelled/en/body.html"]);

/// To both sides, two working days before the visit: the confirmation's
/// details again, with the hours.
#[derive(Debug, Clone)]
pub struct Reminder {
    pub visit: Confirmation,
    /// "09:30", "16:00".
    pub start: String,
    pub end: String,
}

email!(Reminder, "reminder",
    subject: ["mail/reminder/nl/subject.txt", "mail/reminder/en/subject.txt"],
    text: ["mail/reminder/nl/body.txt", "mail/reminder/en/body.txt"],
    html: ["mail/reminder/nl/body.html", "mail/reminder/en/body.html"]);

/// To each side once the visit is held: a link to its lessons form.
#[derive(Debug, Clone)]
pub struct LessonsForm {
    pub host: String,
    pub requester: String,
    pub topic: String,
    /// The visit's day, written out.
    pub date: String,
    /// The host's form (else the visitor's): the wording differs.
    pub to_host: bool,
    /// `{base}/lessons-forms/{token}`.
    pub link: String,
    pub expires_on: String,
}

email!(LessonsForm, "lessons",
    subject: ["mail/lessons/nl/subject.txt", "mail/lessons/en/subject.txt"],
    text: ["mail/lessons/nl/body.txt", "mail/lessons/en/body.txt"],
    html: ["mail/lessons/nl/body.html", "mail/lessons/en/body.html"]);

/// A week later, once, to a side that has not answered: a fresh link.
#[derive(Debug, Clone)]
pub struct LessonsReminder {
    pub form: LessonsForm,
}

email!(LessonsReminder, "lessons_reminder",
    subject: ["mail/lessons_reminder/nl/subject.txt", "mail/lessons_reminder/en/subject.txt"],
    text: ["mail/lessons_reminder/nl/body.txt", "mail/lessons_reminder/en/body.txt"],
    html: ["mail/lessons_reminder/nl/body.html", "mail/lessons_reminder/en/body.html"]);

/// To the requesting coordinator, three months after the visit.
#[derive(Debug, Clone)]
pub struct FollowUp {
    pub host: String,
    pub topic: String,
    pub date: String,
    /// `{base}/follow-ups/{token}`.
    pub link: String,
    pub expires_on: String,
}

email!(FollowUp, "followup",
    subject: ["mail/followup/nl/subject.txt", "mail/followup/en/subject.txt"],
    text: ["mail/followup/nl/body.txt", "mail/followup/en/body.txt"],
    html: ["mail/followup/nl/body.html", "mail/followup/en/body.html"]);

/// To a new account's owner: choose your own password (no admin ever sees it).
#[derive(Debug, Clone)]
pub struct Welcome {
    pub name: String,
    /// Who invited them.
    pub inviter: String,
    /// The role, as people call it in the recipient's language.
    pub role: String,
    pub organisation: Option<String>,
    /// `{base}/welcome/{token}`.
    pub link: String,
    /// When the link stops working, in Dutch local time, written out.
    pub expires: String,
}

email!(Welcome, "welcome",
    subject: ["mail/welcome/nl/subject.txt", "mail/welcome/en/subject.txt"],
    text: ["mail/welcome/nl/body.txt", "mail/welcome/en/body.txt"],
    html: ["mail/welcome/nl/body.html", "mail/welcome/en/body.html"]);

/// To an account's address, on "forgot password".
#[derive(Debug, Clone)]
pub struct PasswordReset {
    pub name: String,
    /// `{base}/password/reset/{token}`.
    pub link: String,
    pub expires: String,
}

email!(PasswordReset, "password_reset",
    subject: ["mail/password_reset/nl/subject.txt", "mail/password_reset/en/subject.txt"],
    text: ["mail/password_reset/nl/body.txt", "mail/password_reset/en/body.txt"],
    html: ["mail/password_reset/nl/body.html", "mail/password_reset/en/body.html"]);

/// To a partner's contact: an endpoint failed for a day and is switched off.
#[derive(Debug, Clone)]
pub struct WebhookDisabled {
    pub partner: String,
    pub endpoint_id: i64,
    pub url: String,
    /// When the failures began, in Dutch local time.
    pub failing_since: String,
    pub last_error: String,
}

email!(WebhookDisabled, "webhook_disabled",
    subject: ["mail/webhook_disabled/nl/subject.txt", "mail/webhook_disabled/en/subject.txt"],
    text: ["mail/webhook_disabled/nl/body.txt", "mail/webhook_disabled/en/body.txt"],
    html: ["mail/webhook_disabled/nl/body.html", "mail/webhook_disabled/en/body.html"]);

/// A lesson in the monthly digest.
#[derive(Debug, Clone)]
pub struct DigestLesson {
    /// "Cloudmigratie bij Zwolle" (the host left out when it wrote unnamed).
    pub heading: String,
    /// Who wrote it, as the knowledge base names them.
    pub byline: String,
    /// What to copy, shortened.
    pub strengths: String,
    pub hours_saved: i32,
    /// The lesson in the knowledge base.
    pub link: String,
}

/// A visit planned nearby, in the monthly digest.
#[derive(Debug, Clone)]
pub struct DigestVisit {
    pub requester: String,
    pub host: String,
    pub topic: String,
    pub date: String,
    /// Whole kilometres from the reader's organisation.
    pub km: u32,
}

/// Once a month, to someone who follows topics: what was new on them.
#[derive(Debug, Clone)]
pub struct Digest {
    pub name: String,
    /// "november 2026".
    pub month: String,
    /// The topics followed, by name.
    pub topics: Vec<String>,
    pub lessons: Vec<DigestLesson>,
    /// Lessons beyond those listed.
    pub more_lessons: usize,
    /// The knowledge base, for the rest.
    pub knowledge: String,
    /// "Zwolle (Cloudmigratie)": new among the best in class.
    pub leaders: Vec<(String, String)>,
    pub visits: Vec<DigestVisit>,
    pub more_visits: usize,
    /// The account page's topics.
    pub manage: String,
    /// The one-click unsubscribe link (also in `List-Unsubscribe`).
    pub unsubscribe: String,
}

email!(Digest, "digest",
    subject: ["mail/digest/nl/subject.txt", "mail/digest/en/subject.txt"],
    text: ["mail/digest/nl/body.txt", "mail/digest/en/body.txt"],
    html: ["mail/digest/nl/body.html", "mail/digest/en/body.html"]);
