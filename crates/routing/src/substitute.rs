//! Placeholder substitution in integration URIs (and the other fields that allow it):
//! `${stageVariables.NAME}` from the stage, `{name}` / `{name+}` from the request path.
//!
//! Stage variables go first, then path parameters. A stage variable's value may not contain
//! braces (AWS restricts values to `[A-Za-z0-9-._~:/?#&=,]`), so the first pass cannot create
//! a path placeholder, and the second pass skips `${...}`, so it never touches what the first
//! one left.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;

/// A `${stageVariables.NAME}` whose NAME the stage does not define. The gateway answers 500
/// `Internal server error` and logs the name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stage variable `{name}` is not defined")]
pub struct UnresolvedVariable {
    /// The NAME inside the placeholder.
    pub name: String,
}

/// Replaces every `${stageVariables.NAME}` in `text` with the stage's value for NAME.
///
/// Substitution is a single pass: a value is inserted as is and not searched again. A
/// `${stageVariables.` with no closing `}` is left as it stands.
pub fn substitute_stage_variables<'t>(
    text: &'t str,
    variables: &BTreeMap<String, String>,
) -> Result<Cow<'t, str>, UnresolvedVariable> {
    const OPEN: &str = "${stageVariables.";
    if !text.contains(OPEN) {
        return Ok(Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find('}') else {
            break;
        };
        let name = &after[..end];
        let value = variables.get(name).ok_or_else(|| UnresolvedVariable {
            name: name.to_owned(),
        })?;
        out.push_str(&rest[..start]);
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(Cow::Owned(out))
}

/// Replaces every `{name}` and `{name+}` placeholder in an integration URI with the value
/// given for `name` in `params`, inserted verbatim: the values are expected to be still
/// percent-encoded (see [`crate::PathParam::raw`]), so that the backend decodes them once.
///
/// A placeholder with no value is left as it stands, and so is a `${...}` (stage variables
/// are substituted first, by [`substitute_stage_variables`]). Placeholders may sit anywhere,
/// including in the query (`?testVar={pathVar}`).
pub fn substitute_path_params<'u, N, V>(uri: &'u str, params: &[(N, V)]) -> Cow<'u, str>
where
    N: AsRef<str>,
    V: AsRef<str>,
{
    if !uri.contains('{') {
        return Cow::Borrowed(uri);
    }
    let mut out = String::with_capacity(uri.len());
    PathTemplate::parse(uri).write(&mut out, |name| {
        params
            .iter()
            .find(|(param, _)| param.as_ref() == name)
            .map(|(_, value)| value.as_ref())
    });
    Cow::Owned(out)
}

/// A text with `{name}` and `{name+}` placeholders, split once into literal runs and
/// placeholders, so that filling it in (for every request to an integration) is a series of
/// copies. The rules are [`substitute_path_params`]'s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathTemplate {
    text: String,
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Text written as it is.
    Literal(Range<usize>),
    /// A placeholder: the name inside it, and the whole `{...}` (written when there is no
    /// value).
    Placeholder {
        name: Range<usize>,
        whole: Range<usize>,
    },
}

impl PathTemplate {
    pub fn parse(text: &str) -> Self {
        let mut pieces = Vec::new();
        let mut at = 0;
        let mut literal_start = 0;
        while let Some(open) = text[at..].find('{').map(|i| at + i) {
            let Some(close) = text[open..].find('}').map(|i| open + i) else {
                // An unclosed brace: the rest of the text is literal.
                break;
            };
            let inner = &text[open + 1..close];
            let name_len = inner.strip_suffix('+').unwrap_or(inner).len();
            // `${...}` is a stage variable's syntax; a name with a brace is no name.
            if !text[..open].ends_with('$') && !inner[..name_len].contains('{') {
                if literal_start < open {
                    pieces.push(Piece::Literal(literal_start..open));
                }
                pieces.push(Piece::Placeholder {
                    name: open + 1..open + 1 + name_len,
                    whole: open..close + 1,
                });
                literal_start = close + 1;
            }
            at = close + 1;
        }
        if literal_start < text.len() {
            pieces.push(Piece::Literal(literal_start..text.len()));
        }
        Self {
            text: text.to_owned(),
            pieces,
        }
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Writes the text to `out` with each placeholder replaced by `value(name)`, or left as
    /// it stands when that is `None`.
    pub fn write<'v>(&self, out: &mut String, value: impl Fn(&str) -> Option<&'v str>) {
        for piece in &self.pieces {
            match piece {
                Piece::Literal(range) => out.push_str(&self.text[range.clone()]),
                Piece::Placeholder { name, whole } => match value(&self.text[name.clone()]) {
                    Some(value) => out.push_str(value),
                    None => out.push_str(&self.text[whole.clone()]),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variables(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|&(name, value)| (name.to_owned(), value.to_owned()))
            .collect()
    }

    #[test]
    fn stage_variables() {
        let vars = variables(&[("host", "example.com"), ("v", "2"), ("link", "abc123")]);
        let check = |text: &str, expect: Result<&str, &str>| {
            let got = substitute_stage_variables(text, &vars).map(Cow::into_owned);
            let expect = expect
                .map(str::to_owned)
                .map_err(|name| UnresolvedVariable {
                    name: name.to_owned(),
                });
            assert_eq!(got, expect, "text: {text}");
        };
        check("http://example.com/a", Ok("http://example.com/a"));
        check(
            "http://${stageVariables.host}/v${stageVariables.v}/{proxy}",
            Ok("http://example.com/v2/{proxy}"),
        );
        check("${stageVariables.link}", Ok("abc123"));
        check("${stageVariables.v}${stageVariables.v}", Ok("22"));
        check("http://${stageVariables.missing}/", Err("missing"));
        // Names are case-sensitive.
        check("${stageVariables.Host}", Err("Host"));
        check("${stageVariables.}", Err(""));
        // Not a placeholder: no closing brace, or another prefix.
        check(
            "http://a/${stageVariables.host",
            Ok("http://a/${stageVariables.host"),
        );
        check(
            "$stageVariables.host ${stage.host}",
            Ok("$stageVariables.host ${stage.host}"),
        );
    }

    #[test]
    fn stage_variable_values_are_not_searched_again() {
        let vars = variables(&[("a", "${stageVariables.b}"), ("b", "x")]);
        assert_eq!(
            substitute_stage_variables("${stageVariables.a}", &vars).map(Cow::into_owned),
            Ok("${stageVariables.b}".to_owned())
        );
    }

    #[test]
    fn path_params() {
        let params = [("id", "a%2Fb"), ("proxy", "x/y%20z"), ("pathVar", "7")];
        let check = |uri: &str, expect: &str| {
            assert_eq!(substitute_path_params(uri, &params), expect, "uri: {uri}");
        };
        check("http://h/pets/{id}", "http://h/pets/a%2Fb");
        check("http://h/{proxy}", "http://h/x/y%20z");
        check("http://h/{proxy+}", "http://h/x/y%20z");
        check(
            "http://h/{id}/{id}?testVar={pathVar}",
            "http://h/a%2Fb/a%2Fb?testVar=7",
        );
        // Unknown names, stage-variable syntax and unbalanced braces stay as written.
        check("http://h/{other}", "http://h/{other}");
        check("http://${id}/{id}", "http://${id}/a%2Fb");
        check("http://h/{id", "http://h/{id");
        check("http://h/{{id}", "http://h/{{id}");
        check("http://h/}{id}", "http://h/}a%2Fb");
        check("{id}{proxy+}", "a%2Fbx/y%20z");
        check("x{id}}y{", "xa%2Fb}y{");
        check("{}{+}", "{}{+}");
        check("$${id}{id}$", "$${id}a%2Fb$");
    }

    #[test]
    fn templates_fill_in_as_substitution_does() {
        let template = PathTemplate::parse("/pets/{id}/{proxy+}?x={missing}");
        assert_eq!(template.as_str(), "/pets/{id}/{proxy+}?x={missing}");
        let mut out = String::new();
        template.write(&mut out, |name| match name {
            "id" => Some("7"),
            "proxy" => Some("a/b"),
            _ => None,
        });
        assert_eq!(out, "/pets/7/a/b?x={missing}");
        let mut out = String::new();
        PathTemplate::parse("").write(&mut out, |_| Some("x"));
        assert_eq!(out, "");
    }

    #[test]
    fn path_params_accept_owned_pairs() {
        let params = vec![("id".to_owned(), "5".to_owned())];
        assert_eq!(substitute_path_params("/{id}", &params), "/5");
    }
}
