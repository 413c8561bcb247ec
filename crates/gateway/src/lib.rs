//! The Causeway gateway: the data plane that serves deployed stages.
//!
//! The control plane hands over a [`GatewayPlan`]; [`Gateway::apply`] compiles every stage's
//! deployment into a route tree and swaps the whole [`Snapshot`] in atomically. Requests read
//! the snapshot they started with, so a redeploy never disturbs a request in flight, and the
//! hot path never touches the store.
//!
//! A request goes through `resolve API and stage → match route → integration → response`,
//! and any failure becomes the API's gateway response for that failure (AWS's status, body
//! and `x-amzn-ErrorType`).

mod errors;
mod integration;
mod pipeline;
mod server;
mod snapshot;
mod upstream;

use std::sync::Arc;

use arc_swap::ArcSwap;
use causeway_model::gateway::GatewayPlan;

pub use server::serve;
pub use snapshot::Snapshot;

/// Settings of the gateway that are not part of any API.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Largest request body accepted (AWS: 10 MB).
    pub max_body_bytes: usize,
    /// Region and account, for `$context` values.
    pub region: String,
    pub account_id: String,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            max_body_bytes: 10 * 1024 * 1024,
            region: "us-east-1".to_owned(),
            account_id: "000000000000".to_owned(),
        }
    }
}

/// The gateway: the current snapshot and the clients that reach backends.
#[derive(Debug)]
pub struct Gateway {
    config: GatewayConfig,
    snapshot: ArcSwap<Snapshot>,
    upstream: upstream::Upstream,
}

impl Gateway {
    /// A gateway that serves nothing until a plan is applied.
    pub fn new(config: GatewayConfig) -> Gateway {
        Gateway {
            config,
            snapshot: ArcSwap::from_pointee(Snapshot::default()),
            upstream: upstream::Upstream::new(),
        }
    }

    /// Compiles `plan` and swaps it in. Stages whose deployment did not change reuse their
    /// compiled routes.
    pub fn apply(&self, plan: &GatewayPlan) {
        let previous = self.snapshot.load_full();
        let next = Snapshot::compile(plan, &previous);
        self.snapshot.store(Arc::new(next));
    }

    /// The snapshot now in force.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }
}
