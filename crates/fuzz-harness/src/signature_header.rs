//! The Retell signature header parser and verifier on arbitrary headers and bodies.

use frontdesk::config::Secret;
use frontdesk::policy::model::AuthScheme;
use frontdesk::signature::{RetellSignature, Verifier, VerifyKey};

pub fn run(data: &[u8]) {
    let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let (header, body) = data.split_at(split);
    let Ok(header) = std::str::from_utf8(header) else {
        return;
    };
    if let Some(parsed) = RetellSignature::parse(header) {
        // Whatever parses is the strict form: printing it again gives the same header.
        if !header.starts_with("v=0") {
            let digest: String = parsed.digest.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(format!("v={},d={digest}", parsed.timestamp_ms), header);
        }
    }
    for scheme in [AuthScheme::Retell, AuthScheme::Calcom] {
        let verifier = Verifier {
            scheme,
            keys: vec![VerifyKey::new(&Secret::new("fuzz-key"))],
            tolerance: std::time::Duration::from_secs(300),
        };
        let _ = verifier.verify(Some(header), body, 1_700_000_000_000);
    }
}
