//! `.dockerignore`: which files of a build context are left out of it.
//!
//! This reproduces what the docker CLI does for the classic builder
//! (`ignorefile.ReadAll`, then `patternmatcher`, both in moby/patternmatcher),
//! quirks included, so that voc sends the same context as `docker build`:
//!
//! - Lines starting with `#` are comments; lines are trimmed; a leading `!`
//!   makes an exception; each pattern is cleaned like Go's `filepath.Clean`
//!   (so `./a` is `a`, `a/` is `a`) and a leading `/` is dropped.
//! - Patterns use Go's `filepath.Match` syntax (`*`, `?`, `[a-z]`, `[^a]`,
//!   `\` escapes) plus `**`, which matches any number of folders.
//! - A pattern that matches a folder excludes everything under it; the last
//!   pattern that matches a path decides (exceptions re-include).
//! - Docker turns each pattern into a Go regular expression, with shortcuts:
//!   a pattern without wildcards is compared as a string, `dir/**` as a
//!   prefix, and `**…` without other wildcards as a *suffix* (so `**.txt`
//!   matches every path ending in `.txt`, and `**file` matches `profile`).
//!   The translation lets some regular expression syntax through (`^` is an
//!   anchor, `\d` is a digit, `*` inside `[...]` becomes `[^/]*`); this
//!   module implements the subset that can come out of it and rejects
//!   what it does not implement (POSIX classes, `\pN`, `\x41`...) instead
//!   of matching differently.
//!
//! Walking a folder tree with these rules (and skipping excluded folders)
//! is the private `build_context` module's job.

use crate::compose::load::clean_path;
use std::fmt;

/// A `.dockerignore` file, parsed: its patterns in order.
#[derive(Debug, Clone, Default)]
pub struct DockerIgnore {
    patterns: Vec<Pattern>,
}

/// A pattern that Docker would refuse, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid pattern `{pattern}`: {reason}")]
pub struct PatternError {
    /// The pattern as written (after trimming).
    pub pattern: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Which patterns matched a folder, passed down to the paths inside it
/// (the walk's equivalent of patternmatcher's `MatchInfo`).
#[derive(Debug, Clone, Default)]
pub(crate) struct ParentMatches(Vec<bool>);

#[derive(Debug, Clone)]
struct Pattern {
    /// The cleaned pattern, without its `!`.
    text: String,
    exception: bool,
    kind: MatchKind,
}

#[derive(Debug, Clone)]
enum MatchKind {
    Exact,
    /// `text` ends with `**`: a string prefix test.
    Prefix,
    /// `text` starts with `**` and has no other wildcard: a suffix test.
    Suffix,
    Regex(Regex),
}

impl DockerIgnore {
    /// Parses the content of a `.dockerignore` file.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        Self::from_patterns(read_lines(text))
    }

    /// Builds a matcher from patterns already split into lines (what
    /// `docker build` passes as `ExcludePatterns`): each is trimmed and
    /// cleaned, and empty ones are skipped.
    pub fn from_patterns<I, S>(patterns: I) -> Result<Self, PatternError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut ignore = Self::default();
        for pattern in patterns {
            ignore.push(pattern.as_ref())?;
        }
        Ok(ignore)
    }

    /// Adds an exception for `path` at the end, so it is never excluded;
    /// `docker build` does this for the Dockerfile and `.dockerignore` when
    /// the file excludes them.
    pub fn push_exception(&mut self, path: &str) -> Result<(), PatternError> {
        self.push(&format!("!{path}"))
    }

    fn push(&mut self, raw: &str) -> Result<(), PatternError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Ok(());
        }
        let error = |reason: &str| PatternError {
            pattern: trimmed.to_owned(),
            reason: reason.to_owned(),
        };
        // Cleaned with its `!`, as Docker does: `!a/..` would lose it, but
        // `read_lines` has already cleaned the part after the `!`.
        let cleaned = clean_path(trimmed);
        let (exception, text) = match cleaned.strip_prefix('!') {
            Some("") => return Err(error("an exception needs a pattern after `!`")),
            Some(rest) => (true, rest.to_owned()),
            None => (false, cleaned),
        };
        validate_glob(&text).map_err(error)?;
        let kind = compile(&text).map_err(error)?;
        self.patterns.push(Pattern {
            text,
            exception,
            kind,
        });
        Ok(())
    }

    /// True if the file has at least one exception (`!`) pattern.
    pub fn has_exceptions(&self) -> bool {
        self.patterns.iter().any(|p| p.exception)
    }

    /// True if `path` (relative to the context, `/`-separated, clean) is
    /// left out of the context: the last pattern matching it or one of its
    /// folders is not an exception.
    pub fn is_excluded(&self, path: &str) -> bool {
        self.matches(path, None).0
    }

    /// Like [`DockerIgnore::is_excluded`], for a walk: `parent` is what the
    /// walk returned for the folder holding `path` (`None` at the top). Also
    /// returns what to pass for the paths inside `path` if it is a folder.
    pub(crate) fn matches(
        &self,
        path: &str,
        parent: Option<&ParentMatches>,
    ) -> (bool, ParentMatches) {
        let mut excluded = false;
        let mut matched = vec![false; self.patterns.len()];
        for (i, pattern) in self.patterns.iter().enumerate() {
            let mut hit = parent.is_some_and(|p| p.0.get(i).copied().unwrap_or(false));
            if !hit {
                // A pattern cannot change the outcome when it would set what
                // is already set; Docker skips it, and then does not record
                // it as matched for the folder's children either.
                if pattern.exception != excluded {
                    continue;
                }
                hit = pattern.is_match(path);
                if !hit && parent.is_none() {
                    hit = ancestors(path).any(|dir| pattern.is_match(dir));
                }
            }
            matched[i] = hit;
            if hit {
                excluded = !pattern.exception;
            }
        }
        (excluded, ParentMatches(matched))
    }

    /// True if an exception could re-include something under the excluded
    /// folder `dir`, so a walk must enter it. Docker only looks at whether
    /// an exception's text starts with `dir/`: `!**/keep` does not make it
    /// enter `dir`, while `!dir/*.keep` does.
    pub(crate) fn may_reinclude_under(&self, dir: &str) -> bool {
        let dir_slash = format!("{dir}/");
        self.patterns
            .iter()
            .filter(|p| p.exception)
            .any(|p| format!("{}/", p.text).starts_with(&dir_slash))
    }
}

/// The folders above `path`: `a/b/c` gives `a`, `a/b`.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

impl Pattern {
    fn is_match(&self, path: &str) -> bool {
        match &self.kind {
            MatchKind::Exact => path == self.text,
            MatchKind::Prefix => path.starts_with(&self.text[..self.text.len() - 2]),
            MatchKind::Suffix => {
                let suffix = &self.text[2..];
                path.ends_with(suffix) || suffix.strip_prefix('/').is_some_and(|s| path == s)
            }
            MatchKind::Regex(regex) => regex.is_match(path),
        }
    }
}

/// The patterns of a `.dockerignore` file, as `ignorefile.ReadAll` returns
/// them: comments and blank lines dropped, `!` and the leading `/` handled,
/// each pattern cleaned.
fn read_lines(text: &str) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut patterns = Vec::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        // Only a `#` in the very first column makes a comment: `  # x` is
        // the pattern `# x`.
        if line.starts_with('#') {
            continue;
        }
        let mut pattern = line.trim();
        if pattern.is_empty() {
            continue;
        }
        let exception = pattern.starts_with('!');
        if exception {
            pattern = pattern[1..].trim();
        }
        let mut cleaned = String::new();
        if !pattern.is_empty() {
            cleaned = clean_path(pattern);
            if cleaned.len() > 1 && cleaned.starts_with('/') {
                cleaned.remove(0);
            }
        }
        patterns.push(if exception {
            format!("!{cleaned}")
        } else {
            cleaned
        });
    }
    patterns
}

/// The syntax check of Go's `filepath.Match`, which Docker runs on every
/// pattern: `\` must escape something, and `[...]` must be a non-empty list
/// of characters and ranges (`-` and `]` only escaped).
fn validate_glob(pattern: &str) -> Result<(), &'static str> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut rest = &chars[..];
    while !rest.is_empty() {
        let (chunk, after) = scan_chunk(rest);
        validate_chunk(chunk)?;
        rest = after;
    }
    Ok(())
}

/// Go's `scanChunk`: skips leading `*`s and returns the text up to the next
/// `*` outside brackets.
fn scan_chunk(pattern: &[char]) -> (&[char], &[char]) {
    let start = pattern.iter().take_while(|&&c| c == '*').count();
    let pattern = &pattern[start..];
    let mut in_range = false;
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            '\\' if i + 1 < pattern.len() => i += 1,
            '[' => in_range = true,
            ']' => in_range = false,
            '*' if !in_range => break,
            _ => {}
        }
        i += 1;
    }
    (&pattern[..i], &pattern[i..])
}

fn validate_chunk(mut chunk: &[char]) -> Result<(), &'static str> {
    while let Some((&c, rest)) = chunk.split_first() {
        chunk = rest;
        match c {
            '[' => {
                if chunk.first() == Some(&'^') {
                    chunk = &chunk[1..];
                }
                let mut ranges = 0;
                loop {
                    if chunk.first() == Some(&']') && ranges > 0 {
                        chunk = &chunk[1..];
                        break;
                    }
                    chunk = class_char(chunk)?;
                    if chunk.first() == Some(&'-') {
                        chunk = class_char(&chunk[1..])?;
                    }
                    ranges += 1;
                }
            }
            '\\' => {
                let Some((_, rest)) = chunk.split_first() else {
                    return Err("`\\` at the end escapes nothing");
                };
                chunk = rest;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Go's `getEsc`: one (possibly escaped) character of a `[...]` class,
/// which must be followed by more of the pattern.
fn class_char(chunk: &[char]) -> Result<&[char], &'static str> {
    const UNCLOSED: &str = "`[` without a matching `]`";
    let chunk = match chunk.first() {
        None => return Err(UNCLOSED),
        Some('-' | ']') => {
            return Err("`-` and `]` must be escaped inside `[...]`, and `[]` is empty");
        }
        Some('\\') => &chunk[1..],
        Some(_) => chunk,
    };
    match chunk.get(1..) {
        Some(rest) if !rest.is_empty() => Ok(rest),
        _ => Err(UNCLOSED),
    }
}

/// Docker's translation of a cleaned pattern (`Pattern.compile`): the kind
/// of test, and for regular expressions the expression itself.
fn compile(text: &str) -> Result<MatchKind, &'static str> {
    #[derive(PartialEq)]
    enum Detected {
        Exact,
        Prefix,
        Suffix,
        Regex,
    }
    let chars: Vec<char> = text.chars().collect();
    let mut regex = String::from("^");
    let mut detected = Detected::Exact;
    let mut k = 0;
    let mut iteration = 0;
    while k < chars.len() {
        let c = chars[k];
        k += 1;
        match c {
            '*' if chars.get(k) == Some(&'*') => {
                k += 1;
                if chars.get(k) == Some(&'/') {
                    k += 1;
                }
                if k == chars.len() {
                    if detected == Detected::Exact {
                        detected = Detected::Prefix;
                    } else {
                        regex.push_str(".*");
                        detected = Detected::Regex;
                    }
                } else {
                    regex.push_str("(.*/)?");
                    detected = Detected::Regex;
                }
                if iteration == 0 {
                    detected = Detected::Suffix;
                }
            }
            '*' => {
                regex.push_str("[^/]*");
                detected = Detected::Regex;
            }
            '?' => {
                regex.push_str("[^/]");
                detected = Detected::Regex;
            }
            '.' | '+' | '(' | ')' | '|' | '{' | '}' | '$' => {
                regex.push('\\');
                regex.push(c);
            }
            '\\' => {
                regex.push('\\');
                if let Some(&next) = chars.get(k) {
                    regex.push(next);
                    k += 1;
                    detected = Detected::Regex;
                }
            }
            '[' | ']' => {
                regex.push(c);
                detected = Detected::Regex;
            }
            _ => regex.push(c),
        }
        iteration += 1;
    }
    Ok(match detected {
        Detected::Exact => MatchKind::Exact,
        Detected::Prefix => MatchKind::Prefix,
        Detected::Suffix => MatchKind::Suffix,
        Detected::Regex => {
            regex.push('$');
            MatchKind::Regex(Regex::parse(&regex)?)
        }
    })
}

/// The part of Go's regular expressions that [`compile`] can produce, and a
/// matcher for it.
#[derive(Clone)]
struct Regex {
    nodes: Vec<Node>,
}

#[derive(Debug, Clone)]
enum Node {
    Char(char),
    Class(Class),
    /// `.`: any character but a newline.
    Any,
    /// `(.*/)?`: nothing, or anything up to and including a `/`.
    AnyFolders,
    /// `x*` for a single-character `x`.
    Repeat(Box<Node>),
    /// `^`: the start of the text.
    Start,
    /// `$`: the end of the text.
    End,
}

#[derive(Debug, Clone, Default)]
struct Class {
    negated: bool,
    ranges: Vec<(char, char)>,
}

impl fmt::Debug for Regex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.nodes).finish()
    }
}

const UNSUPPORTED: &str =
    "uses regular expression syntax that Docker lets through and voc does not support";

impl Regex {
    fn parse(regex: &str) -> Result<Self, &'static str> {
        let chars: Vec<char> = regex.chars().collect();
        let mut nodes = Vec::new();
        let mut k = 0;
        while k < chars.len() {
            let c = chars[k];
            k += 1;
            let node = match c {
                '^' => Node::Start,
                '$' => Node::End,
                '.' => Node::Any,
                '(' if chars[k..].starts_with(&['.', '*', '/', ')', '?']) => {
                    k += 5;
                    Node::AnyFolders
                }
                '*' => {
                    let Some(last) = nodes.pop() else {
                        return Err("`*` repeats nothing");
                    };
                    if !matches!(last, Node::Char(_) | Node::Class(_) | Node::Any) {
                        return Err(UNSUPPORTED);
                    }
                    Node::Repeat(Box::new(last))
                }
                '\\' => {
                    let (node, used) = escape(&chars[k..])?;
                    k += used;
                    node
                }
                '[' => {
                    let (class, used) = parse_class(&chars[k..])?;
                    k += used;
                    Node::Class(class)
                }
                '(' | ')' | '?' | '+' | '{' | '|' => return Err(UNSUPPORTED),
                c => Node::Char(c),
            };
            nodes.push(node);
        }
        Ok(Self { nodes })
    }

    fn is_match(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        let mut memo = vec![None; (self.nodes.len() + 1) * (text.len() + 1)];
        self.match_at(0, 0, &text, &mut memo)
    }

    /// Whether `nodes[node..]` matches `text[pos..]`, memoized so that
    /// patterns with many `*` stay linear in the text's length per node.
    fn match_at(&self, node: usize, pos: usize, text: &[char], memo: &mut [Option<bool>]) -> bool {
        let slot = node * (text.len() + 1) + pos;
        if let Some(known) = memo[slot] {
            return known;
        }
        let result = match self.nodes.get(node) {
            None => pos == text.len(),
            Some(Node::Start) => pos == 0 && self.match_at(node + 1, pos, text, memo),
            Some(Node::End) => pos == text.len() && self.match_at(node + 1, pos, text, memo),
            Some(Node::AnyFolders) => {
                self.match_at(node + 1, pos, text, memo)
                    || (pos..text.len())
                        .take_while(|&i| text[i] != '\n')
                        .any(|i| text[i] == '/' && self.match_at(node + 1, i + 1, text, memo))
            }
            Some(Node::Repeat(inner)) => {
                self.match_at(node + 1, pos, text, memo)
                    || (pos < text.len()
                        && inner.matches_char(text[pos])
                        && self.match_at(node, pos + 1, text, memo))
            }
            Some(single) => {
                pos < text.len()
                    && single.matches_char(text[pos])
                    && self.match_at(node + 1, pos + 1, text, memo)
            }
        };
        memo[slot] = Some(result);
        result
    }
}

impl Node {
    fn matches_char(&self, c: char) -> bool {
        match self {
            Node::Char(expected) => c == *expected,
            Node::Class(class) => class.contains(c),
            Node::Any => c != '\n',
            _ => false,
        }
    }
}

impl Class {
    fn contains(&self, c: char) -> bool {
        self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != self.negated
    }
}

/// A `\` escape outside a class: returns the node and how many characters
/// after the `\` it used.
fn escape(after: &[char]) -> Result<(Node, usize), &'static str> {
    let Some(&c) = after.first() else {
        return Err("`\\` at the end escapes nothing");
    };
    if let Some(class) = perl_class(c) {
        return Ok((Node::Class(class), 1));
    }
    Ok((Node::Char(escaped_char(c)?), 1))
}

/// What `\c` means as a single character in a Go regular expression.
fn escaped_char(c: char) -> Result<char, &'static str> {
    Ok(match c {
        'a' => '\x07',
        'f' => '\x0c',
        't' => '\t',
        'n' => '\n',
        'r' => '\r',
        'v' => '\x0b',
        c if c.is_ascii_punctuation() => c,
        _ => return Err(UNSUPPORTED),
    })
}

/// `\d`, `\s`, `\w` and their negations, as Go's regular expressions
/// define them (ASCII only).
fn perl_class(c: char) -> Option<Class> {
    let ranges = match c.to_ascii_lowercase() {
        'd' => vec![('0', '9')],
        's' => vec![('\t', '\n'), ('\x0c', '\r'), (' ', ' ')],
        'w' => vec![('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')],
        _ => return None,
    };
    Some(Class {
        negated: c.is_ascii_uppercase(),
        ranges,
    })
}

/// A `[...]` class, `after` starting just past the `[`: returns the class
/// and how many characters it used, including the closing `]`.
fn parse_class(after: &[char]) -> Result<(Class, usize), &'static str> {
    const UNCLOSED: &str = "`[` without a matching `]`";
    let mut class = Class::default();
    let mut k = 0;
    if after.first() == Some(&'^') {
        class.negated = true;
        k += 1;
    }
    let mut first = true;
    loop {
        let Some(&c) = after.get(k) else {
            return Err(UNCLOSED);
        };
        // A `]` right after `[` or `[^` is a literal one.
        if c == ']' && !first {
            return Ok((class, k + 1));
        }
        first = false;
        if c == '[' && after.get(k + 1) == Some(&':') {
            return Err(UNSUPPORTED);
        }
        let (lo, used) = class_item(&after[k..], &mut class)?;
        k += used;
        let Some(lo) = lo else { continue };
        let hi = match (after.get(k), after.get(k + 1)) {
            (Some('-'), Some(&next)) if next != ']' => {
                let (hi, used) = class_item(&after[k + 1..], &mut class)?;
                k += 1 + used;
                hi.ok_or(UNSUPPORTED)?
            }
            _ => lo,
        };
        if hi < lo {
            return Err("a range in `[...]` goes backwards");
        }
        class.ranges.push((lo, hi));
    }
}

/// One item of a class: a character (returned, as it may start a range),
/// or a Perl class such as `\d` (added to `class` directly).
fn class_item(at: &[char], class: &mut Class) -> Result<(Option<char>, usize), &'static str> {
    match at {
        ['\\', c, ..] => match perl_class(*c) {
            Some(perl) if !perl.negated => {
                class.ranges.extend(perl.ranges);
                Ok((None, 2))
            }
            Some(_) => Err(UNSUPPORTED),
            None => Ok((Some(escaped_char(*c)?), 2)),
        },
        ['\\'] | [] => Err("`[` without a matching `]`"),
        [c, ..] => Ok((Some(*c), 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ignore(patterns: &[&str]) -> DockerIgnore {
        DockerIgnore::from_patterns(patterns).unwrap_or_else(|e| panic!("{patterns:?}: {e}"))
    }

    /// One pattern against one path, matching the path itself only.
    fn matches_exactly(pattern: &str, path: &str) -> bool {
        let ignore = ignore(&[pattern]);
        ignore.patterns[0].is_match(path)
    }

    #[test]
    fn single_patterns_match_like_docker() {
        // (pattern, path, matches the path itself, matches it or a parent)
        let cases: &[(&str, &str, bool, bool)] = &[
            ("**", "file", true, true),
            ("**", "dir/file", true, true),
            ("**/", "file", true, true),
            ("**/**", "dir/file", true, true),
            ("dir/**", "dir/file", true, true),
            ("dir/**", "dir/dir2/file", true, true),
            ("dir/**", "dir", false, false),
            ("**/dir", "dir", true, true),
            ("**/dir", "dir/file", false, true),
            ("**/dir", "a/dir", true, true),
            ("**/dir", "adir", false, false),
            ("**/dir2/*", "dir/dir2/file", true, true),
            ("**/dir2/**", "dir/dir2/dir3/file", true, true),
            ("**file", "file", true, true),
            ("**file", "dir/file", true, true),
            ("**file", "dir/dir/file", true, true),
            // Docker's suffix shortcut: not what the regular expression says.
            ("**file", "profile", true, true),
            ("**.txt", "a/b.txt", true, true),
            ("**/file", "dir/file", true, true),
            ("**/file", "dir/dir/file", true, true),
            ("**/file*", "dir/dir/file", true, true),
            ("**/file*", "dir/dir/file.txt", true, true),
            ("**/file*txt", "dir/dir/file.txt", true, true),
            ("**/file*.txt", "dir/dir/file.txt", true, true),
            ("**/file*.txt*", "dir/dir/file.txt", true, true),
            ("**/**/*.txt", "dir/dir/file.txt", true, true),
            ("**/**/*.txt2", "dir/dir/file.txt", false, false),
            ("**/*.txt", "file.txt", true, true),
            ("**/**/*.txt", "file.txt", true, true),
            ("a**/*.txt", "a/file.txt", true, true),
            ("a**/*.txt", "a/dir/file.txt", true, true),
            ("a**/*.txt", "a/dir/dir/file.txt", true, true),
            ("a/*.txt", "a/dir/file.txt", false, false),
            ("a/*.txt", "a/file.txt", true, true),
            ("a/*.txt**", "a/file.txt", true, true),
            ("a[b-d]e", "ae", false, false),
            ("a[b-d]e", "ace", true, true),
            ("a[b-d]e", "aae", false, false),
            ("a[^b-d]e", "aze", true, true),
            // Go's regular expressions let a negated class match `/`.
            ("a[^b-d]e", "a/e", true, true),
            (".*", ".foo", true, true),
            (".*", "foo", false, false),
            ("abc.def", "abcdef", false, false),
            ("abc.def", "abc.def", true, true),
            ("abc.def", "abcZdef", false, false),
            ("abc?def", "abcZdef", true, true),
            ("abc?def", "abcdef", false, false),
            ("abc?def", "abc/def", false, false),
            ("**/foo/bar", "foo/bar", true, true),
            ("**/foo/bar", "dir/foo/bar", true, true),
            ("**/foo/bar", "dir/dir2/foo/bar", true, true),
            ("abc/**", "abc", false, false),
            ("abc/**", "abc/def", true, true),
            ("abc/**", "abc/def/ghi", true, true),
            ("**/.foo", ".foo", true, true),
            ("**/.foo", "bar.foo", false, false),
            ("a(b)c/def", "a(b)c/def", true, true),
            ("a(b)c/def", "a(b)c/xyz", false, false),
            ("a.|)$(}+{bc", "a.|)$(}+{bc", true, true),
            ("a.|)$(}+{b*", "a.|)$(}+{bc", true, true),
            (
                "dist/*.whl",
                "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
                true,
                true,
            ),
            ("a\\\\", "a\\", true, true),
            ("a\\*b", "a*b", true, true),
            ("a\\*b", "axb", false, false),
            ("*", "fileutils.go", true, true),
            ("*", "dir/file", false, true),
            ("*.go", "fileutils.go", true, true),
            ("*.go", "a/fileutils.go", false, false),
            ("docs", "docs/README.md", false, true),
            ("docs", "docs", true, true),
            ("docs", "docsx", false, false),
            ("a*", "ab/c", false, true),
            ("a*/b", "abc/b", true, true),
            ("a*/b", "a/c/b", false, false),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", true, true),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true, true),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false, false),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false, false),
            ("a*b?c*x", "abxbbxdbxebxczzx", true, true),
            ("a*b?c*x", "abxbbxdbxebxczzy", false, false),
            ("ab[c]", "abc", true, true),
            ("ab[b-d]", "abc", true, true),
            ("ab[e-g]", "abc", false, false),
            ("ab[^c]", "abc", false, false),
            ("ab[^b-d]", "abc", false, false),
            ("ab[^e-g]", "abc", true, true),
            ("a?b", "a☺b", true, true),
            ("a[^a]b", "a☺b", true, true),
            ("a???b", "a☺b", false, false),
            ("[a-ζ]*", "α", true, true),
            ("*[a-ζ]", "A", false, false),
            ("a*b", "a/b", false, false),
            ("[\\]a]", "]", true, true),
            ("[\\-]", "-", true, true),
            ("[x\\-]", "x", true, true),
            ("[x\\-]", "-", true, true),
            ("[x\\-]", "z", false, false),
            ("[\\-x]", "x", true, true),
            ("[\\-x]", "a", false, false),
            ("*x", "xxx", true, true),
            // Regular expression syntax Docker lets through.
            ("a^b", "a^b", true, true),
            ("a^*", "a^b", false, false),
            ("^*", "anything", true, true),
            ("^*", "dir/file", false, true),
            ("a\\db", "a5b", true, true),
            ("a\\db", "adb", false, false),
            ("[*]", "[/]", true, true),
            ("[*]", "*", false, false),
            ("[?]", "[]", true, true),
            ("[[]", "[", true, true),
            ("[a\\d]", "7", true, true),
            ("x[\\s]y", "x y", true, true),
            // `**` is `.*`, which stops at a newline; `*` is `[^/]*`, which does not.
            ("a/**/b", "a/x\ny/b", false, false),
            ("a*", "a\nb", true, true),
        ];
        for &(pattern, path, exact, or_parent) in cases {
            assert_eq!(
                matches_exactly(pattern, path),
                exact,
                "pattern {pattern:?} on {path:?}"
            );
            assert_eq!(
                ignore(&[pattern]).is_excluded(path),
                or_parent,
                "pattern {pattern:?} on {path:?} or a parent"
            );
        }
    }

    #[test]
    fn later_patterns_and_exceptions_decide() {
        let cases: &[(&[&str], &str, bool)] = &[
            (&["*.go", "!fileutils.go"], "fileutils.go", false),
            (&["!fileutils.go", "*.go"], "fileutils.go", true),
            (&["docs", "!docs/README.md"], "docs/README.md", false),
            (&["docs/", "!docs/README.md"], "docs/README.md", false),
            (&["docs/*", "!docs/README.md"], "docs/README.md", false),
            (&["docs", "!docs/README.md"], "docs/other.md", true),
            (&["**", "!util/docker/web"], "util/docker/web/foo", false),
            (
                &["**", "!util/docker/web", "util/docker/web/foo"],
                "util/docker/web/foo",
                true,
            ),
            (
                &["**", "!dist/*.whl"],
                "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
                false,
            ),
            (&["*", "!keep", "keep/drop"], "keep/drop/x", true),
            (&["*", "!keep", "keep/drop"], "keep/x", false),
            (&[], "anything", false),
            (&["", "  ", "a"], "a", true),
        ];
        for &(patterns, path, excluded) in cases {
            assert_eq!(
                ignore(patterns).is_excluded(path),
                excluded,
                "{patterns:?} on {path:?}"
            );
        }
    }

    /// What a walk decides for `path`, passing each folder's matches down.
    fn walk_decision(ignore: &DockerIgnore, path: &str) -> bool {
        let mut parent = None;
        let mut excluded = false;
        for (end, _) in path.match_indices('/').chain([(path.len(), "")]) {
            let (decision, matched) = ignore.matches(&path[..end], parent.as_ref());
            excluded = decision;
            parent = Some(matched);
        }
        excluded
    }

    #[test]
    fn walks_pass_folder_matches_down_like_docker() {
        // (patterns, path, excluded by a walk, excluded by is_excluded)
        let cases: &[(&[&str], &str, bool, bool)] = &[
            (&["a", "!a/b"], "a/b/c", false, false),
            (&["a", "!a/b"], "a/x", true, true),
            (&["a", "!a/b", "a/b/c"], "a/b/c/d", true, true),
            (&["**", "!a/b"], "a/b/c", false, false),
            (&["a/*", "!a/b/c"], "a/b/c/d", false, false),
            (&["a/*", "!a/b/c"], "a/b/d", true, true),
            (&["!a", "a/b"], "a/b/c", true, true),
            // Docker's walk only tries an exception on a path and the
            // folders where it was tried before: `!a` was skipped at `a`
            // (nothing was excluded yet), so it does not re-include `a/b/c`.
            (&["*/b", "!a"], "a/b/c", true, false),
        ];
        for &(patterns, path, walked, single) in cases {
            let ignore = ignore(patterns);
            assert_eq!(
                walk_decision(&ignore, path),
                walked,
                "walk: {patterns:?} on {path:?}"
            );
            assert_eq!(
                ignore.is_excluded(path),
                single,
                "single: {patterns:?} on {path:?}"
            );
        }
    }

    #[test]
    fn dockerignore_files_are_read_like_docker_reads_them() {
        let text = "\u{feff}test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n  # not a comment\n! /inverted/abs/path\r\n./dot/slash\ntrailing/\n  spaced  \n/\n";
        assert_eq!(
            read_lines(text),
            [
                "test1",
                "test2",
                "a/file/here",
                "lastfile",
                "# not a comment",
                "!inverted/abs/path",
                "dot/slash",
                "trailing",
                "spaced",
                "/",
            ]
        );
        assert_eq!(read_lines("!\n! \n"), ["!", "!"]);
        assert_eq!(read_lines("a/../b\n../c\n/.."), ["b", "../c", "/"]);
    }

    #[test]
    fn paths_are_cleaned_like_go_does() {
        let cases = [
            ("", "."),
            (".", "."),
            ("./", "."),
            ("a", "a"),
            ("a/", "a"),
            ("a//b", "a/b"),
            ("a/./b", "a/b"),
            ("a/../b", "b"),
            ("a/b/../../..", ".."),
            ("../a", "../a"),
            ("../../a/../b", "../../b"),
            ("/", "/"),
            ("//", "/"),
            ("/..", "/"),
            ("/../a", "/a"),
            ("/a/b/", "/a/b"),
            ("!a/", "!a"),
            ("!a/..", "."),
        ];
        for (path, cleaned) in cases {
            assert_eq!(clean_path(path), cleaned, "{path:?}");
        }
    }

    #[test]
    fn parse_handles_comments_exceptions_and_slashes() {
        let ignore =
            DockerIgnore::parse("# comment\n/secret.txt\n*.log\n!keep.log\n./build/\n").unwrap();
        assert!(ignore.has_exceptions());
        for (path, excluded) in [
            ("secret.txt", true),
            ("dir/secret.txt", false),
            ("a.log", true),
            ("keep.log", false),
            ("build", true),
            ("build/out/x", true),
            ("src/main.rs", false),
            ("# comment", false),
        ] {
            assert_eq!(ignore.is_excluded(path), excluded, "{path}");
        }
        assert!(!DockerIgnore::parse("a\n").unwrap().has_exceptions());
    }

    #[test]
    fn invalid_patterns_are_rejected_with_the_pattern() {
        let cases = [
            "!",
            "[",
            "[^",
            "[^bc",
            "a[",
            "[]a]",
            "[-]",
            "[x-]",
            "[-x]",
            "[a-b-c]",
            "\\",
            "a/\\",
            "[z-a]",
            "[[:alpha:]]",
            "a\\pN",
            "a\\x41",
            "[\\D]",
        ];
        for pattern in cases {
            let error = DockerIgnore::from_patterns([pattern]).expect_err(pattern);
            assert_eq!(error.pattern, pattern);
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("invalid pattern `{pattern}`: ")),
                "{error}"
            );
        }
        let error = DockerIgnore::parse("ok\n  !  \n").unwrap_err();
        assert_eq!(error.pattern, "!");
    }

    #[test]
    fn valid_bracket_and_escape_forms_are_accepted() {
        for pattern in [
            "[\\]a]", "[\\-]", "[x\\-]", "[\\-x]", "[a-b]", "[^a]", "[\\\\]", "a\\*", "[*]", "**",
            "a/**/b",
        ] {
            DockerIgnore::from_patterns([pattern]).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[test]
    fn exceptions_for_build_files_reinclude_them() {
        let mut ignore = DockerIgnore::parse("*\n").unwrap();
        assert!(ignore.is_excluded("Dockerfile"));
        ignore.push_exception("Dockerfile").unwrap();
        ignore.push_exception(".dockerignore").unwrap();
        assert!(!ignore.is_excluded("Dockerfile"));
        assert!(!ignore.is_excluded(".dockerignore"));
        assert!(ignore.is_excluded("other"));
    }

    #[test]
    fn walks_enter_excluded_folders_only_for_exceptions_starting_with_them() {
        let ignore = ignore(&["dir", "other", "!dir/keep", "!**/anywhere", "!oth*/x"]);
        assert!(ignore.may_reinclude_under("dir"));
        assert!(!ignore.may_reinclude_under("other"));
        assert!(!ignore.may_reinclude_under("di"));
        assert!(ignore.may_reinclude_under("dir/keep"));
        assert!(!ignore.may_reinclude_under("dir/keep/deeper"));
    }
}
