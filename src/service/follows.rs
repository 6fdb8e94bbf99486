//! Following topics (issue 22): what a person follows is what their monthly
//! digest brings them. A preference of one account: nobody else sees it,
//! and erasure removes it.

use chrono::NaiveDateTime;

use super::context::Context;
use super::ServiceError;
use crate::db;
use crate::domain::account::User;
use crate::domain::refusal::DirectoryRefusal;
use crate::domain::topic::{Topic, TopicSlug};

/// A topic someone follows, and since when.
#[derive(Debug, Clone)]
pub struct Followed {
    pub topic: Topic,
    pub since: NaiveDateTime,
}

/// The topics `user` follows, by slug.
pub async fn followed(ctx: &Context, user: &User) -> Result<Vec<Followed>, ServiceError> {
    let id = user.id;
    ctx.pool.run(move |conn| Ok(list(conn, id)?)).await
}

/// Every active topic, and whether `user` follows it (the account page).
pub async fn choices(ctx: &Context, user: &User) -> Result<Vec<(Topic, bool)>, ServiceError> {
    let id = user.id;
    ctx.pool
        .run(move |conn| {
            let followed: Vec<_> = db::follows::of_user(conn, id)?
                .into_iter()
                .map(|(t, _)| t.id)
                .collect();
            Ok(db::topics::all(conn, false)?
                .into_iter()
                .map(|t| {
                    let on = followed.contains(&t.id);
                    (t, on)
                })
                .collect())
        })
        .await
}

/// `user` follows `slug` from now on; `false` when they did already. An
/// unknown or retired topic is refused.
pub async fn follow(ctx: &Context, user: &User, slug: TopicSlug) -> Result<bool, ServiceError> {
    let (id, now) = (user.id, ctx.now());
    ctx.pool
        .run(move |conn| {
            // Not an account, session or organisation: cached sessions stay good.
            conn.write_outside_accounts(|conn| {
                let topic = active_topic(conn, &slug)?;
                Ok(db::follows::follow(conn, id, topic.id, now)?)
            })
        })
        .await
}

/// `user` no longer follows `slug`; `false` when they did not.
pub async fn unfollow(ctx: &Context, user: &User, slug: TopicSlug) -> Result<bool, ServiceError> {
    let id = user.id;
    ctx.pool
        .run(move |conn| {
            conn.write_outside_accounts(|conn| {
                // A retired topic may still be followed: letting go of it is allowed.
                let topic = db::topics::find_by_slug(conn, slug.as_str())?
                    .ok_or_else(|| unknown_topic(&slug))?;
                Ok(db::follows::unfollow(conn, id, topic.id)?)
            })
        })
        .await
}

/// `user` follows exactly `slugs` (the account page's form), in one
/// transaction; what they follow afterwards.
pub async fn set_followed(
    ctx: &Context,
    user: &User,
    slugs: Vec<TopicSlug>,
) -> Result<Vec<Followed>, ServiceError> {
    let (id, now) = (user.id, ctx.now());
    ctx.pool
        .run(move |conn| {
            conn.write_outside_accounts(|conn| {
                let mut wanted = Vec::new();
                for slug in &slugs {
                    wanted.push(active_topic(conn, slug)?.id);
                }
                for (topic, _) in db::follows::of_user(conn, id)? {
                    if !wanted.contains(&topic.id) {
                        db::follows::unfollow(conn, id, topic.id)?;
                    }
                }
                for topic in wanted {
                    db::follows::follow(conn, id, topic, now)?;
                }
                Ok(list(conn, id)?)
            })
        })
        .await
}

fn list(
    conn: &mut db::DbConn,
    user: crate::domain::account::UserId,
) -> diesel::QueryResult<Vec<Followed>> {
    Ok(db::follows::of_user(conn, user)?
        .into_iter()
        .map(|(topic, since)| Followed { topic, since })
        .collect())
}

fn active_topic(conn: &mut db::DbConn, slug: &TopicSlug) -> Result<Topic, ServiceError> {
    db::topics::find_by_slug(conn, slug.as_str())?
        .filter(|t| t.active)
        .ok_or_else(|| unknown_topic(slug))
}

fn unknown_topic(slug: &TopicSlug) -> ServiceError {
    DirectoryRefusal::UnknownTopic {
        slug: slug.as_str().to_string(),
    }
    .into()
}
