#!/usr/bin/env bash
# Scenario command for ../shared/bench/run.sh --x: starts `causeway serve` (release build)
# and configures it with the aws CLI so that {PORT} serves one of three paths:
#   nlb      client → NLB listener on 127.0.0.1:{PORT} → backend            (compare with d)
#   nlb-tls  client → NLB TLS listener on 127.0.0.1:{PORT} (terminating TLS with a certificate
#            imported into ACM: ECDSA P-256, in {TMP}/tls) → backend in the clear
#            (compare with bench/x-haproxy-tls.sh, HAProxy terminating TLS with the same kind of key)
#   private  client → gateway on {PORT} → VPC link → NLB → backend          (compare with e)
#   internet client → gateway on {PORT} → HTTP_PROXY over the internet → backend (compare with b)
#   internet-cached  as internet, with the stage cache on (GETs kept for an hour, keyed by
#            path): after the first request, answers come from the cache. The stage-wide
#            method setting that turns caching on also brings AWS's default stage throttle
#            (10,000 requests per second), which would cap the benchmark: it is raised too.
#            (compare with bench/x-nginx-cache.sh, nginx's proxy_cache)
#   internet-logged  as internet, with a stage access log (a JSON line of eleven
#            $context values per request, written to a file under the data folder)
#            (compare with internet: the access log's cost)
#   internet-waf  as internet, with a WAF web ACL on the stage: an IP set block list (that
#            does not hold the client), a user-agent byte match, a path regex, and a
#            rate-based rule whose limit is never reached  (compare with internet: WAF's cost)
#   internet-redis  as internet, with throttles counted in a Redis server of its own
#            (`--redis-url`, redis-server on {PORT}+500): every request runs the limiter's
#            script in Redis for the account throttle  (compare with internet: Redis's cost)
#   tunnel   as private, with the NLB run by `causeway nlb-node`, reached through its outbound
#            tunnel (TLS + HTTP/2) instead of a direct connection                (compare with private, e)
#   private-keyed  as private, with apiKeyRequired and a usage plan (throttle and quota) that
#            counts every request; send the header `x-api-key: causeway-bench-key-0123456789`
# Usage: x-causeway.sh MODE PORT BACKEND TMP
# CAUSEWAY_BIN: the binary to run (default: target/release/causeway; bench/pgo-build.sh
# makes target/pgo/causeway).
# Runs in the foreground (the harness stops its process group at the end).
set -euo pipefail
MODE="${1:?mode: nlb|nlb-tls|private|private-keyed|tunnel|internet|internet-cached|internet-logged|internet-waf|internet-redis}"; PORT="${2:?port}"; BACKEND="${3:?backend host:port}"; DIR="${4:-$(mktemp -d)}"
HERE="$(cd "$(dirname "$0")" && pwd)"
BIN="${CAUSEWAY_BIN:-$HERE/../target/release/causeway}"
ADMIN_PORT=$((PORT + 100))
NLB_PORT=$PORT
GATEWAY_PORT=$((PORT + 200))
if [ "$MODE" != nlb ] && [ "$MODE" != nlb-tls ]; then NLB_PORT=$((PORT + 300)); GATEWAY_PORT=$PORT; fi
LINK_PORT=$((PORT + 400))
# The account throttle (AWS default 10,000 rps) would cap the benchmark, not the gateway.
ACCOUNT_LIMITS="--account-rate-limit 100000000 --account-burst-limit 100000000"

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_MAX_ATTEMPTS=1
aws() { command aws --endpoint-url "http://127.0.0.1:$ADMIN_PORT" --output text "$@"; }

REDIS=""
if [ "$MODE" = internet-redis ]; then
  REDIS_PORT=$((PORT + 500))
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$DIR" > "$DIR/redis.out" 2>&1 &
  for _ in $(seq 1 100); do
    redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
  done
  REDIS="--redis-url redis://127.0.0.1:$REDIS_PORT/"
fi

# The NLB gets the first address of the range: 127.0.0.1 (a /30 has two usable addresses).
CAUSEWAY_LOG=warn "$BIN" serve --data-dir "$DIR/data" --admin-listen "127.0.0.1:$ADMIN_PORT" \
  --gateway-listen "127.0.0.1:$GATEWAY_PORT" --nlb-address-range 127.0.0.0/30 --link-listen "127.0.0.1:$LINK_PORT" $ACCOUNT_LIMITS $REDIS > "$DIR/causeway.out" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do
  grep -q "admin listening" "$DIR/causeway.out" 2>/dev/null && break
  sleep 0.1
done

BACKEND_HOST="${BACKEND%:*}"; BACKEND_PORT="${BACKEND##*:}"
if [ "$MODE" != internet ] && [ "$MODE" != internet-cached ] && [ "$MODE" != internet-logged ] && [ "$MODE" != internet-waf ] && [ "$MODE" != internet-redis ]; then
  LB=$(aws elbv2 create-load-balancer --name bench --type network --scheme internal \
        --subnets subnet-bench --query 'LoadBalancers[0].LoadBalancerArn')
  DNS=$(aws elbv2 describe-load-balancers --load-balancer-arns "$LB" --query 'LoadBalancers[0].DNSName')
  TG=$(aws elbv2 create-target-group --name bench --protocol TCP --port "$BACKEND_PORT" \
        --vpc-id vpc-bench --target-type ip --query 'TargetGroups[0].TargetGroupArn')
  aws elbv2 register-targets --target-group-arn "$TG" --targets "Id=$BACKEND_HOST,Port=$BACKEND_PORT" > /dev/null
  if [ "$MODE" = nlb-tls ]; then
    mkdir -p "$DIR/tls"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
      -keyout "$DIR/tls/key.pem" -out "$DIR/tls/cert.pem" -subj /CN=localhost \
      -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2> /dev/null
    CERT=$(aws acm import-certificate --certificate "fileb://$DIR/tls/cert.pem" \
      --private-key "fileb://$DIR/tls/key.pem" --query CertificateArn)
    aws elbv2 create-listener --load-balancer-arn "$LB" --protocol TLS --port "$NLB_PORT" \
          --certificates "CertificateArn=$CERT" \
          --default-actions "Type=forward,TargetGroupArn=$TG" > /dev/null
  else
    aws elbv2 create-listener --load-balancer-arn "$LB" --protocol TCP --port "$NLB_PORT" \
          --default-actions "Type=forward,TargetGroupArn=$TG" > /dev/null
  fi
fi
if [ "$MODE" != nlb ] && [ "$MODE" != nlb-tls ]; then
  aws apigateway create-rest-api --name bench --tags _custom_id_=bench > /dev/null
  ROOT=$(aws apigateway get-resources --rest-api-id bench --query 'items[0].id')
  PROXY=$(aws apigateway create-resource --rest-api-id bench --parent-id "$ROOT" --path-part '{proxy+}' --query id)
  KEYED=false; [ "$MODE" = private-keyed ] && KEYED=true
  if $KEYED; then
    aws apigateway put-method --rest-api-id bench --resource-id "$PROXY" --http-method ANY --authorization-type NONE --api-key-required > /dev/null
  else
    aws apigateway put-method --rest-api-id bench --resource-id "$PROXY" --http-method ANY --authorization-type NONE > /dev/null
  fi
  if [ "$MODE" = tunnel ]; then
    NODE=$(curl -s -X POST "http://127.0.0.1:$ADMIN_PORT/causeway/nodes" -d "{\"loadBalancerArns\":[\"$LB\"]}")
    NODE_ID=$(printf '%s' "$NODE" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    NODE_TOKEN=$(printf '%s' "$NODE" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    CAUSEWAY_NODE_TOKEN="$NODE_TOKEN" CAUSEWAY_LOG=warn "$BIN" nlb-node --gateway "127.0.0.1:$LINK_PORT" \
      --ca "$DIR/data/link/cert.pem" --node-id "$NODE_ID" > "$DIR/node.out" 2>&1 &
  fi
  if [ "$MODE" = private ] || [ "$MODE" = tunnel ] || $KEYED; then
    LINK=$(aws apigateway create-vpc-link --name bench --target-arns "$LB" --query id)
    for _ in $(seq 1 100); do
      [ "$(aws apigateway get-vpc-link --vpc-link-id "$LINK" --query status)" = AVAILABLE ] && break
      sleep 0.1
    done
    aws apigateway put-integration --rest-api-id bench --resource-id "$PROXY" --http-method ANY \
      --type HTTP_PROXY --integration-http-method ANY --connection-type VPC_LINK \
      --connection-id '${stageVariables.VPCLINK}' --uri 'http://${stageVariables.VPCNLB}/{proxy}' > /dev/null
    aws apigateway create-deployment --rest-api-id bench --stage-name prod \
      --variables "VPCLINK=$LINK,VPCNLB=$DNS:$NLB_PORT" > /dev/null
    if $KEYED; then
      KEY=$(aws apigateway create-api-key --name bench --enabled --value causeway-bench-key-0123456789 --query id)
      PLAN=$(aws apigateway create-usage-plan --name bench --api-stages apiId=bench,stage=prod \
        --throttle burstLimit=1000000,rateLimit=1000000 --quota limit=2000000000,period=DAY --query id)
      aws apigateway create-usage-plan-key --usage-plan-id "$PLAN" --key-id "$KEY" --key-type API_KEY > /dev/null
    fi
  elif [ "$MODE" = internet-cached ]; then
    aws apigateway update-method --rest-api-id bench --resource-id "$PROXY" --http-method ANY \
      --patch-operations op=add,path=/requestParameters/method.request.path.proxy,value=true > /dev/null
    aws apigateway put-integration --rest-api-id bench --resource-id "$PROXY" --http-method ANY \
      --type HTTP_PROXY --integration-http-method ANY --uri "http://$BACKEND/{proxy}" \
      --request-parameters integration.request.path.proxy=method.request.path.proxy \
      --cache-key-parameters method.request.path.proxy > /dev/null
    aws apigateway create-deployment --rest-api-id bench --stage-name prod > /dev/null
    aws apigateway update-stage --rest-api-id bench --stage-name prod --patch-operations \
      op=replace,path=/cacheClusterEnabled,value=true \
      'op=replace,path=/*/*/caching/enabled,value=true' \
      'op=replace,path=/*/*/caching/ttlInSeconds,value=3600' \
      'op=replace,path=/*/*/throttling/rateLimit,value=100000000' \
      'op=replace,path=/*/*/throttling/burstLimit,value=100000000' > /dev/null
  else
    aws apigateway put-integration --rest-api-id bench --resource-id "$PROXY" --http-method ANY \
      --type HTTP_PROXY --integration-http-method ANY --uri "http://$BACKEND/{proxy}" > /dev/null
    aws apigateway create-deployment --rest-api-id bench --stage-name prod > /dev/null
    if [ "$MODE" = internet-logged ]; then
      FORMAT='{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","caller":"$context.identity.caller","user":"$context.identity.user","requestTime":"$context.requestTime","httpMethod":"$context.httpMethod","resourcePath":"$context.resourcePath","status":"$context.status","protocol":"$context.protocol","responseLength":"$context.responseLength","integrationLatency":"$context.integrationLatency"}'
      # JSON patch operations: the format's commas and braces would split the shorthand.
      PATCH=$(python3 -c 'import json, sys; print(json.dumps([
        {"op": "replace", "path": "/accessLogSettings/destinationArn",
         "value": "arn:aws:logs:us-east-1:000000000000:log-group:bench"},
        {"op": "replace", "path": "/accessLogSettings/format", "value": sys.argv[1]}]))' "$FORMAT")
      aws apigateway update-stage --rest-api-id bench --stage-name prod --patch-operations "$PATCH" > /dev/null
    fi
    if [ "$MODE" = internet-waf ]; then
      SET=$(aws wafv2 create-ip-set --name bench --scope REGIONAL --ip-address-version IPV4 \
        --addresses 203.0.113.0/24 198.51.100.0/24 --query Summary.ARN)
      VIS='"VisibilityConfig": {"SampledRequestsEnabled": false, "CloudWatchMetricsEnabled": false, "MetricName": "m"}'
      RULES="[{\"Name\": \"blocked\", \"Priority\": 0, \"Action\": {\"Block\": {}}, $VIS,
          \"Statement\": {\"IPSetReferenceStatement\": {\"ARN\": \"$SET\"}}},
        {\"Name\": \"bots\", \"Priority\": 1, \"Action\": {\"Block\": {}}, $VIS,
          \"Statement\": {\"ByteMatchStatement\": {\"SearchString\": \"badbot\", \"FieldToMatch\": {\"SingleHeader\": {\"Name\": \"user-agent\"}},
            \"TextTransformations\": [{\"Priority\": 0, \"Type\": \"LOWERCASE\"}], \"PositionalConstraint\": \"CONTAINS\"}}},
        {\"Name\": \"paths\", \"Priority\": 2, \"Action\": {\"Block\": {}}, $VIS,
          \"Statement\": {\"RegexMatchStatement\": {\"RegexString\": \"\\\\.(php|asp)$\", \"FieldToMatch\": {\"UriPath\": {}},
            \"TextTransformations\": [{\"Priority\": 0, \"Type\": \"NONE\"}]}}},
        {\"Name\": \"flood\", \"Priority\": 3, \"Action\": {\"Block\": {}}, $VIS,
          \"Statement\": {\"RateBasedStatement\": {\"Limit\": 2000000000, \"AggregateKeyType\": \"IP\", \"EvaluationWindowSec\": 60}}}]"
      printf '%s' "$RULES" > "$DIR/waf-rules.json"
      ACL=$(aws wafv2 create-web-acl --name bench --scope REGIONAL --default-action Allow={} \
        --visibility-config SampledRequestsEnabled=false,CloudWatchMetricsEnabled=false,MetricName=bench \
        --rules "file://$DIR/waf-rules.json" --query Summary.ARN)
      aws wafv2 associate-web-acl --web-acl-arn "$ACL" \
        --resource-arn "arn:aws:apigateway:us-east-1::/restapis/bench/stages/prod" > /dev/null
    fi
  fi
fi
wait "$SERVER"
