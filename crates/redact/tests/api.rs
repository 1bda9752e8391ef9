//! Public API behaviour: config compilation errors, defaults, toggles, metrics, sharing.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

use std::sync::Arc;

use frontdesk_redact::{
    ConfigError, DetectorToggles, Kind, RedactionConfig, Redactor, redactions_total,
};

#[test]
fn invalid_config_names_the_bad_item() {
    let config: RedactionConfig = serde_json::from_value(serde_json::json!({
        "fields": [{"path": "call.from_number", "kind": "phone"}, {"path": "attendees[x].email", "kind": "email"}]
    }))
    .unwrap();
    let err = Redactor::new(&config).unwrap_err();
    assert!(matches!(err, ConfigError::InvalidPath { index: 1, .. }));
    assert!(err.to_string().contains("attendees[x].email"), "{err}");

    let config = RedactionConfig {
        pseudonym_key_env: Some("FRONTDESK_TEST_SURELY_UNSET_VAR".into()),
        ..Default::default()
    };
    let err = Redactor::new(&config).unwrap_err();
    assert_eq!(
        err,
        ConfigError::MissingPseudonymKey {
            var: "FRONTDESK_TEST_SURELY_UNSET_VAR".into()
        }
    );
    let err = Redactor::with_pseudonym_key(&config, Some(b"short")).unwrap_err();
    assert!(err.to_string().contains("at least 16 bytes"), "{err}");
    assert!(!err.to_string().contains("short"));
}

#[test]
fn yaml_shape_deserialises() {
    let yaml = r#"{"detectors": {"ip": false, "card": true}, "scan_all_strings": true,
        "fields": [{"path": "transcript_object[*].content", "kind": "text"}]}"#;
    let config: RedactionConfig = serde_json::from_str(yaml).unwrap();
    assert_eq!(
        config.detectors,
        DetectorToggles {
            ip: false,
            ..DetectorToggles::default()
        }
    );
    assert!(Redactor::new(&config).is_ok());
}

#[test]
fn toggles_switch_detectors_off() {
    let text = "ip 192.0.2.44 mail a@example.de tel +49 30 23125678 card 4111 1111 1111 1111 iban DE89370400440532013000 auth Bearer abcdef123456";
    let all = Redactor::default().redact_text(text).into_owned();
    assert_eq!(
        all,
        "ip [IP_REDACTED] mail [EMAIL_REDACTED] tel [PHONE_REDACTED] card [CARD_REDACTED] iban [IBAN_REDACTED] auth Bearer [TOKEN_REDACTED]"
    );
    let none = RedactionConfig {
        detectors: DetectorToggles::NONE,
        ..Default::default()
    };
    assert_eq!(Redactor::new(&none).unwrap().redact_text(text), text);
    let no_ip = RedactionConfig {
        detectors: DetectorToggles {
            ip: false,
            ..Default::default()
        },
        ..Default::default()
    };
    let out = Redactor::new(&no_ip)
        .unwrap()
        .redact_text(text)
        .into_owned();
    // With IP redaction off, an address is kept and never mistaken for a phone number.
    assert!(
        out.starts_with("ip 192.0.2.44 mail [EMAIL_REDACTED]"),
        "{out}"
    );
}

#[test]
fn metric_counts_per_kind() {
    let before = (redactions_total(Kind::Email), redactions_total(Kind::Phone));
    let r = Redactor::default();
    let _ = r.redact_text("a@example.de b@example.de 0171 3920012");
    // Other tests in this binary may add to the counters concurrently, never subtract.
    assert!(redactions_total(Kind::Email) >= before.0 + 2);
    assert!(redactions_total(Kind::Phone) > before.1);
    let families = prometheus::default_registry().gather();
    let family = families
        .iter()
        .find(|f| f.name() == "frontdesk_redactions_total")
        .expect("registered");
    assert!(!family.help().is_empty());
    for m in family.get_metric() {
        let label = m.get_label()[0].value();
        assert!(Kind::ALL.iter().any(|k| k.label() == label), "{label}");
    }
}

#[test]
fn shared_across_threads() {
    let r = Arc::new(Redactor::default());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let r = Arc::clone(&r);
            std::thread::spawn(move || r.redact_text(&format!("user{i}@example.de")).into_owned())
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), "[EMAIL_REDACTED]");
    }
}

#[test]
fn uuids_are_never_partly_redacted() {
    let line =
        "2026-12-03T10:00:00.123Z INFO request_id=e7a4e7a6-885a-2210-9039-91ff46d42fff status=200";
    assert_eq!(Redactor::default().redact_text(line), line);
}

#[test]
fn speech_detectors_have_their_tokens_and_switches() {
    let text = "Mein Name ist Finn Richter, geboren am 12.03.1980, KVNR K943247614, Steuer-ID 86095742719, RV 15070649C103";
    assert_eq!(
        Redactor::default().redact_text(text),
        "Mein Name ist [NAME_REDACTED], geboren am [BIRTH_DATE_REDACTED], KVNR [KVNR_REDACTED], Steuer-ID [TAX_ID_REDACTED], RV [RVNR_REDACTED]"
    );
    let off = RedactionConfig {
        detectors: DetectorToggles {
            name: false,
            birth_date: false,
            kvnr: false,
            tax_id: false,
            rvnr: false,
            ..Default::default()
        },
        ..Default::default()
    };
    assert_eq!(Redactor::new(&off).unwrap().redact_text(text), text);
    let pseudo = RedactionConfig {
        pseudonym_key_env: Some("K".into()),
        ..Default::default()
    };
    let p = Redactor::with_pseudonym_key(&pseudo, Some(b"api-test-key-0123456789")).unwrap();
    let a = p.redact_text("Frau Müller, KVNR K943247614").into_owned();
    let b = p
        .redact_text("Frau Müller, KVNR K 943 247 614")
        .into_owned();
    assert_eq!(a, b, "the same number, however grouped");
    assert!(a.contains("[NAME:") && a.contains("[KVNR:"), "{a}");
}
