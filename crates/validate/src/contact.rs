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

#[cfg(test)]
mod tests {
    use super::*;

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
