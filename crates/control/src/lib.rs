//! The Causeway control plane: the apigateway management API (rest-json) that the aws CLI and
//! SDKs call.
//!
//! A request is decoded at the HTTP edge ([`router`]), then handled synchronously by
//! [`Control::handle`]: the operation validates against the in-memory [`state::State`],
//! records the changes it makes, and the changes are written to the store in one transaction
//! before the reply goes out. The in-memory state is the read model; the store is the truth
//! (after a failed write the state is reloaded from it).

mod acm;
mod ctx;
pub mod dataplane;
mod dispatch;
mod elbv2;
#[cfg(any(test, fuzzing))]
pub mod fuzzing;
mod http;
mod json11;
mod keys;
pub mod objects;
mod ops;
pub mod state;
pub mod usage;
mod waf;

use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex, RwLock};

use causeway_model::ApiError;
use causeway_model::elb::NlbPlan;
use causeway_store::{Store, StoreError};
use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::sync::watch;

pub use http::{MAX_BODY_BYTES, router};

/// Settings of the control plane.
#[derive(Debug, Clone)]
pub struct ControlConfig {
    /// Region reported in ARNs.
    pub region: String,
    /// Account id reported in ARNs and messages.
    pub account_id: String,
    /// Addresses handed to network load balancers, one each: the first address and how many
    /// follow it. In the all-in-one server they are loopback addresses, so that two load
    /// balancers can both listen on port 80.
    pub nlb_addresses: (Ipv4Addr, u32),
    /// The longest integration timeout accepted (AWS: 29 s by default, up to 300 s for
    /// Regional and private APIs once the quota is raised).
    pub max_integration_timeout_millis: i32,
    /// The account-wide throttle GetAccount reports (AWS: 10,000 requests per second with
    /// bursts of 5,000 per region).
    pub account_throttle: AccountThrottle,
    /// This node's id when several nodes share the store but each counts quota usage in its
    /// own memory: its usage records carry it, so that none overwrites another's.
    pub usage_node: Option<String>,
    /// The identities whose SigV4 signatures the management APIs accept; `None` accepts
    /// every request, signed or not.
    pub credentials: Option<Arc<causeway_sigv4::Credentials>>,
    /// The quotas on network load balancers (AWS's defaults).
    pub elb_quotas: causeway_model::elb_api::ElbQuotas,
}

/// An account-wide token bucket: `rate_limit` requests per second, bursts of `burst_limit`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AccountThrottle {
    pub rate_limit: f64,
    pub burst_limit: u64,
}

impl Default for AccountThrottle {
    /// AWS's default account limits.
    fn default() -> Self {
        AccountThrottle {
            rate_limit: 10_000.0,
            burst_limit: 5_000,
        }
    }
}

impl ControlConfig {
    /// A configuration with the defaults of `causeway serve`.
    pub fn new(region: impl Into<String>, account_id: impl Into<String>) -> ControlConfig {
        ControlConfig {
            region: region.into(),
            account_id: account_id.into(),
            nlb_addresses: (Ipv4Addr::new(127, 10, 0, 1), 65_000),
            max_integration_timeout_millis: causeway_model::validate::DEFAULT_MAX_TIMEOUT_MILLIS,
            account_throttle: AccountThrottle::default(),
            usage_node: None,
            credentials: None,
            elb_quotas: Default::default(),
        }
    }
}

/// A decoded management request.
#[derive(Debug, Clone)]
pub struct Request {
    /// HTTP method (`GET`, `PATCH`, ...).
    pub method: String,
    /// Raw (still percent-encoded) path.
    pub path: String,
    /// Raw query string, without `?`.
    pub query: String,
    /// Body bytes.
    pub body: Vec<u8>,
    /// The `Accept` header, which picks the format of GetExport's document.
    pub accept: Option<String>,
    /// The `X-Amz-Target` header of JSON-protocol APIs (WAF): `AWSWAF_20190729.<Operation>`.
    pub target: Option<String>,
}

/// The answer to a request: a status and a JSON body (empty for 202/204 without content).
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// JSON body, possibly empty.
    pub body: Vec<u8>,
    /// The AWS error code, for `x-amzn-ErrorType`, when the reply is an error.
    pub error_code: Option<&'static str>,
    /// `application/json` (apigateway), `text/xml` (elbv2), or the format of an exported
    /// document (`application/yaml`).
    pub content_type: &'static str,
    /// Further response headers (GetExport's `Content-Disposition`).
    pub headers: Vec<(&'static str, String)>,
    /// Work the HTTP edge finishes outside the control plane's lock (it waits on the data
    /// plane); the rest of the reply is unused then.
    pub deferred: Option<Deferred>,
}

/// Work an operation hands to the HTTP edge.
#[derive(Debug, Clone, PartialEq)]
pub enum Deferred {
    /// TestInvokeMethod: run the method on the gateway and answer with what it did.
    TestInvoke(Box<causeway_model::gateway::TestInvoke>),
    /// TestInvokeAuthorizer: ask the authorizer on the gateway.
    TestAuthorizer(Box<causeway_model::gateway::TestAuthorizer>),
    /// CreateDomainName or UpdateDomainName with mutual TLS: read the truststore from S3,
    /// then run the operation again with it ([`Control::handle_fetched`]).
    FetchTruststore(Box<TruststoreFetch>),
}

/// A truststore to read from S3 (`uri` is `s3://{bucket}/{key}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TruststoreFetch {
    pub uri: String,
    pub bucket: String,
    pub key: String,
    pub version: Option<String>,
}

/// A truststore read from S3 (or why it could not be).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub fetch: TruststoreFetch,
    pub body: Result<Vec<u8>, String>,
}

impl Reply {
    fn error(error: &ApiError) -> Reply {
        Reply {
            status: error.status(),
            body: causeway_wire::error_body(error),
            error_code: Some(error.code()),
            content_type: "application/json",
            headers: Vec::new(),
            deferred: None,
        }
    }
}

/// The control plane: the configuration in memory, the store behind it.
#[derive(Debug)]
pub struct Control {
    config: ControlConfig,
    inner: Mutex<Inner>,
    data_plane: RwLock<Option<Arc<dyn dataplane::DataPlane>>>,
    object_source: RwLock<Option<Arc<dyn objects::ObjectSource>>>,
    plan: watch::Sender<Arc<NlbPlan>>,
    gateway_plan: watch::Sender<Arc<causeway_model::gateway::GatewayPlan>>,
}

/// What the VPC link loop has to do ([`Control::vpc_link_look`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VpcLinkLook {
    /// A link would change: run [`Control::reconcile_vpc_links`].
    Settle,
    /// Every link is settled, and some go to load balancers of NLB nodes whose tunnels end
    /// here: look again when a tunnel comes or goes (or the configuration or the engine
    /// changes).
    Watch,
    /// Every link is settled: nothing changes until the configuration or the engine does.
    Wait,
}

#[derive(Debug)]
struct Inner {
    state: state::State,
    store: Box<dyn Store>,
    rng: StdRng,
    /// The store revision `state` was loaded at or written as.
    revision: u64,
}

impl Control {
    /// Loads every record of `store` and starts the control plane on it.
    pub fn open(mut store: Box<dyn Store>, config: ControlConfig) -> Result<Control, StoreError> {
        let loaded = store.load()?;
        let state = state::State::load(loaded.records);
        let (plan, _) = watch::channel(Arc::new(state.nlb_plan()));
        let (gateway_plan, _) = watch::channel(Arc::new(state.gateway_plan()));
        Ok(Control {
            config,
            inner: Mutex::new(Inner {
                state,
                store,
                rng: StdRng::from_os_rng(),
                revision: loaded.revision,
            }),
            data_plane: RwLock::new(None),
            object_source: RwLock::new(None),
            plan,
            gateway_plan,
        })
    }

    /// The state and the store. A panic while holding the lock would be a bug; the state
    /// it protects is only ever replaced whole, so a poisoned lock keeps serving.
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Checks an NLB node's credential: the load balancers it may serve, or why not.
    pub fn admit_node(&self, node_id: &str, token: &str) -> Result<Vec<String>, String> {
        let guard = self.lock();
        let refused = || "unknown node or wrong credential".to_owned();
        let node = guard.state.nodes.get(node_id).ok_or_else(refused)?;
        if node.revoked {
            return Err(format!("node {node_id} was revoked"));
        }
        if ops::nodes::same_hash(&node.token_sha256, &ops::nodes::token_hash(token)) {
            Ok(node.load_balancer_arns.clone())
        } else {
            Err(refused())
        }
    }

    /// Whether an NLB node may stay connected: it exists and is not revoked. A node revoked
    /// through another node sharing the store learns of it here.
    pub fn node_admitted(&self, node_id: &str) -> bool {
        self.lock()
            .state
            .nodes
            .get(node_id)
            .is_some_and(|node| !node.revoked)
    }

    /// The plan of some load balancers, to send to the NLB node that serves them.
    pub fn nlb_plan_for_arns(&self, arns: &[String]) -> NlbPlan {
        let guard = self.lock();
        guard.state.nlb_plan_for(arns)
    }

    /// Every stored day of quota usage this node counted, for the limiter to start from
    /// (with [`ControlConfig::usage_node`], its own records and those written before nodes
    /// kept their own).
    pub fn usage_records(&self) -> Result<Vec<causeway_limits::UsageRecord>, StoreError> {
        let mut guard = self.lock();
        let node = self.config.usage_node.as_deref();
        Ok(guard
            .store
            .load_kind(usage::KIND)?
            .iter()
            .filter_map(usage::from_record)
            .filter(|(_, counted_by)| counted_by.is_none() || counted_by.as_deref() == node)
            .map(|(record, _)| record)
            .collect())
    }

    /// Writes drained quota usage in one transaction.
    pub fn save_usage(&self, records: &[causeway_limits::UsageRecord]) -> Result<(), StoreError> {
        let node = self.config.usage_node.as_deref();
        let changes: Vec<causeway_store::Change> = records
            .iter()
            .filter_map(|record| usage::to_change(record, node))
            .collect();
        if changes.is_empty() {
            return Ok(());
        }
        let mut guard = self.lock();
        guard.store.put_untracked(&changes)
    }

    /// Records which remote load balancers this process (`instance`) holds an NLB node's
    /// tunnel for, until `expires` (epoch seconds), so that every node sharing the store
    /// settles VPC links to them alike; an empty list removes the record.
    pub fn announce_tunnels(
        &self,
        instance: &str,
        load_balancer_arns: &[String],
        expires: i64,
    ) -> Result<(), StoreError> {
        let change = if load_balancer_arns.is_empty() {
            causeway_store::Change::Delete {
                kind: state::kind::TUNNELS.to_owned(),
                key: instance.to_owned(),
            }
        } else {
            causeway_store::Change::Put {
                kind: state::kind::TUNNELS.to_owned(),
                key: instance.to_owned(),
                body: serde_json::json!({
                    "loadBalancerArns": load_balancer_arns,
                    "expires": expires,
                })
                .to_string(),
            }
        };
        self.lock().store.put_untracked(&[change])
    }

    /// The remote load balancers that some process sharing the store (this one included)
    /// announced a tunnel for, unexpired at `now`.
    fn announced_tunnels(inner: &mut Inner, now: i64) -> std::collections::BTreeSet<String> {
        let records = match inner.store.load_kind(state::kind::TUNNELS) {
            Ok(records) => records,
            Err(error) => {
                tracing::warn!(%error, "cannot read the tunnels other nodes hold");
                return std::collections::BTreeSet::new();
            }
        };
        records
            .iter()
            .filter_map(|record| serde_json::from_str::<serde_json::Value>(&record.body).ok())
            .filter(|body| {
                body["expires"]
                    .as_i64()
                    .is_some_and(|expires| expires > now)
            })
            .flat_map(|body| {
                body["loadBalancerArns"]
                    .as_array()
                    .map(|arns| {
                        arns.iter()
                            .filter_map(|arn| arn.as_str().map(str::to_owned))
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
            })
            .collect()
    }

    /// Plugs in the live view of the load balancing engine.
    pub fn attach_data_plane(&self, data_plane: Arc<dyn dataplane::DataPlane>) {
        if let Ok(mut slot) = self.data_plane.write() {
            *slot = Some(data_plane);
        }
    }

    /// The load balancing plan, updated after every change to load balancers, listeners or
    /// target groups.
    pub fn subscribe_nlb_plan(&self) -> watch::Receiver<Arc<NlbPlan>> {
        self.plan.subscribe()
    }

    /// What the gateway serves, updated after every change to APIs, deployments, stages, VPC
    /// links or load balancers.
    pub fn subscribe_gateway_plan(
        &self,
    ) -> watch::Receiver<Arc<causeway_model::gateway::GatewayPlan>> {
        self.gateway_plan.subscribe()
    }

    fn publish(&self, state: &state::State, changes: &[causeway_store::Change]) {
        if changes.iter().any(state::touches_load_balancing) {
            self.plan.send_replace(Arc::new(state.nlb_plan()));
        }
        if changes.iter().any(state::touches_gateway) {
            self.gateway_plan
                .send_replace(Arc::new(state.gateway_plan()));
        }
    }

    /// The region and the identities requests must be signed by, when the control plane
    /// checks signatures.
    fn credentials(&self) -> Option<(&str, Arc<causeway_sigv4::Keyring>)> {
        let keyring = self.config.credentials.as_deref()?.keyring();
        Some((&self.config.region, keyring))
    }

    /// Plugs in where truststores are read from (S3).
    pub fn attach_object_source(&self, source: Arc<dyn objects::ObjectSource>) {
        if let Ok(mut slot) = self.object_source.write() {
            *slot = Some(source);
        }
    }

    fn object_source(&self) -> Option<Arc<dyn objects::ObjectSource>> {
        self.object_source.read().ok().and_then(|slot| slot.clone())
    }

    fn data_plane(&self) -> Option<Arc<dyn dataplane::DataPlane>> {
        self.data_plane.read().ok().and_then(|slot| slot.clone())
    }

    /// Handles one management request. Never panics on any input: every client mistake is
    /// an AWS-shaped 4xx reply.
    ///
    /// The state is first brought up to the store's revision (another node sharing the store
    /// may have written it). A change is written only if the store is still at that
    /// revision; when another node wrote in between, the state is reloaded and the operation
    /// runs again on it, so that no node overwrites a change it has not seen.
    pub fn handle(&self, request: &Request) -> Reply {
        self.handle_with(request, None)
    }

    /// Handles a request again with the object its first run asked for
    /// ([`Deferred::FetchTruststore`]).
    pub fn handle_fetched(&self, request: &Request, fetched: &Fetched) -> Reply {
        self.handle_with(request, Some(fetched))
    }

    fn handle_with(&self, request: &Request, fetched: Option<&Fetched>) -> Reply {
        let mut guard = self.lock();
        let inner = &mut *guard;
        // Requests that may write keep other nodes' writers out while they run, so that
        // they are not overtaken between their read and their write (reads never wait).
        let may_write = request.method != "GET"
            && request.method != "HEAD"
            && !(request.path == "/"
                && (elbv2::is_read(request) || waf::is_read(request) || acm::is_read(request)));
        if may_write && let Err(error) = inner.store.lock_writers() {
            tracing::error!(%error, "cannot take the store's writers' lock");
            return Reply::error(&ApiError::Internal(
                "The store is unavailable; nothing was changed. Check the server log.".into(),
            ));
        }
        let reply = self.handle_locked(inner, request, fetched);
        if may_write {
            inner.store.unlock_writers();
        }
        reply
    }

    fn handle_locked(
        &self,
        inner: &mut Inner,
        request: &Request,
        fetched: Option<&Fetched>,
    ) -> Reply {
        if let Err(error) = self.catch_up(inner) {
            tracing::warn!(%error, "cannot read the store's revision; answering from memory");
        }
        let data_plane = self.data_plane();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut cx = ctx::Ctx::new(
                &mut inner.state,
                &mut inner.rng,
                &self.config,
                now_epoch_seconds(),
            );
            cx.data_plane = data_plane.as_deref();
            cx.fetched = fetched;
            let result = dispatch::dispatch(&mut cx, request);
            let changes = cx.into_changes();
            let reply = match result {
                Ok(reply) => reply,
                Err(error) => return Reply::error(&error),
            };
            if changes.is_empty() {
                return reply;
            }
            match inner.store.apply(inner.revision, &changes) {
                Ok(revision) => {
                    inner.revision = revision;
                    self.publish(&inner.state, &changes);
                    return reply;
                }
                Err(StoreError::Conflict { found, .. }) if attempt < MAX_ATTEMPTS => {
                    tracing::debug!(found, attempt, "another node wrote first; running again");
                    if let Err(error) = self.reload(inner) {
                        return self.write_failed(inner, &error);
                    }
                }
                Err(error) => return self.write_failed(inner, &error),
            }
        }
    }

    /// After a failed write: memory goes back to what the store holds, and the client is told
    /// that nothing changed.
    fn write_failed(&self, inner: &mut Inner, error: &StoreError) -> Reply {
        tracing::error!(%error, "store write failed; reloading state from the store");
        if let Err(error) = self.reload(inner) {
            tracing::error!(%error, "reloading the store failed");
        }
        Reply::error(&ApiError::Internal(
            "The change could not be saved; nothing was changed. Check the server log.".into(),
        ))
    }

    /// Reloads the state when the store has moved past it (another node wrote); true when it
    /// did.
    fn catch_up(&self, inner: &mut Inner) -> Result<bool, StoreError> {
        if inner.store.revision()? == inner.revision {
            return Ok(false);
        }
        self.reload(inner)?;
        Ok(true)
    }

    /// Replaces the state with the store's, and publishes both plans whole.
    fn reload(&self, inner: &mut Inner) -> Result<(), StoreError> {
        let loaded = inner.store.load()?;
        inner.state = state::State::load(loaded.records);
        inner.revision = loaded.revision;
        self.plan.send_replace(Arc::new(inner.state.nlb_plan()));
        self.gateway_plan
            .send_replace(Arc::new(inner.state.gateway_plan()));
        Ok(())
    }

    /// Brings the state up to the store's revision, publishing the plans if it moved. Nodes
    /// that share a store call it when they learn of another node's write; it blocks on the
    /// store, so call it from a blocking thread.
    pub fn refresh(&self) -> Result<bool, StoreError> {
        let mut guard = self.lock();
        self.catch_up(&mut guard)
    }

    /// The revision of the store the state was last brought up to.
    pub fn revision(&self) -> u64 {
        self.lock().revision
    }

    /// Whether any VPC link (V1 or V2) exists: without one, [`Self::reconcile_vpc_links`]
    /// has nothing to settle. State busy with another operation counts as having links, so
    /// that the caller (on the async runtime) never waits for the lock.
    pub fn has_vpc_links(&self) -> bool {
        match self.inner.try_lock() {
            Ok(inner) => !inner.state.vpc_links.is_empty() || !inner.state.vpc_links_v2.is_empty(),
            Err(_) => true,
        }
    }

    /// What the VPC link loop has to do, judged from memory and the engine's live view
    /// without reading the store (with a shared store, other nodes' writes reach this state
    /// through the store watcher). State busy with another operation means settling, which
    /// waits for it.
    pub fn vpc_link_look(&self) -> VpcLinkLook {
        let data_plane = self.data_plane();
        let Ok(inner) = self.inner.try_lock() else {
            return VpcLinkLook::Settle;
        };
        let state = &inner.state;
        let remote = state.remote_load_balancers();
        if ops::vpclinks::unsettled(state, &remote, data_plane.as_deref())
            || ops::vpclinks_v2::unsettled(state)
        {
            VpcLinkLook::Settle
        } else if ops::vpclinks::follow_remote(state, &remote) {
            VpcLinkLook::Watch
        } else {
            VpcLinkLook::Wait
        }
    }

    /// Whether any usage plan exists: without one, no request is counted against a quota and
    /// there is no usage to write. Busy state counts as having plans, as in
    /// [`Self::has_vpc_links`].
    pub fn has_usage_plans(&self) -> bool {
        match self.inner.try_lock() {
            Ok(inner) => !inner.state.usage_plans.is_empty(),
            Err(_) => true,
        }
    }

    /// Moves VPC links out of `PENDING`: each one whose target is not a usable network load
    /// balancer becomes `FAILED` with a message saying why. Called periodically by the server.
    pub fn reconcile_vpc_links(&self) {
        let mut guard = self.lock();
        let inner = &mut *guard;
        if let Err(error) = self.catch_up(inner) {
            tracing::warn!(%error, "cannot read the store; VPC links settle later");
            return;
        }
        let data_plane = self.data_plane();
        let now = now_epoch_seconds();
        // Tunnels other processes hold count only for links to remote load balancers that
        // no tunnel here serves: read them only then.
        let remote = inner.state.remote_load_balancers();
        let needs_others = inner.state.vpc_links.values().any(|link| {
            link.target_arns.first().is_some_and(|arn| {
                remote.contains(arn)
                    && !data_plane.as_ref().is_some_and(|dp| dp.node_connected(arn))
            })
        });
        let elsewhere = if needs_others {
            Self::announced_tunnels(inner, now)
        } else {
            std::collections::BTreeSet::new()
        };
        let mut cx = ctx::Ctx::new(&mut inner.state, &mut inner.rng, &self.config, now);
        cx.data_plane = data_plane.as_deref();
        cx.tunnels_elsewhere = elsewhere;
        ops::vpclinks::reconcile(&mut cx);
        ops::vpclinks_v2::reconcile(&mut cx);
        let changes = cx.into_changes();
        if changes.is_empty() {
            return;
        }
        match inner.store.apply(inner.revision, &changes) {
            Ok(revision) => {
                inner.revision = revision;
                self.publish(&inner.state, &changes);
            }
            Err(error) => {
                // A conflict included: the next round runs on the other node's state.
                if !matches!(error, StoreError::Conflict { .. }) {
                    tracing::error!(%error, "could not save VPC link status");
                }
                if let Err(error) = self.reload(inner) {
                    tracing::error!(%error, "reloading the store failed");
                }
            }
        }
    }
}

/// How many times an operation runs when other nodes keep writing between its read and its
/// write.
const MAX_ATTEMPTS: u32 = 8;

fn now_epoch_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
