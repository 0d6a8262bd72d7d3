//! A service's logs, followed: `GET /services/{id}/logs` with
//! `follow`, `timestamps`, stdout and stderr.
//!
//! Service logs can hang (a node that holds a task does not answer), so
//! [`Engine::service_logs`] first finds the service under a timeout, which
//! also tells an unknown service from an unreachable engine. What the
//! daemon sends is then bounded: each line to [`MAX_LINE_BYTES`], and the
//! stream to [`MAX_LINES_PER_SECOND`] (lines over the rate are dropped and
//! counted in a line of voc's own). Dropping the stream closes the
//! connection.

use std::time::{Duration, Instant};

use bollard::container::LogOutput;
use bollard::query_parameters::{InspectServiceOptions, LogsOptionsBuilder};
use futures_util::{Stream, StreamExt};

use super::Engine;
use super::error::{ApiContext, Error, ObjectKind, Result, is_not_found};

/// How long finding the service may take before the engine counts as
/// unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest line sent, in bytes; the rest is cut and marked.
pub const MAX_LINE_BYTES: usize = 16 * 1024;
/// The most lines a second one stream sends.
pub const MAX_LINES_PER_SECOND: u32 = 500;
/// The most lines of history (`tail`) one may ask for.
pub const MAX_TAIL: u32 = 5000;

/// Which output a line was written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
    /// Neither: a line voc adds (lines dropped over the rate).
    Voc,
}

/// One line of a service's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceLogLine {
    /// When it was written (Unix milliseconds), when the daemon said.
    pub at_millis: Option<i64>,
    /// The line, without its newline, cut to [`MAX_LINE_BYTES`].
    pub line: String,
    /// Where it was written.
    pub stream: LogStream,
    /// The task that wrote it, when the daemon said.
    pub task_id: Option<String>,
}

impl Engine {
    /// Follows the logs of service `name` (its swarm name, `shop_web`):
    /// the last `tail` lines (at most [`MAX_TAIL`]), then every new one.
    ///
    /// Fails with [`Error::ServiceNotFound`] when there is no such service,
    /// and with [`Error::EngineTimeout`] or [`Error::Api`] when the engine
    /// does not answer in [`CONNECT_TIMEOUT`] or fails. The stream ends
    /// when the daemon ends it (the service was removed); errors after the
    /// start come as its items.
    pub async fn service_logs(
        &self,
        name: &str,
        tail: u32,
    ) -> Result<impl Stream<Item = Result<ServiceLogLine>> + Send + use<>> {
        let inspect = self.docker().call("inspect_service", |docker| {
            docker.inspect_service(name, None::<InspectServiceOptions>)
        });
        let service = match tokio::time::timeout(CONNECT_TIMEOUT, inspect).await {
            Err(_) => {
                return Err(Error::EngineTimeout {
                    step: format!("finding service `{name}`"),
                    waited: CONNECT_TIMEOUT,
                });
            }
            Ok(Err(e)) if is_not_found(&e) => {
                return Err(Error::ServiceNotFound {
                    service: name.to_owned(),
                });
            }
            Ok(found) => found.during("inspecting", ObjectKind::Service, name)?,
        };
        // The daemon also finds a service by an ID prefix: only an exact
        // name counts.
        let found_name = service.spec.as_ref().and_then(|s| s.name.as_deref());
        let id = match (found_name, service.id) {
            (Some(found), Some(id)) if found == name => id,
            _ => {
                return Err(Error::ServiceNotFound {
                    service: name.to_owned(),
                });
            }
        };
        let options = LogsOptionsBuilder::new()
            .follow(true)
            .stdout(true)
            .stderr(true)
            .timestamps(true)
            .tail(&tail.min(MAX_TAIL).to_string())
            .build();
        let name = name.to_owned();
        // Not timed: a followed log lasts as long as its reader wants.
        let raw = self
            .docker()
            .stream(None, |docker| docker.service_logs(&id, Some(options)));
        let mut limiter = RateLimit::new(MAX_LINES_PER_SECOND);
        let lines = raw.flat_map(move |item| {
            let lines: Vec<Result<ServiceLogLine>> = match item {
                Ok(output) => decode(&output)
                    .into_iter()
                    .flat_map(|line| limiter.admit(Instant::now(), line))
                    .map(Ok)
                    .collect(),
                Err(source) => vec![Err(Error::Api {
                    verb: "reading the logs of",
                    kind: ObjectKind::Service,
                    name: name.clone(),
                    source,
                })],
            };
            futures_util::stream::iter(lines)
        });
        Ok(lines)
    }
}

/// The lines of one frame the daemon sent (one message, usually one line).
fn decode(output: &LogOutput) -> Vec<ServiceLogLine> {
    let (stream, bytes) = match output {
        LogOutput::StdErr { message } => (LogStream::Stderr, message),
        LogOutput::StdOut { message } | LogOutput::Console { message } => {
            (LogStream::Stdout, message)
        }
        LogOutput::StdIn { .. } => return Vec::new(),
    };
    let text = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    text.split(|b| *b == b'\n')
        .map(|raw| parse_line(raw, stream))
        .collect()
}

/// One line as the daemon writes it with `timestamps` (and, when asked,
/// `details`): `<RFC 3339 time> [<k=v,...> ]<text>`.
fn parse_line(raw: &[u8], stream: LogStream) -> ServiceLogLine {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    let (at_millis, rest) = match raw.iter().position(|b| *b == b' ') {
        Some(space) => match std::str::from_utf8(&raw[..space])
            .ok()
            .and_then(parse_millis)
        {
            Some(ms) => (Some(ms), &raw[space + 1..]),
            None => (None, raw),
        },
        None => match std::str::from_utf8(raw).ok().and_then(parse_millis) {
            Some(ms) => (Some(ms), &raw[raw.len()..]),
            None => (None, raw),
        },
    };
    let (task_id, text) = split_details(rest);
    ServiceLogLine {
        at_millis,
        line: bounded(text, MAX_LINE_BYTES),
        stream,
        task_id,
    }
}

/// The task ID of a `details` prefix
/// (`com.docker.swarm.node.id=...,com.docker.swarm.service.id=...,com.docker.swarm.task.id=... `),
/// and the text after it; no prefix: no ID, all the text.
fn split_details(rest: &[u8]) -> (Option<String>, &[u8]) {
    const KEY: &[u8] = b"com.docker.swarm.";
    if !rest.starts_with(KEY) {
        return (None, rest);
    }
    let Some(space) = rest.iter().position(|b| *b == b' ') else {
        return (None, rest);
    };
    let details = String::from_utf8_lossy(&rest[..space]);
    let task = details
        .split(',')
        .find_map(|pair| pair.strip_prefix("com.docker.swarm.task.id="))
        .map(str::to_owned);
    (task, &rest[space + 1..])
}

/// Unix milliseconds of Docker's RFC 3339 time (nanoseconds kept to the
/// millisecond).
fn parse_millis(text: &str) -> Option<i64> {
    let secs = crate::timestamp::parse_rfc3339(text)?;
    let millis = text
        .get(19..)
        .and_then(|rest| rest.strip_prefix('.'))
        .map(|fraction| {
            let digits: String = fraction
                .chars()
                .take_while(char::is_ascii_digit)
                .chain(std::iter::repeat('0'))
                .take(3)
                .collect();
            digits.parse::<i64>().unwrap_or(0)
        })
        .unwrap_or(0);
    Some(secs * 1000 + millis)
}

/// `bytes` as text (invalid UTF-8 replaced), cut to at most `max` bytes on
/// a character boundary, with ` … [cut: N bytes]` when it was cut.
fn bounded(bytes: &[u8], max: usize) -> String {
    if bytes.len() <= max {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    let text = String::from_utf8_lossy(&bytes[..max]);
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    // A cut in the middle of a character leaves a replacement character.
    let kept = text[..end].trim_end_matches('\u{FFFD}');
    format!("{kept} … [cut: {} bytes]", bytes.len())
}

/// Lets through at most `per_second` lines in each second; the lines over
/// it are counted, and the count is sent as a line of its own with the
/// first line of the next second.
#[derive(Debug)]
struct RateLimit {
    per_second: u32,
    window_start: Option<Instant>,
    sent: u32,
    dropped: u64,
}

impl RateLimit {
    fn new(per_second: u32) -> RateLimit {
        RateLimit {
            per_second,
            window_start: None,
            sent: 0,
            dropped: 0,
        }
    }

    /// What to send for `line` arriving at `now`: nothing, the line, or a
    /// note of the dropped lines and the line.
    fn admit(&mut self, now: Instant, line: ServiceLogLine) -> Vec<ServiceLogLine> {
        let new_window = self
            .window_start
            .is_none_or(|start| now.duration_since(start) >= Duration::from_secs(1));
        let mut out = Vec::new();
        if new_window {
            self.window_start = Some(now);
            self.sent = 0;
            if self.dropped > 0 {
                out.push(ServiceLogLine {
                    at_millis: line.at_millis,
                    line: format!(
                        "voc dropped {} line(s): the service wrote more than {} lines a second",
                        self.dropped, self.per_second
                    ),
                    stream: LogStream::Voc,
                    task_id: None,
                });
                self.dropped = 0;
            }
        }
        if self.sent < self.per_second {
            self.sent += 1;
            out.push(line);
        } else {
            self.dropped += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> ServiceLogLine {
        ServiceLogLine {
            at_millis: None,
            line: text.to_owned(),
            stream: LogStream::Stdout,
            task_id: None,
        }
    }

    #[test]
    fn a_timestamped_line_gives_its_time_to_the_millisecond() {
        let output = LogOutput::StdOut {
            message: b"2026-11-26T03:00:05.123456789Z hello-42\n".to_vec().into(),
        };
        let lines = decode(&output);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].line, "hello-42");
        assert_eq!(lines[0].stream, LogStream::Stdout);
        assert_eq!(
            lines[0].at_millis.map(crate::timestamp::format_millis),
            Some("2026-11-26T03:00:05.123Z".to_owned())
        );
    }

    #[test]
    fn details_give_the_task_id_and_stderr_is_kept_apart() {
        let output = LogOutput::StdErr {
            message: b"2026-11-26T03:00:05Z com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=t1 oops\n".to_vec().into(),
        };
        let lines = decode(&output);
        assert_eq!(lines[0].task_id.as_deref(), Some("t1"));
        assert_eq!(lines[0].line, "oops");
        assert_eq!(lines[0].stream, LogStream::Stderr);
    }

    #[test]
    fn a_line_without_a_time_is_kept_whole() {
        let lines = decode(&LogOutput::StdOut {
            message: b"no time here\nsecond".to_vec().into(),
        });
        assert_eq!(lines[0].at_millis, None);
        assert_eq!(lines[0].line, "no time here");
        assert_eq!(lines[1].line, "second");
    }

    #[test]
    fn long_lines_are_cut_on_a_character_boundary() {
        let text = "é".repeat(10); // 20 bytes
        let cut = bounded(text.as_bytes(), 5);
        assert_eq!(cut, "éé … [cut: 20 bytes]");
        assert_eq!(bounded(b"short", 5), "short");
    }

    #[test]
    fn lines_over_the_rate_are_dropped_and_counted() {
        let mut limit = RateLimit::new(2);
        let start = Instant::now();
        let mut sent = Vec::new();
        for n in 0..5 {
            sent.extend(limit.admit(start, line(&n.to_string())));
        }
        assert_eq!(sent.len(), 2);
        let next = limit.admit(start + Duration::from_millis(1000), line("later"));
        assert_eq!(next.len(), 2);
        assert_eq!(next[0].stream, LogStream::Voc);
        assert!(
            next[0].line.contains("dropped 3 line(s)"),
            "{}",
            next[0].line
        );
        assert_eq!(next[1].line, "later");
    }
}
