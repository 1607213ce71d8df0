//! Time, in the one place the program reads and writes it: the Unix clock, the ASN.1 time
//! forms certificates and Kerberos carry, and the texts people read (dates, durations).
//! Calendar arithmetic is H. Hinnant's civil-from-days and days-from-civil, exact for the
//! proleptic Gregorian calendar; a date crate would add a dependency for four functions.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch now (0 if the clock is set before 1970).
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// ASN.1 GeneralizedTime in its DER form, `YYYYMMDDHHMMSSZ`, as Unix seconds.
pub fn generalized_time(bytes: &[u8]) -> Option<i64> {
    let digits = time_digits(bytes, 14)?;
    civil_seconds(number(&digits[..4])?, &digits[4..])
}

/// The digits before the final `Z`, exactly `count` of them.
fn time_digits(bytes: &[u8], count: usize) -> Option<&str> {
    let digits = std::str::from_utf8(bytes).ok()?.strip_suffix('Z')?;
    (digits.len() == count && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

fn number(digits: &str) -> Option<i64> {
    digits.parse().ok()
}

/// Unix seconds of `year` and `MMDDHHMMSS` (days-from-civil).
fn civil_seconds(year: i64, rest: &str) -> Option<i64> {
    let field = |i: usize| rest.get(i..i + 2).and_then(number);
    let (m, d, hh, mm, ss) = (field(0)?, field(2)?, field(4)?, field(6)?, field(8)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let y = if m <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// `YYYY-MM-DD` of a Unix time (civil-from-days).
pub fn date_text(seconds: i64) -> String {
    let z = seconds.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// `YYYY-MM-DDTHH:MM:SSZ` of a Unix time.
pub fn date_time_text(seconds: i64) -> String {
    let time = seconds.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        date_text(seconds),
        time / 3600,
        time / 60 % 60,
        time % 60
    )
}

/// `1.5s`, `500ms`: the way durations are written on the command line.
pub fn humanize(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asn1_times_read_and_refuse() {
        assert_eq!(generalized_time(b"19700101000000Z"), Some(0));
        assert_eq!(generalized_time(b"20000301000000Z"), Some(951_868_800));
        assert_eq!(generalized_time(b"20370913024805Z"), Some(2_136_422_885));
        for bad in [
            &b"2037091302480Z"[..],
            b"20371313024805Z",
            b"20370913024805",
            b"2037091302480+Z",
            b"20370932024805Z",
            b"20370913244805Z",
            b"",
            b"\xff",
        ] {
            assert_eq!(generalized_time(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn dates_print() {
        assert_eq!(date_text(0), "1970-01-01");
        assert_eq!(date_text(951_868_800), "2000-03-01");
        assert_eq!(date_time_text(2_136_422_885), "2037-09-13T02:48:05Z");
        assert_eq!(date_text(-86_400), "1969-12-31");
    }

    #[test]
    fn durations_print_as_flags_are_written() {
        assert_eq!(humanize(Duration::from_secs(2)), "2s");
        assert_eq!(humanize(Duration::from_millis(1500)), "1500ms");
    }
}
