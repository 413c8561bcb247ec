//! TLS listeners that terminate TLS: the listener's certificates (imported into ACM),
//! chosen by the client's server name, the default one otherwise; and, behind them, TLS to
//! the targets of TLS target groups. As on AWS, the load balancer does not check targets'
//! certificates.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use causeway_model::elb::ListenerTls;
use tokio_rustls::rustls;
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// How long a client has to complete its handshake.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A listener's termination: its plan (to tell when it changes) and the acceptor built
/// from it.
pub(crate) struct Termination {
    pub(crate) plan: ListenerTls,
    pub(crate) acceptor: TlsAcceptor,
}

impl std::fmt::Debug for Termination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Termination")
            .field("certificates", &self.plan.certificates.len())
            .field("alpn", &self.plan.alpn)
            .field("protocols", &self.plan.protocols)
            .field("ciphers", &self.plan.ciphers.len())
            .finish()
    }
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver")
            .field("certificates", &self.certificates.len())
            .finish()
    }
}

/// The listener's certificates, the default first, with the names each covers.
struct Resolver {
    certificates: Vec<(Vec<String>, Arc<CertifiedKey>)>,
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let chosen = hello.server_name().and_then(|name| {
            self.certificates.iter().find(|(names, _)| {
                names
                    .iter()
                    .any(|pattern| causeway_model::acm::covers(pattern, name))
            })
        });
        chosen
            .or_else(|| self.certificates.first())
            .map(|(_, key)| key.clone())
    }
}

/// Builds a listener's termination from its plan: its certificates, and the versions and
/// ciphers of its security policy, chosen in the policy's order rather than the client's
/// (as ELB does).
pub(crate) fn termination(plan: &ListenerTls) -> Result<Termination, String> {
    let (provider, versions) = causeway_link::tls::policy_provider(&plan.protocols, &plan.ciphers)?;
    let mut certificates = Vec::with_capacity(plan.certificates.len());
    for listed in &plan.certificates {
        let key = causeway_link::tls::certified_key_from_pem(
            &listed.certificate.chain_pem,
            &listed.certificate.key_pem,
        )?;
        certificates.push((listed.names.clone(), key));
    }
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(Resolver { certificates }));
    config.alpn_protocols = plan.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    config.ignore_client_order = !plan.ciphers.is_empty();
    Ok(Termination {
        plan: plan.clone(),
        acceptor: TlsAcceptor::from(Arc::new(config)),
    })
}

/// The client side of TLS to targets (any certificate accepted, signatures still checked).
pub(crate) fn to_targets() -> Option<&'static TlsConnector> {
    static CONNECTOR: OnceLock<Option<TlsConnector>> = OnceLock::new();
    CONNECTOR
        .get_or_init(|| {
            causeway_link::tls::accept_any_certificate()
                .map(|config| TlsConnector::from(Arc::new(config)))
                .map_err(|error| tracing::error!(%error, "no TLS client for TLS target groups"))
                .ok()
        })
        .as_ref()
}
