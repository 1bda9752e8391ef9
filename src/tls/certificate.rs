//! Loads a certificate chain and its private key from PEM files and checks them the way a
//! client would notice: the key belongs to the leaf certificate, and the leaf is within its dates.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

use crate::config::TlsFiles;

/// `frontdesk check` warns when the certificate expires within this many days.
pub const WARN_DAYS: i64 = 14;

/// A certificate chain and key ready for handshakes, with the leaf's validity period.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub key: Arc<CertifiedKey>,
    /// Unix seconds.
    pub not_before: i64,
    /// Unix seconds.
    pub not_after: i64,
}

/// Where a certificate stands at some moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    NotYetValid,
    Expired,
    /// Valid, with whole days left.
    Valid {
        days_left: i64,
    },
}

impl Loaded {
    pub fn expiry(&self, now_secs: i64) -> Expiry {
        expiry(self.not_before, self.not_after, now_secs)
    }
}

fn expiry(not_before: i64, not_after: i64, now_secs: i64) -> Expiry {
    if now_secs < not_before {
        Expiry::NotYetValid
    } else if now_secs >= not_after {
        Expiry::Expired
    } else {
        Expiry::Valid {
            days_left: (not_after - now_secs) / 86_400,
        }
    }
}

/// Reads and checks the pair. The message names the file at fault, never its contents.
pub fn load(files: &TlsFiles) -> Result<Loaded, String> {
    let cert_path = files.cert.display();
    let key_path = files.key.display();
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{cert_path}: cannot read the certificate: {e}"))?;
    let Some(leaf) = chain.first() else {
        return Err(format!("{cert_path}: no PEM certificate in the file"));
    };
    let (not_before, not_after) = validity(leaf).map_err(|e| format!("{cert_path}: {e}"))?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| format!("{key_path}: cannot read the private key: {e}"))?;
    let signing = rustls::crypto::ring::default_provider()
        .key_provider
        .load_private_key(key)
        .map_err(|e| format!("{key_path}: unusable private key: {e}"))?;
    let certified = CertifiedKey::new(chain, signing);
    match certified.keys_match() {
        // A key type whose public half rustls cannot derive is not a mismatch.
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
        Err(_) => {
            return Err(format!(
                "{key_path}: the private key does not belong to the certificate in {cert_path}"
            ));
        }
    }
    Ok(Loaded {
        key: Arc::new(certified),
        not_before,
        not_after,
    })
}

fn validity(leaf: &CertificateDer<'_>) -> Result<(i64, i64), String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(leaf)
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let validity = parsed.validity();
    Ok((
        validity.not_before.timestamp(),
        validity.not_after.timestamp(),
    ))
}

/// `2026-12-03T11:43:41Z` for a unix time.
pub fn format_time(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| secs.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_counted_in_whole_days_within_the_validity_period() {
        let day = 86_400;
        assert_eq!(expiry(100, 100 + 30 * day, 99), Expiry::NotYetValid);
        assert_eq!(
            expiry(100, 100 + 30 * day, 100 + day / 2),
            Expiry::Valid { days_left: 29 }
        );
        assert_eq!(expiry(100, 100 + 30 * day, 100 + 30 * day), Expiry::Expired);
    }
}
