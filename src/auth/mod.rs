//! Authentication below the services: password hashing (argon2id), signed
//! tokens (one audience per purpose), single-use email link tokens and login
//! rate limits. The extractors that turn a bearer token into a caller sit at
//! the HTTP edge (`http::extract`).

pub mod jwt;
pub mod limits;
pub mod links;
pub mod oidc;
pub mod password;
pub mod totp;

/// Constant-time comparison of two secrets (CSRF tokens, OIDC states,
/// codes), so none can be guessed byte by byte.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
