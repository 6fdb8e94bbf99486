//! Access and portability (AVG art. 15 and 20; docs/privacy.md): everything
//! Meeloop holds about a person or an organisation, as JSON (the tables as
//! they are, without secrets or email bodies) and as readable text. For an
//! admin, an operator (CLI), and for everyone their own.

use std::net::IpAddr;

use chrono::NaiveDateTime;
use serde::Serialize;
use serde_json::json;

use crate::auth::limits::ApiLimiter;
use crate::db::subject::{self, Found, Subject};
use crate::domain::account::{User, UserId};
use crate::domain::organisation::{Language, OrganisationId};
use crate::domain::privacy::Retention;
use crate::domain::refusal::{AccountRefusal, DirectoryRefusal};
use crate::service::admin::require_admin;
use crate::service::context::Context;
use crate::service::{audit, user_ref, ServiceError};

/// Whom an export is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whose {
    User(UserId),
    Organisation(OrganisationId),
}

impl Whose {
    /// As the audit log names it.
    pub fn reference(self) -> String {
        match self {
            Whose::User(id) => user_ref(id),
            Whose::Organisation(id) => format!("organisation:{}", id.0),
        }
    }

    /// For file names: `user-12`, `organisation-7`.
    pub fn slug(self) -> String {
        match self {
            Whose::User(id) => format!("user-{}", id.0),
            Whose::Organisation(id) => format!("organisation-{}", id.0),
        }
    }
}

/// The archive.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Export {
    /// `user:<id>` or `organisation:<id>`.
    pub subject: String,
    pub generated_at: NaiveDateTime,
    /// How long each kind of data is kept here (days).
    pub retention: Retention,
    /// The rows about the subject, per database table.
    pub tables: Found,
}

/// Exports are heavy: a few at once per caller, then one a minute.
pub fn limiter() -> ApiLimiter {
    ApiLimiter::new(5, std::time::Duration::from_secs(60))
}

/// An admin exports anyone's data. Audited; rate-limited per admin.
pub async fn export_for_admin(
    ctx: &Context,
    admin: User,
    address: IpAddr,
    whose: Whose,
    limiter: &ApiLimiter,
) -> Result<Export, ServiceError> {
    require_admin(&admin)?;
    limit(limiter, &admin)?;
    export(ctx, user_ref(admin.id), Some(address), whose).await
}

/// Everyone downloads their own data. Audited; rate-limited.
pub async fn export_own(
    ctx: &Context,
    user: User,
    address: IpAddr,
    limiter: &ApiLimiter,
) -> Result<Export, ServiceError> {
    limit(limiter, &user)?;
    export(ctx, user_ref(user.id), Some(address), Whose::User(user.id)).await
}

/// The operator, on the server (`meeloop privacy export`). Audited.
pub async fn export_by_operator(ctx: &Context, whose: Whose) -> Result<Export, ServiceError> {
    export(ctx, "cli".into(), None, whose).await
}

fn limit(limiter: &ApiLimiter, user: &User) -> Result<(), ServiceError> {
    limiter
        .check(&format!("export:{}", user.id.0))
        .map_err(ServiceError::RateLimited)
}

async fn export(
    ctx: &Context,
    actor: String,
    address: Option<IpAddr>,
    whose: Whose,
) -> Result<Export, ServiceError> {
    let _turn = super::whole_tables().await?;
    let generated_at = ctx.now();
    let retention = ctx.retention;
    ctx.pool
        .run(move |conn| {
            let subject = subject_of(conn, whose)?;
            let (tables, _) = conn.read_consistent(|conn| subject::about(conn, &subject))?;
            conn.write(|conn| {
                audit(
                    conn,
                    actor,
                    "privacy.exported",
                    address,
                    Some(whose.reference()),
                    json!({}),
                )
            })?;
            Ok(Export {
                subject: whose.reference(),
                generated_at,
                retention,
                tables,
            })
        })
        .await
}

/// For an admin's confirmation page: who `whose` is ("Femke de Wit
/// <femke@…>", "Zwolle (GM0193)").
pub async fn describe(ctx: &Context, admin: User, whose: Whose) -> Result<String, ServiceError> {
    require_admin(&admin)?;
    ctx.pool
        .run(move |conn| match whose {
            Whose::User(id) => crate::db::users::find(conn, id)?
                .map(|u| format!("{} <{}>", u.name, u.email))
                .ok_or_else(|| AccountRefusal::UnknownUser { id: id.0 }.into()),
            Whose::Organisation(id) => crate::db::organisations::find(conn, id)?
                .map(|o| format!("{} ({})", o.name, o.code))
                .ok_or_else(|| DirectoryRefusal::UnknownOrganisation { id: id.0 }.into()),
        })
        .await
}

/// The columns, names and texts that identify `whose`.
pub(super) fn subject_of(
    conn: &mut crate::db::DbConn,
    whose: Whose,
) -> Result<Subject, ServiceError> {
    use crate::domain::privacy::identifying;
    match whose {
        Whose::User(id) => {
            let user = crate::db::users::find(conn, id)?
                .ok_or(AccountRefusal::UnknownUser { id: id.0 })?;
            Ok(Subject {
                refs: [
                    "users.id",
                    "requested_by",
                    "author_id",
                    "topic_follows.user_id",
                    "unsubscribe_tokens.user_id",
                    "digests.user_id",
                ]
                .map(|c| (c.to_string(), id.0))
                .to_vec(),
                names: vec![whose.reference()],
                needles: identifying([user.email.as_str(), user.name.as_str()]),
            })
        }
        Whose::Organisation(id) => {
            let organisation = crate::db::organisations::find(conn, id)?
                .ok_or(DirectoryRefusal::UnknownOrganisation { id: id.0 })?;
            let members = crate::db::users::of_organisation(conn, id)?;
            Ok(Subject {
                refs: [
                    "organisations.id",
                    "organisation_id",
                    "requester_id",
                    "host_id",
                ]
                .map(|c| (c.to_string(), id.0))
                .into_iter()
                .chain(members.iter().flat_map(|u| {
                    [
                        "requested_by",
                        "author_id",
                        "topic_follows.user_id",
                        "unsubscribe_tokens.user_id",
                        "digests.user_id",
                    ]
                    .map(|c| (c.to_string(), u.id.0))
                }))
                .collect(),
                names: std::iter::once(whose.reference())
                    .chain(members.iter().map(|u| user_ref(u.id)))
                    .collect(),
                needles: identifying(
                    (organisation.contact_email.iter().map(String::as_str)).chain(
                        members
                            .iter()
                            .flat_map(|u| [u.email.as_str(), u.name.as_str()]),
                    ),
                ),
            })
        }
    }
}

impl Export {
    /// The same, for people: a heading per table, a block per row.
    pub fn readable(&self, language: Language) -> String {
        let nl = language == Language::Nl;
        let mut out = if nl {
            format!(
                "Meeloop: alle gegevens over {}\nGemaakt op {} (UTC)\n\nBewaartermijnen (dagen): beveiligingslog {}, verstuurde e-mails {}, niet-bezorgde e-mails {}, links {}, e-mailbestanden {}, vrije tekst {}.\n",
                self.subject, self.generated_at.format("%Y-%m-%d %H:%M"),
                self.retention.audit_log_days, self.retention.sent_mail_days, self.retention.dead_mail_days,
                self.retention.link_tokens_days, self.retention.mail_files_days, self.retention.free_text_days,
            )
        } else {
            format!(
                "Meeloop: all data about {}\nMade on {} (UTC)\n\nRetention (days): security log {}, sent emails {}, undelivered emails {}, links {}, mail files {}, free text {}.\n",
                self.subject, self.generated_at.format("%Y-%m-%d %H:%M"),
                self.retention.audit_log_days, self.retention.sent_mail_days, self.retention.dead_mail_days,
                self.retention.link_tokens_days, self.retention.mail_files_days, self.retention.free_text_days,
            )
        };
        let known = TITLES.iter().map(|(t, _)| *t);
        let others = (self.tables.keys().map(String::as_str))
            .filter(|t| !TITLES.iter().any(|(k, _)| k == t));
        for table in known.chain(others) {
            let rows = self.tables.get(table).cloned().unwrap_or_default();
            let title =
                (TITLES.iter().find(|(t, _)| *t == table))
                    .map_or(table, |(_, (n, e))| if nl { n } else { e });
            out.push_str(&format!("\n== {title} ({}) ==\n", rows.len()));
            for fields in rows {
                let mut first = true;
                for (name, value) in fields {
                    let value = match value {
                        serde_json::Value::Null => "-".to_string(),
                        serde_json::Value::String(s) => s.replace('\n', "\n    "),
                        other => other.to_string(),
                    };
                    out.push_str(if first { "- " } else { "  " });
                    out.push_str(&format!("{name}: {value}\n"));
                    first = false;
                }
            }
        }
        out
    }
}

/// The tables in the order a person reads them, with their titles.
const TITLES: [(&str, (&str, &str)); 10] = [
    ("users", ("Accounts", "Accounts")),
    ("organisations", ("Organisaties", "Organisations")),
    ("expertise", ("Expertise", "Expertise")),
    ("visits", ("Meeloopdagen", "Shadow visits")),
    ("lessons", ("Lessen", "Lessons")),
    ("followups", ("Terugblikken", "Follow-ups")),
    ("audit_log", ("Beveiligingslog", "Security log")),
    (
        "outbox",
        ("E-mails (zonder inhoud)", "Emails (without content)"),
    ),
    ("link_tokens", ("Links in e-mails", "Links in emails")),
    (
        "partner_clients",
        ("Partnerprogramma's", "Partner programs"),
    ),
];
