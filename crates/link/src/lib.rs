//! VPC link transports: how the gateway reaches a network load balancer.
//!
//! Two transports: *in process*, where the gateway hands each connection to a load balancer
//! of its own process ([`balancer_host`] names the route), and the [`tunnel`], where the load
//! balancer's node dials out to the gateway over TLS and the gateway opens one multiplexed
//! stream per backend connection ([`tunnel_host`]).

pub mod tls;
pub mod tunnel;

/// The reserved suffix of host names routed through the tunnel.
const TUNNEL_SUFFIX: &str = ".tunnel.invalid";

/// The host name under which a request through a VPC link to a load balancer served by an
/// NLB node is dialled: `{host}.{label}.tunnel.invalid`, where `label` names the load
/// balancer (the id at the end of its ARN). It lets the stock pooled client keep the backend
/// host (Host, SNI) and the route in one name.
pub fn tunnel_host(host: &str, label: &str) -> String {
    format!("{host}.{label}{TUNNEL_SUFFIX}")
}

/// The backend host and load balancer label of a name made by [`tunnel_host`].
pub fn split_tunnel_host(name: &str) -> Option<(&str, &str)> {
    split_route_host(name, TUNNEL_SUFFIX)
}

/// `{host}.{label}{suffix}` → `(host, label)`, both non-empty.
fn split_route_host<'n>(name: &'n str, suffix: &str) -> Option<(&'n str, &'n str)> {
    let rest = name.strip_suffix(suffix)?;
    let (host, label) = rest.rsplit_once('.')?;
    (!host.is_empty() && !label.is_empty()).then_some((host, label))
}

/// The reserved suffix of host names routed to a load balancer of this process.
const BALANCER_SUFFIX: &str = ".nlb.invalid";

/// The host name under which a request through a VPC link to a load balancer run by this
/// process is dialled: `{host}.{label}.nlb.invalid`, where `label` names the load balancer
/// as in [`tunnel_host`]. The connection is handed to the load balancer in memory.
pub fn balancer_host(host: &str, label: &str) -> String {
    format!("{host}.{label}{BALANCER_SUFFIX}")
}

/// The backend host and load balancer label of a name made by [`balancer_host`].
pub fn split_balancer_host(name: &str) -> Option<(&str, &str)> {
    split_route_host(name, BALANCER_SUFFIX)
}

/// The label of a load balancer in tunnel host names: the hexadecimal id that ends its ARN
/// (`arn:...:loadbalancer/net/{name}/{id}`).
pub fn tunnel_label(load_balancer_arn: &str) -> &str {
    load_balancer_arn
        .rsplit('/')
        .next()
        .unwrap_or(load_balancer_arn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balancer_hosts_round_trip() {
        let name = balancer_host("backend.internal", "0123456789abcdef");
        assert_eq!(name, "backend.internal.0123456789abcdef.nlb.invalid");
        assert_eq!(
            split_balancer_host(&name),
            Some(("backend.internal", "0123456789abcdef"))
        );
        assert_eq!(split_balancer_host("backend.internal"), None);
        assert_eq!(split_balancer_host(".x.nlb.invalid"), None);
        assert_eq!(split_tunnel_host(&name), None);
    }

    #[test]
    fn tunnel_hosts_round_trip() {
        let arn = "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/nlb/0123456789abcdef";
        let label = tunnel_label(arn);
        assert_eq!(label, "0123456789abcdef");
        let name = tunnel_host("backend.internal", label);
        assert_eq!(name, "backend.internal.0123456789abcdef.tunnel.invalid");
        assert_eq!(split_tunnel_host(&name), Some(("backend.internal", label)));
        assert_eq!(split_tunnel_host("example.com"), None);
    }
}
