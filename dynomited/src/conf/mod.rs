//! Configuration: Dynomite's YAML file read in two stages into a validated [`Config`].
//!
//! ```text
//!  text ──scan──▶ pre-checks (---, ..., %, [ ], { }, &, *, !, documents) + line index
//!       ──raw───▶ serde_yaml node tree ─▶ RawPool: pool name, ordered (key, line, text) list
//!       ──validate▶ setter rules, duplicates, unknown keys, named defaults ─▶ Config
//! ```
//!
//! Every problem becomes a [`ConfError`] naming the file, the line, the key path, the bad value
//! in quotes and the fix; all problems of a file are reported together ([`ConfErrors`]).
//! `dynomited -t` and `dynoctl conf-test` both call [`load`].
//!
//! Files Dynomite accepts load unchanged (SPEC §1): `key : value` spacing, quoted or unquoted
//! numbers (values are read as text, as Dynomite does), `0` meaning "default" for numbers,
//! 8-bit wrap of the `*_connections` keys, prefix matching of consistency names. Where Dynomite
//! is silent about a mistake (an invalid `secure_server_option`, a bad `data_store` under `-t`,
//! several `servers`) we report an error.

mod error;
mod keys;
mod model;
mod raw;
mod scan;
mod validate;
mod value;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use error::{ConfError, ConfErrors};
pub use keys::known_keys;
pub use model::{
    Backend, ClientTls, Config, DatastoreTls, HashKind, HintsFsync, KeyFile, Limits, Listen, Net,
    Peering, SecureOption, Security, Seed, SeedProvider, Server, User,
};
pub use validate::defaults;

/// Read and validate a configuration file. Messages name the file as `path` is displayed.
pub fn load(path: &Path) -> Result<Config, ConfErrors> {
    let name = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => parse_str(&text, &name),
            Err(e) => Err(ConfError::new(
                &name,
                None,
                None,
                format!(
                    "the file is not UTF-8 text ({}); save it as UTF-8",
                    e.utf8_error()
                ),
            )
            .into()),
        },
        Err(e) => Err(ConfError::new(&name, None, None, format!("cannot read file: {e}")).into()),
    }
}

/// Validate configuration text; `file` is the name used in messages.
pub fn parse_str(text: &str, file: &str) -> Result<Config, ConfErrors> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let scan = scan::scan(text);
    if !scan.rejected.is_empty() {
        let errors = scan
            .rejected
            .iter()
            .map(|r| {
                let key = if r.document {
                    None
                } else {
                    scan.key_at(r.line)
                };
                ConfError::new(file, Some(r.line), key, r.message.clone())
            })
            .collect();
        return Err(ConfErrors(errors));
    }
    let root = raw::parse(text, file, &scan)?;
    let mut errors = Vec::new();
    let Some(pool) = raw::shape(root, &scan, file, &mut errors) else {
        errors.sort_by_key(|e| e.line.unwrap_or(usize::MAX));
        return Err(ConfErrors(errors));
    };
    validate::build(&pool, file, errors)
}
