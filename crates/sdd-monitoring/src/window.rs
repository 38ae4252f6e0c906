//! Durations as people and PromQL write them (`90s`, `30m`, `1h`, `7d`, `2w`, `1h30m`).

/// The longest window a tool accepts: beyond it no store here keeps data.
pub const MAX_WINDOW_MS: i64 = 400 * 86_400_000;

/// `text` in milliseconds; errors say what is accepted.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let original = text;
    let text = text.trim();
    let accepted =
        "a duration such as `90s`, `30m`, `1h`, `7d` or `1h30m` (units ms, s, m, h, d, w)";
    if text.is_empty() {
        return Err(format!("an empty duration; write {accepted}"));
    }
    let mut total: i64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("`{original}` is not {accepted}"));
        }
        let number: i64 = rest[..digits]
            .parse()
            .map_err(|_| format!("`{original}` is too long a duration"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit_ms: i64 = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            "" => {
                return Err(format!(
                    "`{original}` has a number without a unit; write {accepted}"
                ))
            }
            other => {
                return Err(format!(
                    "`{other}` in `{original}` is not a unit; write {accepted}"
                ))
            }
        };
        rest = &rest[unit_len..];
        total = number
            .checked_mul(unit_ms)
            .and_then(|ms| total.checked_add(ms))
            .filter(|&t| t <= MAX_WINDOW_MS)
            .ok_or_else(|| format!("`{original}` is longer than the longest window, 400d"))?;
    }
    if total < 1000 {
        return Err(format!(
            "`{original}` is shorter than a second; windows start at 1s"
        ));
    }
    Ok(total)
}

/// A duration in the largest whole unit that writes it exactly (`3600000` → `1h`).
pub fn format_duration(ms: i64) -> String {
    for (unit, size) in [
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
    ] {
        if ms >= size && ms % size == 0 {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let good = [
            ("1s", 1000),
            ("90s", 90_000),
            ("30m", 1_800_000),
            (" 1h ", 3_600_000),
            ("1h30m", 5_400_000),
            ("7d", 604_800_000),
            ("2w", 1_209_600_000),
            ("1500ms", 1500),
            ("400d", MAX_WINDOW_MS),
        ];
        for (text, ms) in good {
            assert_eq!(parse_duration(text), Ok(ms), "{text}");
        }
        let bad = [
            ("", "empty"),
            ("h", "is not"),
            ("10", "without a unit"),
            ("10y", "not a unit"),
            ("1 h", "not a unit"),
            ("-1h", "is not"),
            ("500ms", "shorter than a second"),
            ("401d", "longest window"),
            ("99999999999999999999s", "too long"),
            ("9223372036854775807w", "longest window"),
        ];
        for (text, wanted) in bad {
            let err = parse_duration(text).expect_err(text);
            assert!(err.contains(wanted), "{text}: {err}");
        }
    }

    #[test]
    fn formats_in_the_largest_exact_unit() {
        for (ms, text) in [
            (3_600_000, "1h"),
            (5_400_000, "90m"),
            (1500, "1500ms"),
            (2_592_000_000, "30d"),
            (604_800_000, "1w"),
        ] {
            assert_eq!(format_duration(ms), text);
        }
    }
}
