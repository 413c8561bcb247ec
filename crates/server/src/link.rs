//! The gateway's end of the tunnel transport of VPC links: the link listener that NLB nodes
//! dial out to, their admission against the control plane's credentials, and the plans
//! sent to them.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use causeway_control::Control;
use causeway_link::tunnel::{Admission, NodeAuthority, Refusal, Registry};
use causeway_model::elb::{LoadBalancerStatus, NlbPlan, NodeReport, TargetHealthReport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type PlanWriter = tokio::io::WriteHalf<causeway_link::tunnel::TunnelStream>;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Port 0 of a load balancer names its plan stream: the gateway writes the load balancer's
/// plan there (4-byte big-endian length, then JSON) whenever it changes.
pub const PLAN_PORT: u16 = 0;

/// The largest plan document a node accepts.
pub const MAX_PLAN_BYTES: u32 = 8 * 1024 * 1024;

/// Admits nodes by the credentials the control plane issued.
#[derive(Debug)]
pub struct ControlAuthority(pub Arc<Control>);

impl NodeAuthority for ControlAuthority {
    fn admit(&self, node_id: &str, token: &str) -> Result<Admission, Refusal> {
        self.0
            .admit_node(node_id, token)
            .map(|nlbs| Admission { nlbs })
            .map_err(|reason| Refusal { reason })
    }
}

/// Why the link listener's TLS identity is not usable.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("cannot read or write {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot make a certificate: {0}")]
    Generate(String),
    #[error("invalid certificate or key in {path}: {reason}")]
    Invalid { path: String, reason: String },
}

/// The link listener's certificate and key, `{data_dir}/link/cert.pem` and `key.pem`: made
/// (self-signed, for `names`) on first start and kept, so that nodes can pin the
/// certificate once.
pub fn tls_identity(
    data_dir: &Path,
    names: &[String],
) -> Result<rustls::ServerConfig, IdentityError> {
    server_identity(&data_dir.join("link"), names, None)
}

/// A TLS server configuration with the certificate chain and key of [`server_keys`].
pub fn server_identity(
    dir: &Path,
    names: &[String],
    given: Option<(&Path, &Path)>,
) -> Result<rustls::ServerConfig, IdentityError> {
    let (certs, key) = server_keys(dir, names, given)?;
    rustls::ServerConfig::builder_with_provider(causeway_link::tls::provider())
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| IdentityError::Invalid {
            path: given
                .map_or_else(|| dir.join("cert.pem"), |(cert, _)| cert.to_path_buf())
                .display()
                .to_string(),
            reason: e.to_string(),
        })
}

/// The certificate chain and key of `given` (PEM files), or, without them, of
/// `dir/cert.pem` and `dir/key.pem`: made (self-signed, for `names`) on first start and
/// kept.
pub fn server_keys(
    dir: &Path,
    names: &[String],
    given: Option<(&Path, &Path)>,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), IdentityError> {
    let cert_path = given.map_or_else(|| dir.join("cert.pem"), |(cert, _)| cert.to_path_buf());
    let key_path = given.map_or_else(|| dir.join("key.pem"), |(_, key)| key.to_path_buf());
    let file_error = |path: &Path| {
        let path = path.display().to_string();
        move |source| IdentityError::File { path, source }
    };
    if given.is_none() && (!cert_path.exists() || !key_path.exists()) {
        std::fs::create_dir_all(dir).map_err(file_error(dir))?;
        let made = rcgen::generate_simple_self_signed(names.to_vec())
            .map_err(|e| IdentityError::Generate(e.to_string()))?;
        std::fs::write(&key_path, made.key_pair.serialize_pem()).map_err(file_error(&key_path))?;
        std::fs::write(&cert_path, made.cert.pem()).map_err(file_error(&cert_path))?;
    }
    let cert_pem = std::fs::read(&cert_path).map_err(file_error(&cert_path))?;
    let key_pem = std::fs::read(&key_path).map_err(file_error(&key_path))?;
    let invalid = |path: &Path| {
        let path = path.display().to_string();
        move |e: rustls::pki_types::pem::Error| IdentityError::Invalid {
            path,
            reason: e.to_string(),
        }
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(invalid(&cert_path))?;
    if certs.is_empty() {
        return Err(IdentityError::Invalid {
            path: cert_path.display().to_string(),
            reason: "no certificate in the file".into(),
        });
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(invalid(&key_path))?;
    Ok((certs, key))
}

/// Keeps every connected node supplied with the plans of its load balancers: opens a plan
/// stream per node and load balancer and writes the plan again whenever it changes. Several
/// nodes may serve one load balancer; each gets its plan.
pub async fn push_plans(
    control: Arc<Control>,
    registry: Registry,
    reports: NodeReports,
    instance: String,
) {
    let mut announced: (Vec<String>, Option<tokio::time::Instant>) = (Vec::new(), None);
    let mut connected = registry.watch_connected();
    let mut changes = control.subscribe_nlb_plan();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Per (node, load balancer): the open plan stream (its writing half; a task reads the
    // node's reports from the other) and the plan last written to it.
    let mut streams: BTreeMap<(String, String), (PlanWriter, NlbPlan)> = BTreeMap::new();
    loop {
        connected.borrow_and_update();
        // A node revoked (or deleted) through another node sharing the store: its tunnel
        // here goes too, within a tick.
        for connection in registry.connections() {
            if !control.node_admitted(&connection.node_id) {
                let dropped = registry.revoke(&connection.node_id);
                tracing::info!(node = %connection.node_id, dropped, "NLB node no longer admitted");
            }
        }
        let pairs: std::collections::BTreeSet<(String, String)> = registry
            .connections()
            .into_iter()
            .flat_map(|c| {
                let node = c.node_id;
                c.nlbs.into_iter().map(move |nlb| (node.clone(), nlb))
            })
            .collect();
        streams.retain(|pair, _| pairs.contains(pair));
        for pair in pairs {
            let (node, arn) = &pair;
            let plan = control.nlb_plan_for_arns(std::slice::from_ref(arn));
            if streams.get(&pair).is_some_and(|(_, sent)| *sent == plan) {
                continue;
            }
            let mut stream = match streams.remove(&pair) {
                Some((stream, _)) => stream,
                None => match registry.open_via(node, arn, PLAN_PORT).await {
                    Ok(stream) => {
                        let (reader, writer) = tokio::io::split(stream);
                        tokio::spawn(read_reports(
                            reader,
                            node.clone(),
                            arn.clone(),
                            reports.clone(),
                        ));
                        writer
                    }
                    Err(error) => {
                        tracing::warn!(%arn, %node, %error, "cannot open a plan stream to the NLB node");
                        continue;
                    }
                },
            };
            match write_frame(&mut stream, &plan).await {
                Ok(()) => {
                    streams.insert(pair, (stream, plan));
                }
                Err(error) => {
                    tracing::warn!(%arn, %node, %error, "sending the plan to the NLB node failed");
                }
            }
        }
        announce_tunnels(&control, &registry, &instance, &mut announced).await;
        // The tick looks again at nodes admitted elsewhere and renews the announcement:
        // needed only while a node is connected or tunnels are announced. Otherwise the loop
        // sleeps until a node connects or the plans change, and an idle server does not wake.
        let ticking = !announced.0.is_empty() || !registry.connections().is_empty();
        tokio::select! {
            changed = connected.changed() => if changed.is_err() { return },
            changed = changes.changed() => if changed.is_err() { return },
            _ = tick.tick(), if ticking => {}
        }
    }
}

/// How long an announcement of the tunnels this process holds stays valid: a process that
/// stops without withdrawing it (a crash) counts for that long.
const TUNNELS_VALID: Duration = Duration::from_secs(15);

/// Records in the store which remote load balancers this process holds a tunnel for, when
/// that changes and every few seconds while it holds any, so that every node sharing the
/// store settles VPC links to them alike (not only the one the NLB node dialled).
async fn announce_tunnels(
    control: &Arc<Control>,
    registry: &Registry,
    instance: &str,
    announced: &mut (Vec<String>, Option<tokio::time::Instant>),
) {
    let mut held: Vec<String> = registry
        .connections()
        .into_iter()
        .flat_map(|connection| connection.nlbs)
        .collect();
    held.sort();
    held.dedup();
    let fresh = announced
        .1
        .is_some_and(|at| at.elapsed() < TUNNELS_VALID / 3);
    if held == announced.0 && (held.is_empty() || fresh) {
        return;
    }
    let expires = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|now| (now + TUNNELS_VALID).as_secs())
        .unwrap_or_default();
    let (control, instance_id, arns) = (control.clone(), instance.to_owned(), held.clone());
    let written = tokio::task::spawn_blocking(move || {
        control.announce_tunnels(
            &instance_id,
            &arns,
            i64::try_from(expires).unwrap_or(i64::MAX),
        )
    })
    .await;
    match written {
        Ok(Ok(())) => *announced = (held, Some(tokio::time::Instant::now())),
        Ok(Err(error)) => tracing::warn!(%error, "cannot record this node's tunnels"),
        Err(error) => tracing::warn!(%error, "recording this node's tunnels failed"),
    }
}

/// Writes one document: its length (4 bytes, big-endian), then its JSON.
pub async fn write_frame<W, T>(writer: &mut W, value: &T) -> std::io::Result<()>
where
    W: tokio::io::AsyncWrite + Unpin,
    T: serde::Serialize,
{
    let body = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    let len = u32::try_from(body.len()).map_err(std::io::Error::other)?;
    writer.write_all(&len.to_be_bytes()).await?;
    writer.write_all(&body).await?;
    writer.flush().await
}

/// Reads one document written by [`write_frame`], refusing lengths above
/// [`MAX_PLAN_BYTES`] before allocating; `Ok(None)` when the stream has ended.
pub async fn read_frame<R, T>(reader: &mut R) -> std::io::Result<Option<T>>
where
    R: tokio::io::AsyncRead + Unpin,
    T: serde::de::DeserializeOwned,
{
    let mut len = [0u8; 4];
    match reader.read_exact(&mut len).await {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(error) => return Err(error),
    }
    let len = u32::from_be_bytes(len);
    if len > MAX_PLAN_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("a document of {len} bytes is larger than {MAX_PLAN_BYTES}"),
        ));
    }
    let mut body = vec![0u8; len as usize];
    reader.read_exact(&mut body).await?;
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// What nodes report of the load balancers they run, by (node id, load balancer ARN).
#[derive(Debug, Default, Clone)]
pub struct NodeReports(Arc<std::sync::Mutex<BTreeMap<(String, String), NodeReport>>>);

impl NodeReports {
    /// The live state of a node-served load balancer, if a node reported it: `active` if
    /// any of its nodes runs it so.
    pub fn load_balancer_status(&self, arn: &str) -> Option<Option<LoadBalancerStatus>> {
        let reports = self.0.lock().ok()?;
        let mut reported = false;
        let best = reports
            .iter()
            .filter(|((_, a), _)| a == arn)
            .inspect(|_| reported = true)
            .filter_map(|(_, r)| r.load_balancer.as_ref())
            .min_by_key(|s| s.state != causeway_model::elb::LoadBalancerState::Active)
            .cloned();
        reported.then_some(best)
    }

    /// The health of a target group's targets, if a node reported it.
    pub fn target_health(&self, target_group_arn: &str) -> Option<Vec<TargetHealthReport>> {
        let reports = self.0.lock().ok()?;
        reports
            .values()
            .find_map(|r| r.target_health.get(target_group_arn).cloned())
    }

    fn set(&self, node: &str, arn: &str, report: Option<NodeReport>) {
        if let Ok(mut reports) = self.0.lock() {
            let key = (node.to_owned(), arn.to_owned());
            match report {
                Some(report) => reports.insert(key, report),
                None => reports.remove(&key),
            };
        }
    }
}

/// Reads a node's reports for one load balancer until the stream ends.
async fn read_reports(
    mut reader: tokio::io::ReadHalf<causeway_link::tunnel::TunnelStream>,
    node: String,
    arn: String,
    reports: NodeReports,
) {
    loop {
        match read_frame::<_, NodeReport>(&mut reader).await {
            Ok(Some(report)) => reports.set(&node, &arn, Some(report)),
            Ok(None) => break,
            Err(error) => {
                tracing::warn!(%arn, %error, "unreadable report from an NLB node");
                break;
            }
        }
    }
    reports.set(&node, &arn, None);
}
