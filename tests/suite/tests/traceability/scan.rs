//! Which functions a Rust file and which theorems a Coq file define, with
//! comments and literals ignored.

use std::collections::{BTreeMap, BTreeSet};

pub fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Rust source with comments and the contents of string and char literals
/// blanked, so a name mentioned there is not taken for a definition.
pub fn scrub_rust(src: &str) -> String {
    let b = src.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let blank = |out: &mut Vec<u8>, c: u8| out.push(if c == b'\n' { b'\n' } else { b' ' });
    let mut i = 0;
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                blank(&mut out, b[i]);
                i += 1;
            }
        } else if rest.starts_with(b"/*") {
            let mut depth = 0usize;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, b[i]);
                    i += 1;
                }
            }
        } else if let Some(hashes) = raw_string_start(b, i) {
            // r#"..."# (or br"..."): skip to the quote and its hashes.
            let open = i + rest.iter().position(|&c| c == b'"').unwrap_or(0) + 1;
            out.extend_from_slice(&b[i..open]);
            let close: Vec<u8> = std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
            i = open;
            while i < b.len() && !b[i..].starts_with(&close) {
                blank(&mut out, b[i]);
                i += 1;
            }
            let end = (i + close.len()).min(b.len());
            out.extend_from_slice(&b[i..end]);
            i = end;
        } else if b[i] == b'"' {
            out.push(b'"');
            i += 1;
            while i < b.len() && b[i] != b'"' {
                let step = if b[i] == b'\\' { 2 } else { 1 };
                for &c in &b[i..(i + step).min(b.len())] {
                    blank(&mut out, c);
                }
                i += step;
            }
            if i < b.len() {
                out.push(b'"');
                i += 1;
            }
        } else if b[i] == b'\'' {
            // A char literal ('x', '\n', 'é') or a lifetime ('a).
            let len = char_literal_len(&src[i..]);
            out.push(b'\'');
            for &c in &b[i + 1..i + len] {
                blank(&mut out, c);
            }
            i += len;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("only ASCII blanks replace whole characters")
}

/// At `i`, the number of `#` of a raw string literal that starts there.
pub fn raw_string_start(b: &[u8], i: usize) -> Option<usize> {
    let prefix_ok = |start: usize| start == 0 || !is_ident(b[start - 1]);
    let r = if b[i] == b'r' && prefix_ok(i) {
        i
    } else if b[i] == b'b' && b.get(i + 1) == Some(&b'r') && prefix_ok(i) {
        i + 1
    } else {
        return None;
    };
    let hashes = b[r + 1..].iter().take_while(|&&c| c == b'#').count();
    (b.get(r + 1 + hashes) == Some(&b'"')).then_some(hashes)
}

/// Bytes of the char literal (quotes included) at the start of `s`, or 1
/// for a lifetime's quote.
pub fn char_literal_len(s: &str) -> usize {
    let len = match s.chars().nth(1) {
        // '\n', '\'', '\u{..}': the closing quote after the escaped character.
        Some('\\') => s.get(3..).and_then(|t| t.find('\'')).map(|end| 3 + end + 1),
        Some(c) => {
            let close = 1 + c.len_utf8();
            (s.as_bytes().get(close) == Some(&b'\'')).then_some(close + 1)
        }
        None => None,
    };
    len.unwrap_or(1)
}

/// The functions a Rust file defines, and which of them carry `#[test]`.
#[derive(Debug, Default)]
pub struct RustFns {
    pub all: BTreeSet<String>,
    pub tests: BTreeSet<String>,
}

pub fn rust_fns(src: &str) -> RustFns {
    let scrubbed = scrub_rust(src);
    let tokens = tokens(&scrubbed, |c| c.is_ascii() && is_ident(c as u8));
    let mut found = RustFns::default();
    let mut test_attr = false;
    for (i, token) in tokens.iter().enumerate() {
        if tokens[i..].starts_with(&["#", "[", "test", "]"]) {
            test_attr = true;
        } else if *token == "fn" {
            if let Some(name) = tokens.get(i + 1).filter(|t| t.bytes().all(is_ident)) {
                found.all.insert((*name).to_owned());
                if test_attr {
                    found.tests.insert((*name).to_owned());
                }
            }
            test_attr = false;
        }
    }
    found
}

/// Identifier runs (by `ident`) and single punctuation characters.
pub fn tokens(text: &str, ident: impl Fn(char) -> bool) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        if ident(c) {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            out.push(&text[s..i]);
        }
        if !c.is_whitespace() {
            out.push(&text[i..i + c.len_utf8()]);
        }
    }
    if let Some(s) = start {
        out.push(&text[s..]);
    }
    out
}

/// Coq source with (nested) comments and string contents blanked.
pub fn scrub_coq(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut depth = 0usize;
    let mut in_string = false;
    let mut chars = src.chars().peekable();
    while let Some(c) = chars.next() {
        let blank = if c == '\n' { '\n' } else { ' ' };
        if in_string {
            if c == '"' {
                in_string = false;
                out.push('"');
            } else {
                out.push(blank);
            }
        } else if c == '(' && chars.peek() == Some(&'*') {
            chars.next();
            depth += 1;
            out.push_str("  ");
        } else if depth > 0 && c == '*' && chars.peek() == Some(&')') {
            chars.next();
            depth -= 1;
            out.push_str("  ");
        } else if depth > 0 {
            out.push(blank);
        } else if c == '"' {
            in_string = true;
            out.push('"');
        } else {
            out.push(c);
        }
    }
    out
}

/// Coq statements that name a proved result.
pub const COQ_RESULTS: &[&str] = &["Theorem", "Lemma", "Corollary", "Proposition", "Fact", "Remark"];

/// Every proved result of a Coq file by name, with its keyword.
pub fn coq_results(src: &str) -> BTreeMap<String, String> {
    let scrubbed = scrub_coq(src);
    let tokens = tokens(&scrubbed, |c| c.is_alphanumeric() || c == '_' || c == '\'');
    tokens.windows(2).filter(|w| COQ_RESULTS.contains(&w[0])).map(|w| (w[1].to_owned(), w[0].to_owned())).collect()
}
