//! What the gateway serves, as the control plane hands it over: every stage with its
//! (immutable, shared) deployment, every VPC link, and where each load balancer listens.
//! The gateway compiles this into its routing snapshot.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::entities::{Deployment, RestApi, Stage, VpcLink, VpcLinkV2};
use crate::enums::QuotaPeriod;
use crate::usage::{ApiKey, QuotaSettings, ThrottleSettings, UsagePlan};

/// The whole served configuration.
#[derive(Debug, Clone, Default)]
pub struct GatewayPlan {
    /// APIs by id.
    pub apis: BTreeMap<String, ApiPlan>,
    /// VPC links by id.
    pub vpc_links: BTreeMap<String, VpcLink>,
    /// VPC links V2 by id (their integrations name the load balancer).
    pub vpc_links_v2: BTreeMap<String, VpcLinkV2>,
    /// Load balancers by ARN.
    pub load_balancers: BTreeMap<String, LoadBalancerAddress>,
    /// Load balancers that an NLB node serves elsewhere, reached through the tunnel.
    pub remote_load_balancers: std::collections::BTreeSet<String>,
    /// API keys by id.
    pub api_keys: BTreeMap<String, ApiKey>,
    /// Usage plans by id, each with the ids of its API keys.
    pub usage_plans: BTreeMap<String, UsagePlanWithKeys>,
    /// Custom domain names (lowercase) with their routing.
    pub domains: BTreeMap<String, DomainPlan>,
    /// The certificates to serve custom domains with over HTTPS, by domain name
    /// (lowercase; `*.` names cover one label).
    pub domain_certificates: BTreeMap<String, Arc<ServingCertificate>>,
    /// The TLS settings of custom domains that have any beyond the listener's: an enhanced
    /// security policy, a strict endpoint access mode, or mutual TLS; by domain name
    /// (lowercase).
    pub domain_tls: BTreeMap<String, Arc<DomainTls>>,
}

/// How a custom domain routes its requests: its mode, base path mappings and routing rules.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DomainPlan {
    pub routing_mode: crate::routing_rule::RoutingMode,
    pub mappings: Vec<crate::BasePathMapping>,
    pub rules: Vec<crate::routing_rule::RoutingRule>,
}

/// A custom domain's own TLS settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainTls {
    /// The TLS versions and ciphers the domain is served with.
    pub security_policy: &'static crate::mtls::SecurityPolicy,
    /// `STRICT` endpoint access: a request's Host must be the TLS server name.
    pub strict: bool,
    /// Mutual TLS: the truststore's certificates (DER), in order.
    pub truststore: Option<Vec<rustls_pki_types::CertificateDer<'static>>>,
}

/// A certificate to serve over HTTPS: its chain (PEM, the certificate first) and private
/// key (PEM).
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServingCertificate {
    pub chain_pem: String,
    pub key_pem: String,
}

impl ServingCertificate {
    /// A certificate (PEM), the chain that goes with it if any, and its key.
    pub fn new(certificate: &str, chain: Option<&str>, key_pem: &str) -> ServingCertificate {
        let mut chain_pem = certificate.to_owned();
        if let Some(chain) = chain {
            if !chain_pem.ends_with('\n') {
                chain_pem.push('\n');
            }
            chain_pem.push_str(chain);
        }
        ServingCertificate {
            chain_pem,
            key_pem: key_pem.to_owned(),
        }
    }
}

/// The key stays out of logs.
impl std::fmt::Debug for ServingCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServingCertificate")
            .field("chain_pem", &self.chain_pem)
            .field("key_pem", &"(private key)")
            .finish()
    }
}

/// A usage plan and its API keys.
#[derive(Debug, Clone)]
pub struct UsagePlanWithKeys {
    pub plan: UsagePlan,
    pub key_ids: Vec<String>,
}

/// One API: its settings and its stages.
#[derive(Debug, Clone)]
pub struct ApiPlan {
    pub api: RestApi,
    /// Stages by name; a stage whose deployment is missing is left out.
    pub stages: BTreeMap<String, StagePlan>,
}

/// One stage and the deployment it serves.
#[derive(Debug, Clone)]
pub struct StagePlan {
    pub stage: Stage,
    pub deployment: Arc<Deployment>,
    /// The canary deployment, when the stage's canary settings name one that exists.
    pub canary: Option<Arc<Deployment>>,
    /// The WAF web ACL associated with the stage, compiled; `None` when there is none.
    pub web_acl: Option<Arc<crate::waf::CompiledAcl>>,
    /// The client certificate the stage shows HTTPS backends; `None` when it has none.
    pub client_certificate: Option<Arc<BackendCertificate>>,
}

/// A client certificate as the gateway uses it: what it shows HTTPS backends that ask for
/// one.
#[derive(Clone, PartialEq, Eq)]
pub struct BackendCertificate {
    /// The certificate's id; connections made with it are kept apart from others.
    pub id: String,
    /// The certificate, PEM-encoded.
    pub certificate_pem: String,
    /// Its private key, PKCS #8, PEM-encoded.
    pub private_key_pem: String,
}

/// The private key stays out of logs.
impl std::fmt::Debug for BackendCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendCertificate")
            .field("id", &self.id)
            .field("private_key_pem", &"(private key)")
            .finish_non_exhaustive()
    }
}

impl From<&crate::ClientCertificate> for BackendCertificate {
    fn from(certificate: &crate::ClientCertificate) -> BackendCertificate {
        BackendCertificate {
            id: certificate.client_certificate_id.clone(),
            certificate_pem: certificate.pem_encoded_certificate.clone(),
            private_key_pem: certificate.private_key_pem.clone(),
        }
    }
}

/// Where a load balancer can be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadBalancerAddress {
    pub dns_name: String,
    pub address: String,
}

/// A TestInvokeMethod call, ready for the gateway: the API as it is now (deployed or not),
/// reduced to the one resource under test, and the request to run its method with.
#[derive(Debug, Clone, PartialEq)]
pub struct TestInvoke {
    /// A throwaway deployment holding the API settings, the resource under test (with its
    /// full path) and the customised gateway responses.
    pub deployment: Arc<Deployment>,
    /// The method as named in the call (`GET`, `ANY`, ...).
    pub http_method: String,
    /// Path and query the method is invoked with, e.g. `/pets/1?type=dog`.
    pub path_with_query_string: String,
    /// Stage variables for `${stageVariables.NAME}`.
    pub stage_variables: BTreeMap<String, String>,
    /// Request headers, in order; a multi-valued header appears once per value.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The client certificate to show HTTPS backends (`clientCertificateId`).
    pub client_certificate: Option<Arc<BackendCertificate>>,
}

/// What a TestInvokeMethod call answers: the method response the client would have seen and
/// the execution log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestInvokeResult {
    pub status: u16,
    pub body: String,
    /// Response headers, the last value of each.
    pub headers: BTreeMap<String, String>,
    /// Response headers with every value.
    pub multi_value_headers: BTreeMap<String, Vec<String>>,
    pub log: String,
    /// Milliseconds from the start of the call to its end.
    pub latency_ms: i64,
}

/// A TestInvokeAuthorizer call: the authorizer as configured now and the request to ask it
/// about.
#[derive(Debug, Clone, PartialEq)]
pub struct TestAuthorizer {
    pub api_id: String,
    pub authorizer: crate::Authorizer,
    /// Request headers, in order; a multi-valued header appears once per value.
    pub headers: Vec<(String, String)>,
    /// Path and query the request is made with (`/pets?x=1`).
    pub path_with_query_string: String,
    pub stage_variables: BTreeMap<String, String>,
}

/// What a TestInvokeAuthorizer call answers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestAuthorizerResult {
    /// The status the client would have had; 0 when the authorizer let it through.
    pub client_status: u16,
    pub log: String,
    pub latency_ms: i64,
    pub principal_id: Option<String>,
    /// The policy document the function returned, as JSON text.
    pub policy: Option<String>,
    /// A user pool token's claims.
    pub claims: BTreeMap<String, String>,
}

/// The limits a usage plan sets for each of its keys, as the limiter counts them.
pub fn plan_limits(plan: &UsagePlan) -> causeway_limits::PlanLimits {
    causeway_limits::PlanLimits {
        throttle: plan.throttle.as_ref().map(throttle_config),
        quota: plan.quota.as_ref().map(quota_config),
        quota_start: causeway_limits::Day::from_unix_seconds(plan.created_date),
    }
}

/// A throttle as the limiter takes it (a negative burst counts as 0).
pub fn throttle_config(settings: &ThrottleSettings) -> causeway_limits::ThrottleConfig {
    causeway_limits::ThrottleConfig {
        rate_limit: settings.rate_limit,
        burst_limit: u64::try_from(settings.burst_limit).unwrap_or(0),
    }
}

fn quota_config(settings: &QuotaSettings) -> causeway_limits::QuotaConfig {
    causeway_limits::QuotaConfig {
        limit: u64::try_from(settings.limit).unwrap_or(0),
        offset: u64::try_from(settings.offset).unwrap_or(0),
        period: match settings.period {
            QuotaPeriod::Day => causeway_limits::Period::Day,
            QuotaPeriod::Week => causeway_limits::Period::Week,
            QuotaPeriod::Month => causeway_limits::Period::Month,
        },
    }
}
