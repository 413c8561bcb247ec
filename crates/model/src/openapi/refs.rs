//! Local `$ref` resolution (`#/components/...`, `#/definitions/...`), with cycle detection and a
//! bound on how many references one value may go through.

use serde_json::Value;

use super::loc::Loc;

/// How many references in a row one value may go through before the chain counts as too long.
const MAX_HOPS: usize = 32;

/// Follows `value` while it is a reference (`{"$ref": "#/..."}`) and returns the value it ends
/// at with that value's location. Members beside `$ref` are ignored, as OpenAPI 3.0 says.
///
/// The error names where the chain started and what went wrong: an external reference, a
/// reference to nothing, or a cycle (with the references that form it).
pub(crate) fn resolve<'d>(
    doc: &'d Value,
    value: &'d Value,
    loc: &Loc,
) -> Result<(&'d Value, Loc), String> {
    let mut current = value;
    let mut current_loc = loc.clone();
    let mut seen: Vec<String> = Vec::new();
    while let Some(reference) = reference_of(current) {
        let Some(reference) = reference.as_str() else {
            return Err(format!(
                "Invalid $ref at {current_loc}: a reference must be a string such as '#/components/schemas/Pet'"
            ));
        };
        if seen.iter().any(|s| s == reference) {
            seen.push(reference.to_owned());
            return Err(format!(
                "$ref cycle at {loc}: {} never reaches a value",
                seen.join(" -> ")
            ));
        }
        if seen.len() >= MAX_HOPS {
            return Err(format!(
                "$ref chain at {loc} is longer than {MAX_HOPS} references"
            ));
        }
        seen.push(reference.to_owned());
        let Some(fragment) = reference.strip_prefix('#') else {
            return Err(format!(
                "Unsupported $ref '{reference}' at {current_loc}: only references inside the document ('#/...') are supported"
            ));
        };
        let pointer = percent_decode(fragment);
        let target = if pointer.is_empty() {
            Some(doc)
        } else if pointer.starts_with('/') {
            doc.pointer(&pointer)
        } else {
            None
        };
        let Some(target) = target else {
            return Err(format!(
                "Invalid $ref '{reference}' at {current_loc}: the document has nothing at that location"
            ));
        };
        current = target;
        current_loc = Loc::from_pointer(&pointer);
    }
    Ok((current, current_loc))
}

/// The `$ref` member of an object, if it has one.
fn reference_of(value: &Value) -> Option<&Value> {
    value.as_object().and_then(|map| map.get("$ref"))
}

/// Decodes `%XX` escapes of a URI fragment (`#/paths/~1pets~1%7Bid%7D`). Invalid escapes stay
/// as they are.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
