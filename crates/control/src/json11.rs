//! What the JSON 1.1 services of the management endpoint (WAF, ACM) share: the request body
//! as a JSON object, and replies in `application/x-amz-json-1.1`.

use serde_json::{Map, Value};

use crate::Reply;

pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// The request body as a JSON object (an empty body is `{}`); `None` when it is not one.
pub fn object_body(body: &[u8]) -> Option<Value> {
    if body.is_empty() {
        return Some(Value::Object(Map::new()));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(value @ Value::Object(_)) => Some(value),
        _ => None,
    }
}

/// A reply with `body`; errors name their type in `error_code` (`x-amzn-ErrorType`).
pub fn reply(status: u16, body: &Value, error_code: Option<&'static str>) -> Reply {
    Reply {
        status,
        body: body.to_string().into_bytes(),
        error_code,
        content_type: CONTENT_TYPE,
        headers: Vec::new(),
        deferred: None,
    }
}
