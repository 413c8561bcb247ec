//! HTTPS on the gateway (`gateway_tls_listen`): invoke URLs over TLS with the certificate
//! made on first start (kept across restarts) or one given as files, checked by curl as a
//! client would check it.

use std::process::Command;

use super::*;

/// curl, trusting `ca`, with the invoke host resolved to the TLS listener: statuses, body,
/// and how many connections it opened for all of `urls`. It runs on a blocking thread, so
/// that the server (on this test's runtime) keeps serving.
async fn curl(
    ca: &std::path::Path,
    host: &str,
    port: u16,
    urls: &[String],
) -> (Vec<u16>, String, u32) {
    let (ca, host, urls) = (ca.to_path_buf(), host.to_owned(), urls.to_vec());
    tokio::task::spawn_blocking(move || curl_blocking(&ca, &host, port, &urls))
        .await
        .unwrap()
}

fn curl_blocking(
    ca: &std::path::Path,
    host: &str,
    port: u16,
    urls: &[String],
) -> (Vec<u16>, String, u32) {
    let output = Command::new("curl")
        .args(["-sS", "--http1.1", "--max-time", "20", "--cacert"])
        .arg(ca)
        .arg("--resolve")
        .arg(format!("{host}:{port}:127.0.0.1"))
        .args(["-w", "\n%{http_code} %{num_connects}\n"])
        .args(urls)
        .output()
        .expect("these tests need curl (.ci/run installs it)");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "curl failed: {}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut statuses = Vec::new();
    let mut connections = 0;
    let mut body = String::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split(' ').collect();
        match parts.as_slice() {
            [status, opened] if status.len() == 3 && status.parse::<u16>().is_ok() => {
                statuses.push(status.parse().unwrap());
                connections += opened.parse::<u32>().unwrap_or(0);
            }
            _ => {
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    (statuses, body, connections)
}

#[tokio::test]
async fn invoke_urls_are_served_over_https_with_a_kept_certificate() {
    let mut server = TestServer::start_with(|config| {
        config.gateway_tls_listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let client = server.client();
    let backend = Backend::echo().await;
    let (api, _) = proxy_api(&client, &backend.base()).await;
    let port = server.server().gateway_tls_addr().unwrap().port();
    let cert = server.data_dir().join("gateway-tls").join("cert.pem");
    assert!(cert.exists());
    let host = format!("{api}.execute-api.localhost");
    // The plain listener answers first: the stage is in the gateway's snapshot.
    Invoke::new(&server, &api).ready("/prod/ready").await;

    let urls = [
        format!("https://{host}:{port}/prod/pets/1?x=y"),
        format!("https://{host}:{port}/prod/pets/2"),
    ];
    let (statuses, body, connections) = curl(&cert, &host, port, &urls).await;
    assert_eq!(statuses, [200, 200], "{body}");
    assert_eq!(
        connections, 1,
        "both requests on one kept-alive TLS connection"
    );
    assert!(body.contains("\"path\":\"/pets/1\""), "{body}");
    assert_eq!(backend.last().path(), "/pets/2");
    assert_eq!(
        backend.last().header("x-forwarded-proto"),
        Some("https"),
        "the backend learns the client came over HTTPS"
    );

    // The path form of the URL, on the certificate's `localhost`.
    let path_form = format!("https://localhost:{port}/restapis/{api}/prod/_user_request_/pets/3");
    let (statuses, _, _) = curl(&cert, "localhost", port, &[path_form]).await;
    assert_eq!(statuses, [200]);

    // Plain HTTP on the TLS port is not served, and does not disturb the listener.
    let mut plain = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    plain
        .write_all(b"GET /prod/pets/1 HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut answer)).await;
    assert!(!answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");

    // The certificate is kept: after a restart the same one is served.
    let before = std::fs::read(&cert).unwrap();
    server.restart().await;
    assert_eq!(std::fs::read(&cert).unwrap(), before);
    let port = server.server().gateway_tls_addr().unwrap().port();
    Invoke::new(&server, &api).ready("/prod/ready").await;
    let (statuses, _, _) = curl(
        &cert,
        &host,
        port,
        &[format!("https://{host}:{port}/prod/pets/4")],
    )
    .await;
    assert_eq!(statuses, [200]);
}

#[tokio::test]
async fn https_serves_a_given_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let made = rcgen::generate_simple_self_signed(vec!["api.example.test".to_owned()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.key_pair.serialize_pem()).unwrap();
    let identity = (cert.clone(), key.clone());
    let server = TestServer::start_with(move |config| {
        config.gateway_tls_listen = Some("127.0.0.1:0".parse().unwrap());
        config.gateway_tls_identity = Some(identity.clone());
    })
    .await;
    let client = server.client();
    let api = mock_api(&client, r#"{"statusCode": 200}"#).await;
    Invoke::new(&server, &api).ready("/prod/mock").await;
    let port = server.server().gateway_tls_addr().unwrap().port();
    let url = format!("https://api.example.test:{port}/restapis/{api}/prod/_user_request_/mock");
    let (statuses, body, _) = curl(&cert, "api.example.test", port, &[url]).await;
    assert_eq!(statuses, [200], "{body}");
    assert!(body.contains("\"ok\""), "{body}");
    assert!(!server.data_dir().join("gateway-tls").exists());

    // A key that is not the certificate's, or a missing file, stops the start with the
    // reason.
    let other = rcgen::generate_simple_self_signed(vec!["x".to_owned()]).unwrap();
    let wrong_key = dir.path().join("wrong.pem");
    std::fs::write(&wrong_key, other.key_pair.serialize_pem()).unwrap();
    for key in [wrong_key, dir.path().join("missing.pem")] {
        let data = tempfile::tempdir().unwrap();
        let started = causeway_server::Server::start(causeway_server::Config {
            data_dir: data.path().to_path_buf(),
            admin_listen: "127.0.0.1:0".parse().unwrap(),
            gateway_listen: "127.0.0.1:0".parse().unwrap(),
            gateway_tls_listen: Some("127.0.0.1:0".parse().unwrap()),
            gateway_tls_identity: Some((cert.clone(), key.clone())),
            link_listen: None,
            ..causeway_server::Config::default()
        })
        .await;
        let error = started.expect_err("the start is refused");
        assert!(error.to_string().contains("HTTPS certificate"), "{error}");
    }
}

/// Over HTTPS `aws:SecureTransport` is true: a resource policy that denies requests in the
/// clear lets HTTPS ones in.
#[tokio::test]
async fn resource_policies_see_secure_transport_over_https() {
    let server = TestServer::start_with(|config| {
        config.gateway_tls_listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let client = server.client();
    let api = mock_api(&client, r#"{"statusCode": 200}"#).await;
    let policy = r#"{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}"#;
    client
        .update_rest_api()
        .rest_api_id(&api)
        .patch_operations(replace("/policy", policy))
        .send()
        .await
        .unwrap();
    deploy(&client, &api, "prod").await;
    let plain = Invoke::new(&server, &api)
        .until("GET", "/prod/mock", |raw| {
            raw.error_type().as_deref() == Some("AccessDeniedException")
        })
        .await;
    assert_eq!(
        (plain.status, plain.error_type().as_deref()),
        (403, Some("AccessDeniedException")),
        "{}",
        plain.text()
    );

    let port = server.server().gateway_tls_addr().unwrap().port();
    let cert = server.data_dir().join("gateway-tls").join("cert.pem");
    let host = format!("{api}.execute-api.localhost");
    let (statuses, body, _) = curl(
        &cert,
        &host,
        port,
        &[format!("https://{host}:{port}/prod/mock")],
    )
    .await;
    assert_eq!(statuses, [200], "{body}");
}

/// curl once, trusting `ca` only: `Ok(status and body)`, or `Err` with curl's complaint
/// (a certificate it does not trust, say).
async fn curl_once(ca: &str, host: &str, port: u16, path: &str) -> Result<(u16, String), String> {
    curl_with(ca, host, port, path, &[]).await
}

/// [`curl_once`] with `extra` arguments (a client certificate, TLS versions, a header).
pub(super) async fn curl_with(
    ca: &str,
    host: &str,
    port: u16,
    path: &str,
    extra: &[&str],
) -> Result<(u16, String), String> {
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca).unwrap();
    let url = format!("https://{host}:{port}{path}");
    let resolve = format!("{host}:{port}:127.0.0.1");
    let extra: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let output = Command::new("curl")
            .args(["-sS", "--http1.1", "--max-time", "20", "--cacert"])
            .arg(&ca_file)
            .args(["--resolve", &resolve, "-w", "\n%{http_code}"])
            .args(&extra)
            .arg(&url)
            .output()
            .expect("these tests need curl (.ci/run installs it)");
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).into_owned());
        }
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let (body, status) = text.rsplit_once('\n').unwrap_or_default();
        Ok((status.parse().unwrap_or(0), body.to_owned()))
    })
    .await
    .unwrap()
}

/// Calls until curl trusts the server and is answered 200, and returns the body: a change
/// reaches the listener a moment after the management API answers, and a domain can be
/// served with its certificate before its mapping routes it (a 403). Fails with the last
/// outcome after [`Invoke::PATIENCE`].
async fn until_trusted(ca: &str, host: &str, port: u16, path: &str) -> String {
    let deadline = Instant::now() + Invoke::PATIENCE;
    loop {
        let outcome = curl_once(ca, host, port, path).await;
        if let Ok((200, body)) = outcome {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "https://{host}:{port}{path}: not trusted and answered 200 after {:?}; the last: {outcome:?}",
            Invoke::PATIENCE
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A server with an HTTPS gateway listener; the listener's port.
async fn https_server() -> (TestServer, u16) {
    let server = TestServer::start_with(|config| {
        config.gateway_tls_listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let port = server.server().gateway_tls_addr().unwrap().port();
    (server, port)
}

/// An API `name` with a MOCK `GET /pets`, deployed to `prod`.
async fn pets_api(client: &Client, name: &str) -> String {
    let (api, root) = create_api(client, name).await;
    let pets = create_resource(client, &api, &root, "pets").await;
    mock_route(client, &api, &pets, "GET", "pets").await;
    deploy(client, &api, "prod").await;
    api
}

/// The custom domain `domain`'s root mapped to the API's `prod` stage.
async fn map_to_prod(client: &Client, domain: &str, api: &str) {
    client
        .create_base_path_mapping()
        .domain_name(domain)
        .rest_api_id(api)
        .stage("prod")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn custom_domains_are_served_with_their_imported_certificates() {
    use crate::acm::{acm_ok, b64, import, issued};
    use aws_sdk_apigateway::types::{EndpointConfiguration, EndpointType};
    let (server, port) = https_server().await;
    let client = server.client();
    let api = pets_api(&client, "shop").await;

    // A REGIONAL domain with its certificate (and chain), and an EDGE one with a wildcard
    // certificate.
    let (ca, leaf, key) = issued("CA one", &["api.example.com"]);
    let api_cert = import(&server, &leaf, &key, Some(&ca)).await;
    let (wild_ca, wild_leaf, wild_key) = issued("CA wild", &["*.example.com"]);
    let wild_cert = import(&server, &wild_leaf, &wild_key, None).await;
    let domains = [
        ("api.example.com", EndpointType::Regional, api_cert.clone()),
        ("shop.example.com", EndpointType::Edge, wild_cert),
    ];
    for (name, kind, arn) in &domains {
        let request = client
            .create_domain_name()
            .domain_name(*name)
            .endpoint_configuration(EndpointConfiguration::builder().types(kind.clone()).build());
        let request = if *kind == EndpointType::Regional {
            request.regional_certificate_arn(arn)
        } else {
            request.certificate_arn(arn)
        };
        request.send().await.unwrap();
        map_to_prod(&client, name, &api).await;
    }

    // curl trusts only the test CAs: the handshake succeeds only with the domain's own
    // certificate, picked by the server name.
    let body = until_trusted(&ca, "api.example.com", port, "/pets").await;
    assert!(body.contains("pets"), "{body}");
    until_trusted(&wild_ca, "shop.example.com", port, "/pets").await;
    // Not another domain's certificate.
    assert!(
        curl_once(&ca, "shop.example.com", port, "/pets")
            .await
            .is_err()
    );
    // Another name, and the invoke URL, get the listener's.
    let listener =
        std::fs::read_to_string(server.data_dir().join("gateway-tls").join("cert.pem")).unwrap();
    assert!(
        curl_once(&ca, "elsewhere.example.com", port, "/pets")
            .await
            .is_err()
    );
    let host = format!("{api}.execute-api.localhost");
    let (status, _) = curl_once(&listener, &host, port, "/prod/pets")
        .await
        .unwrap();
    assert_eq!(status, 200);

    // Re-importing the certificate changes what the domain is served with.
    let (ca2, leaf2, key2) = issued("CA two", &["api.example.com"]);
    acm_ok(
        &server,
        "ImportCertificate",
        json!({"CertificateArn": api_cert, "Certificate": b64(&leaf2), "PrivateKey": b64(&key2)}),
    )
    .await;
    until_trusted(&ca2, "api.example.com", port, "/pets").await;
    assert!(
        curl_once(&ca, "api.example.com", port, "/pets")
            .await
            .is_err()
    );

    // Once the domain names another certificate, that one is served.
    client
        .update_domain_name()
        .domain_name("api.example.com")
        .patch_operations(replace("/regionalCertificateArn", &domains[1].2))
        .send()
        .await
        .unwrap();
    until_trusted(&wild_ca, "api.example.com", port, "/pets").await;
}

/// The older EDGE form: a certificate body, key and chain given with CreateDomainName are
/// checked as an import is, kept (never answered) and served for the domain.
#[tokio::test]
async fn a_certificate_given_with_an_edge_domain_is_served() {
    use crate::acm::issued;
    let (server, port) = https_server().await;
    let client = server.client();
    let api = pets_api(&client, "legacy").await;
    let (ca, leaf, key) = issued("Legacy CA", &["legacy.example.com"]);
    let (_, _, other_key) = issued("Legacy CA", &["legacy.example.com"]);

    let refused = client
        .create_domain_name()
        .domain_name("legacy.example.com")
        .certificate_name("legacy")
        .certificate_body(&leaf)
        .certificate_private_key(&other_key)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_apigateway::error::ProvideErrorMetadata::message(&refused),
        Some("The private key does not match the certificate.")
    );
    let created = client
        .create_domain_name()
        .domain_name("legacy.example.com")
        .certificate_name("legacy")
        .certificate_body(&leaf)
        .certificate_private_key(&key)
        .certificate_chain(&ca)
        .send()
        .await
        .unwrap();
    assert_eq!(created.certificate_name(), Some("legacy"));
    let raw = server.get("/domainnames/legacy.example.com").await;
    assert!(!raw.text().contains("PRIVATE KEY"), "{}", raw.text());
    map_to_prod(&client, "legacy.example.com", &api).await;
    let body = until_trusted(&ca, "legacy.example.com", port, "/pets").await;
    assert!(body.contains("pets"), "{body}");
}

/// A certificate RequestCertificate issued serves a custom domain over HTTPS to clients that
/// trust the server's ACM authority (GetCertificate's chain), and nothing else.
#[tokio::test]
async fn a_requested_certificate_serves_a_domain_to_clients_trusting_the_authority() {
    use crate::acm::{acm_ok, issued};
    let (server, port) = https_server().await;
    let client = server.client();
    let api = pets_api(&client, "issued").await;
    for algorithm in ["RSA_2048", "EC_secp384r1"] {
        let name = format!(
            "{}.example.com",
            algorithm.to_ascii_lowercase().replace('_', "-")
        );
        let arn = acm_ok(
            &server,
            "RequestCertificate",
            serde_json::json!({"DomainName": name, "ValidationMethod": "DNS", "KeyAlgorithm": algorithm}),
        )
        .await["CertificateArn"]
            .as_str()
            .unwrap()
            .to_owned();
        let chain = acm_ok(
            &server,
            "GetCertificate",
            serde_json::json!({"CertificateArn": arn}),
        )
        .await["CertificateChain"]
            .as_str()
            .unwrap()
            .to_owned();
        create_regional_domain(&client, &name, &arn).await;
        map_to_prod(&client, &name, &api).await;
        let body = until_trusted(&chain, &name, port, "/pets").await;
        assert!(body.contains("pets"), "{algorithm}: {body}");
        // Another authority is not trusted for it.
        let (other_ca, _, _) = issued("Other CA", &[&name]);
        assert!(curl_once(&other_ca, &name, port, "/pets").await.is_err());
    }
}

/// Two nodes on one PostgreSQL database: a certificate imported through one and named by a
/// domain there is served by the other node's HTTPS listener, and a re-import through the
/// other reaches both.
#[tokio::test]
async fn a_certificate_imported_on_one_node_is_served_by_every_node() {
    use crate::acm::{acm_ok, b64, import, issued};
    use crate::harness::postgres::Postgres;
    let pg = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let tls = |config: &mut causeway_server::Config| {
        config.gateway_tls_listen = Some("127.0.0.1:0".parse().unwrap());
    };
    let a = TestServer::start_sharing(&pg.url(), tls).await;
    let b = TestServer::start_sharing(&pg.url(), tls).await;
    let client = a.client();
    let api = pets_api(&client, "shared").await;
    let (ca, leaf, key) = issued("Shared CA", &["api.example.com"]);
    let arn = import(&a, &leaf, &key, None).await;
    create_regional_domain(&client, "api.example.com", &arn).await;
    map_to_prod(&client, "api.example.com", &api).await;
    let b_port = b.server().gateway_tls_addr().unwrap().port();
    let body = until_trusted(&ca, "api.example.com", b_port, "/pets").await;
    assert!(body.contains("pets"), "{body}");

    let (ca2, leaf2, key2) = issued("Shared CA two", &["api.example.com"]);
    acm_ok(
        &b,
        "ImportCertificate",
        json!({"CertificateArn": arn, "Certificate": b64(&leaf2), "PrivateKey": b64(&key2)}),
    )
    .await;
    let a_port = a.server().gateway_tls_addr().unwrap().port();
    for port in [a_port, b_port] {
        until_trusted(&ca2, "api.example.com", port, "/pets").await;
    }
}
