//! Single-use links in emails (invitations, lessons-learned forms): a
//! random 256-bit token travels in the URL; the database keeps only its
//! SHA-256, so a copy of the database opens no invitation.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// A fresh token: `plain` goes into the email, `hash` into the database.
pub struct LinkToken {
    pub plain: String,
    pub hash: String,
}

pub fn new_token() -> LinkToken {
    let bytes: [u8; 32] = rand::random();
    let plain = URL_SAFE_NO_PAD.encode(bytes);
    let hash = digest(&plain);
    LinkToken { plain, hash }
}

/// The stored form of a token from a URL; `None` when it cannot be one of
/// ours (wrong length or alphabet), so junk never reaches the database.
pub fn hash(plain: &str) -> Option<String> {
    let valid = plain.len() == 43
        && plain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    valid.then(|| digest(plain))
}

/// SHA-256 of `plain`, in hex.
pub(crate) fn digest(plain: &str) -> String {
    Sha256::digest(plain.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_urlsafe_and_only_their_hash_matches() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a.plain, b.plain);
        assert_eq!(a.plain.len(), 43);
        assert_eq!(hash(&a.plain).as_deref(), Some(a.hash.as_str()));
        assert_ne!(a.hash, a.plain);
        assert_eq!(a.hash.len(), 64);
        for junk in [
            "",
            "short",
            &format!("{}=", &a.plain[..42]),
            &"ä".repeat(43),
        ] {
            assert_eq!(hash(junk), None, "{junk}");
        }
    }
}
