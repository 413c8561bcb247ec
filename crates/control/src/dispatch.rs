//! Maps a method and path to an operation, as the apigateway rest-json model lays them out.
//!
//! Path labels arrive percent-encoded with only `-_.~` left bare (so an ARN's `/` is `%2F`);
//! the path is split on raw `/` first and each segment decoded after, so encoded slashes stay
//! inside their label.

use causeway_model::ApiError;
use percent_encoding::percent_decode_str;

use crate::ctx::{Ctx, Query};
use crate::ops::{
    account, api_mappings, apikeys, authorizers, client_certificates, domain_names,
    domain_names_v2, nodes, usage, usageplans,
};
use crate::ops::{
    deployments, documentation, gateway_responses, methods, models, request_validators, resources,
    restapis, routing_rules, stages, tags, test_invoke, vpclinks, vpclinks_v2,
};
use crate::{Reply, Request};

/// Runs the operation that `request` names.
pub fn dispatch(cx: &mut Ctx<'_>, request: &Request) -> Result<Reply, ApiError> {
    let segments: Vec<String> = request
        .path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let query = Query::parse(&request.query);
    let body = request.body.as_slice();
    let q = &query;
    // WAF's JSON 1.1 protocol: `POST /`, the operation in `X-Amz-Target`.
    if request.method == "POST"
        && segs.is_empty()
        && let Some(operation) = request
            .target
            .as_deref()
            .and_then(|t| t.strip_prefix(crate::waf::TARGET_PREFIX))
    {
        return Ok(crate::waf::dispatch(cx, request, operation));
    }
    // ACM's, the same way.
    if request.method == "POST"
        && segs.is_empty()
        && let Some(operation) = request
            .target
            .as_deref()
            .and_then(|t| t.strip_prefix(crate::acm::TARGET_PREFIX))
    {
        return Ok(crate::acm::dispatch(cx, request, operation));
    }
    match (request.method.as_str(), segs.as_slice()) {
        // The elbv2 query protocol: every operation is `POST /` with `Action=...` in a form
        // body (a GET with the same query string is accepted too).
        ("POST" | "GET", []) => Ok(crate::elbv2::dispatch(cx, request)),
        ("GET", ["restapis"]) => restapis::list(cx, q),
        ("POST", ["restapis"]) if q.get("mode") == Some("import") => {
            crate::ops::openapi::import(cx, q, body)
        }
        ("POST", ["restapis"]) => restapis::create(cx, body),
        ("GET", ["restapis", api]) => restapis::get(cx, api),
        ("PATCH", ["restapis", api]) => restapis::update(cx, api, body),
        ("DELETE", ["restapis", api]) => restapis::delete(cx, api),
        ("PUT", ["restapis", api]) => crate::ops::openapi::put(cx, api, q, body),

        ("GET", ["restapis", api, "resources"]) => resources::list(cx, api, q),
        ("GET", ["restapis", api, "resources", id]) => resources::get(cx, api, id, q),
        ("POST", ["restapis", api, "resources", parent]) => {
            resources::create(cx, api, parent, body)
        }
        ("PATCH", ["restapis", api, "resources", id]) => resources::update(cx, api, id, body),
        ("DELETE", ["restapis", api, "resources", id]) => resources::delete(cx, api, id),

        (
            verb,
            [
                "restapis",
                api,
                "resources",
                id,
                "methods",
                method,
                rest @ ..,
            ],
        ) => {
            let at = methods::At {
                api,
                resource: id,
                method,
            };
            match (verb, rest) {
                ("PUT", []) => methods::put_method(cx, &at, body),
                ("GET", []) => methods::get_method(cx, &at),
                ("PATCH", []) => methods::update_method(cx, &at, body),
                ("DELETE", []) => methods::delete_method(cx, &at),
                ("POST", []) => test_invoke::test_invoke(cx, &at, body),
                ("PUT", ["responses", code]) => methods::put_method_response(cx, &at, code, body),
                ("GET", ["responses", code]) => methods::get_method_response(cx, &at, code),
                ("PATCH", ["responses", code]) => {
                    methods::update_method_response(cx, &at, code, body)
                }
                ("DELETE", ["responses", code]) => methods::delete_method_response(cx, &at, code),
                ("PUT", ["integration"]) => methods::put_integration(cx, &at, body),
                ("GET", ["integration"]) => methods::get_integration(cx, &at),
                ("PATCH", ["integration"]) => methods::update_integration(cx, &at, body),
                ("DELETE", ["integration"]) => methods::delete_integration(cx, &at),
                ("PUT", ["integration", "responses", code]) => {
                    methods::put_integration_response(cx, &at, code, body)
                }
                ("GET", ["integration", "responses", code]) => {
                    methods::get_integration_response(cx, &at, code)
                }
                ("PATCH", ["integration", "responses", code]) => {
                    methods::update_integration_response(cx, &at, code, body)
                }
                ("DELETE", ["integration", "responses", code]) => {
                    methods::delete_integration_response(cx, &at, code)
                }
                _ => Err(unknown(request)),
            }
        }

        ("POST", ["restapis", api, "deployments"]) => deployments::create(cx, api, body),
        ("GET", ["restapis", api, "deployments"]) => deployments::list(cx, api, q),
        ("GET", ["restapis", api, "deployments", id]) => deployments::get(cx, api, id, q),
        ("PATCH", ["restapis", api, "deployments", id]) => deployments::update(cx, api, id, body),
        ("DELETE", ["restapis", api, "deployments", id]) => deployments::delete(cx, api, id),

        ("POST", ["restapis", api, "stages"]) => stages::create(cx, api, body),
        ("GET", ["restapis", api, "stages"]) => stages::list(cx, api, q),
        ("GET", ["restapis", api, "stages", name]) => stages::get(cx, api, name),
        ("PATCH", ["restapis", api, "stages", name]) => stages::update(cx, api, name, body),
        ("DELETE", ["restapis", api, "stages", name]) => stages::delete(cx, api, name),
        ("DELETE", ["restapis", api, "stages", name, "cache", "data"]) => {
            stages::flush_cache(cx, api, name)
        }
        ("DELETE", ["restapis", api, "stages", name, "cache", "authorizers"]) => {
            stages::flush_authorizers(cx, api, name)
        }
        ("GET", ["restapis", api, "stages", name, "exports", kind]) => {
            crate::ops::openapi::export(cx, api, name, kind, q, request.accept.as_deref())
        }

        ("POST", ["restapis", api, "documentation", "parts"]) => {
            documentation::create_part(cx, api, body)
        }
        ("GET", ["restapis", api, "documentation", "parts"]) => {
            documentation::list_parts(cx, api, q)
        }
        ("PUT", ["restapis", api, "documentation", "parts"]) => {
            documentation::import_parts(cx, api, q, body)
        }
        ("GET", ["restapis", api, "documentation", "parts", id]) => {
            documentation::get_part(cx, api, id)
        }
        ("PATCH", ["restapis", api, "documentation", "parts", id]) => {
            documentation::update_part(cx, api, id, body)
        }
        ("DELETE", ["restapis", api, "documentation", "parts", id]) => {
            documentation::delete_part(cx, api, id)
        }
        ("POST", ["restapis", api, "documentation", "versions"]) => {
            documentation::create_version(cx, api, body)
        }
        ("GET", ["restapis", api, "documentation", "versions"]) => {
            documentation::list_versions(cx, api, q)
        }
        ("GET", ["restapis", api, "documentation", "versions", version]) => {
            documentation::get_version(cx, api, version)
        }
        ("PATCH", ["restapis", api, "documentation", "versions", version]) => {
            documentation::update_version(cx, api, version, body)
        }
        ("DELETE", ["restapis", api, "documentation", "versions", version]) => {
            documentation::delete_version(cx, api, version)
        }

        ("GET", ["restapis", api, "gatewayresponses"]) => gateway_responses::list(cx, api, q),
        ("GET", ["restapis", api, "gatewayresponses", kind]) => {
            gateway_responses::get(cx, api, kind)
        }
        ("PUT", ["restapis", api, "gatewayresponses", kind]) => {
            gateway_responses::put(cx, api, kind, body)
        }
        ("PATCH", ["restapis", api, "gatewayresponses", kind]) => {
            gateway_responses::update(cx, api, kind, body)
        }
        ("DELETE", ["restapis", api, "gatewayresponses", kind]) => {
            gateway_responses::delete(cx, api, kind)
        }

        ("POST", ["restapis", api, "models"]) => models::create(cx, api, body),
        ("GET", ["restapis", api, "models"]) => models::list(cx, api, q),
        ("GET", ["restapis", api, "models", name]) => models::get(cx, api, name, q),
        ("PATCH", ["restapis", api, "models", name]) => models::update(cx, api, name, body),
        ("DELETE", ["restapis", api, "models", name]) => models::delete(cx, api, name),
        ("GET", ["restapis", api, "models", name, "default_template"]) => {
            models::template(cx, api, name)
        }

        ("POST", ["restapis", api, "requestvalidators"]) => {
            request_validators::create(cx, api, body)
        }
        ("GET", ["restapis", api, "requestvalidators"]) => request_validators::list(cx, api, q),
        ("GET", ["restapis", api, "requestvalidators", id]) => request_validators::get(cx, api, id),
        ("PATCH", ["restapis", api, "requestvalidators", id]) => {
            request_validators::update(cx, api, id, body)
        }
        ("DELETE", ["restapis", api, "requestvalidators", id]) => {
            request_validators::delete(cx, api, id)
        }

        ("POST", ["restapis", api, "authorizers"]) => authorizers::create(cx, api, body),
        ("GET", ["restapis", api, "authorizers"]) => authorizers::list(cx, api, q),
        ("GET", ["restapis", api, "authorizers", id]) => authorizers::get(cx, api, id),
        ("POST", ["restapis", api, "authorizers", id]) => {
            authorizers::test_invoke(cx, api, id, body)
        }
        ("PATCH", ["restapis", api, "authorizers", id]) => authorizers::update(cx, api, id, body),
        ("DELETE", ["restapis", api, "authorizers", id]) => authorizers::delete(cx, api, id),

        ("POST", ["domainnames"]) => domain_names::create(cx, body),
        ("GET", ["domainnames"]) => domain_names::list(cx, q),
        ("GET", ["domainnames", name]) => domain_names::get(cx, name),
        ("PATCH", ["domainnames", name]) => domain_names::update(cx, name, body),
        ("DELETE", ["domainnames", name]) => domain_names::delete(cx, name),
        ("POST", ["domainnames", name, "basepathmappings"]) => {
            domain_names::create_mapping(cx, name, body)
        }
        ("GET", ["domainnames", name, "basepathmappings"]) => {
            domain_names::list_mappings(cx, name, q)
        }
        ("GET", ["domainnames", name, "basepathmappings", path]) => {
            domain_names::get_mapping(cx, name, path)
        }
        ("PATCH", ["domainnames", name, "basepathmappings", path]) => {
            domain_names::update_mapping(cx, name, path, body)
        }
        ("DELETE", ["domainnames", name, "basepathmappings", path]) => {
            domain_names::delete_mapping(cx, name, path)
        }

        ("POST", ["clientcertificates"]) => client_certificates::generate_certificate(cx, body),
        ("GET", ["clientcertificates"]) => client_certificates::list(cx, q),
        ("GET", ["clientcertificates", id]) => client_certificates::get(cx, id),
        ("PATCH", ["clientcertificates", id]) => client_certificates::update(cx, id, body),
        ("DELETE", ["clientcertificates", id]) => client_certificates::delete(cx, id),

        ("POST", ["vpclinks"]) => vpclinks::create(cx, body),
        ("GET", ["vpclinks"]) => vpclinks::list(cx, q),
        ("GET", ["vpclinks", id]) => vpclinks::get(cx, id),
        ("PATCH", ["vpclinks", id]) => vpclinks::update(cx, id, body),
        ("DELETE", ["vpclinks", id]) => vpclinks::delete(cx, id),

        // apigatewayv2's VPC links (V2), which REST API integrations use too.
        ("POST", ["v2", "vpclinks"]) => vpclinks_v2::create(cx, body),
        ("GET", ["v2", "vpclinks"]) => vpclinks_v2::list(cx, q),
        ("GET", ["v2", "vpclinks", id]) => vpclinks_v2::get(cx, id),
        ("PATCH", ["v2", "vpclinks", id]) => vpclinks_v2::update(cx, id, body),
        ("DELETE", ["v2", "vpclinks", id]) => vpclinks_v2::delete(cx, id),
        // apigatewayv2's custom domain names (the same domains as apigateway's).
        ("POST", ["v2", "domainnames"]) => domain_names_v2::create(cx, body),
        ("GET", ["v2", "domainnames"]) => domain_names_v2::list(cx, q),
        ("GET", ["v2", "domainnames", name]) => domain_names_v2::get(cx, name),
        ("PATCH", ["v2", "domainnames", name]) => domain_names_v2::update(cx, name, body),
        ("DELETE", ["v2", "domainnames", name]) => domain_names_v2::delete(cx, name),
        // apigatewayv2's API mappings (base path mappings, multi-level ones too).
        ("POST", ["v2", "domainnames", name, "apimappings"]) => {
            api_mappings::create(cx, name, body)
        }
        ("GET", ["v2", "domainnames", name, "apimappings"]) => api_mappings::list(cx, name, q),
        ("GET", ["v2", "domainnames", name, "apimappings", id]) => api_mappings::get(cx, name, id),
        ("PATCH", ["v2", "domainnames", name, "apimappings", id]) => {
            api_mappings::update(cx, name, id, body)
        }
        ("DELETE", ["v2", "domainnames", name, "apimappings", id]) => {
            api_mappings::delete(cx, name, id)
        }
        // apigatewayv2's routing rules of custom domain names.
        ("POST", ["v2", "domainnames", name, "routingrules"]) => {
            routing_rules::create(cx, name, body)
        }
        ("GET", ["v2", "domainnames", name, "routingrules"]) => routing_rules::list(cx, name, q),
        ("GET", ["v2", "domainnames", name, "routingrules", id]) => {
            routing_rules::get(cx, name, id)
        }
        ("PUT", ["v2", "domainnames", name, "routingrules", id]) => {
            routing_rules::put(cx, name, id, body)
        }
        ("DELETE", ["v2", "domainnames", name, "routingrules", id]) => {
            routing_rules::delete(cx, name, id)
        }

        ("POST", ["apikeys"]) if q.get("mode") == Some("import") => apikeys::import(cx, q, body),
        ("POST", ["apikeys"]) => apikeys::create(cx, body),
        ("GET", ["apikeys"]) => apikeys::list(cx, q),
        ("GET", ["apikeys", id]) => apikeys::get(cx, id, q),
        ("PATCH", ["apikeys", id]) => apikeys::update(cx, id, body),
        ("DELETE", ["apikeys", id]) => apikeys::delete(cx, id),

        ("POST", ["usageplans"]) => usageplans::create(cx, body),
        ("GET", ["usageplans"]) => usageplans::list(cx, q),
        ("GET", ["usageplans", id]) => usageplans::get(cx, id),
        ("PATCH", ["usageplans", id]) => usageplans::update(cx, id, body),
        ("DELETE", ["usageplans", id]) => usageplans::delete(cx, id),
        ("POST", ["usageplans", id, "keys"]) => usageplans::create_key(cx, id, body),
        ("GET", ["usageplans", id, "keys"]) => usageplans::list_keys(cx, id, q),
        ("GET", ["usageplans", id, "keys", key]) => usageplans::get_key(cx, id, key),
        ("DELETE", ["usageplans", id, "keys", key]) => usageplans::delete_key(cx, id, key),
        ("GET", ["usageplans", id, "usage"]) => usage::get(cx, id, q),
        ("PATCH", ["usageplans", id, "keys", key, "usage"]) => usage::update(cx, id, key, body),

        ("GET", ["account"]) => account::get(cx),
        ("PATCH", ["account"]) => account::update(cx, body),

        ("POST", ["causeway", "nodes"]) => nodes::create(cx, body),
        ("GET", ["causeway", "nodes"]) => nodes::list(cx),
        ("GET", ["causeway", "nodes", id]) => nodes::get(cx, id),
        ("DELETE", ["causeway", "nodes", id]) => nodes::delete(cx, id),

        ("GET", ["tags", arn]) => tags::get(cx, arn),
        ("PUT", ["tags", arn]) => tags::tag(cx, arn, body),
        ("DELETE", ["tags", arn]) => tags::untag(cx, arn, q),
        ("GET", ["v2", "tags", arn]) => tags::get(cx, arn),
        ("POST", ["v2", "tags", arn]) => tags::tag_v2(cx, arn, body),
        ("DELETE", ["v2", "tags", arn]) => tags::untag(cx, arn, q),

        _ => Err(unknown(request)),
    }
}

fn unknown(request: &Request) -> ApiError {
    ApiError::UnknownOperation(format!(
        "No apigateway operation matches {} {}",
        request.method, request.path
    ))
}
