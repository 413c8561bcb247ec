//! VPC links V2 (apigatewayv2's `/v2/vpclinks`) and REST API integrations that reach a
//! network load balancer through one, naming it in `integrationTarget`.

use std::time::{Duration, Instant};

use aws_sdk_apigateway::types::{ConnectionType, IntegrationType};
use serde_json::{Value, json};

use super::*;

/// Creates a VPC link V2 and answers its JSON.
async fn create_link_v2(server: &TestServer, name: &str) -> Value {
    let raw = server
        .post(
            "/v2/vpclinks",
            &json!({"name": name, "subnetIds": ["subnet-0aaa", "subnet-0bbb"],
                    "securityGroupIds": ["sg-0ccc"], "tags": {"team": "orders"}})
            .to_string(),
        )
        .await;
    raw.assert_status(201);
    raw.json()
}

/// GETs a VPC link V2 until it is AVAILABLE (it is, at the server's next round).
async fn until_available(server: &TestServer, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let link = server.get(&format!("/v2/vpclinks/{id}")).await.json();
        if link["vpcLinkStatus"] == "AVAILABLE" {
            return link;
        }
        assert!(Instant::now() < deadline, "not AVAILABLE: {link}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The apigatewayv2 VPC link API: create (201, PENDING), AVAILABLE at the next round, get,
/// list page by page, rename, delete (202); errors as apigatewayv2 answers them. V2 links
/// are not V1 links: apigateway's GetVpcLinks does not list them.
#[tokio::test]
async fn vpc_links_v2_are_created_listed_renamed_and_deleted() {
    let server = TestServer::start().await;
    let created = create_link_v2(&server, "orders-link").await;
    let id = created["vpcLinkId"].as_str().unwrap().to_owned();
    assert!(
        id.len() == 6
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
        "{id}"
    );
    assert_eq!(created["name"], "orders-link");
    assert_eq!(created["subnetIds"], json!(["subnet-0aaa", "subnet-0bbb"]));
    assert_eq!(created["securityGroupIds"], json!(["sg-0ccc"]));
    assert_eq!(created["tags"], json!({"team": "orders"}));
    assert_eq!(created["vpcLinkVersion"], "V2");
    assert_eq!(created["vpcLinkStatus"], "PENDING");
    assert_eq!(
        created["vpcLinkStatusMessage"],
        "VPC link is provisioning ENIs"
    );
    let date = created["createdDate"].as_str().unwrap();
    assert!(
        date.len() == 20 && date.ends_with('Z') && date.as_bytes()[10] == b'T',
        "{date}"
    );

    let ready = until_available(&server, &id).await;
    assert_eq!(
        ready["vpcLinkStatusMessage"],
        "VPC link is ready to route traffic"
    );
    let second = create_link_v2(&server, "second").await;
    let third = create_link_v2(&server, "third").await;
    let first_page = server.get("/v2/vpclinks?maxResults=2").await.json();
    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["vpcLinkId"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(&first_page),
        [id.clone(), second["vpcLinkId"].as_str().unwrap().to_owned()]
    );
    let token = first_page["nextToken"].as_str().unwrap();
    let rest = server
        .get(&format!("/v2/vpclinks?maxResults=2&nextToken={token}"))
        .await
        .json();
    assert_eq!(ids(&rest), [third["vpcLinkId"].as_str().unwrap()]);
    assert!(rest.get("nextToken").is_none());
    assert_eq!(ids(&server.get("/v2/vpclinks").await.json()).len(), 3);
    let v1 = server.get("/vpclinks").await.json();
    assert_eq!(v1["item"].as_array().map_or(0, Vec::len), 0, "{v1}");

    let renamed = server
        .patch(&format!("/v2/vpclinks/{id}"), r#"{"name": "orders"}"#)
        .await;
    renamed.assert_status(200);
    assert_eq!(renamed.json()["name"], "orders");
    assert_eq!(
        server.get(&format!("/v2/vpclinks/{id}")).await.json()["name"],
        "orders"
    );

    for body in [
        json!({"subnetIds": ["subnet-0aaa"]}),
        json!({"name": "", "subnetIds": ["subnet-0aaa"]}),
        json!({"name": "x"}),
        json!({"name": "x", "subnetIds": []}),
        json!({"name": "x", "subnetIds": ["net-1"]}),
        json!({"name": "x", "subnetIds": ["subnet-1"], "securityGroupIds": ["group"]}),
    ] {
        server
            .post("/v2/vpclinks", &body.to_string())
            .await
            .assert_error(400, "BadRequestException");
    }
    // Unknown members are refused, as everywhere on this server.
    server
        .post(
            "/v2/vpclinks",
            r#"{"name": "x", "subnetIds": ["subnet-1"], "vpcId": "vpc-1"}"#,
        )
        .await
        .assert_error(400, "SerializationException");
    let message = server
        .get("/v2/vpclinks/nope42")
        .await
        .assert_error(404, "NotFoundException");
    assert_eq!(message, "Invalid VpcLink identifier specified nope42");
    server
        .get("/v2/vpclinks?maxResults=0")
        .await
        .assert_error(400, "BadRequestException");

    server
        .delete(&format!("/v2/vpclinks/{id}"))
        .await
        .assert_status(202);
    server
        .get(&format!("/v2/vpclinks/{id}"))
        .await
        .assert_error(404, "NotFoundException");
    assert_eq!(ids(&server.get("/v2/vpclinks").await.json()).len(), 2);
}

/// PutIntegration with `integrationTarget`: required with a VPC link V2 (AWS's text), only
/// with one, and a network load balancer of this server.
async fn put_private(
    client: &Client,
    api: &str,
    resource: &str,
    connection_id: &str,
    target: Option<&str>,
    connection_type: ConnectionType,
) -> Result<(), String> {
    client
        .put_integration()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method("ANY")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("ANY")
        .connection_type(connection_type)
        .connection_id(connection_id)
        .set_integration_target(target.map(str::to_owned))
        .uri("http://orders.internal/{proxy}")
        .send()
        .await
        .map(drop)
        .map_err(|e| {
            e.into_service_error()
                .meta()
                .message()
                .unwrap_or_default()
                .to_owned()
        })
}

/// The REST side of a VPC link V2: a private integration names the link and, in
/// `integrationTarget`, the network load balancer; the request goes through that load
/// balancer to a private backend with the uri's path (no stage in front) and Host, as
/// through a V1 link; the link and the target can come from stage variables; a link in use
/// is not deleted.
#[tokio::test]
async fn a_rest_api_reaches_a_network_load_balancer_through_a_vpc_link_v2() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::start(|seen| Reply::echo(seen).header("X-Private", "reached")).await;
    let nlb = private_nlb(&server, &backend).await;
    let link = create_link_v2(&server, "to-orders").await;
    let link = link["vpcLinkId"].as_str().unwrap().to_owned();
    until_available(&server, &link).await;

    let (api, root) = create_api(&client, "private-v2").await;
    let proxy = create_resource(&client, &api, &root, "{proxy+}").await;
    put_method_declaring(&client, &api, &proxy, "ANY", &["method.request.path.proxy"]).await;
    // The checks PutIntegration makes.
    assert_eq!(
        put_private(&client, &api, &proxy, &link, None, ConnectionType::VpcLink).await,
        Err(format!(
            "IntegrationTarget is required for VpcLinkV2 {link}."
        ))
    );
    let alb = nlb.arn.replace("loadbalancer/net/", "loadbalancer/app/");
    let refused = put_private(
        &client,
        &api,
        &proxy,
        &link,
        Some(&alb),
        ConnectionType::VpcLink,
    )
    .await
    .unwrap_err();
    assert!(refused.contains("only network load balancers"), "{refused}");
    let gone = nlb
        .arn
        .replace(&nlb.arn[nlb.arn.len() - 16..], "0000000000000000");
    let refused = put_private(
        &client,
        &api,
        &proxy,
        &link,
        Some(&gone),
        ConnectionType::VpcLink,
    )
    .await
    .unwrap_err();
    assert!(refused.contains("does not exist"), "{refused}");
    let refused = put_private(
        &client,
        &api,
        &proxy,
        "",
        Some(&nlb.arn),
        ConnectionType::Internet,
    )
    .await
    .unwrap_err();
    assert!(
        refused.contains("only used with a VPC link V2"),
        "{refused}"
    );
    let v1 = client
        .create_vpc_link()
        .name("legacy")
        .target_arns(&nlb.arn)
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let refused = put_private(
        &client,
        &api,
        &proxy,
        &v1,
        Some(&nlb.arn),
        ConnectionType::VpcLink,
    )
    .await
    .unwrap_err();
    assert!(refused.contains("is a VPC link V1"), "{refused}");

    // The link from a stage variable, the target literal.
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&proxy)
        .http_method("ANY")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("ANY")
        .connection_type(ConnectionType::VpcLink)
        .connection_id("${stageVariables.VPCLINK}")
        .integration_target(&nlb.arn)
        .uri(format!("http://{}/{{proxy}}", nlb.host()))
        .request_parameters(
            "integration.request.path.proxy",
            "method.request.path.proxy",
        )
        .send()
        .await
        .unwrap();
    let integration = client
        .get_integration()
        .rest_api_id(&api)
        .resource_id(&proxy)
        .http_method("ANY")
        .send()
        .await
        .unwrap();
    assert_eq!(integration.integration_target(), Some(nlb.arn.as_str()));
    deploy_with(&client, &api, "prod", &[("VPCLINK", &link)]).await;
    let invoke = Invoke::new(&server, &api);
    let raw = invoke.ready("/prod/orders/42").await;
    assert_eq!(raw.status, 200, "body {:?}", raw.text());
    assert_eq!(raw.header("x-private").as_deref(), Some("reached"));
    let seen = backend.last();
    assert_eq!(seen.path(), "/orders/42");
    assert_eq!(seen.header("host"), Some(nlb.host().as_str()));

    // A stage whose link variable names no link fails as a V1 link would.
    deploy_with(&client, &api, "test", &[("VPCLINK", "nolink")]).await;
    let raw = invoke.ready("/test/orders/1").await;
    assert_eq!(raw.status, 500, "body {:?}", raw.text());

    // The target changed with UpdateIntegration (here to the same load balancer by a stage
    // variable).
    client
        .update_integration()
        .rest_api_id(&api)
        .resource_id(&proxy)
        .http_method("ANY")
        .patch_operations(replace("/integrationTarget", "${stageVariables.TARGET}"))
        .send()
        .await
        .unwrap();
    deploy_with(
        &client,
        &api,
        "prod",
        &[("VPCLINK", &link), ("TARGET", &nlb.arn)],
    )
    .await;
    let raw = invoke
        .until("GET", "/prod/orders/7", |raw| {
            raw.status == 200 && backend.last().path() == "/orders/7"
        })
        .await;
    assert_eq!(raw.header("x-private").as_deref(), Some("reached"));
    client
        .update_integration()
        .rest_api_id(&api)
        .resource_id(&proxy)
        .http_method("ANY")
        .patch_operations(remove("/integrationTarget"))
        .send()
        .await
        .unwrap();

    // A link named literally by an integration is not deleted.
    put_private(
        &client,
        &api,
        &proxy,
        &link,
        Some(&nlb.arn),
        ConnectionType::VpcLink,
    )
    .await
    .unwrap();
    let message = server
        .delete(&format!("/v2/vpclinks/{link}"))
        .await
        .assert_error(400, "BadRequestException");
    assert!(
        message.starts_with(&format!(
            "Cannot delete vpc link. Vpc link '{link}', is referenced in [ANY:{proxy}:{api}]"
        )),
        "{message}"
    );
}
