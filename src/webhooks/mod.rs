//! Webhook delivery (docs/webhooks.md): the guarded HTTP client and one
//! signed post. What may be sent where is decided in `domain::webhook`;
//! what is queued and recorded, in `service::webhooks`; the worker that
//! claims and posts is in `jobs::webhooks`.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::db::webhooks::{Attempt, Claimed, EndpointRow};
use crate::domain::webhook::{
    check_addresses, signature_header, snippet, AllowedHosts, Secret, Target, SNIPPET_CHARS,
};
use crate::domain::Invalid;

/// How an attempt ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub attempt: Attempt,
    pub delivered: bool,
}

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

/// An attempt that got no answer from the receiver.
pub fn failure(error: impl Into<String>, latency: Duration) -> Outcome {
    Outcome {
        attempt: Attempt {
            at: crate::db::now(),
            status: None,
            latency_ms: millis(latency),
            response: String::new(),
            error: Some(error.into()),
        },
        delivered: false,
    }
}

fn millis(d: Duration) -> i32 {
    i32::try_from(d.as_millis()).unwrap_or(i32::MAX)
}

/// Posts one claimed delivery to its endpoint, signed with the endpoint's secret (and, during a
/// rotation's overlap, the previous one's too).
pub async fn post(
    client: &reqwest::Client,
    allowed: &AllowedHosts,
    endpoint: &EndpointRow,
    claim: &Claimed,
) -> Outcome {
    let started = Instant::now();
    // The URL's host is checked again here when it is an address; a name
    // is checked by the client's resolver at every connection.
    let target = match Target::parse(&endpoint.url, false) {
        Ok(t) => t,
        Err(e) => return failure(e.message, started.elapsed()),
    };
    if target.ip().is_some() {
        // An address in the URL skips the resolver: checked here.
        if let Err(e) = check_target(&target, allowed).await {
            return failure(e.message, started.elapsed());
        }
    }
    let now = crate::db::now();
    let secret = match Secret::parse(&endpoint.secret) {
        Ok(s) => s,
        Err(e) => return failure(e.message, started.elapsed()),
    };
    let previous = endpoint
        .previous_secret
        .as_deref()
        .filter(|_| endpoint.previous_until.is_some_and(|until| until > now))
        .and_then(|s| Secret::parse(s).ok());
    let timestamp = now.and_utc().timestamp();
    let body = claim.payload.as_bytes();
    let signature = signature_header(
        &secret,
        previous.as_ref(),
        &claim.webhook_id,
        timestamp,
        body,
    );
    let sent = client
        .post(target.as_str())
        .header("content-type", "application/json")
        .header("webhook-id", &claim.webhook_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(claim.payload.clone())
        .send()
        .await;
    let mut response = match sent {
        Ok(r) => r,
        Err(e) => return failure(describe(&e), started.elapsed()),
    };
    let status = response.status();
    // Only the start of the answer is kept; the rest is not read.
    let mut head = Vec::new();
    let mut read_error = None;
    while head.len() < SNIPPET_CHARS * 4 {
        match response.chunk().await {
            Ok(Some(chunk)) => head.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) => {
                read_error = Some(describe(&e));
                break;
            }
        }
    }
    let latency = started.elapsed();
    let delivered = status.is_success() && read_error.is_none();
    let error = match (&read_error, status.is_success()) {
        (Some(e), _) => Some(e.clone()),
        (None, true) => None,
        (None, false) if status.is_redirection() => {
            Some(format!("HTTP {status}: redirects are not followed"))
        }
        (None, false) => Some(format!("HTTP {status}")),
    };
    Outcome {
        attempt: Attempt {
            at: crate::db::now(),
            status: Some(i32::from(status.as_u16())),
            latency_ms: millis(latency),
            response: snippet(&head),
            error,
        },
        delivered,
    }
}
