//! The kinds of personal data the redactor knows, their replacement tokens and metric labels.

use serde::Deserialize;

/// Number of hex digits of the MAC kept in a pseudonym (24 bits: enough to correlate within a
/// log window, too few to brute-force a value back out of the token without the key).
pub const PSEUDONYM_HEX_LEN: usize = 6;

/// A category of finding. Each kind has one fixed replacement token (see SPEC "Redaction tokens")
/// and one fixed metric label, so labels stay bounded.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// E-mail addresses.
    Email,
    /// Telephone numbers (German national forms and international E.164).
    Phone,
    /// International bank account numbers (mod-97 checked).
    Iban,
    /// Payment card numbers (Luhn checked).
    Card,
    /// Secrets: bearer tokens, `Authorization` values, Retell and Cal.com API keys, JWTs.
    Token,
    /// IPv4 and IPv6 addresses.
    Ip,
    /// Personal names: by field path, and in running text after a cue (`mein Name ist`,
    /// `Frau`, `my name is`, …) or as a first name from the shipped gazetteer.
    Name,
    /// German health-insurance numbers (Krankenversichertennummer: letter + 9 digits, check digit).
    Kvnr,
    /// German tax identification numbers (Steuer-ID: 11 digits, ISO 7064 MOD 11,10).
    TaxId,
    /// German pension-insurance numbers (Rentenversicherungsnummer, check digit).
    Rvnr,
    /// Dates of birth, after their cue words (`geboren am`, `Geburtsdatum`, `born on`, …).
    BirthDate,
}

impl Kind {
    /// Every kind, in the order used for counters.
    pub const ALL: [Kind; Kind::COUNT] = [
        Kind::Email,
        Kind::Phone,
        Kind::Iban,
        Kind::Card,
        Kind::Token,
        Kind::Ip,
        Kind::Name,
        Kind::Kvnr,
        Kind::TaxId,
        Kind::Rvnr,
        Kind::BirthDate,
    ];

    /// How many kinds there are.
    pub const COUNT: usize = 11;

    /// Dense index into per-kind arrays.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The `kind` label value of `frontdesk_redactions_total`.
    pub const fn label(self) -> &'static str {
        match self {
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::Iban => "iban",
            Kind::Card => "card",
            Kind::Token => "token",
            Kind::Ip => "ip",
            Kind::Name => "name",
            Kind::Kvnr => "kvnr",
            Kind::TaxId => "tax_id",
            Kind::Rvnr => "rvnr",
            Kind::BirthDate => "birth_date",
        }
    }

    /// The upper-case name used inside tokens (`EMAIL` in `[EMAIL_REDACTED]`).
    pub const fn tag(self) -> &'static str {
        match self {
            Kind::Email => "EMAIL",
            Kind::Phone => "PHONE",
            Kind::Iban => "IBAN",
            Kind::Card => "CARD",
            Kind::Token => "TOKEN",
            Kind::Ip => "IP",
            Kind::Name => "NAME",
            Kind::Kvnr => "KVNR",
            Kind::TaxId => "TAX_ID",
            Kind::Rvnr => "RVNR",
            Kind::BirthDate => "BIRTH_DATE",
        }
    }

    /// The fixed replacement token, e.g. `[EMAIL_REDACTED]`.
    pub const fn token(self) -> &'static str {
        match self {
            Kind::Email => "[EMAIL_REDACTED]",
            Kind::Phone => "[PHONE_REDACTED]",
            Kind::Iban => "[IBAN_REDACTED]",
            Kind::Card => "[CARD_REDACTED]",
            Kind::Token => "[TOKEN_REDACTED]",
            Kind::Ip => "[IP_REDACTED]",
            Kind::Name => "[NAME_REDACTED]",
            Kind::Kvnr => "[KVNR_REDACTED]",
            Kind::TaxId => "[TAX_ID_REDACTED]",
            Kind::Rvnr => "[RVNR_REDACTED]",
            Kind::BirthDate => "[BIRTH_DATE_REDACTED]",
        }
    }
}

/// Whether `s` is exactly a replacement token this crate produces (`[PHONE_REDACTED]` or a
/// pseudonym such as `[PHONE:3f2a9c]`). Field rules leave such values alone so that redacting
/// twice gives the same bytes as redacting once, pseudonyms included.
pub fn is_redaction_token(s: &str) -> bool {
    let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) else {
        return false;
    };
    Kind::ALL.iter().any(|kind| {
        inner.strip_prefix(kind.tag()).is_some_and(|rest| {
            rest == "_REDACTED"
                || rest.strip_prefix(':').is_some_and(|hex| {
                    hex.len() == PSEUDONYM_HEX_LEN && hex.bytes().all(|b| b.is_ascii_hexdigit())
                })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_follow_the_spec_pattern() {
        for kind in Kind::ALL {
            assert_eq!(kind.token(), format!("[{}_REDACTED]", kind.tag()));
            assert!(is_redaction_token(kind.token()));
            assert_eq!(Kind::ALL[kind.index()], kind);
        }
        assert!(is_redaction_token("[PHONE:3f2a9c]"));
        assert!(!is_redaction_token("[PHONE:3f2a9]"));
        assert!(!is_redaction_token("[PHONE]"));
        assert!(!is_redaction_token("Jane Doe"));
    }
}
