//! NLB nodes: processes that run network load balancers inside a private network and reach
//! the gateway through an outbound tunnel. A node is admitted with a credential issued by
//! the control plane; only the credential's hash is kept.

use serde::{Deserialize, Serialize};

/// An admitted NLB node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    /// 10 lowercase alphanumerics.
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// SHA-256 of the credential, hex.
    pub token_sha256: String,
    /// The load balancers this node serves (and may serve only).
    pub load_balancer_arns: Vec<String>,
    pub created_date: i64,
    /// A revoked node's credential is refused. The record stays, so that its load balancers
    /// stay in their private network (served by nodes) rather than falling back to the
    /// gateway's host.
    #[serde(default)]
    pub revoked: bool,
}
