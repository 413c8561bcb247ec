//! Test harness: a real Causeway server on a loopback port, an `aws-sdk-apigateway` client
//! pointed at it, raw HTTP helpers for wire checks, and small builders for common fixtures.

use std::collections::HashSet;
use std::fmt::Debug;
use std::net::SocketAddr;
use std::time::Duration;

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::config::http::{HttpRequest, HttpResponse};
use aws_sdk_apigateway::config::retry::RetryConfig;
use aws_sdk_apigateway::config::{BehaviorVersion, Region};
use aws_sdk_apigateway::error::{ConnectorError, ProvideErrorMetadata, SdkError};
use aws_sdk_apigateway::types::{IntegrationType, Op, PatchOperation};
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorFuture, SharedHttpConnector, http_client_fn,
};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use causeway_server::{Config, Server};

pub mod postgres;
pub mod redis;
use serde_json::Value;

/// Account id of the default server configuration, as it appears in messages and ARNs.
pub const ACCOUNT: &str = "000000000000";
/// Region of the default server configuration.
pub const REGION: &str = "us-east-1";
/// A well-formed NLB ARN that names no load balancer known to the server.
pub const NLB_ARN: &str =
    "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/my-nlb/0123456789abcdef";

/// How long a graceful shutdown may take before the test fails.
const SHUTDOWN_LIMIT: Duration = Duration::from_secs(15);

/// A running Causeway server on a private temporary data folder.
pub struct TestServer {
    dir: tempfile::TempDir,
    server: Option<Server>,
    /// The management API's address; `None` for a node without the control role.
    addr: Option<SocketAddr>,
    http: reqwest::Client,
    /// Changes to the default configuration, applied again on restart.
    tweak: Tweak,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("dir", &self.dir)
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl TestServer {
    /// Starts a server on a fresh data folder and a free loopback port.
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    /// Starts a server whose configuration `tweak` changes (a raised timeout ceiling, a
    /// clock the test moves, say).
    pub async fn start_with(tweak: impl Fn(&mut Config) + Send + Sync + 'static) -> TestServer {
        let tweak: Tweak = std::sync::Arc::new(tweak);
        let dir = tempfile::tempdir().expect("create temp dir");
        let server = boot(&dir, &tweak).await;
        let addr = server.admin_addr();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("build reqwest client");
        TestServer {
            dir,
            server: Some(server),
            addr,
            http,
            tweak,
        }
    }

    /// A node on the PostgreSQL database at `store_url` (a [`postgres::Postgres`] of the
    /// test's own), then `tweak`. Nodes of one database get the same block of NLB addresses,
    /// as their engines all serve its load balancers; the block comes from the database's
    /// port, so tests running side by side keep apart.
    pub async fn start_sharing(
        store_url: &str,
        tweak: impl Fn(&mut Config) + Send + Sync + 'static,
    ) -> TestServer {
        let port: u32 = store_url
            .rsplit(':')
            .next()
            .and_then(|rest| rest.split('/').next())
            .and_then(|port| port.parse().ok())
            .expect("a port in the store URL");
        let block =
            std::net::Ipv4Addr::new(127, 100 + (port % 100) as u8, (port / 100 % 256) as u8, 1);
        let store_url = store_url.to_owned();
        TestServer::start_with(move |config| {
            config.store = causeway_server::StoreLocation::Postgres(store_url.clone());
            config.nlb_addresses = (block, 250);
            tweak(config);
        })
        .await
    }

    /// Gracefully stops the server and starts a new one on the same data folder.
    ///
    /// The port changes: take a new [`TestServer::client`] afterwards.
    pub async fn restart(&mut self) {
        if let Some(server) = self.server.take() {
            tokio::time::timeout(SHUTDOWN_LIMIT, server.shutdown())
                .await
                .expect("graceful shutdown did not finish in time");
        }
        let server = boot(&self.dir, &self.tweak).await;
        self.addr = server.admin_addr();
        self.server = Some(server);
        // Drop pooled connections to the old listener.
        self.http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("build reqwest client");
    }

    /// The server's data folder.
    pub fn data_dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Address of the management API.
    pub fn addr(&self) -> SocketAddr {
        self.addr.expect("the server runs the control role")
    }

    /// Address of the gateway (invoke URLs).
    pub fn gateway_addr(&self) -> SocketAddr {
        self.server
            .as_ref()
            .expect("server is running")
            .gateway_addr()
            .expect("the server runs the gateway role")
    }

    /// The running server (for in-process views: its engine, link listener, ...).
    pub fn server(&self) -> &Server {
        self.server.as_ref().expect("server is running")
    }

    /// An SDK client for the current server, with retries disabled so every error surfaces.
    pub fn client(&self) -> Client {
        self.client_as(aws_credential_types::Credentials::new(
            "test", "test", None, None, "static",
        ))
    }

    /// An SDK client that signs with `credentials`.
    pub fn client_as(&self, credentials: aws_credential_types::Credentials) -> Client {
        let connector = ReqwestConnector(self.http.clone());
        let http_client = http_client_fn(move |_, _| SharedHttpConnector::new(connector.clone()));
        let config = aws_sdk_apigateway::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(format!("http://{}", self.addr()))
            .region(Region::new(REGION))
            .credentials_provider(credentials)
            .retry_config(RetryConfig::disabled())
            .http_client(http_client)
            .build();
        Client::from_conf(config)
    }

    /// An elbv2 SDK client for the current server, on the same connector and with retries
    /// disabled too.
    pub fn elbv2_client(&self) -> aws_sdk_elasticloadbalancingv2::Client {
        self.elbv2_client_as(aws_credential_types::Credentials::new(
            "test", "test", None, None, "static",
        ))
    }

    /// An elbv2 SDK client that signs with `credentials`.
    pub fn elbv2_client_as(
        &self,
        credentials: aws_credential_types::Credentials,
    ) -> aws_sdk_elasticloadbalancingv2::Client {
        use aws_sdk_elasticloadbalancingv2::config as elbv2;
        let connector = ReqwestConnector(self.http.clone());
        let http_client = http_client_fn(move |_, _| SharedHttpConnector::new(connector.clone()));
        let config = elbv2::Builder::new()
            .behavior_version(elbv2::BehaviorVersion::latest())
            .endpoint_url(format!("http://{}", self.addr()))
            .region(elbv2::Region::new(REGION))
            .credentials_provider(credentials)
            .retry_config(elbv2::retry::RetryConfig::disabled())
            .http_client(http_client)
            .build();
        aws_sdk_elasticloadbalancingv2::Client::from_conf(config)
    }

    /// Full URL of a path on the management API.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr(), path)
    }

    /// Sends a raw request. A `Some` body is sent with `Content-Type: application/json`.
    pub async fn raw(&self, method: &str, path: &str, body: Option<&str>) -> Raw {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("http method");
        let mut request = self
            .http
            .request(method, self.url(path))
            .header("accept", "application/json");
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        let response = request.send().await.expect("raw request failed");
        Raw::read(response).await
    }

    /// Raw GET.
    pub async fn get(&self, path: &str) -> Raw {
        self.raw("GET", path, None).await
    }

    /// Raw POST with a JSON body.
    pub async fn post(&self, path: &str, body: &str) -> Raw {
        self.raw("POST", path, Some(body)).await
    }

    /// Raw PATCH with a JSON body.
    pub async fn patch(&self, path: &str, body: &str) -> Raw {
        self.raw("PATCH", path, Some(body)).await
    }

    /// Raw PUT with a JSON body.
    pub async fn put(&self, path: &str, body: &str) -> Raw {
        self.raw("PUT", path, Some(body)).await
    }

    /// Raw DELETE.
    pub async fn delete(&self, path: &str) -> Raw {
        self.raw("DELETE", path, None).await
    }

    /// Stops the server gracefully (also checks that the stop finishes).
    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            tokio::time::timeout(SHUTDOWN_LIMIT, server.shutdown())
                .await
                .expect("graceful shutdown did not finish in time");
        }
    }
}

/// A change to the server configuration.
type Tweak = std::sync::Arc<dyn Fn(&mut Config) + Send + Sync>;

async fn boot(dir: &tempfile::TempDir, tweak: &Tweak) -> Server {
    // Each server gets its own block of loopback addresses for network load balancers, so
    // that tests running side by side never bind the same address and port.
    static NEXT_BLOCK: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT_BLOCK.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let first = std::net::Ipv4Addr::new(127, 30 + (n / 256) as u8, (n % 256) as u8, 1);
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        admin_listen: "127.0.0.1:0".parse().expect("socket addr"),
        gateway_listen: "127.0.0.1:0".parse().expect("socket addr"),
        link_listen: Some("127.0.0.1:0".parse().expect("socket addr")),
        nlb_addresses: (first, 250),
        ..Default::default()
    };
    tweak(&mut config);
    Server::start(config).await.expect("server start")
}

/// A raw HTTP response, fully read.
#[derive(Debug)]
pub struct Raw {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Raw {
    async fn read(response: reqwest::Response) -> Raw {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("read body").to_vec();
        Raw {
            status,
            headers,
            body,
        }
    }

    /// A header value as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("header is text").to_owned())
    }

    /// The body parsed as JSON (panics with the body text when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}); status {} body {:?}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The error code from `x-amzn-ErrorType` (anything after `:` dropped).
    pub fn error_type(&self) -> Option<String> {
        self.header("x-amzn-errortype")
            .map(|v| v.split(':').next().unwrap_or_default().to_owned())
    }

    /// Asserts the status, and for errors the wire shape: `x-amzn-ErrorType` and a JSON
    /// body with a string `message`. Returns the message (empty for successes).
    pub fn assert_status(&self, status: u16) -> String {
        assert_eq!(
            self.status,
            status,
            "unexpected status; body {:?}",
            self.text()
        );
        if status >= 400 {
            self.assert_error_shape()
        } else {
            String::new()
        }
    }

    /// Asserts an error status with the given code in `x-amzn-ErrorType`. Returns the message.
    pub fn assert_error(&self, status: u16, code: &str) -> String {
        let message = self.assert_status(status);
        let error_type = self.error_type().expect("x-amzn-ErrorType header");
        assert_eq!(error_type, code, "error type; message {message:?}");
        message
    }

    /// Asserts the AWS error wire shape and returns the message.
    pub fn assert_error_shape(&self) -> String {
        assert!(
            self.header("x-amzn-errortype").is_some(),
            "error response without x-amzn-ErrorType: status {} body {:?}",
            self.status,
            self.text()
        );
        let body = self.json();
        body.get("message")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("error body without a string \"message\": {body}"))
            .to_owned()
    }
}

/// An HTTP connector for the SDK over reqwest (plain HTTP, no TLS).
#[derive(Debug, Clone)]
struct ReqwestConnector(reqwest::Client);

impl HttpConnector for ReqwestConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = self.0.clone();
        HttpConnectorFuture::new(async move {
            let method = reqwest::Method::from_bytes(request.method().as_bytes())
                .map_err(|e| ConnectorError::user(e.into()))?;
            let mut builder = client.request(method, request.uri());
            for (name, value) in request.headers() {
                if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("host")
                {
                    continue;
                }
                builder = builder.header(name, value);
            }
            let body = request
                .body()
                .bytes()
                .map(<[u8]>::to_vec)
                .unwrap_or_default();
            let response = builder
                .body(body)
                .send()
                .await
                .map_err(|e| ConnectorError::io(e.into()))?;
            let status = StatusCode::try_from(response.status().as_u16())
                .map_err(|e| ConnectorError::other(e.into(), None))?;
            let headers = response.headers().clone();
            let bytes = response
                .bytes()
                .await
                .map_err(|e| ConnectorError::io(e.into()))?;
            let mut out = HttpResponse::new(status, SdkBody::from(bytes));
            for (name, value) in &headers {
                if let Ok(value) = value.to_str() {
                    out.headers_mut()
                        .append(name.as_str().to_owned(), value.to_owned());
                }
            }
            Ok(out)
        })
    }
}

/// What a failed SDK call reported.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

/// The HTTP status AWS uses for an error code.
fn status_of(code: &str) -> u16 {
    match code {
        "BadRequestException" | "ValidationException" | "SerializationException" => 400,
        "UnauthorizedException" => 401,
        "NotFoundException" => 404,
        "ConflictException" => 409,
        "LimitExceededException" | "TooManyRequestsException" => 429,
        "ServiceUnavailableException" => 503,
        // The elbv2 error codes: every caller mistake is a 400 there.
        "LoadBalancerNotFound"
        | "TargetGroupNotFound"
        | "ListenerNotFound"
        | "RuleNotFound"
        | "DuplicateLoadBalancerName"
        | "DuplicateTargetGroupName"
        | "DuplicateListener"
        | "DuplicateTagKeys"
        | "TooManyTags"
        | "TooManyLoadBalancers"
        | "TooManyTargets"
        | "TooManyCertificates"
        | "TooManyListeners"
        | "TooManyTargetGroups"
        | "SSLPolicyNotFound"
        | "CapacityDecreaseRequestLimitExceeded"
        | "ResourceInUse"
        | "InvalidTarget"
        | "ValidationError"
        | "InvalidConfigurationRequest"
        | "OperationNotPermitted"
        | "IncompatibleProtocols"
        | "UnsupportedProtocol"
        | "InvalidLoadBalancerAction"
        | "CertificateNotFound"
        | "TargetGroupAssociationLimit"
        | "InvalidSecurityGroup"
        | "SubnetNotFound"
        | "InvalidSubnet"
        | "InvalidAction"
        | "MissingParameter" => 400,
        other => panic!("no status known for {other}"),
    }
}

/// Turns an SDK result that must be an error into its code, status and message.
pub trait ExpectApiError {
    /// The error; panics if the call succeeded or never got an HTTP answer.
    fn api_error(self) -> ApiError;

    /// Asserts the code (and its HTTP status); returns the message.
    fn expect_code(self, code: &str) -> String
    where
        Self: Sized,
    {
        let error = self.api_error();
        assert_eq!(error.code, code, "error code; got {error:?}");
        assert_eq!(error.status, status_of(code), "HTTP status; got {error:?}");
        error.message
    }

    /// Asserts code and exact message.
    fn expect_error(self, code: &str, message: &str)
    where
        Self: Sized,
    {
        let got = self.expect_code(code);
        assert_eq!(got, message, "{code} message");
    }

    /// Asserts code and that the message contains `part`.
    fn expect_error_containing(self, code: &str, part: &str)
    where
        Self: Sized,
    {
        let got = self.expect_code(code);
        assert!(
            got.contains(part),
            "{code} message {got:?} should contain {part:?}"
        );
    }
}

impl<T: Debug, E: ProvideErrorMetadata + Debug> ExpectApiError
    for Result<T, SdkError<E, HttpResponse>>
{
    fn api_error(self) -> ApiError {
        let error = match self {
            Ok(value) => panic!("expected an error, got {value:?}"),
            Err(error) => error,
        };
        let Some(raw) = error.raw_response() else {
            panic!("no HTTP response: {error:?}");
        };
        let status = raw.status().as_u16();
        assert!(
            status < 500,
            "server error {status} for what is a client mistake: {error:?}"
        );
        let code = error
            .code()
            .unwrap_or_else(|| panic!("error without a code: {error:?}"))
            .to_owned();
        let message = error.message().unwrap_or_default().to_owned();
        ApiError {
            status,
            code,
            message,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Patch operations

/// `{"op":"replace","path":path,"value":value}`.
pub fn replace(path: &str, value: &str) -> PatchOperation {
    PatchOperation::builder()
        .op(Op::Replace)
        .path(path)
        .value(value)
        .build()
}

/// `{"op":"add","path":path,"value":value}`.
pub fn add(path: &str, value: &str) -> PatchOperation {
    PatchOperation::builder()
        .op(Op::Add)
        .path(path)
        .value(value)
        .build()
}

/// `{"op":"add","path":path}` (no value: the path carries it, as in `/binaryMediaTypes/x~1y`).
pub fn add_path(path: &str) -> PatchOperation {
    PatchOperation::builder().op(Op::Add).path(path).build()
}

/// `{"op":"replace","path":path}` (no value: a flag without one is `false`, say).
pub fn replace_path(path: &str) -> PatchOperation {
    PatchOperation::builder().op(Op::Replace).path(path).build()
}

/// `{"op":"remove","path":path}`.
pub fn remove(path: &str) -> PatchOperation {
    PatchOperation::builder().op(Op::Remove).path(path).build()
}

/// `{"op":"remove","path":path,"value":value}` (a member of a list, as in `/providerARNs`).
pub fn remove_value(path: &str, value: &str) -> PatchOperation {
    PatchOperation::builder()
        .op(Op::Remove)
        .path(path)
        .value(value)
        .build()
}

// ---------------------------------------------------------------------------------------------
// Fixtures

/// Creates a REST API and returns `(id, root resource id)`.
pub async fn create_api(client: &Client, name: &str) -> (String, String) {
    let api = client
        .create_rest_api()
        .name(name)
        .send()
        .await
        .expect("CreateRestApi");
    let id = api.id().expect("api id").to_owned();
    let root = api.root_resource_id().expect("rootResourceId").to_owned();
    (id, root)
}

/// Creates a child resource and returns its id.
pub async fn create_resource(client: &Client, api: &str, parent: &str, part: &str) -> String {
    client
        .create_resource()
        .rest_api_id(api)
        .parent_id(parent)
        .path_part(part)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateResource {part}: {e:?}"))
        .id()
        .expect("resource id")
        .to_owned()
}

/// Puts a method with authorization NONE.
pub async fn put_method(client: &Client, api: &str, resource: &str, method: &str) {
    client
        .put_method()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method(method)
        .authorization_type("NONE")
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutMethod {method}: {e:?}"));
}

/// Puts a method (no authorization) that declares these request parameters
/// (`method.request.path.proxy`, ...), as integrations mapping them need.
pub async fn put_method_declaring(
    client: &Client,
    api: &str,
    resource: &str,
    method: &str,
    parameters: &[&str],
) {
    let mut request = client
        .put_method()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method(method)
        .authorization_type("NONE");
    for parameter in parameters {
        request = request.request_parameters(*parameter, true);
    }
    request
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutMethod {method}: {e:?}"));
}

/// Puts a MOCK integration on an existing method.
pub async fn put_mock_integration(client: &Client, api: &str, resource: &str, method: &str) {
    client
        .put_integration()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method(method)
        .r#type(IntegrationType::Mock)
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutIntegration {method}: {e:?}"));
}

/// An API with `/pets` GET backed by a MOCK integration: `(api, root, pets resource)`.
pub async fn deployable_api(client: &Client) -> (String, String, String) {
    let (api, root) = create_api(client, "deployable").await;
    let pets = create_resource(client, &api, &root, "pets").await;
    put_method(client, &api, &pets, "GET").await;
    put_mock_integration(client, &api, &pets, "GET").await;
    (api, root, pets)
}

/// Creates a deployment and returns its id.
pub async fn create_deployment(client: &Client, api: &str) -> String {
    client
        .create_deployment()
        .rest_api_id(api)
        .send()
        .await
        .expect("CreateDeployment")
        .id()
        .expect("deployment id")
        .to_owned()
}

/// Creates a stage on a deployment.
pub async fn create_stage(client: &Client, api: &str, stage: &str, deployment: &str) {
    client
        .create_stage()
        .rest_api_id(api)
        .stage_name(stage)
        .deployment_id(deployment)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateStage {stage}: {e:?}"));
}

/// ARN of a REST API for the tagging operations.
pub fn rest_api_arn(api: &str) -> String {
    format!("arn:aws:apigateway:{REGION}::/restapis/{api}")
}

/// ARN of a stage for the tagging operations.
pub fn stage_arn(api: &str, stage: &str) -> String {
    format!("arn:aws:apigateway:{REGION}::/restapis/{api}/stages/{stage}")
}

/// ARN of a VPC link for the tagging operations.
pub fn vpc_link_arn(link: &str) -> String {
    format!("arn:aws:apigateway:{REGION}::/vpclinks/{link}")
}

/// An API id in the AWS shape: 10 lowercase alphanumeric characters.
pub fn assert_aws_id(id: &str) {
    assert_eq!(id.len(), 10, "id {id:?} should have 10 characters");
    assert!(
        id.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
        "id {id:?} should be lowercase alphanumeric"
    );
}

/// Asserts that all ids are distinct and returns them as a set.
pub fn distinct<'a>(ids: impl IntoIterator<Item = &'a str>) -> HashSet<String> {
    let mut seen = HashSet::new();
    for id in ids {
        assert!(seen.insert(id.to_owned()), "duplicate id {id}");
    }
    seen
}

/// A path segment percent-encoded the way the SDKs encode path labels.
pub fn encode_label(label: &str) -> String {
    let mut out = String::new();
    for byte in label.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Network load balancers for traffic tests.

/// A network load balancer made by [`create_nlb`].
pub struct TestNlb {
    pub arn: String,
    /// The address its listeners are bound to.
    pub address: String,
    pub dns_name: String,
    /// The listener's TCP target group of `ip` targets.
    pub target_group: String,
}

/// A network load balancer named `name`: `(arn, dns name, address its listeners bind)`.
pub async fn network_load_balancer(
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    name: &str,
) -> (String, String, String) {
    let lb = elb
        .create_load_balancer()
        .name(name)
        .r#type(aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum::Network)
        .send()
        .await
        .unwrap();
    let lb = &lb.load_balancers()[0];
    let address = lb.availability_zones()[0].load_balancer_addresses()[0]
        .ip_address()
        .unwrap()
        .to_owned();
    (
        lb.load_balancer_arn().unwrap().to_owned(),
        lb.dns_name().unwrap().to_owned(),
        address,
    )
}

/// A `protocol` listener on `port` of the load balancer `lb_arn`, forwarding to
/// `target_group`: its ARN.
pub async fn forward_listener(
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    lb_arn: &str,
    protocol: aws_sdk_elasticloadbalancingv2::types::ProtocolEnum,
    port: i32,
    target_group: &str,
) -> String {
    use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum};
    elb.create_listener()
        .load_balancer_arn(lb_arn)
        .protocol(protocol)
        .port(port)
        .default_actions(
            Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .target_group_arn(target_group)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .listeners()[0]
        .listener_arn()
        .unwrap()
        .to_owned()
}

/// An NLB, a TCP target group of `ip` targets checked every `check_interval` seconds
/// (timeout 2 s, healthy and unhealthy thresholds 2), and a TCP listener on `port` that
/// forwards to it.
pub async fn create_nlb(
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    name: &str,
    port: i32,
    check_interval: i32,
) -> TestNlb {
    use aws_sdk_elasticloadbalancingv2::types::{ProtocolEnum, TargetTypeEnum};
    let (arn, dns_name, address) = network_load_balancer(elb, name).await;
    let target_group = elb
        .create_target_group()
        .name(name)
        .protocol(ProtocolEnum::Tcp)
        .port(80)
        .vpc_id("vpc-1")
        .target_type(TargetTypeEnum::Ip)
        .health_check_interval_seconds(check_interval)
        .health_check_timeout_seconds(2)
        .healthy_threshold_count(2)
        .unhealthy_threshold_count(2)
        .send()
        .await
        .unwrap()
        .target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_owned();
    forward_listener(elb, &arn, ProtocolEnum::Tcp, port, &target_group).await;
    TestNlb {
        arn,
        address,
        dns_name,
        target_group,
    }
}

/// Calls an operation of a JSON 1.1 service (WAF, ACM) on the management endpoint,
/// `X-Amz-Target: {target}`: the status and the JSON answer, after checking the answer's
/// content type.
pub async fn json11(
    server: &TestServer,
    target: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .post(server.url("/"))
        .header("x-amz-target", target)
        .header("content-type", "application/x-amz-json-1.1")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    assert_eq!(
        response.headers()["content-type"],
        "application/x-amz-json-1.1"
    );
    (status, response.json().await.unwrap())
}

/// A certificate for `names` imported into ACM (signed by a CA made for it); its ARN.
pub async fn imported_certificate(server: &TestServer, names: &[&str]) -> String {
    let (ca, leaf, key) = crate::acm::issued("Test CA", names);
    crate::acm::import(server, &leaf, &key, Some(&ca)).await
}

/// A REGIONAL custom domain name served with the certificate `certificate_arn`.
pub async fn create_regional_domain(client: &Client, name: &str, certificate_arn: &str) {
    use aws_sdk_apigateway::types::{EndpointConfiguration, EndpointType};
    client
        .create_domain_name()
        .domain_name(name)
        .regional_certificate_arn(certificate_arn)
        .endpoint_configuration(
            EndpointConfiguration::builder()
                .types(EndpointType::Regional)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// An `ip` target at `addr`.
pub fn ip_target(addr: SocketAddr) -> aws_sdk_elasticloadbalancingv2::types::TargetDescription {
    aws_sdk_elasticloadbalancingv2::types::TargetDescription::builder()
        .id(addr.ip().to_string())
        .port(i32::from(addr.port()))
        .build()
}

pub async fn set_target_group_attribute(
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    tg: &str,
    key: &str,
    value: &str,
) {
    elb.modify_target_group_attributes()
        .target_group_arn(tg)
        .attributes(
            aws_sdk_elasticloadbalancingv2::types::TargetGroupAttribute::builder()
                .key(key)
                .value(value)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// The source and destination of a PROXY protocol v2 header for TCP over IPv4, after
/// checking its signature, version, command, family and length.
pub fn proxy_v2_ipv4(header: &[u8; 28]) -> (SocketAddr, SocketAddr) {
    assert_eq!(&header[..12], b"\r\n\r\n\0\r\nQUIT\n", "PROXY v2 signature");
    assert_eq!(header[12], 0x21, "version 2, command PROXY");
    assert_eq!(header[13], 0x11, "TCP over IPv4");
    assert_eq!(u16::from_be_bytes([header[14], header[15]]), 12);
    let address = |ip: &[u8], port: &[u8]| {
        SocketAddr::from((
            [ip[0], ip[1], ip[2], ip[3]],
            u16::from_be_bytes([port[0], port[1]]),
        ))
    };
    (
        address(&header[16..20], &header[24..26]),
        address(&header[20..24], &header[26..28]),
    )
}

/// An access key, its secret and, for temporary credentials, a session token.
pub type Keys<'a> = (&'a str, &'a str, Option<&'a str>);

/// Signs a request the way the AWS SDK for Rust does (its own `aws-sigv4` signer), for
/// `service` in the test region at `at`: returns the URL to send (with the signature in its
/// query when `presign`) and the headers to add.
pub fn sigv4(
    (method, url, headers, body): (&str, &str, &[(&str, &str)], &[u8]),
    (key, secret, token): Keys<'_>,
    service: &str,
    at: std::time::SystemTime,
    presign: bool,
) -> (String, Vec<(String, String)>) {
    use aws_sigv4::http_request::{
        SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
    };
    let identity =
        aws_credential_types::Credentials::new(key, secret, token.map(str::to_owned), None, "test")
            .into();
    let mut settings = SigningSettings::default();
    if presign {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(300));
    }
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name(service)
        .time(at)
        .settings(settings)
        .build()
        .expect("signing parameters")
        .into();
    let signable = SignableRequest::new(
        method,
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .expect("signable request");
    let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
    let mut request = http::Request::builder()
        .method(method)
        .uri(url)
        .body(())
        .expect("request to sign");
    instructions.apply_to_request_http1x(&mut request);
    let added = request
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                value.to_str().expect("signed header is text").to_owned(),
            )
        })
        .collect();
    (request.uri().to_string(), added)
}
