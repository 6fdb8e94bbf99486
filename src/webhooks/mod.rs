//! Webhook delivery (docs/webhooks.md): the guarded HTTP client and the
//! delivery worker. What may be sent where is decided in
//! `domain::webhook`; what is queued, in `service::webhooks`.

pub mod worker;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::domain::webhook::{check_addresses, AllowedHosts, Target};
use crate::domain::Invalid;

/// How long a name may take to resolve.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(3);

async fn lookup(host: &str, port: u16) -> Result<Vec<SocketAddr>, Invalid> {
    let found = tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, port)))
        .await
        .map_err(|_| Invalid::new(format!("'{host}' did not resolve in time")))?
        .map_err(|_| Invalid::new(format!("'{host}' does not resolve")))?;
    Ok(found.collect())
}

/// Whether deliveries may go to `target` now: its address, or every
/// address its name resolves to, must be public unless the operator
/// allows the host. Asked when an endpoint is registered or changed; the
/// client below asks again at every connection.
pub async fn check_target(target: &Target, allowed: &AllowedHosts) -> Result<(), Invalid> {
    let host = target.host();
    if let Some(ip) = target.ip() {
        return check_addresses(&host, &[ip], allowed);
    }
    if allowed.allows(&host) {
        return Ok(());
    }
    let addresses: Vec<IpAddr> = lookup(&host, target.port())
        .await?
        .into_iter()
        .map(|a| a.ip())
        .collect();
    check_addresses(&host, &addresses, allowed)
}

/// Resolves names for the delivery client and refuses any answer with a
/// forbidden address, so the connection goes only where the check allowed
/// (a name cannot resolve to a public address for the check and to a
/// private one for the request).
struct GuardedResolver {
    allowed: AllowedHosts,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allowed = self.allowed.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found = lookup(&host, 0).await?;
            let ips: Vec<IpAddr> = found.iter().map(|a| a.ip()).collect();
            check_addresses(&host, &ips, &allowed)?;
            let addrs: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// The client deliveries go out with: names resolved through the guard, no
/// proxy (it would resolve the name instead of us), no redirects (a 3xx
/// could point anywhere: it counts as a failure), a deadline per request.
pub fn client(allowed: &AllowedHosts, timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(GuardedResolver {
            allowed: allowed.clone(),
        }))
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("Meeloop-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("webhook client: {e}"))
}

/// An error and its causes on one line (reqwest wraps the guard's refusal
/// in a connection error).
pub(crate) fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}
