//! Parsing of the `email` and `phone` field types into their canonical spellings.
//!
//! The e-mail check is hand-written because the wanted rule is a *practical subset* of
//! RFC 5321/5322 (what a calendar invitation can actually be sent to), narrower than full
//! RFC 5322 syntax: no quoted local parts, comments, display names or IP-literal domains.

/// Longest address usable in SMTP (RFC 5321 §4.5.3.1.3: 256-octet path minus the brackets).
const MAX_EMAIL_LEN: usize = 254;
/// RFC 5321 §4.5.3.1.1.
const MAX_LOCAL_PART_LEN: usize = 64;
/// RFC 1035 label limit.
const MAX_LABEL_LEN: usize = 63;
/// E.164 allows at most 15 digits; fewer than 5 is no reachable subscriber number.
const PHONE_DIGITS: std::ops::RangeInclusive<usize> = 5..=15;

/// `local@domain.tld` with an RFC 5322 dot-atom local part (non-ASCII letters allowed, as in
/// RFC 6531) and a domain of at least two LDH labels, returned with the domain lower-cased.
pub fn parse_email(text: &str) -> Option<String> {
    if text.len() > MAX_EMAIL_LEN || text.chars().any(char::is_whitespace) {
        return None;
    }
    let (local, domain) = text.rsplit_once('@')?;
    if !is_dot_atom(local) || local.len() > MAX_LOCAL_PART_LEN || !is_domain(domain) {
        return None;
    }
    Some(format!("{local}@{}", domain.to_lowercase()))
}

fn is_dot_atom(local: &str) -> bool {
    !local.is_empty()
        && local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(is_atext))
}

/// RFC 5322 `atext`, extended to non-ASCII letters and digits.
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || "!#$%&'*+-/=?^_`{|}~".contains(c)
        || (!c.is_ascii() && c.is_alphanumeric())
}

fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let Some(tld) = labels.last() else {
        return false;
    };
    labels.len() >= 2
        && labels.iter().all(|label| is_label(label))
        && !tld.chars().all(|c| c.is_ascii_digit())
}

fn is_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= MAX_LABEL_LEN
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label.chars().all(|c| c == '-' || c.is_alphanumeric())
}

/// Digits with optional separators (space, `/`, `-`, `(`, `)`) and a leading `+` or `00`
/// international prefix. Returns `+<digits>` for international numbers and the bare digits for
/// national ones (the country is the tenant's, which this crate does not know). The German
/// trunk-prefix notation `+49 (0) 30 ...` drops the `(0)`.
pub fn parse_phone(text: &str) -> Option<String> {
    let (international, rest) = match text.strip_prefix('+') {
        Some(rest) => (true, rest.replace("(0)", "")),
        None => (false, text.to_owned()),
    };
    if !rest
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '/' | '-' | '(' | ')'))
    {
        return None;
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let (international, digits) = match digits.strip_prefix("00") {
        Some(after) if !international => (true, after.to_owned()),
        _ => (international, digits),
    };
    if !PHONE_DIGITS.contains(&digits.len()) {
        return None;
    }
    Some(if international {
        format!("+{digits}")
    } else {
        digits
    })
}

/// The one phone-number normaliser for comparisons: `text` as E.164 (`+4930123456`), national
/// numbers read in `default_region` (ISO 3166 alpha-2, e.g. `DE`). `None` when the text is no
/// phone number, or a national number without a known region. The booking engine compares
/// callers and bookings through this, so `030 123456` and `+49 30 123456` are one number.
pub fn e164(text: &str, default_region: Option<&str>) -> Option<String> {
    let syntactic = parse_phone(text)?;
    let region = default_region.and_then(|r| r.parse::<phonenumber::country::Id>().ok());
    if !syntactic.starts_with('+') && region.is_none() {
        return None;
    }
    match phonenumber::parse(region, &syntactic) {
        Ok(number) => Some(number.format().mode(phonenumber::Mode::E164).to_string()),
        // libphonenumber refuses a few syntactically fine numbers; an international spelling
        // is already canonical.
        Err(_) if syntactic.starts_with('+') => Some(syntactic),
        Err(_) => None,
    }
}

/// Whether `code` is a region libphonenumber knows (ISO 3166 alpha-2, upper case).
pub fn is_region(code: &str) -> bool {
    code.parse::<phonenumber::country::Id>().is_ok()
}

/// The region (ISO 3166 alpha-2) an E.164 number belongs to, e.g. `DE` for `+4930…`.
pub fn region_of(e164_number: &str) -> Option<String> {
    let number = phonenumber::parse(None, e164_number).ok()?;
    let id = number.country().id()?;
    Some(format!("{id:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_joins_national_and_international_spellings() {
        for (input, region, want) in [
            ("+49 30 1234567", None, Some("+49301234567")),
            ("030 1234567", Some("DE"), Some("+49301234567")),
            ("0049 (0) 30 123 45 67", Some("DE"), Some("+49301234567")),
            ("0151 12345678", Some("DE"), Some("+4915112345678")),
            ("020 7123 4567", Some("GB"), Some("+442071234567")),
            ("030 1234567", None, None),
            ("not a number", Some("DE"), None),
        ] {
            assert_eq!(
                e164(input, region).as_deref(),
                want,
                "{input} in {region:?}"
            );
        }
        assert_eq!(region_of("+4930123456789").as_deref(), Some("DE"));
        assert!(is_region("DE") && !is_region("XX") && !is_region("de"));
        assert_eq!(region_of("+14155550199").as_deref(), Some("US"));
    }

    #[test]
    fn emails() {
        for (input, want) in [
            ("jane.doe@Example.COM", "jane.doe@example.com"),
            ("Jane+tag@sub.example.de", "Jane+tag@sub.example.de"),
            ("jürgen@müller.de", "jürgen@müller.de"),
        ] {
            assert_eq!(parse_email(input).as_deref(), Some(want), "{input}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_total = format!("a@{}.com", "b".repeat(250));
        for bad in [
            "jane",
            "jane@localhost",
            "jane@@example.com",
            "jane doe@example.com",
            ".jane@example.com",
            "jane..doe@example.com",
            "jane@-example.com",
            "jane@example.123",
            "jane@example..com",
            "\"jane\"@example.com",
            long_local.as_str(),
            long_total.as_str(),
        ] {
            assert_eq!(parse_email(bad), None, "{bad}");
        }
    }

    #[test]
    fn phones() {
        for (input, want) in [
            ("+49 30 1234567", "+49301234567"),
            ("+49 (0) 30 / 123-45-67", "+49301234567"),
            ("0049 30 1234567", "+49301234567"),
            ("030 1234567", "0301234567"),
            ("(030) 123 45 67", "0301234567"),
        ] {
            assert_eq!(parse_phone(input).as_deref(), Some(want), "{input}");
        }
        for bad in [
            "",
            "+",
            "1234",
            "+49 30 abc",
            "030.123456",
            "++49301234567",
            "+1234567890123456",
        ] {
            assert_eq!(parse_phone(bad), None, "{bad}");
        }
    }
}
