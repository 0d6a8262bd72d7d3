//! The YAML document as a tree of nodes that remember their lines.
//!
//! Built from the [`event`](super::event) stream, resolving scalars the way
//! the docker CLI's YAML library (`gopkg.in/yaml.v3`, decoding into `any`)
//! does, so that `UMASK: 0022` is the number 18 and `DEBUG: yes` the string
//! `"yes"` in both. Anchors and aliases are expanded, `<<` merge keys are
//! applied (explicit keys win, then earlier merged maps over later ones),
//! duplicate keys and non-string keys are errors. Every node keeps the line
//! it was written on; a node copied through an alias or a merge key keeps
//! the line of its definition, which is where the text to fix is.

use std::collections::HashMap;

use super::event::{Event, EventKind, ScalarStyle, SyntaxError, read_events};

/// A value in the document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// `null`, `~` or nothing.
    Null,
    /// `true` / `false` (YAML 1.2 spellings only).
    Bool(bool),
    /// An integer; wide enough for both Go's `int` and `uint64`.
    Int(i128),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in the order of the file.
    Map(Vec<Entry>),
}

/// A value and the line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    /// The value.
    pub value: Value,
    /// The 1-based line.
    pub line: usize,
}

/// One key of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    /// The key (always a string).
    pub key: String,
    /// The line of the key.
    pub line: usize,
    /// The value.
    pub value: Node,
}

/// Something wrong in the YAML itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YamlError {
    /// The 1-based line.
    pub line: usize,
    /// What, as a sentence.
    pub message: String,
}

impl Node {
    /// A node on `line`.
    pub fn new(value: Value, line: usize) -> Self {
        Node { value, line }
    }

    /// The entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The items, if this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The text, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(text) => Some(text),
            _ => None,
        }
    }

    /// The entry for `key`, if this is a mapping that has it.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.as_map()?.iter().find(|e| e.key == key)
    }

    /// The value for `key`, if this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }
}

impl Value {
    /// The text Go's `fmt.Sprint` gives for a scalar, which is how the CLI
    /// turns numbers into strings in `environment`, `labels` and the
    /// like (`1.0` is `"1"`, `1e6` is `"1e+06"`); `None` for null and
    /// collections.
    pub fn to_go_string(&self) -> Option<String> {
        match self {
            Value::Str(text) => Some(text.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(go_float(*f)),
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
        }
    }

    /// The JSON-schema name of the value's type, as the CLI's messages use it.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Seq(_) => "list",
            Value::Map(_) => "mapping",
        }
    }
}

/// Go's `%v` for a float64: the shortest digits that read back the same,
/// in exponent form when the exponent is below -4 or at least 6.
fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-trip digits: `-1.2345e-7`.
    let scientific = format!("{f:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if negative { "-" } else { "" };
    if !(-4..6).contains(&exponent) {
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        return format!("{sign}{first}{fraction}e{exp_sign}{:02}", exponent.abs());
    }
    let point = exponent + 1;
    let text = if point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        let (int_part, frac_part) = digits.split_at(point as usize);
        format!("{int_part}.{frac_part}")
    };
    format!("{sign}{text}")
}

/// More nodes than this after expanding aliases is an attack, not a
/// Compose file ("billion laughs").
const MAX_NODES: usize = 1_000_000;

/// Parses the first document of `text`; `Ok(None)` when there is none.
pub(crate) fn parse_document(text: &str) -> Result<Option<Node>, Vec<YamlError>> {
    let events = read_events(text).map_err(|SyntaxError { message, line }| {
        vec![YamlError {
            line,
            message: format!("invalid YAML: {message}"),
        }]
    })?;
    let mut builder = Builder {
        events: &events,
        next: 0,
        anchors: HashMap::new(),
        errors: Vec::new(),
        nodes: 0,
        too_large: false,
    };
    let root = builder.document();
    if builder.errors.is_empty() {
        Ok(root)
    } else {
        Err(builder.errors)
    }
}

struct Builder<'e> {
    events: &'e [Event],
    next: usize,
    /// Anchored nodes and their sizes in nodes.
    anchors: HashMap<String, (Node, usize)>,
    errors: Vec<YamlError>,
    nodes: usize,
    too_large: bool,
}

/// A key as written, before it is known to be a string or a merge key.
enum Key {
    Text(String),
    Merge,
    Invalid,
}

impl Builder<'_> {
    fn document(&mut self) -> Option<Node> {
        loop {
            let event = self.events.get(self.next)?;
            self.next += 1;
            if event.kind == EventKind::DocumentStart {
                break;
            }
        }
        let first = self.events.get(self.next)?;
        if first.kind == EventKind::DocumentEnd {
            return None;
        }
        self.node()
    }

    fn error(&mut self, line: usize, message: String) {
        self.errors.push(YamlError { line, message });
    }

    /// Builds the node starting at the next event.
    fn node(&mut self) -> Option<Node> {
        let event = self.events.get(self.next)?;
        self.next += 1;
        let line = event.line;
        if !self.count(1, line) {
            return None;
        }
        match &event.kind {
            EventKind::Scalar {
                value,
                style,
                anchor,
                tag,
            } => {
                let node = Node::new(resolve_scalar(value, *style, tag.as_deref()), line);
                self.remember(anchor, &node);
                Some(node)
            }
            EventKind::Alias { anchor } => match self.anchors.get(anchor) {
                Some((node, size)) => {
                    let node = node.clone();
                    self.count(*size, line).then_some(node)
                }
                None => {
                    self.error(line, format!("unknown anchor '{anchor}' referenced"));
                    None
                }
            },
            EventKind::SequenceStart { anchor } => {
                let mut items = Vec::new();
                while let Some(next) = self.events.get(self.next) {
                    if next.kind == EventKind::SequenceEnd {
                        self.next += 1;
                        break;
                    }
                    if let Some(item) = self.node() {
                        items.push(item);
                    }
                }
                let node = Node::new(Value::Seq(items), line);
                self.remember(anchor, &node);
                Some(node)
            }
            EventKind::MappingStart { anchor } => {
                let node = self.mapping(line);
                self.remember(anchor, &node);
                Some(node)
            }
            EventKind::DocumentStart
            | EventKind::DocumentEnd
            | EventKind::SequenceEnd
            | EventKind::MappingEnd => None,
        }
    }

    /// Counts `more` nodes; false (and one error) once there are too many.
    fn count(&mut self, more: usize, line: usize) -> bool {
        self.nodes = self.nodes.saturating_add(more);
        if self.nodes > MAX_NODES && !self.too_large {
            self.too_large = true;
            self.error(
                line,
                "the document is too large once its aliases are expanded".into(),
            );
        }
        !self.too_large
    }

    fn remember(&mut self, anchor: &Option<String>, node: &Node) {
        if let Some(anchor) = anchor {
            self.anchors
                .insert(anchor.clone(), (node.clone(), count_nodes(node)));
        }
    }

    fn mapping(&mut self, line: usize) -> Node {
        let mut entries: Vec<Entry> = Vec::new();
        let mut merges: Vec<Node> = Vec::new();
        while let Some(next) = self.events.get(self.next) {
            if next.kind == EventKind::MappingEnd {
                self.next += 1;
                break;
            }
            let key_line = next.line;
            let key = self.key();
            let value = self.node();
            match (key, value) {
                (Key::Merge, Some(value)) => merges.push(value),
                (Key::Text(key), Some(value)) => {
                    if let Some(first) = entries.iter().find(|e| e.key == key) {
                        let message = format!(
                            "mapping key \"{key}\" already defined at line {}",
                            first.line
                        );
                        self.error(key_line, message);
                    } else {
                        entries.push(Entry {
                            key,
                            line: key_line,
                            value,
                        });
                    }
                }
                _ => {}
            }
        }
        if merges.len() > 1 {
            self.error(line, "mapping key \"<<\" is defined more than once".into());
        }
        for merge in merges {
            self.merge(&mut entries, merge);
        }
        Node::new(Value::Map(entries), line)
    }

    /// Reads a key: a scalar that resolves to a string, or `<<`.
    fn key(&mut self) -> Key {
        let Some(event) = self.events.get(self.next) else {
            return Key::Invalid;
        };
        let line = event.line;
        if let EventKind::Scalar {
            value,
            style: ScalarStyle::Plain,
            tag: None,
            ..
        } = &event.kind
            && value == "<<"
        {
            self.next += 1;
            return Key::Merge;
        }
        match self.node() {
            Some(Node {
                value: Value::Str(text),
                ..
            }) => Key::Text(text),
            Some(node) => {
                let message = match &node.value {
                    Value::Map(_) | Value::Seq(_) => {
                        "keys must be strings, not a mapping or list".to_owned()
                    }
                    other => format!(
                        "keys must be strings: this key is read as a {} (quote it)",
                        other.kind()
                    ),
                };
                self.error(line, message);
                Key::Invalid
            }
            None => Key::Invalid,
        }
    }

    /// Applies one `<<` value: keys already present win.
    fn merge(&mut self, entries: &mut Vec<Entry>, merge: Node) {
        let sources = match merge.value {
            Value::Map(source) => vec![source],
            Value::Seq(items) => {
                let mut sources = Vec::new();
                for item in items {
                    match item.value {
                        Value::Map(source) => sources.push(source),
                        _ => {
                            self.error(
                                item.line,
                                "map merge requires map or sequence of maps as the value".into(),
                            );
                        }
                    }
                }
                sources
            }
            _ => {
                self.error(
                    merge.line,
                    "map merge requires map or sequence of maps as the value".into(),
                );
                Vec::new()
            }
        };
        for source in sources {
            for entry in source {
                if !entries.iter().any(|e| e.key == entry.key) {
                    entries.push(entry);
                }
            }
        }
    }
}

fn count_nodes(node: &Node) -> usize {
    match &node.value {
        Value::Seq(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        Value::Map(entries) => 1 + entries.iter().map(|e| count_nodes(&e.value)).sum::<usize>(),
        _ => 1,
    }
}

const STR_TAG: &str = "tag:yaml.org,2002:str";

/// Resolves a scalar like yaml.v3 does when decoding into `any`.
fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&str>) -> Value {
    if style == ScalarStyle::Quoted || matches!(tag, Some(STR_TAG) | Some("!")) {
        return Value::Str(text.to_owned());
    }
    resolve_plain(text)
}

/// Resolves a plain scalar: YAML 1.2 core names, Go integer syntax
/// (including `0755` octal and `_` separators), floats, and dates.
pub(crate) fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        _ => {}
    }
    let first = text.as_bytes()[0];
    match first {
        b'.' => match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Value::Float(f),
            _ => Value::Str(text.to_owned()),
        },
        b'0'..=b'9' | b'+' | b'-' => {
            if let Some(date) = go_date(text) {
                return Value::Str(date);
            }
            let plain: String = text.chars().filter(|&c| c != '_').collect();
            if let Some(i) = go_parse_int(&plain) {
                return Value::Int(i);
            }
            if is_yaml_float(&plain)
                && let Ok(f) = plain.parse::<f64>()
                && f.is_finite()
            {
                return Value::Float(f);
            }
            Value::Str(text.to_owned())
        }
        _ => Value::Str(text.to_owned()),
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`, falling back to `ParseUint`: an
/// optional sign, then `0x`, `0o`, `0b` or a leading `0` (octal) prefix.
pub(crate) fn go_parse_int(text: &str) -> Option<i128> {
    let (negative, rest) = match text.as_bytes().first()? {
        b'+' => (false, &text[1..]),
        b'-' => (true, &text[1..]),
        _ => (false, text),
    };
    let lower = rest.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u128::from_str_radix(digits, radix).ok()?;
    if negative {
        // ParseInt's range; ParseUint takes no sign.
        (magnitude <= 1u128 << 63).then(|| -(magnitude as i128))
    } else if magnitude <= u64::MAX as u128 {
        Some(magnitude as i128)
    } else {
        None
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < bytes.len() && bytes[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if bytes.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == bytes.len()
}

/// A plain `2006-1-2` date, as Go prints the `time.Time` yaml.v3 makes of
/// it (`2006-01-02 00:00:00 +0000 UTC`). Timestamps with a time of day are
/// left as strings (a known difference from the CLI).
fn go_date(text: &str) -> Option<String> {
    let mut parts = text.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || year.len() != 4
        || !(1..=2).contains(&month.len())
        || !(1..=2).contains(&day.len())
        || ![year, month, day]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let (y, m, d): (u32, u32, u32) = (year.parse().ok()?, month.parse().ok()?, day.parse().ok()?);
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days)
        .contains(&d)
        .then(|| format!("{y:04}-{m:02}-{d:02} 00:00:00 +0000 UTC"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Node {
        parse_document(text).unwrap().unwrap()
    }

    fn errors(text: &str) -> Vec<YamlError> {
        parse_document(text).unwrap_err()
    }

    #[test]
    fn plain_scalars_resolve_like_yaml_v3() {
        let cases: &[(&str, Value)] = &[
            ("", Value::Null),
            ("~", Value::Null),
            ("null", Value::Null),
            ("NULL", Value::Null),
            ("true", Value::Bool(true)),
            ("False", Value::Bool(false)),
            ("yes", Value::Str("yes".into())),
            ("on", Value::Str("on".into())),
            ("y", Value::Str("y".into())),
            ("0", Value::Int(0)),
            ("-0", Value::Int(0)),
            ("+1", Value::Int(1)),
            ("42", Value::Int(42)),
            ("0755", Value::Int(493)),
            ("0022", Value::Int(18)),
            ("08", Value::Float(8.0)),
            ("0x1F", Value::Int(31)),
            ("-0x1F", Value::Int(-31)),
            ("0o17", Value::Int(15)),
            ("0b101", Value::Int(5)),
            ("1_000", Value::Int(1000)),
            ("12345678901234567890", Value::Int(12345678901234567890)),
            ("1.5", Value::Float(1.5)),
            ("1.", Value::Float(1.0)),
            (".5", Value::Float(0.5)),
            ("+.5", Value::Float(0.5)),
            ("1e3", Value::Float(1000.0)),
            ("0.1e+2", Value::Float(10.0)),
            ("1e400", Value::Str("1e400".into())),
            ("1:20", Value::Str("1:20".into())),
            ("1.2.3", Value::Str("1.2.3".into())),
            ("-", Value::Str("-".into())),
            (".", Value::Str(".".into())),
            ("0x", Value::Str("0x".into())),
            (
                "2001-12-14",
                Value::Str("2001-12-14 00:00:00 +0000 UTC".into()),
            ),
            (
                "2001-2-3",
                Value::Str("2001-02-03 00:00:00 +0000 UTC".into()),
            ),
            ("2001-02-30", Value::Str("2001-02-30".into())),
            ("3.8", Value::Float(3.8)),
            ("nginx", Value::Str("nginx".into())),
            ("<<", Value::Str("<<".into())),
        ];
        for (text, want) in cases {
            let got = resolve_plain(text);
            match (&got, want) {
                (Value::Float(a), Value::Float(b)) => assert!(a == b, "{text}: {got:?}"),
                _ => assert_eq!(&got, want, "{text}"),
            }
        }
        assert!(matches!(resolve_plain(".nan"), Value::Float(f) if f.is_nan()));
        assert_eq!(resolve_plain("-.inf"), Value::Float(f64::NEG_INFINITY));
    }

    #[test]
    fn quoted_and_str_tagged_scalars_stay_strings() {
        let doc = parse("a: '1'\nb: \"true\"\nc: !!str 0755\nd: |\n  x\ne: ! 12\n");
        assert_eq!(doc.get("a").unwrap().value, Value::Str("1".into()));
        assert_eq!(doc.get("b").unwrap().value, Value::Str("true".into()));
        assert_eq!(doc.get("c").unwrap().value, Value::Str("0755".into()));
        assert_eq!(doc.get("d").unwrap().value, Value::Str("x\n".into()));
        assert_eq!(doc.get("e").unwrap().value, Value::Str("12".into()));
    }

    #[test]
    fn nodes_and_keys_keep_their_lines_in_block_and_flow_styles() {
        let doc = parse(
            "services:\n  web:\n    image: x\n    ports: [\"80\",\n      \"81\"]\n    env: {A: 1,\n      B: 2}\n",
        );
        let web = doc.get("services").unwrap().get("web").unwrap();
        assert_eq!(web.line, 3);
        assert_eq!(web.entry("image").unwrap().line, 3);
        let ports = web.get("ports").unwrap().as_seq().unwrap();
        assert_eq!((ports[0].line, ports[1].line), (4, 5));
        let env = web.get("env").unwrap();
        assert_eq!(env.entry("A").unwrap().line, 6);
        assert_eq!(env.entry("B").unwrap().line, 7);
    }

    #[test]
    fn aliases_copy_the_anchored_node_with_its_lines() {
        let doc = parse("x-env: &env\n  A: 1\nservices:\n  web:\n    environment: *env\n");
        let env = doc
            .get("services")
            .unwrap()
            .get("web")
            .unwrap()
            .get("environment")
            .unwrap();
        assert_eq!(env.entry("A").unwrap().line, 2);
        assert_eq!(env.get("A").unwrap().value, Value::Int(1));
    }

    #[test]
    fn merge_keys_give_explicit_keys_and_earlier_maps_priority() {
        let doc = parse(
            "a: &a {x: 1, y: 1, z: 1}\nb: &b {y: 2, w: 2}\nc:\n  <<: [*b, *a]\n  x: 3\nd:\n  <<: *a\n  z: 4\n",
        );
        let c = doc.get("c").unwrap();
        let keys: Vec<_> = c.as_map().unwrap().iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["x", "y", "w", "z"]);
        assert_eq!(c.get("x").unwrap().value, Value::Int(3));
        assert_eq!(c.get("y").unwrap().value, Value::Int(2));
        assert_eq!(c.get("z").unwrap().value, Value::Int(1));
        assert_eq!(doc.get("d").unwrap().get("z").unwrap().value, Value::Int(4));
        assert_eq!(doc.get("d").unwrap().get("x").unwrap().value, Value::Int(1));
    }

    #[test]
    fn quoted_merge_key_is_an_ordinary_key() {
        let doc = parse("a:\n  '<<': 1\n");
        assert_eq!(
            doc.get("a").unwrap().get("<<").unwrap().value,
            Value::Int(1)
        );
    }

    #[test]
    fn invalid_documents_report_the_line() {
        let cases: &[(&str, usize, &str)] = &[
            (
                "a: 1\na: 2\n",
                2,
                "mapping key \"a\" already defined at line 1",
            ),
            (
                "a:\n  1: x\n",
                2,
                "keys must be strings: this key is read as a integer (quote it)",
            ),
            (
                "a:\n  ~: x\n",
                2,
                "keys must be strings: this key is read as a null (quote it)",
            ),
            ("a: *nope\n", 1, "unknown anchor 'nope' referenced"),
            (
                "a:\n  <<: 1\n",
                2,
                "map merge requires map or sequence of maps as the value",
            ),
            (
                "a:\n  <<: [1]\n",
                2,
                "map merge requires map or sequence of maps as the value",
            ),
            (
                "a: [1\n",
                2,
                "invalid YAML: did not find expected ',' or ']' while parsing a flow sequence",
            ),
        ];
        for (text, line, message) in cases {
            let errs = errors(text);
            assert_eq!(
                errs,
                vec![YamlError {
                    line: *line,
                    message: (*message).into()
                }],
                "{text}"
            );
        }
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let prev = format!("*a{}", i - 1);
            text.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
        }
        let errs = errors(&text);
        assert!(errs[0].message.contains("too large"), "{errs:?}");
    }

    #[test]
    fn only_the_first_document_counts_and_empty_text_has_none() {
        assert_eq!(parse_document("").unwrap(), None);
        assert_eq!(parse_document("# just a comment\n").unwrap(), None);
        let doc = parse("a: 1\n---\nb: 2\n");
        assert!(doc.get("b").is_none());
    }

    #[test]
    fn scalars_print_like_go_fmt_sprint() {
        let cases: &[(Value, &str)] = &[
            (Value::Float(1e6), "1e+06"),
            (Value::Float(123456789.0), "1.23456789e+08"),
            (Value::Float(1e20), "1e+20"),
            (Value::Float(1e21), "1e+21"),
            (Value::Float(0.0001), "0.0001"),
            (Value::Float(0.00001), "1e-05"),
            (Value::Float(100000.0), "100000"),
            (Value::Float(1.25e-7), "1.25e-07"),
            (Value::Float(9007199254740993.0), "9.007199254740992e+15"),
            (Value::Float(-2.5), "-2.5"),
            (Value::Float(1.0), "1"),
            (Value::Float(1.5), "1.5"),
            (Value::Float(12345.678), "12345.678"),
            (
                Value::Float(1.2345678901234568e22),
                "1.2345678901234568e+22",
            ),
            (Value::Float(0.0), "0"),
            (Value::Float(f64::NAN), "NaN"),
            (Value::Float(f64::INFINITY), "+Inf"),
            (Value::Int(-7), "-7"),
            (Value::Int(12345678901234567890), "12345678901234567890"),
            (Value::Bool(true), "true"),
            (Value::Str("x".into()), "x"),
        ];
        for (value, want) in cases {
            assert_eq!(value.to_go_string().as_deref(), Some(*want), "{value:?}");
        }
        assert_eq!(Value::Null.to_go_string(), None);
    }

    #[test]
    fn go_integer_syntax_matches_strconv() {
        let cases: &[(&str, Option<i128>)] = &[
            ("10", Some(10)),
            ("+10", Some(10)),
            ("-10", Some(-10)),
            ("010", Some(8)),
            ("0X1f", Some(31)),
            ("0B11", Some(3)),
            ("0O7", Some(7)),
            ("09", None),
            ("0b2", None),
            ("18446744073709551615", Some(u64::MAX as i128)),
            ("18446744073709551616", None),
            ("-9223372036854775808", Some(i64::MIN as i128)),
            ("-9223372036854775809", None),
            ("1e3", None),
            ("", None),
            ("+", None),
        ];
        for (text, want) in cases {
            assert_eq!(go_parse_int(text), *want, "{text}");
        }
    }
}
