//! Cognito user pool tokens: the key sets (JWKS) of user pools, fetched and kept, and the
//! checks of a token against them (RS256 signature, issuer, expiry).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::Value;

pub use crate::endpoint::HttpUrl;
use crate::upstream::{CallError, Outgoing, Upstream};

/// How long a fetched key set is used before it is fetched again.
const KEYS_FRESH_FOR: Duration = Duration::from_secs(3600);
/// How soon a key set may be fetched again because a token named a key it lacks (so that
/// tokens with made-up key ids cannot make the gateway fetch on every request).
const REFETCH_AFTER: Duration = Duration::from_secs(30);
/// How long a key set fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The most a key set may weigh.
const MAX_KEYS_BYTES: usize = 256 * 1024;

/// Where a user pool's tokens come from: its issuer (`iss`), and where its keys are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    pub issuer: String,
    pub keys: HttpUrl,
}

impl Pool {
    /// The pool of a user pool ARN: `https://cognito-idp.{region}.amazonaws.com/{poolId}`, or
    /// `{endpoint}/{poolId}` when the gateway is given a Cognito endpoint of its own.
    pub fn of(arn: &str, endpoint: Option<&HttpUrl>) -> Option<Pool> {
        let (region, pool) = causeway_model::authorizer::user_pool(arn)?;
        let base = match endpoint {
            Some(endpoint) => endpoint.clone(),
            None => HttpUrl {
                https: true,
                authority: format!("cognito-idp.{region}.amazonaws.com"),
                path: String::new(),
            },
        };
        let issuer = HttpUrl {
            path: format!("{}/{pool}", base.path),
            ..base
        };
        Some(Pool {
            issuer: issuer.to_text(),
            keys: HttpUrl {
                path: format!("{}/.well-known/jwks.json", issuer.path),
                ..issuer
            },
        })
    }
}

/// The key sets fetched so far, by URL.
#[derive(Debug, Default)]
pub struct KeySets {
    sets: Mutex<HashMap<String, Arc<Fetched>>>,
}

#[derive(Debug)]
struct Fetched {
    at: Instant,
    /// Key id → (modulus, exponent), base64url as the JWKS has them.
    keys: HashMap<String, (String, String)>,
}

/// Why a token does not pass.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The token is bad: 401.
    #[error("{0}")]
    Invalid(String),
    /// The pool's keys cannot be had: a configuration error.
    #[error("{0}")]
    Keys(String),
}

/// A token that passed: its claims.
#[derive(Debug)]
pub struct Verified {
    pub claims: serde_json::Map<String, Value>,
}

impl KeySets {
    /// Checks `token` against the pools an authorizer names: its issuer must be one of
    /// them, its signature one of that pool's keys (RS256), and it must not have expired.
    pub async fn verify(
        &self,
        upstream: &Upstream,
        pools: &[Pool],
        token: &str,
    ) -> Result<Verified, TokenError> {
        let invalid = |why: String| TokenError::Invalid(why);
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| invalid(format!("the token is not a JWT ({e})")))?;
        if header.alg != jsonwebtoken::Algorithm::RS256 {
            return Err(invalid(format!(
                "the token is signed with {:?}, not RS256",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| invalid("the token names no key (kid)".to_owned()))?;
        let issuer = unverified_issuer(token)
            .ok_or_else(|| invalid("the token has no issuer (iss)".to_owned()))?;
        let pool = pools
            .iter()
            .find(|pool| pool.issuer == issuer)
            .ok_or_else(|| {
                invalid(format!(
                    "the token's issuer {issuer} is none of the authorizer's user pools"
                ))
            })?;
        let (n, e) = self.key(upstream, &pool.keys, &kid).await?;
        let key = jsonwebtoken::DecodingKey::from_rsa_components(&n, &e)
            .map_err(|e| TokenError::Keys(format!("key {kid} of {issuer} is unusable: {e}")))?;
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_issuer(&[&pool.issuer]);
        validation.validate_aud = false;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iss"]);
        let data = jsonwebtoken::decode::<serde_json::Map<String, Value>>(token, &key, &validation)
            .map_err(|e| invalid(format!("the token does not pass: {e}")))?;
        Ok(Verified {
            claims: data.claims,
        })
    }

    /// The key `kid` of the set at `url`: from the kept set, else fetched.
    async fn key(
        &self,
        upstream: &Upstream,
        url: &HttpUrl,
        kid: &str,
    ) -> Result<(String, String), TokenError> {
        let text = url.to_text();
        let kept = self
            .sets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&text)
            .cloned();
        if let Some(kept) = &kept
            && kept.at.elapsed() < KEYS_FRESH_FOR
        {
            if let Some(key) = kept.keys.get(kid) {
                return Ok(key.clone());
            }
            if kept.at.elapsed() < REFETCH_AFTER {
                return Err(TokenError::Invalid(format!(
                    "the token names key {kid}, which {text} does not have"
                )));
            }
        }
        let fetched = Arc::new(fetch(upstream, url).await?);
        let key = fetched.keys.get(kid).cloned();
        self.sets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(text.clone(), fetched);
        key.ok_or_else(|| {
            TokenError::Invalid(format!(
                "the token names key {kid}, which {text} does not have"
            ))
        })
    }
}

/// The `iss` of a token, read before its signature is checked (to find the pool's keys).
fn unverified_issuer(token: &str) -> Option<String> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("iss")?.as_str().map(str::to_owned)
}

/// Fetches a key set.
async fn fetch(upstream: &Upstream, url: &HttpUrl) -> Result<Fetched, TokenError> {
    let text = url.to_text();
    let failed = |why: String| TokenError::Keys(format!("fetching {text}: {why}"));
    let mut headers = Vec::with_capacity(64);
    causeway_http1::write_header(&mut headers, "host", url.authority.as_bytes());
    causeway_http1::write_header(&mut headers, "accept", b"application/json");
    let target = if url.path.is_empty() { "/" } else { &url.path };
    let request = Outgoing {
        method: &http::Method::GET,
        https: url.https,
        authority: &url.authority,
        target,
        headers: &headers,
        body: Bytes::new(),
        remap: false,
    };
    let started = tokio::time::Instant::now();
    let mut response = upstream
        .call(
            request,
            FETCH_TIMEOUT,
            crate::upstream::Tls::default(),
            None,
        )
        .await
        .map_err(|error| match error {
            CallError::Timeout => failed("no answer in time".to_owned()),
            CallError::Connect(cause) | CallError::Tls(cause) => failed(cause),
        })?;
    let body = response.body_mut();
    tokio::time::timeout_at(started + FETCH_TIMEOUT, body.buffer(MAX_KEYS_BYTES))
        .await
        .map_err(|_| failed("no whole answer in time".to_owned()))?
        .map_err(|error| failed(format!("{error:?}")))?;
    let bytes = body.take_whole().unwrap_or_default();
    if response.status() != http::StatusCode::OK {
        return Err(failed(format!("answered {}", response.status().as_u16())));
    }
    let set: Value =
        serde_json::from_slice(&bytes).map_err(|e| failed(format!("not JSON: {e}")))?;
    let keys = set
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| failed("no keys".to_owned()))?
        .iter()
        .filter(|key| key.get("kty").and_then(Value::as_str) == Some("RSA"))
        .filter_map(|key| {
            Some((
                key.get("kid")?.as_str()?.to_owned(),
                (
                    key.get("n")?.as_str()?.to_owned(),
                    key.get("e")?.as_str()?.to_owned(),
                ),
            ))
        })
        .collect();
    Ok(Fetched {
        at: Instant::now(),
        keys,
    })
}

/// A claim as API Gateway passes claims on: text; `exp` and `iat` as Java's `Date`
/// prints them (`Wed May 01 13:10:22 UTC 2024`), lists as `[a, b]`.
pub fn claim_text(name: &str, value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) if matches!(name, "exp" | "iat") => {
            n.as_i64().map_or_else(|| n.to_string(), java_date)
        }
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(|v| claim_text("", v)).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(_) => value.to_string(),
    }
}

/// `EEE MMM dd HH:mm:ss zzz yyyy` in UTC (dates before 1970 print as 1970).
fn java_date(unix_seconds: i64) -> String {
    let seconds = u64::try_from(unix_seconds).unwrap_or(0);
    crate::exec_log::aws_date(std::time::UNIX_EPOCH + Duration::from_secs(seconds))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pools_name_their_issuer_and_keys() {
        let arn = "arn:aws:cognito-idp:eu-central-1:123456789012:userpool/eu-central-1_AbC";
        let pool = Pool::of(arn, None).unwrap();
        assert_eq!(
            pool.issuer,
            "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_AbC"
        );
        assert_eq!(
            pool.keys.to_text(),
            "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_AbC/.well-known/jwks.json"
        );
        let local = HttpUrl::parse("http://127.0.0.1:9229/").unwrap();
        let pool = Pool::of(arn, Some(&local)).unwrap();
        assert_eq!(pool.issuer, "http://127.0.0.1:9229/eu-central-1_AbC");
        assert_eq!(
            pool.keys.to_text(),
            "http://127.0.0.1:9229/eu-central-1_AbC/.well-known/jwks.json"
        );
        assert!(Pool::of("arn:aws:lambda:x", None).is_none());
    }

    #[test]
    fn claims_read_as_api_gateway_passes_them() {
        assert_eq!(
            claim_text("exp", &serde_json::json!(1_714_569_022)),
            "Wed May 01 13:10:22 UTC 2024"
        );
        assert_eq!(
            claim_text("auth_time", &serde_json::json!(1_714_565_422)),
            "1714565422"
        );
        assert_eq!(
            claim_text("email_verified", &serde_json::json!(true)),
            "true"
        );
        assert_eq!(
            claim_text("cognito:groups", &serde_json::json!(["admin", "users"])),
            "[admin, users]"
        );
        assert_eq!(java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
    }
}
