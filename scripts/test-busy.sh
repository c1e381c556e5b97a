#!/usr/bin/env bash
# Runs the whole `npm test` RUNS times in a row (default 5) while BURNERS busy loops (default: one per
# core) keep every core loaded, and fails if any run fails: the check that no test depends on
# scheduling. Usage: npm run test:busy [-- RUNS]
set -uo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
burners="${BURNERS:-$(nproc)}"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done; }
trap cleanup EXIT INT TERM
for _ in $(seq "$burners"); do
  ( while :; do :; done ) &
  pids+=("$!")
done
echo "test:busy — ${runs} runs of npm test with ${burners} busy loop(s) on $(nproc) core(s)"
failed=0
for run in $(seq "$runs"); do
  started=$(date +%s)
  if npm test > "/tmp/commandbus-test-busy-${run}.log" 2>&1; then verdict=passed; else verdict=FAILED; failed=$((failed + 1)); fi
  summary=$(sed -E 's/\x1b\[[0-9;]*m//g' "/tmp/commandbus-test-busy-${run}.log" | grep -E '^ *(Test Files|Tests) ' | sed -E 's/^ +//; s/ +/ /g' | tr '\n' ' ')
  echo "run ${run}: ${verdict} in $(( $(date +%s) - started )) s — ${summary}(log: /tmp/commandbus-test-busy-${run}.log)"
done
echo "$((runs - failed)) passed, ${failed} failed"
[ "$failed" -eq 0 ]
