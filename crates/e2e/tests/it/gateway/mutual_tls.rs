//! Custom domains' own TLS settings over the HTTPS listener: mutual TLS with a truststore
//! read from S3 (a real S3-compatible server, moto's, set up with the aws CLI) and checked
//! with curl presenting client certificates; enhanced security policies and STRICT
//! endpoint access.

use std::process::{Child, Command, Stdio};

use aws_sdk_apigateway::types::{
    EndpointConfiguration, EndpointType, MutualTlsAuthenticationInput,
};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

use super::https::curl_with;
use super::*;

/// moto's server (S3 and the other AWS services it emulates) on a port of its own,
/// stopped when dropped.
pub(super) struct MotoServer {
    child: Child,
    port: u16,
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl MotoServer {
    pub(super) async fn start() -> MotoServer {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("these tests need moto's server (.ci/run installs moto[server])");
        let server = MotoServer { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "moto's server did not start on {port}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        server
    }

    pub(super) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `aws s3api <args>` against this server; its JSON answer (`null` when it prints none).
    async fn s3api(&self, args: &[&str]) -> Value {
        aws(&self.url(), "s3api", args).await
    }

    /// Puts `body` at `bucket`/`key`; the version id, when the bucket keeps versions.
    async fn put(&self, bucket: &str, key: &str, body: &str) -> Option<String> {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), body).unwrap();
        let path = file.path().to_str().unwrap().to_owned();
        let answer = self
            .s3api(&[
                "put-object",
                "--bucket",
                bucket,
                "--key",
                key,
                "--body",
                &path,
            ])
            .await;
        answer["VersionId"].as_str().map(str::to_owned)
    }
}

/// `aws <service> <args>` against `endpoint`; its JSON answer (`null` when it prints none).
pub(super) async fn aws(endpoint: &str, service: &str, args: &[&str]) -> Value {
    let mut command = Command::new("aws");
    command
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .args(["--endpoint-url", endpoint, "--output", "json", service])
        .args(args);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("these tests need the aws CLI (.ci/run installs it)");
    assert!(
        output.status.success(),
        "aws {service} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
}

/// A certificate authority.
struct Authority {
    certificate: rcgen::Certificate,
    key: KeyPair,
}

impl Authority {
    fn new(name: &str) -> Authority {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::new()).unwrap();
        params.distinguished_name.push(DnType::CountryName, "US");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Example");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let certificate = params.self_signed(&key).unwrap();
        Authority { certificate, key }
    }

    fn pem(&self) -> String {
        self.certificate.pem()
    }

    /// A client certificate for `name`, written to `dir` as `{name}.pem` and
    /// `{name}.key`: the two paths.
    fn client(&self, dir: &std::path::Path, name: &str) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::new()).unwrap();
        params.distinguished_name.push(DnType::CountryName, "US");
        params.distinguished_name.push(DnType::CommonName, name);
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x0a, 0x1b, 0x2c]));
        let certificate = params
            .signed_by(&key, &self.certificate, &self.key)
            .unwrap();
        let (cert, key_path) = (
            dir.join(format!("{name}.pem")),
            dir.join(format!("{name}.key")),
        );
        std::fs::write(&cert, certificate.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        (
            cert.to_str().unwrap().to_owned(),
            key_path.to_str().unwrap().to_owned(),
        )
    }
}

/// Calls until the answer is `status` (a change reaches the listener a moment after the
/// management API answers); the body.
async fn until_status(
    ca: &str,
    name: &str,
    port: u16,
    path: &str,
    extra: &[&str],
    status: u16,
) -> String {
    let deadline = Instant::now() + Invoke::PATIENCE;
    loop {
        let outcome = curl_with(ca, name, port, path, extra).await;
        if let Ok((got, body)) = &outcome
            && *got == status
        {
            return body.clone();
        }
        assert!(
            Instant::now() < deadline,
            "https://{name}:{port}{path} {extra:?}: not {status} after {:?}; the last: {outcome:?}",
            Invoke::PATIENCE
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A server with an HTTPS listener that reads truststores from `s3` (signing with test
/// credentials), `tweak`ed; the HTTPS port.
async fn mtls_server(
    s3: &MotoServer,
    tweak: impl Fn(&mut causeway_server::Config) + Send + Sync + 'static,
) -> (TestServer, u16) {
    let url = s3.url();
    let server = TestServer::start_with(move |config| {
        config.gateway_tls_listen = Some("127.0.0.1:0".parse().unwrap());
        let mut endpoint = causeway_server::s3::S3Endpoint::parse(&url, "us-east-1").unwrap();
        endpoint.credentials = Some(causeway_server::AwsCredentials {
            access_key_id: "test".into(),
            secret_access_key: "test".into(),
            session_token: None,
        });
        config.s3_endpoint = Some(endpoint);
        tweak(config);
    })
    .await;
    let port = server.server().gateway_tls_addr().unwrap().port();
    (server, port)
}

/// An API whose MOCK `GET /whoami` answers with the client certificate's fields as
/// `$context` shows them, deployed to `prod`.
async fn whoami_api(client: &Client) -> String {
    let (api, root) = create_api(client, "whoami").await;
    make_regional(client, &api).await;
    let resource = create_resource(client, &api, &root, "whoami").await;
    put_method(client, &api, &resource, "GET").await;
    method_response(client, &api, &resource, "GET", "200").await;
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&resource)
        .http_method("GET")
        .r#type(IntegrationType::Mock)
        .request_templates("application/json", r#"{"statusCode": 200}"#)
        .send()
        .await
        .unwrap();
    let template = r#"{"subject": "$context.identity.clientCert.subjectDN", "issuer": "$context.identity.clientCert.issuerDN", "serial": "$context.identity.clientCert.serialNumber", "notAfter": "$context.identity.clientCert.validity.notAfter", "pem": "$util.escapeJavaScript($context.identity.clientCert.clientCertPem)"}"#;
    client
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&resource)
        .http_method("GET")
        .status_code("200")
        .response_templates("application/json", template)
        .send()
        .await
        .unwrap();
    deploy(client, &api, "prod").await;
    api
}

/// Makes an API (EDGE when created without an endpoint type, as on AWS) REGIONAL, which a
/// domain with mutual TLS needs.
async fn make_regional(client: &Client, api: &str) {
    client
        .update_rest_api()
        .rest_api_id(api)
        .patch_operations(replace("/endpointConfiguration/types/EDGE", "REGIONAL"))
        .send()
        .await
        .unwrap();
}

fn truststore(uri: &str, version: Option<&str>) -> MutualTlsAuthenticationInput {
    MutualTlsAuthenticationInput::builder()
        .truststore_uri(uri)
        .set_truststore_version(version.map(str::to_owned))
        .build()
}

/// The message of a BadRequestException.
fn bad_request_message<E>(error: aws_sdk_apigateway::error::SdkError<E>) -> String
where
    E: std::fmt::Debug + aws_sdk_apigateway::error::ProvideErrorMetadata,
{
    let service = error.as_service_error().expect("a service error");
    assert_eq!(service.code(), Some("BadRequestException"), "{service:?}");
    service.message().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn mutual_tls_domains_admit_clients_their_truststore_trusts() {
    let s3 = MotoServer::start().await;
    s3.s3api(&["create-bucket", "--bucket", "truststores"])
        .await;
    s3.s3api(&[
        "put-bucket-versioning",
        "--bucket",
        "truststores",
        "--versioning-configuration",
        "Status=Enabled",
    ])
    .await;
    let clients = Authority::new("Client CA");
    let others = Authority::new("Other CA");
    let first = s3.put("truststores", "ca.pem", &clients.pem()).await;
    let (server, port) = mtls_server(&s3, |_| {}).await;
    let client = server.client();
    let api = whoami_api(&client).await;
    let (server_ca, leaf, key) = crate::acm::issued("Server CA", &["mtls.example.com"]);
    let certificate = crate::acm::import(&server, &leaf, &key, None).await;
    let regional = || {
        EndpointConfiguration::builder()
            .types(EndpointType::Regional)
            .build()
    };

    // Refusals, each before anything is kept.
    let create = || {
        client
            .create_domain_name()
            .domain_name("mtls.example.com")
            .regional_certificate_arn(&certificate)
            .endpoint_configuration(regional())
    };
    let cases = [
        (
            create()
                .endpoint_configuration(
                    EndpointConfiguration::builder()
                        .types(EndpointType::Edge)
                        .build(),
                )
                .certificate_arn(&certificate)
                .mutual_tls_authentication(truststore("s3://truststores/ca.pem", None)),
            "Mutual TLS authentication is supported for Regional APIs only",
        ),
        (
            create()
                .security_policy(aws_sdk_apigateway::types::SecurityPolicy::Tls10)
                .mutual_tls_authentication(truststore("s3://truststores/ca.pem", None)),
            "requires a minimum TLS version of 1.2",
        ),
        (
            create().mutual_tls_authentication(truststore("https://truststores/ca.pem", None)),
            "Invalid truststore URI 'https://truststores/ca.pem'",
        ),
        (
            create().mutual_tls_authentication(truststore("s3://truststores/missing.pem", None)),
            "Unable to read the truststore at s3://truststores/missing.pem: S3 answered 404 Not Found (NoSuchKey)",
        ),
    ];
    for (request, expected) in cases {
        let message = bad_request_message(request.send().await.unwrap_err());
        assert!(
            message.contains(expected),
            "{message} should contain {expected}"
        );
    }
    assert!(
        client
            .get_domain_names()
            .send()
            .await
            .unwrap()
            .items()
            .is_empty()
    );

    // The domain with mutual TLS: the truststore's version as S3 named it.
    let created = create()
        .mutual_tls_authentication(truststore("s3://truststores/ca.pem", first.as_deref()))
        .send()
        .await
        .unwrap();
    let mutual = created.mutual_tls_authentication().unwrap();
    assert_eq!(mutual.truststore_uri(), Some("s3://truststores/ca.pem"));
    assert_eq!(mutual.truststore_version(), first.as_deref());
    assert!(mutual.truststore_warnings().is_empty());
    client
        .create_base_path_mapping()
        .domain_name("mtls.example.com")
        .rest_api_id(&api)
        .stage("prod")
        .send()
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let (trusted, trusted_key) = clients.client(dir.path(), "alice");
    let (untrusted, untrusted_key) = others.client(dir.path(), "mallory");
    let with_alice = ["--cert", trusted.as_str(), "--key", trusted_key.as_str()];
    let with_mallory = [
        "--cert",
        untrusted.as_str(),
        "--key",
        untrusted_key.as_str(),
    ];
    let body = until_status(
        &server_ca,
        "mtls.example.com",
        port,
        "/whoami",
        &with_alice,
        200,
    )
    .await;
    let seen: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    // In the certificate's order (rcgen writes the common name first).
    assert_eq!(seen["subject"], "CN=alice,C=US", "{body}");
    assert_eq!(seen["issuer"], "CN=Client CA,C=US,O=Example", "{body}");
    assert_eq!(seen["serial"], "0a:1b:2c", "{body}");
    assert!(
        seen["notAfter"].as_str().unwrap().ends_with(" GMT"),
        "{body}"
    );
    assert_eq!(
        seen["pem"].as_str().unwrap().replace("\\n", "\n"),
        std::fs::read_to_string(&trusted)
            .unwrap()
            .replace("\r\n", "\n"),
    );
    // No certificate, or one the truststore does not trust: 403, AWS's Forbidden.
    for extra in [&[][..], &with_mallory[..]] {
        let (status, body) = curl_with(&server_ca, "mtls.example.com", port, "/whoami", extra)
            .await
            .unwrap();
        assert_eq!(
            (status, body.as_str()),
            (403, r#"{"message":"Forbidden"}"#),
            "{extra:?}"
        );
    }
    // Over HTTP/2 alike (the version curl used is the body's last line).
    let over_h2 = ["--http2", "-w", "\n%{http_version}\n%{http_code}"];
    let (status, body) = curl_with(
        &server_ca,
        "mtls.example.com",
        port,
        "/whoami",
        &[&with_alice[..], &over_h2[..]].concat(),
    )
    .await
    .unwrap();
    let (body, version) = body.rsplit_once('\n').unwrap();
    assert_eq!((status, version), (200, "2"), "{body}");
    let seen: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(seen["subject"], "CN=alice,C=US", "{body}");
    let (status, body) = curl_with(
        &server_ca,
        "mtls.example.com",
        port,
        "/whoami",
        &[&with_mallory[..], &over_h2[..]].concat(),
    )
    .await
    .unwrap();
    assert_eq!(
        (status, body.as_str()),
        (403, "{\"message\":\"Forbidden\"}\n2")
    );
    // The stage's access log shows a refused client's certificate, as AWS's does.
    client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .patch_operations(replace(
            "/accessLogSettings/destinationArn",
            "arn:aws:logs:us-east-1:000000000000:log-group:mtls",
        ))
        .patch_operations(replace(
            "/accessLogSettings/format",
            r#"{"id":"$context.requestId","status":"$context.status","subject":"$context.identity.clientCert.subjectDN"}"#,
        ))
        .send()
        .await
        .unwrap();
    let log = server.data_dir().join("access-logs").join("mtls.log");
    let deadline = Instant::now() + Invoke::PATIENCE;
    loop {
        let (status, _) = curl_with(
            &server_ca,
            "mtls.example.com",
            port,
            "/whoami",
            &with_mallory,
        )
        .await
        .unwrap();
        assert_eq!(status, 403);
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains(r#""status":"403","subject":"CN=mallory,C=US"}"#) {
            break;
        }
        assert!(Instant::now() < deadline, "no refusal logged: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The same domain over plain HTTP has no client certificate: refused too.
    let invoke = Invoke::new(&server, &api);
    let plain = invoke
        .send(
            invoke
                .request_url("GET", &format!("http://{}/whoami", server.gateway_addr()))
                .header("host", "mtls.example.com"),
        )
        .await;
    assert_eq!(plain.status, 403, "{}", plain.text());
    // The execute-api URL is not the custom domain: no client certificate is asked for.
    let listener =
        std::fs::read_to_string(server.data_dir().join("gateway-tls").join("cert.pem")).unwrap();
    let host = format!("{api}.execute-api.localhost");
    let (status, _) = curl_with(&listener, &host, port, "/prod/whoami", &[])
        .await
        .unwrap();
    assert_eq!(status, 200);

    // A new version of the truststore, trusting the other authority: read when the domain
    // names it.
    let second = s3.put("truststores", "ca.pem", &others.pem()).await;
    assert_ne!(second, first);
    let updated = client
        .update_domain_name()
        .domain_name("mtls.example.com")
        .patch_operations(replace(
            "/mutualTlsAuthentication/truststoreVersion",
            second.as_deref().unwrap(),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        updated
            .mutual_tls_authentication()
            .unwrap()
            .truststore_version(),
        second.as_deref()
    );
    until_status(
        &server_ca,
        "mtls.example.com",
        port,
        "/whoami",
        &with_mallory,
        200,
    )
    .await;
    until_status(
        &server_ca,
        "mtls.example.com",
        port,
        "/whoami",
        &with_alice,
        403,
    )
    .await;

    // A truststore with an intermediate whose root is missing gives a warning, and is kept.
    let issuing = {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "Issuing CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .signed_by(&key, &clients.certificate, &clients.key)
            .unwrap()
    };
    s3.put("truststores", "partial.pem", &issuing.pem()).await;
    let warned = client
        .update_domain_name()
        .domain_name("mtls.example.com")
        .patch_operations(replace(
            "/mutualTlsAuthentication/truststoreUri",
            "s3://truststores/partial.pem",
        ))
        .patch_operations(remove("/mutualTlsAuthentication/truststoreVersion"))
        .send()
        .await
        .unwrap();
    let warnings = warned
        .mutual_tls_authentication()
        .unwrap()
        .truststore_warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("CN=Issuing CA"), "{warnings:?}");
    let (status, _) = curl_with(&server_ca, "mtls.example.com", port, "/whoami", &with_alice)
        .await
        .unwrap();
    assert_eq!(status, 403);
    // The domain cannot move to an access mode while it has mutual TLS.
    let message = bad_request_message(
        client
            .update_domain_name()
            .domain_name("mtls.example.com")
            .patch_operations(replace("/endpointAccessMode", "STRICT"))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(message, "/endpointAccessMode Invalid request input");

    // The aws CLI, as the README shows it.
    let made = aws(
        &format!("http://{}", server.addr()),
        "apigateway",
        &[
            "create-domain-name",
            "--domain-name",
            "cli.example.com",
            "--regional-certificate-arn",
            &certificate,
            "--endpoint-configuration",
            "types=REGIONAL",
            "--security-policy",
            "TLS_1_2",
            "--mutual-tls-authentication",
            "truststoreUri=s3://truststores/ca.pem",
        ],
    )
    .await;
    assert_eq!(
        made["mutualTlsAuthentication"],
        json!({"truststoreUri": "s3://truststores/ca.pem", "truststoreWarnings": []}),
        "{made}"
    );

    // An empty truststore URI turns mutual TLS off.
    let off = client
        .update_domain_name()
        .domain_name("mtls.example.com")
        .patch_operations(replace("/mutualTlsAuthentication/truststoreUri", ""))
        .send()
        .await
        .unwrap();
    assert!(off.mutual_tls_authentication().is_none());
    let body = until_status(&server_ca, "mtls.example.com", port, "/whoami", &[], 200).await;
    assert!(body.contains(r#""subject": """#), "{body}");
}

#[tokio::test]
async fn enhanced_security_policies_and_strict_access_are_served() {
    let server = TestServer::start_with(|config| {
        config.gateway_tls_listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let port = server.server().gateway_tls_addr().unwrap().port();
    let client = server.client();
    let api = whoami_api(&client).await;
    let (ca, leaf, key) = crate::acm::issued("Server CA", &["*.example.com"]);
    let certificate = crate::acm::import(&server, &leaf, &key, None).await;
    let regional = EndpointConfiguration::builder()
        .types(EndpointType::Regional)
        .build();
    let create = |name: &str| {
        client
            .create_domain_name()
            .domain_name(name)
            .regional_certificate_arn(&certificate)
            .endpoint_configuration(regional.clone())
    };
    let tls13 = aws_sdk_apigateway::types::SecurityPolicy::from("SecurityPolicy_TLS13_1_3_2025_09");
    // An enhanced policy needs an access mode; a legacy one takes none; an edge policy is
    // not for a regional domain.
    let refusals = [
        (
            create("strict.example.com").security_policy(tls13.clone()),
            "Endpoint access mode is required for the specified security policy",
        ),
        (
            create("strict.example.com")
                .security_policy(aws_sdk_apigateway::types::SecurityPolicy::Tls12)
                .endpoint_access_mode(aws_sdk_apigateway::types::EndpointAccessMode::Basic),
            "Endpoint access mode is not supported for this security policy",
        ),
        (
            create("strict.example.com")
                .security_policy("SecurityPolicy_TLS13_2025_EDGE".into())
                .endpoint_access_mode(aws_sdk_apigateway::types::EndpointAccessMode::Basic),
            "is not supported for REGIONAL domain names",
        ),
    ];
    for (request, expected) in refusals {
        let message = bad_request_message(request.send().await.unwrap_err());
        assert!(
            message.contains(expected),
            "{message} should contain {expected}"
        );
    }
    let created = create("strict.example.com")
        .security_policy(tls13)
        .endpoint_access_mode(aws_sdk_apigateway::types::EndpointAccessMode::Strict)
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.security_policy().map(|p| p.as_str()),
        Some("SecurityPolicy_TLS13_1_3_2025_09")
    );
    assert_eq!(
        created.endpoint_access_mode().map(|m| m.as_str()),
        Some("STRICT")
    );
    create("basic.example.com").send().await.unwrap();
    for name in ["strict.example.com", "basic.example.com"] {
        client
            .create_base_path_mapping()
            .domain_name(name)
            .rest_api_id(&api)
            .stage("prod")
            .send()
            .await
            .unwrap();
    }

    // TLS 1.3 only: a client limited to TLS 1.2 cannot connect; the legacy domain takes it.
    until_status(&ca, "strict.example.com", port, "/whoami", &[], 200).await;
    let refused = curl_with(
        &ca,
        "strict.example.com",
        port,
        "/whoami",
        &["--tls-max", "1.2"],
    )
    .await;
    assert!(refused.is_err(), "{refused:?}");
    until_status(
        &ca,
        "basic.example.com",
        port,
        "/whoami",
        &["--tls-max", "1.2"],
        200,
    )
    .await;

    // STRICT: the Host must be the TLS server name.
    let (status, body) = curl_with(
        &ca,
        "basic.example.com",
        port,
        "/whoami",
        &["-H", "Host: strict.example.com"],
    )
    .await
    .unwrap();
    assert_eq!((status, body.as_str()), (403, r#"{"message":"Forbidden"}"#));
    // BASIC checks nothing of the kind.
    let (status, _) = curl_with(
        &ca,
        "strict.example.com",
        port,
        "/whoami",
        &["-H", "Host: basic.example.com"],
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
}

/// Lambda proxy events carry the certificate as `requestContext.identity.clientCert`, and
/// request parameter mappings hand its fields to an HTTP backend.
#[tokio::test]
async fn client_certificates_reach_lambda_events_and_backends() {
    let s3 = MotoServer::start().await;
    s3.s3api(&["create-bucket", "--bucket", "client-cas"]).await;
    let clients = Authority::new("Client CA");
    s3.put("client-cas", "ca.pem", &clients.pem()).await;
    let lambda = Backend::start(super::lambda::function).await;
    let lambda_url = lambda.base();
    let (server, port) = mtls_server(&s3, move |config| {
        config.lambda_endpoint = Some(causeway_server::LambdaEndpoint::parse(&lambda_url).unwrap());
    })
    .await;
    let client = server.client();
    let functions = super::lambda::proxy_api(&client).await;
    // An HTTP_PROXY route whose backend is told the subject and serial.
    let backend = Backend::echo().await;
    let (proxied, root) = create_api(&client, "proxied").await;
    let resource = create_resource(&client, &proxied, &root, "hello").await;
    put_method(&client, &proxied, &resource, "GET").await;
    client
        .put_integration()
        .rest_api_id(&proxied)
        .resource_id(&resource)
        .http_method("GET")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("GET")
        .uri(format!("{}/hello", backend.base()))
        .request_parameters(
            "integration.request.header.x-client-subject",
            "context.identity.clientCert.subjectDN",
        )
        .request_parameters(
            "integration.request.header.x-client-serial",
            "context.identity.clientCert.serialNumber",
        )
        .send()
        .await
        .unwrap();
    deploy(&client, &proxied, "prod").await;

    let (server_ca, leaf, key) = crate::acm::issued("Server CA", &["*.example.com"]);
    let certificate = crate::acm::import(&server, &leaf, &key, None).await;
    for (name, api) in [
        ("fn.example.com", &functions),
        ("http.example.com", &proxied),
    ] {
        client
            .create_domain_name()
            .domain_name(name)
            .regional_certificate_arn(&certificate)
            .endpoint_configuration(
                EndpointConfiguration::builder()
                    .types(EndpointType::Regional)
                    .build(),
            )
            .mutual_tls_authentication(truststore("s3://client-cas/ca.pem", None))
            .send()
            .await
            .unwrap();
        let map = || {
            client
                .create_base_path_mapping()
                .domain_name(name)
                .rest_api_id(api)
                .stage("prod")
                .send()
        };
        // An EDGE API cannot be mapped to a domain with mutual TLS (AWS's text).
        let message = bad_request_message(map().await.unwrap_err());
        assert_eq!(
            message,
            "Mutual TLS authentication is supported for Regional APIs only"
        );
        make_regional(&client, api).await;
        map().await.unwrap();
        // Nor can a mapped API become EDGE again.
        let message = bad_request_message(
            client
                .update_rest_api()
                .rest_api_id(api)
                .patch_operations(replace("/endpointConfiguration/types/REGIONAL", "EDGE"))
                .send()
                .await
                .unwrap_err(),
        );
        assert_eq!(
            message,
            "Mutual TLS authentication is supported for Regional APIs only"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = clients.client(dir.path(), "bob");
    let with_bob = ["--cert", cert.as_str(), "--key", key.as_str()];

    let body = until_status(&server_ca, "fn.example.com", port, "/echo", &with_bob, 200).await;
    let event: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    let seen = &event["requestContext"]["identity"]["clientCert"];
    assert_eq!(seen["subjectDN"], "CN=bob,C=US", "{event}");
    assert_eq!(seen["issuerDN"], "CN=Client CA,C=US,O=Example", "{event}");
    assert_eq!(seen["serialNumber"], "0a:1b:2c", "{event}");
    assert!(
        seen["validity"]["notBefore"]
            .as_str()
            .is_some_and(|t| t.ends_with(" GMT")),
        "{event}"
    );
    assert!(
        seen["clientCertPem"]
            .as_str()
            .is_some_and(|pem| pem.starts_with("-----BEGIN CERTIFICATE-----\n")),
        "{event}"
    );

    until_status(
        &server_ca,
        "http.example.com",
        port,
        "/hello",
        &with_bob,
        200,
    )
    .await;
    let forwarded = backend.last();
    assert_eq!(forwarded.header("x-client-subject"), Some("CN=bob,C=US"));
    assert_eq!(forwarded.header("x-client-serial"), Some("0a:1b:2c"));
}
