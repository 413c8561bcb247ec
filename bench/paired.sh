#!/usr/bin/env bash
# Paired comparison of two HTTP proxies already running on this machine, in ABBA order
# (nginx first in odd pairs, the other first in even ones), so that a drift of the host's
# speed during the run weighs on both alike. For each pair it prints the throughput of both
# and, from /proc/PID/task/*/schedstat (exact CPU time, softirq work done in the process's
# system calls included), the CPU time each proxy and the backend spent per request.
#
# Usage: paired.sh CONNS SECS PAIRS URL_A PID_A URL_B PID_B BACKEND_PID
#   wrk runs with one thread on CPU 0 (the shared harness's pinning); start the proxies and
#   the backend pinned to CPU 1 (`taskset -c 1 ...`). The last line gives the means of the
#   per-pair ratios B ÷ A.
set -euo pipefail
CONNS=${1:?conns}; SECS=${2:?seconds}; PAIRS=${3:?pairs}
URL_A=${4:?url a}; PID_A=${5:?pid a}; URL_B=${6:?url b}; PID_B=${7:?pid b}; BACKEND=${8:?backend pid}

runtime() {  # nanoseconds of CPU time of every thread of process $1
    local total=0 t
    for t in /proc/"$1"/task/*; do total=$((total + $(cut -d' ' -f1 "$t/schedstat"))); done
    echo "$total"
}

measure() {  # measure URL PID -> "rps proxy_ns_per_request backend_ns_per_request"
    local url=$1 pid=$2 p0 b0 p1 b1 out n rps
    taskset -c 0 wrk -t1 -c"$CONNS" -d1s "$url" > /dev/null
    p0=$(runtime "$pid"); b0=$(runtime "$BACKEND")
    out=$(taskset -c 0 wrk -t1 -c"$CONNS" -d"${SECS}s" "$url")
    p1=$(runtime "$pid"); b1=$(runtime "$BACKEND")
    n=$(awk '/requests in/ {print $1}' <<< "$out")
    rps=$(awk '/Requests\/sec/ {print $2}' <<< "$out")
    echo "$rps $(( (p1 - p0) / n )) $(( (b1 - b0) / n ))"
}

for i in $(seq 1 "$PAIRS"); do
    if (( i % 2 )); then a=$(measure "$URL_A" "$PID_A"); b=$(measure "$URL_B" "$PID_B")
    else b=$(measure "$URL_B" "$PID_B"); a=$(measure "$URL_A" "$PID_A"); fi
    echo "$i $a $b"
done | awk '{
    printf "pair %d  A: %6.0f req/s, proxy %5d ns, backend %5d ns | B: %6.0f req/s, proxy %5d ns, backend %5d ns | B/A req/s %.3f, proxy CPU %.3f\n",
        $1, $2, $3, $4, $5, $6, $7, $5 / $2, $6 / $3
    rps += $5 / $2; cpu += $6 / $3; n++
} END { printf "means over %d pairs: B/A req/s %.3f, proxy CPU per request %.3f\n", n, rps / n, cpu / n }'
