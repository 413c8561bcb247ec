//! Table-driven tests of route compilation and matching.

use std::collections::BTreeMap;

use causeway_model::{
    ApiKeySource, ApiSnapshot, AuthorizationType, DeployedResource, EndpointConfiguration,
    EndpointType, HttpMethod, Method, Resource, RestApi,
};

use super::*;

/// A route table: each resource path with the verbs it has methods for.
type Routes<'a> = &'a [(&'a str, &'a [&'a str])];

fn snapshot(routes: Routes<'_>) -> ApiSnapshot {
    let resources = routes
        .iter()
        .enumerate()
        .map(|(index, &(path, verbs))| DeployedResource {
            path: path.to_owned(),
            resource: Resource {
                id: format!("r{index}"),
                parent_id: None,
                path_part: path.rsplit('/').next().unwrap_or_default().to_owned(),
                methods: verbs
                    .iter()
                    .map(|&verb| ((*verb).to_owned(), method(verb)))
                    .collect::<BTreeMap<_, _>>(),
                seq: index as u64,
            },
        })
        .collect();
    ApiSnapshot {
        api: RestApi {
            id: "a1b2c3d4e5".to_owned(),
            name: "test".to_owned(),
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

fn method(verb: &str) -> Method {
    Method {
        http_method: HttpMethod::parse(verb).unwrap_or(HttpMethod::Any),
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
    }
}

/// Renders a route result as `PATH KEY name=value[raw]...` (the raw value only when it
/// differs) or `no route: path` / `no route: method`.
fn render(result: Result<RouteMatch<'_>, NoRoute>) -> String {
    match result {
        Err(NoRoute::UnknownPath) => "no route: path".to_owned(),
        Err(NoRoute::UnknownMethod) => "no route: method".to_owned(),
        Ok(found) => {
            assert_eq!(found.method.http_method.as_str(), found.method_key);
            let mut out = format!("{} {}", found.resource_path(), found.method_key);
            for param in &found.path_params {
                out.push_str(&format!(" {}={}", param.name, param.value));
                if param.raw != param.value {
                    out.push_str(&format!("[{}]", param.raw));
                }
            }
            out
        }
    }
}

#[track_caller]
fn check(routes: Routes<'_>, method: &str, path: &str, expect: &str) {
    let api = CompiledApi::compile(&snapshot(routes));
    assert_eq!(api.conflicts(), &[], "the table itself conflicts");
    assert_eq!(render(api.route(method, path)), expect, "{method} {path}");
}

const GET: &[&str] = &["GET"];
const ANY: &[&str] = &["ANY"];
const NONE: &[&str] = &[];

#[test]
fn root() {
    let routes: Routes<'_> = &[("/", GET), ("/pets", GET)];
    check(routes, "GET", "/", "/ GET");
    check(routes, "GET", "", "/ GET");
    check(routes, "GET", "//", "/ GET");
    check(routes, "POST", "/", "no route: method");
    // A root without methods is still a resource: the method is what is missing.
    check(
        &[("/", NONE), ("/pets", GET)],
        "GET",
        "/",
        "no route: method",
    );
}

#[test]
fn static_paths() {
    let routes: Routes<'_> = &[("/", NONE), ("/pets", GET), ("/pets/dogs", GET)];
    check(routes, "GET", "/pets", "/pets GET");
    check(routes, "GET", "/pets/dogs", "/pets/dogs GET");
    check(routes, "GET", "/cats", "no route: path");
    check(routes, "GET", "/pets/dogs/rex", "no route: path");
    // Static parts are case-sensitive.
    check(routes, "GET", "/Pets", "no route: path");
    // An encoded unreserved character is the same character.
    check(routes, "GET", "/p%65ts", "/pets GET");
}

#[test]
fn empty_segments_and_trailing_slash_are_ignored() {
    let routes: Routes<'_> = &[("/", NONE), ("/pets", GET), ("/pets/{id}", GET)];
    check(routes, "GET", "/pets/", "/pets GET");
    check(routes, "GET", "//pets//", "/pets GET");
    check(routes, "GET", "/pets/7/", "/pets/{id} GET id=7");
    check(routes, "GET", "/pets//7", "/pets/{id} GET id=7");
}

#[test]
fn static_beats_param() {
    let routes: Routes<'_> = &[
        ("/", NONE),
        ("/pets", NONE),
        ("/pets/{id}", GET),
        ("/pets/mine", GET),
    ];
    check(routes, "GET", "/pets/mine", "/pets/mine GET");
    check(routes, "GET", "/pets/7", "/pets/{id} GET id=7");
    // Case-sensitive, so `Mine` is a parameter value.
    check(routes, "GET", "/pets/Mine", "/pets/{id} GET id=Mine");
}

#[test]
fn param_beats_greedy() {
    // AWS refuses `{id}` and `{proxy+}` as siblings, but a snapshot that has both still routes,
    // with the single-segment parameter first and no second chance for the greedy one.
    let routes: Routes<'_> = &[
        ("/", NONE),
        ("/{id}", GET),
        ("/{id}/x", GET),
        ("/{proxy+}", ANY),
    ];
    check(routes, "GET", "/7", "/{id} GET id=7");
    check(routes, "GET", "/7/x", "/{id}/x GET id=7");
    check(routes, "GET", "/7/y", "no route: path");
    check(routes, "POST", "/7", "no route: method");
}

#[test]
fn greedy_at_root_with_a_static_sibling() {
    // "`/{proxy+}` refers to any resources under the root resource except for the
    // `/parent[/*]` resources."
    let routes: Routes<'_> = &[
        ("/", NONE),
        ("/{proxy+}", ANY),
        ("/parent", GET),
        ("/parent/child", GET),
    ];
    check(routes, "GET", "/other", "/{proxy+} ANY proxy=other");
    check(routes, "GET", "/other/x/y", "/{proxy+} ANY proxy=other/x/y");
    check(routes, "GET", "/parent", "/parent GET");
    check(routes, "GET", "/parent/child", "/parent/child GET");
    check(routes, "GET", "/parent/x", "no route: path");
    check(routes, "GET", "/parent/child/x", "no route: path");
    // The method is missing on `/parent`; the greedy sibling does not step in.
    check(routes, "POST", "/parent", "no route: method");
    // `/{proxy+}` does not serve the root itself.
    check(routes, "GET", "/", "no route: method");
}

#[test]
fn no_fallback_from_a_static_branch_to_a_param_sibling() {
    // Our reading of "a specific resource takes precedence over a generic one at the same
    // level": a segment that matches a static resource commits the request to it.
    let routes: Routes<'_> = &[
        ("/", NONE),
        ("/users", NONE),
        ("/users/{id}", GET),
        ("/users/{id}/profile", GET),
        ("/users/me", POST_ONLY),
        ("/users/me/settings", GET),
    ];
    check(
        routes,
        "GET",
        "/users/7/profile",
        "/users/{id}/profile GET id=7",
    );
    check(
        routes,
        "GET",
        "/users/me/settings",
        "/users/me/settings GET",
    );
    // Not `/users/{id}/profile` with id=me, nor `/users/{id}` for GET.
    check(routes, "GET", "/users/me/profile", "no route: path");
    check(routes, "GET", "/users/me", "no route: method");
    check(routes, "POST", "/users/me", "/users/me POST");
}

const POST_ONLY: &[&str] = &["POST"];

#[test]
fn greedy_needs_at_least_one_segment() {
    let routes: Routes<'_> = &[("/", NONE), ("/test", NONE), ("/test/{proxy+}", ANY)];
    check(routes, "GET", "/test", "no route: method");
    check(routes, "GET", "/test/", "no route: method");
    check(routes, "GET", "/test/a", "/test/{proxy+} ANY proxy=a");
    check(routes, "GET", "/test/a/b/", "/test/{proxy+} ANY proxy=a/b");
    // Without the `/test` resource itself (an incomplete snapshot) the answer is the same kind.
    check(&[("/test/{proxy+}", ANY)], "GET", "/test", "no route: path");
}

#[test]
fn greedy_with_another_name() {
    let routes: Routes<'_> = &[("/", NONE), ("/files", NONE), ("/files/{key+}", GET)];
    check(
        routes,
        "GET",
        "/files/a/b.txt",
        "/files/{key+} GET key=a/b.txt",
    );
}

#[test]
fn params_are_percent_decoded_and_keep_their_raw_form() {
    let routes: Routes<'_> = &[
        ("/", NONE),
        ("/pets", NONE),
        ("/pets/{id}", GET),
        ("/files", NONE),
        ("/files/{proxy+}", GET),
    ];
    check(routes, "GET", "/pets/a%2Fb", "/pets/{id} GET id=a/b[a%2Fb]");
    check(routes, "GET", "/pets/a%20b", "/pets/{id} GET id=a b[a%20b]");
    check(
        routes,
        "GET",
        "/pets/caf%C3%A9",
        "/pets/{id} GET id=café[caf%C3%A9]",
    );
    // `+` means a space only in form-encoded queries, not in a path.
    check(routes, "GET", "/pets/a+b", "/pets/{id} GET id=a+b");
    // A stray `%` is kept; bytes that are not UTF-8 become U+FFFD in the decoded value.
    check(routes, "GET", "/pets/100%", "/pets/{id} GET id=100%");
    check(
        routes,
        "GET",
        "/pets/%FF",
        "/pets/{id} GET id=\u{FFFD}[%FF]",
    );
    check(
        routes,
        "GET",
        "/files/a%20b/c%2Fd/e",
        "/files/{proxy+} GET proxy=a b/c/d/e[a%20b/c%2Fd/e]",
    );
    // Empty segments are skipped and a trailing slash dropped, decoded or not.
    check(
        routes,
        "GET",
        "/files/a//b%20c/",
        "/files/{proxy+} GET proxy=a/b c[a/b%20c]",
    );
    check(
        routes,
        "GET",
        "/files/a/b/",
        "/files/{proxy+} GET proxy=a/b",
    );
    // An encoded slash does not split a segment, so it cannot reach a deeper resource.
    check(routes, "GET", "/pets%2Fx", "no route: path");
}

#[test]
fn several_params() {
    let routes: Routes<'_> = &[
        ("/", NONE),
        ("/orgs", NONE),
        ("/orgs/{org}", NONE),
        ("/orgs/{org}/repos", NONE),
        ("/orgs/{org}/repos/{repo}", GET),
        ("/orgs/{org}/repos/{repo}/{proxy+}", GET),
    ];
    check(
        routes,
        "GET",
        "/orgs/o/repos/r",
        "/orgs/{org}/repos/{repo} GET org=o repo=r",
    );
    check(
        routes,
        "GET",
        "/orgs/o/repos/r/blob/main",
        "/orgs/{org}/repos/{repo}/{proxy+} GET org=o repo=r proxy=blob/main",
    );
    check(routes, "GET", "/orgs/o", "no route: method");
}

#[test]
fn method_selection() {
    let routes: Routes<'_> = &[
        ("/", NONE),
        ("/a", &["GET", "ANY"]),
        ("/b", ANY),
        ("/c", GET),
        ("/d", &["HEAD"]),
    ];
    // The exact verb wins over ANY.
    check(routes, "GET", "/a", "/a GET");
    check(routes, "DELETE", "/a", "/a ANY");
    for verb in ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"] {
        check(routes, verb, "/b", "/b ANY");
    }
    // Verbs outside ANY's seven, the literal `ANY`, and other spellings match nothing.
    check(routes, "TRACE", "/b", "no route: method");
    check(routes, "ANY", "/b", "no route: method");
    check(routes, "get", "/b", "no route: method");
    // HEAD is not served by GET, and GET not by HEAD.
    check(routes, "HEAD", "/c", "no route: method");
    check(routes, "HEAD", "/d", "/d HEAD");
    check(routes, "GET", "/d", "no route: method");
}

#[test]
fn deep_tree() {
    let routes: Routes<'_> = &[
        ("/", NONE),
        ("/a", NONE),
        ("/a/b", NONE),
        ("/a/b/c", NONE),
        ("/a/b/c/{d}", NONE),
        ("/a/b/c/{d}/e", NONE),
        ("/a/b/c/{d}/e/f", GET),
        ("/a/b/c/{d}/e/{g}", GET),
        ("/a/b/c/{d}/e/{g}/{rest+}", ANY),
    ];
    check(routes, "GET", "/a/b/c/1/e/f", "/a/b/c/{d}/e/f GET d=1");
    check(
        routes,
        "GET",
        "/a/b/c/1/e/2",
        "/a/b/c/{d}/e/{g} GET d=1 g=2",
    );
    check(
        routes,
        "PUT",
        "/a/b/c/1/e/2/x/y/z",
        "/a/b/c/{d}/e/{g}/{rest+} ANY d=1 g=2 rest=x/y/z",
    );
    check(routes, "GET", "/a/b/c/1/e", "no route: method");
    check(routes, "GET", "/a/b/x/1/e/f", "no route: path");
}

#[test]
fn many_static_siblings_use_the_wide_table() {
    let paths: Vec<String> = (0..100).map(|i| format!("/s{i}")).collect();
    let mut routes: Vec<(&str, &[&str])> = vec![("/", NONE), ("/{id}", GET)];
    routes.extend(paths.iter().map(|path| (path.as_str(), GET)));
    check(&routes, "GET", "/s0", "/s0 GET");
    check(&routes, "GET", "/s57", "/s57 GET");
    check(&routes, "GET", "/s99", "/s99 GET");
    check(&routes, "GET", "/s100", "/{id} GET id=s100");
}

#[test]
fn route_match_accessors() {
    let api = CompiledApi::compile(&snapshot(&[
        ("/", NONE),
        ("/pets", NONE),
        ("/pets/{id}", GET),
    ]));
    let found = api.route("GET", "/pets/a%2Fb").map_err(|e| e.to_string());
    let Ok(found) = found else {
        panic!("no match: {found:?}");
    };
    assert_eq!(found.resource_index, 2);
    assert_eq!(found.resource_id(), "r2");
    assert_eq!(found.resource_path(), "/pets/{id}");
    let id = found
        .path_param("id")
        .map(|p| (p.value.as_ref(), p.raw.as_ref()));
    assert_eq!(id, Some(("a/b", "a%2Fb")));
    assert_eq!(found.path_param("other"), None);
    assert_eq!(api.snapshot().resources.len(), 3);
}

#[test]
fn conflicting_resources_are_left_out() {
    let api = CompiledApi::compile(&snapshot(&[
        ("/", NONE),
        ("/pets", GET),
        ("/pets", ANY),
        ("/{id}", GET),
        ("/{name}/x", GET),
        ("/{proxy+}", GET),
        ("/{proxy+}/child", GET),
        ("/{other+}", GET),
    ]));
    let conflicts: Vec<(usize, ConflictReason)> = api
        .conflicts()
        .iter()
        .map(|conflict| (conflict.resource_index, conflict.reason.clone()))
        .collect();
    assert_eq!(
        conflicts,
        vec![
            (2, ConflictReason::DuplicatePath),
            (
                4,
                ConflictReason::SecondVariable {
                    existing: "id".to_owned()
                }
            ),
            (6, ConflictReason::ChildOfGreedy),
            (
                7,
                ConflictReason::SecondVariable {
                    existing: "proxy".to_owned()
                }
            ),
        ]
    );
    // The first of the duplicates is kept, and the rejected ones left nothing behind.
    assert_eq!(render(api.route("GET", "/pets")), "/pets GET");
    assert_eq!(render(api.route("POST", "/pets")), "no route: method");
    assert_eq!(render(api.route("GET", "/7/x")), "no route: path");
    assert_eq!(render(api.route("GET", "/7/child")), "no route: path");
}

#[test]
fn debug_is_a_summary() {
    let api = CompiledApi::compile(&snapshot(&[("/", GET)]));
    assert_eq!(
        format!("{api:?}"),
        r#"CompiledApi { api: "a1b2c3d4e5", resources: 1, nodes: 1, conflicts: [] }"#
    );
}

#[test]
fn compile_shared_does_not_copy() {
    let shared = Arc::new(snapshot(&[("/", GET)]));
    let api = CompiledApi::compile_shared(Arc::clone(&shared));
    assert!(std::ptr::eq(api.snapshot(), &*shared));
}
