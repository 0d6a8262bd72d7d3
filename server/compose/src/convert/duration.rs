//! Go duration strings (`1m30s`, `500ms`, `1.5h`) as nanoseconds.
//!
//! Compose durations are parsed by the docker CLI with Go's
//! `time.ParseDuration`, and the swarm API takes nanoseconds. This module
//! accepts exactly what Go accepts and rounds the way Go does, so the same
//! string always gives the same number of nanoseconds as with the CLI.

use std::fmt;

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationError {
    input: String,
    reason: &'static str,
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid duration {:?}: {}", self.input, self.reason)
    }
}

impl std::error::Error for DurationError {}

/// Nanoseconds per unit, Go's spellings (`us`, `µs` and `μs` are the same).
fn unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => 1,
        "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60 * 1_000_000_000,
        "h" => 3_600 * 1_000_000_000,
        _ => return None,
    })
}

/// Parses a Go duration string into nanoseconds, as `time.ParseDuration`
/// does: an optional sign, then one or more `<decimal><unit>` pairs (`"0"`
/// alone is allowed without a unit).
pub fn parse_duration(input: &str) -> Result<i64, DurationError> {
    let fail = |reason| DurationError {
        input: input.to_owned(),
        reason,
    };
    let mut rest = input;
    let mut negative = false;
    if let Some(r) = rest.strip_prefix('-') {
        negative = true;
        rest = r;
    } else if let Some(r) = rest.strip_prefix('+') {
        rest = r;
    }
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(fail("empty"));
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        // Integer part.
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let mut whole: u64 = 0;
        for b in rest[..int_len].bytes() {
            whole = whole
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(b - b'0')))
                .ok_or_else(|| fail("out of range"))?;
        }
        rest = &rest[int_len..];
        // Fraction: Go keeps the digits that fit and drops the rest.
        let mut frac: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut frac_len = 0;
        if let Some(r) = rest.strip_prefix('.') {
            rest = r;
            frac_len = rest.bytes().take_while(u8::is_ascii_digit).count();
            let mut overflow = false;
            for b in rest[..frac_len].bytes() {
                if overflow {
                    continue;
                }
                if frac > (i64::MAX as u64) / 10 {
                    overflow = true;
                    continue;
                }
                let next = frac * 10 + u64::from(b - b'0');
                if next > 1u64 << 63 {
                    overflow = true;
                    continue;
                }
                frac = next;
                scale *= 10.0;
            }
            rest = &rest[frac_len..];
        }
        if int_len == 0 && frac_len == 0 {
            return Err(fail("expected a number"));
        }
        let unit_len = rest
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        if unit_len == 0 {
            return Err(fail("missing unit"));
        }
        let unit = unit_nanos(&rest[..unit_len]).ok_or_else(|| fail("unknown unit"))?;
        rest = &rest[unit_len..];
        let mut value = whole
            .checked_mul(unit)
            .ok_or_else(|| fail("out of range"))?;
        if frac > 0 {
            // Go converts through float64 here; so do we, to round alike.
            #[allow(
                clippy::cast_precision_loss,
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss
            )]
            let part = (frac as f64 * (unit as f64 / scale)) as u64;
            value = value
                .checked_add(part)
                .ok_or_else(|| fail("out of range"))?;
        }
        total = total
            .checked_add(value)
            .ok_or_else(|| fail("out of range"))?;
    }
    if negative {
        if total > 1u64 << 63 {
            return Err(fail("out of range"));
        }
        // -(2^63) fits, everything smaller too.
        Ok((total as i128).wrapping_neg() as i64)
    } else {
        i64::try_from(total).map_err(|_| fail("out of range"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    #[test]
    fn parses_what_go_parses() {
        let cases: &[(&str, i64)] = &[
            ("0", 0),
            ("-0", 0),
            ("+0", 0),
            ("0s", 0),
            ("1ns", 1),
            ("1us", 1_000),
            ("1µs", 1_000),
            ("1μs", 1_000),
            ("1ms", 1_000_000),
            ("1s", S),
            ("10s", 10 * S),
            ("1m", 60 * S),
            ("1h", 3600 * S),
            ("1m30s", 90 * S),
            ("1h2m3s4ms5us6ns", 3723 * S + 4_005_006),
            ("1.5s", 1_500_000_000),
            ("1.5h", 5400 * S),
            (".5s", 500_000_000),
            ("5.s", 5 * S),
            ("-1.5s", -1_500_000_000),
            ("+2s", 2 * S),
            ("0.000000001s", 1),
            ("0.1ns", 0),
            ("2562047h47m16.854775807s", i64::MAX),
            ("-2562047h47m16.854775808s", i64::MIN),
            ("100ms", 100_000_000),
            ("3s0ms", 3 * S),
        ];
        for (input, want) in cases {
            assert_eq!(parse_duration(input), Ok(*want), "{input}");
        }
    }

    #[test]
    fn rejects_what_go_rejects() {
        for input in [
            "",
            "-",
            "s",
            "1",
            "10",
            "1x",
            "1S",
            "1.s.",
            ".s",
            "1s1",
            "--1s",
            "1 s",
            " 1s",
            "2562047h47m16.854775808s",
            "1d",
        ] {
            assert!(
                parse_duration(input).is_err(),
                "{input:?} should be rejected"
            );
        }
    }

    #[test]
    fn error_names_the_input() {
        let err = parse_duration("10x").unwrap_err();
        assert_eq!(err.to_string(), "invalid duration \"10x\": unknown unit");
    }
}
