//! Custom domain names and base path mappings: the management operations, and invokes that
//! reach APIs by the request's Host and the mapping its path starts with.

use aws_sdk_apigateway::types::{EndpointConfiguration, EndpointType};

use super::*;

/// An invoker whose requests carry `Host: {host}`, to the gateway.
pub(super) fn for_host(server: &TestServer, host: &str) -> Invoke {
    let gateway = server.gateway_addr();
    Invoke {
        gateway,
        api: String::new(),
        host: host.to_owned(),
        http: reqwest::Client::builder()
            .no_proxy()
            .resolve(host, gateway)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
    }
}

#[tokio::test]
async fn domain_names_and_base_path_mappings_are_managed_as_on_aws() {
    let server = TestServer::start().await;
    let client = server.client();
    let cert = imported_certificate(&server, &["*.example.com", "example.com"]).await;
    let created = client
        .create_domain_name()
        .domain_name("API.Example.com")
        .regional_certificate_arn(&cert)
        .endpoint_configuration(
            EndpointConfiguration::builder()
                .types(EndpointType::Regional)
                .build(),
        )
        .tags("team", "pets")
        .send()
        .await
        .unwrap();
    assert_eq!(created.domain_name(), Some("api.example.com"));
    let regional = created.regional_domain_name().unwrap();
    assert!(
        regional.starts_with("d-") && regional.ends_with(".execute-api.us-east-1.amazonaws.com"),
        "{regional}"
    );
    assert_eq!(created.regional_hosted_zone_id(), Some("Z1UJRXOUMOOFQ8"));
    assert_eq!(
        created.security_policy().map(|p| p.as_str()),
        Some("TLS_1_2")
    );
    assert_eq!(
        created.domain_name_status().map(|s| s.as_str()),
        Some("AVAILABLE")
    );
    assert_eq!(created.distribution_domain_name(), None);

    // EDGE when no endpoint type is given, with a CloudFront distribution's names.
    let edge = client
        .create_domain_name()
        .domain_name("edge.example.com")
        .certificate_arn(&cert)
        .send()
        .await
        .unwrap();
    assert_eq!(edge.distribution_hosted_zone_id(), Some("Z2FDTNDATAQYW2"));
    assert!(
        edge.distribution_domain_name()
            .unwrap()
            .ends_with(".cloudfront.net")
    );

    client
        .create_domain_name()
        .domain_name("api.example.com")
        .certificate_arn(&cert)
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "The domain name you provided already exists.",
        );
    client
        .create_domain_name()
        .domain_name("nocert.example.com")
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "A certificate was not provided for the endpoint type EDGE.",
        );
    client
        .get_domain_name()
        .domain_name("nope.example.com")
        .send()
        .await
        .expect_error(
            "NotFoundException",
            "Invalid domain name identifier specified",
        );
    // A certificate must be one imported into ACM here, by this account, in the region the
    // endpoint type needs; AWS's texts.
    let regional = |arn: &str| {
        client
            .create_domain_name()
            .domain_name("refused.example.com")
            .regional_certificate_arn(arn)
            .endpoint_configuration(
                EndpointConfiguration::builder()
                    .types(EndpointType::Regional)
                    .build(),
            )
            .send()
    };
    regional("arn:aws:acm:us-east-1:000000000000:certificate/not-imported")
        .await
        .expect_error(
            "BadRequestException",
            "The provided certificate does not exist.",
        );
    regional("arn:aws:acm:eu-west-1:000000000000:certificate/x")
        .await
        .expect_error(
            "BadRequestException",
            "Invalid certificate ARN: arn:aws:acm:eu-west-1:000000000000:certificate/x. Certificate must be in 'us-east-1'.",
        );
    regional("arn:aws:acm:us-east-1:111122223333:certificate/x")
        .await
        .expect_error(
            "BadRequestException",
            "Cross-account certificate references are not allowed.",
        );
    client
        .update_domain_name()
        .domain_name("api.example.com")
        .patch_operations(replace(
            "/regionalCertificateArn",
            "arn:aws:acm:us-east-1:000000000000:certificate/gone",
        ))
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "The provided certificate does not exist.",
        );
    let listed = client.get_domain_names().send().await.unwrap();
    assert_eq!(listed.items().len(), 2);
    let updated = client
        .update_domain_name()
        .domain_name("api.example.com")
        .patch_operations(replace("/securityPolicy", "TLS_1_0"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        updated.security_policy().map(|p| p.as_str()),
        Some("TLS_1_0")
    );
    // Tagged by ARN, as the other resources are.
    let arn = created.domain_name_arn().unwrap().to_owned();
    assert_eq!(
        arn,
        "arn:aws:apigateway:us-east-1::/domainnames/api.example.com"
    );
    client
        .tag_resource()
        .resource_arn(&arn)
        .tags("tier", "gold")
        .send()
        .await
        .unwrap();
    let tags = client.get_tags().resource_arn(&arn).send().await.unwrap();
    assert_eq!(tags.tags().map(|t| t.len()), Some(2));
    assert_eq!(
        client
            .get_domain_name()
            .domain_name("api.example.com")
            .send()
            .await
            .unwrap()
            .tags()
            .and_then(|t| t.get("tier"))
            .map(String::as_str),
        Some("gold")
    );

    // Mappings.
    let (api, _, _) = deployable_api(&client).await;
    let deployment = create_deployment(&client, &api).await;
    create_stage(&client, &api, "prod", &deployment).await;
    let root = client
        .create_base_path_mapping()
        .domain_name("api.example.com")
        .rest_api_id(&api)
        .stage("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(root.base_path(), Some("(none)"));
    client
        .create_base_path_mapping()
        .domain_name("api.example.com")
        .base_path("v1")
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    let mapping = |path: &str| {
        client
            .create_base_path_mapping()
            .domain_name("api.example.com")
            .base_path(path)
            .rest_api_id(&api)
            .stage("prod")
    };
    mapping("v1").send().await.expect_error(
        "ConflictException",
        "Base path already exists for this domain name",
    );
    mapping("v1/pets").send().await.expect_error(
        "BadRequestException",
        "API Gateway V1 doesn't support the slash character (/) in base path mappings. To create a multi-level base path mapping, use API Gateway V2.",
    );
    mapping("v3")
        .stage("nope")
        .send()
        .await
        .expect_error("BadRequestException", "Invalid stage identifier specified");
    client
        .create_base_path_mapping()
        .domain_name("api.example.com")
        .base_path("v3")
        .rest_api_id("nope000000")
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid REST API identifier specified",
        );
    let got = client
        .get_base_path_mapping()
        .domain_name("api.example.com")
        .base_path("(none)")
        .send()
        .await
        .unwrap();
    assert_eq!(got.stage(), Some("prod"));
    let moved = client
        .update_base_path_mapping()
        .domain_name("api.example.com")
        .base_path("v1")
        .patch_operations(replace("/basePath", "v2"))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.base_path(), Some("v2"));
    client
        .get_base_path_mapping()
        .domain_name("api.example.com")
        .base_path("v1")
        .send()
        .await
        .expect_error(
            "NotFoundException",
            "Invalid base path mapping identifier specified",
        );
    let mappings = client
        .get_base_path_mappings()
        .domain_name("api.example.com")
        .send()
        .await
        .unwrap();
    let paths: Vec<&str> = mappings
        .items()
        .iter()
        .filter_map(|m| m.base_path())
        .collect();
    assert_eq!(paths, ["(none)", "v2"]);

    // An API or stage that mappings name cannot be deleted.
    client
        .delete_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Deleting stage prod failed. Please remove all base path mappings related to the stage in your domains: api.example.com",
        );
    client
        .delete_rest_api()
        .rest_api_id(&api)
        .send()
        .await
        .expect_error(
            "BadRequestException",
            &format!("Deleting RestApi {api} failed. Please remove all base path mappings related to the RestApi in your domains: api.example.com"),
        );

    // Kept across a restart; a domain goes with its mappings.
    let mut server = server;
    server.restart().await;
    let client = server.client();
    assert_eq!(
        client
            .get_base_path_mappings()
            .domain_name("api.example.com")
            .send()
            .await
            .unwrap()
            .items()
            .len(),
        2
    );
    client
        .delete_domain_name()
        .domain_name("api.example.com")
        .send()
        .await
        .unwrap();
    client
        .get_base_path_mappings()
        .domain_name("api.example.com")
        .send()
        .await
        .expect_code("NotFoundException");
    client
        .delete_rest_api()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_custom_domain_routes_by_host_and_base_path() {
    let server = TestServer::start().await;
    let cert = imported_certificate(&server, &["*.example.com"]).await;
    let client = server.client();
    let (a, a_root) = create_api(&client, "a").await;
    let a_pets = create_resource(&client, &a, &a_root, "pets").await;
    mock_route(&client, &a, &a_pets, "GET", "a-pets").await;
    deploy(&client, &a, "prod").await;
    let (b, b_root) = create_api(&client, "b").await;
    let b_pets = create_resource(&client, &b, &b_root, "pets").await;
    mock_route(&client, &b, &b_pets, "GET", "b-pets").await;
    deploy(&client, &b, "prod").await;

    create_regional_domain(&client, "api.example.com", &cert).await;
    // The root goes to a's prod; /v2/{stage}/... to b.
    client
        .create_base_path_mapping()
        .domain_name("api.example.com")
        .rest_api_id(&a)
        .stage("prod")
        .send()
        .await
        .unwrap();
    client
        .create_base_path_mapping()
        .domain_name("api.example.com")
        .base_path("v2")
        .rest_api_id(&b)
        .send()
        .await
        .unwrap();
    create_regional_domain(&client, "other.example.com", &cert).await;
    client
        .create_base_path_mapping()
        .domain_name("other.example.com")
        .base_path("b")
        .rest_api_id(&b)
        .stage("prod")
        .send()
        .await
        .unwrap();

    let domain = for_host(&server, "api.example.com");
    let raw = domain.until("GET", "/pets", |raw| raw.status == 200).await;
    assert_eq!(route_of(&raw), "a-pets");
    assert_eq!(route_of(&domain.get("/v2/prod/pets").await), "b-pets");
    // A mapping matched, and the API has no such stage or resource: Missing Authentication
    // Token; a domain none of whose mappings matches: Forbidden.
    assert_missing_token(&domain.get("/v2/nope/pets").await);
    assert_missing_token(&domain.get("/cats").await);
    let other = for_host(&server, "other.example.com");
    assert_eq!(
        route_of(&other.until("GET", "/b/pets", |raw| raw.status == 200).await),
        "b-pets"
    );
    assert_gateway_error(
        &other.get("/pets").await,
        403,
        "ForbiddenException",
        FORBIDDEN,
    );

    // With the execute-api endpoint disabled, only the custom domain serves the API.
    client
        .update_rest_api()
        .rest_api_id(&a)
        .patch_operations(replace("/disableExecuteApiEndpoint", "true"))
        .send()
        .await
        .unwrap();
    deploy(&client, &a, "prod").await;
    let direct = Invoke::new(&server, &a);
    let raw = direct
        .until("GET", "/prod/pets", |raw| raw.status == 403)
        .await;
    assert_gateway_error(&raw, 403, "ForbiddenException", FORBIDDEN);
    assert_eq!(route_of(&domain.get("/pets").await), "a-pets");
}
