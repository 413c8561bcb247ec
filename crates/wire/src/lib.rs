//! The AWS wire shapes of the apigateway rest-json protocol.
//!
//! `input` holds the JSON bodies that operations accept (strict: an unknown field is an
//! error that names it), `output` the JSON bodies they return (camelCase, absent fields
//! omitted, lists under `item`), and [`decode`] turns a body into an input or the
//! `SerializationException` AWS answers with.
//!
//! [`elbv2`] holds the other protocol served: the Elastic Load Balancing v2 query protocol,
//! with form-encoded parameters and XML answers.

pub mod api_key_file;
pub mod elbv2;
pub mod input;
pub mod output;

use causeway_model::ApiError;
use serde::de::DeserializeOwned;

/// Decodes a JSON request body. An empty body counts as `{}`, as botocore sends no body
/// when an input has no members set.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|error| {
        let what = match error.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                "The request body is not valid JSON"
            }
            _ => "The request body does not match the operation's input",
        };
        ApiError::Serialization(format!("{what}: {error}"))
    })
}

/// The JSON body of an error: `{"message": "..."}`.
pub fn error_body(error: &ApiError) -> Vec<u8> {
    serde_json::to_vec(&output::ErrorBody {
        message: error.message(),
    })
    .unwrap_or_else(|_| b"{}".to_vec())
}

#[cfg(test)]
mod tests;
