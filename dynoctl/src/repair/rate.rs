//! `--rate`: how many keys the walk takes from the racks' scans per second, its parser, and
//! the limiter that paces the walk to it (pure: the caller gives the time and sleeps).

use std::time::Duration;

/// `--rate`: keys per second, `None` for no limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate(pub Option<u32>);

impl Rate {
    /// As `--rate` shows it: `5000keys/s`, `unlimited`.
    pub fn text(&self) -> String {
        match self.0 {
            Some(n) => format!("{n}keys/s"),
            None => "unlimited".into(),
        }
    }
}

/// `5000keys/s`, `5000/s`, `5000`, `5k`; `0` or `unlimited` for no limit.
pub fn parse_rate(s: &str) -> Result<Rate, String> {
    let t = s.trim().to_ascii_lowercase();
    if t == "unlimited" {
        return Ok(Rate(None));
    }
    let num = t
        .strip_suffix("keys/s")
        .or_else(|| t.strip_suffix("/s"))
        .unwrap_or(&t)
        .trim();
    let (digits, scale) = match num.strip_suffix('k') {
        Some(d) => (d, 1000),
        None => (num, 1),
    };
    let n: u64 = digits.parse().map_err(|_| {
        format!("bad rate \"{s}\": want keys per second, e.g. 5000keys/s, or unlimited")
    })?;
    match u32::try_from(n * scale) {
        Ok(0) => Ok(Rate(None)),
        Ok(n) => Ok(Rate(Some(n))),
        Err(_) => Err(format!("rate \"{s}\" is too large")),
    }
}

/// Paces takes of keys to a rate, from the walk's start.
#[derive(Clone, Debug)]
pub struct Limiter {
    rate: Rate,
    taken: u64,
}

impl Limiter {
    pub fn new(rate: Rate) -> Limiter {
        Limiter { rate, taken: 0 }
    }

    /// Take `n` keys `elapsed` after the walk started: how long to wait first, so that the keys
    /// taken before these went at most at the rate. (The first batch goes at once; each
    /// batch waits for the time its predecessors used up.)
    pub fn take(&mut self, n: u64, elapsed: Duration) -> Duration {
        let Some(rate) = self.rate.0 else {
            return Duration::ZERO;
        };
        let due = Duration::from_secs_f64(self.taken as f64 / f64::from(rate));
        self.taken += n;
        due.saturating_sub(elapsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_as_operators_write_them() {
        assert_eq!(parse_rate("5000keys/s"), Ok(Rate(Some(5000))));
        assert_eq!(parse_rate("5000/s"), Ok(Rate(Some(5000))));
        assert_eq!(parse_rate(" 250 "), Ok(Rate(Some(250))));
        assert_eq!(parse_rate("20k"), Ok(Rate(Some(20_000))));
        assert_eq!(parse_rate("20kkeys/s"), Ok(Rate(Some(20_000))));
        assert_eq!(parse_rate("unlimited"), Ok(Rate(None)));
        assert_eq!(parse_rate("0"), Ok(Rate(None)));
        assert!(parse_rate("fast").is_err());
        assert!(parse_rate("-1").is_err());
        assert!(parse_rate("99999999999").is_err());
        assert_eq!(Rate(Some(5000)).text(), "5000keys/s");
        assert_eq!(Rate(None).text(), "unlimited");
    }

    #[test]
    fn the_limiter_paces_batches() {
        let ms = Duration::from_millis;
        let mut l = Limiter::new(Rate(Some(1000)));
        assert_eq!(l.take(200, ms(0)), ms(0), "the first batch goes at once");
        // 200 keys taken: the next batch is due at 200 ms.
        assert_eq!(l.take(200, ms(5)), ms(195));
        assert_eq!(l.take(200, ms(400)), ms(0), "late: no wait");
        assert_eq!(l.take(100, ms(450)), ms(150));
        let mut free = Limiter::new(Rate(None));
        assert_eq!(free.take(1_000_000, ms(0)), ms(0));
        assert_eq!(free.take(1_000_000, ms(1)), ms(0));
    }
}
