//! The configuration in memory: every REST API with its resources, deployments, stages and
//! gateway responses, and every VPC link. Loaded from the store at start-up and kept in step
//! with it by the operations.

use std::collections::BTreeMap;

use causeway_model::elb::{self, Listener, LoadBalancer, NlbPlan, TargetGroup};
use causeway_model::{
    ApiError, Deployment, GatewayResponse, Method, Resource, RestApi, Stage, VpcLink,
};
use causeway_store::Record;

/// Record kinds in the store.
pub mod kind {
    pub const REST_API: &str = "restapi";
    pub const RESOURCE: &str = "resource";
    pub const DEPLOYMENT: &str = "deployment";
    pub const STAGE: &str = "stage";
    pub const GATEWAY_RESPONSE: &str = "gatewayresponse";
    pub const VPC_LINK: &str = "vpclink";
    pub const LOAD_BALANCER: &str = "loadbalancer";
    pub const TARGET_GROUP: &str = "targetgroup";
    pub const LISTENER: &str = "listener";
}

/// Whether a stored change concerns what the gateway serves.
pub fn touches_gateway(change: &causeway_store::Change) -> bool {
    let kind = match change {
        causeway_store::Change::Put { kind, .. }
        | causeway_store::Change::Delete { kind, .. }
        | causeway_store::Change::DeletePrefix { kind, .. } => kind.as_str(),
    };
    matches!(
        kind,
        kind::REST_API | kind::DEPLOYMENT | kind::STAGE | kind::VPC_LINK | kind::LOAD_BALANCER
    )
}

/// Whether a stored change concerns network load balancing (and so the engine's plan).
pub fn touches_load_balancing(change: &causeway_store::Change) -> bool {
    let kind = match change {
        causeway_store::Change::Put { kind, .. }
        | causeway_store::Change::Delete { kind, .. }
        | causeway_store::Change::DeletePrefix { kind, .. } => kind.as_str(),
    };
    matches!(
        kind,
        kind::LOAD_BALANCER | kind::TARGET_GROUP | kind::LISTENER
    )
}

/// Everything the control plane knows.
#[derive(Debug, Default)]
pub struct State {
    pub apis: BTreeMap<String, ApiState>,
    pub vpc_links: BTreeMap<String, VpcLink>,
    /// Network load balancers, by ARN.
    pub load_balancers: BTreeMap<String, LoadBalancer>,
    /// Target groups, by ARN.
    pub target_groups: BTreeMap<String, TargetGroup>,
    /// Listeners, by ARN.
    pub listeners: BTreeMap<String, Listener>,
    /// Next creation sequence number (orders resources as they were created).
    pub next_seq: u64,
}

/// One REST API and what belongs to it.
#[derive(Debug, Clone)]
pub struct ApiState {
    pub api: RestApi,
    pub resources: BTreeMap<String, Resource>,
    /// Immutable snapshots, shared with the gateway's plan without copying.
    pub deployments: BTreeMap<String, std::sync::Arc<Deployment>>,
    pub stages: BTreeMap<String, Stage>,
    pub gateway_responses: BTreeMap<String, GatewayResponse>,
}

impl State {
    /// Builds the state from stored records. A record that does not parse is skipped with an
    /// error in the log rather than stopping the server, so one bad row cannot hide the rest.
    pub fn load(records: Vec<Record>) -> State {
        let mut state = State::default();
        let mut children: Vec<Record> = Vec::new();
        for record in records {
            match record.kind.as_str() {
                kind::REST_API => {
                    if let Some(api) = parse::<RestApi>(&record) {
                        state.apis.insert(
                            api.id.clone(),
                            ApiState {
                                api,
                                resources: BTreeMap::new(),
                                deployments: BTreeMap::new(),
                                stages: BTreeMap::new(),
                                gateway_responses: BTreeMap::new(),
                            },
                        );
                    }
                }
                kind::VPC_LINK => {
                    if let Some(link) = parse::<VpcLink>(&record) {
                        state.vpc_links.insert(link.id.clone(), link);
                    }
                }
                kind::LOAD_BALANCER => {
                    if let Some(lb) = parse::<LoadBalancer>(&record) {
                        state.load_balancers.insert(lb.arn.clone(), lb);
                    }
                }
                kind::TARGET_GROUP => {
                    if let Some(tg) = parse::<TargetGroup>(&record) {
                        state.target_groups.insert(tg.arn.clone(), tg);
                    }
                }
                kind::LISTENER => {
                    if let Some(listener) = parse::<Listener>(&record) {
                        state.listeners.insert(listener.arn.clone(), listener);
                    }
                }
                _ => children.push(record),
            }
        }
        for record in children {
            let Some((api_id, _)) = record.key.split_once('/') else {
                tracing::error!(kind = %record.kind, key = %record.key, "stored record has no API id; skipped");
                continue;
            };
            let Some(api) = state.apis.get_mut(api_id) else {
                tracing::error!(kind = %record.kind, key = %record.key, "stored record of a missing API; skipped");
                continue;
            };
            match record.kind.as_str() {
                kind::RESOURCE => {
                    if let Some(resource) = parse::<Resource>(&record) {
                        state.next_seq = state.next_seq.max(resource.seq + 1);
                        api.resources.insert(resource.id.clone(), resource);
                    }
                }
                kind::DEPLOYMENT => {
                    if let Some(deployment) = parse::<Deployment>(&record) {
                        api.deployments
                            .insert(deployment.id.clone(), std::sync::Arc::new(deployment));
                    }
                }
                kind::STAGE => {
                    if let Some(stage) = parse::<Stage>(&record) {
                        api.stages.insert(stage.stage_name.clone(), stage);
                    }
                }
                kind::GATEWAY_RESPONSE => {
                    if let Some(response) = parse::<GatewayResponse>(&record) {
                        api.gateway_responses
                            .insert(response.response_type.clone(), response);
                    }
                }
                other => {
                    tracing::error!(kind = %other, key = %record.key, "unknown record kind; skipped")
                }
            }
        }
        state
    }

    /// What the gateway serves: every stage with its deployment, every VPC link and where
    /// each load balancer listens.
    pub fn gateway_plan(&self) -> causeway_model::gateway::GatewayPlan {
        use causeway_model::gateway::{ApiPlan, GatewayPlan, LoadBalancerAddress, StagePlan};
        GatewayPlan {
            apis: self
                .apis
                .values()
                .map(|a| {
                    let stages = a
                        .stages
                        .values()
                        .filter_map(|stage| {
                            let deployment = a.deployments.get(&stage.deployment_id)?.clone();
                            Some((
                                stage.stage_name.clone(),
                                StagePlan {
                                    stage: stage.clone(),
                                    deployment,
                                },
                            ))
                        })
                        .collect();
                    (
                        a.api.id.clone(),
                        ApiPlan {
                            api: a.api.clone(),
                            stages,
                        },
                    )
                })
                .collect(),
            vpc_links: self.vpc_links.clone(),
            load_balancers: self
                .load_balancers
                .values()
                .map(|lb| {
                    (
                        lb.arn.clone(),
                        LoadBalancerAddress {
                            dns_name: lb.dns_name.clone(),
                            address: lb.address.clone(),
                        },
                    )
                })
                .collect(),
        }
    }

    /// The plan the load balancing engine runs.
    pub fn nlb_plan(&self) -> NlbPlan {
        elb::plan(
            self.load_balancers.values(),
            self.listeners.values(),
            self.target_groups.values(),
        )
    }

    /// The API with this id, or AWS's `Invalid API identifier specified` error.
    pub fn api(&self, account: &str, id: &str) -> Result<&ApiState, ApiError> {
        self.apis.get(id).ok_or_else(|| {
            ApiError::not_found(format!("Invalid API identifier specified {account}:{id}"))
        })
    }

    /// Mutable form of [`State::api`].
    pub fn api_mut(&mut self, account: &str, id: &str) -> Result<&mut ApiState, ApiError> {
        self.apis.get_mut(id).ok_or_else(|| {
            ApiError::not_found(format!("Invalid API identifier specified {account}:{id}"))
        })
    }

    /// The API for operations on its resources and methods, where AWS reports an unknown API
    /// as `Invalid Resource identifier specified`.
    pub fn api_for_resource(&mut self, id: &str) -> Result<&mut ApiState, ApiError> {
        self.apis
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found("Invalid Resource identifier specified"))
    }
}

impl ApiState {
    /// The resource with this id.
    pub fn resource(&self, id: &str) -> Result<&Resource, ApiError> {
        self.resources
            .get(id)
            .ok_or_else(|| ApiError::not_found("Invalid Resource identifier specified"))
    }

    /// Mutable form of [`ApiState::resource`].
    pub fn resource_mut(&mut self, id: &str) -> Result<&mut Resource, ApiError> {
        self.resources
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found("Invalid Resource identifier specified"))
    }

    /// The full path of a resource (`/`, `/pets/{id}`).
    pub fn path_of(&self, resource: &Resource) -> String {
        let mut parts = Vec::new();
        let mut current = resource;
        // Bounded by the number of resources, so a corrupt cycle cannot loop forever.
        for _ in 0..=self.resources.len() {
            let Some(parent_id) = &current.parent_id else {
                break;
            };
            parts.push(current.path_part.as_str());
            match self.resources.get(parent_id) {
                Some(parent) => current = parent,
                None => break,
            }
        }
        if parts.is_empty() {
            return "/".to_owned();
        }
        parts.reverse();
        format!("/{}", parts.join("/"))
    }

    /// The children of a resource.
    pub fn children_of<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Resource> + 'a {
        self.resources
            .values()
            .filter(move |r| r.parent_id.as_deref() == Some(id))
    }

    /// A resource and all its descendants' ids.
    pub fn subtree(&self, id: &str) -> Vec<String> {
        let mut out = vec![id.to_owned()];
        let mut index = 0;
        while index < out.len() {
            let current = out[index].clone();
            out.extend(self.children_of(&current).map(|r| r.id.clone()));
            index += 1;
        }
        out
    }

    /// Whether any method exists anywhere in the API.
    pub fn has_methods(&self) -> bool {
        self.resources.values().any(|r| !r.methods.is_empty())
    }

    /// Every method with its resource, for checks that span the API.
    pub fn methods(&self) -> impl Iterator<Item = (&Resource, &Method)> {
        self.resources
            .values()
            .flat_map(|r| r.methods.values().map(move |m| (r, m)))
    }
}

fn parse<T: serde::de::DeserializeOwned>(record: &Record) -> Option<T> {
    match serde_json::from_str(&record.body) {
        Ok(value) => Some(value),
        Err(error) => {
            tracing::error!(kind = %record.kind, key = %record.key, %error, "stored record does not parse; skipped");
            None
        }
    }
}
