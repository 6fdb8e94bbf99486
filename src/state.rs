//! What every request handler shares, built once by `app`. Its own module so
//! that the edges (`http`, `web`) depend on it without depending on `app`,
//! which depends on them.

use std::net::IpAddr;
use std::sync::Arc;

use crate::auth::jwt::JwtKeys;
use crate::auth::limits::{ApiLimiter, LoginLimiter};
use crate::db::DbPool;
use crate::service::accounts::SessionCache;
use crate::service::matching::MatchIndex;

/// Shared by every request handler.
pub struct AppState {
    pub pool: DbPool,
    pub jwt: Arc<JwtKeys>,
    pub login_limiter: LoginLimiter,
    pub api_limiter: ApiLimiter,
    pub trusted_proxies: Vec<IpAddr>,
    pub matching: Arc<MatchIndex>,
    pub sessions: SessionCache,
    /// Base of links in emails, without a trailing slash. (The transport
    /// belongs to the delivery worker alone: handlers only queue.)
    pub base_url: String,
    pub visits: crate::domain::visit::VisitRules,
}
