//! The invoke path (data plane): routing, MOCK, HTTP_PROXY and HTTP integrations, stage
//! variables, VPC links, gateway responses and limits, driven through real invoke URLs.
//!
//! Set-up goes through `aws-sdk-apigateway` (and `aws-sdk-elasticloadbalancingv2` for the
//! seed story); invokes go through reqwest to the gateway listener. Backends are small
//! HTTP/1.1 servers on raw TCP that this file starts on `127.0.0.1:0`, so that every byte
//! the gateway sends can be checked.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types::{
    ConnectionType, GatewayResponseType, IntegrationType, VpcLinkStatus,
};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::harness::*;

// ---------------------------------------------------------------------------------------------
// Backends: HTTP/1.1 over raw TCP, keep-alive, recording every request byte for byte.

/// One request as a backend received it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    /// The request target as sent (`/path?query`).
    target: String,
    /// Header lines in the order received, names as sent.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn path(&self) -> &str {
        self.target
            .split_once('?')
            .map_or(self.target.as_str(), |(path, _)| path)
    }

    fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, query)| query)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn header_count(&self, name: &str) -> usize {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    }

    /// The echo document: method, path, query, headers (lower-case names) and body.
    fn echo(&self) -> Value {
        let mut headers = serde_json::Map::new();
        for (name, value) in &self.headers {
            let key = name.to_ascii_lowercase();
            let joined = match headers.get(&key).and_then(Value::as_str) {
                Some(previous) => format!("{previous}, {value}"),
                None => value.clone(),
            };
            headers.insert(key, Value::String(joined));
        }
        json!({
            "method": self.method,
            "path": self.path(),
            "query": self.query(),
            "headers": headers,
            "body": String::from_utf8_lossy(&self.body),
        })
    }
}

/// What a backend answers.
#[derive(Debug, Clone)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    delay: Duration,
}

impl Reply {
    fn new(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    fn body(mut self, body: impl Into<Vec<u8>>) -> Reply {
        self.body = body.into();
        self
    }

    fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    /// 200 with the echo document of `seen` as JSON.
    fn echo(seen: &Seen) -> Reply {
        Reply::new(200)
            .header("Content-Type", "application/json")
            .body(seen.echo().to_string())
    }
}

type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

/// A backend listening on `127.0.0.1:{port}`.
struct Backend {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Backend {
    async fn start(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Backend {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let accept = tokio::spawn({
            let seen = seen.clone();
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(serve_backend(stream, handler.clone(), seen.clone()));
                }
            }
        });
        Backend { addr, seen, accept }
    }

    /// A backend answering every request with its echo document.
    async fn echo() -> Backend {
        Backend::start(Reply::echo).await
    }

    /// `http://127.0.0.1:{port}`.
    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn last(&self) -> Seen {
        self.requests()
            .pop()
            .expect("the backend received no request")
    }
}

/// A backend that speaks HTTPS with a self-signed certificate for `names`, recording the
/// server name (SNI) each connection asked for.
struct TlsBackend {
    backend: Backend,
    server_names: Arc<Mutex<Vec<Option<String>>>>,
    /// The certificate each accepted connection's client showed (`None`: none).
    client_certificates: Arc<Mutex<Vec<Option<Vec<u8>>>>>,
    /// Handshakes that failed (a client certificate missing or not trusted, say).
    failed_handshakes: Arc<std::sync::atomic::AtomicUsize>,
}

impl TlsBackend {
    async fn start(
        names: &[&str],
        handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
    ) -> TlsBackend {
        TlsBackend::start_with(names, None, handler).await
    }

    /// A backend that completes a handshake only with a client that shows `trusted` (a
    /// PEM certificate), as a backend pinning the gateway's client certificate does.
    async fn requiring_client_certificate(
        names: &[&str],
        trusted: &str,
        handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
    ) -> TlsBackend {
        use tokio_rustls::rustls;
        use tokio_rustls::rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(rustls::pki_types::CertificateDer::from_pem_slice(trusted.as_bytes()).unwrap())
            .unwrap();
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::new(rustls::crypto::ring::default_provider()),
        )
        .build()
        .unwrap();
        TlsBackend::start_with(names, Some(verifier), handler).await
    }

    async fn start_with(
        names: &[&str],
        client_verifier: Option<Arc<dyn tokio_rustls::rustls::server::danger::ClientCertVerifier>>,
        handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
    ) -> TlsBackend {
        use tokio_rustls::rustls;
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let certified = rcgen::generate_simple_self_signed(names).unwrap();
        let cert = certified.cert.der().clone();
        let key =
            rustls::pki_types::PrivateKeyDer::Pkcs8(certified.key_pair.serialize_der().into());
        let builder = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap();
        let builder = match client_verifier {
            Some(verifier) => builder.with_client_cert_verifier(verifier),
            None => builder.with_no_client_auth(),
        };
        let config = builder.with_single_cert(vec![cert], key).unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let server_names = Arc::new(Mutex::new(Vec::new()));
        let client_certificates = Arc::new(Mutex::new(Vec::new()));
        let failed_handshakes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let handler: Handler = Arc::new(handler);
        let accept = tokio::spawn({
            let seen = seen.clone();
            let server_names = server_names.clone();
            let client_certificates = client_certificates.clone();
            let failed_handshakes = failed_handshakes.clone();
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let acceptor = acceptor.clone();
                    let handler = handler.clone();
                    let seen = seen.clone();
                    let server_names = server_names.clone();
                    let client_certificates = client_certificates.clone();
                    let failed_handshakes = failed_handshakes.clone();
                    tokio::spawn(async move {
                        let Ok(tls) = acceptor.accept(stream).await else {
                            failed_handshakes.fetch_add(1, Ordering::SeqCst);
                            return;
                        };
                        let session = tls.get_ref().1;
                        let name = session.server_name().map(str::to_owned);
                        server_names.lock().unwrap().push(name);
                        let shown = session
                            .peer_certificates()
                            .and_then(|chain| chain.first())
                            .map(|cert| cert.as_ref().to_vec());
                        client_certificates.lock().unwrap().push(shown);
                        serve_backend(tls, handler, seen).await;
                    });
                }
            }
        });
        TlsBackend {
            backend: Backend { addr, seen, accept },
            server_names,
            client_certificates,
            failed_handshakes,
        }
    }

    fn server_names(&self) -> Vec<Option<String>> {
        self.server_names.lock().unwrap().clone()
    }

    fn client_certificates(&self) -> Vec<Option<Vec<u8>>> {
        self.client_certificates.lock().unwrap().clone()
    }

    fn failed_handshakes(&self) -> usize {
        self.failed_handshakes.load(Ordering::SeqCst)
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn serve_backend<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    handler: Handler,
    seen: Arc<Mutex<Vec<Seen>>>,
) {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let head_end = loop {
            if let Some(end) = find(&buf, b"\r\n\r\n") {
                break end;
            }
            match stream.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        buf.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let mut request_line = lines.next().unwrap_or_default().split(' ');
        let method = request_line.next().unwrap_or_default().to_owned();
        let target = request_line.next().unwrap_or_default().to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
            .collect();
        let value = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let chunked = value("transfer-encoding").is_some_and(|v| v.contains("chunked"));
        let body = if chunked {
            match read_chunked(&mut stream, &mut buf).await {
                Some(body) => body,
                None => return,
            }
        } else {
            let length = value("content-length")
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if !fill(&mut stream, &mut buf, length).await {
                return;
            }
            buf.drain(..length).collect()
        };
        let close = value("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let request = Seen {
            method,
            target,
            headers,
            body,
        };
        seen.lock().unwrap().push(request.clone());
        let reply = handler(&request);
        if !reply.delay.is_zero() {
            tokio::time::sleep(reply.delay).await;
        }
        let mut out =
            format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status)).into_bytes();
        for (name, value) in &reply.headers {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        if !reply
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        {
            out.extend_from_slice(format!("Content-Length: {}\r\n", reply.body.len()).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        if request.method != "HEAD" {
            out.extend_from_slice(&reply.body);
        }
        if stream.write_all(&out).await.is_err() || close {
            return;
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        418 => "I'm a teapot",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads until `buf` holds at least `len` bytes; false on EOF.
async fn fill<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut Vec<u8>, len: usize) -> bool {
    while buf.len() < len {
        match stream.read_buf(buf).await {
            Ok(0) | Err(_) => return false,
            Ok(_) => {}
        }
    }
    true
}

/// Takes one `\r\n`-terminated line off `buf`.
async fn read_line<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(end) = find(buf, b"\r\n") {
            let line = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 2);
            return Some(line);
        }
        match stream.read_buf(buf).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

async fn read_chunked<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line = read_line(stream, buf).await?;
        let size = usize::from_str_radix(line.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            // Trailers, up to the empty line.
            while !read_line(stream, buf).await?.is_empty() {}
            return Some(body);
        }
        if !fill(stream, buf, size + 2).await {
            return None;
        }
        body.extend(buf.drain(..size));
        buf.drain(..2);
    }
}

/// A loopback port nothing listens on.
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// Bytes that cover every value, then pseudo-random ones.
fn random_bytes(len: usize) -> Vec<u8> {
    let mut x = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    (0..len)
        .map(|i| {
            if i < 256 {
                return i as u8;
            }
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Decodes `%XX` escapes (as UTF-8, lossy).
fn percent_decode(text: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(high * 16 + low);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------------------------
// Invoking

/// Invokes one API through the gateway, by Host (`{api}.execute-api.localhost:{port}`) or by
/// the `/restapis/{api}/{stage}/_user_request_/` path.
#[derive(Clone)]
struct Invoke {
    gateway: SocketAddr,
    api: String,
    host: String,
    http: reqwest::Client,
}

impl Invoke {
    fn new(server: &TestServer, api: &str) -> Invoke {
        let gateway = server.gateway_addr();
        let host = format!("{api}.execute-api.localhost");
        let http = reqwest::Client::builder()
            .no_proxy()
            .resolve(&host, gateway)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Invoke {
            gateway,
            api: api.to_owned(),
            host,
            http,
        }
    }

    /// Host-based invoke URL; `path` starts with the stage (`/prod/pets`).
    fn url(&self, path: &str) -> String {
        format!("http://{}:{}{}", self.host, self.gateway.port(), path)
    }

    /// Path-based invoke URL for `stage` and `path` (`/pets`).
    fn path_url(&self, stage: &str, path: &str) -> String {
        format!(
            "http://{}/restapis/{}/{stage}/_user_request_{path}",
            self.gateway, self.api
        )
    }

    fn request(&self, method: &str, path: &str) -> reqwest::RequestBuilder {
        self.request_url(method, &self.url(path))
    }

    fn request_url(&self, method: &str, url: &str) -> reqwest::RequestBuilder {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        self.http.request(method, url)
    }

    /// Sends and reads the whole answer; checks the ids API Gateway puts on every answer.
    async fn send(&self, request: reqwest::RequestBuilder) -> Raw {
        let response = request.send().await.expect("invoke request failed");
        let raw = Raw {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.bytes().await.expect("read invoke body").to_vec(),
        };
        assert_ids(&raw);
        raw
    }

    async fn call(&self, method: &str, path: &str) -> Raw {
        self.send(self.request(method, path)).await
    }

    async fn get(&self, path: &str) -> Raw {
        self.call("GET", path).await
    }

    /// How long a poll waits for a change to reach a gateway before it fails. Success
    /// returns at once, so it is generous: a change made through another node comes by the
    /// database's notification (or its 2 s poll, when one is lost) and a full reload, on a
    /// loaded machine in a debug build.
    const PATIENCE: Duration = Duration::from_secs(30);

    /// Calls until `done` holds, and returns that answer: a deployment reaches the gateway a
    /// moment after CreateDeployment answers. Fails with the last answer after
    /// [`Invoke::PATIENCE`].
    async fn until(&self, method: &str, path: &str, done: impl Fn(&Raw) -> bool) -> Raw {
        let deadline = Instant::now() + Self::PATIENCE;
        loop {
            let raw = self.call(method, path).await;
            if done(&raw) {
                return raw;
            }
            if Instant::now() >= deadline {
                panic!(
                    "{method} {path}: not the awaited answer after {:?}; the last was {} {:?}: {}",
                    Self::PATIENCE,
                    raw.status,
                    raw.error_type(),
                    raw.text()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// GETs `path` until the stage serves it (no longer `Missing Authentication Token` or
    /// the unknown-API `Forbidden`), and returns that first served answer, whatever its
    /// status.
    async fn ready(&self, path: &str) -> Raw {
        self.until("GET", path, |raw| {
            !matches!(
                raw.error_type().as_deref(),
                Some("MissingAuthenticationTokenException" | "ForbiddenException")
            )
        })
        .await
    }
}

/// `x-amzn-RequestId` and `x-amz-apigw-id` are on every answer.
fn assert_ids(raw: &Raw) {
    let request_id = raw.header("x-amzn-requestid");
    assert!(
        request_id.as_deref().is_some_and(|id| !id.is_empty()),
        "x-amzn-RequestId missing: status {} headers {:?}",
        raw.status,
        raw.headers
    );
    let apigw_id = raw.header("x-amz-apigw-id");
    assert!(
        apigw_id.as_deref().is_some_and(|id| !id.is_empty()),
        "x-amz-apigw-id missing: status {} headers {:?}",
        raw.status,
        raw.headers
    );
}

/// Asserts a gateway error answer: status, `x-amzn-ErrorType`, exact body, JSON type.
fn assert_gateway_error(raw: &Raw, status: u16, error_type: &str, body: &str) {
    assert_eq!(
        (raw.status, raw.text().as_str()),
        (status, body),
        "gateway error answer"
    );
    assert_eq!(
        raw.error_type().as_deref(),
        Some(error_type),
        "x-amzn-ErrorType"
    );
    assert_eq!(
        raw.header("content-type").as_deref(),
        Some("application/json")
    );
}

const MISSING_TOKEN: &str = r#"{"message":"Missing Authentication Token"}"#;
const FORBIDDEN: &str = r#"{"message":"Forbidden"}"#;
const INTERNAL_ERROR: &str = r#"{"message": "Internal server error"}"#;
const TIMED_OUT: &str = r#"{"message": "Endpoint request timed out"}"#;

fn assert_missing_token(raw: &Raw) {
    assert_gateway_error(
        raw,
        403,
        "MissingAuthenticationTokenException",
        MISSING_TOKEN,
    );
}

fn assert_internal_error(raw: &Raw) {
    assert_gateway_error(raw, 500, "InternalServerErrorException", INTERNAL_ERROR);
}

// ---------------------------------------------------------------------------------------------
// Set-up helpers

/// Creates a deployment onto `stage` (creating or moving the stage).
async fn deploy(client: &Client, api: &str, stage: &str) -> String {
    deploy_with(client, api, stage, &[]).await
}

/// Creates a deployment onto `stage` with stage variables.
async fn deploy_with(
    client: &Client,
    api: &str,
    stage: &str,
    variables: &[(&str, &str)],
) -> String {
    let mut request = client
        .create_deployment()
        .rest_api_id(api)
        .stage_name(stage);
    for (name, value) in variables {
        request = request.variables(*name, *value);
    }
    request
        .send()
        .await
        .unwrap()
        .id()
        .expect("deployment id")
        .to_owned()
}

/// Applies `operations` to stage `prod`.
async fn update_stage(
    client: &Client,
    api: &str,
    operations: Vec<aws_sdk_apigateway::types::PatchOperation>,
) {
    client
        .update_stage()
        .rest_api_id(api)
        .stage_name("prod")
        .set_patch_operations(Some(operations))
        .send()
        .await
        .unwrap();
}

async fn method_response(client: &Client, api: &str, resource: &str, method: &str, status: &str) {
    client
        .put_method_response()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method(method)
        .status_code(status)
        .send()
        .await
        .unwrap();
}

/// `method` on `resource` as MOCK answering 200 `{"route":"<tag>"}`.
async fn mock_route(client: &Client, api: &str, resource: &str, method: &str, tag: &str) {
    put_method(client, api, resource, method).await;
    method_response(client, api, resource, method, "200").await;
    client
        .put_integration()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method(method)
        .r#type(IntegrationType::Mock)
        .request_templates("application/json", r#"{"statusCode": 200}"#)
        .send()
        .await
        .unwrap();
    client
        .put_integration_response()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method(method)
        .status_code("200")
        .response_templates("application/json", format!(r#"{{"route":"{tag}"}}"#))
        .send()
        .await
        .unwrap();
}

/// `method` on `resource` as HTTP_PROXY (integration method ANY) to `uri`, with
/// `integration.request.path.proxy` mapped when the resource is greedy.
async fn proxy_route(
    client: &Client,
    api: &str,
    resource: &str,
    method: &str,
    uri: &str,
    params: &[&str],
) {
    let mut put = client
        .put_method()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method(method)
        .authorization_type("NONE");
    for param in params {
        put = put.request_parameters(format!("method.request.path.{param}"), true);
    }
    put.send().await.unwrap();
    let mut integration = client
        .put_integration()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method(method)
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("ANY")
        .uri(uri);
    for param in params {
        integration = integration.request_parameters(
            format!("integration.request.path.{param}"),
            format!("method.request.path.{param}"),
        );
    }
    integration.send().await.unwrap();
}

/// An API with `/{proxy+}` ANY → HTTP_PROXY `{base}/{proxy}`, deployed to `prod`:
/// `(api, proxy resource)`.
async fn proxy_api(client: &Client, base: &str) -> (String, String) {
    let (api, root) = create_api(client, "proxy").await;
    let proxy = create_resource(client, &api, &root, "{proxy+}").await;
    proxy_route(
        client,
        &api,
        &proxy,
        "ANY",
        &format!("{base}/{{proxy}}"),
        &["proxy"],
    )
    .await;
    deploy(client, &api, "prod").await;
    (api, proxy)
}

// ---------------------------------------------------------------------------------------------
// 1. Routing

/// The routing fixture, every method a MOCK answering `{"route":"<tag>"}`:
///
/// ```text
/// /                      GET  root
/// /pets                  GET  pets
/// /pets/mine             GET  mine
/// /pets/{id}             GET  pet      ANY pet-any
/// /pets/{id}/toys        GET  toys
/// /files                 (no method)
/// /files/{path+}         GET  files
/// /{proxy+}              ANY  greedy
/// ```
async fn routing_api(client: &Client) -> String {
    let (api, root) = create_api(client, "routing").await;
    mock_route(client, &api, &root, "GET", "root").await;
    let pets = create_resource(client, &api, &root, "pets").await;
    mock_route(client, &api, &pets, "GET", "pets").await;
    let mine = create_resource(client, &api, &pets, "mine").await;
    mock_route(client, &api, &mine, "GET", "mine").await;
    let pet = create_resource(client, &api, &pets, "{id}").await;
    mock_route(client, &api, &pet, "GET", "pet").await;
    mock_route(client, &api, &pet, "ANY", "pet-any").await;
    let toys = create_resource(client, &api, &pet, "toys").await;
    mock_route(client, &api, &toys, "GET", "toys").await;
    let files = create_resource(client, &api, &root, "files").await;
    let file = create_resource(client, &api, &files, "{path+}").await;
    mock_route(client, &api, &file, "GET", "files").await;
    let greedy = create_resource(client, &api, &root, "{proxy+}").await;
    mock_route(client, &api, &greedy, "ANY", "greedy").await;
    deploy(client, &api, "prod").await;
    api
}

fn route_of(raw: &Raw) -> String {
    assert_eq!(raw.status, 200, "body {:?}", raw.text());
    raw.json()["route"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn routing_static_beats_param_beats_greedy() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = routing_api(&client).await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/pets").await;
    for (method, path, route) in [
        ("GET", "/prod", "root"),
        ("GET", "/prod/pets", "pets"),
        ("GET", "/prod/pets/mine", "mine"),
        ("GET", "/prod/pets/7", "pet"),
        ("GET", "/prod/pets/7/toys", "toys"),
        ("GET", "/prod/zoo", "greedy"),
        ("GET", "/prod/zoo/a/b/c", "greedy"),
        ("PATCH", "/prod/pet", "greedy"),
        ("GET", "/prod/files/a", "files"),
        ("GET", "/prod/files/a/b/c.txt", "files"),
    ] {
        let raw = invoke.call(method, path).await;
        assert_eq!(route_of(&raw), route, "{method} {path}");
        assert_eq!(
            raw.header("content-type").as_deref(),
            Some("application/json")
        );
    }
}

#[tokio::test]
async fn routing_never_backtracks() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = routing_api(&client).await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/pets").await;
    for path in [
        // `mine` matched statically: `/pets/{id}/toys` is not tried.
        "/prod/pets/mine/toys",
        // `/pets/{id}` took `7`; the root `{proxy+}` is not tried for the rest.
        "/prod/pets/7/8",
        // `/files` exists without a method; the root `{proxy+}` does not take it.
        "/prod/files",
        // `{path+}` needs at least one segment.
        "/prod/files/",
    ] {
        let raw = invoke.get(path).await;
        assert_missing_token(&raw);
    }
}

#[tokio::test]
async fn routing_method_exact_then_any() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = routing_api(&client).await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/pets").await;
    assert_eq!(route_of(&invoke.get("/prod/pets/7").await), "pet");
    for method in ["DELETE", "POST", "PUT", "PATCH", "OPTIONS"] {
        assert_eq!(
            route_of(&invoke.call(method, "/prod/pets/7").await),
            "pet-any",
            "{method} falls back to ANY"
        );
    }
    // HEAD is part of ANY.
    let head = invoke.call("HEAD", "/prod/pets/7").await;
    assert_eq!(head.status, 200);
    // A resource without the method (and without ANY) is a missing token, even with a
    // greedy sibling at the root.
    assert_missing_token(&invoke.call("POST", "/prod/pets").await);
    assert_missing_token(&invoke.call("DELETE", "/prod/pets/mine").await);
    // HEAD is not served by GET.
    let head = invoke.call("HEAD", "/prod/pets").await;
    assert_eq!(head.status, 403);
    assert_eq!(
        head.error_type().as_deref(),
        Some("MissingAuthenticationTokenException")
    );
}

#[tokio::test]
async fn routing_ignores_trailing_slash() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = routing_api(&client).await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/pets").await;
    for (path, route) in [
        ("/prod/", "root"),
        ("/prod/pets/", "pets"),
        ("/prod/pets/7/", "pet"),
        ("/prod/pets/7/toys/", "toys"),
        ("/prod/zoo/a/", "greedy"),
    ] {
        assert_eq!(route_of(&invoke.get(path).await), route, "GET {path}");
    }
}

#[tokio::test]
async fn routing_path_form_url() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = routing_api(&client).await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/pets").await;
    for (path, route) in [
        ("", "root"),
        ("/", "root"),
        ("/pets", "pets"),
        ("/pets/7", "pet"),
        ("/pets/mine", "mine"),
        ("/x/y", "greedy"),
    ] {
        let url = invoke.path_url("prod", path);
        let raw = invoke.send(invoke.request_url("GET", &url)).await;
        assert_eq!(route_of(&raw), route, "GET {url}");
    }
    let url = invoke.path_url("prod", "/pets/mine/toys");
    assert_missing_token(&invoke.send(invoke.request_url("GET", &url)).await);
    let url = invoke.path_url("staging", "/pets");
    assert_missing_token(&invoke.send(invoke.request_url("GET", &url)).await);
    let url = format!(
        "http://{}/restapis/nosuchapi0/prod/_user_request_/pets",
        server.gateway_addr()
    );
    let raw = invoke.send(invoke.request_url("GET", &url)).await;
    assert_eq!((raw.status, raw.text().as_str()), (403, FORBIDDEN));
}

#[tokio::test]
async fn routing_unknown_stage_is_missing_token() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = routing_api(&client).await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/pets").await;
    assert_missing_token(&invoke.get("/staging/pets").await);
    // Stage names are case-sensitive.
    assert_missing_token(&invoke.get("/Prod/pets").await);
    // No stage at all.
    assert_missing_token(&invoke.get("/").await);
}

#[tokio::test]
async fn routing_unknown_api_is_forbidden() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = routing_api(&client).await;
    Invoke::new(&server, &api).ready("/prod/pets").await;
    let other = Invoke::new(&server, "nosuchapi0");
    let raw = other.get("/prod/pets").await;
    assert_gateway_error(&raw, 403, "ForbiddenException", FORBIDDEN);
}

#[tokio::test]
async fn routing_api_without_stage_is_not_served() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "undeployed").await;
    mock_route(&client, &api, &root, "GET", "root").await;
    let invoke = Invoke::new(&server, &api);
    // An API with no stage is not served at all.
    let raw = invoke.get("/prod").await;
    assert_eq!(raw.status, 403, "body {:?}", raw.text());
    deploy(&client, &api, "prod").await;
    assert_eq!(route_of(&invoke.ready("/prod").await), "root");
}

#[tokio::test]
async fn routing_path_params_reach_the_backend_decoded_once() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::echo().await;
    let (api, root) = create_api(&client, "params").await;
    let items = create_resource(&client, &api, &root, "items").await;
    let item = create_resource(&client, &api, &items, "{id}").await;
    client
        .put_method()
        .rest_api_id(&api)
        .resource_id(&item)
        .http_method("GET")
        .authorization_type("NONE")
        .request_parameters("method.request.path.id", true)
        .send()
        .await
        .unwrap();
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&item)
        .http_method("GET")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("GET")
        .uri(format!("{}/items/{{id}}", backend.base()))
        .request_parameters("integration.request.path.id", "method.request.path.id")
        .request_parameters("integration.request.header.x-id", "method.request.path.id")
        .send()
        .await
        .unwrap();
    let greedy = create_resource(&client, &api, &root, "{proxy+}").await;
    proxy_route(
        &client,
        &api,
        &greedy,
        "ANY",
        &format!("{}/g/{{proxy}}", backend.base()),
        &["proxy"],
    )
    .await;
    deploy(&client, &api, "prod").await;
    let invoke = Invoke::new(&server, &api);

    let raw = invoke.ready("/prod/items/a%20b%2Fc").await;
    assert_eq!(raw.status, 200, "body {:?}", raw.text());
    let seen = backend.last();
    // One segment, which decodes to the value the client meant.
    let segments: Vec<&str> = seen.path().split('/').collect();
    assert_eq!(segments.len(), 3, "backend path {:?}", seen.path());
    assert_eq!(segments[1], "items");
    assert_eq!(percent_decode(segments[2]), "a b/c");
    // A mapped path parameter is the decoded value.
    assert_eq!(seen.header("x-id"), Some("a b/c"));

    let raw = invoke.get("/prod/caf%C3%A9/x%20y?q=a%20b&r=%26").await;
    assert_eq!(raw.status, 200, "body {:?}", raw.text());
    let seen = backend.last();
    let segments: Vec<String> = seen.path().split('/').map(percent_decode).collect();
    assert_eq!(
        segments,
        ["", "g", "café", "x y"],
        "backend path {:?}",
        seen.path()
    );
    assert_eq!(seen.query(), Some("q=a%20b&r=%26"));
}

// ---------------------------------------------------------------------------------------------
// 2. MOCK

/// `/mock` GET: the request template picks the status; 200 (default) and 404
/// (selectionPattern `404`) answer with templates and static headers.
async fn mock_api(client: &Client, request_template: &str) -> String {
    let (api, root) = create_api(client, "mock").await;
    let mock = create_resource(client, &api, &root, "mock").await;
    put_method(client, &api, &mock, "GET").await;
    for status in ["200", "404"] {
        client
            .put_method_response()
            .rest_api_id(&api)
            .resource_id(&mock)
            .http_method("GET")
            .status_code(status)
            .response_parameters("method.response.header.X-Static", false)
            .send()
            .await
            .unwrap();
    }
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&mock)
        .http_method("GET")
        .r#type(IntegrationType::Mock)
        .request_templates("application/json", request_template)
        .send()
        .await
        .unwrap();
    client
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&mock)
        .http_method("GET")
        .status_code("200")
        .response_parameters("method.response.header.X-Static", "'all good'")
        .response_templates("application/json", r#"{"ok": true, "items": [1, 2]}"#)
        .send()
        .await
        .unwrap();
    client
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&mock)
        .http_method("GET")
        .status_code("404")
        .selection_pattern("404")
        .response_parameters("method.response.header.X-Static", "'not here'")
        .response_templates("application/json", r#"{"error": "no such thing"}"#)
        .send()
        .await
        .unwrap();
    deploy(client, &api, "prod").await;
    api
}

#[tokio::test]
async fn mock_default_response_with_template_and_static_header() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = mock_api(&client, r#"{"statusCode": 200}"#).await;
    let invoke = Invoke::new(&server, &api);
    let raw = invoke.ready("/prod/mock").await;
    assert_eq!(raw.status, 200, "body {:?}", raw.text());
    // The template is used as it is, byte for byte.
    assert_eq!(raw.text(), r#"{"ok": true, "items": [1, 2]}"#);
    assert_eq!(raw.header("x-static").as_deref(), Some("all good"));
    assert_eq!(
        raw.header("content-type").as_deref(),
        Some("application/json")
    );
    assert!(raw.header("x-amzn-trace-id").is_none());
}

#[tokio::test]
async fn mock_status_code_selects_the_integration_response() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = mock_api(&client, r#"{"statusCode": 404}"#).await;
    let invoke = Invoke::new(&server, &api);
    let raw = invoke.ready("/prod/mock").await;
    assert_eq!(raw.status, 404, "body {:?}", raw.text());
    assert_eq!(raw.text(), r#"{"error": "no such thing"}"#);
    assert_eq!(raw.header("x-static").as_deref(), Some("not here"));
    assert!(
        raw.header("x-amzn-errortype").is_none(),
        "a mocked 404 is not a gateway error"
    );
}

#[tokio::test]
async fn mock_unmatched_status_without_default_is_internal_error() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "mock").await;
    put_method(&client, &api, &root, "GET").await;
    method_response(&client, &api, &root, "GET", "404").await;
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .r#type(IntegrationType::Mock)
        .request_templates("application/json", r#"{"statusCode": 200}"#)
        .send()
        .await
        .unwrap();
    client
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .status_code("404")
        .selection_pattern("404")
        .send()
        .await
        .unwrap();
    deploy(&client, &api, "prod").await;
    let raw = Invoke::new(&server, &api).ready("/prod").await;
    assert_internal_error(&raw);
}

// ---------------------------------------------------------------------------------------------
// 3. HTTP_PROXY over the internet

#[tokio::test]
async fn proxy_forwards_method_path_query_and_body() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::echo().await;
    let (api, _) = proxy_api(&client, &backend.base()).await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/warmup").await;

    let body = r#"{"name": "Rex", "kind": "dog"}"#;
    let raw = invoke
        .send(
            invoke
                .request("POST", "/prod/pets/7/toys?x=1&y=two&x=3")
                .header("content-type", "application/json")
                .body(body),
        )
        .await;
    assert_eq!(raw.status, 200, "body {:?}", raw.text());
    let seen = backend.last();
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.path(), "/pets/7/toys");
    assert_eq!(seen.query(), Some("x=1&y=two&x=3"));
    assert_eq!(seen.body, body.as_bytes());
    assert_eq!(seen.header("content-type"), Some("application/json"));
    // The echo document comes back unchanged.
    let echoed = raw.json();
    assert_eq!(echoed["method"], "POST");
    assert_eq!(echoed["path"], "/pets/7/toys");
    assert_eq!(echoed["body"], body);
    assert_eq!(
        raw.header("content-type").as_deref(),
        Some("application/json")
    );

    for method in ["PUT", "PATCH", "DELETE", "OPTIONS", "GET"] {
        let raw = invoke.call(method, "/prod/m").await;
        assert_eq!(raw.status, 200, "{method}: body {:?}", raw.text());
        let seen = backend.last();
        assert_eq!(seen.method, method);
        assert_eq!(seen.path(), "/m");
        assert_eq!(seen.query(), None);
    }
}

#[tokio::test]
async fn proxy_forwards_binary_body_byte_for_byte() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::start(|seen| {
        Reply::new(200)
            .header("Content-Type", "application/octet-stream")
            .body(seen.body.clone())
    })
    .await;
    let (api, _) = proxy_api(&client, &backend.base()).await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/warmup").await;
    let payload = random_bytes(256 * 1024);
    let raw = invoke
        .send(
            invoke
                .request("PUT", "/prod/blob")
                .header("content-type", "application/octet-stream")
                .body(payload.clone()),
        )
        .await;
    assert_eq!(raw.status, 200);
    let seen = backend.last();
    assert_eq!(seen.body.len(), payload.len());
    assert!(seen.body == payload, "the backend got other bytes");
    assert_eq!(
        seen.header("content-length"),
        Some(payload.len().to_string().as_str())
    );
    assert_eq!(raw.body.len(), payload.len());
    assert!(raw.body == payload, "the client got other bytes back");
    assert_eq!(
        raw.header("content-type").as_deref(),
        Some("application/octet-stream")
    );
}

#[tokio::test]
async fn proxy_request_header_rules() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::echo().await;
    let (api, _) = proxy_api(&client, &backend.base()).await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/warmup").await;
    let raw = invoke
        .send(
            invoke
                .request("POST", "/prod/headers")
                .header("X-Custom", "kept")
                .header("Authorization", "Bearer token-1")
                .header("User-Agent", "e2e-client/1.0")
                .header("Accept", "text/plain")
                .header("Referer", "http://example.com/")
                .header("X-Forwarded-For", "203.0.113.9")
                .header("Via", "1.1 some-proxy")
                .header("Max-Forwards", "5")
                .header("Content-MD5", "Q2hlY2sgSW50ZWdyaXR5IQ==")
                .header("Proxy-Authenticate", "Basic")
                .header("WWW-Authenticate", "Basic")
                .header("Trailer", "X-Checksum")
                .header("Keep-Alive", "timeout=5")
                .header("Content-Encoding", "identity")
                .header("Server", "client-server")
                .body("hello"),
        )
        .await;
    assert_eq!(raw.status, 200, "body {:?}", raw.text());
    let seen = backend.last();
    // Host is the uri's host.
    assert_eq!(seen.header("host"), Some(backend.addr.to_string().as_str()));
    assert_eq!(seen.header_count("host"), 1);
    // Client headers pass.
    assert_eq!(seen.header("x-custom"), Some("kept"));
    assert_eq!(seen.header("authorization"), Some("Bearer token-1"));
    assert_eq!(seen.header("user-agent"), Some("e2e-client/1.0"));
    assert_eq!(seen.header("accept"), Some("text/plain"));
    assert_eq!(seen.header("referer"), Some("http://example.com/"));
    // Hop-by-hop and recomputed headers do not.
    for dropped in [
        "via",
        "max-forwards",
        "content-md5",
        "proxy-authenticate",
        "www-authenticate",
        "trailer",
        "keep-alive",
        "content-encoding",
        "server",
    ] {
        assert!(
            seen.header(dropped).is_none(),
            "{dropped} reached the backend: {:?}",
            seen.headers
        );
    }
    assert_eq!(seen.header("content-length"), Some("5"));
    assert_eq!(seen.header_count("content-length"), 1);
    assert_eq!(seen.body, b"hello");
    // Added by the gateway.
    assert_eq!(seen.header("x-amzn-apigateway-api-id"), Some(api.as_str()));
    assert_eq!(
        seen.header("x-forwarded-for"),
        Some("203.0.113.9, 127.0.0.1")
    );

    // Without a client X-Forwarded-For, the client address alone.
    invoke.get("/prod/headers").await;
    assert_eq!(backend.last().header("x-forwarded-for"), Some("127.0.0.1"));
}

#[tokio::test]
async fn proxy_drops_sigv4_authorization() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::echo().await;
    let (api, _) = proxy_api(&client, &backend.base()).await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/warmup").await;
    let raw = invoke
        .send(invoke.request("GET", "/prod/signed").header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=abc",
        ))
        .await;
    assert_eq!(raw.status, 200);
    assert!(backend.last().header("authorization").is_none());
}

#[tokio::test]
async fn proxy_response_header_rules() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::start(|_| {
        Reply::new(200)
            .header("Content-Type", "text/plain; charset=utf-8")
            .header("Server", "echo/1.0")
            .header("Date", "Tue, 01 Jan 2019 00:00:00 GMT")
            .header("x-amzn-RequestId", "backend-request-id")
            .header("Connection", "keep-alive")
            .header("X-Backend", "yes")
            .header("Set-Cookie", "a=1")
            .body("plain text")
    })
    .await;
    let (api, _) = proxy_api(&client, &backend.base()).await;
    let invoke = Invoke::new(&server, &api);
    let raw = invoke.ready("/prod/anything").await;
    assert_eq!(raw.status, 200, "body {:?}", raw.text());
    assert_eq!(raw.text(), "plain text");
    assert_eq!(
        raw.header("content-type").as_deref(),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(raw.header("x-backend").as_deref(), Some("yes"));
    assert_eq!(raw.header("set-cookie").as_deref(), Some("a=1"));
    // Remapped backend headers.
    assert_eq!(
        raw.header("x-amzn-remapped-server").as_deref(),
        Some("echo/1.0")
    );
    assert_eq!(
        raw.header("x-amzn-remapped-date").as_deref(),
        Some("Tue, 01 Jan 2019 00:00:00 GMT")
    );
    assert_eq!(
        raw.header("x-amzn-remapped-x-amzn-requestid").as_deref(),
        Some("backend-request-id")
    );
    assert_eq!(
        raw.header("x-amzn-remapped-content-length").as_deref(),
        Some("10")
    );
    assert_eq!(
        raw.header("x-amzn-remapped-connection").as_deref(),
        Some("keep-alive")
    );
    // The gateway's own values under the original names.
    assert_ne!(raw.header("server").as_deref(), Some("echo/1.0"));
    assert_ne!(
        raw.header("date").as_deref(),
        Some("Tue, 01 Jan 2019 00:00:00 GMT")
    );
    let request_id = raw.header("x-amzn-requestid").unwrap();
    assert_ne!(request_id, "backend-request-id");
    assert_eq!(raw.headers.get_all("x-amzn-requestid").iter().count(), 1);
    // Each answer has its own request id.
    let again = invoke.get("/prod/anything").await;
    assert_ne!(again.header("x-amzn-requestid").unwrap(), request_id);
}

#[tokio::test]
async fn proxy_sends_no_body_for_get_head_options() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::echo().await;
    let (api, _) = proxy_api(&client, &backend.base()).await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/warmup").await;
    for method in ["GET", "HEAD", "OPTIONS"] {
        let raw = invoke
            .send(invoke.request(method, "/prod/bodiless").body("ignored"))
            .await;
        assert_eq!(raw.status, 200, "{method}");
        let seen = backend.last();
        assert_eq!(seen.method, method);
        assert!(
            seen.body.is_empty(),
            "{method} sent a body: {:?}",
            seen.body
        );
    }
}

#[tokio::test]
async fn proxy_adds_trace_id_to_backend_request() {
    // Digest §4.3: HTTP_PROXY adds `X-Amzn-Apigateway-Api-Id` and `X-Amzn-Trace-Id: Root=…`
    // to the backend request [LS]; the answer to the client carries no X-Amzn-Trace-Id
    // unless the backend sent one.
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::echo().await;
    let (api, _) = proxy_api(&client, &backend.base()).await;
    let raw = Invoke::new(&server, &api).ready("/prod/traced").await;
    assert_eq!(raw.status, 200);
    assert!(
        raw.header("x-amzn-trace-id").is_none(),
        "HTTP_PROXY answers carry no trace id of the gateway's"
    );
    let seen = backend.last();
    assert_eq!(seen.header("x-amzn-apigateway-api-id"), Some(api.as_str()));
    let trace = seen.header("x-amzn-trace-id");
    assert!(
        trace.is_some_and(|t| t.starts_with("Root=")),
        "backend X-Amzn-Trace-Id: {trace:?}; headers {:?}",
        seen.headers
    );
}

#[tokio::test]
async fn proxy_mapped_headers_override_client_headers() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::echo().await;
    let (api, root) = create_api(&client, "mapped-proxy").await;
    put_method(&client, &api, &root, "GET").await;
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("GET")
        .uri(format!("{}/mapped", backend.base()))
        .request_parameters("integration.request.header.x-over", "'mapped'")
        .request_parameters("integration.request.header.Via", "'mapped-via'")
        .send()
        .await
        .unwrap();
    deploy(&client, &api, "prod").await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod").await;
    let raw = invoke
        .send(
            invoke
                .request("GET", "/prod")
                .header("x-over", "from client")
                .header("Via", "1.1 client-proxy")
                .header("x-other", "kept"),
        )
        .await;
    assert_eq!(raw.status, 200);
    let seen = backend.last();
    assert_eq!(seen.header("x-over"), Some("mapped"));
    assert_eq!(seen.header_count("x-over"), 1);
    // Mapped, so sent even though Via is otherwise dropped.
    assert_eq!(seen.header("via"), Some("mapped-via"));
    assert_eq!(seen.header("x-other"), Some("kept"));
}

#[tokio::test]
async fn proxy_query_joins_uri_mapped_and_client_values() {
    // Digest §4.3: query = uri's own + mapped `integration.request.querystring.*` + client's;
    // same-name values are combined (`testVar=foobar,bar`) [LS]. Placeholders may sit in the
    // uri's query. The recording behind that line used a Lambda function URL as the echo
    // backend, and function URLs themselves join repeated query keys with commas, so the
    // wire form AWS sends is not pinned down: `testVar=foobar,bar` and
    // `testVar=foobar&testVar=bar` are both accepted here, the uri's value first.
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::echo().await;
    let (api, root) = create_api(&client, "query-merge").await;
    let item = create_resource(&client, &api, &root, "{item}").await;
    client
        .put_method()
        .rest_api_id(&api)
        .resource_id(&item)
        .http_method("GET")
        .authorization_type("NONE")
        .request_parameters("method.request.path.item", true)
        .send()
        .await
        .unwrap();
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&item)
        .http_method("GET")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("GET")
        .uri(format!("{}/q?testVar=foobar&item={{item}}", backend.base()))
        .request_parameters("integration.request.path.item", "method.request.path.item")
        .request_parameters("integration.request.querystring.mapped", "'m'")
        .send()
        .await
        .unwrap();
    deploy(&client, &api, "prod").await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/i1").await;
    let raw = invoke.get("/prod/i7?testVar=bar&other=2").await;
    assert_eq!(raw.status, 200);
    let seen = backend.last();
    assert_eq!(seen.path(), "/q");
    let mut values: Vec<(String, Vec<String>)> = Vec::new();
    for (key, value) in seen
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
    {
        let value = percent_decode(value);
        match values.iter_mut().find(|(k, _)| k == key) {
            Some((_, list)) => list.push(value),
            None => values.push((key.to_owned(), vec![value])),
        }
    }
    let mut combined: Vec<(String, String)> = values
        .into_iter()
        .map(|(key, list)| (key, list.join(",")))
        .collect();
    combined.sort();
    assert_eq!(
        combined,
        [
            ("item".to_owned(), "i7".to_owned()),
            ("mapped".to_owned(), "m".to_owned()),
            ("other".to_owned(), "2".to_owned()),
            ("testVar".to_owned(), "foobar,bar".to_owned()),
        ],
        "backend query {:?}",
        seen.query()
    );
}

#[tokio::test]
async fn proxy_defaults_content_type_to_json() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::start(|_| Reply::new(200).body("no type")).await;
    let (api, _) = proxy_api(&client, &backend.base()).await;
    let raw = Invoke::new(&server, &api).ready("/prod/x").await;
    assert_eq!((raw.status, raw.text().as_str()), (200, "no type"));
    assert_eq!(
        raw.header("content-type").as_deref(),
        Some("application/json")
    );
}

#[tokio::test]
async fn proxy_passes_backend_status_and_body() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::start(|seen| {
        let status = seen
            .path()
            .trim_start_matches('/')
            .parse::<u16>()
            .unwrap_or(200);
        Reply::new(status)
            .header("Content-Type", "application/problem+json")
            .body(format!(r#"{{"status": {status}}}"#))
    })
    .await;
    let (api, _) = proxy_api(&client, &backend.base()).await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/200").await;
    for status in [201u16, 400, 404, 418, 500, 503] {
        let raw = invoke.get(&format!("/prod/{status}")).await;
        assert_eq!(raw.status, status);
        assert_eq!(raw.text(), format!(r#"{{"status": {status}}}"#));
        assert_eq!(
            raw.header("content-type").as_deref(),
            Some("application/problem+json")
        );
        assert!(
            raw.header("x-amzn-errortype").is_none(),
            "a backend {status} is not a gateway error"
        );
    }
}

#[tokio::test]
async fn proxy_backend_refusing_connections_is_internal_error() {
    let server = TestServer::start().await;
    let client = server.client();
    let port = closed_port().await;
    let (api, _) = proxy_api(&client, &format!("http://127.0.0.1:{port}")).await;
    let raw = Invoke::new(&server, &api).ready("/prod/x").await;
    assert_internal_error(&raw);
    assert_eq!(raw.header("content-length").as_deref(), Some("36"));
}

#[tokio::test]
async fn proxy_slow_backend_times_out() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::start(|seen| Reply::echo(seen).delay(Duration::from_secs(3))).await;
    let (api, root) = create_api(&client, "slow").await;
    put_method(&client, &api, &root, "GET").await;
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("GET")
        .uri(format!("{}/slow", backend.base()))
        .timeout_in_millis(200)
        .send()
        .await
        .unwrap();
    deploy(&client, &api, "prod").await;
    let invoke = Invoke::new(&server, &api);
    // Wait until the stage is served (this first call times out too).
    invoke.ready("/prod").await;
    let started = Instant::now();
    let raw = invoke.get("/prod").await;
    let elapsed = started.elapsed();
    assert_gateway_error(&raw, 504, "InternalServerErrorException", TIMED_OUT);
    assert!(
        elapsed >= Duration::from_millis(200),
        "answered before the timeout: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_millis(1500),
        "a 200 ms timeout took {elapsed:?}"
    );
}

#[tokio::test]
async fn proxy_redeploy_switches_backend() {
    let server = TestServer::start().await;
    let client = server.client();
    let one = Backend::start(|_| Reply::new(200).body("one")).await;
    let two = Backend::start(|_| Reply::new(200).body("two")).await;
    let (api, proxy) = proxy_api(&client, &one.base()).await;
    let invoke = Invoke::new(&server, &api);
    assert_eq!(invoke.ready("/prod/x").await.text(), "one");
    client
        .update_integration()
        .rest_api_id(&api)
        .resource_id(&proxy)
        .http_method("ANY")
        .patch_operations(replace("/uri", &format!("{}/{{proxy}}", two.base())))
        .send()
        .await
        .unwrap();
    // Not deployed yet: callers still reach the first backend.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(invoke.get("/prod/x").await.text(), "one");
    deploy(&client, &api, "prod").await;
    let raw = invoke
        .until("GET", "/prod/x", |raw| raw.text() == "two")
        .await;
    assert_eq!(raw.text(), "two");
    assert_eq!(two.last().path(), "/x");
}

#[tokio::test]
async fn proxy_redeploy_under_load_loses_no_request() {
    // The load runs as fast as the machine lets it; on a fast one that passes AWS's default
    // account limit (10,000 requests a second), which would throttle what this test counts.
    let server = TestServer::start_with(|config| config.account_throttle = None).await;
    let client = server.client();
    let one = Backend::start(|_| Reply::new(200).body("one")).await;
    let two = Backend::start(|_| Reply::new(200).body("two")).await;
    let (api, proxy) = proxy_api(&client, &one.base()).await;
    let invoke = Invoke::new(&server, &api);
    assert_eq!(invoke.ready("/prod/load").await.text(), "one");

    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let invoke = invoke.clone();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let response = invoke.request("GET", "/prod/load").send().await;
                let answer = match response {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let body = response.text().await.unwrap_or_else(|e| format!("{e}"));
                        (status, body)
                    }
                    Err(error) => (0, format!("{error}")),
                };
                answers.push(answer);
            }
            answers
        }));
    }
    let started = Instant::now();
    for base in [&two, &one, &two] {
        tokio::time::sleep(Duration::from_millis(350)).await;
        client
            .update_integration()
            .rest_api_id(&api)
            .resource_id(&proxy)
            .http_method("ANY")
            .patch_operations(replace("/uri", &format!("{}/{{proxy}}", base.base())))
            .send()
            .await
            .unwrap();
        deploy(&client, &api, "prod").await;
    }
    let rest = Duration::from_millis(1500).saturating_sub(started.elapsed());
    tokio::time::sleep(rest.max(Duration::from_millis(200))).await;
    stop.store(true, Ordering::Relaxed);
    let mut answers = Vec::new();
    for task in tasks {
        answers.extend(task.await.unwrap());
    }
    let failed: Vec<&(u16, String)> = answers.iter().filter(|(s, _)| *s != 200).collect();
    assert!(
        failed.is_empty(),
        "{} of {} requests failed, e.g. {:?}",
        failed.len(),
        answers.len(),
        failed.first()
    );
    assert!(answers.len() >= 40, "only {} requests", answers.len());
    assert!(answers.iter().any(|(_, body)| body == "one"));
    assert!(answers.iter().any(|(_, body)| body == "two"));
    // The last deployment is the one in force.
    assert_eq!(
        invoke
            .until("GET", "/prod/load", |raw| raw.text() == "two")
            .await
            .text(),
        "two"
    );
}

// ---------------------------------------------------------------------------------------------
// Stage variables

#[tokio::test]
async fn stage_variables_fill_the_uri_per_stage() {
    let server = TestServer::start().await;
    let client = server.client();
    let one = Backend::start(|_| Reply::new(200).body("one")).await;
    let two = Backend::start(|_| Reply::new(200).body("two")).await;
    let (api, root) = create_api(&client, "vars").await;
    let proxy = create_resource(&client, &api, &root, "{proxy+}").await;
    proxy_route(
        &client,
        &api,
        &proxy,
        "ANY",
        "http://${stageVariables.backend}/v1/{proxy}",
        &["proxy"],
    )
    .await;
    let deployment = deploy_with(&client, &api, "one", &[("backend", &one.addr.to_string())]).await;
    client
        .create_stage()
        .rest_api_id(&api)
        .stage_name("two")
        .deployment_id(&deployment)
        .variables("backend", two.addr.to_string())
        .send()
        .await
        .unwrap();
    create_stage(&client, &api, "none", &deployment).await;
    let invoke = Invoke::new(&server, &api);
    assert_eq!(invoke.ready("/one/a").await.text(), "one");
    assert_eq!(one.last().path(), "/v1/a");
    assert_eq!(
        one.last().header("host"),
        Some(one.addr.to_string().as_str())
    );
    assert_eq!(invoke.ready("/two/b").await.text(), "two");
    assert_eq!(two.last().path(), "/v1/b");
    // A stage without the variable cannot build the uri.
    assert_internal_error(&invoke.ready("/none/c").await);
}

// ---------------------------------------------------------------------------------------------
// 4. HTTP (non-proxy)

/// A method with a non-proxy HTTP integration to `uri`, a 200 method response and a default
/// 200 integration response without templates (the backend body passes).
struct HttpIntegration<'a> {
    method: &'a str,
    integration_method: &'a str,
    uri: String,
    method_params: Vec<&'a str>,
    params: Vec<(&'a str, &'a str)>,
    templates: Vec<(&'a str, &'a str)>,
    passthrough: Option<&'a str>,
}

impl<'a> HttpIntegration<'a> {
    fn new(method: &'a str, uri: String) -> Self {
        HttpIntegration {
            method,
            integration_method: method,
            uri,
            method_params: Vec::new(),
            params: Vec::new(),
            templates: Vec::new(),
            passthrough: None,
        }
    }

    async fn put(&self, client: &Client, api: &str, resource: &str) {
        let mut method = client
            .put_method()
            .rest_api_id(api)
            .resource_id(resource)
            .http_method(self.method)
            .authorization_type("NONE");
        for param in &self.method_params {
            method = method.request_parameters(*param, false);
        }
        method.send().await.unwrap();
        let mut integration = client
            .put_integration()
            .rest_api_id(api)
            .resource_id(resource)
            .http_method(self.method)
            .r#type(IntegrationType::Http)
            .integration_http_method(self.integration_method)
            .uri(&self.uri);
        for (key, value) in &self.params {
            integration = integration.request_parameters(*key, *value);
        }
        for (content_type, template) in &self.templates {
            integration = integration.request_templates(*content_type, *template);
        }
        if let Some(passthrough) = self.passthrough {
            integration = integration.passthrough_behavior(passthrough);
        }
        integration.send().await.unwrap();
        method_response(client, api, resource, self.method, "200").await;
        client
            .put_integration_response()
            .rest_api_id(api)
            .resource_id(resource)
            .http_method(self.method)
            .status_code("200")
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn http_forwards_only_mapped_headers_and_query() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::echo().await;
    let (api, root) = create_api(&client, "http").await;
    let mapped = create_resource(&client, &api, &root, "mapped").await;
    let mut integration = HttpIntegration::new("GET", format!("{}/target?fixed=1", backend.base()));
    integration.method_params = vec!["method.request.querystring.q", "method.request.header.x-in"];
    integration.params = vec![
        ("integration.request.header.x-a", "'static'"),
        (
            "integration.request.header.x-from",
            "method.request.header.x-in",
        ),
        (
            "integration.request.querystring.q",
            "method.request.querystring.q",
        ),
        ("integration.request.querystring.s", "'fixed value'"),
    ];
    integration.put(&client, &api, &mapped).await;
    deploy(&client, &api, "prod").await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/mapped").await;

    let raw = invoke
        .send(
            invoke
                .request("GET", "/prod/mapped?q=hello%20world&other=1")
                .header("x-in", "from client")
                .header("x-unmapped", "nope")
                .header("Authorization", "Bearer secret"),
        )
        .await;
    assert_eq!(raw.status, 200, "body {:?}", raw.text());
    let seen = backend.last();
    assert_eq!(seen.method, "GET");
    assert_eq!(seen.path(), "/target");
    assert_eq!(seen.header("x-a"), Some("static"));
    assert_eq!(seen.header("x-from"), Some("from client"));
    assert!(seen.header("x-unmapped").is_none(), "{:?}", seen.headers);
    assert!(seen.header("x-in").is_none(), "{:?}", seen.headers);
    assert!(seen.header("authorization").is_none(), "{:?}", seen.headers);
    assert_eq!(seen.header("host"), Some(backend.addr.to_string().as_str()));
    assert_eq!(
        seen.header("user-agent"),
        Some(format!("AmazonAPIGateway_{api}").as_str())
    );
    assert_eq!(seen.header("accept"), Some("application/json"));
    assert_eq!(seen.header("x-amzn-apigateway-api-id"), Some(api.as_str()));
    let query: Vec<(String, String)> = seen
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), percent_decode(v)))
        .collect();
    let mut query_sorted = query.clone();
    query_sorted.sort();
    assert_eq!(
        query_sorted,
        [
            ("fixed".to_owned(), "1".to_owned()),
            ("q".to_owned(), "hello world".to_owned()),
            ("s".to_owned(), "fixed value".to_owned()),
        ],
        "backend query {:?}",
        seen.query()
    );
    // No template: the backend body is the method response body.
    assert_eq!(raw.json()["path"], "/target");
}

#[tokio::test]
async fn http_adds_trace_id_both_ways() {
    // Digest §4.3: non-proxy HTTP sends `X-Amzn-Trace-Id` to the backend, and HTTP answers
    // carry `X-Amzn-Trace-Id` (unlike MOCK and HTTP_PROXY) [LS].
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::echo().await;
    let (api, root) = create_api(&client, "http-trace").await;
    HttpIntegration::new("GET", format!("{}/t", backend.base()))
        .put(&client, &api, &root)
        .await;
    deploy(&client, &api, "prod").await;
    let raw = Invoke::new(&server, &api).ready("/prod").await;
    assert_eq!(raw.status, 200, "{:?}", raw.text());
    let seen = backend.last();
    let sent = seen.header("x-amzn-trace-id");
    assert!(
        sent.is_some_and(|t| t.starts_with("Root=")),
        "backend X-Amzn-Trace-Id: {sent:?}; headers {:?}",
        seen.headers
    );
    assert!(
        raw.header("x-amzn-trace-id").is_some(),
        "HTTP answers carry X-Amzn-Trace-Id; headers {:?}",
        raw.headers
    );
}

/// One resource per passthrough behaviour, all POST to the echo backend; `templated` ones
/// have an `application/json` template `{"templated": true}`.
async fn passthrough_api(client: &Client, backend: &Backend) -> String {
    let (api, root) = create_api(client, "passthrough").await;
    for (part, behaviour, templated) in [
        ("match-templated", "WHEN_NO_MATCH", true),
        ("templates-templated", "WHEN_NO_TEMPLATES", true),
        ("templates-bare", "WHEN_NO_TEMPLATES", false),
        ("never-templated", "NEVER", true),
        ("never-bare", "NEVER", false),
    ] {
        let resource = create_resource(client, &api, &root, part).await;
        let mut integration = HttpIntegration::new("POST", format!("{}/{part}", backend.base()));
        integration.passthrough = Some(behaviour);
        if templated {
            integration.templates = vec![("application/json", r#"{"templated": true}"#)];
        }
        integration.put(client, &api, &resource).await;
    }
    deploy(client, &api, "prod").await;
    api
}

async fn post_typed(invoke: &Invoke, path: &str, content_type: &str, body: &str) -> Raw {
    invoke
        .send(
            invoke
                .request("POST", path)
                .header("content-type", content_type)
                .body(body.to_owned()),
        )
        .await
}

#[tokio::test]
async fn http_passthrough_behaviours() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::echo().await;
    let api = passthrough_api(&client, &backend).await;
    let invoke = Invoke::new(&server, &api);
    invoke
        .until("POST", "/prod/match-templated", |raw| raw.status == 200)
        .await;
    let unsupported = |raw: &Raw, what: &str| {
        assert_eq!(
            (raw.status, raw.text().as_str()),
            (415, r#"{"message":"Unsupported Media Type"}"#),
            "{what}"
        );
    };

    // A matching template is used whatever the behaviour.
    for path in [
        "/prod/match-templated",
        "/prod/templates-templated",
        "/prod/never-templated",
    ] {
        let raw = post_typed(&invoke, path, "application/json", r#"{"raw": 1}"#).await;
        assert_eq!(raw.status, 200, "{path}: {:?}", raw.text());
        assert_eq!(backend.last().body, br#"{"templated": true}"#, "{path}");
    }
    // No Content-Type counts as application/json.
    let raw = invoke
        .send(invoke.request("POST", "/prod/never-templated").body("x"))
        .await;
    assert_eq!(raw.status, 200, "{:?}", raw.text());
    assert_eq!(backend.last().body, br#"{"templated": true}"#);

    // WHEN_NO_MATCH: an unmatched type passes through raw.
    let raw = post_typed(&invoke, "/prod/match-templated", "text/plain", "raw text").await;
    assert_eq!(raw.status, 200);
    let seen = backend.last();
    assert_eq!(seen.body, b"raw text");
    assert_eq!(seen.path(), "/match-templated");

    // WHEN_NO_TEMPLATES: raw only when no template is defined at all.
    let before = backend.requests().len();
    let raw = post_typed(&invoke, "/prod/templates-templated", "text/plain", "raw").await;
    unsupported(&raw, "WHEN_NO_TEMPLATES with templates");
    let raw = post_typed(&invoke, "/prod/templates-bare", "text/plain", "raw bare").await;
    assert_eq!(raw.status, 200);
    assert_eq!(backend.last().body, b"raw bare");

    // NEVER: unmatched types are refused, with or without templates.
    let raw = post_typed(&invoke, "/prod/never-templated", "text/plain", "raw").await;
    unsupported(&raw, "NEVER with templates");
    let raw = post_typed(&invoke, "/prod/never-bare", "application/json", "{}").await;
    unsupported(&raw, "NEVER without templates");
    // Refused requests never reach the backend.
    assert_eq!(backend.requests().len(), before + 1);
}

#[tokio::test]
async fn http_selection_pattern_chooses_the_response() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::start(|seen| {
        let status = seen
            .path()
            .trim_start_matches("/status/")
            .parse::<u16>()
            .unwrap_or(200);
        Reply::new(status)
            .header("Content-Type", "application/json")
            .header("X-Backend-Status", &status.to_string())
            .body(format!(r#"{{"backend": {status}}}"#))
    })
    .await;
    let (api, root) = create_api(&client, "selection").await;
    let status = create_resource(&client, &api, &root, "status").await;
    let code = create_resource(&client, &api, &status, "{code}").await;
    client
        .put_method()
        .rest_api_id(&api)
        .resource_id(&code)
        .http_method("GET")
        .authorization_type("NONE")
        .request_parameters("method.request.path.code", true)
        .send()
        .await
        .unwrap();
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&code)
        .http_method("GET")
        .r#type(IntegrationType::Http)
        .integration_http_method("GET")
        .uri(format!("{}/status/{{code}}", backend.base()))
        .request_parameters("integration.request.path.code", "method.request.path.code")
        .send()
        .await
        .unwrap();
    for status in ["200", "400", "503"] {
        client
            .put_method_response()
            .rest_api_id(&api)
            .resource_id(&code)
            .http_method("GET")
            .status_code(status)
            .response_parameters("method.response.header.X-Seen", false)
            .send()
            .await
            .unwrap();
    }
    // Default: no pattern; the backend body passes (no template).
    client
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&code)
        .http_method("GET")
        .status_code("200")
        .response_parameters(
            "method.response.header.X-Seen",
            "integration.response.header.X-Backend-Status",
        )
        .send()
        .await
        .unwrap();
    client
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&code)
        .http_method("GET")
        .status_code("400")
        .selection_pattern(r"4\d{2}")
        .response_templates("application/json", r#"{"outcome": "client error"}"#)
        .send()
        .await
        .unwrap();
    // The pattern must match the whole status: `50` matches no three-digit status.
    client
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&code)
        .http_method("GET")
        .status_code("503")
        .selection_pattern("50")
        .response_templates("application/json", r#"{"outcome": "unavailable"}"#)
        .send()
        .await
        .unwrap();
    deploy(&client, &api, "prod").await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/status/200").await;

    let raw = invoke.get("/prod/status/200").await;
    assert_eq!(
        (raw.status, raw.text().as_str()),
        (200, r#"{"backend": 200}"#)
    );
    assert_eq!(raw.header("x-seen").as_deref(), Some("200"));
    for backend_status in ["404", "400", "418", "499"] {
        let raw = invoke.get(&format!("/prod/status/{backend_status}")).await;
        assert_eq!(
            (raw.status, raw.text().as_str()),
            (400, r#"{"outcome": "client error"}"#),
            "backend {backend_status}"
        );
    }
    for backend_status in ["500", "503", "201"] {
        let raw = invoke.get(&format!("/prod/status/{backend_status}")).await;
        assert_eq!(
            (raw.status, raw.text()),
            (200, format!(r#"{{"backend": {backend_status}}}"#)),
            "backend {backend_status} takes the default"
        );
        assert_eq!(raw.header("x-seen").as_deref(), Some(backend_status));
    }
}

#[tokio::test]
async fn http_literal_request_template_is_sent_as_is() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::echo().await;
    let (api, root) = create_api(&client, "literal").await;
    let mut integration = HttpIntegration::new("POST", format!("{}/in", backend.base()));
    integration.integration_method = "PUT";
    integration.templates = vec![("application/json", "{\n  \"fixed\": [1, 2, 3]\n}")];
    integration.put(&client, &api, &root).await;
    deploy(&client, &api, "prod").await;
    let invoke = Invoke::new(&server, &api);
    let raw = invoke.until("POST", "/prod", |raw| raw.status == 200).await;
    assert_eq!(raw.status, 200, "{:?}", raw.text());
    let seen = backend.last();
    // The integration's method, not the client's.
    assert_eq!(seen.method, "PUT");
    assert_eq!(seen.body, b"{\n  \"fixed\": [1, 2, 3]\n}");
}

/// Mapping templates (VTL) shape the integration request and the method response: the
/// payload, parameters, `$context`, `$stageVariables`, `$util`, `#set`, `#if` and
/// `#foreach`, as API Gateway evaluates them.
#[tokio::test]
async fn http_vtl_templates_map_requests_and_responses() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::start(|seen: &Seen| {
        if seen.path() == "/pets" {
            Reply::new(200)
                .header("Content-Type", "application/json")
                .body(r##"{"items":[{"id":1,"name":"cat"},{"id":2,"name":"dog"}],"next":null}"##)
        } else {
            Reply::echo(seen)
        }
    })
    .await;
    let (api, root) = create_api(&client, "vtl").await;

    // A request template: the backend receives what it renders.
    let request = create_resource(&client, &api, &root, "request").await;
    let item = create_resource(&client, &api, &request, "{id}").await;
    let mut integration = HttpIntegration::new("POST", format!("{}/q/{{id}}", backend.base()));
    integration.method_params = vec!["method.request.path.id", "method.request.querystring.q"];
    integration.params = vec![
        ("integration.request.path.id", "method.request.path.id"),
        (
            "integration.request.querystring.mapped",
            "method.request.querystring.q",
        ),
    ];
    integration.templates = vec![(
        "application/json",
        r##"#set($body = $input.path('$'))
{
  "name": $input.json('$.name'),
  "upper": "$body.name.toUpperCase()",
  "id": "$input.params('id')",
  "q": "$input.params('q')",
  "qs": "$input.params().querystring",
  "agent": "$input.params().header.get('x-agent')",
  "stage": "$context.stage",
  "resource": "$context.resourcePath",
  "path": "$context.path",
  "account": "$context.accountId",
  "deployment": "$context.deploymentId",
  "method": "$context.httpMethod",
  "env": "$stageVariables.env",
  "escaped": "$util.escapeJavaScript($body.quote).replaceAll("\\'","'")",
  "tags": [#foreach($tag in $body.tags)"$tag"#if($foreach.hasNext), #end#end],
  "count": $body.tags.size(),
  #if($body.vip)"tier": "gold"#{else}"tier": "basic"#end,
  "missing": "$body.nothing"
}
#set($context.requestOverride.header.X-From-Template = "yes-$input.params('id')")
#set($context.requestOverride.path.id = "over-$input.params('id')")
#set($context.requestOverride.querystring.mapped = 'replaced')
#set($context.requestOverride.querystring.extra = 'x y')"##,
    )];
    integration.put(&client, &api, &item).await;

    // A response template over the backend's answer.
    let pets = create_resource(&client, &api, &root, "pets").await;
    HttpIntegration::new("GET", format!("{}/pets", backend.base()))
        .put(&client, &api, &pets)
        .await;
    client
        .update_method_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .patch_operations(add(
            "/responseParameters/method.response.header.X-First",
            "false",
        ))
        .send()
        .await
        .unwrap();
    client
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .response_parameters(
            "method.response.header.X-First",
            "integration.response.body.items[0].name",
        )
        .response_templates(
            "application/json",
            r##"#set($root = $input.path('$'))
{"names": [#foreach($pet in $root.items)"$pet.name"#if($foreach.hasNext),#end#end], "first": $input.json('$.items[0]'), "request": "$context.requestId"}
#set($context.responseOverride.header.X-Count = $root.items.size())
#if($input.params('teapot') == 'yes')#set($context.responseOverride.status = 418)#end
#if($input.params('bad') == 'yes')#set($context.responseOverride.status = 999)#end"##,
        )
        .response_templates(
            "application/xml",
            r##"<names>#foreach($pet in $input.path('$.items'))<name>$pet.name</name>#end</names>"##,
        )
        .send()
        .await
        .unwrap();

    // A MOCK whose status the request decides.
    let mock = create_resource(&client, &api, &root, "mock").await;
    put_method(&client, &api, &mock, "GET").await;
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&mock)
        .http_method("GET")
        .r#type(IntegrationType::Mock)
        .request_templates(
            "application/json",
            r##"#if($input.params('fail') == 'yes'){"statusCode": 404}#else{"statusCode": 200}#end"##,
        )
        .send()
        .await
        .unwrap();
    for (status, pattern, template) in [
        (
            "200",
            None,
            r##"{"ok": true, "from": "$context.resourcePath"}"##,
        ),
        ("404", Some("404"), r##"{"ok": false}"##),
    ] {
        method_response(&client, &api, &mock, "GET", status).await;
        let mut response = client
            .put_integration_response()
            .rest_api_id(&api)
            .resource_id(&mock)
            .http_method("GET")
            .status_code(status)
            .response_templates("application/json", template);
        if let Some(pattern) = pattern {
            response = response.selection_pattern(pattern);
        }
        response.send().await.unwrap();
    }

    // A template that fails to render: the payload is not JSON.
    let broken = create_resource(&client, &api, &root, "broken").await;
    let mut integration = HttpIntegration::new("POST", format!("{}/b", backend.base()));
    integration.templates = vec![("application/json", "{\"name\": $input.json('$.name')}")];
    integration.put(&client, &api, &broken).await;

    deploy_with(&client, &api, "prod", &[("env", "production")]).await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/mock").await;

    let raw = invoke
        .send(
            invoke
                .request("POST", "/prod/request/42?q=a%20b&q=again")
                .header("content-type", "application/json")
                .header("x-agent", "tester")
                .body(r##"{"name":"felix","quote":"it's \"x\"","tags":["a","b","c"],"vip":true}"##),
        )
        .await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    let seen = backend.last();
    let sent: Value = serde_json::from_slice(&seen.body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&seen.body)));
    let stage = client
        .get_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(
        sent,
        json!({
            "name": "felix",
            "upper": "FELIX",
            "id": "42",
            "q": "a b",
            "qs": "{q=a b}",
            "agent": "tester",
            "stage": "prod",
            "resource": "/request/{id}",
            "path": "/prod/request/42",
            "account": "000000000000",
            "deployment": stage.deployment_id().unwrap(),
            "method": "POST",
            "env": "production",
            "escaped": "it's \"x\"",
            "tags": ["a", "b", "c"],
            "count": 3,
            "tier": "gold",
            "missing": ""
        })
    );
    assert_eq!(seen.header("x-from-template"), Some("yes-42"));
    assert_eq!(seen.target, "/q/over-42?mapped=replaced&extra=x%20y");

    let raw = invoke.get("/prod/pets").await;
    assert_eq!(raw.status, 200);
    let answer = raw.json();
    assert_eq!(answer["names"], json!(["cat", "dog"]));
    assert_eq!(answer["first"], json!({"id": 1, "name": "cat"}));
    assert_eq!(
        answer["request"].as_str(),
        raw.header("x-amzn-requestid").as_deref()
    );
    assert_eq!(raw.header("x-count").as_deref(), Some("2"));
    assert_eq!(raw.header("x-first").as_deref(), Some("cat"));
    // `$context.responseOverride.status` from 100 to 599 replaces the status; others are
    // ignored.
    assert_eq!(invoke.get("/prod/pets?teapot=yes").await.status, 418);
    assert_eq!(invoke.get("/prod/pets?bad=yes").await.status, 200);
    // The template for the client's first Accept type.
    let xml = invoke
        .send(
            invoke
                .request("GET", "/prod/pets")
                .header("accept", "application/xml, application/json;q=0.9"),
        )
        .await;
    assert_eq!(
        xml.text(),
        "<names><name>cat</name><name>dog</name></names>"
    );
    assert_eq!(
        xml.header("content-type").as_deref(),
        Some("application/xml")
    );
    let any = invoke
        .send(invoke.request("GET", "/prod/pets").header("accept", "*/*"))
        .await;
    assert_eq!(any.json()["names"], json!(["cat", "dog"]));

    let ok = invoke.get("/prod/mock").await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json(), json!({"ok": true, "from": "/mock"}));
    let missing = invoke.get("/prod/mock?fail=yes").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json(), json!({"ok": false}));

    let before = backend.requests().len();
    let raw = post_typed(&invoke, "/prod/broken", "application/json", "not json").await;
    assert_internal_error(&raw);
    assert_eq!(
        backend.requests().len(),
        before,
        "a request template that cannot be applied sends nothing"
    );
}

// ---------------------------------------------------------------------------------------------
// API keys, VPC links without a load balancer

#[tokio::test]
async fn api_key_required_is_forbidden() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "keys").await;
    mock_route(&client, &api, &root, "GET", "open").await;
    let locked = create_resource(&client, &api, &root, "locked").await;
    client
        .put_method()
        .rest_api_id(&api)
        .resource_id(&locked)
        .http_method("GET")
        .authorization_type("NONE")
        .api_key_required(true)
        .send()
        .await
        .unwrap();
    put_mock_integration(&client, &api, &locked, "GET").await;
    deploy(&client, &api, "prod").await;
    let invoke = Invoke::new(&server, &api);
    assert_eq!(route_of(&invoke.ready("/prod").await), "open");
    let raw = invoke
        .send(
            invoke
                .request("GET", "/prod/locked")
                .header("x-api-key", "made-up-key"),
        )
        .await;
    assert_gateway_error(&raw, 403, "ForbiddenException", FORBIDDEN);
    assert_gateway_error(
        &invoke.get("/prod/locked").await,
        403,
        "ForbiddenException",
        FORBIDDEN,
    );
}

async fn vpc_link_proxy_api(client: &Client, connection_id: &str, uri: &str) -> String {
    let (api, root) = create_api(client, "private").await;
    let proxy = create_resource(client, &api, &root, "{proxy+}").await;
    put_method(client, &api, &proxy, "ANY").await;
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&proxy)
        .http_method("ANY")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("ANY")
        .connection_type(ConnectionType::VpcLink)
        .connection_id(connection_id)
        .uri(uri)
        .send()
        .await
        .unwrap();
    api
}

/// Polls GetVpcLink until the status leaves PENDING (at most ~10 s).
async fn settled_link(client: &Client, id: &str) -> (VpcLinkStatus, Option<String>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let link = client.get_vpc_link().vpc_link_id(id).send().await.unwrap();
        let status = link.status().cloned().expect("status");
        if status != VpcLinkStatus::Pending || Instant::now() >= deadline {
            return (status, link.status_message().map(str::to_owned));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn vpc_link_that_failed_is_internal_error() {
    let server = TestServer::start().await;
    let client = server.client();
    let link = client
        .create_vpc_link()
        .name("nowhere")
        .target_arns(NLB_ARN)
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let (status, _) = settled_link(&client, &link).await;
    assert_eq!(status, VpcLinkStatus::Failed);
    let api = vpc_link_proxy_api(&client, &link, "http://my-nlb.example.com/{proxy}").await;
    deploy(&client, &api, "prod").await;
    assert_internal_error(&Invoke::new(&server, &api).ready("/prod/x").await);
}

#[tokio::test]
async fn vpc_link_unresolved_stage_variable_is_internal_error() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = vpc_link_proxy_api(
        &client,
        "${stageVariables.VPCLINK}",
        "http://my-nlb.example.com/{proxy}",
    )
    .await;
    deploy(&client, &api, "prod").await;
    let invoke = Invoke::new(&server, &api);
    assert_internal_error(&invoke.ready("/prod/x").await);
    // A variable naming no link is no better.
    deploy_with(&client, &api, "other", &[("VPCLINK", "nosuchlnk")]).await;
    assert_internal_error(&invoke.ready("/other/x").await);
}

// ---------------------------------------------------------------------------------------------
// 5. Gateway responses

#[tokio::test]
async fn gateway_response_templates_fill_in_simple_variables() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = routing_api(&client).await;
    client
        .put_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::MissingAuthenticationToken)
        .response_templates(
            "application/json",
            concat!(
                r#"{"type":"$context.error.responseType","path":"$context.path","#,
                r#""ip":"$context.identity.sourceIp","agent":"$context.identity.userAgent","#,
                r#""domain":"$context.domainName","api":"$context.apiId","stage":"$context.stage","#,
                r#""env":"$stageVariables.env","quoted":"$stageVariables['env']","#,
                r#""id":"$context.requestId","unknown":"$context.nothing"}"#
            ),
        )
        .send()
        .await
        .unwrap();
    deploy_with(&client, &api, "prod", &[("env", "blue")]).await;
    let invoke = Invoke::new(&server, &api);
    let raw = invoke
        .until("GET", "/prod/files", |raw| raw.text().contains("\"type\""))
        .await;
    assert_eq!(raw.status, 403);
    assert_eq!(
        raw.json(),
        json!({
            "type": "MISSING_AUTHENTICATION_TOKEN",
            "path": "/prod/files",
            "ip": "127.0.0.1",
            "agent": "",
            "domain": format!("{api}.execute-api.localhost:{}", invoke.gateway.port()),
            "api": api,
            "stage": "prod",
            "env": "blue",
            "quoted": "blue",
            "id": raw.header("x-amzn-requestid").unwrap(),
            "unknown": "$context.nothing",
        })
    );
}

#[tokio::test]
async fn custom_missing_token_response_after_redeploy() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = routing_api(&client).await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/pets").await;
    assert_missing_token(&invoke.get("/prod/pets/mine/toys").await);

    client
        .put_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::MissingAuthenticationToken)
        .status_code("404")
        .response_parameters("gatewayresponse.header.x-why", "'nothing here'")
        .response_templates(
            "application/json",
            r#"{"error": $context.error.messageString, "hint": "check the path"}"#,
        )
        .send()
        .await
        .unwrap();
    // Deployments snapshot gateway responses: nothing changes until the next one.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_missing_token(&invoke.get("/prod/pets/mine/toys").await);

    deploy(&client, &api, "prod").await;
    let raw = invoke
        .until("GET", "/prod/pets/mine/toys", |raw| raw.status == 404)
        .await;
    assert_eq!(raw.status, 404, "body {:?}", raw.text());
    assert_eq!(
        raw.text(),
        r#"{"error": "Missing Authentication Token", "hint": "check the path"}"#
    );
    assert_eq!(raw.header("x-why").as_deref(), Some("nothing here"));
    assert_eq!(
        raw.error_type().as_deref(),
        Some("MissingAuthenticationTokenException")
    );
    // An unknown method on a known resource is the same response type.
    let raw = invoke.call("POST", "/prod/pets").await;
    assert_eq!(raw.status, 404);
    assert_eq!(raw.header("x-why").as_deref(), Some("nothing here"));
    // Served routes are untouched.
    assert_eq!(route_of(&invoke.get("/prod/pets").await), "pets");
}

/// An API (not deployed yet) with an open MOCK route at `/`, an API-key route at `/locked`
/// and a proxy to a closed port at `/broken`.
async fn error_api(server: &TestServer, client: &Client) -> (String, Invoke) {
    let (api, root) = create_api(client, "errors").await;
    mock_route(client, &api, &root, "GET", "open").await;
    let locked = create_resource(client, &api, &root, "locked").await;
    client
        .put_method()
        .rest_api_id(&api)
        .resource_id(&locked)
        .http_method("GET")
        .authorization_type("NONE")
        .api_key_required(true)
        .send()
        .await
        .unwrap();
    put_mock_integration(client, &api, &locked, "GET").await;
    let broken = create_resource(client, &api, &root, "broken").await;
    let port = closed_port().await;
    proxy_route(
        client,
        &api,
        &broken,
        "GET",
        &format!("http://127.0.0.1:{port}/"),
        &[],
    )
    .await;
    let invoke = Invoke::new(server, &api);
    (api, invoke)
}

async fn put_default_4xx(client: &Client, api: &str, status: Option<&str>) {
    let mut request = client
        .put_gateway_response()
        .rest_api_id(api)
        .response_type(GatewayResponseType::Default4Xx)
        .response_parameters("gatewayresponse.header.x-custom-4xx", "'yes'")
        .response_templates(
            "application/json",
            r#"{"problem": $context.error.messageString, "class": "4xx"}"#,
        );
    if let Some(status) = status {
        request = request.status_code(status);
    }
    request.send().await.unwrap();
}

#[tokio::test]
async fn default_4xx_template_and_headers_apply_to_other_4xx_types() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, invoke) = error_api(&server, &client).await;
    put_default_4xx(&client, &api, None).await;
    client
        .put_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::Default5Xx)
        .response_templates(
            "application/json",
            r#"{"problem": $context.error.messageString, "class": "5xx"}"#,
        )
        .send()
        .await
        .unwrap();
    deploy(&client, &api, "prod").await;
    assert_eq!(route_of(&invoke.ready("/prod").await), "open");

    // MISSING_AUTHENTICATION_TOKEN and INVALID_API_KEY take DEFAULT_4XX's template and header
    // but keep their own statuses (DEFAULT_4XX has none here).
    let raw = invoke.get("/prod/nowhere").await;
    assert_eq!(
        (raw.status, raw.text().as_str()),
        (
            403,
            r#"{"problem": "Missing Authentication Token", "class": "4xx"}"#
        )
    );
    assert_eq!(raw.header("x-custom-4xx").as_deref(), Some("yes"));
    assert_eq!(
        raw.error_type().as_deref(),
        Some("MissingAuthenticationTokenException")
    );
    let raw = invoke.get("/prod/locked").await;
    assert_eq!(
        (raw.status, raw.text().as_str()),
        (403, r#"{"problem": "Forbidden", "class": "4xx"}"#)
    );
    assert_eq!(raw.header("x-custom-4xx").as_deref(), Some("yes"));
    // 5xx types take DEFAULT_5XX, not DEFAULT_4XX.
    let raw = invoke.get("/prod/broken").await;
    assert_eq!(
        (raw.status, raw.text().as_str()),
        (
            500,
            r#"{"problem": "Internal server error", "class": "5xx"}"#
        )
    );
    assert!(raw.header("x-custom-4xx").is_none());
}

#[tokio::test]
async fn default_4xx_status_code_applies_to_unspecified_4xx_types() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, invoke) = error_api(&server, &client).await;
    put_default_4xx(&client, &api, Some("400")).await;
    deploy(&client, &api, "prod").await;
    assert_eq!(route_of(&invoke.ready("/prod").await), "open");
    // AWS: "Changing the status code of this fallback gateway response changes the status
    // codes of all other 4XX responses to the new value" (digest §4.2: DEFAULT_4XX's
    // statusCode changes all unspecified 4xx types).
    let raw = invoke.get("/prod/nowhere").await;
    assert_eq!(
        raw.status,
        400,
        "MISSING_AUTHENTICATION_TOKEN; body {:?}",
        raw.text()
    );
    let raw = invoke.get("/prod/locked").await;
    assert_eq!(raw.status, 400, "INVALID_API_KEY; body {:?}", raw.text());
    // 5xx unaffected.
    assert_internal_error(&invoke.get("/prod/broken").await);
}

#[tokio::test]
async fn default_5xx_status_code_applies_to_unspecified_5xx_types() {
    // Same rule for DEFAULT_5XX: its statusCode replaces the status of every 5xx type that
    // has no customisation of its own (digest §4.2 [D]).
    let server = TestServer::start().await;
    let client = server.client();
    let (api, invoke) = error_api(&server, &client).await;
    client
        .put_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::Default5Xx)
        .status_code("503")
        .send()
        .await
        .unwrap();
    deploy(&client, &api, "prod").await;
    assert_eq!(route_of(&invoke.ready("/prod").await), "open");
    let raw = invoke.get("/prod/broken").await;
    assert_eq!(
        raw.status,
        503,
        "API_CONFIGURATION_ERROR; body {:?}",
        raw.text()
    );
    assert_eq!(raw.json()["message"], "Internal server error");
    // 4xx unaffected.
    assert_missing_token(&invoke.get("/prod/nowhere").await);
}

#[tokio::test]
async fn specific_gateway_response_beats_default_4xx() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, invoke) = error_api(&server, &client).await;
    put_default_4xx(&client, &api, None).await;
    client
        .put_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::InvalidApiKey)
        .status_code("401")
        .response_templates("application/json", r#"{"key": "missing"}"#)
        .send()
        .await
        .unwrap();
    deploy(&client, &api, "prod").await;
    assert_eq!(route_of(&invoke.ready("/prod").await), "open");
    let raw = invoke.get("/prod/locked").await;
    assert_eq!(
        (raw.status, raw.text().as_str()),
        (401, r#"{"key": "missing"}"#)
    );
    assert!(raw.header("x-custom-4xx").is_none());
    let raw = invoke.get("/prod/nowhere").await;
    assert_eq!(
        (raw.status, raw.text().as_str()),
        (
            403,
            r#"{"problem": "Missing Authentication Token", "class": "4xx"}"#
        )
    );
}

#[tokio::test]
async fn gateway_response_template_substitutes_context_and_stage_variables() {
    // Digest §4.2: gateway-response templates substitute `$context.*`, `$stageVariables.*`
    // and `method.request.*` (no VTL).
    let server = TestServer::start().await;
    let client = server.client();
    let (api, invoke) = error_api(&server, &client).await;
    client
        .put_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::MissingAuthenticationToken)
        .response_templates(
            "application/json",
            r#"{"id":"$context.requestId","stage":"$context.stage","api":"$context.apiId","colour":"$stageVariables.colour"}"#,
        )
        .send()
        .await
        .unwrap();
    deploy_with(&client, &api, "prod", &[("colour", "blue")]).await;
    assert_eq!(route_of(&invoke.ready("/prod").await), "open");
    let raw = invoke.get("/prod/nowhere").await;
    assert_eq!(raw.status, 403);
    let request_id = raw.header("x-amzn-requestid").unwrap();
    assert_eq!(
        raw.text(),
        format!(r#"{{"id":"{request_id}","stage":"prod","api":"{api}","colour":"blue"}}"#)
    );
}

#[tokio::test]
async fn gateway_response_header_from_method_request_header() {
    // Digest §4.2: `gatewayresponse.header.X` ← `'static'` or `method.request.header.Y`.
    let server = TestServer::start().await;
    let client = server.client();
    let (api, invoke) = error_api(&server, &client).await;
    client
        .put_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::MissingAuthenticationToken)
        .response_parameters("gatewayresponse.header.x-static", "'fixed'")
        .response_parameters(
            "gatewayresponse.header.x-echo",
            "method.request.header.x-in",
        )
        .response_parameters(
            "gatewayresponse.header.x-all",
            "method.request.multivalueheader.x-in",
        )
        .response_parameters(
            "gatewayresponse.header.x-tags",
            "method.request.multivaluequerystring.tag",
        )
        .response_parameters(
            "gatewayresponse.header.x-tag",
            "method.request.querystring.tag",
        )
        .response_parameters("gatewayresponse.header.x-id", "context.requestId")
        .response_parameters("gatewayresponse.header.x-stage", "context.stage")
        .send()
        .await
        .unwrap();
    deploy(&client, &api, "prod").await;
    assert_eq!(route_of(&invoke.ready("/prod").await), "open");
    let raw = invoke
        .send(
            invoke
                .request("GET", "/prod/nowhere?tag=a&tag=b%20c")
                .header("x-in", "mirrored")
                .header("x-in", "twice"),
        )
        .await;
    assert_eq!(raw.status, 403);
    assert_eq!(raw.header("x-static").as_deref(), Some("fixed"));
    assert_eq!(raw.header("x-echo").as_deref(), Some("mirrored"));
    assert_eq!(raw.header("x-all").as_deref(), Some("mirrored,twice"));
    assert_eq!(raw.header("x-tag").as_deref(), Some("a"));
    assert_eq!(raw.header("x-tags").as_deref(), Some("a,b c"));
    assert_eq!(raw.header("x-id"), raw.header("x-amzn-requestid"));
    assert_eq!(raw.header("x-stage").as_deref(), Some("prod"));
}

#[tokio::test]
async fn disabled_execute_api_endpoint_is_forbidden() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, invoke) = error_api(&server, &client).await;
    deploy(&client, &api, "prod").await;
    assert_eq!(route_of(&invoke.ready("/prod").await), "open");
    client
        .update_rest_api()
        .rest_api_id(&api)
        .patch_operations(replace("/disableExecuteApiEndpoint", "true"))
        .send()
        .await
        .unwrap();
    deploy(&client, &api, "prod").await;
    let raw = invoke.until("GET", "/prod", |raw| raw.status == 403).await;
    assert_gateway_error(&raw, 403, "ForbiddenException", FORBIDDEN);
}

// ---------------------------------------------------------------------------------------------
// 6. Limits

#[tokio::test]
async fn body_over_10_mb_is_413() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "limits").await;
    mock_route(&client, &api, &root, "POST", "accepted").await;
    deploy(&client, &api, "prod").await;
    let invoke = Invoke::new(&server, &api);
    invoke.until("POST", "/prod", |raw| raw.status == 200).await;

    let exactly = vec![b'a'; 10 * 1024 * 1024];
    let raw = invoke
        .send(invoke.request("POST", "/prod").body(exactly))
        .await;
    assert_eq!(route_of(&raw), "accepted", "10 MiB is within the limit");

    let over = vec![b'a'; 11 * 1024 * 1024];
    let raw = invoke
        .send(invoke.request("POST", "/prod").body(over))
        .await;
    assert_eq!(raw.status, 413, "body {:?}", raw.text());
    assert_eq!(
        raw.header("content-type").as_deref(),
        Some("application/json")
    );
    assert!(raw.json()["message"].is_string(), "body {:?}", raw.text());
}

#[tokio::test]
async fn streamed_body_over_10_mb_is_413() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "limits").await;
    mock_route(&client, &api, &root, "POST", "accepted").await;
    deploy(&client, &api, "prod").await;
    let invoke = Invoke::new(&server, &api);
    invoke.until("POST", "/prod", |raw| raw.status == 200).await;
    // Chunked, so the gateway cannot tell from Content-Length.
    let mut stream = TcpStream::connect(server.gateway_addr()).await.unwrap();
    let head = format!(
        "POST /prod HTTP/1.1\r\nHost: {api}.execute-api.localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b'b'; 1024 * 1024];
    let mut response = Vec::new();
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        for _ in 0..11 {
            let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
            frame.extend_from_slice(&chunk);
            frame.extend_from_slice(b"\r\n");
            if write.write_all(&frame).await.is_err() {
                return;
            }
        }
        let _ = write.write_all(b"0\r\n\r\n").await;
    });
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match read.read_buf(&mut response).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if let Some(end) = find(&response, b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if response.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
            }
        }
    })
    .await;
    writer.abort();
    let text = String::from_utf8_lossy(&response);
    assert!(
        text.starts_with("HTTP/1.1 413"),
        "answer to an 11 MB chunked body: {text:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 7. The seed story: NLB, VPC link, {proxy+} through the link.

/// An internal NLB with a TCP listener forwarding to `backend` (an `ip` target).
struct PrivateNlb {
    arn: String,
    dns_name: String,
    /// The listener port: 80, or 8080 where port 80 cannot be bound.
    port: u16,
}

impl PrivateNlb {
    /// What the uri names: the DNS name, with the port unless it is 80.
    fn host(&self) -> String {
        if self.port == 80 {
            self.dns_name.clone()
        } else {
            format!("{}:{}", self.dns_name, self.port)
        }
    }
}

async fn private_nlb(server: &TestServer, backend: &Backend) -> PrivateNlb {
    use aws_sdk_elasticloadbalancingv2::types::{
        LoadBalancerSchemeEnum, LoadBalancerTypeEnum, ProtocolEnum, TargetDescription,
        TargetTypeEnum,
    };
    let elb = server.elbv2_client();
    let lb = elb
        .create_load_balancer()
        .name("private-nlb")
        .r#type(LoadBalancerTypeEnum::Network)
        .scheme(LoadBalancerSchemeEnum::Internal)
        .subnets("subnet-0aaa")
        .send()
        .await
        .unwrap()
        .load_balancers()
        .first()
        .cloned()
        .expect("created load balancer");
    let arn = lb.load_balancer_arn().unwrap().to_owned();
    let dns_name = lb.dns_name().unwrap().to_owned();
    let backend_port = i32::from(backend.addr.port());
    let target_group = elb
        .create_target_group()
        .name("private-backends")
        .protocol(ProtocolEnum::Tcp)
        .port(backend_port)
        .vpc_id("vpc-0123456789abcdef0")
        .target_type(TargetTypeEnum::Ip)
        .send()
        .await
        .unwrap()
        .target_groups()
        .first()
        .and_then(|tg| tg.target_group_arn())
        .unwrap()
        .to_owned();
    elb.register_targets()
        .target_group_arn(&target_group)
        .targets(
            TargetDescription::builder()
                .id("127.0.0.1")
                .port(backend_port)
                .build(),
        )
        .send()
        .await
        .unwrap();
    // Port 80 needs privileges some sandboxes lack.
    let port = match TcpListener::bind("127.0.0.1:80").await {
        Ok(_) => 80,
        Err(_) => 8080,
    };
    forward_listener(
        &elb,
        &arn,
        ProtocolEnum::Tcp,
        i32::from(port),
        &target_group,
    )
    .await;
    PrivateNlb {
        arn,
        dns_name,
        port,
    }
}

async fn available_link(client: &Client, nlb_arn: &str) -> String {
    let link = client
        .create_vpc_link()
        .name("to-private-nlb")
        .target_arns(nlb_arn)
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let (status, message) = settled_link(client, &link).await;
    assert_eq!(status, VpcLinkStatus::Available, "message {message:?}");
    link
}

/// DESIGN §2: NLB → VPC link → `{proxy+}` ANY HTTP_PROXY through the link with stage
/// variables → invoke reaches the private backend and the answer comes back.
#[tokio::test]
async fn seed_story_through_vpc_link_and_nlb() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::start(|seen| {
        Reply::echo(seen)
            .header("X-Private", "reached")
            .header("Server", "private-backend")
    })
    .await;
    let nlb = private_nlb(&server, &backend).await;
    let link = available_link(&client, &nlb.arn).await;
    let api = vpc_link_proxy_api(
        &client,
        "${stageVariables.VPCLINK}",
        "http://${stageVariables.VPCNLB}/{proxy}",
    )
    .await;
    deploy_with(
        &client,
        &api,
        "prod",
        &[("VPCLINK", &link), ("VPCNLB", &nlb.host())],
    )
    .await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/warmup").await;

    let raw = invoke
        .send(
            invoke
                .request("POST", "/prod/orders/42?expand=items")
                .header("content-type", "application/json")
                .header("x-trace", "seed")
                .body(r#"{"qty": 3}"#),
        )
        .await;
    assert_eq!(raw.status, 200, "body {:?}", raw.text());
    let seen = backend.last();
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.path(), "/orders/42");
    assert_eq!(seen.query(), Some("expand=items"));
    assert_eq!(seen.header("host"), Some(nlb.host().as_str()));
    assert_eq!(seen.header("x-trace"), Some("seed"));
    assert_eq!(seen.header("x-amzn-apigateway-api-id"), Some(api.as_str()));
    assert_eq!(seen.body, br#"{"qty": 3}"#);
    // The answer comes back unchanged, AWS header rules aside.
    let echoed = raw.json();
    assert_eq!(echoed["path"], "/orders/42");
    assert_eq!(echoed["body"], r#"{"qty": 3}"#);
    assert_eq!(echoed["headers"]["host"], nlb.host());
    assert_eq!(raw.header("x-private").as_deref(), Some("reached"));
    assert_eq!(
        raw.header("x-amzn-remapped-server").as_deref(),
        Some("private-backend")
    );
}

#[tokio::test]
async fn seed_story_link_to_deleted_nlb_fails() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::echo().await;
    let nlb = private_nlb(&server, &backend).await;
    let link = available_link(&client, &nlb.arn).await;
    let api = vpc_link_proxy_api(&client, &link, &format!("http://{}/{{proxy}}", nlb.host())).await;
    deploy(&client, &api, "prod").await;
    let invoke = Invoke::new(&server, &api);
    let raw = invoke.ready("/prod/before").await;
    assert_eq!(raw.status, 200, "body {:?}", raw.text());
    assert_eq!(backend.last().path(), "/before");

    server
        .elbv2_client()
        .delete_load_balancer()
        .load_balancer_arn(&nlb.arn)
        .send()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let (status, message) = loop {
        let got = client
            .get_vpc_link()
            .vpc_link_id(&link)
            .send()
            .await
            .unwrap();
        let status = got.status().cloned().expect("status");
        if status == VpcLinkStatus::Failed || Instant::now() >= deadline {
            break (status, got.status_message().map(str::to_owned));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status, VpcLinkStatus::Failed, "message {message:?}");
    assert!(message.is_some_and(|m| !m.is_empty()));
    let before = backend.requests().len();
    let raw = invoke
        .until("GET", "/prod/after", |raw| raw.status == 500)
        .await;
    assert_internal_error(&raw);
    assert_eq!(backend.requests().len(), before);
}

// ---------------------------------------------------------------------------------------------
// 8. HTTPS backends, over the internet and through a VPC link.

/// An API whose `{proxy+}` ANY method proxies to `uri`, through `link` when given.
async fn https_api(
    client: &Client,
    uri: &str,
    link: Option<&str>,
    skip_verification: bool,
) -> String {
    let (api, root) = create_api(client, "https").await;
    let proxy = create_resource(client, &api, &root, "{proxy+}").await;
    put_method(client, &api, &proxy, "ANY").await;
    let mut put = client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&proxy)
        .http_method("ANY")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("ANY")
        .uri(uri)
        .tls_config(
            aws_sdk_apigateway::types::TlsConfig::builder()
                .insecure_skip_verification(skip_verification)
                .build(),
        );
    if let Some(link) = link {
        put = put
            .connection_type(ConnectionType::VpcLink)
            .connection_id(link);
    }
    put.send().await.unwrap();
    deploy(client, &api, "prod").await;
    api
}

/// A self-signed certificate is refused as AWS refuses it (500, a configuration error),
/// unless the integration skips verification.
#[tokio::test]
async fn https_backend_certificate_is_checked_unless_skipped() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = TlsBackend::start(&["localhost"], Reply::echo).await;
    let uri = format!(
        "https://localhost:{}/{{proxy}}",
        backend.backend.addr.port()
    );

    let strict = https_api(&client, &uri, None, false).await;
    let raw = Invoke::new(&server, &strict).ready("/prod/hello").await;
    assert_internal_error(&raw);
    assert!(backend.backend.requests().is_empty());

    let lenient = https_api(&client, &uri, None, true).await;
    let raw = Invoke::new(&server, &lenient).ready("/prod/hello").await;
    assert_eq!(raw.status, 200, "body {:?}", raw.text());
    assert_eq!(raw.json()["path"], "/hello");
    assert_eq!(backend.server_names(), vec![Some("localhost".to_owned())]);
}

/// An `https://` uri through a VPC link: the connection goes to the load balancer's listener
/// on the uri port, and TLS runs end to end with the target under the uri's host name.
#[tokio::test]
async fn https_through_vpc_link_uses_the_uri_host_for_tls() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = TlsBackend::start(&["backend.internal"], Reply::echo).await;
    let nlb = private_nlb(&server, &backend.backend).await;
    let link = available_link(&client, &nlb.arn).await;
    let host = format!("backend.internal:{}", nlb.port);
    let uri = format!("https://{host}/{{proxy}}");

    let api = https_api(&client, &uri, Some(&link), true).await;
    let invoke = Invoke::new(&server, &api);
    let raw = invoke.ready("/prod/orders/7").await;
    assert_eq!(raw.status, 200, "body {:?}", raw.text());
    let echoed = raw.json();
    assert_eq!(echoed["path"], "/orders/7");
    assert_eq!(echoed["headers"]["host"], host);
    let names = backend.server_names();
    assert!(!names.is_empty());
    assert!(
        names
            .iter()
            .all(|name| name.as_deref() == Some("backend.internal")),
        "server names {names:?}"
    );
    // Pooled: a second call reuses the TLS connection.
    let again = invoke.get("/prod/orders/8").await;
    assert_eq!(again.status, 200);
    assert_eq!(backend.server_names().len(), names.len());

    // The certificate is self-signed, so verification refuses it.
    let strict = https_api(&client, &uri, Some(&link), false).await;
    let raw = Invoke::new(&server, &strict).ready("/prod/orders/7").await;
    assert_internal_error(&raw);
}

mod access_logs;
mod authorizers;
mod aws_services;
mod backend_connections;
mod binary;
mod caching;
mod canary;
mod client_certificates;
mod client_connections;
mod domain_names;
mod http2;
mod https;
mod iam;
mod lambda;
mod multinode;
mod mutual_tls;
mod request_validation;
mod resource_policies;
mod routing_rules;
mod test_invoke;
mod tunnel;
mod usage_limits;
mod vpc_link_flows;
mod vpc_links_v2;
mod waf;

/// A load balancer with a TLS listener on `port` whose certificate (for
/// `backend.internal`, from a CA made for the test) is imported into ACM, forwarding to a
/// target group of `protocol` with `backend` registered: `(load balancer ARN, certificate
/// ARN, the CA's PEM)`.
pub(crate) async fn tls_terminating_nlb(
    server: &TestServer,
    name: &str,
    port: u16,
    protocol: aws_sdk_elasticloadbalancingv2::types::ProtocolEnum,
    backend: SocketAddr,
) -> (String, String, String) {
    use aws_sdk_elasticloadbalancingv2::types::{
        Action, ActionTypeEnum, Certificate, ProtocolEnum, TargetTypeEnum,
    };
    let elb = server.elbv2_client();
    let (ca, leaf, key) = crate::acm::issued("NLB CA", &["backend.internal"]);
    let certificate = crate::acm::import(server, &leaf, &key, Some(&ca)).await;
    let (arn, _, _) = network_load_balancer(&elb, name).await;
    let target_group = elb
        .create_target_group()
        .name(name)
        .protocol(protocol)
        .port(i32::from(backend.port()))
        .vpc_id("vpc-1")
        .target_type(TargetTypeEnum::Ip)
        .health_check_protocol(ProtocolEnum::Tcp)
        .health_check_interval_seconds(300)
        .send()
        .await
        .unwrap()
        .target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_owned();
    elb.register_targets()
        .target_group_arn(&target_group)
        .targets(ip_target(backend))
        .send()
        .await
        .unwrap();
    elb.create_listener()
        .load_balancer_arn(&arn)
        .protocol(ProtocolEnum::Tls)
        .port(i32::from(port))
        .certificates(Certificate::builder().certificate_arn(&certificate).build())
        .default_actions(
            Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .target_group_arn(&target_group)
                .build(),
        )
        .send()
        .await
        .unwrap();
    (arn, certificate, ca)
}

/// A TLS listener whose certificate is imported terminates TLS, as an NLB does: an
/// `https://` uri through a VPC link reaches a plain HTTP target, the gateway checking the
/// listener's certificate (refused unless skipped: the test CA is not a public one); and a
/// TLS target group's targets get TLS again from the load balancer, without a server name.
#[tokio::test]
async fn https_through_vpc_link_ends_at_a_tls_listener_with_an_imported_certificate() {
    use aws_sdk_elasticloadbalancingv2::types::ProtocolEnum;
    let server = TestServer::start().await;
    let client = server.client();
    let plain = Backend::echo().await;
    let (nlb, _, _) =
        tls_terminating_nlb(&server, "tls-plain", 10443, ProtocolEnum::Tcp, plain.addr).await;
    let link = available_link(&client, &nlb).await;
    let uri = "https://backend.internal:10443/{proxy}";
    let lenient = https_api(&client, uri, Some(&link), true).await;
    let raw = Invoke::new(&server, &lenient).ready("/prod/orders/7").await;
    assert_eq!(raw.status, 200, "body {:?}", raw.text());
    assert_eq!(raw.json()["path"], "/orders/7");
    assert_eq!(raw.json()["headers"]["host"], "backend.internal:10443");
    let strict = https_api(&client, uri, Some(&link), false).await;
    let seen = plain.requests().len();
    let raw = Invoke::new(&server, &strict).ready("/prod/orders/8").await;
    assert_internal_error(&raw);
    assert_eq!(plain.requests().len(), seen);
    // Plain HTTP to a listener that speaks TLS fails, as on AWS.
    let cleartext = https_api(
        &client,
        "http://backend.internal:10443/{proxy}",
        Some(&link),
        true,
    )
    .await;
    let raw = Invoke::new(&server, &cleartext)
        .ready("/prod/orders/9")
        .await;
    assert!(raw.status >= 500, "{} {}", raw.status, raw.text());

    // A TLS target group: the load balancer speaks TLS to the target.
    let tls_backend = TlsBackend::start(&["target.internal"], Reply::echo).await;
    let (nlb, _, _) = tls_terminating_nlb(
        &server,
        "tls-tls",
        10444,
        ProtocolEnum::Tls,
        tls_backend.backend.addr,
    )
    .await;
    let link = available_link(&client, &nlb).await;
    let api = https_api(
        &client,
        "https://backend.internal:10444/{proxy}",
        Some(&link),
        true,
    )
    .await;
    let raw = Invoke::new(&server, &api).ready("/prod/again").await;
    assert_eq!(raw.status, 200, "body {:?}", raw.text());
    assert_eq!(raw.json()["path"], "/again");
    let names = tls_backend.server_names();
    assert!(
        !names.is_empty() && names.iter().all(Option::is_none),
        "{names:?}"
    );
}
