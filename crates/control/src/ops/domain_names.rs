//! CreateDomainName, GetDomainName(s), UpdateDomainName, DeleteDomainName, and their base
//! path mappings (Create, Get(s), Update, Delete).
//!
//! The gateway serves a domain by the request's Host: `{domain}/{basePath}/...` reaches the
//! API and stage the mapping names. Certificates are kept as given; the gateway listener
//! does not terminate TLS (put a TLS terminator in front for HTTPS).

use causeway_model::patch::{Op, PatchOperation};
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

fn domain<'a>(cx: &'a Ctx<'_>, name: &str) -> Result<&'a DomainState, ApiError> {
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
    check_security_policy(&security_policy)?;
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
    };
    cx.put(kind::DOMAIN_NAME, name.clone(), &created)?;
    let reply = output::DomainName::from_model(&created, &cx.config.region, TagsField::Include);
    cx.state.domains.insert(
        name,
        DomainState {
            domain: created,
            mappings: Default::default(),
        },
    );
    json(201, &reply)
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

fn check_security_policy(policy: &str) -> Result<(), ApiError> {
    if matches!(policy, "TLS_1_0" | "TLS_1_2") || policy.starts_with("SecurityPolicy_") {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "Invalid security policy '{policy}'. Valid options are TLS_1_0, TLS_1_2"
        )))
    }
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
                output::DomainName::from_model(&d.domain, &region, TagsField::Omit),
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
    check_security_policy(&updated.security_policy)?;
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
    const PATHS: &str = "/certificateName, /certificateArn, /regionalCertificateName, /regionalCertificateArn, /securityPolicy, /endpointConfiguration/types/0";
    let field = match op.path.as_str() {
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
    let valid = path.len() <= 300
        && path.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'_' | b'.' | b'+' | b'!' | b'$' | b'*' | b'\'' | b'(' | b')'
                )
        });
    if valid {
        Ok(path.to_owned())
    } else {
        Err(ApiError::bad_request(format!(
            "Invalid base path specified: '{path}'. Use letters, digits and $-_.+!*'()"
        )))
    }
}

/// The API and stage a mapping names must exist.
fn check_target(cx: &Ctx<'_>, api_id: &str, stage: Option<&str>) -> Result<(), ApiError> {
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
    Ok(())
}

pub fn create_mapping(cx: &mut Ctx<'_>, name: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let req: input::CreateBasePathMapping = causeway_wire::decode(body)?;
    let name = name.to_ascii_lowercase();
    domain(cx, &name)?;
    let Some(api_id) = req.rest_api_id.filter(|id| !id.is_empty()) else {
        return Err(required("createBasePathMappingInput.restApiId"));
    };
    let stage = req.stage.filter(|s| !s.is_empty());
    check_target(cx, &api_id, stage.as_deref())?;
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
    };
    save_mapping(cx, &name, mapping, 201)
}

fn save_mapping(
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

fn mapping<'a>(cx: &'a Ctx<'_>, name: &str, path: &str) -> Result<&'a BasePathMapping, ApiError> {
    let path = base_path(Some(path)).map_err(|_| ApiError::not_found(MAPPING_NOT_FOUND))?;
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
    check_target(cx, &updated.rest_api_id, updated.stage.as_deref())?;
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
