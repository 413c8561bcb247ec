//! Resource policies (the REST API's `policy`), enforced by the gateway for the deployment
//! that froze them. Callers are told apart by their real source address: the test client
//! binds its sockets to 127.0.0.1 or 127.0.0.2, both loopback addresses on Linux.

use std::net::{IpAddr, Ipv4Addr};

use super::*;

const NEAR: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));
const FAR: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// An invoker whose connections come from `address`.
fn from(server: &TestServer, api: &str, address: IpAddr) -> Invoke {
    let mut invoke = Invoke::new(server, api);
    invoke.http = reqwest::Client::builder()
        .no_proxy()
        .local_address(address)
        .resolve(&invoke.host, invoke.gateway)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    invoke
}

/// Allow everyone; deny `/admin` to every address but 127.0.0.1.
const ADMIN_FROM_NEAR_ONLY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
    {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*/*/admin",
     "Condition": {"NotIpAddress": {"aws:SourceIp": "127.0.0.1/32"}}}
  ]
}"#;

/// Allow only GETs of one pet; nothing denies explicitly.
const ONE_PET_ONLY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "execute-api:Invoke",
                "Resource": "execute-api:/prod/GET/pets/*"}
}"#;

fn denied_body(api: &str, route: &str, explicitly: bool) -> String {
    let tail = if explicitly {
        " with an explicit deny"
    } else {
        ""
    };
    format!(
        r#"{{"Message":"User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:{REGION}:********0000:{api}/prod/{route}{tail}"}}"#
    )
}

fn assert_denied(raw: &Raw, api: &str, route: &str, explicitly: bool) {
    assert_gateway_error(
        raw,
        403,
        "AccessDeniedException",
        &denied_body(api, route, explicitly),
    );
}

async fn set_policy(client: &Client, api: &str, policy: Option<&str>) {
    let operation = match policy {
        Some(text) => replace("/policy", text),
        None => remove("/policy"),
    };
    client
        .update_rest_api()
        .rest_api_id(api)
        .patch_operations(operation)
        .send()
        .await
        .unwrap();
}

/// `/`, `/pets`, `/pets/{id}` and `/admin` (GET, MOCK), and `/keyed` (GET, MOCK, API key
/// required), created with `policy`.
async fn policy_api(client: &Client, policy: &str) -> String {
    let created = client
        .create_rest_api()
        .name("guarded")
        .policy(policy)
        .send()
        .await
        .unwrap();
    let api = created.id().unwrap().to_owned();
    let root = created.root_resource_id().unwrap().to_owned();
    mock_route(client, &api, &root, "GET", "root").await;
    let pets = create_resource(client, &api, &root, "pets").await;
    mock_route(client, &api, &pets, "GET", "pets").await;
    let pet = create_resource(client, &api, &pets, "{id}").await;
    mock_route(client, &api, &pet, "GET", "pet").await;
    let admin = create_resource(client, &api, &root, "admin").await;
    mock_route(client, &api, &admin, "GET", "admin").await;
    let keyed = create_resource(client, &api, &root, "keyed").await;
    mock_route(client, &api, &keyed, "GET", "keyed").await;
    client
        .update_method()
        .rest_api_id(&api)
        .resource_id(&keyed)
        .http_method("GET")
        .patch_operations(replace("/apiKeyRequired", "true"))
        .send()
        .await
        .unwrap();
    deploy(client, &api, "prod").await;
    api
}

#[tokio::test]
async fn a_resource_policy_admits_callers_by_address_and_route() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = policy_api(&client, ADMIN_FROM_NEAR_ONLY).await;
    let near = from(&server, &api, NEAR);
    let far = from(&server, &api, FAR);
    near.ready("/prod/pets").await;

    // The allowed address reaches every route; the other one all but /admin, which it is
    // denied explicitly, before its API key is even asked for.
    for path in ["/prod/", "/prod/pets", "/prod/pets/7", "/prod/admin"] {
        assert_eq!(near.get(path).await.status, 200, "{path} from 127.0.0.1");
    }
    assert_eq!(route_of(&far.get("/prod/pets/7").await), "pet");
    assert_denied(&far.get("/prod/admin").await, &api, "GET/admin", true);
    let path_form = far
        .send(far.request_url("GET", &far.path_url("prod", "/admin")))
        .await;
    assert_denied(&path_form, &api, "GET/admin", true);
    let keyed = near.get("/prod/keyed").await;
    assert_gateway_error(&keyed, 403, "ForbiddenException", FORBIDDEN);
    // Unknown routes stay unknown, whoever asks.
    assert_missing_token(&far.get("/prod/nowhere").await);

    // A new policy takes effect with the next deployment, not before.
    set_policy(&client, &api, Some(ONE_PET_ONLY)).await;
    assert_eq!(near.get("/prod/admin").await.status, 200);
    deploy(&client, &api, "prod").await;
    let raw = near
        .until("GET", "/prod/admin", |raw| raw.status == 403)
        .await;
    // Nothing allows /admin any more, and nothing denies it explicitly.
    assert_denied(&raw, &api, "GET/admin", false);
    assert_eq!(route_of(&far.get("/prod/pets/42").await), "pet");
    // The resource is the path as requested: `/pets` is not under `/pets/*`, and the root
    // is `GET/`.
    assert_denied(&near.get("/prod/pets").await, &api, "GET/pets", false);
    assert_denied(&near.get("/prod/").await, &api, "GET/", false);
    // A method the resource does not have is unknown before it is denied.
    assert_missing_token(&near.call("POST", "/prod/pets/42").await);

    // A customised ACCESS_DENIED answer gets the same message.
    client
        .put_gateway_response()
        .rest_api_id(&api)
        .response_type(GatewayResponseType::AccessDenied)
        .status_code("401")
        .response_parameters("gatewayresponse.header.x-denied", "'policy'")
        .response_templates(
            "application/json",
            r#"{"denied":$context.error.messageString,"type":"$context.error.responseType"}"#,
        )
        .send()
        .await
        .unwrap();
    deploy(&client, &api, "prod").await;
    let raw = near
        .until("GET", "/prod/admin", |raw| raw.status == 401)
        .await;
    assert_eq!(raw.header("x-denied").as_deref(), Some("policy"));
    assert_eq!(raw.error_type().as_deref(), Some("AccessDeniedException"));
    assert_eq!(
        raw.json(),
        json!({
            "denied": format!("User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:{REGION}:********0000:{api}/prod/GET/admin"),
            "type": "ACCESS_DENIED",
        })
    );

    // TestInvokeMethod skips the policy, as on AWS.
    let resources = client
        .get_resources()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    let admin = resources
        .items()
        .iter()
        .find(|r| r.path() == Some("/admin"))
        .and_then(|r| r.id())
        .unwrap()
        .to_owned();
    let tested = client
        .test_invoke_method()
        .rest_api_id(&api)
        .resource_id(&admin)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    assert_eq!(tested.status(), 200, "{:?}", tested.log());

    // Without a policy, everyone is let in again once deployed.
    set_policy(&client, &api, None).await;
    deploy(&client, &api, "prod").await;
    let raw = far
        .until("GET", "/prod/admin", |raw| raw.status == 200)
        .await;
    assert_eq!(route_of(&raw), "admin");
}

/// ADMIN_FROM_NEAR_ONLY as AWS keeps and returns it for `api`: compact, `execute-api:/`
/// written out, escaped as the body of a JSON string.
fn aws_form(api: &str) -> String {
    let arn = format!("arn:aws:execute-api:{REGION}:{ACCOUNT}:{api}");
    format!(
        r#"{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"execute-api:Invoke\",\"Resource\":\"{arn}\/*\"}},{{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"execute-api:Invoke\",\"Resource\":\"{arn}\/*\/*\/admin\",\"Condition\":{{\"NotIpAddress\":{{\"aws:SourceIp\":\"127.0.0.1\/32\"}}}}}}]}}"#
    )
}

/// A policy in AWS's form read back as Terraform's provider does: as the body of a JSON
/// string, then as JSON.
fn decoded(text: &str) -> Value {
    let document: String = serde_json::from_str(&format!("\"{text}\"")).unwrap();
    serde_json::from_str(&document).unwrap()
}

#[tokio::test]
async fn policies_are_kept_in_aws_form_and_private_apis_need_one() {
    let server = TestServer::start().await;
    let client = server.client();
    let api = policy_api(&client, ADMIN_FROM_NEAR_ONLY).await;
    let stored = client
        .get_rest_api()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    let text = stored.policy().unwrap();
    assert_eq!(text, aws_form(&api));
    let document = decoded(text);
    assert_eq!(
        document["Statement"][1]["Resource"],
        format!("arn:aws:execute-api:{REGION}:{ACCOUNT}:{api}/*/*/admin")
    );
    // The policy as returned can be stored again unchanged, and so can the JSON-string form
    // AWS's documentation writes it in.
    for value in [
        text.to_owned(),
        serde_json::to_string(ADMIN_FROM_NEAR_ONLY).unwrap(),
    ] {
        let updated = client
            .update_rest_api()
            .rest_api_id(&api)
            .patch_operations(replace("/policy", &value))
            .send()
            .await
            .unwrap();
        assert_eq!(updated.policy(), Some(aws_form(&api).as_str()));
    }

    // A private API cannot be deployed without a policy.
    let private = client
        .create_rest_api()
        .name("private")
        .endpoint_configuration(
            aws_sdk_apigateway::types::EndpointConfiguration::builder()
                .types(aws_sdk_apigateway::types::EndpointType::Private)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let private_id = private.id().unwrap();
    mock_route(
        &client,
        private_id,
        private.root_resource_id().unwrap(),
        "GET",
        "root",
    )
    .await;
    client
        .create_deployment()
        .rest_api_id(private_id)
        .stage_name("prod")
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Private REST API doesn't have a resource policy attached to it",
        );
    set_policy(&client, private_id, Some(ADMIN_FROM_NEAR_ONLY)).await;
    deploy(&client, private_id, "prod").await;

    // An imported policy is kept the same way, and exported as the plain document.
    let document = json!({
        "openapi": "3.0.1",
        "info": {"title": "imported", "version": "1"},
        "paths": {"/": {"get": {
            "responses": {"200": {"description": "ok"}},
            "x-amazon-apigateway-integration": {
                "type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
                "responses": {"default": {"statusCode": "200"}}
            }
        }}},
        "x-amazon-apigateway-policy": serde_json::from_str::<Value>(ADMIN_FROM_NEAR_ONLY).unwrap()
    });
    let imported = client
        .import_rest_api()
        .body(aws_sdk_apigateway::primitives::Blob::new(
            document.to_string(),
        ))
        .send()
        .await
        .unwrap();
    let imported_id = imported.id().unwrap();
    // (The document went through serde_json here, so its keys come sorted.)
    assert_eq!(
        decoded(imported.policy().unwrap()),
        decoded(&aws_form(imported_id))
    );
    deploy(&client, imported_id, "prod").await;
    let exported = client
        .get_export()
        .rest_api_id(imported_id)
        .stage_name("prod")
        .export_type("oas30")
        .parameters("extensions", "apigateway")
        .send()
        .await
        .unwrap();
    let exported: Value = serde_json::from_slice(exported.body().unwrap().as_ref()).unwrap();
    assert_eq!(
        exported["x-amazon-apigateway-policy"]["Statement"][0]["Resource"],
        format!("arn:aws:execute-api:{REGION}:{ACCOUNT}:{imported_id}/*")
    );
}

#[tokio::test]
async fn malformed_policies_are_refused_and_nothing_stored_changes() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .create_rest_api()
        .name("bad")
        .policy(r#"{"Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}]}"#)
        .send()
        .await
        .expect_error_containing("BadRequestException", "needs a Principal");
    client
        .create_rest_api()
        .name("bad")
        .policy("{not json")
        .send()
        .await
        .expect_error_containing("BadRequestException", "not JSON");
    let apis = client.get_rest_apis().send().await.unwrap();
    assert!(apis.items().is_empty(), "nothing is created: {apis:?}");

    let api = policy_api(&client, ADMIN_FROM_NEAR_ONLY).await;
    let bad_range = ADMIN_FROM_NEAR_ONLY.replace("127.0.0.1/32", "127.0.0.300/32");
    client
        .update_rest_api()
        .rest_api_id(&api)
        .patch_operations(replace("/policy", &bad_range))
        .send()
        .await
        .expect_error_containing("BadRequestException", "127.0.0.300/32");
    let stored = client
        .get_rest_api()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    assert_eq!(stored.policy(), Some(aws_form(&api).as_str()));
    // Other changes to an API are not held up by its policy.
    client
        .update_rest_api()
        .rest_api_id(&api)
        .patch_operations(replace("/description", "still guarded"))
        .send()
        .await
        .unwrap();

    // An OpenAPI document's policy is checked on import too.
    let document = json!({
        "openapi": "3.0.1",
        "info": {"title": "imported", "version": "1"},
        "paths": {},
        "x-amazon-apigateway-policy": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
                           "Resource": "*", "Condition": {"IpAddres": {"aws:SourceIp": "10.0.0.0/8"}}}]
        }
    });
    client
        .import_rest_api()
        .body(aws_sdk_apigateway::primitives::Blob::new(
            document.to_string(),
        ))
        .send()
        .await
        .expect_error_containing(
            "BadRequestException",
            "unknown condition operator 'IpAddres'",
        );
}

/// A private API answers the ways a VPC endpoint is called: the endpoint's own DNS name with
/// the API id in `x-apigw-api-id`, and the `{api}-{vpce}.execute-api` alias. A regional API
/// called those ways is Forbidden, as through a VPC endpoint on AWS.
#[tokio::test]
async fn private_apis_answer_through_vpc_endpoint_names() {
    use aws_sdk_apigateway::types::{EndpointConfiguration, EndpointType};
    let server = TestServer::start().await;
    let client = server.client();
    let private = client
        .create_rest_api()
        .name("private")
        .endpoint_configuration(
            EndpointConfiguration::builder()
                .types(EndpointType::Private)
                .build(),
        )
        .policy(ADMIN_FROM_NEAR_ONLY)
        .send()
        .await
        .unwrap();
    let private_id = private.id().unwrap().to_owned();
    mock_route(
        &client,
        &private_id,
        private.root_resource_id().unwrap(),
        "GET",
        "root",
    )
    .await;
    deploy(&client, &private_id, "prod").await;
    let (regional, regional_root) = create_api(&client, "regional").await;
    mock_route(&client, &regional, &regional_root, "GET", "root").await;
    deploy(&client, &regional, "prod").await;
    Invoke::new(&server, &private_id).ready("/prod/").await;
    Invoke::new(&server, &regional).ready("/prod/").await;

    let gateway = server.gateway_addr();
    let endpoint = "vpce-0123456789abcdef0-abcdefgh.execute-api.us-east-1.vpce.amazonaws.com";
    let alias = format!("{private_id}-vpce-0123456789abcdef0.execute-api.us-east-1.amazonaws.com");
    let http = reqwest::Client::builder()
        .no_proxy()
        .resolve(endpoint, gateway)
        .resolve(&alias, gateway)
        .build()
        .unwrap();
    let get = |host: &str, api: Option<&str>| {
        let mut request = http.get(format!("http://{host}:{}/prod/", gateway.port()));
        if let Some(api) = api {
            request = request.header("x-apigw-api-id", api);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let kind = response
                .headers()
                .get("x-amzn-errortype")
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(':').next().unwrap_or_default().to_owned());
            (status, kind, response.text().await.unwrap())
        }
    };
    let (status, _, body) = get(endpoint, Some(&private_id)).await;
    assert_eq!((status, body.as_str()), (200, r#"{"route":"root"}"#));
    let (status, _, body) = get(&alias, None).await;
    assert_eq!((status, body.as_str()), (200, r#"{"route":"root"}"#));
    let (status, kind, body) = get(endpoint, Some(&regional)).await;
    assert_eq!(
        (status, kind.as_deref(), body.as_str()),
        (403, Some("ForbiddenException"), FORBIDDEN)
    );
    // The endpoint's name alone names no API.
    let (status, kind, _) = get(endpoint, None).await;
    assert_eq!(
        (status, kind.as_deref()),
        (403, Some("MissingAuthenticationTokenException"))
    );
}
