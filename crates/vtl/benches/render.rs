//! Mapping-template costs: parsing, and rendering a typical request template and a
//! response template that loops over a 100-item payload.

use causeway_vtl::{Scope, Template, Value};
use criterion::{Criterion, criterion_group, criterion_main};

const REQUEST: &str = r#"#set($body = $input.path('$'))
{
  "id": "$input.params('id')",
  "name": $input.json('$.name'),
  "agent": "$util.escapeJavaScript($input.params('user-agent'))",
  "stage": "$context.stage",
  "env": "$stageVariables.env"
}"#;

const RESPONSE: &str = r#"#set($root = $input.path('$'))
{"items": [
#foreach($item in $root.items)
  {"id": $item.id, "name": "$item.name", "tags": $item.tags.size()}#if($foreach.hasNext),#end
#end
], "count": $root.items.size()}"#;

fn scope(body: String) -> Scope {
    Scope {
        body,
        path: vec![("id".to_owned(), "42".to_owned())],
        querystring: Vec::new(),
        header: vec![("user-agent".to_owned(), "curl/8.0 \"x\"".to_owned())],
        context: Value::Map(vec![("stage".to_owned(), Value::Str("prod".to_owned()))]),
        stage_variables: Value::string_map([("env", "production")]),
    }
}

fn bench(c: &mut Criterion) {
    let items: Vec<String> = (0..100)
        .map(|i| format!(r#"{{"id":{i},"name":"item {i}","tags":["a","b"]}}"#))
        .collect();
    let payload = format!(r#"{{"items":[{}]}}"#, items.join(","));
    c.bench_function("parse the request template", |b| {
        b.iter(|| Template::parse(std::hint::black_box(REQUEST)))
    });
    c.bench_function("parse the response template", |b| {
        b.iter(|| Template::parse(std::hint::black_box(RESPONSE)))
    });
    let request = Template::parse(REQUEST).unwrap_or_else(|e| panic!("{e}"));
    let request_scope = scope(r#"{"name":"felix","age":3}"#.to_owned());
    c.bench_function("render the request template", |b| {
        b.iter(|| request.render(std::hint::black_box(&request_scope)))
    });
    let response = Template::parse(RESPONSE).unwrap_or_else(|e| panic!("{e}"));
    let response_scope = scope(payload);
    c.bench_function("render the response template over 100 items", |b| {
        b.iter(|| response.render(std::hint::black_box(&response_scope)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
