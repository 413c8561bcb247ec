//! `AWS_IAM` authorization: the caller is the identity whose SigV4 signature the request
//! carries (signed here by the AWS SDK for Rust's own signer, for `execute-api`), checked
//! against the server's credentials; resource policies can name those identities.

use std::time::SystemTime;

use aws_credential_types::Credentials;

use super::*;
use crate::sigv4::server_with_credentials;

const ALICE: Keys<'static> = ("AKIDALICE", "alice-secret", None);
pub(super) const OPS: Keys<'static> = ("ASIAOPS", "ops-secret", Some("ops-session-token"));
const BOB: Keys<'static> = ("AKIDBOB", "bob-secret", None);

fn alice_client(server: &TestServer) -> Client {
    server.client_as(Credentials::new(
        "AKIDALICE",
        "alice-secret",
        None,
        None,
        "test",
    ))
}

/// The identity as a MOCK's response template sees it.
const WHO_TEMPLATE: &str = r#"{"caller": "$context.identity.caller", "user": "$context.identity.user", "userArn": "$context.identity.userArn", "accessKey": "$context.identity.accessKey", "accountId": "$context.identity.accountId"}"#;

/// `/who` (ANY, AWS_IAM, MOCK answering with the caller), `/open` (GET, no authorization)
/// and `/echo/{proxy+}` (ANY, AWS_IAM, HTTP_PROXY to `backend`), deployed to `prod`.
async fn iam_api(client: &Client, backend: &Backend, policy: Option<&str>) -> String {
    let mut create = client.create_rest_api().name("iam");
    if let Some(policy) = policy {
        create = create.policy(policy);
    }
    let created = create.send().await.unwrap();
    let api = created.id().unwrap().to_owned();
    let root = created.root_resource_id().unwrap().to_owned();
    let who = create_resource(client, &api, &root, "who").await;
    client
        .put_method()
        .rest_api_id(&api)
        .resource_id(&who)
        .http_method("ANY")
        .authorization_type("AWS_IAM")
        .send()
        .await
        .unwrap();
    method_response(client, &api, &who, "ANY", "200").await;
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&who)
        .http_method("ANY")
        .r#type(IntegrationType::Mock)
        .request_templates("application/json", r#"{"statusCode": 200}"#)
        .send()
        .await
        .unwrap();
    client
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&who)
        .http_method("ANY")
        .status_code("200")
        .response_templates("application/json", WHO_TEMPLATE)
        .send()
        .await
        .unwrap();
    let open = create_resource(client, &api, &root, "open").await;
    mock_route(client, &api, &open, "GET", "open").await;
    let echo = create_resource(client, &api, &root, "echo").await;
    let proxy = create_resource(client, &api, &echo, "{proxy+}").await;
    proxy_route(
        client,
        &api,
        &proxy,
        "ANY",
        &format!("{}/{{proxy}}", backend.base()),
        &["proxy"],
    )
    .await;
    client
        .update_method()
        .rest_api_id(&api)
        .resource_id(&proxy)
        .http_method("ANY")
        .patch_operations(replace("/authorizationType", "AWS_IAM"))
        .send()
        .await
        .unwrap();
    deploy(client, &api, "prod").await;
    api
}

/// Sends `method url` with `body`, signed with `keys` for `service` at `at`.
async fn signed(
    invoke: &Invoke,
    (method, url, body): (&str, &str, &str),
    keys: Keys<'_>,
    (service, at, presign): (&str, SystemTime, bool),
) -> Raw {
    let content_type = [("content-type", "application/json")];
    let headers: &[(&str, &str)] = if body.is_empty() { &[] } else { &content_type };
    let (url, added) = sigv4(
        (method, url, headers, body.as_bytes()),
        keys,
        service,
        at,
        presign,
    );
    let mut request = invoke.request_url(method, &url);
    for (name, value) in headers.iter().copied() {
        request = request.header(name, value);
    }
    for (name, value) in added {
        request = request.header(name, value);
    }
    if !body.is_empty() {
        request = request.body(body.to_owned());
    }
    invoke.send(request).await
}

pub(super) async fn now_signed(
    invoke: &Invoke,
    method: &str,
    url: &str,
    body: &str,
    keys: Keys<'_>,
) -> Raw {
    signed(
        invoke,
        (method, url, body),
        keys,
        ("execute-api", SystemTime::now(), false),
    )
    .await
}

#[tokio::test]
async fn aws_iam_methods_let_in_the_identities_that_signed() {
    let server = server_with_credentials().await;
    let client = alice_client(&server);
    let backend = Backend::echo().await;
    let api = iam_api(&client, &backend, None).await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/open").await;

    // Signed by Alice, by Host or by the /restapis path, in the header or presigned.
    let url = invoke.url("/prod/who?q=a%20b&r=1");
    let raw = now_signed(&invoke, "POST", &url, r#"{"pet":"rex"}"#, ALICE).await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    let who = raw.json();
    assert!(who["caller"].as_str().unwrap().starts_with("AIDA"), "{who}");
    assert_eq!(who["user"], who["caller"]);
    assert_eq!(who["userArn"], "arn:aws:iam::000000000000:user/alice");
    assert_eq!(who["accessKey"], "AKIDALICE");
    assert_eq!(who["accountId"], ACCOUNT);
    let path_url = invoke.path_url("prod", "/who");
    assert_eq!(
        now_signed(&invoke, "GET", &path_url, "", ALICE)
            .await
            .status,
        200
    );
    let presigned = signed(
        &invoke,
        ("GET", &invoke.url("/prod/who"), ""),
        ALICE,
        ("execute-api", SystemTime::now(), true),
    )
    .await;
    assert_eq!(presigned.status, 200, "{}", presigned.text());
    // A role's session, with its token.
    let raw = now_signed(&invoke, "GET", &url, "", OPS).await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    let who = raw.json();
    assert_eq!(
        who["userArn"],
        "arn:aws:sts::000000000000:assumed-role/Ops/night-shift"
    );
    assert!(who["caller"].as_str().unwrap().starts_with("AROA"), "{who}");
    assert!(
        who["caller"].as_str().unwrap().ends_with(":night-shift"),
        "{who}"
    );

    // The backend of an HTTP_PROXY gets the body and the x-amz-* headers, not the signature.
    let raw = now_signed(
        &invoke,
        "PUT",
        &invoke.url("/prod/echo/items/7"),
        r#"{"n":7}"#,
        ALICE,
    )
    .await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    let seen = backend.last();
    assert_eq!(seen.path(), "/items/7");
    assert_eq!(seen.body, br#"{"n":7}"#);
    assert!(seen.header("authorization").is_none());
    assert!(seen.header("x-amz-date").is_some());

    // A method without authorization needs no signature.
    assert_eq!(invoke.get("/prod/open").await.status, 200);
}

#[tokio::test]
async fn aws_iam_methods_refuse_what_aws_refuses() {
    let server = server_with_credentials().await;
    let client = alice_client(&server);
    let backend = Backend::echo().await;
    let api = iam_api(&client, &backend, None).await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/open").await;
    let url = invoke.url("/prod/who");

    assert_missing_token(&invoke.get("/prod/who").await);

    let wrong = now_signed(&invoke, "GET", &url, "", ("AKIDALICE", "guess", None)).await;
    assert_eq!(wrong.status, 403);
    assert_eq!(
        wrong.error_type().as_deref(),
        Some("InvalidSignatureException")
    );
    let message = wrong.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with(
            "The request signature we calculated does not match the signature you provided."
        ),
        "{message}"
    );
    assert!(
        message.contains(
            "\n\nThe Canonical String for this request should have been\n'GET\n/prod/who\n\n"
        ),
        "{message}"
    );
    assert!(
        message.contains("\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n"),
        "{message}"
    );

    // A body other than the one signed.
    let (signed_url, added) = sigv4(
        ("POST", &url, &[], b"{\"a\":1}"),
        ALICE,
        "execute-api",
        SystemTime::now(),
        false,
    );
    let mut request = invoke.request_url("POST", &signed_url).body("{\"a\":2}");
    for (name, value) in added {
        request = request.header(name, value);
    }
    let tampered = invoke.send(request).await;
    assert_eq!(tampered.status, 403);
    assert_eq!(
        tampered.error_type().as_deref(),
        Some("InvalidSignatureException")
    );

    let unknown = now_signed(&invoke, "GET", &url, "", ("AKIDNOBODY", "x", None)).await;
    assert_gateway_error(
        &unknown,
        403,
        "AccessDeniedException",
        r#"{"message":"The security token included in the request is invalid."}"#,
    );

    let bearer = invoke
        .send(
            invoke
                .request("GET", "/prod/who")
                .header("authorization", "Bearer abc"),
        )
        .await;
    assert_eq!(bearer.status, 403);
    assert_eq!(
        bearer.error_type().as_deref(),
        Some("IncompleteSignatureException")
    );

    let scoped = signed(
        &invoke,
        ("GET", &url, ""),
        ALICE,
        ("apigateway", SystemTime::now(), false),
    )
    .await;
    assert_gateway_error(
        &scoped,
        403,
        "InvalidSignatureException",
        r#"{"message":"Credential should be scoped to correct service: 'execute-api'. "}"#,
    );

    // Signed six minutes ago: expired. EXPIRED_TOKEN customises that answer.
    let stale = || {
        signed(
            &invoke,
            ("GET", &url, ""),
            ALICE,
            (
                "execute-api",
                SystemTime::now() - Duration::from_secs(360),
                false,
            ),
        )
    };
    let expired = stale().await;
    assert_eq!(expired.status, 403);
    assert_eq!(
        expired.error_type().as_deref(),
        Some("InvalidSignatureException")
    );
    let message = expired.json()["message"].as_str().unwrap().to_owned();
    assert!(message.starts_with("Signature expired: "), "{message}");
    assert!(message.ends_with(" - 5 min.)"), "{message}");
    client
        .put_gateway_response()
        .rest_api_id(&api)
        .response_type(aws_sdk_apigateway::types::GatewayResponseType::ExpiredToken)
        .status_code("401")
        .response_templates("application/json", r#"{"error": "sign again"}"#)
        .send()
        .await
        .unwrap();
    deploy(&client, &api, "prod").await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut customised = stale().await;
    while customised.status != 401 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        customised = stale().await;
    }
    assert_eq!(customised.status, 401);
    assert_eq!(customised.text(), r#"{"error": "sign again"}"#);

    // An identity of another account needs a resource policy that lets it in.
    let bob = now_signed(&invoke, "GET", &url, "", BOB).await;
    assert_gateway_error(
        &bob,
        403,
        "AccessDeniedException",
        &format!(
            r#"{{"Message":"User: arn:aws:iam::111122223333:user/bob is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:{REGION}:********0000:{api}/prod/GET/who because no resource-based policy allows the execute-api:Invoke action"}}"#
        ),
    );
}

#[tokio::test]
async fn resource_policies_name_the_identities_that_signed() {
    let server = server_with_credentials().await;
    let client = alice_client(&server);
    let backend = Backend::echo().await;
    // Bob's account may invoke /who; Alice is denied it; everyone may GET /open.
    let policy = r#"{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
         "Action": "execute-api:Invoke", "Resource": "execute-api:/prod/*/who"},
        {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::000000000000:user/alice"},
         "Action": "execute-api:Invoke", "Resource": "execute-api:/prod/*/who"},
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
         "Resource": "execute-api:/prod/GET/open"}]}"#;
    let api = iam_api(&client, &backend, Some(policy)).await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/open").await;
    let url = invoke.url("/prod/who");

    let bob = now_signed(&invoke, "GET", &url, "", BOB).await;
    assert_eq!(bob.status, 200, "{}", bob.text());
    assert_eq!(bob.json()["accountId"], "111122223333");
    let alice = now_signed(&invoke, "GET", &url, "", ALICE).await;
    assert_gateway_error(
        &alice,
        403,
        "AccessDeniedException",
        &format!(
            r#"{{"Message":"User: arn:aws:iam::000000000000:user/alice is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:{REGION}:********0000:{api}/prod/GET/who with an explicit deny in a resource-based policy"}}"#
        ),
    );
    // The role session of Alice's account is not named: its identity policy lets it in.
    assert_eq!(now_signed(&invoke, "GET", &url, "", OPS).await.status, 200);
    assert_eq!(invoke.get("/prod/open").await.status, 200);
}

#[tokio::test]
async fn without_credentials_aws_iam_methods_let_no_one_in() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::echo().await;
    let api = iam_api(&client, &backend, None).await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/open").await;
    let raw = now_signed(&invoke, "GET", &invoke.url("/prod/who"), "", ALICE).await;
    assert_gateway_error(
        &raw,
        403,
        "AccessDeniedException",
        r#"{"message":"The security token included in the request is invalid."}"#,
    );
    assert_missing_token(&invoke.get("/prod/who").await);
}
