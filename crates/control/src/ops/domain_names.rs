//! CreateDomainName, GetDomainName(s), UpdateDomainName, DeleteDomainName, and their base
//! path mappings (Create, Get(s), Update, Delete).
//!
//! The gateway serves a domain by the request's Host: `{domain}/{basePath}/...` reaches the
//! API and stage the mapping names; over HTTPS, with the domain's certificate, security
//! policy and mutual TLS (its truststore read from S3 when the domain is created or
//! updated).

use causeway_model::mtls::MutualTls;
use causeway_model::patch::{Op, PatchOperation};
use causeway_model::routing_rule::RoutingMode;
use causeway_model::{ApiError, BasePathMapping, DomainName, EndpointType};
use causeway_wire::input;
use causeway_wire::output::{self, Page, TagsField};

use crate::Reply;
use crate::ctx::{Ctx, Query, check_tags, empty, json, paginate, patch_operations, required};
use crate::state::{DomainState, kind};

pub(crate) const DOMAIN_NOT_FOUND: &str = "Invalid domain name identifier specified";
const MAPPING_NOT_FOUND: &str = "Invalid base path mapping identifier specified";
/// The base path of a mapping at the domain's root.
pub const ROOT: &str = "(none)";

pub(super) fn domain<'a>(cx: &'a Ctx<'_>, name: &str) -> Result<&'a DomainState, ApiError> {
    cx.state
        .domains
        .get(name)
        .ok_or_else(|| ApiError::not_found(DOMAIN_NOT_FOUND))
}

/// A host name as DNS writes them: labels of letters, digits and hyphens, the first one
/// possibly `*` (a wildcard domain).
fn check_domain_name(name: &str) -> Result<(), ApiError> {
    let valid = name.len() <= 253
        && name.contains('.')
        && name.split('.').enumerate().all(|(i, label)| {
            (i == 0 && label == "*")
                || (!label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        });
    if valid {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "Invalid domain name specified: '{name}'. Use a fully qualified host name such as api.example.com"
        )))
    }
}

/// A certificate a domain name names by ARN must be one imported into ACM, by this account:
/// for an EDGE name, in us-east-1 (CloudFront's region, as AWS requires) or in this server's
/// region (where its ACM keeps certificates); for the others, in this region. The texts are
/// AWS's.
fn check_certificate_arn(cx: &Ctx<'_>, arn: &str, edge: bool) -> Result<(), ApiError> {
    let region = cx.config.region.as_str();
    if let [_, _, "acm", in_region, account, _] = arn.splitn(6, ':').collect::<Vec<_>>()[..] {
        let home = if edge { "us-east-1" } else { region };
        if in_region != home && in_region != region {
            return Err(ApiError::bad_request(format!(
                "Invalid certificate ARN: {arn}. Certificate must be in '{home}'."
            )));
        }
        if account != cx.config.account_id {
            return Err(ApiError::bad_request(
                "Cross-account certificate references are not allowed.",
            ));
        }
    }
    if cx.state.acm_certificates.values().any(|c| c.arn == arn) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "The provided certificate does not exist.",
        ))
    }
}

pub fn create(cx: &mut Ctx<'_>, body: &[u8]) -> Result<Reply, ApiError> {
    let req: input::CreateDomainName = causeway_wire::decode(body)?;
    let Some(name) = req.domain_name.filter(|n| !n.is_empty()) else {
        return Err(required("createDomainNameInput.domainName"));
    };
    let name = name.to_ascii_lowercase();
    check_domain_name(&name)?;
    let types = req
        .endpoint_configuration
        .and_then(|c| c.types)
        .unwrap_or_else(|| vec!["EDGE".to_owned()]);
    let endpoint_type = match types.as_slice() {
        [one] => EndpointType::parse(one).ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid endpoint type '{one}'. Valid options are {}",
                EndpointType::options(", ")
            ))
        })?,
        _ => {
            return Err(ApiError::bad_request(
                "A domain name has exactly one endpoint type",
            ));
        }
    };
    let has_edge_certificate = req.certificate_arn.is_some() || req.certificate_body.is_some();
    let has_certificate = match endpoint_type {
        EndpointType::Regional => req.regional_certificate_arn.is_some(),
        EndpointType::Edge => has_edge_certificate,
        EndpointType::Private => has_edge_certificate || req.regional_certificate_arn.is_some(),
    };
    if !has_certificate {
        return Err(ApiError::bad_request(format!(
            "A certificate was not provided for the endpoint type {endpoint_type}."
        )));
    }
    let uploaded_certificate = match (&req.certificate_body, &req.certificate_private_key) {
        (None, None) => None,
        (Some(body), Some(key)) => Some(uploaded(
            cx.now,
            body,
            key,
            req.certificate_chain.as_deref(),
        )?),
        (Some(_), None) => return Err(required("createDomainNameInput.certificatePrivateKey")),
        (None, Some(_)) => return Err(required("createDomainNameInput.certificateBody")),
    };
    if let Some(arn) = &req.certificate_arn {
        check_certificate_arn(cx, arn, endpoint_type == EndpointType::Edge)?;
    }
    if let Some(arn) = &req.regional_certificate_arn {
        check_certificate_arn(cx, arn, false)?;
    }
    let security_policy = req.security_policy.unwrap_or_else(|| "TLS_1_2".to_owned());
    let endpoint_access_mode = req.endpoint_access_mode.filter(|m| !m.is_empty());
    let wanted_tls = req.mutual_tls_authentication.and_then(|m| {
        Some((
            m.truststore_uri.filter(|u| !u.is_empty())?,
            m.truststore_version,
        ))
    });
    check_tls(
        endpoint_type,
        &security_policy,
        endpoint_access_mode.as_deref(),
        wanted_tls.is_some(),
    )?;
    if let Some(arn) = &req.ownership_verification_certificate_arn {
        check_certificate_arn(cx, arn, false)?;
    }
    let routing_mode = match req.routing_mode.as_deref() {
        None | Some("") => RoutingMode::default(),
        Some(mode) => routing_mode(mode)?,
    };
    let tags = req.tags.unwrap_or_default();
    check_tags(&tags)?;
    if cx.state.domains.contains_key(&name) {
        return Err(ApiError::bad_request(
            "The domain name you provided already exists.",
        ));
    }
    let taken: Vec<String> = cx
        .state
        .domains
        .values()
        .map(|d| d.domain.id.clone())
        .collect();
    let mutual_tls = match wanted_tls {
        None => None,
        Some((uri, version)) => match truststore(cx, &uri, version)? {
            Loaded::Ready(mutual_tls) => Some(mutual_tls),
            Loaded::Fetch(reply) => return Ok(reply),
        },
    };
    let id = cx.new_id(10, |candidate| taken.iter().any(|t| t == candidate));
    let created = DomainName {
        domain_name: name.clone(),
        id,
        certificate_name: req.certificate_name,
        certificate_arn: req.certificate_arn,
        regional_certificate_name: req.regional_certificate_name,
        regional_certificate_arn: req.regional_certificate_arn,
        endpoint_type,
        security_policy,
        created_date: cx.now,
        tags,
        uploaded_certificate,
        endpoint_access_mode,
        mutual_tls,
        ownership_verification_certificate_arn: req.ownership_verification_certificate_arn,
        routing_mode,
    };
    cx.put(kind::DOMAIN_NAME, name.clone(), &created)?;
    let reply = output::DomainName::from_model(&created, &cx.config.region, TagsField::Include);
    cx.state.domains.insert(
        name,
        DomainState {
            domain: created,
            mappings: Default::default(),
            rules: Default::default(),
        },
    );
    json(201, &reply)
}

/// A routing mode as apigateway names it.
fn routing_mode(text: &str) -> Result<RoutingMode, ApiError> {
    RoutingMode::parse(text).ok_or_else(|| {
        let names: Vec<&str> = RoutingMode::ALL.iter().map(|m| m.as_str()).collect();
        ApiError::bad_request(format!(
            "Invalid routing mode '{text}'. Valid options are {}",
            names.join(", ")
        ))
    })
}

/// A certificate given with the domain, checked as ACM checks an import: one certificate,
/// valid now, with its key.
fn uploaded(
    now: i64,
    body: &str,
    key: &str,
    chain: Option<&str>,
) -> Result<causeway_model::gateway::ServingCertificate, ApiError> {
    let (_, served, private_key) = causeway_model::acm::read_import(
        body.as_bytes(),
        chain.map(str::as_bytes),
        key.as_bytes(),
        now,
    )
    .map_err(|invalid| ApiError::bad_request(invalid.0))?;
    crate::acm::check_key(served, private_key)
        .map_err(|error| ApiError::bad_request(error.message))?;
    Ok(causeway_model::gateway::ServingCertificate::new(
        body, chain, key,
    ))
}

/// A domain's security policy, endpoint access mode and mutual TLS together: the policy
/// must exist and fit the endpoint type; an enhanced policy (`SecurityPolicy_*`) needs an
/// access mode and a legacy one takes none; mutual TLS needs a REGIONAL domain on TLS_1_2.
/// The access mode's texts are AWS's; the others are inferred (AWS documents the rules, not
/// their messages), but for `Mutual TLS authentication is supported for Regional APIs only`.
fn check_tls(
    endpoint_type: EndpointType,
    policy: &str,
    access_mode: Option<&str>,
    mutual_tls: bool,
) -> Result<(), ApiError> {
    let Some(known) = causeway_model::mtls::security_policy(policy) else {
        let names: Vec<&str> = causeway_model::mtls::SECURITY_POLICIES
            .iter()
            .map(|p| p.name)
            .collect();
        return Err(ApiError::bad_request(format!(
            "Invalid security policy '{policy}'. Valid options are {}",
            names.join(", ")
        )));
    };
    let fits = match endpoint_type {
        EndpointType::Edge => known.edge,
        EndpointType::Regional | EndpointType::Private => known.regional,
    };
    if !fits {
        return Err(ApiError::bad_request(format!(
            "The security policy {policy} is not supported for {endpoint_type} domain names."
        )));
    }
    match access_mode {
        None if known.enhanced() => {
            return Err(ApiError::bad_request(
                "Endpoint access mode is required for the specified security policy",
            ));
        }
        Some(_) if !known.enhanced() => {
            return Err(ApiError::bad_request(
                "Endpoint access mode is not supported for this security policy",
            ));
        }
        Some(mode) if mode != "BASIC" && mode != "STRICT" => {
            return Err(ApiError::bad_request(format!(
                "Invalid endpoint access mode '{mode}'. Valid options are BASIC, STRICT"
            )));
        }
        _ => {}
    }
    if mutual_tls {
        if endpoint_type != EndpointType::Regional {
            return Err(ApiError::bad_request(MTLS_REGIONAL_ONLY));
        }
        if known.enhanced() {
            return Err(ApiError::bad_request(
                "Mutual TLS authentication cannot be enabled on a domain name that uses an enhanced security policy.",
            ));
        }
        if policy != "TLS_1_2" {
            return Err(ApiError::bad_request(
                "Mutual TLS authentication requires a minimum TLS version of 1.2. Use the security policy TLS_1_2.",
            ));
        }
    }
    Ok(())
}

/// A truststore, read, or the reply that has the HTTP edge read it from S3 first.
enum Loaded {
    Ready(MutualTls),
    Fetch(Reply),
}

/// The truststore at `uri` (in `version`), once the HTTP edge has read it
/// ([`crate::Deferred::FetchTruststore`]): its certificates and warnings. One that cannot
/// be read, holds no certificate or is too large is refused (BadRequestException); a
/// certificate with a fault gives a warning, as on AWS.
fn truststore(cx: &Ctx<'_>, uri: &str, version: Option<String>) -> Result<Loaded, ApiError> {
    let Some((bucket, key)) = causeway_model::mtls::s3_location(uri) else {
        return Err(ApiError::bad_request(format!(
            "Invalid truststore URI '{uri}'. Use the S3 URI of the truststore, such as s3://bucket-name/key-name."
        )));
    };
    let fetch = crate::TruststoreFetch {
        uri: uri.to_owned(),
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        version: version.clone(),
    };
    let Some(fetched) = cx.fetched.filter(|f| f.fetch == fetch) else {
        return Ok(Loaded::Fetch(Reply {
            status: 200,
            body: Vec::new(),
            error_code: None,
            content_type: "application/json",
            headers: Vec::new(),
            deferred: Some(crate::Deferred::FetchTruststore(Box::new(fetch))),
        }));
    };
    let at = match &version {
        Some(version) => format!("{uri} (version {version})"),
        None => uri.to_owned(),
    };
    let bytes = fetched.body.as_ref().map_err(|reason| {
        ApiError::bad_request(format!("Unable to read the truststore at {at}: {reason}"))
    })?;
    let read = causeway_model::mtls::read_truststore(bytes, cx.now)
        .map_err(|reason| ApiError::bad_request(format!("Invalid truststore at {at}: {reason}")))?;
    Ok(Loaded::Ready(MutualTls {
        truststore_uri: uri.to_owned(),
        truststore_version: version,
        truststore_warnings: read.warnings,
        truststore: String::from_utf8_lossy(bytes).into_owned(),
    }))
}

pub fn list(cx: &mut Ctx<'_>, query: &Query) -> Result<Reply, ApiError> {
    let region = cx.config.region.clone();
    let items = cx
        .state
        .domains
        .values()
        .map(|d| {
            (
                d.domain.domain_name.clone(),
                output::DomainName::from_model(&d.domain, &region, TagsField::IfAny),
            )
        })
        .collect();
    let (item, position) = paginate(items, query)?;
    json(200, &Page { item, position })
}

pub fn get(cx: &mut Ctx<'_>, name: &str) -> Result<Reply, ApiError> {
    let domain = domain(cx, &name.to_ascii_lowercase())?;
    json(
        200,
        &output::DomainName::from_model(&domain.domain, &cx.config.region, TagsField::Include),
    )
}

pub fn update(cx: &mut Ctx<'_>, name: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let ops = patch_operations(body, "updateDomainNameInput")?;
    let name = name.to_ascii_lowercase();
    let current = domain(cx, &name)?.domain.clone();
    let mut updated = current.clone();
    for op in &ops {
        apply(&mut updated, op)?;
    }
    if let Some(arn) = &updated.certificate_arn
        && updated.certificate_arn != current.certificate_arn
    {
        check_certificate_arn(cx, arn, updated.endpoint_type == EndpointType::Edge)?;
    }
    if let Some(arn) = &updated.regional_certificate_arn
        && updated.regional_certificate_arn != current.regional_certificate_arn
    {
        check_certificate_arn(cx, arn, false)?;
    }
    // A new truststore URI or version is read again; the same ones keep what was read.
    let location = |m: &Option<MutualTls>| {
        m.as_ref()
            .map(|m| (m.truststore_uri.clone(), m.truststore_version.clone()))
    };
    // Checked when one of them changes (a domain stored before a check came in keeps
    // taking other patches).
    let tls_changed = updated.endpoint_type != current.endpoint_type
        || updated.security_policy != current.security_policy
        || updated.endpoint_access_mode != current.endpoint_access_mode
        || location(&updated.mutual_tls) != location(&current.mutual_tls);
    if tls_changed {
        check_tls(
            updated.endpoint_type,
            &updated.security_policy,
            updated.endpoint_access_mode.as_deref(),
            updated.mutual_tls.is_some(),
        )?;
    }
    if let Some(arn) = &updated.ownership_verification_certificate_arn
        && updated.ownership_verification_certificate_arn
            != current.ownership_verification_certificate_arn
    {
        check_certificate_arn(cx, arn, false)?;
    }
    // Mutual TLS on a domain that maps an EDGE API is refused as such a mapping is.
    if current.mutual_tls.is_none() && updated.mutual_tls.is_some() {
        let maps_edge = domain(cx, &name)?.mappings.values().any(|m| {
            cx.state
                .apis
                .get(&m.rest_api_id)
                .is_some_and(|api| is_edge(&api.api))
        });
        if maps_edge {
            return Err(ApiError::bad_request(MTLS_REGIONAL_ONLY));
        }
    }
    if let Some((uri, version)) = location(&updated.mutual_tls)
        && location(&current.mutual_tls) != location(&updated.mutual_tls)
    {
        match truststore(cx, &uri, version)? {
            Loaded::Ready(mutual_tls) => updated.mutual_tls = Some(mutual_tls),
            Loaded::Fetch(reply) => return Ok(reply),
        }
    }
    cx.put(kind::DOMAIN_NAME, name.clone(), &updated)?;
    let reply = output::DomainName::from_model(&updated, &cx.config.region, TagsField::Include);
    if let Some(state) = cx.state.domains.get_mut(&name) {
        state.domain = updated;
    }
    json(200, &reply)
}

/// `replace` on the certificates and the security policy, and on
/// `/endpointConfiguration/types/0` (an EDGE domain made REGIONAL).
fn apply(domain: &mut DomainName, op: &PatchOperation) -> Result<(), ApiError> {
    const PATHS: &str = "/certificateName, /certificateArn, /regionalCertificateName, /regionalCertificateArn, /securityPolicy, /endpointAccessMode, /endpointConfiguration/types/0, /mutualTlsAuthentication/truststoreUri, /mutualTlsAuthentication/truststoreVersion, /ownershipVerificationCertificateArn, /routingMode";
    let field = match op.path.as_str() {
        "/routingMode" => {
            if op.op != Op::Replace {
                return Err(op.unsupported(&[Op::Replace]));
            }
            domain.routing_mode = routing_mode(op.value()?)?;
            return Ok(());
        }
        "/mutualTlsAuthentication/truststoreUri" | "/mutualTlsAuthentication/truststoreVersion" => {
            let value = match op.op {
                Op::Replace | Op::Add => op.optional_value(),
                Op::Remove => None,
                _ => return Err(op.unsupported(&[Op::Add, Op::Remove, Op::Replace])),
            };
            if op.path.ends_with("truststoreUri") {
                // An empty URI turns mutual TLS off, as AWS documents.
                domain.mutual_tls = value.map(|uri| MutualTls {
                    truststore_uri: uri,
                    truststore_version: domain
                        .mutual_tls
                        .as_ref()
                        .and_then(|m| m.truststore_version.clone()),
                    truststore_warnings: Vec::new(),
                    truststore: String::new(),
                });
            } else if let Some(mutual_tls) = &mut domain.mutual_tls {
                mutual_tls.truststore_version = value;
            } else if value.is_some() {
                return Err(ApiError::bad_request(
                    "A truststore version needs a truststore URI (/mutualTlsAuthentication/truststoreUri)",
                ));
            }
            return Ok(());
        }
        "/endpointAccessMode" => {
            if op.op != Op::Replace {
                return Err(op.unsupported(&[Op::Replace]));
            }
            if domain.mutual_tls.is_some() {
                return Err(ApiError::bad_request(
                    "/endpointAccessMode Invalid request input",
                ));
            }
            domain.endpoint_access_mode = op.optional_value();
            return Ok(());
        }
        "/ownershipVerificationCertificateArn" => {
            &mut domain.ownership_verification_certificate_arn
        }
        "/certificateName" => &mut domain.certificate_name,
        "/certificateArn" => &mut domain.certificate_arn,
        "/regionalCertificateName" => &mut domain.regional_certificate_name,
        "/regionalCertificateArn" => &mut domain.regional_certificate_arn,
        "/securityPolicy" | "/endpointConfiguration/types/0" => {
            if op.op != Op::Replace {
                return Err(op.unsupported(&[Op::Replace]));
            }
            let value = op.value()?;
            if op.path == "/securityPolicy" {
                domain.security_policy = value.to_owned();
            } else {
                domain.endpoint_type = EndpointType::parse(value)
                    .filter(|t| *t != EndpointType::Private)
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "Invalid endpoint type '{value}'. Valid options are EDGE, REGIONAL"
                        ))
                    })?;
            }
            return Ok(());
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "Invalid patch path  '{other}' specified for op '{}'. Must be one of: [{PATHS}]",
                op.op.as_str()
            )));
        }
    };
    match op.op {
        Op::Replace | Op::Add => *field = op.optional_value(),
        Op::Remove => *field = None,
        _ => return Err(op.unsupported(&[Op::Add, Op::Remove, Op::Replace])),
    }
    Ok(())
}

pub fn delete(cx: &mut Ctx<'_>, name: &str) -> Result<Reply, ApiError> {
    let name = name.to_ascii_lowercase();
    domain(cx, &name)?;
    cx.delete(kind::DOMAIN_NAME, name.clone());
    cx.delete_prefix(kind::BASE_PATH_MAPPING, format!("{name}/"));
    cx.delete_prefix(kind::ROUTING_RULE, format!("{name}/"));
    cx.state.domains.remove(&name);
    empty(202)
}

/// A base path as mappings keep it: `(none)` for the root, else without outer slashes.
fn base_path(given: Option<&str>) -> Result<String, ApiError> {
    let path = given.unwrap_or_default().trim_matches('/');
    if path.is_empty() || path == ROOT {
        return Ok(ROOT.to_owned());
    }
    if path.contains('/') {
        return Err(ApiError::bad_request(
            "API Gateway V1 doesn't support the slash character (/) in base path mappings. To create a multi-level base path mapping, use API Gateway V2.",
        ));
    }
    if path.len() <= 300 && base_path_segment(path) {
        Ok(path.to_owned())
    } else {
        Err(ApiError::bad_request(format!(
            "Invalid base path specified: '{path}'. Use letters, digits and $-_.+!*'()"
        )))
    }
}

/// One segment of a base path: letters, digits and `$-_.+!*'()`, as AWS allows.
pub(super) fn base_path_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'_' | b'.' | b'+' | b'!' | b'$' | b'*' | b'\'' | b'(' | b')'
                )
        })
}

/// The API and stage a mapping names must exist; a domain with mutual TLS takes no EDGE
/// API (AWS's text).
pub(super) fn check_target(
    cx: &Ctx<'_>,
    domain_name: &str,
    api_id: &str,
    stage: Option<&str>,
) -> Result<(), ApiError> {
    let api = cx
        .state
        .apis
        .get(api_id)
        .ok_or_else(|| ApiError::bad_request("Invalid REST API identifier specified"))?;
    if let Some(stage) = stage
        && !api.stages.contains_key(stage)
    {
        return Err(ApiError::bad_request("Invalid stage identifier specified"));
    }
    let mutual_tls = domain(cx, domain_name)?.domain.mutual_tls.is_some();
    if mutual_tls && is_edge(&api.api) {
        return Err(ApiError::bad_request(MTLS_REGIONAL_ONLY));
    }
    Ok(())
}

/// AWS's refusal of mutual TLS for anything but REGIONAL domains and APIs.
const MTLS_REGIONAL_ONLY: &str = "Mutual TLS authentication is supported for Regional APIs only";

fn is_edge(api: &causeway_model::RestApi) -> bool {
    api.endpoint_configuration
        .types
        .contains(&EndpointType::Edge)
}

pub fn create_mapping(cx: &mut Ctx<'_>, name: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let req: input::CreateBasePathMapping = causeway_wire::decode(body)?;
    let name = name.to_ascii_lowercase();
    if domain(cx, &name)?.domain.routing_mode == RoutingMode::RoutingRuleOnly {
        return Err(ApiError::bad_request(format!(
            "Base path mappings can't be created for domain name {name}: its routing mode is ROUTING_RULE_ONLY. Set it to BASE_PATH_MAPPING_ONLY or ROUTING_RULE_THEN_BASE_PATH_MAPPING (UpdateDomainName, replace /routingMode) first"
        )));
    }
    let Some(api_id) = req.rest_api_id.filter(|id| !id.is_empty()) else {
        return Err(required("createBasePathMappingInput.restApiId"));
    };
    let stage = req.stage.filter(|s| !s.is_empty());
    check_target(cx, &name, &api_id, stage.as_deref())?;
    let path = base_path(req.base_path.as_deref())?;
    if domain(cx, &name)?.mappings.contains_key(&path) {
        return Err(ApiError::conflict(
            "Base path already exists for this domain name",
        ));
    }
    let mapping = BasePathMapping {
        base_path: path.clone(),
        rest_api_id: api_id,
        stage,
        api_mapping_id: Some(new_mapping_id(cx, &name)),
    };
    save_mapping(cx, &name, mapping, 201)
}

pub(super) fn save_mapping(
    cx: &mut Ctx<'_>,
    name: &str,
    mapping: BasePathMapping,
    status: u16,
) -> Result<Reply, ApiError> {
    cx.put(
        kind::BASE_PATH_MAPPING,
        format!("{name}/{}", mapping.base_path),
        &mapping,
    )?;
    let reply = output::BasePathMapping::from_model(&mapping);
    if let Some(state) = cx.state.domains.get_mut(name) {
        state.mappings.insert(mapping.base_path.clone(), mapping);
    }
    json(status, &reply)
}

/// A new mapping's apigatewayv2 id, unique within the domain.
pub(super) fn new_mapping_id(cx: &mut Ctx<'_>, name: &str) -> String {
    let taken: Vec<String> = cx
        .state
        .domains
        .get(name)
        .map(|d| {
            d.mappings
                .values()
                .map(BasePathMapping::api_mapping_id)
                .collect()
        })
        .unwrap_or_default();
    cx.new_id(10, |candidate| taken.iter().any(|t| t == candidate))
}

/// The mapping of a base path; a multi-level one (made with apigatewayv2) is found by its
/// whole path (`orders%2Fv2` in the URL).
fn mapping<'a>(cx: &'a Ctx<'_>, name: &str, path: &str) -> Result<&'a BasePathMapping, ApiError> {
    let trimmed = path.trim_matches('/');
    let path = if trimmed.contains('/') {
        trimmed.to_owned()
    } else {
        base_path(Some(path)).map_err(|_| ApiError::not_found(MAPPING_NOT_FOUND))?
    };
    domain(cx, name)?
        .mappings
        .get(&path)
        .ok_or_else(|| ApiError::not_found(MAPPING_NOT_FOUND))
}

pub fn list_mappings(cx: &mut Ctx<'_>, name: &str, query: &Query) -> Result<Reply, ApiError> {
    let domain = domain(cx, &name.to_ascii_lowercase())?;
    let items = domain
        .mappings
        .values()
        .map(|m| (m.base_path.clone(), output::BasePathMapping::from_model(m)))
        .collect();
    let (item, position) = paginate(items, query)?;
    json(200, &Page { item, position })
}

pub fn get_mapping(cx: &mut Ctx<'_>, name: &str, path: &str) -> Result<Reply, ApiError> {
    let found = mapping(cx, &name.to_ascii_lowercase(), path)?;
    json(200, &output::BasePathMapping::from_model(found))
}

/// `replace` on `/basePath`, `/restapiId` and `/stage` (AWS spells the API's path
/// `/restapiId`).
pub fn update_mapping(
    cx: &mut Ctx<'_>,
    name: &str,
    path: &str,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let ops = patch_operations(body, "updateBasePathMappingInput")?;
    let name = name.to_ascii_lowercase();
    let current = mapping(cx, &name, path)?.clone();
    let mut updated = current.clone();
    // The apigatewayv2 id stays the mapping's when its base path changes.
    updated.api_mapping_id = Some(current.api_mapping_id());
    for op in &ops {
        if op.op != Op::Replace {
            return Err(op.unsupported(&[Op::Replace]));
        }
        match op.path.as_str() {
            "/basePath" => updated.base_path = base_path(op.value.as_deref())?,
            "/restapiId" | "/restApiId" => updated.rest_api_id = op.value()?.to_owned(),
            "/stage" => updated.stage = op.optional_value(),
            other => {
                return Err(ApiError::bad_request(format!(
                    "Invalid patch path  '{other}' specified for op 'replace'. Must be one of: [/basePath, /restapiId, /stage]"
                )));
            }
        }
    }
    check_target(cx, &name, &updated.rest_api_id, updated.stage.as_deref())?;
    // Moving a mapping onto a base path that has one replaces it, as on AWS.
    if updated.base_path != current.base_path {
        cx.delete(
            kind::BASE_PATH_MAPPING,
            format!("{name}/{}", current.base_path),
        );
        if let Some(state) = cx.state.domains.get_mut(&name) {
            state.mappings.remove(&current.base_path);
        }
    }
    save_mapping(cx, &name, updated, 200)
}

pub fn delete_mapping(cx: &mut Ctx<'_>, name: &str, path: &str) -> Result<Reply, ApiError> {
    let name = name.to_ascii_lowercase();
    let path = mapping(cx, &name, path)?.base_path.clone();
    cx.delete(kind::BASE_PATH_MAPPING, format!("{name}/{path}"));
    if let Some(state) = cx.state.domains.get_mut(&name) {
        state.mappings.remove(&path);
    }
    empty(202)
}

/// An API mapped to a domain with mutual TLS cannot become EDGE (AWS's text, as for the
/// mapping itself).
pub(crate) fn refuse_edge_behind_mutual_tls(
    cx: &Ctx<'_>,
    api_id: &str,
    api: &causeway_model::RestApi,
) -> Result<(), ApiError> {
    let behind_mutual_tls = cx.state.domains.values().any(|d| {
        d.domain.mutual_tls.is_some() && d.mappings.values().any(|m| m.rest_api_id == api_id)
    });
    if behind_mutual_tls && is_edge(api) {
        return Err(ApiError::bad_request(MTLS_REGIONAL_ONLY));
    }
    Ok(())
}

/// The domains whose mappings name API `api_id` (or its stage `stage`): DeleteRestApi and
/// DeleteStage refuse while there are any, as AWS does.
pub(crate) fn refuse_if_mapped(
    cx: &Ctx<'_>,
    api_id: &str,
    stage: Option<&str>,
) -> Result<(), ApiError> {
    let domains: Vec<&str> = cx
        .state
        .domains
        .values()
        .filter(|d| {
            d.mappings.values().any(|m| {
                m.rest_api_id == api_id && (stage.is_none() || m.stage.as_deref() == stage)
            })
        })
        .map(|d| d.domain.domain_name.as_str())
        .collect();
    if domains.is_empty() {
        return Ok(());
    }
    let domains = domains.join(", ");
    Err(ApiError::bad_request(match stage {
        None => format!(
            "Deleting RestApi {api_id} failed. Please remove all base path mappings related to the RestApi in your domains: {domains}"
        ),
        Some(stage) => format!(
            "Deleting stage {stage} failed. Please remove all base path mappings related to the stage in your domains: {domains}"
        ),
    }))
}
