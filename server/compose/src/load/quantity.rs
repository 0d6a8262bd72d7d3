//! Durations, byte sizes and CPU counts, parsed with the rules the docker
//! CLI applies (Go's `time.ParseDuration`, go-units' `RAMInBytes`, the
//! CLI's `ParseCPUs`), so the loader can reject what the CLI would reject,
//! with a line number, before anything reaches the converter.

/// Nanoseconds in a Go duration such as `1m30s`, `10s`, `500ms`, `1.5h`.
pub(crate) fn parse_duration(text: &str) -> Result<i64, String> {
    let invalid = || {
        format!(
            "{text:?} is not a duration: write a number with a unit, like \"10s\", \"1m30s\" or \"500ms\""
        )
    };
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (int_part, after) = rest.split_at(int_len);
        let (frac_part, after) = match after.strip_prefix('.') {
            Some(after) => {
                let len = after.bytes().take_while(u8::is_ascii_digit).count();
                after.split_at(len)
            }
            None => ("", after),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid());
        }
        let unit_len = after
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(after.len(), |(i, _)| i);
        let (unit, after) = after.split_at(unit_len);
        let scale: u128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => {
                return Err(format!(
                    "{text:?} is not a duration: the unit is missing (add s, m, h, ms, us or ns)"
                ));
            }
            other => {
                return Err(format!(
                    "{text:?} is not a duration: unknown unit {other:?} (use h, m, s, ms, us or ns)"
                ));
            }
        };
        let whole: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| invalid())?
        };
        let mut value = whole.checked_mul(scale).ok_or_else(invalid)?;
        if !frac_part.is_empty() {
            // Go truncates the fraction to what fits in nanoseconds.
            let digits = &frac_part[..frac_part.len().min(30)];
            let fraction: u128 = digits.parse().map_err(|_| invalid())?;
            value += fraction * scale / 10u128.pow(digits.len() as u32);
        }
        total = total.checked_add(value).ok_or_else(invalid)?;
        if total > i64::MAX as u128 {
            return Err(format!("{text:?} is too long a duration"));
        }
        rest = after;
    }
    let total = total as i64;
    Ok(if negative { -total } else { total })
}

/// Bytes in a size such as `512M`, `1g`, `100kb` or `1.5 GiB` (binary
/// units, as Docker's `RAMInBytes`).
pub(crate) fn parse_bytes(text: &str) -> Result<i64, String> {
    let invalid = || {
        format!(
            "{text:?} is not a size: write a number with an optional unit, like \"512M\" or \"1g\""
        )
    };
    let sep = text
        .rfind(|c: char| c.is_ascii_digit() || c == '.' || c == ' ')
        .ok_or_else(invalid)?;
    let (number, suffix) = if text.as_bytes()[sep] == b' ' {
        (&text[..sep], &text[sep + 1..])
    } else {
        (&text[..=sep], &text[sep + 1..])
    };
    let size: f64 = number.parse().map_err(|_| invalid())?;
    if size < 0.0 || !size.is_finite() {
        return Err(invalid());
    }
    if suffix.is_empty() {
        return Ok(size as i64);
    }
    let bad_suffix = || {
        format!(
            "{text:?} has an unknown unit {suffix:?}: use b, k, m, g, t or p (binary multiples)"
        )
    };
    let lower = suffix.to_ascii_lowercase();
    if lower.len() > 3 {
        return Err(bad_suffix());
    }
    let mut chars = lower.chars();
    let multiplier: f64 = match chars.next() {
        Some('b') if lower.len() == 1 => return Ok(size as i64),
        Some('k') => 1024.0,
        Some('m') => 1024f64.powi(2),
        Some('g') => 1024f64.powi(3),
        Some('t') => 1024f64.powi(4),
        Some('p') => 1024f64.powi(5),
        _ => return Err(bad_suffix()),
    };
    match chars.as_str() {
        "" | "b" | "ib" => Ok((size * multiplier) as i64),
        _ => Err(bad_suffix()),
    }
}

/// Checks a CPU count such as `"0.5"` or `"2"`: a rational number that is
/// a whole number of nano-CPUs, as the CLI's `ParseCPUs` requires.
pub(crate) fn check_cpus(text: &str) -> Result<(), String> {
    let invalid = || format!("{text:?} is not a number of CPUs: write it like \"0.5\" or \"2\"");
    let (numerator, denominator) = match text.split_once('/') {
        Some((n, d)) => (n, Some(d)),
        None => (text, None),
    };
    // value = mantissa * 10^exponent / denominator, exactly.
    let (mantissa, exponent) = parse_decimal(numerator).ok_or_else(invalid)?;
    let denominator: u128 = match denominator {
        Some(d) if !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()) => {
            d.parse().map_err(|_| invalid())?
        }
        Some(_) => return Err(invalid()),
        None => 1,
    };
    if denominator == 0 {
        return Err(invalid());
    }
    if mantissa < 0 {
        return Err(format!(
            "{text:?} is negative: a number of CPUs must be at least 0"
        ));
    }
    // nano = mantissa * 10^(exponent + 9) / denominator must be an integer.
    let shift = exponent + 9;
    let exact = if shift >= 0 {
        let scaled =
            (mantissa as u128).checked_mul(10u128.checked_pow(shift as u32).ok_or_else(invalid)?);
        scaled.ok_or_else(invalid)?.is_multiple_of(denominator)
    } else {
        let divisor = 10u128
            .checked_pow((-shift) as u32)
            .and_then(|p| p.checked_mul(denominator));
        divisor.is_some_and(|d| (mantissa as u128).is_multiple_of(d))
    };
    if exact {
        Ok(())
    } else {
        Err(format!(
            "{text:?} is too precise: CPUs are counted in billionths (at most 9 decimal places)"
        ))
    }
}

/// `[+-]digits[.digits][e[+-]digits]` as (mantissa, power of ten).
fn parse_decimal(text: &str) -> Option<(i128, i32)> {
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (number, exponent) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], rest[i + 1..].parse::<i32>().ok()?),
        None => (rest, 0),
    };
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    if int_part.is_empty() && frac_part.is_empty()
        || !int_part
            .bytes()
            .chain(frac_part.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let digits = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    let mantissa: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    let exponent = exponent.checked_sub(i32::try_from(frac_part.len()).ok()?)?;
    Some((if negative { -mantissa } else { mantissa }, exponent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_go() {
        let cases: &[(&str, Option<i64>)] = &[
            ("0", Some(0)),
            ("10s", Some(10_000_000_000)),
            ("1m30s", Some(90_000_000_000)),
            ("500ms", Some(500_000_000)),
            ("1.5h", Some(5_400_000_000_000)),
            (".5s", Some(500_000_000)),
            ("1.s", Some(1_000_000_000)),
            ("-1s", Some(-1_000_000_000)),
            ("+2m", Some(120_000_000_000)),
            ("3us", Some(3_000)),
            ("3\u{b5}s", Some(3_000)),
            ("3\u{3bc}s", Some(3_000)),
            ("7ns", Some(7)),
            ("1h2m3s4ms", Some(3_723_004_000_000)),
            ("", None),
            ("10", None),
            ("s", None),
            (".s", None),
            ("1x", None),
            ("1sx", None),
            ("1 s", None),
            ("-", None),
            ("3000000h", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_duration(text).ok(), *want, "{text}");
        }
        assert_eq!(
            parse_duration("10").unwrap_err(),
            "\"10\" is not a duration: the unit is missing (add s, m, h, ms, us or ns)"
        );
    }

    #[test]
    fn byte_sizes_parse_like_docker_ram_in_bytes() {
        let cases: &[(&str, Option<i64>)] = &[
            ("0", Some(0)),
            ("512", Some(512)),
            ("512b", Some(512)),
            ("1k", Some(1024)),
            ("1K", Some(1024)),
            ("1kb", Some(1024)),
            ("1KiB", Some(1024)),
            ("100kb", Some(102_400)),
            ("512M", Some(536_870_912)),
            ("1g", Some(1_073_741_824)),
            ("1.5g", Some(1_610_612_736)),
            ("1 GB", Some(1_073_741_824)),
            ("2t", Some(2 * 1024i64.pow(4))),
            ("1p", Some(1024i64.pow(5))),
            ("", None),
            ("m", None),
            ("12q", None),
            ("1kk", None),
            ("1bb", None),
            ("1gib2", None),
            ("1kib0", None),
            ("-1", None),
            ("1.2.3", None),
            ("1mbb", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_bytes(text).ok(), *want, "{text}");
        }
    }

    #[test]
    fn cpu_counts_must_be_whole_nano_cpus() {
        let cases: &[(&str, bool)] = &[
            ("0.5", true),
            ("2", true),
            ("0", true),
            (".25", true),
            ("1.000000001", true),
            ("1.0000000001", false),
            ("1e-9", true),
            ("1e-10", false),
            ("1/2", true),
            ("1/3", false),
            ("1.5e2", true),
            ("abc", false),
            ("", false),
            ("-1", false),
            ("1/0", false),
            ("0.5.1", false),
        ];
        for (text, ok) in cases {
            assert_eq!(
                check_cpus(text).is_ok(),
                *ok,
                "{text}: {:?}",
                check_cpus(text)
            );
        }
    }
}
