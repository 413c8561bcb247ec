//! AWS Certificate Manager: certificates imported for custom domain names, and what
//! DescribeCertificate says of them, read from the certificate itself.
//!
//! Reading is pure: the PEM text in, the certificate's details out. Whether the private key
//! belongs to the certificate is checked where the crypto provider is (the control plane).

use std::collections::BTreeMap;

use der::Decode;
use der::asn1::ObjectIdentifier as Oid;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName};

/// A certificate in ACM, as stored (the private key with it: protect the store).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Certificate {
    /// `arn:aws:acm:{region}:{account}:certificate/{id}`.
    pub arn: String,
    /// The certificate's id (a UUID), the ARN's last part.
    pub id: String,
    /// The certificate, PEM.
    pub certificate: String,
    /// The chain of intermediate certificates, PEM, if one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
    /// The private key, PEM.
    pub private_key: String,
    /// What the certificate says.
    pub details: Details,
    /// Epoch seconds: the first import.
    pub created_at: i64,
    /// Creation order among the store's records (certificates imported in one second keep
    /// their order).
    #[serde(default)]
    pub seq: u64,
    /// Epoch seconds: the last import (the issue, for an issued certificate).
    pub imported_at: i64,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// For a certificate issued here (RequestCertificate, `AMAZON_ISSUED`): how it was asked
    /// for. `None` for an imported one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued: Option<Issued>,
}

/// How an issued certificate was asked for, and its domains' validation as
/// DescribeCertificate shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Issued {
    /// `DNS` or `EMAIL`.
    pub validation_method: String,
    /// One per name of the certificate, the domain name first.
    pub validations: Vec<Validation>,
    /// The `IdempotencyToken` it was asked with: the same token within an hour answers the
    /// same certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_token: Option<String>,
    /// `ENABLED` or `DISABLED` (`Options.CertificateTransparencyLoggingPreference`).
    pub transparency_logging: String,
    /// `ENABLED` or `DISABLED` (`Options.Export`).
    pub export: String,
}

/// One name's validation: the CNAME record (DNS) or addresses (EMAIL) ACM would check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Validation {
    pub domain_name: String,
    pub validation_domain: String,
    /// The record's name and value (DNS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<(String, String)>,
    /// The addresses mail would go to (EMAIL).
    #[serde(default)]
    pub emails: Vec<String>,
}

/// The certificate authority that signs the certificates RequestCertificate issues, kept in
/// the store so that every node issues under the same one.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Authority {
    /// The CA's certificate, PEM.
    pub certificate: String,
    /// Its private key, PKCS#8 PEM.
    pub private_key: String,
}

/// The private key stays out of logs.
impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority")
            .field("private_key", &"(private key)")
            .finish_non_exhaustive()
    }
}

/// The validation of `name` ACM would ask for: for DNS, a CNAME record under the name (a
/// wildcard's base name) whose name and value are derived from the certificate's id and the
/// name, so that they stay the same for a certificate; for EMAIL, the five addresses of the
/// domain ACM writes to.
pub fn validation(id: &str, name: &str, method: &str) -> Validation {
    let base = name.strip_prefix("*.").unwrap_or(name).to_owned();
    let digest = |salt: &str| {
        let hash = ring::digest::digest(
            &ring::digest::SHA256,
            format!("{salt}/{id}/{base}").as_bytes(),
        );
        hash.as_ref()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let (record, emails) = if method == "DNS" {
        let record = (
            format!("_{}.{base}.", digest("name")),
            format!(
                "_{}.{}.acm-validations.aws.",
                digest("value"),
                &digest("zone")[..10]
            ),
        );
        (Some(record), Vec::new())
    } else {
        let emails = [
            "admin",
            "administrator",
            "hostmaster",
            "postmaster",
            "webmaster",
        ]
        .iter()
        .map(|user| format!("{user}@{base}"))
        .collect();
        (None, emails)
    };
    Validation {
        domain_name: name.to_owned(),
        validation_domain: base,
        record,
        emails,
    }
}

/// What a certificate says of itself, in DescribeCertificate's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Details {
    /// The subject's common name, else the first DNS name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_name: Option<String>,
    /// The DNS names of the subject alternative name extension.
    #[serde(default)]
    pub subject_alternative_names: Vec<String>,
    /// Lowercase hex bytes joined by colons (`0f:ac:b0`), as ACM writes them.
    pub serial: String,
    /// RFC 4514 (`CN=api.example.com,O=Example`).
    pub subject: String,
    pub issuer: String,
    /// Epoch seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// `RSA_2048`, `EC_prime256v1`, ...
    pub key_algorithm: String,
    /// `SHA256WITHRSA`, `SHA256WITHECDSA`, ...
    pub signature_algorithm: String,
    /// `DIGITAL_SIGNATURE`, `KEY_ENCIPHERMENT`, ...
    #[serde(default)]
    pub key_usages: Vec<String>,
    /// `(name, OID)`: `TLS_WEB_SERVER_AUTHENTICATION`, or `OTHER` for an unnamed OID.
    #[serde(default)]
    pub extended_key_usages: Vec<(String, String)>,
}

/// The private key stays out of logs.
impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificate")
            .field("arn", &self.arn)
            .field("details", &self.details)
            .field("private_key", &"(private key)")
            .finish_non_exhaustive()
    }
}

impl Certificate {
    /// `ISSUED`, or `EXPIRED` once past `not_after`.
    pub fn status(&self, now: i64) -> &'static str {
        if now > self.details.not_after {
            "EXPIRED"
        } else {
            "ISSUED"
        }
    }
}

/// A certificate or key ACM refuses: ValidationException with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

fn invalid(message: impl Into<String>) -> Invalid {
    Invalid(message.into())
}

/// The certificates of a PEM text, in order.
fn pem_certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, Invalid> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| invalid(format!("The {what} is not PEM-encoded or is not valid.")))?;
    if certificates.is_empty() {
        return Err(invalid(format!(
            "The {what} is not PEM-encoded or is not valid."
        )));
    }
    Ok(certificates)
}

/// Reads an import: exactly one certificate in `certificate`, any number in `chain`, a PEM
/// private key. Answers the certificate's details and the DER of the chain to serve
/// (certificate first) and of the key, for the caller to check that they belong together.
pub fn read_import(
    certificate: &[u8],
    chain: Option<&[u8]>,
    private_key: &[u8],
    now: i64,
) -> Result<
    (
        Details,
        Vec<CertificateDer<'static>>,
        PrivateKeyDer<'static>,
    ),
    Invalid,
> {
    let mut certificates = pem_certificates(certificate, "certificate")?;
    if certificates.len() > 1 {
        return Err(invalid(
            "The certificate field contains more than one certificate. You can specify only one certificate in this field.",
        ));
    }
    let details = details(&certificates[0])?;
    if details.not_after < now {
        return Err(invalid("The certificate has expired, is not valid."));
    }
    if details.not_before > now {
        return Err(invalid(
            "The certificate is not in effect yet, is not valid.",
        ));
    }
    if let Some(chain) = chain {
        for link in pem_certificates(chain, "certificate chain")? {
            x509_cert::Certificate::from_der(&link).map_err(|_| {
                invalid("The certificate chain is not PEM-encoded or is not valid.")
            })?;
            certificates.push(link);
        }
    }
    let key = PrivateKeyDer::from_pem_slice(private_key)
        .map_err(|_| invalid("The private key is not PEM-encoded or is not valid."))?;
    Ok((details, certificates, key))
}

/// What a certificate (DER) says of itself.
pub fn details(der: &[u8]) -> Result<Details, Invalid> {
    let parsed = x509_cert::Certificate::from_der(der)
        .map_err(|_| invalid("The certificate is not PEM-encoded or is not valid."))?;
    let tbs = &parsed.tbs_certificate;
    let mut sans = Vec::new();
    let mut key_usages = Vec::new();
    let mut extended_key_usages = Vec::new();
    for extension in tbs.extensions.iter().flatten() {
        let value = extension.extn_value.as_bytes();
        match extension.extn_id.to_string().as_str() {
            "2.5.29.17" => {
                if let Ok(SubjectAltName(names)) = SubjectAltName::from_der(value) {
                    sans.extend(names.into_iter().filter_map(|name| match name {
                        GeneralName::DnsName(dns) => Some(dns.to_string()),
                        _ => None,
                    }));
                }
            }
            "2.5.29.15" => {
                if let Ok(usage) = KeyUsage::from_der(value) {
                    key_usages = key_usage_names(&usage);
                }
            }
            "2.5.29.37" => {
                if let Ok(ExtendedKeyUsage(oids)) = ExtendedKeyUsage::from_der(value) {
                    extended_key_usages = oids
                        .iter()
                        .map(|oid| (extended_key_usage_name(oid).to_owned(), oid.to_string()))
                        .collect();
                }
            }
            _ => {}
        }
    }
    let common_name = tbs
        .subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid.to_string() == "2.5.4.3")
        .and_then(|atv| text(&atv.value));
    let domain_name = common_name.or_else(|| sans.first().cloned());
    let serial = colon_hex(tbs.serial_number.as_bytes());
    let unix = epoch_seconds;
    Ok(Details {
        domain_name,
        subject_alternative_names: sans,
        serial,
        subject: tbs.subject.to_string(),
        issuer: tbs.issuer.to_string(),
        not_before: unix(tbs.validity.not_before),
        not_after: unix(tbs.validity.not_after),
        key_algorithm: key_algorithm(&tbs.subject_public_key_info)?,
        signature_algorithm: signature_algorithm(&parsed.signature_algorithm.oid),
        key_usages,
        extended_key_usages,
    })
}

/// Bytes as lowercase hex pairs joined by colons (`0f:ac:b0`), as ACM and API Gateway
/// write serial numbers.
pub(crate) fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A certificate time in epoch seconds.
pub(crate) fn epoch_seconds(time: x509_cert::time::Time) -> i64 {
    i64::try_from(time.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

/// A directory string's text (UTF-8, printable, IA5 or teletex).
pub(crate) fn text(value: &der::Any) -> Option<String> {
    use der::asn1::{Ia5StringRef, PrintableStringRef, TeletexStringRef, Utf8StringRef};
    value
        .decode_as::<Utf8StringRef<'_>>()
        .map(|s| s.to_string())
        .or_else(|_| {
            value
                .decode_as::<PrintableStringRef<'_>>()
                .map(|s| s.to_string())
        })
        .or_else(|_| value.decode_as::<Ia5StringRef<'_>>().map(|s| s.to_string()))
        .or_else(|_| {
            value
                .decode_as::<TeletexStringRef<'_>>()
                .map(|s| s.to_string())
        })
        .ok()
}

/// RSAPublicKey (RFC 8017): the modulus gives the key's size.
#[derive(der::Sequence)]
struct RsaPublicKey<'a> {
    modulus: der::asn1::UintRef<'a>,
    #[allow(dead_code)]
    public_exponent: der::asn1::UintRef<'a>,
}

fn key_algorithm(spki: &x509_cert::spki::SubjectPublicKeyInfoOwned) -> Result<String, Invalid> {
    let unsupported = || {
        invalid(
            "The certificate's key algorithm is not supported. Use an RSA key (1024 to 4096 bits) or an EC key on P-256, P-384 or P-521.",
        )
    };
    match spki.algorithm.oid.to_string().as_str() {
        "1.2.840.113549.1.1.1" => {
            let bits = spki
                .subject_public_key
                .as_bytes()
                .and_then(|bytes| RsaPublicKey::from_der(bytes).ok())
                .map(|key| {
                    let modulus = key.modulus.as_bytes();
                    let leading = modulus.first().map_or(0, |b| b.leading_zeros() as usize);
                    modulus.len() * 8 - leading
                })
                .ok_or_else(unsupported)?;
            match bits {
                1024 => Ok("RSA_1024".to_owned()),
                2048 => Ok("RSA_2048".to_owned()),
                3072 => Ok("RSA_3072".to_owned()),
                4096 => Ok("RSA_4096".to_owned()),
                _ => Err(unsupported()),
            }
        }
        "1.2.840.10045.2.1" => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<Oid>().ok())
                .map(|oid| oid.to_string());
            match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => Ok("EC_prime256v1".to_owned()),
                Some("1.3.132.0.34") => Ok("EC_secp384r1".to_owned()),
                Some("1.3.132.0.35") => Ok("EC_secp521r1".to_owned()),
                _ => Err(unsupported()),
            }
        }
        _ => Err(unsupported()),
    }
}

fn signature_algorithm(oid: &Oid) -> String {
    match oid.to_string().as_str() {
        "1.2.840.113549.1.1.5" => "SHA1WITHRSA",
        "1.2.840.113549.1.1.11" => "SHA256WITHRSA",
        "1.2.840.113549.1.1.12" => "SHA384WITHRSA",
        "1.2.840.113549.1.1.13" => "SHA512WITHRSA",
        "1.2.840.113549.1.1.10" => "SHA256WITHRSAANDMGF1",
        "1.2.840.10045.4.3.2" => "SHA256WITHECDSA",
        "1.2.840.10045.4.3.3" => "SHA384WITHECDSA",
        "1.2.840.10045.4.3.4" => "SHA512WITHECDSA",
        other => return other.to_owned(),
    }
    .to_owned()
}

fn key_usage_names(usage: &KeyUsage) -> Vec<String> {
    [
        (KeyUsages::DigitalSignature, "DIGITAL_SIGNATURE"),
        (KeyUsages::NonRepudiation, "NON_REPUDIATION"),
        (KeyUsages::KeyEncipherment, "KEY_ENCIPHERMENT"),
        (KeyUsages::DataEncipherment, "DATA_ENCIPHERMENT"),
        (KeyUsages::KeyAgreement, "KEY_AGREEMENT"),
        (KeyUsages::KeyCertSign, "CERTIFICATE_SIGNING"),
        (KeyUsages::CRLSign, "CRL_SIGNING"),
        (KeyUsages::EncipherOnly, "ENCIPHER_ONLY"),
        (KeyUsages::DecipherOnly, "DECIPHER_ONLY"),
    ]
    .into_iter()
    .filter(|(flag, _)| usage.0.contains(*flag))
    .map(|(_, name)| name.to_owned())
    .collect()
}

fn extended_key_usage_name(oid: &Oid) -> &'static str {
    match oid.to_string().as_str() {
        "1.3.6.1.5.5.7.3.1" => "TLS_WEB_SERVER_AUTHENTICATION",
        "1.3.6.1.5.5.7.3.2" => "TLS_WEB_CLIENT_AUTHENTICATION",
        "1.3.6.1.5.5.7.3.3" => "CODE_SIGNING",
        "1.3.6.1.5.5.7.3.4" => "EMAIL_PROTECTION",
        "1.3.6.1.5.5.7.3.8" => "TIME_STAMPING",
        "1.3.6.1.5.5.7.3.9" => "OCSP_SIGNING",
        "1.3.6.1.5.5.7.3.5" => "IPSEC_END_SYSTEM",
        "1.3.6.1.5.5.7.3.6" => "IPSEC_TUNNEL",
        "1.3.6.1.5.5.7.3.7" => "IPSEC_USER",
        _ => "OTHER",
    }
}

/// Whether a certificate for `pattern` (a name, or `*.` and a name) covers `host`: a
/// wildcard covers exactly one label.
pub fn covers(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(parent) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest.eq_ignore_ascii_case(parent)),
        None => pattern.eq_ignore_ascii_case(host),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const RSA: &str = include_str!("testdata/rsa2048.pem");
    const RSA_KEY: &str = include_str!("testdata/rsa2048.key");
    /// 2026-11-27.
    const NOW: i64 = 1_795_800_000;

    #[test]
    fn an_import_reads_what_describe_certificate_tells() {
        let (details, chain, _key) =
            read_import(RSA.as_bytes(), None, RSA_KEY.as_bytes(), NOW).unwrap();
        assert_eq!(chain.len(), 1);
        assert_eq!(details.domain_name.as_deref(), Some("api.example.com"));
        assert_eq!(
            details.subject_alternative_names,
            ["api.example.com", "*.api.example.com"]
        );
        assert_eq!(details.key_algorithm, "RSA_2048");
        assert_eq!(details.signature_algorithm, "SHA256WITHRSA");
        assert_eq!(details.subject, "CN=api.example.com,O=Example Corp,C=US");
        assert_eq!(details.issuer, details.subject);
        assert_eq!(
            details.serial,
            "2c:2d:43:c6:07:a7:5a:e2:da:55:50:49:54:9b:02:22:3b:ea:71:07"
        );
        assert_eq!(
            details.key_usages,
            ["DIGITAL_SIGNATURE", "KEY_ENCIPHERMENT"]
        );
        assert_eq!(
            details.extended_key_usages,
            [(
                "TLS_WEB_SERVER_AUTHENTICATION".to_owned(),
                "1.3.6.1.5.5.7.3.1".to_owned()
            )]
        );
        // 2026-11-27 16:00:30 to 2126-11-03 16:00:30 UTC.
        assert_eq!(details.not_before, 1_795_795_230);
        assert_eq!(details.not_after, 4_949_395_230);
        // A chain adds its certificates after the certificate.
        let (_, chain, _) = read_import(
            RSA.as_bytes(),
            Some(RSA.as_bytes()),
            RSA_KEY.as_bytes(),
            NOW + 100_000,
        )
        .unwrap();
        assert_eq!(chain.len(), 2);
    }

    #[test]
    fn certificates_out_of_their_validity_are_refused() {
        assert_eq!(
            read_import(RSA.as_bytes(), None, RSA_KEY.as_bytes(), 0)
                .unwrap_err()
                .0,
            "The certificate is not in effect yet, is not valid."
        );
        assert_eq!(
            read_import(RSA.as_bytes(), None, RSA_KEY.as_bytes(), i64::MAX)
                .unwrap_err()
                .0,
            "The certificate has expired, is not valid."
        );
        assert!(
            read_import(RSA.as_bytes(), None, b"no key", NOW + 100_000)
                .unwrap_err()
                .0
                .contains("private key")
        );
    }

    #[test]
    fn private_keys_stay_out_of_debug_output() {
        let (details, _, _) = read_import(RSA.as_bytes(), None, RSA_KEY.as_bytes(), NOW).unwrap();
        let certificate = Certificate {
            arn: "arn:aws:acm:us-east-1:000000000000:certificate/x".into(),
            id: "x".into(),
            certificate: RSA.into(),
            chain: None,
            private_key: RSA_KEY.into(),
            details,
            created_at: NOW,
            seq: 0,
            imported_at: NOW,
            tags: BTreeMap::new(),
            issued: None,
        };
        let shown = format!("{certificate:?}");
        assert!(!shown.contains("PRIVATE KEY"), "{shown}");
        let serving = crate::gateway::ServingCertificate {
            chain_pem: RSA.into(),
            key_pem: RSA_KEY.into(),
        };
        assert!(!format!("{serving:?}").contains("PRIVATE KEY"));
    }

    #[test]
    fn wildcards_cover_one_label() {
        assert!(covers("*.example.com", "api.example.com"));
        assert!(covers("API.example.com", "api.EXAMPLE.com"));
        assert!(!covers("*.example.com", "example.com"));
        assert!(!covers("*.example.com", "a.b.example.com"));
        assert!(!covers("api.example.com", "www.example.com"));
    }

    #[test]
    fn garbage_is_refused_with_acm_texts() {
        let key = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert_eq!(
            read_import(b"not a certificate", None, key, 0)
                .unwrap_err()
                .0,
            "The certificate is not PEM-encoded or is not valid."
        );
        let fake = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(
            read_import(fake, None, key, 0).unwrap_err().0,
            "The certificate is not PEM-encoded or is not valid."
        );
        let two = [&fake[..], &fake[..]].concat();
        assert!(
            read_import(&two, None, key, 0)
                .unwrap_err()
                .0
                .contains("more than one")
        );
    }
}
