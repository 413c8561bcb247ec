use super::*;

const SCOPE: Scope<'static> = Scope {
    region: "us-east-1",
    account_id: "123456789012",
    api_id: "a1b2c3",
};

fn parse(text: &str) -> Policy {
    match Policy::parse(text, SCOPE) {
        Ok(policy) => policy,
        Err(e) => panic!("{text}: {e}"),
    }
}

fn request<'a>(resource: &'a str, ip: &str) -> Request<'a> {
    Request {
        action: INVOKE,
        resource,
        source_ip: ip.parse().unwrap(),
        epoch_seconds: 1_790_000_000,
        secure_transport: false,
        user_agent: Some("curl/8.5.0"),
        referer: None,
        principal: None,
    }
}

const GET_PETS: &str = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/GET/pets/42";

fn decide(policy: &str, resource: &str, ip: &str) -> Decision {
    parse(policy).evaluate(&request(resource, ip))
}

/// The allow-list policy AWS's documentation gives: allow everyone, deny every address
/// outside the list.
const ALLOW_LIST: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
    {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
     "Condition": {"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24", "198.51.100.7", "2001:db8::/32"]}}}
  ]
}"#;

#[test]
fn an_ip_allow_list_lets_in_only_the_listed_ranges() {
    assert_eq!(decide(ALLOW_LIST, GET_PETS, "203.0.113.9"), Decision::Allow);
    assert_eq!(
        decide(ALLOW_LIST, GET_PETS, "198.51.100.7"),
        Decision::Allow
    );
    assert_eq!(
        decide(ALLOW_LIST, GET_PETS, "198.51.100.8"),
        Decision::ExplicitDeny
    );
    assert_eq!(decide(ALLOW_LIST, GET_PETS, "2001:db8::1"), Decision::Allow);
    assert_eq!(
        decide(ALLOW_LIST, GET_PETS, "2001:db9::1"),
        Decision::ExplicitDeny
    );
    // A dual-stack socket reports IPv4 clients as mapped IPv6 addresses.
    assert_eq!(
        decide(ALLOW_LIST, GET_PETS, "::ffff:203.0.113.9"),
        Decision::Allow
    );
}

#[test]
fn without_an_allow_a_request_is_denied_and_an_explicit_deny_wins() {
    let only_get = r#"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
        "Resource": "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/GET/*"}}"#;
    assert_eq!(decide(only_get, GET_PETS, "10.0.0.1"), Decision::Allow);
    let post = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/POST/pets";
    assert_eq!(decide(only_get, post, "10.0.0.1"), Decision::ImplicitDeny);
    let deny_pets = r#"{"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "execute-api:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "execute-api:/*/*/pets/*"}]}"#;
    assert_eq!(
        decide(deny_pets, GET_PETS, "10.0.0.1"),
        Decision::ExplicitDeny
    );
    let root = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/GET/";
    assert_eq!(decide(deny_pets, root, "10.0.0.1"), Decision::Allow);
}

#[test]
fn statements_for_iam_principals_never_match_anonymous_callers() {
    let role_only = r#"{"Statement": {"Effect": "Allow",
        "Principal": {"AWS": ["arn:aws:iam::123456789012:role/developer"]},
        "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}}"#;
    assert_eq!(
        decide(role_only, GET_PETS, "10.0.0.1"),
        Decision::ImplicitDeny
    );
    let deny_all_but_role = r#"{"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
        {"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:role/admin"},
         "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]}"#;
    assert_eq!(
        decide(deny_all_but_role, GET_PETS, "10.0.0.1"),
        Decision::ExplicitDeny
    );
}

#[test]
fn wildcards_stay_inside_their_arn_part_and_not_forms_invert() {
    // `*` in the account part does not swallow the resource part's colons, and a pattern
    // for another API or region does not match.
    assert!(arn_match("arn:aws:execute-api:*:*:a1b2c3/*", GET_PETS));
    assert!(!arn_match("arn:aws:execute-api:*:*:zzz/*", GET_PETS));
    assert!(!arn_match(
        "arn:aws:execute-api:eu-west-1:*:a1b2c3/*",
        GET_PETS
    ));
    assert!(arn_match(
        "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/GET/pets/??",
        GET_PETS
    ));
    assert!(!arn_match(
        "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/GET/pets/?",
        GET_PETS
    ));
    assert!(!arn_match(
        "arn:aws:execute-api:us-east-1:123456789012",
        GET_PETS
    ));
    assert!(wildcard_match("a*b*c", "axxbyyc"));
    assert!(!wildcard_match("a*b*c", "axxbyy"));
    assert!(wildcard_match("**", ""));
    // `?` is one character, however many bytes it takes.
    assert!(wildcard_match("caf?", "café"));
    assert!(!wildcard_match("caf??", "café"));
    // A long run of stars against a long text that does not match ends quickly.
    let stars = "*a".repeat(500);
    assert!(!wildcard_match(&stars, &"a".repeat(400)));

    let not_resource = r#"{"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke",
         "NotResource": ["execute-api:/prod/GET/health", "execute-api:/prod/GET/"]}]}"#;
    let health = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/GET/health";
    assert_eq!(decide(not_resource, health, "10.0.0.1"), Decision::Allow);
    assert_eq!(
        decide(not_resource, GET_PETS, "10.0.0.1"),
        Decision::ExplicitDeny
    );
    let not_action = r#"{"Statement": [
        {"Effect": "Allow", "Principal": "*", "NotAction": "execute-api:InvalidateCache", "Resource": "*"}]}"#;
    assert_eq!(decide(not_action, GET_PETS, "10.0.0.1"), Decision::Allow);
    // Actions match whatever their case.
    let lower = r#"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "EXECUTE-API:invoke", "Resource": "*"}}"#;
    assert_eq!(decide(lower, GET_PETS, "10.0.0.1"), Decision::Allow);
}

fn with_condition(condition: &str) -> String {
    format!(
        r#"{{"Statement": {{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
            "Resource": "execute-api:/*", "Condition": {condition}}}}}"#
    )
}

fn holds(condition: &str) -> bool {
    decide(&with_condition(condition), GET_PETS, "10.1.2.3") == Decision::Allow
}

#[test]
fn conditions_follow_iam_for_present_and_missing_keys() {
    assert!(holds(r#"{"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}"#));
    assert!(!holds(
        r#"{"IpAddress": {"aws:SourceIp": ["192.168.0.0/16", "10.1.2.4"]}}"#
    ));
    // Keys are case-insensitive; several keys in a block and several blocks must all hold.
    assert!(holds(
        r#"{"IpAddress": {"AWS:SOURCEIP": "10.1.2.3/32"}, "StringLike": {"aws:UserAgent": "curl/*"}}"#
    ));
    assert!(!holds(
        r#"{"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}, "StringEquals": {"aws:UserAgent": "wget"}}"#
    ));
    assert!(holds(
        r#"{"StringEqualsIgnoreCase": {"aws:UserAgent": "CURL/8.5.0"}}"#
    ));
    assert!(holds(
        r#"{"StringNotEquals": {"aws:UserAgent": ["wget", "python"]}}"#
    ));
    // A key the request does not have: positive operators fail, negated ones hold,
    // IfExists holds, Null tells.
    assert!(!holds(
        r#"{"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c"}}"#
    ));
    assert!(holds(
        r#"{"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c"}}"#
    ));
    assert!(holds(
        r#"{"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1a2b3c"}}"#
    ));
    assert!(!holds(
        r#"{"StringEqualsIfExists": {"aws:UserAgent": "wget"}}"#
    ));
    assert!(holds(
        r#"{"Null": {"aws:SourceVpce": "true", "aws:SourceIp": "false"}}"#
    ));
    assert!(!holds(r#"{"Null": {"aws:Referer": false}}"#));
    assert!(holds(
        r#"{"ForAllValues:StringEquals": {"aws:PrincipalTag/team": "x"}}"#
    ));
    assert!(!holds(
        r#"{"ForAnyValue:StringEquals": {"aws:PrincipalTag/team": "x"}}"#
    ));
    // Times, numbers and flags.
    assert!(holds(
        r#"{"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}}"#
    ));
    assert!(!holds(
        r#"{"DateLessThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}}"#
    ));
    assert!(holds(
        r#"{"NumericLessThanEquals": {"aws:EpochTime": 1790000000}}"#
    ));
    assert!(!holds(
        r#"{"NumericNotEquals": {"aws:EpochTime": "1790000000"}}"#
    ));
    assert!(holds(r#"{"Bool": {"aws:SecureTransport": "false"}}"#));
    assert!(holds(
        r#"{"StringEquals": {"aws:PrincipalType": "Anonymous"}}"#
    ));
}

fn refused(text: &str) -> String {
    match check(text) {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => e.0,
    }
}

#[test]
fn malformed_documents_are_refused_with_the_reason() {
    assert!(
        refused("not json").contains("not JSON"),
        "{}",
        refused("not json")
    );
    assert!(refused("[]").contains("JSON object"));
    assert!(refused(r#"{"Version": "2012-10-17"}"#).contains("no Statement"));
    assert!(refused(r#"{"Statement": []}"#).contains("empty"));
    assert!(refused(r#"{"Version": "2020-01-01", "Statement": []}"#).contains("Version"));
    let statement = |fields: &str| refused(&format!(r#"{{"Statement": [{{{fields}}}]}}"#));
    assert!(
        statement(r#""Effect": "Permit", "Principal": "*", "Action": "*", "Resource": "*""#)
            .contains("Effect")
    );
    assert!(
        statement(r#""Effect": "Allow", "Action": "*", "Resource": "*""#).contains("Principal")
    );
    assert!(
        statement(r#""Effect": "Allow", "Principal": "me", "Action": "*", "Resource": "*""#)
            .contains("Principal")
    );
    assert!(
        statement(r#""Effect": "Allow", "Principal": "*", "Resource": "*""#).contains("Action")
    );
    assert!(
        statement(r#""Effect": "Allow", "Principal": "*", "Action": "Invoke", "Resource": "*""#)
            .contains("service:action")
    );
    assert!(
        statement(r#""Effect": "Allow", "Principal": "*", "Action": "*""#).contains("Resource")
    );
    assert!(
        statement(r#""Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "pets""#)
            .contains("ARN")
    );
    assert!(statement(r#""Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*", "Condition": {"IpAddres": {"aws:SourceIp": "1.2.3.4"}}"#).contains("unknown condition operator 'IpAddres'"));
    assert!(statement(r#""Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "1.2.3.400"}}"#).contains("1.2.3.400"));
    assert!(statement(r#""Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*", "Condition": {"DateLessThan": {"aws:CurrentTime": "tomorrow"}}"#).contains("not a date"));
    assert!(
        statement(
            r#""Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*", "Extra": 1"#
        )
        .contains("'Extra'")
    );
    // Statement numbers point at the culprit.
    let second = refused(
        r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}, {"Effect": "Allow"}]}"#,
    );
    assert!(second.contains("statement 2"), "{second}");
    // The limit counts the compact document: spaces are free, characters are not.
    let with_sid = |sid_len: usize, padding: usize| {
        format!(
            r#"{{"Statement": [{{"Sid": "{}", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "execute-api:/*"}}]}}{}"#,
            "s".repeat(sid_len),
            " ".repeat(padding)
        )
    };
    let fixed = with_sid(0, 0).replace(' ', "").len();
    let at_limit = with_sid(MAX_POLICY_BYTES - fixed, 10_000);
    let stored = normalize(&at_limit, SCOPE).unwrap();
    // What is stored, with its ARN written out, goes back in (Terraform sends it back).
    normalize(&stored, SCOPE).unwrap();
    let over = normalize(&with_sid(MAX_POLICY_BYTES - fixed + 1, 0), SCOPE).unwrap_err();
    assert!(over.0.contains("8192"), "{over}");
}

#[test]
fn invoke_arns_are_built_from_the_scope() {
    assert_eq!(SCOPE.invoke_arn("prod", "GET", "/pets/42"), GET_PETS);
    assert_eq!(
        SCOPE.invoke_arn("prod", "GET", "/"),
        "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/GET/"
    );
}

#[test]
fn stored_policies_take_aws_form_and_read_back_in_any_form() {
    let written = r#"{
      "Version": "2012-10-17",
      "Statement": [{"Sid": "pets", "Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
                     "Resource": ["execute-api:/prod/GET/pets/*", "arn:aws:execute-api:*:*:other/*"]}]
    }"#;
    let stored = normalize(written, SCOPE).unwrap();
    // Compact, keys in their written order, execute-api:/ written out, then escaped as the
    // body of a JSON string (what GetRestApi returns on AWS).
    assert_eq!(
        stored,
        r#"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"pets\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"execute-api:Invoke\",\"Resource\":[\"arn:aws:execute-api:us-east-1:123456789012:a1b2c3\/prod\/GET\/pets\/*\",\"arn:aws:execute-api:*:*:other\/*\"]}]}"#
    );
    // Storing it again changes nothing, and it reads back as the plain document.
    assert_eq!(normalize(&stored, SCOPE).unwrap(), stored);
    let plain: serde_json::Value = serde_json::from_str(&document(&stored)).unwrap();
    assert_eq!(
        plain["Statement"][0]["Resource"][0],
        "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/GET/pets/*"
    );
    assert_eq!(decide(&stored, GET_PETS, "10.0.0.1"), Decision::Allow);
    // A JSON string literal, as AWS's documentation submits one, is its content.
    let literal = serde_json::to_string(written).unwrap();
    assert_eq!(normalize(&literal, SCOPE).unwrap(), stored);
    assert_eq!(document("{\"a\":1}"), "{\"a\":1}");
}

#[test]
fn statements_naming_iam_principals_match_the_identities_that_signed() {
    let policy = parse(
        r#"{"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ["111122223333", "arn:aws:iam::444455556666:user/bob",
            "arn:aws:iam::777788889999:role/Ops"]}, "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
        {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::111122223333:user/mallory"},
            "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
            "Condition": {"StringEquals": {"aws:username": "eve"}}}]}"#,
    );
    let as_ = |arn: &'static str, account: &'static str, user_id: &'static str| {
        let mut r = request(GET_PETS, "10.0.0.1");
        r.principal = Some(Principal {
            arn,
            account_id: account,
            user_id,
        });
        policy.evaluate(&r)
    };
    assert_eq!(
        policy.evaluate(&request(GET_PETS, "10.0.0.1")),
        Decision::ImplicitDeny
    );
    assert_eq!(
        as_(
            "arn:aws:iam::111122223333:user/alice",
            "111122223333",
            "AIDA1"
        ),
        Decision::Allow
    );
    assert_eq!(
        as_(
            "arn:aws:iam::111122223333:root",
            "111122223333",
            "111122223333"
        ),
        Decision::Allow
    );
    assert_eq!(
        as_(
            "arn:aws:iam::111122223333:user/mallory",
            "111122223333",
            "AIDA2"
        ),
        Decision::ExplicitDeny
    );
    assert_eq!(
        as_(
            "arn:aws:iam::111122223333:user/eve",
            "111122223333",
            "AIDA3"
        ),
        Decision::ExplicitDeny
    );
    assert_eq!(
        as_(
            "arn:aws:iam::444455556666:user/bob",
            "444455556666",
            "AIDA4"
        ),
        Decision::Allow
    );
    assert_eq!(
        as_(
            "arn:aws:iam::444455556666:user/carol",
            "444455556666",
            "AIDA5"
        ),
        Decision::ImplicitDeny
    );
    assert_eq!(
        as_(
            "arn:aws:sts::777788889999:assumed-role/Ops/session-1",
            "777788889999",
            "AROA1:session-1"
        ),
        Decision::Allow
    );
    assert_eq!(
        as_(
            "arn:aws:sts::777788889999:assumed-role/Dev/session-1",
            "777788889999",
            "AROA2:session-1"
        ),
        Decision::ImplicitDeny
    );
}
