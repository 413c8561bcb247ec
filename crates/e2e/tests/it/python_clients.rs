//! Client compatibility: the unmodified Python clients — boto3 and the aws CLI (v1) — against
//! a real server. The scripts live in `tests/python/`.
//!
//! These tests need `python3` with `boto3` and the `aws` command on `PATH` (CI installs them
//! with pip). A missing tool is a test failure, not a skip.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::*;

/// How long one external command may run before it is killed and the test fails.
const COMMAND_LIMIT: Duration = Duration::from_secs(300);

/// Path of a script in `tests/python/`.
fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("python")
        .join(name)
}

/// A command with a hermetic AWS environment: static test credentials, the test region, no
/// profile or config files from the machine, no retries and no proxy for loopback.
fn aws_env(program: &str) -> Command {
    let mut command = Command::new(program);
    for name in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_API_GATEWAY",
        "AWS_CA_BUNDLE",
    ] {
        command.env_remove(name);
    }
    command
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", REGION)
        .env("AWS_CONFIG_FILE", "/nonexistent/causeway-e2e/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/causeway-e2e/credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_PAGER", "")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1");
    command
}

/// Runs a command to completion off the async runtime (the server shares that runtime), with
/// a time limit. Panics when the program cannot be started: the tools are required.
async fn run(command: Command) -> Output {
    let shown = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let result = tokio::task::spawn_blocking(move || run_blocking(command))
        .await
        .expect("command runner panicked");
    match result {
        Ok(output) => output,
        Err(Failure::Start(e)) => panic!(
            "cannot start `{shown}`: {e}\n\
             these tests need python3 with boto3 and the aws CLI on PATH: \
             python3 -m pip install 'boto3>=1.34' 'awscli>=1.32'"
        ),
        Err(Failure::Timeout(output)) => panic!(
            "`{shown}` did not finish within {COMMAND_LIMIT:?}: {}",
            describe(&output)
        ),
    }
}

/// Why [`run_blocking`] produced no normal output.
enum Failure {
    Start(std::io::Error),
    Timeout(Output),
}

/// Spawns the command with piped output, drains both pipes on their own threads (so a chatty
/// child cannot block on a full pipe) and kills the child at the time limit.
fn run_blocking(mut command: Command) -> Result<Output, Failure> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(Failure::Start)?;
    let out_reader = drain(child.stdout.take().expect("piped stdout"));
    let err_reader = drain(child.stderr.take().expect("piped stderr"));
    let deadline = Instant::now() + COMMAND_LIMIT;
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for child") {
            break status;
        }
        if Instant::now() >= deadline {
            timed_out = true;
            let _ = child.kill();
            break child.wait().expect("wait for killed child");
        }
        thread::sleep(Duration::from_millis(20));
    };
    let output = Output {
        status,
        stdout: out_reader.join().expect("stdout reader"),
        stderr: err_reader.join().expect("stderr reader"),
    };
    if timed_out {
        Err(Failure::Timeout(output))
    } else {
        Ok(output)
    }
}

/// Reads a pipe to its end on a new thread.
fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        // A read error only truncates what a failure message shows.
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

/// The command's output, for failure messages.
fn describe(output: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs `aws --endpoint-url … --output json apigateway <args>` against the server.
pub(crate) async fn aws(server: &TestServer, args: &[&str]) -> Output {
    aws_service(server, "apigateway", args).await
}

/// Runs an `aws apigateway` command that must succeed and returns its stdout as JSON
/// (`null` for commands that print nothing).
pub(crate) async fn aws_json(server: &TestServer, args: &[&str]) -> Value {
    let output = aws(server, args).await;
    assert!(
        output.status.success(),
        "aws apigateway {} failed: {}",
        args.join(" "),
        describe(&output)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    if text.trim().is_empty() {
        return Value::Null;
    }
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "aws apigateway {} printed no JSON ({e}): {}",
            args.join(" "),
            describe(&output)
        )
    })
}

/// A string field of a JSON object (panics with the object when absent).
fn field<'a>(value: &'a Value, name: &str) -> &'a str {
    value
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string {name:?} in {value}"))
}

#[tokio::test]
async fn boto3_roundtrip() {
    let server = TestServer::start().await;
    let mut command = aws_env("python3");
    command
        .arg(script("boto3_roundtrip.py"))
        .arg(format!("http://{}", server.addr()));
    let output = run(command).await;
    assert!(
        output.status.success(),
        "boto3_roundtrip.py failed: {}",
        describe(&output)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("boto3 round trip: OK"),
        "boto3_roundtrip.py did not reach its end: {}",
        describe(&output)
    );
    server.stop().await;
}

#[tokio::test]
async fn boto3_elbv2_roundtrip() {
    let server = TestServer::start().await;
    let mut command = aws_env("python3");
    command
        .arg(script("boto3_elbv2_roundtrip.py"))
        .arg(format!("http://{}", server.addr()));
    let output = run(command).await;
    assert!(
        output.status.success(),
        "boto3_elbv2_roundtrip.py failed: {}",
        describe(&output)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("boto3 elbv2 round trip: OK"),
        "boto3_elbv2_roundtrip.py did not reach its end: {}",
        describe(&output)
    );
    server.stop().await;
}

/// Runs `aws --endpoint-url … --output json <service> <args>` and returns its output.
async fn aws_service(server: &TestServer, service: &str, args: &[&str]) -> Output {
    let mut command = aws_env("aws");
    command
        .arg("--endpoint-url")
        .arg(format!("http://{}", server.addr()))
        .args(["--output", "json", service])
        .args(args);
    run(command).await
}

/// Runs `aws … elbv2 <args>`.
async fn aws_elbv2(server: &TestServer, args: &[&str]) -> Output {
    aws_service(server, "elbv2", args).await
}

#[tokio::test]
async fn aws_cli_elbv2() {
    let server = TestServer::start().await;
    let json = |output: &Output| -> Value {
        assert!(
            output.status.success(),
            "aws elbv2 failed: {}",
            describe(output)
        );
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("aws elbv2 printed no JSON ({e}): {}", describe(output)))
    };
    let created = json(
        &aws_elbv2(
            &server,
            &[
                "create-load-balancer",
                "--name",
                "cli-nlb",
                "--type",
                "network",
                "--subnets",
                "subnet-0aaa",
            ],
        )
        .await,
    );
    let lb = &created["LoadBalancers"][0];
    let arn = field(lb, "LoadBalancerArn").to_owned();
    assert_eq!(field(lb, "Type"), "network");
    let described =
        json(&aws_elbv2(&server, &["describe-load-balancers", "--names", "cli-nlb"]).await);
    assert_eq!(
        field(&described["LoadBalancers"][0], "LoadBalancerArn"),
        arn
    );
    let tg = json(
        &aws_elbv2(
            &server,
            &[
                "create-target-group",
                "--name",
                "cli-tg",
                "--protocol",
                "TCP",
                "--port",
                "80",
                "--vpc-id",
                "vpc-1",
                "--matcher",
                "HttpCode=200",
                "--health-check-protocol",
                "HTTP",
            ],
        )
        .await,
    );
    assert_eq!(field(&tg["TargetGroups"][0]["Matcher"], "HttpCode"), "200");

    let missing = aws_elbv2(&server, &["describe-load-balancers", "--names", "nope"]).await;
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("(LoadBalancerNotFound)")
            && stderr.contains("Load balancers '[nope]' not found"),
        "{stderr}"
    );

    let deleted = aws_elbv2(
        &server,
        &["delete-load-balancer", "--load-balancer-arn", &arn],
    )
    .await;
    assert!(deleted.status.success(), "{}", describe(&deleted));
    let waited = aws_elbv2(
        &server,
        &[
            "wait",
            "load-balancers-deleted",
            "--load-balancer-arns",
            &arn,
        ],
    )
    .await;
    assert!(waited.status.success(), "{}", describe(&waited));
    server.stop().await;
}

#[tokio::test]
async fn aws_cli_api_to_stage() {
    let server = TestServer::start().await;

    let created = aws_json(&server, &["create-rest-api", "--name", "cli-api"]).await;
    let api = field(&created, "id").to_owned();
    assert_aws_id(&api);
    assert_eq!(field(&created, "name"), "cli-api");
    assert!(
        created.get("createdDate").is_some_and(Value::is_number),
        "createdDate as epoch seconds: {created}"
    );
    let root = field(&created, "rootResourceId").to_owned();

    let listed = aws_json(&server, &["get-rest-apis"]).await;
    let items = listed
        .get("items")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("get-rest-apis without items: {listed}"));
    assert!(
        items.iter().any(|item| field(item, "id") == api),
        "get-rest-apis should list {api}: {listed}"
    );

    let resource = aws_json(
        &server,
        &[
            "create-resource",
            "--rest-api-id",
            &api,
            "--parent-id",
            &root,
            "--path-part",
            "items",
        ],
    )
    .await;
    let resource_id = field(&resource, "id").to_owned();
    assert_eq!(field(&resource, "path"), "/items");
    assert_eq!(field(&resource, "parentId"), root);

    let method = aws_json(
        &server,
        &[
            "put-method",
            "--rest-api-id",
            &api,
            "--resource-id",
            &resource_id,
            "--http-method",
            "GET",
            "--authorization-type",
            "NONE",
        ],
    )
    .await;
    assert_eq!(field(&method, "httpMethod"), "GET");
    assert_eq!(field(&method, "authorizationType"), "NONE");

    let integration = aws_json(
        &server,
        &[
            "put-integration",
            "--rest-api-id",
            &api,
            "--resource-id",
            &resource_id,
            "--http-method",
            "GET",
            "--type",
            "MOCK",
        ],
    )
    .await;
    assert_eq!(field(&integration, "type"), "MOCK");
    assert_eq!(integration["timeoutInMillis"], 29000, "{integration}");

    let deployment = aws_json(
        &server,
        &[
            "create-deployment",
            "--rest-api-id",
            &api,
            "--stage-name",
            "dev",
        ],
    )
    .await;
    let deployment_id = field(&deployment, "id").to_owned();

    let updated = aws_json(
        &server,
        &[
            "update-stage",
            "--rest-api-id",
            &api,
            "--stage-name",
            "dev",
            "--patch-operations",
            "op=replace,path=/description,value=hello",
        ],
    )
    .await;
    assert_eq!(field(&updated, "description"), "hello");

    let stage = aws_json(
        &server,
        &["get-stage", "--rest-api-id", &api, "--stage-name", "dev"],
    )
    .await;
    assert_eq!(field(&stage, "stageName"), "dev");
    assert_eq!(field(&stage, "description"), "hello");
    assert_eq!(field(&stage, "deploymentId"), deployment_id);

    server.stop().await;
}

/// The README's client-certificate commands: generate one, name it on a stage, and write
/// its PEM out with `--query` for the backend to trust.
#[tokio::test]
async fn aws_cli_client_certificates() {
    let server = TestServer::start().await;
    let cert = aws_json(
        &server,
        &[
            "generate-client-certificate",
            "--description",
            "orders backend",
        ],
    )
    .await;
    let id = field(&cert, "clientCertificateId").to_owned();
    let output = aws(
        &server,
        &[
            "get-client-certificate",
            "--client-certificate-id",
            &id,
            "--query",
            "pemEncodedCertificate",
            "--output",
            "text",
        ],
    )
    .await;
    assert!(output.status.success(), "{}", describe(&output));
    let pem = String::from_utf8_lossy(&output.stdout).replace('\r', "");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"), "{pem}");
    assert!(
        pem.trim_end().ends_with("-----END CERTIFICATE-----"),
        "{pem}"
    );
    assert_eq!(
        pem.trim_end(),
        field(&cert, "pemEncodedCertificate").replace('\r', "")
    );

    let listed = aws_json(&server, &["get-client-certificates"]).await;
    assert_eq!(listed["items"][0]["clientCertificateId"], id.as_str());

    let client = server.client();
    let (api, _, _) = deployable_api(&client).await;
    let deployment = create_deployment(&client, &api).await;
    create_stage(&client, &api, "prod", &deployment).await;
    let stage = aws_json(
        &server,
        &[
            "update-stage",
            "--rest-api-id",
            &api,
            "--stage-name",
            "prod",
            "--patch-operations",
            &format!("op=replace,path=/clientCertificateId,value={id}"),
        ],
    )
    .await;
    assert_eq!(field(&stage, "clientCertificateId"), id);
    server.stop().await;
}

#[tokio::test]
async fn aws_cli_unknown_api_is_not_found() {
    let server = TestServer::start().await;
    let output = aws(&server, &["get-rest-api", "--rest-api-id", "nope"]).await;
    assert!(
        !output.status.success(),
        "get-rest-api of an unknown id should fail: {}",
        describe(&output)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("NotFoundException"),
        "stderr should name NotFoundException: {}",
        describe(&output)
    );
    assert!(
        stderr.contains(&format!("Invalid API identifier specified {ACCOUNT}:nope")),
        "stderr should carry the AWS message: {}",
        describe(&output)
    );
    server.stop().await;
}

#[tokio::test]
async fn boto3_usage_roundtrip() {
    let server = TestServer::start().await;
    let mut command = aws_env("python3");
    command
        .arg(script("boto3_usage_roundtrip.py"))
        .arg(format!("http://{}", server.addr()));
    let output = run(command).await;
    assert!(
        output.status.success(),
        "boto3_usage_roundtrip.py failed: {}",
        describe(&output)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("boto3 usage round trip: OK"),
        "boto3_usage_roundtrip.py did not reach its end: {}",
        describe(&output)
    );
    server.stop().await;
}

#[tokio::test]
async fn aws_cli_api_keys_and_usage_plans() {
    let server = TestServer::start().await;

    let key = aws_json(
        &server,
        &[
            "create-api-key",
            "--name",
            "cli-key",
            "--enabled",
            "--value",
            "cli-key-value-0123456789",
        ],
    )
    .await;
    let key_id = field(&key, "id").to_owned();
    assert_eq!(field(&key, "value"), "cli-key-value-0123456789");
    assert_eq!(key["enabled"], Value::Bool(true), "{key}");

    let listed = aws_json(&server, &["get-api-keys", "--include-values"]).await;
    let items = listed["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "{listed}");
    assert_eq!(field(&items[0], "value"), "cli-key-value-0123456789");

    let plan = aws_json(
        &server,
        &[
            "create-usage-plan",
            "--name",
            "cli-plan",
            "--throttle",
            "burstLimit=10,rateLimit=5",
            "--quota",
            "limit=100,offset=0,period=DAY",
        ],
    )
    .await;
    let plan_id = field(&plan, "id").to_owned();
    assert_eq!(plan["throttle"]["burstLimit"], 10, "{plan}");
    assert_eq!(field(&plan["quota"], "period"), "DAY");

    let member = aws_json(
        &server,
        &[
            "create-usage-plan-key",
            "--usage-plan-id",
            &plan_id,
            "--key-id",
            &key_id,
            "--key-type",
            "API_KEY",
        ],
    )
    .await;
    assert_eq!(field(&member, "type"), "API_KEY");
    assert_eq!(field(&member, "name"), "cli-key");

    let account = aws_json(&server, &["get-account"]).await;
    assert_eq!(account["apiKeyVersion"], "4", "{account}");

    let missing = aws(&server, &["get-usage-plan", "--usage-plan-id", "nope12"]).await;
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("NotFoundException") && stderr.contains("Invalid Usage Plan ID specified"),
        "{stderr}"
    );
    server.stop().await;
}

#[tokio::test]
async fn aws_cli_authorizers() {
    let server = TestServer::start().await;
    let api = aws_json(&server, &["create-rest-api", "--name", "cli-guarded"]).await;
    let api_id = field(&api, "id").to_owned();
    let uri = crate::authorizers::function_uri(crate::authorizers::FUNCTION);
    let created = aws_json(
        &server,
        &[
            "create-authorizer",
            "--rest-api-id",
            &api_id,
            "--name",
            "cli-tokens",
            "--type",
            "TOKEN",
            "--authorizer-uri",
            &uri,
            "--identity-source",
            "method.request.header.Authorization",
            "--authorizer-result-ttl-in-seconds",
            "300",
        ],
    )
    .await;
    let id = field(&created, "id").to_owned();
    assert_eq!(field(&created, "authType"), "custom");
    assert_eq!(created["authorizerResultTtlInSeconds"], 300, "{created}");

    let updated = aws_json(
        &server,
        &[
            "update-authorizer",
            "--rest-api-id",
            &api_id,
            "--authorizer-id",
            &id,
            "--patch-operations",
            "op=replace,path=/authorizerResultTtlInSeconds,value=60",
        ],
    )
    .await;
    assert_eq!(updated["authorizerResultTtlInSeconds"], 60, "{updated}");
    let listed = aws_json(&server, &["get-authorizers", "--rest-api-id", &api_id]).await;
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );

    // Without a gateway's Lambda endpoint the test call reports a configuration error.
    let tested = aws_json(
        &server,
        &[
            "test-invoke-authorizer",
            "--rest-api-id",
            &api_id,
            "--authorizer-id",
            &id,
            "--headers",
            "Authorization=Bearer x",
        ],
    )
    .await;
    assert_eq!(tested["clientStatus"], 500, "{tested}");
    assert!(
        field(&tested, "log").contains("--lambda-endpoint"),
        "{tested}"
    );

    aws_json(
        &server,
        &[
            "delete-authorizer",
            "--rest-api-id",
            &api_id,
            "--authorizer-id",
            &id,
        ],
    )
    .await;
    let gone = aws(
        &server,
        &[
            "get-authorizer",
            "--rest-api-id",
            &api_id,
            "--authorizer-id",
            &id,
        ],
    )
    .await;
    assert!(!gone.status.success());
    assert!(
        String::from_utf8_lossy(&gone.stderr).contains("Invalid Authorizer identifier specified"),
        "{}",
        describe(&gone)
    );
}

/// With `--credentials`, boto3 and the aws CLI sign with a profile of the same file and get
/// in; the CLI's usual `test` keys are refused; botocore's signer calls an AWS_IAM method.
#[tokio::test]
async fn boto3_and_aws_cli_sign_with_a_credentials_file() {
    let server = crate::sigv4::server_with_credentials().await;
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), crate::sigv4::CREDENTIALS_FILE).unwrap();
    let with_file = |program: &str| {
        let mut command = aws_env(program);
        command
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env("AWS_SHARED_CREDENTIALS_FILE", file.path());
        command
    };
    let mut command = with_file("python3");
    command
        .arg(script("boto3_sigv4.py"))
        .arg(format!("http://{}", server.addr()))
        .arg(format!("http://{}", server.gateway_addr()));
    let output = run(command).await;
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("boto3 sigv4: OK"),
        "boto3_sigv4.py failed: {}",
        describe(&output)
    );

    let mut command = with_file("aws");
    command
        .arg("--endpoint-url")
        .arg(format!("http://{}", server.addr()))
        .args([
            "--profile",
            "alice",
            "--output",
            "json",
            "apigateway",
            "get-rest-apis",
        ]);
    let output = run(command).await;
    assert!(output.status.success(), "{}", describe(&output));
    let listed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );

    let refused = aws(&server, &["get-rest-apis"]).await;
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains(
            "(UnrecognizedClientException) when calling the GetRestApis operation: The security token included in the request is invalid."
        ),
        "{}",
        describe(&refused)
    );
    server.stop().await;
}

/// WAFv2 with boto3: IP sets, web ACLs and a stage they guard (see `boto3_wafv2.py`).
#[tokio::test]
async fn boto3_wafv2_roundtrip() {
    let server = TestServer::start().await;
    let mut command = aws_env("python3");
    command
        .arg(script("boto3_wafv2.py"))
        .arg(format!("http://{}", server.addr()))
        .arg(format!("http://{}", server.gateway_addr()));
    let output = run(command).await;
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("boto3 wafv2: OK"),
        "boto3_wafv2.py failed: {}",
        describe(&output)
    );
    server.stop().await;
}

/// Runs `aws --endpoint-url … --output json acm <args>` against the server.
async fn aws_acm(server: &TestServer, args: &[&str]) -> Output {
    let mut command = aws_env("aws");
    command
        .arg("--endpoint-url")
        .arg(format!("http://{}", server.addr()))
        .args(["--output", "json", "acm"])
        .args(args);
    run(command).await
}

/// ACM with the aws CLI: a certificate imported from files (`fileb://`, base64 on the
/// wire), described, listed, used by a custom domain, and deleted once free.
#[tokio::test]
async fn aws_cli_acm() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, crate::acm::RSA_PEM).unwrap();
    std::fs::write(&key, crate::acm::RSA_KEY).unwrap();
    let output = aws_acm(
        &server,
        &[
            "import-certificate",
            "--certificate",
            &format!("fileb://{}", cert.display()),
            "--private-key",
            &format!("fileb://{}", key.display()),
            "--tags",
            "Key=team,Value=edge",
        ],
    )
    .await;
    assert!(output.status.success(), "{}", describe(&output));
    let imported: Value = serde_json::from_slice(&output.stdout).unwrap();
    let arn = field(&imported, "CertificateArn").to_owned();

    let output = aws_acm(
        &server,
        &["describe-certificate", "--certificate-arn", &arn],
    )
    .await;
    assert!(output.status.success(), "{}", describe(&output));
    let described: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(described["Certificate"]["DomainName"], "api.example.com");
    assert_eq!(described["Certificate"]["KeyAlgorithm"], "RSA_2048");
    assert_eq!(described["Certificate"]["Status"], "ISSUED");

    // A requested certificate, and the CLI's waiter for its validation.
    let output = aws_acm(
        &server,
        &[
            "request-certificate",
            "--domain-name",
            "www.example.com",
            "--subject-alternative-names",
            "example.com",
            "--validation-method",
            "DNS",
            "--key-algorithm",
            "EC_prime256v1",
        ],
    )
    .await;
    assert!(output.status.success(), "{}", describe(&output));
    let requested: Value = serde_json::from_slice(&output.stdout).unwrap();
    let issued = field(&requested, "CertificateArn").to_owned();
    let output = aws_acm(
        &server,
        &[
            "wait",
            "certificate-validated",
            "--certificate-arn",
            &issued,
        ],
    )
    .await;
    assert!(output.status.success(), "{}", describe(&output));
    let output = aws_acm(
        &server,
        &["describe-certificate", "--certificate-arn", &issued],
    )
    .await;
    assert!(output.status.success(), "{}", describe(&output));
    let described: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(described["Certificate"]["Type"], "AMAZON_ISSUED");
    assert_eq!(
        described["Certificate"]["DomainValidationOptions"][1]["ResourceRecord"]["Type"],
        "CNAME"
    );

    // An exportable one comes out with its key encrypted with the passphrase.
    let output = aws_acm(
        &server,
        &[
            "request-certificate",
            "--domain-name",
            "export.example.com",
            "--options",
            "Export=ENABLED",
        ],
    )
    .await;
    assert!(output.status.success(), "{}", describe(&output));
    let requested: Value = serde_json::from_slice(&output.stdout).unwrap();
    let exportable = field(&requested, "CertificateArn").to_owned();
    let passphrase = dir.path().join("passphrase");
    std::fs::write(&passphrase, "correct horse").unwrap();
    let output = aws_acm(
        &server,
        &[
            "export-certificate",
            "--certificate-arn",
            &exportable,
            "--passphrase",
            &format!("fileb://{}", passphrase.display()),
        ],
    )
    .await;
    assert!(output.status.success(), "{}", describe(&output));
    let exported: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        field(&exported, "PrivateKey").starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
        "{exported}"
    );

    let output = aws_acm(&server, &["list-certificates"]).await;
    assert!(output.status.success(), "{}", describe(&output));
    let listed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        listed["CertificateSummaryList"][0]["CertificateArn"],
        arn.as_str()
    );

    aws_json(
        &server,
        &[
            "create-domain-name",
            "--domain-name",
            "api.example.com",
            "--regional-certificate-arn",
            &arn,
            "--endpoint-configuration",
            "types=REGIONAL",
        ],
    )
    .await;
    let output = aws_acm(&server, &["delete-certificate", "--certificate-arn", &arn]).await;
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("ResourceInUseException"),
        "{}",
        describe(&output)
    );
    aws_json(
        &server,
        &["delete-domain-name", "--domain-name", "api.example.com"],
    )
    .await;
    let output = aws_acm(&server, &["delete-certificate", "--certificate-arn", &arn]).await;
    assert!(output.status.success(), "{}", describe(&output));
    server.stop().await;
}

/// Runs `aws … apigatewayv2 <args>`.
async fn aws_v2(server: &TestServer, args: &[&str]) -> Output {
    aws_service(server, "apigatewayv2", args).await
}

/// `aws apigatewayv2` manages VPC links V2, and `aws apigateway put-integration
/// --integration-target` points a REST API's private integration through one at a
/// network load balancer.
#[tokio::test]
async fn aws_cli_vpc_links_v2() {
    let server = TestServer::start().await;
    let json = |output: &Output| -> Value {
        assert!(output.status.success(), "aws failed: {}", describe(output));
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("aws printed no JSON ({e}): {}", describe(output)))
    };
    let link = json(
        &aws_v2(
            &server,
            &[
                "create-vpc-link",
                "--name",
                "cli-v2",
                "--subnet-ids",
                "subnet-0aaa",
                "subnet-0bbb",
            ],
        )
        .await,
    );
    let id = field(&link, "VpcLinkId").to_owned();
    assert_eq!(field(&link, "VpcLinkVersion"), "V2");
    assert_eq!(field(&link, "VpcLinkStatus"), "PENDING");
    let listed = json(&aws_v2(&server, &["get-vpc-links"]).await);
    assert_eq!(field(&listed["Items"][0], "VpcLinkId"), id);
    let got = json(&aws_v2(&server, &["get-vpc-link", "--vpc-link-id", &id]).await);
    assert_eq!(
        got["SubnetIds"],
        serde_json::json!(["subnet-0aaa", "subnet-0bbb"])
    );
    // apigatewayv2's tag operations.
    let arn = format!("arn:aws:apigateway:us-east-1::/vpclinks/{id}");
    let tagged = aws_v2(
        &server,
        &[
            "tag-resource",
            "--resource-arn",
            &arn,
            "--tags",
            "team=orders,env=dev",
        ],
    )
    .await;
    assert!(tagged.status.success(), "{}", describe(&tagged));
    let untagged = aws_v2(
        &server,
        &[
            "untag-resource",
            "--resource-arn",
            &arn,
            "--tag-keys",
            "env",
        ],
    )
    .await;
    assert!(untagged.status.success(), "{}", describe(&untagged));
    let tags = json(&aws_v2(&server, &["get-tags", "--resource-arn", &arn]).await);
    assert_eq!(tags["Tags"], serde_json::json!({"team": "orders"}));
    let got = json(&aws_v2(&server, &["get-vpc-link", "--vpc-link-id", &id]).await);
    assert_eq!(got["Tags"], serde_json::json!({"team": "orders"}));

    let nlb = json(
        &aws_elbv2(
            &server,
            &[
                "create-load-balancer",
                "--name",
                "cli-v2-nlb",
                "--type",
                "network",
                "--scheme",
                "internal",
            ],
        )
        .await,
    );
    let nlb = field(&nlb["LoadBalancers"][0], "LoadBalancerArn").to_owned();
    let api = aws_json(&server, &["create-rest-api", "--name", "cli-v2-api"]).await;
    let api = field(&api, "id").to_owned();
    let resources = aws_json(&server, &["get-resources", "--rest-api-id", &api]).await;
    let root = field(&resources["items"][0], "id").to_owned();
    aws_json(
        &server,
        &[
            "put-method",
            "--rest-api-id",
            &api,
            "--resource-id",
            &root,
            "--http-method",
            "GET",
            "--authorization-type",
            "NONE",
        ],
    )
    .await;
    let put = |target: Option<&str>| {
        let mut args: Vec<String> = [
            "put-integration",
            "--rest-api-id",
            &api,
            "--resource-id",
            &root,
            "--http-method",
            "GET",
            "--type",
            "HTTP_PROXY",
            "--integration-http-method",
            "GET",
            "--connection-type",
            "VPC_LINK",
            "--connection-id",
            &id,
            "--uri",
            "http://orders.internal/",
        ]
        .map(str::to_owned)
        .to_vec();
        if let Some(target) = target {
            args.extend(["--integration-target".to_owned(), target.to_owned()]);
        }
        let server = &server;
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            aws(server, &args).await
        }
    };
    let missing = put(None).await;
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains(&format!(
            "IntegrationTarget is required for VpcLinkV2 {id}."
        )),
        "{stderr}"
    );
    let integration = json(&put(Some(&nlb)).await);
    assert_eq!(field(&integration, "integrationTarget"), nlb);
    assert_eq!(field(&integration, "connectionId"), id);

    let in_use = aws_v2(&server, &["delete-vpc-link", "--vpc-link-id", &id]).await;
    assert!(!in_use.status.success());
    let stderr = String::from_utf8_lossy(&in_use.stderr);
    assert!(stderr.contains("BadRequestException"), "{stderr}");
    server.stop().await;
}

/// `aws apigateway` sets a domain's routing mode, and `aws apigatewayv2` manages its routing
/// rules (created, listed page by page, replaced, read, deleted) and API mappings as
/// botocore models them.
#[tokio::test]
async fn aws_cli_routing_rules() {
    let server = TestServer::start().await;
    let cert = imported_certificate(&server, &["*.example.com"]).await;
    let v2 = |args: Vec<String>| {
        let server = &server;
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            aws_v2(server, &args).await
        }
    };
    let json = |output: &Output| -> Value {
        assert!(output.status.success(), "aws failed: {}", describe(output));
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("aws printed no JSON ({e}): {}", describe(output)))
    };
    let api = aws_json(&server, &["create-rest-api", "--name", "cli-rules"]).await;
    let api = field(&api, "id").to_owned();
    let resources = aws_json(&server, &["get-resources", "--rest-api-id", &api]).await;
    let root = field(&resources["items"][0], "id").to_owned();
    let on_root = [
        "--rest-api-id",
        &api,
        "--resource-id",
        &root,
        "--http-method",
        "GET",
    ];
    aws_json(
        &server,
        &[
            &["put-method"][..],
            &on_root,
            &["--authorization-type", "NONE"],
        ]
        .concat(),
    )
    .await;
    aws_json(
        &server,
        &[&["put-integration"][..], &on_root, &["--type", "MOCK"]].concat(),
    )
    .await;
    aws_json(
        &server,
        &[
            "create-deployment",
            "--rest-api-id",
            &api,
            "--stage-name",
            "prod",
        ],
    )
    .await;

    let domain = aws_json(
        &server,
        &[
            "create-domain-name",
            "--domain-name",
            "cli.example.com",
            "--regional-certificate-arn",
            &cert,
            "--endpoint-configuration",
            "types=REGIONAL",
            "--routing-mode",
            "ROUTING_RULE_ONLY",
        ],
    )
    .await;
    assert_eq!(domain["routingMode"], "ROUTING_RULE_ONLY");

    let rule_args = |priority: &str, header: &str| -> Vec<String> {
        [
            "--domain-name",
            "cli.example.com",
            "--priority",
            priority,
            "--conditions",
            &format!(r#"[{{"MatchHeaders":{{"AnyOf":[{{"Header":"{header}","ValueGlob":"World*"}}]}}}},{{"MatchBasePaths":{{"AnyOf":["orders/v2"]}}}}]"#),
            "--actions",
            &format!(r#"[{{"InvokeApi":{{"ApiId":"{api}","Stage":"prod","StripBasePath":true}}}}]"#),
        ]
        .map(|s| s.to_owned())
        .to_vec()
    };
    let created = json(
        &v2([
            vec!["create-routing-rule".to_owned()],
            rule_args("10", "Hello"),
        ]
        .concat())
        .await,
    );
    let id = field(&created, "RoutingRuleId").to_owned();
    assert_eq!(created["Priority"], 10);
    assert_eq!(
        created["RoutingRuleArn"],
        format!(
            "arn:aws:apigateway:us-east-1:000000000000:/domainnames/cli.example.com/routingrules/{id}"
        )
    );
    assert_eq!(
        created["Conditions"][0]["MatchHeaders"]["AnyOf"][0]["ValueGlob"],
        "World*"
    );
    assert_eq!(
        created["Conditions"][1]["MatchBasePaths"]["AnyOf"][0],
        "orders/v2"
    );
    assert_eq!(created["Actions"][0]["InvokeApi"]["StripBasePath"], true);
    json(
        &v2([
            vec!["create-routing-rule".to_owned()],
            rule_args("20", "Version"),
        ]
        .concat())
        .await,
    );

    // The CLI follows nextToken page by page.
    let listed = json(
        &v2([
            "list-routing-rules",
            "--domain-name",
            "cli.example.com",
            "--page-size",
            "1",
        ]
        .map(str::to_owned)
        .to_vec())
        .await,
    );
    let priorities: Vec<&Value> = listed["RoutingRules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["Priority"])
        .collect();
    assert_eq!(priorities, [&Value::from(10), &Value::from(20)]);

    let put = json(
        &v2([
            vec![
                "put-routing-rule".to_owned(),
                "--routing-rule-id".to_owned(),
                id.clone(),
            ],
            rule_args("30", "Hello"),
        ]
        .concat())
        .await,
    );
    assert_eq!(
        (field(&put, "RoutingRuleId"), &put["Priority"]),
        (id.as_str(), &Value::from(30))
    );
    let got = json(
        &v2([
            "get-routing-rule",
            "--domain-name",
            "cli.example.com",
            "--routing-rule-id",
            &id,
        ]
        .map(str::to_owned)
        .to_vec())
        .await,
    );
    assert_eq!(got["Priority"], 30);

    let deleted = v2([
        "delete-routing-rule",
        "--domain-name",
        "cli.example.com",
        "--routing-rule-id",
        &id,
    ]
    .map(str::to_owned)
    .to_vec())
    .await;
    assert!(deleted.status.success(), "{}", describe(&deleted));
    let gone = v2([
        "get-routing-rule",
        "--domain-name",
        "cli.example.com",
        "--routing-rule-id",
        &id,
    ]
    .map(str::to_owned)
    .to_vec())
    .await;
    assert!(!gone.status.success());
    assert!(
        String::from_utf8_lossy(&gone.stderr).contains("NotFoundException"),
        "{}",
        describe(&gone)
    );

    let updated = aws_json(
        &server,
        &[
            "update-domain-name",
            "--domain-name",
            "cli.example.com",
            "--patch-operations",
            "op=replace,path=/routingMode,value=ROUTING_RULE_THEN_BASE_PATH_MAPPING",
        ],
    )
    .await;
    assert_eq!(
        updated["routingMode"],
        "ROUTING_RULE_THEN_BASE_PATH_MAPPING"
    );

    // apigatewayv2's own domain name operations, as AWS's routing-rule guide uses them.
    let v2_mode = json(
        &v2([
            "update-domain-name",
            "--domain-name",
            "cli.example.com",
            "--routing-mode",
            "ROUTING_RULE_THEN_API_MAPPING",
        ]
        .map(str::to_owned)
        .to_vec())
        .await,
    );
    assert_eq!(v2_mode["RoutingMode"], "ROUTING_RULE_THEN_API_MAPPING");
    assert_eq!(
        v2_mode["DomainNameConfigurations"][0]["EndpointType"],
        "REGIONAL"
    );
    let got = json(
        &v2(["get-domain-name", "--domain-name", "cli.example.com"]
            .map(str::to_owned)
            .to_vec())
        .await,
    );
    assert_eq!(got["DomainName"], "cli.example.com");

    // API mappings, multi-level ones too.
    let mapping = json(
        &v2([
            "create-api-mapping",
            "--domain-name",
            "cli.example.com",
            "--api-id",
            &api,
            "--stage",
            "prod",
            "--api-mapping-key",
            "orders/v2",
        ]
        .map(str::to_owned)
        .to_vec())
        .await,
    );
    let mapping_id = field(&mapping, "ApiMappingId").to_owned();
    assert_eq!(mapping["ApiMappingKey"], "orders/v2");
    let mappings = json(
        &v2(["get-api-mappings", "--domain-name", "cli.example.com"]
            .map(str::to_owned)
            .to_vec())
        .await,
    );
    assert_eq!(mappings["Items"][0]["ApiMappingId"], mapping_id.as_str());
    let deleted = v2([
        "delete-api-mapping",
        "--domain-name",
        "cli.example.com",
        "--api-mapping-id",
        &mapping_id,
    ]
    .map(str::to_owned)
    .to_vec())
    .await;
    assert!(deleted.status.success(), "{}", describe(&deleted));
    server.stop().await;
}
