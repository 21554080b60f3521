//! Configuration errors: one located, actionable message per problem, and "did you mean" hints.

use std::fmt;

/// One problem found in a configuration file.
///
/// Displayed as a single line, `<file>:<line>: <keypath>: <message>`; the line and the key path
/// are left out when unknown (for example `conf/x.yml: cannot read file: ...`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfError {
    /// The file name as given to [`load`](super::load) or [`parse_str`](super::parse_str).
    pub file: String,
    /// 1-based line of the offending key or value.
    pub line: Option<usize>,
    /// Key path such as `dyn_o_mite.timeout`.
    pub key: Option<String>,
    /// What is wrong (with the bad value in quotes) and how to fix it.
    pub message: String,
}

impl ConfError {
    pub(crate) fn new(
        file: &str,
        line: Option<usize>,
        key: Option<String>,
        message: impl Into<String>,
    ) -> ConfError {
        ConfError {
            file: file.to_string(),
            line,
            key: key.map(|k| one_line(&k)),
            message: one_line(&message.into()),
        }
    }
}

/// Escape line breaks so that every message stays on one line (values may span lines).
pub(crate) fn one_line(text: &str) -> String {
    if !text.contains(['\n', '\r']) {
        return text.to_string();
    }
    text.replace('\r', "\\r").replace('\n', "\\n")
}

impl fmt::Display for ConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        f.write_str(": ")?;
        if let Some(key) = &self.key {
            write!(f, "{key}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfError {}

/// Every problem found in one configuration file, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfErrors(pub Vec<ConfError>);

impl ConfErrors {
    /// The errors as displayed, one line each.
    pub fn lines(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, ConfError> {
        self.0.iter()
    }
}

impl From<ConfError> for ConfErrors {
    fn from(e: ConfError) -> ConfErrors {
        ConfErrors(vec![e])
    }
}

impl fmt::Display for ConfErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfErrors {}

impl IntoIterator for ConfErrors {
    type Item = ConfError;
    type IntoIter = std::vec::IntoIter<ConfError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Levenshtein distance over bytes, case-insensitive.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<u8> = a.bytes().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<u8> = b.bytes().map(|c| c.to_ascii_lowercase()).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate closest to `word`, if it is close enough to be a plausible typo
/// (at most 2 edits, and fewer edits than half the word's length).
pub(crate) fn suggest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        let d = distance(word, c);
        match best {
            Some((bd, _)) if bd <= d => {}
            _ => best = Some((d, c)),
        }
    }
    let (d, c) = best?;
    let limit = 2.min(word.len().max(c.len()) / 2);
    (d <= limit).then_some(c)
}

/// `; did you mean "x"?` or the empty string.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    match suggest(word, candidates) {
        Some(c) => format!("; did you mean \"{c}\"?"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_forms() {
        let e = ConfError::new("a.yml", Some(3), Some("p.k".into()), "bad");
        assert_eq!(e.to_string(), "a.yml:3: p.k: bad");
        let e = ConfError::new("a.yml", None, None, "cannot read file: x");
        assert_eq!(e.to_string(), "a.yml: cannot read file: x");
        let e = ConfError::new("a.yml", Some(1), None, "m");
        assert_eq!(e.to_string(), "a.yml:1: m");
        let e = ConfError::new("a.yml", None, Some("k".into()), "m");
        assert_eq!(e.to_string(), "a.yml: k: m");
        let all = ConfErrors(vec![
            ConfError::new("f", Some(1), None, "a"),
            ConfError::new("f", Some(2), None, "b"),
        ]);
        assert_eq!(all.to_string(), "f:1: a\nf:2: b");
    }

    #[test]
    fn suggestions() {
        let keys = ["listen", "dyn_listen", "timeout", "tokens"];
        assert_eq!(suggest("listne", keys), Some("listen"));
        assert_eq!(suggest("Listen", keys), Some("listen"));
        assert_eq!(suggest("timeot", keys), Some("timeout"));
        assert_eq!(suggest("token", keys), Some("tokens"));
        assert_eq!(suggest("xyz", keys), None);
        assert_eq!(suggest("completely_different", keys), None);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
