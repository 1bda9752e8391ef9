//! Route patterns and the route table.
//!
//! A pattern is `/exact/segments`, `/with/{param}` or `/prefix/*`. At the first segment where two
//! patterns differ, a literal beats a parameter and a parameter beats a `*` tail, so matching is
//! deterministic whatever the file order. Two routes that are the same pattern up to parameter
//! names, with a method in common, are ambiguous and refused by the compiler.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern {
    segments: Vec<Segment>,
    /// Ends in `/*`: matches any remaining segments (including none).
    tail: bool,
}

impl PathPattern {
    pub fn parse(pattern: &str) -> Result<Self, String> {
        let rest = pattern
            .strip_prefix('/')
            .ok_or_else(|| format!("path `{pattern}` must start with `/`"))?;
        let mut segments = Vec::new();
        let mut tail = false;
        let pieces: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        for (i, piece) in pieces.iter().enumerate() {
            if *piece == "*" {
                if i + 1 != pieces.len() {
                    return Err(format!("`*` must be the last segment in `{pattern}`"));
                }
                tail = true;
            } else if let Some(name) = piece.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(format!("invalid parameter `{piece}` in `{pattern}`"));
                }
                segments.push(Segment::Param(name.to_string()));
            } else if piece.is_empty() || piece.contains(['{', '}', '*']) {
                return Err(format!("invalid segment `{piece}` in `{pattern}`"));
            } else {
                segments.push(Segment::Literal((*piece).to_string()));
            }
        }
        Ok(Self { segments, tail })
    }

    /// Matches `path`, returning its parameters.
    pub fn matches(&self, path: &str) -> Option<Vec<(String, String)>> {
        let path = path.strip_prefix('/')?;
        // "/" has no segments; split would yield one empty piece.
        let mut pieces = path.split('/').filter(|_| !path.is_empty());
        let mut params = Vec::new();
        for segment in &self.segments {
            let piece = pieces.next()?;
            match segment {
                Segment::Literal(lit) if lit == piece => {}
                Segment::Param(name) if !piece.is_empty() => {
                    params.push((name.clone(), piece.to_string()))
                }
                _ => return None,
            }
        }
        if self.tail || pieces.next().is_none() {
            Some(params)
        } else {
            None
        }
    }

    /// Same shape up to parameter names.
    pub fn same_shape(&self, other: &Self) -> bool {
        self.tail == other.tail
            && self.segments.len() == other.segments.len()
            && self
                .segments
                .iter()
                .zip(&other.segments)
                .all(|pair| match pair {
                    (Segment::Literal(a), Segment::Literal(b)) => a == b,
                    (Segment::Param(_), Segment::Param(_)) => true,
                    _ => false,
                })
    }

    /// Sort key: more specific first (literal < param per segment, then longer, then no tail).
    fn specificity(&self) -> (Vec<u8>, bool) {
        let mut key: Vec<u8> = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Literal(_) => 0,
                Segment::Param(_) => 1,
            })
            .collect();
        key.push(if self.tail { 3 } else { 2 });
        (key, self.tail)
    }
}

/// Routes in match order.
#[derive(Debug)]
pub struct RouteTable<R> {
    entries: Vec<(Vec<http::Method>, PathPattern, R)>,
}

impl<R> RouteTable<R> {
    /// `methods` empty means any method.
    pub fn new(mut entries: Vec<(Vec<http::Method>, PathPattern, R)>) -> Self {
        entries.sort_by_key(|entry| entry.1.specificity());
        Self { entries }
    }

    pub fn find(&self, method: &http::Method, path: &str) -> Option<(&R, Vec<(String, String)>)> {
        self.entries.iter().find_map(|(methods, pattern, route)| {
            if !methods.is_empty() && !methods.contains(method) {
                return None;
            }
            pattern.matches(path).map(|params| (route, params))
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = &R> {
        self.entries.iter().map(|(_, _, r)| r)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    #[test]
    fn exact_param_and_tail() {
        let p = PathPattern::parse("/retell/function/{name}").unwrap();
        assert_eq!(
            p.matches("/retell/function/book").unwrap(),
            vec![("name".into(), "book".into())]
        );
        assert!(p.matches("/retell/function").is_none());
        assert!(p.matches("/retell/function/").is_none());
        assert!(p.matches("/retell/function/a/b").is_none());
        let t = PathPattern::parse("/api/*").unwrap();
        assert!(t.matches("/api").is_some());
        assert!(t.matches("/api/x/y").is_some());
        assert!(t.matches("/apix").is_none());
        let root = PathPattern::parse("/").unwrap();
        assert!(root.matches("/").is_some());
        assert!(root.matches("/a").is_none());
    }

    #[test]
    fn literal_beats_param_beats_tail() {
        let table = RouteTable::new(vec![
            (vec![], PathPattern::parse("/*").unwrap(), "tail"),
            (vec![], PathPattern::parse("/a/{x}").unwrap(), "param"),
            (
                vec![Method::POST],
                PathPattern::parse("/a/b").unwrap(),
                "literal",
            ),
        ]);
        assert_eq!(*table.find(&Method::POST, "/a/b").unwrap().0, "literal");
        assert_eq!(*table.find(&Method::GET, "/a/b").unwrap().0, "param");
        assert_eq!(*table.find(&Method::GET, "/zzz").unwrap().0, "tail");
    }

    #[test]
    fn rejects_bad_patterns() {
        for bad in ["nope", "/a/*/b", "/a/{}", "/a//b", "/a/{x-y}"] {
            assert!(PathPattern::parse(bad).is_err(), "{bad}");
        }
        assert!(
            PathPattern::parse("/a/{x}")
                .unwrap()
                .same_shape(&PathPattern::parse("/a/{y}").unwrap())
        );
    }
}
