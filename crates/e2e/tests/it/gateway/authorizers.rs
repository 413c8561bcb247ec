//! Lambda authorizers on the invoke path. The functions run behind a Lambda Invoke API
//! endpoint that this file starts (a backend of the kind above, reading each event and
//! answering as an authorizer function would), given to the server as `--lambda-endpoint`.

use aws_sdk_apigateway::types::{
    ApiKeySourceType, ApiStage, AuthorizerType, QuotaPeriodType, QuotaSettings,
};

use super::*;
use crate::authorizers::{FUNCTION, function_uri};

const UNAUTHORIZED: &str = r#"{"message":"Unauthorized"}"#;
const NOT_AUTHORIZED: &str = r#"{"Message":"User is not authorized to access this resource"}"#;
const EXPLICIT_DENY: &str =
    r#"{"Message":"User is not authorized to access this resource with an explicit deny"}"#;
const CONFIGURATION_ERROR: &str = r#"{"message": null}"#;

/// The events a function was invoked with.
fn events(lambda: &Backend) -> Vec<Value> {
    lambda
        .requests()
        .iter()
        .map(|seen| serde_json::from_slice(&seen.body).expect("events are JSON"))
        .collect()
}

/// An authorizer function. What it answers depends on the caller's identity (the token, or
/// the `X-User` header of a REQUEST event):
/// - `allow-pets`: allows `GET /pets` and `GET /pets/*` of the stage, with a context;
/// - `allow-all`: allows every method of the stage;
/// - `keyed-{key}`: allows everything and names API key `{key}` (`usageIdentifierKey`);
/// - `deny`: denies the method asked for;
/// - `unauthorized`: fails with `Unauthorized`;
/// - `boom`: fails with another error; `garbage`: answers what is not JSON.
///
/// `error_header` says whether function errors carry `X-Amz-Function-Error` (Lambda,
/// LocalStack, SAM) or come back as a plain result (the Runtime Interface Emulator).
fn authorizer_function(error_header: bool) -> impl Fn(&Seen) -> Reply + Send + Sync + 'static {
    move |seen| {
        let event: Value = serde_json::from_slice(&seen.body).unwrap_or(Value::Null);
        let method_arn = event["methodArn"].as_str().unwrap_or_default().to_owned();
        let identity = match event["type"].as_str() {
            Some("TOKEN") => event["authorizationToken"]
                .as_str()
                .unwrap_or_default()
                .trim_start_matches("Bearer ")
                .to_owned(),
            _ => event["headers"]["X-User"]
                .as_str()
                .or(event["headers"]["x-user"].as_str())
                .unwrap_or_default()
                .to_owned(),
        };
        // `arn:aws:execute-api:{region}:{account}:{api}/{stage}/`
        let stage_arn = method_arn
            .match_indices('/')
            .nth(1)
            .map_or(method_arn.as_str(), |(at, _)| &method_arn[..=at])
            .to_owned();
        let policy = |effect: &str, resources: Vec<String>| {
            json!({
                "Version": "2012-10-17",
                "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resources}]
            })
        };
        let failure = |message: &str| {
            let reply = Reply::new(200).body(
                json!({"errorMessage": message, "errorType": "Error", "stackTrace": []})
                    .to_string(),
            );
            if error_header {
                reply.header("X-Amz-Function-Error", "Unhandled")
            } else {
                reply
            }
        };
        let answer = match identity.as_str() {
            "allow-pets" => json!({
                "principalId": "user-1",
                "policyDocument": policy("Allow", vec![format!("{stage_arn}GET/pets"), format!("{stage_arn}GET/pets/*")]),
                "context": {"user": "alice", "n": 7, "admin": true},
            }),
            "allow-all" => json!({
                "principalId": "user-2",
                "policyDocument": policy("Allow", vec![format!("{stage_arn}*")]),
            }),
            "deny" => json!({
                "principalId": "user-3",
                "policyDocument": policy("Deny", vec![method_arn.clone()]),
            }),
            "unauthorized" => return failure("Unauthorized"),
            "boom" => return failure("boom"),
            "garbage" => return Reply::new(200).body("this is not JSON"),
            keyed if keyed.starts_with("keyed-") => json!({
                "principalId": "user-4",
                "policyDocument": policy("Allow", vec![format!("{stage_arn}*")]),
                "usageIdentifierKey": &keyed["keyed-".len()..],
            }),
            other => return failure(&format!("unexpected identity {other:?}")),
        };
        Reply::new(200)
            .header("Content-Type", "application/json")
            .body(answer.to_string())
    }
}

/// A server whose Lambda functions are invoked at `endpoint`.
async fn server_with_lambda(endpoint: String) -> TestServer {
    TestServer::start_with(move |config| {
        config.lambda_endpoint =
            Some(causeway_server::LambdaEndpoint::parse(&endpoint).expect("endpoint URL"));
    })
    .await
}

async fn create_authorizer(
    client: &Client,
    api: &str,
    kind: AuthorizerType,
    identity_source: &str,
    ttl: Option<i32>,
) -> String {
    client
        .create_authorizer()
        .rest_api_id(api)
        .name(format!("{kind:?}").to_lowercase())
        .r#type(kind)
        .authorizer_uri(function_uri(FUNCTION))
        .identity_source(identity_source)
        .set_authorizer_result_ttl_in_seconds(ttl)
        .identity_validation_expression("^Bearer [a-z0-9-]+$")
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned()
}

/// `method` on `resource` guarded by `authorizer` (CUSTOM), proxied to `backend` with the
/// authorizer's principal and `user` sent as `x-principal` and `x-user`.
async fn guarded_route(
    client: &Client,
    (api, resource): (&str, &str),
    authorizer: Option<&str>,
    backend: &str,
    params: &[&str],
) {
    let mut put = client
        .put_method()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method("GET")
        .authorization_type(if authorizer.is_some() {
            "CUSTOM"
        } else {
            "NONE"
        })
        .set_authorizer_id(authorizer.map(str::to_owned));
    for param in params {
        put = put.request_parameters(format!("method.request.path.{param}"), true);
    }
    put.send().await.unwrap();
    let mut integration = client
        .put_integration()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method("GET")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("GET")
        .uri(backend);
    if authorizer.is_some() {
        integration = integration
            .request_parameters(
                "integration.request.header.x-principal",
                "context.authorizer.principalId",
            )
            .request_parameters(
                "integration.request.header.x-user",
                "context.authorizer.user",
            );
    }
    integration.send().await.unwrap();
}

/// `/pets`, `/pets/{id}` and `/other`, all GET through `authorizer` to the echo `backend`,
/// deployed to `prod` with stage variable `realm=blue`.
async fn guarded_api(
    client: &Client,
    kind: AuthorizerType,
    source: &str,
    ttl: Option<i32>,
    backend: &Backend,
) -> (String, String) {
    let (api, root) = create_api(client, "guarded").await;
    let authorizer = create_authorizer(client, &api, kind, source, ttl).await;
    let pets = create_resource(client, &api, &root, "pets").await;
    let pet = create_resource(client, &api, &pets, "{id}").await;
    let other = create_resource(client, &api, &root, "other").await;
    let base = backend.base();
    guarded_route(
        client,
        (&api, &pets),
        Some(&authorizer),
        &format!("{base}/pets"),
        &[],
    )
    .await;
    guarded_route(
        client,
        (&api, &pet),
        Some(&authorizer),
        &format!("{base}/pets/1"),
        &["id"],
    )
    .await;
    guarded_route(
        client,
        (&api, &other),
        Some(&authorizer),
        &format!("{base}/other"),
        &[],
    )
    .await;
    deploy_with(client, &api, "prod", &[("realm", "blue")]).await;
    (api, authorizer)
}

/// GET on `resource` with `authorization` through `authorizer` (with `scope`, if any), a
/// MOCK answering 200 with `template`.
async fn templated_route(
    client: &Client,
    (api, resource): (&str, &str),
    (authorization, authorizer, scope): (&str, &str, Option<&str>),
    template: &str,
) {
    client
        .put_method()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method("GET")
        .authorization_type(authorization)
        .authorizer_id(authorizer)
        .set_authorization_scopes(scope.map(|s| vec![s.to_owned()]))
        .send()
        .await
        .unwrap();
    method_response(client, api, resource, "GET", "200").await;
    client
        .put_integration()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method("GET")
        .r#type(IntegrationType::Mock)
        .request_templates("application/json", r#"{"statusCode": 200}"#)
        .send()
        .await
        .unwrap();
    client
        .put_integration_response()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method("GET")
        .status_code("200")
        .response_templates("application/json", template)
        .send()
        .await
        .unwrap();
}

/// A server with a Lambda endpoint and [`guarded_api`] on it, deployed and served.
struct Guarded {
    lambda: Backend,
    backend: Backend,
    server: TestServer,
    client: Client,
    api: String,
    authorizer: String,
    invoke: Invoke,
}

async fn guarded(kind: AuthorizerType, source: &str, ttl: Option<i32>) -> Guarded {
    let lambda = Backend::start(authorizer_function(true)).await;
    let backend = Backend::echo().await;
    let server = server_with_lambda(lambda.base()).await;
    let client = server.client();
    let (api, authorizer) = guarded_api(&client, kind, source, ttl, &backend).await;
    let invoke = Invoke::new(&server, &api);
    invoke
        .until("GET", "/prod/pets", |raw| raw.status == 401)
        .await;
    Guarded {
        lambda,
        backend,
        server,
        client,
        api,
        authorizer,
        invoke,
    }
}

async fn get_as(invoke: &Invoke, path: &str, token: Option<&str>) -> Raw {
    let mut request = invoke.request("GET", path);
    if let Some(token) = token {
        request = request.header("Authorization", token);
    }
    invoke.send(request).await
}

#[tokio::test]
async fn a_token_authorizer_lets_in_whom_its_function_allows() {
    let Guarded {
        lambda,
        backend,
        server: _server,
        client,
        api,
        invoke,
        ..
    } = guarded(
        AuthorizerType::Token,
        "method.request.header.Authorization",
        None,
    )
    .await;

    // No token, or one the validation expression refuses: 401, and no call.
    assert_gateway_error(
        &get_as(&invoke, "/prod/pets", None).await,
        401,
        "UnauthorizedException",
        UNAUTHORIZED,
    );
    assert_gateway_error(
        &get_as(&invoke, "/prod/pets", Some("Basic dXNlcg==")).await,
        401,
        "UnauthorizedException",
        UNAUTHORIZED,
    );
    assert!(lambda.requests().is_empty(), "{:?}", lambda.requests());

    // Allowed: the backend gets the principal and the context the mappings ask for.
    let raw = get_as(&invoke, "/prod/pets", Some("Bearer allow-pets")).await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    let seen = backend.last();
    assert_eq!(seen.header("x-principal"), Some("user-1"));
    assert_eq!(seen.header("x-user"), Some("alice"));
    let calls = lambda.requests();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].method, "POST");
    assert_eq!(
        percent_decode(&calls[0].target),
        format!("/2015-03-31/functions/{FUNCTION}/invocations")
    );
    assert_eq!(
        events(&lambda)[0],
        json!({
            "type": "TOKEN",
            "authorizationToken": "Bearer allow-pets",
            "methodArn": format!("arn:aws:execute-api:{REGION}:{ACCOUNT}:{api}/prod/GET/pets"),
        })
    );

    // The decision is kept (300 s by default) and its policy asked again for each method:
    // /pets/1 is allowed, /other is not, and neither calls the function.
    let raw = get_as(&invoke, "/prod/pets/1", Some("Bearer allow-pets")).await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    assert_gateway_error(
        &get_as(&invoke, "/prod/other", Some("Bearer allow-pets")).await,
        403,
        "AccessDeniedException",
        NOT_AUTHORIZED,
    );
    assert_eq!(lambda.requests().len(), 1);

    // Denied explicitly; refused by the function; failing; answering nonsense.
    assert_gateway_error(
        &get_as(&invoke, "/prod/pets", Some("Bearer deny")).await,
        403,
        "AccessDeniedException",
        EXPLICIT_DENY,
    );
    assert_gateway_error(
        &get_as(&invoke, "/prod/pets", Some("Bearer unauthorized")).await,
        401,
        "UnauthorizedException",
        UNAUTHORIZED,
    );
    for token in ["Bearer boom", "Bearer garbage"] {
        assert_gateway_error(
            &get_as(&invoke, "/prod/pets", Some(token)).await,
            500,
            "AuthorizerConfigurationException",
            CONFIGURATION_ERROR,
        );
    }
    // Failures are not kept: the function is asked again.
    let before = lambda.requests().len();
    get_as(&invoke, "/prod/pets", Some("Bearer unauthorized")).await;
    assert_eq!(lambda.requests().len(), before + 1);

    // FlushStageAuthorizersCache forgets the kept decision.
    client
        .flush_stage_authorizers_cache()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    let before = lambda.requests().len();
    let deadline = Instant::now() + Duration::from_secs(5);
    while lambda.requests().len() == before && Instant::now() < deadline {
        let raw = get_as(&invoke, "/prod/pets", Some("Bearer allow-pets")).await;
        assert_eq!(raw.status, 200, "{}", raw.text());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        lambda.requests().len(),
        before + 1,
        "asked once after the flush"
    );
}

#[tokio::test]
async fn a_request_authorizer_reads_its_identity_sources_and_keeps_decisions_by_them() {
    let Guarded {
        lambda,
        backend: _backend,
        server: _server,
        api,
        invoke,
        ..
    } = guarded(
        AuthorizerType::Request,
        "method.request.header.X-User,method.request.querystring.team,stageVariables.realm",
        Some(300),
    )
    .await;
    let get = |path: &'static str| {
        let invoke = &invoke;
        async move {
            invoke
                .send(invoke.request("GET", path).header("X-User", "allow-pets"))
                .await
        }
    };

    // A missing source is 401 without a call.
    assert_gateway_error(
        &get("/prod/pets/1").await,
        401,
        "UnauthorizedException",
        UNAUTHORIZED,
    );
    assert!(lambda.requests().is_empty());

    let raw = get("/prod/pets/1?team=a&team=b").await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    let event = events(&lambda).remove(0);
    assert_eq!(event["type"], "REQUEST");
    assert_eq!(
        event["methodArn"],
        format!("arn:aws:execute-api:{REGION}:{ACCOUNT}:{api}/prod/GET/pets/1")
    );
    assert_eq!(event["resource"], "/pets/{id}");
    assert_eq!(event["path"], "/pets/1");
    assert_eq!(event["httpMethod"], "GET");
    assert_eq!(event["headers"]["x-user"], "allow-pets");
    assert_eq!(event["queryStringParameters"]["team"], "b");
    assert_eq!(
        event["multiValueQueryStringParameters"]["team"],
        json!(["a", "b"])
    );
    assert_eq!(event["pathParameters"], json!({"id": "1"}));
    assert_eq!(event["stageVariables"], json!({"realm": "blue"}));
    assert_eq!(event["requestContext"]["stage"], "prod");
    assert_eq!(event["requestContext"]["apiId"], api.as_str());
    assert_eq!(event["requestContext"]["accountId"], ACCOUNT);
    assert_eq!(event["requestContext"]["resourcePath"], "/pets/{id}");
    assert_eq!(event["requestContext"]["identity"]["sourceIp"], "127.0.0.1");
    assert!(event.get("body").is_none());

    // Kept by the sources' values: the same ones are not asked again, other ones are.
    assert_eq!(get("/prod/pets?team=a&team=b").await.status, 200);
    assert_eq!(lambda.requests().len(), 1);
    assert_eq!(get("/prod/pets?team=c").await.status, 200);
    assert_eq!(lambda.requests().len(), 2);
}

#[tokio::test]
async fn without_a_cache_every_request_asks_and_without_an_endpoint_none_passes() {
    let Guarded {
        lambda,
        backend,
        server: _server,
        invoke,
        ..
    } = guarded(
        AuthorizerType::Token,
        "method.request.header.Authorization",
        Some(0),
    )
    .await;
    for _ in 0..3 {
        let raw = get_as(&invoke, "/prod/pets", Some("Bearer allow-all")).await;
        assert_eq!(raw.status, 200, "{}", raw.text());
    }
    assert_eq!(lambda.requests().len(), 3);

    // A server that was given no Lambda endpoint cannot ask: a configuration error.
    let bare = TestServer::start().await;
    let client = bare.client();
    let (api, _) = guarded_api(
        &client,
        AuthorizerType::Token,
        "method.request.header.Authorization",
        None,
        &backend,
    )
    .await;
    let invoke = Invoke::new(&bare, &api);
    let raw = invoke
        .until("GET", "/prod/pets", |raw| raw.status == 401)
        .await;
    assert_gateway_error(&raw, 401, "UnauthorizedException", UNAUTHORIZED);
    assert_gateway_error(
        &get_as(&invoke, "/prod/pets", Some("Bearer allow-all")).await,
        500,
        "AuthorizerConfigurationException",
        CONFIGURATION_ERROR,
    );
}

#[tokio::test]
async fn an_authorizer_names_the_api_key_when_the_key_source_is_authorizer() {
    let lambda = Backend::start(authorizer_function(true)).await;
    let backend = Backend::echo().await;
    let server = server_with_lambda(lambda.base()).await;
    let client = server.client();
    let created = client
        .create_rest_api()
        .name("keyed")
        .api_key_source(ApiKeySourceType::Authorizer)
        .send()
        .await
        .unwrap();
    let api = created.id().unwrap().to_owned();
    let root = created.root_resource_id().unwrap().to_owned();
    let authorizer = create_authorizer(
        &client,
        &api,
        AuthorizerType::Token,
        "method.request.header.Authorization",
        None,
    )
    .await;
    let items = create_resource(&client, &api, &root, "items").await;
    guarded_route(
        &client,
        (&api, &items),
        Some(&authorizer),
        &format!("{}/items", backend.base()),
        &[],
    )
    .await;
    client
        .update_method()
        .rest_api_id(&api)
        .resource_id(&items)
        .http_method("GET")
        .patch_operations(replace("/apiKeyRequired", "true"))
        .send()
        .await
        .unwrap();
    deploy(&client, &api, "prod").await;
    let key = client
        .create_api_key()
        .name("k")
        .value("key-0123456789-abcdefgh")
        .enabled(true)
        .send()
        .await
        .unwrap();
    let plan = client
        .create_usage_plan()
        .name("plan")
        .api_stages(ApiStage::builder().api_id(&api).stage("prod").build())
        .quota(
            QuotaSettings::builder()
                .limit(2)
                .period(QuotaPeriodType::Day)
                .build(),
        )
        .send()
        .await
        .unwrap();
    client
        .create_usage_plan_key()
        .usage_plan_id(plan.id().unwrap())
        .key_id(key.id().unwrap())
        .key_type("API_KEY")
        .send()
        .await
        .unwrap();
    let invoke = Invoke::new(&server, &api);
    let token = "Bearer keyed-key-0123456789-abcdefgh";
    // The key counts once the plan reaches the gateway; an x-api-key header is not asked for.
    invoke
        .until("GET", "/prod/items", |raw| raw.status == 401)
        .await;
    let raw = {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let raw = get_as(&invoke, "/prod/items", Some(token)).await;
            if raw.status == 200 || Instant::now() >= deadline {
                break raw;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    assert_eq!(raw.status, 200, "{}", raw.text());
    assert_eq!(
        get_as(&invoke, "/prod/items", Some(token)).await.status,
        200
    );
    assert_gateway_error(
        &get_as(&invoke, "/prod/items", Some(token)).await,
        429,
        "LimitExceededException",
        r#"{"message":"Limit Exceeded"}"#,
    );
    // An authorizer that names no key, or an unknown one: Forbidden.
    for token in ["Bearer allow-all", "Bearer keyed-made-up-key-000000000"] {
        assert_gateway_error(
            &get_as(&invoke, "/prod/items", Some(token)).await,
            403,
            "ForbiddenException",
            FORBIDDEN,
        );
    }
}

#[tokio::test]
async fn a_resource_policy_and_an_authorizer_decide_together() {
    let lambda = Backend::start(authorizer_function(true)).await;
    let backend = Backend::echo().await;
    let server = server_with_lambda(lambda.base()).await;
    let client = server.client();
    // The policy only denies /admin; it allows nothing.
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*/*/admin"}]}"#;
    let created = client
        .create_rest_api()
        .name("both")
        .policy(policy)
        .send()
        .await
        .unwrap();
    let api = created.id().unwrap().to_owned();
    let root = created.root_resource_id().unwrap().to_owned();
    let authorizer = create_authorizer(
        &client,
        &api,
        AuthorizerType::Token,
        "method.request.header.Authorization",
        None,
    )
    .await;
    let base = backend.base();
    for (part, guarded) in [("pets", true), ("admin", true), ("open", false)] {
        let resource = create_resource(&client, &api, &root, part).await;
        let authorizer = guarded.then_some(authorizer.as_str());
        guarded_route(
            &client,
            (&api, &resource),
            authorizer,
            &format!("{base}/{part}"),
            &[],
        )
        .await;
    }
    deploy(&client, &api, "prod").await;
    let invoke = Invoke::new(&server, &api);
    invoke
        .until("GET", "/prod/pets", |raw| raw.status == 401)
        .await;

    // Where the policy is silent, the authorizer decides.
    let raw = get_as(&invoke, "/prod/pets", Some("Bearer allow-all")).await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    // The policy's explicit deny wins before the function is asked.
    let calls = lambda.requests().len();
    let denied = get_as(&invoke, "/prod/admin", Some("Bearer allow-all")).await;
    assert_gateway_error(
        &denied,
        403,
        "AccessDeniedException",
        &format!(
            r#"{{"Message":"User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:{REGION}:********0000:{api}/prod/GET/admin with an explicit deny"}}"#
        ),
    );
    assert_eq!(lambda.requests().len(), calls);
    // Without an authorizer, a policy that allows nothing lets nobody in.
    assert_eq!(get_as(&invoke, "/prod/open", None).await.status, 403);
}

#[tokio::test]
async fn templates_read_the_authorizer_context_and_a_single_function_emulator_works() {
    // The Runtime Interface Emulator: one function at a fixed URL, errors without a header.
    let lambda = Backend::start(authorizer_function(false)).await;
    let server = server_with_lambda(format!(
        "{}/2015-03-31/functions/function/invocations",
        lambda.base()
    ))
    .await;
    let client = server.client();
    let (api, root) = create_api(&client, "templated").await;
    let authorizer = create_authorizer(
        &client,
        &api,
        AuthorizerType::Token,
        "method.request.header.Authorization",
        None,
    )
    .await;
    let pets = create_resource(&client, &api, &root, "pets").await;
    templated_route(
        &client,
        (&api, &pets),
        ("CUSTOM", &authorizer, None),
        r#"{"who":"$context.authorizer.principalId","user":"$context.authorizer.user","n":"$context.authorizer.n","admin":"$context.authorizer.admin"}"#,
    )
    .await;
    // A denied caller is still known to gateway response templates.
    client
        .put_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::AccessDenied)
        .response_templates(
            "application/json",
            r#"{"message":$context.error.messageString,"principal":"$context.authorizer.principalId"}"#,
        )
        .send()
        .await
        .unwrap();
    deploy(&client, &api, "prod").await;
    let invoke = Invoke::new(&server, &api);
    invoke
        .until("GET", "/prod/pets", |raw| raw.status == 401)
        .await;
    let denied = get_as(&invoke, "/prod/pets", Some("Bearer deny")).await;
    assert_eq!(denied.status, 403);
    assert_eq!(
        denied.json(),
        json!({"message": "User is not authorized to access this resource with an explicit deny", "principal": "user-3"})
    );

    let raw = get_as(&invoke, "/prod/pets", Some("Bearer allow-pets")).await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    // Context values reach templates as text.
    assert_eq!(
        raw.json(),
        json!({"who": "user-1", "user": "alice", "n": "7", "admin": "true"})
    );
    assert_eq!(
        lambda.last().target,
        "/2015-03-31/functions/function/invocations"
    );
    // The emulator's errors come as plain results: still read as the function's errors.
    assert_gateway_error(
        &get_as(&invoke, "/prod/pets", Some("Bearer unauthorized")).await,
        401,
        "UnauthorizedException",
        UNAUTHORIZED,
    );
    assert_gateway_error(
        &get_as(&invoke, "/prod/pets", Some("Bearer boom")).await,
        500,
        "AuthorizerConfigurationException",
        CONFIGURATION_ERROR,
    );
}

#[tokio::test]
async fn test_invoke_authorizer_asks_the_function_and_reports() {
    let Guarded {
        lambda,
        backend: _backend,
        server: _server,
        client,
        api,
        authorizer,
        ..
    } = guarded(
        AuthorizerType::Token,
        "method.request.header.Authorization",
        None,
    )
    .await;
    let test = |token: Option<&str>| {
        client
            .test_invoke_authorizer()
            .rest_api_id(&api)
            .authorizer_id(&authorizer)
            .set_headers(token.map(|t| [("Authorization".to_owned(), t.to_owned())].into()))
            .path_with_query_string("/pets")
            .send()
    };
    let allowed = test(Some("Bearer allow-pets")).await.unwrap();
    assert_eq!(allowed.client_status(), 0);
    assert_eq!(allowed.principal_id(), Some("user-1"));
    let policy: Value = serde_json::from_str(allowed.policy().unwrap()).unwrap();
    assert_eq!(policy["Statement"][0]["Effect"], "Allow");
    let log = allowed.log().unwrap();
    assert!(
        log.contains(&format!("Starting authorizer: {authorizer}")),
        "{log}"
    );
    assert!(
        log.contains("Incoming identity: Bearer allow-pets"),
        "{log}"
    );
    assert!(
        log.contains("Successfully completed authorizer execution"),
        "{log}"
    );
    // The function was asked about the test stage.
    assert_eq!(
        events(&lambda)[0]["methodArn"],
        format!("arn:aws:execute-api:{REGION}:{ACCOUNT}:{api}/test-invoke-stage/GET/pets")
    );

    for (token, status) in [
        (None, 401),
        (Some("Bearer unauthorized"), 401),
        (Some("Bearer boom"), 500),
    ] {
        let result = test(token).await.unwrap();
        assert_eq!(
            result.client_status(),
            status,
            "{token:?}: {:?}",
            result.log()
        );
        assert_eq!(result.principal_id(), None);
    }
    let failed = test(Some("Bearer boom")).await.unwrap();
    assert!(
        failed
            .log()
            .unwrap()
            .contains("Execution failed due to configuration error"),
        "{:?}",
        failed.log()
    );
    client
        .test_invoke_authorizer()
        .rest_api_id(&api)
        .authorizer_id("nope00")
        .send()
        .await
        .expect_error(
            "NotFoundException",
            "Invalid Authorizer identifier specified",
        );
}

// ---------------------------------------------------------------------------------------------
// Cognito user pools: tokens signed with a key made for these tests only
// (`tests/fixtures/cognito-test-key.pem`), whose public half a local issuer serves as the
// pool's JWKS.

const POOL_ID: &str = "us-east-1_Pool1";
const TEST_KEY: &str = include_str!("../../fixtures/cognito-test-key.pem");
const TEST_JWKS: &str = include_str!("../../fixtures/cognito-test-jwks.json");

/// A token of the pool at `issuer`, signed with the test key (or named as key `kid`).
fn pool_token(claims: Value, kid: &str) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(TEST_KEY.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn a_user_pool_authorizer_checks_tokens_against_the_pools_keys() {
    // The pool's issuer: its keys at /{pool}/.well-known/jwks.json.
    let issuer = Backend::start(|seen| {
        if seen.path() == format!("/{POOL_ID}/.well-known/jwks.json") {
            Reply::new(200)
                .header("Content-Type", "application/json")
                .body(TEST_JWKS)
        } else {
            Reply::new(404)
        }
    })
    .await;
    let issuer_url = format!("{}/{POOL_ID}", issuer.base());
    let server = TestServer::start_with({
        let base = issuer.base();
        move |config| {
            config.cognito_endpoint = Some(causeway_server::HttpUrl::parse(&base).unwrap());
        }
    })
    .await;
    let client = server.client();
    let (api, root) = create_api(&client, "pooled").await;
    let authorizer = client
        .create_authorizer()
        .rest_api_id(&api)
        .name("pool")
        .r#type(AuthorizerType::CognitoUserPools)
        .provider_arns(format!(
            "arn:aws:cognito-idp:us-east-1:{ACCOUNT}:userpool/{POOL_ID}"
        ))
        .identity_source("method.request.header.Authorization")
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    for (part, scopes) in [("pets", None), ("admin", Some("pets/admin"))] {
        let resource = create_resource(&client, &api, &root, part).await;
        templated_route(
            &client,
            (&api, &resource),
            ("COGNITO_USER_POOLS", &authorizer, scopes),
            r#"{"sub":"$context.authorizer.claims.sub","email":"$context.authorizer.claims.email","exp":"$context.authorizer.claims.exp"}"#,
        )
        .await;
    }
    deploy(&client, &api, "prod").await;
    let invoke = Invoke::new(&server, &api);
    invoke
        .until("GET", "/prod/pets", |raw| raw.status == 401)
        .await;

    let now = unix_now();
    let id_token = |exp: i64| {
        pool_token(
            json!({"sub": "u-1", "email": "a@example.com", "aud": "client-1", "token_use": "id",
                   "iss": issuer_url, "iat": now, "exp": exp}),
            "test-key-1",
        )
    };
    let access_token = |scope: &str| {
        pool_token(
            json!({"sub": "u-1", "client_id": "client-1", "token_use": "access", "scope": scope,
                   "iss": issuer_url, "iat": now, "exp": now + 3600}),
            "test-key-1",
        )
    };
    let valid = id_token(now + 3600);

    // An ID token passes, with or without `Bearer `; its claims reach templates.
    for header in [valid.clone(), format!("Bearer {valid}")] {
        let raw = get_as(&invoke, "/prod/pets", Some(&header)).await;
        assert_eq!(raw.status, 200, "{}", raw.text());
        let body = raw.json();
        assert_eq!(body["sub"], "u-1");
        assert_eq!(body["email"], "a@example.com");
        // `exp` as Java prints a date: `Wed May 01 13:10:22 UTC 2024`.
        let exp = body["exp"].as_str().unwrap().to_owned();
        let parts: Vec<&str> = exp.split(' ').collect();
        assert_eq!(parts.len(), 6, "{exp}");
        assert_eq!(parts[4], "UTC", "{exp}");
    }
    // The pool's keys were fetched once.
    assert_eq!(issuer.requests().len(), 1);

    // Expired, forged, from another issuer, of another key, not a JWT: 401.
    let forged = {
        let mut parts: Vec<String> = valid.split('.').map(str::to_owned).collect();
        parts[1] = pool_token(
            json!({"sub": "admin", "iss": issuer_url, "token_use": "id", "exp": now + 3600}),
            "test-key-1",
        )
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
        parts.join(".")
    };
    let other_issuer = pool_token(
        json!({"sub": "u-1", "token_use": "id", "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other", "exp": now + 3600}),
        "test-key-1",
    );
    let other_key = pool_token(
        json!({"sub": "u-1", "token_use": "id", "iss": issuer_url, "exp": now + 3600}),
        "test-key-2",
    );
    for token in [
        id_token(now - 10),
        forged,
        other_issuer,
        other_key,
        "not-a-token".to_owned(),
    ] {
        assert_gateway_error(
            &get_as(&invoke, "/prod/pets", Some(&token)).await,
            401,
            "UnauthorizedException",
            UNAUTHORIZED,
        );
    }
    // A token naming a key the pool lacks does not make the gateway fetch again at once.
    assert_eq!(issuer.requests().len(), 1);

    // Without scopes on the method, access tokens are refused; with scopes, only an access
    // token holding one of them passes.
    let admin = access_token("pets/read pets/admin");
    assert_eq!(
        get_as(&invoke, "/prod/pets", Some(&admin)).await.status,
        401
    );
    let raw = get_as(&invoke, "/prod/admin", Some(&admin)).await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    for token in [access_token("pets/read"), valid.clone()] {
        assert_gateway_error(
            &get_as(&invoke, "/prod/admin", Some(&token)).await,
            401,
            "UnauthorizedException",
            UNAUTHORIZED,
        );
    }

    // TestInvokeAuthorizer reports a token's claims.
    let tested = client
        .test_invoke_authorizer()
        .rest_api_id(&api)
        .authorizer_id(&authorizer)
        .headers("Authorization", &valid)
        .send()
        .await
        .unwrap();
    assert_eq!(tested.client_status(), 0, "{:?}", tested.log());
    assert_eq!(
        tested
            .claims()
            .and_then(|c| c.get("email"))
            .map(String::as_str),
        Some("a@example.com")
    );
}

/// Nodes sharing one configuration each keep their own authorizer decisions;
/// FlushStageAuthorizersCache through one node makes every node ask again.
#[tokio::test]
async fn flush_stage_authorizers_cache_through_one_node_reaches_every_node() {
    use crate::harness::postgres::Postgres;

    let lambda = Backend::start(authorizer_function(true)).await;
    let backend = Backend::echo().await;
    let pg = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let with_lambda = |endpoint: String| {
        move |config: &mut causeway_server::Config| {
            config.lambda_endpoint =
                Some(causeway_server::LambdaEndpoint::parse(&endpoint).expect("endpoint URL"));
        }
    };
    let a = TestServer::start_sharing(&pg.url(), with_lambda(lambda.base())).await;
    let b = TestServer::start_sharing(&pg.url(), with_lambda(lambda.base())).await;
    let client = a.client();
    let (api, _) = guarded_api(
        &client,
        AuthorizerType::Token,
        "method.request.header.Authorization",
        None,
        &backend,
    )
    .await;
    let (on_a, on_b) = (Invoke::new(&a, &api), Invoke::new(&b, &api));
    for invoke in [&on_a, &on_b] {
        invoke
            .until("GET", "/prod/pets", |raw| raw.status == 401)
            .await;
        let raw = get_as(invoke, "/prod/pets", Some("Bearer allow-pets")).await;
        assert_eq!(raw.status, 200, "{}", raw.text());
    }
    // Each node asked once, and keeps its decision.
    assert_eq!(lambda.requests().len(), 2);
    get_as(&on_a, "/prod/pets", Some("Bearer allow-pets")).await;
    get_as(&on_b, "/prod/pets", Some("Bearer allow-pets")).await;
    assert_eq!(lambda.requests().len(), 2);

    client
        .flush_stage_authorizers_cache()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    for invoke in [&on_a, &on_b] {
        let deadline = Instant::now() + Invoke::PATIENCE;
        let before = lambda.requests().len();
        while lambda.requests().len() == before {
            assert!(
                Instant::now() < deadline,
                "a node kept its decision after the flush"
            );
            let raw = get_as(invoke, "/prod/pets", Some("Bearer allow-pets")).await;
            assert_eq!(raw.status, 200, "{}", raw.text());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
