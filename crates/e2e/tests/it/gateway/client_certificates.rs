//! Client certificates: a stage's certificate (GenerateClientCertificate, then
//! `clientCertificateId` on the stage) is shown to HTTPS backends that ask for one, over the
//! internet and through a VPC link, and to a real nginx that verifies it; TestInvokeMethod
//! shows the certificate it names.

use std::process::{Child, Command, Stdio};

use super::*;

/// Generates a client certificate: its id and PEM text.
async fn generate(client: &Client, description: &str) -> (String, String) {
    let out = client
        .generate_client_certificate()
        .description(description)
        .send()
        .await
        .unwrap();
    (
        out.client_certificate_id().unwrap().to_owned(),
        out.pem_encoded_certificate().unwrap().to_owned(),
    )
}

/// The DER bytes of a PEM certificate.
fn der(pem: &str) -> Vec<u8> {
    use tokio_rustls::rustls::pki_types::CertificateDer;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .as_ref()
        .to_vec()
}

async fn set_certificate(client: &Client, api: &str, id: Option<&str>) {
    let operation = match id {
        Some(id) => replace("/clientCertificateId", id),
        None => remove("/clientCertificateId"),
    };
    update_stage(client, api, vec![operation]).await;
}

/// A backend that trusts only the stage's certificate gets the gateway's requests once the
/// stage names it, and only then; connections made with the certificate are kept apart
/// from the ones made without it; and the server's own certificate is still checked.
#[tokio::test]
async fn stage_certificate_is_shown_to_https_backends_that_ask() {
    let server = TestServer::start().await;
    let client = server.client();
    let (id, pem) = generate(&client, "backend auth").await;
    let backend = TlsBackend::requiring_client_certificate(&["localhost"], &pem, Reply::echo).await;
    let uri = format!(
        "https://localhost:{}/{{proxy}}",
        backend.backend.addr.port()
    );

    // Without a certificate the backend refuses the handshake: a configuration error.
    let api = https_api(&client, &uri, None, true).await;
    let invoke = Invoke::new(&server, &api);
    let raw = invoke.ready("/prod/hello").await;
    assert_internal_error(&raw);
    assert!(backend.failed_handshakes() >= 1);
    assert!(backend.backend.requests().is_empty());

    set_certificate(&client, &api, Some(&id)).await;
    let got = client
        .get_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(got.client_certificate_id(), Some(id.as_str()));
    let raw = invoke
        .until("GET", "/prod/hello", |raw| raw.status == 200)
        .await;
    assert_eq!(raw.status, 200, "body {:?}", raw.text());
    assert_eq!(raw.json()["path"], "/hello");
    let shown = backend.client_certificates();
    assert_eq!(shown.last(), Some(&Some(der(&pem))), "{shown:?}");
    // Kept alive: the next request rides the same connection.
    let connections = shown.len();
    assert_eq!(invoke.get("/prod/again").await.status, 200);
    assert_eq!(backend.client_certificates().len(), connections);

    // A canary release of the stage shows the stage's certificate too: the canary's
    // deployment sends to another path, and takes every request.
    let proxy = client
        .get_resources()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .find(|r| r.path_part() == Some("{proxy+}"))
        .and_then(|r| r.id())
        .unwrap()
        .to_owned();
    client
        .update_integration()
        .rest_api_id(&api)
        .resource_id(&proxy)
        .http_method("ANY")
        .patch_operations(replace(
            "/uri",
            &format!(
                "https://localhost:{}/canary/{{proxy}}",
                backend.backend.addr.port()
            ),
        ))
        .send()
        .await
        .unwrap();
    client
        .create_deployment()
        .rest_api_id(&api)
        .stage_name("prod")
        .canary_settings(
            aws_sdk_apigateway::types::DeploymentCanarySettings::builder()
                .percent_traffic(100.0)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let raw = invoke
        .until("GET", "/prod/hello", |raw| {
            raw.status != 200 || raw.json()["path"] == "/canary/hello"
        })
        .await;
    assert_eq!(raw.status, 200, "body {:?}", raw.text());
    assert_eq!(raw.json()["path"], "/canary/hello");

    // Another stage without the certificate does not borrow its connections.
    let other = https_api(&client, &uri, None, true).await;
    assert_internal_error(&Invoke::new(&server, &other).ready("/prod/hello").await);

    // A certificate does not stop the server's certificate being checked: this backend's
    // is self-signed, so an integration that verifies refuses it.
    let strict = https_api(&client, &uri, None, false).await;
    set_certificate(&client, &strict, Some(&id)).await;
    let strict_invoke = Invoke::new(&server, &strict);
    let raw = strict_invoke.ready("/prod/hello").await;
    assert_internal_error(&raw);

    // Taken off the stage, the certificate is no longer shown.
    set_certificate(&client, &api, None).await;
    let raw = invoke
        .until("GET", "/prod/hello", |raw| raw.status == 500)
        .await;
    assert_internal_error(&raw);
    // And a certificate in use cannot be deleted; unused, it can.
    let err = client
        .delete_client_certificate()
        .client_certificate_id(&id)
        .send()
        .await
        .unwrap_err();
    let message = format!("{:?}", err.into_service_error());
    assert!(message.contains(&format!("{strict}/prod")), "{message}");
    set_certificate(&client, &strict, None).await;
    client
        .delete_client_certificate()
        .client_certificate_id(&id)
        .send()
        .await
        .unwrap();
}

/// Through a VPC link the certificate goes end to end to the target, inside the TLS
/// session the gateway runs with it under the uri's host name.
#[tokio::test]
async fn stage_certificate_reaches_private_backends_through_a_vpc_link() {
    let server = TestServer::start().await;
    let client = server.client();
    let (id, pem) = generate(&client, "private").await;
    let backend =
        TlsBackend::requiring_client_certificate(&["backend.internal"], &pem, Reply::echo).await;
    let nlb = private_nlb(&server, &backend.backend).await;
    let link = available_link(&client, &nlb.arn).await;
    let uri = format!("https://backend.internal:{}/{{proxy}}", nlb.port);
    let api = https_api(&client, &uri, Some(&link), true).await;
    let invoke = Invoke::new(&server, &api);
    assert_internal_error(&invoke.ready("/prod/orders/1").await);

    set_certificate(&client, &api, Some(&id)).await;
    let raw = invoke
        .until("GET", "/prod/orders/1", |raw| raw.status == 200)
        .await;
    assert_eq!(raw.json()["path"], "/orders/1");
    assert_eq!(backend.client_certificates().last(), Some(&Some(der(&pem))));
    assert!(
        backend
            .server_names()
            .iter()
            .all(|name| name.as_deref() == Some("backend.internal"))
    );
}

/// TestInvokeMethod shows the certificate it names (`clientCertificateId`), and refuses an
/// unknown one.
#[tokio::test]
async fn test_invoke_shows_the_named_certificate() {
    let server = TestServer::start().await;
    let client = server.client();
    let (id, pem) = generate(&client, "test invoke").await;
    let backend = TlsBackend::requiring_client_certificate(&["localhost"], &pem, Reply::echo).await;
    let uri = format!(
        "https://localhost:{}/{{proxy}}",
        backend.backend.addr.port()
    );
    let api = https_api(&client, &uri, None, true).await;
    let resources = client
        .get_resources()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    let proxy = resources
        .items()
        .iter()
        .find(|r| r.path_part() == Some("{proxy+}"))
        .and_then(|r| r.id())
        .unwrap()
        .to_owned();
    let call = |certificate: Option<&str>| {
        client
            .test_invoke_method()
            .rest_api_id(&api)
            .resource_id(&proxy)
            .http_method("ANY")
            .path_with_query_string("/tested")
            .set_client_certificate_id(certificate.map(str::to_owned))
            .send()
    };

    let without = call(None).await.unwrap();
    assert_eq!(without.status(), 500, "log {:?}", without.log());
    let with = call(Some(&id)).await.unwrap();
    assert_eq!(with.status(), 200, "log {:?}", with.log());
    let body: Value = serde_json::from_str(with.body().unwrap()).unwrap();
    assert_eq!(body["path"], "/tested");
    assert_eq!(backend.client_certificates().last(), Some(&Some(der(&pem))));

    let err = call(Some("nosuch")).await.unwrap_err();
    let err = err.into_service_error();
    assert!(err.is_not_found_exception(), "{err:?}");
}

/// nginx, started for the test, that requires a client certificate and trusts `trusted`.
struct Nginx {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Nginx {
    fn binary() -> String {
        [
            "/usr/sbin/nginx",
            "/usr/local/sbin/nginx",
            "/usr/local/nginx/sbin/nginx",
        ]
        .iter()
        .find(|path| std::path::Path::new(path).exists())
        .map_or_else(|| "nginx".to_owned(), |path| (*path).to_owned())
    }

    async fn verifying(trusted: &str) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path();
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        std::fs::write(path.join("server.pem"), certified.cert.pem()).unwrap();
        std::fs::write(path.join("server.key"), certified.key_pair.serialize_pem()).unwrap();
        std::fs::write(path.join("gateway.pem"), trusted).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let p = path.display();
        let config = format!(
            r#"daemon off;
master_process off;
worker_processes 1;
pid {p}/nginx.pid;
error_log {p}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {p}/body;
  proxy_temp_path {p}/proxy;
  fastcgi_temp_path {p}/fastcgi;
  uwsgi_temp_path {p}/uwsgi;
  scgi_temp_path {p}/scgi;
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {p}/server.pem;
    ssl_certificate_key {p}/server.key;
    ssl_client_certificate {p}/gateway.pem;
    ssl_verify_client on;
    location / {{
      default_type text/plain;
      return 200 "$ssl_client_verify|$ssl_client_s_dn|$ssl_client_i_dn";
    }}
  }}
}}
"#
        );
        std::fs::write(path.join("nginx.conf"), config).unwrap();
        let binary = Nginx::binary();
        let child = Command::new(&binary)
            .arg("-p")
            .arg(path)
            .arg("-e")
            .arg(path.join("error.log"))
            .arg("-c")
            .arg(path.join("nginx.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("this test needs nginx ({binary}: {error}); .ci/run installs it")
            });
        let nginx = Nginx { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            let log =
                std::fs::read_to_string(nginx.dir.path().join("error.log")).unwrap_or_default();
            assert!(Instant::now() < deadline, "nginx did not start: {log}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        nginx
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A real server verifies the certificate as OpenSSL does: nginx with
/// `ssl_verify_client on` and the certificate as its only trusted one sees a verified
/// client whose subject and issuer are AWS's, and answers 400 when none is shown.
#[tokio::test]
async fn nginx_verifies_the_stage_certificate() {
    let mut server = TestServer::start().await;
    let client = server.client();
    let (id, pem) = generate(&client, "nginx").await;
    let nginx = Nginx::verifying(&pem).await;
    let uri = format!("https://localhost:{}/{{proxy}}", nginx.port);
    let api = https_api(&client, &uri, None, true).await;
    let invoke = Invoke::new(&server, &api);

    // nginx completes the handshake and answers 400 itself; HTTP_PROXY passes that on.
    let raw = invoke.ready("/prod/who").await;
    assert_eq!(raw.status, 400, "body {:?}", raw.text());
    assert!(
        raw.text().contains("No required SSL certificate was sent"),
        "{}",
        raw.text()
    );

    set_certificate(&client, &api, Some(&id)).await;
    let raw = invoke
        .until("GET", "/prod/who", |raw| raw.status == 200)
        .await;
    let verified = "SUCCESS|CN=ApiGateway,L=Seattle,C=US|CN=ApiGateway,L=Seattle,C=US";
    assert_eq!(raw.text(), verified);

    // The key is stored with the certificate: after a restart the gateway still has it.
    server.restart().await;
    let invoke = Invoke::new(&server, &api);
    let raw = invoke.ready("/prod/who").await;
    assert_eq!(raw.text(), verified);
}

/// Two nodes on one PostgreSQL database: a certificate generated and named on a stage
/// through one node is shown by the other node's gateway, key and all.
#[tokio::test]
async fn another_node_shows_the_certificate_too() {
    let pg = tokio::task::spawn_blocking(crate::harness::postgres::Postgres::start)
        .await
        .unwrap();
    let a = TestServer::start_sharing(&pg.url(), |_| {}).await;
    let b = TestServer::start_sharing(&pg.url(), |_| {}).await;
    let client = a.client();
    let (id, pem) = generate(&client, "shared").await;
    let backend = TlsBackend::requiring_client_certificate(&["localhost"], &pem, Reply::echo).await;
    let uri = format!(
        "https://localhost:{}/{{proxy}}",
        backend.backend.addr.port()
    );
    let api = https_api(&client, &uri, None, true).await;
    set_certificate(&client, &api, Some(&id)).await;
    let raw = Invoke::new(&b, &api)
        .until("GET", "/prod/from-b", |raw| raw.status == 200)
        .await;
    assert_eq!(raw.status, 200, "body {:?}", raw.text());
    assert_eq!(raw.json()["path"], "/from-b");
    assert_eq!(backend.client_certificates().last(), Some(&Some(der(&pem))));
}
