//! What every request handler shares, built once by `app`. Its own module so
//! that the edges (`http`, `web`) depend on it without depending on `app`,
//! which depends on them.

use std::net::IpAddr;
use std::sync::Arc;

use crate::auth::jwt::JwtKeys;
use crate::auth::limits::{ApiLimiter, LoginLimiter};
use crate::service::accounts::SessionCache;
use crate::service::context::Context;

/// Shared by every request handler.
pub struct AppState {
    /// What the use cases need: database, link base, visit rules, matching
    /// index, clock. (The mail transport belongs to the delivery worker
    /// alone: handlers only queue.)
    pub ctx: Context,
    pub jwt: Arc<JwtKeys>,
    pub login_limiter: LoginLimiter,
    /// "Forgot password" requests, per client address and per address asked about.
    pub reset_limiter: LoginLimiter,
    pub api_limiter: ApiLimiter,
    /// Exports of personal data per caller (they read whole tables).
    pub export_limiter: ApiLimiter,
    pub trusted_proxies: Vec<IpAddr>,
    pub sessions: SessionCache,
}
