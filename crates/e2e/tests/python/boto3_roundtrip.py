#!/usr/bin/env python3
"""Round trip of the unmodified boto3 client against a running Causeway server.

Usage: boto3_roundtrip.py ENDPOINT_URL

Exits 0 when every check passes; an AssertionError (or any other exception) fails the run.
Each step prints what it is doing so a failure is easy to place.
"""

import datetime
import json
import sys

import boto3
import botocore.config
from botocore.exceptions import ClientError

API_ID = "py1"
API_ARN = "arn:aws:apigateway:us-east-1::/restapis/" + API_ID
NLB_ARN = (
    "arn:aws:elasticloadbalancing:us-east-1:000000000000:"
    "loadbalancer/net/my-nlb/0123456789abcdef"
)


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
    assert len(sys.argv) == 2, "usage: boto3_roundtrip.py ENDPOINT_URL"
    endpoint = sys.argv[1]
    client = boto3.client(
        "apigateway",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        # Every error must surface at once, not after retries.
        config=botocore.config.Config(retries={"total_max_attempts": 1}),
    )
    exceptions = client.exceptions

    step("create_rest_api with a custom id")
    created = client.create_rest_api(
        name="boto3-roundtrip", tags={"_custom_id_": API_ID}
    )
    assert created["id"] == API_ID, created
    assert created["name"] == "boto3-roundtrip", created
    assert isinstance(created["createdDate"], datetime.datetime), created

    step("get_rest_api shows the tags")
    got = client.get_rest_api(restApiId=API_ID)
    assert got["id"] == API_ID, got
    assert got.get("tags", {}).get("_custom_id_") == API_ID, got
    assert isinstance(got["createdDate"], datetime.datetime), got

    step("root resource via get_resources")
    items = client.get_resources(restApiId=API_ID)["items"]
    roots = [r for r in items if r["path"] == "/"]
    assert len(roots) == 1, items
    root = roots[0]["id"]
    if "rootResourceId" in created:
        assert created["rootResourceId"] == root, (created, items)

    step("create_resource {proxy+}")
    proxy = client.create_resource(restApiId=API_ID, parentId=root, pathPart="{proxy+}")
    assert proxy["path"] == "/{proxy+}", proxy
    assert proxy["pathPart"] == "{proxy+}", proxy
    assert proxy["parentId"] == root, proxy

    step("put_method ANY NONE")
    method = client.put_method(
        restApiId=API_ID,
        resourceId=proxy["id"],
        httpMethod="ANY",
        authorizationType="NONE",
    )
    assert method["httpMethod"] == "ANY", method
    assert method["authorizationType"] == "NONE", method

    step("put_integration HTTP_PROXY over a VPC link from stage variables")
    integration_args = dict(
        restApiId=API_ID,
        resourceId=proxy["id"],
        httpMethod="ANY",
        type="HTTP_PROXY",
        integrationHttpMethod="ANY",
        connectionType="VPC_LINK",
        connectionId="${stageVariables.VPCLINK}",
        uri="http://${stageVariables.VPCNLB}/{proxy}",
    )
    put = client.put_integration(**integration_args)
    assert put["type"] == "HTTP_PROXY", put

    step("get_integration echoes it, with the default timeout")
    integration = client.get_integration(
        restApiId=API_ID, resourceId=proxy["id"], httpMethod="ANY"
    )
    assert integration["type"] == "HTTP_PROXY", integration
    assert integration["httpMethod"] == "ANY", integration
    assert integration["connectionType"] == "VPC_LINK", integration
    assert integration["connectionId"] == "${stageVariables.VPCLINK}", integration
    assert integration["uri"] == "http://${stageVariables.VPCNLB}/{proxy}", integration
    assert integration["timeoutInMillis"] == 29000, integration
    assert integration["passthroughBehavior"] == "WHEN_NO_MATCH", integration
    assert integration["cacheNamespace"] == proxy["id"], integration
    assert integration["cacheKeyParameters"] == [], integration

    step("create_deployment with a stage and variables")
    variables = {"VPCLINK": "abc123", "VPCNLB": "nlb.internal:8080"}
    deployment = client.create_deployment(
        restApiId=API_ID, stageName="prod", variables=variables
    )
    assert deployment["id"], deployment
    assert isinstance(deployment["createdDate"], datetime.datetime), deployment

    step("get_stage variables")
    stage = client.get_stage(restApiId=API_ID, stageName="prod")
    assert stage["stageName"] == "prod", stage
    assert stage["deploymentId"] == deployment["id"], stage
    assert stage.get("variables") == variables, stage
    assert isinstance(stage["createdDate"], datetime.datetime), stage
    assert isinstance(stage["lastUpdatedDate"], datetime.datetime), stage

    step("update_stage */* throttling rate limit")
    updated = client.update_stage(
        restApiId=API_ID,
        stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "100"}
        ],
    )
    assert updated["methodSettings"]["*/*"]["throttlingRateLimit"] == 100.0, updated
    again = client.get_stage(restApiId=API_ID, stageName="prod")
    assert again["methodSettings"]["*/*"]["throttlingRateLimit"] == 100.0, again

    step("create_deployment with canarySettings: the stage's canary, useStageCache false")
    first = client.create_deployment(
        restApiId=API_ID,
        stageName="prod",
        canarySettings={"percentTraffic": 10.0, "stageVariableOverrides": {"v": "c"}},
    )
    second = client.create_deployment(
        restApiId=API_ID, stageName="prod", canarySettings={"percentTraffic": 25.0}
    )
    stage = client.get_stage(restApiId=API_ID, stageName="prod")
    assert stage["deploymentId"] == first["id"], stage
    assert stage["canarySettings"]["deploymentId"] == second["id"], stage
    assert stage["canarySettings"]["percentTraffic"] == 25.0, stage
    assert stage["canarySettings"]["useStageCache"] is False, stage
    client.update_stage(
        restApiId=API_ID,
        stageName="prod",
        patchOperations=[{"op": "remove", "path": "/canarySettings"}],
    )

    step("update_rest_api /policy: kept in AWS's escaped form, ARNs written out")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": "execute-api:/*",
            }
        ],
    }
    updated = client.update_rest_api(
        restApiId=API_ID,
        patchOperations=[{"op": "replace", "path": "/policy", "value": json.dumps(policy)}],
    )
    stored = updated["policy"]
    assert "\\/" in stored and '\\"' in stored, stored
    # Read back as Terraform's provider does: the body of a JSON string, then JSON.
    document = json.loads(json.loads('"' + stored + '"'))
    assert document["Statement"][0]["Resource"] == (
        "arn:aws:execute-api:us-east-1:000000000000:%s/*" % API_ID
    ), document
    error = expect_error(
        exceptions.BadRequestException,
        client.update_rest_api,
        restApiId=API_ID,
        patchOperations=[{"op": "replace", "path": "/policy", "value": "{}"}],
    )
    assert "Statement" in str(error), error

    step("get_resources paginator over 31 resources with PageSize 7")
    for i in range(29):
        client.create_resource(restApiId=API_ID, parentId=root, pathPart="r%02d" % i)
    paginator = client.get_paginator("get_resources")
    seen = []
    pages = 0
    for page in paginator.paginate(
        restApiId=API_ID, PaginationConfig={"PageSize": 7}
    ):
        pages += 1
        assert len(page.get("items", [])) <= 7, page
        seen.extend(r["id"] for r in page.get("items", []))
    # root + {proxy+} + 29 more = 31
    assert len(seen) == 31, (len(seen), seen)
    assert len(set(seen)) == 31, ("duplicates", seen)
    assert pages == 5, pages

    step("get_rest_api on an unknown id raises NotFoundException")
    error = expect_error(exceptions.NotFoundException, client.get_rest_api, restApiId="nope")
    assert "Invalid API identifier specified" in error_message(error), error.response
    assert error_message(error).endswith(":nope"), error.response
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 404, error.response

    step("duplicate create_resource raises ConflictException")
    error = expect_error(
        exceptions.ConflictException,
        client.create_resource,
        restApiId=API_ID,
        parentId=root,
        pathPart="r00",
    )
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 409, error.response
    assert error_message(error) == (
        "Another resource with the same parent already has this name: r00"
    ), error.response

    step("create_stage with a bad variable name raises BadRequestException")
    error = expect_error(
        exceptions.BadRequestException,
        client.create_stage,
        restApiId=API_ID,
        stageName="bad",
        deploymentId=deployment["id"],
        variables={"bad-name!": "x"},
    )
    assert error_message(error) == (
        "Invalid stage variable name: bad-name!.  "
        "Please use names with only word characters."
    ), error.response
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400, error.response

    step("tag_resource / get_tags / untag_resource on the API ARN")
    client.tag_resource(resourceArn=API_ARN, tags={"team": "core", "env": "test"})
    tags = client.get_tags(resourceArn=API_ARN)["tags"]
    assert tags.get("team") == "core" and tags.get("env") == "test", tags
    client.untag_resource(resourceArn=API_ARN, tagKeys=["team"])
    tags = client.get_tags(resourceArn=API_ARN)["tags"]
    assert "team" not in tags, tags
    assert tags.get("env") == "test", tags

    step("create_vpc_link is PENDING and listed")
    link = client.create_vpc_link(name="py-link", targetArns=[NLB_ARN])
    assert link["status"] == "PENDING", link
    assert link["targetArns"] == [NLB_ARN], link
    links = client.get_vpc_links()["items"]
    assert link["id"] in [item["id"] for item in links], links

    step("client certificates: generate, get, list, update, delete")
    cert = client.generate_client_certificate(description="backend auth", tags={"k": "v"})
    cert_id = cert["clientCertificateId"]
    assert cert["pemEncodedCertificate"].startswith("-----BEGIN CERTIFICATE-----"), cert
    assert "privateKey" not in cert, cert
    assert (cert["expirationDate"] - cert["createdDate"]).days == 365, cert
    got = client.get_client_certificate(clientCertificateId=cert_id)
    assert got["pemEncodedCertificate"] == cert["pemEncodedCertificate"], got
    assert got["tags"] == {"k": "v"}, got
    listed = client.get_client_certificates()["items"]
    assert cert_id in [item["clientCertificateId"] for item in listed], listed
    got = client.update_client_certificate(
        clientCertificateId=cert_id,
        patchOperations=[{"op": "replace", "path": "/description", "value": "rotated"}],
    )
    assert got["description"] == "rotated", got
    client.delete_client_certificate(clientCertificateId=cert_id)
    expect_error(exceptions.NotFoundException, client.get_client_certificate,
                 clientCertificateId=cert_id)

    step("documentation: parts and versions")
    part = client.create_documentation_part(
        restApiId=API_ID, location={"type": "RESOURCE", "path": "/"},
        properties='{"description": "the root"}',
    )
    assert part["location"] == {"type": "RESOURCE", "path": "/"}, part
    parts = client.get_documentation_parts(restApiId=API_ID, type="RESOURCE")["items"]
    assert [p["id"] for p in parts] == [part["id"]], parts
    version = client.create_documentation_version(restApiId=API_ID, documentationVersion="1.0")
    assert version["version"] == "1.0", version
    versions = client.get_documentation_versions(restApiId=API_ID)["items"]
    assert [v["version"] for v in versions] == ["1.0"], versions
    imported = client.import_documentation_parts(
        restApiId=API_ID, mode="merge",
        body=json.dumps({"swagger": "2.0", "info": {"title": "t"}, "paths": {},
                         "x-amazon-apigateway-documentation": {"documentationParts": [
                             {"location": {"type": "API"}, "properties": {"description": "d"}}]}}),
    )
    assert len(imported["ids"]) == 1, imported
    client.delete_documentation_version(restApiId=API_ID, documentationVersion="1.0")
    client.delete_documentation_part(restApiId=API_ID, documentationPartId=part["id"])
    expect_error(exceptions.NotFoundException, client.get_documentation_part,
                 restApiId=API_ID, documentationPartId=part["id"])

    step("models: the defaults, create, get, update, template, delete")
    names = [m["name"] for m in client.get_models(restApiId=API_ID)["items"]]
    assert names == ["Empty", "Error"], names
    owner = client.create_model(
        restApiId=API_ID, name="Owner", contentType="application/json",
        schema='{"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}',
    )
    assert owner["name"] == "Owner" and len(owner["id"]) == 6, owner
    model = client.get_model(restApiId=API_ID, modelName="Owner", flatten=True)
    assert json.loads(model["schema"])["required"] == ["name"], model
    model = client.update_model(
        restApiId=API_ID, modelName="Owner",
        patchOperations=[{"op": "replace", "path": "/description", "value": "an owner"}],
    )
    assert model["description"] == "an owner", model
    template = client.get_model_template(restApiId=API_ID, modelName="Owner")["value"]
    assert '"name" : "$inputRoot.name"' in template, template
    expect_error(exceptions.ConflictException, client.create_model, restApiId=API_ID,
                 name="Owner", contentType="application/json", schema='{"type": "object"}')
    expect_error(exceptions.BadRequestException, client.create_model, restApiId=API_ID,
                 name="Bad", contentType="application/json", schema='{"type": 5}')

    step("request validators: create, list, update, delete")
    validator = client.create_request_validator(restApiId=API_ID, name="all",
                                                validateRequestBody=True, validateRequestParameters=True)
    assert validator["validateRequestBody"] is True, validator
    listed = client.get_request_validators(restApiId=API_ID)["items"]
    assert [v["id"] for v in listed] == [validator["id"]], listed
    updated = client.update_request_validator(
        restApiId=API_ID, requestValidatorId=validator["id"],
        patchOperations=[{"op": "replace", "path": "/validateRequestBody", "value": "false"}],
    )
    assert updated["validateRequestBody"] is False and updated["validateRequestParameters"] is True, updated
    client.delete_request_validator(restApiId=API_ID, requestValidatorId=validator["id"])
    expect_error(exceptions.NotFoundException, client.get_request_validator,
                 restApiId=API_ID, requestValidatorId=validator["id"])
    client.delete_model(restApiId=API_ID, modelName="Owner")
    expect_error(exceptions.NotFoundException, client.get_model, restApiId=API_ID, modelName="Owner")

    step("createdDate parses on get_rest_apis items")
    apis = client.get_rest_apis()["items"]
    assert any(item["id"] == API_ID for item in apis), apis
    for item in apis:
        assert isinstance(item["createdDate"], datetime.datetime), item

    step("delete_rest_api, then get_rest_api is NotFound")
    client.delete_rest_api(restApiId=API_ID)
    expect_error(exceptions.NotFoundException, client.get_rest_api, restApiId=API_ID)

    print("boto3 round trip: OK", flush=True)


if __name__ == "__main__":
    main()
