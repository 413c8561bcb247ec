//! RequestCertificate: certificates issued here, as ACM issues public ones (`AMAZON_ISSUED`),
//! signed by a certificate authority of the server's own.
//!
//! Nothing here can prove that the caller controls a domain, so a requested certificate is
//! `ISSUED` at once, with the validation records ACM would have asked for shown as
//! `SUCCESS` (infrastructure code that creates them and waits for the certificate goes on
//! as it does on AWS). Clients trust such certificates by trusting the authority, whose
//! certificate GetCertificate returns as the chain.

use std::collections::BTreeMap;

use causeway_model::acm::{self, Authority, Certificate, Issued};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SerialNumber,
};
use serde_json::{Value, json};

use super::{AcmError, Outcome, arn_of, blob, find, save, string, tags};
use crate::ctx::Ctx;
use crate::state::kind;

/// How long an issued certificate is valid: 395 days, as ACM's public certificates.
const VALIDITY_SECONDS: i64 = 395 * 86_400;

/// How long the authority is valid.
const AUTHORITY_VALIDITY_SECONDS: i64 = 20 * 365 * 86_400;

/// An idempotency token answers the certificate it first asked for, within this long.
const IDEMPOTENCY_SECONDS: i64 = 3_600;

/// The pattern ACM checks domain names against, as its messages quote it.
const DOMAIN_PATTERN: &str =
    r"^(\*\.)?(((?!-)[A-Za-z0-9-]{0,62}[A-Za-z0-9])\.)+((?!-)[A-Za-z0-9-]{1,62}[A-Za-z0-9])$";

/// The key algorithms of the API, and the ones RequestCertificate issues public certificates
/// with.
const KEY_ALGORITHMS: &[&str] = &[
    "RSA_1024",
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "EC_prime256v1",
    "EC_secp384r1",
    "EC_secp521r1",
];
const ISSUED_KEY_ALGORITHMS: &[&str] = &["RSA_2048", "EC_prime256v1", "EC_secp384r1"];

fn internal(error: impl std::fmt::Display) -> AcmError {
    AcmError::new("InternalFailure", format!("issuing failed: {error}"))
}

/// Whether `name` is a domain name ACM takes (`DOMAIN_PATTERN`, at most 253 characters).
fn valid_domain(name: &str) -> bool {
    let bare = name.strip_prefix("*.").unwrap_or(name);
    let labels: Vec<&str> = bare.split('.').collect();
    name.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn pattern_error(value: &str, field: &str) -> AcmError {
    AcmError::validation(format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: {DOMAIN_PATTERN}"
    ))
}

fn enum_error(value: &str, field: &str, allowed: &[&str]) -> AcmError {
    AcmError::validation(format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
        allowed.join(", ")
    ))
}

/// `ENABLED` or `DISABLED` at `Options.{name}`, else `default`.
fn option(body: &Value, name: &str, field: &str, default: &str) -> Result<String, AcmError> {
    match body.get("Options").and_then(|o| o.get(name)) {
        None | Some(Value::Null) => Ok(default.to_owned()),
        Some(Value::String(v)) if v == "ENABLED" || v == "DISABLED" => Ok(v.clone()),
        Some(other) => Err(enum_error(
            other.as_str().unwrap_or_default(),
            field,
            &["ENABLED", "DISABLED"],
        )),
    }
}

pub(super) fn request(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let domain = string(body, "DomainName")?.ok_or_else(|| AcmError::required("domainName"))?;
    if !valid_domain(domain) {
        return Err(pattern_error(domain, "domainName"));
    }
    let mut names = vec![domain.to_owned()];
    if let Some(list) = body.get("SubjectAlternativeNames").filter(|v| !v.is_null()) {
        let list = list.as_array().ok_or_else(|| {
            AcmError::new(
                "SerializationException",
                "SubjectAlternativeNames must be a list of strings.",
            )
        })?;
        if list.is_empty() || list.len() > 100 {
            return Err(AcmError::validation(
                "1 validation error detected: Value at 'subjectAlternativeNames' failed to satisfy constraint: Member must have length between 1 and 100",
            ));
        }
        for (i, item) in list.iter().enumerate() {
            let name = item.as_str().unwrap_or_default();
            if !valid_domain(name) {
                return Err(pattern_error(
                    name,
                    &format!("subjectAlternativeNames.{}.member", i + 1),
                ));
            }
            if !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        }
    }
    let method = match string(body, "ValidationMethod")? {
        None | Some("EMAIL") => "EMAIL",
        Some("DNS") => "DNS",
        Some("HTTP") => {
            return Err(AcmError::validation(
                "HTTP validation is for certificates of CloudFront distributions, which this server does not have: use DNS or EMAIL.",
            ));
        }
        Some(other) => {
            return Err(enum_error(
                other,
                "validationMethod",
                &["EMAIL", "DNS", "HTTP"],
            ));
        }
    };
    let key_algorithm = string(body, "KeyAlgorithm")?.unwrap_or("RSA_2048");
    if !KEY_ALGORITHMS.contains(&key_algorithm) {
        return Err(enum_error(key_algorithm, "keyAlgorithm", KEY_ALGORITHMS));
    }
    if !ISSUED_KEY_ALGORITHMS.contains(&key_algorithm) {
        return Err(AcmError::validation(format!(
            "Public certificates can be requested with the key algorithms {}, not {key_algorithm}.",
            ISSUED_KEY_ALGORITHMS.join(", ")
        )));
    }
    if string(body, "CertificateAuthorityArn")?.is_some() {
        return Err(AcmError::validation(
            "Private certificates (CertificateAuthorityArn) are not supported by this server: request a public certificate.",
        ));
    }
    let transparency_logging = option(
        body,
        "CertificateTransparencyLoggingPreference",
        "options.certificateTransparencyLoggingPreference",
        "ENABLED",
    )?;
    let export = option(body, "Export", "options.export", "DISABLED")?;
    let token = string(body, "IdempotencyToken")?;
    if let Some(token) = token {
        if token.is_empty()
            || token.len() > 32
            || !token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(AcmError::validation(format!(
                "1 validation error detected: Value '{token}' at 'idempotencyToken' failed to satisfy constraint: Member must satisfy regular expression pattern: \\w+"
            )));
        }
        let earlier = cx.state.acm_certificates.values().find(|c| {
            c.issued
                .as_ref()
                .is_some_and(|i| i.idempotency_token.as_deref() == Some(token))
                && cx.now - c.created_at < IDEMPOTENCY_SECONDS
        });
        if let Some(earlier) = earlier {
            return Ok(json!({"CertificateArn": earlier.arn}));
        }
    }
    let new_tags = tags(body)?;

    let (authority_pem, issuer, issuer_key) = authority(cx)?;
    let key = leaf_key(key_algorithm)?;
    let mut params = CertificateParams::new(names.clone()).map_err(internal)?;
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, domain);
    params.not_before = time(cx.now)?;
    params.not_after = time(cx.now + VALIDITY_SECONDS)?;
    params.serial_number = Some(SerialNumber::from_slice(&serial()?));
    params.key_usages = if key_algorithm.starts_with("RSA") {
        vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ]
    } else {
        vec![KeyUsagePurpose::DigitalSignature]
    };
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let leaf = params
        .signed_by(&key, &issuer, &issuer_key)
        .map_err(internal)?;
    let details = acm::details(leaf.der()).map_err(|invalid| internal(invalid.0))?;

    let id = uuid::Uuid::new_v4().to_string();
    let arn = format!(
        "arn:aws:acm:{}:{}:certificate/{id}",
        cx.config.region, cx.config.account_id
    );
    let validations = names
        .iter()
        .map(|name| acm::validation(&id, name, method))
        .collect();
    let tags: BTreeMap<String, String> = new_tags
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect();
    let seq = cx.next_seq();
    save(
        cx,
        Certificate {
            arn: arn.clone(),
            id,
            certificate: leaf.pem(),
            chain: Some(authority_pem),
            private_key: key.serialize_pem(),
            details,
            created_at: cx.now,
            seq,
            imported_at: cx.now,
            tags,
            issued: Some(Issued {
                validation_method: method.to_owned(),
                validations,
                idempotency_token: token.map(str::to_owned),
                transparency_logging,
                export,
            }),
        },
    )?;
    Ok(json!({"CertificateArn": arn}))
}

/// What an issued certificate shows in place of an imported one's in DescribeCertificate
/// and ListCertificates: its type, and when it was requested and issued (not imported).
pub(super) fn issued_times(certificate: &Certificate, out: &mut Value) {
    if let Some(map) = out.as_object_mut() {
        map.remove("ImportedAt");
        map.insert("Type".into(), json!("AMAZON_ISSUED"));
        map.insert("CreatedAt".into(), json!(certificate.created_at));
        map.insert("IssuedAt".into(), json!(certificate.imported_at));
    }
}

/// The fields DescribeCertificate adds for an issued certificate.
pub(super) fn describe_fields(certificate: &Certificate, issued: &Issued, out: &mut Value) {
    let options: Vec<Value> = issued
        .validations
        .iter()
        .map(|v| {
            let mut option = json!({
                "DomainName": v.domain_name,
                "ValidationDomain": v.validation_domain,
                "ValidationStatus": "SUCCESS",
                "ValidationMethod": issued.validation_method,
            });
            if let Some(map) = option.as_object_mut() {
                match &v.record {
                    Some((name, value)) => {
                        map.insert(
                            "ResourceRecord".into(),
                            json!({"Name": name, "Type": "CNAME", "Value": value}),
                        );
                    }
                    None => {
                        map.insert("ValidationEmails".into(), json!(v.emails));
                    }
                }
            }
            option
        })
        .collect();
    issued_times(certificate, out);
    if let Some(map) = out.as_object_mut() {
        map.insert("DomainValidationOptions".into(), json!(options));
        map.insert(
            "Options".into(),
            json!({
                "CertificateTransparencyLoggingPreference": issued.transparency_logging,
                "Export": issued.export,
            }),
        );
    }
}

/// The authority's certificate (PEM), and what signs with it: made and stored on first use.
fn authority(cx: &mut Ctx<'_>) -> Result<(String, rcgen::Certificate, KeyPair), AcmError> {
    if let Some(stored) = &cx.state.acm_authority {
        let key = KeyPair::from_pem(&stored.private_key).map_err(internal)?;
        let issuer = authority_params(cx.now)?
            .self_signed(&key)
            .map_err(internal)?;
        return Ok((stored.certificate.clone(), issuer, key));
    }
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(internal)?;
    let certificate = authority_params(cx.now)?
        .self_signed(&key)
        .map_err(internal)?;
    let stored = Authority {
        certificate: certificate.pem(),
        private_key: key.serialize_pem(),
    };
    cx.put(kind::ACM_AUTHORITY, "ca".to_owned(), &stored)
        .map_err(internal)?;
    let pem = stored.certificate.clone();
    cx.state.acm_authority = Some(stored);
    Ok((pem, certificate, key))
}

/// The authority's parameters: its name (what issued certificates name as their issuer)
/// and what it may do. The same each time, so that a certificate issued after a restart
/// names the stored authority.
fn authority_params(now: i64) -> Result<CertificateParams, AcmError> {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Causeway");
    params
        .distinguished_name
        .push(DnType::CommonName, "Causeway ACM Root CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = time(now)?;
    params.not_after = time(now + AUTHORITY_VALIDITY_SECONDS)?;
    params.serial_number = Some(SerialNumber::from_slice(&serial()?));
    Ok(params)
}

/// A new key of `algorithm` (one of `ISSUED_KEY_ALGORITHMS`).
fn leaf_key(algorithm: &str) -> Result<KeyPair, AcmError> {
    match algorithm {
        "EC_prime256v1" => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(internal),
        "EC_secp384r1" => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).map_err(internal),
        _ => crate::keys::rsa_2048().map_err(internal),
    }
}

/// A random positive 16-byte serial number.
fn serial() -> Result<[u8; 16], AcmError> {
    let mut bytes = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| internal("no randomness"))?;
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    Ok(bytes)
}

fn time(epoch: i64) -> Result<time::OffsetDateTime, AcmError> {
    time::OffsetDateTime::from_unix_timestamp(epoch).map_err(internal)
}

/// ExportCertificate: a certificate requested with `Options.Export` ENABLED, its chain, and
/// its private key encrypted with the caller's passphrase (PKCS#8 PBES2: PBKDF2-SHA256 and
/// AES-256-CBC, which OpenSSL and other TLS stacks read).
pub(super) fn export(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let arn = arn_of(body)?;
    let passphrase = blob(body, "Passphrase", "passphrase", 128)?
        .ok_or_else(|| AcmError::required("passphrase"))?;
    if passphrase.len() < 4 {
        return Err(AcmError::validation(
            "1 validation error detected: Value at 'passphrase' failed to satisfy constraint: Member must have length between 4 and 128",
        ));
    }
    let certificate = find(cx.state, &arn)?;
    if certificate
        .issued
        .as_ref()
        .is_none_or(|issued| issued.export != "ENABLED")
    {
        return Err(AcmError::validation(format!(
            "Certificate {arn} cannot be exported: only certificates requested with Options.Export ENABLED can be."
        )));
    }
    let key = encrypted_key(&certificate.private_key, &passphrase)?;
    let mut out = json!({"Certificate": certificate.certificate, "PrivateKey": key});
    if let (Some(chain), Some(map)) = (&certificate.chain, out.as_object_mut()) {
        map.insert("CertificateChain".into(), json!(chain));
    }
    Ok(out)
}

/// UpdateCertificateOptions: a requested certificate's transparency logging preference, and
/// its export (which can be turned off, not on: a certificate is exportable only if it was
/// requested so).
pub(super) fn update_options(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let arn = arn_of(body)?;
    if body.get("Options").is_none_or(Value::is_null) {
        return Err(AcmError::required("options"));
    }
    let mut updated = find(cx.state, &arn)?.clone();
    let Some(issued) = updated.issued.as_mut() else {
        return Err(AcmError::new(
            "InvalidStateException",
            format!("Certificate {arn} was imported: only requested certificates have options."),
        ));
    };
    let transparency = option(
        body,
        "CertificateTransparencyLoggingPreference",
        "options.certificateTransparencyLoggingPreference",
        &issued.transparency_logging,
    )?;
    let export = option(body, "Export", "options.export", &issued.export)?;
    if export == "ENABLED" && issued.export != "ENABLED" {
        return Err(AcmError::validation(
            "Export can only be enabled when a certificate is requested (Options.Export in RequestCertificate).",
        ));
    }
    issued.transparency_logging = transparency;
    issued.export = export;
    save(cx, updated)?;
    Ok(json!({}))
}

/// A PKCS#8 PEM key, encrypted with `passphrase` (`ENCRYPTED PRIVATE KEY`).
fn encrypted_key(pem: &str, passphrase: &[u8]) -> Result<String, AcmError> {
    use pkcs8::der::Decode as _;
    let key = KeyPair::from_pem(pem).map_err(internal)?;
    let info = pkcs8::PrivateKeyInfoRef::from_der(key.serialized_der()).map_err(internal)?;
    let params = pkcs8::pkcs5::pbes2::Parameters::generate_pbkdf2(&mut getrandom::SysRng)
        .map_err(internal)?;
    let encrypted = info
        .encrypt_with_params(params, passphrase)
        .map_err(internal)?;
    let pem = encrypted
        .to_pem("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF)
        .map_err(internal)?;
    Ok(pem.to_string())
}

/// Whether `certificate` was issued here (a re-import of it is refused).
pub(super) fn refuse_reimport(cx: &Ctx<'_>, arn: &str) -> Result<(), AcmError> {
    if find(cx.state, arn)?.issued.is_some() {
        return Err(AcmError::validation(format!(
            "Certificate {arn} was issued by ACM: only imported certificates can be reimported."
        )));
    }
    Ok(())
}
