//! What the commands print: progress lines on stderr, tables or JSON on stdout.

use std::io::Write;
use std::time::Instant;

/// Prints progress lines to stderr, each prefixed with the seconds since the
/// command started, so a slow step is visible as it happens.
pub struct Progress {
    started: Instant,
}

impl Progress {
    /// Starts the clock.
    pub fn start() -> Progress {
        Progress { started: Instant::now() }
    }

    /// Prints one line.
    pub fn line(&self, message: impl std::fmt::Display) {
        let elapsed = self.started.elapsed().as_secs_f64();
        // A closed stderr must not fail the deploy itself.
        let _ = writeln!(std::io::stderr().lock(), "[{elapsed:6.1}s] {message}");
    }

    /// Seconds since the start.
    pub fn elapsed_secs(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }
}

/// Prints rows as a left-aligned table with a header, like the docker CLI.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = std::io::stdout().lock();
    let mut print_row = |cells: &mut dyn Iterator<Item = &str>| {
        let mut line = String::new();
        for (index, cell) in cells.enumerate() {
            if index + 1 < widths.len() {
                line.push_str(&format!("{cell:<width$}   ", width = widths[index]));
            } else {
                line.push_str(cell);
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    };
    print_row(&mut header.iter().copied());
    for row in rows {
        print_row(&mut row.iter().map(String::as_str));
    }
}

/// Prints a JSON document on stdout.
pub fn print_json(value: &serde_json::Value) {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}
