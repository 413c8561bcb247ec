//! apigatewayv2's custom domain name operations (`/v2/domainnames`): CreateDomainName,
//! GetDomainName, GetDomainNames, UpdateDomainName, DeleteDomainName.
//!
//! They manage the same domains as apigateway's: each request is written as apigateway's
//! (so every check, the certificate's, the security policy's and mutual TLS's with its
//! truststore read from S3, is the same) and answered in apigatewayv2's shape, with one
//! `domainNameConfigurations` entry for the domain's endpoint and the routing mode in
//! apigatewayv2's names (`API_MAPPING_ONLY`, `ROUTING_RULE_ONLY`,
//! `ROUTING_RULE_THEN_API_MAPPING`).

use causeway_model::routing_rule::RoutingMode;
use causeway_model::{ApiError, EndpointType};
use causeway_wire::{input, output};
use serde_json::{Value, json};

use super::domain_names;
use crate::Reply;
use crate::ctx::{Ctx, Query, empty, json, page_v2};

/// A routing mode in apigatewayv2's names, as apigateway names it.
fn routing_mode(text: &str) -> Result<&'static str, ApiError> {
    RoutingMode::parse_v2(text)
        .map(RoutingMode::as_str)
        .ok_or_else(|| {
            let names: Vec<&str> = RoutingMode::ALL.iter().map(|m| m.as_v2_str()).collect();
            ApiError::bad_request(format!(
                "Invalid routing mode '{text}'. Valid options are {}",
                names.join(", ")
            ))
        })
}

/// The one endpoint a domain has here.
fn configuration(
    configurations: Option<Vec<input::DomainNameConfigurationInput>>,
) -> Result<Option<input::DomainNameConfigurationInput>, ApiError> {
    let mut configurations = configurations.unwrap_or_default();
    if configurations.len() > 1 {
        return Err(ApiError::bad_request(
            "A domain name takes one domainNameConfigurations entry (one endpoint)",
        ));
    }
    Ok(configurations.pop())
}

fn answer(cx: &Ctx<'_>, status: u16, name: &str) -> Result<Reply, ApiError> {
    let domain = domain_names::domain(cx, name)?;
    json(
        status,
        &output::DomainNameV2::from_model(&domain.domain, &cx.config.region),
    )
}

/// Whether apigateway's operation answered with a refusal or a deferred step (a truststore
/// to read first): then that is the answer.
fn passes_through(reply: &Reply) -> bool {
    reply.deferred.is_some() || reply.status >= 300
}

pub fn create(cx: &mut Ctx<'_>, body: &[u8]) -> Result<Reply, ApiError> {
    let req: input::DomainNameV2 = causeway_wire::decode(body)?;
    let name = req
        .domain_name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad_request("DomainName is required"))?;
    let config = configuration(req.domain_name_configurations)?.unwrap_or_default();
    // apigatewayv2's domains are REGIONAL unless they say otherwise.
    let endpoint_type = config
        .endpoint_type
        .clone()
        .unwrap_or_else(|| "REGIONAL".to_owned());
    let regional = endpoint_type != "EDGE";
    let mut v1 = json!({
        "domainName": name,
        "endpointConfiguration": {"types": [endpoint_type]},
    });
    let mut set = |key: &str, value: Option<String>| {
        if let Some(value) = value {
            v1[key] = Value::String(value);
        }
    };
    let (arn_key, name_key) = if regional {
        ("regionalCertificateArn", "regionalCertificateName")
    } else {
        ("certificateArn", "certificateName")
    };
    set(arn_key, config.certificate_arn);
    set(name_key, config.certificate_name);
    set("securityPolicy", config.security_policy);
    set(
        "ownershipVerificationCertificateArn",
        config.ownership_verification_certificate_arn,
    );
    if let Some(mode) = req.routing_mode {
        set("routingMode", Some(routing_mode(&mode)?.to_owned()));
    }
    if let Some(mutual_tls) = req.mutual_tls_authentication {
        v1["mutualTlsAuthentication"] = json!({
            "truststoreUri": mutual_tls.truststore_uri,
            "truststoreVersion": mutual_tls.truststore_version,
        });
    }
    if let Some(tags) = req.tags {
        v1["tags"] = json!(tags);
    }
    let reply = domain_names::create(cx, v1.to_string().as_bytes())?;
    if passes_through(&reply) {
        return Ok(reply);
    }
    answer(cx, 201, &name.to_ascii_lowercase())
}

pub fn get(cx: &mut Ctx<'_>, name: &str) -> Result<Reply, ApiError> {
    answer(cx, 200, &name.to_ascii_lowercase())
}

/// GetDomainNames: by name, `maxResults` at a time (all by default), `nextToken` naming the
/// next page's first domain.
pub fn list(cx: &mut Ctx<'_>, query: &Query) -> Result<Reply, ApiError> {
    let keyed: Vec<(String, &causeway_model::DomainName)> = cx
        .state
        .domains
        .iter()
        .map(|(name, d)| (name.clone(), &d.domain))
        .collect();
    let (page, next_token) = page_v2(keyed, query, usize::MAX)?;
    let region = &cx.config.region;
    let items = page
        .into_iter()
        .map(|d| output::DomainNameV2::from_model(d, region))
        .collect();
    json(200, &output::DomainNamesV2 { items, next_token })
}

/// UpdateDomainName: what the body names, written as apigateway's patch operations.
pub fn update(cx: &mut Ctx<'_>, name: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let req: input::DomainNameV2 = causeway_wire::decode(body)?;
    let name = name.to_ascii_lowercase();
    let current = domain_names::domain(cx, &name)?.domain.clone();
    let mut ops: Vec<Value> = Vec::new();
    let mut replace = |path: &str, value: &str| {
        ops.push(json!({"op": "replace", "path": path, "value": value}));
    };
    if let Some(mode) = &req.routing_mode {
        replace("/routingMode", routing_mode(mode)?);
    }
    if let Some(config) = configuration(req.domain_name_configurations)? {
        let mut regional = current.endpoint_type != EndpointType::Edge;
        if let Some(endpoint_type) = &config.endpoint_type
            && EndpointType::parse(endpoint_type) != Some(current.endpoint_type)
        {
            replace("/endpointConfiguration/types/0", endpoint_type);
            regional = endpoint_type != "EDGE";
        }
        if let Some(arn) = &config.certificate_arn {
            replace(
                if regional {
                    "/regionalCertificateArn"
                } else {
                    "/certificateArn"
                },
                arn,
            );
        }
        if let Some(certificate_name) = &config.certificate_name {
            replace(
                if regional {
                    "/regionalCertificateName"
                } else {
                    "/certificateName"
                },
                certificate_name,
            );
        }
        if let Some(policy) = &config.security_policy {
            replace("/securityPolicy", policy);
        }
        if let Some(arn) = &config.ownership_verification_certificate_arn {
            replace("/ownershipVerificationCertificateArn", arn);
        }
    }
    if let Some(mutual_tls) = &req.mutual_tls_authentication {
        if let Some(uri) = &mutual_tls.truststore_uri {
            replace("/mutualTlsAuthentication/truststoreUri", uri);
        }
        if let Some(version) = &mutual_tls.truststore_version {
            replace("/mutualTlsAuthentication/truststoreVersion", version);
        }
    }
    if !ops.is_empty() {
        let patch = json!({ "patchOperations": ops }).to_string();
        let reply = domain_names::update(cx, &name, patch.as_bytes())?;
        if passes_through(&reply) {
            return Ok(reply);
        }
    }
    answer(cx, 200, &name)
}

pub fn delete(cx: &mut Ctx<'_>, name: &str) -> Result<Reply, ApiError> {
    domain_names::delete(cx, name)?;
    empty(204)
}
