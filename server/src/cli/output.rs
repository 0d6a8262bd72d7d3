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
        Progress {
            started: Instant::now(),
        }
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

/// "5 seconds ago", "3 minutes ago"... for an RFC 3339 UTC timestamp as
/// Docker writes them (`2026-11-26T00:29:08.023945391Z`); the timestamp
/// itself when it cannot be read.
pub fn age(timestamp: &str, now: std::time::SystemTime) -> String {
    let Some(then) = unix_seconds(timestamp) else {
        return timestamp.to_owned();
    };
    let now = now
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(then);
    let seconds = (now - then).max(0);
    let (amount, unit) = match seconds {
        0..60 => (seconds, "second"),
        60..3600 => (seconds / 60, "minute"),
        3600..86400 => (seconds / 3600, "hour"),
        _ => (seconds / 86400, "day"),
    };
    let plural = if amount == 1 { "" } else { "s" };
    format!("{amount} {unit}{plural} ago")
}

/// Seconds since the Unix epoch of `YYYY-MM-DDTHH:MM:SS[.frac]Z`.
fn unix_seconds(timestamp: &str) -> Option<i64> {
    let number = |range: std::ops::Range<usize>| timestamp.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !timestamp.ends_with('Z') || !(1..=12).contains(&month) {
        return None;
    }
    // Days since the epoch of a proleptic Gregorian date, counting years
    // from March so that the leap day falls at the end.
    let shifted_year = if month <= 2 { year - 1 } else { year };
    let era = shifted_year.div_euclid(400);
    let year_of_era = shifted_year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn timestamps_read_as_unix_seconds() {
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_seconds("2000-03-01T00:00:00.5Z"), Some(951_868_800));
        assert_eq!(
            unix_seconds("2026-11-26T00:29:08.023945391Z"),
            Some(1_795_652_948)
        );
        assert_eq!(unix_seconds("2024-02-29T12:00:00Z"), Some(1_709_208_000));
        assert_eq!(unix_seconds("0001-01-01T00:00:00Z"), Some(-62_135_596_800));
        assert_eq!(unix_seconds("yesterday"), None);
    }

    #[test]
    fn ages_use_the_largest_whole_unit() {
        let at = |secs| UNIX_EPOCH + Duration::from_secs(secs);
        assert_eq!(age("1970-01-01T00:00:00Z", at(1)), "1 second ago");
        assert_eq!(age("1970-01-01T00:00:00Z", at(125)), "2 minutes ago");
        assert_eq!(age("1970-01-01T00:00:00Z", at(7200)), "2 hours ago");
        assert_eq!(age("1970-01-01T00:00:00Z", at(86400 * 3)), "3 days ago");
        assert_eq!(age("not a time", at(0)), "not a time");
    }
}
