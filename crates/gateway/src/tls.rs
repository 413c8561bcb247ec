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
        if let Some((_, key)) = by_name.get(&name) {
            return Some(key.clone());
        }
        let (_, parent) = name.split_once('.')?;
        by_name
            .get(&format!("*.{parent}"))
            .map(|(_, key)| key.clone())
    }
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
