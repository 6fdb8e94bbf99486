//! Brute-force protection for credential endpoints: a token bucket per client
//! address and one per account, in memory (each instance keeps its own).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// Above this many tracked keys, forget those whose bucket is full again.
const HOUSEKEEPING_THRESHOLD: usize = 10_000;

/// `burst` at once, then one more every `refill`.
fn quota(burst: u32, refill: Duration) -> Quota {
    Quota::with_period(refill.max(Duration::from_millis(1)))
        .expect("non-zero period")
        .allow_burst(NonZeroU32::new(burst.max(1)).expect("non-zero burst"))
}

pub struct LoginLimiter {
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    by_account: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl LoginLimiter {
    /// `burst` attempts at once, then one more every `refill`.
    pub fn new(burst: u32, refill: Duration) -> Self {
        let quota = quota(burst, refill);
        LoginLimiter {
            by_address: DefaultKeyedRateLimiter::keyed(quota),
            by_account: DefaultKeyedRateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one attempt from `address` on `account`. `Err` carries the
    /// whole seconds to wait (at least 1), for `Retry-After`.
    pub fn check(&self, address: IpAddr, account: &str) -> Result<(), u64> {
        for limiter_len in [self.by_address.len(), self.by_account.len()] {
            if limiter_len > HOUSEKEEPING_THRESHOLD {
                self.by_address.retain_recent();
                self.by_account.retain_recent();
            }
        }
        let wait = |not_until: governor::NotUntil<_>| {
            not_until
                .wait_time_from(self.clock.now())
                .as_secs_f64()
                .ceil()
                .max(1.0) as u64
        };
        self.by_address.check_key(&address).map_err(wait)?;
        self.by_account
            .check_key(&account.trim().to_lowercase())
            .map_err(wait)
    }
}

/// A generous limit on authenticated API requests, per token subject
/// (`user:<id>` or `partner:<client id>`), so one runaway script cannot
/// starve everyone else.
pub struct ApiLimiter {
    by_subject: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl ApiLimiter {
    pub fn new(burst: u32, refill: Duration) -> Self {
        let quota = quota(burst, refill);
        ApiLimiter {
            by_subject: DefaultKeyedRateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one request; `Err` carries the whole seconds to wait.
    pub fn check(&self, subject: &str) -> Result<(), u64> {
        if self.by_subject.len() > HOUSEKEEPING_THRESHOLD {
            self.by_subject.retain_recent();
        }
        self.by_subject
            .check_key(&subject.to_string())
            .map_err(|not_until| {
                not_until
                    .wait_time_from(self.clock.now())
                    .as_secs_f64()
                    .ceil()
                    .max(1.0) as u64
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_address_and_per_account() {
        let limiter = LoginLimiter::new(3, Duration::from_secs(60));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for i in 0..3 {
            assert!(limiter.check(a, &format!("user{i}@x.nl")).is_ok());
        }
        let retry = limiter.check(a, "other@x.nl").unwrap_err();
        assert!((1..=60).contains(&retry), "{retry}");
        // The same account from other addresses runs out too.
        for _ in 0..3 {
            let _ = limiter.check(b, "target@x.nl");
        }
        let c: IpAddr = "192.0.2.3".parse().unwrap();
        assert!(
            limiter.check(c, "TARGET@x.nl").is_err(),
            "accounts ignore case"
        );
        assert!(limiter.check(c, "someone-else@x.nl").is_ok());
    }
}
