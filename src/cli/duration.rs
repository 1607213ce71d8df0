//! Durations as people write them: `500ms`, `2s`, `1.5s`, `1m`.

use std::time::Duration;

/// Parses `NUMBER UNIT` with unit `ms`, `s` or `m`. A bare number is refused: `2` could mean
/// seconds or milliseconds, and a wrong guess makes a scan a thousand times too slow or fast.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("'{text}' has no unit: write it like 500ms, 2s or 1m"))?;
    let (number, unit) = trimmed.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' does not start with a number"))?;
    let scale = match unit.trim() {
        "ms" => 0.001,
        "s" => 1.0,
        "m" | "min" => 60.0,
        other => {
            return Err(format!(
                "'{text}' has an unknown unit '{other}': use ms, s or m"
            ));
        }
    };
    let seconds = value * scale;
    if !(0.001..=3600.0).contains(&seconds) {
        return Err(format!("'{text}' is out of range: use 1ms to 60m"));
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
            ("2h", "unknown unit"),
            ("s", "number"),
            ("0s", "out of range"),
            ("..s", "number"),
        ];
        for (text, why) in rows {
            let err = parse_duration(text).unwrap_err();
            assert!(err.contains(why), "{text}: {err}");
            assert!(err.contains(text.trim()), "{text}: {err}");
        }
    }
}
