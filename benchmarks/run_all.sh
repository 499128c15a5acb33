#!/usr/bin/env bash
# Run every benchmarks/bench_*.py in sequence (never in parallel: the machine has
# two cores and the figures are ratios measured within one run).
#
#   benchmarks/run_all.sh            # all of them
#   benchmarks/run_all.sh --strict   # pass --strict to the scripts that take it
#   BENCH_ONLY="pauses memory" benchmarks/run_all.sh   # a subset, by name
#
# Each script prints its figures and PASS/FAIL; this script carries on after a
# failure and prints a summary of exit codes at the end (non-zero if any failed).
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
STRICT=""
[ "${1:-}" = "--strict" ] && STRICT="--strict"

summary=()
status=0
for script in benchmarks/bench_*.py; do
    name=$(basename "$script" .py)
    short=${name#bench_}
    if [ -n "${BENCH_ONLY:-}" ] && [[ " $BENCH_ONLY " != *" $short "* ]]; then
        continue
    fi
    args=()
    if [ -n "$STRICT" ] && grep -q -- '"--strict"' "$script"; then
        args+=("$STRICT")
    fi
    echo "=================== $name ($(date '+%F %T'), load: $(cut -d' ' -f1-3 /proc/loadavg))"
    start=$(date +%s)
    "$PY" -m "benchmarks.$name" "${args[@]}"
    rc=$?
    summary+=("$(printf '%-18s rc=%d  %4ds' "$name" "$rc" "$(( $(date +%s) - start ))")")
    [ "$rc" -ne 0 ] && status=1
done
echo "=================== summary"
printf '%s\n' "${summary[@]}"
exit $status
