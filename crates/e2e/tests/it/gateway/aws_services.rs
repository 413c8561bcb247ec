//! AWS integrations with services other than Lambda, against a real emulator of them
//! (moto's server, given as `--aws-endpoint`): S3 through its path-based API, SQS through
//! a form-encoded request template, DynamoDB through its action-based API (the
//! `X-Amz-Target` API Gateway sets), each answer through the integration responses.

use aws_sdk_apigateway::Client;

use super::mutual_tls::{MotoServer, aws};
use super::*;

/// A server whose AWS integrations call `moto`.
async fn server_for(moto: &MotoServer) -> TestServer {
    let url = moto.url();
    TestServer::start_with(move |config| {
        let mut services =
            causeway_server::AwsServices::new(causeway_server::AwsCredentials::emulator());
        services.add(&url).unwrap();
        config.aws_services = Some(services);
    })
    .await
}

/// An AWS integration of `method` on `resource`.
async fn aws_integration(
    client: &Client,
    (api, resource, method): (&str, &str, &str),
    (http_method, uri): (&str, &str),
    parameters: &[(&str, &str)],
    template: Option<&str>,
) {
    let mut request = client
        .put_integration()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method(method)
        .r#type(IntegrationType::Aws)
        .integration_http_method(http_method)
        .uri(uri)
        .credentials("arn:aws:iam::000000000000:role/apigateway");
    for (name, source) in parameters {
        request = request.request_parameters(*name, *source);
    }
    if let Some(template) = template {
        request = request.request_templates("application/json", template);
    }
    request.send().await.unwrap();
}

/// An integration response: `status` for the service statuses `pattern` matches (`None`:
/// the default), shaped by `template`.
async fn answer(
    client: &Client,
    (api, resource, method): (&str, &str, &str),
    status: &str,
    pattern: Option<&str>,
    template: Option<&str>,
) {
    client
        .put_method_response()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method(method)
        .status_code(status)
        .response_parameters("method.response.header.Content-Type", false)
        .send()
        .await
        .unwrap();
    let mut request = client
        .put_integration_response()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method(method)
        .status_code(status)
        .set_selection_pattern(pattern.map(str::to_owned))
        .response_parameters(
            "method.response.header.Content-Type",
            "integration.response.header.Content-Type",
        );
    if let Some(template) = template {
        request = request.response_templates("application/json", template);
    }
    request.send().await.unwrap();
}

/// The `MessageId` of SQS's SendMessage answer, in JSON or in XML.
fn message_id(answer: &str) -> String {
    let start = answer
        .find("<MessageId>")
        .map(|at| at + "<MessageId>".len())
        .or_else(|| {
            answer
                .find("\"MessageId\":\"")
                .map(|at| at + "\"MessageId\":\"".len())
        })
        .unwrap_or_else(|| panic!("no MessageId in {answer}"));
    let rest = &answer[start..];
    let end = rest.find(['<', '"']).unwrap();
    rest[..end].to_owned()
}

/// POSTs a JSON `body` to `path` until the deployment serves it (a 403 before that reaches
/// no service), and returns that answer.
async fn post_when_served(invoke: &Invoke, path: &str, body: &str) -> Raw {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let raw = invoke
            .send(
                invoke
                    .request("POST", path)
                    .header("content-type", "application/json")
                    .body(body.to_owned()),
            )
            .await;
        if raw.status != 403 || Instant::now() > deadline {
            return raw;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn aws_integrations_call_s3_sqs_and_dynamodb() {
    let moto = MotoServer::start().await;
    let url = moto.url();
    aws(&url, "s3api", &["create-bucket", "--bucket", "photos"]).await;
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), "hello from s3").unwrap();
    let path = file.path().to_str().unwrap().to_owned();
    aws(
        &url,
        "s3api",
        &[
            "put-object",
            "--bucket",
            "photos",
            "--key",
            "notes/a.txt",
            "--body",
            &path,
            "--content-type",
            "text/plain",
        ],
    )
    .await;
    let queue = aws(&url, "sqs", &["create-queue", "--queue-name", "jobs"]).await;
    let queue_url = queue["QueueUrl"].as_str().unwrap().to_owned();
    let queue_path = queue_url
        .strip_prefix(&format!("{url}/"))
        .unwrap()
        .to_owned();
    aws(
        &url,
        "dynamodb",
        &[
            "create-table",
            "--table-name",
            "notes",
            "--attribute-definitions",
            "AttributeName=id,AttributeType=S",
            "--key-schema",
            "AttributeName=id,KeyType=HASH",
            "--billing-mode",
            "PAY_PER_REQUEST",
        ],
    )
    .await;

    let server = server_for(&moto).await;
    let client = server.client();
    let (api, root) = create_api(&client, "services").await;

    // GET /files/{folder}/{name}: S3 GetObject, the bucket from a stage variable.
    let files = create_resource(&client, &api, &root, "files").await;
    let folder = create_resource(&client, &api, &files, "{folder}").await;
    let name = create_resource(&client, &api, &folder, "{name}").await;
    put_method_declaring(
        &client,
        &api,
        &name,
        "GET",
        &["method.request.path.folder", "method.request.path.name"],
    )
    .await;
    let object = (api.as_str(), name.as_str(), "GET");
    aws_integration(
        &client,
        object,
        (
            "GET",
            "arn:aws:apigateway:us-east-1:s3:path/${stageVariables.bucket}/{folder}/{key}",
        ),
        &[
            (
                "integration.request.path.folder",
                "method.request.path.folder",
            ),
            ("integration.request.path.key", "method.request.path.name"),
        ],
        None,
    )
    .await;
    answer(&client, object, "200", None, None).await;
    answer(
        &client,
        object,
        "404",
        Some("404"),
        Some(r#"{"missing": "$input.params('name')"}"#),
    )
    .await;

    // POST /jobs: SQS SendMessage, the form body written by the request template.
    let jobs = create_resource(&client, &api, &root, "jobs").await;
    put_method_declaring(&client, &api, &jobs, "POST", &[]).await;
    let send = (api.as_str(), jobs.as_str(), "POST");
    aws_integration(
        &client,
        send,
        (
            "POST",
            &format!("arn:aws:apigateway:us-east-1:sqs:path/{queue_path}"),
        ),
        &[(
            "integration.request.header.Content-Type",
            "'application/x-www-form-urlencoded'",
        )],
        Some("Action=SendMessage&MessageBody=$util.urlEncode($input.body)"),
    )
    .await;
    answer(&client, send, "200", None, None).await;

    // PUT and GET /notes/{id}: DynamoDB PutItem and GetItem (actions).
    let notes = create_resource(&client, &api, &root, "notes").await;
    let note = create_resource(&client, &api, &notes, "{id}").await;
    put_method_declaring(&client, &api, &note, "PUT", &["method.request.path.id"]).await;
    put_method_declaring(&client, &api, &note, "GET", &["method.request.path.id"]).await;
    let put = (api.as_str(), note.as_str(), "PUT");
    aws_integration(
        &client,
        put,
        ("POST", "arn:aws:apigateway:us-east-1:dynamodb:action/PutItem"),
        &[],
        Some(
            r#"#set($table = $input.params('x-table'))#if($table == "")#set($table = "notes")#end
{"TableName": "$table", "Item": {"id": {"S": "$input.params('id')"}, "text": {"S": $input.json('$.text')}}}"#,
        ),
    )
    .await;
    answer(&client, put, "200", None, Some(r#"{"stored": true}"#)).await;
    answer(
        &client,
        put,
        "400",
        Some("4\\d\\d"),
        Some(r#"{"refused": $input.json('$.__type')}"#),
    )
    .await;
    let get = (api.as_str(), note.as_str(), "GET");
    aws_integration(
        &client,
        get,
        (
            "POST",
            "arn:aws:apigateway:us-east-1:dynamodb:action/GetItem",
        ),
        &[],
        Some(r#"{"TableName": "notes", "Key": {"id": {"S": "$input.params('id')"}}}"#),
    )
    .await;
    answer(
        &client,
        get,
        "200",
        None,
        Some(r#"{"text": $input.json('$.Item.text.S')}"#),
    )
    .await;

    deploy_with(&client, &api, "prod", &[("bucket", "photos")]).await;
    let invoke = Invoke::new(&server, &api);

    // S3: the object, with its content type mapped through.
    let raw = invoke.ready("/prod/files/notes/a.txt").await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    assert_eq!(raw.text(), "hello from s3");
    assert_eq!(raw.header("content-type").as_deref(), Some("text/plain"));
    // S3's 404 takes the response its pattern selects.
    let raw = invoke.get("/prod/files/notes/b.txt").await;
    assert_eq!(raw.status, 404, "{}", raw.text());
    assert_eq!(raw.json(), json!({"missing": "b.txt"}));

    // SQS: the message is on the queue, as the client sent it.
    let raw = invoke
        .send(
            invoke
                .request("POST", "/prod/jobs")
                .header("content-type", "application/json")
                .body(r#"{"job": "resize & crop"}"#),
        )
        .await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    let queued = message_id(&raw.text());
    let received = aws(&url, "sqs", &["receive-message", "--queue-url", &queue_url]).await;
    assert_eq!(received["Messages"][0]["MessageId"], json!(queued));
    assert_eq!(
        received["Messages"][0]["Body"],
        json!(r#"{"job": "resize & crop"}"#)
    );

    // DynamoDB: an item put through one method is read through the other, and in the
    // table.
    let raw = invoke
        .send(
            invoke
                .request("PUT", "/prod/notes/n1")
                .header("content-type", "application/json")
                .body(r#"{"text": "first note"}"#),
        )
        .await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    assert_eq!(raw.json(), json!({"stored": true}));
    let raw = invoke.get("/prod/notes/n1").await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    assert_eq!(raw.json(), json!({"text": "first note"}));
    let item = aws(
        &url,
        "dynamodb",
        &[
            "get-item",
            "--table-name",
            "notes",
            "--key",
            r#"{"id": {"S": "n1"}}"#,
        ],
    )
    .await;
    assert_eq!(item["Item"]["text"]["S"], json!("first note"));
    // A request DynamoDB refuses (a table it does not have) gets its error through the
    // 4xx response.
    let raw = invoke
        .send(
            invoke
                .request("PUT", "/prod/notes/n2")
                .header("content-type", "application/json")
                .header("x-table", "gone")
                .body(r#"{"text": "lost"}"#),
        )
        .await;
    assert_eq!(raw.status, 400, "{}", raw.text());
    assert!(
        raw.json()["refused"]
            .as_str()
            .is_some_and(|t| t.contains("Exception")),
        "{}",
        raw.text()
    );

    // TestInvokeMethod shows the signed request that went to the service.
    let tested = client
        .test_invoke_method()
        .rest_api_id(&api)
        .resource_id(&note)
        .http_method("GET")
        .path_with_query_string("/notes/n1")
        .stage_variables("bucket", "photos")
        .send()
        .await
        .unwrap();
    assert_eq!(tested.status(), 200);
    let log = tested.log().unwrap_or_default();
    assert!(
        log.contains("Endpoint request URI: http://127.0.0.1:"),
        "{log}"
    );
    assert!(log.contains("?Action=GetItem"), "{log}");
    assert!(
        log.contains("x-amz-target=DynamoDB_20120810.GetItem"),
        "{log}"
    );
    // The signature is in the request, masked in the log as AWS masks it.
    assert!(log.contains("authorization=****"), "{log}");
    assert!(log.contains("x-amz-date="), "{log}");
}

/// `POST /queue`, an AWS integration with SQS's path API (with the caller's credentials
/// when `caller`), deployed to `prod`: the API and the resource.
async fn queue_api(client: &Client, name: &str, caller: bool) -> (String, String) {
    let (api, root) = create_api(client, name).await;
    let queue = create_resource(client, &api, &root, "queue").await;
    put_method_declaring(client, &api, &queue, "POST", &[]).await;
    let send = (api.as_str(), queue.as_str(), "POST");
    aws_integration(
        client,
        send,
        (
            "POST",
            "arn:aws:apigateway:us-east-1:sqs:path/000000000000/jobs",
        ),
        &[],
        None,
    )
    .await;
    if caller {
        client
            .update_integration()
            .rest_api_id(&api)
            .resource_id(&queue)
            .http_method("POST")
            .patch_operations(replace("/credentials", "arn:aws:iam::*:user/*"))
            .send()
            .await
            .unwrap();
    }
    answer(client, send, "200", None, None).await;
    deploy(client, &api, "prod").await;
    (api, queue)
}

/// TestInvokeMethod of `POST /queue`: it fails, and its log says why.
async fn failed_test_invoke(client: &Client, (api, queue): (&str, &str)) -> String {
    let tested = client
        .test_invoke_method()
        .rest_api_id(api)
        .resource_id(queue)
        .http_method("POST")
        .send()
        .await
        .unwrap();
    assert_eq!(tested.status(), 500);
    tested.log().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn aws_integrations_without_an_endpoint_or_a_signer_fail_with_the_reason() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, queue) = queue_api(&client, "no-endpoint", false).await;
    let invoke = Invoke::new(&server, &api);
    let raw = invoke
        .until("POST", "/prod/queue", |raw| raw.status != 403)
        .await;
    assert_eq!(raw.status, 500, "{}", raw.text());
    assert_eq!(raw.json(), json!({"message": "Internal server error"}));
    let log = failed_test_invoke(&client, (&api, &queue)).await;
    assert!(log.contains("--aws-endpoint"), "{log}");

    // The caller's credentials need a signed (AWS_IAM) request; the refusal comes before
    // anything is sent, so the endpoint is never called.
    let served = TestServer::start_with(|config| {
        let mut services =
            causeway_server::AwsServices::new(causeway_server::AwsCredentials::emulator());
        services.add("sqs=http://127.0.0.1:9").unwrap();
        config.aws_services = Some(services);
    })
    .await;
    let client = served.client();
    let (api, queue) = queue_api(&client, "caller", true).await;
    let log = failed_test_invoke(&client, (&api, &queue)).await;
    assert!(
        log.contains("set the method's authorizationType to AWS_IAM"),
        "{log}"
    );
}

#[tokio::test]
async fn requests_are_signed_with_the_servers_or_the_callers_credentials() {
    // The service here is a backend that records what reaches it.
    let service = Backend::start(|_| {
        Reply::new(200)
            .header("Content-Type", "application/json")
            .body(r#"{"ok": true}"#)
    })
    .await;
    let keyring = std::sync::Arc::new(causeway_server::Credentials::new(
        causeway_server::Keyring::from_credentials_file(
            crate::sigv4::CREDENTIALS_FILE,
            "000000000000",
        )
        .unwrap(),
    ));
    let endpoint = format!("sqs={}", service.base());
    let server = TestServer::start_with(move |config| {
        config.credentials = Some(keyring.clone());
        let mut services = causeway_server::AwsServices::new(causeway_server::AwsCredentials {
            access_key_id: "AKIDGATEWAY".to_owned(),
            secret_access_key: "gateway-secret".to_owned(),
            session_token: None,
        });
        services.add(&endpoint).unwrap();
        config.aws_services = Some(services);
    })
    .await;
    let client = server.client_as(aws_credential_types::Credentials::new(
        "AKIDALICE",
        "alice-secret",
        None,
        None,
        "test",
    ));
    let (api, root) = create_api(&client, "signers").await;
    let uri = "arn:aws:apigateway:eu-west-1:sqs:path/000000000000/jobs";
    for (part, caller) in [("role", false), ("caller", true)] {
        let resource = create_resource(&client, &api, &root, part).await;
        put_method_declaring(&client, &api, &resource, "POST", &[]).await;
        let call = (api.as_str(), resource.as_str(), "POST");
        aws_integration(&client, call, ("POST", uri), &[], None).await;
        answer(&client, call, "200", None, None).await;
        if caller {
            client
                .update_method()
                .rest_api_id(&api)
                .resource_id(&resource)
                .http_method("POST")
                .patch_operations(replace("/authorizationType", "AWS_IAM"))
                .send()
                .await
                .unwrap();
            client
                .update_integration()
                .rest_api_id(&api)
                .resource_id(&resource)
                .http_method("POST")
                .patch_operations(replace("/credentials", "arn:aws:iam::*:user/*"))
                .send()
                .await
                .unwrap();
        }
    }
    deploy(&client, &api, "prod").await;
    let invoke = Invoke::new(&server, &api);

    // A role's integration: signed with the server's credentials, for the uri's region
    // and service.
    let raw = invoke
        .until("POST", "/prod/role", |raw| raw.status != 403)
        .await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    assert_eq!(raw.json(), json!({"ok": true}));
    let seen = service.last();
    assert_eq!(seen.target, "/000000000000/jobs");
    let authorization = seen.header("authorization").unwrap_or_default().to_owned();
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDGATEWAY/"),
        "{authorization}"
    );
    assert!(
        authorization.contains("/eu-west-1/sqs/aws4_request"),
        "{authorization}"
    );
    assert!(seen.header("x-amz-date").is_some());
    assert_eq!(seen.header("x-amz-security-token"), None);

    // The caller's credentials: signed with the keys the client signed with, session
    // token and all.
    let url = invoke.url("/prod/caller");
    let raw = super::iam::now_signed(&invoke, "POST", &url, "{}", super::iam::OPS).await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    let seen = service.last();
    let authorization = seen.header("authorization").unwrap_or_default().to_owned();
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=ASIAOPS/"),
        "{authorization}"
    );
    assert_eq!(
        seen.header("x-amz-security-token"),
        Some("ops-session-token")
    );
}

#[tokio::test]
async fn kinesis_and_step_functions_actions_get_their_target() {
    let moto = MotoServer::start().await;
    let url = moto.url();
    aws(
        &url,
        "kinesis",
        &[
            "create-stream",
            "--stream-name",
            "clicks",
            "--shard-count",
            "1",
        ],
    )
    .await;
    let machine = aws(
        &url,
        "stepfunctions",
        &[
            "create-state-machine",
            "--name",
            "flow",
            "--definition",
            r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#,
            "--role-arn",
            "arn:aws:iam::123456789012:role/flow",
        ],
    )
    .await;
    let machine_arn = machine["stateMachineArn"].as_str().unwrap().to_owned();

    let server = server_for(&moto).await;
    let client = server.client();
    let (api, root) = create_api(&client, "actions").await;
    // POST /clicks: Kinesis PutRecord, the body base64-encoded by the template.
    let clicks = create_resource(&client, &api, &root, "clicks").await;
    put_method_declaring(&client, &api, &clicks, "POST", &[]).await;
    let put = (api.as_str(), clicks.as_str(), "POST");
    aws_integration(
        &client,
        put,
        ("POST", "arn:aws:apigateway:us-east-1:kinesis:action/PutRecord"),
        &[],
        Some(
            r#"{"StreamName": "clicks", "PartitionKey": "$context.requestId", "Data": "$util.base64Encode($input.body)"}"#,
        ),
    )
    .await;
    answer(
        &client,
        put,
        "200",
        None,
        Some(r#"{"shard": $input.json('$.ShardId')}"#),
    )
    .await;
    // POST /runs: Step Functions StartExecution with the body as the input.
    let runs = create_resource(&client, &api, &root, "runs").await;
    put_method_declaring(&client, &api, &runs, "POST", &[]).await;
    let start = (api.as_str(), runs.as_str(), "POST");
    aws_integration(
        &client,
        start,
        ("POST", "arn:aws:apigateway:us-east-1:states:action/StartExecution"),
        &[],
        Some(&format!(
            r#"{{"stateMachineArn": "{machine_arn}", "input": "$util.escapeJavaScript($input.body)"}}"#
        )),
    )
    .await;
    answer(
        &client,
        start,
        "200",
        None,
        Some(r#"{"execution": $input.json('$.executionArn')}"#),
    )
    .await;
    deploy(&client, &api, "prod").await;
    let invoke = Invoke::new(&server, &api);
    let post = |path: &str, body: &str| {
        invoke
            .request("POST", path)
            .header("content-type", "application/json")
            .body(body.to_owned())
    };

    let raw = invoke
        .until("POST", "/prod/clicks", |raw| raw.status != 403)
        .await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    let raw = invoke.send(post("/prod/clicks", r#"{"x": 1}"#)).await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    assert!(
        raw.json()["shard"]
            .as_str()
            .is_some_and(|s| s.starts_with("shardId-")),
        "{}",
        raw.text()
    );
    let shard = aws(
        &url,
        "kinesis",
        &[
            "get-shard-iterator",
            "--stream-name",
            "clicks",
            "--shard-id",
            "shardId-000000000000",
            "--shard-iterator-type",
            "TRIM_HORIZON",
        ],
    )
    .await;
    let records = aws(
        &url,
        "kinesis",
        &[
            "get-records",
            "--shard-iterator",
            shard["ShardIterator"].as_str().unwrap(),
        ],
    )
    .await;
    let data: Vec<String> = records["Records"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["Data"].as_str())
        .map(|d| {
            String::from_utf8(
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, d).unwrap(),
            )
            .unwrap()
        })
        .collect();
    assert!(data.contains(&r#"{"x": 1}"#.to_owned()), "{data:?}");

    let raw = invoke.send(post("/prod/runs", r#"{"order": 7}"#)).await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    let execution = raw.json()["execution"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(execution.contains(":execution:flow:"), "{}", raw.text());
    let described = aws(
        &url,
        "stepfunctions",
        &["describe-execution", "--execution-arn", &execution],
    )
    .await;
    assert_eq!(described["input"], json!(r#"{"order": 7}"#));
}

#[tokio::test]
async fn sns_publish_takes_its_parameters_from_mappings() {
    let moto = MotoServer::start().await;
    let url = moto.url();
    let topic = aws(&url, "sns", &["create-topic", "--name", "orders"]).await;
    let topic_arn = topic["TopicArn"].as_str().unwrap().to_owned();
    let queue = aws(&url, "sqs", &["create-queue", "--queue-name", "orders-q"]).await;
    let queue_url = queue["QueueUrl"].as_str().unwrap().to_owned();
    let attributes = aws(
        &url,
        "sqs",
        &[
            "get-queue-attributes",
            "--queue-url",
            &queue_url,
            "--attribute-names",
            "QueueArn",
        ],
    )
    .await;
    let queue_arn = attributes["Attributes"]["QueueArn"].as_str().unwrap();
    aws(
        &url,
        "sns",
        &[
            "subscribe",
            "--topic-arn",
            &topic_arn,
            "--protocol",
            "sqs",
            "--notification-endpoint",
            queue_arn,
            "--attributes",
            "RawMessageDelivery=true",
        ],
    )
    .await;

    let server = server_for(&moto).await;
    let client = server.client();
    let (api, root) = create_api(&client, "notify").await;
    let orders = create_resource(&client, &api, &root, "orders").await;
    put_method_declaring(&client, &api, &orders, "POST", &[]).await;
    // The topic from a stage variable, the message from the request body, both as query
    // parameters of the Publish action.
    let publish = (api.as_str(), orders.as_str(), "POST");
    aws_integration(
        &client,
        publish,
        ("POST", "arn:aws:apigateway:us-east-1:sns:action/Publish"),
        &[
            (
                "integration.request.querystring.TopicArn",
                "stageVariables.topic",
            ),
            (
                "integration.request.querystring.Message",
                "method.request.body",
            ),
        ],
        None,
    )
    .await;
    answer(&client, publish, "200", None, None).await;
    deploy_with(&client, &api, "prod", &[("topic", &topic_arn)]).await;
    let invoke = Invoke::new(&server, &api);
    let raw = post_when_served(&invoke, "/prod/orders", r#"{"order": "o-1 & more"}"#).await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    assert!(raw.text().contains("MessageId"), "{}", raw.text());
    let received = aws(&url, "sqs", &["receive-message", "--queue-url", &queue_url]).await;
    assert_eq!(
        received["Messages"][0]["Body"],
        json!(r#"{"order": "o-1 & more"}"#)
    );
}

#[tokio::test]
async fn eventbridge_takes_the_target_its_mapping_sets() {
    let moto = MotoServer::start().await;
    let server = server_for(&moto).await;
    let client = server.client();
    let (api, root) = create_api(&client, "events").await;
    let events = create_resource(&client, &api, &root, "events").await;
    put_method_declaring(&client, &api, &events, "POST", &[]).await;
    // EventBridge is not one of the services API Gateway sets X-Amz-Target for: the
    // mapping sets it, as AWS's guides do.
    let put = (api.as_str(), events.as_str(), "POST");
    aws_integration(
        &client,
        put,
        ("POST", "arn:aws:apigateway:us-east-1:events:action/PutEvents"),
        &[
            ("integration.request.header.X-Amz-Target", "'AWSEvents.PutEvents'"),
            (
                "integration.request.header.Content-Type",
                "'application/x-amz-json-1.1'",
            ),
        ],
        Some(
            r#"{"Entries": [{"Source": "shop", "DetailType": "order", "Detail": "$util.escapeJavaScript($input.body)", "EventBusName": "default"}]}"#,
        ),
    )
    .await;
    answer(
        &client,
        put,
        "200",
        None,
        Some(r#"{"failed": $input.json('$.FailedEntryCount'), "id": $input.json('$.Entries[0].EventId')}"#),
    )
    .await;
    deploy(&client, &api, "prod").await;
    let invoke = Invoke::new(&server, &api);
    let raw = post_when_served(&invoke, "/prod/events", r#"{"order": 9}"#).await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    let answer = raw.json();
    assert_eq!(answer["failed"], json!(0), "{}", raw.text());
    assert!(
        answer["id"].as_str().is_some_and(|id| !id.is_empty()),
        "{}",
        raw.text()
    );
    let tested = client
        .test_invoke_method()
        .rest_api_id(&api)
        .resource_id(&events)
        .http_method("POST")
        .body(r#"{"order": 9}"#)
        .send()
        .await
        .unwrap();
    let log = tested.log().unwrap_or_default();
    assert!(log.contains("x-amz-target=AWSEvents.PutEvents"), "{log}");
    // Without the mapping, no X-Amz-Target goes (API Gateway sets none for EventBridge).
    client
        .update_integration()
        .rest_api_id(&api)
        .resource_id(&events)
        .http_method("POST")
        .patch_operations(
            aws_sdk_apigateway::types::PatchOperation::builder()
                .op(aws_sdk_apigateway::types::Op::Remove)
                .path("/requestParameters/integration.request.header.X-Amz-Target")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let tested = client
        .test_invoke_method()
        .rest_api_id(&api)
        .resource_id(&events)
        .http_method("POST")
        .body(r#"{"order": 9}"#)
        .send()
        .await
        .unwrap();
    let log = tested.log().unwrap_or_default();
    assert!(log.contains("Endpoint request URI: "), "{log}");
    assert!(!log.contains("x-amz-target="), "{log}");
}
