//! AWS_PROXY and AWS integrations with Lambda functions, invoked through a Lambda Invoke API
//! endpoint that this file starts (a backend reading each event and answering as the
//! function would), given to the server as `--lambda-endpoint`.

use aws_sdk_apigateway::types::AuthorizerType;

use super::*;
use crate::authorizers::function_uri;

const FUNCTION: &str = "arn:aws:lambda:us-east-1:000000000000:function:app";
const MALFORMED: &str = r#"{"message": "Internal server error"}"#;

/// The function behind the integrations. By the event's `path`:
/// - `/echo`: 200 with the event as its body, a header, two cookies, a `Server` header;
/// - `/created`: 201 (`statusCode` as text) and a text body;
/// - `/image`: 4 bytes, base64 (`isBase64Encoded`);
/// - `/extra`: a result with a key a proxy result cannot have;
/// - `/text`: a bare string;
/// - `/throw`: a function error;
/// - `/slow`: answers after 2 s.
///
/// A TOKEN event (the authorizer) is allowed everything, with a context. A non-proxy event
/// (`{"name": ...}`) gets a greeting, or the error `user {name} not found` for `ghost`, or
/// `boom` for `boom`.
pub(super) fn function(seen: &Seen) -> Reply {
    // An asynchronous invocation is queued: 202, no result.
    if seen.header("x-amz-invocation-type") == Some("Event") {
        return Reply::new(202);
    }
    let event: Value = serde_json::from_slice(&seen.body).unwrap_or(Value::Null);
    let json_reply = |value: Value| {
        Reply::new(200)
            .header("Content-Type", "application/json")
            .body(value.to_string())
    };
    let error = |message: &str| {
        Reply::new(200)
            .header("X-Amz-Function-Error", "Unhandled")
            .body(
                json!({"errorMessage": message, "errorType": "Exception", "stackTrace": []})
                    .to_string(),
            )
    };
    if event["type"] == "TOKEN" {
        let arn = event["methodArn"].as_str().unwrap_or_default();
        let stage = arn
            .match_indices('/')
            .nth(1)
            .map_or(arn, |(at, _)| &arn[..=at]);
        return json_reply(json!({
            "principalId": "user-9",
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": format!("{stage}*")}]},
            "context": {"tier": "gold", "n": 3},
        }));
    }
    if let Some(name) = event["name"].as_str() {
        return match name {
            "ghost" => error("user ghost not found"),
            "boom" => error("boom"),
            name => json_reply(json!({"greeting": format!("hello {name}")})),
        };
    }
    // Through the custom domain of the last test, the path starts with its base path.
    let path = event["path"].as_str().unwrap_or_default();
    match path.strip_prefix("/shop").unwrap_or(path) {
        "/echo" => json_reply(json!({
            "statusCode": 200,
            "headers": {"X-Seen-Path": event["path"], "Server": "fn/1", "X-Flag": true},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": event.to_string(),
        })),
        "/created" => json_reply(json!({
            "statusCode": "201",
            "headers": {"Content-Type": "text/plain"},
            "body": "made",
        })),
        "/image" => json_reply(json!({
            "statusCode": 200,
            "headers": {"Content-Type": "image/png"},
            "body": "AAEC/w==",
            "isBase64Encoded": true,
        })),
        "/extra" => json_reply(json!({"statusCode": 200, "cookies": ["a=1"]})),
        "/text" => json_reply(json!("just a string")),
        "/throw" => error("kaput"),
        "/slow" => json_reply(json!({"statusCode": 200})).delay(Duration::from_secs(2)),
        other => error(&format!("no route {other}")),
    }
}

async fn lambda_server(lambda: &Backend) -> TestServer {
    let endpoint = lambda.base();
    TestServer::start_with(move |config| {
        config.lambda_endpoint = Some(causeway_server::LambdaEndpoint::parse(&endpoint).unwrap());
    })
    .await
}

/// `/{proxy+}` ANY → AWS_PROXY to the function named by stage variable `fn`, deployed to
/// `prod` with `fn=app` and `v=1`; `image/png` is a binary media type.
pub(super) async fn proxy_api(client: &Client) -> String {
    let created = client
        .create_rest_api()
        .name("lambda")
        .binary_media_types("image/png")
        .send()
        .await
        .unwrap();
    let api = created.id().unwrap().to_owned();
    let root = created.root_resource_id().unwrap().to_owned();
    let proxy = create_resource(client, &api, &root, "{proxy+}").await;
    put_method(client, &api, &proxy, "ANY").await;
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&proxy)
        .http_method("ANY")
        .r#type(IntegrationType::AwsProxy)
        .integration_http_method("POST")
        .uri(function_uri(
            "arn:aws:lambda:us-east-1:000000000000:function:${stageVariables.fn}",
        ))
        .timeout_in_millis(500)
        .send()
        .await
        .unwrap();
    deploy_with(client, &api, "prod", &[("fn", "app"), ("v", "1")]).await;
    api
}

/// The id of the `/{proxy+}` resource of an API made by [`proxy_api`].
async fn proxy_resource(client: &Client, api: &str) -> String {
    client
        .get_resources()
        .rest_api_id(api)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .find(|r| r.path() == Some("/{proxy+}"))
        .and_then(|r| r.id())
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_lambda_proxy_integration_sends_the_proxy_event_and_answers_what_the_function_says() {
    let lambda = Backend::start(function).await;
    let server = lambda_server(&lambda).await;
    let client = server.client();
    let api = proxy_api(&client).await;
    let invoke = Invoke::new(&server, &api);
    let raw = invoke
        .until("POST", "/prod/echo", |raw| raw.status != 403)
        .await;
    assert_eq!(raw.status, 200, "{}", raw.text());

    let raw = invoke
        .send(
            invoke
                .request("POST", "/prod/echo?a=1&a=2&b=x+y")
                .header("Content-Type", "application/json")
                .header("X-Custom", "c")
                .body(r#"{"hello":"world"}"#),
        )
        .await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    // The function named by the stage variable was invoked.
    assert_eq!(
        percent_decode(&lambda.last().target),
        format!("/2015-03-31/functions/{FUNCTION}/invocations")
    );
    let event = raw.json();
    assert_eq!(event["resource"], "/{proxy+}");
    assert_eq!(event["path"], "/echo");
    assert_eq!(event["httpMethod"], "POST");
    assert_eq!(
        event["queryStringParameters"],
        json!({"a": "2", "b": "x y"})
    );
    assert_eq!(
        event["multiValueQueryStringParameters"],
        json!({"a": ["1", "2"], "b": ["x y"]})
    );
    assert_eq!(event["pathParameters"], json!({"proxy": "echo"}));
    assert_eq!(event["stageVariables"], json!({"fn": "app", "v": "1"}));
    assert_eq!(event["body"], r#"{"hello":"world"}"#);
    assert_eq!(event["isBase64Encoded"], false);
    assert_eq!(event["headers"]["x-custom"], "c");
    assert_eq!(event["multiValueHeaders"]["x-custom"], json!(["c"]));
    assert_eq!(event["headers"]["X-Forwarded-For"], "127.0.0.1");
    assert_eq!(event["headers"]["X-Forwarded-Proto"], "http");
    assert!(
        event["headers"]["X-Amzn-Trace-Id"]
            .as_str()
            .unwrap()
            .starts_with("Root=1-")
    );
    assert!(event["headers"].get("content-length").is_none(), "{event}");
    let context = &event["requestContext"];
    assert_eq!(context["stage"], "prod");
    assert_eq!(context["apiId"], api.as_str());
    assert_eq!(context["accountId"], ACCOUNT);
    assert_eq!(context["resourcePath"], "/{proxy+}");
    assert_eq!(context["path"], "/prod/echo");
    assert_eq!(context["identity"]["sourceIp"], "127.0.0.1");
    assert_eq!(
        context["requestId"],
        raw.header("x-amzn-requestid").unwrap().as_str()
    );
    assert!(
        context["deploymentId"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    assert!(
        context.get("authorizer").is_none(),
        "no authorizer: {context}"
    );
    // The function's headers: its own, both cookies, Server remapped, a trace id added.
    assert_eq!(raw.header("x-seen-path").as_deref(), Some("/echo"));
    assert_eq!(raw.header("x-flag").as_deref(), Some("true"));
    let cookies: Vec<&str> = raw
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
    assert_eq!(
        raw.header("x-amzn-remapped-server").as_deref(),
        Some("fn/1")
    );
    assert_eq!(
        raw.header("content-type").as_deref(),
        Some("application/json")
    );
    assert!(raw.header("x-amzn-trace-id").is_some());

    // Without a query or body: nulls, as AWS sends them; a binary body goes base64.
    let event = invoke.get("/prod/echo").await.json();
    assert_eq!(event["queryStringParameters"], Value::Null);
    assert_eq!(event["multiValueQueryStringParameters"], Value::Null);
    assert_eq!(event["body"], Value::Null);
    let event = invoke
        .send(
            invoke
                .request("PUT", "/prod/echo")
                .header("Content-Type", "image/png")
                .body(vec![0u8, 1, 2, 255]),
        )
        .await
        .json();
    assert_eq!(event["body"], "AAEC/w==");
    assert_eq!(event["isBase64Encoded"], true);

    // statusCode as text, a text body.
    let raw = invoke.get("/prod/created").await;
    assert_eq!((raw.status, raw.text().as_str()), (201, "made"));
    assert_eq!(raw.header("content-type").as_deref(), Some("text/plain"));

    // A base64 body is decoded for a client whose first Accept type is a binary type only.
    let image = invoke
        .send(
            invoke
                .request("GET", "/prod/image")
                .header("Accept", "image/png,*/*"),
        )
        .await;
    assert_eq!(image.body, [0u8, 1, 2, 255]);
    let text = invoke
        .send(
            invoke
                .request("GET", "/prod/image")
                .header("Accept", "image/webp,image/png"),
        )
        .await;
    assert_eq!(text.text(), "AAEC/w==");

    // What is not a proxy result, and a failing function: 502. A slow one: 504.
    for path in ["/prod/extra", "/prod/text", "/prod/throw"] {
        assert_gateway_error(
            &invoke.get(path).await,
            502,
            "InternalServerErrorException",
            MALFORMED,
        );
    }
    assert_gateway_error(
        &invoke.get("/prod/slow").await,
        504,
        "InternalServerErrorException",
        TIMED_OUT,
    );

    // The 502 is customised through DEFAULT_5XX.
    client
        .put_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::Default5Xx)
        .status_code("503")
        .response_templates(
            "application/json",
            r#"{"oops":$context.error.messageString}"#,
        )
        .send()
        .await
        .unwrap();
    deploy_with(&client, &api, "prod", &[("fn", "app"), ("v", "1")]).await;
    let raw = invoke
        .until("GET", "/prod/throw", |raw| raw.status != 502)
        .await;
    assert_eq!(raw.status, 503, "{}", raw.text());
    assert_eq!(raw.json(), json!({"oops": "Internal server error"}));
}

#[tokio::test]
async fn the_proxy_event_carries_what_the_authorizer_said() {
    let lambda = Backend::start(function).await;
    let server = lambda_server(&lambda).await;
    let client = server.client();
    let api = proxy_api(&client).await;
    let authorizer = client
        .create_authorizer()
        .rest_api_id(&api)
        .name("tokens")
        .r#type(AuthorizerType::Token)
        .authorizer_uri(function_uri(FUNCTION))
        .identity_source("method.request.header.Authorization")
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let proxy = proxy_resource(&client, &api).await;
    client
        .update_method()
        .rest_api_id(&api)
        .resource_id(&proxy)
        .http_method("ANY")
        .patch_operations(replace("/authorizationType", "CUSTOM"))
        .patch_operations(replace("/authorizerId", &authorizer))
        .send()
        .await
        .unwrap();
    deploy_with(&client, &api, "prod", &[("fn", "app"), ("v", "1")]).await;
    let invoke = Invoke::new(&server, &api);
    invoke
        .until("GET", "/prod/echo", |raw| raw.status == 401)
        .await;
    let event = invoke
        .send(
            invoke
                .request("GET", "/prod/echo")
                .header("Authorization", "Bearer t"),
        )
        .await
        .json();
    assert_eq!(
        event["requestContext"]["authorizer"],
        json!({"principalId": "user-9", "integrationLatency": 0, "tier": "gold", "n": "3"})
    );
}

#[tokio::test]
async fn the_proxy_event_names_the_iam_identity_that_signed() {
    let lambda = Backend::start(function).await;
    let endpoint = lambda.base();
    let keyring = std::sync::Arc::new(causeway_server::Credentials::new(
        causeway_server::Keyring::from_credentials_file(crate::sigv4::CREDENTIALS_FILE, ACCOUNT)
            .unwrap(),
    ));
    let server = TestServer::start_with(move |config| {
        config.lambda_endpoint = Some(causeway_server::LambdaEndpoint::parse(&endpoint).unwrap());
        config.credentials = Some(keyring.clone());
    })
    .await;
    let client = server.client_as(aws_credential_types::Credentials::new(
        "AKIDALICE",
        "alice-secret",
        None,
        None,
        "test",
    ));
    let api = proxy_api(&client).await;
    // Open to anyone first, so that the Missing Authentication Token awaited below can only
    // be the AWS_IAM deployment's (a stage not served yet answers it too).
    let invoke = Invoke::new(&server, &api);
    let open = invoke.ready("/prod/echo").await;
    assert_eq!(open.status, 200, "{}", open.text());
    let proxy = proxy_resource(&client, &api).await;
    client
        .update_method()
        .rest_api_id(&api)
        .resource_id(&proxy)
        .http_method("ANY")
        .patch_operations(replace("/authorizationType", "AWS_IAM"))
        .send()
        .await
        .unwrap();
    deploy_with(&client, &api, "prod", &[("fn", "app"), ("v", "1")]).await;
    let unsigned = invoke
        .until("GET", "/prod/echo", |raw| {
            raw.error_type().as_deref() == Some("MissingAuthenticationTokenException")
        })
        .await;
    assert_missing_token(&unsigned);
    let (url, headers) = sigv4(
        ("GET", &invoke.url("/prod/echo"), &[], b""),
        ("ASIAOPS", "ops-secret", Some("ops-session-token")),
        "execute-api",
        std::time::SystemTime::now(),
        false,
    );
    let mut request = invoke.request_url("GET", &url);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let raw = invoke.send(request).await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    let event = raw.json();
    let identity = &event["requestContext"]["identity"];
    assert_eq!(identity["accessKey"], "ASIAOPS");
    assert_eq!(identity["accountId"], ACCOUNT);
    assert_eq!(
        identity["userArn"],
        "arn:aws:sts::000000000000:assumed-role/Ops/night-shift"
    );
    assert!(
        identity["caller"]
            .as_str()
            .unwrap()
            .ends_with(":night-shift")
    );
    assert_eq!(identity["user"], identity["caller"]);
    // The function sees the signature's x-amz-* headers, not the signature.
    let names: Vec<String> = event["headers"]
        .as_object()
        .unwrap()
        .keys()
        .map(|name| name.to_ascii_lowercase())
        .collect();
    assert!(!names.contains(&"authorization".to_owned()), "{event}");
    assert!(
        names.contains(&"x-amz-security-token".to_owned()),
        "{event}"
    );
    assert!(names.contains(&"x-amz-date".to_owned()), "{event}");
}

#[tokio::test]
async fn a_lambda_integration_maps_the_request_and_selects_responses_by_error_message() {
    let lambda = Backend::start(function).await;
    let server = lambda_server(&lambda).await;
    let client = server.client();
    let (api, root) = create_api(&client, "greeter").await;
    let hello = create_resource(&client, &api, &root, "hello").await;
    client
        .put_method()
        .rest_api_id(&api)
        .resource_id(&hello)
        .http_method("GET")
        .authorization_type("NONE")
        .request_parameters("method.request.querystring.name", false)
        .send()
        .await
        .unwrap();
    for status in ["200", "404"] {
        method_response(&client, &api, &hello, "GET", status).await;
    }
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&hello)
        .http_method("GET")
        .r#type(IntegrationType::Aws)
        .integration_http_method("POST")
        .uri(function_uri(FUNCTION))
        .request_templates("application/json", r#"{"name": "$input.params('name')"}"#)
        .send()
        .await
        .unwrap();
    client
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&hello)
        .http_method("GET")
        .status_code("200")
        .response_templates("application/json", r#"{"said": $input.json('$.greeting')}"#)
        .send()
        .await
        .unwrap();
    client
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&hello)
        .http_method("GET")
        .status_code("404")
        .selection_pattern(".*not found.*")
        .response_templates(
            "application/json",
            r#"{"error": $input.json('$.errorMessage')}"#,
        )
        .send()
        .await
        .unwrap();
    deploy(&client, &api, "prod").await;
    let invoke = Invoke::new(&server, &api);
    let raw = invoke
        .until("GET", "/prod/hello?name=ada", |raw| raw.status != 403)
        .await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    assert_eq!(raw.json(), json!({"said": "hello ada"}));
    // The payload was the mapped request.
    let payload: Value = serde_json::from_slice(&lambda.last().body).unwrap();
    assert_eq!(payload, json!({"name": "ada"}));
    assert!(raw.header("x-amzn-trace-id").is_some());

    // A function error whose message matches a pattern takes that response; one that
    // matches none takes the default, with the error as its input.
    let raw = invoke.get("/prod/hello?name=ghost").await;
    assert_eq!(raw.status, 404, "{}", raw.text());
    assert_eq!(raw.json(), json!({"error": "user ghost not found"}));
    let raw = invoke.get("/prod/hello?name=boom").await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    assert!(raw.text().starts_with(r#"{"said": "#), "{}", raw.text());
    assert_eq!(
        lambda.last().header("x-amz-invocation-type"),
        Some("RequestResponse")
    );

    // Mapping X-Amz-Invocation-Type to 'Event' queues the call (as AWS documents for
    // asynchronous Lambda calls): the default response, at once.
    client
        .update_integration()
        .rest_api_id(&api)
        .resource_id(&hello)
        .http_method("GET")
        .patch_operations(add(
            "/requestParameters/integration.request.header.X-Amz-Invocation-Type",
            "'Event'",
        ))
        .send()
        .await
        .unwrap();
    deploy(&client, &api, "prod").await;
    let raw = invoke
        .until("GET", "/prod/hello?name=ada", |_| {
            lambda.last().header("x-amz-invocation-type") == Some("Event")
        })
        .await;
    assert_eq!(raw.status, 200, "{}", raw.text());
}

#[tokio::test]
async fn lambda_integrations_are_checked_when_stored_and_need_an_endpoint() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "checked").await;
    put_method(&client, &api, &root, "GET").await;
    let put = |kind: IntegrationType, uri: &str| {
        client
            .put_integration()
            .rest_api_id(&api)
            .resource_id(&root)
            .http_method("GET")
            .r#type(kind)
            .integration_http_method("POST")
            .uri(uri)
            .send()
    };
    put(IntegrationType::AwsProxy, "not-an-arn")
        .await
        .expect_error(
            "BadRequestException",
            "Invalid ARN specified in the request",
        );
    put(
        IntegrationType::Aws,
        "arn:aws:iam::000000000000:role/service-role/x",
    )
    .await
    .expect_error(
        "BadRequestException",
        "AWS ARN for integration must contain path or action",
    );
    put(IntegrationType::AwsProxy, "arn:aws:apigateway:us-east-1:s3:path/bucket/key")
        .await
        .expect_error(
            "BadRequestException",
            "Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations.",
        );
    put(IntegrationType::AwsProxy, &function_uri(FUNCTION))
        .await
        .unwrap();
    deploy(&client, &api, "prod").await;
    // Without --lambda-endpoint the function cannot be called.
    let invoke = Invoke::new(&server, &api);
    let raw = invoke.until("GET", "/prod", |raw| raw.status != 403).await;
    assert_internal_error(&raw);
}

#[tokio::test]
async fn through_a_custom_domain_the_proxy_event_shows_the_whole_path() {
    let lambda = Backend::start(function).await;
    let server = lambda_server(&lambda).await;
    let client = server.client();
    let api = proxy_api(&client).await;
    let certificate = imported_certificate(&server, &["shop.example.com"]).await;
    create_regional_domain(&client, "shop.example.com", &certificate).await;
    client
        .create_base_path_mapping()
        .domain_name("shop.example.com")
        .base_path("shop")
        .rest_api_id(&api)
        .stage("prod")
        .send()
        .await
        .unwrap();
    let gateway = server.gateway_addr();
    let http = reqwest::Client::builder()
        .no_proxy()
        .resolve("shop.example.com", gateway)
        .build()
        .unwrap();
    let url = format!("http://shop.example.com:{}/shop/echo", gateway.port());
    let deadline = Instant::now() + Duration::from_secs(5);
    let event: Value = loop {
        let response = http.get(&url).send().await.unwrap();
        if response.status() == 200 || Instant::now() >= deadline {
            break response.json().await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // As AWS sends them through a custom domain: the base path in `path`, and no stage.
    assert_eq!(event["path"], "/shop/echo");
    assert_eq!(event["requestContext"]["path"], "/shop/echo");
    assert_eq!(event["resource"], "/{proxy+}");
    assert_eq!(event["pathParameters"], json!({"proxy": "echo"}));
    // The Host as sent (here with the test gateway's port).
    assert!(
        event["requestContext"]["domainName"]
            .as_str()
            .is_some_and(|d| d.starts_with("shop.example.com")),
        "{event}"
    );
}
