//! Keyed pseudonyms (`[PHONE:3f2a9c]`): HMAC-SHA256 over a normalised value, so operators can
//! correlate occurrences of the same value without ever seeing it.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::kind::{Kind, PSEUDONYM_HEX_LEN};

/// Shortest accepted key; shorter keys make the pseudonyms guessable by brute force.
pub const MIN_KEY_LEN: usize = 16;

/// Computes pseudonyms with one secret key. Cloning shares nothing mutable.
#[derive(Clone)]
pub struct Pseudonymizer {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.write_str("Pseudonymizer { .. }")
    }
}

impl Pseudonymizer {
    /// Builds a pseudonymizer; `None` when the key is shorter than [`MIN_KEY_LEN`].
    pub fn new(key: &[u8]) -> Option<Self> {
        if key.len() < MIN_KEY_LEN {
            return None;
        }
        Hmac::<Sha256>::new_from_slice(key)
            .ok()
            .map(|mac| Self { mac })
    }

    /// Appends `[KIND:xxxxxx]` for `value` to `out`.
    pub fn write_token(&self, kind: Kind, value: &str, out: &mut String) {
        let mut mac = self.mac.clone();
        // The kind is part of the message so equal digits as a card and as a phone differ.
        mac.update(kind.tag().as_bytes());
        mac.update(b":");
        normalise_into(kind, value, &mut mac);
        let digest = mac.finalize().into_bytes();
        out.push('[');
        out.push_str(kind.tag());
        out.push(':');
        out.push_str(&hex::encode(&digest[..PSEUDONYM_HEX_LEN / 2]));
        out.push(']');
    }
}

/// Feeds the MAC a canonical form of the value, so `+49 30 1234567` and `+49-30-1234567` (or
/// `Jane@Example.com` and `jane@example.com`) map to the same pseudonym.
fn normalise_into(kind: Kind, value: &str, mac: &mut Hmac<Sha256>) {
    match kind {
        Kind::Phone | Kind::Card | Kind::Iban | Kind::Kvnr | Kind::TaxId | Kind::Rvnr => {
            for b in value.bytes().filter(u8::is_ascii_alphanumeric) {
                mac.update(&[b.to_ascii_uppercase()]);
            }
        }
        Kind::Email => {
            for b in value.bytes() {
                mac.update(&[b.to_ascii_lowercase()]);
            }
        }
        Kind::Name => {
            // `Müller`, `Frau Müller` at a line start and `MÜLLER` are one person.
            for c in value.trim().chars().flat_map(char::to_lowercase) {
                let mut buf = [0u8; 4];
                mac.update(c.encode_utf8(&mut buf).as_bytes());
            }
        }
        Kind::Token | Kind::Ip | Kind::BirthDate => mac.update(value.trim().as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(p: &Pseudonymizer, kind: Kind, value: &str) -> String {
        let mut out = String::new();
        p.write_token(kind, value, &mut out);
        out
    }

    #[test]
    fn pseudonyms_are_stable_normalised_and_keyed() {
        let a = Pseudonymizer::new(b"0123456789abcdef-key-a").unwrap();
        let b = Pseudonymizer::new(b"0123456789abcdef-key-b").unwrap();
        let t = token(&a, Kind::Phone, "+49 30 1234567");
        assert_eq!(t.len(), "[PHONE:3f2a9c]".len());
        assert!(crate::kind::is_redaction_token(&t));
        assert_eq!(t, token(&a, Kind::Phone, "+49-30-1234567"));
        assert_ne!(t, token(&b, Kind::Phone, "+49 30 1234567"));
        assert_ne!(t, token(&a, Kind::Phone, "+49 30 1234568"));
        assert_eq!(
            token(&a, Kind::Email, "Jane@Example.com"),
            token(&a, Kind::Email, "jane@example.com")
        );
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(Pseudonymizer::new(b"short").is_none());
        assert!(format!("{:?}", Pseudonymizer::new(&[7u8; 32]).unwrap()).contains(".."));
    }
}
