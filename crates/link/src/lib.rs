//! VPC link transports: how the gateway reaches a network load balancer.
//!
//! Two transports: *direct*, where the gateway dials the load balancer's listener address
//! (gateway and load balancer share a network, as in the all-in-one server), and the
//! [`tunnel`], where the load balancer's node dials out to the gateway over TLS and the
//! gateway opens one multiplexed stream per backend connection.

pub mod tls;
pub mod tunnel;

use std::net::{IpAddr, SocketAddr};

/// Where a direct VPC link connection goes: the load balancer's address and the listener
/// port that the integration uri names.
pub fn direct_target(load_balancer_address: &str, port: u16) -> Option<SocketAddr> {
    load_balancer_address
        .parse::<IpAddr>()
        .ok()
        .map(|ip| SocketAddr::new(ip, port))
}

/// The reserved top-level domain that marks a host name as a VPC link route (`.invalid`
/// never resolves in DNS, so such a name cannot reach anything by accident).
const LINK_SUFFIX: &str = ".vpclink.invalid";

/// The host name under which an HTTPS request through a VPC link is dialled:
/// `{host}.{address with '-' separators}.vpclink.invalid`.
///
/// HTTP clients pool connections and pick the TLS server name by the URL's host. Carrying
/// both the backend's host (for SNI and certificate checks) and the load balancer's address
/// (where to connect) in that one name lets the stock pooled client do both, and keeps
/// connections to different load balancers apart. [`split_link_host`] reverses it.
pub fn link_host(host: &str, load_balancer: IpAddr) -> String {
    let address = match load_balancer {
        IpAddr::V4(v4) => v4.to_string().replace('.', "-"),
        IpAddr::V6(v6) => v6.to_string().replace(':', "-"),
    };
    format!("{host}.{address}{LINK_SUFFIX}")
}

/// The backend host and load balancer address of a name made by [`link_host`].
pub fn split_link_host(name: &str) -> Option<(&str, IpAddr)> {
    let rest = name.strip_suffix(LINK_SUFFIX)?;
    let (host, address) = rest.rsplit_once('.')?;
    let v4 = address.replace('-', ".");
    let ip = v4
        .parse::<std::net::Ipv4Addr>()
        .map(IpAddr::V4)
        .or_else(|_| address.replace('-', ":").parse::<IpAddr>())
        .ok()?;
    (!host.is_empty()).then_some((host, ip))
}

/// The reserved suffix of host names routed through the tunnel.
const TUNNEL_SUFFIX: &str = ".tunnel.invalid";

/// The host name under which a request through a VPC link to a load balancer served by an
/// NLB node is dialled: `{host}.{label}.tunnel.invalid`, where `label` names the load
/// balancer (the id at the end of its ARN). Like [`link_host`], it lets the stock pooled
/// client keep the backend host (Host, SNI) and the route in one name.
pub fn tunnel_host(host: &str, label: &str) -> String {
    format!("{host}.{label}{TUNNEL_SUFFIX}")
}

/// The backend host and load balancer label of a name made by [`tunnel_host`].
pub fn split_tunnel_host(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_suffix(TUNNEL_SUFFIX)?;
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
    let rest = name.strip_suffix(BALANCER_SUFFIX)?;
    let (host, label) = rest.rsplit_once('.')?;
    (!host.is_empty() && !label.is_empty()).then_some((host, label))
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
    #[test]
    fn balancer_hosts_round_trip() {
        let name = super::balancer_host("backend.internal", "0123456789abcdef");
        assert_eq!(name, "backend.internal.0123456789abcdef.nlb.invalid");
        assert_eq!(
            super::split_balancer_host(&name),
            Some(("backend.internal", "0123456789abcdef"))
        );
        assert_eq!(super::split_balancer_host("backend.internal"), None);
        assert_eq!(super::split_balancer_host(".x.nlb.invalid"), None);
        assert_eq!(super::split_tunnel_host(&name), None);
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

    use super::*;

    #[test]
    fn link_hosts_round_trip() {
        let v4 = IpAddr::V4(std::net::Ipv4Addr::new(127, 10, 0, 3));
        let name = link_host("backend.internal", v4);
        assert_eq!(name, "backend.internal.127-10-0-3.vpclink.invalid");
        assert_eq!(split_link_host(&name), Some(("backend.internal", v4)));
        let v6 = IpAddr::V6(std::net::Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1));
        let name = link_host("10.0.0.5", v6);
        assert_eq!(split_link_host(&name), Some(("10.0.0.5", v6)));
        assert_eq!(split_link_host("example.com"), None);
        assert_eq!(split_link_host(".127-0-0-1.vpclink.invalid"), None);
        assert_eq!(split_link_host("a.not-an-ip.vpclink.invalid"), None);
    }

    #[test]
    fn direct_targets() {
        assert_eq!(
            direct_target("127.10.0.1", 80),
            "127.10.0.1:80".parse().ok()
        );
        assert_eq!(direct_target("not an ip", 80), None);
    }
}
