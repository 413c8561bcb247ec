//! The immutable snapshot the gateway serves from: per API and stage, the compiled routes of
//! the deployment, the stage variables and the gateway responses; plus VPC links and load
//! balancer addresses.

use std::collections::HashMap;
use std::sync::Arc;

use causeway_model::gateway::GatewayPlan;
use causeway_model::{
    DeployedResource, Deployment, GatewayResponse, Method, RestApi, Stage, VpcLink,
};
use causeway_routing::CompiledApi;

use crate::limits::{self, KeyEntry, StageLimits};

/// A map read on every request: string keys hashed with foldhash rather than SipHash (the
/// keys come from configuration, not from clients, so flooding is not a concern).
pub type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Everything a request needs, frozen.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub apis: FastMap<String, ApiEntry>,
    pub vpc_links: FastMap<String, VpcLink>,
    /// VPC links V2 by id.
    pub vpc_links_v2: FastMap<String, causeway_model::VpcLinkV2>,
    /// Load balancer ARN → its address (where its listeners bind).
    pub load_balancers: FastMap<String, String>,
    /// API keys by value.
    pub keys: FastMap<String, KeyEntry>,
    /// Load balancers served by NLB nodes, reached through the tunnel.
    pub remote_load_balancers: std::collections::BTreeSet<String>,
    /// Custom domain names (lowercase; `*.example.com` for a wildcard one), each with its
    /// routing.
    pub domains: FastMap<String, DomainRoutes>,
    /// Whether any of them is a wildcard (`*.example.com`), which a Host no domain has
    /// exactly is looked up as.
    pub wildcard_domains: bool,
    /// Custom domains' own TLS settings (mutual TLS, strict endpoint access), which
    /// requests to them are checked against.
    pub domain_tls: std::collections::BTreeMap<String, Arc<causeway_model::gateway::DomainTls>>,
}

/// How a custom domain name routes requests: its routing rules (lowest priority first),
/// then its base path mappings (the longest first, the root one, `(none)`, last); either is
/// empty when the domain's routing mode does not use it.
#[derive(Debug, Default)]
pub struct DomainRoutes {
    pub rules: Vec<DomainRule>,
    pub mappings: Vec<DomainRoute>,
}

/// A routing rule of a custom domain name, ready to match.
#[derive(Debug)]
pub struct DomainRule {
    pub id: String,
    /// Header conditions: lowercase name and the glob a value must match.
    pub headers: Vec<(String, causeway_model::routing_rule::Glob)>,
    pub base_path: Option<String>,
    pub api_id: String,
    pub stage: String,
    pub strip_base_path: bool,
}

/// A base path mapping of a custom domain name.
#[derive(Debug)]
pub struct DomainRoute {
    /// `None` for the domain's root (`(none)`).
    pub base_path: Option<String>,
    pub api_id: String,
    /// `None`: the first segment after the base path names the stage.
    pub stage: Option<String>,
}

/// One API.
#[derive(Debug)]
pub struct ApiEntry {
    pub api: RestApi,
    pub stages: FastMap<String, Arc<StageEntry>>,
}

/// One stage, ready to serve.
#[derive(Debug)]
pub struct StageEntry {
    pub stage: Stage,
    pub deployment: Arc<Deployment>,
    pub routes: Arc<CompiledApi>,
    /// Where and how the stage writes access logs, if it does.
    pub access_log: Option<Arc<crate::access_log::AccessLog>>,
    /// The deployment's request validation, by method.
    pub validation: Arc<crate::validation::Validations>,
    /// Customised gateway responses of the deployment, by type.
    pub gateway_responses: HashMap<String, GatewayResponse>,
    /// Usage plans of API keys and method throttles.
    pub limits: StageLimits,
    /// Integration uris with the stage's variables in.
    pub uris: MethodTable<CompiledUri>,
    /// The stage cache and its cached methods, when the stage's cache is on.
    pub caching: Option<crate::cache::StageCaching>,
    /// The deployment's resource policy, if its API had one when deployed.
    pub policy: Option<StagePolicy>,
    /// The deployment's authorizers and the decisions they made, if it has any.
    pub authorizers: Option<crate::authorizer::StageAuthorizers>,
    /// The stage's canary release, if it has one.
    pub canary: Option<Canary>,
    /// Whether this is a canary's entry (`$context.isCanaryRequest`).
    pub is_canary: bool,
    /// The WAF web ACL associated with the stage, compiled.
    pub web_acl: Option<Arc<causeway_model::waf::CompiledAcl>>,
    /// The client certificate the stage shows HTTPS backends that ask for one.
    pub client_certificate: Option<Arc<causeway_model::gateway::BackendCertificate>>,
}

/// A stage's canary: the share of its requests (0.0 to 1.0) served by the canary deployment.
#[derive(Debug)]
pub struct Canary {
    pub share: f64,
    pub entry: Arc<StageEntry>,
}

/// What is compiled once per deployment, whichever stages serve it: the route tree and the
/// request validation.
type Compiled = (Arc<CompiledApi>, Arc<crate::validation::Validations>);

impl StageEntry {
    /// Compiles `stage` serving `deployment`, reusing route trees already in `compiled`.
    fn compile(
        plan: &GatewayPlan,
        api_id: &str,
        (stage, deployment): (&Stage, &Arc<Deployment>),
        compiled: &mut HashMap<*const Deployment, Compiled>,
        previous: Previous<'_>,
        (scope, cognito): (
            causeway_model::policy::Scope<'_>,
            Option<&crate::cognito::HttpUrl>,
        ),
    ) -> StageEntry {
        let (routes, validation) = compiled
            .entry(Arc::as_ptr(deployment))
            .or_insert_with(|| {
                let routes = Arc::new(CompiledApi::compile(&deployment.snapshot));
                let validation = Arc::new(crate::validation::compile(api_id, &routes));
                (routes, validation)
            })
            .clone();
        StageEntry {
            access_log: crate::access_log::AccessLog::compile(stage),
            validation,
            caching: crate::cache::StageCaching::compile(stage, &routes, previous.caching),
            policy: StagePolicy::compile(&deployment.snapshot.api, scope),
            authorizers: crate::authorizer::StageAuthorizers::compile(
                stage,
                deployment,
                previous.authorizers,
                cognito,
            ),
            stage: stage.clone(),
            deployment: deployment.clone(),
            gateway_responses: deployment
                .snapshot
                .gateway_responses
                .iter()
                .map(|r| (r.response_type.clone(), r.clone()))
                .collect(),
            limits: limits::compile_stage(plan, api_id, stage),
            uris: compile_uris(&routes, stage),
            routes,
            canary: None,
            web_acl: None,
            client_certificate: None,
            is_canary: false,
        }
    }
}

/// What a stage's new entry keeps of the entry it replaces: its cache and its authorizers'
/// decisions.
#[derive(Clone, Copy, Default)]
struct Previous<'a> {
    caching: Option<&'a crate::cache::StageCaching>,
    authorizers: Option<&'a crate::authorizer::StageAuthorizers>,
}

impl<'a> Previous<'a> {
    fn of(entry: Option<&'a StageEntry>) -> Previous<'a> {
        Previous {
            caching: entry.and_then(|e| e.caching.as_ref()),
            authorizers: entry.and_then(|e| e.authorizers.as_ref()),
        }
    }
}

/// A deployment's resource policy, ready to evaluate.
#[derive(Debug)]
pub enum StagePolicy {
    Valid(causeway_model::policy::Policy),
    /// A stored policy that does not parse (stored before policies were checked): every
    /// request fails as a configuration error, so it can never let anyone in by mistake.
    Invalid(String),
}

impl StagePolicy {
    fn compile(api: &RestApi, scope: causeway_model::policy::Scope<'_>) -> Option<StagePolicy> {
        let text = api.policy.as_deref()?;
        Some(match causeway_model::policy::Policy::parse(text, scope) {
            Ok(policy) => StagePolicy::Valid(policy),
            Err(e) => StagePolicy::Invalid(e.0),
        })
    }
}

/// An integration uri with its stage's variables filled in, split when the stage is
/// compiled: a request only fills in its path parameters and query string.
#[derive(Debug)]
pub struct CompiledUri {
    pub https: bool,
    /// `host[:port]` as written.
    pub authority: http::uri::Authority,
    /// The Host header the backend gets: the authority.
    pub host: http::HeaderValue,
    /// The path, with its `{name}` placeholders; empty when the uri has none.
    pub path: causeway_routing::PathTemplate,
    /// The uri's own query string, if it has a non-empty one.
    pub query: Option<String>,
}

impl CompiledUri {
    /// `None` when the uri needs a stage variable the stage does not have, has a placeholder
    /// outside its path, or is no HTTP(S) URL once its placeholders are filled in: requests
    /// then resolve it themselves and report why it fails.
    pub fn compile(
        template: &str,
        variables: &std::collections::BTreeMap<String, String>,
    ) -> Option<CompiledUri> {
        let resolved = causeway_routing::substitute_stage_variables(template, variables).ok()?;
        let (scheme, rest) = resolved.split_once("://")?;
        let https = match scheme {
            "http" => false,
            "https" => true,
            _ => return None,
        };
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, rest) = rest.split_at(end);
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (rest, None),
        };
        if authority.contains(['{', '}']) || query.is_some_and(|q| q.contains(['{', '}'])) {
            return None;
        }
        // The whole uri must parse with every placeholder filled in by a plain segment: then
        // any value a request puts there (a path parameter as the client sent it) keeps it
        // valid.
        let mut probe = String::with_capacity(resolved.len());
        let mut inside = false;
        for c in resolved.chars() {
            match c {
                '{' if !inside => inside = true,
                '}' if inside => {
                    inside = false;
                    probe.push('x');
                }
                _ if inside => {}
                c => probe.push(c),
            }
        }
        let parsed: http::Uri = probe.parse().ok()?;
        parsed.authority()?;
        let authority: http::uri::Authority = authority.parse().ok()?;
        let host = http::HeaderValue::from_str(authority.as_str()).ok()?;
        Some(CompiledUri {
            https,
            authority,
            host,
            path: causeway_routing::PathTemplate::parse(path),
            query: query.filter(|q| !q.is_empty()).map(str::to_owned),
        })
    }
}

/// Something compiled for some of a deployment's methods, found by the route a request
/// matched: by resource index (as routes give it), then method key.
#[derive(Debug)]
pub struct MethodTable<T>(Vec<Vec<(String, T)>>);

impl<T> Default for MethodTable<T> {
    fn default() -> Self {
        MethodTable(Vec::new())
    }
}

impl<T> MethodTable<T> {
    /// `compile` for every method of `routes`' deployment; methods it gives `None` for are
    /// left out.
    pub fn compile(
        routes: &CompiledApi,
        mut compile: impl FnMut(&DeployedResource, &str, &Method) -> Option<T>,
    ) -> Self {
        MethodTable(
            routes
                .snapshot()
                .resources
                .iter()
                .map(|deployed| {
                    deployed
                        .resource
                        .methods
                        .iter()
                        .filter_map(|(key, method)| {
                            Some((key.clone(), compile(deployed, key, method)?))
                        })
                        .collect()
                })
                .collect(),
        )
    }

    /// The entry of the matched method.
    pub fn get(&self, matched: &causeway_routing::RouteMatch<'_>) -> Option<&T> {
        self.0
            .get(matched.resource_index)?
            .iter()
            .find(|(key, _)| key == matched.method_key)
            .map(|(_, value)| value)
    }
}

/// The compiled integration uris of a stage's resources (HTTP and HTTP_PROXY integrations).
fn compile_uris(routes: &CompiledApi, stage: &Stage) -> MethodTable<CompiledUri> {
    MethodTable::compile(routes, |_, _, method| {
        let uri = method.integration.as_ref()?.uri.as_deref()?;
        CompiledUri::compile(uri, &stage.variables)
    })
}

impl Snapshot {
    /// Compiles a plan. Route trees of deployments already compiled in `previous` are reused.
    /// `region` and `account_id` place the APIs' ARNs, which resource policies name.
    pub fn compile(
        plan: &GatewayPlan,
        previous: &Snapshot,
        (region, account_id): (&str, &str),
        cognito: Option<&crate::cognito::HttpUrl>,
    ) -> Snapshot {
        let mut compiled: HashMap<*const Deployment, Compiled> = HashMap::new();
        for api in previous.apis.values() {
            for stage in api.stages.values() {
                compiled.insert(
                    Arc::as_ptr(&stage.deployment),
                    (stage.routes.clone(), stage.validation.clone()),
                );
                if let Some(canary) = &stage.canary {
                    compiled.insert(
                        Arc::as_ptr(&canary.entry.deployment),
                        (canary.entry.routes.clone(), canary.entry.validation.clone()),
                    );
                }
            }
        }
        let apis = plan
            .apis
            .iter()
            .map(|(id, api)| {
                let scope = causeway_model::policy::Scope {
                    region,
                    account_id,
                    api_id: id,
                };
                let stages = api
                    .stages
                    .iter()
                    .map(|(name, stage)| {
                        let previous_entry =
                            previous.apis.get(id).and_then(|api| api.stages.get(name));
                        let mut entry = StageEntry::compile(
                            plan,
                            id,
                            (&stage.stage, &stage.deployment),
                            &mut compiled,
                            Previous::of(previous_entry.map(|e| &**e)),
                            (scope, cognito),
                        );
                        entry.web_acl = stage.web_acl.clone();
                        entry.client_certificate = stage.client_certificate.clone();
                        entry.canary = stage.canary.as_ref().and_then(|deployment| {
                            let settings = stage.stage.canary_settings.as_ref()?;
                            // The canary serves its deployment with the stage's variables and
                            // its own overrides, and shares the stage cache only if told to.
                            // It is the stage as the canary's deployment serves it: its
                            // deployment id is the canary's, so cache keys never mix.
                            let mut canary_stage = stage.stage.clone();
                            canary_stage.deployment_id = deployment.id.clone();
                            canary_stage
                                .variables
                                .extend(settings.stage_variable_overrides.clone());
                            canary_stage.canary_settings = None;
                            if !settings.use_stage_cache {
                                canary_stage.cache_cluster_enabled = false;
                            }
                            let previous_canary = previous_entry
                                .and_then(|e| e.canary.as_ref())
                                .map(|c| &*c.entry);
                            let mut canary = StageEntry::compile(
                                plan,
                                id,
                                (&canary_stage, deployment),
                                &mut compiled,
                                Previous {
                                    caching: entry.caching.as_ref(),
                                    authorizers: Previous::of(previous_canary).authorizers,
                                },
                                (scope, cognito),
                            );
                            canary.is_canary = true;
                            canary.web_acl = stage.web_acl.clone();
                            canary.client_certificate = stage.client_certificate.clone();
                            Some(Canary {
                                share: settings.percent_traffic.unwrap_or(0.0) / 100.0,
                                entry: Arc::new(canary),
                            })
                        });
                        (name.clone(), Arc::new(entry))
                    })
                    .collect();
                (
                    id.clone(),
                    ApiEntry {
                        api: api.api.clone(),
                        stages,
                    },
                )
            })
            .collect();
        Snapshot {
            apis,
            vpc_links: plan
                .vpc_links
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            vpc_links_v2: plan
                .vpc_links_v2
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            load_balancers: plan
                .load_balancers
                .iter()
                .map(|(arn, lb)| (arn.clone(), lb.address.clone()))
                .collect(),
            keys: limits::compile_keys(plan),
            remote_load_balancers: plan.remote_load_balancers.clone(),
            domain_tls: plan.domain_tls.clone(),
            wildcard_domains: plan.domains.keys().any(|name| name.starts_with("*.")),
            domains: plan
                .domains
                .iter()
                .map(|(name, domain)| (name.clone(), domain_routes(domain)))
                .collect(),
        }
    }
}

/// A domain's routing, as its routing mode has it.
fn domain_routes(domain: &causeway_model::gateway::DomainPlan) -> DomainRoutes {
    let mode = domain.routing_mode;
    let mut mappings: Vec<DomainRoute> = if mode.uses_mappings() {
        domain
            .mappings
            .iter()
            .map(|m| DomainRoute {
                base_path: (m.base_path != "(none)").then(|| m.base_path.clone()),
                api_id: m.rest_api_id.clone(),
                stage: m.stage.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };
    // The longest base path first (a request goes to the longest that matches), the root
    // last.
    mappings.sort_by_key(|r| std::cmp::Reverse(r.base_path.as_ref().map_or(0, String::len)));
    let mut rules: Vec<&causeway_model::routing_rule::RoutingRule> = if mode.uses_rules() {
        domain.rules.iter().collect()
    } else {
        Vec::new()
    };
    rules.sort_by_key(|r| r.priority);
    let rules = rules
        .into_iter()
        .filter_map(|rule| {
            let invoke = rule.invoke_api()?;
            Some(DomainRule {
                id: rule.routing_rule_id.clone(),
                headers: rule.header_conditions().collect(),
                base_path: rule.base_path().map(str::to_owned),
                api_id: invoke.api_id.clone(),
                stage: invoke.stage.clone(),
                strip_base_path: invoke.strip_base_path,
            })
        })
        .collect();
    DomainRoutes { rules, mappings }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn integration_uris_are_split_once_with_the_stage_variables_in() {
        let variables: std::collections::BTreeMap<String, String> = [
            ("HOST".to_owned(), "backend.internal:8080".to_owned()),
            ("BAD".to_owned(), "a b".to_owned()),
        ]
        .into();
        let uri = CompiledUri::compile(
            "http://${stageVariables.HOST}/pets/{id}/{proxy}?fixed=1",
            &variables,
        )
        .unwrap();
        assert!(!uri.https);
        assert_eq!(uri.authority.as_str(), "backend.internal:8080");
        assert_eq!(uri.host, "backend.internal:8080");
        assert_eq!(uri.path.as_str(), "/pets/{id}/{proxy}");
        assert_eq!(uri.query.as_deref(), Some("fixed=1"));

        let bare = CompiledUri::compile("https://example.com", &variables).unwrap();
        assert!(bare.https);
        assert_eq!(bare.path.as_str(), "");
        assert_eq!(bare.query, None);
        let empty_query = CompiledUri::compile("http://example.com/x?", &variables).unwrap();
        assert_eq!(empty_query.query, None);

        // Left to each request, which then says why it fails.
        for template in [
            "http://${stageVariables.MISSING}/x",
            "http://{host}/x",
            "ftp://example.com/x",
            "http://example.com/${stageVariables.BAD}",
            "http://example.com/x?a={b}",
            "not a url",
            "/relative/{proxy}",
        ] {
            assert!(
                CompiledUri::compile(template, &variables).is_none(),
                "{template}"
            );
        }
    }
}
