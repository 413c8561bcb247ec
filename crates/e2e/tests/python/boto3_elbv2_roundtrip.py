#!/usr/bin/env python3
"""Round trip of the unmodified boto3 elbv2 client against a running Causeway server.

Usage: boto3_elbv2_roundtrip.py ENDPOINT_URL

Exits 0 when every check passes; an AssertionError (or any other exception) fails the run.
botocore's query parser reads the XML answers here, so this checks the wire shapes the Rust
SDK tests do not: request ids in the body, timestamps, booleans, integers, empty lists.
"""

import datetime
import sys

import boto3
import botocore.config
from botocore.exceptions import ClientError


def step(text):
    print("==", text, flush=True)


def expect_error(code, call, *args, **kwargs):
    """Runs call and returns the ClientError with the given code it raised."""
    try:
        result = call(*args, **kwargs)
    except ClientError as error:
        got = error.response.get("Error", {}).get("Code")
        assert got == code, "expected %s, got %s" % (code, error.response)
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400, error.response
        return error
    raise AssertionError("expected %s, call succeeded with %r" % (code, result))


def main():
    assert len(sys.argv) == 2, "usage: boto3_elbv2_roundtrip.py ENDPOINT_URL"
    client = boto3.client(
        "elbv2",
        endpoint_url=sys.argv[1],
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=botocore.config.Config(retries={"total_max_attempts": 1}),
    )

    step("create_load_balancer (network, internal)")
    created = client.create_load_balancer(
        Name="py-nlb",
        Type="network",
        Scheme="internal",
        Subnets=["subnet-0aaa"],
        Tags=[{"Key": "env", "Value": "py"}],
    )
    lb = created["LoadBalancers"][0]
    lb_arn = lb["LoadBalancerArn"]
    assert lb["Type"] == "network", lb
    assert isinstance(lb["CreatedTime"], datetime.datetime), lb
    assert lb["AvailabilityZones"][0]["ZoneName"] == "us-east-1a", lb
    request_id = created["ResponseMetadata"]["RequestId"]
    assert request_id == created["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"], created

    step("create_target_group and register_targets")
    tg = client.create_target_group(
        Name="py-tg", Protocol="TCP", Port=8080, VpcId="vpc-1", TargetType="ip"
    )["TargetGroups"][0]
    tg_arn = tg["TargetGroupArn"]
    assert tg["Port"] == 8080 and tg["HealthCheckEnabled"] is True, tg
    assert tg["LoadBalancerArns"] == [], tg
    client.register_targets(TargetGroupArn=tg_arn, Targets=[{"Id": "10.255.3.1"}])

    step("create_listener and describe_listeners")
    listener = client.create_listener(
        LoadBalancerArn=lb_arn,
        Protocol="TCP",
        Port=10140,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}],
    )["Listeners"][0]
    listeners = client.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]
    assert [l["ListenerArn"] for l in listeners] == [listener["ListenerArn"]], listeners
    assert listeners[0]["DefaultActions"][0]["ForwardConfig"]["TargetGroups"][0]["Weight"] == 1

    step("describe_target_health")
    health = client.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
    assert health[0]["Target"] == {"Id": "10.255.3.1", "Port": 8080}, health
    assert health[0]["TargetHealth"]["State"] == "initial", health

    step("attributes")
    attrs = client.modify_target_group_attributes(
        TargetGroupArn=tg_arn,
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "10"}],
    )["Attributes"]
    assert {"Key": "deregistration_delay.timeout_seconds", "Value": "10"} in attrs, attrs
    idle = {"Key": "tcp.idle_timeout.seconds", "Value": "900"}
    attrs = client.modify_listener_attributes(
        ListenerArn=listener["ListenerArn"], Attributes=[idle]
    )["Attributes"]
    assert attrs == [idle], attrs
    attrs = client.describe_listener_attributes(ListenerArn=listener["ListenerArn"])
    assert attrs["Attributes"] == [idle], attrs
    error = expect_error(
        "ValidationError",
        client.modify_load_balancer_attributes,
        LoadBalancerArn=lb_arn,
        Attributes=[{"Key": "nope", "Value": "1"}],
    )
    assert error.response["Error"]["Message"] == (
        "Load balancer attribute key 'nope' is not recognized"
    ), error.response

    step("tags")
    tags = client.describe_tags(ResourceArns=[lb_arn])["TagDescriptions"][0]["Tags"]
    assert tags == [{"Key": "env", "Value": "py"}], tags

    step("paginator")
    pages = list(client.get_paginator("describe_target_groups").paginate(PageSize=1))
    assert sum(len(p["TargetGroups"]) for p in pages) == 1, pages

    step("errors are modeled exceptions")
    try:
        client.describe_load_balancers(Names=["missing"])
        raise AssertionError("describe of a missing load balancer succeeded")
    except client.exceptions.LoadBalancerNotFoundException as error:
        assert error.response["Error"]["Message"] == "Load balancers '[missing]' not found"
    expect_error(
        "DuplicateListener",
        client.create_listener,
        LoadBalancerArn=lb_arn,
        Protocol="TCP",
        Port=10140,
        DefaultActions=[
            {
                "Type": "forward",
                "TargetGroupArn": client.create_target_group(
                    Name="py-tg2", Protocol="TCP", Port=81, VpcId="vpc-1"
                )["TargetGroups"][0]["TargetGroupArn"],
            }
        ],
    )

    step("delete, then the load_balancers_deleted waiter")
    client.delete_load_balancer(LoadBalancerArn=lb_arn)
    client.get_waiter("load_balancers_deleted").wait(
        LoadBalancerArns=[lb_arn], WaiterConfig={"Delay": 1, "MaxAttempts": 5}
    )

    print("boto3 elbv2 round trip: OK", flush=True)


if __name__ == "__main__":
    main()
