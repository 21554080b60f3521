//! Pre-checks on the raw YAML text (Dynomite's `conf_validate_tokens`) and the line index.
//!
//! This is a small line lexer, not a YAML parser: it understands just enough (comments, single
//! and double quoted scalars, block scalars, `key:` and `- ` indicators) to
//!
//! * reject the YAML features Dynomite refuses: `---`, `...`, `%` directives, flow collections
//!   `[..]` / `{..}` and flow entries, anchors `&x`, aliases `*x`, tags `!x`, several documents;
//! * find the line of every key and list item of the pool mapping, and the exact text of plain
//!   scalars (serde_yaml turns `007` into the number 7; Dynomite reads the text `007`).
//!
//! Indicator characters inside quoted scalars, inside plain scalars (`a[1]`, `host:port`) and
//! after ` #` comments are not tokens and pass.

/// One disallowed token found in the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rejected {
    pub line: usize,
    pub message: String,
    /// About the whole document (markers, directives), not about one key.
    pub document: bool,
}

/// A key at depth 1 (the pool name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RootLine {
    pub key: String,
    pub line: usize,
}

/// A list item under a pool key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ItemLine {
    pub line: usize,
    /// The item's text as written (plain scalar) or unquoted (one-line quoted scalar).
    pub value: Option<String>,
}

/// A key at depth 2 (inside the pool mapping) with its inline value and list items.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PoolLine {
    pub key: String,
    pub line: usize,
    /// The text after `key:` on the same line (plain: as written; quoted: unquoted).
    pub value: Option<String>,
    pub items: Vec<ItemLine>,
}

/// What the lexer learned about the file.
#[derive(Clone, Debug, Default)]
pub(crate) struct Scan {
    pub roots: Vec<RootLine>,
    /// Keys of the first root key's mapping, in file order (duplicates included).
    pub pool: Vec<PoolLine>,
    pub rejected: Vec<Rejected>,
    /// First line holding anything but blanks and comments.
    pub first_line: Option<usize>,
    /// The line of a quote that is still open at the end of the text.
    pub unclosed_quote: Option<usize>,
}

impl Scan {
    /// The `nth` (0-based) occurrence of `key` in the pool mapping.
    pub fn pool_entry(&self, key: &str, nth: usize) -> Option<&PoolLine> {
        self.pool.iter().filter(|p| p.key == key).nth(nth)
    }

    /// The line of the pool (root) key, else the first line with content, else 1.
    pub fn pool_line(&self) -> usize {
        self.roots
            .first()
            .map(|r| r.line)
            .or(self.first_line)
            .unwrap_or(1)
    }

    /// The key path of a key defined exactly on `line`, if any.
    pub fn key_on(&self, line: usize) -> Option<String> {
        let root = self.roots.first()?;
        if let Some(p) = self.pool.iter().find(|p| p.line == line) {
            return Some(format!("{}.{}", root.key, p.key));
        }
        self.roots
            .iter()
            .find(|r| r.line == line)
            .map(|r| r.key.clone())
    }

    /// The pool key a line belongs to (for naming the key of a rejected token).
    pub fn key_at(&self, line: usize) -> Option<String> {
        let root = self.roots.first()?;
        let pool_end = self.roots.get(1).map_or(usize::MAX, |r| r.line);
        if line >= pool_end {
            return self
                .roots
                .iter()
                .rev()
                .find(|r| r.line <= line)
                .map(|r| r.key.clone());
        }
        match self.pool.iter().rev().find(|p| p.line <= line) {
            Some(p) => Some(format!("{}.{}", root.key, p.key)),
            None if line >= root.line => Some(root.key.clone()),
            None => None,
        }
    }
}

#[derive(Clone, Debug)]
enum Ev {
    Key { col: usize, text: String },
    Item { col: usize },
    Scalar { text: Option<String> },
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// True when byte `i` is a blank or past the end of the line.
fn blank_or_end(bytes: &[u8], i: usize) -> bool {
    match bytes.get(i) {
        Some(b) => is_blank(*b),
        None => true,
    }
}

/// True when `line` starts with the 3-character marker followed by a blank or the end.
fn is_marker(line: &str, marker: &str) -> bool {
    line.starts_with(marker) && blank_or_end(line.as_bytes(), 3)
}

/// Index of the closing quote of a scalar opened with `q`, searching from `from`.
fn quote_end(bytes: &[u8], from: usize, q: u8) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() {
        let b = bytes[i];
        if q == b'"' && b == b'\\' {
            i += 2;
            continue;
        }
        if b == q {
            if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The text of the token starting at `p` (up to the next blank), for messages.
fn word_at(line: &str, p: usize) -> &str {
    let rest = line.get(p..).unwrap_or("");
    rest.split([' ', '\t']).next().unwrap_or(rest)
}

/// The rest of the line from `p`, trimmed, for messages.
fn rest_at(line: &str, p: usize) -> &str {
    line.get(p..).unwrap_or("").trim_end()
}

fn reject_message(c: u8, line: &str, p: usize) -> String {
    match c {
        b'[' => format!(
            "flow sequence \"{}\" is disallowed; write the list as block lines, one \"- item\" per line",
            rest_at(line, p)
        ),
        b'{' => format!(
            "flow mapping \"{}\" is disallowed; write one \"key: value\" per line",
            rest_at(line, p)
        ),
        b']' | b'}' | b',' => {
            let rest = rest_at(line, p);
            format!(
                "\"{rest}\" starts with the flow indicator \"{}\", which is disallowed; quote the value if it is text, e.g. '{rest}'",
                c as char
            )
        }
        b'&' => format!(
            "anchor \"{}\" is disallowed; write the value out in full instead of using anchors and aliases",
            word_at(line, p)
        ),
        b'*' => format!(
            "alias \"{}\" is disallowed; write the value out in full instead of using anchors and aliases",
            word_at(line, p)
        ),
        _ => format!(
            "tag \"{}\" is disallowed; remove it (values are read as plain text)",
            word_at(line, p)
        ),
    }
}

/// Lexer state carried from one line to the next.
#[derive(Default)]
struct State {
    /// Inside a quoted scalar that continues on the next line.
    quote: Option<u8>,
    /// The line where that quoted scalar started.
    quote_line: usize,
    /// Inside a block scalar (`|` or `>`) whose parent line had this indentation.
    block: Option<usize>,
}

/// Split one line into events; record disallowed tokens.
fn lex_line(line: &str, lineno: usize, st: &mut State, rejected: &mut Vec<Rejected>) -> Vec<Ev> {
    let bytes = line.as_bytes();
    let mut evs = Vec::new();
    if let Some(q) = st.quote {
        // The rest of a multi-line quoted scalar is a comment or junk serde_yaml reports.
        if quote_end(bytes, 0, q).is_some() {
            st.quote = None;
        }
        return evs;
    }
    let indent = bytes.iter().take_while(|b| is_blank(**b)).count();
    if let Some(parent) = st.block {
        if indent == bytes.len() || indent > parent {
            return evs;
        }
        st.block = None;
    }
    if is_marker(line, "---") {
        rejected.push(Rejected {
            line: lineno,
            message: "document start \"---\" is disallowed (a file holds exactly one document); remove this line".into(),
            document: true,
        });
        return evs;
    }
    if is_marker(line, "...") {
        rejected.push(Rejected {
            line: lineno,
            message: "document end \"...\" is disallowed; remove this line".into(),
            document: true,
        });
        return evs;
    }
    if bytes.first() == Some(&b'%') {
        let kind = match word_at(line, 0) {
            "%YAML" => "version directive",
            "%TAG" => "tag directive",
            _ => "directive",
        };
        rejected.push(Rejected {
            line: lineno,
            message: format!(
                "{kind} \"{}\" is disallowed; remove this line",
                line.trim_end()
            ),
            document: true,
        });
        return evs;
    }
    let mut p = indent;
    loop {
        while p < bytes.len() && is_blank(bytes[p]) {
            p += 1;
        }
        let Some(&c) = bytes.get(p) else { break };
        let blank_after = blank_or_end(bytes, p + 1);
        match c {
            b'#' => break,
            b'-' if blank_after => {
                evs.push(Ev::Item { col: p });
                p += 1;
            }
            b'?' if blank_after => p += 1,
            b'[' | b'{' | b']' | b'}' | b',' | b'&' | b'*' | b'!' => {
                rejected.push(Rejected {
                    line: lineno,
                    message: reject_message(c, line, p),
                    document: false,
                });
                break;
            }
            b'|' | b'>' => {
                evs.push(Ev::Scalar { text: None });
                st.block = Some(indent);
                break;
            }
            b'\'' | b'"' => match quote_end(bytes, p + 1, c) {
                None => {
                    evs.push(Ev::Scalar { text: None });
                    st.quote = Some(c);
                    st.quote_line = lineno;
                    break;
                }
                Some(end) => {
                    let raw = line.get(p + 1..end).unwrap_or("");
                    let text = if c == b'\'' {
                        raw.replace("''", "'")
                    } else {
                        raw.to_string()
                    };
                    let mut r = end + 1;
                    while r < bytes.len() && is_blank(bytes[r]) {
                        r += 1;
                    }
                    let colon_key = bytes.get(r) == Some(&b':') && blank_or_end(bytes, r + 1);
                    if colon_key {
                        evs.push(Ev::Key { col: p, text });
                        p = r + 1;
                    } else {
                        evs.push(Ev::Scalar { text: Some(text) });
                        break;
                    }
                }
            },
            _ => {
                let start = p;
                let mut r = p;
                let mut is_key = false;
                while r < bytes.len() {
                    let b = bytes[r];
                    if b == b':' && blank_or_end(bytes, r + 1) {
                        is_key = true;
                        break;
                    }
                    if b == b'#' && r > start && is_blank(bytes[r - 1]) {
                        break;
                    }
                    r += 1;
                }
                let text = line.get(start..r).unwrap_or("").trim_end().to_string();
                if is_key {
                    evs.push(Ev::Key { col: start, text });
                    p = r + 1;
                } else {
                    evs.push(Ev::Scalar { text: Some(text) });
                    break;
                }
            }
        }
    }
    evs
}

/// The scalar text right after event `i`, if the next event on the line is a scalar.
fn value_after(evs: &[Ev], i: usize) -> Option<String> {
    match evs.get(i + 1) {
        Some(Ev::Scalar { text }) => text.clone(),
        _ => None,
    }
}

/// Lex the whole text: rejected tokens, document count, and the line index of the pool.
pub(crate) fn scan(text: &str) -> Scan {
    let mut out = Scan::default();
    let mut st = State::default();
    let mut root_col: Option<usize> = None;
    let mut pool_col: Option<usize> = None;
    // Documents: segments separated by `---` / `...` lines that hold content.
    let mut documents = 0usize;
    let mut doc_has_content = false;
    let mut second_doc_line = None;

    for (idx, line) in text.lines().enumerate() {
        let lineno = idx + 1;
        let was_in_quote = st.quote.is_some();
        if !was_in_quote && st.block.is_none() && (is_marker(line, "---") || is_marker(line, "..."))
        {
            doc_has_content = false;
            // `--- value` starts a document with content on the marker line itself.
            let rest = line.get(3..).unwrap_or("").trim();
            if line.starts_with("---") && !rest.is_empty() && !rest.starts_with('#') {
                documents += 1;
                doc_has_content = true;
                if documents == 2 {
                    second_doc_line = Some(lineno);
                }
            }
        }
        let evs = lex_line(line, lineno, &mut st, &mut out.rejected);
        if evs.is_empty() {
            continue;
        }
        if out.first_line.is_none() {
            out.first_line = Some(lineno);
        }
        if !doc_has_content {
            doc_has_content = true;
            documents += 1;
            if documents == 2 {
                second_doc_line = Some(lineno);
            }
        }
        if was_in_quote {
            continue;
        }
        match &evs[0] {
            Ev::Key { col, text } => {
                let rc = *root_col.get_or_insert(*col);
                if *col <= rc {
                    out.roots.push(RootLine {
                        key: text.clone(),
                        line: lineno,
                    });
                } else if out.roots.len() == 1 {
                    let pc = *pool_col.get_or_insert(*col);
                    if *col == pc {
                        out.pool.push(PoolLine {
                            key: text.clone(),
                            line: lineno,
                            value: value_after(&evs, 0),
                            items: Vec::new(),
                        });
                    }
                }
            }
            Ev::Item { col } => {
                let under_pool = out.roots.len() == 1 && pool_col.is_some_and(|pc| *col >= pc);
                if let (true, Some(last)) = (under_pool, out.pool.last_mut()) {
                    last.items.push(ItemLine {
                        line: lineno,
                        value: value_after(&evs, 0),
                    });
                }
            }
            Ev::Scalar { .. } => {}
        }
    }
    if st.quote.is_some() {
        out.unclosed_quote = Some(st.quote_line);
    }
    if documents > 1 {
        out.rejected.push(Rejected {
            line: second_doc_line.unwrap_or(1),
            message: format!(
                "the file must contain only 1 document; found {documents} documents; keep one pool per file"
            ),
            document: true,
        });
    }
    out.rejected.sort_by_key(|r| r.line);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_of_a_dynomite_file() {
        let text = "dyn_o_mite:\n  datacenter: dc\n  dyn_seeds:\n  - 127.0.0.2:8101:rack2:dc:1383429731\n  - '127.0.0.3:8101:rack3:dc:1383429731' # c\n  read_consistency : DC_SAFE_QUORUM\n  tokens: '101134286'\n  timeout: 007 # comment\n";
        let s = scan(text);
        assert!(s.rejected.is_empty(), "{:?}", s.rejected);
        assert_eq!(
            s.roots,
            vec![RootLine {
                key: "dyn_o_mite".into(),
                line: 1
            }]
        );
        let keys: Vec<_> = s.pool.iter().map(|p| (p.key.as_str(), p.line)).collect();
        assert_eq!(
            keys,
            vec![
                ("datacenter", 2),
                ("dyn_seeds", 3),
                ("read_consistency", 6),
                ("tokens", 7),
                ("timeout", 8)
            ]
        );
        assert_eq!(s.pool[1].items.len(), 2);
        assert_eq!(s.pool[1].items[1].line, 5);
        assert_eq!(
            s.pool[1].items[1].value.as_deref(),
            Some("127.0.0.3:8101:rack3:dc:1383429731")
        );
        assert_eq!(s.pool[2].value.as_deref(), Some("DC_SAFE_QUORUM"));
        assert_eq!(s.pool[3].value.as_deref(), Some("101134286"));
        assert_eq!(s.pool[4].value.as_deref(), Some("007"));
        assert_eq!(s.key_at(8).as_deref(), Some("dyn_o_mite.timeout"));
    }

    #[test]
    fn indicators_inside_scalars_and_comments_pass() {
        let text = "# [not] {a flow} &anchor *alias !tag\n---x: 1\nd:\n  a: 'x [y] {z} &a *b !c'\n  b: \"q: [1]\"\n  c: a[1]&b*c!d # [x]\n  e: x,y\n  f: 'it''s'\n";
        let s = scan(text);
        assert!(s.rejected.is_empty(), "{:?}", s.rejected);
        assert_eq!(s.roots.len(), 2);
        assert_eq!(s.roots[0].key, "---x");
    }

    #[test]
    fn rejects_each_kind() {
        let cases = [
            ("---\nd:\n  a: 1\n", "document start"),
            ("d:\n  a: 1\n...\n", "document end"),
            ("%YAML 1.1\nd:\n  a: 1\n", "version directive"),
            ("%TAG ! tag:x,2000:\nd:\n  a: 1\n", "tag directive"),
            ("d:\n  a: [1, 2]\n", "flow sequence"),
            ("d:\n  a: {b: 1}\n", "flow mapping"),
            ("d:\n  a: &x 1\n", "anchor \"&x\""),
            ("d:\n  a: *x\n", "alias \"*x\""),
            ("d:\n  a: !!str 1\n", "tag \"!!str\""),
            ("d:\n  a:\n    - [1]\n", "flow sequence"),
            ("d:\n  a: ,x\n", "flow indicator"),
        ];
        for (text, want) in cases {
            let s = scan(text);
            assert_eq!(s.rejected.len(), 1, "{text:?}: {:?}", s.rejected);
            assert!(
                s.rejected[0].message.contains(want),
                "{text:?}: {:?}",
                s.rejected
            );
        }
    }

    #[test]
    fn counts_documents() {
        let s = scan("d:\n  a: 1\n---\nd:\n  a: 2\n");
        let msgs: Vec<_> = s
            .rejected
            .iter()
            .map(|r| (r.line, r.message.as_str()))
            .collect();
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[1].0, 4);
        assert!(msgs[1].1.contains("found 2 documents"));
    }

    #[test]
    fn block_and_multiline_quoted_scalars() {
        let text = "d:\n  a: |\n    [not flow]\n    &x\n  b: 'multi\n    [line]'\n  c: 3\n";
        let s = scan(text);
        assert!(s.rejected.is_empty(), "{:?}", s.rejected);
        let keys: Vec<_> = s.pool.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, vec!["a", "b", "c"]);
    }
}
