//! The YAML event stream of one document, read with libyaml.
//!
//! `libyaml-rs` is libyaml translated to unsafe Rust: its API is C's, with
//! raw pointers and manual cleanup. This module is the only place in the
//! crate that touches it. It turns a text into a `Vec` of owned [`Event`]s,
//! each with the line it starts on, which is all the tree builder needs:
//! the positions that `yaml_serde`'s `Value` does not keep. It is the same
//! parser `yaml_serde` uses, so both accept exactly the same documents.

use std::ffi::CStr;
use std::mem::MaybeUninit;

use libyaml_rs as sys;

/// The style a scalar was written in; only plain scalars are resolved to
/// numbers, booleans or null.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScalarStyle {
    /// `value`
    Plain,
    /// `'value'`, `"value"`, `|` or `>` blocks.
    Quoted,
}

/// What happened in the document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum EventKind {
    /// The document starts.
    DocumentStart,
    /// The document ends.
    DocumentEnd,
    /// `*name`.
    Alias { anchor: String },
    /// A scalar.
    Scalar {
        value: String,
        style: ScalarStyle,
        anchor: Option<String>,
        tag: Option<String>,
    },
    /// A sequence starts.
    SequenceStart { anchor: Option<String> },
    /// The current sequence ends.
    SequenceEnd,
    /// A mapping starts.
    MappingStart { anchor: Option<String> },
    /// The current mapping ends.
    MappingEnd,
}

/// One event and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    /// What.
    pub kind: EventKind,
    /// The 1-based line.
    pub line: usize,
}

/// Why the text is not YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    /// libyaml's words (`did not find expected key while parsing a block mapping`).
    pub message: String,
    /// The 1-based line of the problem.
    pub line: usize,
}

/// Deeper nesting than this is refused: the tree is built and walked
/// recursively, and libyaml slows down badly on very deep documents.
pub(crate) const MAX_DEPTH: usize = 256;

/// Reads every event of `text` (stream start and end excluded).
pub(crate) fn read_events(text: &str) -> Result<Vec<Event>, SyntaxError> {
    let mut parser = Parser::new(text.as_bytes());
    let mut events = Vec::new();
    let mut depth = 0usize;
    loop {
        let Some(event) = parser.next()? else {
            return Ok(events);
        };
        match event.kind {
            EventKind::SequenceStart { .. } | EventKind::MappingStart { .. } => depth += 1,
            EventKind::SequenceEnd | EventKind::MappingEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_DEPTH {
            return Err(SyntaxError {
                message: format!("the document is nested more than {MAX_DEPTH} levels deep"),
                line: event.line,
            });
        }
        events.push(event);
    }
}

/// An initialised libyaml parser reading from a borrowed buffer.
///
/// Soundness: the parser struct lives in a `Box` so it never moves after
/// `yaml_parser_initialize` (libyaml keeps a pointer to it in
/// `read_handler_data`); the input slice outlives the parser through the
/// `'input` lifetime; every event is copied into owned Rust values and then
/// freed with `yaml_event_delete` before the next call; the parser is freed
/// exactly once, in `Drop`. libyaml checks the input is UTF-8 itself, and it
/// is already a `&str`.
struct Parser<'input> {
    sys: Box<MaybeUninit<sys::yaml_parser_t>>,
    finished: bool,
    _input: &'input [u8],
}

impl<'input> Parser<'input> {
    fn new(input: &'input [u8]) -> Self {
        let mut parser = Box::new(MaybeUninit::<sys::yaml_parser_t>::uninit());
        // SAFETY: `parser` points to writable memory large enough for a
        // parser; initialisation only fails when allocation fails, which
        // aborts in this translation. The input pointer and length describe
        // a live slice that outlives the parser.
        unsafe {
            let ptr = parser.as_mut_ptr();
            if sys::yaml_parser_initialize(ptr).fail {
                // libyaml-rs aborts on allocation failure instead of
                // returning; this branch cannot be taken.
                std::process::abort();
            }
            sys::yaml_parser_set_encoding(ptr, sys::YAML_UTF8_ENCODING);
            sys::yaml_parser_set_input_string(ptr, input.as_ptr(), input.len() as _);
        }
        Parser {
            sys: parser,
            finished: false,
            _input: input,
        }
    }

    fn next(&mut self) -> Result<Option<Event>, SyntaxError> {
        if self.finished {
            return Ok(None);
        }
        let mut raw = MaybeUninit::<sys::yaml_event_t>::uninit();
        // SAFETY: the parser was initialised in `new` and has not moved; on
        // success `raw` holds an initialised event that is read, copied and
        // deleted before returning.
        unsafe {
            let parser = self.sys.as_mut_ptr();
            if sys::yaml_parser_parse(parser, raw.as_mut_ptr()).fail {
                self.finished = true;
                return Err(syntax_error(&*parser));
            }
            let raw = raw.as_mut_ptr();
            let line = (*raw).start_mark.line as usize + 1;
            let kind = convert(&*raw);
            sys::yaml_event_delete(raw);
            match kind {
                Converted::End => {
                    self.finished = true;
                    Ok(None)
                }
                Converted::Skip => self.next(),
                Converted::Event(kind) => Ok(Some(Event { kind, line })),
            }
        }
    }
}

impl Drop for Parser<'_> {
    fn drop(&mut self) {
        // SAFETY: the parser was initialised in `new` and is deleted once.
        unsafe { sys::yaml_parser_delete(self.sys.as_mut_ptr()) }
    }
}

enum Converted {
    Event(EventKind),
    Skip,
    End,
}

/// Copies one event into owned values.
///
/// # Safety
/// `raw` must be an event just returned by `yaml_parser_parse`.
unsafe fn convert(raw: &sys::yaml_event_t) -> Converted {
    // SAFETY (whole body): the union field read matches `type_`, as libyaml
    // documents; pointers are NUL-terminated strings or null, and the scalar
    // value has `length` bytes.
    unsafe {
        match raw.type_ {
            sys::YAML_STREAM_START_EVENT | sys::YAML_NO_EVENT => Converted::Skip,
            sys::YAML_STREAM_END_EVENT => Converted::End,
            sys::YAML_DOCUMENT_START_EVENT => Converted::Event(EventKind::DocumentStart),
            sys::YAML_DOCUMENT_END_EVENT => Converted::Event(EventKind::DocumentEnd),
            sys::YAML_ALIAS_EVENT => Converted::Event(EventKind::Alias {
                anchor: c_string(raw.data.alias.anchor).unwrap_or_default(),
            }),
            sys::YAML_SCALAR_EVENT => {
                let scalar = raw.data.scalar;
                let bytes = if scalar.value.is_null() {
                    &[][..]
                } else {
                    std::slice::from_raw_parts(scalar.value, scalar.length as usize)
                };
                Converted::Event(EventKind::Scalar {
                    value: String::from_utf8_lossy(bytes).into_owned(),
                    style: if scalar.style == sys::YAML_PLAIN_SCALAR_STYLE {
                        ScalarStyle::Plain
                    } else {
                        ScalarStyle::Quoted
                    },
                    anchor: c_string(scalar.anchor),
                    tag: c_string(scalar.tag),
                })
            }
            sys::YAML_SEQUENCE_START_EVENT => Converted::Event(EventKind::SequenceStart {
                anchor: c_string(raw.data.sequence_start.anchor),
            }),
            sys::YAML_SEQUENCE_END_EVENT => Converted::Event(EventKind::SequenceEnd),
            sys::YAML_MAPPING_START_EVENT => Converted::Event(EventKind::MappingStart {
                anchor: c_string(raw.data.mapping_start.anchor),
            }),
            sys::YAML_MAPPING_END_EVENT => Converted::Event(EventKind::MappingEnd),
            // `yaml_event_type_t` is non-exhaustive; libyaml has no other events.
            _ => Converted::Skip,
        }
    }
}

/// # Safety
/// `ptr` is null or points to a NUL-terminated string.
unsafe fn c_string(ptr: *const u8) -> Option<String> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: non-null and NUL-terminated, per the contract.
    let text = unsafe { CStr::from_ptr(ptr.cast()) };
    Some(text.to_string_lossy().into_owned())
}

fn syntax_error(parser: &sys::yaml_parser_t) -> SyntaxError {
    // SAFETY: libyaml sets `problem` and `context` to static NUL-terminated
    // strings or leaves them null.
    let (problem, context) = unsafe {
        (
            c_string(parser.problem.cast()),
            c_string(parser.context.cast()),
        )
    };
    let mut message = problem.unwrap_or_else(|| "invalid YAML".to_owned());
    if let Some(context) = context {
        message.push(' ');
        message.push_str(&context);
    }
    SyntaxError {
        message,
        line: parser.problem_mark.line as usize + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(usize, EventKind)> {
        read_events(text)
            .unwrap()
            .into_iter()
            .map(|e| (e.line, e.kind))
            .collect()
    }

    fn plain(value: &str) -> EventKind {
        EventKind::Scalar {
            value: value.to_owned(),
            style: ScalarStyle::Plain,
            anchor: None,
            tag: None,
        }
    }

    #[test]
    fn block_mapping_events_carry_their_lines() {
        let events = kinds("a: 1\nb:\n  - x\n");
        assert_eq!(
            events,
            vec![
                (1, EventKind::DocumentStart),
                (1, EventKind::MappingStart { anchor: None }),
                (1, plain("a")),
                (1, plain("1")),
                (2, plain("b")),
                (3, EventKind::SequenceStart { anchor: None }),
                (3, plain("x")),
                (4, EventKind::SequenceEnd),
                (4, EventKind::MappingEnd),
                (4, EventKind::DocumentEnd),
            ]
        );
    }

    #[test]
    fn quoted_scalars_anchors_tags_and_aliases_are_reported() {
        let events = kinds("a: &x 'q'\nb: *x\nc: !!str 1\n");
        assert!(events.contains(&(
            1,
            EventKind::Scalar {
                value: "q".into(),
                style: ScalarStyle::Quoted,
                anchor: Some("x".into()),
                tag: None
            }
        )));
        assert!(events.contains(&(2, EventKind::Alias { anchor: "x".into() })));
        assert!(events.contains(&(
            3,
            EventKind::Scalar {
                value: "1".into(),
                style: ScalarStyle::Plain,
                anchor: None,
                tag: Some("tag:yaml.org,2002:str".into())
            }
        )));
    }

    #[test]
    fn syntax_errors_give_the_line() {
        let err = read_events("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(err.line >= 2, "{err:?}");
        assert!(err.message.contains("flow sequence"), "{err:?}");
        let err = read_events("a: 1\n b: 2\n").unwrap_err();
        assert_eq!(err.line, 2, "{err:?}");
    }

    #[test]
    fn deep_nesting_is_refused_early() {
        let deep = format!("a: {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let start = std::time::Instant::now();
        let err = read_events(&deep).unwrap_err();
        assert_eq!(
            err.message,
            "the document is nested more than 256 levels deep"
        );
        assert!(start.elapsed().as_secs() < 5, "took {:?}", start.elapsed());
        let fine = format!("a: {}1{}\n", "[".repeat(255), "]".repeat(255));
        assert!(read_events(&fine).is_ok());
    }

    #[test]
    fn empty_text_has_no_document() {
        assert_eq!(kinds(""), vec![]);
    }
}
