//! The Causeway gateway: the data plane that serves deployed stages.
//!
//! The control plane hands over a [`GatewayPlan`]; [`Gateway::apply`] compiles every stage's
//! deployment into a route tree and swaps the whole [`Snapshot`] in atomically. Requests read
//! the snapshot they started with, so a redeploy never disturbs a request in flight, and the
//! hot path never touches the store.
//!
//! A request goes through `resolve API and stage → match route → integration → response`,
//! and any failure becomes the API's gateway response for that failure (AWS's status, body
//! and `x-amzn-ErrorType`).

mod access_log;
mod authorizer;
pub mod aws;
mod cache;
pub mod cognito;
mod compress;
mod conn;
pub mod endpoint;
mod errors;
mod exec_log;
mod http2;
mod iam;
mod integration;
pub mod lambda;
mod lambda_event;
mod limits;
mod pipeline;
mod pool;
mod request;
mod server;
mod snapshot;
mod templates;
mod test_invoke;
mod tls;
mod upstream;
mod validation;
mod waf;
mod wall;

use std::sync::Arc;

use arc_swap::ArcSwap;
use causeway_model::gateway::GatewayPlan;

pub use access_log::AccessLogSink;
pub use limits::{Clock, ManualClock, SystemClock};
pub use server::{serve, serve_tls};
pub use snapshot::Snapshot;
pub use waf::SharedRate;

/// Settings of the gateway that are not part of any API.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Largest request body accepted (AWS: 10 MB).
    pub max_body_bytes: usize,
    /// How long a client may take to send a request head once it has begun (nginx's
    /// `client_header_timeout` is 60 s too); the connection then closes without an answer.
    pub request_head_timeout: std::time::Duration,
    /// How long a request body may pause between two reads (nginx's `client_body_timeout`
    /// is 60 s too); the connection then closes without an answer.
    pub request_body_timeout: std::time::Duration,
    /// How long a client may go without taking any of an answer being written to it
    /// (nginx's `send_timeout` is 60 s too); the connection then closes.
    pub send_timeout: std::time::Duration,
    /// How long a streamed answer (`responseTransferMode: STREAM`) may go without a byte
    /// from the backend (AWS: 5 minutes for Regional and private endpoints); the answer is
    /// then cut.
    pub stream_idle_timeout: std::time::Duration,
    /// How fast a streamed answer may go once it is past its first bytes (AWS: 2 MB/s after
    /// the first 10 MB); `None` sends streams as fast as the client takes them.
    pub stream_bandwidth: Option<StreamBandwidth>,
    /// Region and account, for `$context` values.
    pub region: String,
    pub account_id: String,
    /// The account-level throttle (AWS: 10,000 requests per second, bursts of 5,000);
    /// `None` turns it off.
    pub account_throttle: Option<causeway_limits::ThrottleConfig>,
    /// The node connections of load balancers served elsewhere (the tunnel), if a link
    /// listener runs.
    pub tunnel: Option<causeway_link::tunnel::Registry>,
    /// The load balancers this process runs: VPC links to them hand connections over in
    /// memory. Without it, only load balancers served by NLB nodes (through the tunnel) can
    /// be reached; a VPC link to any other fails as a configuration error.
    pub engine: Option<Arc<causeway_nlb::Engine>>,
    /// Where stages' access log lines go; without one, access log settings are kept but
    /// nothing is written.
    pub access_logs: Option<Arc<dyn AccessLogSink>>,
    /// Where Lambda functions (authorizers) are invoked; without one, methods with a Lambda
    /// authorizer answer 500 with the reason in the log.
    pub lambda: Option<lambda::LambdaEndpoint>,
    /// Where AWS integrations call AWS services other than Lambda; without it, such an
    /// integration answers 500 with the reason in the log.
    pub aws: Option<aws::AwsServices>,
    /// Where Cognito user pools are (`{endpoint}/{poolId}` issues tokens, and has its keys at
    /// `/.well-known/jwks.json` under that); `None` for AWS's own,
    /// `https://cognito-idp.{region}.amazonaws.com`.
    pub cognito_endpoint: Option<cognito::HttpUrl>,
    /// The identities that may sign requests to `AWS_IAM` methods (SigV4); `None` lets no
    /// caller in.
    pub credentials: Option<Arc<causeway_sigv4::Credentials>>,
}

/// The pace of a streamed answer past its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamBandwidth {
    /// Bytes of each answer sent as fast as the client takes them.
    pub unthrottled_bytes: u64,
    /// The pace of the rest.
    pub bytes_per_second: u64,
}

impl StreamBandwidth {
    /// AWS's: "the first 10 MB of response payload is not subject to any bandwidth
    /// restrictions; response payload data exceeding 10 MB is restricted to 2 MB/s".
    pub const AWS: StreamBandwidth = StreamBandwidth {
        unthrottled_bytes: 10 * 1024 * 1024,
        bytes_per_second: 2 * 1024 * 1024,
    };
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            max_body_bytes: 10 * 1024 * 1024,
            request_head_timeout: std::time::Duration::from_secs(60),
            request_body_timeout: std::time::Duration::from_secs(60),
            send_timeout: std::time::Duration::from_secs(60),
            stream_idle_timeout: std::time::Duration::from_secs(5 * 60),
            stream_bandwidth: Some(StreamBandwidth::AWS),
            region: "us-east-1".to_owned(),
            account_id: "000000000000".to_owned(),
            account_throttle: Some(causeway_limits::ThrottleConfig::ACCOUNT_DEFAULT),
            tunnel: None,
            engine: None,
            access_logs: None,
            lambda: None,
            aws: None,
            cognito_endpoint: None,
            credentials: None,
        }
    }
}

/// The gateway: the current snapshot and the clients that reach backends.
pub struct Gateway {
    config: GatewayConfig,
    snapshot: ArcSwap<Snapshot>,
    upstream: upstream::Upstream,
    tunnel: Option<Arc<upstream::Tunnel>>,
    balancers: Option<Arc<upstream::Balancers>>,
    limiter: Arc<dyn causeway_limits::Limiter>,
    clock: Arc<dyn Clock>,
    /// Key sets of Cognito user pools, fetched when a token first needs them.
    key_sets: cognito::KeySets,
    /// The counts of WAF rate-based rules.
    waf_rates: waf::RateCounts,
    /// Custom domains' certificates, for the HTTPS listener.
    domain_certificates: Arc<tls::DomainCertificates>,
    domain_configs: tls::DomainConfigs,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("config", &self.config)
            .field("snapshot", &self.snapshot)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// A gateway that serves nothing until a plan is applied, counting requests with an
    /// in-memory limiter on the system clock.
    pub fn new(config: GatewayConfig) -> Gateway {
        Gateway::with_limiter(
            config,
            Arc::new(causeway_limits::InMemoryLimiter::new()),
            Arc::new(SystemClock::new()),
        )
    }

    /// A gateway with its own limiter (shared with whoever persists usage) and clock.
    pub fn with_limiter(
        config: GatewayConfig,
        limiter: Arc<dyn causeway_limits::Limiter>,
        clock: Arc<dyn Clock>,
    ) -> Gateway {
        let tunnel = config.tunnel.clone().map(|registry| {
            Arc::new(upstream::Tunnel {
                registry,
                routes: upstream::Routes::default(),
            })
        });
        let balancers = config.engine.clone().map(|engine| {
            Arc::new(upstream::Balancers {
                engine,
                routes: upstream::Routes::default(),
            })
        });
        Gateway {
            config,
            snapshot: ArcSwap::from_pointee(Snapshot::default()),
            upstream: upstream::Upstream::new(tunnel.clone(), balancers.clone()),
            tunnel,
            balancers,
            limiter,
            clock,
            key_sets: cognito::KeySets::default(),
            waf_rates: waf::RateCounts::default(),
            domain_certificates: Arc::default(),
            domain_configs: tls::DomainConfigs::default(),
        }
    }

    /// Where the user pools of Cognito authorizers are, when not on AWS.
    pub(crate) fn cognito_endpoint(&self) -> Option<cognito::HttpUrl> {
        self.config.cognito_endpoint.clone()
    }

    /// Runs a TestInvokeAuthorizer call: the authorizer as configured now, asked about the
    /// request given.
    pub async fn test_authorizer(
        &self,
        call: causeway_model::gateway::TestAuthorizer,
    ) -> causeway_model::gateway::TestAuthorizerResult {
        authorizer::test(self, call).await
    }

    /// The clock of throttles and quotas.
    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// The counts of WAF rate-based rules to exchange with the other nodes: every key
    /// counted in its window, with this node's requests since the last exchange. Each call
    /// must be followed by [`Gateway::waf_rates_shared`] with what it returned.
    pub fn waf_rates_to_share(&self) -> Vec<SharedRate> {
        self.waf_rates.to_share(self.waf_seconds())
    }

    /// The end of an exchange begun by [`Gateway::waf_rates_to_share`]: every node's count
    /// in the window of each key sent, in order, or `None` if the exchange failed (the
    /// requests sent go out again with the next one).
    pub fn waf_rates_shared(&self, sent: &[SharedRate], totals: Option<&[u64]>) {
        self.waf_rates.shared(sent, totals, self.waf_seconds());
    }

    /// The time of WAF's rate counts, in seconds.
    fn waf_seconds(&self) -> u64 {
        self.clock.now().monotonic.0 / 1_000_000_000
    }

    /// Compiles `plan` and swaps it in. Stages whose deployment did not change reuse their
    /// compiled routes.
    pub fn apply(&self, plan: &GatewayPlan) {
        let previous = self.snapshot.load_full();
        let next = Snapshot::compile(
            plan,
            &previous,
            (&self.config.region, &self.config.account_id),
            self.config.cognito_endpoint.as_ref(),
        );
        if let Some(tunnel) = &self.tunnel {
            tunnel.routes.set(&plan.remote_load_balancers);
        }
        if let Some(balancers) = &self.balancers {
            balancers.routes.set(
                plan.load_balancers
                    .keys()
                    .filter(|arn| !plan.remote_load_balancers.contains(*arn)),
            );
        }
        // Connections made with a certificate no stage names any more are let go.
        let certificates: std::collections::HashSet<&str> = plan
            .apis
            .values()
            .flat_map(|api| api.stages.values())
            .filter_map(|stage| stage.client_certificate.as_deref())
            .map(|certificate| certificate.id.as_str())
            .collect();
        self.upstream.keep_client_certificates(&certificates);
        self.domain_certificates.apply(&plan.domain_certificates);
        self.domain_configs.apply(&plan.domain_tls);
        self.snapshot.store(Arc::new(next));
    }

    /// The TLS settings of an HTTPS listener for this gateway: a custom domain whose
    /// certificate was imported is served with it (chosen by the TLS server name, wildcard
    /// domains included), any other name with `chain` and `key`. TLS 1.2 and 1.3; HTTP/2
    /// and HTTP/1.1 (ALPN).
    pub fn tls_config(
        &self,
        chain: Vec<tokio_rustls::rustls::pki_types::CertificateDer<'static>>,
        key: tokio_rustls::rustls::pki_types::PrivateKeyDer<'static>,
    ) -> Result<tokio_rustls::rustls::ServerConfig, tokio_rustls::rustls::Error> {
        let resolver = Arc::new(tls::Resolver {
            domains: self.domain_certificates.clone(),
            default: tls::certified_key(chain, key)?,
        });
        // Custom domains with TLS settings of their own choose certificates the same way.
        self.domain_configs.set_resolver(resolver.clone());
        let mut config = tokio_rustls::rustls::ServerConfig::builder_with_provider(
            causeway_link::tls::provider(),
        )
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
        config.alpn_protocols = tls::ALPN.iter().map(|p| p.to_vec()).collect();
        Ok(config)
    }

    /// Runs a TestInvokeMethod call: the method as configured now, with the request given,
    /// through the same integrations as served traffic.
    pub async fn test_invoke(
        &self,
        call: causeway_model::gateway::TestInvoke,
    ) -> causeway_model::gateway::TestInvokeResult {
        test_invoke::run(self, call).await
    }

    /// Empties a stage's cache (FlushStageCache). `false` when the stage has no cache on.
    pub fn flush_stage_cache(&self, api_id: &str, stage: &str) -> bool {
        let snapshot = self.snapshot.load();
        let caching = snapshot
            .apis
            .get(api_id)
            .and_then(|api| api.stages.get(stage))
            .and_then(|stage| stage.caching.as_ref());
        match caching {
            Some(caching) => {
                caching.store.flush();
                true
            }
            None => false,
        }
    }

    /// The snapshot now in force.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }
}
