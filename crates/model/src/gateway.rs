//! What the gateway serves, as the control plane hands it over: every stage with its
//! (immutable, shared) deployment, every VPC link, and where each load balancer listens.
//! The gateway compiles this into its routing snapshot.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::entities::{Deployment, RestApi, Stage, VpcLink};

/// The whole served configuration.
#[derive(Debug, Clone, Default)]
pub struct GatewayPlan {
    /// APIs by id.
    pub apis: BTreeMap<String, ApiPlan>,
    /// VPC links by id.
    pub vpc_links: BTreeMap<String, VpcLink>,
    /// Load balancers by ARN.
    pub load_balancers: BTreeMap<String, LoadBalancerAddress>,
}

/// One API: its settings and its stages.
#[derive(Debug, Clone)]
pub struct ApiPlan {
    pub api: RestApi,
    /// Stages by name; a stage whose deployment is missing is left out.
    pub stages: BTreeMap<String, StagePlan>,
}

/// One stage and the deployment it serves.
#[derive(Debug, Clone)]
pub struct StagePlan {
    pub stage: Stage,
    pub deployment: Arc<Deployment>,
}

/// Where a load balancer can be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadBalancerAddress {
    pub dns_name: String,
    pub address: String,
}
