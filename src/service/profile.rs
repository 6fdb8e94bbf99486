//! Coordinators keep their own organisation's profile and expertise up to
//! date; admins may edit any organisation.

use crate::service::context::Context;
use tracing::instrument;

use std::net::IpAddr;

use serde_json::json;

use super::{audit, user_ref, ServiceError};
use crate::db::{self};
use crate::domain::account::{may_edit_organisation, User};
use crate::domain::organisation::{Coordinates, Language, Organisation, OrganisationId};
use crate::domain::refusal::DirectoryRefusal;
use crate::domain::topic::{Expertise, MaturityLevel, TopicSlug};
use crate::domain::Invalid;

pub use crate::domain::organisation::ProfileChanges;

/// Someone else's organisation looks exactly like one that does not exist.
fn not_found(id: OrganisationId) -> ServiceError {
    DirectoryRefusal::UnknownOrganisation { id: id.0 }.into()
}

/// Who may change an organisation's profile and expertise: its own
/// coordinators and admins. Anyone else gets the 404 of an organisation
/// that does not exist, before anything they sent is looked at.
pub fn may_edit(user: &User, id: OrganisationId) -> Result<(), ServiceError> {
    if may_edit_organisation(user, id) {
        Ok(())
    } else {
        Err(not_found(id))
    }
}

/// Applies the given changes. Latitude and longitude may come alone: the
/// other half is the stored one.
#[instrument(skip(ctx, user, changes), fields(user = %user.id))]
pub async fn update_organisation(
    ctx: &Context,
    user: User,
    address: IpAddr,
    id: OrganisationId,
    mut changes: ProfileChanges,
) -> Result<Organisation, ServiceError> {
    if !may_edit_organisation(&user, id) {
        return Err(not_found(id));
    }
    let (fanout, now) = (ctx.plain_fanout(), ctx.now());
    ctx.pool
        .run(move |conn| {
            // Profile fields only (never `active`): cached sessions stay good.
            conn.write_outside_accounts(|conn| {
                // Latitude and longitude are read, combined and written back:
                // lock the row so a concurrent change of the other half lands.
                db::organisations::lock(conn, id)?;
                let current = db::organisations::find(conn, id)?.ok_or_else(|| not_found(id))?;
                if changes.latitude.is_some() || changes.longitude.is_some() {
                    let position = Coordinates::new(
                        changes.latitude.unwrap_or(current.latitude),
                        changes.longitude.unwrap_or(current.longitude),
                    )?;
                    changes.latitude = Some(position.latitude);
                    changes.longitude = Some(position.longitude);
                }
                db::organisations::update_profile(conn, id, &changes)?;
                audit(
                    conn,
                    user_ref(user.id),
                    "organisation.updated",
                    Some(address),
                    Some(format!("organisation:{id}")),
                    describe(&changes),
                )?;
                publish_update(conn, &fanout, now, id, public_changes(&changes))?;
                db::organisations::find(conn, id)?.ok_or_else(|| not_found(id))
            })
        })
        .await
}

/// What a coordinator says about their organisation and one topic.
#[derive(Debug, Clone)]
pub struct ExpertiseInput {
    pub level: MaturityLevel,
    pub summary: String,
    pub since_year: Option<i32>,
    pub willing_to_host: bool,
}

pub const MAX_SUMMARY_CHARS: usize = 2000;

impl ExpertiseInput {
    /// The expertise as typed, or what is wrong with it in `language`.
    pub fn new(
        level: i64,
        summary: &str,
        since_year: Option<i64>,
        willing_to_host: bool,
        language: Language,
    ) -> Result<Self, Invalid> {
        let nl = language == Language::Nl;
        let (min, max) = (MaturityLevel::MIN, MaturityLevel::MAX);
        let wrong = |field, nl_text: String, en_text: String| {
            Invalid::of(field, Invalid::new(if nl { nl_text } else { en_text }))
        };
        let level = MaturityLevel::new(level).map_err(|_| {
            wrong(
                "level",
                format!("Kies een niveau van {min} tot {max}."),
                format!("must be a level from {min} to {max}, not {level}"),
            )
        })?;
        if summary.chars().count() > MAX_SUMMARY_CHARS {
            return Err(wrong(
                "summary",
                format!("De toelichting mag hoogstens {MAX_SUMMARY_CHARS} tekens lang zijn."),
                format!("must be at most {MAX_SUMMARY_CHARS} characters"),
            ));
        }
        let since_year = match since_year {
            None => None,
            Some(y @ 1900..=2200) => Some(y as i32),
            Some(y) => {
                return Err(wrong(
                    "sinceYear",
                    format!("{y} ligt niet tussen 1900 en 2200."),
                    format!("must be a year from 1900 to 2200, not {y}"),
                ))
            }
        };
        Ok(ExpertiseInput {
            level,
            summary: summary.trim().to_string(),
            since_year,
            willing_to_host,
        })
    }
}

fn unknown_topic(slug: &TopicSlug) -> ServiceError {
    DirectoryRefusal::UnknownTopic {
        slug: slug.as_str().to_string(),
    }
    .into()
}

/// Creates or replaces the organisation's expertise on a topic.
#[instrument(skip(ctx, user, input), fields(user = %user.id))]
pub async fn put_expertise(
    ctx: &Context,
    user: User,
    address: IpAddr,
    id: OrganisationId,
    slug: TopicSlug,
    input: ExpertiseInput,
) -> Result<Expertise, ServiceError> {
    if !may_edit_organisation(&user, id) {
        return Err(not_found(id));
    }
    let (fanout, now) = (ctx.plain_fanout(), ctx.now());
    ctx.pool.run(move |conn| {
        // Expertise only: cached sessions stay good.
        conn.write_outside_accounts(|conn| {
            // Admins may prepare a deactivated organisation; its own
            // coordinators cannot log in to get here.
            if db::organisations::find(conn, id)?.is_none() {
                return Err(not_found(id));
            }
            let topic = db::topics::find_by_slug(conn, slug.as_str())?
                .filter(|t| t.active)
                .ok_or_else(|| unknown_topic(&slug))?;
            db::expertise::upsert(
                conn,
                &[db::expertise::NewExpertise::new(
                    id,
                    &topic,
                    input.level,
                    &input.summary,
                    input.since_year,
                    input.willing_to_host,
                )],
            )?;
            audit(
                conn,
                user_ref(user.id),
                "expertise.updated",
                Some(address),
                Some(format!("organisation:{id}")),
                json!({"topic": slug.as_str(), "level": input.level.get(), "willingToHost": input.willing_to_host}),
            )?;
            publish_update(conn, &fanout, now, id, vec![format!("expertise:{}", slug.as_str())])?;
            db::expertise::for_organisation(conn, id)?
                .into_iter()
                .find(|e| e.topic.id == topic.id)
                .ok_or_else(|| unknown_topic(&slug))
        })
    })
    .await
}

/// Removes the organisation's expertise on a topic.
#[instrument(skip(ctx, user), fields(user = %user.id))]
pub async fn delete_expertise(
    ctx: &Context,
    user: User,
    address: IpAddr,
    id: OrganisationId,
    slug: TopicSlug,
) -> Result<(), ServiceError> {
    if !may_edit_organisation(&user, id) {
        return Err(not_found(id));
    }
    let (fanout, now) = (ctx.plain_fanout(), ctx.now());
    ctx.pool
        .run(move |conn| {
            // Expertise only: cached sessions stay good.
            conn.write_outside_accounts(|conn| {
                let topic = db::topics::find_by_slug(conn, slug.as_str())?
                    .filter(|t| t.active)
                    .ok_or_else(|| unknown_topic(&slug))?;
                match db::expertise::delete(conn, id, topic.id)? {
                    0 => Err(DirectoryRefusal::NoExpertise {
                        organisation: id.0,
                        topic: slug.as_str().to_string(),
                    }
                    .into()),
                    _ => {
                        audit(
                            conn,
                            user_ref(user.id),
                            "expertise.deleted",
                            Some(address),
                            Some(format!("organisation:{id}")),
                            json!({"topic": slug.as_str()}),
                        )?;
                        let changed = vec![format!("expertise:{}", slug.as_str())];
                        publish_update(conn, &fanout, now, id, changed)
                    }
                }
            })
        })
        .await
}

/// The fields a profile change set, for the audit log.
/// Tells the event consumers (webhooks) that the public profile changed;
/// nothing when only private fields did.
pub(crate) fn publish_update(
    conn: &mut crate::db::DbConn,
    fanout: &crate::service::events::Fanout,
    now: chrono::NaiveDateTime,
    organisation: OrganisationId,
    changed: Vec<String>,
) -> Result<(), ServiceError> {
    if changed.is_empty() {
        return Ok(());
    }
    let event = crate::domain::event::Event::OrganisationUpdated {
        organisation,
        changed,
    };
    fanout.publish_alone(conn, now, event)
}

/// The public fields a change sets (the contact address is not one).
fn public_changes(changes: &ProfileChanges) -> Vec<String> {
    describe(changes)
        .as_object()
        .map(|o| o.keys().filter(|k| *k != "contactEmail").cloned().collect())
        .unwrap_or_default()
}

fn describe(changes: &ProfileChanges) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    let mut put = |key: &str, value: serde_json::Value| {
        out.insert(key.to_string(), value);
    };
    if let Some(v) = &changes.name {
        put("name", json!(v));
    }
    if let Some(v) = changes.province {
        put("province", json!(v));
    }
    if let Some(v) = changes.size {
        put("size", json!(v));
    }
    if let Some(v) = changes.latitude {
        put("latitude", json!(v));
    }
    if let Some(v) = changes.longitude {
        put("longitude", json!(v));
    }
    if let Some(v) = &changes.contact_email {
        put("contactEmail", json!(v.as_str()));
    }
    if let Some(v) = changes.language {
        put("language", json!(v.as_str()));
    }
    if let Some(v) = changes.monthly_capacity {
        put("monthlyHostingCapacity", json!(v));
    }
    serde_json::Value::Object(out)
}

/// A coordinator's own organisation as its page shows it: the profile
/// (with the contact address), its expertise, and the topics to add.
#[derive(Debug, Clone)]
pub struct OwnOrganisation {
    pub organisation: Organisation,
    pub expertise: Vec<Expertise>,
    pub topics: Vec<crate::domain::topic::Topic>,
}

pub async fn own_organisation(ctx: &Context, user: User) -> Result<OwnOrganisation, ServiceError> {
    let id = user
        .organisation_id
        .ok_or(DirectoryRefusal::NoOrganisation)?;
    if !may_edit_organisation(&user, id) {
        return Err(not_found(id));
    }
    ctx.pool
        .run(move |conn| {
            let organisation = db::organisations::find(conn, id)?.ok_or_else(|| not_found(id))?;
            let expertise = db::expertise::for_organisation(conn, id)?;
            let topics = db::topics::all(conn, false)?;
            Ok(OwnOrganisation {
                organisation,
                expertise,
                topics,
            })
        })
        .await
}
