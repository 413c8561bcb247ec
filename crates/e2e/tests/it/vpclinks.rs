//! CreateVpcLink / GetVpcLink(s) / UpdateVpcLink / DeleteVpcLink.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types::VpcLinkStatus;

use crate::harness::*;

async fn create_link(client: &Client, name: &str) -> String {
    client
        .create_vpc_link()
        .name(name)
        .target_arns(NLB_ARN)
        .send()
        .await
        .unwrap()
        .id()
        .expect("vpc link id")
        .to_owned()
}

/// Polls GetVpcLink until the status leaves PENDING (at most ~5 s).
async fn settled_status(client: &Client, id: &str) -> (VpcLinkStatus, Option<String>) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let link = client.get_vpc_link().vpc_link_id(id).send().await.unwrap();
        let status = link.status().cloned().expect("status");
        if status != VpcLinkStatus::Pending || Instant::now() >= deadline {
            return (status, link.status_message().map(str::to_owned));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn create_vpc_link_is_pending() {
    let server = TestServer::start().await;
    let client = server.client();
    let link = client
        .create_vpc_link()
        .name("link")
        .description("to the nlb")
        .target_arns(NLB_ARN)
        .send()
        .await
        .unwrap();
    assert!(link.id().is_some_and(|id| !id.is_empty()));
    assert_eq!(link.name(), Some("link"));
    assert_eq!(link.description(), Some("to the nlb"));
    assert_eq!(link.target_arns(), [NLB_ARN]);
    assert_eq!(link.status(), Some(&VpcLinkStatus::Pending));
}

#[tokio::test]
async fn create_vpc_link_wire_shape() {
    let server = TestServer::start().await;
    let raw = server
        .post(
            "/vpclinks",
            &format!(r#"{{"name":"link","targetArns":["{NLB_ARN}"]}}"#),
        )
        .await;
    raw.assert_status(202);
    let body = raw.json();
    assert_eq!(body["status"], "PENDING");
    assert_eq!(body["targetArns"], serde_json::json!([NLB_ARN]));
    assert!(body.get("tags").is_none(), "no tags key on create: {body}");
}

#[tokio::test]
async fn vpc_link_without_nlb_ends_failed() {
    let server = TestServer::start().await;
    let client = server.client();
    let id = create_link(&client, "orphan").await;
    let (status, message) = settled_status(&client, &id).await;
    assert_eq!(status, VpcLinkStatus::Failed, "message {message:?}");
    assert!(
        message.as_deref().is_some_and(|m| !m.is_empty()),
        "a FAILED link explains why"
    );
}

#[tokio::test]
async fn create_vpc_link_bad_arn_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let message = client
        .create_vpc_link()
        .name("bad")
        .target_arns("not-an-arn")
        .send()
        .await
        .expect_code("BadRequestException");
    assert!(message.starts_with("Invalid ARN"), "{message}");
    let links = client.get_vpc_links().send().await.unwrap();
    assert!(links.items().is_empty());
}

#[tokio::test]
async fn create_vpc_link_empty_name_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .create_vpc_link()
        .name("")
        .target_arns(NLB_ARN)
        .send()
        .await
        .expect_error("BadRequestException", "Name cannot be empty");
}

#[tokio::test]
async fn get_vpc_link_unknown_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .get_vpc_link()
        .vpc_link_id("nope123456")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid Vpc Link identifier specified");
}

#[tokio::test]
async fn get_vpc_link_shows_empty_tags() {
    let server = TestServer::start().await;
    let client = server.client();
    let id = create_link(&client, "untagged").await;
    let link = client.get_vpc_link().vpc_link_id(&id).send().await.unwrap();
    assert_eq!(link.tags().map(|t| t.len()), Some(0), "tags should be {{}}");
    assert_eq!(link.name(), Some("untagged"));
    assert_eq!(link.target_arns(), [NLB_ARN]);
}

#[tokio::test]
async fn create_vpc_link_with_tags() {
    let server = TestServer::start().await;
    let client = server.client();
    let created = client
        .create_vpc_link()
        .name("tagged")
        .target_arns(NLB_ARN)
        .tags("team", "net")
        .send()
        .await
        .unwrap();
    let link = client
        .get_vpc_link()
        .vpc_link_id(created.id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        link.tags().unwrap().get("team").map(String::as_str),
        Some("net")
    );
}

#[tokio::test]
async fn get_vpc_links_paginated() {
    let server = TestServer::start().await;
    let client = server.client();
    let mut expected = HashSet::new();
    for i in 0..5 {
        expected.insert(create_link(&client, &format!("link{i}")).await);
    }
    let mut sizes = Vec::new();
    let mut seen = Vec::new();
    let mut position: Option<String> = None;
    loop {
        let page = client
            .get_vpc_links()
            .limit(2)
            .set_position(position.clone())
            .send()
            .await
            .unwrap();
        sizes.push(page.items().len());
        seen.extend(page.items().iter().map(|l| l.id().unwrap().to_owned()));
        match page.position() {
            Some(next) => position = Some(next.to_owned()),
            None => break,
        }
        assert!(sizes.len() <= 5, "pagination does not end");
    }
    assert_eq!(sizes, [2, 2, 1]);
    assert_eq!(distinct(seen.iter().map(String::as_str)), expected);

    let all = client.get_vpc_links().send().await.unwrap();
    assert_eq!(all.items().len(), 5);
    assert!(all.position().is_none());
}

#[tokio::test]
async fn update_vpc_link_name_and_description() {
    let server = TestServer::start().await;
    let client = server.client();
    let id = create_link(&client, "before").await;
    let updated = client
        .update_vpc_link()
        .vpc_link_id(&id)
        .patch_operations(replace("/name", "after"))
        .patch_operations(replace("/description", "described"))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.name(), Some("after"));
    assert_eq!(updated.description(), Some("described"));
    assert_eq!(updated.target_arns(), [NLB_ARN]);
    let got = client.get_vpc_link().vpc_link_id(&id).send().await.unwrap();
    assert_eq!(got.name(), Some("after"));
    assert_eq!(got.description(), Some("described"));
}

#[tokio::test]
async fn update_vpc_link_invalid_path_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let id = create_link(&client, "link").await;
    client
        .update_vpc_link()
        .vpc_link_id(&id)
        .patch_operations(replace("/targetArns", NLB_ARN))
        .send()
        .await
        .expect_code("BadRequestException");
}

#[tokio::test]
async fn update_vpc_link_unknown_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .update_vpc_link()
        .vpc_link_id("nope123456")
        .patch_operations(replace("/name", "x"))
        .send()
        .await
        .expect_error("NotFoundException", "Invalid Vpc Link identifier specified");
}

#[tokio::test]
async fn delete_vpc_link_then_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let id = create_link(&client, "doomed").await;
    let raw = server.delete(&format!("/vpclinks/{id}")).await;
    raw.assert_status(202);
    // No DELETED state: once deletion finishes the link is gone. Allow a short DELETING phase.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match client.get_vpc_link().vpc_link_id(&id).send().await {
            Ok(link) => {
                assert_eq!(link.status(), Some(&VpcLinkStatus::Deleting));
                assert!(Instant::now() < deadline, "link never went away");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => {
                Err::<(), _>(error)
                    .expect_error("NotFoundException", "Invalid Vpc Link identifier specified");
                break;
            }
        }
    }
    let links = client.get_vpc_links().send().await.unwrap();
    assert!(links.items().iter().all(|l| l.id() != Some(id.as_str())));
}

#[tokio::test]
async fn delete_vpc_link_unknown_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .delete_vpc_link()
        .vpc_link_id("nope123456")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid Vpc Link identifier specified");
}

#[tokio::test]
async fn vpc_link_to_non_nlb_load_balancer_ends_failed() {
    // A well-formed ARN of an application load balancer is accepted, then the link fails:
    // v1 VPC links only target network load balancers.
    let server = TestServer::start().await;
    let client = server.client();
    let link = client
        .create_vpc_link()
        .name("alb")
        .target_arns(
            "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/my-alb/0123456789abcdef",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(link.status(), Some(&VpcLinkStatus::Pending));
    let (status, message) = settled_status(&client, link.id().unwrap()).await;
    assert_eq!(status, VpcLinkStatus::Failed, "message {message:?}");
    assert!(message.is_some_and(|m| !m.is_empty()));
}
