//! The rest-json wire contract checked with raw HTTP: error shape, status codes, request ids,
//! timestamps, list keys, malformed input. Client mistakes never produce a 5xx.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::*;

#[tokio::test]
async fn not_found_error_shape() {
    let server = TestServer::start().await;
    let raw = server.get("/restapis/nope123456").await;
    let message = raw.assert_error(404, "NotFoundException");
    assert_eq!(
        message,
        format!("Invalid API identifier specified {ACCOUNT}:nope123456")
    );
    let error_type = raw.header("x-amzn-errortype").unwrap();
    assert!(error_type.starts_with("NotFoundException"), "{error_type}");
    let content_type = raw.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "content-type {content_type:?}"
    );
}

#[tokio::test]
async fn every_response_has_a_request_id() {
    let server = TestServer::start().await;
    let created = server.post("/restapis", r#"{"name":"rid"}"#).await;
    created.assert_status(201);
    let api = created.json()["id"].as_str().unwrap().to_owned();
    let responses = [
        created,
        server.get("/restapis").await,
        server.get(&format!("/restapis/{api}")).await,
        server.get("/restapis/nope123456").await,
        server.get("/nothing").await,
        server.post("/restapis", "{oops").await,
        server.delete(&format!("/restapis/{api}")).await,
    ];
    let mut ids = Vec::new();
    for raw in &responses {
        let id = raw
            .header("x-amzn-requestid")
            .unwrap_or_else(|| panic!("no x-amzn-RequestId on status {}", raw.status));
        assert!(!id.is_empty());
        ids.push(id);
    }
    distinct(ids.iter().map(String::as_str));
}

#[tokio::test]
async fn malformed_json_rejected() {
    let server = TestServer::start().await;
    let raw = server.post("/restapis", "{\"name\": \"a\"").await;
    raw.assert_status(400);
    let code = raw.error_type().unwrap();
    assert!(
        code == "SerializationException" || code == "BadRequestException",
        "error type {code}"
    );
    let listed = server.get("/restapis").await.json();
    assert!(listed["item"].as_array().is_none_or(Vec::is_empty));
}

#[tokio::test]
async fn wrong_json_type_rejected() {
    let server = TestServer::start().await;
    for body in [
        r#"{"name": 5}"#,
        r#"{"name": "a", "disableExecuteApiEndpoint": "yes"}"#,
        r#"{"name": "a", "tags": ["x"]}"#,
        r#"["name"]"#,
        "5",
    ] {
        let raw = server.post("/restapis", body).await;
        assert_eq!(raw.status, 400, "{body}: {}", raw.text());
        raw.assert_error_shape();
    }
}

#[tokio::test]
async fn unknown_field_rejected() {
    let server = TestServer::start().await;
    let raw = server.post("/restapis", r#"{"name":"a","bogus":1}"#).await;
    let message = raw.assert_status(400);
    assert!(message.contains("bogus"), "message {message:?}");
}

#[tokio::test]
async fn missing_required_field_rejected() {
    // AWS reports a missing required member as a 400 (BadRequestException, or the
    // unmodeled ValidationException "Member must not be null").
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "req").await;
    for (path, body) in [
        ("/restapis".to_owned(), "{}"),
        (format!("/restapis/{api}/resources/{root}"), "{}"),
        ("/vpclinks".to_owned(), r#"{"name":"x"}"#),
        (format!("/restapis/{api}/stages"), r#"{"stageName":"s"}"#),
    ] {
        let raw = server.post(&path, body).await;
        raw.assert_status(400);
        let code = raw.error_type().unwrap();
        assert!(
            code == "BadRequestException" || code == "ValidationException",
            "{path} {body}: {code}"
        );
    }
}

#[tokio::test]
async fn oversized_body_rejected_without_5xx() {
    // Sent over a bare socket: the server may answer before reading the whole body.
    let server = TestServer::start().await;
    let size = 10 * 1024 * 1024 + 1024;
    let stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "POST /restapis HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n",
        server.addr()
    );
    let writer_task = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await?;
        let mut body = format!("{{\"name\":\"{}", "a".repeat(size - 12)).into_bytes();
        body.extend_from_slice(b"\"}");
        assert_eq!(body.len(), size);
        for chunk in body.chunks(64 * 1024) {
            writer.write_all(chunk).await?;
        }
        writer.flush().await
    });
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    response.extend_from_slice(&buf[..n]);
                    if response.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer to an oversized body");
    writer_task.abort();
    let text = String::from_utf8_lossy(&response);
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status line in {text:?}"));
    assert!(
        (400..500).contains(&status),
        "oversized body must get a 4xx, got {status}"
    );
    // The server is still healthy.
    server.get("/restapis").await.assert_status(200);
}

#[tokio::test]
async fn unknown_route_is_404() {
    let server = TestServer::start().await;
    for path in ["/nothing", "/restapis/x/nothing"] {
        let raw = server.get(path).await;
        assert_eq!(raw.status, 404, "{path}: {}", raw.text());
        raw.assert_error_shape();
    }
}

#[tokio::test]
async fn missing_ids_are_404() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "ids").await;
    for path in [
        "/restapis/nope123456".to_owned(),
        "/restapis/nope123456/resources".to_owned(),
        format!("/restapis/{api}/resources/nope00"),
        format!("/restapis/{api}/resources/{root}/methods/GET"),
        format!("/restapis/{api}/resources/{root}/methods/GET/integration"),
        format!("/restapis/{api}/deployments/nope00"),
        format!("/restapis/{api}/stages/nope"),
        "/vpclinks/nope00".to_owned(),
    ] {
        server
            .get(&path)
            .await
            .assert_error(404, "NotFoundException");
    }
}

#[tokio::test]
async fn created_date_is_epoch_seconds_number() {
    let server = TestServer::start().await;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let raw = server.post("/restapis", r#"{"name":"dated"}"#).await;
    raw.assert_status(201);
    let created = raw.json()["createdDate"].clone();
    let seconds = created
        .as_f64()
        .unwrap_or_else(|| panic!("createdDate must be a JSON number, got {created}"));
    assert!(
        (seconds - now).abs() < 120.0,
        "createdDate {seconds} is not epoch seconds near {now}"
    );
}

#[tokio::test]
async fn list_responses_use_item_key() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _, _) = deployable_api(&client).await;
    let deployment = create_deployment(&client, &api).await;
    create_stage(&client, &api, "dev", &deployment).await;
    client
        .create_vpc_link()
        .name("l")
        .target_arns(NLB_ARN)
        .send()
        .await
        .unwrap();
    for path in [
        "/restapis".to_owned(),
        "/vpclinks".to_owned(),
        format!("/restapis/{api}/resources"),
        format!("/restapis/{api}/deployments"),
        format!("/restapis/{api}/stages"),
        format!("/restapis/{api}/gatewayresponses"),
    ] {
        let raw = server.get(&path).await;
        raw.assert_status(200);
        let body = raw.json();
        let items = body["item"]
            .as_array()
            .unwrap_or_else(|| panic!("{path}: no \"item\" array in {body}"));
        assert!(!items.is_empty(), "{path}");
        assert!(body.get("items").is_none(), "{path}: wire key is item");
    }
}

#[tokio::test]
async fn empty_lists_are_well_formed() {
    let server = TestServer::start().await;
    for path in ["/restapis", "/vpclinks"] {
        let raw = server.get(path).await;
        raw.assert_status(200);
        let body = raw.json();
        assert!(body.is_object(), "{path}: {body}");
        assert!(
            body.get("item")
                .is_none_or(|i| i.as_array().is_some_and(Vec::is_empty)),
            "{path}: {body}"
        );
        assert!(body.get("position").is_none(), "{path}: {body}");
    }
}

#[tokio::test]
async fn patch_with_bogus_op_is_validation_error() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "patch").await;
    let raw = server
        .patch(
            &format!("/restapis/{api}"),
            r#"{"patchOperations":[{"op":"bogus","path":"/name","value":"x"}]}"#,
        )
        .await;
    let message = raw.assert_status(400);
    assert!(message.contains("validation error"), "{message}");
    let name = server.get(&format!("/restapis/{api}")).await.json()["name"].clone();
    assert_eq!(name, "patch");
}

#[tokio::test]
async fn patch_with_two_bogus_ops_reports_both() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "patch").await;
    let raw = server
        .patch(
            &format!("/restapis/{api}"),
            r#"{"patchOperations":[{"op":"replace","path":"/name","value":"x"},{"op":"x","path":"/a"},{"op":"y","path":"/b"}]}"#,
        )
        .await;
    let message = raw.assert_status(400);
    assert!(
        message.contains("2 validation errors detected"),
        "{message}"
    );
}

#[tokio::test]
async fn patch_with_unknown_path_is_bad_request() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "patch").await;
    server
        .patch(
            &format!("/restapis/{api}"),
            r#"{"patchOperations":[{"op":"replace","path":"/nope","value":"x"}]}"#,
        )
        .await
        .assert_error(400, "BadRequestException");
}

#[tokio::test]
async fn patch_without_operations_is_a_no_op() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "noop").await;
    let raw = server
        .patch(&format!("/restapis/{api}"), r#"{"patchOperations":[]}"#)
        .await;
    raw.assert_status(200);
    assert_eq!(raw.json()["name"], "noop");
}

#[tokio::test]
async fn rest_api_lifecycle_status_codes() {
    let server = TestServer::start().await;
    let created = server.post("/restapis", r#"{"name":"codes"}"#).await;
    created.assert_status(201);
    let api = created.json()["id"].as_str().unwrap().to_owned();
    let got = server.get(&format!("/restapis/{api}")).await;
    got.assert_status(200);
    for raw in [&created, &got] {
        let content_type = raw.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with("application/json"),
            "content-type {content_type:?}"
        );
    }
    server.get("/restapis").await.assert_status(200);
    server
        .patch(
            &format!("/restapis/{api}"),
            r#"{"patchOperations":[{"op":"replace","path":"/name","value":"renamed"}]}"#,
        )
        .await
        .assert_status(200);
    server
        .delete(&format!("/restapis/{api}"))
        .await
        .assert_status(202);
    server
        .delete(&format!("/restapis/{api}"))
        .await
        .assert_error(404, "NotFoundException");
}

#[tokio::test]
async fn requests_without_accept_header_get_json() {
    let server = TestServer::start().await;
    let response = reqwest::Client::new()
        .post(server.url("/restapis"))
        .header("content-type", "application/json")
        .body(r#"{"name":"no-accept"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let body: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(body["name"], "no-accept");
    assert!(body.get("_links").is_none() && body.get("_embedded").is_none());
}

#[tokio::test]
async fn embed_query_may_be_repeated_or_comma_separated() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _, pets) = deployable_api(&client).await;
    for query in [
        "embed=methods",
        "embed=methods&embed=other",
        "embed=other,methods",
    ] {
        let raw = server
            .get(&format!("/restapis/{api}/resources?{query}"))
            .await;
        raw.assert_status(200);
        let body = raw.json();
        let item = body["item"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == pets.as_str())
            .unwrap()
            .clone();
        assert_eq!(
            item["resourceMethods"]["GET"]["httpMethod"], "GET",
            "{query}: {item}"
        );
    }
}

#[tokio::test]
async fn garbage_requests_never_5xx() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root, pets) = deployable_api(&client).await;
    let method = format!("/restapis/{api}/resources/{pets}/methods/GET");
    let cases: Vec<(&str, String, Option<&str>)> = vec![
        ("POST", "/restapis".into(), Some("")),
        ("POST", "/restapis".into(), Some("null")),
        ("POST", "/restapis".into(), Some("\u{0}\u{1}")),
        (
            "POST",
            "/restapis".into(),
            Some(r#"{"name":"x","minimumCompressionSize":"big"}"#),
        ),
        (
            "POST",
            "/restapis".into(),
            Some(r#"{"name":"x","apiKeySource":"NOPE"}"#),
        ),
        (
            "POST",
            "/restapis".into(),
            Some(r#"{"name":"x","endpointConfiguration":{"types":["MOON"]}}"#),
        ),
        ("GET", "/restapis?limit=abc".into(), None),
        ("PATCH", format!("/restapis/{api}"), Some("[]")),
        (
            "PATCH",
            format!("/restapis/{api}"),
            Some(r#"{"patchOperations":"x"}"#),
        ),
        (
            "PATCH",
            format!("/restapis/{api}"),
            Some(
                r#"{"patchOperations":[{"op":"replace","path":"/minimumCompressionSize","value":"x"}]}"#,
            ),
        ),
        ("PUT", method.clone(), Some(r#"{"authorizationType":5}"#)),
        (
            "PUT",
            format!("/restapis/{api}/resources/{root}/methods/GET"),
            Some(r#"{"authorizationType":"NONE","requestParameters":{"a":"notbool"}}"#),
        ),
        (
            "PUT",
            format!("{method}/integration"),
            Some(r#"{"type":"NOPE"}"#),
        ),
        (
            "PUT",
            format!("{method}/integration"),
            Some(r#"{"type":"HTTP","httpMethod":"GET","uri":"http://x","timeoutInMillis":"slow"}"#),
        ),
        ("PUT", format!("{method}/responses/abc"), Some("{}")),
        (
            "POST",
            format!("/restapis/{api}/deployments"),
            Some(r#"{"variables":"x"}"#),
        ),
        (
            "POST",
            format!("/restapis/{api}/stages"),
            Some(r#"{"stageName":"s"}"#),
        ),
        (
            "POST",
            "/vpclinks".into(),
            Some(r#"{"name":"l","targetArns":"x"}"#),
        ),
        (
            "POST",
            "/vpclinks".into(),
            Some(r#"{"name":"l","targetArns":[]}"#),
        ),
        (
            "PUT",
            format!("/restapis/{api}/gatewayresponses/NOT_A_TYPE"),
            Some("{}"),
        ),
        (
            "PUT",
            format!("/restapis/{api}/gatewayresponses/THROTTLED"),
            Some(r#"{"statusCode":"abc"}"#),
        ),
        (
            "PUT",
            "/tags/not-an-arn".into(),
            Some(r#"{"tags":{"a":"b"}}"#),
        ),
        (
            "PUT",
            format!("/tags/{}", encode_label(&rest_api_arn(&api))),
            Some(r#"{"tags":"x"}"#),
        ),
        ("DELETE", "/restapis".into(), None),
        ("PUT", "/restapis".into(), Some("{}")),
    ];
    for (method, path, body) in cases {
        let raw = server.raw(method, &path, body).await;
        assert!(
            (400..500).contains(&raw.status),
            "{method} {path} {body:?} -> {} {}",
            raw.status,
            raw.text()
        );
        raw.assert_error_shape();
    }
    // The server still works and nothing half-created leaked into the API.
    let names: Vec<String> = server.get("/restapis").await.json()["item"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["deployable"]);
}

#[tokio::test]
async fn garbage_position_never_5xx() {
    let server = TestServer::start().await;
    let client = server.client();
    create_api(&client, "p").await;
    for query in ["position=garbage", "position=", "limit=2&position=%00%FF"] {
        let raw = server.get(&format!("/restapis?{query}")).await;
        assert!(raw.status < 500, "{query} -> {} {}", raw.status, raw.text());
        if raw.status >= 400 {
            raw.assert_error_shape();
        }
    }
}

#[tokio::test]
async fn bogus_patch_op_message_names_the_member() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "patch").await;
    let raw = server
        .patch(
            &format!("/restapis/{api}"),
            r#"{"patchOperations":[{"op":"bogus","path":"/name","value":"x"}]}"#,
        )
        .await;
    let message = raw.assert_error(400, "ValidationException");
    assert!(
        message.starts_with("1 validation error detected: Value 'bogus' at 'updateRestApiInput.patchOperations.1.member.op' failed to satisfy constraint: Member must satisfy enum value set"),
        "{message}"
    );
}

#[tokio::test]
async fn a_half_sent_request_head_does_not_hold_an_admin_connection() {
    let server = TestServer::start_with(|config| {
        config.request_head_timeout = Duration::from_millis(300);
    })
    .await;
    // A whole request is served as ever.
    let raw = server.get("/restapis").await;
    assert_eq!(raw.status, 200);
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    stream
        .write_all(b"GET /restapis HTTP/1.1\r\nHost: a\r\n")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
    assert!(
        closed.is_ok(),
        "the connection was held past the head timeout"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "closed before the timeout: {:?}",
        started.elapsed()
    );
}
