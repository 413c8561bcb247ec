//! What the control plane asks of the running data plane: the live state of load balancers
//! and the health of targets, which only the engine that runs them knows.

use std::future::Future;
use std::pin::Pin;

use causeway_model::elb::{LoadBalancerStatus, TargetHealthReport};
use causeway_model::gateway::{TestAuthorizer, TestAuthorizerResult, TestInvoke, TestInvokeResult};

/// The future of a test invocation.
pub type TestInvokeFuture = Pin<Box<dyn Future<Output = TestInvokeResult> + Send + 'static>>;

/// The future of a test invocation of an authorizer.
pub type TestAuthorizerFuture =
    Pin<Box<dyn Future<Output = TestAuthorizerResult> + Send + 'static>>;

/// The live view of the network load balancing engine. The server plugs the engine in with
/// [`crate::Control::attach_data_plane`]; without one, load balancers stay `provisioning` and
/// targets `initial`.
pub trait DataPlane: Send + Sync + std::fmt::Debug {
    /// The state of a load balancer, or `None` if the engine has not started it yet.
    fn load_balancer_status(&self, arn: &str) -> Option<LoadBalancerStatus>;

    /// The health of every target the engine knows in a target group, draining ones included.
    fn target_health(&self, target_group_arn: &str) -> Vec<TargetHealthReport>;

    /// Runs a TestInvokeMethod call on the gateway. Without a gateway the call answers
    /// `500` with the reason in the log.
    fn test_invoke(&self, call: TestInvoke) -> TestInvokeFuture {
        let _ = call;
        Box::pin(async { no_gateway() })
    }

    /// Runs a TestInvokeAuthorizer call on the gateway. Without a gateway the call answers
    /// with client status 500 and the reason in the log.
    fn test_authorizer(&self, call: TestAuthorizer) -> TestAuthorizerFuture {
        let _ = call;
        Box::pin(async { no_gateway_authorizer() })
    }

    /// Drops the tunnel connections of a revoked NLB node.
    fn revoke_node(&self, node_id: &str) {
        let _ = node_id;
    }

    /// Whether an NLB node serving this load balancer is connected through the tunnel.
    fn node_connected(&self, load_balancer_arn: &str) -> bool {
        let _ = load_balancer_arn;
        false
    }

    /// Empties a stage's cache (FlushStageCache), when a gateway runs.
    fn flush_stage_cache(&self, api_id: &str, stage: &str) {
        let _ = (api_id, stage);
    }

    /// The limiter that counts quota usage (GetUsage, UpdateUsage), when a gateway runs.
    fn limiter(&self) -> Option<&dyn causeway_limits::Limiter> {
        None
    }

    /// The UTC day the limiter counts quotas in, on the gateway's clock (UpdateUsage
    /// changes that day's period, whatever the control plane's own clock says).
    fn quota_today(&self) -> Option<causeway_limits::Day> {
        None
    }
}

/// The answer to a test invocation of an authorizer when no gateway runs.
pub fn no_gateway_authorizer() -> TestAuthorizerResult {
    TestAuthorizerResult {
        client_status: 500,
        log: "No gateway is running in this server, so the authorizer cannot be asked.".to_owned(),
        ..TestAuthorizerResult::default()
    }
}

/// The answer to a test invocation when no gateway runs.
pub fn no_gateway() -> TestInvokeResult {
    TestInvokeResult {
        status: 500,
        body: r#"{"message": "Internal server error"}"#.to_owned(),
        log: "No gateway is running in this server, so the method cannot be invoked.".to_owned(),
        ..TestInvokeResult::default()
    }
}
