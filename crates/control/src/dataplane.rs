//! What the control plane asks of the running data plane: the live state of load balancers
//! and the health of targets, which only the engine that runs them knows.

use causeway_model::elb::{LoadBalancerStatus, TargetHealthReport};

/// The live view of the network load balancing engine. The server plugs the engine in with
/// [`crate::Control::attach_data_plane`]; without one, load balancers stay `provisioning` and
/// targets `initial`.
pub trait DataPlane: Send + Sync + std::fmt::Debug {
    /// The state of a load balancer, or `None` if the engine has not started it yet.
    fn load_balancer_status(&self, arn: &str) -> Option<LoadBalancerStatus>;

    /// The health of every target the engine knows in a target group, draining ones included.
    fn target_health(&self, target_group_arn: &str) -> Vec<TargetHealthReport>;
}
