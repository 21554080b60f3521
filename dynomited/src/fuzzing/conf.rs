//! Target `conf_yaml`: the configuration loader (pre-checks, YAML, validation).

use crate::conf::parse_str;

/// Target `conf_yaml`: arbitrary bytes (as UTF-8, lossily) through the configuration loader,
/// as `dynomited -t` reads a file.
///
/// Oracle: every error names the file and a line that exists in the text (1 up to the
/// number of line ends plus one), prints as one line, and carries a key path of one line;
/// the answer does not change with a byte order mark in front, nor from one call to the next.
pub fn conf_yaml(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let lines = text.matches('\n').count() + 1;
    let first = parse_str(&text, "fuzz.yml");
    match &first {
        Ok(conf) => {
            let _ = format!("{conf:?}");
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "an error result without errors");
            for e in errors.iter() {
                assert_eq!(e.file, "fuzz.yml");
                if let Some(line) = e.line {
                    assert!((1..=lines).contains(&line), "line {line} of {lines}: {e}");
                }
                let shown = e.to_string();
                assert!(
                    !shown.contains(['\n', '\r']),
                    "error on several lines: {shown:?}"
                );
                assert!(shown.starts_with("fuzz.yml"));
                if let Some(k) = &e.key {
                    assert!(!k.contains('\n'));
                }
            }
        }
    }
    let again = parse_str(&format!("\u{feff}{text}"), "fuzz.yml");
    assert_eq!(
        format!("{again:?}"),
        format!("{first:?}"),
        "a byte order mark changed the answer"
    );
}
