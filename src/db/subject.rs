//! Everything the database holds about one person or organisation (AVG
//! art. 15 and 20; docs/privacy.md): the rows that point at them, and every
//! row whose text mentions their name or address anywhere. Whole tables are
//! read a page at a time and filtered here, so the rule is the same for
//! every column of every table and for both databases. Secrets (password
//! hashes, token hashes, partner secrets) and email bodies are never read.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::schema::{
    audit_log, expertise, followups, lessons, link_tokens, organisations, outbox, partner_clients,
    users, visits,
};
use super::{dispatch, DbConn};

/// Who an export or erasure is about.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    /// Accounts: their rows, what they asked, wrote or did.
    pub users: Vec<i64>,
    /// An organisation: its row, expertise, visits on either side, lessons
    /// and the link tokens it was sent.
    pub organisation: Option<i64>,
    /// Texts that identify the subject (addresses, names), matched
    /// case-insensitively in every text column.
    pub needles: Vec<String>,
}

impl Subject {
    fn mentioned<'a>(&self, texts: impl IntoIterator<Item = Option<&'a str>>) -> bool {
        texts.into_iter().flatten().any(|text| {
            let text = text.to_lowercase();
            self.needles.iter().any(|n| text.contains(n.as_str()))
        })
    }

    fn is_user(&self, id: Option<i64>) -> bool {
        id.is_some_and(|id| self.users.contains(&id))
    }

    fn is_organisation(&self, id: i64) -> bool {
        self.organisation == Some(id)
    }

    /// `user:<id>` or `organisation:<id>` as the audit log names them.
    fn is_named(&self, reference: Option<&str>) -> bool {
        let Some(reference) = reference else {
            return false;
        };
        let id = |prefix: &str| reference.strip_prefix(prefix)?.parse::<i64>().ok();
        self.is_user(id("user:")) || id("organisation:").is_some_and(|o| self.is_organisation(o))
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = users, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct UserData {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub organisation_id: Option<i64>,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = organisations, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct OrganisationData {
    pub id: i64,
    pub code: String,
    pub kind: String,
    pub name: String,
    pub province: Option<String>,
    pub size: i64,
    pub contact_email: Option<String>,
    pub language: String,
    pub monthly_capacity: i32,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = expertise, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct ExpertiseData {
    pub organisation_id: i64,
    pub topic_id: i64,
    pub level: i32,
    pub summary: String,
    pub since_year: Option<i32>,
    pub willing_to_host: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = visits, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct VisitData {
    pub id: i64,
    pub requester_id: i64,
    pub host_id: i64,
    pub topic_id: i64,
    pub requested_by: i64,
    pub state: String,
    pub goal: String,
    pub participants: i32,
    pub proposed_dates: String,
    pub visit_date: Option<NaiveDate>,
    pub reason: Option<String>,
    pub cancelled_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub completed_at: Option<NaiveDateTime>,
    pub closed_because: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = lessons, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct LessonData {
    pub id: i64,
    pub visit_id: i64,
    pub side: String,
    pub organisation_id: i64,
    pub host_id: i64,
    pub topic_id: i64,
    pub visit_date: NaiveDate,
    pub author_id: Option<i64>,
    pub situation: String,
    pub strengths: String,
    pub mistakes: String,
    pub recommendations: String,
    pub hours_saved: i32,
    pub rating: i16,
    pub recommend: Option<bool>,
    pub publish: String,
    pub submitted_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = followups, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct FollowUpData {
    pub visit_id: i64,
    pub applied: String,
    pub changes: String,
    pub answered_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = audit_log, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct AuditData {
    pub id: i64,
    pub at: NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub address: Option<String>,
    pub subject: Option<String>,
    pub details: String,
}

/// An email as metadata: never its body or attachments.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = outbox, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct MessageData {
    pub id: i64,
    pub recipient: String,
    pub language: String,
    pub template: String,
    pub subject: String,
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// A link sent by email, without its hash.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = link_tokens, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct LinkData {
    pub id: i64,
    pub purpose: String,
    pub visit_id: i64,
    pub organisation_id: i64,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = partner_clients, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct PartnerData {
    pub id: i64,
    pub client_id: String,
    pub name: String,
    pub scopes: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

/// The rows about a subject, table by table (named as in the database).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Found {
    pub users: Vec<UserData>,
    pub organisations: Vec<OrganisationData>,
    pub expertise: Vec<ExpertiseData>,
    pub visits: Vec<VisitData>,
    pub lessons: Vec<LessonData>,
    pub followups: Vec<FollowUpData>,
    pub audit_log: Vec<AuditData>,
    pub outbox: Vec<MessageData>,
    pub link_tokens: Vec<LinkData>,
    pub partner_clients: Vec<PartnerData>,
}

/// Rows read at a time from the tables that grow without bound.
const PAGE: i64 = 1000;

/// Every row about `s`, on one consistent view of the database.
pub fn about(conn: &mut DbConn, s: &Subject) -> QueryResult<Found> {
    conn.read_consistent(|conn| {
        let mut found = Found::default();
        let all_users: Vec<UserData> =
            dispatch!(conn, c => users::table.select(UserData::as_select()).order(users::id).load(c))?;
        found.users = all_users
            .into_iter()
            .filter(|u| {
                s.is_user(Some(u.id))
                    || u.organisation_id.is_some_and(|o| s.is_organisation(o))
                    || s.mentioned([Some(u.email.as_str()), Some(u.name.as_str())])
            })
            .collect();
        let all: Vec<OrganisationData> = dispatch!(conn, c => organisations::table
            .select(OrganisationData::as_select())
            .order(organisations::id)
            .load(c))?;
        found.organisations = all
            .into_iter()
            .filter(|o| {
                s.is_organisation(o.id)
                    || s.mentioned([Some(o.name.as_str()), o.contact_email.as_deref()])
            })
            .collect();
        let all: Vec<ExpertiseData> = dispatch!(conn, c => expertise::table
            .select(ExpertiseData::as_select())
            .order((expertise::organisation_id, expertise::topic_id))
            .load(c))?;
        found.expertise = all
            .into_iter()
            .filter(|e| s.is_organisation(e.organisation_id) || s.mentioned([Some(e.summary.as_str())]))
            .collect();
        let all: Vec<VisitData> =
            dispatch!(conn, c => visits::table.select(VisitData::as_select()).order(visits::id).load(c))?;
        found.visits = all
            .into_iter()
            .filter(|v| {
                s.is_user(Some(v.requested_by))
                    || s.is_organisation(v.requester_id)
                    || s.is_organisation(v.host_id)
                    || s.mentioned([Some(v.goal.as_str()), v.reason.as_deref()])
            })
            .collect();
        let all: Vec<LessonData> =
            dispatch!(conn, c => lessons::table.select(LessonData::as_select()).order(lessons::id).load(c))?;
        found.lessons = all
            .into_iter()
            .filter(|l| {
                s.is_user(l.author_id)
                    || s.is_organisation(l.organisation_id)
                    || s.mentioned([
                        Some(l.situation.as_str()),
                        Some(l.strengths.as_str()),
                        Some(l.mistakes.as_str()),
                        Some(l.recommendations.as_str()),
                    ])
            })
            .collect();
        let theirs: Vec<i64> = found.visits.iter().filter(|v| s.is_user(Some(v.requested_by)) || s.is_organisation(v.requester_id)).map(|v| v.id).collect();
        let all: Vec<FollowUpData> = dispatch!(conn, c => followups::table
            .select(FollowUpData::as_select())
            .order(followups::visit_id)
            .load(c))?;
        found.followups = all
            .into_iter()
            .filter(|f| theirs.contains(&f.visit_id) || s.mentioned([Some(f.changes.as_str())]))
            .collect();
        let mut after = 0;
        loop {
            let page: Vec<AuditData> = dispatch!(conn, c => audit_log::table
                .filter(audit_log::id.gt(after))
                .select(AuditData::as_select())
                .order(audit_log::id)
                .limit(PAGE)
                .load(c))?;
            let Some(last) = page.last() else { break };
            after = last.id;
            found.audit_log.extend(page.into_iter().filter(|a| {
                s.is_named(Some(&a.actor))
                    || s.is_named(a.subject.as_deref())
                    || s.mentioned([Some(a.details.as_str()), a.subject.as_deref()])
            }));
        }
        let mut after = 0;
        loop {
            // The body is read to find mentions (an unsent invitation names
            // the requester), never handed out.
            let page: Vec<(MessageData, String, String)> = dispatch!(conn, c => outbox::table
                .filter(outbox::id.gt(after))
                .select((MessageData::as_select(), outbox::body_text, outbox::body_html))
                .order(outbox::id)
                .limit(PAGE)
                .load(c))?;
            let Some(last) = page.last() else { break };
            after = last.0.id;
            found.outbox.extend(page.into_iter().filter_map(|(m, text, html)| {
                s.mentioned([
                    Some(m.recipient.as_str()),
                    Some(m.subject.as_str()),
                    m.last_error.as_deref(),
                    Some(text.as_str()),
                    Some(html.as_str()),
                ])
                .then_some(m)
            }));
        }
        if let Some(o) = s.organisation {
            found.link_tokens = dispatch!(conn, c => link_tokens::table
                .filter(link_tokens::organisation_id.eq(o))
                .select(LinkData::as_select())
                .order(link_tokens::id)
                .load(c))?;
        }
        let all: Vec<PartnerData> = dispatch!(conn, c => partner_clients::table
            .select(PartnerData::as_select())
            .order(partner_clients::id)
            .load(c))?;
        found.partner_clients = all.into_iter().filter(|p| s.mentioned([Some(p.name.as_str())])).collect();
        Ok(found)
    })
}
