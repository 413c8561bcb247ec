//! Route lookup over an API of 10,000 resources: a static path, a `{param}` path, a greedy
//! path and a miss, plus the cost of compiling the tree.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;

use causeway_model::{
    ApiKeySource, ApiSnapshot, AuthorizationType, DeployedResource, EndpointConfiguration,
    EndpointType, HttpMethod, Method, Resource, RestApi,
};
use causeway_routing::CompiledApi;
use criterion::{Criterion, criterion_group, criterion_main};

/// Groups under the root, each with `PER_GROUP` resources.
const GROUPS: usize = 100;
const PER_GROUP: usize = 100;

/// Per group `g{i}`: the group itself, 96 static children `r{j}`, `{id}`, `{id}/detail` and
/// `r0/{proxy+}`: 100 resources, so 10,000 plus the root in all.
fn paths() -> Vec<String> {
    let mut paths = vec!["/".to_owned()];
    for group in 0..GROUPS {
        paths.push(format!("/g{group}"));
        for child in 0..PER_GROUP - 4 {
            paths.push(format!("/g{group}/r{child}"));
        }
        paths.push(format!("/g{group}/{{id}}"));
        paths.push(format!("/g{group}/{{id}}/detail"));
        paths.push(format!("/g{group}/r0/{{proxy+}}"));
    }
    paths
}

/// A root with 10,000 static children and a `/{proxy+}` sibling: the widest node there can be.
fn wide_paths() -> Vec<String> {
    let mut paths = vec!["/".to_owned(), "/{proxy+}".to_owned()];
    paths.extend((0..GROUPS * PER_GROUP).map(|i| format!("/resource-{i}")));
    paths
}

fn snapshot(paths: &[String]) -> ApiSnapshot {
    let method = Method {
        http_method: HttpMethod::Get,
        authorization_type: AuthorizationType::None,
        authorizer_id: None,
        api_key_required: false,
        request_validator_id: None,
        operation_name: None,
        request_parameters: BTreeMap::new(),
        request_models: BTreeMap::new(),
        method_responses: BTreeMap::new(),
        integration: None,
        authorization_scopes: Vec::new(),
    };
    let resources = paths
        .iter()
        .enumerate()
        .map(|(index, path)| DeployedResource {
            path: path.clone(),
            resource: Resource {
                id: format!("r{index}"),
                parent_id: None,
                path_part: path.rsplit('/').next().unwrap_or_default().to_owned(),
                methods: BTreeMap::from([
                    ("GET".to_owned(), method.clone()),
                    ("POST".to_owned(), method.clone()),
                ]),
                seq: index as u64,
            },
        })
        .collect();
    ApiSnapshot {
        api: RestApi {
            id: "a1b2c3d4e5".to_owned(),
            name: "bench".to_owned(),
            description: None,
            created_date: 0,
            version: None,
            binary_media_types: Vec::new(),
            minimum_compression_size: None,
            api_key_source: ApiKeySource::Header,
            endpoint_configuration: EndpointConfiguration {
                types: vec![EndpointType::Regional],
                ip_address_type: "ipv4".to_owned(),
                vpc_endpoint_ids: Vec::new(),
            },
            policy: None,
            tags: BTreeMap::new(),
            disable_execute_api_endpoint: false,
            root_resource_id: "r0".to_owned(),
            security_policy: None,
            endpoint_access_mode: None,
        },
        resources,
        gateway_responses: Vec::new(),
        models: Vec::new(),
        request_validators: Vec::new(),
        authorizers: Vec::new(),
    }
}

fn lookups(c: &mut Criterion, name: &str, api: &CompiledApi, cases: &[(&str, &str)]) {
    let mut group = c.benchmark_group(name);
    for &(case, path) in cases {
        // A failed lookup would measure the wrong thing; say so instead of panicking.
        if case != "miss" && api.route("GET", path).is_err() {
            eprintln!("benchmark setup: {path} does not route");
        }
        group.bench_function(case, |b| {
            b.iter(|| black_box(api.route(black_box("GET"), black_box(path)).is_ok()))
        });
    }
    group.finish();
}

fn route(c: &mut Criterion) {
    let deep = CompiledApi::compile(&snapshot(&paths()));
    lookups(
        c,
        "route_10k",
        &deep,
        &[
            ("static", "/g57/r42"),
            ("param", "/g57/abc%20def/detail"),
            ("greedy", "/g57/r0/a/b/c"),
            ("miss", "/g57/r42/nope"),
        ],
    );

    let wide = CompiledApi::compile(&snapshot(&wide_paths()));
    lookups(
        c,
        "route_10k_wide",
        &wide,
        &[("static", "/resource-5757"), ("greedy", "/unknown/a/b")],
    );

    let snapshot = Arc::new(snapshot(&paths()));
    c.bench_function("compile_10k", |b| {
        b.iter(|| CompiledApi::compile_shared(Arc::clone(&snapshot)))
    });
}

criterion_group!(benches, route);
criterion_main!(benches);
