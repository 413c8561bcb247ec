//! NLB nodes (a Causeway extension, not an AWS operation): `POST /causeway/nodes` admits a
//! node for some network load balancers and answers its credential once;
//! `GET /causeway/nodes` lists them; `DELETE /causeway/nodes/{id}` revokes one, which also
//! drops its tunnel connections. A revoked node stays listed (`revoked: true`) and its load
//! balancers stay with nodes: admit another node for them.

use causeway_model::ApiError;
use causeway_model::node::Node;
use serde::{Deserialize, Serialize};

use crate::Reply;
use crate::ctx::{Ctx, empty, json};
use crate::state::kind;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateNode {
    name: Option<String>,
    load_balancer_arns: Option<Vec<String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NodeOut<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    load_balancer_arns: &'a [String],
    created_date: i64,
    revoked: bool,
    /// Only in the answer to the create call: the credential is not kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'a str>,
}

impl<'a> NodeOut<'a> {
    fn of(node: &'a Node, token: Option<&'a str>) -> NodeOut<'a> {
        NodeOut {
            id: &node.id,
            name: node.name.as_deref(),
            load_balancer_arns: &node.load_balancer_arns,
            created_date: node.created_date,
            revoked: node.revoked,
            token,
        }
    }
}

#[derive(Serialize)]
struct Nodes<'a> {
    item: Vec<NodeOut<'a>>,
}

/// SHA-256 of a credential, hex.
pub fn token_hash(token: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two hashes in time that does not depend on where they differ.
pub fn same_hash(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

pub fn create(cx: &mut Ctx<'_>, body: &[u8]) -> Result<Reply, ApiError> {
    let req: CreateNode = causeway_wire::decode(body)?;
    let arns = req.load_balancer_arns.unwrap_or_default();
    if arns.is_empty() {
        return Err(ApiError::bad_request(
            "loadBalancerArns must name at least one network load balancer the node serves",
        ));
    }
    for arn in &arns {
        if !cx.state.load_balancers.contains_key(arn) {
            return Err(ApiError::not_found(format!(
                "Load balancer {arn} was not found"
            )));
        }
    }
    let taken: Vec<String> = cx.state.nodes.keys().cloned().collect();
    let id = cx.new_id(10, |id| taken.iter().any(|t| t == id));
    let token = cx.new_secret(48, |_| false);
    let node = Node {
        id: id.clone(),
        name: req.name.filter(|n| !n.is_empty()),
        token_sha256: token_hash(&token),
        load_balancer_arns: arns,
        created_date: cx.now,
        revoked: false,
    };
    cx.put(kind::NODE, id.clone(), &node)?;
    let reply = json(201, &NodeOut::of(&node, Some(&token)));
    cx.state.nodes.insert(id, node);
    reply
}

pub fn list(cx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let item = cx
        .state
        .nodes
        .values()
        .map(|n| NodeOut::of(n, None))
        .collect();
    json(200, &Nodes { item })
}

pub fn get(cx: &mut Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
    let node = cx
        .state
        .nodes
        .get(id)
        .ok_or_else(|| ApiError::not_found(format!("NLB node {id} was not found")))?;
    json(200, &NodeOut::of(node, None))
}

pub fn delete(cx: &mut Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
    let mut node = cx
        .state
        .nodes
        .get(id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("NLB node {id} was not found")))?;
    if !node.revoked {
        node.revoked = true;
        node.token_sha256.clear();
        cx.put(kind::NODE, id.to_owned(), &node)?;
        cx.state.nodes.insert(id.to_owned(), node);
    }
    if let Some(data_plane) = cx.data_plane {
        data_plane.revoke_node(id);
    }
    empty(202)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes() {
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(same_hash(&token_hash("x"), &token_hash("x")));
        assert!(!same_hash(&token_hash("x"), &token_hash("y")));
        assert!(!same_hash("ab", "abc"));
    }
}
