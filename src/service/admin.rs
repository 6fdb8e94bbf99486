//! What only admins may do: read the audit log, add and deactivate
//! organisations, keep the topic catalogue. Accounts and partner clients
//! live in `accounts` and `partners`; all of them start with [`require_admin`].

use crate::service::context::Context;
use std::net::IpAddr;

use serde_json::json;
use tracing::instrument;

use super::directory::{self, OrganisationQuery, Page};
use super::{audit, user_ref, ServiceError};
use crate::db::topics::NewTopic;
use crate::db::{self};
use crate::domain::account::User;
use crate::domain::audit::AuditEntry;
use crate::domain::import::Stored;
use crate::domain::organisation::{Organisation, OrganisationCode, OrganisationId};
use crate::domain::refusal::DirectoryRefusal;
pub use crate::domain::topic::TopicChanges;
use crate::domain::topic::{Topic, TopicSlug};

pub(crate) use super::require_admin;

/// A page of the audit log, newest first. Returns the entries and, when more
/// follow, the cursor (`before`) for the next page.
pub async fn audit_log(
    ctx: &Context,
    user: User,
    before: Option<i64>,
    limit: i64,
) -> Result<(Vec<AuditEntry>, Option<i64>), ServiceError> {
    require_admin(&user)?;
    ctx.pool
        .run(move |conn| {
            let mut entries = db::audit::page(conn, before, limit + 1)?;
            let next = if entries.len() as i64 > limit {
                entries.truncate(limit as usize);
                entries.last().map(|e| e.id)
            } else {
                None
            };
            Ok((entries, next))
        })
        .await
}

/// The directory as admins see it: with contact addresses, and deactivated
/// organisations too unless the query filters on `active`.
pub async fn list_organisations(
    ctx: &Context,
    user: User,
    query: OrganisationQuery,
) -> Result<Page<Organisation>, ServiceError> {
    let _pool = &ctx.pool;
    require_admin(&user)?;
    directory::list_organisations(ctx, query).await
}

/// A new organisation, as an admin enters it.
#[derive(Debug, Clone)]
pub struct NewOrganisation {
    pub code: OrganisationCode,
    pub fields: Stored,
    pub monthly_capacity: i32,
}

#[instrument(skip_all, fields(user = %user.id))]
pub async fn create_organisation(
    ctx: &Context,
    user: User,
    address: IpAddr,
    new: NewOrganisation,
) -> Result<Organisation, ServiceError> {
    require_admin(&user)?;
    ctx.pool.run(move |conn| {
        conn.write(|conn| {
            let id = db::organisations::insert_one(
                conn,
                new.code.as_str(),
                &new.fields,
                new.monthly_capacity,
            )?
            .ok_or_else(|| {
                ServiceError::from(DirectoryRefusal::OrganisationCodeInUse {
                    code: new.code.as_str().to_string(),
                })
            })?;
            audit(
                conn,
                user_ref(user.id),
                "organisation.created",
                Some(address),
                Some(format!("organisation:{id}")),
                json!({"code": new.code.as_str(), "kind": new.fields.kind.as_str(), "name": new.fields.name}),
            )?;
            db::organisations::find(conn, id)?
                .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("organisation {id} vanished")))
        })
    })
    .await
}

/// Deactivates or reactivates an organisation. A deactivated one leaves the
/// directory and matching, and its coordinators' tokens stop working.
#[instrument(skip(ctx, user), fields(user = %user.id))]
pub async fn set_organisation_active(
    ctx: &Context,
    user: User,
    address: IpAddr,
    id: OrganisationId,
    active: bool,
) -> Result<Organisation, ServiceError> {
    require_admin(&user)?;
    let missing = move || ServiceError::from(DirectoryRefusal::UnknownOrganisation { id: id.0 });
    let (fanout, now) = (ctx.plain_fanout(), ctx.now());
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                if !db::organisations::set_active(conn, id, active)? {
                    return Err(missing());
                }
                audit(
                    conn,
                    user_ref(user.id),
                    if active {
                        "organisation.activated"
                    } else {
                        "organisation.deactivated"
                    },
                    Some(address),
                    Some(format!("organisation:{id}")),
                    json!({}),
                )?;
                super::profile::publish_update(conn, &fanout, now, id, vec!["active".into()])?;
                db::organisations::find(conn, id)?.ok_or_else(missing)
            })
        })
        .await
}

/// An organisation whose stored contact address mail cannot be delivered
/// to (it was accepted before addresses were checked with the mail
/// library's parser): invitations to it would die.
#[derive(Debug, Clone)]
pub struct Undeliverable {
    pub id: OrganisationId,
    pub name: String,
    pub contact_email: String,
}

/// The active organisations with an undeliverable contact address, for
/// admins to fix.
pub async fn undeliverable_contacts(
    ctx: &Context,
    user: User,
) -> Result<Vec<Undeliverable>, ServiceError> {
    require_admin(&user)?;
    ctx.pool
        .run(|conn| {
            Ok(db::organisations::contacts(conn)?
                .into_iter()
                .filter(|c| crate::domain::organisation::ContactEmail::parse(&c.email).is_err())
                .map(|c| Undeliverable {
                    id: c.id,
                    name: c.name,
                    contact_email: c.email,
                })
                .collect())
        })
        .await
}

/// Every topic, retired ones included.
pub async fn list_topics(ctx: &Context, user: User) -> Result<Vec<Topic>, ServiceError> {
    require_admin(&user)?;
    ctx.pool.run(|conn| Ok(db::topics::all(conn, true)?)).await
}

#[instrument(skip_all, fields(user = %user.id))]
pub async fn create_topic(
    ctx: &Context,
    user: User,
    address: IpAddr,
    slug: TopicSlug,
    names: TopicChanges,
) -> Result<Topic, ServiceError> {
    require_admin(&user)?;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let new = NewTopic::new(
        slug.as_str(),
        &text(&names.name_nl),
        &text(&names.name_en),
        &text(&names.description_nl),
        &text(&names.description_en),
    );
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                let topic = db::topics::insert_one(conn, &new)?.ok_or_else(|| {
                    ServiceError::from(DirectoryRefusal::TopicInUse {
                        slug: slug.as_str().to_string(),
                    })
                })?;
                audit(
                    conn,
                    user_ref(user.id),
                    "topic.created",
                    Some(address),
                    Some(format!("topic:{}", slug.as_str())),
                    json!({"nameNl": topic.name_nl, "nameEn": topic.name_en}),
                )?;
                Ok(topic)
            })
        })
        .await
}

/// Renames, redescribes, retires or restores a topic.
#[instrument(skip_all, fields(user = %user.id))]
pub async fn update_topic(
    ctx: &Context,
    user: User,
    address: IpAddr,
    slug: TopicSlug,
    changes: TopicChanges,
) -> Result<Topic, ServiceError> {
    require_admin(&user)?;
    ctx.pool.run(move |conn| {
        conn.write(|conn| {
            let topic = db::topics::update(conn, slug.as_str(), &changes)?.ok_or_else(|| {
                ServiceError::from(DirectoryRefusal::UnknownTopic {
                    slug: slug.as_str().to_string(),
                })
            })?;
            audit(
                conn,
                user_ref(user.id),
                "topic.updated",
                Some(address),
                Some(format!("topic:{}", slug.as_str())),
                json!({
                    "nameNl": changes.name_nl,
                    "nameEn": changes.name_en,
                    "descriptionChanged": changes.description_nl.is_some() || changes.description_en.is_some(),
                    "active": changes.active,
                }),
            )?;
            Ok(topic)
        })
    })
    .await
}
