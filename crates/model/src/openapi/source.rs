//! Turns the bytes of an API definition (JSON or YAML) into a `serde_json::Value`, within
//! bounds: at most [`MAX_DEFINITION_BYTES`], nesting at most [`MAX_DEPTH`] deep, and at most
//! [`MAX_NODES`] values once YAML aliases are expanded (so that a "billion laughs" document is
//! refused instead of filling memory).
//!
//! YAML goes through the iterative event parser of `yaml-rust2` and a builder with an explicit
//! stack, so that no input can exhaust the call stack.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::error::ApiError;

/// The largest definition accepted: 6 MB, as on AWS.
pub const MAX_DEFINITION_BYTES: usize = 6 * 1024 * 1024;

/// The deepest nesting of objects and arrays accepted (the same bound `serde_json` applies to
/// JSON documents).
pub const MAX_DEPTH: usize = 128;

/// The most values a YAML document may expand to through its aliases.
pub const MAX_NODES: usize = 2_000_000;

/// Parses a definition. Errors are `BadRequestException`s that say what is wrong and where
/// (line and column for syntax errors).
pub fn parse(body: &[u8]) -> Result<Value, ApiError> {
    if body.len() > MAX_DEFINITION_BYTES {
        return Err(ApiError::bad_request(format!(
            "The API definition is {} bytes; the largest accepted is 6 MB ({MAX_DEFINITION_BYTES} bytes)",
            body.len()
        )));
    }
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let text = std::str::from_utf8(body).map_err(|e| {
        ApiError::bad_request(format!(
            "The API definition is not UTF-8 text: invalid byte at offset {}",
            e.valid_up_to()
        ))
    })?;
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err(ApiError::bad_request(
            "The API definition is empty: send an OpenAPI 2.0 or 3.0 document in JSON or YAML",
        ));
    }
    let value = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        serde_json::from_str::<Value>(text).map_err(|e| {
            ApiError::bad_request(format!("The API definition is not valid JSON: {e}"))
        })?
    } else {
        yaml(text)?
    };
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "The API definition must be an object (a mapping of swagger/openapi, info, paths, ...) at the top level",
        ));
    }
    Ok(value)
}

/// A value under construction, or a finished one with its size.
#[derive(Debug)]
enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
        height: usize,
    },
    Map {
        map: Map<String, Value>,
        key: Option<String>,
        anchor: usize,
        height: usize,
        mark: Marker,
    },
}

/// An anchored value, kept to expand its aliases.
#[derive(Debug)]
struct Anchored {
    value: Value,
    /// How many values it holds (itself included).
    nodes: usize,
    /// How deep it nests (a scalar is 0).
    height: usize,
    /// The text of a scalar, for an alias used as a mapping key.
    key: Option<String>,
}

fn syntax(mark: Marker, what: &str) -> ApiError {
    ApiError::bad_request(format!(
        "The API definition is not valid YAML: {what} at line {} column {}",
        mark.line(),
        mark.col() + 1
    ))
}

/// Parses a YAML document into JSON values: scalars resolve as in YAML 1.2's core schema,
/// mapping keys are kept as the text they were written with (`200:` is the key `"200"`).
fn yaml(text: &str) -> Result<Value, ApiError> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Anchored> = HashMap::new();
    let mut nodes = 0usize;
    let mut root: Option<Value> = None;
    loop {
        let (event, mark) = parser
            .next_token()
            .map_err(|e| syntax(*e.marker(), e.info()))?;
        match event {
            Event::StreamStart | Event::DocumentStart | Event::Nothing => {}
            Event::StreamEnd => break,
            Event::DocumentEnd => {
                if root.is_some() {
                    // One document only: anything but the end of the stream after it is a
                    // second document.
                    let (next, mark) = parser
                        .next_token()
                        .map_err(|e| syntax(*e.marker(), e.info()))?;
                    if next != Event::StreamEnd {
                        return Err(syntax(
                            mark,
                            "the definition holds more than one YAML document",
                        ));
                    }
                    break;
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let value = scalar(&text, style, tag.as_ref().map(|t| t.suffix.as_str()));
                nodes += 1;
                place(
                    &mut stack,
                    &mut anchors,
                    &mut root,
                    Placed {
                        value,
                        anchor,
                        nodes: 1,
                        height: 0,
                        key: Some(text),
                    },
                    &mut nodes,
                )?;
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(syntax(
                        mark,
                        &format!("nesting deeper than {MAX_DEPTH} levels"),
                    ));
                }
                nodes += 1;
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq {
                        items: Vec::new(),
                        anchor,
                        height: 0,
                    }
                } else {
                    Frame::Map {
                        map: Map::new(),
                        key: None,
                        anchor,
                        height: 0,
                        mark,
                    }
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (value, anchor, height) = match stack.pop() {
                    Some(Frame::Seq {
                        items,
                        anchor,
                        height,
                    }) => (Value::Array(items), anchor, height),
                    Some(Frame::Map {
                        map,
                        anchor,
                        height,
                        ..
                    }) => (Value::Object(map), anchor, height),
                    None => return Err(syntax(mark, "unbalanced collection end")),
                };
                // The nodes were counted as they arrived; only the anchor table needs the size.
                let size = if anchor == 0 { 0 } else { count(&value) };
                place(
                    &mut stack,
                    &mut anchors,
                    &mut root,
                    Placed {
                        value,
                        anchor,
                        nodes: size,
                        height: height + 1,
                        key: None,
                    },
                    &mut nodes,
                )?;
            }
            Event::Alias(id) => {
                let Some(anchored) = anchors.get(&id) else {
                    return Err(syntax(mark, "alias to an unknown anchor"));
                };
                nodes = nodes.saturating_add(anchored.nodes);
                if nodes > MAX_NODES {
                    return Err(syntax(
                        mark,
                        &format!("aliases expand the document past {MAX_NODES} values"),
                    ));
                }
                if stack.len() + anchored.height > MAX_DEPTH {
                    return Err(syntax(
                        mark,
                        &format!("an alias nests the document deeper than {MAX_DEPTH} levels"),
                    ));
                }
                let placed = Placed {
                    value: anchored.value.clone(),
                    anchor: 0,
                    nodes: anchored.nodes,
                    height: anchored.height,
                    key: anchored.key.clone(),
                };
                place(&mut stack, &mut anchors, &mut root, placed, &mut nodes)?;
            }
        }
        if nodes > MAX_NODES {
            return Err(syntax(
                mark,
                &format!("the document has more than {MAX_NODES} values"),
            ));
        }
    }
    Ok(root.unwrap_or(Value::Null))
}

/// A finished value on its way into its parent.
struct Placed {
    value: Value,
    anchor: usize,
    nodes: usize,
    height: usize,
    key: Option<String>,
}

/// Puts a finished value into its parent (or makes it the root), and keeps a copy of anchored
/// values. The copy counts against the node budget too, so that anchors on nested collections
/// cannot multiply memory.
fn place(
    stack: &mut [Frame],
    anchors: &mut HashMap<usize, Anchored>,
    root: &mut Option<Value>,
    placed: Placed,
    nodes: &mut usize,
) -> Result<(), ApiError> {
    if placed.anchor != 0 {
        *nodes = nodes.saturating_add(placed.nodes.max(1));
        anchors.insert(
            placed.anchor,
            Anchored {
                value: placed.value.clone(),
                nodes: placed.nodes.max(1),
                height: placed.height,
                key: placed.key.clone(),
            },
        );
    }
    match stack.last_mut() {
        None => *root = Some(placed.value),
        Some(Frame::Seq { items, height, .. }) => {
            *height = (*height).max(placed.height);
            items.push(placed.value);
        }
        Some(Frame::Map {
            map,
            key,
            height,
            mark: map_mark,
            ..
        }) => match key.take() {
            None => match placed.key {
                Some(text) => *key = Some(text),
                None => {
                    return Err(syntax(
                        *map_mark,
                        "a mapping key must be a plain value, not a list or a mapping",
                    ));
                }
            },
            Some(name) => {
                *height = (*height).max(placed.height);
                map.insert(name, placed.value);
            }
        },
    }
    Ok(())
}

/// How many values `value` holds, itself included.
fn count(value: &Value) -> usize {
    let mut total = 0usize;
    let mut pending = vec![value];
    while let Some(v) = pending.pop() {
        total += 1;
        match v {
            Value::Array(items) => pending.extend(items),
            Value::Object(map) => pending.extend(map.values()),
            _ => {}
        }
    }
    total
}

/// Resolves a scalar: quoted and block scalars are strings; plain ones follow YAML 1.2's core
/// schema (null, booleans, integers, floats), and `!!str` forces a string.
fn scalar(text: &str, style: TScalarStyle, tag: Option<&str>) -> Value {
    if style != TScalarStyle::Plain || tag == Some("str") {
        return Value::String(text.to_owned());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let integer = if let Some(hex) = text.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()
    } else if let Some(octal) = text.strip_prefix("0o") {
        i64::from_str_radix(octal, 8).ok()
    } else {
        text.parse::<i64>().ok()
    };
    if let Some(integer) = integer {
        return Value::Number(Number::from(integer));
    }
    let looks_numeric = text
        .trim_start_matches(['-', '+'])
        .starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'));
    if looks_numeric
        && let Ok(float) = text.parse::<f64>()
        && let Some(number) = Number::from_f64(float)
    {
        return Value::Number(number);
    }
    Value::String(text.to_owned())
}
