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
        let mut out = String::new();
        eval::Render::new(scope).nodes(&self.nodes, &mut out)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
