//! What an operation works with: the state, the clock, the id generator, and the list of
//! changes to persist when it succeeds.

use causeway_model::{ApiError, patch};
use causeway_store::Change;
use percent_encoding::percent_decode_str;
use rand::Rng;
use rand::rngs::StdRng;
use serde::Serialize;

use crate::state::State;
use crate::{ControlConfig, Reply};

/// The context of one operation.
#[derive(Debug)]
pub struct Ctx<'a> {
    pub state: &'a mut State,
    rng: &'a mut StdRng,
    pub config: &'a ControlConfig,
    /// Epoch seconds at the start of the request.
    pub now: i64,
    /// The live view of the load balancing engine, when one runs.
    pub data_plane: Option<&'a dyn crate::dataplane::DataPlane>,
    /// Remote load balancers whose NLB node's tunnel another process sharing the store holds
    /// (only the VPC-link reconciler reads it).
    pub tunnels_elsewhere: std::collections::BTreeSet<String>,
    /// The truststore a first run of this request asked for, read.
    pub fetched: Option<&'a crate::Fetched>,
    changes: Vec<Change>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        state: &'a mut State,
        rng: &'a mut StdRng,
        config: &'a ControlConfig,
        now: i64,
    ) -> Ctx<'a> {
        Ctx {
            state,
            rng,
            config,
            now,
            data_plane: None,
            tunnels_elsewhere: std::collections::BTreeSet::new(),
            fetched: None,
            changes: Vec::new(),
        }
    }

    /// Forgets the changes recorded so far (for protocols whose errors are replies).
    pub fn discard_changes(&mut self) {
        self.changes.clear();
    }

    pub fn into_changes(self) -> Vec<Change> {
        self.changes
    }

    /// Records that `value` is stored under `(kind, key)`.
    pub fn put<T: Serialize>(
        &mut self,
        kind: &str,
        key: String,
        value: &T,
    ) -> Result<(), ApiError> {
        let body = serde_json::to_string(value)
            .map_err(|e| ApiError::Internal(format!("could not encode {kind} {key}: {e}")))?;
        self.changes.push(Change::Put {
            kind: kind.to_owned(),
            key,
            body,
        });
        Ok(())
    }

    /// Records the deletion of `(kind, key)`.
    pub fn delete(&mut self, kind: &str, key: String) {
        self.changes.push(Change::Delete {
            kind: kind.to_owned(),
            key,
        });
    }

    /// Records the deletion of every record of `kind` whose key starts with `prefix`.
    pub fn delete_prefix(&mut self, kind: &str, prefix: String) {
        self.changes.push(Change::DeletePrefix {
            kind: kind.to_owned(),
            prefix,
        });
    }

    /// A fresh id of `len` lowercase letters and digits, as AWS's ids look, that `taken`
    /// does not know.
    pub fn new_id(&mut self, len: usize, taken: impl Fn(&str) -> bool) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        loop {
            let id: String = (0..len)
                .map(|_| char::from(ALPHABET[self.rng.random_range(0..ALPHABET.len())]))
                .collect();
            if !taken(&id) {
                return id;
            }
        }
    }

    /// Random bytes from the context's generator (seeded in tests and fuzzing).
    pub fn random_bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut bytes = [0u8; N];
        self.rng.fill(&mut bytes);
        bytes
    }

    /// A fresh id of `len` lowercase hexadecimal digits, as Elastic Load Balancing ARNs end
    /// with, that `taken` does not know.
    pub fn new_hex_id(&mut self, len: usize, taken: impl Fn(&str) -> bool) -> String {
        const ALPHABET: &[u8] = b"0123456789abcdef";
        loop {
            let id: String = (0..len)
                .map(|_| char::from(ALPHABET[self.rng.random_range(0..ALPHABET.len())]))
                .collect();
            if !taken(&id) {
                return id;
            }
        }
    }

    /// A fresh secret of `len` letters (both cases) and digits, as AWS generates API key
    /// values, that `taken` does not know.
    pub fn new_secret(&mut self, len: usize, taken: impl Fn(&str) -> bool) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        loop {
            let secret: String = (0..len)
                .map(|_| char::from(ALPHABET[self.rng.random_range(0..ALPHABET.len())]))
                .collect();
            if !taken(&secret) {
                return secret;
            }
        }
    }

    /// The next creation sequence number.
    pub fn next_seq(&mut self) -> u64 {
        let seq = self.state.next_seq;
        self.state.next_seq += 1;
        seq
    }
}

/// The decoded query string of a request.
#[derive(Debug, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Parses `a=1&b=x%20y`; `+` stands for a space as in HTML forms.
    pub fn parse(raw: &str) -> Query {
        let decode = |s: &str| {
            let s = s.replace('+', " ");
            percent_decode_str(&s).decode_utf8_lossy().into_owned()
        };
        Query(
            raw.split('&')
                .filter(|pair| !pair.is_empty())
                .map(|pair| match pair.split_once('=') {
                    Some((k, v)) => (decode(k), decode(v)),
                    None => (decode(pair), String::new()),
                })
                .collect(),
        )
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, also splitting comma-separated lists.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Whether `embed` asks for `what` (`methods`, `apisummary`).
    pub fn embeds(&self, what: &str) -> bool {
        self.all("embed").iter().any(|e| e == what)
    }

    /// The `limit` of a list operation: 25 by default, at most 500.
    pub fn limit(&self) -> Result<usize, ApiError> {
        match self.get("limit") {
            None => Ok(25),
            Some(text) => match text.parse::<i64>() {
                Ok(n) if (1..=500).contains(&n) => Ok(n as usize),
                _ => Err(ApiError::bad_request(format!(
                    "Invalid limit '{text}': the limit must be a number between 1 and 500"
                ))),
            },
        }
    }
}

/// One page of `items` (already in listing order, each with its sort key). The position
/// token is the key of the first item of the next page, so pages stay correct while items are
/// added or removed between calls.
pub fn paginate<T>(
    items: Vec<(String, T)>,
    query: &Query,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    Ok(page_from(items, query.get("position"), query.limit()?))
}

/// One page of `items` (in listing order, each with its sort key): at most `size` of them
/// from the first whose key is `from` or after, and the key of the next page's first item.
/// Every paginated listing shares it, whatever its parameters are called.
pub fn page_from<T>(
    items: Vec<(String, T)>,
    from: Option<&str>,
    size: usize,
) -> (Vec<T>, Option<String>) {
    let start = match from {
        Some(from) if !from.is_empty() => items
            .iter()
            .position(|(key, _)| key.as_str() >= from)
            .unwrap_or(items.len()),
        _ => 0,
    };
    let mut rest = items.into_iter().skip(start);
    let page: Vec<T> = rest.by_ref().take(size).map(|(_, item)| item).collect();
    let next = rest.next().map(|(key, _)| key);
    (page, next)
}

/// One page of an apigatewayv2 listing: `maxResults` (1 to `max`, all by default) items
/// from the one `nextToken` names, and the next page's token.
pub fn page_v2<T>(
    items: Vec<(String, T)>,
    query: &Query,
    max: usize,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let size = match query.get("maxResults") {
        None => items.len().max(1),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => n,
            _ if max == usize::MAX => {
                return Err(ApiError::bad_request(format!(
                    "Invalid maxResults '{text}': it must be a whole number, 1 or more"
                )));
            }
            _ => {
                return Err(ApiError::bad_request(format!(
                    "Invalid maxResults '{text}': it must be a whole number from 1 to {max}"
                )));
            }
        },
    };
    Ok(page_from(items, query.get("nextToken"), size))
}

/// A JSON reply.
pub fn json<T: Serialize>(status: u16, value: &T) -> Result<Reply, ApiError> {
    let body = serde_json::to_vec(value)
        .map_err(|e| ApiError::Internal(format!("could not encode the reply: {e}")))?;
    Ok(Reply {
        status,
        body,
        error_code: None,
        content_type: "application/json",
        headers: Vec::new(),
        deferred: None,
    })
}

/// A reply without a body (202 for most deletes, 204 for method-level ones).
pub fn empty(status: u16) -> Result<Reply, ApiError> {
    Ok(Reply {
        status,
        body: Vec::new(),
        error_code: None,
        content_type: "application/json",
        headers: Vec::new(),
        deferred: None,
    })
}

/// Decodes an Update* body into checked patch operations.
pub fn patch_operations(body: &[u8], input: &str) -> Result<Vec<patch::PatchOperation>, ApiError> {
    let patch: causeway_wire::input::Patch = causeway_wire::decode(body)?;
    patch::parse_operations(patch.into_raw(), input)
}

/// Parses an enum-valued input field, answering a bad value with AWS's ValidationException.
pub fn enum_field<T>(
    value: &str,
    field: &str,
    parse: fn(&str) -> Option<T>,
    options: String,
) -> Result<T, ApiError> {
    parse(value).ok_or_else(|| {
        ApiError::Validation(format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must satisfy enum value set: [{options}]"
        ))
    })
}

/// The ValidationException for a missing required member.
pub fn required(field: &str) -> ApiError {
    ApiError::Validation(format!(
        "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
    ))
}

/// Checks a tag map: at most 50 tags, keys of 1–128 and values of at most 256 characters,
/// and no `aws:` keys.
pub fn check_tags(tags: &std::collections::BTreeMap<String, String>) -> Result<(), ApiError> {
    if tags.len() > 50 {
        return Err(ApiError::bad_request(format!(
            "Too many tags: {} given, at most 50 are allowed",
            tags.len()
        )));
    }
    for (key, value) in tags {
        if key.is_empty() || key.chars().count() > 128 {
            return Err(ApiError::bad_request(format!(
                "Invalid tag key '{key}': tag keys must have 1 to 128 characters"
            )));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(ApiError::bad_request(format!(
                "Invalid tag key '{key}': the prefix 'aws:' is reserved"
            )));
        }
        if value.chars().count() > 256 {
            return Err(ApiError::bad_request(format!(
                "Invalid value for tag '{key}': tag values can have at most 256 characters"
            )));
        }
    }
    Ok(())
}
