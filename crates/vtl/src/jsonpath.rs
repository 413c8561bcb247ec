//! The JSONPath of `$input.json(...)` and `$input.path(...)`: `$`, `.name`, `['name']`,
//! `[n]` (negative counts from the end), `[*]` and `.*`, and `..name` (every `name` below).
//! Written by hand: API Gateway's paths are this small subset, and the JSONPath crates
//! bring whole query languages (filters, functions) that templates cannot use here.

use serde_json::Value;

use crate::Error;

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Name(String),
    Index(i64),
    Wildcard,
    Descend(String),
}

/// What a path selects: one value (or none) when it has no wildcard or descent, else all.
pub(crate) enum Selection<'v> {
    One(Option<&'v Value>),
    Many(Vec<&'v Value>),
}

fn parse(path: &str) -> Result<Vec<Step>, Error> {
    let bad = |why: &str| Error::Render(format!("invalid JSONPath '{path}': {why}"));
    let rest = path.trim();
    let Some(mut rest) = rest.strip_prefix('$') else {
        return Err(bad("it must start with '$'"));
    };
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("..") {
            let len = after.find(['.', '[']).unwrap_or(after.len());
            if len == 0 {
                return Err(bad("'..' needs a name after it"));
            }
            steps.push(Step::Descend(after[..len].to_owned()));
            rest = &after[len..];
        } else if let Some(after) = rest.strip_prefix('.') {
            let len = after.find(['.', '[']).unwrap_or(after.len());
            let name = &after[..len];
            match name {
                "" => return Err(bad("'.' needs a name after it")),
                "*" => steps.push(Step::Wildcard),
                _ => steps.push(Step::Name(name.to_owned())),
            }
            rest = &after[len..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let Some(end) = after.find(']') else {
                return Err(bad("'[' is not closed"));
            };
            let inner = after[..end].trim();
            let quoted = inner
                .strip_prefix('\'')
                .and_then(|s| s.strip_suffix('\''))
                .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')));
            if let Some(name) = quoted {
                steps.push(Step::Name(name.to_owned()));
            } else if inner == "*" {
                steps.push(Step::Wildcard);
            } else {
                let index = inner
                    .parse::<i64>()
                    .map_err(|_| bad("only names, indexes and '*' go in brackets"))?;
                steps.push(Step::Index(index));
            }
            rest = &after[end + 1..];
        } else {
            return Err(bad("expected '.' or '['"));
        }
    }
    Ok(steps)
}

/// Where index `i` points in a list of `len` items; a negative index counts from the end.
pub(crate) fn position(len: usize, i: i64) -> Option<usize> {
    if i < 0 {
        i64::try_from(len)
            .ok()
            .and_then(|len| usize::try_from(len + i).ok())
    } else {
        usize::try_from(i).ok()
    }
}

fn child<'v>(value: &'v Value, step: &Step, out: &mut Vec<&'v Value>) {
    match (step, value) {
        (Step::Name(name), Value::Object(map)) => out.extend(map.get(name)),
        (Step::Index(i), Value::Array(items)) => {
            out.extend(position(items.len(), *i).and_then(|at| items.get(at)));
        }
        (Step::Wildcard, Value::Array(items)) => out.extend(items.iter()),
        (Step::Wildcard, Value::Object(map)) => out.extend(map.values()),
        (Step::Descend(name), _) => descend(value, name, out),
        _ => {}
    }
}

fn descend<'v>(value: &'v Value, name: &str, out: &mut Vec<&'v Value>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                if key == name {
                    out.push(item);
                }
                descend(item, name, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                descend(item, name, out);
            }
        }
        _ => {}
    }
}

/// Applies `path` to `root`.
pub(crate) fn select<'v>(root: &'v Value, path: &str) -> Result<Selection<'v>, Error> {
    let steps = parse(path)?;
    let definite = steps
        .iter()
        .all(|s| matches!(s, Step::Name(_) | Step::Index(_)));
    let mut current = vec![root];
    for step in &steps {
        let mut next = Vec::new();
        for value in current {
            child(value, step, &mut next);
        }
        current = next;
    }
    Ok(if definite {
        Selection::One(current.first().copied())
    } else {
        Selection::Many(current)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn one(root: &Value, path: &str) -> Option<Value> {
        match select(root, path).unwrap() {
            Selection::One(v) => v.cloned(),
            Selection::Many(_) => panic!("{path} is definite"),
        }
    }

    fn many(root: &Value, path: &str) -> Vec<Value> {
        match select(root, path).unwrap() {
            Selection::Many(v) => v.into_iter().cloned().collect(),
            Selection::One(_) => panic!("{path} is not definite"),
        }
    }

    #[test]
    fn paths_select_what_api_gateway_selects() {
        let doc = json!({"a": {"b": [1, {"c": "x"}, 3]}, "d e": true, "c": 0});
        assert_eq!(one(&doc, "$"), Some(doc.clone()));
        assert_eq!(one(&doc, "$.a.b[0]"), Some(json!(1)));
        assert_eq!(one(&doc, "$.a.b[-1]"), Some(json!(3)));
        assert_eq!(one(&doc, "$['d e']"), Some(json!(true)));
        assert_eq!(one(&doc, "$.a.b[1].c"), Some(json!("x")));
        assert_eq!(one(&doc, "$.missing"), None);
        assert_eq!(one(&doc, "$.a.b[9]"), None);
        assert_eq!(
            many(&doc, "$.a.b[*]"),
            vec![json!(1), json!({"c": "x"}), json!(3)]
        );
        assert_eq!(many(&doc, "$..c"), vec![json!("x"), json!(0)]);
        for bad in ["a", "$.", "$[", "$[x]", "$..", "$x"] {
            assert!(select(&doc, bad).is_err(), "{bad}");
        }
    }
}
