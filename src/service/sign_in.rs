//! Signing in without anyone seeing someone else's password: invitations
//! (a new account's owner chooses their first password) and "forgot
//! password". Both send a single-use link whose token is stored only as a
//! hash (docs/security.md, "Invitations and password resets").

use std::net::IpAddr;
use std::sync::Arc;

use chrono::NaiveDateTime;
use serde_json::json;
use tracing::instrument;

use super::accounts::{hash_off_workers, insert_user, start_session, AccountFields, Origin};
use super::admin::require_admin;
use super::clock::long_moment;
use super::context::Context;
use super::{audit, user_ref, ServiceError};
use crate::auth::jwt::{IssuedToken, JwtKeys, LoginKind};
use crate::auth::limits::LoginLimiter;
use crate::auth::links;
use crate::db::{self, outbox, DbConn};
use crate::domain::account::{LoginEmail, Password, SignInPurpose, User, UserId};
use crate::domain::organisation::Language;
use crate::domain::refusal::AccountRefusal;
use crate::mail::emails::{PasswordReset, Welcome};
use crate::mail::templates::{compose, Email};

/// An account made by invitation, and until when its link works.
#[derive(Debug, Clone)]
pub struct Invited {
    pub user: User,
    pub expires_at: NaiveDateTime,
}

/// Who sent a link: a person (their name goes into the invitation) or the
/// account's owner themselves (forgot password).
struct Sender<'a> {
    name: &'a str,
    language: Language,
}

/// Stores a fresh link of `purpose` for `user` and queues its email, in
/// the caller's transaction; returns when the link stops working.
fn send_link(
    conn: &mut DbConn,
    ctx_parts: (&str, NaiveDateTime, &crate::domain::account::SignInRules),
    user: &User,
    purpose: SignInPurpose,
    sender: Sender<'_>,
) -> Result<NaiveDateTime, ServiceError> {
    let (base_url, now, rules) = ctx_parts;
    let expires_at = now + rules.lifetime(purpose);
    let token = links::new_token();
    db::sign_in::insert(conn, user.id, purpose, &token.hash, expires_at, now)?;
    let language = sender.language;
    let expires = long_moment(expires_at, language);
    // The idempotency key is the token's hash: every link its own email.
    let key = format!("{}:{}", purpose.as_str(), &token.hash[..32]);
    let message = match purpose {
        SignInPurpose::Invitation => {
            let organisation = match user.organisation_id {
                Some(id) => db::organisations::find(conn, id)?.map(|o| o.name),
                None => None,
            };
            render(
                &Welcome {
                    name: user.name.clone(),
                    inviter: sender.name.to_string(),
                    role: user.role.name_in(language).to_string(),
                    organisation,
                    link: format!("{base_url}/welcome/{}", token.plain),
                    expires,
                },
                key,
                user,
                language,
                base_url,
            )?
        }
        SignInPurpose::Reset => render(
            &PasswordReset {
                name: user.name.clone(),
                link: format!("{base_url}/password/reset/{}", token.plain),
                expires,
            },
            key,
            user,
            language,
            base_url,
        )?,
    };
    outbox::enqueue(conn, &message)?;
    Ok(expires_at)
}

fn render<E: Email>(
    email: &E,
    key: String,
    to: &User,
    language: Language,
    base_url: &str,
) -> Result<outbox::NewMessage, ServiceError> {
    compose(email, key, &to.email, language, base_url, &[])
        .map_err(|e| ServiceError::Internal(e.into()))
}

/// Whether `by` may invite coordinators into `organisation`: asked before
/// an invitation's fields are read, so that someone who may not learns
/// nothing about them. [`invite`] checks again.
pub fn may_invite_into(
    ctx: &Context,
    by: &User,
    organisation: crate::domain::organisation::OrganisationId,
) -> Result<(), ServiceError> {
    let role = crate::domain::account::Role::Coordinator;
    if ctx.sign_in.may_invite(by, role, Some(organisation)) {
        Ok(())
    } else {
        Err(AccountRefusal::MayNotInvite.into())
    }
}

/// An admin (or, when the operator allows it, a coordinator for their own
/// organisation) invites someone: the account is made without a password
/// and its owner gets an email with a link to choose one. `language` is
/// the email's. One transaction; audited.
#[instrument(skip_all, fields(user = %by.id))]
pub async fn invite(
    ctx: &Context,
    by: User,
    address: IpAddr,
    account: AccountFields,
    language: Language,
) -> Result<Invited, ServiceError> {
    if !ctx
        .sign_in
        .may_invite(&by, account.role, account.organisation)
    {
        return Err(AccountRefusal::MayNotInvite.into());
    }
    let now = ctx.now();
    let (base_url, rules) = (ctx.base_url.clone(), ctx.sign_in);
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                // No password yet: nothing verifies against an empty hash.
                let user = insert_user(conn, &account, "", (user_ref(by.id), Some(address)), now)?;
                let sender = Sender {
                    name: &by.name,
                    language,
                };
                let parts = (base_url.as_str(), now, &rules);
                let expires_at = send_link(conn, parts, &user, SignInPurpose::Invitation, sender)?;
                audit(
                    conn,
                    user_ref(by.id),
                    "user.invited",
                    Some(address),
                    Some(user_ref(user.id)),
                    json!({ "email": user.email, "expiresAt": expires_at.and_utc() }),
                )?;
                Ok(Invited { user, expires_at })
            })
        })
        .await
}

/// An admin sends an account a sign-in link: a new invitation while its
/// owner has not chosen a password yet, else a password reset. Nobody sees
/// a password; the account's sessions end only when the link is used.
#[instrument(skip_all, fields(user = %admin.id, subject = %id))]
pub async fn send_link_by_admin(
    ctx: &Context,
    admin: User,
    address: IpAddr,
    id: UserId,
    language: Language,
) -> Result<Invited, ServiceError> {
    require_admin(&admin)?;
    let now = ctx.now();
    let (base_url, rules) = (ctx.base_url.clone(), ctx.sign_in);
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                let user =
                    db::users::find(conn, id)?.ok_or(AccountRefusal::UnknownUser { id: id.0 })?;
                let purpose = if db::users::has_password(conn, id)? {
                    SignInPurpose::Reset
                } else {
                    SignInPurpose::Invitation
                };
                let sender = Sender {
                    name: &admin.name,
                    language,
                };
                let parts = (base_url.as_str(), now, &rules);
                let expires_at = send_link(conn, parts, &user, purpose, sender)?;
                audit(
                    conn,
                    user_ref(admin.id),
                    "user.sign_in_link_sent",
                    Some(address),
                    Some(user_ref(id)),
                    json!({ "purpose": purpose.as_str(), "expiresAt": expires_at.and_utc() }),
                )?;
                Ok(Invited { user, expires_at })
            })
        })
        .await
}

/// "Forgot password": counted per client address and per address asked
/// about, then answered at once. The lookup and the email happen after the
/// answer, so neither the answer nor its time tells whether the address
/// has an account. Audited either way.
#[instrument(skip_all)]
pub async fn forgot_password(
    ctx: &Context,
    limiter: &LoginLimiter,
    address: IpAddr,
    email: &str,
    language: Language,
) -> Result<(), ServiceError> {
    limiter.check(address, email).map_err(|secs| {
        tracing::warn!(%address, "password reset rate limit reached");
        ServiceError::RateLimited(secs)
    })?;
    // An address no account can have gets the same answer; nothing is sent.
    let Ok(email) = LoginEmail::parse(email) else {
        return Ok(());
    };
    let ctx = ctx.clone();
    actix_web::rt::spawn(async move {
        if let Err(e) = send_reset(&ctx, address, email, language).await {
            tracing::error!(error = ?e, "could not send a password reset");
        }
    });
    Ok(())
}

async fn send_reset(
    ctx: &Context,
    address: IpAddr,
    email: LoginEmail,
    language: Language,
) -> Result<(), ServiceError> {
    let now = ctx.now();
    let (base_url, rules) = (ctx.base_url.clone(), ctx.sign_in);
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                let found = db::users::find_for_login(conn, email.as_str())?;
                match found {
                    Some(login) if login.enabled => {
                        let user = login.user;
                        let sender = Sender {
                            name: &user.name,
                            language,
                        };
                        let parts = (base_url.as_str(), now, &rules);
                        let expires_at =
                            send_link(conn, parts, &user, SignInPurpose::Reset, sender)?;
                        audit(
                            conn,
                            "anonymous".into(),
                            "user.password_reset_requested",
                            Some(address),
                            Some(user_ref(user.id)),
                            json!({ "expiresAt": expires_at.and_utc() }),
                        )
                    }
                    // Unknown or disabled: nothing is sent; the log says so.
                    _ => audit(
                        conn,
                        "anonymous".into(),
                        "password_reset.no_account",
                        Some(address),
                        None,
                        json!({ "email": email.as_str() }),
                    ),
                }
            })
        })
        .await
}

/// Whose link this is, as its page shows it.
#[derive(Debug, Clone)]
pub struct LinkHolder {
    pub user: User,
    pub expires_at: NaiveDateTime,
}

/// The account behind a usable link of `purpose`; reads only (link
/// scanners fetch every link).
pub async fn open_link(
    ctx: &Context,
    purpose: SignInPurpose,
    plain: &str,
) -> Result<LinkHolder, ServiceError> {
    let hash = links::hash(plain).ok_or(AccountRefusal::LinkNotValid)?;
    let now = ctx.now();
    ctx.pool
        .run(move |conn| usable(conn, &hash, purpose, now))
        .await
}

fn usable(
    conn: &mut DbConn,
    hash: &str,
    purpose: SignInPurpose,
    now: NaiveDateTime,
) -> Result<LinkHolder, ServiceError> {
    let link = db::sign_in::find(conn, hash)?
        .filter(|l| l.purpose == purpose && l.used_at.is_none() && l.expires_at > now)
        .ok_or(AccountRefusal::LinkNotValid)?;
    let user = db::users::find_enabled(conn, link.user)?.ok_or(AccountRefusal::LinkNotValid)?;
    Ok(LinkHolder {
        user,
        expires_at: link.expires_at,
    })
}

/// The link's owner chooses a password: the link is used (once, even when
/// two submissions race), every earlier session and token of the account
/// ends, and other open links of it stop working. After an invitation the
/// owner is signed in (a browser session); after a reset they sign in
/// again themselves. Audited.
#[instrument(skip_all)]
pub async fn choose_password(
    ctx: &Context,
    keys: Arc<JwtKeys>,
    purpose: SignInPurpose,
    plain: &str,
    password: Password,
    origin: Origin,
) -> Result<(User, Option<IssuedToken>), ServiceError> {
    let address = origin.address;
    // The cheap check first, so junk links cost no password hashing.
    open_link(ctx, purpose, plain).await?;
    let hash = links::hash(plain).ok_or(AccountRefusal::LinkNotValid)?;
    let password_hash = hash_off_workers(password).await?;
    let now = ctx.now();
    let user = ctx
        .pool
        .run(move |conn| {
            conn.write(|conn| {
                let link = db::sign_in::find(conn, &hash)?
                    .filter(|l| l.purpose == purpose)
                    .ok_or(AccountRefusal::LinkNotValid)?;
                usable(conn, &hash, purpose, now)?;
                if !db::sign_in::consume(conn, link.id, now)? {
                    return Err(AccountRefusal::LinkNotValid.into());
                }
                db::users::set_password(conn, link.user, &password_hash)?;
                db::sign_in::retire_all(conn, link.user, now)?;
                audit(
                    conn,
                    user_ref(link.user),
                    "user.password_chosen",
                    Some(address),
                    Some(user_ref(link.user)),
                    json!({ "via": purpose.as_str(), "sessionsEnded": true }),
                )?;
                db::users::find(conn, link.user)?.ok_or_else(|| {
                    ServiceError::from(AccountRefusal::UnknownUser { id: link.user.0 })
                })
            })
        })
        .await?;
    let token = match purpose {
        SignInPurpose::Invitation => {
            Some(start_session(ctx, &keys, &user, LoginKind::Web, origin, "invitation").await?)
        }
        SignInPurpose::Reset => None,
    };
    Ok((user, token))
}
