//! OpenAPI import and export (ImportRestApi, PutRestApi, GetExport) through the unmodified
//! clients: import realistic documents, deploy, invoke through the gateway, export as JSON and
//! YAML, import the export again and compare; merge versus overwrite; warnings and
//! `failonwarnings`; malformed and oversized documents; a private integration through a VPC
//! link chosen by stage variables; and one round trip with the aws CLI.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::primitives::Blob;
use aws_sdk_apigateway::types::{PutMode, VpcLinkStatus};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::harness::*;

// ---------------------------------------------------------------------------------------------
// Documents

/// A pet store in OpenAPI 3 YAML: a MOCK home page, HTTP_PROXY routes to a backend (one with
/// a path parameter mapped through a `$ref`'d integration, one greedy), an API key on POST,
/// a customised gateway response and binary media types. `BACKEND` stands for the backend's
/// base URL.
const PET_STORE: &str = r#"openapi: 3.0.1
info:
  title: PetStore
  description: Pets with mock and proxy integrations
  version: "2024-05-01"
servers:
  - url: https://petstore.example.com/{basePath}
    variables:
      basePath:
        default: v1
x-amazon-apigateway-binary-media-types:
  - image/png
x-amazon-apigateway-gateway-responses:
  MISSING_AUTHENTICATION_TOKEN:
    statusCode: 404
    responseTemplates:
      application/json: '{"message": "no such route"}'
components:
  securitySchemes:
    api_key:
      type: apiKey
      name: x-api-key
      in: header
  parameters:
    PetId:
      name: petId
      in: path
      required: true
      schema:
        type: string
  x-amazon-apigateway-integrations:
    pet:
      type: http_proxy
      httpMethod: GET
      uri: BACKEND/pets/{id}
      requestParameters:
        integration.request.path.id: method.request.path.petId
paths:
  /:
    get:
      responses:
        200:
          description: the home page
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates:
          application/json: '{"statusCode": 200}'
        responses:
          default:
            statusCode: 200
            responseTemplates:
              application/json: '{"welcome": "pet store"}'
  /pets:
    get:
      operationId: ListPets
      parameters:
        - name: type
          in: query
          schema:
            type: string
      responses:
        200:
          description: pets
      x-amazon-apigateway-integration:
        type: http_proxy
        httpMethod: GET
        uri: BACKEND/pets
    post:
      security:
        - api_key: []
      responses:
        201:
          description: created
      x-amazon-apigateway-integration:
        type: http_proxy
        httpMethod: POST
        uri: BACKEND/pets
  /pets/{petId}:
    get:
      parameters:
        - $ref: '#/components/parameters/PetId'
      responses:
        200:
          description: a pet
      x-amazon-apigateway-integration:
        $ref: '#/components/x-amazon-apigateway-integrations/pet'
  /store/{proxy+}:
    x-amazon-apigateway-any-method:
      parameters:
        - name: proxy
          in: path
          required: true
          schema:
            type: string
      x-amazon-apigateway-integration:
        type: http_proxy
        httpMethod: ANY
        uri: BACKEND/store/{proxy}
        requestParameters:
          integration.request.path.proxy: method.request.path.proxy
"#;

/// A private API in Swagger 2.0 JSON: everything goes through a VPC link whose id and load
/// balancer come from stage variables.
const PRIVATE_API: &str = r#"{
  "swagger": "2.0",
  "info": {"title": "Orders (private)", "version": "1"},
  "paths": {
    "/{proxy+}": {
      "x-amazon-apigateway-any-method": {
        "parameters": [{"name": "proxy", "in": "path", "required": true, "type": "string"}],
        "x-amazon-apigateway-integration": {
          "type": "http_proxy",
          "httpMethod": "ANY",
          "connectionType": "VPC_LINK",
          "connectionId": "${stageVariables.VPCLINK}",
          "uri": "http://${stageVariables.VPCNLB}/{proxy}",
          "requestParameters": {"integration.request.path.proxy": "method.request.path.proxy"},
          "passthroughBehavior": "when_no_match",
          "timeoutInMillis": 10000
        }
      }
    }
  }
}"#;

/// A document with one MOCK method per `(path, verb, tag)`; the MOCK answers `{"tag": tag}`.
fn mock_document(title: &str, version: &str, routes: &[(&str, &str, &str)]) -> String {
    let mut paths = serde_json::Map::new();
    for (path, verb, tag) in routes {
        let item = paths.entry((*path).to_owned()).or_insert_with(|| json!({}));
        item[*verb] = json!({
            "responses": {"200": {"description": "ok"}},
            "x-amazon-apigateway-integration": {
                "type": "mock",
                "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
                "responses": {"default": {
                    "statusCode": "200",
                    "responseTemplates": {"application/json": format!("{{\"tag\": \"{tag}\"}}")}
                }}
            }
        });
    }
    json!({
        "swagger": "2.0",
        "info": {"title": title, "version": version},
        "paths": paths,
    })
    .to_string()
}

// ---------------------------------------------------------------------------------------------
// Helpers

async fn import(
    client: &Client,
    document: &str,
) -> aws_sdk_apigateway::operation::import_rest_api::ImportRestApiOutput {
    client
        .import_rest_api()
        .body(Blob::new(document.as_bytes().to_vec()))
        .fail_on_warnings(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ImportRestApi: {e:?}"))
}

async fn deploy(client: &Client, api: &str, variables: &[(&str, &str)]) {
    let mut request = client
        .create_deployment()
        .rest_api_id(api)
        .stage_name("prod");
    for (name, value) in variables {
        request = request.variables(*name, *value);
    }
    request
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateDeployment: {e:?}"));
}

/// Every resource of an API by path, with its methods as GetResources(embed=methods) shows
/// them, minus what differs between two copies of one API (ids, cache namespaces).
async fn shape(server: &TestServer, api: &str) -> BTreeMap<String, Value> {
    let raw = server
        .get(&format!(
            "/restapis/{api}/resources?embed=methods&limit=500"
        ))
        .await;
    raw.assert_status(200);
    let mut out = BTreeMap::new();
    for item in raw.json()["item"].as_array().cloned().unwrap_or_default() {
        let mut methods = item.get("resourceMethods").cloned().unwrap_or(json!({}));
        forget_cache_namespaces(&mut methods);
        out.insert(item["path"].as_str().unwrap().to_owned(), methods);
    }
    out
}

fn forget_cache_namespaces(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("cacheNamespace");
            map.values_mut().for_each(forget_cache_namespaces);
        }
        Value::Array(items) => items.iter_mut().for_each(forget_cache_namespaces),
        _ => {}
    }
}

/// Resource ids by path.
async fn ids(server: &TestServer, api: &str) -> BTreeMap<String, String> {
    let raw = server
        .get(&format!("/restapis/{api}/resources?limit=500"))
        .await;
    raw.json()["item"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap().to_owned(),
                r["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Calls the gateway with the API's invoke host.
struct Invoke {
    http: reqwest::Client,
    base: String,
}

impl Invoke {
    fn new(server: &TestServer, api: &str) -> Invoke {
        let host = format!("{api}.execute-api.localhost");
        let gateway = server.gateway_addr();
        Invoke {
            http: reqwest::Client::builder()
                .no_proxy()
                .resolve(&host, gateway)
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            base: format!("http://{host}:{}", gateway.port()),
        }
    }

    async fn call(&self, method: &str, path: &str) -> Raw {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = self
            .http
            .request(method, format!("{}{path}", self.base))
            .send()
            .await
            .expect("invoke");
        Raw {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.bytes().await.unwrap().to_vec(),
        }
    }

    /// Calls until the answer is no longer the unknown-route or unknown-API one (a
    /// deployment reaches the gateway a moment after CreateDeployment answers).
    async fn ready(&self, method: &str, path: &str) -> Raw {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let raw = self.call(method, path).await;
            let waiting = matches!(
                raw.error_type().as_deref(),
                Some("MissingAuthenticationTokenException" | "ForbiddenException")
            );
            if !waiting || Instant::now() >= deadline {
                return raw;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A raw GET of an export with an `Accept` header.
async fn export_raw(server: &TestServer, api: &str, kind: &str, accept: &str) -> Raw {
    let response = reqwest::Client::new()
        .get(server.url(&format!(
            "/restapis/{api}/stages/prod/exports/{kind}?extensions=integrations"
        )))
        .header("accept", accept)
        .send()
        .await
        .unwrap();
    Raw {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.bytes().await.unwrap().to_vec(),
    }
}

/// A raw request with any body and query.
async fn send_raw(server: &TestServer, method: &str, path: &str, body: Vec<u8>) -> Raw {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let response = reqwest::Client::new()
        .request(method, server.url(path))
        .header("accept", "application/json")
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap();
    Raw {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.bytes().await.unwrap().to_vec(),
    }
}

async fn api_count(client: &Client) -> usize {
    client
        .get_rest_apis()
        .limit(500)
        .send()
        .await
        .unwrap()
        .items()
        .len()
}

// ---------------------------------------------------------------------------------------------
// A backend that answers every request with what it received.

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    host: Option<String>,
}

struct Backend {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl Backend {
    async fn start() -> Backend {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let accept = tokio::spawn({
            let seen = seen.clone();
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(serve(stream, seen.clone()));
                }
            }
        });
        Backend { addr, seen, accept }
    }

    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn last(&self) -> Seen {
        self.seen
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("the backend received no request")
    }
}

/// HTTP/1.1 with keep-alive: reads a request (a `Content-Length` or chunked body), answers
/// `{"method", "target"}` as JSON.
async fn serve(mut stream: TcpStream, seen: Arc<Mutex<Vec<Seen>>>) {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let Some(head_end) = read_until(&mut stream, &mut buf, b"\r\n\r\n").await else {
            return;
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        buf.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let mut request_line = lines.next().unwrap_or_default().split(' ');
        let method = request_line.next().unwrap_or_default().to_owned();
        let target = request_line.next().unwrap_or_default().to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            loop {
                let Some(end) = read_until(&mut stream, &mut buf, b"\r\n").await else {
                    return;
                };
                let size = usize::from_str_radix(
                    String::from_utf8_lossy(&buf[..end])
                        .split(';')
                        .next()
                        .unwrap_or("0")
                        .trim(),
                    16,
                )
                .unwrap_or(0);
                buf.drain(..end + 2);
                if !fill(&mut stream, &mut buf, size + 2).await {
                    return;
                }
                buf.drain(..size + 2);
                if size == 0 {
                    break;
                }
            }
        } else {
            let length = header("content-length")
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if !fill(&mut stream, &mut buf, length).await {
                return;
            }
            buf.drain(..length);
        }
        seen.lock().unwrap().push(Seen {
            method: method.clone(),
            target: target.clone(),
            host: header("host"),
        });
        let body = json!({"method": method, "target": target}).to_string();
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if stream.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

async fn read_until<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    needle: &[u8],
) -> Option<usize> {
    loop {
        if let Some(at) = buf.windows(needle.len()).position(|w| w == needle) {
            return Some(at);
        }
        match stream.read_buf(buf).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

async fn fill<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut Vec<u8>, len: usize) -> bool {
    while buf.len() < len {
        match stream.read_buf(buf).await {
            Ok(0) | Err(_) => return false,
            Ok(_) => {}
        }
    }
    true
}

// ---------------------------------------------------------------------------------------------
// Tests

/// The pet store: import, check the tree, deploy, invoke every kind of route, export as JSON
/// (SDK) and YAML (raw, by `Accept`), import both exports again and compare.
#[tokio::test]
async fn pet_store_imports_deploys_invokes_exports_and_imports_again() {
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::start().await;
    let document = PET_STORE.replace("BACKEND", &backend.base());

    let imported = import(&client, &document).await;
    let api = imported.id().unwrap().to_owned();
    assert_aws_id(&api);
    assert_eq!(imported.name(), Some("PetStore"));
    assert_eq!(
        imported.description(),
        Some("Pets with mock and proxy integrations")
    );
    assert_eq!(imported.version(), Some("2024-05-01"));
    assert_eq!(imported.binary_media_types(), ["image/png"]);
    assert!(imported.warnings().is_empty(), "{:?}", imported.warnings());
    assert!(imported.root_resource_id().is_some());

    let tree = shape(&server, &api).await;
    assert_eq!(
        tree.keys().map(String::as_str).collect::<Vec<_>>(),
        ["/", "/pets", "/pets/{petId}", "/store", "/store/{proxy+}"]
    );
    let get_pet = &tree["/pets/{petId}"]["GET"];
    assert_eq!(
        get_pet["requestParameters"]["method.request.path.petId"],
        true
    );
    assert_eq!(get_pet["methodIntegration"]["type"], "HTTP_PROXY");
    assert_eq!(get_pet["methodIntegration"]["connectionType"], "INTERNET");
    assert_eq!(
        get_pet["methodIntegration"]["requestParameters"]["integration.request.path.id"],
        "method.request.path.petId"
    );
    assert_eq!(tree["/pets"]["POST"]["apiKeyRequired"], true);
    assert_eq!(tree["/pets"]["GET"]["operationName"], "ListPets");
    assert_eq!(tree["/"]["GET"]["methodIntegration"]["type"], "MOCK");
    assert_eq!(tree["/store/{proxy+}"]["ANY"]["httpMethod"], "ANY");
    let missing = client
        .get_gateway_response()
        .rest_api_id(&api)
        .response_type(aws_sdk_apigateway::types::GatewayResponseType::MissingAuthenticationToken)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status_code(), Some("404"));
    assert!(!missing.default_response());

    deploy(&client, &api, &[]).await;
    let invoke = Invoke::new(&server, &api);
    let home = invoke.ready("GET", "/prod/").await;
    assert_eq!(home.status, 200, "{}", home.text());
    assert_eq!(home.json(), json!({"welcome": "pet store"}));
    let pets = invoke.call("GET", "/prod/pets?type=dog").await;
    assert_eq!(pets.status, 200, "{}", pets.text());
    assert_eq!(backend.last().target, "/pets?type=dog");
    let pet = invoke.call("GET", "/prod/pets/42").await;
    assert_eq!(pet.status, 200, "{}", pet.text());
    assert_eq!(backend.last().target, "/pets/42");
    let order = invoke.call("DELETE", "/prod/store/orders/7").await;
    assert_eq!(order.status, 200, "{}", order.text());
    let seen = backend.last();
    assert_eq!(
        (seen.method.as_str(), seen.target.as_str()),
        ("DELETE", "/store/orders/7")
    );
    let keyless = invoke.call("POST", "/prod/pets").await;
    assert_eq!(
        keyless.status,
        403,
        "POST /pets needs an API key: {}",
        keyless.text()
    );
    let unknown = invoke.call("GET", "/prod/nothing/here").await;
    assert_eq!(unknown.status, 404, "the customised gateway response");
    assert_eq!(unknown.text(), r#"{"message": "no such route"}"#);

    // JSON through the SDK (which always asks for application/json).
    let swagger = client
        .get_export()
        .rest_api_id(&api)
        .stage_name("prod")
        .export_type("swagger")
        .parameters("extensions", "integrations")
        .send()
        .await
        .unwrap();
    assert_eq!(swagger.content_type(), Some("application/json"));
    let disposition = swagger.content_disposition().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"swagger_")
            && disposition.ends_with("Z.json\""),
        "{disposition}"
    );
    let swagger = swagger.body().unwrap().as_ref().to_vec();
    let swagger_json: Value = serde_json::from_slice(&swagger).unwrap();
    assert_eq!(swagger_json["swagger"], "2.0");
    assert_eq!(swagger_json["basePath"], "/prod");
    assert_eq!(swagger_json["info"]["title"], "PetStore");
    assert_eq!(
        swagger_json["paths"]["/pets/{petId}"]["get"]["x-amazon-apigateway-integration"]["type"],
        "http_proxy"
    );

    // YAML by Accept, as the aws CLI's --accepts sends it.
    let yaml = export_raw(&server, &api, "oas30", "application/yaml").await;
    yaml.assert_status(200);
    assert_eq!(
        yaml.header("content-type").as_deref(),
        Some("application/yaml")
    );
    assert!(
        yaml.header("content-disposition").is_some_and(|d| d
            .starts_with("attachment; filename=\"oas30_")
            && d.ends_with(".yaml\"")),
        "{:?}",
        yaml.headers
    );
    assert!(
        yaml.text().starts_with("---\nopenapi: \"3.0.1\"\n"),
        "{}",
        yaml.text()
    );

    let original = shape(&server, &api).await;
    for (what, exported) in [("swagger JSON", swagger), ("oas30 YAML", yaml.body.clone())] {
        let again = client
            .import_rest_api()
            .body(Blob::new(exported.clone()))
            .fail_on_warnings(true)
            .send()
            .await
            .unwrap_or_else(|e| panic!("re-import of the {what} export: {e:?}"));
        assert_eq!(again.name(), Some("PetStore"));
        assert_eq!(again.version(), Some("2024-05-01"));
        assert_eq!(again.binary_media_types(), ["image/png"], "{what}");
        let copy = again.id().unwrap();
        assert_ne!(copy, api);
        assert_eq!(shape(&server, copy).await, original, "{what} round trip");
        let responses = client
            .get_gateway_response()
            .rest_api_id(copy)
            .response_type(
                aws_sdk_apigateway::types::GatewayResponseType::MissingAuthenticationToken,
            )
            .send()
            .await
            .unwrap();
        assert_eq!(responses.status_code(), Some("404"), "{what}");
    }
}

/// GetExport serves the stage's deployment, not the API as it is being edited.
#[tokio::test]
async fn export_reflects_the_deployed_snapshot() {
    let server = TestServer::start().await;
    let client = server.client();
    let first = mock_document("Snap", "1", &[("/a", "get", "a")]);
    let api = import(&client, &first).await.id().unwrap().to_owned();
    deploy(&client, &api, &[]).await;

    let second = mock_document("Snap", "2", &[("/b", "get", "b")]);
    client
        .put_rest_api()
        .rest_api_id(&api)
        .mode(PutMode::Merge)
        .body(Blob::new(second.into_bytes()))
        .send()
        .await
        .unwrap();
    let exported = export_raw(&server, &api, "swagger", "application/json").await;
    exported.assert_status(200);
    let doc = exported.json();
    assert!(doc["paths"].get("/a").is_some());
    assert!(doc["paths"].get("/b").is_none(), "not deployed yet: {doc}");
    assert_eq!(doc["info"]["version"], "1");

    deploy(&client, &api, &[]).await;
    let doc = export_raw(&server, &api, "swagger", "application/json")
        .await
        .json();
    assert!(
        doc["paths"].get("/a").is_some() && doc["paths"].get("/b").is_some(),
        "{doc}"
    );
    assert_eq!(doc["info"]["version"], "2");

    let bad = export_raw(&server, &api, "sdk", "application/json").await;
    bad.assert_error(400, "BadRequestException");
    let none = server
        .get(&format!("/restapis/{api}/stages/nope/exports/oas30"))
        .await;
    assert_eq!(
        none.assert_error(404, "NotFoundException"),
        "Invalid stage identifier specified"
    );
}

/// Merge keeps what the document does not name and replaces the methods it does; overwrite
/// makes the API exactly the document. Both keep resource ids where paths stay, and keep the
/// API's name and stages.
#[tokio::test]
async fn merge_and_overwrite() {
    let server = TestServer::start().await;
    let client = server.client();
    let first = mock_document(
        "Catalogue",
        "1",
        &[("/a", "get", "a1"), ("/b", "get", "b1")],
    );
    let api = import(&client, &first).await.id().unwrap().to_owned();
    deploy(&client, &api, &[]).await;
    let before = ids(&server, &api).await;

    let merged = mock_document(
        "Renamed in the document",
        "2",
        &[
            ("/b", "get", "b2"),
            ("/b", "post", "b-post"),
            ("/c/d", "get", "d"),
        ],
    );
    let reply = client
        .put_rest_api()
        .rest_api_id(&api)
        .mode(PutMode::Merge)
        .body(Blob::new(merged.into_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.name(), Some("Catalogue"), "PutRestApi keeps the name");
    assert_eq!(reply.version(), Some("2"));
    let tree = shape(&server, &api).await;
    assert_eq!(
        tree.keys().map(String::as_str).collect::<Vec<_>>(),
        ["/", "/a", "/b", "/c", "/c/d"]
    );
    let template = |tree: &BTreeMap<String, Value>, path: &str, verb: &str| {
        tree[path][verb]["methodIntegration"]["integrationResponses"]["200"]["responseTemplates"]
            ["application/json"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(template(&tree, "/a", "GET"), r#"{"tag": "a1"}"#, "kept");
    assert_eq!(template(&tree, "/b", "GET"), r#"{"tag": "b2"}"#, "replaced");
    assert_eq!(
        template(&tree, "/b", "POST"),
        r#"{"tag": "b-post"}"#,
        "added"
    );
    let after_merge = ids(&server, &api).await;
    assert_eq!(after_merge["/a"], before["/a"]);
    assert_eq!(after_merge["/b"], before["/b"]);
    assert_eq!(after_merge["/"], before["/"]);

    let overwrite = mock_document("Whatever", "3", &[("/c/d", "put", "d-put")]);
    let reply = client
        .put_rest_api()
        .rest_api_id(&api)
        .mode(PutMode::Overwrite)
        .body(Blob::new(overwrite.into_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.name(), Some("Catalogue"));
    assert_eq!(reply.version(), Some("3"));
    let tree = shape(&server, &api).await;
    assert_eq!(
        tree.keys().map(String::as_str).collect::<Vec<_>>(),
        ["/", "/c", "/c/d"]
    );
    assert_eq!(
        tree["/c/d"].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["PUT"],
        "the GET the document does not name is gone"
    );
    let after_overwrite = ids(&server, &api).await;
    assert_eq!(after_overwrite["/"], before["/"]);
    assert_eq!(after_overwrite["/c/d"], after_merge["/c/d"]);
    // The stage stays, still serving its deployment.
    let stage = client
        .get_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    assert!(stage.deployment_id().is_some());

    // A merge that would give /c a second variable child is refused whole.
    let conflicting = mock_document("x", "4", &[("/c/{id}", "get", "i"), ("/e", "get", "e")]);
    client
        .put_rest_api()
        .rest_api_id(&api)
        .mode(PutMode::Merge)
        .body(Blob::new(
            mock_document("x", "4", &[("/c/{name}", "get", "n")]).into_bytes(),
        ))
        .send()
        .await
        .unwrap();
    let message = client
        .put_rest_api()
        .rest_api_id(&api)
        .mode(PutMode::Merge)
        .body(Blob::new(conflicting.into_bytes()))
        .send()
        .await
        .expect_code("BadRequestException");
    assert!(
        message.contains("Unable to create resource at path '/c/{id}': A sibling ({name}) of this resource already has a variable path part -- only one is allowed"),
        "{message}"
    );
    assert!(
        !shape(&server, &api).await.contains_key("/e"),
        "nothing of a refused merge lands"
    );

    // The `basepath` parameter reaches the importer the way the SDK encodes `parameters`.
    let prefixed = client
        .import_rest_api()
        .parameters("basepath", "prepend")
        .body(Blob::new(
            r#"{"swagger":"2.0","info":{"title":"b"},"basePath":"/v1","paths":{"/x":{"get":{}}}}"#,
        ))
        .send()
        .await
        .unwrap();
    let tree = shape(&server, prefixed.id().unwrap()).await;
    assert!(tree.contains_key("/v1/x"), "{tree:?}");
    let regional = client
        .import_rest_api()
        .parameters("endpointConfigurationTypes", "REGIONAL")
        .body(Blob::new(
            r#"{"swagger":"2.0","info":{"title":"r"},"paths":{}}"#,
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        regional.endpoint_configuration().unwrap().types(),
        [aws_sdk_apigateway::types::EndpointType::Regional]
    );
    let mode = send_raw(
        &server,
        "PUT",
        &format!("/restapis/{api}?mode=replace"),
        b"{}".to_vec(),
    )
    .await;
    mode.assert_error(400, "ValidationException");
}

/// What Causeway does not do comes back as warnings; with failonwarnings the import is
/// refused and nothing is created.
#[tokio::test]
async fn warnings_and_failonwarnings() {
    let server = TestServer::start().await;
    let client = server.client();
    let document = r#"{
      "swagger": "2.0",
      "info": {"title": "Warned"},
      "x-amazon-apigateway-request-validators": {"all": {"validateRequestBody": true}},
      "paths": {"/a": {"get": {
        "x-amazon-apigateway-integration": {"type": "mock"},
        "x-amazon-apigateway-brand-new": {}
      }}}
    }"#;
    let before = api_count(&client).await;
    let message = client
        .import_rest_api()
        .fail_on_warnings(true)
        .body(Blob::new(document))
        .send()
        .await
        .expect_code("BadRequestException");
    assert!(
        message.starts_with("Warnings found during import:\n\t"),
        "{message}"
    );
    assert!(
        message.contains("Unsupported extension x-amazon-apigateway-brand-new at paths.'/a'.get.x-amazon-apigateway-brand-new was ignored"),
        "{message}"
    );
    assert_eq!(
        api_count(&client).await,
        before,
        "a refused import creates nothing"
    );

    let imported = client
        .import_rest_api()
        .body(Blob::new(document))
        .send()
        .await
        .unwrap();
    assert_eq!(imported.warnings().len(), 1, "{:?}", imported.warnings());
    assert_eq!(api_count(&client).await, before + 1);
    // GetRestApi does not repeat an import's warnings.
    let raw = server
        .get(&format!("/restapis/{}", imported.id().unwrap()))
        .await;
    assert!(raw.json().get("warnings").is_none());
}

/// Bad documents are 400 BadRequestException with a message that says where, and leave
/// nothing behind.
#[tokio::test]
async fn malformed_and_oversized_documents_are_refused_with_the_place() {
    let server = TestServer::start().await;
    let client = server.client();
    let before = api_count(&client).await;
    let refuse = |body: Vec<u8>| {
        let server = &server;
        async move {
            let raw = send_raw(server, "POST", "/restapis?mode=import", body).await;
            raw.assert_error(400, "BadRequestException")
        }
    };
    let yaml = refuse(b"openapi: 3.0.0\ninfo:\n  title: [oops\npaths: {}\n".to_vec()).await;
    assert!(
        yaml.contains("not valid YAML") && yaml.contains("line"),
        "{yaml}"
    );
    let json = refuse(b"{\"swagger\": \"2.0\", \"info\": {\"title\": }}".to_vec()).await;
    assert!(
        json.contains("not valid JSON") && json.contains("line 1"),
        "{json}"
    );
    let cycle = refuse(
        br##"{"swagger":"2.0","info":{"title":"c"},"parameters":{"A":{"$ref":"#/parameters/B"},"B":{"$ref":"#/parameters/A"}},"paths":{"/x":{"get":{"parameters":[{"$ref":"#/parameters/A"}]}}}}"##.to_vec(),
    )
    .await;
    assert!(
        cycle.contains("$ref cycle at paths.'/x'.get.parameters[0]: #/parameters/A -> #/parameters/B -> #/parameters/A"),
        "{cycle}"
    );
    let template = refuse(
        br#"{"swagger":"2.0","info":{"title":"t"},"paths":{"/pets/v{id}":{"get":{}}}}"#.to_vec(),
    )
    .await;
    assert!(
        template.contains("Unable to create resource at path '/pets/v{id}'")
            && template.contains("(at paths.'/pets/v{id}')"),
        "{template}"
    );
    let integration = refuse(
        br#"{"swagger":"2.0","info":{"title":"t"},"paths":{"/":{"get":{"x-amazon-apigateway-integration":{"type":"http","httpMethod":"GET","uri":"nowhere"}}}}}"#.to_vec(),
    )
    .await;
    assert_eq!(
        integration,
        "Errors found during import:\n\tUnable to put integration on 'GET' for resource at path '/': Invalid HTTP endpoint specified for URI (at paths.'/'.get.x-amazon-apigateway-integration)"
    );
    let untitled = refuse(br#"{"swagger":"2.0","info":{},"paths":{}}"#.to_vec()).await;
    assert!(untitled.contains("info.title"), "{untitled}");

    // Over AWS's 6 MB, under the 10 MiB the HTTP edge takes.
    let mut big = b"swagger: '2.0'\ninfo: {title: big}\nx-padding: '".to_vec();
    big.resize(7 * 1024 * 1024, b'a');
    big.extend_from_slice(b"'\n");
    let oversized = refuse(big).await;
    assert!(
        oversized.contains("the largest accepted is 6 MB"),
        "{oversized}"
    );

    assert_eq!(api_count(&client).await, before);
}

/// A private integration: the document names the VPC link and the load balancer through
/// stage variables; the stage fills them in, and the call reaches a backend behind the NLB.
/// The export keeps the variables and imports again.
#[tokio::test]
async fn private_integration_through_a_vpc_link_from_stage_variables() {
    use aws_sdk_elasticloadbalancingv2::types::{
        Action, ActionTypeEnum, LoadBalancerSchemeEnum, LoadBalancerTypeEnum, ProtocolEnum,
        TargetDescription, TargetTypeEnum,
    };
    let server = TestServer::start().await;
    let client = server.client();
    let backend = Backend::start().await;

    let elb = server.elbv2_client();
    let lb = elb
        .create_load_balancer()
        .name("orders-nlb")
        .r#type(LoadBalancerTypeEnum::Network)
        .scheme(LoadBalancerSchemeEnum::Internal)
        .subnets("subnet-0aaa")
        .send()
        .await
        .unwrap()
        .load_balancers()
        .first()
        .cloned()
        .unwrap();
    let port = i32::from(backend.addr.port());
    let group = elb
        .create_target_group()
        .name("orders")
        .protocol(ProtocolEnum::Tcp)
        .port(port)
        .vpc_id("vpc-0123456789abcdef0")
        .target_type(TargetTypeEnum::Ip)
        .send()
        .await
        .unwrap()
        .target_groups()
        .first()
        .and_then(|g| g.target_group_arn())
        .unwrap()
        .to_owned();
    elb.register_targets()
        .target_group_arn(&group)
        .targets(
            TargetDescription::builder()
                .id("127.0.0.1")
                .port(port)
                .build(),
        )
        .send()
        .await
        .unwrap();
    elb.create_listener()
        .load_balancer_arn(lb.load_balancer_arn().unwrap())
        .protocol(ProtocolEnum::Tcp)
        .port(8080)
        .default_actions(
            Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .target_group_arn(&group)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let link = client
        .create_vpc_link()
        .name("orders")
        .target_arns(lb.load_balancer_arn().unwrap())
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = client
            .get_vpc_link()
            .vpc_link_id(&link)
            .send()
            .await
            .unwrap();
        if status.status() != Some(&VpcLinkStatus::Pending) || Instant::now() > deadline {
            assert_eq!(status.status(), Some(&VpcLinkStatus::Available));
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let api = import(&client, PRIVATE_API).await.id().unwrap().to_owned();
    let nlb_host = format!("{}:8080", lb.dns_name().unwrap());
    deploy(&client, &api, &[("VPCLINK", &link), ("VPCNLB", &nlb_host)]).await;
    let invoke = Invoke::new(&server, &api);
    let raw = invoke.ready("GET", "/prod/orders/42?expand=items").await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    let seen = backend.last();
    assert_eq!(seen.target, "/orders/42?expand=items");
    assert_eq!(seen.host.as_deref(), Some(nlb_host.as_str()));

    let exported = export_raw(&server, &api, "oas30", "application/json").await;
    exported.assert_status(200);
    let integration = &exported.json()["paths"]["/{proxy+}"]["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"];
    assert_eq!(integration["connectionType"], "VPC_LINK");
    assert_eq!(integration["connectionId"], "${stageVariables.VPCLINK}");
    assert_eq!(
        integration["uri"],
        "http://${stageVariables.VPCNLB}/{proxy}"
    );
    let copy = import(&client, &exported.text()).await;
    assert_eq!(
        shape(&server, copy.id().unwrap()).await,
        shape(&server, &api).await
    );

    // A literal link id must exist.
    let unknown = PRIVATE_API.replace("${stageVariables.VPCLINK}", "nosuchlnk");
    let message = client
        .import_rest_api()
        .body(Blob::new(unknown.into_bytes()))
        .send()
        .await
        .expect_code("BadRequestException");
    assert!(
        message.contains("Invalid connection id specified: VPC link 'nosuchlnk' does not exist (at paths.'/{proxy+}'.x-amazon-apigateway-any-method.x-amazon-apigateway-integration.connectionId)"),
        "{message}"
    );

    // A VPC link V2 needs the integration's target, named by `integrationTarget`.
    let created = server
        .post(
            "/v2/vpclinks",
            r#"{"name": "orders-v2", "subnetIds": ["subnet-0aaa"]}"#,
        )
        .await;
    created.assert_status(201);
    let v2 = created.json()["vpcLinkId"].as_str().unwrap().to_owned();
    let untargeted = PRIVATE_API.replace("${stageVariables.VPCLINK}", &v2);
    let message = client
        .import_rest_api()
        .body(Blob::new(untargeted.clone().into_bytes()))
        .send()
        .await
        .expect_code("BadRequestException");
    assert!(
        message.contains(&format!("IntegrationTarget is required for VpcLinkV2 {v2}. (at paths.'/{{proxy+}}'.x-amazon-apigateway-any-method.x-amazon-apigateway-integration.integrationTarget)")),
        "{message}"
    );
    let targeted = untargeted.replace(
        "\"connectionType\": \"VPC_LINK\"",
        &format!(
            "\"connectionType\": \"VPC_LINK\", \"integrationTarget\": \"{}\"",
            lb.load_balancer_arn().unwrap()
        ),
    );
    assert_ne!(
        targeted, untargeted,
        "the fixture names its connection type"
    );
    let imported = import(&client, &targeted).await;
    let imported = imported.id().unwrap();
    deploy(&client, imported, &[("VPCNLB", &nlb_host)]).await;
    let exported = export_raw(&server, imported, "oas30", "application/json").await;
    exported.assert_status(200);
    let integration = &exported.json()["paths"]["/{proxy+}"]["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"];
    assert_eq!(
        integration["integrationTarget"].as_str(),
        lb.load_balancer_arn()
    );
    assert_eq!(integration["connectionId"].as_str(), Some(v2.as_str()));
    // And it serves, through the V2 link to the same load balancer, once the link is ready.
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.get(&format!("/v2/vpclinks/{v2}")).await.json()["vpcLinkStatus"] != "AVAILABLE" {
        assert!(
            Instant::now() < deadline,
            "the VPC link V2 never became AVAILABLE"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let raw = Invoke::new(&server, imported)
        .ready("GET", "/prod/orders/7")
        .await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    assert_eq!(backend.last().target, "/orders/7");
}

/// The aws CLI: `import-rest-api --body fileb://…`, `get-export` to a YAML file with
/// `--accepts`, and `put-rest-api --mode overwrite` with that file.
#[tokio::test]
async fn aws_cli_import_export_round_trip() {
    use crate::python_clients::aws_json;
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("api.yaml");
    std::fs::write(
        &source,
        PET_STORE.replace("BACKEND", "http://backend.example.com"),
    )
    .unwrap();
    let body = format!("fileb://{}", source.display());

    let imported = aws_json(
        &server,
        &["import-rest-api", "--fail-on-warnings", "--body", &body],
    )
    .await;
    let api = imported["id"].as_str().unwrap().to_owned();
    assert_eq!(imported["name"], "PetStore");
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

    let exported = dir.path().join("export.yaml");
    let answer = aws_json(
        &server,
        &[
            "get-export",
            "--rest-api-id",
            &api,
            "--stage-name",
            "prod",
            "--export-type",
            "oas30",
            "--parameters",
            "extensions=integrations",
            "--accepts",
            "application/yaml",
            exported.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(answer["contentType"], "application/yaml");
    assert!(
        answer["contentDisposition"]
            .as_str()
            .is_some_and(|d| d.starts_with("attachment; filename=\"oas30_")),
        "{answer}"
    );
    let text = std::fs::read_to_string(&exported).unwrap();
    assert!(text.starts_with("---\nopenapi: \"3.0.1\"\n"), "{text}");

    let before = shape(&server, &api).await;
    let put = aws_json(
        &server,
        &[
            "put-rest-api",
            "--rest-api-id",
            &api,
            "--mode",
            "overwrite",
            "--fail-on-warnings",
            "--body",
            &format!("fileb://{}", exported.display()),
        ],
    )
    .await;
    assert_eq!(put["id"], api.as_str());
    assert_eq!(
        shape(&server, &api).await,
        before,
        "the export overwrites to the same API"
    );

    let swagger = dir.path().join("export.json");
    aws_json(
        &server,
        &[
            "get-export",
            "--rest-api-id",
            &api,
            "--stage-name",
            "prod",
            "--export-type",
            "swagger",
            swagger.to_str().unwrap(),
        ],
    )
    .await;
    let doc: Value = serde_json::from_slice(&std::fs::read(&swagger).unwrap()).unwrap();
    assert_eq!(doc["swagger"], "2.0");
    server.stop().await;
}

#[tokio::test]
async fn authorizers_are_imported_named_by_their_methods_and_exported() {
    let server = TestServer::start().await;
    let client = server.client();
    let uri = crate::authorizers::function_uri(crate::authorizers::FUNCTION);
    let document = |ttl: u32| {
        json!({
            "openapi": "3.0.1",
            "info": {"title": "Guarded", "version": "1"},
            "x-amazon-apigateway-api-key-source": "AUTHORIZER",
            "components": {"securitySchemes": {
                "tokens": {"type": "apiKey", "name": "Authorization", "in": "header",
                           "x-amazon-apigateway-authtype": "custom",
                           "x-amazon-apigateway-authorizer": {"type": "token", "authorizerUri": uri,
                                                              "authorizerResultTtlInSeconds": ttl}},
                "pool": {"type": "apiKey", "name": "Authorization", "in": "header",
                         "x-amazon-apigateway-authtype": "cognito_user_pools",
                         "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools",
                                                            "providerARNs": [crate::authorizers::POOL]}}
            }},
            "paths": {
                "/pets": {"get": {
                    "security": [{"tokens": []}],
                    "responses": {"200": {"description": "ok"}},
                    "x-amazon-apigateway-integration": {"type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}}
                }},
                "/admin": {"get": {
                    "security": [{"pool": ["pets/admin"]}],
                    "responses": {"200": {"description": "ok"}},
                    "x-amazon-apigateway-integration": {"type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}}
                }}
            }
        })
        .to_string()
    };
    let api = import(&client, &document(60)).await;
    let api = api.id().unwrap().to_owned();
    let listed = client
        .get_authorizers()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    let id_of = |name: &str| {
        listed
            .items()
            .iter()
            .find(|a| a.name() == Some(name))
            .and_then(|a| a.id())
            .unwrap_or_else(|| panic!("no authorizer {name}"))
            .to_owned()
    };
    let tokens = id_of("tokens");
    let pool = id_of("pool");
    let resources = client
        .get_resources()
        .rest_api_id(&api)
        .embed("methods")
        .send()
        .await
        .unwrap();
    let method_of = |path: &str| {
        resources
            .items()
            .iter()
            .find(|r| r.path() == Some(path))
            .and_then(|r| r.resource_methods())
            .and_then(|m| m.get("GET"))
            .cloned()
            .unwrap_or_else(|| panic!("no GET {path}"))
    };
    let pets = method_of("/pets");
    assert_eq!(pets.authorization_type(), Some("CUSTOM"));
    assert_eq!(pets.authorizer_id(), Some(tokens.as_str()));
    let admin = method_of("/admin");
    assert_eq!(admin.authorization_type(), Some("COGNITO_USER_POOLS"));
    assert_eq!(admin.authorizer_id(), Some(pool.as_str()));
    assert_eq!(admin.authorization_scopes(), ["pets/admin"]);

    // Overwriting with the document again updates the authorizers in place (ids kept).
    client
        .put_rest_api()
        .rest_api_id(&api)
        .mode(PutMode::Overwrite)
        .body(Blob::new(document(120).into_bytes()))
        .send()
        .await
        .unwrap();
    let tokens_now = client
        .get_authorizer()
        .rest_api_id(&api)
        .authorizer_id(&tokens)
        .send()
        .await
        .unwrap();
    assert_eq!(tokens_now.authorizer_result_ttl_in_seconds(), Some(120));

    // Exported with their settings when asked for authorizers.
    client
        .create_deployment()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    let exported = client
        .get_export()
        .rest_api_id(&api)
        .stage_name("prod")
        .export_type("oas30")
        .parameters("extensions", "authorizers")
        .send()
        .await
        .unwrap();
    let exported: Value = serde_json::from_slice(exported.body().unwrap().as_ref()).unwrap();
    let schemes = &exported["components"]["securitySchemes"];
    assert_eq!(
        schemes["tokens"]["x-amazon-apigateway-authorizer"]["authorizerUri"],
        uri.as_str()
    );
    assert_eq!(
        schemes["pool"]["x-amazon-apigateway-authorizer"]["providerARNs"][0],
        crate::authorizers::POOL
    );
    assert_eq!(
        exported["paths"]["/admin"]["get"]["security"][0]["pool"][0],
        "pets/admin"
    );
}
