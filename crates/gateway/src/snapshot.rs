//! The immutable snapshot the gateway serves from: per API and stage, the compiled routes of
//! the deployment, the stage variables and the gateway responses; plus VPC links and load
//! balancer addresses.

use std::collections::HashMap;
use std::sync::Arc;

use causeway_model::gateway::GatewayPlan;
use causeway_model::{Deployment, GatewayResponse, RestApi, Stage, VpcLink};
use causeway_routing::CompiledApi;

use crate::limits::{self, KeyEntry, StageLimits};

/// A map read on every request: string keys hashed with foldhash rather than SipHash (the
/// keys come from configuration, not from clients, so flooding is not a concern).
pub type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Everything a request needs, frozen.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub apis: FastMap<String, ApiEntry>,
    pub vpc_links: FastMap<String, VpcLink>,
    /// Load balancer ARN → its address (where its listeners bind).
    pub load_balancers: FastMap<String, String>,
    /// API keys by value.
    pub keys: FastMap<String, KeyEntry>,
    /// Load balancers served by NLB nodes, reached through the tunnel.
    pub remote_load_balancers: std::collections::BTreeSet<String>,
}

/// One API.
#[derive(Debug)]
pub struct ApiEntry {
    pub api: RestApi,
    pub stages: FastMap<String, Arc<StageEntry>>,
}

/// One stage, ready to serve.
#[derive(Debug)]
pub struct StageEntry {
    pub stage: Stage,
    pub deployment: Arc<Deployment>,
    pub routes: Arc<CompiledApi>,
    /// Customised gateway responses of the deployment, by type.
    pub gateway_responses: HashMap<String, GatewayResponse>,
    /// Usage plans of API keys and method throttles.
    pub limits: StageLimits,
}

impl Snapshot {
    /// Compiles a plan. Route trees of deployments already compiled in `previous` are reused.
    pub fn compile(plan: &GatewayPlan, previous: &Snapshot) -> Snapshot {
        let mut compiled: HashMap<*const Deployment, Arc<CompiledApi>> = HashMap::new();
        for api in previous.apis.values() {
            for stage in api.stages.values() {
                compiled.insert(Arc::as_ptr(&stage.deployment), stage.routes.clone());
            }
        }
        let apis = plan
            .apis
            .iter()
            .map(|(id, api)| {
                let stages = api
                    .stages
                    .iter()
                    .map(|(name, stage)| {
                        let routes = compiled
                            .entry(Arc::as_ptr(&stage.deployment))
                            .or_insert_with(|| {
                                Arc::new(CompiledApi::compile(&stage.deployment.snapshot))
                            })
                            .clone();
                        let gateway_responses = stage
                            .deployment
                            .snapshot
                            .gateway_responses
                            .iter()
                            .map(|r| (r.response_type.clone(), r.clone()))
                            .collect();
                        (
                            name.clone(),
                            Arc::new(StageEntry {
                                stage: stage.stage.clone(),
                                deployment: stage.deployment.clone(),
                                routes,
                                gateway_responses,
                                limits: limits::compile_stage(plan, id, &stage.stage),
                            }),
                        )
                    })
                    .collect();
                (
                    id.clone(),
                    ApiEntry {
                        api: api.api.clone(),
                        stages,
                    },
                )
            })
            .collect();
        Snapshot {
            apis,
            vpc_links: plan
                .vpc_links
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            load_balancers: plan
                .load_balancers
                .iter()
                .map(|(arn, lb)| (arn.clone(), lb.address.clone()))
                .collect(),
            keys: limits::compile_keys(plan),
            remote_load_balancers: plan.remote_load_balancers.clone(),
        }
    }
}
