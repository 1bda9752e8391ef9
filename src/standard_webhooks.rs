//! Standard Webhooks signatures: `v1,` + base64 HMAC-SHA256 over `{id}.{timestamp}.{body}`,
//! keyed with the base64 part of a `whsec_` secret; one signature per secret, space-separated,
//! so receivers can rotate without losing events. Hand-written (a few lines over `hmac`):
//! the crates that do this verify rather than sign, or bring an HTTP stack of their own.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// A signing key decoded from `whsec_<base64>`.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(***)")
    }
}

impl SigningKey {
    /// Reads `whsec_<base64>` (the prefix is what the specification prescribes; the key must
    /// have at least 16 bytes).
    pub fn parse(secret: &str) -> Result<Self, &'static str> {
        let encoded = secret
            .strip_prefix("whsec_")
            .ok_or("must start with `whsec_` (Standard Webhooks)")?;
        let key = STANDARD
            .decode(encoded.trim())
            .map_err(|_| "the part after `whsec_` is not base64")?;
        if key.len() < 16 {
            return Err("the key is too short (at least 16 bytes, 24 to 64 recommended)");
        }
        Ok(Self(key))
    }
}

/// The `webhook-signature` header value for one message.
pub fn signature(keys: &[SigningKey], id: &str, timestamp_s: i64, body: &[u8]) -> String {
    let mut out = String::new();
    for key in keys {
        let mut mac = Hmac::<Sha256>::new_from_slice(&key.0).expect("HMAC takes any key length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp_s.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str("v1,");
        out.push_str(&STANDARD.encode(mac.finalize().into_bytes()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_specification_example() {
        // The example of the Standard Webhooks specification.
        let key = SigningKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = signature(
            &[key],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn refuses_secrets_without_the_prefix_or_too_short() {
        assert!(SigningKey::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(SigningKey::parse("whsec_!!!").is_err());
        assert!(SigningKey::parse("whsec_AAAA").is_err());
    }
}
