//! GenerateClientCertificate / GetClientCertificate(s) / UpdateClientCertificate /
//! DeleteClientCertificate, tags, and stages naming a certificate.

use aws_sdk_apigateway::Client;

use crate::harness::*;

async fn generate(client: &Client, description: &str) -> String {
    client
        .generate_client_certificate()
        .description(description)
        .send()
        .await
        .unwrap()
        .client_certificate_id()
        .expect("client certificate id")
        .to_owned()
}

#[tokio::test]
async fn generate_returns_a_year_long_self_signed_certificate() {
    let server = TestServer::start().await;
    let client = server.client();
    let out = client
        .generate_client_certificate()
        .description("for the orders backend")
        .tags("team", "payments")
        .send()
        .await
        .unwrap();
    let id = out.client_certificate_id().unwrap();
    assert_eq!(id.len(), 6, "{id}");
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
        "{id}"
    );
    assert_eq!(out.description(), Some("for the orders backend"));
    let pem = out.pem_encoded_certificate().unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\r\n"), "{pem}");
    assert!(pem.ends_with("-----END CERTIFICATE-----"), "{pem}");
    let created = out.created_date().unwrap().secs();
    let expires = out.expiration_date().unwrap().secs();
    assert_eq!(expires - created, 365 * 24 * 3600);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(created.abs_diff(i64::try_from(now).unwrap()) < 60);

    let got = client
        .get_client_certificate()
        .client_certificate_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.pem_encoded_certificate(), Some(pem));
    assert_eq!(got.description(), Some("for the orders backend"));
    assert_eq!(
        got.tags().and_then(|t| t.get("team")).map(String::as_str),
        Some("payments")
    );
}

/// The private key never leaves the server: the wire shapes carry the certificate only.
#[tokio::test]
async fn wire_shapes_carry_no_private_key() {
    let server = TestServer::start().await;
    let raw = server
        .post("/clientcertificates", r#"{"description":"d"}"#)
        .await;
    raw.assert_status(201);
    let body = raw.json();
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "clientCertificateId",
            "createdDate",
            "description",
            "expirationDate",
            "pemEncodedCertificate"
        ]
    );
    assert!(!raw.text().contains("PRIVATE KEY"));
    let id = body["clientCertificateId"].as_str().unwrap();
    for path in [
        format!("/clientcertificates/{id}"),
        "/clientcertificates".to_owned(),
    ] {
        let raw = server.get(&path).await;
        raw.assert_status(200);
        assert!(!raw.text().contains("PRIVATE KEY"), "{}", raw.text());
    }
    assert_eq!(
        server.get("/clientcertificates").await.json()["item"][0]["clientCertificateId"],
        id
    );

    // Unknown fields are refused, as the other operations refuse them.
    server
        .post("/clientcertificates", r#"{"privateKey":"x"}"#)
        .await
        .assert_error(400, "SerializationException");
}

#[tokio::test]
async fn list_pages_through_every_certificate() {
    let server = TestServer::start().await;
    let client = server.client();
    let mut made = Vec::new();
    for n in 0..5 {
        made.push(generate(&client, &format!("c{n}")).await);
    }
    let mut listed = Vec::new();
    let mut position: Option<String> = None;
    loop {
        let page = client
            .get_client_certificates()
            .limit(2)
            .set_position(position.clone())
            .send()
            .await
            .unwrap();
        assert!(page.items().len() <= 2);
        listed.extend(
            page.items()
                .iter()
                .map(|c| c.client_certificate_id().unwrap().to_owned()),
        );
        match page.position() {
            Some(next) => position = Some(next.to_owned()),
            None => break,
        }
    }
    made.sort();
    assert_eq!(listed, made);
}

#[tokio::test]
async fn update_changes_the_description_only() {
    let server = TestServer::start().await;
    let client = server.client();
    let id = generate(&client, "before").await;
    let pem = client
        .get_client_certificate()
        .client_certificate_id(&id)
        .send()
        .await
        .unwrap()
        .pem_encoded_certificate()
        .unwrap()
        .to_owned();
    let updated = client
        .update_client_certificate()
        .client_certificate_id(&id)
        .patch_operations(replace("/description", "after"))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.description(), Some("after"));
    assert_eq!(updated.pem_encoded_certificate(), Some(pem.as_str()));
    let removed = client
        .update_client_certificate()
        .client_certificate_id(&id)
        .patch_operations(remove("/description"))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.description(), None);

    client
        .update_client_certificate()
        .client_certificate_id(&id)
        .patch_operations(replace("/pemEncodedCertificate", "x"))
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid patch path /pemEncodedCertificate",
        );
    client
        .update_client_certificate()
        .client_certificate_id("nosuch")
        .patch_operations(replace("/description", "x"))
        .send()
        .await
        .expect_error(
            "NotFoundException",
            "Invalid Client Certificate identifier specified",
        );
}

#[tokio::test]
async fn unknown_ids_are_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .get_client_certificate()
        .client_certificate_id("nosuch")
        .send()
        .await
        .expect_error(
            "NotFoundException",
            "Invalid Client Certificate identifier specified",
        );
    client
        .delete_client_certificate()
        .client_certificate_id("nosuch")
        .send()
        .await
        .expect_code("NotFoundException");
}

#[tokio::test]
async fn tags_on_the_certificate_arn() {
    let server = TestServer::start().await;
    let client = server.client();
    let id = generate(&client, "tagged").await;
    let arn = format!("arn:aws:apigateway:us-east-1::/clientcertificates/{id}");
    client
        .tag_resource()
        .resource_arn(&arn)
        .tags("env", "prod")
        .send()
        .await
        .unwrap();
    let tags = client.get_tags().resource_arn(&arn).send().await.unwrap();
    assert_eq!(
        tags.tags().and_then(|t| t.get("env")).map(String::as_str),
        Some("prod")
    );
    client
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    let got = client
        .get_client_certificate()
        .client_certificate_id(&id)
        .send()
        .await
        .unwrap();
    assert!(got.tags().is_none_or(|t| t.is_empty()));
}

/// A stage names only a certificate that exists; a certificate a stage names is kept
/// until the stage lets go of it; certificates (their keys included) outlive a restart.
#[tokio::test]
async fn stages_name_existing_certificates_and_keep_them() {
    let mut server = TestServer::start().await;
    let client = server.client();
    let (api, _, _) = deployable_api(&client).await;
    let deployment = create_deployment(&client, &api).await;
    create_stage(&client, &api, "prod", &deployment).await;
    let id = generate(&client, "prod").await;

    client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .patch_operations(replace("/clientCertificateId", "nosuch"))
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Invalid Client Certificate identifier specified",
        );
    let stage = client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .patch_operations(replace("/clientCertificateId", &id))
        .send()
        .await
        .unwrap();
    assert_eq!(stage.client_certificate_id(), Some(id.as_str()));

    let message = client
        .delete_client_certificate()
        .client_certificate_id(&id)
        .send()
        .await
        .expect_code("BadRequestException");
    assert!(message.contains(&format!("[{api}/prod]")), "{message}");

    let pem = client
        .get_client_certificate()
        .client_certificate_id(&id)
        .send()
        .await
        .unwrap()
        .pem_encoded_certificate()
        .unwrap()
        .to_owned();
    server.restart().await;
    let client = server.client();
    let got = client
        .get_client_certificate()
        .client_certificate_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.pem_encoded_certificate(), Some(pem.as_str()));
    let stage = client
        .get_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(stage.client_certificate_id(), Some(id.as_str()));

    client
        .update_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .patch_operations(remove("/clientCertificateId"))
        .send()
        .await
        .unwrap();
    client
        .delete_client_certificate()
        .client_certificate_id(&id)
        .send()
        .await
        .unwrap();
    client
        .get_client_certificate()
        .client_certificate_id(&id)
        .send()
        .await
        .expect_code("NotFoundException");
}
