//! VPC link transports: how the gateway reaches a network load balancer.
//!
//! Today's transport is *direct*: the gateway dials the load balancer's listener address
//! (gateway and load balancer share a network, as in the all-in-one server). The tunnel
//! transport, where the load balancer's node dials out to the gateway, will live here too.

pub mod tls;

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

#[cfg(test)]
mod tests {
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
