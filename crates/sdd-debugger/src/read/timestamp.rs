//! Timestamps as loggers write them: RFC 3339, a date and time without an offset (UTC), or Unix
//! time in seconds, milliseconds, microseconds or nanoseconds, told apart by magnitude.
//!
//! Hand-written rather than through chrono's format parser: it runs once per line of files of
//! millions of lines, it also has to find a timestamp at the *start* of a text line (and say how
//! long it was), and it accepts what loggers write beyond RFC 3339 (a space for the `T`, `,`
//! before the fraction, `+0000` offsets).

use crate::event::{Nanos, NANOS_PER_SECOND};

/// 1990-01-01T00:00:00Z: anything earlier is not a timestamp of a running service (a counter, an
/// uptime, a mistaken unit).
pub const EARLIEST_SECONDS: i64 = 631_152_000;
/// 2200-01-01T00:00:00Z: anything later is not one either.
pub const LATEST_SECONDS: i64 = 7_258_118_400;

/// Unix time below this is seconds (10^11 s is the year 5138; 1990 in milliseconds is 6.3·10^11).
pub const UNIX_MILLIS_FROM: f64 = 1e11;
/// Below this, milliseconds (10^14 ms is the year 5138; 1990 in microseconds is 6.3·10^14).
pub const UNIX_MICROS_FROM: f64 = 1e14;
/// Below this, microseconds; from here on, nanoseconds (1990 in nanoseconds is 6.3·10^17).
pub const UNIX_NANOS_FROM: f64 = 1e17;

/// How a timestamp was written. Each format's [`name`](TimestampFormat::name) is what
/// `ReadReport::timestamp_formats` lists, so a file of mixed formats shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimestampFormat {
    /// `2026-12-01T03:12:00.123Z`, `2026-12-01 03:12:00+02:00`, `…+0200`.
    Rfc3339,
    /// `2026-12-01 03:12:00[.frac]`, taken as UTC.
    SpaceNoOffset,
    /// `2026-12-01T03:12:00[.frac]`, taken as UTC.
    TNoOffset,
    UnixSeconds,
    UnixMillis,
    UnixMicros,
    UnixNanos,
    /// OTLP's `timeUnixNano` / `startTimeUnixNano`: nanoseconds by definition.
    OtlpUnixNano,
}

impl TimestampFormat {
    pub fn name(self) -> &'static str {
        match self {
            TimestampFormat::Rfc3339 => "RFC 3339",
            TimestampFormat::SpaceNoOffset => "YYYY-MM-DD HH:MM:SS (no offset: UTC)",
            TimestampFormat::TNoOffset => "YYYY-MM-DDTHH:MM:SS (no offset: UTC)",
            TimestampFormat::UnixSeconds => "Unix seconds",
            TimestampFormat::UnixMillis => "Unix milliseconds",
            TimestampFormat::UnixMicros => "Unix microseconds",
            TimestampFormat::UnixNanos => "Unix nanoseconds",
            TimestampFormat::OtlpUnixNano => "OTLP Unix nanoseconds",
        }
    }
}

/// A timestamp from a JSON value: a string in one of the text formats, a numeric string, or a
/// number of Unix time (seconds, milliseconds, microseconds or nanoseconds by magnitude: below
/// 10^11 seconds, below 10^14 milliseconds, below 10^17 microseconds, else nanoseconds).
/// `None` for anything else, and for instants before 1990 or from 2200 on.
pub fn parse_timestamp(value: &serde_json::Value) -> Option<Nanos> {
    timestamp_of_value(value).map(|(at, _)| at)
}

/// A timestamp from text: the whole string (surrounding whitespace aside) must be one. See
/// [`parse_timestamp`].
pub fn parse_timestamp_str(text: &str) -> Option<Nanos> {
    timestamp_of_str(text).map(|(at, _)| at)
}

pub(crate) fn timestamp_of_value(value: &serde_json::Value) -> Option<(Nanos, TimestampFormat)> {
    match value {
        serde_json::Value::String(text) => timestamp_of_str(text),
        serde_json::Value::Number(number) => match number.as_i64() {
            Some(n) => unix_int(n),
            None => unix_float(number.as_f64()?),
        },
        _ => None,
    }
}

pub(crate) fn timestamp_of_str(text: &str) -> Option<(Nanos, TimestampFormat)> {
    let text = text.trim();
    if let Some((at, format, used)) = leading_date_time(text.as_bytes()) {
        return (used == text.len()).then_some((at, format));
    }
    unix_text(text)
}

/// A timestamp at the start of a text line (optionally in square brackets), and the rest of the
/// line after it with leading whitespace removed. Only the date-time formats: a number at the
/// start of a line is too often something else.
pub fn leading_timestamp(line: &str) -> Option<(Nanos, TimestampFormat, &str)> {
    let (inner, bracketed) = match line.strip_prefix('[') {
        Some(rest) => (rest, true),
        None => (line, false),
    };
    let (at, format, used) = leading_date_time(inner.as_bytes())?;
    let mut rest = &inner[used..];
    if bracketed {
        rest = rest.strip_prefix(']')?;
    }
    // `2026-12-01T03:12:00Zabc` is not a timestamp followed by text.
    if rest.chars().next().is_some_and(char::is_alphanumeric) {
        return None;
    }
    Some((at, format, rest.trim_start()))
}

/// Unix time as text: digits with at most one `.`.
fn unix_text(text: &str) -> Option<(Nanos, TimestampFormat)> {
    let bytes = text.as_bytes();
    if bytes.is_empty()
        || !bytes.iter().all(|b| b.is_ascii_digit() || *b == b'.')
        || bytes.iter().filter(|b| **b == b'.').count() > 1
    {
        return None;
    }
    if let Ok(n) = text.parse::<i64>() {
        return unix_int(n);
    }
    unix_float(text.parse::<f64>().ok()?)
}

fn unix_int(n: i64) -> Option<(Nanos, TimestampFormat)> {
    let magnitude = n as f64;
    let (at, format) = if magnitude < UNIX_MILLIS_FROM {
        (
            n.checked_mul(NANOS_PER_SECOND)?,
            TimestampFormat::UnixSeconds,
        )
    } else if magnitude < UNIX_MICROS_FROM {
        (n.checked_mul(1_000_000)?, TimestampFormat::UnixMillis)
    } else if magnitude < UNIX_NANOS_FROM {
        (n.checked_mul(1_000)?, TimestampFormat::UnixMicros)
    } else {
        (n, TimestampFormat::UnixNanos)
    };
    in_range(at).then_some((at, format))
}

fn unix_float(n: f64) -> Option<(Nanos, TimestampFormat)> {
    if !n.is_finite() || n <= 0.0 {
        return None;
    }
    let (nanos, format) = if n < UNIX_MILLIS_FROM {
        (n * 1e9, TimestampFormat::UnixSeconds)
    } else if n < UNIX_MICROS_FROM {
        (n * 1e6, TimestampFormat::UnixMillis)
    } else if n < UNIX_NANOS_FROM {
        (n * 1e3, TimestampFormat::UnixMicros)
    } else {
        (n, TimestampFormat::UnixNanos)
    };
    // Past i64's range the cast saturates, and the range check refuses it.
    let at = nanos.round() as i64;
    in_range(at).then_some((at, format))
}

/// OTLP's nanoseconds (`"1764558720123456789"` or a number); `None` for 0 (unset) and out of
/// range.
pub(crate) fn otlp_nanos(n: u64) -> Option<Nanos> {
    let at = i64::try_from(n).ok()?;
    in_range(at).then_some(at)
}

pub(crate) fn in_range(at: Nanos) -> bool {
    (EARLIEST_SECONDS * NANOS_PER_SECOND..LATEST_SECONDS * NANOS_PER_SECOND).contains(&at)
}

/// `YYYY-MM-DD(T| )HH:MM:SS[(.|,)frac][Z|±HH[:MM]|±HHMM]` at the start of `b`: the instant,
/// its format, and the bytes it took.
fn leading_date_time(b: &[u8]) -> Option<(Nanos, TimestampFormat, usize)> {
    if b.len() < 19 {
        return None;
    }
    let num = |from: usize, len: usize| -> Option<i64> {
        let mut n = 0i64;
        for &d in b.get(from..from + len)? {
            if !d.is_ascii_digit() {
                return None;
            }
            n = n * 10 + i64::from(d - b'0');
        }
        Some(n)
    };
    if b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let t_separator = match b[10] {
        b'T' | b't' => true,
        b' ' => false,
        _ => return None,
    };
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut fraction_nanos = 0i64;
    if matches!(b.get(i), Some(b'.' | b',')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        let mut scale = 100_000_000i64;
        while let Some(d) = b.get(i).filter(|d| d.is_ascii_digit()) {
            // Digits past nanoseconds are read and dropped.
            fraction_nanos += i64::from(d - b'0') * scale;
            scale /= 10;
            i += 1;
        }
    }
    let mut offset_seconds = 0i64;
    let mut has_offset = false;
    match b.get(i) {
        Some(b'Z' | b'z') => {
            has_offset = true;
            i += 1;
        }
        Some(&sign @ (b'+' | b'-')) if b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
            let hours = num(i + 1, 2)?;
            let mut j = i + 3;
            let mut minutes = 0;
            if b.get(j) == Some(&b':') {
                minutes = num(j + 1, 2)?;
                j += 3;
            } else if let Some(m) = num(j, 2) {
                minutes = m;
                j += 2;
            }
            if hours > 23 || minutes > 59 {
                return None;
            }
            offset_seconds = (hours * 3600 + minutes * 60) * if sign == b'-' { -1 } else { 1 };
            has_offset = true;
            i = j;
        }
        _ => {}
    }
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        - offset_seconds;
    let at = seconds
        .checked_mul(NANOS_PER_SECOND)?
        .checked_add(fraction_nanos)?;
    if !in_range(at) {
        return None;
    }
    let format = match (has_offset, t_separator) {
        (true, _) => TimestampFormat::Rfc3339,
        (false, true) => TimestampFormat::TNoOffset,
        (false, false) => TimestampFormat::SpaceNoOffset,
    };
    Some((at, format, i))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// 2026-12-01T03:12:00Z in seconds.
    const T: i64 = 1_796_094_720;

    fn chrono_seconds(text: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp()
    }

    #[test]
    fn the_reference_instant_is_what_chrono_says() {
        assert_eq!(chrono_seconds("2026-12-01T03:12:00Z"), T);
    }

    #[test]
    fn timestamps_parse_in_every_format_and_absurd_ones_do_not() {
        let s = NANOS_PER_SECOND;
        use TimestampFormat::*;
        let cases: Vec<(serde_json::Value, Option<(i64, TimestampFormat)>)> = vec![
            (json!("2026-12-01T03:12:00Z"), Some((T * s, Rfc3339))),
            (json!("2026-12-01t03:12:00z"), Some((T * s, Rfc3339))),
            (
                json!("2026-12-01T03:12:00.123456Z"),
                Some((T * s + 123_456_000, Rfc3339)),
            ),
            (
                json!("2026-12-01T03:12:00.123456789123Z"),
                Some((T * s + 123_456_789, Rfc3339)),
            ),
            (json!("2026-12-01T05:12:00+02:00"), Some((T * s, Rfc3339))),
            (json!("2026-12-01T05:12:00+0200"), Some((T * s, Rfc3339))),
            (json!("2026-12-01T05:12:00+02"), Some((T * s, Rfc3339))),
            (
                json!("2026-11-30T22:12:00.5-05:00"),
                Some((T * s + 500_000_000, Rfc3339)),
            ),
            (json!("2026-12-01 03:12:00Z"), Some((T * s, Rfc3339))),
            (json!("2026-12-01 03:12:00"), Some((T * s, SpaceNoOffset))),
            (
                json!("2026-12-01 03:12:00,250"),
                Some((T * s + 250_000_000, SpaceNoOffset)),
            ),
            (
                json!("2026-12-01T03:12:00.1"),
                Some((T * s + 100_000_000, TNoOffset)),
            ),
            (json!(" 2026-12-01T03:12:00Z "), Some((T * s, Rfc3339))),
            (json!(T), Some((T * s, UnixSeconds))),
            (
                json!(T as f64 + 0.5),
                Some((T * s + 500_000_000, UnixSeconds)),
            ),
            (json!(T * 1000 + 7), Some((T * s + 7_000_000, UnixMillis))),
            (json!(T * 1_000_000 + 7), Some((T * s + 7_000, UnixMicros))),
            (json!(T * s + 7), Some((T * s + 7, UnixNanos))),
            (json!(T.to_string()), Some((T * s, UnixSeconds))),
            (json!(format!("{}", T * 1000)), Some((T * s, UnixMillis))),
            (
                json!(format!("{T}.5")),
                Some((T * s + 500_000_000, UnixSeconds)),
            ),
            // Leap years and the ends of months.
            (
                json!("2028-02-29T00:00:00Z"),
                Some((chrono_seconds("2028-02-29T00:00:00Z") * s, Rfc3339)),
            ),
            (json!("2027-02-29T00:00:00Z"), None),
            (json!("2026-04-31T00:00:00Z"), None),
            (json!("2026-13-01T00:00:00Z"), None),
            (json!("2026-12-01T24:00:00Z"), None),
            (json!("2026-12-01T03:12:00+25:00"), None),
            (json!("2026-12-01T03:12:00Z trailing"), None),
            (json!("2026-12-01"), None),
            // Absurd instants: before 1990, from 2200 on, zero, negative.
            (json!("1989-12-31T23:59:59Z"), None),
            (
                json!("1990-01-01T00:00:00Z"),
                Some((EARLIEST_SECONDS * s, Rfc3339)),
            ),
            (json!("2200-01-01T00:00:00Z"), None),
            (json!(0), None),
            (json!(-5), None),
            (json!(12_345), None),
            (json!(1e300), None),
            (json!(u64::MAX), None),
            (json!("12.3.4"), None),
            (json!(""), None),
            (json!("yesterday"), None),
            (json!(true), None),
            (json!(null), None),
            (json!({"seconds": T}), None),
        ];
        for (value, want) in cases {
            assert_eq!(timestamp_of_value(&value), want, "{value}");
            assert_eq!(parse_timestamp(&value), want.map(|(at, _)| at), "{value}");
        }
    }

    #[test]
    fn a_leading_timestamp_is_stripped_from_a_text_line() {
        let s = NANOS_PER_SECOND;
        let cases = [
            (
                "2026-12-01T03:12:00Z  INFO started",
                Some((T * s, "INFO started")),
            ),
            (
                "[2026-12-01 03:12:00.5] WARN slow",
                Some((T * s + 500_000_000, "WARN slow")),
            ),
            ("2026-12-01 03:12:00,000 | x", Some((T * s, "| x"))),
            ("2026-12-01T03:12:00Z", Some((T * s, ""))),
            ("[2026-12-01 03:12:00 no bracket", None),
            ("2026-12-01T03:12:00Zabc", None),
            ("INFO 2026-12-01T03:12:00Z started", None),
            ("1796094720 a number first", None),
            ("", None),
        ];
        for (line, want) in cases {
            let got = leading_timestamp(line).map(|(at, _, rest)| (at, rest));
            assert_eq!(got, want, "{line:?}");
        }
    }

    #[test]
    fn days_agree_with_chrono_across_the_accepted_range() {
        for year in [1990, 1999, 2000, 2024, 2100, 2199] {
            for (month, day) in [(1, 1), (2, 28), (3, 1), (12, 31)] {
                let text = format!("{year:04}-{month:02}-{day:02}T00:00:00Z");
                assert_eq!(
                    days_from_civil(year, month, day) * 86_400,
                    chrono_seconds(&text),
                    "{text}"
                );
            }
        }
    }
}
