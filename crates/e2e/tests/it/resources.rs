//! CreateResource / GetResource(s) / UpdateResource / DeleteResource, the resource tree rules,
//! `embed=methods` and pagination.

use std::collections::HashSet;

use aws_sdk_apigateway::types::IntegrationType;

use crate::harness::*;

#[tokio::test]
async fn create_resource_returns_shape() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "r").await;
    let created = client
        .create_resource()
        .rest_api_id(&api)
        .parent_id(&root)
        .path_part("pets")
        .send()
        .await
        .unwrap();
    assert!(created.id().is_some_and(|id| !id.is_empty()));
    assert_ne!(created.id(), Some(root.as_str()));
    assert_eq!(created.parent_id(), Some(root.as_str()));
    assert_eq!(created.path(), Some("/pets"));
    assert_eq!(created.path_part(), Some("pets"));
    assert!(
        created.resource_methods().is_none(),
        "no resourceMethods on create"
    );
}

#[tokio::test]
async fn create_resource_status_is_201() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "r").await;
    let raw = server
        .post(
            &format!("/restapis/{api}/resources/{root}"),
            r#"{"pathPart":"pets"}"#,
        )
        .await;
    raw.assert_status(201);
    let body = raw.json();
    assert_eq!(body["path"], "/pets");
    assert_eq!(body["pathPart"], "pets");
    assert_eq!(body["parentId"], root.as_str());
    assert!(body.get("resourceMethods").is_none(), "{body}");
}

#[tokio::test]
async fn nested_resource_paths() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "r").await;
    let pets = create_resource(&client, &api, &root, "pets").await;
    let pet = create_resource(&client, &api, &pets, "{petId}").await;
    let toys = create_resource(&client, &api, &pet, "toys").await;
    let got = client
        .get_resource()
        .rest_api_id(&api)
        .resource_id(&toys)
        .send()
        .await
        .unwrap();
    assert_eq!(got.path(), Some("/pets/{petId}/toys"));
    assert_eq!(got.parent_id(), Some(pet.as_str()));
    assert_eq!(got.path_part(), Some("toys"));
}

#[tokio::test]
async fn valid_path_parts_accepted() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "r").await;
    for part in ["v1.0", "a_b-c", "ABC123"] {
        create_resource(&client, &api, &root, part).await;
    }
    let variable = create_resource(&client, &api, &root, "{id}").await;
    create_resource(&client, &api, &variable, "{proxy+}").await;
}

#[tokio::test]
async fn same_name_under_different_parents_is_fine() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "r").await;
    let a = create_resource(&client, &api, &root, "a").await;
    let b = create_resource(&client, &api, &root, "b").await;
    create_resource(&client, &api, &a, "items").await;
    create_resource(&client, &api, &b, "items").await;
}

#[tokio::test]
async fn duplicate_resource_conflicts() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "r").await;
    create_resource(&client, &api, &root, "pets").await;
    client
        .create_resource()
        .rest_api_id(&api)
        .parent_id(&root)
        .path_part("pets")
        .send()
        .await
        .expect_error(
            "ConflictException",
            "Another resource with the same parent already has this name: pets",
        );
}

#[tokio::test]
async fn second_variable_child_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "r").await;
    create_resource(&client, &api, &root, "{id}").await;
    client
        .create_resource()
        .rest_api_id(&api)
        .parent_id(&root)
        .path_part("{name}")
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "A sibling ({id}) of this resource already has a variable path part -- only one is allowed",
        );
}

#[tokio::test]
async fn greedy_and_plain_variable_siblings_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "r").await;
    create_resource(&client, &api, &root, "{proxy+}").await;
    client
        .create_resource()
        .rest_api_id(&api)
        .parent_id(&root)
        .path_part("{id}")
        .send()
        .await
        .expect_error_containing("BadRequestException", "variable path part");
}

#[tokio::test]
async fn child_of_greedy_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "r").await;
    let proxy = create_resource(&client, &api, &root, "{proxy+}").await;
    client
        .create_resource()
        .rest_api_id(&api)
        .parent_id(&proxy)
        .path_part("child")
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Cannot create a child of a resource with a greedy path variable: {proxy+}",
        );
}

#[tokio::test]
async fn invalid_path_parts_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "r").await;
    for bad in ["a b", "a/b", "{x", "x}", "a{b}", "a*", ""] {
        let message = client
            .create_resource()
            .rest_api_id(&api)
            .parent_id(&root)
            .path_part(bad)
            .send()
            .await
            .expect_code("BadRequestException");
        if !bad.is_empty() {
            assert!(
                message.contains("path part only allow a-zA-Z0-9._- and curly braces"),
                "{bad:?}: {message}"
            );
        }
    }
    let resources = client
        .get_resources()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    assert_eq!(resources.items().len(), 1, "nothing but the root may exist");
}

#[tokio::test]
async fn create_resource_unknown_parent_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "r").await;
    client
        .create_resource()
        .rest_api_id(&api)
        .parent_id("nope00")
        .path_part("x")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid Resource identifier specified");
}

#[tokio::test]
async fn create_resource_unknown_api_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .create_resource()
        .rest_api_id("nope123456")
        .parent_id("nope00")
        .path_part("x")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid Resource identifier specified");
}

#[tokio::test]
async fn get_resource_unknown_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _) = create_api(&client, "r").await;
    client
        .get_resource()
        .rest_api_id(&api)
        .resource_id("nope00")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid Resource identifier specified");
    client
        .get_resource()
        .rest_api_id("nope123456")
        .resource_id("nope00")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid Resource identifier specified");
}

#[tokio::test]
async fn get_resources_unknown_api_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .get_resources()
        .rest_api_id("nope123456")
        .send()
        .await
        .expect_code("NotFoundException");
}

#[tokio::test]
async fn resource_ids_are_scoped_to_their_api() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api_a, root_a) = create_api(&client, "a").await;
    let (api_b, _) = create_api(&client, "b").await;
    let pets = create_resource(&client, &api_a, &root_a, "pets").await;
    client
        .get_resource()
        .rest_api_id(&api_b)
        .resource_id(&pets)
        .send()
        .await
        .expect_error("NotFoundException", "Invalid Resource identifier specified");
    client
        .create_resource()
        .rest_api_id(&api_b)
        .parent_id(&root_a)
        .path_part("x")
        .send()
        .await
        .expect_code("NotFoundException");
}

#[tokio::test]
async fn delete_resource_removes_subtree() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "r").await;
    let a = create_resource(&client, &api, &root, "a").await;
    let b = create_resource(&client, &api, &a, "b").await;
    let c = create_resource(&client, &api, &b, "c").await;
    let keep = create_resource(&client, &api, &root, "keep").await;
    put_method(&client, &api, &c, "GET").await;

    client
        .delete_resource()
        .rest_api_id(&api)
        .resource_id(&a)
        .send()
        .await
        .unwrap();

    for gone in [&a, &b, &c] {
        client
            .get_resource()
            .rest_api_id(&api)
            .resource_id(gone)
            .send()
            .await
            .expect_error("NotFoundException", "Invalid Resource identifier specified");
    }
    let remaining: HashSet<String> = client
        .get_resources()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .map(|r| r.id().unwrap().to_owned())
        .collect();
    assert_eq!(remaining, HashSet::from([root.clone(), keep]));
    // The name is free again.
    create_resource(&client, &api, &root, "a").await;
}

#[tokio::test]
async fn delete_resource_status_is_202() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "r").await;
    let a = create_resource(&client, &api, &root, "a").await;
    server
        .delete(&format!("/restapis/{api}/resources/{a}"))
        .await
        .assert_status(202);
    server
        .delete(&format!("/restapis/{api}/resources/{a}"))
        .await
        .assert_error(404, "NotFoundException");
}

#[tokio::test]
async fn delete_root_resource_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "r").await;
    client
        .delete_resource()
        .rest_api_id(&api)
        .resource_id(&root)
        .send()
        .await
        .expect_code("BadRequestException");
    let got = client
        .get_resource()
        .rest_api_id(&api)
        .resource_id(&root)
        .send()
        .await
        .unwrap();
    assert_eq!(got.path(), Some("/"));
}

#[tokio::test]
async fn update_resource_path_part_recomputes_children() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "r").await;
    let a = create_resource(&client, &api, &root, "a").await;
    let b = create_resource(&client, &api, &a, "b").await;
    let c = create_resource(&client, &api, &b, "c").await;

    let updated = client
        .update_resource()
        .rest_api_id(&api)
        .resource_id(&a)
        .patch_operations(replace("/pathPart", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.path_part(), Some("x"));
    assert_eq!(updated.path(), Some("/x"));
    assert_eq!(updated.parent_id(), Some(root.as_str()));

    for (id, path) in [(&b, "/x/b"), (&c, "/x/b/c")] {
        let got = client
            .get_resource()
            .rest_api_id(&api)
            .resource_id(id)
            .send()
            .await
            .unwrap();
        assert_eq!(got.path(), Some(path));
    }
    let listed: HashSet<String> = client
        .get_resources()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .map(|r| r.path().unwrap().to_owned())
        .collect();
    let expected: HashSet<String> = ["/", "/x", "/x/b", "/x/b/c"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(listed, expected);
}

#[tokio::test]
async fn update_resource_path_part_to_sibling_name_conflicts() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "r").await;
    create_resource(&client, &api, &root, "a").await;
    let b = create_resource(&client, &api, &root, "b").await;
    client
        .update_resource()
        .rest_api_id(&api)
        .resource_id(&b)
        .patch_operations(replace("/pathPart", "a"))
        .send()
        .await
        .expect_error(
            "ConflictException",
            "Another resource with the same parent already has this name: a",
        );
}

#[tokio::test]
async fn update_resource_invalid_path_part_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "r").await;
    let a = create_resource(&client, &api, &root, "a").await;
    client
        .update_resource()
        .rest_api_id(&api)
        .resource_id(&a)
        .patch_operations(replace("/pathPart", "a b"))
        .send()
        .await
        .expect_code("BadRequestException");
}

#[tokio::test]
async fn update_resource_parent_id_moves_subtree() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "r").await;
    let a = create_resource(&client, &api, &root, "a").await;
    let b = create_resource(&client, &api, &root, "b").await;
    let c = create_resource(&client, &api, &b, "c").await;
    let moved = client
        .update_resource()
        .rest_api_id(&api)
        .resource_id(&b)
        .patch_operations(replace("/parentId", &a))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.path(), Some("/a/b"));
    assert_eq!(moved.parent_id(), Some(a.as_str()));
    let got = client
        .get_resource()
        .rest_api_id(&api)
        .resource_id(&c)
        .send()
        .await
        .unwrap();
    assert_eq!(got.path(), Some("/a/b/c"));
}

#[tokio::test]
async fn update_resource_cycle_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "r").await;
    let a = create_resource(&client, &api, &root, "a").await;
    let b = create_resource(&client, &api, &a, "b").await;
    client
        .update_resource()
        .rest_api_id(&api)
        .resource_id(&a)
        .patch_operations(replace("/parentId", &b))
        .send()
        .await
        .expect_error("BadRequestException", "Resources cannot be cyclical.");
}

#[tokio::test]
async fn update_root_resource_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "r").await;
    client
        .update_resource()
        .rest_api_id(&api)
        .resource_id(&root)
        .patch_operations(replace("/pathPart", "x"))
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Root resource cannot update its pathPart.",
        );
}

#[tokio::test]
async fn update_resource_unknown_path_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "r").await;
    let a = create_resource(&client, &api, &root, "a").await;
    client
        .update_resource()
        .rest_api_id(&api)
        .resource_id(&a)
        .patch_operations(replace("/path", "/x"))
        .send()
        .await
        .expect_code("BadRequestException");
}

/// `/pets` with GET (MOCK integration, 200 method + integration responses) and POST.
async fn pets_with_methods(client: &aws_sdk_apigateway::Client) -> (String, String, String) {
    let (api, root) = create_api(client, "embed").await;
    let pets = create_resource(client, &api, &root, "pets").await;
    put_method(client, &api, &pets, "GET").await;
    put_method(client, &api, &pets, "POST").await;
    client
        .put_method_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .unwrap();
    put_mock_integration(client, &api, &pets, "GET").await;
    client
        .put_integration_response()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .unwrap();
    (api, root, pets)
}

#[tokio::test]
async fn get_resources_without_embed_has_empty_method_objects() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root, pets) = pets_with_methods(&client).await;

    let resources = client
        .get_resources()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    let item = resources
        .items()
        .iter()
        .find(|r| r.id() == Some(pets.as_str()))
        .unwrap();
    let methods = item.resource_methods().expect("resourceMethods");
    let mut keys: Vec<&str> = methods.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["GET", "POST"]);
    for method in methods.values() {
        assert_eq!(method.http_method(), None);
        assert_eq!(method.authorization_type(), None);
        assert!(method.method_integration().is_none());
    }
    let root_item = resources
        .items()
        .iter()
        .find(|r| r.id() == Some(root.as_str()))
        .unwrap();
    assert!(
        root_item
            .resource_methods()
            .is_none_or(|methods| methods.is_empty()),
        "root has no methods"
    );

    // On the wire: {"GET":{},"POST":{}}.
    let raw = server.get(&format!("/restapis/{api}/resources")).await;
    raw.assert_status(200);
    let body = raw.json();
    let wire = body["item"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == pets.as_str())
        .unwrap();
    assert_eq!(
        wire["resourceMethods"],
        serde_json::json!({"GET": {}, "POST": {}})
    );
}

#[tokio::test]
async fn get_resources_embed_methods_gives_full_methods() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _, pets) = pets_with_methods(&client).await;

    let resources = client
        .get_resources()
        .rest_api_id(&api)
        .embed("methods")
        .send()
        .await
        .unwrap();
    let item = resources
        .items()
        .iter()
        .find(|r| r.id() == Some(pets.as_str()))
        .unwrap();
    let methods = item.resource_methods().expect("resourceMethods");
    let get = &methods["GET"];
    assert_eq!(get.http_method(), Some("GET"));
    assert_eq!(get.authorization_type(), Some("NONE"));
    assert_eq!(get.api_key_required(), Some(false));
    assert!(get.method_responses().unwrap().contains_key("200"));
    let integration = get.method_integration().expect("methodIntegration");
    assert_eq!(integration.r#type(), Some(&IntegrationType::Mock));
    assert!(
        integration
            .integration_responses()
            .unwrap()
            .contains_key("200")
    );
    let post = &methods["POST"];
    assert_eq!(post.http_method(), Some("POST"));
    assert!(post.method_integration().is_none());
}

#[tokio::test]
async fn get_resource_embed_methods() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, _, pets) = pets_with_methods(&client).await;

    let plain = client
        .get_resource()
        .rest_api_id(&api)
        .resource_id(&pets)
        .send()
        .await
        .unwrap();
    let plain_get = &plain.resource_methods().expect("resourceMethods")["GET"];
    assert_eq!(plain_get.http_method(), None);

    let embedded = client
        .get_resource()
        .rest_api_id(&api)
        .resource_id(&pets)
        .embed("methods")
        .send()
        .await
        .unwrap();
    let get = &embedded.resource_methods().expect("resourceMethods")["GET"];
    assert_eq!(get.http_method(), Some("GET"));
    assert!(get.method_integration().is_some());
}

#[tokio::test]
async fn get_resources_paginator_visits_all() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "many").await;
    let mut expected = HashSet::from([root.clone()]);
    for i in 0..60 {
        expected.insert(create_resource(&client, &api, &root, &format!("r{i}")).await);
    }

    let items: Vec<_> = client
        .get_resources()
        .rest_api_id(&api)
        .limit(10)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(items.len(), 61);
    let ids = distinct(items.iter().map(|r| r.id().unwrap()));
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn get_resources_pages_respect_limit() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "pages").await;
    for i in 0..23 {
        create_resource(&client, &api, &root, &format!("r{i}")).await;
    }
    let pages: Vec<_> = client
        .get_resources()
        .rest_api_id(&api)
        .limit(10)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    let sizes: Vec<usize> = pages.iter().map(|p| p.items().len()).collect();
    assert_eq!(sizes, [10, 10, 4]);
    assert!(pages.last().unwrap().position().is_none());

    let all = client
        .get_resources()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    assert_eq!(all.items().len(), 24, "all fit in the default page of 25");
    assert!(all.position().is_none());
}

#[tokio::test]
async fn update_root_resource_parent_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "r").await;
    let a = create_resource(&client, &api, &root, "a").await;
    client
        .update_resource()
        .rest_api_id(&api)
        .resource_id(&root)
        .patch_operations(replace("/parentId", &a))
        .send()
        .await
        .expect_error(
            "BadRequestException",
            "Root resource cannot update its parentId.",
        );
}

#[tokio::test]
async fn update_resource_move_to_unknown_parent_rejected() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "r").await;
    let a = create_resource(&client, &api, &root, "a").await;
    let error = client
        .update_resource()
        .rest_api_id(&api)
        .resource_id(&a)
        .patch_operations(replace("/parentId", "nope00"))
        .send()
        .await
        .api_error();
    // AWS's exact code here is not recorded; it must be a client error and change nothing.
    assert!(
        error.code == "NotFoundException" || error.code == "BadRequestException",
        "{error:?}"
    );
    let got = client
        .get_resource()
        .rest_api_id(&api)
        .resource_id(&a)
        .send()
        .await
        .unwrap();
    assert_eq!(got.parent_id(), Some(root.as_str()));
}

#[tokio::test]
async fn sibling_names_are_case_sensitive() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "r").await;
    let lower = create_resource(&client, &api, &root, "pets").await;
    let upper = create_resource(&client, &api, &root, "Pets").await;
    assert_ne!(lower, upper);
}

#[tokio::test]
async fn static_sibling_of_greedy_variable_allowed() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "r").await;
    create_resource(&client, &api, &root, "{proxy+}").await;
    let health = create_resource(&client, &api, &root, "health").await;
    create_resource(&client, &api, &health, "deep").await;
}

#[tokio::test]
async fn method_ops_on_deleted_resource_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let (api, root) = create_api(&client, "r").await;
    let pets = create_resource(&client, &api, &root, "pets").await;
    put_method(&client, &api, &pets, "GET").await;
    client
        .delete_resource()
        .rest_api_id(&api)
        .resource_id(&pets)
        .send()
        .await
        .unwrap();
    client
        .get_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid Resource identifier specified");
    // Re-creating the path gives a new, method-less resource.
    let again = create_resource(&client, &api, &root, "pets").await;
    client
        .get_method()
        .rest_api_id(&api)
        .resource_id(&again)
        .http_method("GET")
        .send()
        .await
        .expect_error("NotFoundException", "Invalid Method identifier specified");
}
