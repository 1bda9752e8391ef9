//! Maps a logical path inside a YAML document (`routes[2].limits[0]`) to its line and column.
//!
//! serde gives positions only for syntax and shape errors; the compile step finds semantic errors
//! (an unknown limit name, overlapping routes) after deserialisation, so it looks their position
//! up here. Built from yaml-rust2's marked event stream because serde_yaml's `Value` has no spans.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Positions (1-based line and column) of every node of one YAML document, by path.
#[derive(Debug, Default, Clone)]
pub struct Locator {
    positions: HashMap<String, (usize, usize)>,
}

impl Locator {
    pub fn new(source: &str) -> Self {
        let mut builder = Builder::default();
        let mut parser = Parser::new_from_str(source);
        // A syntax error is reported by serde with its own position; positions found so far stay.
        let _ = parser.load(&mut builder, false);
        Self {
            positions: builder.positions,
        }
    }

    /// The position of `path`, or of its nearest located ancestor, or 1:1.
    pub fn find(&self, path: &str) -> (usize, usize) {
        let mut candidate = path;
        loop {
            if let Some(pos) = self.positions.get(candidate) {
                return *pos;
            }
            match candidate.rfind(['.', '[']) {
                Some(cut) => candidate = &candidate[..cut],
                None => return self.positions.get("").copied().unwrap_or((1, 1)),
            }
        }
    }
}

enum Frame {
    Mapping { pending_key: Option<String> },
    Sequence { next_index: usize },
}

#[derive(Default)]
struct Builder {
    positions: HashMap<String, (usize, usize)>,
    stack: Vec<(Frame, String)>,
}

impl Builder {
    /// The path of the node that starts now, advancing the parent's index or key state.
    /// Returns `None` when the scalar is a mapping key, which is not a node of its own.
    fn next_node_path(&mut self, scalar: Option<&str>) -> Option<String> {
        let Some((frame, parent)) = self.stack.last_mut() else {
            return Some(String::new());
        };
        match frame {
            Frame::Sequence { next_index } => {
                let path = format!("{parent}[{next_index}]");
                *next_index += 1;
                Some(path)
            }
            Frame::Mapping { pending_key } => match pending_key.take() {
                Some(key) if parent.is_empty() => Some(key),
                Some(key) => Some(format!("{parent}.{key}")),
                None => {
                    *pending_key = Some(scalar.unwrap_or("?").to_string());
                    None
                }
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let position = (mark.line(), mark.col() + 1);
        match event {
            Event::Scalar(value, ..) => {
                if let Some(path) = self.next_node_path(Some(&value)) {
                    self.positions.entry(path).or_insert(position);
                } else if let Some((_, parent)) = self.stack.last() {
                    // Point key errors at the key itself.
                    let key_path = if parent.is_empty() {
                        value.clone()
                    } else {
                        format!("{parent}.{value}")
                    };
                    // A block mapping's start is only known at its first `:`; its first key
                    // is where it visibly begins.
                    if let Some(start) = self.positions.get_mut(parent)
                        && start.0 == position.0
                        && start.1 > position.1
                    {
                        *start = position;
                    }
                    self.positions.insert(key_path, position);
                }
            }
            Event::Alias(_) => {
                self.next_node_path(Some("*"));
            }
            Event::MappingStart(..) => {
                let path = self.next_node_path(None).unwrap_or_default();
                self.positions.entry(path.clone()).or_insert(position);
                self.stack
                    .push((Frame::Mapping { pending_key: None }, path));
            }
            Event::SequenceStart(..) => {
                let path = self.next_node_path(None).unwrap_or_default();
                self.positions.entry(path.clone()).or_insert(position);
                self.stack.push((Frame::Sequence { next_index: 0 }, path));
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_positions() {
        let src = "routes:\n  - name: a\n    limits: [x, y]\n  - name: b\n    limits:\n      - z\n";
        let loc = Locator::new(src);
        // A key points at itself; a sequence item at its value.
        assert_eq!(loc.find("routes[0].name"), (2, 5));
        assert_eq!(loc.find("routes[0].limits[1]"), (3, 17));
        assert_eq!(loc.find("routes[1].limits[0]"), (6, 9));
        assert_eq!(loc.find("routes[1].nope"), (4, 5));
    }
}
