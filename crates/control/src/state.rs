//! The configuration in memory: every REST API with its resources, deployments, stages and
//! gateway responses, every VPC link, API key and usage plan, and the account settings.
//! Loaded from the store at start-up and kept in step with it by the operations.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use rustls_pki_types::pem::PemObject as _;

use causeway_model::elb::{self, Listener, LoadBalancer, NlbPlan, TargetGroup};
use causeway_model::usage::{Account, ApiKey, UsagePlan};
use causeway_model::{
    ApiError, Authorizer, Deployment, GatewayResponse, Method, Model, RequestValidator, Resource,
    RestApi, Stage, VpcLink, VpcLinkV2,
};
use causeway_store::Record;

/// Record kinds in the store.
pub mod kind {
    pub const REST_API: &str = "restapi";
    pub const RESOURCE: &str = "resource";
    pub const DEPLOYMENT: &str = "deployment";
    pub const STAGE: &str = "stage";
    pub const GATEWAY_RESPONSE: &str = "gatewayresponse";
    /// An API's model, keyed `{apiId}/{name}`.
    pub const MODEL: &str = "model";
    /// An API's request validator, keyed `{apiId}/{id}`.
    pub const REQUEST_VALIDATOR: &str = "requestvalidator";
    /// An API's authorizer, keyed `{apiId}/{id}`.
    pub const AUTHORIZER: &str = "authorizer";
    /// An API's documentation part, keyed `{apiId}/{id}`.
    pub const DOCUMENTATION_PART: &str = "documentationpart";
    /// An API's documentation version (with its parts), keyed `{apiId}/{version}`.
    pub const DOCUMENTATION_VERSION: &str = "documentationversion";
    pub const VPC_LINK: &str = "vpclink";
    /// A VPC link V2 (apigatewayv2), by id.
    pub const VPC_LINK_V2: &str = "vpclinkv2";
    pub const LOAD_BALANCER: &str = "loadbalancer";
    pub const TARGET_GROUP: &str = "targetgroup";
    pub const LISTENER: &str = "listener";
    pub const API_KEY: &str = "apikey";
    pub const USAGE_PLAN: &str = "usageplan";
    /// A key's membership of a plan, keyed `{planId}/{keyId}`.
    pub const USAGE_PLAN_KEY: &str = "usageplankey";
    /// The account settings, one record keyed [`ACCOUNT_KEY`].
    pub const ACCOUNT: &str = "account";
    pub const ACCOUNT_KEY: &str = "account";
    pub const NODE: &str = "node";
    /// A custom domain name, keyed by the name.
    pub const DOMAIN_NAME: &str = "domainname";
    /// A base path mapping of a domain name, keyed `{domain}/{basePath}`.
    pub const BASE_PATH_MAPPING: &str = "basepathmapping";
    /// A custom domain name's routing rule, keyed `{domain}/{id}`.
    pub const ROUTING_RULE: &str = "routingrule";
    /// A WAF IP set, keyed by its id.
    pub const WAF_IP_SET: &str = "wafipset";
    /// A WAF web ACL, keyed by its id.
    pub const WAF_WEB_ACL: &str = "wafwebacl";
    /// A WAF regex pattern set, keyed by its id.
    pub const WAF_REGEX_SET: &str = "wafregexset";
    /// A WAF rule group, keyed by its id.
    pub const WAF_RULE_GROUP: &str = "wafrulegroup";
    /// A client certificate (with its private key), keyed by its id.
    pub const CLIENT_CERTIFICATE: &str = "clientcertificate";
    /// A certificate imported into ACM (with its private key), keyed by its id.
    pub const ACM_CERTIFICATE: &str = "acmcertificate";
    /// The certificate authority that signs RequestCertificate's certificates (one record,
    /// key `ca`).
    pub const ACM_AUTHORITY: &str = "acmauthority";
    /// Which NLB nodes' tunnels a gateway process holds (not configuration: written
    /// without a revision, and expiring).
    pub const TUNNELS: &str = "tunnels";
}

/// Whether a stored change concerns what the gateway serves.
pub fn touches_gateway(change: &causeway_store::Change) -> bool {
    let kind = match change {
        causeway_store::Change::Put { kind, .. }
        | causeway_store::Change::Delete { kind, .. }
        | causeway_store::Change::DeletePrefix { kind, .. } => kind.as_str(),
    };
    matches!(
        kind,
        kind::REST_API
            | kind::DEPLOYMENT
            | kind::STAGE
            | kind::VPC_LINK
            | kind::VPC_LINK_V2
            | kind::LOAD_BALANCER
            | kind::API_KEY
            | kind::USAGE_PLAN
            | kind::USAGE_PLAN_KEY
            | kind::NODE
            | kind::DOMAIN_NAME
            | kind::BASE_PATH_MAPPING
            | kind::ROUTING_RULE
            | kind::WAF_IP_SET
            | kind::WAF_WEB_ACL
            | kind::WAF_REGEX_SET
            | kind::WAF_RULE_GROUP
            | kind::CLIENT_CERTIFICATE
            | kind::ACM_CERTIFICATE
    )
}

/// Whether a stored change concerns network load balancing (and so the engine's plan).
pub fn touches_load_balancing(change: &causeway_store::Change) -> bool {
    let kind = match change {
        causeway_store::Change::Put { kind, .. }
        | causeway_store::Change::Delete { kind, .. }
        | causeway_store::Change::DeletePrefix { kind, .. } => kind.as_str(),
    };
    matches!(
        kind,
        kind::LOAD_BALANCER
            | kind::TARGET_GROUP
            | kind::LISTENER
            | kind::NODE
            | kind::ACM_CERTIFICATE
    )
}

/// Everything the control plane knows.
#[derive(Debug, Default)]
pub struct State {
    pub apis: BTreeMap<String, ApiState>,
    pub vpc_links: BTreeMap<String, VpcLink>,
    /// VPC links V2 (apigatewayv2), by id.
    pub vpc_links_v2: BTreeMap<String, VpcLinkV2>,
    /// Network load balancers, by ARN.
    pub load_balancers: BTreeMap<String, LoadBalancer>,
    /// Target groups, by ARN.
    pub target_groups: BTreeMap<String, TargetGroup>,
    /// Listeners, by ARN.
    pub listeners: BTreeMap<String, Listener>,
    /// Next creation sequence number (orders resources as they were created).
    pub next_seq: u64,
    /// API keys by id; read through [`State::api_keys`] and friends.
    pub(crate) api_keys: BTreeMap<String, ApiKey>,
    /// API key values → ids, so that a key sent by a caller is found without a scan.
    api_key_ids_by_value: HashMap<String, String>,
    /// Usage plans by id.
    pub(crate) usage_plans: BTreeMap<String, UsagePlan>,
    /// Plan id → the ids of its API keys.
    plan_keys: BTreeMap<String, BTreeSet<String>>,
    /// The account settings (UpdateAccount).
    pub(crate) account: Account,
    /// Admitted NLB nodes, by id.
    pub nodes: BTreeMap<String, causeway_model::node::Node>,
    /// Custom domain names with their base path mappings, by name.
    pub domains: BTreeMap<String, DomainState>,
    /// WAF IP sets, by id.
    pub waf_ip_sets: BTreeMap<String, causeway_model::waf::IpSet>,
    /// WAF web ACLs, by id.
    pub waf_web_acls: BTreeMap<String, causeway_model::waf::WebAcl>,
    /// WAF regex pattern sets, by id.
    pub waf_regex_sets: BTreeMap<String, causeway_model::waf::RegexPatternSet>,
    /// WAF rule groups, by id.
    pub waf_rule_groups: BTreeMap<String, causeway_model::waf::RuleGroup>,
    /// Client certificates, by id.
    pub client_certificates: BTreeMap<String, causeway_model::ClientCertificate>,
    /// Certificates imported into ACM, by id.
    pub acm_certificates: BTreeMap<String, causeway_model::acm::Certificate>,
    /// The CA that signs issued certificates, once one was issued.
    pub acm_authority: Option<causeway_model::acm::Authority>,
}

/// A custom domain name, its base path mappings (by base path) and its routing rules (by
/// id).
#[derive(Debug, Clone)]
pub struct DomainState {
    pub domain: causeway_model::DomainName,
    pub mappings: BTreeMap<String, causeway_model::BasePathMapping>,
    pub rules: BTreeMap<String, causeway_model::routing_rule::RoutingRule>,
}

/// One REST API and what belongs to it.
#[derive(Debug, Clone)]
pub struct ApiState {
    pub api: RestApi,
    pub resources: BTreeMap<String, Resource>,
    /// Immutable snapshots, shared with the gateway's plan without copying.
    pub deployments: BTreeMap<String, std::sync::Arc<Deployment>>,
    pub stages: BTreeMap<String, Stage>,
    pub gateway_responses: BTreeMap<String, GatewayResponse>,
    /// Models by name.
    pub models: BTreeMap<String, Model>,
    /// Request validators by id.
    pub request_validators: BTreeMap<String, RequestValidator>,
    /// Authorizers by id.
    pub authorizers: BTreeMap<String, Authorizer>,
    /// Documentation parts by id.
    pub documentation_parts: BTreeMap<String, causeway_model::documentation::DocumentationPart>,
    /// Documentation versions by version.
    pub documentation_versions:
        BTreeMap<String, causeway_model::documentation::DocumentationVersion>,
}

impl State {
    /// Builds the state from stored records. A record that does not parse is skipped with an
    /// error in the log rather than stopping the server, so one bad row cannot hide the rest.
    pub fn load(records: Vec<Record>) -> State {
        let mut state = State::default();
        let mut children: Vec<Record> = Vec::new();
        let mut memberships: Vec<(String, String)> = Vec::new();
        let mut mappings: Vec<Record> = Vec::new();
        for record in records {
            match record.kind.as_str() {
                kind::REST_API => {
                    if let Some(api) = parse::<RestApi>(&record) {
                        state.apis.insert(
                            api.id.clone(),
                            ApiState::new(api, BTreeMap::new(), BTreeMap::new()),
                        );
                    }
                }
                kind::VPC_LINK => {
                    if let Some(link) = parse::<VpcLink>(&record) {
                        state.vpc_links.insert(link.id.clone(), link);
                    }
                }
                kind::VPC_LINK_V2 => {
                    if let Some(link) = parse::<VpcLinkV2>(&record) {
                        state.next_seq = state.next_seq.max(link.seq + 1);
                        state.vpc_links_v2.insert(link.id.clone(), link);
                    }
                }
                kind::LOAD_BALANCER => {
                    if let Some(lb) = parse::<LoadBalancer>(&record) {
                        state.load_balancers.insert(lb.arn.clone(), lb);
                    }
                }
                kind::TARGET_GROUP => {
                    if let Some(tg) = parse::<TargetGroup>(&record) {
                        state.target_groups.insert(tg.arn.clone(), tg);
                    }
                }
                kind::LISTENER => {
                    if let Some(listener) = parse::<Listener>(&record) {
                        state.listeners.insert(listener.arn.clone(), listener);
                    }
                }
                kind::API_KEY => {
                    if let Some(key) = parse::<ApiKey>(&record) {
                        state.insert_api_key(key);
                    }
                }
                kind::USAGE_PLAN => {
                    if let Some(plan) = parse::<UsagePlan>(&record) {
                        state.usage_plans.insert(plan.id.clone(), plan);
                    }
                }
                kind::USAGE_PLAN_KEY => match record.key.split_once('/') {
                    Some((plan, key)) => {
                        memberships.push((plan.to_owned(), key.to_owned()));
                    }
                    None => {
                        tracing::error!(key = %record.key, "usage plan key record without a plan id; skipped")
                    }
                },
                kind::ACCOUNT => {
                    if let Some(account) = parse::<Account>(&record) {
                        state.account = account;
                    }
                }
                // Quota usage belongs to the data plane's limiter (`crate::usage`).
                crate::usage::KIND | kind::TUNNELS => {}
                kind::NODE => {
                    if let Some(node) = parse::<causeway_model::node::Node>(&record) {
                        state.nodes.insert(node.id.clone(), node);
                    }
                }
                kind::DOMAIN_NAME => {
                    if let Some(domain) = parse::<causeway_model::DomainName>(&record) {
                        state.domains.insert(
                            domain.domain_name.clone(),
                            DomainState {
                                domain,
                                mappings: BTreeMap::new(),
                                rules: BTreeMap::new(),
                            },
                        );
                    }
                }
                kind::BASE_PATH_MAPPING | kind::ROUTING_RULE => mappings.push(record),
                kind::WAF_IP_SET => {
                    if let Some(set) = parse::<causeway_model::waf::IpSet>(&record) {
                        state.waf_ip_sets.insert(set.id.clone(), set);
                    }
                }
                kind::WAF_WEB_ACL => {
                    if let Some(acl) = parse::<causeway_model::waf::WebAcl>(&record) {
                        state.waf_web_acls.insert(acl.id.clone(), acl);
                    }
                }
                kind::WAF_REGEX_SET => {
                    if let Some(set) = parse::<causeway_model::waf::RegexPatternSet>(&record) {
                        state.waf_regex_sets.insert(set.id.clone(), set);
                    }
                }
                kind::WAF_RULE_GROUP => {
                    if let Some(group) = parse::<causeway_model::waf::RuleGroup>(&record) {
                        state.waf_rule_groups.insert(group.id.clone(), group);
                    }
                }
                kind::CLIENT_CERTIFICATE => {
                    if let Some(certificate) = parse::<causeway_model::ClientCertificate>(&record) {
                        state
                            .client_certificates
                            .insert(certificate.client_certificate_id.clone(), certificate);
                    }
                }
                kind::ACM_AUTHORITY => {
                    state.acm_authority = parse::<causeway_model::acm::Authority>(&record);
                }
                kind::ACM_CERTIFICATE => {
                    if let Some(certificate) = parse::<causeway_model::acm::Certificate>(&record) {
                        state.next_seq = state.next_seq.max(certificate.seq + 1);
                        state
                            .acm_certificates
                            .insert(certificate.id.clone(), certificate);
                    }
                }
                _ => children.push(record),
            }
        }
        for record in children {
            let Some((api_id, _)) = record.key.split_once('/') else {
                tracing::error!(kind = %record.kind, key = %record.key, "stored record has no API id; skipped");
                continue;
            };
            let Some(api) = state.apis.get_mut(api_id) else {
                tracing::error!(kind = %record.kind, key = %record.key, "stored record of a missing API; skipped");
                continue;
            };
            match record.kind.as_str() {
                kind::RESOURCE => {
                    if let Some(resource) = parse::<Resource>(&record) {
                        state.next_seq = state.next_seq.max(resource.seq + 1);
                        api.resources.insert(resource.id.clone(), resource);
                    }
                }
                kind::DEPLOYMENT => {
                    if let Some(deployment) = parse::<Deployment>(&record) {
                        api.deployments
                            .insert(deployment.id.clone(), std::sync::Arc::new(deployment));
                    }
                }
                kind::STAGE => {
                    if let Some(stage) = parse::<Stage>(&record) {
                        api.stages.insert(stage.stage_name.clone(), stage);
                    }
                }
                kind::GATEWAY_RESPONSE => {
                    if let Some(response) = parse::<GatewayResponse>(&record) {
                        api.gateway_responses
                            .insert(response.response_type.clone(), response);
                    }
                }
                kind::MODEL => {
                    if let Some(model) = parse::<Model>(&record) {
                        api.models.insert(model.name.clone(), model);
                    }
                }
                kind::REQUEST_VALIDATOR => {
                    if let Some(validator) = parse::<RequestValidator>(&record) {
                        api.request_validators
                            .insert(validator.id.clone(), validator);
                    }
                }
                kind::AUTHORIZER => {
                    if let Some(authorizer) = parse::<Authorizer>(&record) {
                        api.authorizers.insert(authorizer.id.clone(), authorizer);
                    }
                }
                kind::DOCUMENTATION_PART => {
                    if let Some(part) =
                        parse::<causeway_model::documentation::DocumentationPart>(&record)
                    {
                        state.next_seq = state.next_seq.max(part.seq + 1);
                        api.documentation_parts.insert(part.id.clone(), part);
                    }
                }
                kind::DOCUMENTATION_VERSION => {
                    if let Some(version) =
                        parse::<causeway_model::documentation::DocumentationVersion>(&record)
                    {
                        api.documentation_versions
                            .insert(version.version.clone(), version);
                    }
                }
                other => {
                    tracing::error!(kind = %other, key = %record.key, "unknown record kind; skipped")
                }
            }
        }
        // Base path mappings join their domain names once all are known.
        // So do routing rules.
        for record in mappings {
            let domain = record.key.split_once('/').map(|(d, _)| d);
            let Some(domain) = domain.and_then(|d| state.domains.get_mut(d)) else {
                tracing::error!(key = %record.key, kind = %record.kind, "record of a missing domain name; skipped");
                continue;
            };
            if record.kind == kind::ROUTING_RULE {
                if let Some(rule) = parse::<causeway_model::routing_rule::RoutingRule>(&record) {
                    domain.rules.insert(rule.routing_rule_id.clone(), rule);
                }
            } else if let Some(mapping) = parse::<causeway_model::BasePathMapping>(&record) {
                domain.mappings.insert(mapping.base_path.clone(), mapping);
            }
        }
        // Memberships are loaded last, when both their plan and their key are known.
        for (plan, key) in memberships {
            if state.usage_plans.contains_key(&plan) && state.api_keys.contains_key(&key) {
                state.plan_keys.entry(plan).or_default().insert(key);
            } else {
                tracing::error!(%plan, %key, "usage plan key of a missing plan or key; skipped");
            }
        }
        state
    }

    /// What the gateway serves: every stage with its deployment, every VPC link, where
    /// each load balancer listens, and the API keys and usage plans it enforces.
    /// A web ACL compiled with the IP sets, regex pattern sets and rule groups it uses now. An ACL that no longer compiles (it
    /// was checked when stored) blocks everything rather than let traffic through unchecked.
    pub fn compiled_web_acl(
        &self,
        arn: &str,
    ) -> Option<std::sync::Arc<causeway_model::waf::CompiledAcl>> {
        use causeway_model::waf::CompiledAcl;
        let acl = self.waf_web_acls.values().find(|acl| acl.arn == arn)?;
        let ip_sets: Vec<&causeway_model::waf::IpSet> = self.waf_ip_sets.values().collect();
        let regex_sets: Vec<&causeway_model::waf::RegexPatternSet> =
            self.waf_regex_sets.values().collect();
        let rule_groups: Vec<&causeway_model::waf::RuleGroup> =
            self.waf_rule_groups.values().collect();
        let sets = causeway_model::waf::Sets {
            ip: &ip_sets,
            regex: &regex_sets,
            rule_groups: &rule_groups,
        };
        let account = arn.split(':').nth(4).unwrap_or_default();
        let compiled = CompiledAcl::compile(
            (&acl.arn, &acl.name, account),
            &acl.default_action,
            &acl.rules,
            acl.custom_response_bodies.as_ref(),
            sets,
        )
        .or_else(|error| {
            tracing::error!(web_acl = %arn, %error, "web ACL no longer compiles; it blocks every request");
            CompiledAcl::compile(
                (&acl.arn, &acl.name, account),
                &serde_json::json!({"Block": {}}),
                &[],
                None,
                causeway_model::waf::Sets::default(),
            )
        })
        .ok()?;
        Some(std::sync::Arc::new(compiled))
    }

    /// The certificate imported into ACM that a domain name is served with: the one its
    /// endpoint type uses (`regionalCertificateArn` for REGIONAL, `certificateArn` for
    /// EDGE, either for PRIVATE). `None` for an ARN not imported here.
    fn serving_certificate(
        &self,
        domain: &causeway_model::DomainName,
    ) -> Option<std::sync::Arc<causeway_model::gateway::ServingCertificate>> {
        use causeway_model::EndpointType;
        let arn = match domain.endpoint_type {
            EndpointType::Regional => domain.regional_certificate_arn.as_deref(),
            EndpointType::Edge => domain.certificate_arn.as_deref(),
            EndpointType::Private => domain
                .regional_certificate_arn
                .as_deref()
                .or(domain.certificate_arn.as_deref()),
        };
        let imported = arn
            .and_then(|arn| self.acm_serving(arn))
            .map(|c| c.certificate);
        let uploaded = (domain.endpoint_type != EndpointType::Regional)
            .then(|| domain.uploaded_certificate.clone())
            .flatten();
        Some(std::sync::Arc::new(imported.or(uploaded)?))
    }

    /// The certificate imported into ACM as `arn`, as TLS serves it: its chain and key,
    /// and the names it covers.
    fn acm_serving(&self, arn: &str) -> Option<elb::ListenerCertificate> {
        let certificate = self.acm_certificates.values().find(|c| c.arn == arn)?;
        let details = &certificate.details;
        let mut names = details.subject_alternative_names.clone();
        if let Some(domain) = &details.domain_name
            && !names.contains(domain)
        {
            names.insert(0, domain.clone());
        }
        Some(elb::ListenerCertificate {
            names,
            certificate: causeway_model::gateway::ServingCertificate::new(
                &certificate.certificate,
                certificate.chain.as_deref(),
                &certificate.private_key,
            ),
        })
    }

    pub fn gateway_plan(&self) -> causeway_model::gateway::GatewayPlan {
        use causeway_model::gateway::{ApiPlan, GatewayPlan, LoadBalancerAddress, StagePlan};
        GatewayPlan {
            apis: self
                .apis
                .values()
                .map(|a| {
                    let stages = a
                        .stages
                        .values()
                        .filter_map(|stage| {
                            let deployment = a.deployments.get(&stage.deployment_id)?.clone();
                            let canary = stage
                                .canary_settings
                                .as_ref()
                                .and_then(|c| c.deployment_id.as_ref())
                                .and_then(|id| a.deployments.get(id))
                                .cloned();
                            Some((
                                stage.stage_name.clone(),
                                StagePlan {
                                    stage: stage.clone(),
                                    deployment,
                                    canary,
                                    web_acl: stage
                                        .web_acl_arn
                                        .as_deref()
                                        .and_then(|arn| self.compiled_web_acl(arn)),
                                    client_certificate: stage
                                        .client_certificate_id
                                        .as_deref()
                                        .and_then(|id| self.client_certificates.get(id))
                                        .map(|c| std::sync::Arc::new(c.into())),
                                },
                            ))
                        })
                        .collect();
                    (
                        a.api.id.clone(),
                        ApiPlan {
                            api: a.api.clone(),
                            stages,
                        },
                    )
                })
                .collect(),
            vpc_links: self.vpc_links.clone(),
            vpc_links_v2: self.vpc_links_v2.clone(),
            load_balancers: self
                .load_balancers
                .values()
                .map(|lb| {
                    (
                        lb.arn.clone(),
                        LoadBalancerAddress {
                            dns_name: lb.dns_name.clone(),
                            address: lb.address.clone(),
                        },
                    )
                })
                .collect(),
            remote_load_balancers: self.remote_load_balancers(),
            domains: self
                .domains
                .values()
                .map(|d| {
                    (
                        d.domain.domain_name.to_ascii_lowercase(),
                        causeway_model::gateway::DomainPlan {
                            routing_mode: d.domain.routing_mode,
                            mappings: d.mappings.values().cloned().collect(),
                            rules: d.rules.values().cloned().collect(),
                        },
                    )
                })
                .collect(),
            domain_certificates: self
                .domains
                .values()
                .filter_map(|d| {
                    let certificate = self.serving_certificate(&d.domain)?;
                    Some((d.domain.domain_name.to_ascii_lowercase(), certificate))
                })
                .collect(),
            domain_tls: self
                .domains
                .values()
                .filter_map(|d| {
                    let domain = &d.domain;
                    let security_policy =
                        causeway_model::mtls::security_policy(&domain.security_policy)?;
                    let strict = domain.endpoint_access_mode.as_deref() == Some("STRICT");
                    let truststore = domain.mutual_tls.as_ref().map(|m| {
                        rustls_pki_types::CertificateDer::pem_slice_iter(m.truststore.as_bytes())
                            .filter_map(Result::ok)
                            .collect::<Vec<_>>()
                    });
                    let own = security_policy.enhanced() || strict || truststore.is_some();
                    own.then(|| {
                        (
                            domain.domain_name.to_ascii_lowercase(),
                            Arc::new(causeway_model::gateway::DomainTls {
                                security_policy,
                                strict,
                                truststore,
                            }),
                        )
                    })
                })
                .collect(),
            api_keys: self.api_keys.clone(),
            usage_plans: self
                .usage_plans
                .values()
                .map(|plan| {
                    (
                        plan.id.clone(),
                        causeway_model::gateway::UsagePlanWithKeys {
                            plan: plan.clone(),
                            key_ids: self
                                .usage_plan_key_ids(&plan.id)
                                .map(str::to_owned)
                                .collect(),
                        },
                    )
                })
                .collect(),
        }
    }

    /// The plan the in-process load balancing engine runs: every load balancer that no NLB
    /// node serves.
    pub fn nlb_plan(&self) -> NlbPlan {
        let remote = self.remote_load_balancers();
        elb::plan(
            self.load_balancers
                .values()
                .filter(|lb| !remote.contains(&lb.arn)),
            self.listeners.values(),
            self.target_groups.values(),
            &|arn| self.acm_serving(arn),
        )
    }

    /// The plan of the load balancers in `arns` (what a node that serves them runs).
    pub fn nlb_plan_for(&self, arns: &[String]) -> NlbPlan {
        elb::plan(
            self.load_balancers
                .values()
                .filter(|lb| arns.contains(&lb.arn)),
            self.listeners.values(),
            self.target_groups.values(),
            &|arn| self.acm_serving(arn),
        )
    }

    /// Load balancers that an admitted NLB node serves (outside this process).
    pub fn remote_load_balancers(&self) -> BTreeSet<String> {
        self.nodes
            .values()
            .flat_map(|node| node.load_balancer_arns.iter().cloned())
            .collect()
    }

    /// The API with this id, or AWS's `Invalid API identifier specified` error.
    pub fn api(&self, account: &str, id: &str) -> Result<&ApiState, ApiError> {
        self.apis.get(id).ok_or_else(|| {
            ApiError::not_found(format!("Invalid API identifier specified {account}:{id}"))
        })
    }

    /// Mutable form of [`State::api`].
    pub fn api_mut(&mut self, account: &str, id: &str) -> Result<&mut ApiState, ApiError> {
        self.apis.get_mut(id).ok_or_else(|| {
            ApiError::not_found(format!("Invalid API identifier specified {account}:{id}"))
        })
    }

    /// The API for operations on its resources and methods, where AWS reports an unknown API
    /// as `Invalid Resource identifier specified`.
    pub fn api_for_resource(&mut self, id: &str) -> Result<&mut ApiState, ApiError> {
        self.apis
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found("Invalid Resource identifier specified"))
    }
}

/// What the data plane needs from API keys and usage plans, answered from memory.
impl State {
    /// Every API key, in id order.
    pub fn api_keys(&self) -> impl Iterator<Item = &ApiKey> {
        self.api_keys.values()
    }

    /// The API key with this id.
    pub fn api_key(&self, id: &str) -> Option<&ApiKey> {
        self.api_keys.get(id)
    }

    /// The API key whose value a caller sent, enabled or not.
    pub fn api_key_by_value(&self, value: &str) -> Option<&ApiKey> {
        self.api_key_ids_by_value
            .get(value)
            .and_then(|id| self.api_keys.get(id))
    }

    /// Every usage plan, in id order, with its API stages, throttle and quota.
    pub fn usage_plans(&self) -> impl Iterator<Item = &UsagePlan> {
        self.usage_plans.values()
    }

    /// The usage plan with this id.
    pub fn usage_plan(&self, id: &str) -> Option<&UsagePlan> {
        self.usage_plans.get(id)
    }

    /// The ids of a plan's API keys, in id order (none for an unknown plan).
    pub fn usage_plan_key_ids<'a>(
        &'a self,
        plan_id: &str,
    ) -> impl Iterator<Item = &'a str> + use<'a> {
        self.plan_keys
            .get(plan_id)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// Whether a key belongs to a plan.
    pub fn plan_has_key(&self, plan_id: &str, key_id: &str) -> bool {
        self.plan_keys
            .get(plan_id)
            .is_some_and(|keys| keys.contains(key_id))
    }

    /// The plans an API key belongs to.
    pub fn usage_plans_of_key<'a, 'k>(
        &'a self,
        key_id: &'k str,
    ) -> impl Iterator<Item = &'a UsagePlan> + use<'a, 'k> {
        self.plan_keys
            .iter()
            .filter(move |(_, keys)| keys.contains(key_id))
            .filter_map(|(plan, _)| self.usage_plans.get(plan))
    }

    /// The plan that governs a key's calls to an API stage. A key is in at most one plan per
    /// API stage, so there is at most one.
    pub fn usage_plan_for(&self, key_id: &str, api_id: &str, stage: &str) -> Option<&UsagePlan> {
        self.usage_plans_of_key(key_id)
            .find(|plan| plan.covers(api_id, stage))
    }

    /// The account settings.
    pub fn account(&self) -> &Account {
        &self.account
    }

    /// Adds or replaces an API key, keeping the value index in step.
    pub(crate) fn insert_api_key(&mut self, key: ApiKey) {
        if let Some(old) = self.api_keys.get(&key.id) {
            self.api_key_ids_by_value.remove(&old.value);
        }
        self.api_key_ids_by_value
            .insert(key.value.clone(), key.id.clone());
        self.api_keys.insert(key.id.clone(), key);
    }

    /// Removes an API key and its memberships.
    pub(crate) fn remove_api_key(&mut self, id: &str) {
        if let Some(old) = self.api_keys.remove(id) {
            self.api_key_ids_by_value.remove(&old.value);
        }
        for keys in self.plan_keys.values_mut() {
            keys.remove(id);
        }
    }

    /// Removes a usage plan and its memberships.
    pub(crate) fn remove_usage_plan(&mut self, id: &str) {
        self.usage_plans.remove(id);
        self.plan_keys.remove(id);
    }

    /// Puts a key into a plan.
    pub(crate) fn add_plan_key(&mut self, plan_id: &str, key_id: &str) {
        self.plan_keys
            .entry(plan_id.to_owned())
            .or_default()
            .insert(key_id.to_owned());
    }

    /// Takes a key out of a plan.
    pub(crate) fn remove_plan_key(&mut self, plan_id: &str, key_id: &str) {
        if let Some(keys) = self.plan_keys.get_mut(plan_id) {
            keys.remove(key_id);
        }
    }
}

impl ApiState {
    /// A new API with its resources and gateway responses, no deployments and no stages.
    pub fn new(
        api: RestApi,
        resources: BTreeMap<String, Resource>,
        gateway_responses: BTreeMap<String, GatewayResponse>,
    ) -> ApiState {
        ApiState {
            api,
            resources,
            deployments: BTreeMap::new(),
            stages: BTreeMap::new(),
            gateway_responses,
            models: BTreeMap::new(),
            request_validators: BTreeMap::new(),
            authorizers: BTreeMap::new(),
            documentation_parts: BTreeMap::new(),
            documentation_versions: BTreeMap::new(),
        }
    }

    /// The API as a deployment (or a test invocation) freezes it, with these resources.
    pub fn snapshot_with(
        &self,
        resources: Vec<causeway_model::DeployedResource>,
    ) -> causeway_model::ApiSnapshot {
        causeway_model::ApiSnapshot {
            api: self.api.clone(),
            resources,
            gateway_responses: self.gateway_responses.values().cloned().collect(),
            models: self.models.values().cloned().collect(),
            request_validators: self.request_validators.values().cloned().collect(),
            authorizers: self.authorizers.values().cloned().collect(),
        }
    }

    /// The resource with this id.
    pub fn resource(&self, id: &str) -> Result<&Resource, ApiError> {
        self.resources
            .get(id)
            .ok_or_else(|| ApiError::not_found("Invalid Resource identifier specified"))
    }

    /// Mutable form of [`ApiState::resource`].
    pub fn resource_mut(&mut self, id: &str) -> Result<&mut Resource, ApiError> {
        self.resources
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found("Invalid Resource identifier specified"))
    }

    /// The full path of a resource (`/`, `/pets/{id}`).
    pub fn path_of(&self, resource: &Resource) -> String {
        let mut parts = Vec::new();
        let mut current = resource;
        // Bounded by the number of resources, so a corrupt cycle cannot loop forever.
        for _ in 0..=self.resources.len() {
            let Some(parent_id) = &current.parent_id else {
                break;
            };
            parts.push(current.path_part.as_str());
            match self.resources.get(parent_id) {
                Some(parent) => current = parent,
                None => break,
            }
        }
        if parts.is_empty() {
            return "/".to_owned();
        }
        parts.reverse();
        format!("/{}", parts.join("/"))
    }

    /// The children of a resource.
    pub fn children_of<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Resource> + 'a {
        self.resources
            .values()
            .filter(move |r| r.parent_id.as_deref() == Some(id))
    }

    /// A resource and all its descendants' ids.
    pub fn subtree(&self, id: &str) -> Vec<String> {
        let mut out = vec![id.to_owned()];
        let mut index = 0;
        while index < out.len() {
            let current = out[index].clone();
            out.extend(self.children_of(&current).map(|r| r.id.clone()));
            index += 1;
        }
        out
    }

    /// Whether any method exists anywhere in the API.
    pub fn has_methods(&self) -> bool {
        self.resources.values().any(|r| !r.methods.is_empty())
    }

    /// Every method with its resource, for checks that span the API.
    pub fn methods(&self) -> impl Iterator<Item = (&Resource, &Method)> {
        self.resources
            .values()
            .flat_map(|r| r.methods.values().map(move |m| (r, m)))
    }
}

fn parse<T: serde::de::DeserializeOwned>(record: &Record) -> Option<T> {
    match serde_json::from_str(&record.body) {
        Ok(value) => Some(value),
        Err(error) => {
            tracing::error!(kind = %record.kind, key = %record.key, %error, "stored record does not parse; skipped");
            None
        }
    }
}
