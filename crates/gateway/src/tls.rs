//! The certificates the gateway's HTTPS listener serves: a custom domain's own (imported
//! into ACM and named by the domain), chosen by the TLS server name, else the listener's.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use causeway_model::gateway::ServingCertificate;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;

/// Domain name (lowercase, `*.` for a wildcard domain) → its certificate, loaded.
type ByName = HashMap<String, (Arc<ServingCertificate>, Arc<CertifiedKey>)>;

/// The custom domains' certificates, swapped whole when a plan changes them.
#[derive(Debug, Default)]
pub(crate) struct DomainCertificates {
    by_name: ArcSwap<ByName>,
}

impl DomainCertificates {
    /// Takes the plan's certificates, loading only those that changed. A certificate the
    /// crypto provider cannot load (it was checked at import) is left out and logged: the
    /// domain is then served with the listener's certificate.
    pub(crate) fn apply(
        &self,
        planned: &std::collections::BTreeMap<String, Arc<ServingCertificate>>,
    ) {
        let current = self.by_name.load();
        let unchanged = planned.len() == current.len()
            && planned.iter().all(|(name, c)| {
                current
                    .get(name)
                    .is_some_and(|(had, _)| Arc::ptr_eq(had, c) || had == c)
            });
        if unchanged {
            return;
        }
        let mut next = ByName::with_capacity(planned.len());
        for (name, certificate) in planned {
            let loaded = match current.get(name) {
                Some((had, key)) if had == certificate => Ok(key.clone()),
                _ => causeway_link::tls::certified_key_from_pem(
                    &certificate.chain_pem,
                    &certificate.key_pem,
                ),
            };
            match loaded {
                Ok(key) => {
                    next.insert(name.clone(), (certificate.clone(), key));
                }
                Err(error) => {
                    tracing::error!(domain = %name, %error, "cannot serve the domain's certificate; it gets the listener's");
                }
            }
        }
        self.by_name.store(Arc::new(next));
    }

    /// The certificate for the server name a client asked for: the domain's own, that of a
    /// wildcard domain covering it, or `None`.
    fn find(&self, server_name: &str) -> Option<Arc<CertifiedKey>> {
        let by_name = self.by_name.load();
        if by_name.is_empty() {
            return None;
        }
        let name = server_name.trim_end_matches('.').to_ascii_lowercase();
        by_server_name(&by_name, &name).map(|(_, (_, key))| key.clone())
    }
}

/// The entry for a (lowercase) TLS server name in a map of domain names: its own, else
/// that of the wildcard domain (`*.parent`) covering it; with the domain's name.
fn by_server_name<'m, V>(
    map: &'m HashMap<String, V>,
    server_name: &str,
) -> Option<(&'m String, &'m V)> {
    if let Some(found) = map.get_key_value(server_name) {
        return Some(found);
    }
    let (_, parent) = server_name.split_once('.')?;
    map.get_key_value(&format!("*.{parent}"))
}

/// Chooses the certificate of each TLS handshake by its server name.
#[derive(Debug)]
pub(crate) struct Resolver {
    pub(crate) domains: Arc<DomainCertificates>,
    pub(crate) default: Arc<CertifiedKey>,
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        hello
            .server_name()
            .and_then(|name| self.domains.find(name))
            .or_else(|| Some(self.default.clone()))
    }
}

/// The listener's certificate, as a signing key for [`Resolver`].
pub(crate) fn certified_key(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<CertifiedKey>, rustls::Error> {
    let signing = causeway_link::tls::provider()
        .key_provider
        .load_private_key(key)?;
    let certified = CertifiedKey::new(chain, signing);
    certified.keys_match()?;
    Ok(Arc::new(certified))
}

/// What the TLS handshake of a connection served with a custom domain's own settings
/// established; requests to such a domain are checked against it.
#[derive(Debug)]
pub struct Peer {
    /// The TLS server name the client asked for, lowercase.
    pub server_name: String,
    /// The custom domain (its name in the plan, `*.` for a wildcard) whose settings served
    /// the handshake.
    pub domain: String,
    /// Mutual TLS: the certificate the client presented, described.
    pub client_cert: Option<Arc<causeway_model::mtls::ClientCert>>,
    /// Mutual TLS: whether the certificate chains to the domain's truststore, else why not
    /// (`Access denied. Reason: ...`, as AWS logs it). `Ok` for domains without mutual TLS.
    pub verdict: Result<(), String>,
}

/// The protocols the HTTPS listener offers clients, in its order of preference (its
/// choice wins over the client's): HTTP/2, then HTTP/1.1, as API Gateway's endpoints offer.
pub(crate) const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// A custom domain's server config, built from its security policy and truststore.
struct Special {
    config: Arc<rustls::ServerConfig>,
    /// Mutual TLS: the verifier of the truststore (or why none could be built from it), and
    /// the truststore's certificates that are not trust anchors.
    client_auth: Option<(Verifier, Vec<CertificateDer<'static>>)>,
}

/// A truststore's chain verifier, or why none could be built from it.
type Verifier = Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, String>;

/// The server configs of custom domains with TLS settings of their own (an enhanced
/// security policy, a strict endpoint access mode, mutual TLS), chosen by the TLS server
/// name before the handshake goes on; any other name gets the listener's config.
#[derive(Default)]
pub(crate) struct DomainConfigs {
    plans: ArcSwap<std::collections::BTreeMap<String, Arc<causeway_model::gateway::DomainTls>>>,
    built: ArcSwap<HashMap<String, Arc<Special>>>,
    /// The HTTPS listener's certificate resolver, once there is one.
    resolver: std::sync::OnceLock<Arc<Resolver>>,
}

impl std::fmt::Debug for DomainConfigs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DomainConfigs")
            .field("domains", &self.plans.load().keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl DomainConfigs {
    /// Takes the plan's domain settings, building the configs of those that changed.
    pub(crate) fn apply(
        &self,
        planned: &std::collections::BTreeMap<String, Arc<causeway_model::gateway::DomainTls>>,
    ) {
        if **self.plans.load() == *planned {
            return;
        }
        self.plans.store(Arc::new(planned.clone()));
        self.build();
    }

    /// Sets the listener's resolver (the certificates are chosen as for any other name).
    pub(crate) fn set_resolver(&self, resolver: Arc<Resolver>) {
        if self.resolver.set(resolver).is_ok() {
            self.build();
        }
    }

    fn build(&self) {
        let Some(resolver) = self.resolver.get() else {
            return;
        };
        let plans = self.plans.load();
        let current = self.built.load();
        let mut next = HashMap::with_capacity(plans.len());
        for (name, plan) in plans.iter() {
            match special(plan, resolver) {
                Ok(special) => {
                    next.insert(name.clone(), Arc::new(special));
                }
                Err(error) => {
                    // Keep what served the domain before, if anything.
                    tracing::error!(domain = %name, %error, "cannot serve the domain's TLS settings");
                    if let Some(had) = current.get(name) {
                        next.insert(name.clone(), had.clone());
                    }
                }
            }
        }
        self.built.store(Arc::new(next));
    }

    /// The config for a handshake that asked for `server_name`: the domain's own (with the
    /// domain's name), that of a wildcard domain covering it, or `None`.
    fn find(&self, server_name: &str) -> Option<(String, Arc<Special>)> {
        let built = self.built.load();
        if built.is_empty() {
            return None;
        }
        by_server_name(&built, server_name).map(|(name, special)| (name.clone(), special.clone()))
    }

    /// Completes a TLS handshake that has sent its ClientHello: with the config of the
    /// domain the client named if it has one (then with what the handshake established),
    /// else with `default`.
    pub(crate) async fn accept<IO>(
        &self,
        start: tokio_rustls::StartHandshake<IO>,
        default: &Arc<rustls::ServerConfig>,
    ) -> std::io::Result<(tokio_rustls::server::TlsStream<IO>, Option<Arc<Peer>>)>
    where
        IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        let server_name = start
            .client_hello()
            .server_name()
            .map(|name| name.trim_end_matches('.').to_ascii_lowercase());
        let chosen = server_name.as_deref().and_then(|name| self.find(name));
        let Some((domain, special)) = chosen else {
            return Ok((start.into_stream(default.clone()).await?, None));
        };
        let stream = start.into_stream(special.config.clone()).await?;
        let (client_cert, verdict) = match &special.client_auth {
            None => (None, Ok(())),
            Some((verifier, intermediates)) => verdict(
                stream.get_ref().1.peer_certificates(),
                verifier,
                intermediates,
            ),
        };
        let peer = Peer {
            server_name: server_name.unwrap_or_default(),
            domain,
            client_cert,
            verdict,
        };
        Ok((stream, Some(Arc::new(peer))))
    }
}

/// Builds a domain's server config: its policy's versions and ciphers, the listener's
/// certificates, and for mutual TLS a request for the client's certificate.
fn special(
    plan: &causeway_model::gateway::DomainTls,
    resolver: &Arc<Resolver>,
) -> Result<Special, String> {
    let policy = plan.security_policy;
    let (provider, versions) =
        causeway_link::tls::policy_provider(policy.protocols, policy.ciphers)?;
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| e.to_string())?;
    let (builder, client_auth) = match &plan.truststore {
        None => (builder.with_no_client_auth(), None),
        Some(truststore) => {
            let (anchors, intermediates): (Vec<_>, Vec<_>) = truststore
                .iter()
                .cloned()
                .partition(|der| causeway_model::mtls::self_issued(der));
            let mut roots = rustls::RootCertStore::empty();
            for anchor in anchors {
                // A certificate webpki cannot take as an anchor gave a warning when the
                // truststore was read; clients that need it are refused.
                let _ = roots.add(anchor);
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .map_err(|error| {
                format!("Could not find issuer for certificate (the truststore has no root certificate: {error})")
            });
            let asking = Arc::new(AskForCertificate {
                hints: verifier
                    .as_ref()
                    .map(|v| v.root_hint_subjects().to_vec())
                    .unwrap_or_default(),
                schemes: causeway_link::tls::provider()
                    .signature_verification_algorithms
                    .supported_schemes(),
            });
            (
                builder.with_client_cert_verifier(asking),
                Some((verifier, intermediates)),
            )
        }
    };
    let mut config = builder.with_cert_resolver(resolver.clone());
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    config.ignore_client_order = true;
    Ok(Special {
        config: Arc::new(config),
        client_auth,
    })
}

/// What a client's certificate chain (as presented) says to a domain's truststore: the
/// certificate described, and whether it chains to the truststore's roots through the
/// truststore's own certificates (as on AWS, the whole chain must be in the truststore;
/// what the client sends beside its certificate is not used), is in its validity and is
/// signed with an algorithm this server takes (SHA-256 or stronger; RSA keys of 2,048 bits
/// or more). Revocation is not checked, as on AWS.
fn verdict(
    presented: Option<&[CertificateDer<'static>]>,
    verifier: &Verifier,
    intermediates: &[CertificateDer<'static>],
) -> (
    Option<Arc<causeway_model::mtls::ClientCert>>,
    Result<(), String>,
) {
    let denied = |reason: &str| Err(format!("Access denied. Reason: {reason}"));
    let Some(leaf) = presented.and_then(<[_]>::first) else {
        return (None, denied("No client certificate presented"));
    };
    let described = causeway_model::mtls::describe(leaf).map(Arc::new);
    let verifier = match verifier {
        Ok(verifier) => verifier,
        Err(reason) => return (described, denied(reason)),
    };
    let now = rustls::pki_types::UnixTime::now();
    let result = match verifier.verify_client_cert(leaf, intermediates, now) {
        Ok(_) => Ok(()),
        Err(rustls::Error::InvalidCertificate(error)) => {
            use rustls::CertificateError as E;
            denied(match error {
                E::UnknownIssuer if causeway_model::mtls::self_issued(leaf) => {
                    "self signed certificate"
                }
                E::UnknownIssuer => "Could not find issuer for certificate",
                E::Expired | E::ExpiredContext { .. } => "certificate has expired",
                E::NotValidYet | E::NotValidYetContext { .. } => "certificate is not yet valid",
                E::BadSignature
                | E::UnsupportedSignatureAlgorithmContext { .. }
                | E::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
                    "Client cert using an insecure Signature Algorithm"
                }
                E::InvalidPurpose | E::InvalidPurposeContext { .. } => {
                    "unsupported certificate purpose"
                }
                _ => "certificate verify failed",
            })
        }
        Err(_) => denied("certificate verify failed"),
    };
    (described, result)
}

/// Asks clients for a certificate (hinting the truststore's roots) and takes any chain in
/// the handshake, still checking that the client holds the certificate's key; whether the
/// chain is trusted is decided after the handshake ([`verdict`]), so that a refused client
/// gets AWS's HTTP 403 rather than a TLS alert.
#[derive(Debug)]
struct AskForCertificate {
    hints: Vec<rustls::DistinguishedName>,
    schemes: Vec<rustls::SignatureScheme>,
}

impl rustls::server::danger::ClientCertVerifier for AskForCertificate {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::server::danger::ClientCertVerified, rustls::Error> {
        Ok(rustls::server::danger::ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &causeway_link::tls::provider().signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &causeway_link::tls::provider().signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.schemes.clone()
    }
}
