//! Single sign-on with OpenID Connect, the protocol side: discovery (kept
//! for an hour, fetched again when a token names a key we do not know, so
//! key rotation at the provider just works), the authorization request
//! with PKCE, state and nonce, and the code exchange with the ID token's
//! checks (signature, issuer, audience, nonce, expiry) by the
//! `openidconnect` crate. Who the person is here is `service::sso`'s.

use std::sync::RwLock;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use openidconnect::core::{
    CoreClient, CoreIdToken, CoreIdTokenVerifier, CoreProviderMetadata, CoreResponseType,
};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
};
use secrecy::ExposeSecret;

pub use crate::config::OidcProviderSettings as ProviderSettings;

/// Who the provider says signed in, after every check passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider cannot be reached or answers nonsense: try later.
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
    /// The answer does not hold up (a refused code, an ID token that fails
    /// a check): this sign-in fails.
    #[error("the sign-in was refused: {0}")]
    Refused(String),
}

/// How long a discovery document (and its keys) is used before it is read
/// again.
const METADATA_TTL: Duration = Duration::from_secs(3600);

pub struct Provider {
    pub settings: ProviderSettings,
    metadata: RwLock<Option<(CoreProviderMetadata, Instant)>>,
}

/// An authorization request: where to send the browser, and what to keep
/// (in a signed cookie) until the provider sends it back.
pub struct Started {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

/// The configured providers and the HTTP client that talks to them.
pub struct Providers {
    http: openidconnect::reqwest::Client,
    list: Vec<Provider>,
}

impl Providers {
    pub fn new(settings: &[ProviderSettings]) -> Result<Self, String> {
        let http = openidconnect::reqwest::ClientBuilder::new()
            // Following redirects would open the client up to SSRF.
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("cannot build the OIDC HTTP client: {e}"))?;
        Ok(Providers {
            http,
            list: settings
                .iter()
                .map(|s| Provider {
                    settings: s.clone(),
                    metadata: RwLock::new(None),
                })
                .collect(),
        })
    }

    pub fn none() -> Self {
        Providers::new(&[]).expect("an HTTP client without providers")
    }

    pub fn get(&self, id: &str) -> Option<&Provider> {
        self.list.iter().find(|p| p.settings.id == id)
    }

    /// `(id, name)` of every provider, for the login page's buttons.
    pub fn names(&self) -> Vec<(String, String)> {
        self.list
            .iter()
            .map(|p| (p.settings.id.clone(), p.settings.name.clone()))
            .collect()
    }

    async fn metadata(&self, p: &Provider, fresh: bool) -> Result<CoreProviderMetadata, OidcError> {
        if !fresh {
            let cached = p.metadata.read().unwrap_or_else(|e| e.into_inner());
            if let Some((m, at)) = cached.as_ref() {
                if at.elapsed() < METADATA_TTL {
                    return Ok(m.clone());
                }
            }
        }
        let issuer = IssuerUrl::new(p.settings.issuer.clone())
            .map_err(|e| OidcError::Unavailable(e.to_string()))?;
        let m = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| OidcError::Unavailable(format!("discovery: {e}")))?;
        *p.metadata.write().unwrap_or_else(|e| e.into_inner()) = Some((m.clone(), Instant::now()));
        Ok(m)
    }

    /// The authorization request (code flow, PKCE S256) to send the browser to.
    pub async fn start(&self, p: &Provider, redirect: &str) -> Result<Started, OidcError> {
        let m = self.metadata(p, false).await?;
        let redirect = RedirectUrl::new(redirect.to_string())
            .map_err(|e| OidcError::Unavailable(e.to_string()))?;
        let client = CoreClient::from_provider_metadata(
            m,
            ClientId::new(p.settings.client_id.clone()),
            Some(ClientSecret::new(
                p.settings.client_secret.expose_secret().to_string(),
            )),
        )
        .set_redirect_uri(redirect);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Started {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the code and checks the ID token at `now` (Meeloop's
    /// clock). A signature by a key we do not know reads the provider's
    /// keys again once (the provider rotated them).
    pub async fn finish(
        &self,
        p: &Provider,
        redirect: &str,
        code: &str,
        (verifier, nonce): (&str, &str),
        now: DateTime<Utc>,
    ) -> Result<Identity, OidcError> {
        let m = self.metadata(p, false).await?;
        let redirect = RedirectUrl::new(redirect.to_string())
            .map_err(|e| OidcError::Unavailable(e.to_string()))?;
        let client = |m: CoreProviderMetadata| {
            CoreClient::from_provider_metadata(
                m,
                ClientId::new(p.settings.client_id.clone()),
                Some(ClientSecret::new(
                    p.settings.client_secret.expose_secret().to_string(),
                )),
            )
            .set_redirect_uri(redirect.clone())
        };
        let first = client(m);
        let response = first
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| OidcError::Unavailable(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_string()))
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::Refused(format!("code exchange: {e}")))?;
        use openidconnect::TokenResponse;
        let id_token = response
            .id_token()
            .ok_or_else(|| OidcError::Refused("no ID token in the answer".into()))?
            .clone();
        let nonce = Nonce::new(nonce.to_string());
        let checked = identity(
            &id_token,
            first.id_token_verifier().set_time_fn(move || now),
            &nonce,
        );
        match checked {
            Ok(identity) => Ok(identity),
            Err(ClaimsVerificationError::SignatureVerification(_)) => {
                // Perhaps new keys: read them again, once.
                let again = client(self.metadata(p, true).await?);
                identity(
                    &id_token,
                    again.id_token_verifier().set_time_fn(move || now),
                    &nonce,
                )
                .map_err(|e| OidcError::Refused(format!("ID token: {e}")))
            }
            Err(e) => Err(OidcError::Refused(format!("ID token: {e}"))),
        }
    }
}

/// The ID token's claims, if every check passes.
fn identity(
    id_token: &CoreIdToken,
    verifier: CoreIdTokenVerifier<'_>,
    nonce: &Nonce,
) -> Result<Identity, ClaimsVerificationError> {
    let claims = id_token.claims(&verifier, nonce)?;
    Ok(Identity {
        subject: claims.subject().to_string(),
        email: claims.email().map(|e| e.to_string()),
        email_verified: claims.email_verified().unwrap_or(false),
        name: claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string()),
    })
}
