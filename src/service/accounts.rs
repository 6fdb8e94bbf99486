//! Accounts: creating users, logging in and out, knowing who is calling.

use crate::service::context::Context;
use chrono::NaiveDateTime;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing::instrument;

use serde_json::json;

use super::admin::require_admin;
use super::{audit, audit_alone, user_ref, ServiceError};
use crate::auth::jwt::{random_hex, IssuedToken, JwtKeys, LoginClaims, LoginKind};
use crate::auth::limits::LoginLimiter;
use crate::auth::password;
use crate::db::users::{NewUser, UserChanges};
use crate::db::{self, DbConn, Freshness};
use crate::domain::account::{
    check_membership, LoginEmail, MembershipError, Password, Role, User, UserId,
};
use crate::domain::organisation::{parse_name, Organisation, OrganisationId};
use crate::domain::refusal::{AccountRefusal, DirectoryRefusal, Membership};
use crate::domain::session::{Session, SessionKind};
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
    let hash = hash_password(&new.password)?;
    conn.write(|conn| {
        let organisation = match &new.organisation {
            Some(code) => Some(
                db::organisations::id_by_code(conn, &code.trim().to_ascii_uppercase())?
                    .ok_or_else(|| Invalid::new(format!("no organisation has code '{code}'")))?,
            ),
            None => None,
        };
        let account = AccountFields {
            email,
            name,
            role: new.role,
            organisation,
        };
        // The command line has no context: its moment is the wall clock's.
        insert_user(conn, &account, &hash, ("cli".into(), None), db::now())
    })
}

/// A new account as an admin enters it over the API.
#[derive(Debug, Clone)]
pub struct AccountFields {
    pub email: LoginEmail,
    pub name: String,
    pub role: Role,
    pub organisation: Option<OrganisationId>,
}

fn hash_password(password: &Password) -> Result<String, ServiceError> {
    password::hash(password).map_err(|e| ServiceError::Internal(anyhow::anyhow!(e)))
}

/// Hashes on the blocking pool, with no database connection held.
pub(crate) async fn hash_off_workers(password: Password) -> Result<String, ServiceError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ServiceError::Internal(e.into()))?
}

pub(crate) fn insert_user(
    conn: &mut DbConn,
    account: &AccountFields,
    hash: &str,
    (actor, address): (String, Option<IpAddr>),
    now: NaiveDateTime,
) -> Result<User, ServiceError> {
    check_membership(account.role, account.organisation).map_err(Invalid::from)?;
    if let Some(org) = account.organisation {
        if db::organisations::find(conn, org)?.is_none() {
            return Err(DirectoryRefusal::UnknownOrganisation { id: org.0 }.into());
        }
    }
    let id = db::users::insert(
        conn,
        &NewUser {
            email: account.email.as_str(),
            name: &account.name,
            role: account.role.as_str(),
            organisation_id: account.organisation.map(|o| o.0),
            password_hash: hash,
            active: true,
            token_version: 0,
            created_at: now,
            updated_at: now,
        },
    )?
    .ok_or_else(|| {
        ServiceError::from(AccountRefusal::EmailInUse {
            email: account.email.as_str().to_string(),
        })
    })?;
    audit(
        conn,
        actor,
        "user.created",
        address,
        Some(user_ref(id)),
        json!({
            "email": account.email.as_str(),
            "role": account.role.as_str(),
            "organisation": account.organisation.map(|o| o.0),
        }),
    )?;
    db::users::find(conn, id)?
        .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("user {id} vanished")))
}

/// A page of accounts in id order; returns the users and, when more follow,
/// the cursor (`after`) for the next page.
pub async fn list_users(
    ctx: &Context,
    admin: User,
    after: Option<UserId>,
    limit: i64,
) -> Result<(Vec<User>, Option<UserId>), ServiceError> {
    require_admin(&admin)?;
    ctx.pool
        .run(move |conn| {
            let mut users = db::users::page(conn, after, limit + 1)?;
            let next = if users.len() as i64 > limit {
                users.truncate(limit as usize);
                users.last().map(|u| u.id)
            } else {
                None
            };
            Ok((users, next))
        })
        .await
}

/// What an admin changes of an account; `None` leaves a field alone, and
/// `organisation: Some(None)` takes it away (for an admin).
#[derive(Debug, Clone, Default)]
pub struct AccountChanges {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub organisation: Option<Option<OrganisationId>>,
    pub active: Option<bool>,
}

/// Whether `role` and `organisation` fit, as a refusal naming what the
/// account is now.
fn membership(
    role: Role,
    organisation: Option<OrganisationId>,
    current: &User,
) -> Result<(), AccountRefusal> {
    let current = Membership {
        admin: current.role == Role::Admin,
        organisation: current.organisation_id.map(|o| o.0),
    };
    check_membership(role, organisation).map_err(|e| match e {
        MembershipError::AdminInOrganisation => AccountRefusal::AdminInOrganisation { current },
        MembershipError::CoordinatorWithoutOrganisation => {
            AccountRefusal::CoordinatorNeedsOrganisation { current }
        }
    })
}

fn user_not_found(id: UserId) -> ServiceError {
    AccountRefusal::UnknownUser { id: id.0 }.into()
}

/// An admin renames, moves, promotes, demotes, deactivates or reactivates an
/// account. Changing role, organisation or status revokes its tokens, which
/// carry the old ones. Admins cannot demote or deactivate themselves, so the
/// service never loses its last admin by accident.
#[instrument(skip_all, fields(user = %admin.id, subject = %id))]
pub async fn update_user(
    ctx: &Context,
    admin: User,
    address: IpAddr,
    id: UserId,
    mut changes: AccountChanges,
) -> Result<User, ServiceError> {
    require_admin(&admin)?;
    if id == admin.id && (changes.active == Some(false) || changes.role == Some(Role::Coordinator))
    {
        return Err(AccountRefusal::OwnAccount.into());
    }
    // Promoting to admin leaves the organisation, unless the request says otherwise.
    if changes.role == Some(Role::Admin) && changes.organisation.is_none() {
        changes.organisation = Some(None);
    }
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                // Role and organisation are checked against what is stored:
                // lock the row so concurrent changes cannot combine badly.
                db::users::lock(conn, id)?;
                let current = db::users::find(conn, id)?.ok_or_else(|| user_not_found(id))?;
                let role = changes.role.unwrap_or(current.role);
                let organisation = changes.organisation.unwrap_or(current.organisation_id);
                // Whether role and organisation fit depends on what is stored:
                // a conflict with the account's state, not a malformed request.
                membership(role, organisation, &current)?;
                if let Some(org) = changes.organisation.flatten() {
                    if db::organisations::find(conn, org)?.is_none() {
                        return Err(DirectoryRefusal::UnknownOrganisation { id: org.0 }.into());
                    }
                }
                db::users::update(
                    conn,
                    id,
                    &UserChanges {
                        name: changes.name.clone(),
                        role: changes.role.map(Role::as_str),
                        organisation_id: changes.organisation.map(|o| o.map(|o| o.0)),
                        active: changes.active,
                    },
                )?;
                let revoke = role != current.role
                    || organisation != current.organisation_id
                    || changes.active.is_some_and(|a| a != current.active);
                if revoke {
                    db::users::bump_token_version(conn, id)?;
                }
                audit(
                    conn,
                    user_ref(admin.id),
                    "user.updated",
                    Some(address),
                    Some(user_ref(id)),
                    json!({
                        "name": changes.name,
                        "role": changes.role.map(Role::as_str),
                        "organisation": changes.organisation.map(|o| o.map(|o| o.0)),
                        "active": changes.active,
                        "tokensRevoked": revoke,
                    }),
                )?;
                db::users::find(conn, id)?.ok_or_else(|| user_not_found(id))
            })
        })
        .await
}

/// The caller changes their own password, proving they know the current
/// one. Every other token of theirs stops working; they get a fresh one.
#[instrument(skip_all, fields(user = %user.id))]
pub async fn change_password(
    ctx: &Context,
    keys: Arc<JwtKeys>,
    limiter: &LoginLimiter,
    user: User,
    origin: Origin,
    current: String,
    new: Password,
) -> Result<IssuedToken, ServiceError> {
    let address = origin.address;
    // Guessing the current password here is as limited as at login.
    limiter
        .check(address, &user.email)
        .map_err(ServiceError::RateLimited)?;
    let email = user.email.clone();
    let found = ctx
        .pool
        .run(move |conn| Ok::<_, ServiceError>(db::users::find_for_login(conn, &email)?))
        .await?;
    let hash = tokio::task::spawn_blocking(move || {
        let known = matches!(found, Some(ref l) if password::verify(&current, &l.password_hash));
        known.then(|| hash_password(&new)).transpose()
    })
    .await
    .map_err(|e| ServiceError::Internal(e.into()))??;
    let id = user.id;
    let Some(hash) = hash else {
        audit_alone(
            &ctx.pool,
            user_ref(id),
            "user.password_change_failed",
            Some(address),
            Some(user_ref(id)),
            json!({}),
        )
        .await?;
        return Err(AccountRefusal::WrongCurrentPassword.into());
    };
    let user = ctx
        .pool
        .run(move |conn| {
            conn.write(|conn| {
                db::users::set_password(conn, id, &hash)?;
                audit(
                    conn,
                    user_ref(id),
                    "user.password_changed",
                    Some(address),
                    Some(user_ref(id)),
                    json!({}),
                )?;
                db::users::find(conn, id)?.ok_or_else(|| user_not_found(id))
            })
        })
        .await?;
    start_session(ctx, &keys, &user, LoginKind::Api, origin, "password_change").await
}

/// Where a login comes from: the client's address and what its software
/// calls itself (shown on the sessions page).
#[derive(Debug, Clone)]
pub struct Origin {
    pub address: IpAddr,
    pub agent: String,
}

impl Origin {
    pub fn new(address: IpAddr, agent: Option<&str>) -> Self {
        // Kept short and printable: it is shown on a page.
        let agent = agent
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_control())
            .take(300)
            .collect();
        Origin { address, agent }
    }
}

/// Starts a session for `user` (a row the owner can list and end) and
/// issues its token; audited as `login.succeeded` with how (`via`).
pub(crate) async fn start_session(
    ctx: &Context,
    keys: &JwtKeys,
    user: &User,
    kind: LoginKind,
    origin: Origin,
    via: &'static str,
) -> Result<IssuedToken, ServiceError> {
    let sid = random_hex(16);
    let now = ctx.now();
    let expires_at = now + chrono::Duration::seconds(keys.ttl(kind));
    let (id, session_kind) = (user.id, session_kind(kind));
    let stored = sid.clone();
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                db::sessions::insert(
                    conn,
                    &db::sessions::NewSession {
                        sid: &stored,
                        user: id,
                        kind: session_kind,
                        now,
                        expires_at,
                        address: Some(origin.address.to_string()),
                        user_agent: &origin.agent,
                    },
                )?;
                audit(
                    conn,
                    user_ref(id),
                    "login.succeeded",
                    Some(origin.address),
                    Some(user_ref(id)),
                    json!({ "via": via, "session": session_kind.as_str() }),
                )
            })
        })
        .await?;
    keys.issue(user, kind, &sid)
        .map_err(|e| ServiceError::Internal(anyhow::anyhow!(e)))
}

fn session_kind(kind: LoginKind) -> SessionKind {
    match kind {
        LoginKind::Web => SessionKind::Web,
        LoginKind::Api | LoginKind::SecondStep => SessionKind::Api,
    }
}

/// What a login gives (no `Debug`: it holds tokens).
pub enum LoggedIn {
    /// Signed in: the session's token.
    Session(User, IssuedToken),
    /// The password was right and the account uses two-step verification:
    /// a short-lived token that remembers it until the code comes (pages
    /// only; the API sends the code with the password).
    SecondStep(IssuedToken),
}

/// Checks the credentials and issues a login token: one answer for an
/// unknown address, a wrong password and a deactivated account, so the API
/// never tells which addresses have an account. An account with two-step
/// verification needs `code` too (the API's login), or gets the second
/// step (a page's); an admin who must turn it on first cannot get an API
/// token.
#[instrument(skip_all)]
#[allow(clippy::too_many_arguments)]
pub async fn login(
    ctx: &Context,
    keys: Arc<JwtKeys>,
    limiter: &LoginLimiter,
    origin: Origin,
    email: String,
    password: String,
    code: Option<String>,
    kind: LoginKind,
) -> Result<LoggedIn, ServiceError> {
    let address = origin.address;
    // Counted before any work, so a flood costs us nothing but this check.
    limiter.check(address, &email).map_err(|secs| {
        tracing::warn!(%address, "login rate limit reached");
        crate::observe::login_failed(crate::observe::LoginFailure::RateLimited);
        ServiceError::RateLimited(secs)
    })?;
    let found = match LoginEmail::parse(&email) {
        Ok(email) => {
            ctx.pool
                .run(move |conn| {
                    Ok::<_, ServiceError>(db::users::find_for_login(conn, email.as_str())?)
                })
                .await?
        }
        Err(_) => None,
    };
    // Hash checks are slow by design: run them on the blocking &ctx.pool, with no
    // database connection held, and equally long whether or not the user exists.
    let user = tokio::task::spawn_blocking(move || match found {
        Some(l) if password::verify(&password, &l.password_hash) && l.enabled => {
            Some((l.user, l.password_login))
        }
        Some(_) => None,
        None => {
            password::verify_nothing(&password);
            None
        }
    })
    .await
    .map_err(|e| ServiceError::Internal(e.into()))?;
    let Some((user, password_allowed)) = user else {
        tracing::info!("login failed");
        crate::observe::login_failed(crate::observe::LoginFailure::Password);
        let attempted: String = email.trim().to_lowercase().chars().take(254).collect();
        audit_alone(
            &ctx.pool,
            "anonymous".into(),
            "login.failed",
            Some(address),
            None,
            json!({"email": attempted}),
        )
        .await?;
        return Err(AccountRefusal::BadCredentials.into());
    };
    // Checked after the password, so it says nothing about other addresses.
    if !password_allowed {
        return Err(AccountRefusal::PasswordLoginOff.into());
    }
    let mut via = match kind {
        LoginKind::Web => "web",
        _ => "api",
    };
    if user.two_step {
        match (code, kind) {
            (Some(code), _) => {
                via = super::two_step::check(ctx, &user, &code, address, "login")
                    .await?
                    .as_str();
            }
            (None, LoginKind::Web) => {
                let pending = keys
                    .issue(&user, LoginKind::SecondStep, "")
                    .map_err(|e| ServiceError::Internal(anyhow::anyhow!(e)))?;
                return Ok(LoggedIn::SecondStep(pending));
            }
            (None, _) => return Err(AccountRefusal::SecondStepNeeded.into()),
        }
    } else if kind != LoginKind::Web && ctx.two_step.must_enrol(&user) {
        return Err(AccountRefusal::TwoStepRequired.into());
    }
    let token = start_session(ctx, &keys, &user, kind, origin, via).await?;
    tracing::info!(user = %user.id, "login succeeded");
    Ok(LoggedIn::Session(user, token))
}

/// The second step of a page's login: the token from the first step and a
/// code from the app (or a recovery code) start the session.
#[instrument(skip_all)]
pub async fn second_step(
    ctx: &Context,
    keys: Arc<JwtKeys>,
    pending: &str,
    code: &str,
    origin: Origin,
) -> Result<(User, IssuedToken), ServiceError> {
    let ended = || ServiceError::from(AccountRefusal::SessionEnded);
    let claims = keys.verify_second_step(pending).map_err(|_| ended())?;
    let id = UserId(claims.sub.parse().map_err(|_| ended())?);
    let user = ctx
        .pool
        .run(move |conn| Ok::<_, ServiceError>(db::users::find_enabled(conn, id)?))
        .await?
        .filter(|u| u.token_version == claims.ver && u.two_step)
        .ok_or_else(ended)?;
    let passed = super::two_step::check(ctx, &user, code, origin.address, "login").await?;
    let token = start_session(ctx, &keys, &user, LoginKind::Web, origin, passed.as_str()).await?;
    Ok((user, token))
}

/// Recently checked accounts and sessions, so that a burst of requests
/// with one token does not ask the database each time. An entry is used
/// only while this process has committed no write since it was read (a
/// logout, a deactivation, a role change here is seen at once) and for at
/// most `database.max_staleness_ms` (changes by other instances or CLI
/// commands).
pub struct SessionCache {
    users: Recent<UserId, User>,
    sessions: Recent<String, Session>,
}

struct Recent<K, V> {
    max_age: Duration,
    entries: Mutex<HashMap<K, (Option<V>, Freshness)>>,
}

/// Entries kept at most; past that the cache starts over.
const SESSION_CACHE_SIZE: usize = 10_000;

impl<K: std::hash::Hash + Eq, V: Clone> Recent<K, V> {
    fn new(max_age: Duration) -> Self {
        Recent {
            max_age,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, key: &K) -> Option<Option<V>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(_, fresh)| fresh.still_good(self.max_age))
            .map(|(value, _)| value.clone())
    }

    fn put(&self, key: K, value: Option<V>, fresh: Freshness) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= SESSION_CACHE_SIZE {
            entries.clear();
        }
        entries.insert(key, (value, fresh));
    }
}

impl SessionCache {
    pub fn new(max_age: Duration) -> Self {
        SessionCache {
            users: Recent::new(max_age),
            sessions: Recent::new(max_age),
        }
    }
}

/// Who a verified token speaks for, and in which session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    /// The session's id (as the sessions page names it).
    pub session: i64,
}

/// The user behind verified token claims, if the token is still good: the
/// account exists, it and its organisation are active, it has not logged
/// out (or been changed by an admin) since, and its session has not ended,
/// expired or (a browser's) gone unused past `auth.idle_timeout_minutes`.
/// A use is written down at most once a minute.
pub async fn authenticate(
    ctx: &Context,
    cache: &SessionCache,
    claims: LoginClaims,
) -> Result<SignedIn, ServiceError> {
    let revoked = || ServiceError::from(AccountRefusal::SessionEnded);
    let id = UserId(claims.sub.parse().map_err(|_| revoked())?);
    let user = match cache.users.get(&id) {
        Some(user) => user,
        None => {
            let fresh = Freshness::of_accounts();
            // Only usable accounts are kept; a disabled one counts as gone.
            let user = ctx
                .pool
                .run(move |conn| Ok::<_, ServiceError>(db::users::find_enabled(conn, id)?))
                .await?;
            cache.users.put(id, user.clone(), fresh);
            user
        }
    };
    let user = match user {
        Some(user) if user.token_version == claims.ver => user,
        _ => return Err(revoked()),
    };
    let sid = claims.sid;
    let session = match cache.sessions.get(&sid) {
        Some(session) => session,
        None => {
            let fresh = Freshness::of_accounts();
            let key = sid.clone();
            let session = ctx
                .pool
                .run(move |conn| Ok::<_, ServiceError>(db::sessions::find(conn, &key)?))
                .await?;
            cache.sessions.put(sid.clone(), session.clone(), fresh);
            session
        }
    };
    let now = ctx.now();
    let session = match session {
        Some(s) if s.user == id && s.alive(now, ctx.idle) => s,
        _ => return Err(revoked()),
    };
    if session.needs_touch(now) {
        let fresh = Freshness::of_accounts();
        let row = session.id;
        // One statement on its own, outside `write`: the last use changes
        // nothing another cache depends on, so it need not make them stale.
        ctx.pool
            .run(move |conn| Ok::<_, ServiceError>(db::sessions::touch(conn, row, now)?))
            .await?;
        let touched = Session {
            last_seen_at: now,
            ..session.clone()
        };
        cache.sessions.put(sid, Some(touched), fresh);
    }
    Ok(SignedIn {
        user,
        session: session.id,
    })
}

/// A session as its owner sees it on the sessions page.
#[derive(Debug, Clone)]
pub struct OwnSession {
    pub session: Session,
    /// The one this request came in.
    pub current: bool,
}

/// The caller's sessions that still let them in, most recently used first.
pub async fn own_sessions(ctx: &Context, me: &SignedIn) -> Result<Vec<OwnSession>, ServiceError> {
    let (user, current, now, idle) = (me.user.id, me.session, ctx.now(), ctx.idle);
    let open = ctx
        .pool
        .run(move |conn| Ok::<_, ServiceError>(db::sessions::open_of(conn, user, now)?))
        .await?;
    Ok(open
        .into_iter()
        .filter(|s| s.alive(now, idle))
        .map(|session| OwnSession {
            current: session.id == current,
            session,
        })
        .collect())
}

/// Which of one's sessions to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// This one (logging out of one browser or device).
    One(i64),
    /// All but the one this request came in.
    Others,
}

/// Ends one of the caller's sessions, or all the others; their tokens stop
/// working at once on this instance and within `database.max_staleness_ms`
/// on the others. Audited; `unknown_session` for a session that is not
/// theirs or had ended.
#[instrument(skip(ctx, me), fields(user = %me.user.id))]
pub async fn end_sessions(
    ctx: &Context,
    me: &SignedIn,
    ending: Ending,
    address: IpAddr,
) -> Result<usize, ServiceError> {
    let (user, current, now) = (me.user.id, me.session, ctx.now());
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                let ended = match ending {
                    Ending::One(id) => {
                        if !db::sessions::end(conn, user, id, now)? {
                            return Err(AccountRefusal::UnknownSession { id }.into());
                        }
                        1
                    }
                    Ending::Others => db::sessions::end_all(conn, user, Some(current), now)?,
                };
                audit(
                    conn,
                    user_ref(user),
                    "sessions.ended",
                    Some(address),
                    Some(user_ref(user)),
                    json!({ "which": match ending {
                        Ending::One(id) if id == current => "this".to_string(),
                        Ending::One(id) => id.to_string(),
                        Ending::Others => "others".to_string(),
                    }, "ended": ended }),
                )?;
                Ok(ended)
            })
        })
        .await
}

/// Revokes every token of this user.
#[instrument(skip(ctx))]
pub async fn logout(ctx: &Context, user: UserId) -> Result<(), ServiceError> {
    ctx.pool
        .run(move |conn| {
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
pub async fn me(ctx: &Context, user: User) -> Result<(User, Option<Organisation>), ServiceError> {
    ctx.pool
        .run(move |conn| {
            let organisation = match user.organisation_id {
                Some(id) => db::organisations::find(conn, id)?,
                None => None,
            };
            Ok((user, organisation))
        })
        .await
}
