//! Drives [`Control::handle`] with arbitrary bytes, for the fuzz target and for a seeded random
//! test. Built only for tests and under `cfg(fuzzing)`.
//!
//! Random paths almost never name an existing API, so the input's first bytes pick a route
//! template filled with the ids of a small API set up beforehand; the rest is the body. That
//! way every operation's decoding and PATCH application sees hostile bodies. elbv2 templates
//! carry `Action` and the resource ARN in a query string; the body adds random form fields.

use std::sync::OnceLock;

use causeway_store::{Change, Record, SqliteStore, Store};

use crate::{Control, ControlConfig, Request};

/// A control plane with one API (`fz`), a `{proxy+}` resource with an integrated `ANY`
/// method, a deployment, a stage `prod`, a VPC link, and an API key in a usage plan for the
/// stage; returns it with the ids to aim at.
///
/// Every call answers a fresh control plane over a fresh store holding the same records:
/// they are made once (making them generates keys, RSA ones among them, which would
/// otherwise take most of each run's time), so a finding still reproduces from its input.
pub fn fixture() -> Option<(Control, Vec<String>)> {
    static MADE: OnceLock<Option<(Vec<Record>, Vec<String>)>> = OnceLock::new();
    let (records, paths) = MADE
        .get_or_init(|| {
            let (control, paths) = build()?;
            let records = control.lock().store.load().ok()?.records;
            Some((records, paths))
        })
        .as_ref()?;
    let mut store = SqliteStore::in_memory().ok()?;
    let copy: Vec<Change> = records
        .iter()
        .map(|r| Change::Put {
            kind: r.kind.clone(),
            key: r.key.clone(),
            body: r.body.clone(),
        })
        .collect();
    store.apply(0, &copy).ok()?;
    let control = Control::open(
        Box::new(store),
        ControlConfig::new("us-east-1", "000000000000"),
    )
    .ok()?;
    Some((control, paths.clone()))
}

/// Makes the fixture by calling the API.
fn build() -> Option<(Control, Vec<String>)> {
    let store = SqliteStore::in_memory().ok()?;
    let control = Control::open(
        Box::new(store),
        ControlConfig::new("us-east-1", "000000000000"),
    )
    .ok()?;
    let call = |method: &str, path: &str, body: &str| {
        let reply = control.handle(&Request {
            method: method.into(),
            path: path.into(),
            query: String::new(),
            body: body.as_bytes().to_vec(),
            accept: None,
            target: None,
        });
        serde_json::from_slice::<serde_json::Value>(&reply.body).unwrap_or_default()
    };
    let api = call(
        "POST",
        "/restapis",
        r#"{"name":"fz","tags":{"_custom_id_":"fz"}}"#,
    );
    let root = api["rootResourceId"].as_str()?.to_owned();
    let proxy = call(
        "POST",
        &format!("/restapis/fz/resources/{root}"),
        r#"{"pathPart":"{proxy+}"}"#,
    );
    let proxy = proxy["id"].as_str()?.to_owned();
    call(
        "PUT",
        &format!("/restapis/fz/resources/{proxy}/methods/ANY"),
        r#"{"authorizationType":"NONE"}"#,
    );
    call(
        "PUT",
        &format!("/restapis/fz/resources/{proxy}/methods/ANY/integration"),
        r#"{"type":"HTTP_PROXY","httpMethod":"ANY","uri":"http://x/{proxy}"}"#,
    );
    call(
        "PUT",
        &format!("/restapis/fz/resources/{proxy}/methods/ANY/responses/200"),
        "{}",
    );
    call(
        "PUT",
        &format!("/restapis/fz/resources/{proxy}/methods/ANY/integration/responses/200"),
        "{}",
    );
    let deployment = call(
        "POST",
        "/restapis/fz/deployments",
        r#"{"stageName":"prod"}"#,
    );
    let deployment = deployment["id"].as_str()?.to_owned();
    let link = call(
        "POST",
        "/vpclinks",
        r#"{"name":"l","targetArns":["arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/n/0123456789abcdef"]}"#,
    );
    let link = link["id"].as_str()?.to_owned();
    let link_v2 = call(
        "POST",
        "/v2/vpclinks",
        r#"{"name":"l2","subnetIds":["subnet-1"]}"#,
    );
    let link_v2 = link_v2["vpcLinkId"].as_str()?.to_owned();
    // An API key in a usage plan that covers the stage.
    let key = call("POST", "/apikeys", r#"{"name":"fz","enabled":true}"#);
    let key = key["id"].as_str()?.to_owned();
    let plan = call(
        "POST",
        "/usageplans",
        r#"{"name":"fz","apiStages":[{"apiId":"fz","stage":"prod"}],"throttle":{"burstLimit":1,"rateLimit":1}}"#,
    );
    let plan = plan["id"].as_str()?.to_owned();
    call(
        "POST",
        &format!("/usageplans/{plan}/keys"),
        &format!(r#"{{"keyId":"{key}","keyType":"API_KEY"}}"#),
    );
    // An NLB with a target group and a listener, for the elbv2 operations.
    let elb = |form: &str| -> String {
        let reply = control.handle(&Request {
            method: "POST".into(),
            path: "/".into(),
            query: String::new(),
            body: form.as_bytes().to_vec(),
            accept: None,
            target: None,
        });
        String::from_utf8_lossy(&reply.body).into_owned()
    };
    let between = |text: &str, tag: &str| -> Option<String> {
        let open = format!("<{tag}>");
        let start = text.find(&open)? + open.len();
        let len = text[start..].find('<')?;
        Some(text[start..start + len].to_owned())
    };
    let lb = between(
        &elb("Action=CreateLoadBalancer&Name=fz&Type=network&Subnets.member.1=subnet-1"),
        "LoadBalancerArn",
    )?;
    let tg = between(
        &elb("Action=CreateTargetGroup&Name=fz&Protocol=TCP&Port=80&TargetType=ip"),
        "TargetGroupArn",
    )?;
    let listener = between(
        &elb(&format!(
            "Action=CreateListener&LoadBalancerArn={lb}&Protocol=TCP&Port=80&DefaultActions.member.1.Type=forward&DefaultActions.member.1.TargetGroupArn={tg}"
        )),
        "ListenerArn",
    )?;
    // A model that names another, and a request validator.
    call(
        "POST",
        "/restapis/fz/models",
        r#"{"name":"Pet","contentType":"application/json","schema":"{\"type\":\"object\",\"properties\":{\"e\":{\"$ref\":\"https://apigateway.amazonaws.com/restapis/fz/models/Error\"}}}"}"#,
    );
    let validator = call(
        "POST",
        "/restapis/fz/requestvalidators",
        r#"{"name":"all","validateRequestBody":true,"validateRequestParameters":true}"#,
    );
    let validator = validator["id"].as_str()?.to_owned();
    let authorizer = call(
        "POST",
        "/restapis/fz/authorizers",
        r#"{"name":"tokens","type":"TOKEN","authorizerUri":"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:f/invocations","identitySource":"method.request.header.Authorization"}"#,
    );
    let authorizer = authorizer["id"].as_str()?.to_owned();
    // The custom domain's certificate, imported into ACM.
    let certificate = {
        use base64::Engine as _;
        let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
        let key = rcgen::KeyPair::generate().ok()?;
        let leaf = rcgen::CertificateParams::new(vec!["fz.example".to_owned()])
            .ok()?
            .self_signed(&key)
            .ok()?;
        let reply = control.handle(&Request {
            method: "POST".into(),
            path: "/".into(),
            query: String::new(),
            body: serde_json::json!({"Certificate": b64(&leaf.pem()), "PrivateKey": b64(&key.serialize_pem())})
                .to_string()
                .into_bytes(),
            accept: None,
            target: Some(format!("{}ImportCertificate", crate::acm::TARGET_PREFIX)),
        });
        serde_json::from_slice::<serde_json::Value>(&reply.body).ok()?["CertificateArn"]
            .as_str()?
            .to_owned()
    };
    let domain = call(
        "POST",
        "/domainnames",
        &format!(
            r#"{{"domainName":"fz.example","regionalCertificateArn":"{certificate}","endpointConfiguration":{{"types":["REGIONAL"]}}}}"#
        ),
    );
    domain["domainName"].as_str()?;
    // A domain routed by rules, then mappings, with a rule.
    let rules_domain = call(
        "POST",
        "/domainnames",
        &format!(
            r#"{{"domainName":"rules.fz.example","regionalCertificateArn":"{certificate}","endpointConfiguration":{{"types":["REGIONAL"]}},"routingMode":"ROUTING_RULE_THEN_BASE_PATH_MAPPING"}}"#
        ),
    );
    rules_domain["domainName"].as_str()?;
    let rule = call(
        "POST",
        "/v2/domainnames/rules.fz.example/routingrules",
        r#"{"priority":10,"conditions":[{"matchHeaders":{"anyOf":[{"header":"x-version","valueGlob":"beta*"}]}},{"matchBasePaths":{"anyOf":["orders/v2"]}}],"actions":[{"invokeApi":{"apiId":"fz","stage":"prod","stripBasePath":true}}]}"#,
    );
    let rule = rule["routingRuleId"].as_str()?.to_owned();
    // A domain with mutual TLS whose truststore is the input (see `mtls:` in `exercise`).
    let mtls_template = format!("mtls:{certificate}");
    call(
        "POST",
        "/domainnames/fz.example/basepathmappings",
        r#"{"basePath":"v1","restApiId":"fz","stage":"prod"}"#,
    );
    // A multi-level API mapping.
    let mapping = call(
        "POST",
        "/v2/domainnames/fz.example/apimappings",
        r#"{"apiMappingKey":"orders/v2","apiId":"fz","stage":"prod"}"#,
    );
    let mapping = mapping["apiMappingId"].as_str()?.to_owned();
    // A documentation part, and a version of it that the stage names.
    let part = call(
        "POST",
        "/restapis/fz/documentation/parts",
        r#"{"location":{"type":"METHOD","path":"/{proxy+}","method":"ANY"},"properties":"{\"summary\":\"fz\"}"}"#,
    );
    let part = part["id"].as_str()?.to_owned();
    call(
        "POST",
        "/restapis/fz/documentation/versions",
        r#"{"documentationVersion":"v1","stageName":"prod"}"#,
    );
    // A client certificate the stage shows its backends.
    let certificate = call("POST", "/clientcertificates", r#"{"description":"fz"}"#);
    let certificate = certificate["clientCertificateId"].as_str()?.to_owned();
    call(
        "PATCH",
        "/restapis/fz/stages/prod",
        &format!(
            r#"{{"patchOperations":[{{"op":"replace","path":"/clientCertificateId","value":"{certificate}"}}]}}"#
        ),
    );
    // WAF: an IP set and a web ACL that uses it, guarding the stage.
    let waf = |operation: &str, body: &str| {
        let reply = control.handle(&Request {
            method: "POST".into(),
            path: "/".into(),
            query: String::new(),
            body: body.as_bytes().to_vec(),
            accept: None,
            target: Some(format!("{}{operation}", crate::waf::TARGET_PREFIX)),
        });
        serde_json::from_slice::<serde_json::Value>(&reply.body).unwrap_or_default()
    };
    let set = waf(
        "CreateIPSet",
        r#"{"Name":"fz","Scope":"REGIONAL","IPAddressVersion":"IPV4","Addresses":["192.0.2.0/24"]}"#,
    );
    let set_arn = set["Summary"]["ARN"].as_str()?.to_owned();
    let regexes = waf(
        "CreateRegexPatternSet",
        r#"{"Name":"fz","Scope":"REGIONAL","RegularExpressionList":[{"RegexString":"^curl/"}]}"#,
    );
    let regex_arn = regexes["Summary"]["ARN"].as_str()?.to_owned();
    let acl = waf(
        "CreateWebACL",
        &format!(
            r#"{{"Name":"fz","Scope":"REGIONAL","DefaultAction":{{"Allow":{{}}}},"VisibilityConfig":{{"SampledRequestsEnabled":false,"CloudWatchMetricsEnabled":false,"MetricName":"fz"}},"Rules":[{{"Name":"ips","Priority":0,"Statement":{{"IPSetReferenceStatement":{{"ARN":"{set_arn}"}}}},"Action":{{"Block":{{}}}},"VisibilityConfig":{{"SampledRequestsEnabled":false,"CloudWatchMetricsEnabled":false,"MetricName":"ips"}}}},{{"Name":"bots","Priority":1,"Statement":{{"RegexPatternSetReferenceStatement":{{"ARN":"{regex_arn}","FieldToMatch":{{"SingleHeader":{{"Name":"user-agent"}}}},"TextTransformations":[{{"Priority":0,"Type":"LOWERCASE"}}]}}}},"Action":{{"Count":{{}}}},"VisibilityConfig":{{"SampledRequestsEnabled":false,"CloudWatchMetricsEnabled":false,"MetricName":"bots"}}}}]}}"#
        ),
    );
    // The web ACL exists only if both rules compiled.
    let acl_arn = acl["Summary"]["ARN"].as_str()?.to_owned();
    waf(
        "AssociateWebACL",
        &format!(
            r#"{{"WebACLArn":"{acl_arn}","ResourceArn":"arn:aws:apigateway:us-east-1::/restapis/fz/stages/prod"}}"#
        ),
    );
    let m = format!("/restapis/fz/resources/{proxy}/methods/ANY");
    let paths = vec![
        "/restapis/fz/models".to_owned(),
        "/restapis/fz/models/Pet".to_owned(),
        "/restapis/fz/models/Error".to_owned(),
        "/restapis/fz/models/Pet/default_template".to_owned(),
        "/restapis/fz/requestvalidators".to_owned(),
        format!("/restapis/fz/requestvalidators/{validator}"),
        "/restapis/fz/authorizers".to_owned(),
        format!("/restapis/fz/authorizers/{authorizer}"),
        "/restapis/fz/stages/prod/cache/authorizers".to_owned(),
        "/domainnames".to_owned(),
        "/domainnames/fz.example".to_owned(),
        "/domainnames/fz.example/basepathmappings".to_owned(),
        "/domainnames/fz.example/basepathmappings/v1".to_owned(),
        "/domainnames/fz.example/basepathmappings/%28none%29".to_owned(),
        "/v2/domainnames".to_owned(),
        "/v2/domainnames/fz.example".to_owned(),
        "/v2/domainnames/fz.example/apimappings".to_owned(),
        "/v2/domainnames/fz.example/apimappings?maxResults=1".to_owned(),
        format!("/v2/domainnames/fz.example/apimappings/{mapping}"),
        "/v2/domainnames/rules.fz.example/routingrules".to_owned(),
        "/v2/domainnames/rules.fz.example/routingrules?maxResults=1".to_owned(),
        format!("/v2/domainnames/rules.fz.example/routingrules/{rule}"),
        "/tags/arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Fdomainnames%2Ffz.example".to_owned(),
        "/restapis".to_owned(),
        "/restapis/fz".to_owned(),
        "/restapis/fz/resources".to_owned(),
        format!("/restapis/fz/resources/{root}"),
        format!("/restapis/fz/resources/{proxy}"),
        m.clone(),
        format!("{m}/responses/200"),
        format!("{m}/integration"),
        format!("{m}/integration/responses/200"),
        "/restapis/fz/deployments".to_owned(),
        format!("/restapis/fz/deployments/{deployment}"),
        "/restapis/fz/stages".to_owned(),
        "/restapis/fz/stages/prod".to_owned(),
        "/restapis/fz/gatewayresponses".to_owned(),
        "/restapis/fz/gatewayresponses/THROTTLED".to_owned(),
        "/vpclinks".to_owned(),
        format!("/vpclinks/{link}"),
        "/v2/vpclinks".to_owned(),
        format!("/v2/vpclinks/{link_v2}"),
        "/v2/vpclinks?maxResults=1".to_owned(),
        "/restapis/fz/documentation/parts".to_owned(),
        format!("/restapis/fz/documentation/parts/{part}"),
        "/restapis/fz/documentation/parts?mode=overwrite&failonwarnings=true".to_owned(),
        "/restapis/fz/documentation/versions".to_owned(),
        "/restapis/fz/documentation/versions/v1".to_owned(),
        "/clientcertificates".to_owned(),
        format!("/clientcertificates/{certificate}"),
        format!(
            "/tags/arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Fclientcertificates%2F{certificate}"
        ),
        "/tags/arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Frestapis%2Ffz".to_owned(),
        "/apikeys".to_owned(),
        format!("/apikeys/{key}"),
        "/apikeys?mode=import&format=csv".to_owned(),
        // OpenAPI: the body is the document (POST imports, PUT merges or overwrites).
        "/restapis?mode=import&failonwarnings=true".to_owned(),
        "/restapis/fz?mode=overwrite&basepath=prepend".to_owned(),
        "/restapis/fz/stages/prod/exports/oas30?extensions=integrations".to_owned(),
        "/restapis/fz/stages/prod/exports/swagger?extensions=apigateway".to_owned(),
        "/restapis/fz/stages/prod/exports/oas30?extensions=authorizers".to_owned(),
        "/usageplans".to_owned(),
        format!("/usageplans/{plan}"),
        format!("/usageplans/{plan}/keys"),
        format!("/usageplans/{plan}/keys/{key}"),
        "/account".to_owned(),
        // elbv2: the query names the operation and its resource; the body adds the rest.
        "/?Action=CreateLoadBalancer&Type=network".to_owned(),
        format!("/?Action=DescribeLoadBalancers&LoadBalancerArns.member.1={lb}"),
        format!("/?Action=ModifyLoadBalancerAttributes&LoadBalancerArn={lb}"),
        format!("/?Action=SetSecurityGroups&LoadBalancerArn={lb}"),
        "/?Action=CreateTargetGroup".to_owned(),
        format!("/?Action=ModifyTargetGroup&TargetGroupArn={tg}"),
        format!("/?Action=ModifyTargetGroupAttributes&TargetGroupArn={tg}"),
        format!("/?Action=RegisterTargets&TargetGroupArn={tg}"),
        format!("/?Action=DeregisterTargets&TargetGroupArn={tg}"),
        format!("/?Action=DescribeTargetHealth&TargetGroupArn={tg}"),
        format!("/?Action=CreateListener&LoadBalancerArn={lb}"),
        format!("/?Action=ModifyListener&ListenerArn={listener}"),
        format!("/?Action=AddTags&ResourceArns.member.1={lb}&ResourceArns.member.2={listener}"),
        "/?Action=DescribeTargetGroups".to_owned(),
        "/?Action=DescribeListeners".to_owned(),
        format!("/?Action=ModifyListenerAttributes&ListenerArn={listener}"),
        format!("/?Action=DescribeListenerAttributes&ListenerArn={listener}"),
        format!("/?Action=SetSubnets&LoadBalancerArn={lb}"),
        format!("/?Action=SetIpAddressType&LoadBalancerArn={lb}"),
        "/?Action=DescribeSSLPolicies".to_owned(),
        "/?Action=DescribeAccountLimits".to_owned(),
        format!("/?Action=ModifyCapacityReservation&LoadBalancerArn={lb}"),
        format!("/?Action=DescribeCapacityReservation&LoadBalancerArn={lb}"),
    ];
    // WAF templates (`waf:<Operation>`): the body is the operation's JSON.
    let mut paths = paths;
    for operation in [
        "CreateIPSet",
        "GetIPSet",
        "UpdateIPSet",
        "DeleteIPSet",
        "ListIPSets",
        "CreateRegexPatternSet",
        "GetRegexPatternSet",
        "UpdateRegexPatternSet",
        "DeleteRegexPatternSet",
        "ListRegexPatternSets",
        "CreateRuleGroup",
        "GetRuleGroup",
        "UpdateRuleGroup",
        "DeleteRuleGroup",
        "ListRuleGroups",
        "CreateWebACL",
        "GetWebACL",
        "UpdateWebACL",
        "DeleteWebACL",
        "ListWebACLs",
        "AssociateWebACL",
        "DisassociateWebACL",
        "GetWebACLForResource",
        "ListResourcesForWebACL",
        "CheckCapacity",
        "ListAvailableManagedRuleGroups",
        "DescribeManagedRuleGroup",
        "ListAvailableManagedRuleGroupVersions",
        "TagResource",
        "UntagResource",
        "ListTagsForResource",
    ] {
        paths.push(format!("waf:{operation}"));
    }
    for operation in [
        "ImportCertificate",
        "RequestCertificate",
        "ExportCertificate",
        "UpdateCertificateOptions",
        "DescribeCertificate",
        "GetCertificate",
        "ListCertificates",
        "DeleteCertificate",
        "AddTagsToCertificate",
        "RemoveTagsFromCertificate",
        "ListTagsForCertificate",
    ] {
        paths.push(format!("acm:{operation}"));
    }
    // ImportCertificate with the input as the certificate's DER (and a valid key), so that
    // the certificate reader sees arbitrary bytes.
    let key = rcgen::KeyPair::generate().ok()?.serialize_pem();
    paths.push(format!("acm-der:{key}"));
    paths.push(mtls_template);
    Some((control, paths))
}

const METHODS: &[&str] = &["GET", "PUT", "POST", "PATCH", "DELETE"];

/// Sends one request built from `data` and checks the invariants every reply must keep.
pub fn exercise(control: &Control, paths: &[String], data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Some((&verb, rest)) = rest.split_first() else {
        return;
    };
    let method = METHODS[usize::from(verb) % METHODS.len()];
    // One selector value in 16 takes the path from the input itself.
    let mut target = None;
    let mut method = method;
    let mut truststore = None;
    let (path, query, body) = if selector % 16 == 15 {
        let text = String::from_utf8_lossy(rest);
        let (head, body) = text.split_once('\n').unwrap_or((&text, ""));
        let (path, query) = head.split_once('?').unwrap_or((head, ""));
        (path.to_owned(), query.to_owned(), body.as_bytes().to_vec())
    } else {
        let template = &paths[usize::from(selector) % paths.len()];
        if let Some(operation) = template.strip_prefix("waf:") {
            target = Some(format!("{}{operation}", crate::waf::TARGET_PREFIX));
            method = "POST";
            ("/".to_owned(), String::new(), rest.to_vec())
        } else if let Some(operation) = template.strip_prefix("acm:") {
            target = Some(format!("{}{operation}", crate::acm::TARGET_PREFIX));
            method = "POST";
            ("/".to_owned(), String::new(), rest.to_vec())
        } else if let Some(certificate) = template.strip_prefix("mtls:") {
            // CreateDomainName with mutual TLS; the input is the truststore S3 answers
            // with, as it is or (first byte odd) as the DER of a PEM certificate.
            use base64::Engine as _;
            truststore = Some(match rest.split_first() {
                Some((first, der)) if first % 2 == 1 => format!(
                    "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
                    base64::engine::general_purpose::STANDARD.encode(der)
                )
                .into_bytes(),
                _ => rest.to_vec(),
            });
            method = "POST";
            let body = format!(
                r#"{{"domainName":"mtls.fz.example","regionalCertificateArn":"{certificate}","endpointConfiguration":{{"types":["REGIONAL"]}},"mutualTlsAuthentication":{{"truststoreUri":"s3://truststores/fz.pem"}}}}"#
            );
            ("/domainnames".to_owned(), String::new(), body.into_bytes())
        } else if let Some(key) = template.strip_prefix("acm-der:") {
            use base64::Engine as _;
            let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
            let pem = format!(
                "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
                b64(rest)
            );
            target = Some(format!("{}ImportCertificate", crate::acm::TARGET_PREFIX));
            method = "POST";
            let body = serde_json::json!({"Certificate": b64(pem.as_bytes()), "PrivateKey": b64(key.as_bytes())});
            ("/".to_owned(), String::new(), body.to_string().into_bytes())
        } else {
            let (path, query) = template.split_once('?').unwrap_or((template, ""));
            (path.to_owned(), query.to_owned(), rest.to_vec())
        }
    };
    let request = Request {
        method: method.to_owned(),
        path,
        query,
        body,
        accept: None,
        target,
    };
    let mut reply = control.handle(&request);
    // A truststore to read from S3: the input's bytes stand for the object.
    if let Some(crate::Deferred::FetchTruststore(fetch)) = reply.deferred.take() {
        let fetched = crate::Fetched {
            fetch: *fetch,
            body: Ok(truststore.unwrap_or_else(|| request.body.clone())),
        };
        reply = control.handle_fetched(&request, &fetched);
    }
    assert!(
        reply.status < 500,
        "a client request got {}: {}",
        reply.status,
        String::from_utf8_lossy(&reply.body)
    );
    if reply.status >= 400 {
        assert!(
            reply.error_code.is_some(),
            "an error without x-amzn-ErrorType"
        );
        if reply.content_type == "text/xml" {
            // elbv2 errors: the XML envelope with a code and a message.
            let body = String::from_utf8_lossy(&reply.body);
            assert!(
                body.starts_with("<ErrorResponse")
                    && body.contains("<Code>")
                    && body.contains("<Message>"),
                "an elbv2 error without its envelope: {body}"
            );
        } else if reply.content_type == crate::json11::CONTENT_TYPE {
            // WAF and ACM errors: `__type` and the model's `Message` (or `message`).
            let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap_or_default();
            assert!(
                body["__type"].is_string()
                    && (body["Message"].is_string() || body["message"].is_string()),
                "a WAF error without its type or message: {body}"
            );
        } else {
            let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap_or_default();
            assert!(
                body["message"].is_string(),
                "an error body without a message"
            );
        }
    }
}
