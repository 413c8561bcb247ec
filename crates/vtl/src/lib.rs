//! API Gateway mapping templates: the Velocity Template Language (VTL) subset that REST APIs
//! use to shape integration requests and method responses.
//!
//! A [`Template`] is parsed once and rendered against a [`Scope`]: the payload (`$input.body`,
//! `$input.json('$.x')`, `$input.path('$.x')`), the method request's parameters
//! (`$input.params()`, `$input.params('name')`), `$context`, `$stageVariables` and `$util`
//! (`escapeJavaScript`, `parseJson`, `urlEncode`, `urlDecode`, `base64Encode`,
//! `base64Decode`).
//!
//! The language: references with properties, methods and indexes (`$a.b.get(0)[1]`, quiet
//! `$!a`, formal `${a}`), `#set`, `#if`/`#elseif`/`#else`/`#end`, `#foreach` (with
//! `$foreach.hasNext`, `$foreach.index`, `$velocityCount`), `##` and `#* *#` comments,
//! `#[[unparsed]]#`, and expressions with `== != < <= > >= && || ! + - * / %` (and their
//! word forms), strings (`'plain'`, `"with $references"`), numbers, booleans, lists,
//! ranges (`[1..3]`) and maps (`{'a': 1}`). As in Velocity 1.7 (API Gateway's), a reference
//! that resolves to nothing renders as written, `#set` to a null value leaves its target as
//! it was, and `#if` takes every value but null and false as true.
//!
//! Bounds, so that no template can hang or exhaust the gateway: `#foreach` over at most
//! 1,000 items (API Gateway's limit), at most 1,000,000 steps per rendering, output of at
//! most 10 MB, nesting at most 64 deep. `#macro`, `#include`, `#parse`, `#define`,
//! `#evaluate`, `#break` and `#stop` are refused when the template is parsed.
//!
//! **Architecture Invariant:** pure: no I/O, no clock; everything a template reads is in
//! its [`Scope`].

mod eval;
mod jsonpath;
mod parse;
mod value;

pub use eval::{MAX_FOREACH, MAX_OUTPUT};
pub use value::{Builtin, Value};

/// Why a template could not be parsed or rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the mapping template cannot be parsed: {0}")]
    Parse(String),
    #[error("the mapping template failed: {0}")]
    Render(String),
}

/// What a template reads.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// The payload: the method request's body for a request template, the integration's
    /// answer for a response template.
    pub body: String,
    /// The method request's parameters, in the order they came.
    pub path: Vec<(String, String)>,
    pub querystring: Vec<(String, String)>,
    pub header: Vec<(String, String)>,
    /// `$context`: a map (nested for `identity`).
    pub context: Value,
    /// `$stageVariables`: a map.
    pub stage_variables: Value,
}

/// A parsed mapping template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    nodes: Vec<parse::Node>,
}

impl Template {
    /// Parses `source`.
    pub fn parse(source: &str) -> Result<Template, Error> {
        Ok(Template {
            nodes: parse::Parser::new(source).template()?,
        })
    }

    /// The template's text when it has no references or directives: it renders as itself.
    pub fn literal(&self) -> Option<&str> {
        match self.nodes.as_slice() {
            [] => Some(""),
            [parse::Node::Text(text)] => Some(text),
            _ => None,
        }
    }

    /// Renders the template against `scope`.
    pub fn render(&self, scope: &Scope) -> Result<String, Error> {
        self.render_with_context(scope)
            .map(|rendered| rendered.text)
    }

    /// Renders the template and hands back `$context` as the template left it (for
    /// `$context.requestOverride.*` and `$context.responseOverride.*`).
    pub fn render_with_context(&self, scope: &Scope) -> Result<Rendered, Error> {
        let mut out = String::new();
        let mut render = eval::Render::new(scope);
        render.nodes(&self.nodes, &mut out)?;
        Ok(Rendered {
            text: out,
            context: render.into_context(),
        })
    }
}

/// A rendered template.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub text: String,
    /// `$context` after the rendering.
    pub context: Value,
}

/// What `path` (JSONPath, as in `$input.json`) selects in the JSON document `body`: the
/// value for a path without wildcards (`None` when nothing matches), else an array of
/// every match. For `integration.response.body.*` response parameters.
pub fn json_path(body: &str, path: &str) -> Result<Option<serde_json::Value>, Error> {
    let root: serde_json::Value = if body.trim().is_empty() {
        serde_json::Value::Object(serde_json::Map::new())
    } else {
        serde_json::from_str(body)
            .map_err(|e| Error::Render(format!("the payload is not JSON: {e}")))?
    };
    Ok(match jsonpath::select(&root, path)? {
        jsonpath::Selection::One(found) => found.cloned(),
        jsonpath::Selection::Many(found) => Some(serde_json::Value::Array(
            found.into_iter().cloned().collect(),
        )),
    })
}

#[cfg(test)]
mod tests;
