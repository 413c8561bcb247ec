//! Rendering a parsed template against a request (or an integration response).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use base64::Engine as _;

use crate::jsonpath::{self, Selection};
use crate::parse::{BinOp, Expr, Node, Part, Reference};
use crate::value::{Builtin, Value};
use crate::{Error, Scope};

/// Most items a `#foreach` goes through (API Gateway's limit).
pub const MAX_FOREACH: usize = 1000;
/// Most work one rendering may do, so that nested loops end and values cannot grow
/// without bound: one unit per node, expression and loop round, plus one per byte or item
/// of every value made or copied.
/// (Unit tests run the same rules on a smaller budget, to stay quick.)
const MAX_WORK: u64 = if cfg!(test) { 2_000_000 } else { 20_000_000 };
/// Deepest nesting of lists and maps a value may have (so that walking or dropping one
/// never exhausts the stack).
const MAX_VALUE_DEPTH: usize = 64;
/// Longest output (API Gateway's payload limit).
pub const MAX_OUTPUT: usize = 10 * 1024 * 1024;
/// Longest range literal (`[1..n]`).
const MAX_RANGE: i64 = 10_000;

pub(crate) struct Render<'s> {
    scope: &'s Scope,
    json: OnceLock<Result<serde_json::Value, String>>,
    vars: HashMap<String, Value, foldhash::fast::RandomState>,
    steps: u64,
}

impl<'s> Render<'s> {
    pub(crate) fn new(scope: &'s Scope) -> Self {
        // `$context` is a variable of its own, so that a template can set
        // `$context.responseOverride.status` and the like.
        let mut vars = HashMap::with_hasher(foldhash::fast::RandomState::default());
        vars.insert("context".to_owned(), scope.context.clone());
        Render {
            scope,
            json: OnceLock::new(),
            vars,
            steps: 0,
        }
    }

    /// `$context` as the template left it.
    pub(crate) fn into_context(mut self) -> Value {
        self.vars.remove("context").unwrap_or_default()
    }

    fn step(&mut self) -> Result<(), Error> {
        self.spend(1)
    }

    fn spend(&mut self, units: u64) -> Result<(), Error> {
        self.steps = self.steps.saturating_add(units);
        if self.steps > MAX_WORK {
            return Err(Error::Render(format!(
                "the template does more than {MAX_WORK} units of work"
            )));
        }
        Ok(())
    }

    /// Charges the size of a value made or copied, and refuses one nested too deeply.
    fn charge(&mut self, value: &Value) -> Result<(), Error> {
        let mut units = 0u64;
        if !measure(value, 0, &mut units) {
            return Err(too_deep());
        }
        self.spend(units)
    }

    pub(crate) fn nodes(&mut self, nodes: &[Node], out: &mut String) -> Result<(), Error> {
        for node in nodes {
            self.step()?;
            match node {
                Node::Text(text) => out.push_str(text),
                Node::Ref(reference) => match self.reference(reference)? {
                    Value::Null => {}
                    value => value.render(out),
                },
                Node::Set { target, value } => {
                    let value = self.expr(value)?;
                    // Velocity 1.7 leaves the target as it was when the value is null.
                    if value != Value::Null {
                        self.assign(target, value)?;
                    }
                }
                Node::If {
                    branches,
                    otherwise,
                } => {
                    let mut taken = false;
                    for (condition, body) in branches {
                        if self.expr(condition)?.truthy() {
                            self.nodes(body, out)?;
                            taken = true;
                            break;
                        }
                    }
                    if !taken && let Some(body) = otherwise {
                        self.nodes(body, out)?;
                    }
                }
                Node::Foreach { var, items, body } => {
                    let items = match self.expr(items)? {
                        Value::List(items) => items,
                        Value::Map(entries) => entries.into_iter().map(|(_, v)| v).collect(),
                        _ => Vec::new(),
                    };
                    // API Gateway's loops stop after their 1,000th item (Velocity's
                    // `directive.foreach.maxloops`).
                    let mut items = items;
                    items.truncate(MAX_FOREACH);
                    let saved = [var.as_str(), "foreach", "velocityCount"]
                        .map(|name| (name.to_owned(), self.vars.remove(name)));
                    let count = items.len() as i64;
                    self.vars.insert(var.clone(), Value::Null);
                    self.vars.insert(
                        "foreach".to_owned(),
                        Value::Map(
                            ["index", "count", "first", "last", "hasNext"]
                                .map(|key| (key.to_owned(), Value::Null))
                                .into(),
                        ),
                    );
                    self.vars.insert("velocityCount".to_owned(), Value::Null);
                    for (i, item) in (0..).zip(items) {
                        self.step()?;
                        // The loop's variables are updated in place, round after round.
                        if let Some(slot) = self.vars.get_mut(var.as_str()) {
                            *slot = item;
                        }
                        if let Some(Value::Map(entries)) = self.vars.get_mut("foreach") {
                            let values = [
                                Value::Int(i),
                                Value::Int(i + 1),
                                Value::Bool(i == 0),
                                Value::Bool(i + 1 == count),
                                Value::Bool(i + 1 < count),
                            ];
                            for ((_, slot), value) in entries.iter_mut().zip(values) {
                                *slot = value;
                            }
                        }
                        if let Some(slot) = self.vars.get_mut("velocityCount") {
                            *slot = Value::Int(i + 1);
                        }
                        self.nodes(body, out)?;
                    }
                    for (name, value) in saved {
                        match value {
                            Some(value) => self.vars.insert(name, value),
                            None => self.vars.remove(&name),
                        };
                    }
                }
            }
            if out.len() > MAX_OUTPUT {
                return Err(Error::Render(format!(
                    "the template's output is longer than {MAX_OUTPUT} bytes"
                )));
            }
        }
        Ok(())
    }

    fn reference(&mut self, reference: &Reference) -> Result<Value, Error> {
        // Methods that change a map or list in place, on a variable.
        if let Some((Part::Call(name, args), path)) = reference.parts.split_last()
            && matches!(name.as_str(), "put" | "add" | "remove" | "putAll" | "clear")
            && self.vars.contains_key(&reference.root)
        {
            let args = self.exprs(args)?;
            let indexes = self.indexes(path)?;
            for arg in &args {
                self.charge(arg)?;
            }
            let Some(target) = self.target(&reference.root, path, &indexes) else {
                return Ok(Value::Null);
            };
            let result = mutate(target, name, args);
            // What the variable holds now must still be within bounds.
            let mut units = 0u64;
            if let Some(held) = self.vars.get(&reference.root)
                && !measure(held, 0, &mut units)
            {
                self.vars.remove(&reference.root);
                return Err(too_deep());
            }
            self.spend(units)?;
            return Ok(result);
        }
        // Index expressions and arguments first; then the walk borrows the values it passes
        // through, so that `$root.items.size()` copies nothing of `$root`.
        let mut operands = Vec::with_capacity(reference.parts.len());
        for part in &reference.parts {
            self.step()?;
            operands.push(match part {
                Part::Prop(_) => Vec::new(),
                Part::Index(expr) => vec![self.expr(expr)?],
                Part::Call(_, args) => self.exprs(args)?,
            });
        }
        let mut units = 0u64;
        let value = {
            let mut current: Cow<'_, Value> = match self.vars.get(&reference.root) {
                Some(value) => Cow::Borrowed(value),
                None => match reference.root.as_str() {
                    "input" => Cow::Owned(Value::Builtin(Builtin::Input)),
                    "util" => Cow::Owned(Value::Builtin(Builtin::Util)),
                    "context" => Cow::Borrowed(&self.scope.context),
                    "stageVariables" => Cow::Borrowed(&self.scope.stage_variables),
                    _ => Cow::Owned(Value::Null),
                },
            };
            for (part, operands) in reference.parts.iter().zip(operands) {
                if *current == Value::Null {
                    break;
                }
                current = match (part, current) {
                    (Part::Prop(name), Cow::Borrowed(value)) => property(self.scope, value, name),
                    (Part::Prop(name), Cow::Owned(value)) => {
                        Cow::Owned(property(self.scope, &value, name).into_owned())
                    }
                    (Part::Index(_), Cow::Borrowed(value)) => index_of(value, &operands[0]),
                    (Part::Index(_), Cow::Owned(value)) => {
                        Cow::Owned(index_of(&value, &operands[0]).into_owned())
                    }
                    (Part::Call(name, _), current) => {
                        let made = self.call(&current, name, operands)?;
                        if !measure(&made, 0, &mut units) {
                            return Err(too_deep());
                        }
                        Cow::Owned(made)
                    }
                };
            }
            current.into_owned()
        };
        self.spend(units)?;
        self.charge(&value)?;
        Ok(value)
    }

    /// The value a path of properties and indexes leads to from a variable, to change it.
    fn target(
        &mut self,
        root: &str,
        path: &[Part],
        indexes: &[Option<Value>],
    ) -> Option<&mut Value> {
        let mut value = self.vars.get_mut(root)?;
        for (part, index) in path.iter().zip(indexes) {
            value = match (part, index, value) {
                (Part::Prop(name), _, map @ Value::Map(_)) => map.get_mut(name)?,
                (Part::Index(_), Some(Value::Int(i)), Value::List(items)) => {
                    items.get_mut(usize::try_from(*i).ok()?)?
                }
                (Part::Index(_), Some(Value::Str(key)), map @ Value::Map(_)) => map.get_mut(key)?,
                _ => return None,
            };
        }
        Some(value)
    }

    fn assign(&mut self, target: &Reference, value: Value) -> Result<(), Error> {
        let Some((last, path)) = target.parts.split_last() else {
            self.vars.insert(target.root.clone(), value);
            return Ok(());
        };
        let indexes = self.indexes(path)?;
        let key = match last {
            Part::Prop(name) => Value::Str(name.clone()),
            Part::Index(expr) => self.expr(expr)?,
            Part::Call(..) => return Ok(()),
        };
        if let Some(parent) = self.target(&target.root, path, &indexes) {
            match (parent, key) {
                (map @ Value::Map(_), Value::Str(key)) => {
                    map.put(key, value);
                }
                (Value::List(items), Value::Int(i)) => {
                    if let Some(slot) = usize::try_from(i).ok().and_then(|i| items.get_mut(i)) {
                        *slot = value;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The values of `exprs`, in order.
    fn exprs(&mut self, exprs: &[Expr]) -> Result<Vec<Value>, Error> {
        exprs.iter().map(|expr| self.expr(expr)).collect()
    }

    /// The value of each index along `path` (`None` for the other parts), for
    /// [`Render::target`].
    fn indexes(&mut self, path: &[Part]) -> Result<Vec<Option<Value>>, Error> {
        path.iter()
            .map(|part| match part {
                Part::Index(expr) => self.expr(expr).map(Some),
                _ => Ok(None),
            })
            .collect()
    }

    fn expr(&mut self, expr: &Expr) -> Result<Value, Error> {
        self.step()?;
        let value = self.expr_inner(expr)?;
        if matches!(
            expr,
            Expr::List(_) | Expr::Map(_) | Expr::Range(..) | Expr::Binary(..)
        ) {
            self.charge(&value)?;
        }
        Ok(value)
    }

    fn expr_inner(&mut self, expr: &Expr) -> Result<Value, Error> {
        Ok(match expr {
            Expr::Null => Value::Null,
            Expr::Bool(b) => Value::Bool(*b),
            Expr::Int(i) => Value::Int(*i),
            Expr::Float(f) => Value::Float(*f),
            Expr::Str(s) => Value::Str(s.clone()),
            Expr::Interpolated(nodes) => {
                let mut text = String::new();
                self.nodes(nodes, &mut text)?;
                Value::Str(text)
            }
            Expr::List(items) => Value::List(self.exprs(items)?),
            Expr::Range(from, to) => {
                let (Value::Int(from), Value::Int(to)) = (self.expr(from)?, self.expr(to)?) else {
                    return Ok(Value::Null);
                };
                if from.abs_diff(to) >= MAX_RANGE as u64 {
                    return Err(Error::Render(format!(
                        "the range [{from}..{to}] has more than {MAX_RANGE} items"
                    )));
                }
                if from <= to {
                    Value::List((from..=to).map(Value::Int).collect())
                } else {
                    Value::List((to..=from).rev().map(Value::Int).collect())
                }
            }
            Expr::Map(entries) => {
                let mut map = Value::Map(Vec::new());
                for (key, value) in entries {
                    let key = self.expr(key)?.to_text();
                    let value = self.expr(value)?;
                    map.put(key, value);
                }
                map
            }
            Expr::Ref(reference) => self.reference(reference)?,
            Expr::Not(inner) => Value::Bool(!self.expr(inner)?.truthy()),
            Expr::Neg(inner) => match self.expr(inner)? {
                Value::Int(i) => i.checked_neg().map_or(Value::Null, Value::Int),
                Value::Float(f) => Value::Float(-f),
                _ => Value::Null,
            },
            Expr::Binary(op, left, right) => {
                let left_value = self.expr(left)?;
                match op {
                    BinOp::Or if left_value.truthy() => return Ok(Value::Bool(true)),
                    BinOp::And if !left_value.truthy() => return Ok(Value::Bool(false)),
                    _ => {}
                }
                let right_value = self.expr(right)?;
                binary(*op, left_value, right_value)
            }
        })
    }

    fn call(&self, value: &Value, name: &str, args: Vec<Value>) -> Result<Value, Error> {
        match value {
            Value::Builtin(Builtin::Input) => self.input(name, args),
            Value::Builtin(Builtin::Util) => util(name, args),
            other => Ok(method(other, name, args)),
        }
    }

    fn body_json(&self) -> Result<&serde_json::Value, Error> {
        let parsed = self.json.get_or_init(|| {
            let body = self.scope.body.trim();
            // An empty payload reads as an empty object.
            if body.is_empty() {
                return Ok(serde_json::Value::Object(serde_json::Map::new()));
            }
            serde_json::from_str(body).map_err(|e| e.to_string())
        });
        parsed
            .as_ref()
            .map_err(|e| Error::Render(format!("the payload is not JSON: {e}")))
    }

    fn input(&self, name: &str, args: Vec<Value>) -> Result<Value, Error> {
        let text_arg = |args: &[Value]| match args {
            [Value::Str(s)] => Some(s.clone()),
            [other] => Some(other.to_text()),
            _ => None,
        };
        match name {
            "json" | "path" => {
                let Some(path) = text_arg(&args) else {
                    return Ok(Value::Null);
                };
                let root = self.body_json()?;
                let selection = jsonpath::select(root, &path)?;
                Ok(match (name, selection) {
                    ("json", Selection::One(Some(found))) => Value::Str(found.to_string()),
                    ("json", Selection::One(None)) => Value::Str(String::new()),
                    ("json", Selection::Many(found)) => Value::Str(
                        serde_json::Value::Array(found.into_iter().cloned().collect()).to_string(),
                    ),
                    (_, Selection::One(found)) => found.map_or(Value::Null, Value::from_json),
                    (_, Selection::Many(found)) => {
                        Value::List(found.into_iter().map(Value::from_json).collect())
                    }
                })
            }
            "params" => match args.as_slice() {
                [] => Ok(Value::Map(vec![
                    ("path".to_owned(), pairs(&self.scope.path)),
                    ("querystring".to_owned(), pairs(&self.scope.querystring)),
                    ("header".to_owned(), pairs(&self.scope.header)),
                ])),
                _ => {
                    let Some(wanted) = text_arg(&args) else {
                        return Ok(Value::Null);
                    };
                    let found = find(&self.scope.path, &wanted, false)
                        .or_else(|| find(&self.scope.querystring, &wanted, false))
                        .or_else(|| find(&self.scope.header, &wanted, true));
                    Ok(Value::Str(found.unwrap_or_default().to_owned()))
                }
            },
            "getBody" => Ok(Value::Str(self.scope.body.clone())),
            _ => Ok(Value::Null),
        }
    }
}

fn too_deep() -> Error {
    Error::Render(format!(
        "a value is nested more than {MAX_VALUE_DEPTH} deep"
    ))
}

/// Adds the size of `value` to `units`; `false` when it is nested deeper than allowed.
fn measure(value: &Value, depth: usize, units: &mut u64) -> bool {
    if depth > MAX_VALUE_DEPTH {
        return false;
    }
    *units = units.saturating_add(1);
    match value {
        Value::Str(s) => *units = units.saturating_add(s.len() as u64),
        Value::List(items) => {
            for item in items {
                if !measure(item, depth + 1, units) {
                    return false;
                }
            }
        }
        Value::Map(entries) => {
            for (key, item) in entries {
                *units = units.saturating_add(key.len() as u64);
                if !measure(item, depth + 1, units) {
                    return false;
                }
            }
        }
        _ => {}
    }
    true
}

fn pairs(list: &[(String, String)]) -> Value {
    Value::string_map(list.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

fn find<'a>(list: &'a [(String, String)], name: &str, any_case: bool) -> Option<&'a str> {
    list.iter()
        .find(|(k, _)| {
            if any_case {
                k.eq_ignore_ascii_case(name)
            } else {
                k == name
            }
        })
        .map(|(_, v)| v.as_str())
}

fn property<'v>(scope: &Scope, value: &'v Value, name: &str) -> Cow<'v, Value> {
    match (value, name) {
        (Value::Map(_), _) => value
            .get(name)
            .map_or(Cow::Owned(Value::Null), Cow::Borrowed),
        (Value::Builtin(Builtin::Input), "body") => Cow::Owned(Value::Str(scope.body.clone())),
        (Value::Str(s), "empty") => Cow::Owned(Value::Bool(s.is_empty())),
        (Value::List(items), "empty") => Cow::Owned(Value::Bool(items.is_empty())),
        _ => Cow::Owned(Value::Null),
    }
}

fn index_of<'v>(value: &'v Value, index: &Value) -> Cow<'v, Value> {
    let found = match (value, index) {
        (Value::List(items), Value::Int(i)) => {
            jsonpath::position(items.len(), *i).and_then(|at| items.get(at))
        }
        (Value::Map(_), key) => value.get(&key.to_text()),
        _ => None,
    };
    found.map_or(Cow::Owned(Value::Null), Cow::Borrowed)
}

/// `put`, `add`, `remove`, `putAll`, `clear` on a map or list held by a variable.
fn mutate(target: &mut Value, name: &str, args: Vec<Value>) -> Value {
    let mut args = args.into_iter();
    match (name, target) {
        ("put", map @ Value::Map(_)) => {
            let (Some(key), Some(value)) = (args.next(), args.next()) else {
                return Value::Null;
            };
            map.put(key.to_text(), value).unwrap_or(Value::Null)
        }
        ("putAll", map @ Value::Map(_)) => {
            if let Some(Value::Map(entries)) = args.next() {
                for (key, value) in entries {
                    map.put(key, value);
                }
            }
            Value::Null
        }
        ("remove", Value::Map(entries)) => {
            let Some(key) = args.next().map(|k| k.to_text()) else {
                return Value::Null;
            };
            match entries.iter().position(|(k, _)| *k == key) {
                Some(at) => entries.remove(at).1,
                None => Value::Null,
            }
        }
        ("add", Value::List(items)) => match args.next() {
            Some(item) => {
                items.push(item);
                Value::Bool(true)
            }
            None => Value::Null,
        },
        ("remove", Value::List(items)) => match args.next() {
            Some(Value::Int(i)) => match usize::try_from(i) {
                Ok(i) if i < items.len() => items.remove(i),
                _ => Value::Null,
            },
            _ => Value::Null,
        },
        ("clear", Value::Map(entries)) => {
            entries.clear();
            Value::Null
        }
        ("clear", Value::List(items)) => {
            items.clear();
            Value::Null
        }
        _ => Value::Null,
    }
}

fn char_index(s: &str, i: i64) -> Option<usize> {
    let i = usize::try_from(i).ok()?;
    if i == s.chars().count() {
        return Some(s.len());
    }
    s.char_indices().nth(i).map(|(at, _)| at)
}

/// Methods of strings, lists, maps and numbers.
fn method(value: &Value, name: &str, args: Vec<Value>) -> Value {
    let text = |i: usize| args.get(i).map(Value::to_text);
    match (value, name, args.len()) {
        (_, "toString", 0) => Value::Str(value.to_text()),
        (_, "equals", 1) => Value::Bool(equals(value, &args[0])),
        (Value::Str(s), "length" | "size", 0) => Value::Int(s.chars().count() as i64),
        (Value::Str(s), "isEmpty", 0) => Value::Bool(s.is_empty()),
        (Value::Str(s), "toLowerCase", 0) => Value::Str(s.to_lowercase()),
        (Value::Str(s), "toUpperCase", 0) => Value::Str(s.to_uppercase()),
        (Value::Str(s), "trim", 0) => Value::Str(s.trim().to_owned()),
        (Value::Str(s), "contains", 1) => Value::Bool(s.contains(&*text(0).unwrap_or_default())),
        (Value::Str(s), "startsWith", 1) => {
            Value::Bool(s.starts_with(&*text(0).unwrap_or_default()))
        }
        (Value::Str(s), "endsWith", 1) => Value::Bool(s.ends_with(&*text(0).unwrap_or_default())),
        (Value::Str(s), "equalsIgnoreCase", 1) => {
            Value::Bool(s.to_lowercase() == text(0).unwrap_or_default().to_lowercase())
        }
        (Value::Str(s), "indexOf", 1) => {
            let needle = text(0).unwrap_or_default();
            Value::Int(
                s.find(&needle)
                    .map_or(-1, |at| s[..at].chars().count() as i64),
            )
        }
        (Value::Str(s), "replace", 2) => {
            Value::Str(s.replace(&*text(0).unwrap_or_default(), &text(1).unwrap_or_default()))
        }
        (Value::Str(s), "substring", 1 | 2) => {
            let Value::Int(from) = args[0] else {
                return Value::Null;
            };
            let to = match args.get(1) {
                Some(Value::Int(to)) => *to,
                Some(_) => return Value::Null,
                None => s.chars().count() as i64,
            };
            match (char_index(s, from), char_index(s, to)) {
                (Some(a), Some(b)) if a <= b => Value::Str(s[a..b].to_owned()),
                _ => Value::Null,
            }
        }
        (Value::Str(s), "replaceAll" | "replaceFirst", 2) => {
            // Java's regular expressions, as far as the regex crate reads them alike.
            let (Some(pattern), Some(replacement)) = (text(0), text(1)) else {
                return Value::Null;
            };
            // Every match (at most one per character, and one more) takes the replacement.
            let most = (s.len() + 1).saturating_mul(replacement.len() + 1);
            if most.saturating_add(s.len()) > MAX_OUTPUT {
                return Value::Null;
            }
            match regex::Regex::new(&pattern) {
                Ok(regex) if name == "replaceAll" => {
                    Value::Str(regex.replace_all(s, replacement.as_str()).into_owned())
                }
                Ok(regex) => Value::Str(regex.replace(s, replacement.as_str()).into_owned()),
                Err(_) => Value::Null,
            }
        }
        (Value::Str(s), "matches", 1) => {
            let pattern = text(0).unwrap_or_default();
            match regex::Regex::new(&format!("^(?:{pattern})$")) {
                Ok(regex) => Value::Bool(regex.is_match(s)),
                Err(_) => Value::Null,
            }
        }
        (Value::Str(s), "split", 1) => {
            let separator = text(0).unwrap_or_default();
            if separator.is_empty() {
                return Value::Null;
            }
            Value::List(
                s.split(&*separator)
                    .map(|part| Value::Str(part.to_owned()))
                    .collect(),
            )
        }
        (Value::List(items), "size", 0) => Value::Int(items.len() as i64),
        (Value::List(items), "isEmpty", 0) => Value::Bool(items.is_empty()),
        (Value::List(_), "get", 1) => index_of(value, &args[0]).into_owned(),
        (Value::List(items), "contains", 1) => {
            Value::Bool(items.iter().any(|item| equals(item, &args[0])))
        }
        (Value::List(items), "indexOf", 1) => Value::Int(
            items
                .iter()
                .position(|item| equals(item, &args[0]))
                .map_or(-1, |at| at as i64),
        ),
        (Value::Map(entries), "size", 0) => Value::Int(entries.len() as i64),
        (Value::Map(entries), "isEmpty", 0) => Value::Bool(entries.is_empty()),
        (Value::Map(_), "get", 1) => value
            .get(&args[0].to_text())
            .cloned()
            .unwrap_or(Value::Null),
        (Value::Map(_), "containsKey", 1) => Value::Bool(value.get(&args[0].to_text()).is_some()),
        (Value::Map(entries), "keySet", 0) => {
            Value::List(entries.iter().map(|(k, _)| Value::Str(k.clone())).collect())
        }
        (Value::Map(entries), "values", 0) => {
            Value::List(entries.iter().map(|(_, v)| v.clone()).collect())
        }
        (Value::Map(entries), "entrySet", 0) => Value::List(
            entries
                .iter()
                .map(|(k, v)| {
                    Value::Map(vec![
                        ("key".to_owned(), Value::Str(k.clone())),
                        ("value".to_owned(), v.clone()),
                    ])
                })
                .collect(),
        ),
        (Value::Int(i), "intValue" | "longValue", 0) => Value::Int(*i),
        (Value::Float(f), "intValue" | "longValue", 0) => Value::Int(*f as i64),
        (Value::Int(i), "doubleValue", 0) => Value::Float(*i as f64),
        (Value::Float(f), "doubleValue", 0) => Value::Float(*f),
        _ => Value::Null,
    }
}

/// `$util`'s functions.
fn util(name: &str, args: Vec<Value>) -> Result<Value, Error> {
    let [arg] = args.as_slice() else {
        return Ok(Value::Null);
    };
    let text = arg.to_text();
    Ok(match name {
        "escapeJavaScript" => Value::Str(escape_javascript(&text)),
        "parseJson" => match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(json) => Value::from_json(&json),
            Err(e) => {
                return Err(Error::Render(format!(
                    "$util.parseJson: the text is not JSON: {e}"
                )));
            }
        },
        "urlEncode" => Value::Str(url_encode(&text)),
        "urlDecode" => url_decode(&text).map_or(Value::Null, Value::Str),
        "base64Encode" => {
            Value::Str(base64::engine::general_purpose::STANDARD.encode(text.as_bytes()))
        }
        "base64Decode" => base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_or(Value::Null, |bytes| {
                Value::Str(String::from_utf8_lossy(&bytes).into_owned())
            }),
        _ => Value::Null,
    })
}

/// Commons Lang's `escapeJavaScript`, as API Gateway's `$util.escapeJavaScript` does it:
/// quotes, backslash and `/` escaped with a backslash, control characters by their short
/// escape or `\uXXXX`, and every character past ASCII as `\uXXXX` (UTF-16 units).
pub(crate) fn escape_javascript(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\u{8}' => out.push_str("\\b"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04X}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Java's `URLEncoder.encode(text, "UTF-8")`: letters, digits and `.-*_` stay, a space is
/// `+`, every other byte `%XX`.
fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Java's `URLDecoder.decode(text, "UTF-8")`: `+` is a space; `None` for a broken `%`.
fn url_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = text.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

fn equals(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Int(a), Value::Int(b)) => a == b,
        (a, b) if a.as_f64().is_some() && b.as_f64().is_some() => a.as_f64() == b.as_f64(),
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        (Value::Str(a), Value::Str(b)) => a == b,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        // Velocity compares values of different kinds by their text.
        (a, b) => a.to_text() == b.to_text(),
    }
}

fn binary(op: BinOp, left: Value, right: Value) -> Value {
    match op {
        BinOp::Or | BinOp::And => Value::Bool(right.truthy()),
        BinOp::Eq => Value::Bool(equals(&left, &right)),
        BinOp::Ne => Value::Bool(!equals(&left, &right)),
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let ordering = match (&left, &right) {
                (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
                (Value::Str(a), Value::Str(b)) => Some(a.cmp(b)),
                (a, b) => match (a.as_f64(), b.as_f64()) {
                    (Some(a), Some(b)) => a.partial_cmp(&b),
                    _ => None,
                },
            };
            let Some(ordering) = ordering else {
                return Value::Bool(false);
            };
            Value::Bool(match op {
                BinOp::Lt => ordering.is_lt(),
                BinOp::Le => ordering.is_le(),
                BinOp::Gt => ordering.is_gt(),
                _ => ordering.is_ge(),
            })
        }
        BinOp::Add if matches!(left, Value::Str(_)) || matches!(right, Value::Str(_)) => {
            if left == Value::Null || right == Value::Null {
                return Value::Null;
            }
            Value::Str(left.to_text() + &right.to_text())
        }
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => match (&left, &right) {
            (Value::Int(a), Value::Int(b)) => {
                let (a, b) = (*a, *b);
                let result = match op {
                    BinOp::Add => a.checked_add(b),
                    BinOp::Sub => a.checked_sub(b),
                    BinOp::Mul => a.checked_mul(b),
                    BinOp::Div => a.checked_div(b),
                    _ => a.checked_rem(b),
                };
                result.map_or(Value::Null, Value::Int)
            }
            (a, b) => match (a.as_f64(), b.as_f64()) {
                (Some(a), Some(b)) => {
                    let result = match op {
                        BinOp::Add => a + b,
                        BinOp::Sub => a - b,
                        BinOp::Mul => a * b,
                        BinOp::Div if b != 0.0 => a / b,
                        BinOp::Mod if b != 0.0 => a % b,
                        _ => return Value::Null,
                    };
                    Value::Float(result)
                }
                _ => Value::Null,
            },
        },
    }
}
