//! The terminal guard: raw mode and the alternate screen, always restored — on drop, on a
//! panic (a panic hook restores before the message prints) and on SIGTERM/SIGINT/SIGHUP
//! (blocked in every thread and awaited by one thread that raises [`Signals::quit`]).

use std::io::{stdout, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crossterm::cursor::{Hide, Show};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use nix::sys::signal::{SigSet, Signal};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

/// Put the terminal back as it was; safe to call more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(stdout(), LeaveAlternateScreen, Show);
}

/// Raw mode + alternate screen for as long as it lives.
pub struct Guard {
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl Guard {
    pub fn new() -> std::io::Result<Guard> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
        enable_raw_mode()?;
        let entered = execute!(stdout(), EnterAlternateScreen, Hide)
            .and_then(|()| Terminal::new(CrosstermBackend::new(stdout())));
        match entered {
            Ok(terminal) => Ok(Guard { terminal }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// SIGTERM, SIGINT and SIGHUP as a flag instead of a sudden death.
pub struct Signals {
    pub quit: Arc<AtomicBool>,
}

impl Signals {
    /// Block the signals in this thread (and so in every thread started after) and start a
    /// thread that waits for one. Call before starting any other thread.
    pub fn install() -> std::io::Result<Signals> {
        let mut set = SigSet::empty();
        for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
            set.add(s);
        }
        set.thread_block().map_err(std::io::Error::from)?;
        let quit = Arc::new(AtomicBool::new(false));
        let flag = quit.clone();
        std::thread::Builder::new()
            .name("dynotop-signals".into())
            .spawn(move || {
                if set.wait().is_ok() {
                    flag.store(true, Ordering::SeqCst);
                }
            })?;
        Ok(Signals { quit })
    }

    pub fn raised(&self) -> bool {
        self.quit.load(Ordering::SeqCst)
    }
}
