//! AWS Certificate Manager, for the certificates of custom domain names and TLS listeners:
//! ImportCertificate (and re-import), RequestCertificate, ExportCertificate and
//! UpdateCertificateOptions (`issue`),
//! DescribeCertificate,
//! GetCertificate, ListCertificates, DeleteCertificate and tags, over ACM's JSON 1.1
//! protocol (`POST /` with `X-Amz-Target: CertificateManager.<Operation>`).
//!
//! A domain name whose `regionalCertificateArn` (or `certificateArn`) names an imported
//! certificate is served with it over HTTPS, chosen by the TLS server name. Certificates
//! are read and their key checked against them when imported, so what is stored is what the
//! gateway can serve.

use std::collections::BTreeMap;

use base64::Engine as _;
use causeway_model::acm::{self, Certificate};
use serde_json::{Value, json};
use tokio_rustls::rustls;

use crate::ctx::Ctx;
use crate::state::{State, kind};
use crate::{Reply, Request};

mod issue;

/// The `X-Amz-Target` prefix of ACM's operations.
pub const TARGET_PREFIX: &str = "CertificateManager.";

/// The key types ListCertificates shows when `Includes.keyTypes` is not given (AWS's
/// default filter).
const DEFAULT_KEY_TYPES: &[&str] = &["RSA_1024", "RSA_2048"];

/// An error in ACM's shape: `__type` and `message`, status 400.
#[derive(Debug)]
pub(crate) struct AcmError {
    code: &'static str,
    pub(crate) message: String,
}

impl AcmError {
    fn new(code: &'static str, message: impl Into<String>) -> AcmError {
        AcmError {
            code,
            message: message.into(),
        }
    }

    fn validation(message: impl Into<String>) -> AcmError {
        AcmError::new("ValidationException", message)
    }

    fn not_found(arn: &str) -> AcmError {
        AcmError::new(
            "ResourceNotFoundException",
            format!("Could not find certificate {arn}."),
        )
    }

    fn required(field: &str) -> AcmError {
        AcmError::validation(format!(
            "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
        ))
    }
}

type Outcome = Result<Value, AcmError>;

/// Whether the request is an ACM operation that only reads.
pub fn is_read(request: &Request) -> bool {
    request
        .target
        .as_deref()
        .and_then(|t| t.strip_prefix(TARGET_PREFIX))
        .is_some_and(|op| {
            op.starts_with("Describe") || op.starts_with("Get") || op.starts_with("List")
        })
}

/// Runs the ACM operation `operation` (the target without its prefix).
pub fn dispatch(cx: &mut Ctx<'_>, request: &Request, operation: &str) -> Reply {
    let body = crate::json11::object_body(&request.body).ok_or_else(|| {
        AcmError::new(
            "SerializationException",
            "The request body is not a JSON object.",
        )
    });
    match body.and_then(|body| run(cx, operation, &body)) {
        Ok(value) => crate::json11::reply(200, &value, None),
        Err(error) => {
            cx.discard_changes();
            let status = if error.code == "InternalFailure" {
                500
            } else {
                400
            };
            let body = json!({"__type": error.code, "message": error.message});
            crate::json11::reply(status, &body, Some(error.code))
        }
    }
}

fn run(cx: &mut Ctx<'_>, operation: &str, body: &Value) -> Outcome {
    match operation {
        "ImportCertificate" => import(cx, body),
        "RequestCertificate" => issue::request(cx, body),
        "ExportCertificate" => issue::export(cx, body),
        "UpdateCertificateOptions" => issue::update_options(cx, body),
        "DescribeCertificate" => describe(cx, body),
        "GetCertificate" => get(cx, body),
        "ListCertificates" => list(cx, body),
        "DeleteCertificate" => delete(cx, body),
        "AddTagsToCertificate" => add_tags(cx, body),
        "RemoveTagsFromCertificate" => remove_tags(cx, body),
        "ListTagsForCertificate" => list_tags(cx, body),
        other => Err(AcmError::new(
            "UnknownOperationException",
            format!("The operation {other} is not supported by this server."),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Reading requests

fn string<'a>(body: &'a Value, name: &str) -> Result<Option<&'a str>, AcmError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(AcmError::new(
            "SerializationException",
            format!("{name} must be a string."),
        )),
    }
}

/// A blob member: base64, as the SDKs send it (PEM text as such is taken too).
fn blob(body: &Value, name: &str, field: &str, max: usize) -> Result<Option<Vec<u8>>, AcmError> {
    let Some(text) = string(body, name)? else {
        return Ok(None);
    };
    let bytes = if text.trim_start().starts_with("-----BEGIN") {
        text.as_bytes().to_vec()
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| {
                AcmError::new(
                    "SerializationException",
                    format!("{name} is not valid base64."),
                )
            })?
    };
    if bytes.is_empty() || bytes.len() > max {
        return Err(AcmError::validation(format!(
            "1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length between 1 and {max}"
        )));
    }
    Ok(Some(bytes))
}

/// The certificate `CertificateArn` names, checked as an ARN first.
fn arn_of(body: &Value) -> Result<String, AcmError> {
    let arn =
        string(body, "CertificateArn")?.ok_or_else(|| AcmError::required("certificateArn"))?;
    check_arn(arn)?;
    Ok(arn.to_owned())
}

fn check_arn(arn: &str) -> Result<(), AcmError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let valid = parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[2] == "acm"
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && !parts[4].is_empty()
        && parts[5].starts_with("certificate/")
        && parts[5].len() > "certificate/".len();
    if valid {
        Ok(())
    } else {
        Err(AcmError::new(
            "InvalidArnException",
            format!("String '{arn}' is not a valid ARN."),
        ))
    }
}

fn find<'a>(state: &'a State, arn: &str) -> Result<&'a Certificate, AcmError> {
    state
        .acm_certificates
        .values()
        .find(|c| c.arn == arn)
        .ok_or_else(|| AcmError::not_found(arn))
}

/// Tags as given (`[{Key, Value}]`), checked as ACM checks them.
fn tags(body: &Value) -> Result<Vec<(String, Option<String>)>, AcmError> {
    let Some(list) = body.get("Tags").filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let list = list
        .as_array()
        .ok_or_else(|| AcmError::new("SerializationException", "Tags must be a list of tags."))?;
    if list.is_empty() || list.len() > 50 {
        return Err(AcmError::validation(
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length between 1 and 50",
        ));
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, tag) in list.iter().enumerate() {
        let key = tag
            .get("Key")
            .and_then(Value::as_str)
            .ok_or_else(|| AcmError::required(&format!("tags.{}.member.key", i + 1)))?;
        let value = tag.get("Value").and_then(Value::as_str);
        if key.is_empty() || key.chars().count() > 128 {
            return Err(AcmError::validation(format!(
                "1 validation error detected: Value '{key}' at 'tags.{}.member.key' failed to satisfy constraint: Member must have length between 1 and 128",
                i + 1
            )));
        }
        if value.is_some_and(|v| v.chars().count() > 256) {
            return Err(AcmError::validation(format!(
                "1 validation error detected: Value at 'tags.{}.member.value' failed to satisfy constraint: Member must have length less than or equal to 256",
                i + 1
            )));
        }
        if key.starts_with("aws:") {
            return Err(AcmError::new(
                "InvalidTagException",
                format!("Tag key '{key}' is reserved: keys starting with aws: cannot be set."),
            ));
        }
        out.push((key.to_owned(), value.map(str::to_owned)));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Operations

fn import(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let certificate = blob(body, "Certificate", "certificate", 32_768)?
        .ok_or_else(|| AcmError::required("certificate"))?;
    let private_key = blob(body, "PrivateKey", "privateKey", 5_120)?
        .ok_or_else(|| AcmError::required("privateKey"))?;
    let chain = blob(body, "CertificateChain", "certificateChain", 2_097_152)?;
    let reimport = string(body, "CertificateArn")?.map(str::to_owned);
    let new_tags = tags(body)?;
    if let Some(arn) = &reimport {
        check_arn(arn)?;
        issue::refuse_reimport(cx, arn)?;
        if !new_tags.is_empty() {
            return Err(AcmError::validation(
                "You cannot apply tags when reimporting a certificate.",
            ));
        }
    }
    let (details, served_chain, key) =
        acm::read_import(&certificate, chain.as_deref(), &private_key, cx.now)
            .map_err(|invalid| AcmError::validation(invalid.0))?;
    check_key(served_chain, key)?;
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let (arn, id, (created_at, seq), tags) = match reimport {
        Some(arn) => {
            let old = find(cx.state, &arn)?;
            (
                arn,
                old.id.clone(),
                (old.created_at, old.seq),
                old.tags.clone(),
            )
        }
        None => {
            let id = uuid::Uuid::new_v4().to_string();
            let arn = format!(
                "arn:aws:acm:{}:{}:certificate/{id}",
                cx.config.region, cx.config.account_id
            );
            let tags: BTreeMap<String, String> = new_tags
                .into_iter()
                .map(|(k, v)| (k, v.unwrap_or_default()))
                .collect();
            (arn, id, (cx.now, cx.next_seq()), tags)
        }
    };
    let stored = Certificate {
        arn: arn.clone(),
        id: id.clone(),
        certificate: text(&certificate),
        chain: chain.as_deref().map(text),
        private_key: text(&private_key),
        details,
        created_at,
        seq,
        imported_at: cx.now,
        tags,
        issued: None,
    };
    save(cx, stored)?;
    Ok(json!({"CertificateArn": arn}))
}

/// Whether the crypto provider can sign with the key and the key is the certificate's.
pub(crate) fn check_key(
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
) -> Result<(), AcmError> {
    let provider = rustls::crypto::ring::default_provider();
    let signing = provider.key_provider.load_private_key(key).map_err(|_| {
        AcmError::validation(
            "The private key is not supported. Use an unencrypted RSA (2048 to 4096 bits) or EC (P-256, P-384) key in PEM.",
        )
    })?;
    rustls::sign::CertifiedKey::new(chain, signing)
        .keys_match()
        .map_err(|error| match error {
            rustls::Error::InconsistentKeys(_) => {
                AcmError::validation("The private key does not match the certificate.")
            }
            other => AcmError::validation(format!("The certificate cannot be used: {other}.")),
        })
}

fn save(cx: &mut Ctx<'_>, certificate: Certificate) -> Result<(), AcmError> {
    cx.put(kind::ACM_CERTIFICATE, certificate.id.clone(), &certificate)
        .map_err(|error| AcmError::new("InternalFailure", error.to_string()))?;
    cx.state
        .acm_certificates
        .insert(certificate.id.clone(), certificate);
    Ok(())
}

/// The ARNs of what uses the certificate `arn`: the domain names served with it, and the
/// load balancers whose TLS listeners name it.
fn in_use_by(state: &State, arn: &str, region: &str) -> Vec<String> {
    let domains = state
        .domains
        .values()
        .filter(|d| {
            d.domain.regional_certificate_arn.as_deref() == Some(arn)
                || d.domain.certificate_arn.as_deref() == Some(arn)
        })
        .map(|d| {
            format!(
                "arn:aws:apigateway:{region}::/domainnames/{}",
                d.domain.domain_name
            )
        });
    let load_balancers: std::collections::BTreeSet<String> = state
        .listeners
        .values()
        .filter(|l| l.certificates.iter().any(|c| c == arn))
        .map(|l| l.load_balancer_arn.clone())
        .collect();
    domains.chain(load_balancers).collect()
}

fn describe(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let arn = arn_of(body)?;
    let certificate = find(cx.state, &arn)?;
    let d = &certificate.details;
    let mut out = json!({
        "CertificateArn": certificate.arn,
        "SubjectAlternativeNames": d.subject_alternative_names,
        "Serial": d.serial,
        "Subject": d.subject,
        "Issuer": d.issuer,
        "ImportedAt": certificate.imported_at,
        "Status": certificate.status(cx.now),
        "NotBefore": d.not_before,
        "NotAfter": d.not_after,
        "KeyAlgorithm": d.key_algorithm,
        "SignatureAlgorithm": d.signature_algorithm,
        "InUseBy": in_use_by(cx.state, &arn, &cx.config.region),
        "Type": "IMPORTED",
        "KeyUsages": d.key_usages.iter().map(|name| json!({"Name": name})).collect::<Vec<_>>(),
        "ExtendedKeyUsages": d.extended_key_usages.iter()
            .map(|(name, oid)| json!({"Name": name, "OID": oid})).collect::<Vec<_>>(),
        "RenewalEligibility": "INELIGIBLE",
        "Options": {"CertificateTransparencyLoggingPreference": "DISABLED"},
    });
    if let (Some(domain), Some(map)) = (&d.domain_name, out.as_object_mut()) {
        map.insert("DomainName".into(), json!(domain));
    }
    if let Some(issued) = &certificate.issued {
        issue::describe_fields(certificate, issued, &mut out);
    }
    Ok(json!({"Certificate": out}))
}

fn get(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let arn = arn_of(body)?;
    let certificate = find(cx.state, &arn)?;
    let mut out = json!({"Certificate": certificate.certificate});
    if let (Some(chain), Some(map)) = (&certificate.chain, out.as_object_mut()) {
        map.insert("CertificateChain".into(), json!(chain));
    }
    Ok(out)
}

fn list(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let strings = |value: Option<&Value>| -> Option<Vec<String>> {
        value.and_then(Value::as_array).map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
    };
    let statuses = strings(body.get("CertificateStatuses")).filter(|s| !s.is_empty());
    let includes = body.get("Includes");
    let key_types = strings(includes.and_then(|i| i.get("keyTypes")))
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| DEFAULT_KEY_TYPES.iter().map(|k| (*k).to_owned()).collect());
    let key_usages = strings(includes.and_then(|i| i.get("keyUsage"))).unwrap_or_default();
    let extended = strings(includes.and_then(|i| i.get("extendedKeyUsage"))).unwrap_or_default();
    let max_items = match body.get("MaxItems") {
        None | Some(Value::Null) => 1000,
        Some(value) => match value.as_u64() {
            Some(n @ 1..=1000) => n as usize,
            _ => {
                return Err(AcmError::validation(
                    "1 validation error detected: Value at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000",
                ));
            }
        },
    };
    if let Some(other) = string(body, "SortBy")?.filter(|by| *by != "CREATED_AT") {
        return Err(AcmError::validation(format!(
            "1 validation error detected: Value '{other}' at 'sortBy' failed to satisfy constraint: Member must satisfy enum value set: [CREATED_AT]"
        )));
    }
    const STATUSES: &[&str] = &[
        "PENDING_VALIDATION",
        "ISSUED",
        "INACTIVE",
        "EXPIRED",
        "VALIDATION_TIMED_OUT",
        "REVOKED",
        "FAILED",
    ];
    if let Some(other) = statuses
        .iter()
        .flatten()
        .find(|s| !STATUSES.contains(&s.as_str()))
    {
        return Err(AcmError::validation(format!(
            "1 validation error detected: Value '[{other}]' at 'certificateStatuses' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [{}]]",
            STATUSES.join(", ")
        )));
    }
    let descending = match string(body, "SortOrder")? {
        None | Some("ASCENDING") => false,
        Some("DESCENDING") => true,
        Some(other) => {
            return Err(AcmError::validation(format!(
                "1 validation error detected: Value '{other}' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [ASCENDING, DESCENDING]"
            )));
        }
    };
    let now = cx.now;
    let mut matching: Vec<&Certificate> = cx
        .state
        .acm_certificates
        .values()
        .filter(|c| {
            let d = &c.details;
            statuses
                .as_ref()
                .is_none_or(|s| s.iter().any(|s| s == c.status(now)))
                && key_types.contains(&d.key_algorithm)
                && key_usages
                    .iter()
                    .all(|u| u == "ANY" || d.key_usages.contains(u))
                && extended.iter().all(|u| {
                    u == "ANY"
                        || (u == "NONE" && d.extended_key_usages.is_empty())
                        || d.extended_key_usages.iter().any(|(name, _)| name == u)
                })
        })
        .collect();
    matching.sort_by_key(|c| (c.created_at, c.seq));
    if descending {
        matching.reverse();
    }
    let start = match string(body, "NextToken")? {
        None => 0,
        Some(token) => matching.iter().position(|c| c.id == token).ok_or_else(|| {
            AcmError::new(
                "InvalidArgsException",
                "The NextToken is not valid: start again without it.",
            )
        })?,
    };
    let page: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(max_items)
        .map(|c| summary(cx.state, c, now, &cx.config.region))
        .collect();
    let mut out = json!({"CertificateSummaryList": page});
    if let (Some(next), Some(map)) = (matching.get(start + max_items), out.as_object_mut()) {
        map.insert("NextToken".into(), json!(next.id));
    }
    Ok(out)
}

fn summary(state: &State, c: &Certificate, now: i64, region: &str) -> Value {
    let d = &c.details;
    let mut out = json!({
        "CertificateArn": c.arn,
        "SubjectAlternativeNameSummaries": d.subject_alternative_names,
        "HasAdditionalSubjectAlternativeNames": false,
        "Status": c.status(now),
        "Type": "IMPORTED",
        "KeyAlgorithm": d.key_algorithm,
        "KeyUsages": d.key_usages,
        "ExtendedKeyUsages": d.extended_key_usages.iter().map(|(name, _)| name).collect::<Vec<_>>(),
        "InUse": !in_use_by(state, &c.arn, region).is_empty(),
        "RenewalEligibility": "INELIGIBLE",
        "NotBefore": d.not_before,
        "NotAfter": d.not_after,
        "ImportedAt": c.imported_at,
    });
    if let (Some(domain), Some(map)) = (&d.domain_name, out.as_object_mut()) {
        map.insert("DomainName".into(), json!(domain));
    }
    if let Some(issued) = &c.issued {
        issue::issued_times(c, &mut out);
        if let Some(map) = out.as_object_mut() {
            map.insert("ExportOption".into(), json!(issued.export));
        }
    }
    out
}

fn delete(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let arn = arn_of(body)?;
    let id = find(cx.state, &arn)?.id.clone();
    let users = in_use_by(cx.state, &arn, &cx.config.region);
    if !users.is_empty() {
        return Err(AcmError::new(
            "ResourceInUseException",
            format!("Certificate {arn} in use by {}", users.join(", ")),
        ));
    }
    cx.delete(kind::ACM_CERTIFICATE, id.clone());
    cx.state.acm_certificates.remove(&id);
    Ok(json!({}))
}

fn add_tags(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let arn = arn_of(body)?;
    let new = tags(body)?;
    if new.is_empty() {
        return Err(AcmError::required("tags"));
    }
    let mut certificate = find(cx.state, &arn)?.clone();
    for (key, value) in new {
        certificate.tags.insert(key, value.unwrap_or_default());
    }
    if certificate.tags.len() > 50 {
        return Err(AcmError::new(
            "TooManyTagsException",
            "A certificate has at most 50 tags.",
        ));
    }
    save(cx, certificate)?;
    Ok(json!({}))
}

fn remove_tags(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let arn = arn_of(body)?;
    let gone = tags(body)?;
    if gone.is_empty() {
        return Err(AcmError::required("tags"));
    }
    let mut certificate = find(cx.state, &arn)?.clone();
    for (key, value) in gone {
        // A tag given with a value goes only if its value is that one.
        if value.is_none() || certificate.tags.get(&key) == value.as_ref() {
            certificate.tags.remove(&key);
        }
    }
    save(cx, certificate)?;
    Ok(json!({}))
}

fn list_tags(cx: &mut Ctx<'_>, body: &Value) -> Outcome {
    let arn = arn_of(body)?;
    let certificate = find(cx.state, &arn)?;
    let tags: Vec<Value> = certificate
        .tags
        .iter()
        .map(|(key, value)| json!({"Key": key, "Value": value}))
        .collect();
    Ok(json!({"Tags": tags}))
}
