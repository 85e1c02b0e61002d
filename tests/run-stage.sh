#!/usr/bin/env bash
# run-stage.sh: runs one stage of `make test` (or of any make target that wants
# the same treatment) quietly and says what it did.
#
#   tests/run-stage.sh NAME KIND COMMAND [ARGS...]
#
# Prints a banner, runs COMMAND with its output in $SMALGO_STAGE_DIR/NAME.log
# (shown as it runs when V=1; its last lines shown when it fails), then one line
# with the stage's counts and seconds, and every skip with its reason. The counts
# go to $SMALGO_STAGE_DIR/stages.jsonl, which tests/summary.py turns into the
# closing table. KIND says how to count (tests/summary.py holds the parsers):
#   step    set-up (deps, venv, a build): no tests; a failure counts as 1 failed
#   check   a single check (format, tidy): 1 passed or 1 failed
#   ctest   COMMAND is ctest; cmocka cases inside each executable are counted
#           one by one, skipped ones as skipped (not passed)
#   pytest  COMMAND is a pytest run; skips listed with their reasons
#   tap     COMMAND prints one line per test: "ok NAME", "not ok NAME" or
#           "skip NAME: reason"
# Exits with COMMAND's status. Without python3 (a fresh machine's `make demo`
# before python3 is installed) it prints only ok/FAILED and the time.
set -uo pipefail

name=$1 kind=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
dir=${SMALGO_STAGE_DIR:-build/test-logs}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
log=$dir/$name.log
report=$dir/$name.xml
rm -f "$report"

case $kind in
ctest) set -- "$@" --output-junit "$report" --test-output-size-passed 262144 \
    --test-output-size-failed 262144 ;;
pytest) set -- "$@" -rs --junitxml="$report" ;;
step | check | tap) ;;
*)
    echo "run-stage: unknown kind $kind" >&2
    exit 2
    ;;
esac

printf '\n== %s (%s) ==\n' "$name" "$(date -u +%H:%M:%S)"
start=$(date +%s.%N)
if [ "${V:-0}" = 1 ]; then
    "$@" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
else
    "$@" >"$log" 2>&1
    status=$?
fi
seconds=$(echo "$start $(date +%s.%N)" | awk '{printf "%.0f", $2 - $1}')

if [ "$status" != 0 ] && [ "${V:-0}" != 1 ]; then
    echo "-- $name failed (exit $status); the last lines of $log:"
    tail -n "${SMALGO_STAGE_TAIL:-60}" "$log" | sed 's/^/   | /'
fi
if command -v python3 >/dev/null; then
    python3 "$here/summary.py" record --dir "$dir" --name "$name" --kind "$kind" \
        --status "$status" --seconds "$seconds" --log "$log" --report "$report"
else
    echo "-- $name: $([ "$status" = 0 ] && echo ok || echo FAILED) ($seconds s; log $log)"
fi
exit "$status"
