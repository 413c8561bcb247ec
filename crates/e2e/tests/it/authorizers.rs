//! Authorizers through the management API: CreateAuthorizer, GetAuthorizer(s),
//! UpdateAuthorizer, DeleteAuthorizer, FlushStageAuthorizersCache, and the methods that name
//! them. What they do to invokes is in `gateway/authorizers.rs`.

use aws_sdk_apigateway::types::AuthorizerType;

use crate::harness::*;

pub const FUNCTION: &str = "arn:aws:lambda:us-east-1:000000000000:function:auth";

pub fn function_uri(function: &str) -> String {
    format!("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{function}/invocations")
}

pub const POOL: &str = "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_Pool1";

#[tokio::test]
async fn authorizers_are_created_read_listed_updated_and_deleted() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "guarded").await;

    let token = client
        .create_authorizer()
        .rest_api_id(&api)
        .name("tokens")
        .r#type(AuthorizerType::Token)
        .authorizer_uri(function_uri(FUNCTION))
        .identity_source("method.request.header.Authorization")
        .identity_validation_expression("^Bearer .+$")
        .send()
        .await
        .unwrap();
    let token_id = token.id().unwrap().to_owned();
    // Six characters, as AWS's authorizer ids (`z40xj0`).
    assert_eq!(token_id.len(), 6, "{token_id}");
    assert!(
        token_id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
        "{token_id}"
    );
    assert_eq!(token.name(), Some("tokens"));
    assert_eq!(token.r#type(), Some(&AuthorizerType::Token));
    // AWS fills in authType, and leaves an unset time to live out (it caches for 300 s).
    assert_eq!(token.auth_type(), Some("custom"));
    assert_eq!(token.authorizer_result_ttl_in_seconds(), None);
    assert_eq!(
        token.identity_source(),
        Some("method.request.header.Authorization")
    );

    let request = client
        .create_authorizer()
        .rest_api_id(&api)
        .name("requests")
        .r#type(AuthorizerType::Request)
        .authorizer_uri(function_uri(FUNCTION))
        .identity_source("method.request.header.X-User, method.request.querystring.team")
        .authorizer_result_ttl_in_seconds(60)
        .send()
        .await
        .unwrap();
    assert_eq!(request.authorizer_result_ttl_in_seconds(), Some(60));
    let pools = client
        .create_authorizer()
        .rest_api_id(&api)
        .name("pools")
        .r#type(AuthorizerType::CognitoUserPools)
        .provider_arns(POOL)
        .identity_source("method.request.header.Authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(pools.auth_type(), Some("cognito_user_pools"));
    assert_eq!(pools.provider_arns(), [POOL]);
    let pools_id = pools.id().unwrap().to_owned();

    // The raw body names the pools `providerARNs`, as the AWS model does.
    let raw = server
        .raw(
            "GET",
            &format!("/restapis/{api}/authorizers/{pools_id}"),
            None,
        )
        .await;
    assert_eq!(raw.status, 200);
    assert_eq!(raw.json()["providerARNs"][0], POOL, "{}", raw.text());

    let got = client
        .get_authorizer()
        .rest_api_id(&api)
        .authorizer_id(&token_id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.identity_validation_expression(), Some("^Bearer .+$"));
    assert_eq!(got.authorizer_uri(), Some(function_uri(FUNCTION).as_str()));

    // Listed in pages.
    let first = client
        .get_authorizers()
        .rest_api_id(&api)
        .limit(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.items().len(), 2);
    let rest = client
        .get_authorizers()
        .rest_api_id(&api)
        .limit(2)
        .position(first.position().expect("a second page"))
        .send()
        .await
        .unwrap();
    assert_eq!(rest.items().len(), 1);
    assert_eq!(rest.position(), None);
    let mut names: Vec<&str> = first
        .items()
        .iter()
        .chain(rest.items())
        .filter_map(|a| a.name())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["pools", "requests", "tokens"]);

    // Updates: settings replaced, pools added and removed (as Terraform sends them).
    let updated = client
        .update_authorizer()
        .rest_api_id(&api)
        .authorizer_id(&token_id)
        .patch_operations(replace("/name", "bearer-tokens"))
        .patch_operations(replace("/authorizerResultTtlInSeconds", "120"))
        .patch_operations(replace("/identityValidationExpression", ""))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.name(), Some("bearer-tokens"));
    assert_eq!(updated.authorizer_result_ttl_in_seconds(), Some(120));
    assert_eq!(updated.identity_validation_expression(), None);
    let second_pool = POOL.replace("Pool1", "Pool2");
    let updated = client
        .update_authorizer()
        .rest_api_id(&api)
        .authorizer_id(&pools_id)
        .patch_operations(add("/providerARNs", &second_pool))
        .patch_operations(remove_value("/providerARNs", POOL))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.provider_arns(), [second_pool.as_str()]);

    // What is refused leaves the authorizer as it was.
    client
        .update_authorizer()
        .rest_api_id(&api)
        .authorizer_id(&token_id)
        .patch_operations(replace("/authorizerResultTtlInSeconds", "3601"))
        .send()
        .await
        .expect_code("BadRequestException");
    client
        .update_authorizer()
        .rest_api_id(&api)
        .authorizer_id(&token_id)
        .patch_operations(add("/name", "x"))
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid patch path  '/name' specified for op 'add'. Please choose supported operations",
        );
    client
        .update_authorizer()
        .rest_api_id(&api)
        .authorizer_id(&token_id)
        .patch_operations(replace("/createdDate", "x"))
        .send()
        .await
        .expect_code("BadRequestException");
    let kept = client
        .get_authorizer()
        .rest_api_id(&api)
        .authorizer_id(&token_id)
        .send()
        .await
        .unwrap();
    assert_eq!(kept.authorizer_result_ttl_in_seconds(), Some(120));

    client
        .get_authorizer()
        .rest_api_id(&api)
        .authorizer_id("nope00")
        .send()
        .await
        .expect_error(
            "NotFoundException",
            "Invalid Authorizer identifier specified",
        );
    client
        .delete_authorizer()
        .rest_api_id(&api)
        .authorizer_id(&token_id)
        .send()
        .await
        .unwrap();
    client
        .get_authorizer()
        .rest_api_id(&api)
        .authorizer_id(&token_id)
        .send()
        .await
        .expect_code("NotFoundException");

    // Kept across a restart, and gone with their API.
    let mut server = server;
    server.restart().await;
    let client = server.client();
    let listed = client
        .get_authorizers()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.items().len(), 2);
    client
        .delete_rest_api()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    client
        .get_authorizers()
        .rest_api_id(&api)
        .send()
        .await
        .expect_code("NotFoundException");
}

#[tokio::test]
async fn authorizers_are_checked_as_aws_checks_them() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "guarded").await;
    let create = |kind: AuthorizerType| {
        client
            .create_authorizer()
            .rest_api_id(&api)
            .name("a")
            .r#type(kind)
    };

    create(AuthorizerType::Token)
        .authorizer_uri(function_uri(FUNCTION))
        .identity_source("method.request.querystring.token")
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid token source expression: method.request.querystring.token. The source must be a method request header, matching 'method.request.header.[a-zA-Z0-9._-]+'.",
        );
    create(AuthorizerType::Token)
        .authorizer_uri("arn:aws:lambda:us-east-1:000000000000:function:auth")
        .identity_source("method.request.header.Authorization")
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid Authorizer URI: arn:aws:lambda:us-east-1:000000000000:function:auth. Authorizer URI should be a valid API Gateway ARN that represents a Lambda function invocation.",
        );
    create(AuthorizerType::Request)
        .authorizer_uri(function_uri(FUNCTION))
        .identity_source("method.request.body.user")
        .send()
        .await
        .expect_code("BadRequestException");
    // A REQUEST authorizer that caches needs identity sources; one that does not, need not.
    create(AuthorizerType::Request)
        .authorizer_uri(function_uri(FUNCTION))
        .send()
        .await
        .expect_code("BadRequestException");
    create(AuthorizerType::Request)
        .authorizer_uri(function_uri(FUNCTION))
        .authorizer_result_ttl_in_seconds(0)
        .send()
        .await
        .unwrap();
    create(AuthorizerType::CognitoUserPools)
        .identity_source("method.request.header.Authorization")
        .send()
        .await
        .expect_code("BadRequestException");
    create(AuthorizerType::Token)
        .authorizer_uri(function_uri(FUNCTION))
        .identity_source("method.request.header.Authorization")
        .authorizer_result_ttl_in_seconds(-1)
        .send()
        .await
        .expect_code("BadRequestException");
    // AWS answers a create on an API that does not exist with a conflict.
    client
        .create_authorizer()
        .rest_api_id("nope000000")
        .name("a")
        .r#type(AuthorizerType::Token)
        .authorizer_uri(function_uri(FUNCTION))
        .identity_source("method.request.header.Authorization")
        .send()
        .await
        .expect_error(
            "ConflictException",
            "Unable to complete operation due to concurrent modification. Please try again later.",
        );
    let raw = server
        .raw(
            "POST",
            &format!("/restapis/{api}/authorizers"),
            Some(r#"{"name":"a","type":"JWT","authorizerUri":"x"}"#),
        )
        .await;
    assert_eq!(raw.status, 400, "{}", raw.text());
}

#[tokio::test]
async fn methods_name_authorizers_that_exist_and_keep_them() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "guarded").await;
    let pets = create_resource(&client, &api, &root, "pets").await;
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
    const INVALID: &str = "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.";
    for id in [None, Some("nope00")] {
        client
            .put_method()
            .rest_api_id(&api)
            .resource_id(&pets)
            .http_method("GET")
            .authorization_type("CUSTOM")
            .set_authorizer_id(id.map(str::to_owned))
            .send()
            .await
            .expect_error("BadRequestException", INVALID);
    }
    client
        .put_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .authorization_type("CUSTOM")
        .authorizer_id(&authorizer)
        .send()
        .await
        .unwrap();
    // Switching the method to NONE drops the id (AWS answers without it).
    let updated = client
        .update_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .patch_operations(replace("/authorizationType", "NONE"))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.authorizer_id(), None);
    let updated = client
        .update_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .patch_operations(replace("/authorizerId", &authorizer))
        .patch_operations(replace("/authorizationType", "CUSTOM"))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.authorizer_id(), Some(authorizer.as_str()));

    // An authorizer a method names cannot be deleted; its type cannot change under it.
    client
        .delete_authorizer()
        .rest_api_id(&api)
        .authorizer_id(&authorizer)
        .send()
        .await
        .expect_error(
            "ConflictException",
            "Cannot delete authorizer 'tokens', is referenced in method: GET//pets",
        );
    client
        .update_authorizer()
        .rest_api_id(&api)
        .authorizer_id(&authorizer)
        .patch_operations(replace("/type", "COGNITO_USER_POOLS"))
        .patch_operations(add("/providerARNs", POOL))
        .send()
        .await
        .expect_code("ConflictException");

    // A clone keeps the authorizers its methods name.
    let clone = client
        .create_rest_api()
        .name("clone")
        .clone_from(&api)
        .send()
        .await
        .unwrap();
    let cloned = client
        .get_authorizers()
        .rest_api_id(clone.id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(cloned.items().len(), 1);
    assert_eq!(cloned.items()[0].id(), Some(authorizer.as_str()));

    // Deployed, then the stage's authorizer cache can be flushed.
    put_mock_integration(&client, &api, &pets, "GET").await;
    let deployment = create_deployment(&client, &api).await;
    create_stage(&client, &api, "prod", &deployment).await;
    client
        .flush_stage_authorizers_cache()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    client
        .flush_stage_authorizers_cache()
        .rest_api_id(&api)
        .stage_name("nope")
        .send()
        .await
        .expect_code("NotFoundException");

    client
        .delete_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    client
        .delete_authorizer()
        .rest_api_id(&api)
        .authorizer_id(&authorizer)
        .send()
        .await
        .unwrap();
}
