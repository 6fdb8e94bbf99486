//! Single sign-on (docs/security.md, "Single sign-on"): starting a sign-in
//! at an identity provider, and finishing it: who the person is here (a
//! linked subject; or a verified address of a domain an admin mapped to
//! the person's organisation for this provider; or, when the provider may
//! create accounts, a new coordinator of that organisation), then a
//! session. Admins map domains, link subjects and switch password login
//! off per organisation.

use std::net::IpAddr;

use serde_json::json;
use tracing::instrument;

use super::accounts::{insert_user, start_session, AccountFields, Origin};
use super::admin::require_admin;
use super::context::Context;
use super::{audit, audit_alone, user_ref, ServiceError};
use crate::auth::jwt::{IssuedToken, JwtKeys, LoginKind};
use crate::auth::oidc::{Identity, OidcError};
use crate::db::{self, DbConn};
use crate::domain::account::DomainMapping;
use crate::domain::account::{LoginEmail, Role, User, UserId};
use crate::domain::organisation::OrganisationId;
use crate::domain::refusal::{AccountRefusal, DirectoryRefusal};

fn provider<'a>(
    ctx: &'a Context,
    id: &str,
) -> Result<&'a crate::auth::oidc::Provider, ServiceError> {
    ctx.oidc
        .get(id)
        .ok_or_else(|| AccountRefusal::UnknownProvider { id: id.to_string() }.into())
}

fn redirect_uri(ctx: &Context, provider: &str) -> String {
    format!("{}/login/sso/{provider}/callback", ctx.base_url)
}

fn oidc_failure(e: OidcError) -> ServiceError {
    match e {
        OidcError::Unavailable(reason) => {
            tracing::warn!(%reason, "identity provider unavailable");
            AccountRefusal::SsoUnavailable.into()
        }
        OidcError::Refused(reason) => AccountRefusal::SsoFailed { reason }.into(),
    }
}

/// A sign-in begun: where to send the browser, and the cookie that
/// remembers the attempt (state, nonce, PKCE verifier, where to go after).
pub struct Begun {
    pub url: String,
    pub cookie: String,
}

pub async fn begin(
    ctx: &Context,
    keys: &JwtKeys,
    provider_id: &str,
    next: &str,
) -> Result<Begun, ServiceError> {
    let p = provider(ctx, provider_id)?;
    let started = ctx
        .oidc
        .start(p, &redirect_uri(ctx, provider_id))
        .await
        .map_err(oidc_failure)?;
    let cookie = keys
        .issue_sso(
            provider_id,
            &started.state,
            &started.nonce,
            &started.verifier,
            next,
        )
        .map_err(|e| ServiceError::Internal(anyhow::anyhow!(e)))?;
    Ok(Begun {
        url: started.url,
        cookie,
    })
}

/// What the provider sent the browser back with.
pub struct Callback<'a> {
    pub provider: &'a str,
    /// The attempt's cookie.
    pub cookie: Option<&'a str>,
    pub state: &'a str,
    pub code: Option<&'a str>,
    /// The provider's refusal (`error`), e.g. when the person cancelled.
    pub error: Option<&'a str>,
}

/// Finishes a sign-in: the provider's answer checked, the person found (or
/// made), a browser session started; returns where to go. Every refusal is
/// audited with its reason (never a token).
#[instrument(skip_all, fields(provider = %back.provider))]
pub async fn complete(
    ctx: &Context,
    keys: &JwtKeys,
    back: Callback<'_>,
    origin: Origin,
) -> Result<(User, IssuedToken, String), ServiceError> {
    let address = origin.address;
    let result = identify(ctx, keys, &back).await;
    let (identity, next) = match result {
        Ok(found) => found,
        Err(e) => {
            fail(ctx, back.provider, address, &e).await?;
            return Err(e);
        }
    };
    let p = provider(ctx, back.provider)?;
    let (provider_id, create, now) = (
        back.provider.to_string(),
        p.settings.create_accounts,
        ctx.now(),
    );
    let found = ctx
        .pool
        .run(move |conn| {
            conn.write(|conn| account_of(conn, &provider_id, create, &identity, address, now))
        })
        .await;
    let user = match found {
        Ok(user) => user,
        Err(e) => {
            fail(ctx, back.provider, address, &e).await?;
            return Err(e);
        }
    };
    let token = start_session(ctx, keys, &user, LoginKind::Web, origin, "sso").await?;
    Ok((user, token, next))
}

async fn fail(
    ctx: &Context,
    provider: &str,
    address: IpAddr,
    e: &ServiceError,
) -> Result<(), ServiceError> {
    if e.kind().is_none() {
        return Ok(());
    }
    crate::observe::login_failed(crate::observe::LoginFailure::Sso);
    audit_alone(
        &ctx.pool,
        "anonymous".into(),
        "sso.failed",
        Some(address),
        None,
        json!({ "provider": provider, "reason": e.message(crate::domain::organisation::Language::En) }),
    )
    .await
}

/// The provider's checked answer: who signed in, and where to go.
async fn identify(
    ctx: &Context,
    keys: &JwtKeys,
    back: &Callback<'_>,
) -> Result<(Identity, String), ServiceError> {
    let failed = |reason: &str| -> ServiceError {
        AccountRefusal::SsoFailed {
            reason: reason.to_string(),
        }
        .into()
    };
    let p = provider(ctx, back.provider)?;
    let claims = back
        .cookie
        .and_then(|c| keys.verify_sso(c).ok())
        .ok_or_else(|| failed("the sign-in began elsewhere or took longer than ten minutes"))?;
    if claims.sub != back.provider || !crate::auth::same(&claims.state, back.state) {
        return Err(failed(
            "the state does not match the sign-in that began here",
        ));
    }
    if let Some(error) = back.error {
        let error: String = error
            .chars()
            .filter(|c| !c.is_control())
            .take(100)
            .collect();
        return Err(failed(&format!("the identity provider answered '{error}'")));
    }
    let code = back.code.ok_or_else(|| failed("no code in the answer"))?;
    let identity = ctx
        .oidc
        .finish(
            p,
            &redirect_uri(ctx, back.provider),
            code,
            (&claims.verifier, &claims.nonce),
            ctx.now().and_utc(),
        )
        .await
        .map_err(oidc_failure)?;
    Ok((identity, claims.next))
}

/// Who `identity` is here (see the module's rules), in one transaction.
fn account_of(
    conn: &mut DbConn,
    provider: &str,
    create: bool,
    identity: &Identity,
    address: IpAddr,
    now: chrono::NaiveDateTime,
) -> Result<User, ServiceError> {
    let usable = |conn: &mut DbConn, id: UserId| -> Result<User, ServiceError> {
        db::users::find_enabled(conn, id)?.ok_or_else(|| AccountRefusal::SsoNoAccount.into())
    };
    if let Some(id) = db::sso::linked(conn, provider, &identity.subject)? {
        return usable(conn, id);
    }
    let email = identity
        .email
        .as_deref()
        .and_then(|e| LoginEmail::parse(e).ok())
        .ok_or(AccountRefusal::SsoNoAccount)?;
    if !identity.email_verified {
        return Err(AccountRefusal::SsoEmailNotVerified.into());
    }
    let domain = email
        .as_str()
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .to_string();
    let mapping = db::sso::domain(conn, &domain)?.filter(|m| m.provider == provider);
    let existing = db::users::id_by_email(conn, email.as_str())?;
    let id = match (existing, mapping) {
        (Some(id), Some(m)) => {
            let user = usable(conn, id)?;
            // Only a coordinator of the domain's organisation: a provider
            // never speaks for admins or for other organisations' people.
            if user.role != Role::Coordinator || user.organisation_id != Some(m.organisation) {
                return Err(AccountRefusal::SsoNotLinked.into());
            }
            id
        }
        (Some(_), None) => return Err(AccountRefusal::SsoNotLinked.into()),
        (None, Some(m)) if create => {
            let name = identity
                .name
                .as_deref()
                .and_then(|n| crate::domain::organisation::parse_name(n).ok())
                .unwrap_or_else(|| email.as_str().to_string());
            let fields = AccountFields {
                email: email.clone(),
                name,
                role: Role::Coordinator,
                organisation: Some(m.organisation),
            };
            let actor = (format!("sso:{provider}"), Some(address));
            insert_user(conn, &fields, "", actor, now)?.id
        }
        (None, _) => return Err(AccountRefusal::SsoNoAccount.into()),
    };
    db::sso::link(conn, provider, &identity.subject, id, now)?;
    audit(
        conn,
        format!("sso:{provider}"),
        "sso.linked",
        Some(address),
        Some(user_ref(id)),
        json!({ "provider": provider, "by": "verified email address" }),
    )?;
    usable(conn, id)
}

/// The providers (`(id, name)`) for the login page.
pub fn providers(ctx: &Context) -> Vec<(String, String)> {
    ctx.oidc.names()
}

/// What admins see: the providers and the domain mappings.
pub struct Overview {
    /// `(id, name, issuer, create accounts)`.
    pub providers: Vec<(String, String, String, bool)>,
    pub domains: Vec<DomainMapping>,
}

pub async fn overview(ctx: &Context, admin: &User) -> Result<Overview, ServiceError> {
    require_admin(admin)?;
    let domains = ctx
        .pool
        .run(|conn| Ok::<_, ServiceError>(db::sso::domains(conn)?))
        .await?;
    let providers = ctx
        .oidc
        .names()
        .into_iter()
        .filter_map(|(id, name)| {
            ctx.oidc.get(&id).map(|p| {
                (
                    id,
                    name,
                    p.settings.issuer.clone(),
                    p.settings.create_accounts,
                )
            })
        })
        .collect();
    Ok(Overview { providers, domains })
}

/// A domain as stored: lower case, letters, digits, dots and hyphens.
fn parse_domain(raw: &str) -> Result<String, ServiceError> {
    let domain = raw.trim().to_ascii_lowercase();
    let ok = domain.len() <= 253
        && domain.contains('.')
        && domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if ok {
        Ok(domain)
    } else {
        Err(crate::domain::Invalid::new(format!(
            "'{raw}' is not an email domain such as zwolle.nl"
        ))
        .into())
    }
}

/// An admin maps an email domain to an organisation and a provider.
#[instrument(skip(ctx, admin), fields(user = %admin.id))]
pub async fn map_domain(
    ctx: &Context,
    admin: User,
    address: IpAddr,
    domain: &str,
    organisation: OrganisationId,
    provider_id: &str,
) -> Result<DomainMapping, ServiceError> {
    require_admin(&admin)?;
    provider(ctx, provider_id)?;
    let mapping = DomainMapping {
        domain: parse_domain(domain)?,
        organisation,
        provider: provider_id.to_string(),
    };
    let now = ctx.now();
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                if db::organisations::find(conn, organisation)?.is_none() {
                    return Err(DirectoryRefusal::UnknownOrganisation { id: organisation.0 }.into());
                }
                db::sso::set_domain(conn, &mapping, now)?;
                audit(
                    conn,
                    user_ref(admin.id),
                    "sso.domain_mapped",
                    Some(address),
                    None,
                    json!({ "domain": mapping.domain, "organisation": organisation.0, "provider": mapping.provider }),
                )?;
                Ok(mapping)
            })
        })
        .await
}

#[instrument(skip(ctx, admin), fields(user = %admin.id))]
pub async fn unmap_domain(
    ctx: &Context,
    admin: User,
    address: IpAddr,
    domain: &str,
) -> Result<(), ServiceError> {
    require_admin(&admin)?;
    let domain = parse_domain(domain)?;
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                if !db::sso::remove_domain(conn, &domain)? {
                    return Err(AccountRefusal::UnknownDomain {
                        domain: domain.clone(),
                    }
                    .into());
                }
                audit(
                    conn,
                    user_ref(admin.id),
                    "sso.domain_unmapped",
                    Some(address),
                    None,
                    json!({ "domain": domain }),
                )
            })
        })
        .await
}

/// An admin links a provider's subject to an account (for admins, for
/// addresses of unmapped domains, or when the address differs).
#[instrument(skip(ctx, admin, subject), fields(user = %admin.id))]
pub async fn link_subject(
    ctx: &Context,
    admin: User,
    address: IpAddr,
    id: UserId,
    provider_id: &str,
    subject: &str,
) -> Result<(), ServiceError> {
    require_admin(&admin)?;
    provider(ctx, provider_id)?;
    let subject = subject.trim();
    if subject.is_empty() || subject.chars().count() > 255 || subject.chars().any(char::is_control)
    {
        return Err(
            crate::domain::Invalid::new("subject must be 1 to 255 printable characters").into(),
        );
    }
    let (provider_id, subject, now) = (provider_id.to_string(), subject.to_string(), ctx.now());
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                if db::users::find(conn, id)?.is_none() {
                    return Err(AccountRefusal::UnknownUser { id: id.0 }.into());
                }
                db::sso::link(conn, &provider_id, &subject, id, now)?;
                audit(
                    conn,
                    user_ref(admin.id),
                    "sso.linked",
                    Some(address),
                    Some(user_ref(id)),
                    json!({ "provider": provider_id, "by": "admin" }),
                )
            })
        })
        .await
}

/// As [`link_subject`], naming the account by its address (the admin page).
pub async fn link_subject_by_email(
    ctx: &Context,
    admin: User,
    address: IpAddr,
    email: &str,
    provider_id: &str,
    subject: &str,
) -> Result<(), ServiceError> {
    require_admin(&admin)?;
    let email = LoginEmail::parse(email)?;
    let shown = email.as_str().to_string();
    let id = ctx
        .pool
        .run(move |conn| Ok::<_, ServiceError>(db::users::id_by_email(conn, email.as_str())?))
        .await?
        .ok_or_else(|| {
            crate::domain::Invalid::new(format!("no account has the address {shown}"))
        })?;
    link_subject(ctx, admin, address, id, provider_id, subject).await
}

/// An admin switches password login off (or on again) for an
/// organisation's coordinators, once its single sign-on works. Sessions
/// already started stay; new password logins are refused.
#[instrument(skip(ctx, admin), fields(user = %admin.id))]
pub async fn set_password_login(
    ctx: &Context,
    admin: User,
    address: IpAddr,
    organisation: OrganisationId,
    allowed: bool,
) -> Result<(), ServiceError> {
    require_admin(&admin)?;
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                if !db::sso::set_password_login(conn, organisation, allowed)? {
                    return Err(DirectoryRefusal::UnknownOrganisation { id: organisation.0 }.into());
                }
                audit(
                    conn,
                    user_ref(admin.id),
                    "organisation.password_login",
                    Some(address),
                    None,
                    json!({ "organisation": organisation.0, "allowed": allowed }),
                )
            })
        })
        .await
}
