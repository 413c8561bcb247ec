#!/usr/bin/env bash
# Builds a profile-guided (PGO) release binary of causeway:
#   1. a release build instrumented to count what runs (-Cprofile-generate);
#   2. training: that binary serves the benchmark's scenarios (bench/x-causeway.sh) under
#      wrk load, at 64 and at 4 connections, and writes its counts when it stops;
#   3. the release build again, laid out and inlined by those counts (-Cprofile-use).
# The result is target/pgo/causeway. It behaves exactly as `cargo build --release` does;
# only its code layout and inlining differ (rustc's and LLVM's own PGO, as rustc and
# Firefox ship their releases). Benchmarks name which build they measured.
#
# Needs: rustup's llvm-tools (`rustup component add llvm-tools`, for llvm-profdata of the
# compiler's own LLVM version), nginx (the training backend), wrk, curl and the aws CLI.
# Takes two release builds (about 20 minutes on 2 cores) and a minute of training.
# Usage: bench/pgo-build.sh
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
HOST=$(rustc -vV | awk '/^host:/{print $2}')
PROFDATA="$(rustc --print sysroot)/lib/rustlib/$HOST/bin/llvm-profdata"
if [ ! -x "$PROFDATA" ]; then
  echo "llvm-profdata not found: run 'rustup component add llvm-tools'" >&2
  exit 1
fi
for tool in nginx wrk curl aws; do
  command -v "$tool" > /dev/null || { echo "$tool is needed for the training run" >&2; exit 1; }
done

WORK="$ROOT/target/pgo"
RAW="$WORK/raw"
rm -rf "$RAW"
mkdir -p "$RAW"
# --target keeps RUSTFLAGS off build scripts and proc macros (they run on the host).
build() {
  RUSTFLAGS="$1" cargo build --release -p causeway-cli --target "$HOST" --target-dir "$2"
}
# PGO_INSTRUMENTED: an instrumented binary built before (its counts go to $RAW all the same).
INSTRUMENTED="${PGO_INSTRUMENTED:-}"
if [ -z "$INSTRUMENTED" ]; then
  build "-Cprofile-generate=$RAW" "$ROOT/target/pgo-gen"
  INSTRUMENTED="$ROOT/target/pgo-gen/$HOST/release/causeway"
fi
export LLVM_PROFILE_FILE="$RAW/causeway-%p-%m.profraw"

TMP=$(mktemp -d)
BACKEND_PORT=18980
cleanup() {
  [ -f "$TMP/backend.pid" ] && kill "$(cat "$TMP/backend.pid")" 2> /dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p "$TMP/backend"
cat > "$TMP/backend.conf" << EOF
worker_processes 1;
pid $TMP/backend.pid;
error_log $TMP/backend/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $TMP/backend; proxy_temp_path $TMP/backend;
  fastcgi_temp_path $TMP/backend; uwsgi_temp_path $TMP/backend; scgi_temp_path $TMP/backend;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$BACKEND_PORT;
    location / { default_type text/plain; return 200 "ok\n"; }
  }
}
EOF
nginx -c "$TMP/backend.conf"

# One scenario: serve it, load it, stop it (SIGTERM: the counts are written on exit).
# Usage: train MODE PORT PATH [HEADER] (a header every request carries).
train() {
  local mode="$1" port="$2" path="$3" header=()
  [ -n "${4:-}" ] && header=(-H "$4")
  local dir="$TMP/$mode"
  mkdir -p "$dir"
  CAUSEWAY_BIN="$INSTRUMENTED" setsid "$HERE/x-causeway.sh" "$mode" "$port" \
    "127.0.0.1:$BACKEND_PORT" "$dir" > "$dir/script.out" 2>&1 &
  local script=$!
  local url="http://127.0.0.1:$port$path"
  for _ in $(seq 1 300); do
    curl -sf "${header[@]}" "$url" > /dev/null 2>&1 && break
    sleep 0.2
  done
  curl -sf "${header[@]}" "$url" > /dev/null || { echo "scenario $mode did not come up" >&2; cat "$dir/script.out" >&2; exit 1; }
  wrk -t1 -c64 -d5s "${header[@]}" "$url" > /dev/null
  wrk -t1 -c4 -d3s "${header[@]}" "$url" > /dev/null
  curl -s -o /dev/null -X POST --data 'a body' "${header[@]}" "$url" || true
  curl -s -o /dev/null "${header[@]}" "http://127.0.0.1:$port/restapis/bench/prod/_user_request_" || true
  pkill -TERM -f -- "--data-dir $dir/data" || true
  for _ in $(seq 1 100); do
    pgrep -f -- "--data-dir $dir/data" > /dev/null || break
    sleep 0.1
  done
  kill -- -"$script" 2> /dev/null || true
  wait "$script" 2> /dev/null || true
}
GATEWAY_PATH=/restapis/bench/prod/_user_request_/ping
train internet 18990 "$GATEWAY_PATH"
train private 18991 "$GATEWAY_PATH"
train nlb 18992 /ping
train internet-logged 18993 "$GATEWAY_PATH"
train internet-waf 18994 "$GATEWAY_PATH"
train private-keyed 18995 "$GATEWAY_PATH" "x-api-key: causeway-bench-key-0123456789"

# Named by its content: cargo does not watch the file a flag names, but it rebuilds every
# crate when the flags change, so a new profile reaches the dependencies too.
rm -f "$WORK"/causeway-*.profdata
"$PROFDATA" merge -o "$WORK/merged.profdata" "$RAW"
PROFILE="$WORK/causeway-$(sha256sum "$WORK/merged.profdata" | cut -c1-16).profdata"
mv "$WORK/merged.profdata" "$PROFILE"
build "-Cprofile-use=$PROFILE" "$ROOT/target/pgo-use"
cp "$ROOT/target/pgo-use/$HOST/release/causeway" "$WORK/causeway"
echo "built $WORK/causeway"
