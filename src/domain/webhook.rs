//! Webhooks (docs/webhooks.md): which events a partner may hear of, which
//! URLs may receive them, how a delivery is signed (Standard Webhooks 1.0)
//! and when a failed one is tried again. Pure: resolving names and sending
//! happen in `webhooks` and `service::webhooks`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine;
use chrono::{Duration, NaiveDateTime};
use hmac::{KeyInit, Mac};

use super::Invalid;

super::named_enum! {
    /// What a partner can be told of.
    pub enum EventType ("event type") {
        VisitRequested = "visit.requested",
        VisitAccepted = "visit.accepted",
        VisitDeclined = "visit.declined",
        VisitCancelled = "visit.cancelled",
        VisitExpired = "visit.expired",
        VisitCompleted = "visit.completed",
        LessonPublished = "lesson.published",
        OrganisationUpdated = "organisation.updated",
    }
}

/// The type of the message a partner sends themselves to try an endpoint;
/// delivered whatever the endpoint subscribed to.
pub const TEST_EVENT: &str = "webhook.test";

/// The event types an endpoint wants: sorted, without duplicates, never
/// empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTypes(Vec<EventType>);

impl EventTypes {
    pub fn new(names: &[String]) -> Result<Self, Invalid> {
        let mut types = names
            .iter()
            .map(|n| n.parse())
            .collect::<Result<Vec<EventType>, _>>()?;
        types.sort_by_key(|t| t.as_str());
        types.dedup();
        if types.is_empty() {
            return Err(Invalid::new("give at least one event type"));
        }
        Ok(EventTypes(types))
    }

    /// As stored: separated by spaces.
    pub fn parse_stored(raw: &str) -> Result<Self, Invalid> {
        let names: Vec<String> = raw.split(' ').map(str::to_string).collect();
        EventTypes::new(&names)
    }

    pub fn contains(&self, t: EventType) -> bool {
        self.0.contains(&t)
    }

    pub fn iter(&self) -> impl Iterator<Item = EventType> + '_ {
        self.0.iter().copied()
    }

    pub fn stored(&self) -> String {
        let names: Vec<&str> = self.0.iter().map(|t| t.as_str()).collect();
        names.join(" ")
    }
}

/// The longest description an endpoint may have, in characters.
pub const MAX_DESCRIPTION: usize = 500;

/// What an endpoint is for, trimmed.
pub fn parse_description(raw: &str) -> Result<String, Invalid> {
    let text = raw.trim();
    if text.chars().count() > MAX_DESCRIPTION {
        return Err(Invalid::new(format!(
            "description: at most {MAX_DESCRIPTION} characters"
        )));
    }
    Ok(text.to_string())
}

/// The longest URL an endpoint may have.
pub const MAX_URL: usize = 2000;

/// A URL that may receive deliveries, as far as its text tells: http(s),
/// a host, no user name or password, no fragment. Where its host points is
/// checked separately ([`refusal`]), when it is registered and before every
/// delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    url: url::Url,
}

impl Target {
    /// `https_only` in production: deliveries carry data and a signature
    /// that must not be read or replayed on the way.
    pub fn parse(raw: &str, https_only: bool) -> Result<Self, Invalid> {
        if raw.len() > MAX_URL {
            return Err(Invalid::new(format!(
                "a webhook URL has at most {MAX_URL} characters"
            )));
        }
        let url = url::Url::parse(raw)
            .map_err(|e| Invalid::new(format!("'{raw}' is not a URL ({e})")))?;
        match url.scheme() {
            "https" => {}
            "http" if !https_only => {}
            "http" => return Err(Invalid::new("a webhook URL must use https")),
            other => {
                return Err(Invalid::new(format!(
                    "a webhook URL uses https, not {other}"
                )))
            }
        }
        if url.host().is_none() {
            return Err(Invalid::new("a webhook URL needs a host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Invalid::new(
                "a webhook URL carries no user name or password; the signature proves who sends",
            ));
        }
        if url.fragment().is_some() {
            return Err(Invalid::new("a webhook URL has no #fragment"));
        }
        Ok(Target { url })
    }

    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }

    /// The host as written (an IPv6 address without brackets).
    pub fn host(&self) -> String {
        match self.url.host() {
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            Some(host) => host.to_string(),
            None => String::new(),
        }
    }

    /// The host when it is an address rather than a name.
    pub fn ip(&self) -> Option<IpAddr> {
        match self.url.host()? {
            url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            url::Host::Domain(_) => None,
        }
    }

    pub fn port(&self) -> u16 {
        self.url.port_or_known_default().unwrap_or(443)
    }
}

/// Hosts whose addresses are not checked: what an operator allows in
/// `webhooks.allowed_hosts` (a receiver inside their own network).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts(Vec<String>);

impl AllowedHosts {
    pub fn new(hosts: &[String]) -> Self {
        AllowedHosts(
            hosts
                .iter()
                .map(|h| h.trim_matches(['[', ']']).to_ascii_lowercase())
                .collect(),
        )
    }

    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
        self.0.contains(&host)
    }
}

/// Why a delivery may not go to this address, or `None` when it is a
/// public one. Anything a request from inside Meeloop's network could
/// reach and the internet could not is refused: loopback, private,
/// link-local, multicast, and every other range IANA reserves.
pub fn refusal(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refusal_v4(v4),
        IpAddr::V6(v6) => refusal_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], bits: u32) -> bool {
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn refusal_v4(ip: Ipv4Addr) -> Option<&'static str> {
    const RANGES: &[([u8; 4], u32, &str)] = &[
        ([0, 0, 0, 0], 8, "a reserved address (this network)"),
        ([10, 0, 0, 0], 8, "a private address"),
        ([100, 64, 0, 0], 10, "a shared (carrier-grade NAT) address"),
        ([127, 0, 0, 0], 8, "a loopback address"),
        ([169, 254, 0, 0], 16, "a link-local address"),
        ([172, 16, 0, 0], 12, "a private address"),
        ([192, 0, 0, 0], 24, "a reserved address (IETF protocols)"),
        ([192, 0, 2, 0], 24, "a documentation address"),
        ([192, 88, 99, 0], 24, "a reserved address (6to4 relay)"),
        ([192, 168, 0, 0], 16, "a private address"),
        ([198, 18, 0, 0], 15, "a reserved address (benchmarking)"),
        ([198, 51, 100, 0], 24, "a documentation address"),
        ([203, 0, 113, 0], 24, "a documentation address"),
        ([224, 0, 0, 0], 4, "a multicast address"),
        ([240, 0, 0, 0], 4, "a reserved address"),
    ];
    RANGES
        .iter()
        .find(|(net, bits, _)| in_v4(ip, *net, *bits))
        .map(|(_, _, why)| *why)
}

fn in_v6(ip: Ipv6Addr, net: [u16; 8], bits: u32) -> bool {
    let mask = if bits == 0 {
        0
    } else {
        u128::MAX << (128 - bits)
    };
    u128::from(ip) & mask == u128::from(Ipv6Addr::from(net)) & mask
}

fn refusal_v6(ip: Ipv6Addr) -> Option<&'static str> {
    // Addresses that carry an IPv4 address reach it: judge that one.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return refusal_v4(v4);
    }
    let bits = u128::from(ip);
    let embedded = Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    if in_v6(ip, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
        return refusal_v4(embedded);
    }
    if in_v6(ip, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16) {
        return refusal_v4(Ipv4Addr::from(((bits >> 80) & 0xffff_ffff) as u32));
    }
    const RANGES: &[([u16; 8], u32, &str)] = &[
        ([0, 0, 0, 0, 0, 0, 0, 1], 128, "a loopback address"),
        (
            [0, 0, 0, 0, 0, 0, 0, 0],
            96,
            "a reserved address (unspecified or IPv4-compatible)",
        ),
        (
            [0x64, 0xff9b, 1, 0, 0, 0, 0, 0],
            48,
            "a reserved address (local NAT64)",
        ),
        (
            [0x100, 0, 0, 0, 0, 0, 0, 0],
            64,
            "a reserved address (discard)",
        ),
        (
            [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0],
            32,
            "a documentation address",
        ),
        (
            [0x2001, 0, 0, 0, 0, 0, 0, 0],
            23,
            "a reserved address (IETF protocols)",
        ),
        ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, "a documentation address"),
        (
            [0x5f00, 0, 0, 0, 0, 0, 0, 0],
            16,
            "a reserved address (segment routing)",
        ),
        (
            [0xfc00, 0, 0, 0, 0, 0, 0, 0],
            7,
            "a private (unique local) address",
        ),
        ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, "a link-local address"),
        (
            [0xfec0, 0, 0, 0, 0, 0, 0, 0],
            10,
            "a reserved address (site-local)",
        ),
        ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, "a multicast address"),
    ];
    if let Some((_, _, why)) = RANGES.iter().find(|(net, b, _)| in_v6(ip, *net, *b)) {
        return Some(why);
    }
    // Only the global unicast block is handed out; the rest is reserved.
    if !in_v6(ip, [0x2000, 0, 0, 0, 0, 0, 0, 0], 3) {
        return Some("a reserved address");
    }
    None
}

/// Why none of `addresses` may be used (the first forbidden one), unless
/// the host is allowed. An empty list cannot be used either.
pub fn check_addresses(
    host: &str,
    addresses: &[IpAddr],
    allowed: &AllowedHosts,
) -> Result<(), Invalid> {
    if allowed.allows(host) {
        return Ok(());
    }
    if addresses.is_empty() {
        return Err(Invalid::new(format!("'{host}' has no address")));
    }
    // One forbidden answer is enough to refuse: a name that resolves to a
    // public and a private address could be steered to the private one.
    for ip in addresses {
        if let Some(why) = refusal(*ip) {
            return Err(Invalid::new(format!(
                "'{host}' resolves to {ip}, {why}; webhooks go to public addresses only"
            )));
        }
    }
    Ok(())
}

/// A signing secret as partners see it: `whsec_` and the base64 of its
/// key (Standard Webhooks 1.0).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// A secret from 32 random bytes the caller drew.
    pub fn from_key(key: [u8; 32]) -> Self {
        Secret(key.to_vec())
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let encoded = raw
            .strip_prefix("whsec_")
            .ok_or_else(|| Invalid::new("a signing secret starts with whsec_"))?;
        let key = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| Invalid::new("a signing secret is whsec_ and base64"))?;
        if !(24..=64).contains(&key.len()) {
            return Err(Invalid::new("a signing key has 24 to 64 bytes"));
        }
        Ok(Secret(key))
    }

    pub fn expose(&self) -> String {
        format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode(&self.0)
        )
    }

    /// `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.0)
            .expect("HMAC takes keys of any length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!(
            "v1,{}",
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        )
    }
}

/// The `webhook-signature` header: the current secret's signature, and
/// during a rotation's overlap the previous secret's too, separated by a
/// space (receivers accept a message when any signature verifies).
pub fn signature_header(
    current: &Secret,
    previous: Option<&Secret>,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    let mut header = current.sign(id, timestamp, body);
    if let Some(previous) = previous {
        header.push(' ');
        header.push_str(&previous.sign(id, timestamp, body));
    }
    header
}

super::named_enum! {
    /// Where a delivery stands.
    pub enum DeliveryState ("delivery state") {
        Pending = "pending",
        Sending = "sending",
        Delivered = "delivered",
        Dead = "dead",
    }
}

/// When failed deliveries are tried again: after each delay in turn (with
/// jitter), and dead when they run out. The default is the schedule the
/// Standard Webhooks guidance suggests: about a day and a quarter in all.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub delays: Vec<Duration>,
    /// ± this share of each delay, e.g. 0.2.
    pub jitter: f64,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            delays: [5, 300, 1800, 7200, 18_000, 36_000, 36_000]
                .into_iter()
                .map(Duration::seconds)
                .collect(),
            jitter: 0.2,
        }
    }
}

impl Schedule {
    /// Attempts a delivery gets before it is dead.
    pub fn max_attempts(&self) -> usize {
        self.delays.len() + 1
    }

    /// After `attempts` failed attempts, when to try again; `None` when
    /// the delivery is dead. `random` is in 0..1, drawn by the caller.
    pub fn after_failure(
        &self,
        attempts: u32,
        now: NaiveDateTime,
        random: f64,
    ) -> Option<NaiveDateTime> {
        let index = usize::try_from(attempts.max(1) - 1).ok()?;
        let base = self.delays.get(index)?.num_milliseconds() as f64;
        let factor = 1.0 + self.jitter * (2.0 * random.clamp(0.0, 1.0) - 1.0);
        Some(now + Duration::milliseconds((base * factor).round() as i64))
    }
}

/// Whether an endpoint that has failed since `failing_since` is switched
/// off now.
pub fn should_disable(
    failing_since: Option<NaiveDateTime>,
    now: NaiveDateTime,
    after: Duration,
) -> bool {
    failing_since.is_some_and(|since| now - since >= after)
}

/// What an endpoint does now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointStatus {
    Active,
    /// Its partner paused it; deliveries wait.
    Paused,
    /// An admin paused it; only an admin resumes it.
    Held,
    /// Switched off after failing for too long; its partner resumes it.
    Disabled,
}

impl EndpointStatus {
    pub fn of(paused: bool, held: bool, disabled_at: Option<NaiveDateTime>) -> Self {
        if held {
            EndpointStatus::Held
        } else if disabled_at.is_some() {
            EndpointStatus::Disabled
        } else if paused {
            EndpointStatus::Paused
        } else {
            EndpointStatus::Active
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EndpointStatus::Active => "active",
            EndpointStatus::Paused => "paused",
            EndpointStatus::Held => "held",
            EndpointStatus::Disabled => "disabled",
        }
    }
}

/// How much of a receiver's answer the log keeps.
pub const SNIPPET_CHARS: usize = 500;

/// The start of a receiver's answer, as text a page can show: control
/// characters become spaces.
pub fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .chars()
        .take(SNIPPET_CHARS)
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect()
}

/// What the use cases need to know about webhooks from configuration.
#[derive(Debug, Clone)]
pub struct WebhookRules {
    /// Production: endpoints must use https.
    pub https_only: bool,
    pub allowed: AllowedHosts,
    pub max_endpoints: i64,
    /// How long the previous secret still signs after a rotation.
    pub overlap: Duration,
}

impl Default for WebhookRules {
    fn default() -> Self {
        WebhookRules {
            https_only: true,
            allowed: AllowedHosts::default(),
            max_endpoints: 10,
            overlap: Duration::hours(24),
        }
    }
}

/// An endpoint as partners and admins see it (never its secret).
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub id: i64,
    pub partner_id: i64,
    pub url: String,
    pub description: String,
    pub event_types: EventTypes,
    pub status: EndpointStatus,
    /// Paused by its partner.
    pub paused: bool,
    pub failing_since: Option<NaiveDateTime>,
    pub disabled_at: Option<NaiveDateTime>,
    /// Until when the previous secret also signs.
    pub previous_secret_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// One attempt to deliver, as the log shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptLog {
    pub at: NaiveDateTime,
    /// The receiver's HTTP status; `None` when none came (refused
    /// address, timeout, connection error).
    pub status: Option<i32>,
    pub latency_ms: i32,
    /// The start of the receiver's answer.
    pub response: String,
    pub error: Option<String>,
}

/// A delivery with its attempts, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: i64,
    pub endpoint_id: i64,
    pub webhook_id: String,
    pub event_type: String,
    pub state: DeliveryState,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
    pub given_up_at: Option<NaiveDateTime>,
    pub log: Vec<AttemptLog>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(ip: &str) -> Option<&'static str> {
        refusal(ip.parse().unwrap())
    }

    #[test]
    fn loopback_private_link_local_multicast_and_reserved_addresses_are_refused() {
        for (ip, kind) in [
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback"),
            ("::1", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("fd12:3456::1", "private"),
            ("169.254.169.254", "link-local"),
            ("fe80::1", "link-local"),
            ("224.0.0.251", "multicast"),
            ("ff02::1", "multicast"),
            ("0.0.0.0", "reserved"),
            ("::", "reserved"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.255", "reserved"),
            ("100.64.0.1", "shared"),
            ("198.18.0.1", "benchmarking"),
            ("192.0.2.10", "documentation"),
            ("2001:db8::1", "documentation"),
            ("2001::1", "reserved"),
            ("fec0::1", "site-local"),
            // IPv4 inside IPv6 is judged as the IPv4 address it reaches.
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.0.0.1", "private"),
            ("64:ff9b::a9fe:a9fe", "link-local"),
            ("2002:c0a8:0101::1", "private"),
        ] {
            let why = refused(ip).unwrap_or_else(|| panic!("{ip} should be refused"));
            assert!(why.contains(kind), "{ip}: {why}");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for ip in [
            "8.8.8.8",
            "145.97.39.155",
            "172.32.0.1",
            "192.169.0.1",
            "100.128.0.1",
            "2a00:1450:400e:80c::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2606:4700::6810:84e5",
        ] {
            assert_eq!(refused(ip), None, "{ip}");
        }
    }

    #[test]
    fn a_name_with_one_forbidden_address_is_refused_unless_its_host_is_allowed() {
        let addrs: Vec<IpAddr> = vec!["8.8.8.8".parse().unwrap(), "10.0.0.5".parse().unwrap()];
        let none = AllowedHosts::default();
        let err = check_addresses("hooks.example.nl", &addrs, &none).unwrap_err();
        assert!(err.message.contains("10.0.0.5") && err.message.contains("private"));
        assert!(check_addresses("hooks.example.nl", &[], &none).is_err());
        let allowed = AllowedHosts::new(&["Hooks.Example.NL".into(), "[::1]".into()]);
        assert!(check_addresses("hooks.example.nl", &addrs, &allowed).is_ok());
        assert!(check_addresses("::1", &["::1".parse().unwrap()], &allowed).is_ok());
        assert!(check_addresses("localhost", &["127.0.0.1".parse().unwrap()], &allowed).is_err());
    }

    #[test]
    fn urls_must_be_http_with_a_host_and_https_in_production() {
        assert!(Target::parse("https://hooks.example.nl/meeloop", true).is_ok());
        let http = Target::parse("http://hooks.example.nl/x", true).unwrap_err();
        assert!(http.message.contains("https"));
        assert!(Target::parse("http://127.0.0.1:8080/x", false).is_ok());
        for bad in [
            "ftp://example.nl/x",
            "https://user:pw@example.nl/x",
            "https://example.nl/x#frag",
            "not a url",
            "file:///etc/passwd",
        ] {
            assert!(Target::parse(bad, false).is_err(), "{bad}");
        }
        let long = format!("https://example.nl/{}", "a".repeat(MAX_URL));
        assert!(Target::parse(&long, false).is_err());
        let v6 = Target::parse("https://[::1]:8443/x", false).unwrap();
        assert_eq!(v6.host(), "::1");
        assert_eq!(v6.ip(), Some("::1".parse().unwrap()));
        assert_eq!(v6.port(), 8443);
        // Numeric hosts in other spellings are still addresses.
        let odd = Target::parse("http://2130706433/x", false).unwrap();
        assert_eq!(odd.ip(), Some("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn signatures_follow_standard_webhooks() {
        // The example of the Standard Webhooks specification.
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert_eq!(Secret::parse(&secret.expose()).unwrap(), secret);
        let previous = Secret::from_key([7; 32]);
        let both = signature_header(&secret, Some(&previous), "msg_1", 1, b"{}");
        let parts: Vec<&str> = both.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1], previous.sign("msg_1", 1, b"{}"));
        assert!(Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(format!("{secret:?}").find("MfKQ").is_none());
    }

    #[test]
    fn retries_follow_the_schedule_with_jitter_then_die() {
        let now = chrono::NaiveDate::from_ymd_opt(2027, 1, 4)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        let s = Schedule::default();
        assert_eq!(s.max_attempts(), 8);
        assert_eq!(
            s.after_failure(1, now, 0.5),
            Some(now + Duration::seconds(5))
        );
        assert_eq!(
            s.after_failure(2, now, 0.0),
            Some(now + Duration::seconds(240))
        );
        assert_eq!(
            s.after_failure(2, now, 1.0),
            Some(now + Duration::seconds(360))
        );
        assert_eq!(
            s.after_failure(7, now, 0.5),
            Some(now + Duration::hours(10))
        );
        assert_eq!(s.after_failure(8, now, 0.5), None);
        let total: i64 = s.delays.iter().map(|d| d.num_seconds()).sum();
        assert!(
            total > 86_400,
            "retries outlast the day after which endpoints are switched off"
        );
    }

    #[test]
    fn endpoints_fail_for_a_day_before_they_are_switched_off() {
        let now = chrono::NaiveDate::from_ymd_opt(2027, 1, 4)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        let day = Duration::hours(24);
        assert!(!should_disable(None, now, day));
        assert!(!should_disable(Some(now - Duration::hours(23)), now, day));
        assert!(should_disable(Some(now - day), now, day));
        assert_eq!(EndpointStatus::of(true, true, None), EndpointStatus::Held);
        assert_eq!(
            EndpointStatus::of(true, false, Some(now)),
            EndpointStatus::Disabled
        );
        assert_eq!(
            EndpointStatus::of(true, false, None),
            EndpointStatus::Paused
        );
        assert_eq!(
            EndpointStatus::of(false, false, None),
            EndpointStatus::Active
        );
    }

    #[test]
    fn event_types_are_sorted_and_known() {
        let t = EventTypes::new(&[
            "visit.accepted".into(),
            "lesson.published".into(),
            "visit.accepted".into(),
        ])
        .unwrap();
        assert_eq!(t.stored(), "lesson.published visit.accepted");
        assert_eq!(EventTypes::parse_stored(&t.stored()).unwrap(), t);
        assert!(EventTypes::new(&[]).is_err());
        let unknown = EventTypes::new(&["visit.exploded".into()]).unwrap_err();
        assert!(unknown.message.contains("visit.requested"));
    }

    #[test]
    fn snippets_are_short_printable_text() {
        let long = "é".repeat(SNIPPET_CHARS + 10);
        assert_eq!(snippet(long.as_bytes()).chars().count(), SNIPPET_CHARS);
        assert_eq!(snippet(b"ok\x1b[31m\xff"), "ok [31m\u{fffd}");
    }
}
