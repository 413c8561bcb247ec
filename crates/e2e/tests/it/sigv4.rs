//! SigV4 on the management APIs: with `--credentials`, the unmodified SDKs signing with a
//! known identity get in, and every other request gets AWS's refusal in its protocol's shape
//! (rest-json for apigateway, query XML for elbv2) and changes nothing.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_apigateway::error::ProvideErrorMetadata;

use crate::harness::*;

/// Alice (this account), and a role session with temporary credentials.
pub const CREDENTIALS_FILE: &str = "\
[alice]
aws_access_key_id = AKIDALICE
aws_secret_access_key = alice-secret

[ops]
aws_access_key_id = ASIAOPS
aws_secret_access_key = ops-secret
aws_session_token = ops-session-token
arn = arn:aws:sts::000000000000:assumed-role/Ops/night-shift

[bob]
aws_access_key_id = AKIDBOB
aws_secret_access_key = bob-secret
arn = arn:aws:iam::111122223333:user/bob
";

/// A server that knows the identities of [`CREDENTIALS_FILE`].
pub async fn server_with_credentials() -> TestServer {
    let keyring = Arc::new(causeway_server::Credentials::new(
        causeway_server::Keyring::from_credentials_file(CREDENTIALS_FILE, ACCOUNT).unwrap(),
    ));
    TestServer::start_with(move |config| config.credentials = Some(keyring.clone())).await
}

fn credentials(key: &str, secret: &str, token: Option<&str>) -> Credentials {
    Credentials::new(key, secret, token.map(str::to_owned), None, "test")
}

#[tokio::test]
async fn management_apis_let_in_only_known_signers() {
    let server = server_with_credentials().await;
    let alice = server.client_as(credentials("AKIDALICE", "alice-secret", None));
    let created = alice.create_rest_api().name("signed").send().await.unwrap();
    assert!(created.id().is_some());
    let elbv2 = server.elbv2_client_as(credentials("AKIDALICE", "alice-secret", None));
    elbv2.describe_load_balancers().send().await.unwrap();
    // Temporary credentials get in with their session token, and only with it.
    let ops = server.client_as(credentials(
        "ASIAOPS",
        "ops-secret",
        Some("ops-session-token"),
    ));
    ops.get_rest_apis().send().await.unwrap();

    // The wrong secret, an unknown key, a session token missing: refused, as AWS refuses.
    let cases = [
        (
            credentials("AKIDALICE", "not-her-secret", None),
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        ),
        (
            credentials("AKIDNOBODY", "whatever", None),
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ),
        (
            credentials("ASIAOPS", "ops-secret", None),
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ),
    ];
    for (credentials, code, message) in cases.clone() {
        let error = server
            .client_as(credentials)
            .create_rest_api()
            .name("refused")
            .send()
            .await
            .unwrap_err();
        assert_eq!(error.code(), Some(code));
        assert!(
            error.message().unwrap_or_default().starts_with(message),
            "{error:?}"
        );
        assert_eq!(error.raw_response().unwrap().status().as_u16(), 403);
    }
    for ((credentials, _, _), code) in cases.into_iter().zip([
        "SignatureDoesNotMatch",
        "InvalidClientTokenId",
        "InvalidClientTokenId",
    ]) {
        let error = server
            .elbv2_client_as(credentials)
            .describe_load_balancers()
            .send()
            .await
            .unwrap_err();
        assert_eq!(error.code(), Some(code), "{error:?}");
        assert_eq!(error.raw_response().unwrap().status().as_u16(), 403);
    }
    // Nothing a refused request asked for was done.
    let apis = alice.get_rest_apis().send().await.unwrap();
    assert_eq!(apis.items().len(), 1);
}

#[tokio::test]
async fn unsigned_malformed_and_stale_requests_get_aws_answers() {
    let server = server_with_credentials().await;

    let unsigned = server.get("/restapis").await;
    assert_eq!(unsigned.status, 403);
    assert_eq!(
        unsigned.error_type().as_deref(),
        Some("MissingAuthenticationTokenException")
    );
    assert_eq!(
        unsigned.text(),
        r#"{"message":"Missing Authentication Token"}"#
    );

    let http = reqwest::Client::new();
    let elbv2 = http
        .post(server.url("/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("Action=DescribeLoadBalancers&Version=2015-12-01")
        .send()
        .await
        .unwrap();
    assert_eq!(elbv2.status().as_u16(), 403);
    let xml = elbv2.text().await.unwrap();
    assert!(
        xml.contains("<Code>MissingAuthenticationToken</Code>"),
        "{xml}"
    );
    assert!(
        xml.contains("<Message>Request is missing Authentication Token</Message>"),
        "{xml}"
    );

    let bearer = http
        .get(server.url("/restapis"))
        .header("authorization", "Bearer abc.def")
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status().as_u16(), 403);
    assert_eq!(
        bearer.headers()["x-amzn-errortype"],
        "IncompleteSignatureException"
    );
    assert_eq!(
        bearer.text().await.unwrap(),
        r#"{"message":"Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=Bearer abc.def"}"#
    );

    // Signed six minutes ago, or for another service: refused before the key is looked at.
    let url = server.url("/restapis");
    for (at, service, words) in [
        (
            SystemTime::now() - Duration::from_secs(360),
            "apigateway",
            "Signature expired: ",
        ),
        (
            SystemTime::now() + Duration::from_secs(360),
            "apigateway",
            "Signature not yet current: ",
        ),
        (
            SystemTime::now(),
            "execute-api",
            "Credential should be scoped to correct service: 'apigateway'. ",
        ),
    ] {
        let (url, headers) = sigv4(
            ("GET", &url, &[], b""),
            ("AKIDNOBODY", "x", None),
            service,
            at,
            false,
        );
        let mut request = http.get(url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 403);
        assert_eq!(
            response.headers()["x-amzn-errortype"],
            "InvalidSignatureException"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        let message = body["message"].as_str().unwrap();
        assert!(message.starts_with(words), "{message}");
    }
    // A request signed by Alice herself, sent raw, gets in.
    let (url, headers) = sigv4(
        ("GET", &url, &[], b""),
        ("AKIDALICE", "alice-secret", None),
        "apigateway",
        SystemTime::now(),
        false,
    );
    let mut request = http.get(url);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    assert_eq!(request.send().await.unwrap().status().as_u16(), 200);
}

/// WAF's JSON protocol is signed for `wafv2`, and refused in its own shape.
#[tokio::test]
async fn the_waf_api_checks_signatures_for_wafv2() {
    json_api_checks_signatures(
        "AWSWAF_20190729.ListWebACLs",
        "wafv2",
        r#"{"Scope":"REGIONAL"}"#,
        serde_json::json!({"WebACLs": []}),
    )
    .await;
}

#[tokio::test]
async fn the_acm_api_checks_signatures_for_acm() {
    json_api_checks_signatures(
        "CertificateManager.ListCertificates",
        "acm",
        "{}",
        serde_json::json!({"CertificateSummaryList": []}),
    )
    .await;
}

/// A JSON 1.1 operation (`target`) is answered when signed for `service` with a known key,
/// and refused in the protocol's shape otherwise.
async fn json_api_checks_signatures(
    target: &'static str,
    service: &'static str,
    body: &'static str,
    expected: serde_json::Value,
) {
    let server = server_with_credentials().await;
    let http = reqwest::Client::new();
    let call = |service: &'static str, keys: Keys<'static>| {
        let url = server.url("/");
        let http = http.clone();
        async move {
            let headers = [
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", target),
            ];
            let (url, added) = sigv4(
                ("POST", &url, &headers, body.as_bytes()),
                keys,
                service,
                SystemTime::now(),
                false,
            );
            let mut request = http.post(url).body(body);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            for (name, value) in added {
                request = request.header(name, value);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let answer: serde_json::Value = response.json().await.unwrap();
            (status, answer)
        }
    };
    let (status, answer) = call(service, ("AKIDALICE", "alice-secret", None)).await;
    assert_eq!((status, &answer), (200, &expected));
    let (status, answer) = call(service, ("AKIDALICE", "guess", None)).await;
    assert_eq!(status, 400);
    assert_eq!(answer["__type"], "InvalidSignatureException");
    let (status, answer) = call("apigateway", ("AKIDALICE", "alice-secret", None)).await;
    assert_eq!(status, 400);
    assert_eq!(
        answer["message"],
        format!("Credential should be scoped to correct service: '{service}'. ")
    );
    let unsigned = http
        .post(server.url("/"))
        .header("x-amz-target", target)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status().as_u16(), 403);
    let answer: serde_json::Value = unsigned.json().await.unwrap();
    assert_eq!(answer["__type"], "MissingAuthenticationTokenException");
}

/// A credentials file is read again when it changes: keys can be rotated without a restart,
/// and a file that does not read leaves the identities in force as they were.
#[tokio::test]
async fn a_rewritten_credentials_file_rotates_keys_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials");
    let alice = "[alice]\naws_access_key_id = AKIDALICE\naws_secret_access_key = alice-secret\n";
    std::fs::write(&path, alice).unwrap();
    let credentials = Arc::new(causeway_server::Credentials::new(
        causeway_server::Keyring::from_credentials_file(alice, ACCOUNT).unwrap(),
    ));
    let file = path.clone();
    let server = TestServer::start_with(move |config| {
        config.credentials = Some(credentials.clone());
        config.credentials_file = Some(file.clone());
    })
    .await;
    let as_alice = server.client_as(credentials_of("AKIDALICE", "alice-secret"));
    let as_carol = server.client_as(credentials_of("AKIDCAROL", "carol-secret"));
    as_alice.get_rest_apis().send().await.unwrap();
    assert_eq!(
        as_carol.get_rest_apis().send().await.unwrap_err().code(),
        Some("UnrecognizedClientException")
    );

    std::fs::write(
        &path,
        "[carol]\naws_access_key_id = AKIDCAROL\naws_secret_access_key = carol-secret\n",
    )
    .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while as_carol.get_rest_apis().send().await.is_err() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    as_carol.get_rest_apis().send().await.unwrap();
    assert_eq!(
        as_alice.get_rest_apis().send().await.unwrap_err().code(),
        Some("UnrecognizedClientException")
    );

    // A broken file: the identities read before stay.
    std::fs::write(&path, "[carol]\naws_access_key_id = AKIDCAROL\n").unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    as_carol.get_rest_apis().send().await.unwrap();
}

fn credentials_of(key: &str, secret: &str) -> Credentials {
    credentials(key, secret, None)
}
