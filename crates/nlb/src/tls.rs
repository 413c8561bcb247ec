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

/// The rustls suite of a security policy's cipher name, for the ciphers rustls has (the
/// AES-GCM and ChaCha20-Poly1305 ones with ECDHE, and TLS 1.3's); `None` for the others
/// (CBC, RSA key exchange, 3DES), which rustls does not implement.
fn suite_of(name: &str) -> Option<rustls::CipherSuite> {
    use rustls::CipherSuite as S;
    Some(match name {
        "TLS_AES_128_GCM_SHA256" => S::TLS13_AES_128_GCM_SHA256,
        "TLS_AES_256_GCM_SHA384" => S::TLS13_AES_256_GCM_SHA384,
        "TLS_CHACHA20_POLY1305_SHA256" => S::TLS13_CHACHA20_POLY1305_SHA256,
        "ECDHE-ECDSA-AES128-GCM-SHA256" => S::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        "ECDHE-ECDSA-AES256-GCM-SHA384" => S::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        "ECDHE-ECDSA-CHACHA20-POLY1305" => S::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        "ECDHE-RSA-AES128-GCM-SHA256" => S::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        "ECDHE-RSA-AES256-GCM-SHA384" => S::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        "ECDHE-RSA-CHACHA20-POLY1305" => S::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        _ => return None,
    })
}

/// The TLS versions and cipher suites a listener's security policy allows, among the ones
/// rustls speaks (TLS 1.2 and 1.3), the policy's first cipher first. A plan without a
/// policy allows them all.
fn policy_provider(
    plan: &ListenerTls,
) -> Result<
    (
        Arc<rustls::crypto::CryptoProvider>,
        Vec<&'static rustls::SupportedProtocolVersion>,
    ),
    String,
> {
    let provider = causeway_link::tls::provider();
    let allows =
        |version: &str| plan.protocols.is_empty() || plan.protocols.iter().any(|p| p == version);
    let mut versions: Vec<&'static rustls::SupportedProtocolVersion> = Vec::new();
    if allows("TLSv1.3") {
        versions.push(&rustls::version::TLS13);
    }
    if allows("TLSv1.2") {
        versions.push(&rustls::version::TLS12);
    }
    if plan.ciphers.is_empty() {
        return if versions.is_empty() {
            Err(
                "its security policy allows no TLS version this server speaks (TLS 1.2, 1.3)"
                    .into(),
            )
        } else {
            Ok((provider, versions))
        };
    }
    let suites: Vec<rustls::SupportedCipherSuite> = plan
        .ciphers
        .iter()
        .filter_map(|name| suite_of(name))
        .filter_map(|wanted| {
            provider
                .cipher_suites
                .iter()
                .find(|s| s.suite() == wanted)
                .copied()
        })
        .collect();
    // A version none of whose suites the policy allows is not offered.
    versions.retain(|version| suites.iter().any(|s| s.version() == *version));
    if versions.is_empty() {
        return Err(
            "its security policy allows no TLS version and cipher this server speaks (TLS 1.2 and 1.3 with AES-GCM or ChaCha20-Poly1305)"
                .into(),
        );
    }
    let provider = rustls::crypto::CryptoProvider {
        cipher_suites: suites,
        ..(*provider).clone()
    };
    Ok((Arc::new(provider), versions))
}

/// Builds a listener's termination from its plan: its certificates, and the versions and
/// ciphers of its security policy, chosen in the policy's order rather than the client's
/// (as ELB does).
pub(crate) fn termination(plan: &ListenerTls) -> Result<Termination, String> {
    let (provider, versions) = policy_provider(plan)?;
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
