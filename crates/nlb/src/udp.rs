//! UDP listeners. The datagrams of one client (its address and port) form a flow: the flow
//! goes to one target, chosen by the flow hash as for TCP, through a socket of its own
//! connected to that target, and the target's answers go back to the client from the
//! listener's address. A flow ends after 120 s without a datagram either way (AWS's UDP idle
//! timeout), or when its target's deregistration delay ends with connection termination on
//! (the default for UDP target groups); the client's next datagram then opens a new one.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwapOption;
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

use crate::group::Group;
use crate::proxy::{Activity, until_terminated};

/// How long a UDP flow lives without a datagram either way.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// Largest datagram carried (the largest a UDP payload can be).
const DATAGRAM: usize = 65_535;

/// Binds a listener's UDP socket (with `SO_REUSEADDR`, and `SO_REUSEPORT` when asked).
pub fn bind(addr: SocketAddr, reuse_port: bool) -> io::Result<UdpSocket> {
    let domain = socket2::Domain::for_address(addr);
    let socket = socket2::Socket::new(domain, socket2::Type::DGRAM, Some(socket2::Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    UdpSocket::from_std(socket.into())
}

/// A client's flow: its socket to the target, and the task that carries answers back.
struct Flow {
    upstream: Arc<UdpSocket>,
    activity: Arc<Activity>,
    answers: JoinHandle<()>,
}

impl Drop for Flow {
    fn drop(&mut self) {
        self.answers.abort();
    }
}

/// Receives datagrams on `socket` until the task is aborted, forwarding each client's to its
/// flow's target.
pub async fn serve(socket: UdpSocket, route: Arc<ArcSwapOption<Group>>) {
    let socket = Arc::new(socket);
    let Ok(local) = socket.local_addr() else {
        tracing::error!("UDP listener has no local address; not serving");
        return;
    };
    let mut flows: HashMap<SocketAddr, Flow> = HashMap::new();
    let mut buffer = vec![0u8; DATAGRAM];
    let mut sweep = tokio::time::interval(Duration::from_secs(1));
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            received = socket.recv_from(&mut buffer) => {
                let Ok((len, peer)) = received else {
                    continue;
                };
                let live = flows.get(&peer).is_some_and(|flow| !flow.answers.is_finished());
                if !live {
                    flows.remove(&peer);
                    match open(peer, local, &route, &socket).await {
                        Ok(Some(flow)) => {
                            flows.insert(peer, flow);
                        }
                        Ok(None) => continue,
                        Err(error) => {
                            tracing::debug!(%peer, %error, "could not open a UDP flow");
                            continue;
                        }
                    }
                }
                if let Some(flow) = flows.get(&peer) {
                    flow.activity.touch();
                    // Never wait on one flow: a datagram that finds its socket's buffer full,
                    // or that the target refuses (an earlier ICMP port unreachable, say), is
                    // lost, as on any UDP path.
                    let _ = flow.upstream.try_send(&buffer[..len]);
                }
            }
            _ = sweep.tick() => {
                flows.retain(|_, flow| {
                    !flow.answers.is_finished() && flow.activity.idle_for() < IDLE_TIMEOUT
                });
            }
        }
    }
}

/// Opens the flow of `peer`: picks a target, connects a socket of its own to it, and starts
/// carrying the target's answers back. `None` when the listener has no target to send to.
async fn open(
    peer: SocketAddr,
    local: SocketAddr,
    route: &ArcSwapOption<Group>,
    socket: &Arc<UdpSocket>,
) -> io::Result<Option<Flow>> {
    let Some(group) = route.load_full() else {
        return Ok(None);
    };
    let Some((member, _)) = group.pick(crate::proxy::flow_hash(peer, local, 17), 0) else {
        return Ok(None);
    };
    let Some(target) = member.addr else {
        return Ok(None);
    };
    let any: SocketAddr = if target.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let upstream = Arc::new(UdpSocket::bind(any).await?);
    upstream.connect(target).await?;
    // Learn the new socket's readiness once, so that the listener can hand it datagrams
    // without waiting (`try_send`).
    upstream.writable().await?;
    let activity = Arc::new(Activity::new());
    let answers = tokio::spawn({
        let upstream = upstream.clone();
        let activity = activity.clone();
        let socket = socket.clone();
        let mut terminated = member.terminated();
        async move {
            loop {
                tokio::select! {
                    // Wait without a buffer: a quiet flow holds none.
                    ready = upstream.readable() => {
                        if ready.is_err() {
                            return;
                        }
                        let mut buffer = Vec::with_capacity(DATAGRAM);
                        match upstream.try_recv_buf(&mut buffer) {
                            Ok(_) => {
                                activity.touch();
                                let _ = socket.send_to(&buffer, peer).await;
                            }
                            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                            // The target's port is closed (ICMP port unreachable): the flow
                            // stays, and the target's health checks decide about the target.
                            Err(error) if error.kind() == io::ErrorKind::ConnectionRefused => {}
                            Err(_) => return,
                        }
                    }
                    () = until_terminated(&mut terminated) => return,
                }
            }
        }
    });
    Ok(Some(Flow {
        upstream,
        activity,
        answers,
    }))
}
