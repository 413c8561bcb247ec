//! Custom domain names' TLS: the security policies a domain can name, mutual TLS's
//! truststore (the certificates a domain's clients must chain to, read from S3 when the
//! domain is created or updated) and the warnings it gives, and a client certificate as
//! `$context.identity.clientCert` shows it.
//!
//! Pure: PEM or DER in, findings out. The gateway verifies clients' chains (rustls-webpki)
//! against the truststore read here.

use der::Decode;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde::{Deserialize, Serialize};

/// A domain's mutual TLS, as stored: where its truststore came from, what reading it found,
/// and the truststore itself (PEM; never answered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MutualTls {
    /// `s3://bucket/key`.
    pub truststore_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truststore_version: Option<String>,
    #[serde(default)]
    pub truststore_warnings: Vec<String>,
    /// The truststore's certificates, PEM.
    pub truststore: String,
}

/// The largest truststore taken. AWS gives no number; truststores of about 1,000 KB are
/// reported to work.
pub const MAX_TRUSTSTORE_BYTES: usize = 1024 * 1024;

/// The bucket and key of an `s3://bucket/key` URI.
pub fn s3_location(uri: &str) -> Option<(&str, &str)> {
    let (bucket, key) = uri.strip_prefix("s3://")?.split_once('/')?;
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    (bucket_ok && !key.is_empty()).then_some((bucket, key))
}

/// A truststore, read: its certificates (in order) and what is wrong with some of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truststore {
    pub certificates: Vec<CertificateDer<'static>>,
    pub warnings: Vec<String>,
}

/// Reads a truststore: PEM certificates, at least one. A certificate that is expired, not
/// yet valid, signed with SHA-1 or MD5, with an RSA key under 2,048 bits or a key of an
/// unknown kind, or whose issuer is not in the truststore, gives a warning (as on AWS, the
/// domain keeps mutual TLS; clients whose chains need that certificate are refused).
/// `Err` holds the reason the truststore cannot be used at all.
pub fn read_truststore(pem: &[u8], now: i64) -> Result<Truststore, String> {
    if pem.len() > MAX_TRUSTSTORE_BYTES {
        return Err(format!(
            "the truststore is larger than {MAX_TRUSTSTORE_BYTES} bytes"
        ));
    }
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| "the truststore is not a PEM file of X.509 certificates".to_owned())?;
    if certificates.is_empty() {
        return Err("the truststore holds no PEM-encoded certificate".to_owned());
    }
    let parsed: Vec<Option<x509_cert::Certificate>> = certificates
        .iter()
        .map(|der| x509_cert::Certificate::from_der(der).ok())
        .collect();
    let subjects: Vec<String> = parsed
        .iter()
        .flatten()
        .map(|c| distinguished_name(&c.tbs_certificate.subject))
        .collect();
    let mut warnings = Vec::new();
    for (index, (der, certificate)) in certificates.iter().zip(&parsed).enumerate() {
        let Some(certificate) = certificate else {
            warnings.push(format!(
                "Certificate {} of the truststore is not a valid X.509 certificate",
                index + 1
            ));
            continue;
        };
        let subject = distinguished_name(&certificate.tbs_certificate.subject);
        let issuer = distinguished_name(&certificate.tbs_certificate.issuer);
        let mut problems = Vec::new();
        match crate::acm::details(der) {
            Ok(details) => {
                if details.not_after < now {
                    problems.push("the certificate has expired".to_owned());
                }
                if details.not_before > now {
                    problems.push("the certificate is not valid yet".to_owned());
                }
                if details.signature_algorithm.starts_with("SHA1")
                    || details.signature_algorithm.starts_with("MD5")
                {
                    problems.push(format!(
                        "the certificate is signed with an insecure algorithm ({})",
                        details.signature_algorithm
                    ));
                }
                if details.key_algorithm == "RSA_1024" {
                    problems.push("the certificate's RSA key is shorter than 2048 bits".to_owned());
                }
            }
            Err(_) => problems
                .push("the certificate's key is not RSA (2048 bits or more) or ECDSA".to_owned()),
        }
        if issuer != subject && !subjects.contains(&issuer) {
            problems.push(format!(
                "its issuer ({issuer}) is not in the truststore, so the chain of trust is incomplete"
            ));
        }
        for problem in problems {
            warnings.push(format!("Certificate {subject}: {problem}"));
        }
    }
    Ok(Truststore {
        certificates,
        warnings,
    })
}

/// Whether a certificate (DER) names itself as its issuer.
pub fn self_issued(der: &[u8]) -> bool {
    x509_cert::Certificate::from_der(der)
        .is_ok_and(|c| c.tbs_certificate.subject == c.tbs_certificate.issuer)
}

/// A client certificate as `$context.identity.clientCert` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientCert {
    /// The certificate, PEM.
    pub client_cert_pem: String,
    /// `C=US,ST=Washington,O=Example,CN=client` (the certificate's order, no spaces).
    #[serde(rename = "subjectDN")]
    pub subject_dn: String,
    #[serde(rename = "issuerDN")]
    pub issuer_dn: String,
    /// Lowercase hex bytes joined by colons.
    pub serial_number: String,
    pub validity: Validity,
}

/// A certificate's validity, as OpenSSL prints times (`May 28 12:30:02 2019 GMT`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Validity {
    pub not_before: String,
    pub not_after: String,
}

/// What a client certificate (DER) shows of itself; `None` when it is no X.509 certificate.
pub fn describe(der: &[u8]) -> Option<ClientCert> {
    use base64::Engine as _;
    let certificate = x509_cert::Certificate::from_der(der).ok()?;
    let tbs = &certificate.tbs_certificate;
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::with_capacity(encoded.len() + encoded.len() / 64 + 64);
    pem.push_str("-----BEGIN CERTIFICATE-----\n");
    for line in encoded.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    let serial = crate::acm::colon_hex(tbs.serial_number.as_bytes());
    let time = |t| openssl_time(crate::acm::epoch_seconds(t));
    Some(ClientCert {
        client_cert_pem: pem,
        subject_dn: distinguished_name(&tbs.subject),
        issuer_dn: distinguished_name(&tbs.issuer),
        serial_number: serial,
        validity: Validity {
            not_before: time(tbs.validity.not_before),
            not_after: time(tbs.validity.not_after),
        },
    })
}

/// A name in the certificate's order, `SHORT=value` joined by commas (`C=US,O=Example,CN=x`).
pub fn distinguished_name(name: &x509_cert::name::Name) -> String {
    let mut out = String::new();
    for atv in name.0.iter().flat_map(|rdn| rdn.0.iter()) {
        if !out.is_empty() {
            out.push(',');
        }
        let oid = atv.oid.to_string();
        let short = match oid.as_str() {
            "2.5.4.6" => "C",
            "2.5.4.8" => "ST",
            "2.5.4.7" => "L",
            "2.5.4.10" => "O",
            "2.5.4.11" => "OU",
            "2.5.4.3" => "CN",
            "2.5.4.5" => "serialNumber",
            "2.5.4.9" => "street",
            "0.9.2342.19200300.100.1.25" => "DC",
            "0.9.2342.19200300.100.1.1" => "UID",
            "1.2.840.113549.1.9.1" => "emailAddress",
            other => other,
        };
        out.push_str(short);
        out.push('=');
        out.push_str(&crate::acm::text(&atv.value).unwrap_or_default());
    }
    out
}

/// Epoch seconds as OpenSSL prints certificate times: `Aug  5 09:36:04 2021 GMT`.
pub fn openssl_time(epoch: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let Ok(at) = time::OffsetDateTime::from_unix_timestamp(epoch) else {
        return String::new();
    };
    format!(
        "{} {:>2} {:02}:{:02}:{:02} {} GMT",
        MONTHS[usize::from(u8::from(at.month())) - 1],
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.year()
    )
}

/// A security policy a custom domain name (or a REST API) can name: the TLS versions and
/// ciphers (OpenSSL names) it allows, and the endpoint types it applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityPolicy {
    pub name: &'static str,
    /// `TLSv1.3`, `TLSv1.2`, ...
    pub protocols: &'static [&'static str],
    pub ciphers: &'static [&'static str],
    /// Whether EDGE domains may name it.
    pub edge: bool,
    /// Whether REGIONAL and PRIVATE domains may name it.
    pub regional: bool,
}

impl SecurityPolicy {
    /// An enhanced policy (`SecurityPolicy_*`), which needs an endpoint access mode.
    pub fn enhanced(&self) -> bool {
        self.name.starts_with("SecurityPolicy_")
    }
}

const TLS13: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
];
const TLS13_AES: &[&str] = &["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"];
const TLS13_AND_ECDHE_GCM: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
];
const TLS13_AES_AND_ECDHE_GCM: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
];
const TLS12_LIST: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES128-SHA256",
    "ECDHE-RSA-AES128-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-AES256-SHA384",
    "ECDHE-RSA-AES256-SHA384",
    "AES128-GCM-SHA256",
    "AES128-SHA256",
    "AES256-GCM-SHA384",
    "AES256-SHA256",
];
const TLS10_LIST: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES128-SHA256",
    "ECDHE-RSA-AES128-SHA256",
    "ECDHE-ECDSA-AES128-SHA",
    "ECDHE-RSA-AES128-SHA",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-AES256-SHA384",
    "ECDHE-RSA-AES256-SHA384",
    "ECDHE-ECDSA-AES256-SHA",
    "ECDHE-RSA-AES256-SHA",
    "AES128-GCM-SHA256",
    "AES128-SHA256",
    "AES128-SHA",
    "AES256-GCM-SHA384",
    "AES256-SHA256",
    "AES256-SHA",
];
const EDGE_PFS: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
];
const EDGE_2018: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "ECDHE-ECDSA-AES128-SHA256",
    "ECDHE-RSA-AES128-SHA256",
    "ECDHE-ECDSA-AES256-SHA384",
    "ECDHE-RSA-AES256-SHA384",
];
const V13: &[&str] = &["TLSv1.3"];
const V12: &[&str] = &["TLSv1.3", "TLSv1.2"];
const V10: &[&str] = &["TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1"];

/// Every security policy of API Gateway's (the developer guide's tables; where the guide
/// gives no cipher list, that of the nearest documented policy).
pub const SECURITY_POLICIES: &[SecurityPolicy] = &[
    SecurityPolicy {
        name: "TLS_1_0",
        protocols: V10,
        ciphers: TLS10_LIST,
        edge: true,
        regional: true,
    },
    SecurityPolicy {
        name: "TLS_1_2",
        protocols: V12,
        ciphers: TLS12_LIST,
        edge: true,
        regional: true,
    },
    SecurityPolicy {
        name: "SecurityPolicy_TLS13_1_3_2025_09",
        protocols: V13,
        ciphers: TLS13,
        edge: false,
        regional: true,
    },
    SecurityPolicy {
        name: "SecurityPolicy_TLS13_1_3_FIPS_2025_09",
        protocols: V13,
        ciphers: TLS13_AES,
        edge: false,
        regional: true,
    },
    SecurityPolicy {
        name: "SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09",
        protocols: V12,
        ciphers: TLS13_AND_ECDHE_GCM,
        edge: false,
        regional: true,
    },
    SecurityPolicy {
        name: "SecurityPolicy_TLS13_1_2_FIPS_PQ_2025_09",
        protocols: V12,
        ciphers: TLS13_AES_AND_ECDHE_GCM,
        edge: false,
        regional: true,
    },
    SecurityPolicy {
        name: "SecurityPolicy_TLS13_1_2_FIPS_PFS_PQ_2025_09",
        protocols: V12,
        ciphers: TLS13_AES_AND_ECDHE_GCM,
        edge: false,
        regional: true,
    },
    SecurityPolicy {
        name: "SecurityPolicy_TLS13_1_2_PQ_2025_09",
        protocols: V12,
        ciphers: TLS12_LIST,
        edge: false,
        regional: true,
    },
    SecurityPolicy {
        name: "SecurityPolicy_TLS13_1_2_2021_06",
        protocols: V12,
        ciphers: TLS12_LIST,
        edge: false,
        regional: true,
    },
    SecurityPolicy {
        name: "SecurityPolicy_TLS13_2025_EDGE",
        protocols: V13,
        ciphers: TLS13,
        edge: true,
        regional: false,
    },
    SecurityPolicy {
        name: "SecurityPolicy_TLS12_PFS_2025_EDGE",
        protocols: V12,
        ciphers: EDGE_PFS,
        edge: true,
        regional: false,
    },
    SecurityPolicy {
        name: "SecurityPolicy_TLS12_2018_EDGE",
        protocols: V12,
        ciphers: EDGE_2018,
        edge: true,
        regional: false,
    },
];

/// The security policy named `name` (case-sensitive, as AWS's enum).
pub fn security_policy(name: &str) -> Option<&'static SecurityPolicy> {
    SECURITY_POLICIES.iter().find(|p| p.name == name)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn certificate(
        params: rcgen::CertificateParams,
        issuer: Option<(&rcgen::Certificate, &rcgen::KeyPair)>,
    ) -> (rcgen::Certificate, rcgen::KeyPair) {
        let key = rcgen::KeyPair::generate().unwrap();
        let certificate = match issuer {
            None => params.self_signed(&key).unwrap(),
            Some((ca, ca_key)) => params.signed_by(&key, ca, ca_key).unwrap(),
        };
        (certificate, key)
    }

    fn ca(name: &str) -> rcgen::CertificateParams {
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CountryName, "US");
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "Example");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
    }

    #[test]
    fn s3_uris_name_a_bucket_and_a_key() {
        assert_eq!(
            s3_location("s3://my-bucket/dir/ts.pem"),
            Some(("my-bucket", "dir/ts.pem"))
        );
        assert_eq!(s3_location("s3://my-bucket/"), None);
        assert_eq!(s3_location("s3://my-bucket"), None);
        assert_eq!(s3_location("https://my-bucket/x.pem"), None);
        assert_eq!(s3_location("s3://My_Bucket/x.pem"), None);
    }

    #[test]
    fn a_truststore_warns_of_incomplete_chains_and_reads_names_in_order() {
        let (root, root_key) = certificate(ca("Root CA"), None);
        let (intermediate, _) = certificate(ca("Issuing CA"), Some((&root, &root_key)));
        let now = 1_800_000_000 - 86_400 * 365 * 3;
        let full = format!("{}{}", root.pem(), intermediate.pem());
        let read = read_truststore(full.as_bytes(), now).unwrap();
        assert_eq!(read.certificates.len(), 2);
        assert_eq!(read.warnings, Vec::<String>::new());

        let partial = read_truststore(intermediate.pem().as_bytes(), now).unwrap();
        assert_eq!(
            partial.warnings,
            vec![
                "Certificate C=US,O=Example,CN=Issuing CA: its issuer (C=US,O=Example,CN=Root CA) is not in the truststore, so the chain of trust is incomplete"
                    .to_owned()
            ]
        );
        let expired = read_truststore(root.pem().as_bytes(), 70_000_000_000).unwrap();
        assert_eq!(
            expired.warnings,
            vec!["Certificate C=US,O=Example,CN=Root CA: the certificate has expired".to_owned()]
        );
        assert!(read_truststore(b"", now).is_err());
        assert!(read_truststore(b"not pem", now).is_err());
        assert!(read_truststore(&vec![b'a'; MAX_TRUSTSTORE_BYTES + 1], now).is_err());
    }

    #[test]
    fn a_client_certificate_is_described_as_openssl_prints_it() {
        let (root, root_key) = certificate(ca("Root CA"), None);
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "client");
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x0f, 0xac, 0xb0]));
        params.not_before = rcgen::date_time_ymd(2019, 5, 28);
        params.not_after = rcgen::date_time_ymd(2031, 8, 5);
        let (client, _) = certificate(params, Some((&root, &root_key)));
        let described = describe(client.der()).unwrap();
        assert_eq!(described.subject_dn, "CN=client");
        assert_eq!(described.issuer_dn, "C=US,O=Example,CN=Root CA");
        assert_eq!(described.serial_number, "0f:ac:b0");
        assert_eq!(described.validity.not_before, "May 28 00:00:00 2019 GMT");
        assert_eq!(described.validity.not_after, "Aug  5 00:00:00 2031 GMT");
        assert_eq!(
            CertificateDer::from_pem_slice(described.client_cert_pem.as_bytes()).unwrap(),
            *client.der()
        );
        assert!(self_issued(root.der()) && !self_issued(client.der()));
        assert_eq!(describe(b"junk"), None);
    }

    #[test]
    fn policies_fit_their_endpoint_types() {
        assert!(security_policy("TLS_1_2").is_some_and(|p| p.edge && p.regional && !p.enhanced()));
        let strict = security_policy("SecurityPolicy_TLS13_1_3_2025_09").unwrap();
        assert!(strict.enhanced() && strict.regional && !strict.edge);
        assert_eq!(strict.protocols, ["TLSv1.3"]);
        assert!(
            security_policy("SecurityPolicy_TLS13_2025_EDGE")
                .is_some_and(|p| p.edge && !p.regional)
        );
        assert_eq!(security_policy("tls_1_2"), None);
    }
}
