//! The raw serde model of a configuration file: one pool name and its ordered `key: value` list.
//!
//! serde_yaml parses the YAML into a [`RawNode`] tree (any scalar, list or mapping, nothing
//! dropped, duplicate keys kept in order). [`shape`] then checks Dynomite's structure rules (one
//! root key, a mapping below it, depth at most 2) and turns the tree into [`RawPool`]: every
//! entry with its line and every scalar as the *text* Dynomite would see. Which keys exist and
//! what their values mean is decided later, in `validate`.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::error::ConfError;
use super::scan::Scan;

/// Any YAML node, as serde_yaml delivers it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum RawNode {
    /// A string scalar (quoted, or plain text that is not a YAML number, bool or null).
    Str(String),
    /// A plain scalar serde_yaml read as a number or a bool, in canonical form. The text as
    /// written is taken from the line index when available (`007` stays `007`).
    Typed(String),
    /// An empty or null scalar (`key:`, `~`, `null`).
    Null,
    Seq(Vec<RawNode>),
    Map(Vec<(RawNode, RawNode)>),
}

impl RawNode {
    fn kind(&self) -> &'static str {
        match self {
            RawNode::Str(_) | RawNode::Typed(_) => "a single value",
            RawNode::Null => "an empty value",
            RawNode::Seq(_) => "a list",
            RawNode::Map(_) => "a mapping",
        }
    }

    /// The text of a scalar (`None` for lists and mappings).
    fn scalar_text(&self) -> Option<&str> {
        match self {
            RawNode::Str(s) | RawNode::Typed(s) => Some(s),
            RawNode::Null => Some(""),
            RawNode::Seq(_) | RawNode::Map(_) => None,
        }
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = RawNode;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML scalar, list or mapping")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawNode, E> {
        Ok(RawNode::Typed(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawNode, E> {
        Ok(RawNode::Typed(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawNode, E> {
        Ok(RawNode::Typed(v.to_string()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<RawNode, E> {
        Ok(RawNode::Typed(v.to_string()))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<RawNode, E> {
        Ok(RawNode::Typed(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawNode, E> {
        Ok(RawNode::Typed(v.to_string()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawNode, E> {
        Ok(RawNode::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<RawNode, E> {
        Ok(RawNode::Str(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawNode, D::Error> {
        RawNode::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawNode, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<RawNode>()? {
            items.push(item);
        }
        Ok(RawNode::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawNode, A::Error> {
        // Entries are kept in order, duplicates included: the validator decides about them.
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<RawNode, RawNode>()? {
            entries.push((k, v));
        }
        Ok(RawNode::Map(entries))
    }
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RawNode, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

/// A value of the pool mapping, scalars as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RawValue {
    /// `key:` with nothing (or an empty quoted string) after it.
    Empty,
    /// One scalar, never empty.
    Scalar(String),
    /// A block list; each item has its line and its text (`None` when empty).
    List(Vec<(usize, Option<String>)>),
}

/// One `key: value` of the pool mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RawEntry {
    pub key: String,
    pub line: usize,
    pub value: RawValue,
}

/// The pool: its name, the line of its name, its entries in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RawPool {
    pub name: String,
    pub line: usize,
    pub entries: Vec<RawEntry>,
}

/// Parse the YAML text into a node tree; a syntax error becomes a located [`ConfError`].
pub(crate) fn parse(text: &str, file: &str, scan: &Scan) -> Result<RawNode, ConfError> {
    if text.trim().is_empty() {
        return Ok(RawNode::Null);
    }
    serde_yaml::from_str::<RawNode>(text).map_err(|e| {
        // At the end of a text whose last line has no line end, libyaml may point one line
        // past it: name the line the text ends on instead.
        let last = text.matches('\n').count() + 1;
        let line = e.location().map(|l| l.line().min(last));
        let message = strip_locations(&e.to_string());
        let key = line.and_then(|l| scan.key_on(l));
        let fix = match (scan.unclosed_quote, line) {
            (Some(q), _) if message.contains("quoted scalar") => {
                format!("the quote opened on line {q} is never closed")
            }
            (_, Some(l)) => syntax_fix(text, l, &message),
            (_, None) => GENERIC_FIX.to_string(),
        };
        ConfError::new(file, line, key, format!("invalid YAML: {message}; {fix}"))
    })
}

const GENERIC_FIX: &str = "check the indentation and quoting on this line and the one before";

/// A specific fix for common syntax mistakes near `line` (1-based), else the generic advice.
fn syntax_fix(text: &str, line: usize, message: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let at = |n: usize| n.checked_sub(1).and_then(|i| lines.get(i)).copied();
    for n in [line, line.saturating_sub(1)] {
        let Some(l) = at(n) else { continue };
        let body = l.trim_start_matches([' ', '-']);
        if let Some((k, v)) = body.split_once(':') {
            let glued = !v.is_empty() && !v.starts_with([' ', '\t']);
            if glued && super::keys::spec(k).is_some() {
                return format!(
                    "line {n} needs a space after the colon, e.g. {k}: {}",
                    v.trim_end()
                );
            }
        }
    }
    let indent_of = |l: &str| -> String { l.chars().take_while(|c| c.is_whitespace()).collect() };
    let indent = indent_of(at(line).unwrap_or(""));
    if indent.contains('\t') {
        return "indent with spaces, not tabs".to_string();
    }
    // The closest line above with content: a `key: value` line must not be followed by a
    // more indented line.
    let above = (1..line).rev().find_map(|n| {
        let l = at(n)?;
        let t = l.trim();
        (!t.is_empty() && !t.starts_with('#')).then_some((n, l))
    });
    if let Some((n, l)) = above {
        let has_value = l
            .split_once(": ")
            .is_some_and(|(_, v)| !v.trim().is_empty() && !v.trim().starts_with('#'));
        if has_value && indent.len() > indent_of(l).len() && message.contains("mapping values") {
            return format!(
                "line {line} is indented more than line {n}; keys of the same mapping must line up"
            );
        }
    }
    if message.contains("quoted scalar") {
        return "a quote opened on this line or above is never closed".to_string();
    }
    if message.contains("mapping values are not allowed") {
        return "quote a value that contains \": \" (e.g. rack: 'a: b'), and check the indentation"
            .to_string();
    }
    GENERIC_FIX.to_string()
}

/// Remove serde_yaml's ` at line N column M` fragments (the line is reported separately).
fn strip_locations(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find(" at line ") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + " at line ".len()..];
        let after_line = tail.trim_start_matches(|c: char| c.is_ascii_digit());
        match after_line.strip_prefix(" column ") {
            Some(col) => rest = col.trim_start_matches(|c: char| c.is_ascii_digit()),
            None => {
                out.push_str(" at line ");
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Text of a scalar node as Dynomite reads it: typed and null scalars are replaced by their
/// text as written (from the line index) when it is known.
fn resolve_text(node: &RawNode, written: Option<&String>) -> Option<String> {
    let text = match node {
        RawNode::Str(s) => s.clone(),
        RawNode::Typed(t) => written.cloned().unwrap_or_else(|| t.clone()),
        RawNode::Null => written.cloned().unwrap_or_default(),
        RawNode::Seq(_) | RawNode::Map(_) => return None,
    };
    (!text.is_empty()).then_some(text)
}

/// Check Dynomite's structure rules and flatten the tree into a [`RawPool`].
///
/// Structure errors (`Err`) stop the load; errors about single entries (a value nested too
/// deep) are pushed to `errors` and the entry is left out.
pub(crate) fn shape(
    root: RawNode,
    scan: &Scan,
    file: &str,
    errors: &mut Vec<ConfError>,
) -> Option<RawPool> {
    let first = scan.first_line.unwrap_or(1);
    let mut roots = match root {
        RawNode::Map(entries) if !entries.is_empty() => entries,
        RawNode::Null | RawNode::Map(_) => {
            errors.push(ConfError::new(
                file,
                Some(first),
                None,
                "the file has no configuration; expected one top-level key naming the pool, e.g. \"dyn_o_mite:\", with the settings indented under it",
            ));
            return None;
        }
        other => {
            let shown = other
                .scalar_text()
                .map(|t| format!(" \"{t}\""))
                .unwrap_or_default();
            errors.push(ConfError::new(
                file,
                Some(first),
                None,
                format!(
                    "the top level is {}{shown}; expected a mapping with one key naming the pool, e.g. \"dyn_o_mite:\", with the settings indented under it",
                    other.kind()
                ),
            ));
            return None;
        }
    };
    let (pool_key, pool_value) = roots.remove(0);
    let pool_line = scan.pool_line();
    let name = pool_key
        .scalar_text()
        .map(str::to_string)
        .unwrap_or_default();
    let name_ok = !name.is_empty();
    if !name_ok {
        errors.push(ConfError::new(
            file,
            Some(pool_line),
            None,
            "invalid empty \"key:\" at depth 0; the top-level key names the pool, e.g. dyn_o_mite:",
        ));
    }
    for (i, (k, _)) in roots.iter().enumerate() {
        let key = k.scalar_text().unwrap_or("?").to_string();
        let line = scan.roots.get(i + 1).map(|r| r.line).unwrap_or(pool_line);
        errors.push(ConfError::new(
            file,
            Some(line),
            Some(key.clone()),
            format!(
                "more than one \"key:value\" at depth 1: \"{key}\" is a second top-level key next to the pool \"{name}\"; a file holds one pool, so indent \"{key}\" under \"{name}:\" like the other settings"
            ),
        ));
    }
    let entries = match pool_value {
        RawNode::Map(entries) => entries,
        RawNode::Null if !roots.is_empty() => return None,
        RawNode::Null => {
            errors.push(ConfError::new(
                file,
                Some(pool_line),
                Some(name.clone()),
                "the pool has no settings; indent them under it, e.g. \"  listen: 127.0.0.1:8102\"",
            ));
            return None;
        }
        other => {
            let shown = other
                .scalar_text()
                .map(|t| format!(" \"{t}\""))
                .unwrap_or_default();
            errors.push(ConfError::new(
                file,
                Some(pool_line),
                Some(name.clone()),
                format!(
                    "the pool holds {}{shown}; expected its settings as indented \"key: value\" lines, e.g. \"  listen: 127.0.0.1:8102\"",
                    other.kind()
                ),
            ));
            return None;
        }
    };
    if !name_ok {
        return None;
    }

    let mut seen: Vec<(String, usize)> = Vec::new();
    let mut out = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        let key = match k.scalar_text() {
            Some(key) if !key.is_empty() => key.to_string(),
            _ => {
                errors.push(ConfError::new(
                    file,
                    Some(pool_line),
                    Some(name.clone()),
                    format!(
                        "a key is {}; keys must be plain names such as listen",
                        k.kind()
                    ),
                ));
                continue;
            }
        };
        let nth = match seen.iter_mut().find(|(s, _)| *s == key) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                seen.push((key.clone(), 0));
                0
            }
        };
        let at = scan.pool_entry(&key, nth);
        let line = at.map_or(pool_line, |p| p.line);
        let path = format!("{name}.{key}");
        let value = match v {
            RawNode::Seq(items) => {
                let mut list = Vec::with_capacity(items.len());
                let mut deep = false;
                for (j, item) in items.iter().enumerate() {
                    let written = at.and_then(|p| p.items.get(j));
                    let item_line = written.map_or(line, |w| w.line);
                    if matches!(item, RawNode::Seq(_) | RawNode::Map(_)) {
                        errors.push(ConfError::new(
                            file,
                            Some(item_line),
                            Some(path.clone()),
                            format!(
                                "has a depth greater than 2: a list item is {}; each item must be a single value such as \"- 127.0.0.1:6379:1\"",
                                item.kind()
                            ),
                        ));
                        deep = true;
                        continue;
                    }
                    list.push((
                        item_line,
                        resolve_text(item, written.and_then(|w| w.value.as_ref())),
                    ));
                }
                if deep {
                    continue;
                }
                RawValue::List(list)
            }
            RawNode::Map(_) => {
                errors.push(ConfError::new(
                    file,
                    Some(line),
                    Some(path),
                    format!(
                        "has a depth greater than 2: \"{key}\" holds a mapping; write a single value (\"{key}: value\") or a list of \"- value\" lines"
                    ),
                ));
                continue;
            }
            scalar => match resolve_text(&scalar, at.and_then(|p| p.value.as_ref())) {
                Some(t) => RawValue::Scalar(t),
                None => RawValue::Empty,
            },
        };
        out.push(RawEntry { key, line, value });
    }
    Some(RawPool {
        name,
        line: pool_line,
        entries: out,
    })
}

#[cfg(test)]
mod tests {
    use super::super::scan::scan;
    use super::*;

    fn pool(text: &str) -> (Option<RawPool>, Vec<String>) {
        let s = scan(text);
        let mut errors = Vec::new();
        let root = parse(text, "f.yml", &s).expect("yaml");
        let p = shape(root, &s, "f.yml", &mut errors);
        (p, errors.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn scalars_keep_their_written_text() {
        let (p, e) = pool("p:\n  a: 007\n  b: '5000'\n  c: 437425602\n  d: True\n  e:\n  f: ~\n  g: 1.50\n  h: ''\n");
        assert!(e.is_empty(), "{e:?}");
        let p = p.expect("pool");
        let got: Vec<_> = p
            .entries
            .iter()
            .map(|e| (e.key.as_str(), e.line, e.value.clone()))
            .collect();
        let s = |t: &str| RawValue::Scalar(t.to_string());
        assert_eq!(
            got,
            vec![
                ("a", 2, s("007")),
                ("b", 3, s("5000")),
                ("c", 4, s("437425602")),
                ("d", 5, s("True")),
                ("e", 6, RawValue::Empty),
                ("f", 7, s("~")),
                ("g", 8, s("1.50")),
                ("h", 9, RawValue::Empty),
            ]
        );
    }

    #[test]
    fn lists_and_duplicates_keep_lines() {
        let (p, e) = pool("p:\n  s:\n  - 1\n  - 'x'\n  t: 1\n  s:\n    - y\n");
        assert!(e.is_empty(), "{e:?}");
        let p = p.expect("pool");
        assert_eq!(p.entries.len(), 3);
        assert_eq!(
            p.entries[0].value,
            RawValue::List(vec![(3, Some("1".into())), (4, Some("x".into()))])
        );
        assert_eq!(p.entries[2].line, 6);
        assert_eq!(
            p.entries[2].value,
            RawValue::List(vec![(7, Some("y".into()))])
        );
    }

    #[test]
    fn structure_errors() {
        let (p, e) = pool("p:\n  a:\n    b: 1\n  c:\n  - - 1\n");
        assert!(p.is_some());
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(
            e[0].starts_with("f.yml:2: p.a: has a depth greater than 2"),
            "{e:?}"
        );
        assert!(
            e[1].starts_with("f.yml:5: p.c: has a depth greater than 2"),
            "{e:?}"
        );

        let (p, e) = pool("p:\nlisten: 1\n");
        assert!(p.is_none());
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("f.yml:2: listen: more than one \"key:value\" at depth 1"),
            "{e:?}"
        );

        let (p, e) = pool("- a\n- b\n");
        assert!(p.is_none());
        assert!(
            e[0].starts_with("f.yml:1: the top level is a list"),
            "{e:?}"
        );

        let (p, e) = pool("# only a comment\n");
        assert!(p.is_none());
        assert!(
            e[0].starts_with("f.yml:1: the file has no configuration"),
            "{e:?}"
        );

        let (p, e) = pool("p: x\n");
        assert!(p.is_none());
        assert!(
            e[0].starts_with("f.yml:1: p: the pool holds a single value \"x\""),
            "{e:?}"
        );
    }

    #[test]
    fn syntax_error_is_located() {
        let text = "p:\n  a: 1\n b: 2\n";
        let s = scan(text);
        let e = parse(text, "f.yml", &s).expect_err("bad yaml");
        assert_eq!(e.line, Some(3));
        assert!(!e.message.contains("at line"), "{}", e.message);
    }

    #[test]
    fn syntax_fixes() {
        let fix = |text: &str| {
            let s = scan(text);
            parse(text, "f.yml", &s).expect_err("bad yaml").to_string()
        };
        assert_eq!(
            fix("p:\n  listen:127.0.0.1:8102\n  servers:\n  - 127.0.0.1:6379:1\n"),
            "f.yml:3: p.servers: invalid YAML: mapping values are not allowed in this context; line 2 needs a space after the colon, e.g. listen: 127.0.0.1:8102"
        );
        assert!(fix("p:\n\tlisten: 1\n").ends_with("; indent with spaces, not tabs"));
        assert!(
            fix("p:\n  a: 1\n  b: \"x\n").ends_with("; the quote opened on line 3 is never closed")
        );
        assert!(fix("p:\n  a: 1\n  b: x: y\n")
            .ends_with("(e.g. rack: 'a: b'), and check the indentation"));
    }

    #[test]
    fn strips_locations() {
        assert_eq!(
            strip_locations("did not find expected key at line 3 column 2, while parsing a block mapping at line 1 column 1"),
            "did not find expected key, while parsing a block mapping"
        );
        assert_eq!(strip_locations("plain at line x"), "plain at line x");
    }
}
