"""WAFv2 with the unmodified boto3 client: IP sets and web ACLs (SearchString as bytes, as
botocore sends blobs), paging, lock tokens, and a web ACL guarding a REST API stage.

Usage: boto3_wafv2.py ENDPOINT_URL GATEWAY_URL
"""
import sys
import time
import urllib.error
import urllib.request

import boto3
from botocore.exceptions import ClientError

endpoint, gateway = sys.argv[1], sys.argv[2]
waf = boto3.client("wafv2", endpoint_url=endpoint)
apigw = boto3.client("apigateway", endpoint_url=endpoint)

api = apigw.create_rest_api(name="waf")["id"]
root = apigw.get_resources(restApiId=api)["items"][0]["id"]
apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK",
                      requestTemplates={"application/json": '{"statusCode": 200}'})
apigw.put_method_response(restApiId=api, resourceId=root, httpMethod="GET", statusCode="200")
apigw.put_integration_response(restApiId=api, resourceId=root, httpMethod="GET", statusCode="200",
                               responseTemplates={"application/json": '{"ok": true}'})
apigw.create_deployment(restApiId=api, stageName="prod")
stage_arn = f"arn:aws:apigateway:us-east-1::/restapis/{api}/stages/prod"

url = f"{gateway}/restapis/{api}/prod/_user_request_/"
def answer(agent):
    """The status and error type (x-amzn-ErrorType up to its `:`) of a GET as `agent`."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"User-Agent": agent})) as got:
            return got.status, None
    except urllib.error.HTTPError as error:
        return error.code, (error.headers.get("x-amzn-ErrorType") or "").split(":")[0]

def until(agent, want):
    """GETs as `agent` until the answer is `want` (a change reaches the gateway a moment
    after the management API answers); fails with the last answer after 30 s."""
    deadline = time.time() + 30
    got = answer(agent)
    while got != want and time.time() < deadline:
        time.sleep(0.05)
        got = answer(agent)
    assert got == want, (agent, got, want)

# The stage is served before the web ACL comes: an unknown stage is a 403 too.
until("Mozilla/5.0", (200, None))

ip_set = waf.create_ip_set(Name="office", Scope="REGIONAL", IPAddressVersion="IPV4",
                           Addresses=["192.0.2.0/24"], Description="the office")["Summary"]
visibility = {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "m"}
rules = [
    {"Name": "office", "Priority": 0, "Action": {"Allow": {}}, "VisibilityConfig": visibility,
     "Statement": {"IPSetReferenceStatement": {"ARN": ip_set["ARN"]}}},
    {"Name": "no-curl", "Priority": 1, "Action": {"Block": {}}, "VisibilityConfig": visibility,
     "Statement": {"ByteMatchStatement": {"SearchString": b"curl/", "FieldToMatch": {"SingleHeader": {"Name": "user-agent"}},
                                          "TextTransformations": [{"Priority": 0, "Type": "LOWERCASE"}],
                                          "PositionalConstraint": "STARTS_WITH"}}},
]
acl = waf.create_web_acl(Name="edge", Scope="REGIONAL", DefaultAction={"Allow": {}},
                         VisibilityConfig=visibility, Rules=rules)["Summary"]
got = waf.get_web_acl(Name="edge", Scope="REGIONAL", Id=acl["Id"])
assert got["WebACL"]["Rules"][1]["Statement"]["ByteMatchStatement"]["SearchString"] == b"curl/", got
assert got["WebACL"]["Capacity"] == 1 + 2 + 10, got["WebACL"]["Capacity"]
assert got["LockToken"] == acl["LockToken"]

waf.associate_web_acl(WebACLArn=acl["ARN"], ResourceArn=stage_arn)
assert waf.get_web_acl_for_resource(ResourceArn=stage_arn)["WebACL"]["Name"] == "edge"
assert apigw.get_stage(restApiId=api, stageName="prod")["webAclArn"] == acl["ARN"]
assert waf.list_resources_for_web_acl(WebACLArn=acl["ARN"], ResourceType="API_GATEWAY")["ResourceArns"] == [stage_arn]

until("curl/8.5.0", (403, "ForbiddenException"))
assert answer("Mozilla/5.0") == (200, None)

try:
    waf.update_web_acl(Name="edge", Scope="REGIONAL", Id=acl["Id"], LockToken="00000000-0000-4000-8000-000000000000",
                       DefaultAction={"Allow": {}}, VisibilityConfig=visibility, Rules=[])
    raise SystemExit("a stale lock token was accepted")
except ClientError as error:
    assert error.response["Error"]["Code"] == "WAFOptimisticLockException", error.response
next_token = waf.update_web_acl(Name="edge", Scope="REGIONAL", Id=acl["Id"], LockToken=acl["LockToken"],
                                DefaultAction={"Allow": {}}, VisibilityConfig=visibility, Rules=[])["NextLockToken"]

try:
    waf.create_ip_set(Name="bad", Scope="REGIONAL", IPAddressVersion="IPV4", Addresses=["10.0.0.1/8"])
    raise SystemExit("a CIDR with host bits was accepted")
except ClientError as error:
    assert error.response["Error"]["Code"] == "WAFInvalidParameterException", error.response

names = []
paginator_args = {"Scope": "REGIONAL", "Limit": 1}
waf.create_ip_set(Name="second", Scope="REGIONAL", IPAddressVersion="IPV6", Addresses=["2001:db8::/32"])
page = waf.list_ip_sets(**paginator_args)
names += [s["Name"] for s in page["IPSets"]]
page = waf.list_ip_sets(NextMarker=page["NextMarker"], **paginator_args)
names += [s["Name"] for s in page["IPSets"]]
assert names == ["office", "second"], names

waf.disassociate_web_acl(ResourceArn=stage_arn)
assert "webAclArn" not in apigw.get_stage(restApiId=api, stageName="prod")
waf.delete_web_acl(Name="edge", Scope="REGIONAL", Id=acl["Id"], LockToken=next_token)
token = waf.get_ip_set(Name="office", Scope="REGIONAL", Id=ip_set["Id"])["LockToken"]
waf.delete_ip_set(Name="office", Scope="REGIONAL", Id=ip_set["Id"], LockToken=token)
assert [s["Name"] for s in waf.list_ip_sets(Scope="REGIONAL")["IPSets"]] == ["second"]

# Regex pattern sets, through boto3's own model of them.
regexes = waf.create_regex_pattern_set(
    Name="agents", Scope="REGIONAL", Description="bots",
    RegularExpressionList=[{"RegexString": "^curl/"}, {"RegexString": "wget"}],
)["Summary"]
got = waf.get_regex_pattern_set(Name="agents", Scope="REGIONAL", Id=regexes["Id"])
assert [r["RegexString"] for r in got["RegexPatternSet"]["RegularExpressionList"]] == ["^curl/", "wget"], got
assert [s["Name"] for s in waf.list_regex_pattern_sets(Scope="REGIONAL")["RegexPatternSets"]] == ["agents"]
next_token = waf.update_regex_pattern_set(
    Name="agents", Scope="REGIONAL", Id=regexes["Id"], LockToken=got["LockToken"],
    RegularExpressionList=[{"RegexString": "^curl/"}],
)["NextLockToken"]
capacity = waf.check_capacity(Scope="REGIONAL", Rules=[{
    "Name": "agents", "Priority": 0, "Action": {"Block": {}},
    "Statement": {"RegexPatternSetReferenceStatement": {"ARN": regexes["ARN"],
        "FieldToMatch": {"SingleHeader": {"Name": "user-agent"}},
        "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}},
    "VisibilityConfig": {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "agents"},
}])["Capacity"]
assert capacity == 25, capacity
waf.delete_regex_pattern_set(Name="agents", Scope="REGIONAL", Id=regexes["Id"], LockToken=next_token)

# Rule groups, and a web ACL that references one.
visibility = {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "g"}
group = waf.create_rule_group(
    Name="paths", Scope="REGIONAL", Capacity=20, VisibilityConfig=visibility,
    Rules=[{"Name": "admin", "Priority": 0, "Action": {"Block": {}}, "VisibilityConfig": visibility,
            "Statement": {"ByteMatchStatement": {"SearchString": b"/prod/admin", "FieldToMatch": {"UriPath": {}},
                          "TextTransformations": [{"Priority": 0, "Type": "NONE"}], "PositionalConstraint": "STARTS_WITH"}}}],
)["Summary"]
got = waf.get_rule_group(Name="paths", Scope="REGIONAL", Id=group["Id"])
assert got["RuleGroup"]["Capacity"] == 20, got
assert got["RuleGroup"]["Rules"][0]["Name"] == "admin", got
assert [g["Name"] for g in waf.list_rule_groups(Scope="REGIONAL")["RuleGroups"]] == ["paths"]
acl = waf.create_web_acl(
    Name="grouped", Scope="REGIONAL", DefaultAction={"Allow": {}}, VisibilityConfig=visibility,
    Rules=[{"Name": "paths", "Priority": 0, "OverrideAction": {"None": {}}, "VisibilityConfig": visibility,
            "Statement": {"RuleGroupReferenceStatement": {"ARN": group["ARN"],
                          "RuleActionOverrides": [{"Name": "admin", "ActionToUse": {"Count": {}}}]}}}],
)["Summary"]
assert waf.get_web_acl(Name="grouped", Scope="REGIONAL", Id=acl["Id"])["WebACL"]["Capacity"] == 20
token = waf.get_web_acl(Name="grouped", Scope="REGIONAL", Id=acl["Id"])["LockToken"]
waf.delete_web_acl(Name="grouped", Scope="REGIONAL", Id=acl["Id"], LockToken=token)
token = waf.get_rule_group(Name="paths", Scope="REGIONAL", Id=group["Id"])["LockToken"]
waf.delete_rule_group(Name="paths", Scope="REGIONAL", Id=group["Id"], LockToken=token)

# Tags, as Terraform reads them back after creating anything.
tagged = waf.create_ip_set(Name="tagged", Scope="REGIONAL", IPAddressVersion="IPV4",
                           Addresses=["198.51.100.0/24"], Tags=[{"Key": "owner", "Value": "me"}])["Summary"]
info = waf.list_tags_for_resource(ResourceARN=tagged["ARN"])["TagInfoForResource"]
assert info["TagList"] == [{"Key": "owner", "Value": "me"}], info
waf.tag_resource(ResourceARN=tagged["ARN"], Tags=[{"Key": "env", "Value": "test"}])
waf.untag_resource(ResourceARN=tagged["ARN"], TagKeys=["owner"])
info = waf.list_tags_for_resource(ResourceARN=tagged["ARN"])["TagInfoForResource"]
assert info["TagList"] == [{"Key": "env", "Value": "test"}], info
# AWS managed rule groups: discovered, described, and used with an override.
groups = [g["Name"] for g in waf.list_available_managed_rule_groups(Scope="REGIONAL")["ManagedRuleGroups"]]
assert "AWSManagedRulesCommonRuleSet" in groups, groups
described = waf.describe_managed_rule_group(VendorName="AWS", Name="AWSManagedRulesKnownBadInputsRuleSet", Scope="REGIONAL")
assert described["Capacity"] == 200, described
assert {"Name": "awswaf:managed:aws:known-bad-inputs:Host_Localhost_Header"} in described["AvailableLabels"], described
managed = waf.create_web_acl(
    Name="managed", Scope="REGIONAL", DefaultAction={"Allow": {}}, VisibilityConfig=visibility,
    Rules=[{"Name": "bad-inputs", "Priority": 0, "OverrideAction": {"None": {}}, "VisibilityConfig": visibility,
            "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesKnownBadInputsRuleSet",
                          "Version": "Version_1.20",
                          "RuleActionOverrides": [{"Name": "Host_localhost_HEADER", "ActionToUse": {"Count": {}}}]}}}],
)["Summary"]
assert waf.get_web_acl(Name="managed", Scope="REGIONAL", Id=managed["Id"])["WebACL"]["Capacity"] == 200
print("boto3 wafv2: OK")
