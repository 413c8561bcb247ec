#![allow(clippy::unwrap_used)]

use super::*;

fn scope(body: &str) -> Scope {
    Scope {
        body: body.to_owned(),
        path: vec![("id".to_owned(), "42".to_owned())],
        querystring: vec![("q".to_owned(), "x y".to_owned())],
        header: vec![("X-Token".to_owned(), "t".to_owned())],
        context: Value::Map(vec![
            ("requestId".to_owned(), Value::Str("r-1".to_owned())),
            (
                "identity".to_owned(),
                Value::string_map([("sourceIp", "10.0.0.1")]),
            ),
        ]),
        stage_variables: Value::string_map([("env", "prod")]),
    }
}

fn render(template: &str, body: &str) -> String {
    Template::parse(template)
        .unwrap()
        .render(&scope(body))
        .unwrap()
}

#[test]
fn text_without_vtl_is_literal() {
    let t = Template::parse("{\"statusCode\": 200} # not a directive, #fff").unwrap();
    assert_eq!(
        t.literal(),
        Some("{\"statusCode\": 200} # not a directive, #fff")
    );
    assert!(Template::parse("$x").unwrap().literal().is_none());
}

#[test]
fn references_render_their_values_or_nothing() {
    assert_eq!(render("$context.requestId", ""), "r-1");
    assert_eq!(render("${context.requestId}x", ""), "r-1x");
    assert_eq!(render("$context.identity.sourceIp", ""), "10.0.0.1");
    assert_eq!(render("$stageVariables.env", ""), "prod");
    assert_eq!(render("[$missing|$!missing|$context.nope.x]", ""), "[||]");
    assert_eq!(render("cost: $5 and $ alone", ""), "cost: $5 and $ alone");
    assert_eq!(render("\\$context.requestId", ""), "$context.requestId");
    assert_eq!(render("$context.requestId.", ""), "r-1.");
}

#[test]
fn input_reads_the_payload_and_the_parameters() {
    let body = r#"{"name":"cat","tags":["a","b"],"n":1.5,"nested":{"k":true}}"#;
    assert_eq!(render("$input.body", body), body);
    assert_eq!(render("$input.json('$.name')", body), "\"cat\"");
    assert_eq!(render("$input.json('$.tags')", body), "[\"a\",\"b\"]");
    assert_eq!(render("$input.json('$.missing')", body), "");
    assert_eq!(render("$input.path('$.name')", body), "cat");
    assert_eq!(render("$input.path('$.tags').size()", body), "2");
    assert_eq!(render("$input.path('$.tags')[1]", body), "b");
    assert_eq!(render("$input.path('$.n')", body), "1.5");
    assert_eq!(render("$input.path('$.nested')", body), "{k=true}");
    assert_eq!(render("$input.json('$.tags[*]')", body), "[\"a\",\"b\"]");
    assert_eq!(render("$input.json('$')", ""), "{}");
    assert_eq!(
        render(
            "$input.params('id')/$input.params('q')/$input.params('x-token')",
            ""
        ),
        "42/x y/t"
    );
    assert_eq!(render("[$input.params('nope')]", ""), "[]");
    assert_eq!(
        render(
            "$input.params().header.get('X-Token') $input.params().path.id",
            ""
        ),
        "t 42"
    );
    let err = Template::parse("$input.json('$.a')")
        .unwrap()
        .render(&scope("{oops"));
    assert!(matches!(err, Err(Error::Render(_))), "{err:?}");
}

#[test]
fn directives_set_branch_and_loop() {
    let body = r#"{"items":[{"id":1},{"id":2},{"id":3}]}"#;
    let template = "#set($root = $input.path('$'))
[
#foreach($item in $root.items)
  {\"id\": $item.id, \"i\": $foreach.index, \"n\": $velocityCount}#if($foreach.hasNext),#end
#end
]";
    assert_eq!(
        render(template, body),
        "[\n  {\"id\": 1, \"i\": 0, \"n\": 1},\n  {\"id\": 2, \"i\": 1, \"n\": 2},\n  {\"id\": 3, \"i\": 2, \"n\": 3}\n]"
    );
    let branches = "#foreach($n in [1..4])#if($n == 1)one#elseif($n < 3)two#{else}many#end,#end";
    assert_eq!(render(branches, ""), "one,two,many,many,");
    assert_eq!(render("#set($a = 1)#set($a = $nothing)$a", ""), "1");
    assert_eq!(
        render("#set($m = {})#set($d = $m.put('k', 'v'))$m.k $m", ""),
        "v {k=v}"
    );
    assert_eq!(
        render("#set($m = {'a': {'b': 1}})#set($m.a.b = 2)$m.a.b", ""),
        "2"
    );
    assert_eq!(
        render(
            "#set($l = [])#set($x = $l.add(1))#set($x = $l.add('two'))$l",
            ""
        ),
        "[1, two]"
    );
    assert_eq!(
        render("#set($s = \"id-$input.params('id')\")$s", ""),
        "id-42"
    );
    assert_eq!(
        render("## a comment\nx#* block\n*#y#[[$raw #if]]#", ""),
        "xy$raw #if"
    );
    assert_eq!(
        render("#if(!$missing && 'a' != 'b' || false)yes#end", ""),
        "yes"
    );
    assert_eq!(render("#if($x)yes#{else}no#end", ""), "no");
    assert_eq!(render("$x #set($x = 2)$x", ""), " 2");
}

#[test]
fn expressions_follow_velocity() {
    assert_eq!(
        render(
            "#set($n = 7 / 2)$n #set($f = 7.0 / 2)$f #set($m = 7 % 3)$m",
            ""
        ),
        "3 3.5 1"
    );
    assert_eq!(
        render("#set($x = 1 + 2 * 3)$x #set($y = (1 + 2) * 3)$y", ""),
        "7 9"
    );
    assert_eq!(render("#set($s = 'a' + 1)$s", ""), "a1");
    assert_eq!(render("#if(2 > 1 and 1 eq 1.0)t#end", ""), "t");
    assert_eq!(render("#set($d = 1 / 0)[$d]", ""), "[]");
    assert_eq!(render("#set($b = 2.0)$b", ""), "2.0");
    assert_eq!(render("'$input.params('id')'", ""), "'42'");
    assert_eq!(
        render(
            "#set($list = ['a', 'b'])$list.contains('a') $list.get(5)",
            ""
        ),
        "true "
    );
    assert_eq!(
        render("#set($s = ' Ab ')$s.trim().toLowerCase() $s.length()", ""),
        "ab 4"
    );
    assert_eq!(
        render(
            "#set($s = 'a-b-c')$s.replaceAll('-(.)', '+$1') $s.matches('[a-c-]+') $s.matches('b')",
            ""
        ),
        "a+b+c true false"
    );
    assert_eq!(
        render(
            r#"$util.escapeJavaScript("it's").replaceAll("\\'","'")"#,
            ""
        ),
        "it's"
    );
}

#[test]
fn util_functions_match_api_gateway() {
    assert_eq!(
        render("$util.escapeJavaScript(\"it's \\\"q\\\" / \n é\")", ""),
        "it\\'s \\\"q\\\" \\/ \\n \\u00E9"
    );
    assert_eq!(
        render("$util.urlEncode('a b&c=d/é')", ""),
        "a+b%26c%3Dd%2F%C3%A9"
    );
    assert_eq!(render("$util.urlDecode('a+b%26c')", ""), "a b&c");
    assert_eq!(render("$util.base64Encode('hello')", ""), "aGVsbG8=");
    assert_eq!(render("$util.base64Decode('aGVsbG8=')", ""), "hello");
    assert_eq!(render("$util.parseJson('{\"a\":[1,2]}').a.size()", ""), "2");
    assert!(
        Template::parse("$util.parseJson('{')")
            .unwrap()
            .render(&scope(""))
            .is_err()
    );
}

#[test]
fn bad_and_hostile_templates_fail_cleanly() {
    for bad in [
        "#if($a)",
        "#end",
        "#else",
        "#foreach($a in $b)x",
        "#set($a 1)",
        "#set(1 = 1)",
        "#if($a",
        "#* open",
        "#macro(m)#end",
        "#include('x')",
        "#set($s = 'open)",
        "#set($x = [1, 2)",
        "#set($x = 99999999999999999999)",
        "$a.b(",
    ] {
        assert!(
            matches!(Template::parse(bad), Err(Error::Parse(_))),
            "{bad}"
        );
    }
    let deep = "#if(true)".repeat(100) + &"#end".repeat(100);
    assert!(Template::parse(&deep).is_err());
    let deep = format!("#set($x = {}1{})", "(".repeat(200), ")".repeat(200));
    assert!(Template::parse(&deep).is_err());
    // A loop stops after its 1,000th item.
    let many = Template::parse("#foreach($i in [1..1001])x#end$i").unwrap();
    assert_eq!(many.render(&scope("")).unwrap(), "x".repeat(1000));
    let nested = Template::parse(
        "#foreach($a in [1..1000])#foreach($b in [1..1000])#foreach($c in [1..1000])x#end#end#end",
    )
    .unwrap();
    assert!(matches!(nested.render(&scope("")), Err(Error::Render(_))));
    let big = Template::parse("#set($s = 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')#foreach($a in [1..1000])#foreach($b in [1..200])$s$s$s$s#end#end").unwrap();
    assert!(matches!(big.render(&scope("")), Err(Error::Render(_))));
    assert!(
        Template::parse("#set($r = [1..100000])")
            .unwrap()
            .render(&scope(""))
            .is_err()
    );
    // Values that would grow without bound, or nest deeper than a walk can go.
    for hostile in [
        "#set($l = [1])#foreach($i in [1..60])#set($l = [$l, $l])#end",
        "#set($l = [1])#foreach($i in [1..60])#set($x = $l.add($l))#end",
        "#set($l = [])#foreach($i in [1..100])#set($l = [$l])#end",
        "#set($m = {})#foreach($i in [1..100])#set($m = {'m': $m})#end",
        "#set($s = 'ab')#foreach($i in [1..60])#set($s = $s + $s)#end",
        "#set($s = 'ab')#foreach($i in [1..60])#set($s = \"$s$s\")#end",
        "#set($s = 'ab')#foreach($i in [1..60])#set($s = $util.escapeJavaScript($s + '\u{e9}'))#end",
        "#set($s = 'abcdefgh')#foreach($i in [1..30])#set($s = $s.replaceAll('', $s))#end$s",
    ] {
        let rendered = Template::parse(hostile).unwrap().render(&scope(""));
        assert!(
            matches!(rendered, Err(Error::Render(_)))
                || rendered.as_ref().is_ok_and(|out| out.len() < MAX_OUTPUT),
            "{hostile}: {:?}",
            rendered.map(|out| out.len())
        );
    }
}

#[test]
fn context_overrides_come_back_and_json_paths_select() {
    let mut scope = scope("");
    scope.context = Value::Map(vec![(
        "responseOverride".to_owned(),
        Value::Map(vec![("header".to_owned(), Value::Map(Vec::new()))]),
    )]);
    let rendered = Template::parse(
        "#set($context.responseOverride.status = 404)#set($context.responseOverride.header.X-Why = 'gone')done",
    )
    .unwrap()
    .render_with_context(&scope)
    .unwrap();
    assert_eq!(rendered.text, "done");
    let overrides = rendered.context.get("responseOverride").unwrap();
    assert_eq!(overrides.get("status"), Some(&Value::Int(404)));
    assert_eq!(
        overrides.get("header").and_then(|h| h.get("X-Why")),
        Some(&Value::Str("gone".to_owned()))
    );

    let body = r#"{"id": 7, "tags": ["a", "b"], "o": {"k": "v"}}"#;
    assert_eq!(json_path(body, "$.id").unwrap(), Some(serde_json::json!(7)));
    assert_eq!(
        json_path(body, "$.o").unwrap(),
        Some(serde_json::json!({"k": "v"}))
    );
    assert_eq!(
        json_path(body, "$.tags[*]").unwrap(),
        Some(serde_json::json!(["a", "b"]))
    );
    assert_eq!(json_path(body, "$.nope").unwrap(), None);
    assert!(json_path("{oops", "$.id").is_err());
}
