//! Keys for the certificates the control plane makes (client certificates, ACM's requested
//! certificates).

use rcgen::KeyPair;

/// A new RSA 2048-bit key, as AWS makes for these certificates. The `rsa` crate makes it:
/// ring, which signs with RSA keys here, cannot make them.
pub(crate) fn rsa_2048() -> Result<KeyPair, String> {
    use rsa::pkcs8::EncodePrivateKey as _;
    let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).map_err(|e| e.to_string())?;
    let der = key.to_pkcs8_der().map_err(|e| e.to_string())?;
    let der = rustls_pki_types::PrivatePkcs8KeyDer::from(der.as_bytes());
    KeyPair::from_pkcs8_der_and_sign_algo(&der, &rcgen::PKCS_RSA_SHA256).map_err(|e| e.to_string())
}
