//! Webhook and function-call authentication: Retell's timestamped signature and Cal.com's body
//! signature, with several valid keys at once for rotation. Comparisons are constant-time.

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::config::Secret;
use schemars::JsonSchema;
use serde::Deserialize;

type HmacSha256 = Hmac<Sha256>;

/// Which signature a route checks.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AuthScheme {
    /// `x-retell-signature: v=<ms>,d=<hex>` over body ++ v.
    Retell,
    /// `X-Cal-Signature-256`: hex HMAC-SHA256 of the body.
    Calcom,
    None,
}

pub const RETELL_HEADER: &str = "x-retell-signature";
pub const CALCOM_HEADER: &str = "x-cal-signature-256";
/// What Cal.com sends when a webhook has no secret configured; never a valid signature.
const CALCOM_NO_SECRET: &str = "no-secret-provided";

/// Why a request was refused. For metrics and logs only: the client never learns which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    MissingHeader,
    Malformed,
    Stale,
    Mismatch,
    NoSecret,
}

impl AuthFailure {
    pub const ALL: [AuthFailure; 5] = [
        AuthFailure::MissingHeader,
        AuthFailure::Malformed,
        AuthFailure::Stale,
        AuthFailure::Mismatch,
        AuthFailure::NoSecret,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuthFailure::MissingHeader => "missing_header",
            AuthFailure::Malformed => "malformed",
            AuthFailure::Stale => "stale",
            AuthFailure::Mismatch => "mismatch",
            AuthFailure::NoSecret => "no_secret",
        }
    }
}

/// A compiled `auth` entry.
#[derive(Debug, Clone)]
pub struct Verifier {
    pub scheme: AuthScheme,
    pub keys: Vec<VerifyKey>,
    pub tolerance: Duration,
}

/// One key, already through HMAC's key schedule: a verification clones this state instead of
/// hashing the key's two padded blocks again (a quarter of a small request's HMAC work).
#[derive(Clone)]
pub struct VerifyKey(HmacSha256);

impl VerifyKey {
    pub fn new(secret: &Secret) -> Self {
        Self(hmac_parts(secret.expose().as_bytes(), &[]))
    }
}

impl std::fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The keyed state stands for the key: never printed.
        f.write_str("VerifyKey(..)")
    }
}

impl Verifier {
    pub fn verify(
        &self,
        signature: Option<&str>,
        body: &[u8],
        now_ms: u64,
    ) -> Result<(), AuthFailure> {
        self.verify_with(&self.keys, signature, body, now_ms)
    }

    /// [`Self::verify`] with `keys` instead of the scheme's own (a tenant's own keys). Missing,
    /// malformed and stale headers are refused before any HMAC work.
    pub fn verify_with(
        &self,
        keys: &[VerifyKey],
        signature: Option<&str>,
        body: &[u8],
        now_ms: u64,
    ) -> Result<(), AuthFailure> {
        match self.scheme {
            AuthScheme::None => Ok(()),
            AuthScheme::Retell => {
                let header = signature.ok_or(AuthFailure::MissingHeader)?;
                let parsed = RetellSignature::parse(header).ok_or(AuthFailure::Malformed)?;
                if now_ms.abs_diff(parsed.timestamp_ms) > self.tolerance.as_millis() as u64 {
                    return Err(AuthFailure::Stale);
                }
                // The digest covers the timestamp's bytes as sent, never a re-rendered number.
                any_key_matches(keys, &[body, parsed.stamp.as_bytes()], &parsed.digest)
            }
            AuthScheme::Calcom => {
                let header = signature.ok_or(AuthFailure::MissingHeader)?.trim();
                if header == CALCOM_NO_SECRET {
                    return Err(AuthFailure::NoSecret);
                }
                let digest = decode_digest(header).ok_or(AuthFailure::Malformed)?;
                any_key_matches(keys, &[body], &digest)
            }
        }
    }

    /// The header this scheme reads.
    pub fn header(&self) -> Option<&'static str> {
        match self.scheme {
            AuthScheme::Retell => Some(RETELL_HEADER),
            AuthScheme::Calcom => Some(CALCOM_HEADER),
            AuthScheme::None => None,
        }
    }
}

fn any_key_matches(
    keys: &[VerifyKey],
    message: &[&[u8]],
    digest: &[u8; 32],
) -> Result<(), AuthFailure> {
    // Every key is tried, so timing does not reveal which key (if any) matched.
    let mut matched = false;
    for key in keys {
        let mut mac = key.0.clone();
        for part in message {
            mac.update(part);
        }
        matched |= mac.verify_slice(digest).is_ok();
    }
    if matched {
        Ok(())
    } else {
        Err(AuthFailure::Mismatch)
    }
}

fn hmac_parts(key: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    for part in parts {
        mac.update(part);
    }
    mac
}

/// A parsed `v=<ms>,d=<64 lowercase hex>` header, parsed as strictly as Retell's SDKs do.
#[derive(Debug, PartialEq, Eq)]
pub struct RetellSignature<'a> {
    /// The timestamp's digits exactly as sent: what the digest was computed over.
    pub stamp: &'a str,
    pub timestamp_ms: u64,
    pub digest: [u8; 32],
}

impl<'a> RetellSignature<'a> {
    pub fn parse(header: &'a str) -> Option<Self> {
        let rest = header.strip_prefix("v=")?;
        let (stamp, digest) = rest.split_once(",d=")?;
        // Digits only, and no leading zero: the SDKs render the number, so `v=000<ms>` is not
        // something Retell sends.
        if stamp.is_empty()
            || !stamp.bytes().all(|b| b.is_ascii_digit())
            || (stamp.len() > 1 && stamp.starts_with('0'))
        {
            return None;
        }
        Some(Self {
            stamp,
            timestamp_ms: stamp.parse().ok()?,
            digest: decode_digest(digest)?,
        })
    }
}

/// 64 lower-case hex digits, as both Retell's and Cal.com's SDKs emit them; the same rule for
/// both schemes, so an upper-case digest is malformed everywhere.
fn decode_digest(hex_digest: &str) -> Option<[u8; 32]> {
    if hex_digest.len() != 64
        || !hex_digest
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_digest, &mut out).ok()?;
    Some(out)
}

/// The `x-retell-signature` value for `body` at `timestamp_ms` (for `frontdesk sign` and tests).
pub fn sign_retell(key: &str, body: &[u8], timestamp_ms: u64) -> String {
    let stamp = timestamp_ms.to_string();
    let digest = hmac_parts(key.as_bytes(), &[body, stamp.as_bytes()])
        .finalize()
        .into_bytes();
    format!("v={stamp},d={}", hex::encode(digest))
}

/// The `X-Cal-Signature-256` value for `body`.
pub fn sign_calcom(secret: &str, body: &[u8]) -> String {
    hex::encode(
        hmac_parts(secret.as_bytes(), &[body])
            .finalize()
            .into_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTOR_BODY: &[u8] = br#"{"event":"call_ended"}"#;
    const VECTOR_HEADER: &str =
        "v=1700000000000,d=07024cabe7dd8f6d1c6e4a8324ca92c812e6ad4a7ee506c04f7e462e3321823e";

    fn retell(keys: &[&str]) -> Verifier {
        Verifier {
            scheme: AuthScheme::Retell,
            keys: keys
                .iter()
                .map(|k| VerifyKey::new(&Secret::new(*k)))
                .collect(),
            tolerance: Duration::from_secs(300),
        }
    }

    #[test]
    fn debug_output_never_shows_a_key() {
        let printed = format!("{:?}", retell(&["key-that-must-not-print"]));
        assert!(printed.contains("VerifyKey(..)"), "{printed}");
        assert!(!printed.contains("key-that-must-not-print"), "{printed}");
    }

    #[test]
    fn sdk_test_vector() {
        assert_eq!(
            sign_retell("test-api-key", VECTOR_BODY, 1_700_000_000_000),
            VECTOR_HEADER
        );
        let v = retell(&["old-key", "test-api-key"]);
        assert_eq!(
            v.verify(Some(VECTOR_HEADER), VECTOR_BODY, 1_700_000_000_000),
            Ok(())
        );
    }

    #[test]
    fn window_is_inclusive_five_minutes() {
        let v = retell(&["test-api-key"]);
        let t = 1_700_000_000_000;
        assert_eq!(
            v.verify(Some(VECTOR_HEADER), VECTOR_BODY, t + 300_000),
            Ok(())
        );
        assert_eq!(
            v.verify(Some(VECTOR_HEADER), VECTOR_BODY, t - 300_000),
            Ok(())
        );
        assert_eq!(
            v.verify(Some(VECTOR_HEADER), VECTOR_BODY, t + 300_001),
            Err(AuthFailure::Stale)
        );
        assert_eq!(
            v.verify(Some(VECTOR_HEADER), VECTOR_BODY, t - 300_001),
            Err(AuthFailure::Stale)
        );
    }

    #[test]
    fn malformed_headers_are_refused() {
        let d = "07024cabe7dd8f6d1c6e4a8324ca92c812e6ad4a7ee506c04f7e462e3321823e";
        let cases = [
            String::new(),
            "v=1700000000000".into(),
            format!("d={d},v=1700000000000"),
            format!("prefix-v=1700000000000,d={d}"),
            format!("v=1700000000000,d={d}-suffix"),
            "v=1700000000000,d=not-hex".into(),
            format!("v=1700000000000,d={}", &d[..62]),
            format!("v=-1700000000000,d={d}"),
            format!("v=1700000000000,d={d},extra=value"),
            format!("v=1700000000000,d={}", d.to_uppercase()),
            format!("v=,d={d}"),
            format!("v=0001700000000000,d={d}"),
            format!("v=+1700000000000,d={d}"),
        ];
        let v = retell(&["test-api-key"]);
        for case in cases {
            assert_eq!(
                v.verify(Some(&case), VECTOR_BODY, 1_700_000_000_000),
                Err(AuthFailure::Malformed),
                "{case}"
            );
        }
        assert_eq!(
            v.verify(None, VECTOR_BODY, 1_700_000_000_000),
            Err(AuthFailure::MissingHeader)
        );
    }

    #[test]
    fn body_change_and_wrong_key_mismatch() {
        let v = retell(&["test-api-key"]);
        assert_eq!(
            v.verify(
                Some(VECTOR_HEADER),
                br#"{"event":"call_endeD"}"#,
                1_700_000_000_000
            ),
            Err(AuthFailure::Mismatch)
        );
        assert_eq!(
            retell(&["wrong"]).verify(Some(VECTOR_HEADER), VECTOR_BODY, 1_700_000_000_000),
            Err(AuthFailure::Mismatch)
        );
    }

    #[test]
    fn calcom_signature() {
        let v = Verifier {
            scheme: AuthScheme::Calcom,
            keys: vec![VerifyKey::new(&Secret::new("whsec"))],
            tolerance: Duration::ZERO,
        };
        let sig = sign_calcom("whsec", b"{}");
        assert_eq!(v.verify(Some(&sig), b"{}", 0), Ok(()));
        assert_eq!(v.verify(Some(&sig), b"{ }", 0), Err(AuthFailure::Mismatch));
        assert_eq!(
            v.verify(Some("no-secret-provided"), b"{}", 0),
            Err(AuthFailure::NoSecret)
        );
        assert_eq!(v.verify(Some("zz"), b"{}", 0), Err(AuthFailure::Malformed));
        assert_eq!(
            v.verify(Some(&sig.to_uppercase()), b"{}", 0),
            Err(AuthFailure::Malformed),
            "hex case is one rule for both schemes"
        );
        assert_eq!(v.verify(None, b"{}", 0), Err(AuthFailure::MissingHeader));
    }
}
