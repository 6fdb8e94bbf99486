//! Signed bearer tokens. One claims type and one audience per purpose, so a
//! token minted for one purpose is never accepted for another.

use std::io::Write;
use std::path::Path;

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::account::{Role, User};

/// Audience of tokens handed out by `POST /api/v1/auth/login`.
pub const LOGIN_AUDIENCE: &str = "meeloop:login";
/// Audience of tokens handed out to partner programs by `POST /api/v1/auth/token`.
pub const PARTNER_AUDIENCE: &str = "meeloop:partner";
/// Audience of the browser session cookie set by the login page. The JSON
/// API refuses it: a cookie is never a bearer token.
pub const WEB_AUDIENCE: &str = "meeloop:web";
/// Audience of the token that remembers, between the password and the
/// code, that the password was right (two-step verification).
pub const SECOND_STEP_AUDIENCE: &str = "meeloop:second-step";
/// The second step must follow within five minutes.
pub const SECOND_STEP_TTL_SECS: i64 = 5 * 60;
/// A browser session lasts a working day; then the login page asks again.
pub const WEB_TTL_SECS: i64 = 8 * 3600;
/// Partner tokens are short-lived: a program asks for a new one when needed.
pub const PARTNER_TTL_SECS: i64 = 15 * 60;
const ALGORITHM: Algorithm = Algorithm::HS256;
/// Clock skew tolerated between instances, in seconds.
const LEEWAY_SECS: u64 = 30;
/// File in the data directory holding the generated signing key.
pub const KEY_FILE: &str = "jwt-signing-key";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub role: Role,
    /// The coordinator's organisation id.
    pub org: Option<i64>,
    /// The user's token version when issued; logout raises it.
    pub ver: i32,
    /// The session this token belongs to (`sessions.sid`); ending the
    /// session ends the token.
    #[serde(default)]
    pub sid: String,
    /// Browser sessions only: the token every form of this session must
    /// carry (the cookie is HttpOnly, so another site cannot read it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csrf: Option<String>,
}

/// Which kind of login token to issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginKind {
    /// A bearer token for the JSON API.
    Api,
    /// A browser session cookie, with its own CSRF token.
    Web,
    /// Not a session: the password was right, the code is to come.
    SecondStep,
}

/// Audience of the cookie that carries a single sign-on attempt from the
/// login page to the provider and back.
pub const SSO_AUDIENCE: &str = "meeloop:sso";
/// The round trip through the provider must end within ten minutes.
pub const SSO_TTL_SECS: i64 = 10 * 60;

/// What a sign-on attempt must remember until the provider sends the
/// browser back (it holds the PKCE verifier: HttpOnly cookie only).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SsoClaims {
    pub iss: String,
    pub aud: String,
    /// The provider's id.
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    /// Where to go after signing in.
    pub next: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartnerClaims {
    pub iss: String,
    pub aud: String,
    /// The partner's client id.
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    /// Space-separated scopes.
    pub scope: String,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    issuer: String,
    ttl_secs: i64,
    /// API tokens and session cookies verified already.
    logins: Verified,
    sessions: Verified,
}

/// Login claims of tokens verified already, by the token's exact text.
/// Checking a token (base64, JSON, HMAC-SHA256, the claims) cost more than
/// the rest of a small API request; a token's claims cannot change, so
/// until it expires the same text needs no second check. Whether the
/// session behind it is still good is asked separately on every request
/// (`service::accounts::authenticate`). Past `VERIFIED_CACHE_SIZE` entries
/// the cache starts over.
struct Verified(std::sync::Mutex<std::collections::HashMap<Box<str>, LoginClaims>>);

const VERIFIED_CACHE_SIZE: usize = 10_000;

impl Verified {
    fn new() -> Self {
        Verified(std::sync::Mutex::new(std::collections::HashMap::new()))
    }

    fn get_or_verify(
        &self,
        token: &str,
        verify: impl FnOnce() -> Result<LoginClaims, InvalidToken>,
    ) -> Result<LoginClaims, InvalidToken> {
        let now = Utc::now().timestamp();
        {
            let entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
            // Strictly before expiry (no leeway): a token in its leeway is
            // checked in full.
            if let Some(claims) = entries.get(token).filter(|c| c.exp > now) {
                return Ok(claims.clone());
            }
        }
        let claims = verify()?;
        let mut entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= VERIFIED_CACHE_SIZE {
            entries.clear();
        }
        entries.insert(token.into(), claims.clone());
        Ok(claims)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the access token is not valid: {0}")]
pub struct InvalidToken(String);

pub struct IssuedToken {
    pub token: String,
    pub expires_at: i64,
    pub ttl_secs: i64,
}

impl JwtKeys {
    pub fn new(secret: &[u8], issuer: &str, ttl_secs: i64) -> Self {
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            issuer: issuer.to_string(),
            ttl_secs,
            logins: Verified::new(),
            sessions: Verified::new(),
        }
    }

    /// How long a token of `kind` lasts.
    pub fn ttl(&self, kind: LoginKind) -> i64 {
        match kind {
            LoginKind::Api => self.ttl_secs,
            LoginKind::Web => WEB_TTL_SECS,
            LoginKind::SecondStep => SECOND_STEP_TTL_SECS,
        }
    }

    /// A token of session `sid` (see `service::accounts::start_session`).
    pub fn issue(&self, user: &User, kind: LoginKind, sid: &str) -> Result<IssuedToken, String> {
        let now = Utc::now().timestamp();
        let ttl_secs = self.ttl(kind);
        let (aud, csrf) = match kind {
            LoginKind::Api => (LOGIN_AUDIENCE, None),
            LoginKind::Web => (WEB_AUDIENCE, Some(random_hex(32))),
            LoginKind::SecondStep => (SECOND_STEP_AUDIENCE, None),
        };
        let claims = LoginClaims {
            iss: self.issuer.clone(),
            aud: aud.to_string(),
            sub: user.id.to_string(),
            exp: now + ttl_secs,
            iat: now,
            jti: random_hex(16),
            role: user.role,
            org: user.organisation_id.map(|o| o.0),
            ver: user.token_version,
            sid: sid.to_string(),
            csrf,
        };
        let token = jsonwebtoken::encode(&Header::new(ALGORITHM), &claims, &self.encoding)
            .map_err(|e| format!("cannot sign a token: {e}"))?;
        Ok(IssuedToken {
            token,
            expires_at: claims.exp,
            ttl_secs,
        })
    }

    pub fn issue_partner(&self, client_id: &str, scope: &str) -> Result<IssuedToken, String> {
        let now = Utc::now().timestamp();
        let claims = PartnerClaims {
            iss: self.issuer.clone(),
            aud: PARTNER_AUDIENCE.to_string(),
            sub: client_id.to_string(),
            exp: now + PARTNER_TTL_SECS,
            iat: now,
            jti: random_hex(16),
            scope: scope.to_string(),
        };
        let token = jsonwebtoken::encode(&Header::new(ALGORITHM), &claims, &self.encoding)
            .map_err(|e| format!("cannot sign a token: {e}"))?;
        Ok(IssuedToken {
            token,
            expires_at: claims.exp,
            ttl_secs: PARTNER_TTL_SECS,
        })
    }

    fn validation(&self, audience: &str) -> Validation {
        let mut validation = Validation::new(ALGORITHM);
        validation.leeway = LEEWAY_SECS;
        validation.set_audience(&[audience]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation
    }

    /// Checks signature, algorithm, issuer, audience and expiry; every
    /// registered claim must be present.
    pub fn verify_login(&self, token: &str) -> Result<LoginClaims, InvalidToken> {
        self.logins.get_or_verify(token, || {
            jsonwebtoken::decode::<LoginClaims>(
                token,
                &self.decoding,
                &self.validation(LOGIN_AUDIENCE),
            )
            .map(|data| data.claims)
            .map_err(|e| InvalidToken(e.to_string()))
        })
    }

    /// As [`Self::verify_login`], for browser session cookies; a session
    /// without its CSRF token is refused.
    pub fn verify_web(&self, token: &str) -> Result<LoginClaims, InvalidToken> {
        self.sessions.get_or_verify(token, || {
            jsonwebtoken::decode::<LoginClaims>(
                token,
                &self.decoding,
                &self.validation(WEB_AUDIENCE),
            )
            .map(|data| data.claims)
            .map_err(|e| InvalidToken(e.to_string()))
            .and_then(|claims| match claims.csrf {
                Some(_) => Ok(claims),
                None => Err(InvalidToken("a session without a CSRF token".into())),
            })
        })
    }

    /// As [`Self::verify_login`], for the token between password and code.
    pub fn verify_second_step(&self, token: &str) -> Result<LoginClaims, InvalidToken> {
        jsonwebtoken::decode::<LoginClaims>(
            token,
            &self.decoding,
            &self.validation(SECOND_STEP_AUDIENCE),
        )
        .map(|data| data.claims)
        .map_err(|e| InvalidToken(e.to_string()))
    }

    /// A sign-on attempt's cookie value.
    pub fn issue_sso(
        &self,
        provider: &str,
        state: &str,
        nonce: &str,
        verifier: &str,
        next: &str,
    ) -> Result<String, String> {
        let now = Utc::now().timestamp();
        let claims = SsoClaims {
            iss: self.issuer.clone(),
            aud: SSO_AUDIENCE.to_string(),
            sub: provider.to_string(),
            exp: now + SSO_TTL_SECS,
            iat: now,
            state: state.to_string(),
            nonce: nonce.to_string(),
            verifier: verifier.to_string(),
            next: next.to_string(),
        };
        jsonwebtoken::encode(&Header::new(ALGORITHM), &claims, &self.encoding)
            .map_err(|e| format!("cannot sign a token: {e}"))
    }

    pub fn verify_sso(&self, token: &str) -> Result<SsoClaims, InvalidToken> {
        jsonwebtoken::decode::<SsoClaims>(token, &self.decoding, &self.validation(SSO_AUDIENCE))
            .map(|data| data.claims)
            .map_err(|e| InvalidToken(e.to_string()))
    }

    /// As [`Self::verify_login`], for partner tokens.
    pub fn verify_partner(&self, token: &str) -> Result<PartnerClaims, InvalidToken> {
        jsonwebtoken::decode::<PartnerClaims>(
            token,
            &self.decoding,
            &self.validation(PARTNER_AUDIENCE),
        )
        .map(|data| data.claims)
        .map_err(|e| InvalidToken(e.to_string()))
    }
}

pub fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// Reads the signing key kept in the data directory, creating it (mode 600)
/// on first start, so a newcomer needs no setup and a restart keeps sessions.
pub fn load_or_create_key(data_dir: &Path) -> std::io::Result<Vec<u8>> {
    let path = data_dir.join(KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => return Ok(text.trim().as_bytes().to_vec()),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        Err(_) => {}
    }
    std::fs::create_dir_all(data_dir)?;
    let key = random_hex(32);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(mut file) => {
            file.write_all(key.as_bytes())?;
            file.sync_all()?;
            Ok(key.into_bytes())
        }
        // Another instance created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok(std::fs::read_to_string(&path)?.trim().as_bytes().to_vec())
        }
        Err(e) => Err(e),
    }
}

impl JwtKeys {
    /// The token signing keys: the configured secret, or the key kept in the
    /// data directory (created on first use, mode 600).
    pub fn from_settings(settings: &crate::config::Settings) -> Result<JwtKeys, String> {
        use secrecy::ExposeSecret;
        let secret = match &settings.auth.jwt_secret {
            Some(secret) if secret.expose_secret().len() >= 32 => {
                secret.expose_secret().as_bytes().to_vec()
            }
            Some(_) => return Err("auth.jwt_secret must be at least 32 characters".into()),
            None => load_or_create_key(&settings.data_dir).map_err(|e| {
                format!(
                    "cannot read or create the signing key in {}: {e}",
                    settings.data_dir.display()
                )
            })?,
        };
        let ttl = settings.auth.token_ttl_secs.clamp(60, 24 * 3600);
        Ok(JwtKeys::new(&secret, &settings.auth.issuer, ttl))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::account::UserId;

    fn keys() -> JwtKeys {
        JwtKeys::new(b"a test key of at least thirty-two bytes", "meeloop", 3600)
    }

    fn user() -> User {
        User {
            id: UserId(7),
            email: "anne@example.nl".into(),
            name: "Anne".into(),
            role: Role::Coordinator,
            organisation_id: None,
            active: true,
            token_version: 1,
            two_step: false,
        }
    }

    #[test]
    fn a_token_checked_once_is_known_again_for_its_own_purpose_only() {
        let keys = keys();
        let api = keys.issue(&user(), LoginKind::Api, "s1").unwrap().token;
        let first = keys.verify_login(&api).unwrap();
        let again = keys.verify_login(&api).unwrap();
        assert_eq!((first.sub, first.jti), (again.sub, again.jti));
        // Remembered as an API token, it is still no session cookie, and
        // a cookie remembered as one is no API token.
        assert!(keys.verify_web(&api).is_err());
        let web = keys.issue(&user(), LoginKind::Web, "s2").unwrap().token;
        assert!(keys.verify_web(&web).is_ok());
        assert!(keys.verify_login(&web).is_err());
        // One character changed is another text: checked in full, refused.
        let mut tampered = api.clone();
        tampered.pop();
        tampered.push(if api.ends_with('A') { 'B' } else { 'A' });
        assert!(keys.verify_login(&tampered).is_err());
    }

    #[test]
    fn a_remembered_token_past_its_expiry_is_checked_in_full_again() {
        let keys = keys();
        let api = keys.issue(&user(), LoginKind::Api, "s1").unwrap().token;
        let mut claims = keys.verify_login(&api).unwrap();
        // As if it had expired an hour ago (signature and all, long past
        // the leeway): the remembered entry no longer answers.
        claims.exp = Utc::now().timestamp() - 3600;
        let expired = jsonwebtoken::encode(&Header::new(ALGORITHM), &claims, &keys.encoding)
            .expect("an expired token can still be made");
        keys.logins
            .0
            .lock()
            .unwrap()
            .insert(expired.as_str().into(), claims);
        assert!(keys.verify_login(&expired).is_err());
    }
}
