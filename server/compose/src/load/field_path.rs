//! Field paths: where a value sits in a Compose file (`services.web.ports[0].published`).

use std::fmt;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// A mapping key.
    Key(String),
    /// A list index.
    Index(usize),
}

/// A path from the top of the file to a value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FieldPath {
    segments: Vec<Segment>,
}

impl FieldPath {
    /// The top of the file.
    pub fn root() -> Self {
        FieldPath::default()
    }

    /// This path with a key appended.
    pub fn key(&self, key: &str) -> Self {
        let mut path = self.clone();
        path.segments.push(Segment::Key(key.to_owned()));
        path
    }

    /// This path with an index appended.
    pub fn index(&self, index: usize) -> Self {
        let mut path = self.clone();
        path.segments.push(Segment::Index(index));
        path
    }

    /// The path one step up; `None` at the top.
    pub fn parent(&self) -> Option<FieldPath> {
        let mut path = self.clone();
        path.segments.pop()?;
        Some(path)
    }

    /// Whether the path matches `pattern`, dot-separated, where `*` matches
    /// any key and `[]` any index (the CLI's cast table syntax).
    pub fn matches(&self, pattern: &str) -> bool {
        let parts: Vec<&str> = pattern.split('.').collect();
        parts.len() == self.segments.len()
            && parts
                .iter()
                .zip(&self.segments)
                .all(|(part, segment)| match segment {
                    Segment::Key(key) => *part == "*" || part == key,
                    Segment::Index(_) => *part == "[]",
                })
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Key(key) if i == 0 => write!(f, "{key}")?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_print_keys_with_dots_and_indexes_in_brackets() {
        let path = FieldPath::root()
            .key("services")
            .key("web")
            .key("ports")
            .index(0)
            .key("published");
        assert_eq!(path.to_string(), "services.web.ports[0].published");
        assert_eq!(FieldPath::root().to_string(), "");
    }

    #[test]
    fn patterns_match_any_key_with_star_and_any_index_with_brackets() {
        let path = FieldPath::root()
            .key("services")
            .key("web")
            .key("ports")
            .index(3)
            .key("target");
        let cases = [
            ("services.*.ports.[].target", true),
            ("services.web.ports.[].target", true),
            ("services.*.ports.*.target", false),
            ("services.*.ports.[]", false),
            ("services.db.ports.[].target", false),
        ];
        for (pattern, want) in cases {
            assert_eq!(path.matches(pattern), want, "{pattern}");
        }
    }
}
