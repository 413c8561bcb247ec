//! Response bodies, built from the domain types. Absent values are omitted rather than sent
//! as `null`, and empty maps are omitted where AWS omits them.

use std::collections::BTreeMap;

use causeway_model as m;
use serde::{Serialize, Serializer};

type StringMap = BTreeMap<String, String>;

mod usage;
pub use usage::*;

/// `{"message": ...}`.
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    pub message: &'a str,
}

/// A page of a list operation: items under `item`, `position` when more remain.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub item: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
}

/// GetStages, which AWS does not paginate.
#[derive(Debug, Serialize)]
pub struct Stages {
    pub item: Vec<Stage>,
}

/// GetTags.
#[derive(Debug, Serialize)]
pub struct Tags {
    pub tags: StringMap,
}

/// Whether an output carries `tags`: AWS sends them (`{}` when there are none) on Get and
/// Update, and on create and in lists only when there are some (answers recorded from AWS: a
/// REST API created without tags has no `tags` member in either, one created with tags has
/// them in both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagsField {
    IfAny,
    Include,
}

impl TagsField {
    /// The `tags` member for a resource with these tags.
    pub fn pick(self, tags: &StringMap) -> Option<StringMap> {
        match self {
            TagsField::Include => Some(tags.clone()),
            TagsField::IfAny => (!tags.is_empty()).then(|| tags.clone()),
        }
    }
}

/// RestApi.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestApi {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub created_date: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// What an import (ImportRestApi, PutRestApi) could not do; absent elsewhere.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub binary_media_types: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum_compression_size: Option<i32>,
    pub api_key_source: m::ApiKeySource,
    pub endpoint_configuration: EndpointConfiguration,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<StringMap>,
    pub disable_execute_api_endpoint: bool,
    pub root_resource_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_access_mode: Option<String>,
}

/// The `endpointConfiguration` member.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointConfiguration {
    pub types: Vec<m::EndpointType>,
    pub ip_address_type: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vpc_endpoint_ids: Vec<String>,
}

impl RestApi {
    /// The wire form of an API.
    pub fn from_model(api: &m::RestApi, tags: TagsField) -> RestApi {
        RestApi {
            id: api.id.clone(),
            name: api.name.clone(),
            description: api.description.clone(),
            created_date: api.created_date,
            version: api.version.clone(),
            warnings: Vec::new(),
            binary_media_types: api.binary_media_types.clone(),
            minimum_compression_size: api.minimum_compression_size,
            api_key_source: api.api_key_source,
            endpoint_configuration: EndpointConfiguration {
                types: api.endpoint_configuration.types.clone(),
                ip_address_type: api.endpoint_configuration.ip_address_type.clone(),
                vpc_endpoint_ids: api.endpoint_configuration.vpc_endpoint_ids.clone(),
            },
            policy: api.policy.clone(),
            tags: tags.pick(&api.tags),
            disable_execute_api_endpoint: api.disable_execute_api_endpoint,
            root_resource_id: api.root_resource_id.clone(),
            security_policy: api.security_policy.clone(),
            endpoint_access_mode: api.endpoint_access_mode.clone(),
        }
    }
}

/// Resource.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_part: Option<String>,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_methods: Option<BTreeMap<String, EmbeddedMethod>>,
}

/// A value of `resourceMethods`: the full method with `embed=methods`, else `{}`.
#[derive(Debug)]
pub struct EmbeddedMethod(pub Option<Box<Method>>);

impl Serialize for EmbeddedMethod {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Some(method) => method.serialize(serializer),
            None => serde::ser::SerializeMap::end(serializer.serialize_map(Some(0))?),
        }
    }
}

/// Which parts of a resource an output carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceView {
    /// `{id, parentId, path, pathPart}` only, as Create and Update return.
    Bare,
    /// `resourceMethods` with `{}` per method.
    MethodNames,
    /// `resourceMethods` with full methods (`embed=methods`).
    EmbedMethods,
}

impl Resource {
    /// The wire form of a resource whose full path is `path`.
    pub fn from_model(resource: &m::Resource, path: String, view: ResourceView) -> Resource {
        let resource_methods = match view {
            ResourceView::Bare => None,
            _ if resource.methods.is_empty() => None,
            ResourceView::MethodNames => Some(
                resource
                    .methods
                    .keys()
                    .map(|verb| (verb.clone(), EmbeddedMethod(None)))
                    .collect(),
            ),
            ResourceView::EmbedMethods => Some(
                resource
                    .methods
                    .iter()
                    .map(|(verb, method)| {
                        (
                            verb.clone(),
                            EmbeddedMethod(Some(Box::new(Method::from_model(method)))),
                        )
                    })
                    .collect(),
            ),
        };
        Resource {
            id: resource.id.clone(),
            parent_id: resource.parent_id.clone(),
            path_part: resource
                .parent_id
                .as_ref()
                .map(|_| resource.path_part.clone()),
            path,
            resource_methods,
        }
    }
}

/// Method.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Method {
    pub http_method: m::HttpMethod,
    pub authorization_type: m::AuthorizationType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_id: Option<String>,
    pub api_key_required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_validator_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_name: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub request_parameters: BTreeMap<String, bool>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub request_models: StringMap,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub method_responses: BTreeMap<String, MethodResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method_integration: Option<Integration>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub authorization_scopes: Vec<String>,
}

impl Method {
    /// The wire form of a method, with its responses and integration.
    pub fn from_model(method: &m::Method) -> Method {
        Method {
            http_method: method.http_method,
            authorization_type: method.authorization_type,
            authorizer_id: method.authorizer_id.clone(),
            api_key_required: method.api_key_required,
            request_validator_id: method.request_validator_id.clone(),
            operation_name: method.operation_name.clone(),
            request_parameters: method.request_parameters.clone(),
            request_models: method.request_models.clone(),
            method_responses: method
                .method_responses
                .iter()
                .map(|(code, response)| (code.clone(), MethodResponse::from_model(response)))
                .collect(),
            method_integration: method.integration.as_ref().map(Integration::from_model),
            authorization_scopes: method.authorization_scopes.clone(),
        }
    }
}

/// MethodResponse.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodResponse {
    pub status_code: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub response_parameters: BTreeMap<String, bool>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub response_models: StringMap,
}

impl MethodResponse {
    /// The wire form of a method response.
    pub fn from_model(response: &m::MethodResponse) -> MethodResponse {
        MethodResponse {
            status_code: response.status_code.clone(),
            response_parameters: response.response_parameters.clone(),
            response_models: response.response_models.clone(),
        }
    }
}

/// Integration.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    #[serde(rename = "type")]
    pub kind: m::IntegrationType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_method: Option<m::HttpMethod>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_type: Option<m::ConnectionType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub request_parameters: StringMap,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub request_templates: StringMap,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passthrough_behavior: Option<m::PassthroughBehavior>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_handling: Option<m::ContentHandling>,
    pub timeout_in_millis: i32,
    pub cache_namespace: String,
    pub cache_key_parameters: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub integration_responses: BTreeMap<String, IntegrationResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_transfer_mode: Option<m::ResponseTransferMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integration_target: Option<String>,
}

/// The `tlsConfig` member.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsConfig {
    pub insecure_skip_verification: bool,
}

impl Integration {
    /// The wire form of an integration, with its responses.
    pub fn from_model(it: &m::Integration) -> Integration {
        Integration {
            kind: it.kind,
            http_method: it.http_method,
            uri: it.uri.clone(),
            connection_type: it.connection_type,
            connection_id: it.connection_id.clone(),
            credentials: it.credentials.clone(),
            request_parameters: it.request_parameters.clone(),
            request_templates: it.request_templates.clone(),
            passthrough_behavior: it.passthrough_behavior,
            content_handling: it.content_handling,
            timeout_in_millis: it.timeout_in_millis,
            cache_namespace: it.cache_namespace.clone(),
            cache_key_parameters: it.cache_key_parameters.clone(),
            integration_responses: it
                .integration_responses
                .iter()
                .map(|(code, response)| (code.clone(), IntegrationResponse::from_model(response)))
                .collect(),
            tls_config: it.tls_config.as_ref().map(|tls| TlsConfig {
                insecure_skip_verification: tls.insecure_skip_verification,
            }),
            response_transfer_mode: it.response_transfer_mode,
            integration_target: it.integration_target.clone(),
        }
    }
}

/// IntegrationResponse.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationResponse {
    pub status_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selection_pattern: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub response_parameters: StringMap,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub response_templates: StringMap,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_handling: Option<m::ContentHandling>,
}

impl IntegrationResponse {
    /// The wire form of an integration response.
    pub fn from_model(response: &m::IntegrationResponse) -> IntegrationResponse {
        IntegrationResponse {
            status_code: response.status_code.clone(),
            selection_pattern: response.selection_pattern.clone(),
            response_parameters: response.response_parameters.clone(),
            response_templates: response.response_templates.clone(),
            content_handling: response.content_handling,
        }
    }
}

/// Deployment.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub created_date: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_summary: Option<BTreeMap<String, BTreeMap<String, MethodSnapshot>>>,
}

/// A value of `apiSummary`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodSnapshot {
    pub authorization_type: m::AuthorizationType,
    pub api_key_required: bool,
}

/// Whether a deployment output carries `apiSummary` (`embed=apisummary`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryField {
    Omit,
    Include,
}

impl Deployment {
    /// The wire form of a deployment.
    pub fn from_model(deployment: &m::Deployment, summary: SummaryField) -> Deployment {
        let api_summary = (summary == SummaryField::Include).then(|| {
            deployment
                .snapshot
                .resources
                .iter()
                .filter(|r| !r.resource.methods.is_empty())
                .map(|r| {
                    let methods = r
                        .resource
                        .methods
                        .iter()
                        .map(|(verb, method)| {
                            (
                                verb.clone(),
                                MethodSnapshot {
                                    authorization_type: method.authorization_type,
                                    api_key_required: method.api_key_required,
                                },
                            )
                        })
                        .collect();
                    (r.path.clone(), methods)
                })
                .collect()
        });
        Deployment {
            id: deployment.id.clone(),
            description: deployment.description.clone(),
            created_date: deployment.created_date,
            api_summary,
        }
    }
}

/// Stage.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    pub deployment_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_certificate_id: Option<String>,
    pub stage_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub cache_cluster_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_cluster_size: Option<String>,
    pub cache_cluster_status: m::CacheClusterStatus,
    pub method_settings: BTreeMap<String, MethodSetting>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: StringMap,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documentation_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_log_settings: Option<AccessLogSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canary_settings: Option<CanarySettings>,
    pub tracing_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_acl_arn: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: StringMap,
    pub created_date: i64,
    pub last_updated_date: i64,
}

/// MethodSetting.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodSetting {
    pub metrics_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging_level: Option<m::LoggingLevel>,
    pub data_trace_enabled: bool,
    pub throttling_burst_limit: i32,
    pub throttling_rate_limit: f64,
    pub caching_enabled: bool,
    pub cache_ttl_in_seconds: i32,
    pub cache_data_encrypted: bool,
    pub require_authorization_for_cache_control: bool,
    pub unauthorized_cache_control_header_strategy: m::UnauthorizedCacheControlHeaderStrategy,
}

/// AccessLogSettings.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessLogSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_arn: Option<String>,
}

/// CanarySettings.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CanarySettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent_traffic: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub stage_variable_overrides: StringMap,
    /// Always written, `false` included, as AWS's guide shows it.
    pub use_stage_cache: bool,
}

impl Stage {
    /// The wire form of a stage.
    pub fn from_model(stage: &m::Stage) -> Stage {
        Stage {
            deployment_id: stage.deployment_id.clone(),
            client_certificate_id: stage.client_certificate_id.clone(),
            stage_name: stage.stage_name.clone(),
            description: stage.description.clone(),
            cache_cluster_enabled: stage.cache_cluster_enabled,
            cache_cluster_size: stage.cache_cluster_size.clone(),
            cache_cluster_status: stage.cache_cluster_status,
            method_settings: stage
                .method_settings
                .iter()
                .map(|(key, s)| {
                    (
                        key.clone(),
                        MethodSetting {
                            metrics_enabled: s.metrics_enabled,
                            logging_level: s.logging_level,
                            data_trace_enabled: s.data_trace_enabled,
                            throttling_burst_limit: s.throttling_burst_limit,
                            throttling_rate_limit: s.throttling_rate_limit,
                            caching_enabled: s.caching_enabled,
                            cache_ttl_in_seconds: s.cache_ttl_in_seconds,
                            cache_data_encrypted: s.cache_data_encrypted,
                            require_authorization_for_cache_control: s
                                .require_authorization_for_cache_control,
                            unauthorized_cache_control_header_strategy: s
                                .unauthorized_cache_control_header_strategy,
                        },
                    )
                })
                .collect(),
            variables: stage.variables.clone(),
            documentation_version: stage.documentation_version.clone(),
            access_log_settings: stage
                .access_log_settings
                .as_ref()
                .map(|a| AccessLogSettings {
                    format: a.format.clone(),
                    destination_arn: a.destination_arn.clone(),
                }),
            canary_settings: stage.canary_settings.as_ref().map(|c| CanarySettings {
                percent_traffic: c.percent_traffic,
                deployment_id: c.deployment_id.clone(),
                stage_variable_overrides: c.stage_variable_overrides.clone(),
                use_stage_cache: c.use_stage_cache,
            }),
            tracing_enabled: stage.tracing_enabled,
            web_acl_arn: stage.web_acl_arn.clone(),
            tags: stage.tags.clone(),
            created_date: stage.created_date,
            last_updated_date: stage.last_updated_date,
        }
    }
}

/// VpcLink.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VpcLink {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub target_arns: Vec<String>,
    pub status: m::VpcLinkStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<StringMap>,
}

impl VpcLink {
    /// The wire form of a VPC link.
    pub fn from_model(link: &m::VpcLink, tags: TagsField) -> VpcLink {
        VpcLink {
            id: link.id.clone(),
            name: link.name.clone(),
            description: link.description.clone(),
            target_arns: link.target_arns.clone(),
            status: link.status,
            status_message: link.status_message.clone(),
            tags: tags.pick(&link.tags),
        }
    }
}

/// A VPC link V2, as apigatewayv2 answers it (`createdDate` in ISO 8601).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VpcLinkV2 {
    pub created_date: String,
    pub name: String,
    pub security_group_ids: Vec<String>,
    pub subnet_ids: Vec<String>,
    pub tags: StringMap,
    pub vpc_link_id: String,
    pub vpc_link_status: m::VpcLinkStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_link_status_message: Option<String>,
    pub vpc_link_version: &'static str,
}

impl VpcLinkV2 {
    /// The wire form of a VPC link V2.
    pub fn from_model(link: &m::VpcLinkV2) -> VpcLinkV2 {
        let millis = crate::elbv2::xml::timestamp(link.created_date.saturating_mul(1000));
        VpcLinkV2 {
            // `2020-04-07T17:23:45Z`, as apigatewayv2 writes it.
            created_date: format!("{}Z", millis.get(..19).unwrap_or_default()),
            name: link.name.clone(),
            security_group_ids: link.security_group_ids.clone(),
            subnet_ids: link.subnet_ids.clone(),
            tags: link.tags.clone(),
            vpc_link_id: link.id.clone(),
            vpc_link_status: link.status,
            vpc_link_status_message: link.status_message.clone(),
            vpc_link_version: "V2",
        }
    }
}

/// GetVpcLinks of apigatewayv2: `items` and, when more follow, `nextToken`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VpcLinksV2 {
    pub items: Vec<VpcLinkV2>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// A routing rule of a custom domain name (apigatewayv2), with its ARN.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutingRule<'a> {
    pub routing_rule_id: &'a str,
    pub routing_rule_arn: String,
    pub priority: i64,
    pub conditions: &'a [m::routing_rule::Condition],
    pub actions: &'a [m::routing_rule::Action],
}

impl<'a> RoutingRule<'a> {
    /// The wire form of `rule`, a rule of domain `domain` in `region` and `account`.
    pub fn from_model(
        rule: &'a m::routing_rule::RoutingRule,
        domain: &str,
        region: &str,
        account: &str,
    ) -> RoutingRule<'a> {
        RoutingRule {
            routing_rule_id: &rule.routing_rule_id,
            routing_rule_arn: format!(
                "arn:aws:apigateway:{region}:{account}:/domainnames/{domain}/routingrules/{}",
                rule.routing_rule_id
            ),
            priority: rule.priority,
            conditions: &rule.conditions,
            actions: &rule.actions,
        }
    }
}

/// ListRoutingRules: `routingRules` and, when more follow, `nextToken`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutingRules<'a> {
    pub routing_rules: Vec<RoutingRule<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// DocumentationPart.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentationPart {
    pub id: String,
    pub location: causeway_model::documentation::DocumentationPartLocation,
    pub properties: String,
}

impl DocumentationPart {
    pub fn from_model(
        part: &causeway_model::documentation::DocumentationPart,
    ) -> DocumentationPart {
        DocumentationPart {
            id: part.id.clone(),
            location: part.location.clone(),
            properties: part.properties.clone(),
        }
    }
}

/// DocumentationVersion (without the parts it keeps).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentationVersion {
    pub version: String,
    pub created_date: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl DocumentationVersion {
    pub fn from_model(
        version: &causeway_model::documentation::DocumentationVersion,
    ) -> DocumentationVersion {
        DocumentationVersion {
            version: version.version.clone(),
            created_date: version.created_date,
            description: version.description.clone(),
        }
    }
}

/// DocumentationPartIds: what ImportDocumentationParts made or changed.
#[derive(Debug, Serialize)]
pub struct DocumentationPartIds {
    pub ids: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// ClientCertificate: everything but the private key.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientCertificate {
    pub client_certificate_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub pem_encoded_certificate: String,
    pub created_date: i64,
    pub expiration_date: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<StringMap>,
}

impl ClientCertificate {
    /// The wire form of a client certificate.
    pub fn from_model(certificate: &m::ClientCertificate, tags: TagsField) -> ClientCertificate {
        ClientCertificate {
            client_certificate_id: certificate.client_certificate_id.clone(),
            description: certificate.description.clone(),
            pem_encoded_certificate: certificate.pem_encoded_certificate.clone(),
            created_date: certificate.created_date,
            expiration_date: certificate.expiration_date,
            tags: tags.pick(&certificate.tags),
        }
    }
}

/// GatewayResponse.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayResponse {
    pub response_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    pub response_parameters: StringMap,
    pub response_templates: StringMap,
    pub default_response: bool,
}

impl GatewayResponse {
    /// The wire form of a gateway response.
    pub fn from_model(response: &m::GatewayResponse) -> GatewayResponse {
        GatewayResponse {
            response_type: response.response_type.clone(),
            status_code: response.status_code.clone(),
            response_parameters: response.response_parameters.clone(),
            response_templates: response.response_templates.clone(),
            default_response: response.default_response,
        }
    }
}

/// Model.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Model {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub schema: String,
    pub content_type: String,
}

impl Model {
    /// The wire form of a model.
    pub fn from_model(model: &m::Model) -> Model {
        Model {
            id: model.id.clone(),
            name: model.name.clone(),
            description: model.description.clone(),
            schema: model.schema.clone(),
            content_type: model.content_type.clone(),
        }
    }
}

/// GetModelTemplate.
#[derive(Debug, Serialize)]
pub struct Template {
    pub value: String,
}

/// RequestValidator: both flags are always written.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestValidator {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub validate_request_body: bool,
    pub validate_request_parameters: bool,
}

impl RequestValidator {
    /// The wire form of a request validator.
    pub fn from_model(validator: &m::RequestValidator) -> RequestValidator {
        RequestValidator {
            id: validator.id.clone(),
            name: validator.name.clone(),
            validate_request_body: validator.validate_request_body,
            validate_request_parameters: validator.validate_request_parameters,
        }
    }
}

/// Authorizer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Authorizer {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: m::AuthorizerType,
    #[serde(rename = "providerARNs", skip_serializing_if = "Vec::is_empty")]
    pub provider_arns: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_credentials: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_validation_expression: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_result_ttl_in_seconds: Option<i32>,
}

impl Authorizer {
    /// The wire form of an authorizer.
    pub fn from_model(authorizer: &m::Authorizer) -> Authorizer {
        Authorizer {
            id: authorizer.id.clone(),
            name: authorizer.name.clone(),
            kind: authorizer.kind,
            provider_arns: authorizer.provider_arns.clone(),
            auth_type: authorizer.auth_type.clone(),
            authorizer_uri: authorizer.authorizer_uri.clone(),
            authorizer_credentials: authorizer.authorizer_credentials.clone(),
            identity_source: authorizer.identity_source.clone(),
            identity_validation_expression: authorizer.identity_validation_expression.clone(),
            authorizer_result_ttl_in_seconds: authorizer.authorizer_result_ttl_in_seconds,
        }
    }
}

/// DomainName. The generated names (`regionalDomainName`, `distributionDomainName`) are
/// AWS's forms; Causeway serves the domain itself (by the request's Host).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainName {
    pub domain_name: String,
    pub domain_name_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_upload_date: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regional_domain_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regional_hosted_zone_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regional_certificate_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regional_certificate_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution_domain_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution_hosted_zone_id: Option<String>,
    pub endpoint_configuration: DomainEndpointConfiguration,
    pub domain_name_status: &'static str,
    pub security_policy: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_access_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mutual_tls_authentication: Option<MutualTlsAuthentication>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ownership_verification_certificate_arn: Option<String>,
    pub routing_mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<StringMap>,
}

/// A domain name's mutual TLS (the truststore itself is never answered).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MutualTlsAuthentication {
    pub truststore_uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truststore_version: Option<String>,
    pub truststore_warnings: Vec<String>,
}

/// A domain name's `endpointConfiguration`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainEndpointConfiguration {
    pub types: Vec<m::EndpointType>,
    pub ip_address_type: &'static str,
}

impl DomainName {
    /// The wire form of a domain name in `region`.
    pub fn from_model(domain: &m::DomainName, region: &str, tags: TagsField) -> DomainName {
        let regional = domain.endpoint_type == m::EndpointType::Regional;
        DomainName {
            domain_name: domain.domain_name.clone(),
            domain_name_arn: format!(
                "arn:aws:apigateway:{region}::/domainnames/{}",
                domain.domain_name
            ),
            certificate_name: domain.certificate_name.clone(),
            certificate_arn: domain.certificate_arn.clone(),
            certificate_upload_date: Some(domain.created_date),
            regional_domain_name: regional
                .then(|| format!("d-{}.execute-api.{region}.amazonaws.com", domain.id)),
            // The hosted zones of AWS's regional endpoints (per region) and of CloudFront are
            // public constants, which DNS alias records name.
            regional_hosted_zone_id: regional.then(|| regional_zone(region).to_owned()),
            regional_certificate_name: domain.regional_certificate_name.clone(),
            regional_certificate_arn: domain.regional_certificate_arn.clone(),
            distribution_domain_name: (!regional).then(|| format!("d{}.cloudfront.net", domain.id)),
            distribution_hosted_zone_id: (!regional).then(|| "Z2FDTNDATAQYW2".to_owned()),
            endpoint_configuration: DomainEndpointConfiguration {
                types: vec![domain.endpoint_type],
                ip_address_type: "ipv4",
            },
            domain_name_status: "AVAILABLE",
            security_policy: domain.security_policy.clone(),
            endpoint_access_mode: domain.endpoint_access_mode.clone(),
            mutual_tls_authentication: domain.mutual_tls.as_ref().map(|mtls| {
                MutualTlsAuthentication {
                    truststore_uri: mtls.truststore_uri.clone(),
                    truststore_version: mtls.truststore_version.clone(),
                    truststore_warnings: mtls.truststore_warnings.clone(),
                }
            }),
            ownership_verification_certificate_arn: domain
                .ownership_verification_certificate_arn
                .clone(),
            routing_mode: domain.routing_mode.as_str(),
            tags: tags.pick(&domain.tags),
        }
    }
}

/// A custom domain name as apigatewayv2 answers it: one `domainNameConfigurations` entry
/// for its endpoint, the routing mode in apigatewayv2's names, times in ISO 8601.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainNameV2 {
    pub api_mapping_selection_expression: &'static str,
    pub domain_name: String,
    pub domain_name_arn: String,
    pub domain_name_configurations: Vec<DomainNameConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mutual_tls_authentication: Option<MutualTlsAuthentication>,
    pub routing_mode: &'static str,
    pub tags: StringMap,
}

/// One endpoint of an apigatewayv2 domain name.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainNameConfiguration {
    pub api_gateway_domain_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_name: Option<String>,
    pub certificate_upload_date: String,
    pub domain_name_status: &'static str,
    pub endpoint_type: m::EndpointType,
    pub hosted_zone_id: String,
    pub ip_address_type: &'static str,
    pub security_policy: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ownership_verification_certificate_arn: Option<String>,
}

impl DomainNameV2 {
    /// The apigatewayv2 form of a domain name in `region`.
    pub fn from_model(domain: &m::DomainName, region: &str) -> DomainNameV2 {
        let v1 = DomainName::from_model(domain, region, TagsField::IfAny);
        let regional = domain.endpoint_type != m::EndpointType::Edge;
        let millis = crate::elbv2::xml::timestamp(domain.created_date.saturating_mul(1000));
        DomainNameV2 {
            api_mapping_selection_expression: "$request.basepath",
            domain_name: v1.domain_name,
            domain_name_arn: v1.domain_name_arn,
            domain_name_configurations: vec![DomainNameConfiguration {
                api_gateway_domain_name: if regional {
                    format!("d-{}.execute-api.{region}.amazonaws.com", domain.id)
                } else {
                    v1.distribution_domain_name.unwrap_or_default()
                },
                certificate_arn: if regional {
                    v1.regional_certificate_arn.or(v1.certificate_arn)
                } else {
                    v1.certificate_arn
                },
                certificate_name: if regional {
                    v1.regional_certificate_name.or(v1.certificate_name)
                } else {
                    v1.certificate_name
                },
                // `2020-04-07T17:23:45Z`, as apigatewayv2 writes times.
                certificate_upload_date: format!("{}Z", millis.get(..19).unwrap_or_default()),
                domain_name_status: "AVAILABLE",
                endpoint_type: domain.endpoint_type,
                hosted_zone_id: if regional {
                    regional_zone(region).to_owned()
                } else {
                    v1.distribution_hosted_zone_id.unwrap_or_default()
                },
                ip_address_type: "ipv4",
                security_policy: v1.security_policy,
                ownership_verification_certificate_arn: v1.ownership_verification_certificate_arn,
            }],
            mutual_tls_authentication: v1.mutual_tls_authentication,
            routing_mode: domain.routing_mode.as_v2_str(),
            tags: domain.tags.clone(),
        }
    }
}

/// GetDomainNames of apigatewayv2: `items` and, when more follow, `nextToken`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainNamesV2 {
    pub items: Vec<DomainNameV2>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// The Route 53 zone of API Gateway's regional endpoints in `region` (us-east-1's for a
/// region not listed).
fn regional_zone(region: &str) -> &'static str {
    match region {
        "us-east-2" => "ZOJJZC49E0EPZ",
        "us-west-1" => "Z2MUQ32089INYE",
        "us-west-2" => "Z2OJLYMUO9EFXC",
        "eu-west-1" => "ZLY8HYME6SFDD",
        "eu-central-1" => "Z1U9ULNL0V5AJ3",
        "ap-northeast-1" => "Z1YSHQZHG15GKL",
        "ap-southeast-1" => "ZL327KTPIQFUL",
        "ap-southeast-2" => "Z2RPCDW04V8134",
        "ca-central-1" => "Z19DQILCV0OWEC",
        "sa-east-1" => "ZCMLWB8V5SYIT",
        _ => "Z1UJRXOUMOOFQ8",
    }
}

/// BasePathMapping.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BasePathMapping {
    pub base_path: String,
    pub rest_api_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
}

impl BasePathMapping {
    pub fn from_model(mapping: &m::BasePathMapping) -> BasePathMapping {
        BasePathMapping {
            base_path: mapping.base_path.clone(),
            rest_api_id: mapping.rest_api_id.clone(),
            stage: mapping.stage.clone(),
        }
    }
}

/// An API mapping of apigatewayv2: a base path mapping by another name, its root key
/// written as the empty string.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiMapping {
    pub api_id: String,
    pub api_mapping_id: String,
    pub api_mapping_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
}

impl ApiMapping {
    pub fn from_model(mapping: &m::BasePathMapping) -> ApiMapping {
        ApiMapping {
            api_id: mapping.rest_api_id.clone(),
            api_mapping_id: mapping.api_mapping_id(),
            api_mapping_key: if mapping.base_path == "(none)" {
                String::new()
            } else {
                mapping.base_path.clone()
            },
            stage: mapping.stage.clone(),
        }
    }
}

/// GetApiMappings: `items` and, when more follow, `nextToken`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiMappings {
    pub items: Vec<ApiMapping>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// TestInvokeAuthorizer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestInvokeAuthorizer {
    pub client_status: u16,
    pub log: String,
    pub latency: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub authorization: BTreeMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "StringMap::is_empty")]
    pub claims: StringMap,
}

/// TestInvokeMethod.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestInvokeMethod {
    pub status: u16,
    pub body: String,
    pub headers: StringMap,
    pub multi_value_headers: BTreeMap<String, Vec<String>>,
    pub log: String,
    pub latency: i64,
}

impl TestInvokeMethod {
    pub fn from_model(result: &m::gateway::TestInvokeResult) -> TestInvokeMethod {
        TestInvokeMethod {
            status: result.status,
            body: result.body.clone(),
            headers: result.headers.clone(),
            multi_value_headers: result.multi_value_headers.clone(),
            log: result.log.clone(),
            latency: result.latency_ms,
        }
    }
}

impl TestInvokeAuthorizer {
    pub fn from_model(result: &m::gateway::TestAuthorizerResult) -> TestInvokeAuthorizer {
        TestInvokeAuthorizer {
            client_status: result.client_status,
            log: result.log.clone(),
            latency: result.latency_ms,
            principal_id: result.principal_id.clone(),
            policy: result.policy.clone(),
            authorization: BTreeMap::new(),
            claims: result.claims.clone(),
        }
    }
}

/// GetUsage and UpdateUsage: per key, one `[used, remaining]` pair per day. The model calls
/// the map `items`; on the wire it is `values`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub usage_plan_id: String,
    pub start_date: String,
    pub end_date: String,
    #[serde(rename = "values")]
    pub items: BTreeMap<String, Vec<[u64; 2]>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
}
