//! Drives the gateway's invoke listener with arbitrary bytes over real TCP connections, for
//! the `gateway_requests` fuzz target and for a seeded random test; [`http2`] does the same
//! with HTTP/2 frames on the HTTPS listener. Built only for tests and for the `fuzz` crate
//! (feature `fuzzing`).
//!
//! One server runs for the whole session: an API `fz` deployed to `prod` with an HTTP_PROXY
//! `{proxy+}` (its answers buffered), a MOCK method, an HTTP (non-proxy) method with
//! parameter mappings, a method that needs an API key, and a `{proxy+}` behind a VPC link to
//! a network load balancer (its answers streamed), all in front of an echo backend. Random bytes almost never name that API, so the input's first
//! byte picks the start of a request line aimed at it (one value in eight sends the input
//! alone); the rest follows as it is: the rest of the target, the version, headers and body.
//!
//! Each input goes over a new connection whose sending side is then shut. The server must
//! answer or close within ten seconds, start its answer with a well-formed response head,
//! never answer 5xx (nothing in this API is misconfigured and its backend never fails) and
//! never panic.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use causeway_control::{Control, Request};
use serde_json::Value;

use crate::{Config, Server};

pub mod http2;

/// The start of the request, picked by the input's first byte.
const PREFIXES: &[&[u8]] = &[
    b"GET /restapis/fz/prod/_user_request_/",
    b"POST /restapis/fz/prod/_user_request_/",
    b"POST /restapis/fz/prod/_user_request_/mock/",
    b"GET /restapis/fz/prod/_user_request_/mock",
    b"GET /restapis/fz/prod/_user_request_/keyed",
    b"PUT /restapis/fz/prod/_user_request_/private/",
    b"GET /prod/",
];

/// How long a connection may stay without its answer ending.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// Set by the panic hook: a panic in any of the server's tasks.
static PANICKED: AtomicBool = AtomicBool::new(false);

/// A running server with the API to aim at, and the echo backend behind it.
#[derive(Debug)]
pub struct Fixture {
    runtime: tokio::runtime::Runtime,
    server: Option<Server>,
    gateway: SocketAddr,
    /// The HTTPS listener, and a TLS client that trusts its certificate and offers `h2`.
    https: (
        SocketAddr,
        std::sync::Arc<tokio_rustls::rustls::ClientConfig>,
    ),
    data_dir: PathBuf,
    sent: AtomicUsize,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.shutdown());
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// Starts the server and the backend and sets the API up; `None` when any of it fails.
pub fn fixture() -> Option<Fixture> {
    // A panic in a task is caught by the runtime: the hook is what tells of it. The previous
    // hook still runs (it prints, or under the fuzzer, aborts).
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICKED.store(true, Ordering::SeqCst);
        previous(info);
    }));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .ok()?;
    let pid = std::process::id();
    let data_dir = std::env::temp_dir().join(format!(
        "causeway-fuzz-{pid}-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    ));
    // Load balancers get loopback addresses of their own, away from other test processes.
    let first = std::net::Ipv4Addr::new(127, 200, u8::try_from(pid % 250).unwrap_or(0), 1);
    let (server, backend) = runtime.block_on(async {
        // Under libFuzzer, `main` is not Rust's, which sets SIGPIPE to be ignored: a vectored
        // write (as TLS records are written) on a connection its peer closed would kill the
        // process. A handler of tokio's takes the signal instead.
        let mut pipe = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::pipe()).ok()?;
        tokio::spawn(async move { while pipe.recv().await.is_some() {} });
        let backend = echo_backend().await?;
        // AWS integrations with SQS are signed and sent to the echo backend.
        let mut aws_services = causeway_gateway::aws::AwsServices::new(
            causeway_gateway::aws::AwsCredentials::emulator(),
        );
        aws_services.add(&format!("sqs=http://{backend}")).ok()?;
        let config = Config {
            data_dir: data_dir.clone(),
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            gateway_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            gateway_tls_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            link_listen: None,
            account_throttle: None,
            nlb_addresses: (first, 16),
            aws_services: Some(aws_services),
            ..Config::default()
        };
        let server = Server::start(config).await.ok()?;
        Some((server, backend))
    })?;
    let gateway = server.gateway_addr()?;
    let https = (
        server.gateway_tls_addr()?,
        http2::client_config(&data_dir.join("gateway-tls").join("cert.pem"))?,
    );
    let fixture = Fixture {
        runtime,
        server: Some(server),
        gateway,
        https,
        data_dir,
        sent: AtomicUsize::new(0),
    };
    let control = fixture.server.as_ref()?.control().clone();
    set_up(&control, backend)?;
    // The plan reaches the gateway, and the load balancer its target, a moment later.
    let ready = [
        &b"GET /restapis/fz/prod/_user_request_/ready HTTP/1.1\r\nhost: a\r\n\r\n"[..],
        b"GET /restapis/fz/prod/_user_request_/private/ready HTTP/1.1\r\nhost: a\r\n\r\n",
        // The VPC link V2 is AVAILABLE at the server's next round.
        b"GET /restapis/fz/prod/_user_request_/private/v2 HTTP/1.1\r\nhost: a\r\n\r\n",
    ];
    for request in ready {
        let mut served = false;
        for _ in 0..200 {
            if send(gateway, request)
                .ok()
                .and_then(|answer| status(&answer))
                == Some(200)
            {
                served = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if !served {
            return None;
        }
    }
    Some(fixture)
}

/// An HTTP server that answers every request with its body, and its method and target in
/// headers; with the status the request's `x-status` header asks for, when it is from 200 to
/// 499 (a 5xx of the backend's would pass through HTTP_PROXY and hide the gateway's own).
async fn echo_backend() -> Option<SocketAddr> {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, Method, StatusCode, Uri};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.ok()?;
    let addr = listener.local_addr().ok()?;
    let app = axum::Router::new().fallback(
        |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| async move {
            let kind = headers
                .get("content-type")
                .cloned()
                .unwrap_or(axum::http::HeaderValue::from_static("application/json"));
            let status = headers
                .get("x-status")
                .and_then(|value| value.to_str().ok()?.parse::<u16>().ok())
                .filter(|status| (200..500).contains(status))
                .and_then(|status| StatusCode::from_u16(status).ok())
                .unwrap_or(StatusCode::OK);
            (
                status,
                [
                    ("x-method", method.to_string()),
                    ("x-target", uri.to_string()),
                    ("content-type", kind.to_str().unwrap_or("").to_owned()),
                ],
                body,
            )
        },
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Some(addr)
}

/// The API, its stage, a usage plan with a key, and the load balancer behind the VPC link.
fn set_up(control: &Control, backend: SocketAddr) -> Option<()> {
    let call = |method: &str, path: &str, body: &str| -> Option<Value> {
        let reply = control.handle(&Request {
            method: method.into(),
            path: path.into(),
            query: String::new(),
            body: body.as_bytes().to_vec(),
            accept: None,
            target: None,
        });
        if reply.status >= 300 {
            return None;
        }
        Some(serde_json::from_slice(&reply.body).unwrap_or_default())
    };
    let elb = |form: &str, tag: &str| -> Option<String> {
        let reply = control.handle(&Request {
            method: "POST".into(),
            path: "/".into(),
            query: String::new(),
            body: form.as_bytes().to_vec(),
            accept: None,
            target: None,
        });
        let text = String::from_utf8_lossy(&reply.body);
        let open = format!("<{tag}>");
        let start = text.find(&open)? + open.len();
        let len = text[start..].find('<')?;
        Some(text[start..start + len].to_owned())
    };

    // The load balancer, its target and listener, and the link to it.
    let lb = elb(
        "Action=CreateLoadBalancer&Name=fz&Type=network&Scheme=internal&Subnets.member.1=subnet-1",
        "LoadBalancerArn",
    )?;
    let dns = elb(
        &format!("Action=DescribeLoadBalancers&LoadBalancerArns.member.1={lb}"),
        "DNSName",
    )?;
    let port = backend.port();
    let tg = elb(
        &format!(
            "Action=CreateTargetGroup&Name=fz&Protocol=TCP&Port={port}&TargetType=ip&VpcId=vpc-1"
        ),
        "TargetGroupArn",
    )?;
    elb(
        &format!(
            "Action=RegisterTargets&TargetGroupArn={tg}&Targets.member.1.Id=127.0.0.1&Targets.member.1.Port={port}"
        ),
        // Only a success carries the action's result element (empty here).
        "RegisterTargetsResult",
    )?;
    elb(
        &format!(
            "Action=CreateListener&LoadBalancerArn={lb}&Protocol=TCP&Port=8080&DefaultActions.member.1.Type=forward&DefaultActions.member.1.TargetGroupArn={tg}"
        ),
        "ListenerArn",
    )?;
    let link = call(
        "POST",
        "/vpclinks",
        &format!(r#"{{"name":"fz","targetArns":["{lb}"]}}"#),
    )?;
    let link = link["id"].as_str()?.to_owned();
    let link_v2 = call(
        "POST",
        "/v2/vpclinks",
        r#"{"name":"fz","subnetIds":["subnet-1"]}"#,
    )?;
    let link_v2 = link_v2["vpcLinkId"].as_str()?.to_owned();

    let api = call(
        "POST",
        "/restapis",
        // A resource policy that lets everyone in but denies one item to some user agents, so
        // that every request is evaluated and some are denied.
        // REGIONAL, so that a custom domain with mutual TLS can map it.
        r#"{"name":"fz","endpointConfiguration":{"types":["REGIONAL"]},"tags":{"_custom_id_":"fz"},"policy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"execute-api:Invoke\",\"Resource\":\"execute-api:/*\"},{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"execute-api:*\",\"Resource\":\"execute-api:/*/POST/mock/?\",\"Condition\":{\"StringLike\":{\"aws:UserAgent\":\"*deny*\"},\"NotIpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}}]}"}"#,
    )?;
    let root = api["rootResourceId"].as_str()?.to_owned();
    let resource = |parent: &str, part: &str| -> Option<String> {
        let made = call(
            "POST",
            &format!("/restapis/fz/resources/{parent}"),
            &format!(r#"{{"pathPart":"{part}"}}"#),
        )?;
        Some(made["id"].as_str()?.to_owned())
    };
    let method = |id: &str, verb: &str, method: &str, integration: &str| -> Option<()> {
        let m = format!("/restapis/fz/resources/{id}/methods/{verb}");
        call("PUT", &m, method)?;
        call("PUT", &format!("{m}/integration"), integration)?;
        call("PUT", &format!("{m}/responses/200"), "{}")?;
        Some(())
    };
    let integration_response = |id: &str, verb: &str, status: &str, body: &str| {
        call(
            "PUT",
            &format!("/restapis/fz/resources/{id}/methods/{verb}/integration/responses/{status}"),
            body,
        )
    };

    // An AWS integration with SQS (the echo backend stands in for it): the queue from the
    // path, a form body from the request template, the answer by the service's status.
    let queues = resource(&root, "queues")?;
    let queue = resource(&queues, "{queue}")?;
    method(
        &queue,
        "POST",
        r#"{"authorizationType":"NONE","requestParameters":{"method.request.path.queue":true,"method.request.header.h":false}}"#,
        r#"{"type":"AWS","httpMethod":"POST","uri":"arn:aws:apigateway:us-east-1:sqs:path/000000000000/{queue}","credentials":"arn:aws:iam::000000000000:role/q","requestParameters":{"integration.request.path.queue":"method.request.path.queue","integration.request.header.Content-Type":"'application/x-www-form-urlencoded'","integration.request.header.x-h":"method.request.header.h"},"requestTemplates":{"application/json":"Action=SendMessage&MessageBody=$util.urlEncode($input.body)"},"timeoutInMillis":3000}"#,
    )?;
    integration_response(&queue, "POST", "200", "{}")?;
    method(
        &queue,
        "PUT",
        r#"{"authorizationType":"NONE"}"#,
        r#"{"type":"AWS","httpMethod":"POST","uri":"arn:aws:apigateway:us-east-1:sqs:action/SendMessage&QueueUrl=q","timeoutInMillis":3000}"#,
    )?;
    integration_response(&queue, "PUT", "200", "{}")?;

    // HTTP_PROXY over the internet.
    let proxy = resource(&root, "{proxy+}")?;
    method(
        &proxy,
        "ANY",
        r#"{"authorizationType":"NONE","requestParameters":{"method.request.path.proxy":true,"method.request.querystring.q":false,"method.request.header.h":false}}"#,
        &format!(
            r#"{{"type":"HTTP_PROXY","httpMethod":"ANY","uri":"http://{backend}/{{proxy}}","timeoutInMillis":3000,"requestParameters":{{"integration.request.path.proxy":"method.request.path.proxy"}},"cacheKeyParameters":["method.request.path.proxy","method.request.querystring.q","method.request.header.h"]}}"#
        ),
    )?;
    // MOCK, its answer shaped by the integration response.
    let mock = resource(&root, "mock")?;
    method(
        &mock,
        "GET",
        r#"{"authorizationType":"NONE"}"#,
        r#"{"type":"MOCK","requestTemplates":{"application/json":"{\"statusCode\": 200}"}}"#,
    )?;
    call(
        "PATCH",
        &format!("/restapis/fz/resources/{mock}/methods/GET/responses/200"),
        r#"{"patchOperations":[{"op":"add","path":"/responseParameters/method.response.header.x-mock","value":"false"}]}"#,
    )?;
    integration_response(
        &mock,
        "GET",
        "200",
        r#"{"responseTemplates":{"application/json":"{\"mocked\": true}"},"responseParameters":{"method.response.header.x-mock":"'yes'"}}"#,
    )?;
    // MOCK behind a request validator: a required header and query parameter, and JSON bodies
    // checked against a model that names another (with a pattern and bounds), so that every
    // request to it is validated.
    call(
        "POST",
        "/restapis/fz/models",
        r#"{"name":"Tag","contentType":"application/json","schema":"{\"type\":\"string\",\"pattern\":\"^[a-z]+(-[a-z]+)*$\",\"maxLength\":20}"}"#,
    )?;
    call(
        "POST",
        "/restapis/fz/models",
        r#"{"name":"Item","contentType":"application/json","schema":"{\"type\":\"object\",\"required\":[\"name\"],\"properties\":{\"name\":{\"type\":\"string\",\"minLength\":1},\"n\":{\"type\":\"integer\",\"minimum\":0},\"tags\":{\"type\":\"array\",\"items\":{\"$ref\":\"https://apigateway.amazonaws.com/restapis/fz/models/Tag\"}}}}"}"#,
    )?;
    let validator = call(
        "POST",
        "/restapis/fz/requestvalidators",
        r#"{"name":"all","validateRequestBody":true,"validateRequestParameters":true}"#,
    )?;
    let validator = validator["id"].as_str()?.to_owned();
    let valid = resource(&root, "valid")?;
    method(
        &valid,
        "POST",
        &format!(
            r#"{{"authorizationType":"NONE","requestValidatorId":"{validator}","requestParameters":{{"method.request.header.h":true,"method.request.querystring.q":true}},"requestModels":{{"application/json":"Item","$default":"Item"}}}}"#
        ),
        r#"{"type":"MOCK","requestTemplates":{"application/json":"{\"statusCode\": 200}"}}"#,
    )?;
    integration_response(
        &valid,
        "POST",
        "200",
        r#"{"responseTemplates":{"application/json":"{\"valid\": true}"}}"#,
    )?;
    // HTTP (non-proxy) with parameter mappings and a selection pattern.
    let item = resource(&mock, "{id}")?;
    method(
        &item,
        "POST",
        r#"{"authorizationType":"NONE","requestParameters":{"method.request.path.id":true,"method.request.querystring.q":false,"method.request.header.h":false}}"#,
        &format!(
            r#"{{"type":"HTTP","httpMethod":"POST","uri":"http://{backend}/items/{{id}}","timeoutInMillis":3000,"passthroughBehavior":"WHEN_NO_MATCH","requestParameters":{{"integration.request.path.id":"method.request.path.id","integration.request.querystring.q":"method.request.querystring.q","integration.request.header.x-h":"method.request.header.h","integration.request.header.x-stage":"stageVariables.name"}}}}"#
        ),
    )?;
    // Mapping templates over what a client sends: JSON requests go through a request template
    // (which always makes JSON), and every answer through a response template. Neither reads
    // the payload as JSON, which a client may break (that would be a 500): the `vtl` fuzz
    // target covers `$input.path` and `$input.json` on arbitrary payloads.
    let request_template = concat!(
        r#"{"id": "$util.escapeJavaScript($input.params('id')).replaceAll("\\'","'")", "#,
        r#""q": "$util.escapeJavaScript($input.params('q')).replaceAll("\\'","'")", "#,
        r#""body": "$util.base64Encode($input.body)", "len": $input.body.length(), "#,
        r#""ctx": "$context.requestId", "stage": "$stageVariables.name""#,
        r#"#foreach($i in [1..3]), "k$i": $i#end}"#,
        "\n#set($context.requestOverride.header.x-vtl = $input.params('h'))"
    );
    call(
        "PATCH",
        &format!("/restapis/fz/resources/{item}/methods/POST/integration"),
        &serde_json::json!({"patchOperations": [{
            "op": "add",
            "path": "/requestTemplates/application~1json",
            "value": request_template,
        }]})
        .to_string(),
    )?;
    call(
        "PATCH",
        &format!("/restapis/fz/resources/{item}/methods/POST/responses/200"),
        r#"{"patchOperations":[{"op":"add","path":"/responseParameters/method.response.header.x-target","value":"false"}]}"#,
    )?;
    integration_response(
        &item,
        "POST",
        "200",
        &serde_json::json!({
            "responseParameters": {
                "method.response.header.x-target": "integration.response.header.x-target"
            },
            "responseTemplates": {
                "application/json": "#set($context.responseOverride.header.x-len = $input.body.length())\n{\"echo\": \"$util.base64Encode($input.body)\", \"q\": \"$util.urlEncode($input.params('q'))\"}"
            }
        })
        .to_string(),
    )?;
    call(
        "PUT",
        &format!("/restapis/fz/resources/{item}/methods/POST/responses/400"),
        "{}",
    )?;
    integration_response(&item, "POST", "400", r#"{"selectionPattern":"4\\d{2}"}"#)?;
    // A method that needs an API key.
    let keyed = resource(&root, "keyed")?;
    method(
        &keyed,
        "GET",
        r#"{"authorizationType":"NONE","apiKeyRequired":true}"#,
        r#"{"type":"MOCK","requestTemplates":{"application/json":"{\"statusCode\": 200}"}}"#,
    )?;
    integration_response(&keyed, "GET", "200", "{}")?;
    // HTTP_PROXY through the VPC link, named by stage variables, its answers streamed.
    let private = resource(&root, "private")?;
    let private_proxy = resource(&private, "{proxy+}")?;
    method(
        &private_proxy,
        "ANY",
        r#"{"authorizationType":"NONE","requestParameters":{"method.request.path.proxy":true}}"#,
        r#"{"type":"HTTP_PROXY","httpMethod":"ANY","connectionType":"VPC_LINK","connectionId":"${stageVariables.link}","uri":"http://${stageVariables.nlb}/{proxy}","timeoutInMillis":3000,"responseTransferMode":"STREAM","requestParameters":{"integration.request.path.proxy":"method.request.path.proxy"}}"#,
    )?;
    // HTTP (buffered) through a VPC link V2 to the same load balancer, its target named.
    let v2 = resource(&private, "v2")?;
    method(
        &v2,
        "GET",
        r#"{"authorizationType":"NONE"}"#,
        &format!(
            r#"{{"type":"HTTP_PROXY","httpMethod":"GET","connectionType":"VPC_LINK","connectionId":"{link_v2}","integrationTarget":"{lb}","uri":"http://${{stageVariables.nlb}}/v2"}}"#
        ),
    )?;
    // A customised gateway response with a template.
    call(
        "PUT",
        "/restapis/fz/gatewayresponses/DEFAULT_4XX",
        r#"{"responseParameters":{"gatewayresponse.header.x-error":"'fz'","gatewayresponse.header.x-h":"method.request.multivalueheader.h","gatewayresponse.header.x-q":"method.request.multivaluequerystring.q","gatewayresponse.header.x-path":"context.path","gatewayresponse.header.x-ua":"context.identity.userAgent"},"responseTemplates":{"application/json":"{\"error\":$context.error.messageString,\"type\":\"$context.error.responseType\"}"}}"#,
    )?;
    call(
        "POST",
        "/restapis/fz/deployments",
        &format!(
            r#"{{"stageName":"prod","variables":{{"link":"{link}","nlb":"{dns}:8080","name":"fz"}}}}"#
        ),
    )?;
    // A custom domain, with its certificate imported into ACM: its root to the stage,
    // `/v/{stage}/...` to the API.
    let certificate = {
        use base64::Engine as _;
        let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
        let key = rcgen::KeyPair::generate().ok()?;
        let leaf = rcgen::CertificateParams::new(vec!["fz.example".to_owned()])
            .ok()?
            .self_signed(&key)
            .ok()?;
        let reply = control.handle(&Request {
            method: "POST".into(),
            path: "/".into(),
            query: String::new(),
            body: serde_json::json!({"Certificate": b64(&leaf.pem()), "PrivateKey": b64(&key.serialize_pem())})
                .to_string()
                .into_bytes(),
            accept: None,
            target: Some("CertificateManager.ImportCertificate".into()),
        });
        serde_json::from_slice::<Value>(&reply.body).ok()?["CertificateArn"]
            .as_str()?
            .to_owned()
    };
    call(
        "POST",
        "/domainnames",
        &format!(
            r#"{{"domainName":"fz.example","regionalCertificateArn":"{certificate}","endpointConfiguration":{{"types":["REGIONAL"]}}}}"#
        ),
    )?;
    call(
        "POST",
        "/domainnames/fz.example/basepathmappings",
        r#"{"restApiId":"fz","stage":"prod"}"#,
    )?;
    call(
        "POST",
        "/domainnames/fz.example/basepathmappings",
        r#"{"basePath":"v","restApiId":"fz"}"#,
    )?;
    // A domain with mutual TLS (its truststore a CA of the fixture's, as if read from S3)
    // and one with STRICT endpoint access: over the plain listener, both refuse.
    let truststore = {
        let key = rcgen::KeyPair::generate().ok()?;
        let mut params = rcgen::CertificateParams::new(Vec::new()).ok()?;
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).ok()?.pem()
    };
    let mtls = Request {
        method: "POST".into(),
        path: "/domainnames".into(),
        query: String::new(),
        body: format!(
            r#"{{"domainName":"mtls.fz.example","regionalCertificateArn":"{certificate}","endpointConfiguration":{{"types":["REGIONAL"]}},"mutualTlsAuthentication":{{"truststoreUri":"s3://fuzz-cas/ca.pem"}}}}"#
        )
        .into_bytes(),
        accept: None,
        target: None,
    };
    let first = control.handle(&mtls);
    let Some(causeway_control::Deferred::FetchTruststore(fetch)) = first.deferred else {
        return None;
    };
    let fetched = causeway_control::Fetched {
        fetch: *fetch,
        body: Ok(truststore.into_bytes()),
    };
    if control.handle_fetched(&mtls, &fetched).status != 201 {
        return None;
    }
    call(
        "POST",
        "/domainnames",
        &format!(
            r#"{{"domainName":"strict.fz.example","regionalCertificateArn":"{certificate}","endpointConfiguration":{{"types":["REGIONAL"]}},"securityPolicy":"SecurityPolicy_TLS13_1_3_2025_09","endpointAccessMode":"STRICT"}}"#
        ),
    )?;
    for domain in ["mtls.fz.example", "strict.fz.example"] {
        call(
            "POST",
            &format!("/domainnames/{domain}/basepathmappings"),
            r#"{"restApiId":"fz","stage":"prod"}"#,
        )?;
    }
    // A domain routed by rules only: a header and a two-level base path, stripped.
    call(
        "POST",
        "/domainnames",
        &format!(
            r#"{{"domainName":"rules.fz.example","regionalCertificateArn":"{certificate}","endpointConfiguration":{{"types":["REGIONAL"]}},"routingMode":"ROUTING_RULE_ONLY"}}"#
        ),
    )?;
    call(
        "POST",
        "/v2/domainnames/rules.fz.example/routingrules",
        r#"{"priority":10,"conditions":[{"matchHeaders":{"anyOf":[{"header":"x-version","valueGlob":"beta*"}]}},{"matchBasePaths":{"anyOf":["orders/v2"]}}],"actions":[{"invokeApi":{"apiId":"fz","stage":"prod","stripBasePath":true}}]}"#,
    )?;
    // A WAF web ACL on the stage: rules on the body, headers, query and path through every
    // text transformation, counted (so that they change no answer), one that blocks a
    // header value, and a rate-based rule whose limit is never reached.
    let waf = |operation: &str, body: &str| -> Option<Value> {
        let reply = control.handle(&Request {
            method: "POST".into(),
            path: "/".into(),
            query: String::new(),
            body: body.as_bytes().to_vec(),
            accept: None,
            target: Some(format!("AWSWAF_20190729.{operation}")),
        });
        if reply.status >= 300 {
            return None;
        }
        Some(serde_json::from_slice(&reply.body).unwrap_or_default())
    };
    let transforms = serde_json::json!([
        {"Priority": 0, "Type": "URL_DECODE"}, {"Priority": 1, "Type": "HTML_ENTITY_DECODE"},
        {"Priority": 2, "Type": "BASE64_DECODE"}, {"Priority": 3, "Type": "HEX_DECODE"},
        {"Priority": 4, "Type": "NORMALIZE_PATH"}, {"Priority": 5, "Type": "COMPRESS_WHITE_SPACE"},
        {"Priority": 6, "Type": "REMOVE_NULLS"}, {"Priority": 7, "Type": "LOWERCASE"}]);
    let visibility = serde_json::json!({"SampledRequestsEnabled": false, "CloudWatchMetricsEnabled": false, "MetricName": "m"});
    let decoded = serde_json::json!([{"Priority": 0, "Type": "URL_DECODE"}, {"Priority": 1, "Type": "HTML_ENTITY_DECODE"}]);
    // A regex pattern set, used by a rule group's counting rule, which the web ACL runs.
    let regexes = waf(
        "CreateRegexPatternSet",
        &serde_json::json!({"Name": "fz", "Scope": "REGIONAL",
            "RegularExpressionList": [{"RegexString": "(?i)select.+from"}, {"RegexString": "\\.\\./"}]})
        .to_string(),
    )?;
    let regex_arn = regexes["Summary"]["ARN"].as_str()?.to_owned();
    let group = waf(
        "CreateRuleGroup",
        &serde_json::json!({"Name": "fz", "Scope": "REGIONAL", "Capacity": 200,
            "VisibilityConfig": visibility,
            "Rules": [{"Name": "patterns", "Priority": 0, "Action": {"Count": {}},
                "VisibilityConfig": visibility, "RuleLabels": [{"Name": "pattern"}],
                "Statement": {"RegexPatternSetReferenceStatement": {"ARN": regex_arn,
                    "FieldToMatch": {"QueryString": {}}, "TextTransformations": transforms}}}]})
        .to_string(),
    )?;
    let group_arn = group["Summary"]["ARN"].as_str()?.to_owned();
    let rules = serde_json::json!([
        {"Name": "group", "Priority": 10, "OverrideAction": {"None": {}}, "VisibilityConfig": visibility,
         "Statement": {"RuleGroupReferenceStatement": {"ARN": group_arn}}},
        {"Name": "body", "Priority": 0, "Action": {"Count": {}}, "VisibilityConfig": visibility,
         "RuleLabels": [{"Name": "seen"}],
         "Statement": {"RegexMatchStatement": {"RegexString": "(?i)(<script|union\\s+select)",
            "FieldToMatch": {"Body": {"OversizeHandling": "MATCH"}}, "TextTransformations": transforms}}},
        {"Name": "args", "Priority": 1, "VisibilityConfig": visibility,
         "Action": {"Count": {"CustomRequestHandling": {"InsertHeaders": [{"Name": "args", "Value": "dropped"}]}}},
         "Statement": {"OrStatement": {"Statements": [
            {"ByteMatchStatement": {"SearchString": "ZHJvcA==", "FieldToMatch": {"AllQueryArguments": {}},
                "TextTransformations": transforms, "PositionalConstraint": "CONTAINS_WORD"}},
            {"SizeConstraintStatement": {"FieldToMatch": {"UriPath": {}}, "ComparisonOperator": "GT",
                "Size": 100, "TextTransformations": transforms}},
            {"NotStatement": {"Statement": {"LabelMatchStatement": {"Scope": "NAMESPACE", "Key": "awswaf:"}}}}]}}},
        {"Name": "fields", "Priority": 4, "Action": {"Count": {}}, "VisibilityConfig": visibility,
         "Statement": {"OrStatement": {"Statements": [
            {"ByteMatchStatement": {"SearchString": "cm9vdA==", "FieldToMatch": {"JsonBody": {
                "MatchPattern": {"IncludedPaths": ["/user/role", "/a/0"]}, "MatchScope": "ALL",
                "InvalidFallbackBehavior": "EVALUATE_AS_STRING", "OversizeHandling": "CONTINUE"}},
                "TextTransformations": transforms, "PositionalConstraint": "CONTAINS"}},
            {"ByteMatchStatement": {"SearchString": "YWRtaW4=", "FieldToMatch": {"Cookies": {
                "MatchPattern": {"ExcludedCookies": ["theme"]}, "MatchScope": "ALL", "OversizeHandling": "MATCH"}},
                "TextTransformations": transforms, "PositionalConstraint": "EXACTLY"}},
            {"RegexMatchStatement": {"RegexString": "(?i)sqlmap|nikto", "FieldToMatch": {"Headers": {
                "MatchPattern": {"IncludedHeaders": ["User-Agent", "X-Scanner"]}, "MatchScope": "VALUE",
                "OversizeHandling": "NO_MATCH"}}, "TextTransformations": transforms}}]}}},
        {"Name": "core", "Priority": 7, "OverrideAction": {"Count": {}}, "VisibilityConfig": visibility,
         "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet"}}},
        {"Name": "bad-inputs", "Priority": 8, "OverrideAction": {"Count": {}}, "VisibilityConfig": visibility,
         "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesKnownBadInputsRuleSet",
            "ScopeDownStatement": {"NotStatement": {"Statement": {"LabelMatchStatement": {"Scope": "NAMESPACE", "Key": "awswaf:managed:"}}}}}}},
        {"Name": "attacks", "Priority": 6, "Action": {"Count": {}}, "VisibilityConfig": visibility,
         "Statement": {"OrStatement": {"Statements": [
            {"SqliMatchStatement": {"FieldToMatch": {"AllQueryArguments": {}}, "SensitivityLevel": "HIGH",
                "TextTransformations": decoded}},
            {"SqliMatchStatement": {"FieldToMatch": {"Body": {"OversizeHandling": "CONTINUE"}},
                "TextTransformations": decoded}},
            {"XssMatchStatement": {"FieldToMatch": {"JsonBody": {"MatchPattern": {"All": {}}, "MatchScope": "ALL",
                "InvalidFallbackBehavior": "EVALUATE_AS_STRING", "OversizeHandling": "CONTINUE"}},
                "TextTransformations": decoded}},
            {"XssMatchStatement": {"FieldToMatch": {"Cookies": {"MatchPattern": {"All": {}}, "MatchScope": "VALUE",
                "OversizeHandling": "CONTINUE"}}, "TextTransformations": decoded}}]}}},
        {"Name": "block", "Priority": 2, "Action": {"Block": {}}, "VisibilityConfig": visibility,
         "Statement": {"ByteMatchStatement": {"SearchString": "YmxvY2stbWU=",
            "FieldToMatch": {"SingleHeader": {"Name": "x-waf-test"}},
            "TextTransformations": [{"Priority": 0, "Type": "NONE"}], "PositionalConstraint": "EXACTLY"}}},
        {"Name": "per-key", "Priority": 5, "Action": {"Block": {}}, "VisibilityConfig": visibility,
         "Statement": {"RateBasedStatement": {"Limit": 2_000_000_000u64, "AggregateKeyType": "CUSTOM_KEYS",
            "ForwardedIPConfig": {"HeaderName": "X-Forwarded-For", "FallbackBehavior": "NO_MATCH"},
            "CustomKeys": [
                {"Header": {"Name": "x-api-key", "TextTransformations": transforms}},
                {"Cookie": {"Name": "session", "TextTransformations": transforms}},
                {"QueryArgument": {"Name": "user", "TextTransformations": transforms}},
                {"ForwardedIP": {}},
                {"LabelNamespace": {"Namespace": "awswaf:"}}]}}},
        {"Name": "rate", "Priority": 3, "Action": {"Block": {}}, "VisibilityConfig": visibility,
         "Statement": {"RateBasedStatement": {"Limit": 2_000_000_000u64, "AggregateKeyType": "FORWARDED_IP",
            "ForwardedIPConfig": {"HeaderName": "X-Forwarded-For", "FallbackBehavior": "MATCH"}}}}]);
    let acl = waf(
        "CreateWebACL",
        &serde_json::json!({"Name": "fz", "Scope": "REGIONAL",
            "DefaultAction": {"Allow": {"CustomRequestHandling": {"InsertHeaders": [{"Name": "acl", "Value": "fz"}]}}},
            "VisibilityConfig": visibility, "Rules": rules})
        .to_string(),
    )?;
    let acl_arn = acl["Summary"]["ARN"].as_str()?.to_owned();
    waf(
        "AssociateWebACL",
        &format!(
            r#"{{"WebACLArn":"{acl_arn}","ResourceArn":"arn:aws:apigateway:us-east-1::/restapis/fz/stages/prod"}}"#
        ),
    )?;
    // The stage cache: GETs of the greedy proxy by path, `q` and `h`; POSTs of the HTTP
    // integration by their own override.
    call(
        "PATCH",
        "/restapis/fz/stages/prod",
        r#"{"patchOperations":[{"op":"replace","path":"/cacheClusterEnabled","value":"true"},{"op":"replace","path":"/*/*/caching/enabled","value":"true"},{"op":"replace","path":"/~1mock~1{id}/POST/caching/enabled","value":"true"}]}"#,
    )?;
    let key = call(
        "POST",
        "/apikeys",
        r#"{"name":"fz","enabled":true,"value":"fuzz-key-0123456789abcdef"}"#,
    )?;
    let key = key["id"].as_str()?.to_owned();
    let plan = call(
        "POST",
        "/usageplans",
        r#"{"name":"fz","apiStages":[{"apiId":"fz","stage":"prod"}],"throttle":{"burstLimit":1000,"rateLimit":1000}}"#,
    )?;
    let plan = plan["id"].as_str()?.to_owned();
    call(
        "POST",
        &format!("/usageplans/{plan}/keys"),
        &format!(r#"{{"keyId":"{key}","keyType":"API_KEY"}}"#),
    )?;
    Some(())
}

/// Writes `bytes` on a new connection, shuts its sending side, and returns all the server
/// sent until it closed; else why not: the connection failed, or it did not close within
/// [`ANSWER_WITHIN`].
fn send(gateway: SocketAddr, bytes: &[u8]) -> Result<Vec<u8>, String> {
    let started = std::time::Instant::now();
    let mut stream =
        TcpStream::connect(gateway).map_err(|error| format!("connecting failed: {error}"))?;
    stream
        .set_read_timeout(Some(ANSWER_WITHIN))
        .map_err(|error| error.to_string())?;
    // The server may answer and close before it read everything: a failed write is fine.
    let _ = stream.write_all(bytes);
    let _ = stream.shutdown(Shutdown::Write);
    let mut answer = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let stalled = |answer: &[u8]| {
        format!(
            "no close after {:?} ({} bytes of answer: {:?})",
            started.elapsed(),
            answer.len(),
            String::from_utf8_lossy(answer)
        )
    };
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Ok(answer),
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {
                return Ok(answer);
            }
            // A signal to this process (the fuzzer's own timers) is not the server's doing.
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(stalled(&answer));
            }
            Err(error) => return Err(format!("reading failed: {error}")),
        }
        if started.elapsed() > ANSWER_WITHIN {
            return Err(stalled(&answer));
        }
    }
}

/// The status of the first response in `answer`, if it starts with a whole response head.
fn status(answer: &[u8]) -> Option<u16> {
    match causeway_http1::parse_response(answer, false) {
        Ok(Some(head)) => Some(head.status),
        _ => None,
    }
}

/// Sends one request stream built from `data` and checks what the server answers.
pub fn exercise(fixture: &Fixture, data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let mut bytes = Vec::with_capacity(data.len() + 64);
    if selector % 8 != 7 {
        bytes.extend_from_slice(PREFIXES[usize::from(selector) % PREFIXES.len()]);
    }
    bytes.extend_from_slice(rest);

    let answer = match send(fixture.gateway, &bytes) {
        Ok(answer) => answer,
        Err(why) => panic!("{why}, for {:?}", String::from_utf8_lossy(&bytes)),
    };
    assert!(
        !PANICKED.load(Ordering::SeqCst),
        "the server panicked on {:?}",
        String::from_utf8_lossy(&bytes)
    );
    if !answer.is_empty() {
        let head = causeway_http1::parse_response(&answer, false);
        let Ok(Some(head)) = head else {
            panic!(
                "the answer does not start with a response head: {head:?}\nrequest {:?}\nanswer {:?}",
                String::from_utf8_lossy(&bytes),
                String::from_utf8_lossy(&answer)
            );
        };
        assert!(
            (100..500).contains(&head.status),
            "status {} for {:?}\nanswer {:?}",
            head.status,
            String::from_utf8_lossy(&bytes),
            String::from_utf8_lossy(&answer)
        );
    }
    // Now and then, a well-formed request still gets its answer.
    if fixture.sent.fetch_add(1, Ordering::Relaxed) % 256 == 255 {
        check_alive(fixture);
    }
}

/// Asserts that the server still answers a well-formed request on each path.
pub fn check_alive(fixture: &Fixture) {
    for request in [
        &b"GET /restapis/fz/prod/_user_request_/alive HTTP/1.1\r\nhost: a\r\n\r\n"[..],
        b"GET /restapis/fz/prod/_user_request_/mock HTTP/1.1\r\nhost: a\r\n\r\n",
        b"GET /restapis/fz/prod/_user_request_/private/alive HTTP/1.1\r\nhost: a\r\n\r\n",
        b"GET /restapis/fz/prod/_user_request_/private/v2 HTTP/1.1\r\nhost: a\r\n\r\n",
    ] {
        let answer = send(fixture.gateway, request).unwrap_or_default();
        assert_eq!(
            status(&answer),
            Some(200),
            "the server stopped serving: {:?}",
            String::from_utf8_lossy(&answer)
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use rand::{Rng, SeedableRng};

    use super::*;

    /// Seeds for the random requests: whole and cut requests on every method of the API,
    /// pipelined ones (a cached GET refreshed, then answered from the cache), bodies by
    /// length and chunked, and hostile heads.
    const SEEDS: &[&[u8]] = &[
        b"\x00a/b?c=d HTTP/1.1\r\nhost: x\r\n\r\n",
        b"\x00k%2F?q=1&q=%zz&q HTTP/1.1\r\nh: one\r\nH: two\r\ncache-control: max-age=0\r\n\r\nGET /restapis/fz/prod/_user_request_/k%2F?q=1&q=%zz&q HTTP/1.1\r\nh: one\r\nH: two\r\n\r\n",
        b"\x01x HTTP/1.1\r\ncontent-length: 5\r\ncontent-type: text/plain\r\n\r\nhello",
        b"\x0142 HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"\x0242?q=1 HTTP/1.1\r\nh: v\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
        b"\x03 HTTP/1.1\r\nhost: x\r\n\r\nGET /restapis/fz/prod/_user_request_/mock HTTP/1.1\r\n\r\n",
        b"\x04 HTTP/1.1\r\nx-api-key: fuzz-key-0123456789abcdef\r\n\r\n",
        b"\x04 HTTP/1.1\r\nx-api-key: wrong\r\n\r\n",
        b"\x00a?id=1%27%20or%20%271%27%3D%271&q=%3Cscript%3E HTTP/1.1\r\ncookie: s=<svg onload=x>\r\n\r\n",
        b"\x0242 HTTP/1.1\r\ncontent-type: application/json\r\ncontent-length: 36\r\n\r\n{\"c\": \"<img src=x onerror=f()> '--\"}",
        b"\x05a/b HTTP/1.1\r\ncontent-length: 3\r\nexpect: 100-continue\r\n\r\nabc",
        b"\x06x HTTP/1.1\r\nhost: fz.execute-api.localhost\r\n\r\n",
        b"\x07POST /restapis/fz/prod/_user_request_/queues/jobs HTTP/1.1\r\nh: v\r\ncontent-type: application/json\r\ncontent-length: 8\r\n\r\n{\"a\": 1}",
        b"\x07GET http://fz.execute-api.localhost/prod/x HTTP/1.1\r\nhost: other\r\n\r\n",
        b"\x07OPTIONS * HTTP/1.1\r\n\r\n",
        b"\x07GET /restapis/fz/nope/_user_request_/x HTTP/1.0\r\n\r\n",
        b"\x00%zz%00/..%2f HTTP/1.1\r\nconnection: close\r\n\r\n",
        b"\x01x HTTP/1.1\r\ncontent-length: 99999999999\r\n\r\n",
        b"\x01x HTTP/1.1\r\ntransfer-encoding: chunked\r\ncontent-length: 3\r\n\r\nzz\r\n",
        b"\x0242 HTTP/1.1\r\nx-status: 404\r\ncontent-length: 1\r\n\r\nx",
        b"\x00gone HTTP/1.1\r\nx-status: 304\r\n\r\n",
        b"\x05p HTTP/1.1\r\ntransfer-encoding: chunked\r\nx-status: 201\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        b"\x07HEAD /restapis/fz/prod/_user_request_/h HTTP/1.1\r\n\r\nGET /restapis/fz/prod/_user_request_/mock HTTP/1.1\r\n\r\n",
        b"\x027 HTTP/1.1\r\nuser-agent: deny\r\ncontent-length: 2\r\ncontent-type: application/json\r\n\r\n{}",
        b"\x01valid?q=1 HTTP/1.1\r\nh: x\r\ncontent-type: application/json\r\ncontent-length: 33\r\n\r\n{\"name\":\"a\",\"n\":1,\"tags\":[\"a-b\"]}",
        b"\x01valid HTTP/1.1\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 2\r\n\r\n{}",
        b"\x07GET /mock HTTP/1.1\r\nhost: FZ.example:80\r\n\r\n",
        b"\x07GET /v/prod/a/b HTTP/1.1\r\nhost: fz.example\r\n\r\nGET /v HTTP/1.1\r\nhost: fz.example\r\n\r\n",
        b"\x07GET /mock/4 HTTP/1.1\r\nhost: mtls.fz.example\r\n\r\nGET /mock/4 HTTP/1.1\r\nhost: strict.fz.example\r\n\r\n",
        b"\x07GET /orders/v2/mock/4 HTTP/1.1\r\nhost: rules.fz.example\r\nx-version: beta-1\r\n\r\nGET /orders/v2 HTTP/1.1\r\nhost: rules.fz.example\r\nX-Version: alpha\r\n\r\n",
    ];

    /// The fixture's templates are in force, so the fuzzer drives requests through them.
    fn assert_templates_apply(fixture: &Fixture) {
        let request = b"POST /restapis/fz/prod/_user_request_/mock/4%27?q=it%27s HTTP/1.1\r\nh: hv\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";
        let answer = send(fixture.gateway, request).unwrap();
        let text = String::from_utf8_lossy(&answer).into_owned();
        assert_eq!(status(&answer), Some(200), "{text}");
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        // The response template's header: the length of what the backend echoed, which is
        // what the request template made of `{}`.
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("x-len: "))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or_else(|| panic!("no x-len header: {head}"));
        assert!(length > 100, "{head}");
        let body: Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["q"], "it%27s", "$util.urlEncode of the decoded q");
        assert!(body["echo"].as_str().is_some_and(|echo| echo.len() > 100));
    }

    /// The AWS integration with SQS reaches the echo backend, signed, with the form body
    /// its template writes.
    fn assert_aws_service_applies(fixture: &Fixture) {
        let request = b"POST /restapis/fz/prod/_user_request_/queues/jobs HTTP/1.1\r\ncontent-type: application/json\r\ncontent-length: 8\r\nconnection: close\r\n\r\n{\"a\": 1}";
        let answer = send(fixture.gateway, request).unwrap();
        let text = String::from_utf8_lossy(&answer).into_owned();
        assert_eq!(status(&answer), Some(200), "{text}");
        assert!(
            text.ends_with("Action=SendMessage&MessageBody=%7B%22a%22%3A+1%7D"),
            "{text}"
        );
    }

    /// The fixture's resource policy is in force: one user agent is denied one-character items.
    fn assert_policy_applies(fixture: &Fixture) {
        let request = |agent: &str| {
            format!(
                "POST /restapis/fz/prod/_user_request_/mock/4 HTTP/1.1\r\nuser-agent: {agent}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            )
        };
        let denied = send(fixture.gateway, request("please-deny-me").as_bytes()).unwrap();
        let text = String::from_utf8_lossy(&denied).into_owned();
        assert_eq!(status(&denied), Some(403), "{text}");
        assert!(text.contains("AccessDeniedException"), "{text}");
        let allowed = send(fixture.gateway, request("curl").as_bytes()).unwrap();
        assert_eq!(
            status(&allowed),
            Some(200),
            "{}",
            String::from_utf8_lossy(&allowed)
        );
    }

    /// The fixture's web ACL is in force: one header value is blocked.
    fn assert_waf_applies(fixture: &Fixture) {
        let request = |value: &str| {
            format!(
                "POST /restapis/fz/prod/_user_request_/mock/4 HTTP/1.1\r\nx-waf-test: {value}\r\nuser-agent: curl\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            )
        };
        let blocked = send(fixture.gateway, request("block-me").as_bytes()).unwrap();
        let text = String::from_utf8_lossy(&blocked).into_owned();
        assert_eq!(status(&blocked), Some(403), "{text}");
        assert!(text.contains("ForbiddenException"), "{text}");
        let allowed = send(fixture.gateway, request("let-me").as_bytes()).unwrap();
        assert_eq!(
            status(&allowed),
            Some(200),
            "{}",
            String::from_utf8_lossy(&allowed)
        );
    }

    /// The fixture's custom domain routes by Host and base path.
    fn assert_domain_applies(fixture: &Fixture) {
        let request = |host: &str, path: &str| {
            format!(
                "POST {path} HTTP/1.1\r\nhost: {host}\r\nuser-agent: curl\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            )
        };
        for (host, path) in [
            ("FZ.example:80", "/mock/4"),
            ("fz.example", "/v/prod/mock/4"),
        ] {
            let answer = send(fixture.gateway, request(host, path).as_bytes()).unwrap();
            assert_eq!(
                status(&answer),
                Some(200),
                "{host}{path}: {}",
                String::from_utf8_lossy(&answer)
            );
        }
        // The routing rule sends a request with its header and base path to the stage,
        // the base path stripped; nothing else (the domain has no mapping).
        let answer = send(
            fixture.gateway,
            b"POST /orders/v2/mock/4 HTTP/1.1\r\nhost: rules.fz.example\r\nx-version: beta-1\r\nuser-agent: curl\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        )
        .unwrap();
        assert_eq!(
            status(&answer),
            Some(200),
            "{}",
            String::from_utf8_lossy(&answer)
        );
        let answer = send(
            fixture.gateway,
            b"POST /orders/v2/mock/4 HTTP/1.1\r\nhost: rules.fz.example\r\nx-version: alpha\r\nuser-agent: curl\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        )
        .unwrap();
        assert_eq!(
            status(&answer),
            Some(403),
            "{}",
            String::from_utf8_lossy(&answer)
        );
        // Mutual TLS and STRICT access refuse what does not come over HTTPS for them.
        for host in ["mtls.fz.example", "strict.fz.example"] {
            let answer = send(fixture.gateway, request(host, "/mock/4").as_bytes()).unwrap();
            assert_eq!(
                status(&answer),
                Some(403),
                "{host}: {}",
                String::from_utf8_lossy(&answer)
            );
        }
    }

    /// The fixture's request validator is in force: a valid item passes, a bad one does not.
    fn assert_validation_applies(fixture: &Fixture) {
        let request = |body: &str| {
            format!(
                "POST /restapis/fz/prod/_user_request_/valid?q=1 HTTP/1.1\r\nh: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
        };
        let good = send(
            fixture.gateway,
            request(r#"{"name":"a","tags":["b-c"]}"#).as_bytes(),
        )
        .unwrap();
        assert_eq!(
            status(&good),
            Some(200),
            "{}",
            String::from_utf8_lossy(&good)
        );
        let bad = send(
            fixture.gateway,
            request(r#"{"name":"a","tags":["B"]}"#).as_bytes(),
        )
        .unwrap();
        let text = String::from_utf8_lossy(&bad).into_owned();
        assert_eq!(status(&bad), Some(400), "{text}");
        assert!(text.contains("Invalid request body"), "{text}");
    }

    #[test]
    fn seeded_random_requests_never_fail_the_gateway() {
        let fixture = fixture().expect("the fuzz fixture could not be built");
        assert_templates_apply(&fixture);
        assert_policy_applies(&fixture);
        assert_validation_applies(&fixture);
        assert_domain_applies(&fixture);
        assert_waf_applies(&fixture);
        assert_aws_service_applies(&fixture);
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        for seed in SEEDS {
            exercise(&fixture, seed);
        }
        for _ in 0..1500 {
            let mut data = SEEDS[rng.random_range(0..SEEDS.len())].to_vec();
            // A few byte flips, insertions, deletions and cuts.
            for _ in 0..rng.random_range(1..6) {
                let at = rng.random_range(0..data.len());
                match rng.random_range(0..5) {
                    0 => data[at] = rng.random(),
                    1 => data.insert(at, rng.random()),
                    2 if data.len() > 2 => {
                        data.remove(at);
                    }
                    3 => data.truncate(at.max(1)),
                    _ => {
                        let byte = *b"\r\n:/?%{} \t\0"
                            .get(rng.random_range(0..11))
                            .unwrap_or(&b' ');
                        data.insert(at, byte);
                    }
                }
            }
            exercise(&fixture, &data);
        }
        check_alive(&fixture);

        // HTTP/2 on the HTTPS listener: a well-formed script, then random ones (every byte
        // string is a script: the first bytes pick frames, the rest fill them).
        http2::check_alive_http2(&fixture);
        for _ in 0..400 {
            let len = rng.random_range(1..600);
            let data: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            http2::exercise_http2(&fixture, &data);
        }
        http2::check_alive_http2(&fixture);
        check_alive(&fixture);
    }
}
