//! What the warm-up tells the operator on stderr while it runs: timestamped lines, the
//! `[n/9]` line that begins and ends each step, and the sync's progress line (redrawn in
//! place on a terminal, one line per poll otherwise).

use std::io::{self, IsTerminal, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::STEPS;
use crate::duration::show_duration;

/// Writes timestamped lines and the progress line to stderr.
pub struct Log {
    tty: bool,
    /// Length of the progress line on screen (tty only), 0 if none.
    drawn: usize,
}

impl Log {
    pub fn new() -> Log {
        Log {
            tty: io::stderr().is_terminal(),
            drawn: 0,
        }
    }

    pub fn line(&mut self, msg: &str) {
        let mut e = io::stderr().lock();
        if self.drawn > 0 {
            let _ = write!(e, "\r{}\r", " ".repeat(self.drawn));
            self.drawn = 0;
        }
        let _ = writeln!(e, "dynoctl: {} warmup: {msg}", now());
    }

    pub fn progress(&mut self, msg: &str) {
        if !self.tty {
            self.line(msg);
            return;
        }
        let text = format!("dynoctl: {} warmup: {msg}", now());
        let pad = self.drawn.saturating_sub(text.chars().count());
        let mut e = io::stderr().lock();
        let _ = write!(e, "\r{text}{}", " ".repeat(pad));
        let _ = e.flush();
        self.drawn = text.chars().count();
    }

    /// End a progress line (tty): keep it on screen.
    fn done_progress(&mut self) {
        if self.drawn > 0 {
            let _ = writeln!(io::stderr().lock());
            self.drawn = 0;
        }
    }

    /// `[n/9] step: what` as step `n` begins.
    pub fn begin(&mut self, n: usize, step: &str, what: &str) {
        self.line(&format!("[{n}/{STEPS}] {step}: {what}"));
    }

    /// `[n/9] step: ok (took): detail` (or `FAILED`) as step `n` ends; a progress line
    /// stays on screen above it.
    pub fn end(&mut self, n: usize, step: &str, ok: bool, took: Duration, detail: &str) {
        self.done_progress();
        self.line(&format!(
            "[{n}/{STEPS}] {step}: {} ({}): {detail}",
            if ok { "ok" } else { "FAILED" },
            show_duration(took)
        ));
    }
}

/// Seconds since the epoch as `2024-05-01T12:34:56Z`.
fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn now() -> String {
    utc(SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
