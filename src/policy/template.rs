//! Key templates such as `{body.call.call_id|header.x-retell-call-id}:{tenant}`: compiled once,
//! rendered per request without allocation beyond the output string.

use std::borrow::Cow;
use std::fmt::Write as _;

use http::HeaderMap;
use serde_json::Value;

/// What a template can read from a request.
pub struct RequestView<'a> {
    /// The client's address as text (formatted once per request, read by every `{client_ip}`).
    pub client_ip: &'a str,
    /// The client's network: the address for IPv4, its /64 for IPv6 (one subscriber's share).
    pub client_net: &'a str,
    pub headers: &'a HeaderMap,
    pub body: Option<&'a Value>,
    pub tenant: Option<&'a str>,
    pub route: &'a str,
    pub params: &'a [(String, String)],
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    ClientIp,
    ClientNet,
    Tenant,
    Route,
    Header(http::HeaderName),
    Param(String),
    Body(Vec<PathSegment>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSegment {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    /// The first alternative the request carries.
    Value(Vec<Source>),
}

/// A compiled key template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyTemplate {
    parts: Vec<Part>,
}

/// Longer rendered values are hashed, so a hostile header cannot make keys unbounded.
const MAX_VALUE_LEN: usize = 128;

impl KeyTemplate {
    pub fn parse(template: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = template;
        while !rest.is_empty() {
            match rest.find('{') {
                Some(0) => {
                    let end = rest
                        .find('}')
                        .ok_or_else(|| format!("unclosed `{{` in template `{template}`"))?;
                    let inner = &rest[1..end];
                    let sources = inner
                        .split('|')
                        .map(|s| parse_source(s.trim()))
                        .collect::<Result<Vec<_>, _>>()?;
                    parts.push(Part::Value(sources));
                    rest = &rest[end + 1..];
                }
                Some(start) => {
                    parts.push(Part::Literal(rest[..start].to_string()));
                    rest = &rest[start..];
                }
                None => {
                    if rest.contains('}') {
                        return Err(format!("unmatched `}}` in template `{template}`"));
                    }
                    parts.push(Part::Literal(rest.to_string()));
                    rest = "";
                }
            }
        }
        if parts.iter().all(|p| matches!(p, Part::Literal(_))) {
            return Err(format!(
                "template `{template}` has no `{{...}}` part, so every request would share one key"
            ));
        }
        Ok(Self { parts })
    }

    /// Whether any part reads the tenant (such limits run after tenant resolution).
    pub fn uses_tenant(&self) -> bool {
        self.sources().any(|s| matches!(s, Source::Tenant))
    }

    /// Whether any part reads the parsed body.
    pub fn uses_body(&self) -> bool {
        self.sources().any(|s| matches!(s, Source::Body(_)))
    }

    /// Every body path any part may read.
    pub fn body_paths(&self) -> impl Iterator<Item = &[PathSegment]> {
        self.sources().filter_map(|s| match s {
            Source::Body(path) => Some(path.as_slice()),
            _ => None,
        })
    }

    /// Whether some alternative reads the body, which the signature covers.
    pub fn has_signed_source(&self) -> bool {
        self.sources().any(Source::is_signed)
    }

    /// Whether some alternative reads a header or the path, which no signature covers.
    pub fn has_unsigned_source(&self) -> bool {
        self.sources().any(|s| !s.is_signed())
    }

    /// Whether some part can be absent from a request (everything but the client's address and
    /// the route is optional; the tenant is when `tenant_required` is false).
    pub fn can_be_absent(&self, tenant_required: bool) -> bool {
        self.parts.iter().any(|p| match p {
            Part::Value(sources) => !sources.iter().any(|s| match s {
                Source::ClientIp | Source::ClientNet | Source::Route => true,
                Source::Tenant => tenant_required,
                _ => false,
            }),
            Part::Literal(_) => false,
        })
    }

    fn sources(&self) -> impl Iterator<Item = &Source> {
        self.parts.iter().flat_map(|p| match p {
            Part::Value(s) => s.as_slice(),
            Part::Literal(_) => &[],
        })
    }

    /// A store key: each of `prefix` followed by `:`, then the template with every value
    /// length-prefixed (`<len>:<value>`; a value over 128 bytes as `h` + 24 hex digits of its
    /// hash), so two different requests can never render the same key, whatever `:` their
    /// values hold. A part the request does not carry makes the key `None` when `missing` is
    /// `None`; otherwise it renders as `-` followed by the `missing` parts, length-prefixed
    /// (a namespace no present value can produce: those start with a digit or `h`).
    pub fn render_key(
        &self,
        prefix: &[&str],
        view: &RequestView<'_>,
        missing: Option<&[&str]>,
    ) -> Option<String> {
        let mut out = String::with_capacity(prefix.iter().map(|p| p.len() + 1).sum::<usize>() + 48);
        for part in prefix {
            out.push_str(part);
            out.push(':');
        }
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Value(sources) => match sources.iter().find_map(|s| lookup(s, view)) {
                    Some(value) if value.len() > MAX_VALUE_LEN => {
                        use sha2::Digest;
                        let digest = sha2::Sha256::digest(value.as_bytes());
                        out.push('h');
                        for byte in &digest[..12] {
                            let _ = write!(out, "{byte:02x}");
                        }
                    }
                    Some(value) => push_counted(&mut out, &value),
                    None => {
                        out.push('-');
                        for part in missing? {
                            push_counted(&mut out, part);
                        }
                    }
                },
            }
        }
        Some(out)
    }

    /// The first part's value from alternatives of one origin only (`signed`: the body;
    /// otherwise headers, path parameters and the rest), `None` when the request has none.
    pub fn render_value_from(&self, view: &RequestView<'_>, signed: bool) -> Option<String> {
        self.render_value_where(view, |s| s == signed)
    }

    /// The first part's value from the first alternative, in template order, that the request
    /// carries and whose origin (`true`: signed) `accept` allows.
    pub fn render_value_where(
        &self,
        view: &RequestView<'_>,
        accept: impl Fn(bool) -> bool,
    ) -> Option<String> {
        self.parts.iter().find_map(|p| match p {
            Part::Value(sources) => sources
                .iter()
                .filter(|s| accept(s.is_signed()))
                .find_map(|s| lookup(s, view))
                .map(Cow::into_owned),
            Part::Literal(_) => None,
        })
    }

    /// The value of the first part alone, `None` when the request carries none of it.
    pub fn render_value(&self, view: &RequestView<'_>) -> Option<String> {
        self.parts.iter().find_map(|p| match p {
            Part::Value(sources) => sources
                .iter()
                .find_map(|s| lookup(s, view))
                .map(Cow::into_owned),
            Part::Literal(_) => None,
        })
    }
}

fn push_counted(out: &mut String, value: &str) {
    out.push_str(itoa::Buffer::new().format(value.len()));
    out.push(':');
    out.push_str(value);
}

impl Source {
    fn is_signed(&self) -> bool {
        matches!(self, Source::Body(_))
    }
}

fn parse_source(s: &str) -> Result<Source, String> {
    Ok(match s {
        "client_ip" => Source::ClientIp,
        "client_net" => Source::ClientNet,
        "tenant" => Source::Tenant,
        "route" => Source::Route,
        _ => match s.split_once('.') {
            Some(("header", name)) if !name.is_empty() => Source::Header(
                http::HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| format!("invalid header name `{name}`"))?,
            ),
            Some(("param", name)) if !name.is_empty() => Source::Param(name.to_string()),
            Some(("body", path)) if !path.is_empty() => Source::Body(parse_body_path(path)?),
            _ => {
                return Err(format!(
                    "unknown template part `{s}`: use client_ip, client_net, tenant, route, header.NAME, param.NAME or body.PATH"
                ));
            }
        },
    })
}

/// `call.call_id`, `payload.attendees[0].email`.
pub fn parse_body_path(path: &str) -> Result<Vec<PathSegment>, String> {
    let mut segments = Vec::new();
    for piece in path.split('.') {
        let (key, mut indexes) = match piece.find('[') {
            Some(i) => (&piece[..i], &piece[i..]),
            None => (piece, ""),
        };
        if key.is_empty() && indexes.is_empty() {
            return Err(format!("empty segment in body path `{path}`"));
        }
        if !key.is_empty() {
            segments.push(PathSegment::Key(key.to_string()));
        }
        while let Some(stripped) = indexes.strip_prefix('[') {
            let end = stripped
                .find(']')
                .ok_or_else(|| format!("unclosed `[` in body path `{path}`"))?;
            let index = stripped[..end]
                .parse()
                .map_err(|_| format!("invalid index in body path `{path}`"))?;
            segments.push(PathSegment::Index(index));
            indexes = &stripped[end + 1..];
        }
        if !indexes.is_empty() {
            return Err(format!("unexpected `{indexes}` in body path `{path}`"));
        }
    }
    Ok(segments)
}

/// The value at `path`, if present.
pub fn body_value<'v>(body: &'v Value, path: &[PathSegment]) -> Option<&'v Value> {
    path.iter().try_fold(body, |v, seg| match seg {
        PathSegment::Key(k) => v.get(k),
        PathSegment::Index(i) => v.get(i),
    })
}

fn lookup<'v>(source: &Source, view: &RequestView<'v>) -> Option<Cow<'v, str>> {
    let text = match source {
        Source::ClientIp => Cow::Borrowed(view.client_ip),
        Source::ClientNet => Cow::Borrowed(view.client_net),
        Source::Tenant => Cow::Borrowed(view.tenant?),
        Source::Route => Cow::Borrowed(view.route),
        Source::Header(name) => Cow::Borrowed(view.headers.get(name)?.to_str().ok()?),
        Source::Param(name) => {
            Cow::Borrowed(view.params.iter().find(|(k, _)| k == name)?.1.as_str())
        }
        Source::Body(path) => match body_value(view.body?, path)? {
            Value::String(s) => Cow::Borrowed(s.as_str()),
            Value::Number(n) => Cow::Owned(n.to_string()),
            Value::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            _ => return None,
        },
    };
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn view<'a>(headers: &'a HeaderMap, body: Option<&'a Value>) -> RequestView<'a> {
        RequestView {
            client_ip: "10.1.2.3",
            client_net: "10.1.2.3",
            headers,
            body,
            tenant: Some("demo"),
            route: "r",
            params: &[],
        }
    }

    fn key(t: &KeyTemplate, view: &RequestView<'_>) -> Option<String> {
        t.render_key(&[], view, None)
    }

    #[test]
    fn renders_alternatives_length_prefixed() {
        let t = KeyTemplate::parse("{body.call.call_id|header.x-retell-call-id}:{tenant}").unwrap();
        let mut headers = HeaderMap::new();
        let body = json!({"call": {"call_id": "abc"}});
        assert_eq!(
            key(&t, &view(&headers, Some(&body))).unwrap(),
            "3:abc:4:demo"
        );
        headers.insert("x-retell-call-id", "hdr".parse().unwrap());
        assert_eq!(key(&t, &view(&headers, None)).unwrap(), "3:hdr:4:demo");
        assert_eq!(
            t.render_key(&["dd", "route"], &view(&headers, None), None)
                .unwrap(),
            "dd:route:3:hdr:4:demo"
        );
    }

    #[test]
    fn a_missing_part_refuses_or_marks_the_key() {
        let t = KeyTemplate::parse("{header.x-retell-call-id}").unwrap();
        let headers = HeaderMap::new();
        assert_eq!(key(&t, &view(&headers, None)), None);
        assert_eq!(
            t.render_key(&["l"], &view(&headers, None), Some(&["no-call-id", "demo"]))
                .unwrap(),
            "l:-10:no-call-id4:demo"
        );
        // A request whose value is the fallback's text gets a key of its own.
        let mut literal = HeaderMap::new();
        literal.insert("x-retell-call-id", "no-call-id".parse().unwrap());
        assert_eq!(
            t.render_key(&["l"], &view(&literal, None), Some(&["no-call-id", "demo"]))
                .unwrap(),
            "l:10:no-call-id"
        );
    }

    #[test]
    fn colons_in_values_cannot_merge_keys() {
        let t = KeyTemplate::parse("{body.event}:{body.id}").unwrap();
        let headers = HeaderMap::new();
        let a = json!({"event": "call_ended:x", "id": "y"});
        let b = json!({"event": "call_ended", "id": "x:y"});
        assert_ne!(
            key(&t, &view(&headers, Some(&a))),
            key(&t, &view(&headers, Some(&b)))
        );
    }

    #[test]
    fn values_by_origin() {
        let t = KeyTemplate::parse("{body.call.agent_id|header.x-retell-agent-id}").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-retell-agent-id", "from-header".parse().unwrap());
        let body = json!({"call": {"agent_id": "from-body"}});
        let v = view(&headers, Some(&body));
        assert_eq!(t.render_value_from(&v, true).as_deref(), Some("from-body"));
        assert_eq!(
            t.render_value_from(&v, false).as_deref(),
            Some("from-header")
        );
        assert!(t.has_signed_source() && t.has_unsigned_source());
        assert!(t.can_be_absent(true));
        assert!(
            !KeyTemplate::parse("{client_net}")
                .unwrap()
                .can_be_absent(true)
        );
    }

    #[test]
    fn body_paths_with_indexes_and_numbers() {
        let t = KeyTemplate::parse("{body.payload.attendees[1].id}-{body.n}").unwrap();
        let body = json!({"payload": {"attendees": [{"id": 1}, {"id": 2}]}, "n": 7});
        assert_eq!(
            key(&t, &view(&HeaderMap::new(), Some(&body))).unwrap(),
            "1:2-1:7"
        );
    }

    #[test]
    fn long_values_are_hashed() {
        let t = KeyTemplate::parse("{header.x-k}").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-k", "a".repeat(5000).parse().unwrap());
        let key = key(&t, &view(&headers, None)).unwrap();
        assert!(key.starts_with('h') && key.len() == 25, "{key}");
    }

    #[test]
    fn rejects_bad_templates() {
        for bad in [
            "{nope}",
            "{body.}",
            "{header.}",
            "static",
            "{client_ip",
            "{body.a[x]}",
        ] {
            assert!(KeyTemplate::parse(bad).is_err(), "{bad}");
        }
    }
}
