//! Where each field was written: a path -> line index of every file, used
//! to place the problems found after the files are merged into the model
//! (undefined networks, missing images...).

use std::collections::HashMap;
use std::path::PathBuf;

use super::field_path::FieldPath;
use super::tree::{Node, Value};
use crate::diagnostic::Location;

/// The line of every field of one file.
#[derive(Debug, Default)]
pub(crate) struct PositionIndex {
    lines: HashMap<String, usize>,
}

impl PositionIndex {
    /// Indexes every mapping key and list item of `root`.
    pub fn build(root: &Node) -> Self {
        let mut index = PositionIndex::default();
        index.lines.insert(String::new(), root.line);
        index.add(root, &FieldPath::root());
        index
    }

    fn add(&mut self, node: &Node, path: &FieldPath) {
        match &node.value {
            Value::Map(entries) => {
                for entry in entries {
                    let child = path.key(&entry.key);
                    self.lines.insert(child.to_string(), entry.line);
                    self.add(&entry.value, &child);
                }
            }
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    let child = path.index(i);
                    self.lines.insert(child.to_string(), item.line);
                    self.add(item, &child);
                }
            }
            _ => {}
        }
    }

    /// The line of `path`, or of its deepest ancestor that has one, and how
    /// many steps up that was.
    fn line_of(&self, path: &FieldPath) -> Option<(usize, usize)> {
        let mut current = Some(path.clone());
        let mut up = 0;
        while let Some(path) = current {
            if let Some(line) = self.lines.get(&path.to_string()) {
                return Some((*line, up));
            }
            current = path.parent();
            up += 1;
        }
        None
    }
}

/// Places paths of the merged model in the files they came from.
#[derive(Debug, Default)]
pub(crate) struct Locator {
    files: Vec<(PathBuf, PositionIndex)>,
}

impl Locator {
    /// Adds the next file (later files override earlier ones).
    pub fn push(&mut self, file: PathBuf, index: PositionIndex) {
        self.files.push((file, index));
    }

    /// The file and line where `path` was written: the last file that has
    /// the exact path, else the one with the deepest ancestor of it.
    pub fn locate(&self, path: &FieldPath) -> Location {
        let best = self
            .files
            .iter()
            .rev()
            .filter_map(|(file, index)| index.line_of(path).map(|(line, up)| (file, line, up)))
            .min_by_key(|(_, _, up)| *up);
        match best {
            Some((file, line, _)) => Location {
                file: file.clone(),
                line: Some(line),
                path: path.to_string(),
            },
            None => Location {
                file: self
                    .files
                    .first()
                    .map(|(f, _)| f.clone())
                    .unwrap_or_default(),
                line: None,
                path: path.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::tree::parse_document;

    #[test]
    fn paths_are_found_exactly_or_through_their_deepest_ancestor() {
        let root =
            parse_document("services:\n  web:\n    image: x\n    ports:\n      - 80\n      - 81\n")
                .unwrap()
                .unwrap();
        let mut locator = Locator::default();
        locator.push(PathBuf::from("a.yml"), PositionIndex::build(&root));
        let web = FieldPath::root().key("services").key("web");
        let cases = [
            (web.key("image"), 3),
            (web.key("ports").index(1), 6),
            (web.key("networks").key("front"), 2),
            (FieldPath::root().key("volumes"), 1),
        ];
        for (path, line) in cases {
            assert_eq!(locator.locate(&path).line, Some(line), "{path}");
        }
    }

    #[test]
    fn the_file_with_the_most_precise_position_wins() {
        let first = parse_document("services:\n  web:\n    image: x\n")
            .unwrap()
            .unwrap();
        let second = parse_document("x-a: 1\nservices:\n  web:\n    networks: [front]\n")
            .unwrap()
            .unwrap();
        let mut locator = Locator::default();
        locator.push(PathBuf::from("a.yml"), PositionIndex::build(&first));
        locator.push(PathBuf::from("b.yml"), PositionIndex::build(&second));
        let web = FieldPath::root().key("services").key("web");
        let image = locator.locate(&web.key("image"));
        assert_eq!((image.file, image.line), (PathBuf::from("a.yml"), Some(3)));
        let networks = locator.locate(&web.key("networks").key("front"));
        assert_eq!(
            (networks.file, networks.line),
            (PathBuf::from("b.yml"), Some(4))
        );
        let service = locator.locate(&web);
        assert_eq!(
            (service.file, service.line),
            (PathBuf::from("b.yml"), Some(3))
        );
    }
}
