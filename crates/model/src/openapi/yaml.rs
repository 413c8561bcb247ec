//! Writes an export as block-style YAML that every YAML 1.2 reader (the importer included)
//! reads back to the same values.
//!
//! Strings are plain only when they cannot be read as anything else; otherwise they are
//! double-quoted with every character YAML does not allow raw escaped. A key longer than
//! YAML's 1,024-character limit for implicit keys is written as an explicit `? key` entry.

use std::fmt::Write;

use super::export::Node;

/// Implicit keys may be at most 1,024 characters; keys that come near are made explicit.
const MAX_IMPLICIT_KEY: usize = 1_000;

/// The document, starting with `---`.
pub(crate) fn to_yaml(node: &Node) -> String {
    let mut out = String::from("---\n");
    match node {
        Node::Map(entries) if !entries.is_empty() => map(&mut out, entries, 0),
        Node::Seq(items) if !items.is_empty() => seq(&mut out, items, 0),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, level: usize) {
    out.extend(std::iter::repeat_n(' ', level));
}

/// Whether a node is written on lines of its own (a non-empty collection).
fn is_block(node: &Node) -> bool {
    match node {
        Node::Map(entries) => !entries.is_empty(),
        Node::Seq(items) => !items.is_empty(),
        _ => false,
    }
}

fn map(out: &mut String, entries: &[(String, Node)], level: usize) {
    for (key, value) in entries {
        indent(out, level);
        let key = string(key);
        if key.chars().count() > MAX_IMPLICIT_KEY {
            out.push_str("? ");
            out.push_str(&key);
            out.push('\n');
            indent(out, level);
            out.push(':');
        } else {
            out.push_str(&key);
            out.push(':');
        }
        value_after_indicator(out, value, level);
    }
}

fn seq(out: &mut String, items: &[Node], level: usize) {
    for item in items {
        indent(out, level);
        out.push('-');
        match item {
            // A mapping starts on the dash's line when its first key is implicit.
            Node::Map(entries)
                if entries
                    .first()
                    .is_some_and(|(k, _)| string(k).chars().count() <= MAX_IMPLICIT_KEY) =>
            {
                out.push(' ');
                let mut first = String::new();
                map(&mut first, &entries[..1], level + 2);
                out.push_str(first.trim_start());
                map(out, &entries[1..], level + 2);
            }
            other => value_after_indicator(out, other, level),
        }
    }
}

/// The value after `key:` or `-`: on the same line for scalars and empty collections, on the
/// following lines, indented, for the others.
fn value_after_indicator(out: &mut String, value: &Node, level: usize) {
    if is_block(value) {
        out.push('\n');
        match value {
            Node::Map(entries) => map(out, entries, level + 2),
            Node::Seq(items) => seq(out, items, level + 2),
            _ => {}
        }
    } else {
        out.push(' ');
        out.push_str(&scalar(value));
        out.push('\n');
    }
}

fn scalar(node: &Node) -> String {
    match node {
        Node::Null => "null".to_owned(),
        Node::Bool(b) => b.to_string(),
        Node::Int(i) => i.to_string(),
        Node::Float(f) if f.is_finite() => {
            // Keep a decimal point so that the value reads back as a float.
            let text = f.to_string();
            if text.contains(['.', 'e', 'E']) {
                text
            } else {
                format!("{text}.0")
            }
        }
        Node::Float(_) => "null".to_owned(),
        Node::Str(s) => string(s),
        Node::Map(_) => "{}".to_owned(),
        Node::Seq(_) => "[]".to_owned(),
    }
}

/// Words that some YAML readers (YAML 1.1 ones included) take for booleans or null.
const RESERVED: &[&str] = &[
    "true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", "inf",
];

/// A string as a plain scalar when that is unambiguous (no indicator, no `:` or `#`, nothing
/// that reads as a number, boolean or null), double-quoted otherwise.
fn string(text: &str) -> String {
    let plain = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '_' | '$'))
        && !text.ends_with(' ')
        && text.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '$' | '+' | ' ')
        })
        && !RESERVED.contains(&text.to_ascii_lowercase().as_str());
    if plain {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // YAML allows only printable characters raw: escape C0 and C1 controls, DEL, the
            // byte-order mark and the two non-characters at the end of the BMP.
            c if (c as u32) < 0x20
                || (0x7F..=0x9F).contains(&(c as u32))
                || matches!(c, '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}') =>
            {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
