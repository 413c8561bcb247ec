//! AWS WAF at the gateway: a stage's web ACL (compiled by `causeway_model::waf`) looks at
//! every request before anything else of the stage does, and the counts its rate-based rules
//! keep.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use causeway_model::waf::{CompiledAcl, RateProbe, Verdict};
use http::{HeaderName, HeaderValue, Response};
use http_body_util::{Either, Full};

use crate::errors::{Failure, Kind};
use crate::pipeline::Body;
use crate::request::Incoming;

/// How finely a rate window is counted: requests are kept in 10-second buckets, as AWS
/// checks rates about every 10 seconds.
const BUCKET_SECONDS: u64 = 10;

/// Counted keys past which stale ones are swept out.
const SWEEP_AT: usize = 100_000;

/// The counts of rate-based rules, by web ACL, rule and aggregate key. They live with the
/// gateway, not a snapshot, so that a new plan does not reset them.
#[derive(Debug, Default)]
pub(crate) struct RateCounts {
    /// Web ACL ARN → rule → key: looked up by `&str` level by level, so that a request
    /// allocates only the first time its key is seen.
    counts: Mutex<HashMap<String, RuleCounts>>,
    /// How many keys are counted, to know when to sweep.
    keys: std::sync::atomic::AtomicUsize,
}

/// A web ACL's counts: rule → aggregate key → window.
type RuleCounts = HashMap<String, HashMap<String, Window>>;

#[derive(Debug, Default)]
struct Window {
    /// `(bucket start, requests)`, oldest first.
    buckets: Vec<(u64, u64)>,
}

impl RateCounts {
    /// Counts a request for `probe` at `now` (seconds) and says whether its key went over the
    /// rule's limit within the window.
    fn over(&self, acl: &str, probe: &RateProbe<'_>, now: u64) -> bool {
        use std::sync::atomic::Ordering;
        let Ok(mut counts) = self.counts.lock() else {
            return false;
        };
        if self.keys.load(Ordering::Relaxed) >= SWEEP_AT {
            let mut kept = 0;
            for rules in counts.values_mut() {
                for keys in rules.values_mut() {
                    keys.retain(|_, w| {
                        w.buckets
                            .last()
                            .is_some_and(|(start, _)| start + 600 + BUCKET_SECONDS > now)
                    });
                    kept += keys.len();
                }
            }
            self.keys.store(kept, Ordering::Relaxed);
        }
        if !counts.contains_key(acl) {
            counts.insert(acl.to_owned(), HashMap::new());
        }
        let Some(rules) = counts.get_mut(acl) else {
            return false;
        };
        if !rules.contains_key(probe.rule) {
            rules.insert(probe.rule.to_owned(), HashMap::new());
        }
        let Some(keys) = rules.get_mut(probe.rule) else {
            return false;
        };
        if !keys.contains_key(&probe.key) {
            keys.insert(probe.key.clone(), Window::default());
            self.keys.fetch_add(1, Ordering::Relaxed);
        }
        let Some(window) = keys.get_mut(&probe.key) else {
            return false;
        };
        let bucket = now - now % BUCKET_SECONDS;
        let oldest = now.saturating_sub(probe.window_seconds);
        window
            .buckets
            .retain(|(start, _)| start + BUCKET_SECONDS > oldest);
        match window.buckets.last_mut() {
            Some((start, n)) if *start == bucket => *n += 1,
            _ => window.buckets.push((bucket, 1)),
        }
        window.buckets.iter().map(|(_, n)| n).sum::<u64>() > probe.limit
    }
}

/// Runs the stage's web ACL on the request: `Ok(None)` lets it on, `Ok(Some(answer))` is a
/// block with a custom response, `Err` the WAF_FILTERED gateway response.
pub(crate) fn screen(
    acl: &CompiledAcl,
    counts: &RateCounts,
    (request, path, query, body): (&Incoming, &str, Option<&str>, Option<&[u8]>),
    client: std::net::IpAddr,
    now: u64,
) -> Result<Option<Response<Body>>, Failure> {
    let view = causeway_model::waf::Request {
        client_ip: client,
        method: request.method.as_str(),
        path,
        query: query.unwrap_or_default(),
        headers: request.headers.named(),
        body,
    };
    let verdict = acl.evaluate(&view, &mut |probe| counts.over(&acl.arn, &probe, now));
    let (block, rule) = match verdict {
        Verdict::Allow => return Ok(None),
        Verdict::Block(block, rule) => (block, rule),
    };
    let cause = format!(
        "the web ACL {} blocks the request ({})",
        acl.arn,
        rule.map_or_else(|| "its default action".to_owned(), |r| format!("rule {r}"))
    );
    let Some(custom) = &block.custom else {
        return Err(Failure::new(Kind::WafFiltered, "Forbidden").because(cause));
    };
    tracing::debug!(%cause, "request refused");
    let (content_type, content) = match &custom.body {
        Some((content_type, content)) => (Some(content_type.as_str()), content.clone()),
        None => (None, String::new()),
    };
    let mut response = Response::new(Either::Left(Full::new(Bytes::from(content))));
    *response.status_mut() =
        http::StatusCode::from_u16(custom.status).unwrap_or(http::StatusCode::FORBIDDEN);
    let headers = response.headers_mut();
    if let Some(content_type) = content_type.and_then(|c| HeaderValue::from_str(c).ok()) {
        headers.insert(http::header::CONTENT_TYPE, content_type);
    }
    for (name, value) in &custom.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.append(name, value);
        }
    }
    Ok(Some(response))
}
