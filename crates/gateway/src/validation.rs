//! Request validation: the checks of a method's request validator, compiled once per
//! deployment and run on each request after API keys and throttles, before the integration.

use causeway_model::schemas::{self, ParameterIn, RequestValidation};
use causeway_routing::{CompiledApi, RouteMatch};

use crate::errors::Failure;
use crate::request::Headers;
use crate::snapshot::MethodTable;

/// The validation of every method of a deployment that has some.
pub type Validations = MethodTable<RequestValidation>;

/// Compiles the request validators and models of `routes`' deployment. A stored model that no
/// longer compiles leaves its methods' bodies unchecked, with an error in the log.
pub fn compile(api_id: &str, routes: &CompiledApi) -> Validations {
    let snapshot = routes.snapshot();
    if snapshot.request_validators.is_empty() {
        return Validations::default();
    }
    let wanted = schemas::models_in_use(
        snapshot
            .resources
            .iter()
            .flat_map(|r| r.resource.methods.values()),
        &snapshot.request_validators,
    );
    let (models, failed) = schemas::compile_models(api_id, &snapshot.models, &wanted);
    for (model, error) in failed {
        tracing::error!(api = %api_id, %model, %error, "model does not compile; bodies it describes are not validated");
    }
    MethodTable::compile(routes, |_, _, method| {
        RequestValidation::compile(method, &snapshot.request_validators, &models)
    })
}

/// BAD_REQUEST_PARAMETERS unless every required parameter is there and not blank.
pub fn check_parameters(
    validation: &RequestValidation,
    matched: &RouteMatch<'_>,
    headers: &Headers,
    query: Option<&str>,
) -> Result<(), Failure> {
    if validation.parameters.is_empty() {
        return Ok(());
    }
    let missing = validation.missing(|location, name| match location {
        // Any bytes count, not only visible ASCII: a value is there unless it is blank.
        ParameterIn::Header => headers
            .get(name)
            .is_some_and(|v| !v.iter().all(u8::is_ascii_whitespace)),
        ParameterIn::Path => matched
            .path_params
            .iter()
            .any(|p| p.name == name && !p.value.is_empty()),
        ParameterIn::QueryString => query.is_some_and(|q| has_query_value(q, name)),
    });
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Failure::missing_parameters(&missing))
    }
}

/// Whether the query string has `name` with a value that is not blank.
fn has_query_value(query: &str, name: &str) -> bool {
    query.split('&').any(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |text: &str| {
            percent_encoding::percent_decode_str(&text.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        decode(key) == name && !decode(value).trim().is_empty()
    })
}

/// BAD_REQUEST_BODY unless the body matches the model of its content type (a content type
/// without a model is not checked).
pub fn check_body(
    validation: &RequestValidation,
    headers: &Headers,
    body: &[u8],
) -> Result<(), Failure> {
    let content_type = headers.get_str("content-type");
    let Some(schema) = validation.body_schema(content_type) else {
        return Ok(());
    };
    schema.check(body).map_err(|detail| {
        Failure::invalid_body(
            schema.model(),
            content_type.unwrap_or("application/json"),
            detail,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_must_be_there_and_not_blank() {
        assert!(has_query_value("a=1&b=2", "b"));
        assert!(has_query_value("x%20y=1", "x y"));
        assert!(has_query_value("q=a+b", "q"));
        assert!(!has_query_value("a=1", "b"));
        assert!(!has_query_value("b=", "b"));
        assert!(!has_query_value("b", "b"));
        assert!(!has_query_value("b=+", "b"));
        assert!(has_query_value("b=&b=2", "b"));
    }
}
