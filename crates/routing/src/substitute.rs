//! Placeholder substitution in integration URIs (and the other fields that allow it):
//! `${stageVariables.NAME}` from the stage, `{name}` / `{name+}` from the request path.
//!
//! Stage variables go first, then path parameters. A stage variable's value may not contain
//! braces (AWS restricts values to `[A-Za-z0-9-._~:/?#&=,]`), so the first pass cannot create
//! a path placeholder, and the second pass skips `${...}`, so it never touches what the first
//! one left.

use std::borrow::Cow;
use std::collections::BTreeMap;

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
    let mut rest = uri;
    while let Some(open) = rest.find('{') {
        let (before, from_brace) = rest.split_at(open);
        out.push_str(before);
        let Some(close) = from_brace.find('}') else {
            // An unclosed brace: the rest of the URI is literal text.
            rest = from_brace;
            break;
        };
        let placeholder = &from_brace[..=close];
        let inner = &placeholder[1..placeholder.len() - 1];
        let name = inner.strip_suffix('+').unwrap_or(inner);
        let value = if before.ends_with('$') || name.contains('{') {
            None
        } else {
            params
                .iter()
                .find(|(param, _)| param.as_ref() == name)
                .map(|(_, value)| value.as_ref())
        };
        match value {
            Some(value) => out.push_str(value),
            None => out.push_str(placeholder),
        }
        rest = &from_brace[close + 1..];
    }
    out.push_str(rest);
    Cow::Owned(out)
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
    }

    #[test]
    fn path_params_accept_owned_pairs() {
        let params = vec![("id".to_owned(), "5".to_owned())];
        assert_eq!(substitute_path_params("/{id}", &params), "/5");
    }
}
