//! Reading the organisation directory.

use crate::service::context::Context;
use tracing::instrument;

use super::ServiceError;
use crate::db::{self};
use crate::domain::organisation::{Organisation, OrganisationId, OrganisationKind};
use crate::domain::pagination::Cursor;
use crate::domain::refusal::DirectoryRefusal;
use crate::domain::search;
use crate::domain::topic::{Expertise, Topic, TopicSlug};

/// Parsed filters of `GET /api/v1/organisations` (and the admin listing).
#[derive(Debug, Default)]
pub struct OrganisationQuery {
    pub kind: Option<OrganisationKind>,
    pub province: Option<&'static str>,
    pub topic: Option<TopicSlug>,
    pub q: Option<String>,
    pub cursor: Option<Cursor>,
    pub limit: i64,
    /// `Some(true)` for the public; admins may ask for either or both.
    pub active: Option<bool>,
}

#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[instrument(skip_all)]
pub async fn list_organisations(
    ctx: &Context,
    query: OrganisationQuery,
) -> Result<Page<Organisation>, ServiceError> {
    // Punctuation and accents are ignored, so a query of only punctuation
    // matches every name, just as an absent one does.
    let name_contains = query
        .q
        .as_deref()
        .map(search::fold)
        .filter(|q| !q.is_empty());
    ctx.pool
        .run(move |conn| {
            let topic_id = match &query.topic {
                Some(slug) => Some(
                    db::topics::find_by_slug(conn, slug.as_str())?
                        .filter(|t| t.active)
                        .ok_or_else(|| {
                            ServiceError::from(DirectoryRefusal::UnknownTopic {
                                slug: slug.as_str().to_string(),
                            })
                        })?
                        .id
                        .0,
                ),
                None => None,
            };
            let filter = db::organisations::ListFilter {
                kind: query.kind,
                province: query.province,
                topic_id,
                name_contains,
                after: query.cursor,
                limit: query.limit,
                active: query.active,
            };
            let mut items = db::organisations::list(conn, &filter)?;
            let next_cursor = if items.len() as i64 > query.limit {
                items.truncate(query.limit as usize);
                items.last().map(|last| {
                    Cursor {
                        name_key: search::fold(&last.name),
                        id: last.id.0,
                    }
                    .encode()
                })
            } else {
                None
            };
            Ok(Page { items, next_cursor })
        })
        .await
}

fn not_found(id: OrganisationId) -> ServiceError {
    DirectoryRefusal::UnknownOrganisation { id: id.0 }.into()
}

#[instrument(skip(ctx))]
pub async fn get_organisation(
    ctx: &Context,
    id: OrganisationId,
) -> Result<Organisation, ServiceError> {
    ctx.pool
        .run(
            move |conn| match db::organisations::find(conn, id)?.filter(|o| o.active) {
                Some(found) => Ok(found),
                None => Err(match db::merge::merged_into(conn, id.0)? {
                    Some((into_id, into_name)) => DirectoryRefusal::Merged {
                        id: id.0,
                        into_id,
                        into_name,
                    }
                    .into(),
                    None => not_found(id),
                }),
            },
        )
        .await
}

#[instrument(skip(ctx))]
pub async fn organisation_expertise(
    ctx: &Context,
    id: OrganisationId,
) -> Result<Vec<Expertise>, ServiceError> {
    ctx.pool
        .run(move |conn| {
            if !db::organisations::is_active(conn, id)? {
                return Err(not_found(id));
            }
            Ok(db::expertise::for_organisation(conn, id)?)
        })
        .await
}

#[instrument(skip_all)]
pub async fn list_topics(ctx: &Context) -> Result<Vec<Topic>, ServiceError> {
    ctx.pool.run(|conn| Ok(db::topics::all(conn, false)?)).await
}

/// Readiness: can we reach the database right now?
pub async fn check_database(ctx: &Context) -> Result<(), ServiceError> {
    ctx.pool
        .run(|conn| conn.ping().map_err(ServiceError::Unavailable))
        .await
}

/// The id of the organisation with this code (`GM0193`), active or not:
/// admins name organisations by code on their pages.
pub async fn id_by_code(ctx: &Context, code: &str) -> Result<OrganisationId, ServiceError> {
    let code = code.trim().to_ascii_uppercase();
    ctx.pool
        .run(move |conn| {
            db::organisations::id_by_code(conn, &code)?.ok_or_else(|| {
                DirectoryRefusal::UnknownOrganisationCode { code: code.clone() }.into()
            })
        })
        .await
}
