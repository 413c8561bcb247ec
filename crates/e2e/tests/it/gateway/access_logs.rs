//! Stage access logs: `accessLogSettings` checked as AWS checks them, and a line per request
//! in the stage's format written to `{data dir}/access-logs/{log group}.log`.

use super::*;

const GROUP_ARN: &str = "arn:aws:logs:us-east-1:000000000000:log-group:/aws/apigateway/shop";

const FORMAT: &str = r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","method":"$context.httpMethod","resourcePath":"$context.resourcePath","status":"$context.status","length":"$context.responseLength","error":"$context.error.message","type":"$context.error.responseType","stage":"$context.stage","integrationLatency":"$context.integrationLatency","integrationStatus":"$context.integrationStatus","latency":"$context.responseLatency","caller":"$context.identity.caller"}"#;

/// The lines of the log file so far.
fn logged(path: &std::path::Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// The lines of the log file once there is one for the request `id` (the lines are written
/// a moment after their answers), or `None` after `patience`.
async fn lines_through(path: &std::path::Path, id: &str, patience: Duration) -> Option<Vec<Value>> {
    let deadline = Instant::now() + patience;
    loop {
        let lines = logged(path);
        if lines.iter().any(|line| line["requestId"] == id) {
            return Some(lines);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn request_id(raw: &Raw) -> String {
    raw.header("x-amzn-requestid").expect("x-amzn-RequestId")
}

#[tokio::test]
async fn stages_write_access_logs_in_their_format() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "logged").await;
    let pets = create_resource(&client, &api, &root, "pets").await;
    mock_route(&client, &api, &pets, "GET", "pets").await;
    deploy(&client, &api, "prod").await;

    // What AWS refuses.
    for (path, value, message) in [
        (
            "/accessLogSettings/format",
            "$context.requestId\n$context.status",
            "Access Log format must be single line, new line character is allowed only at end of the format",
        ),
        (
            "/accessLogSettings/format",
            "$context.status",
            "Access Log format must contain either $context.requestId or $context.extendedRequestId",
        ),
    ] {
        client
            .update_stage()
            .rest_api_id(&api)
            .stage_name("prod")
            .patch_operations(replace(path, value))
            .send()
            .await
            .expect_error("BadRequestException", message);
    }
    client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .patch_operations(replace(
            "/accessLogSettings/destinationArn",
            "arn:aws:s3:::my-bucket",
        ))
        .send()
        .await
        .expect_error_containing(
            "BadRequestException",
            "Invalid ARN specified in the request",
        );

    update_stage(
        &client,
        &api,
        vec![
            replace("/accessLogSettings/destinationArn", GROUP_ARN),
            // A newline at the end is allowed, and not written twice.
            replace("/accessLogSettings/format", &format!("{FORMAT}\n")),
        ],
    )
    .await;
    let invoke = Invoke::new(&server, &api);
    let path = server
        .data_dir()
        .join("access-logs")
        .join("_aws_apigateway_shop.log");
    // The deployment can be served before the settings are: GET until an answer is logged
    // (a second each for its line), and count from that one on.
    let deadline = Instant::now() + Invoke::PATIENCE;
    let (ok, from) = loop {
        let ok = invoke.ready("/prod/pets").await;
        assert_eq!(ok.status, 200, "{}", ok.text());
        let id = request_id(&ok);
        if let Some(lines) = lines_through(&path, &id, Duration::from_secs(1)).await {
            let from = lines
                .iter()
                .position(|line| line["requestId"] == id.as_str());
            break (ok, from.unwrap());
        }
        assert!(Instant::now() < deadline, "no request was logged");
    };
    let missing = invoke.get("/prod/nothing-here").await;
    assert_eq!(missing.status, 403);

    let lines = lines_through(&path, &request_id(&missing), Invoke::PATIENCE)
        .await
        .expect("the second request is logged");
    // Before `ok`, only GETs of the loop above; from it on, each request once, in order.
    for line in &lines[..from] {
        assert_eq!(line["resourcePath"], "/pets", "{line}");
    }
    let lines = &lines[from..];
    assert_eq!(lines.len(), 2, "{lines:?}");
    let first = &lines[0];
    assert_eq!(first["requestId"], request_id(&ok));
    assert_eq!(first["ip"], "127.0.0.1");
    assert_eq!(first["method"], "GET");
    assert_eq!(first["resourcePath"], "/pets");
    assert_eq!(first["status"], "200");
    assert_eq!(first["length"], ok.body.len().to_string());
    assert_eq!(first["error"], "-");
    assert_eq!(first["stage"], "prod");
    for field in ["integrationLatency", "latency"] {
        let millis = first[field].as_str().unwrap();
        assert!(millis.parse::<u64>().is_ok(), "{field}: {millis}");
    }
    assert_eq!(first["integrationStatus"], "200");
    assert_eq!(first["caller"], "-");
    let second = &lines[1];
    assert_eq!(second["requestId"], request_id(&missing));
    assert_eq!(second["status"], "403");
    assert_eq!(second["error"], "Missing Authentication Token");
    assert_eq!(second["type"], "MISSING_AUTHENTICATION_TOKEN");
    assert_eq!(second["integrationLatency"], "-");
    assert_eq!(second["integrationStatus"], "-");
}
