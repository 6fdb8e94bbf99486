//! Following topics (issue 22): what a person follows is what their monthly
//! digest brings them. A preference of one account: nobody else sees it,
//! and erasure removes it.

use chrono::NaiveDateTime;

use super::context::Context;
use super::ServiceError;
use crate::db;
use crate::domain::account::User;
use crate::domain::digest::unsubscribe_link_works;
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

/// What an unsubscribe link is, as its page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsubscribeLink {
    /// Not used yet: the page offers the button.
    Open,
    /// Used (by this POST or an earlier one): nothing followed any more by
    /// it; the person may have followed topics again since.
    Used,
    /// Made up, mangled, or older than a year.
    Unknown,
}

/// A new one-click unsubscribe link for `user`'s digest, written in the
/// transaction that queues the digest. Only the token's hash is kept.
pub fn unsubscribe_link(
    conn: &mut db::DbConn,
    user: crate::domain::account::UserId,
    base_url: &str,
    now: NaiveDateTime,
) -> diesel::QueryResult<String> {
    let token = crate::auth::links::new_token();
    db::unsubscribe::insert(conn, &token.hash, user, now)?;
    Ok(format!(
        "{}/unsubscribe/{}",
        base_url.trim_end_matches('/'),
        token.plain
    ))
}

/// The link's state, read only: mail scanners fetch every link, and a GET
/// must not unsubscribe anyone.
pub async fn unsubscribe_state(
    ctx: &Context,
    plain: &str,
) -> Result<UnsubscribeLink, ServiceError> {
    let Some(hash) = crate::auth::links::hash(plain) else {
        return Ok(UnsubscribeLink::Unknown);
    };
    let now = ctx.now();
    ctx.pool
        .run(move |conn| {
            Ok(match db::unsubscribe::find(conn, &hash)? {
                Some(t) if !unsubscribe_link_works(t.created_at, now) => UnsubscribeLink::Unknown,
                None => UnsubscribeLink::Unknown,
                Some(t) if t.used_at.is_some() => UnsubscribeLink::Used,
                Some(_) => UnsubscribeLink::Open,
            })
        })
        .await
}

/// The one click (RFC 8058's POST, or the page's button): the person
/// follows no topic any more, so no digest comes. Once per link; a second
/// POST changes nothing (not even topics followed again since).
pub async fn unsubscribe(ctx: &Context, plain: &str) -> Result<UnsubscribeLink, ServiceError> {
    let Some(hash) = crate::auth::links::hash(plain) else {
        return Ok(UnsubscribeLink::Unknown);
    };
    let now = ctx.now();
    ctx.pool
        .run(move |conn| {
            conn.write_outside_accounts(|conn| {
                let Some(token) = db::unsubscribe::find(conn, &hash)?
                    .filter(|t| unsubscribe_link_works(t.created_at, now))
                else {
                    return Ok(UnsubscribeLink::Unknown);
                };
                if db::unsubscribe::use_once(conn, token.id, now)? {
                    let ended = db::follows::forget(conn, token.user)?;
                    tracing::info!(user = %token.user.0, topics = ended, "unsubscribed from the digest");
                }
                Ok(UnsubscribeLink::Used)
            })
        })
        .await
}
