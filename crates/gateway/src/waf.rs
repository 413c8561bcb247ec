//! AWS WAF at the gateway: a stage's web ACL (compiled by `causeway_model::waf`) looks at
//! every request before anything else of the stage does, and the counts its rate-based rules
//! keep.
//!
//! With several nodes, each node counts its own requests and exchanges them with the others
//! about once a second through a shared store ([`Gateway::waf_rates_to_share`] and
//! [`Gateway::waf_rates_shared`]): a key's count is then every node's requests in the window
//! as of the last exchange, plus this node's since. AWS WAF too acts on a rate some seconds
//! after it is reached.
//!
//! [`Gateway::waf_rates_to_share`]: crate::Gateway::waf_rates_to_share
//! [`Gateway::waf_rates_shared`]: crate::Gateway::waf_rates_shared

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

/// Counted keys past which stale ones are swept out (at most once a bucket).
const SWEEP_AT: usize = 100_000;

/// The most keys counted at once: past it, new keys are not counted (and so never over a
/// limit) until old ones leave their windows. Clients choose keys (addresses, headers), so
/// the counts must not grow without bound.
const MAX_KEYS: usize = 400_000;

/// How long all nodes' count of a key, as last exchanged, stands in for this node's own
/// (seconds): past it (the shared store gone quiet), the node counts alone again.
const SHARED_FRESH_SECONDS: u64 = 10;

/// The counts of rate-based rules, by web ACL, rule and aggregate key. They live with the
/// gateway, not a snapshot, so that a new plan does not reset them.
#[derive(Debug, Default)]
pub(crate) struct RateCounts {
    /// Web ACL ARN → rule → key: looked up by `&str` level by level, so that a request
    /// allocates only the first time its key is seen.
    counts: Mutex<HashMap<String, RuleCounts>>,
    /// How many keys are counted, to know when to sweep.
    keys: std::sync::atomic::AtomicUsize,
    /// When the last sweep ran (seconds).
    last_sweep: std::sync::atomic::AtomicU64,
    /// When a full table was last reported (seconds), to report it once a minute at most.
    last_full_warning: std::sync::atomic::AtomicU64,
}

/// A web ACL's counts: rule → aggregate key → window.
type RuleCounts = HashMap<String, HashMap<String, Window>>;

#[derive(Debug, Default)]
struct Window {
    /// `(bucket start, requests)`, oldest first.
    buckets: Vec<(u64, u64)>,
    /// The rule's evaluation window (seconds), as of the last request.
    window_seconds: u64,
    /// This node's requests not yet handed to an exchange.
    unshared: u64,
    /// This node's requests in an exchange still under way.
    in_exchange: u64,
    /// Every node's requests in the window at the last exchange, and when (seconds).
    shared: Option<(u64, u64)>,
}

impl Window {
    /// Whether the key had requests in its window before `now`.
    fn active(&self, now: u64) -> bool {
        self.buckets
            .last()
            .is_some_and(|(start, _)| start + self.window_seconds + BUCKET_SECONDS > now)
    }
}

/// One rate-based rule's key as the nodes exchange it: this node's requests since the last
/// exchange go out, every node's count in the window comes back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedRate {
    /// The web ACL's ARN.
    pub acl: String,
    /// The rule's name (`{group}/{rule}` for a rule group's).
    pub rule: String,
    /// The aggregate key (a client address, or empty for CONSTANT).
    pub key: String,
    /// The rule's evaluation window, in seconds.
    pub window_seconds: u64,
    /// This node's requests since the last exchange.
    pub added: u64,
}

impl RateCounts {
    /// Counts a request for `probe` at `now` (seconds) and says whether its key went over the
    /// rule's limit within the window.
    fn over(&self, acl: &str, probe: &RateProbe<'_>, now: u64) -> bool {
        use std::sync::atomic::Ordering;
        let Ok(mut counts) = self.counts.lock() else {
            return false;
        };
        if self.keys.load(Ordering::Relaxed) >= SWEEP_AT
            && now >= self.last_sweep.load(Ordering::Relaxed) + BUCKET_SECONDS
        {
            self.last_sweep.store(now, Ordering::Relaxed);
            let mut kept = 0;
            for rules in counts.values_mut() {
                for keys in rules.values_mut() {
                    // Requests older than the window count nowhere, here or on other nodes.
                    keys.retain(|_, w| w.active(now));
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
            if self.keys.load(Ordering::Relaxed) >= MAX_KEYS {
                let warned = self.last_full_warning.load(Ordering::Relaxed);
                if warned == 0 || now >= warned + 60 {
                    self.last_full_warning.store(now.max(1), Ordering::Relaxed);
                    tracing::warn!(
                        keys = MAX_KEYS,
                        "WAF rate-based rules count as many keys as they can; new keys are not counted until old ones leave their windows"
                    );
                }
                return false;
            }
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
        window.window_seconds = probe.window_seconds;
        window.unshared += 1;
        let here = window.buckets.iter().map(|(_, n)| n).sum::<u64>();
        let count = match window.shared {
            Some((all, at)) if now < at + SHARED_FRESH_SECONDS => {
                here.max(all + window.in_exchange + window.unshared)
            }
            _ => here,
        };
        count > probe.limit
    }

    /// The keys to exchange: every key counted in its window, with this node's requests
    /// since the last exchange (which are then under way until [`RateCounts::shared`]).
    pub(crate) fn to_share(&self, now: u64) -> Vec<SharedRate> {
        let Ok(mut counts) = self.counts.lock() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (acl, rules) in counts.iter_mut() {
            for (rule, keys) in rules.iter_mut() {
                for (key, window) in keys.iter_mut() {
                    if !window.active(now) && window.unshared == 0 {
                        continue;
                    }
                    window.in_exchange += window.unshared;
                    out.push(SharedRate {
                        acl: acl.clone(),
                        rule: rule.clone(),
                        key: key.clone(),
                        window_seconds: window.window_seconds,
                        added: std::mem::take(&mut window.unshared),
                    });
                }
            }
        }
        out
    }

    /// The end of an exchange: every node's counts of the keys sent (`Some`, in their
    /// order), or `None` when it failed, in which case their requests go out again next
    /// time.
    pub(crate) fn shared(&self, sent: &[SharedRate], totals: Option<&[u64]>, now: u64) {
        let Ok(mut counts) = self.counts.lock() else {
            return;
        };
        for (i, rate) in sent.iter().enumerate() {
            let Some(window) = counts
                .get_mut(&rate.acl)
                .and_then(|rules| rules.get_mut(&rate.rule))
                .and_then(|keys| keys.get_mut(&rate.key))
            else {
                continue;
            };
            window.in_exchange = window.in_exchange.saturating_sub(rate.added);
            match totals.and_then(|totals| totals.get(i)) {
                Some(&all) => window.shared = Some((all, now)),
                None => window.unshared += rate.added,
            }
        }
    }
}

/// What the web ACL made of a request.
pub(crate) enum Screened<'a> {
    /// Let on, with the headers to insert into it (`CustomRequestHandling`).
    Pass(Vec<&'a (String, String)>),
    /// Blocked with a custom response (boxed: the common case is a pass).
    Answer(Box<Response<Body>>),
}

/// Runs the stage's web ACL on the request: `Ok(Pass)` lets it on, `Ok(Answer)` is a
/// block with a custom response, `Err` the WAF_FILTERED gateway response.
pub(crate) fn screen<'a>(
    acl: &'a CompiledAcl,
    counts: &RateCounts,
    (request, path, query, body): (&Incoming, &str, Option<&str>, Option<&[u8]>),
    client: std::net::IpAddr,
    now: u64,
) -> Result<Screened<'a>, Failure> {
    let view = causeway_model::waf::Request {
        client_ip: client,
        method: request.method.as_str(),
        path,
        query: query.unwrap_or_default(),
        headers: request.headers.named(),
        body,
        json: Default::default(),
    };
    let verdict = acl.evaluate(&view, &mut |probe| counts.over(&acl.arn, &probe, now));
    let (block, rule) = match verdict {
        Verdict::Allow(inserted) => return Ok(Screened::Pass(inserted)),
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
    Ok(Screened::Answer(Box::new(response)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(limit: u64) -> RateProbe<'static> {
        RateProbe {
            rule: "flood",
            key: "192.0.2.1".to_owned(),
            limit,
            window_seconds: 60,
        }
    }

    const ACL: &str = "arn:aws:wafv2:us-east-1:000000000000:regional/webacl/a/1";

    /// Counts `n` requests at `now`; the answer of the last.
    fn count(counts: &RateCounts, n: u64, limit: u64, now: u64) -> bool {
        (0..n).fold(false, |_, _| counts.over(ACL, &probe(limit), now))
    }

    #[test]
    fn a_node_alone_counts_its_own_requests_in_the_window() {
        let counts = RateCounts::default();
        assert!(!count(&counts, 10, 10, 1_000));
        assert!(count(&counts, 1, 10, 1_005));
        // Past the window, the first requests no longer count.
        assert!(!count(&counts, 1, 10, 1_075));
    }

    #[test]
    fn exchanged_counts_add_the_other_nodes_requests() {
        let counts = RateCounts::default();
        assert!(!count(&counts, 4, 10, 1_000));
        let sent = counts.to_share(1_001);
        assert_eq!(sent.len(), 1);
        assert_eq!(
            (sent[0].rule.as_str(), sent[0].key.as_str(), sent[0].added),
            ("flood", "192.0.2.1", 4)
        );
        assert_eq!(sent[0].window_seconds, 60);
        // Requests while the exchange is under way count as well.
        assert!(!count(&counts, 1, 10, 1_001));
        // Every node together: this node's 4 and another's 5.
        counts.shared(&sent, Some(&[9]), 1_001);
        // 9 + the one since: the 11th request is over.
        assert!(count(&counts, 1, 10, 1_002));
        // What went out once is not sent again; what came since is.
        let sent = counts.to_share(1_002);
        assert_eq!(sent[0].added, 2);
        counts.shared(&sent, Some(&[11]), 1_002);
        // A key with nothing new is still exchanged while active, to learn the others'.
        let sent = counts.to_share(1_003);
        assert_eq!((sent.len(), sent[0].added), (1, 0));
        counts.shared(&sent, Some(&[3]), 1_003);
        // The others' count fell (their requests left the window): only what is known counts,
        // never less than this node's own.
        assert!(!count(&counts, 1, 10, 1_004));
        assert!(count(&counts, 1, 6, 1_004));
    }

    #[test]
    fn a_failed_exchange_sends_the_requests_again_and_stale_totals_are_dropped() {
        let counts = RateCounts::default();
        count(&counts, 3, 10, 1_000);
        let sent = counts.to_share(1_000);
        counts.shared(&sent, None, 1_000);
        let again = counts.to_share(1_001);
        assert_eq!(again[0].added, 3);
        counts.shared(&again, Some(&[50]), 1_001);
        assert!(count(&counts, 1, 10, 1_002));
        // No exchange for longer than SHARED_FRESH_SECONDS: the node counts alone (5 of its own).
        assert!(!count(&counts, 1, 10, 1_001 + SHARED_FRESH_SECONDS));
    }

    #[test]
    fn keys_quiet_for_a_window_are_not_exchanged() {
        let counts = RateCounts::default();
        count(&counts, 1, 10, 1_000);
        let sent = counts.to_share(1_000);
        counts.shared(&sent, Some(&[1]), 1_000);
        assert_eq!(counts.to_share(1_000 + 60 + BUCKET_SECONDS).len(), 0);
    }

    #[test]
    fn the_counts_stay_bounded_whatever_keys_clients_send() {
        let counts = RateCounts::default();
        let probe = |key: usize| RateProbe {
            rule: "flood",
            key: key.to_string(),
            limit: 0,
            window_seconds: 60,
        };
        // Limit 0: every counted request is over it; one not counted is not.
        for key in 0..MAX_KEYS {
            assert!(counts.over(ACL, &probe(key), 1_000));
        }
        assert!(!counts.over(ACL, &probe(MAX_KEYS), 1_000));
        // Keys already counted still are.
        assert!(counts.over(ACL, &probe(7), 1_001));
        // Once the old keys leave their window, a sweep makes room.
        assert!(counts.over(ACL, &probe(MAX_KEYS), 1_000 + 60 + BUCKET_SECONDS));
        assert_eq!(counts.keys.load(std::sync::atomic::Ordering::Relaxed), 1);
    }
}
