//! Fuzzes mapping templates: the input, split at its first NUL, is a template and the
//! payload it renders against. Parsing and rendering must never panic, and a rendering must
//! stay within its bounds (output at most `MAX_OUTPUT` bytes) whatever it is given. A
//! template without references or directives renders as its own text.
#![no_main]

use causeway_vtl::{MAX_OUTPUT, Scope, Template, Value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (source, body) = text.split_once('\0').unwrap_or((&text, r#"{"a":[1,{"b":"c"}],"n":2.5}"#));
    let Ok(template) = Template::parse(source) else {
        return;
    };
    let scope = Scope {
        body: body.to_owned(),
        path: vec![("id".to_owned(), "7".to_owned())],
        querystring: vec![("q".to_owned(), "x".to_owned())],
        header: vec![("h".to_owned(), "v".to_owned())],
        context: Value::Map(vec![("requestId".to_owned(), Value::Str("r".to_owned()))]),
        stage_variables: Value::string_map([("s", "t")]),
    };
    let rendered = template.render(&scope);
    if let Ok(out) = &rendered {
        assert!(out.len() <= MAX_OUTPUT + 1024 * 1024);
    }
    if let Some(literal) = template.literal() {
        assert_eq!(rendered.as_deref(), Ok(literal));
    }
});
