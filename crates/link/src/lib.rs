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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_targets() {
        assert_eq!(
            direct_target("127.10.0.1", 80),
            "127.10.0.1:80".parse().ok()
        );
        assert_eq!(direct_target("not an ip", 80), None);
    }
}
