//! TLS client settings shared by the gateway (integrations with
//! `tlsConfig.insecureSkipVerification`), the load balancer (HTTPS health checks) and
//! tunnel nodes (the gateway's certificate, checked against given roots).

use std::sync::Arc;

use tokio_rustls::rustls;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio_rustls::rustls::{DigitallySignedStruct, SignatureScheme};

/// The crypto provider used everywhere (ring), named explicitly so that no process-wide
/// default has to be installed.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client configuration that accepts any server certificate (signatures are still
/// checked). For health checks, which test that a target answers rather than who it is, and
/// for integrations that ask to skip verification.
pub fn accept_any_certificate() -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = provider();
    Ok(
        rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
            .with_no_client_auth(),
    )
}

/// A client certificate and its private key, to show servers that ask for one.
pub type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// A client configuration for backends that shows `identity` to servers that ask for a
/// client certificate, and checks the server's certificate against `roots`, or accepts any
/// (signatures still checked) when `roots` is `None`.
pub fn showing_identity(
    roots: Option<rustls::RootCertStore>,
    (chain, key): Identity,
) -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    match roots {
        Some(roots) => builder
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key),
        None => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
            .with_client_auth_cert(chain, key),
    }
}

/// A client configuration that checks the server's certificate against `roots`: what a
/// tunnel node uses to make sure it talks to its gateway.
pub fn verified(roots: rustls::RootCertStore) -> Result<rustls::ClientConfig, rustls::Error> {
    Ok(rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A certificate chain and private key in PEM, ready to serve: what a certificate imported
/// into ACM becomes for the gateway's HTTPS listener and for TLS listeners.
pub fn certified_key_from_pem(
    chain_pem: &str,
    key_pem: &str,
) -> Result<Arc<rustls::sign::CertifiedKey>, String> {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    let chain = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the certificate does not read: {e}"))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| format!("the private key does not read: {e}"))?;
    let signing = provider()
        .key_provider
        .load_private_key(key)
        .map_err(|e| format!("the private key cannot sign: {e}"))?;
    Ok(Arc::new(rustls::sign::CertifiedKey::new(chain, signing)))
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

/// The TLS versions and cipher suites a security policy allows (`protocols` as `TLSv1.2`,
/// ciphers by OpenSSL name), among the ones rustls speaks (TLS 1.2 and 1.3), the policy's
/// first cipher first. Empty lists allow them all.
pub fn policy_provider(
    protocols: &[impl AsRef<str>],
    ciphers: &[impl AsRef<str>],
) -> Result<
    (
        Arc<rustls::crypto::CryptoProvider>,
        Vec<&'static rustls::SupportedProtocolVersion>,
    ),
    String,
> {
    let provider = provider();
    let allows =
        |version: &str| protocols.is_empty() || protocols.iter().any(|p| p.as_ref() == version);
    let mut versions: Vec<&'static rustls::SupportedProtocolVersion> = Vec::new();
    if allows("TLSv1.3") {
        versions.push(&rustls::version::TLS13);
    }
    if allows("TLSv1.2") {
        versions.push(&rustls::version::TLS12);
    }
    if ciphers.is_empty() {
        return if versions.is_empty() {
            Err(
                "its security policy allows no TLS version this server speaks (TLS 1.2, 1.3)"
                    .into(),
            )
        } else {
            Ok((provider, versions))
        };
    }
    let suites: Vec<rustls::SupportedCipherSuite> = ciphers
        .iter()
        .filter_map(|name| suite_of(name.as_ref()))
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
