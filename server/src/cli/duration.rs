//! Durations on the command line (`--timeout 5m`, `--stability 2s`): Go's
//! syntax, as in Compose files, or a plain number of seconds.

use std::time::Duration;

use crate::compose::convert::duration::parse_duration;

/// Parses `90s`, `5m`, `1h`, `1m30s` or `90`; a negative duration is refused.
pub fn parse(text: &str) -> Result<Duration, String> {
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let nanos = parse_duration(text)
        .map_err(|error| format!("`{text}` is not a duration like 90s or 5m: {error}"))?;
    u64::try_from(nanos)
        .map(Duration::from_nanos)
        .map_err(|_| format!("`{text}` is negative; give a duration like 90s or 5m"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_go_durations_and_negatives() {
        assert_eq!(parse("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse("-5s").unwrap_err().contains("negative"));
        assert!(parse("soon").unwrap_err().contains("is not a duration"));
    }
}
