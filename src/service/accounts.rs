//! Accounts: creating users, logging in and out, knowing who is calling.

use std::net::IpAddr;
use std::sync::Arc;

use tracing::instrument;

use serde_json::json;

use super::{audit, user_ref, ServiceError};
use crate::auth::jwt::{IssuedToken, JwtKeys, LoginClaims};
use crate::auth::limits::LoginLimiter;
use crate::auth::password;
use crate::db::users::NewUser;
use crate::db::{self, DbConn, DbPool};
use crate::domain::account::{check_membership, LoginEmail, Password, Role, User, UserId};
use crate::domain::organisation::{parse_name, Organisation};
use crate::domain::Invalid;

/// What `meeloop user create` (and the demo set) asks for.
#[derive(Debug)]
pub struct NewAccount {
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The organisation's code; required for coordinators.
    pub organisation: Option<String>,
    pub password: Password,
}

/// Creates a user. Hashes the password in the calling thread: call it from
/// blocking code (the CLI, start-up), never from an async worker.
#[instrument(skip_all, fields(role = ?new.role))]
pub fn create_user(conn: &mut DbConn, new: &NewAccount) -> Result<User, ServiceError> {
    let email = LoginEmail::parse(&new.email)?;
    let name = parse_name(&new.name)?;
    let hash =
        password::hash(&new.password).map_err(|e| ServiceError::Internal(anyhow::anyhow!(e)))?;
    conn.write(|conn| {
        let organisation = match &new.organisation {
            Some(code) => Some(
                db::organisations::id_by_code(conn, &code.trim().to_ascii_uppercase())?
                    .ok_or_else(|| Invalid::new(format!("no organisation has code '{code}'")))?,
            ),
            None => None,
        };
        check_membership(new.role, organisation)?;
        let now = db::now();
        let id = db::users::insert(
            conn,
            &NewUser {
                email: email.as_str(),
                name: &name,
                role: new.role.as_str(),
                organisation_id: organisation.map(|o| o.0),
                password_hash: &hash,
                active: true,
                token_version: 0,
                created_at: now,
                updated_at: now,
            },
        )?
        .ok_or_else(|| {
            ServiceError::Conflict(format!(
                "a user with email {} already exists",
                email.as_str()
            ))
        })?;
        audit(
            conn,
            "cli".into(),
            "user.created",
            None,
            Some(user_ref(id)),
            json!({"email": email.as_str(), "role": new.role.as_str(), "organisation": new.organisation}),
        )?;
        db::users::find(conn, id)?
            .ok_or_else(|| ServiceError::NotFound(format!("user {id} vanished")))
    })
}

/// One answer for an unknown address, a wrong password and a deactivated
/// account, so the API never tells which addresses have an account.
const BAD_CREDENTIALS: &str = "the email address or password is wrong";

/// Checks the credentials and issues a login token.
#[instrument(skip_all)]
pub async fn login(
    pool: &DbPool,
    keys: Arc<JwtKeys>,
    limiter: &LoginLimiter,
    address: IpAddr,
    email: String,
    password: String,
) -> Result<(User, IssuedToken), ServiceError> {
    // Counted before any work, so a flood costs us nothing but this check.
    limiter.check(address, &email).map_err(|secs| {
        tracing::warn!(%address, "login rate limit reached");
        ServiceError::RateLimited(secs)
    })?;
    let found = match LoginEmail::parse(&email) {
        Ok(email) => {
            pool.run(move |conn| {
                Ok::<_, ServiceError>(db::users::find_for_login(conn, email.as_str())?)
            })
            .await?
        }
        Err(_) => None,
    };
    // Hash checks are slow by design: run them on the blocking pool, with no
    // database connection held, and equally long whether or not the user exists.
    let user = tokio::task::spawn_blocking(move || match found {
        Some((user, hash)) if password::verify(&password, &hash) && user.active => Some(user),
        Some(_) => None,
        None => {
            password::verify_nothing(&password);
            None
        }
    })
    .await
    .map_err(|e| ServiceError::Internal(e.into()))?;
    let Some(user) = user else {
        tracing::info!("login failed");
        let attempted: String = email.trim().to_lowercase().chars().take(254).collect();
        pool.run(move |conn| {
            conn.write(|conn| {
                audit(
                    conn,
                    "anonymous".into(),
                    "login.failed",
                    Some(address),
                    None,
                    json!({"email": attempted}),
                )
            })
        })
        .await?;
        return Err(ServiceError::Unauthorized(BAD_CREDENTIALS.into()));
    };
    let token = keys
        .issue_login(&user)
        .map_err(|e| ServiceError::Internal(anyhow::anyhow!(e)))?;
    let id = user.id;
    pool.run(move |conn| {
        conn.write(|conn| {
            audit(
                conn,
                user_ref(id),
                "login.succeeded",
                Some(address),
                Some(user_ref(id)),
                json!({}),
            )
        })
    })
    .await?;
    tracing::info!(user = %user.id, "login succeeded");
    Ok((user, token))
}

/// The user behind verified token claims, if the token is still good: the
/// account exists, is active, and has not logged out since.
pub async fn authenticate(pool: &DbPool, claims: LoginClaims) -> Result<User, ServiceError> {
    let revoked =
        || ServiceError::Unauthorized("the access token is no longer valid; log in again".into());
    let id = UserId(claims.sub.parse().map_err(|_| revoked())?);
    let user = pool
        .run(move |conn| Ok::<_, ServiceError>(db::users::find(conn, id)?))
        .await?;
    match user {
        Some(user) if user.active && user.token_version == claims.ver => Ok(user),
        _ => Err(revoked()),
    }
}

/// Revokes every token of this user.
#[instrument(skip(pool))]
pub async fn logout(pool: &DbPool, user: UserId) -> Result<(), ServiceError> {
    pool.run(move |conn| {
        conn.write(|conn| {
            db::users::bump_token_version(conn, user)?;
            audit(
                conn,
                user_ref(user),
                "logout",
                None,
                Some(user_ref(user)),
                json!({}),
            )
        })
    })
    .await
}

/// The caller and their organisation.
pub async fn me(pool: &DbPool, user: User) -> Result<(User, Option<Organisation>), ServiceError> {
    pool.run(move |conn| {
        let organisation = match user.organisation_id {
            Some(id) => db::organisations::find(conn, id)?,
            None => None,
        };
        Ok((user, organisation))
    })
    .await
}
