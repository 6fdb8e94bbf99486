//! The client's address, for rate limits and the audit log.

use std::net::IpAddr;

use actix_web::HttpRequest;

/// The address of the client. `X-Forwarded-For` is believed only when the
/// TCP peer is a configured trusted proxy (`server.trusted_proxies`); then the
/// right-most address that is not itself a trusted proxy is the client.
/// Anything else would let a client pick its own address and dodge limits.
pub fn address(req: &HttpRequest, trusted_proxies: &[IpAddr]) -> IpAddr {
    let peer = req
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    if !trusted_proxies.contains(&peer) {
        return peer;
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    forwarded
        .into_iter()
        .rev()
        .find(|hop| !trusted_proxies.contains(hop))
        .unwrap_or(peer)
}

/// Where a login comes from: the address and what the client's software
/// calls itself (`User-Agent`), for the sessions page.
pub fn origin(req: &HttpRequest, trusted_proxies: &[IpAddr]) -> crate::service::accounts::Origin {
    let agent = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    crate::service::accounts::Origin::new(address(req, trusted_proxies), agent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn req(peer: &str, xff: Option<&str>) -> HttpRequest {
        let mut r = TestRequest::default().peer_addr(format!("{peer}:1234").parse().unwrap());
        if let Some(x) = xff {
            r = r.insert_header(("X-Forwarded-For", x));
        }
        r.to_http_request()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let trusted = [proxy];
        // Untrusted peer: the header is ignored.
        assert_eq!(
            address(&req("198.51.100.7", Some("203.0.113.9")), &trusted).to_string(),
            "198.51.100.7"
        );
        // Trusted proxy: the right-most untrusted hop; a spoofed left-most entry is ignored.
        assert_eq!(
            address(&req("10.0.0.1", Some("1.2.3.4, 203.0.113.9")), &trusted).to_string(),
            "203.0.113.9"
        );
        assert_eq!(address(&req("10.0.0.1", None), &trusted), proxy);
        assert_eq!(address(&req("10.0.0.1", Some("garbage")), &trusted), proxy);
    }
}
