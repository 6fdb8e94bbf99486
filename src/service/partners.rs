//! Partner clients: created and revoked by operators (command line or admin API),
//! exchanging their credentials for short-lived scoped tokens.

use crate::service::context::Context;
use chrono::NaiveDateTime;
use std::net::IpAddr;
use std::sync::Arc;

use serde_json::json;
use tracing::instrument;

use super::admin::require_admin;
use super::{audit, audit_alone, user_ref, ServiceError};
use crate::auth::jwt::{random_hex, IssuedToken, JwtKeys, PartnerClaims};
use crate::auth::limits::LoginLimiter;
use crate::auth::password;
use crate::db::partners::{NewPartner, PartnerChanges};
use crate::db::{self, DbConn};
use crate::domain::account::{Password, User};
use crate::domain::organisation::parse_name;
use crate::domain::partner::{Partner, Scopes};
use crate::domain::refusal::PartnerRefusal;

fn partner_ref(client_id: &str) -> String {
    format!("partner:{client_id}")
}

/// A new client id, its secret (shown once) and the secret's argon2id hash
/// (the only thing stored). Slow: call it off the async workers.
fn new_credentials() -> Result<(String, String, String), ServiceError> {
    let client_id = format!("mp_{}", random_hex(8));
    let secret = format!("mps_{}", random_hex(32));
    let hash = password::hash(&Password::parse(&secret)?)
        .map_err(|e| ServiceError::Internal(anyhow::anyhow!(e)))?;
    Ok((client_id, secret, hash))
}

fn insert_partner(
    conn: &mut DbConn,
    name: &str,
    scopes: &Scopes,
    contact: Option<&str>,
    (client_id, hash): (&str, &str),
    (actor, address): (String, Option<IpAddr>),
    now: NaiveDateTime,
) -> Result<Partner, ServiceError> {
    conn.write(|conn| {
        db::partners::insert(
            conn,
            &NewPartner {
                client_id,
                name,
                secret_hash: hash,
                scopes: scopes.to_string(),
                active: true,
                contact_email: contact,
                created_at: now,
                updated_at: now,
            },
        )?;
        audit(
            conn,
            actor,
            "partner.created",
            address,
            Some(partner_ref(client_id)),
            json!({"name": name, "scopes": scopes.to_string(), "contact": contact.is_some()}),
        )?;
        db::partners::find(conn, client_id)?
            .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("partner {client_id} vanished")))
    })
}

/// Creates a partner client and returns it with its secret, which is shown
/// this once: only an argon2id hash is stored. For blocking callers (the CLI).
#[instrument(skip_all)]
pub fn create_partner(
    conn: &mut DbConn,
    name: &str,
    scopes: Scopes,
    contact: Option<&str>,
) -> Result<(Partner, String), ServiceError> {
    let name = parse_name(name)?;
    let contact = contact
        .map(crate::domain::organisation::ContactEmail::parse)
        .transpose()?;
    let (client_id, secret, hash) = new_credentials()?;
    let partner = insert_partner(
        conn,
        &name,
        &scopes,
        contact.as_ref().map(|c| c.as_str()),
        (&client_id, &hash),
        ("cli".into(), None),
        // The command line has no context: its moment is the wall clock's.
        db::now(),
    )?;
    Ok((partner, secret))
}

/// An admin creates a partner client over the API; the secret is returned
/// this once.
#[instrument(skip_all, fields(user = %admin.id))]
pub async fn admin_create_partner(
    ctx: &Context,
    admin: User,
    address: IpAddr,
    name: String,
    scopes: Scopes,
    contact: Option<crate::domain::organisation::ContactEmail>,
) -> Result<(Partner, String), ServiceError> {
    require_admin(&admin)?;
    let (client_id, secret, hash) = tokio::task::spawn_blocking(new_credentials)
        .await
        .map_err(|e| ServiceError::Internal(e.into()))??;
    let now = ctx.now();
    let partner = ctx
        .pool
        .run(move |conn| {
            let by = (user_ref(admin.id), Some(address));
            let contact = contact.as_ref().map(|c| c.as_str());
            insert_partner(conn, &name, &scopes, contact, (&client_id, &hash), by, now)
        })
        .await?;
    Ok((partner, secret))
}

/// Every partner client, revoked ones included.
pub async fn list_partners(ctx: &Context, admin: User) -> Result<Vec<Partner>, ServiceError> {
    require_admin(&admin)?;
    ctx.pool.run(|conn| Ok(db::partners::all(conn)?)).await
}

/// What an admin changes of a partner client; `None` leaves it alone.
#[derive(Debug, Clone, Default)]
pub struct PartnerUpdate {
    pub name: Option<String>,
    pub scopes: Option<Scopes>,
    pub active: Option<bool>,
    /// `Some(None)` removes the contact address.
    pub contact_email: Option<Option<crate::domain::organisation::ContactEmail>>,
}

/// Renames a client, narrows or widens its scopes, revokes or restores it.
/// Tokens already issued lose any scope taken away (they are checked
/// against the client on every request).
#[instrument(skip_all, fields(user = %admin.id))]
pub async fn update_partner(
    ctx: &Context,
    admin: User,
    address: IpAddr,
    client_id: String,
    update: PartnerUpdate,
) -> Result<Partner, ServiceError> {
    require_admin(&admin)?;
    let missing = |id: &str| {
        ServiceError::from(PartnerRefusal::UnknownPartner {
            client_id: id.to_string(),
        })
    };
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
            let changes = PartnerChanges {
                name: update.name.clone(),
                scopes: update.scopes.as_ref().map(Scopes::to_string),
                active: update.active,
                contact_email: update
                    .contact_email
                    .as_ref()
                    .map(|c| c.as_ref().map(|c| c.as_str().to_string())),
            };
            if !db::partners::update(conn, &client_id, &changes)? {
                return Err(missing(&client_id));
            }
            audit(
                conn,
                user_ref(admin.id),
                match update.active {
                    Some(false) => "partner.revoked",
                    _ => "partner.updated",
                },
                Some(address),
                Some(partner_ref(&client_id)),
                json!({"name": changes.name, "scopes": changes.scopes, "active": changes.active, "contact": changes.contact_email.as_ref().map(Option::is_some)}),
            )?;
            db::partners::find(conn, &client_id)?.ok_or_else(|| missing(&client_id))
        })
        })
        .await
}

/// Revokes a partner from the command line: its tokens stop working at once.
#[instrument(skip(conn))]
pub fn revoke_partner(conn: &mut DbConn, client_id: &str) -> Result<(), ServiceError> {
    conn.write(|conn| {
        if !db::partners::revoke(conn, client_id)? {
            return Err(PartnerRefusal::UnknownPartner {
                client_id: client_id.to_string(),
            }
            .into());
        }
        audit(
            conn,
            "cli".into(),
            "partner.revoked",
            None,
            Some(partner_ref(client_id)),
            json!({}),
        )
    })
}

/// OAuth2 client credentials: checks the secret and issues a partner token
/// for the requested scopes (all of the client's when none are asked for).
#[instrument(skip_all)]
pub async fn issue_token(
    ctx: &Context,
    keys: Arc<JwtKeys>,
    limiter: &LoginLimiter,
    address: IpAddr,
    client_id: String,
    secret: String,
    requested: Option<Scopes>,
) -> Result<(IssuedToken, Scopes), ServiceError> {
    limiter
        .check(address, &client_id)
        .map_err(ServiceError::RateLimited)?;
    let lookup = client_id.clone();
    let found = ctx
        .pool
        .run(move |conn| Ok::<_, ServiceError>(db::partners::find_with_secret(conn, &lookup)?))
        .await?;
    let partner = tokio::task::spawn_blocking(move || match found {
        Some(c) if password::verify(&secret, &c.secret_hash) && c.partner.active => Some(c.partner),
        Some(_) => None,
        None => {
            password::verify_nothing(&secret);
            None
        }
    })
    .await
    .map_err(|e| ServiceError::Internal(e.into()))?;
    let Some(partner) = partner else {
        let attempted: String = client_id.chars().take(64).collect();
        audit_alone(
            &ctx.pool,
            "anonymous".into(),
            "token.failed",
            Some(address),
            None,
            json!({"clientId": attempted}),
        )
        .await?;
        return Err(PartnerRefusal::BadClient.into());
    };
    let scopes = match requested {
        Some(requested) if !partner.scopes.covers(&requested) => {
            return Err(PartnerRefusal::ScopeTooWide {
                requested: requested.to_string(),
                has: partner.scopes.to_string(),
            }
            .into())
        }
        Some(requested) => requested,
        None => partner.scopes.clone(),
    };
    let token = keys
        .issue_partner(&partner.client_id, &scopes.to_string())
        .map_err(|e| ServiceError::Internal(anyhow::anyhow!(e)))?;
    let (subject, granted) = (partner_ref(&partner.client_id), scopes.to_string());
    audit_alone(
        &ctx.pool,
        subject.clone(),
        "token.issued",
        Some(address),
        Some(subject),
        json!({"scope": granted}),
    )
    .await?;
    Ok((token, scopes))
}

/// The partner behind verified token claims, with the token's scopes, as
/// long as the client is still active and still holds them.
pub async fn authenticate(ctx: &Context, claims: PartnerClaims) -> Result<Partner, ServiceError> {
    let revoked = || ServiceError::from(PartnerRefusal::TokenEnded);
    let scopes = Scopes::parse(&claims.scope).map_err(|_| revoked())?;
    let client_id = claims.sub;
    let partner = ctx
        .pool
        .run(move |conn| Ok::<_, ServiceError>(db::partners::find(conn, &client_id)?))
        .await?;
    match partner {
        Some(mut partner) if partner.active && partner.scopes.covers(&scopes) => {
            partner.scopes = scopes;
            Ok(partner)
        }
        _ => Err(revoked()),
    }
}

pub use super::require_scope;
