//! The stage cache: API Gateway's "API cache" for a stage with `cacheClusterEnabled`.
//!
//! A method is cached when its stage setting says so: its own override
//! (`{resourcePath}/{METHOD}`), else the stage-wide `*/*` setting, which covers GET requests
//! only ("only GET methods have caching enabled by default"); `cacheTtlInSeconds` 0 turns it
//! off. An answer is cached under the deployment, the integration's `cacheNamespace` (the
//! resource id unless set, so that resources can share entries), the request verb and the
//! values of the integration's `cacheKeyParameters`; nothing else of the request counts, so
//! a query string that is not a key parameter gets the same answer, as on AWS.
//!
//! What is kept is the integration's answer as the client gets it (status, headers, a body
//! of at most 1 MiB held whole; a method whose integration streams is never cached, as on
//! AWS), before compression, which
//! each client still gets by its own `Accept-Encoding`. Answers of every status are kept,
//! as AWS keeps them; failures of the gateway's own (a timeout, an unreachable backend) are
//! not answers and are never kept. A client that sends `Cache-Control: max-age=0` skips the
//! entry and refreshes it (with no IAM, every caller may).
//!
//! The memory is bounded by the stage's `cacheClusterSize` (in GB). Entries go by weight
//! and use (`quick_cache`'s CLOCK-Pro), and past their time to live on the next look-up.
//! The cache lives beside the snapshots: a recompiled stage keeps its cache unless its
//! size changed (AWS recreates the cache then, empty), and FlushStageCache empties it.

use std::sync::Arc;

use bytes::Bytes;
use causeway_model::{Integration, Stage};
use causeway_routing::{CompiledApi, RouteMatch};
use http::{HeaderMap, Response, StatusCode};
use http_body_util::{Either, Full};

use crate::pipeline::Body;
use crate::request::{Headers, query_pairs};
use crate::snapshot::MethodTable;

/// The largest answer body kept (AWS: 1048576 bytes).
pub(crate) const MAX_ENTRY_BYTES: usize = 1_048_576;

/// The cache size of a stage that enabled its cache without one (AWS's default, in GB).
const DEFAULT_SIZE_GB: f64 = 0.5;

/// Where a kept answer is read from: the key's bytes.
type Key = Box<[u8]>;

/// One stage's cache.
pub struct StageCache {
    entries: quick_cache::sync::Cache<Key, Arc<Entry>, Weight>,
    /// The most bytes the entries may hold.
    capacity: u64,
}

impl std::fmt::Debug for StageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StageCache")
            .field("capacity", &self.capacity)
            .field("entries", &self.entries.len())
            .finish()
    }
}

/// A kept answer.
#[derive(Debug)]
pub(crate) struct Entry {
    status: StatusCode,
    headers: HeaderMap,
    /// An HTTP_PROXY answer's backend headers, as they came.
    raw: Option<crate::conn::RawHeaders>,
    body: Bytes,
    /// Monotonic nanoseconds after which the entry is stale.
    expires: u64,
}

impl Entry {
    /// The bytes the entry holds, roughly: what its weight in the cache is.
    fn weight(&self, key: &[u8]) -> u64 {
        let headers: usize = self
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 32)
            .sum();
        let raw = self.raw.as_ref().map_or(0, |raw| raw.len());
        (key.len() + headers + raw + self.body.len() + 128) as u64
    }

    /// The answer to send for a hit.
    pub(crate) fn response(&self) -> Response<Body> {
        let body = match &self.raw {
            Some(raw) => Either::Right(crate::pool::PooledBody::kept(
                raw.clone(),
                self.body.clone(),
            )),
            None => Either::Left(Full::new(self.body.clone())),
        };
        let mut response = Response::new(body);
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers.clone();
        response
    }
}

#[derive(Debug, Clone)]
struct Weight;

impl quick_cache::Weighter<Key, Arc<Entry>> for Weight {
    fn weight(&self, key: &Key, entry: &Arc<Entry>) -> u64 {
        entry.weight(key)
    }
}

impl StageCache {
    /// A cache of at most `capacity` bytes.
    pub(crate) fn new(capacity: u64) -> StageCache {
        // quick_cache sizes its tables from an estimate of the entry count; answers of a
        // few kilobytes are typical.
        let estimate = usize::try_from(capacity / 4096)
            .unwrap_or(usize::MAX)
            .clamp(64, 1 << 20);
        // The capacity is split between shards: each must hold several of the largest
        // answers (1 MiB), or a small cache could keep none of them.
        let most_shards = usize::try_from(capacity / (4 * MAX_ENTRY_BYTES as u64))
            .unwrap_or(usize::MAX)
            .max(1);
        let parallelism = std::thread::available_parallelism().map_or(1, |n| n.get());
        let shards = (parallelism * 4).min(most_shards);
        let options = quick_cache::OptionsBuilder::new()
            .estimated_items_capacity(estimate)
            .weight_capacity(capacity)
            .shards(shards)
            .build();
        let entries = match options {
            Ok(options) => quick_cache::sync::Cache::with_options(
                options,
                Weight,
                Default::default(),
                Default::default(),
            ),
            // Not reached: every option above is set.
            Err(_) => quick_cache::sync::Cache::with_weighter(estimate, capacity, Weight),
        };
        StageCache { entries, capacity }
    }

    /// The entry under `key`, unless it is past its time at `now`.
    pub(crate) fn get(&self, key: &[u8], now: u64) -> Option<Arc<Entry>> {
        let entry = self.entries.get(key)?;
        if now >= entry.expires {
            self.entries.remove(key);
            return None;
        }
        Some(entry)
    }

    /// Keeps `response` under `key` until `expires` when it can be kept (see the module's
    /// text), and hands it back as it was.
    pub(crate) fn keep(&self, key: Key, response: Response<Body>, expires: u64) -> Response<Body> {
        let whole = match response.body() {
            Either::Left(full) => crate::compress::full_bytes(full),
            Either::Right(pooled) => pooled.peek_whole(),
        };
        let Some(body) = whole.filter(|body| body.len() <= MAX_ENTRY_BYTES) else {
            return response;
        };
        let raw = match response.body() {
            Either::Right(pooled) => pooled.raw_headers().map(|raw| raw.detached()),
            Either::Left(_) => None,
        };
        let entry = Entry {
            status: response.status(),
            headers: response.headers().clone(),
            raw,
            // In memory of its own, for the same reason as the headers.
            body: Bytes::copy_from_slice(&body),
            expires,
        };
        self.entries.insert(key, Arc::new(entry));
        response
    }

    /// Drops every entry (FlushStageCache).
    pub fn flush(&self) {
        self.entries.clear();
    }

    /// How many entries the cache holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
    }
}

/// A request value that is part of a cache key.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyParam {
    Path(String),
    Query(String),
    Header(String),
}

impl KeyParam {
    /// `method.request.{path|querystring|header}.NAME`, or an `integration.request.*` name
    /// that the integration maps from one.
    fn parse(name: &str, integration: &Integration) -> Option<KeyParam> {
        let source = if name.starts_with("integration.request.") {
            integration.request_parameters.get(name)?.as_str()
        } else {
            name
        };
        let rest = source.strip_prefix("method.request.")?;
        if let Some(name) = rest.strip_prefix("path.") {
            Some(KeyParam::Path(name.to_owned()))
        } else if let Some(name) = rest.strip_prefix("querystring.") {
            Some(KeyParam::Query(name.to_owned()))
        } else {
            rest.strip_prefix("header.")
                .map(|name| KeyParam::Header(name.to_owned()))
        }
    }
}

/// How one method is cached.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Policy {
    /// Time to live in nanoseconds.
    ttl: u64,
    /// From the stage-wide `*/*` setting: GET requests only (an `ANY` method's other verbs
    /// are not cached).
    get_only: bool,
    /// The deployment and namespace part of every key.
    prefix: Vec<u8>,
    params: Vec<KeyParam>,
}

/// The stage cache and how each method of the stage's deployment uses it.
#[derive(Debug)]
pub struct StageCaching {
    pub store: Arc<StageCache>,
    /// Only cached methods.
    policies: MethodTable<Policy>,
    /// The stage's flush count the cache was made or kept under.
    flushes: u64,
}

/// The setting that applies to a method: its override, else the stage-wide one for GET.
struct Setting {
    ttl_seconds: u64,
    get_only: bool,
}

fn setting_for(stage: &Stage, resource_path: &str, method_key: &str) -> Option<Setting> {
    let own = stage.method_settings.iter().find(|(key, _)| {
        let key = causeway_model::patch::unescape_segment(key);
        let key = key.strip_prefix('/').unwrap_or(&key);
        key.strip_suffix(method_key)
            .and_then(|path| path.strip_suffix('/'))
            .is_some_and(|path| path == resource_path.trim_start_matches('/'))
    });
    let (setting, get_only) = match own {
        Some((_, setting)) => (setting, false),
        None => {
            if method_key != "GET" && method_key != "ANY" {
                return None;
            }
            (stage.method_settings.get("*/*")?, true)
        }
    };
    let ttl_seconds = u64::try_from(setting.cache_ttl_in_seconds).unwrap_or(0);
    (setting.caching_enabled && ttl_seconds > 0).then_some(Setting {
        ttl_seconds,
        get_only,
    })
}

/// The bytes of a stage's `cacheClusterSize` (GB).
fn capacity(stage: &Stage) -> u64 {
    let gigabytes = stage
        .cache_cluster_size
        .as_deref()
        .and_then(|size| size.parse::<f64>().ok())
        .filter(|size| size.is_finite() && *size > 0.0)
        .unwrap_or(DEFAULT_SIZE_GB);
    (gigabytes * f64::from(1u32 << 30)) as u64
}

impl StageCaching {
    /// The caching of a stage, `None` when its cache is off. The cache of `previous` (the
    /// stage as it was served until now) is kept unless the size changed.
    pub(crate) fn compile(
        stage: &Stage,
        routes: &CompiledApi,
        previous: Option<&StageCaching>,
    ) -> Option<StageCaching> {
        if !stage.cache_cluster_enabled {
            return None;
        }
        let capacity = capacity(stage);
        // A new flush count is a FlushStageCache made through another node.
        let store = match previous {
            Some(previous)
                if previous.store.capacity == capacity
                    && previous.flushes == stage.cache_flushes =>
            {
                previous.store.clone()
            }
            _ => Arc::new(StageCache::new(capacity)),
        };
        let deployment = &stage.deployment_id;
        let policies = MethodTable::compile(routes, |deployed, key, method| {
            let integration = method.integration.as_ref()?;
            // AWS: "endpoint caching" is not supported with STREAM.
            if integration.response_transfer_mode
                == Some(causeway_model::ResponseTransferMode::Stream)
            {
                return None;
            }
            let setting = setting_for(stage, &deployed.path, key)?;
            let namespace = if integration.cache_namespace.is_empty() {
                &deployed.resource.id
            } else {
                &integration.cache_namespace
            };
            let mut prefix = Vec::new();
            push_part(&mut prefix, deployment.as_bytes());
            push_part(&mut prefix, namespace.as_bytes());
            let params = integration
                .cache_key_parameters
                .iter()
                .filter_map(|name| KeyParam::parse(name, integration))
                .collect();
            Some(Policy {
                ttl: setting.ttl_seconds.saturating_mul(1_000_000_000),
                get_only: setting.get_only,
                prefix,
                params,
            })
        });
        Some(StageCaching {
            store,
            policies,
            flushes: stage.cache_flushes,
        })
    }

    /// The key and time to live of the request's answer, when its method is cached.
    pub(crate) fn key(
        &self,
        matched: &RouteMatch<'_>,
        verb: &str,
        query: Option<&str>,
        headers: &Headers,
    ) -> Option<(Key, u64)> {
        let policy = self.policies.get(matched)?;
        if policy.get_only && verb != "GET" {
            return None;
        }
        let mut key = policy.prefix.clone();
        push_part(&mut key, verb.as_bytes());
        for param in &policy.params {
            match param {
                KeyParam::Path(name) => {
                    let value = matched.path_param(name).map(|p| p.value.as_bytes());
                    push_value(&mut key, value);
                }
                KeyParam::Query(name) => {
                    // Every value of the parameter, in order.
                    let mut found = false;
                    for (k, v) in query_pairs(query) {
                        if k == name.as_str() {
                            found = true;
                            push_value(&mut key, Some(v.as_bytes()));
                        }
                    }
                    if !found {
                        push_value(&mut key, None);
                    }
                }
                KeyParam::Header(name) => {
                    let mut found = false;
                    for (n, v) in headers.iter() {
                        if n.eq_ignore_ascii_case(name.as_bytes()) {
                            found = true;
                            push_value(&mut key, Some(v));
                        }
                    }
                    if !found {
                        push_value(&mut key, None);
                    }
                }
            }
        }
        Some((key.into_boxed_slice(), policy.ttl))
    }
}

/// Appends a length-prefixed part, so that no two different lists of parts make one key.
fn push_part(key: &mut Vec<u8>, part: &[u8]) {
    key.extend_from_slice(&(part.len() as u32).to_le_bytes());
    key.extend_from_slice(part);
}

/// A parameter's value, or a marker for its absence (distinct from an empty value).
fn push_value(key: &mut Vec<u8>, value: Option<&[u8]>) {
    match value {
        Some(value) => {
            key.push(1);
            push_part(key, value);
        }
        None => key.push(0),
    }
}

/// Whether the client asks for a fresh answer (`Cache-Control: max-age=0`).
pub(crate) fn refresh_requested(headers: &Headers) -> bool {
    headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case(b"cache-control")
            && value.split(|&b| b == b',').any(|directive| {
                let directive = directive.trim_ascii();
                directive.len() == 9 && directive.eq_ignore_ascii_case(b"max-age=0")
            })
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeMap;

    use causeway_model::{CacheClusterStatus, MethodSetting};

    use super::*;

    fn stage(settings: &[(&str, bool, i32)]) -> Stage {
        let method_settings: BTreeMap<String, MethodSetting> = settings
            .iter()
            .map(|(key, enabled, ttl)| {
                let setting = MethodSetting {
                    caching_enabled: *enabled,
                    cache_ttl_in_seconds: *ttl,
                    ..MethodSetting::default()
                };
                ((*key).to_owned(), setting)
            })
            .collect();
        Stage {
            stage_name: "prod".to_owned(),
            deployment_id: "d1".to_owned(),
            description: None,
            client_certificate_id: None,
            cache_cluster_enabled: true,
            cache_cluster_size: Some("0.5".to_owned()),
            cache_cluster_status: CacheClusterStatus::Available,
            method_settings,
            variables: BTreeMap::new(),
            documentation_version: None,
            access_log_settings: None,
            canary_settings: None,
            tracing_enabled: false,
            web_acl_arn: None,
            tags: BTreeMap::new(),
            created_date: 0,
            last_updated_date: 0,
            cache_flushes: 0,
            authorizer_flushes: 0,
        }
    }

    fn applies(stage: &Stage, path: &str, method: &str) -> Option<(u64, bool)> {
        setting_for(stage, path, method).map(|s| (s.ttl_seconds, s.get_only))
    }

    #[test]
    fn the_stage_wide_setting_covers_get_and_overrides_cover_their_method() {
        let wide = stage(&[("*/*", true, 300)]);
        assert_eq!(applies(&wide, "/pets", "GET"), Some((300, true)));
        // An ANY method is cached for its GET requests only.
        assert_eq!(applies(&wide, "/pets", "ANY"), Some((300, true)));
        assert_eq!(applies(&wide, "/pets", "POST"), None);
        assert_eq!(applies(&wide, "/pets", "HEAD"), None);

        let overrides = stage(&[
            ("*/*", true, 300),
            ("~1pets/POST", true, 30),
            ("~1pets~1{id}/GET", false, 300),
            ("~1/GET", true, 5),
            ("~1cheap/GET", true, 0),
            ("legacy/ANY", true, 7),
        ]);
        assert_eq!(applies(&overrides, "/pets", "POST"), Some((30, false)));
        assert_eq!(applies(&overrides, "/pets", "GET"), Some((300, true)));
        assert_eq!(applies(&overrides, "/pets/{id}", "GET"), None, "turned off");
        assert_eq!(applies(&overrides, "/", "GET"), Some((5, false)));
        assert_eq!(applies(&overrides, "/cheap", "GET"), None, "TTL 0 is off");
        // Keys written without the leading `~1` (as some tools send them) match too.
        assert_eq!(applies(&overrides, "/legacy", "ANY"), Some((7, false)));
        assert_eq!(applies(&overrides, "/pets/x", "GET"), Some((300, true)));

        // Without a `*/*` setting, only overrides cache.
        let none = stage(&[("~1pets/GET", true, 60)]);
        assert_eq!(applies(&none, "/pets", "GET"), Some((60, false)));
        assert_eq!(applies(&none, "/other", "GET"), None);
        assert_eq!(applies(&stage(&[]), "/pets", "GET"), None);
    }

    #[test]
    fn the_cache_size_is_the_stage_setting_in_gigabytes() {
        let mut s = stage(&[]);
        assert_eq!(capacity(&s), 1 << 29);
        s.cache_cluster_size = Some("1.6".to_owned());
        assert_eq!(capacity(&s), (1.6 * f64::from(1u32 << 30)) as u64);
        s.cache_cluster_size = None;
        assert_eq!(capacity(&s), 1 << 29);
        s.cache_cluster_size = Some("-1".to_owned());
        assert_eq!(capacity(&s), 1 << 29);
    }

    #[test]
    fn only_max_age_0_asks_for_a_fresh_answer() {
        let asks =
            |value: &str| refresh_requested(&Headers::from_pairs([("Cache-Control", value)]));
        assert!(asks("max-age=0"));
        assert!(asks("no-transform, MAX-AGE=0"));
        assert!(asks(" max-age=0 ,private"));
        assert!(!asks("max-age=00"));
        assert!(!asks("max-age=10"));
        assert!(!asks("no-cache"));
        assert!(!refresh_requested(&Headers::from_pairs([(
            "Pragma",
            "max-age=0"
        )])));
    }

    #[test]
    fn key_parts_never_run_together() {
        let key = |values: &[Option<&[u8]>]| {
            let mut key = Vec::new();
            for value in values {
                push_value(&mut key, *value);
            }
            key
        };
        assert_ne!(
            key(&[Some(b"ab"), Some(b"")]),
            key(&[Some(b"a"), Some(b"b")])
        );
        assert_ne!(key(&[None]), key(&[Some(b"")]));
        assert_ne!(key(&[None, Some(b"x")]), key(&[Some(b"x"), None]));
        assert_eq!(key(&[Some(b"x")]), key(&[Some(b"x")]));
    }

    fn full(body: &'static [u8]) -> Response<Body> {
        let mut response = Response::new(Either::Left(Full::new(Bytes::from_static(body))));
        *response.status_mut() = StatusCode::CREATED;
        response
            .headers_mut()
            .insert("x-kept", "yes".parse().unwrap());
        response
    }

    #[test]
    fn entries_last_their_time_to_live_and_a_flush_drops_them() {
        let cache = StageCache::new(1 << 20);
        let sent = cache.keep(b"k".to_vec().into(), full(b"hello"), 100);
        assert_eq!(sent.status(), StatusCode::CREATED, "handed back as it was");
        let entry = cache.get(b"k", 99).unwrap();
        let hit = entry.response();
        assert_eq!(hit.status(), StatusCode::CREATED);
        assert_eq!(hit.headers()["x-kept"], "yes");
        match hit.body() {
            Either::Left(full) => assert_eq!(
                crate::compress::full_bytes(full).unwrap(),
                Bytes::from_static(b"hello")
            ),
            Either::Right(_) => panic!("a map-headed answer comes back whole"),
        }
        assert!(cache.get(b"k", 100).is_none(), "stale at its expiry");
        assert!(cache.get(b"k", 0).is_none(), "and gone once found stale");

        cache.keep(b"a".to_vec().into(), full(b"1"), 100);
        cache.keep(b"b".to_vec().into(), full(b"2"), 100);
        assert_eq!(cache.len(), 2);
        cache.flush();
        assert!(cache.is_empty());
    }

    #[test]
    fn answers_over_1_mib_are_not_kept() {
        let cache = StageCache::new(8 << 20);
        let at_limit = Bytes::from(vec![b'x'; MAX_ENTRY_BYTES]);
        cache.keep(
            b"at".to_vec().into(),
            Response::new(Either::Left(Full::new(at_limit))),
            10,
        );
        assert!(cache.get(b"at", 0).is_some());
        let over = Bytes::from(vec![b'x'; MAX_ENTRY_BYTES + 1]);
        cache.keep(
            b"over".to_vec().into(),
            Response::new(Either::Left(Full::new(over))),
            10,
        );
        assert!(cache.get(b"over", 0).is_none());
        let pooled = crate::pool::PooledBody::whole(Bytes::from_static(b"whole"));
        cache.keep(
            b"pooled".to_vec().into(),
            Response::new(Either::Right(pooled)),
            10,
        );
        assert!(cache.get(b"pooled", 0).is_some());
        // A cache smaller than an answer keeps nothing rather than failing.
        let tiny = StageCache::new(64);
        tiny.keep(b"k".to_vec().into(), full(b"hello"), 10);
        assert!(tiny.get(b"k", 0).is_none());
    }
}
