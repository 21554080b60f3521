//! The walk's progress on stderr: on a terminal a bar redrawn in place with the rate and the
//! ETA; otherwise a plain line every few seconds (and `log` lines for each unit), which logs
//! and CI keep readable.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::duration::show_duration;

/// Time between plain progress lines.
const PLAIN_EVERY: Duration = Duration::from_secs(5);
/// Time between redraws of the bar.
const BAR_EVERY: Duration = Duration::from_millis(100);
/// The bar's width in characters.
const BAR_WIDTH: usize = 30;

/// The progress of a walk.
pub struct Progress {
    tty: bool,
    started: Instant,
    last: Option<Instant>,
    /// Keys the walk expects to take from the scans (the owners' `DBSIZE`s).
    pub total: u64,
    /// Keys taken from the scans so far.
    pub seen: u64,
    drawn: bool,
}

impl Progress {
    pub fn new(total: u64) -> Progress {
        Progress {
            tty: std::io::stderr().is_terminal(),
            started: Instant::now(),
            last: None,
            total,
            seen: 0,
            drawn: false,
        }
    }

    /// Show the progress if it is time to.
    pub fn tick(&mut self, differing: u64, repaired: u64) {
        let every = if self.tty { BAR_EVERY } else { PLAIN_EVERY };
        let now = Instant::now();
        match self.last {
            Some(l) if now.duration_since(l) < every => return,
            None if !self.tty && now.duration_since(self.started) < every => return,
            _ => {}
        }
        self.last = Some(now);
        let text = line(
            self.seen,
            self.total,
            self.started.elapsed(),
            differing,
            repaired,
        );
        let mut e = std::io::stderr().lock();
        if self.tty {
            let _ = write!(e, "\r\x1b[2K{} {text}", bar(self.seen, self.total));
            self.drawn = true;
        } else {
            let _ = writeln!(e, "dynoctl: repair: {text}");
        }
        let _ = e.flush();
    }

    /// Clear the bar before other output.
    pub fn clear(&mut self) {
        if self.drawn {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
            self.drawn = false;
            self.last = None;
        }
    }
}

/// `[=========>          ]`.
pub fn bar(seen: u64, total: u64) -> String {
    let fill = if total == 0 {
        BAR_WIDTH
    } else {
        ((seen.min(total) as f64 / total as f64) * BAR_WIDTH as f64) as usize
    };
    let mut s = String::with_capacity(BAR_WIDTH + 2);
    s.push('[');
    for i in 0..BAR_WIDTH {
        s.push(match i.cmp(&fill) {
            std::cmp::Ordering::Less => '=',
            std::cmp::Ordering::Equal => '>',
            std::cmp::Ordering::Greater => ' ',
        });
    }
    s.push(']');
    s
}

/// `45% 9000/20000 keys, 1800 keys/s, ETA 6s, differing 12, repaired 10`.
pub fn line(seen: u64, total: u64, elapsed: Duration, differing: u64, repaired: u64) -> String {
    let pct = (seen.min(total) * 100).checked_div(total).unwrap_or(100);
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 { seen as f64 / secs } else { 0.0 };
    let eta = if rate > 0.0 && total > seen {
        show_duration(Duration::from_secs_f64(
            ((total - seen) as f64 / rate).min(7.0 * 86400.0),
        ))
    } else {
        "-".into()
    };
    format!(
        "{pct}% {seen}/{total} keys, {} keys/s, ETA {eta}, differing {differing}, repaired {repaired}",
        rate as u64
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_and_the_bar() {
        assert_eq!(
            line(9000, 20000, Duration::from_secs(5), 12, 10),
            "45% 9000/20000 keys, 1800 keys/s, ETA 6.1s, differing 12, repaired 10"
        );
        assert_eq!(
            line(0, 100, Duration::ZERO, 0, 0),
            "0% 0/100 keys, 0 keys/s, ETA -, differing 0, repaired 0"
        );
        // More keys than DBSIZE said (written meanwhile): never past 100%.
        assert!(line(150, 100, Duration::from_secs(1), 0, 0).starts_with("100% "));
        assert_eq!(bar(0, 10), format!("[>{}]", " ".repeat(BAR_WIDTH - 1)));
        assert_eq!(bar(5, 10).matches('=').count(), BAR_WIDTH / 2);
        assert_eq!(bar(10, 10), format!("[{}]", "=".repeat(BAR_WIDTH)));
        assert_eq!(bar(0, 0), format!("[{}]", "=".repeat(BAR_WIDTH)));
    }
}
