//! Keeping Redis credentials out of logs, errors and health output.

/// `url` with any credentials replaced by `***`, safe to log: `redis://:secret@host:6379/0`
/// becomes `redis://***@host:6379/0`, and a URL that cannot be read at all becomes `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        // Not a URL we can read (e.g. a typo): it may still hold a secret, so show nothing.
        return "***".to_owned();
    };
    // The last `@` anywhere, not just in the authority: a password with an unescaped `/` or `?`
    // would otherwise end the authority early and leak. Over-redacting a rare `@` in a path is
    // the cheaper mistake.
    let (credentials, rest) = match rest.rsplit_once('@') {
        Some((_, host)) => ("***@", host),
        None => ("", rest),
    };
    // Socket URLs carry the password as a query parameter (`redis+unix:///s.sock?pass=...`).
    let rest = match rest.split_once('?') {
        Some((path, _query)) => format!("{path}?***"),
        None => rest.to_owned(),
    };
    format!("{scheme}://{credentials}{rest}")
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn credentials_never_survive() {
        assert_eq!(
            redact_url("redis://:s3cret@db:6379/0"),
            "redis://***@db:6379/0"
        );
        assert_eq!(redact_url("rediss://user:s3cret@db"), "rediss://***@db");
        assert_eq!(redact_url("redis://s3cret@db"), "redis://***@db");
        assert_eq!(
            redact_url("redis://u:p@ss@db/1?x=y"),
            "redis://***@db/1?***"
        );
        assert_eq!(redact_url("redis://db:6379"), "redis://db:6379");
        assert_eq!(redact_url("redis://:a/b?c@db"), "redis://***@db");
        assert_eq!(redact_url("db:s3cret@6379"), "***");
        assert_eq!(
            redact_url("redis+unix:///run/r.sock?db=1&pass=s3cret"),
            "redis+unix:///run/r.sock?***"
        );
    }
}
