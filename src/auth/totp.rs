//! Two-step verification: time-based one-time codes (RFC 6238: HMAC-SHA1,
//! six digits, 30-second steps, as every authenticator app does them), the
//! QR code that carries the secret to the app (inline SVG, nothing
//! fetched), and recovery codes (random, stored as SHA-256).

use qrcode::render::svg;
use qrcode::QrCode;
use totp_rs::{Algorithm, Secret, TOTP};

/// Seconds per step.
pub const STEP: u64 = 30;
const DIGITS: usize = 6;
/// The issuer authenticator apps show beside the account.
pub const ISSUER: &str = "Meeloop";

/// A new secret: 160 random bits (RFC 4226's recommendation), base32.
pub fn new_secret() -> String {
    let bytes: [u8; 20] = rand::random();
    Secret::Raw(bytes.to_vec()).to_encoded().to_string()
}

fn totp(secret: &str, account: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret.to_string()).to_bytes().ok()?;
    // The account name may not hold ':' (the URI's separator).
    let account = account.replace(':', " ");
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP,
        bytes,
        Some(ISSUER.to_string()),
        account,
    )
    .ok()
}

/// The `otpauth://` URI an app reads from the QR code.
pub fn uri(secret: &str, account: &str) -> Option<String> {
    totp(secret, account).map(|t| t.get_url())
}

/// The code of `secret` at unix time `at` (for tests and the CLI's checks).
pub fn code_at(secret: &str, at: u64) -> Option<String> {
    totp(secret, "").map(|t| t.generate(at))
}

/// The step (unix time / 30) whose code `code` is, if it is one of the
/// step at `now` or its neighbours (a clock up to 30 s off either way).
pub fn matching_step(secret: &str, code: &str, now: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret, "")?;
    let current = now / STEP;
    [current.saturating_sub(1), current, current + 1]
        .into_iter()
        .find(|step| super::same(&totp.generate(step * STEP), code))
}

/// The QR code of `uri` as an SVG element, to put inline in a page.
pub fn qr_svg(uri: &str) -> Option<String> {
    let code = QrCode::new(uri.as_bytes()).ok()?;
    let svg = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // The XML declaration is not wanted inside HTML.
    Some(match svg.find("<svg") {
        Some(at) => svg[at..].to_string(),
        None => svg,
    })
}

/// Letters and digits that cannot be mistaken for each other.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// A recovery code to show once: ten characters (about 50 random bits), as
/// `abcde-fghjk`.
pub fn new_recovery_code() -> String {
    let pick = || ALPHABET[rand::random_range(0..ALPHABET.len())] as char;
    let first: String = (0..5).map(|_| pick()).collect();
    let second: String = (0..5).map(|_| pick()).collect();
    format!("{first}-{second}")
}

/// A typed recovery code as stored: lower case, without spaces or dashes,
/// hashed. `None` when it cannot be one of ours.
pub fn recovery_hash(typed: &str) -> Option<String> {
    let plain: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    let ours = plain.len() == 10 && plain.bytes().all(|b| ALPHABET.contains(&b));
    ours.then(|| super::links::digest(&plain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_rfc_6238() {
        // RFC 6238, appendix B: the SHA-1 key "12345678901234567890"; the
        // six-digit codes are the last six of the eight-digit ones.
        let secret = Secret::Raw(b"12345678901234567890".to_vec())
            .to_encoded()
            .to_string();
        for (time, eight) in [
            (59, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
        ] {
            assert_eq!(code_at(&secret, time).unwrap(), &eight[2..], "{time}");
            assert_eq!(matching_step(&secret, &eight[2..], time), Some(time / STEP));
        }
    }

    #[test]
    fn a_code_is_good_for_its_step_and_the_neighbours_only() {
        let secret = new_secret();
        let now = 1_800_000_015;
        let code = code_at(&secret, now).unwrap();
        assert_eq!(matching_step(&secret, &code, now + 30), Some(now / STEP));
        assert_eq!(matching_step(&secret, &code, now - 30), Some(now / STEP));
        assert_eq!(matching_step(&secret, &code, now + 90), None);
        assert_eq!(matching_step(&secret, "12345", now), None);
        assert_eq!(matching_step(&secret, "abcdef", now), None);
        assert!(uri(&secret, "anne@gemeente.nl")
            .unwrap()
            .starts_with("otpauth://totp/Meeloop:anne%40gemeente.nl?secret="));
    }

    #[test]
    fn the_qr_code_is_inline_svg() {
        let svg = qr_svg("otpauth://totp/Meeloop:a?secret=ABC&issuer=Meeloop").unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(!svg.contains("http://") || svg.contains("http://www.w3.org/2000/svg"));
    }

    #[test]
    fn recovery_codes_are_read_forgivingly_and_stored_hashed() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 11);
        let hash = recovery_hash(&code).unwrap();
        assert_eq!(recovery_hash(&code.to_uppercase()), Some(hash.clone()));
        assert_eq!(recovery_hash(&code.replace('-', " ")), Some(hash.clone()));
        assert_eq!(hash.len(), 64);
        assert_ne!(recovery_hash(&new_recovery_code()), Some(hash));
        assert_eq!(recovery_hash("123456"), None);
        assert_eq!(
            recovery_hash("abcde-fghji"),
            None,
            "'i' is not in the alphabet"
        );
    }
}
