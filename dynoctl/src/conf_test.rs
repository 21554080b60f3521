//! `dynoctl conf-test`: config files checked exactly as `dynomited -t` checks them, one line
//! per valid file or every error of an invalid one.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit 0 if every file is valid, 1 if any is not.
pub fn run(files: &[PathBuf]) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let mut bad = false;
    for f in files {
        let line = match dynomite::conf::load(f) {
            Ok(_) => format!("{}: ok\n", f.display()),
            Err(errs) => {
                bad = true;
                format!("{errs}\n")
            }
        };
        // A closed pipe (`dynoctl conf-test ... | head`) is not an error.
        if out.write_all(line.as_bytes()).is_err() {
            break;
        }
    }
    ExitCode::from(u8::from(bad))
}
