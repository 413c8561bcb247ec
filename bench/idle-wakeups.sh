#!/usr/bin/env bash
# How often a process wakes while nothing is asked of it: the context switches of all its
# threads (voluntary and not) over SECS seconds, per second, by thread.
# Usage: bench/idle-wakeups.sh PID [SECS]
set -euo pipefail
PID="${1:?pid}"; SECS="${2:-10}"
snap() {
  for t in /proc/"$PID"/task/*; do
    printf '%s %s %s\n' "$(basename "$t")" "$(tr ' ' '_' < "$t/comm")" \
      "$(awk '/^(voluntary|nonvoluntary)_ctxt_switches/ {s += $2} END {print s}' "$t/status")"
  done | sort
}
before=$(snap); sleep "$SECS"; after=$(snap)
join <(echo "$before") <(echo "$after") | awk -v secs="$SECS" '
  { n = $5 - $3; total += n; if (n > 0) printf "  %-16s %6.1f wakes/s\n", $2, n / secs }
  END { printf "total %.1f wakes/s\n", total / secs }'
