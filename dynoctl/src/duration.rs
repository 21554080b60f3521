//! Durations as operators type them (`500ms`, `60s`, `2m`) and as dynoctl writes them back:
//! the one parser behind every `DURATION` flag, and the two ways of showing one.

use std::time::Duration;

/// A duration as operators write it: `500ms`, `60s`, `2m`, `1h`, `1.5s`; a bare number is
/// seconds. The value parser of every `DURATION` flag.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("bad duration \"{s}\": want e.g. 500ms, 60s, 2m"))?;
    let secs = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        u => {
            return Err(format!(
                "bad duration unit \"{u}\" in \"{s}\": use ms, s, m or h"
            ))
        }
    };
    if !secs.is_finite() || secs > 7.0 * 24.0 * 3600.0 {
        return Err(format!("duration \"{s}\" is too long"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A duration for messages: `800ms`, `2.5s`, `60s`.
pub fn show_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// A limit for messages, in whole hours or minutes when it is one: `20m`, `90s`, `1h`.
pub fn span(d: Duration) -> String {
    let s = d.as_secs();
    let whole = |unit: u64| s >= unit && Duration::from_secs(s / unit * unit) == d;
    if whole(3600) {
        format!("{}h", s / 3600)
    } else if whole(60) {
        format!("{}m", s / 60)
    } else {
        show_duration(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("3d").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("").is_err());
        assert_eq!(show_duration(Duration::from_millis(200)), "200ms");
        assert_eq!(show_duration(Duration::from_secs(60)), "60s");
    }

    #[test]
    fn spans() {
        assert_eq!(span(Duration::from_secs(1200)), "20m");
        assert_eq!(span(Duration::from_secs(90)), "90s");
        assert_eq!(span(Duration::from_secs(7200)), "2h");
        assert_eq!(span(Duration::from_millis(1500)), "1.5s");
        assert_eq!(span(Duration::ZERO), "0ms");
    }
}
