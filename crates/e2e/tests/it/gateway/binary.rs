//! Binary payloads of non-proxy integrations: the API's binary media types, the client's
//! `Content-Type` and first `Accept` type, and `contentHandling` on the integration and the
//! integration response, converting as AWS's content type conversion tables say.

use aws_sdk_apigateway::types::ContentHandlingStrategy;
use base64::Engine as _;

use super::*;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The backend: `/image` answers PNG bytes as `image/png`, `/encoded` the same bytes as
/// base64 text, `/broken` text that is not base64; anything else echoes the request body
/// as `application/octet-stream`.
fn backend(seen: &Seen) -> Reply {
    match seen.path() {
        "/image" => Reply::new(200)
            .header("Content-Type", "image/png")
            .body(PNG),
        "/encoded" => Reply::new(200)
            .header("Content-Type", "text/plain")
            .body(b64(PNG)),
        "/broken" => Reply::new(200)
            .header("Content-Type", "text/plain")
            .body("not base64!"),
        _ => Reply::new(200)
            .header("Content-Type", "application/octet-stream")
            .body(seen.body.clone()),
    }
}

/// `POST|GET /{name}`: an HTTP integration to `backend`/{name} with these content
/// handlings on the integration and its default response, and a response template.
async fn route(
    client: &Client,
    (api, root): (&str, &str),
    name: &str,
    (request, response): (
        Option<ContentHandlingStrategy>,
        Option<ContentHandlingStrategy>,
    ),
    backend: &Backend,
) {
    let resource = create_resource(client, api, root, name).await;
    put_method(client, api, &resource, "ANY").await;
    client
        .put_integration()
        .rest_api_id(api)
        .resource_id(&resource)
        .http_method("ANY")
        .r#type(IntegrationType::Http)
        .integration_http_method("POST")
        .uri(format!("{}/{name}", backend.base()))
        .set_content_handling(request)
        .request_templates("application/json", r#"{"wrapped": "$input.body"}"#)
        .send()
        .await
        .unwrap();
    method_response(client, api, &resource, "ANY", "200").await;
    client
        .put_integration_response()
        .rest_api_id(api)
        .resource_id(&resource)
        .http_method("ANY")
        .status_code("200")
        .set_content_handling(response)
        .response_templates("application/json", r#"{"text": "$input.body"}"#)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn binary_payloads_convert_as_aws_tables_say() {
    let service = Backend::start(backend).await;
    let server = TestServer::start().await;
    let client = server.client();
    let created = client
        .create_rest_api()
        .name("binary")
        .binary_media_types("image/png")
        .binary_media_types("application/octet-stream")
        .send()
        .await
        .unwrap();
    let api = created.id().unwrap().to_owned();
    let root = created.root_resource_id().unwrap().to_owned();
    let at = (api.as_str(), root.as_str());
    route(&client, at, "image", (None, None), &service).await;
    route(
        &client,
        at,
        "totext",
        (Some(ContentHandlingStrategy::ConvertToText), None),
        &service,
    )
    .await;
    route(
        &client,
        at,
        "tobinary",
        (Some(ContentHandlingStrategy::ConvertToBinary), None),
        &service,
    )
    .await;
    route(&client, at, "encoded", (None, None), &service).await;
    route(&client, at, "broken", (None, None), &service).await;
    let image_as_text = create_resource(&client, &api, &root, "astext").await;
    put_method(&client, &api, &image_as_text, "GET").await;
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&image_as_text)
        .http_method("GET")
        .r#type(IntegrationType::Http)
        .integration_http_method("GET")
        .uri(format!("{}/image", service.base()))
        .send()
        .await
        .unwrap();
    method_response(&client, &api, &image_as_text, "GET", "200").await;
    client
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&image_as_text)
        .http_method("GET")
        .status_code("200")
        .content_handling(ContentHandlingStrategy::ConvertToText)
        .send()
        .await
        .unwrap();
    deploy(&client, &api, "prod").await;
    let invoke = Invoke::new(&server, &api);
    invoke.ready("/prod/image").await;
    let call = |path: &str, accept: &str| {
        invoke
            .request("GET", path)
            .header("accept", accept.to_owned())
    };

    // A binary answer to a client that accepts it goes as it is, past the template.
    let raw = invoke.send(call("/prod/image", "image/png")).await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    assert_eq!(raw.body, PNG);
    // To a client that takes text it is base64 text, through the template.
    let raw = invoke.send(call("/prod/image", "application/json")).await;
    assert_eq!(raw.json(), json!({"text": b64(PNG)}));
    // CONVERT_TO_TEXT on the response: base64 even for a client that takes the binary.
    let raw = invoke.send(call("/prod/astext", "image/png")).await;
    assert_eq!(raw.text(), b64(PNG));
    // A text answer to a client that accepts a binary type is base64-decoded.
    let raw = invoke.send(call("/prod/encoded", "image/png")).await;
    assert_eq!(raw.body, PNG);
    let raw = invoke.send(call("/prod/encoded", "application/json")).await;
    assert_eq!(raw.json(), json!({"text": b64(PNG)}));
    // Text that is not base64 cannot be: a configuration error.
    let raw = invoke.send(call("/prod/broken", "image/png")).await;
    assert_eq!(raw.status, 500, "{}", raw.text());

    // Requests: a binary upload passes through as it is, templates aside.
    let upload = |path: &str, content_type: &str, body: Vec<u8>| {
        invoke
            .request("POST", path)
            .header("content-type", content_type.to_owned())
            .header("accept", "image/png")
            .body(body)
    };
    let raw = invoke
        .send(upload("/prod/image", "image/png", PNG.to_vec()))
        .await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    assert_eq!(service.last().body, PNG);
    // CONVERT_TO_TEXT: the backend gets base64 text.
    invoke
        .send(upload("/prod/totext", "image/png", PNG.to_vec()))
        .await;
    assert_eq!(service.last().body, b64(PNG).into_bytes());
    // CONVERT_TO_BINARY: base64 text arrives decoded; a body that is not base64 is a 500.
    invoke
        .send(upload(
            "/prod/tobinary",
            "text/plain",
            b64(PNG).into_bytes(),
        ))
        .await;
    assert_eq!(service.last().body, PNG);
    let raw = invoke
        .send(upload("/prod/tobinary", "text/plain", b"%%%".to_vec()))
        .await;
    assert_eq!(raw.status, 500, "{}", raw.text());
    // Text requests still go through the template.
    invoke
        .send(upload(
            "/prod/image",
            "application/json",
            br#"{"a": 1}"#.to_vec(),
        ))
        .await;
    assert_eq!(service.last().body, br#"{"wrapped": "{"a": 1}"}"#.to_vec());
}
