//! The parts of a JSON body a route's stages read.
//!
//! A forwarded `call_ended` webhook carries a transcript no stage looks at: building all of it as
//! a `serde_json::Value` was the largest cost of a 200 KiB event. A route that reads only a few
//! fields (key templates, a validated subtree) parses just those; everything else is still
//! checked for syntax, so malformed JSON is refused exactly as before, but not built.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::template::PathSegment;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyFields {
    /// The whole value.
    All,
    /// Only these members of an object (anything other than an object here is read as null:
    /// no path continues through it).
    Only(BTreeMap<String, BodyFields>),
}

impl BodyFields {
    /// Nothing is read yet.
    pub fn none() -> Self {
        Self::Only(BTreeMap::new())
    }

    /// Also keep what `path` reaches. An array index keeps the whole array.
    pub fn add(&mut self, path: &[PathSegment]) {
        match (self, path.split_first()) {
            (Self::Only(fields), Some((PathSegment::Key(key), rest))) => fields
                .entry(key.clone())
                .or_insert_with(Self::none)
                .add(rest),
            (node, _) => *node = Self::All,
        }
    }

    /// Parses `body`, building only the kept parts. Every path added reads the same value as in
    /// the fully parsed body; the whole body must be valid JSON either way.
    pub fn parse(&self, body: &[u8]) -> Result<Value, serde_json::Error> {
        if *self == Self::All {
            return serde_json::from_slice(body);
        }
        let mut de = serde_json::Deserializer::from_slice(body);
        let value = Keep(self).deserialize(&mut de)?;
        de.end()?;
        Ok(value)
    }
}

struct Keep<'a>(&'a BodyFields);

impl<'de> DeserializeSeed<'de> for Keep<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Value, D::Error> {
        match self.0 {
            BodyFields::All => Value::deserialize(de),
            BodyFields::Only(fields) => de.deserialize_any(Select(fields)),
        }
    }
}

/// Builds the kept members of an object; any other value is skipped and read as null.
struct Select<'a>(&'a BTreeMap<String, BodyFields>);

impl<'de> Visitor<'de> for Select<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut kept = serde_json::Map::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match self.0.get(key.as_ref()) {
                // A repeated member replaces the earlier one, as in a fully parsed body.
                Some(fields) => {
                    let value = map.next_value_seed(Keep(fields))?;
                    kept.insert(key.into_owned(), value);
                }
                None => map.next_value_seed(Skip)?,
            }
        }
        Ok(Value::Object(kept))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Value, A::Error> {
        Skip.visit_seq(seq).map(|()| Value::Null)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_str<E>(self, _: &str) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}

/// Reads a value without building it. Not serde's `IgnoredAny`: serde_json skips that with a
/// laxer scan (no number range, nesting depth or surrogate checks) than it parses a `Value`
/// with, and a skipped part must be refused exactly when a full parse would refuse it.
struct Skip;

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(Skip)?.is_some() {
            map.next_value_seed(Skip)?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Skip)?.is_some() {}
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::template::parse_body_path;
    use serde_json::json;

    fn fields(paths: &[&str]) -> BodyFields {
        let mut f = BodyFields::none();
        for p in paths {
            f.add(&parse_body_path(p).unwrap());
        }
        f
    }

    #[test]
    fn keeps_only_the_paths_read() {
        let body = json!({
            "event": "call_ended",
            "call": { "call_id": "c1", "agent_id": "a1", "transcript": "long", "n": [1, 2] },
            "args": { "date": "2026-12-08", "nested": { "x": 1 } },
        });
        let parsed = fields(&["call.call_id", "args"])
            .parse(body.to_string().as_bytes())
            .unwrap();
        assert_eq!(
            parsed,
            json!({ "call": { "call_id": "c1" }, "args": { "date": "2026-12-08", "nested": { "x": 1 } } })
        );
    }

    #[test]
    fn an_index_keeps_the_whole_array_and_a_prefix_wins_over_longer_paths() {
        let body = json!({ "a": [{ "b": 1 }, { "b": 2 }], "c": { "d": 1, "e": 2 } });
        let text = body.to_string();
        assert_eq!(
            fields(&["a[1].b", "c.d", "c"])
                .parse(text.as_bytes())
                .unwrap(),
            body
        );
        assert_eq!(
            fields(&["a[0]"]).parse(text.as_bytes()).unwrap()["a"],
            body["a"]
        );
    }

    #[test]
    fn non_objects_on_the_way_read_as_null() {
        let parsed = fields(&["call.call_id"])
            .parse(br#"{"call": ["not", "an", "object"]}"#)
            .unwrap();
        assert_eq!(parsed, json!({ "call": null }));
        assert_eq!(fields(&["x"]).parse(b"[1, 2]").unwrap(), Value::Null);
    }

    #[test]
    fn malformed_bodies_are_refused_even_in_skipped_parts() {
        let f = fields(&["call.call_id"]);
        for bad in [
            &br#"{"call": {"call_id": "c1"}, "transcript": "unterminated}"#[..],
            br#"{"call": {"call_id": "c1"}, "x": [1, 2,]}"#,
            br#"{"call": {"call_id": "c1"}, "x": "bad \q escape"}"#,
            br#"{"call": {"call_id": "c1"}} trailing"#,
            // What serde's own skipping lets through: range, depth and surrogates.
            br#"{"x": 4e888}"#,
            br#"{"x": "\ud800"}"#,
            b"{\"call\": {\"call_id\": \"c1\"}, \"x\": \"\xff\xfe\"}",
            b"{\"x\": \"raw \x01 control\"}",
            b"",
        ] {
            assert!(f.parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
            assert!(serde_json::from_slice::<Value>(bad).is_err());
        }
        // Nesting past serde_json's limit, in a skipped member and at the root.
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        for bad in [format!(r#"{{"x": {deep}}}"#), deep] {
            assert!(f.parse(bad.as_bytes()).is_err());
            assert!(serde_json::from_slice::<Value>(bad.as_bytes()).is_err());
        }
    }

    #[test]
    fn duplicate_members_keep_the_last_like_a_full_parse() {
        let text = br#"{"call": {"call_id": "first"}, "call": {"call_id": "second"}}"#;
        let full: Value = serde_json::from_slice(text).unwrap();
        let parsed = fields(&["call.call_id"]).parse(text).unwrap();
        assert_eq!(parsed["call"]["call_id"], full["call"]["call_id"]);
    }

    #[test]
    fn escaped_keys_still_match() {
        let parsed = fields(&["call.call_id"])
            .parse(br#"{"c\u0061ll": {"call_\u0069d": "c1"}}"#)
            .unwrap();
        assert_eq!(parsed, json!({ "call": { "call_id": "c1" } }));
    }

    fn arb_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "[a-z\\\\\"é ]{0,8}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("[abc]", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn arb_path() -> impl proptest::strategy::Strategy<Value = Vec<PathSegment>> {
        use proptest::prelude::*;
        let segment = prop_oneof![
            "[abc]".prop_map(PathSegment::Key),
            (0usize..2).prop_map(PathSegment::Index),
        ];
        proptest::collection::vec(segment, 1..4)
    }

    proptest::proptest! {
        // Whatever the body and the paths, each path reads the same as in the full parse.
        #[test]
        fn every_added_path_reads_what_a_full_parse_reads(
            body in arb_json(),
            paths in proptest::collection::vec(arb_path(), 1..4),
        ) {
            let mut f = BodyFields::none();
            for p in &paths {
                f.add(p);
            }
            let text = body.to_string();
            let parsed = f.parse(text.as_bytes()).unwrap();
            for p in &paths {
                proptest::prop_assert_eq!(
                    crate::policy::template::body_value(&parsed, p),
                    crate::policy::template::body_value(&body, p),
                );
            }
        }
    }
}
