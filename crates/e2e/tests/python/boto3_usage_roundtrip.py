#!/usr/bin/env python3
"""API keys, usage plans and the account through the unmodified boto3 client.

Usage: boto3_usage_roundtrip.py ENDPOINT_URL

Exits 0 when every check passes; an AssertionError (or any other exception) fails the run.
Each step prints what it is doing so a failure is easy to place.
"""

import datetime
import sys

import boto3
import botocore.config
from botocore.exceptions import ClientError

API_ID = "pyu"
KEY_VALUE = "boto3-key-value-0123456789"


def step(text):
    print("==", text, flush=True)


def expect_error(exception_class, call, *args, **kwargs):
    """Runs call and returns the modeled exception it raised; fails if none or another."""
    try:
        result = call(*args, **kwargs)
    except exception_class as error:
        return error
    except ClientError as error:
        raise AssertionError(
            "expected %s, got %s: %s"
            % (exception_class.__name__, error.response.get("Error"), error)
        )
    raise AssertionError(
        "expected %s, call succeeded with %r" % (exception_class.__name__, result)
    )


def error_message(error):
    return error.response.get("Error", {}).get("Message", "")


def main():
    assert len(sys.argv) == 2, "usage: boto3_usage_roundtrip.py ENDPOINT_URL"
    client = boto3.client(
        "apigateway",
        endpoint_url=sys.argv[1],
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        # Every error must surface at once, not after retries.
        config=botocore.config.Config(retries={"total_max_attempts": 1}),
    )
    exceptions = client.exceptions

    step("an API with GET / deployed to prod")
    api = client.create_rest_api(name="usage", tags={"_custom_id_": API_ID})
    root = api["rootResourceId"]
    client.put_method(
        restApiId=API_ID, resourceId=root, httpMethod="GET", authorizationType="NONE",
        apiKeyRequired=True,
    )
    client.put_integration(
        restApiId=API_ID, resourceId=root, httpMethod="GET", type="MOCK"
    )
    client.create_deployment(restApiId=API_ID, stageName="prod")

    step("create_api_key with a value")
    key = client.create_api_key(
        name="boto3-key", value=KEY_VALUE, enabled=True, tags={"team": "py"}
    )
    assert key["value"] == KEY_VALUE, key
    assert key["enabled"] is True, key
    assert key["stageKeys"] == [], key
    assert isinstance(key["createdDate"], datetime.datetime), key
    key_id = key["id"]
    assert len(key_id) == 10, key

    step("get_api_key hides the value unless asked")
    got = client.get_api_key(apiKey=key_id)
    assert "value" not in got, got
    assert got["tags"] == {"team": "py"}, got
    got = client.get_api_key(apiKey=key_id, includeValue=True)
    assert got["value"] == KEY_VALUE, got

    step("create_api_key with a generated value")
    generated = client.create_api_key(name="boto3-generated")
    assert len(generated["value"]) == 40, generated
    assert generated["enabled"] is False, generated

    step("a taken value is a conflict")
    error = expect_error(
        exceptions.ConflictException, client.create_api_key, value=KEY_VALUE
    )
    assert error_message(error) == "API Key already exists", error.response

    step("get_api_keys by name prefix, with values, and the paginator")
    listed = client.get_api_keys(nameQuery="boto3-k", includeValues=True)["items"]
    assert [k["id"] for k in listed] == [key_id], listed
    assert listed[0]["value"] == KEY_VALUE, listed
    paged = [
        k["id"]
        for page in client.get_paginator("get_api_keys").paginate(
            PaginationConfig={"PageSize": 1}
        )
        for k in page["items"]
    ]
    assert sorted(paged) == sorted([key_id, generated["id"]]), paged

    step("update_api_key")
    updated = client.update_api_key(
        apiKey=key_id,
        patchOperations=[
            {"op": "replace", "path": "/description", "value": "from boto3"},
            {"op": "replace", "path": "/customerId", "value": "cust-py"},
        ],
    )
    assert updated["description"] == "from boto3", updated
    assert updated["customerId"] == "cust-py", updated
    assert "value" not in updated, updated

    step("create_usage_plan with a stage, a method throttle and a quota")
    plan = client.create_usage_plan(
        name="boto3-plan",
        apiStages=[
            {
                "apiId": API_ID,
                "stage": "prod",
                "throttle": {"//GET": {"burstLimit": 2, "rateLimit": 1.5}},
            }
        ],
        throttle={"burstLimit": 20, "rateLimit": 10.0},
        quota={"limit": 1000, "offset": 0, "period": "WEEK"},
    )
    plan_id = plan["id"]
    assert plan["apiStages"][0]["throttle"]["//GET"]["rateLimit"] == 1.5, plan
    assert plan["quota"]["period"] == "WEEK", plan
    assert "tags" not in plan, plan

    step("create_usage_plan_key")
    member = client.create_usage_plan_key(
        usagePlanId=plan_id, keyId=key_id, keyType="API_KEY"
    )
    assert member == {
        "id": key_id,
        "type": "API_KEY",
        "value": KEY_VALUE,
        "name": "boto3-key",
        "ResponseMetadata": member["ResponseMetadata"],
    }, member
    members = client.get_usage_plan_keys(usagePlanId=plan_id, nameQuery="boto3")["items"]
    assert [m["id"] for m in members] == [key_id], members
    plans = client.get_usage_plans(keyId=key_id)["items"]
    assert [p["id"] for p in plans] == [plan_id], plans

    step("a second plan for the same stage cannot take the key")
    other = client.create_usage_plan(
        name="boto3-other", apiStages=[{"apiId": API_ID, "stage": "prod"}]
    )
    error = expect_error(
        exceptions.ConflictException,
        client.create_usage_plan_key,
        usagePlanId=other["id"],
        keyId=key_id,
        keyType="API_KEY",
    )
    assert "cannot reference multiple Usage Plans" in error_message(error), error.response

    step("update_usage_plan: a method throttle by its escaped path")
    updated = client.update_usage_plan(
        usagePlanId=plan_id,
        patchOperations=[
            {
                "op": "replace",
                "path": "/apiStages/%s:prod/throttle/~1/GET/rateLimit" % API_ID,
                "value": "3",
            },
            {"op": "replace", "path": "/quota/limit", "value": "500"},
        ],
    )
    assert updated["apiStages"][0]["throttle"]["//GET"]["rateLimit"] == 3.0, updated
    assert updated["quota"]["limit"] == 500, updated

    step("import_api_keys from CSV into the other plan's sibling")
    imported = client.import_api_keys(
        body=b"name,key,enabled\nimported,imported-value-0123456789,false\n",
        format="csv",
    )
    assert len(imported["ids"]) == 1, imported
    got = client.get_api_key(apiKey=imported["ids"][0], includeValue=True)
    assert got["value"] == "imported-value-0123456789", got
    assert got["enabled"] is False, got

    step("tags on a usage plan")
    plan_arn = "arn:aws:apigateway:us-east-1::/usageplans/" + plan_id
    client.tag_resource(resourceArn=plan_arn, tags={"tier": "gold"})
    assert client.get_tags(resourceArn=plan_arn)["tags"] == {"tier": "gold"}
    assert client.get_usage_plan(usagePlanId=plan_id)["tags"] == {"tier": "gold"}

    step("get_account / update_account")
    account = client.get_account()
    assert account["throttleSettings"] == {"burstLimit": 5000, "rateLimit": 10000.0}, account
    assert account["features"] == ["UsagePlans"], account
    assert account["apiKeyVersion"] == "4", account
    role = "arn:aws:iam::123456789012:role/boto3-logs"
    account = client.update_account(
        patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}]
    )
    assert account["cloudwatchRoleArn"] == role, account

    step("a plan with stages cannot be deleted; without them it can")
    error = expect_error(
        exceptions.BadRequestException, client.delete_usage_plan, usagePlanId=plan_id
    )
    assert "because there are API Stages associated with it" in error_message(error)
    client.update_usage_plan(
        usagePlanId=plan_id,
        patchOperations=[
            {"op": "remove", "path": "/apiStages", "value": API_ID + ":prod"}
        ],
    )
    client.delete_usage_plan_key(usagePlanId=plan_id, keyId=key_id)
    client.delete_usage_plan(usagePlanId=plan_id)
    expect_error(exceptions.NotFoundException, client.get_usage_plan, usagePlanId=plan_id)

    step("delete_api_key")
    client.delete_api_key(apiKey=key_id)
    error = expect_error(exceptions.NotFoundException, client.get_api_key, apiKey=key_id)
    assert error_message(error) == "Invalid API Key identifier specified", error.response

    print("boto3 usage round trip: OK", flush=True)


if __name__ == "__main__":
    main()
