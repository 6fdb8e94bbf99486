//! Two-step verification (docs/security.md, "Two-step verification"):
//! setting it up with an authenticator app, recovery codes, turning it
//! off, and the second step of a login.

use std::net::IpAddr;

use chrono::NaiveDateTime;
use serde_json::json;
use tracing::instrument;

use super::context::Context;
use super::{audit, audit_alone, user_ref, ServiceError};
use crate::auth::totp;
use crate::db;
use crate::domain::account::User;
use crate::domain::refusal::AccountRefusal;

/// Recovery codes handed out at once.
pub const RECOVERY_CODES: usize = 10;

/// What the app needs to be set up: the secret (to type in), its URI and
/// the QR code carrying it.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub secret: String,
    pub uri: String,
    /// An `<svg>` element to show inline.
    pub qr_svg: String,
}

/// Where an account stands.
#[derive(Debug, Clone)]
pub struct Status {
    pub enabled_at: Option<NaiveDateTime>,
    pub codes_left: i64,
    /// Being set up: the secret to scan.
    pub pending: Option<Enrolment>,
    /// Whether this account must keep it on (admins, when required).
    pub required: bool,
}

fn enrolment(secret: String, account: &str) -> Result<Enrolment, ServiceError> {
    let failed = || ServiceError::Internal(anyhow::anyhow!("cannot encode a TOTP secret"));
    let uri = totp::uri(&secret, account).ok_or_else(failed)?;
    let qr_svg = totp::qr_svg(&uri).ok_or_else(failed)?;
    Ok(Enrolment {
        secret,
        uri,
        qr_svg,
    })
}

pub async fn status(ctx: &Context, user: &User) -> Result<Status, ServiceError> {
    let id = user.id;
    let (enabled_at, codes_left, pending) = ctx
        .pool
        .run(move |conn| {
            Ok::<_, ServiceError>((
                db::two_step::enabled_at(conn, id)?,
                db::two_step::codes_left(conn, id)?,
                db::two_step::pending(conn, id)?,
            ))
        })
        .await?;
    let pending = match pending {
        Some(secret) if enabled_at.is_none() => Some(enrolment(secret, &user.email)?),
        _ => None,
    };
    Ok(Status {
        enabled_at,
        codes_left,
        pending,
        required: !ctx.two_step.may_turn_off(user),
    })
}

/// Starts setting it up: a new secret, not in use until a code from the
/// app confirms it.
#[instrument(skip_all, fields(user = %user.id))]
pub async fn start(ctx: &Context, user: &User) -> Result<(), ServiceError> {
    if user.two_step {
        return Err(AccountRefusal::TwoStepAlreadyOn.into());
    }
    let (id, secret) = (user.id, totp::new_secret());
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                Ok::<_, ServiceError>(db::two_step::set_pending(conn, id, Some(&secret))?)
            })
        })
        .await
}

/// Counts one attempt at a code from `address` on `user`'s account.
fn count_attempt(ctx: &Context, address: IpAddr, user: &User) -> Result<(), ServiceError> {
    ctx.two_step_limiter
        .check(address, &user.email)
        .map_err(ServiceError::RateLimited)
}

/// Fresh recovery codes: the plain ones to show once, their hashes to keep.
fn fresh_codes() -> (Vec<String>, Vec<String>) {
    let plain: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| totp::new_recovery_code())
        .collect();
    let hashes = plain
        .iter()
        .map(|c| totp::recovery_hash(c).expect("a code of ours"))
        .collect();
    (plain, hashes)
}

/// The app shows the right code: it is on, and here are the recovery codes
/// (shown this once). Audited.
#[instrument(skip_all, fields(user = %user.id))]
pub async fn confirm(
    ctx: &Context,
    user: &User,
    code: &str,
    address: IpAddr,
) -> Result<Vec<String>, ServiceError> {
    count_attempt(ctx, address, user)?;
    let (id, now, code) = (user.id, ctx.now(), code.to_string());
    let unix = now.and_utc().timestamp().max(0) as u64;
    let (plain, hashes) = fresh_codes();
    let confirmed = ctx
        .pool
        .run(move |conn| {
            conn.write(|conn| {
                let secret =
                    db::two_step::pending(conn, id)?.ok_or(AccountRefusal::TwoStepNotSetUp)?;
                let Some(step) = totp::matching_step(&secret, &code, unix) else {
                    return Ok(false);
                };
                db::two_step::enable(conn, id, &secret, step as i64, now)?;
                db::two_step::replace_codes(conn, id, &hashes, now)?;
                // Sessions started before carry the old state; they go on.
                audit(
                    conn,
                    user_ref(id),
                    "two_step.enabled",
                    Some(address),
                    Some(user_ref(id)),
                    json!({ "recoveryCodes": hashes.len() }),
                )?;
                Ok::<_, ServiceError>(true)
            })
        })
        .await?;
    if confirmed {
        Ok(plain)
    } else {
        failed(ctx, user, address, "enrolment").await
    }
}

async fn failed<T>(
    ctx: &Context,
    user: &User,
    address: IpAddr,
    during: &'static str,
) -> Result<T, ServiceError> {
    if during == "login" {
        crate::observe::login_failed(crate::observe::LoginFailure::TwoStep);
    }
    audit_alone(
        &ctx.pool,
        user_ref(user.id),
        "two_step.code_refused",
        Some(address),
        Some(user_ref(user.id)),
        json!({ "during": during }),
    )
    .await?;
    Err(AccountRefusal::BadSecondStep.into())
}

/// How the second step was passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Passed {
    Code,
    RecoveryCode,
}

impl Passed {
    pub fn as_str(self) -> &'static str {
        match self {
            Passed::Code => "two_step",
            Passed::RecoveryCode => "recovery_code",
        }
    }
}

/// Checks a code from the app (each works once: a step already used is
/// refused) or a recovery code (each works once). Rate-limited per client
/// address and per account; a wrong one is audited.
pub async fn check(
    ctx: &Context,
    user: &User,
    typed: &str,
    address: IpAddr,
    during: &'static str,
) -> Result<Passed, ServiceError> {
    count_attempt(ctx, address, user)?;
    let (id, now, typed) = (user.id, ctx.now(), typed.trim().to_string());
    let unix = now.and_utc().timestamp().max(0) as u64;
    let passed = ctx
        .pool
        .run(move |conn| {
            conn.write(|conn| {
                if let Some(hash) = totp::recovery_hash(&typed) {
                    let used = db::two_step::use_code(conn, id, &hash, now)?;
                    return Ok::<_, ServiceError>(used.then_some(Passed::RecoveryCode));
                }
                let Some((secret, _)) = db::two_step::secret(conn, id)? else {
                    return Ok(None);
                };
                let step = totp::matching_step(&secret, &typed, unix);
                Ok(match step {
                    Some(step) if db::two_step::use_step(conn, id, step as i64)? => {
                        Some(Passed::Code)
                    }
                    _ => None,
                })
            })
        })
        .await?;
    match passed {
        Some(passed) => Ok(passed),
        None => failed(ctx, user, address, during).await,
    }
}

/// New recovery codes (the old ones stop working), after a code proves the
/// app is at hand. Audited.
#[instrument(skip_all, fields(user = %user.id))]
pub async fn renew_codes(
    ctx: &Context,
    user: &User,
    code: &str,
    address: IpAddr,
) -> Result<Vec<String>, ServiceError> {
    if !user.two_step {
        return Err(AccountRefusal::TwoStepNotSetUp.into());
    }
    check(ctx, user, code, address, "renewing recovery codes").await?;
    let (id, now) = (user.id, ctx.now());
    let (plain, hashes) = fresh_codes();
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                db::two_step::replace_codes(conn, id, &hashes, now)?;
                audit(
                    conn,
                    user_ref(id),
                    "two_step.recovery_codes_renewed",
                    Some(address),
                    Some(user_ref(id)),
                    json!({ "recoveryCodes": hashes.len() }),
                )
            })
        })
        .await?;
    Ok(plain)
}

/// Turns it off, after a code (admins may not while it is required).
/// Audited.
#[instrument(skip_all, fields(user = %user.id))]
pub async fn turn_off(
    ctx: &Context,
    user: &User,
    code: &str,
    address: IpAddr,
) -> Result<(), ServiceError> {
    if !ctx.two_step.may_turn_off(user) {
        return Err(AccountRefusal::TwoStepRequired.into());
    }
    if !user.two_step {
        return Err(AccountRefusal::TwoStepNotSetUp.into());
    }
    check(ctx, user, code, address, "turning off").await?;
    let id = user.id;
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                db::two_step::disable(conn, id)?;
                audit(
                    conn,
                    user_ref(id),
                    "two_step.disabled",
                    Some(address),
                    Some(user_ref(id)),
                    json!({}),
                )
            })
        })
        .await
}
