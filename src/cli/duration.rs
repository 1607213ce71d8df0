//! Durations as people write them: `500ms`, `2s`, `1.5s`, `1m`, `1m30s`, `1h`.

use std::time::Duration;

/// Why a duration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("'{0}' has no unit: write it like 500ms, 2s, 1m or 1m30s")]
    NoUnit(String),
    #[error("'{0}' does not start with a number")]
    NotANumber(String),
    #[error("'{0}' is negative: a duration is at least 1ms")]
    Negative(String),
    #[error("'{text}' has an unknown unit '{unit}': use ms, s, m or h")]
    UnknownUnit { text: String, unit: String },
    #[error("'{0}' is out of range: use 1ms to 60m")]
    OutOfRange(String),
}

/// Parses one or more `NUMBER UNIT` parts (`1m30s`) with units `ms`, `s`, `m` (or `min`) and
/// `h`. A bare number is refused: `2` could mean seconds or milliseconds, and a wrong guess
/// makes a scan a thousand times too slow or fast.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let trimmed = text.trim();
    if trimmed.starts_with('-') {
        return Err(DurationError::Negative(text.to_string()));
    }
    let mut rest = trimmed;
    let mut seconds = 0.0;
    while !rest.is_empty() {
        let split = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| DurationError::NoUnit(text.to_string()))?;
        let (number, after) = rest.split_at(split);
        let value: f64 = number
            .parse()
            .map_err(|_| DurationError::NotANumber(text.to_string()))?;
        let after = after.trim_start();
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.' || c.is_whitespace())
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let scale = match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            other => {
                return Err(DurationError::UnknownUnit {
                    text: text.to_string(),
                    unit: other.to_string(),
                });
            }
        };
        seconds += value * scale;
        rest = next.trim_start();
    }
    if !(0.001..=3600.0).contains(&seconds) {
        return Err(DurationError::OutOfRange(text.to_string()));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        let rows = [
            ("500ms", 500),
            ("2s", 2000),
            ("1.5s", 1500),
            ("1m", 60_000),
            (" 250 ms", 250),
            ("1m30s", 90_000),
            ("1h", 3_600_000),
            ("1s500ms", 1500),
        ];
        for (text, ms) in rows {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(ms)),
                "{text}"
            );
        }
    }

    #[test]
    fn bad_durations_say_why() {
        let rows = [
            ("2", "no unit"),
            ("2h", "out of range"),
            ("2d", "unknown unit"),
            ("-1s", "negative"),
            ("1m30", "no unit"),
            ("s", "number"),
            ("0s", "out of range"),
            ("..s", "number"),
        ];
        for (text, why) in rows {
            let err = parse_duration(text).unwrap_err().to_string();
            assert!(err.contains(why), "{text}: {err}");
            assert!(err.contains(text.trim()), "{text}: {err}");
        }
    }
}
