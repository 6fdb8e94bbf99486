//! Authentication below the services: password hashing (argon2id), signed
//! tokens (one audience per purpose), single-use email link tokens and login
//! rate limits. The extractors that turn a bearer token into a caller sit at
//! the HTTP edge (`http::extract`).

pub mod jwt;
pub mod limits;
pub mod links;
pub mod password;
pub mod totp;
