"""SigV4 with the unmodified Python clients against a server started with --credentials:
boto3 signs with a profile of the credentials file and gets in, a wrong secret is refused
with AWS's error, and botocore's own signer (SigV4Auth) calls an AWS_IAM method.

Usage: boto3_sigv4.py ADMIN_URL GATEWAY_URL (AWS_SHARED_CREDENTIALS_FILE names the file)
"""
import json
import sys
import time
import urllib.error
import urllib.request

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError

admin, gateway = sys.argv[1], sys.argv[2]
alice = boto3.Session(profile_name="alice", region_name="us-east-1")
apigw = alice.client("apigateway", endpoint_url=admin)
elbv2 = alice.client("elbv2", endpoint_url=admin)

api = apigw.create_rest_api(name="sigv4")["id"]
root = apigw.get_resources(restApiId=api)["items"][0]["id"]
apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="AWS_IAM")
apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK",
                      requestTemplates={"application/json": '{"statusCode": 200}'})
apigw.put_method_response(restApiId=api, resourceId=root, httpMethod="GET", statusCode="200")
apigw.put_integration_response(
    restApiId=api, resourceId=root, httpMethod="GET", statusCode="200",
    responseTemplates={"application/json": '{"userArn": "$context.identity.userArn"}'})
apigw.create_deployment(restApiId=api, stageName="prod")
elbv2.describe_load_balancers()

wrong = boto3.Session(aws_access_key_id="AKIDALICE", aws_secret_access_key="guess",
                      region_name="us-east-1").client("apigateway", endpoint_url=admin)
try:
    wrong.get_rest_apis()
    raise SystemExit("a wrong secret was accepted")
except ClientError as error:
    assert error.response["Error"]["Code"] == "InvalidSignatureException", error.response
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403, error.response

url = f"{gateway}/restapis/{api}/prod/_user_request_/?q=a%20b"
unsigned = urllib.request.Request(url)
try:
    urllib.request.urlopen(unsigned)
    raise SystemExit("an unsigned request was let in")
except urllib.error.HTTPError as error:
    assert error.code == 403, error.code
    assert error.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"

signed = AWSRequest(method="GET", url=url)
SigV4Auth(alice.get_credentials(), "execute-api", "us-east-1").add_auth(signed)
deadline = time.time() + 5
while True:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=dict(signed.headers))) as answer:
            body = json.loads(answer.read())
        break
    except urllib.error.HTTPError as error:
        if time.time() > deadline:
            raise SystemExit(f"signed invoke refused: {error.code} {error.read()!r}")
        time.sleep(0.05)
assert body == {"userArn": "arn:aws:iam::000000000000:user/alice"}, body
print("boto3 sigv4: OK")
