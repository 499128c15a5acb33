#!/usr/bin/env bash
# Run every benchmarks/bench_*.py in sequence (never in parallel: the machine has
# two cores and the figures are ratios measured within one run).
#
#   benchmarks/run_all.sh                 # all of them; exit 1 if any target is missed
#   benchmarks/run_all.sh --report-only   # print every figure and verdict, exit 0
#   BENCH_ONLY="pauses memory" benchmarks/run_all.sh   # a subset, by name
#
# Each script prints its figures and one verdict line (benchmarks/verdict.py) and
# exits non-zero when it misses a target (or crashes); this script carries on after
# a failure, prints a summary of exit codes at the end, and exits 1 if any failed.
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
PASSTHROUGH=()
[ "${1:-}" = "--report-only" ] && PASSTHROUGH=(--report-only)

summary=()
status=0
for script in benchmarks/bench_*.py; do
    name=$(basename "$script" .py)
    short=${name#bench_}
    if [ -n "${BENCH_ONLY:-}" ] && [[ " $BENCH_ONLY " != *" $short "* ]]; then
        continue
    fi
    args=("${PASSTHROUGH[@]}")
    echo "=================== $name ($(date '+%F %T'), load: $(cut -d' ' -f1-3 /proc/loadavg))"
    start=$(date +%s)
    log=$(mktemp)
    "$PY" -m "benchmarks.$name" "${args[@]}" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    if ! grep -Eq "^$name: (PASS|FAIL) " "$log"; then
        echo "$name printed no verdict line"
        [ "$rc" -eq 0 ] && rc=1
    fi
    rm -f "$log"
    summary+=("$(printf '%-18s rc=%d  %4ds  %s' "$name" "$rc" "$(( $(date +%s) - start ))" \
        "$([ "$rc" -eq 0 ] && echo ok || echo FAILED)")")
    [ "$rc" -ne 0 ] && status=1
done
echo "=================== summary"
printf '%s\n' "${summary[@]}"
exit $status
