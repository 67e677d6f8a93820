#!/usr/bin/env bash
# Builds every fuzz target once, then runs each for SECONDS (default 15) over its corpus in
# fuzz/corpus/<target>/ (see seed.sh). Prints executions per target; exits non-zero if any
# target crashed, leaked a panic or timed out, naming the reproducer under fuzz/artifacts/.
#
#   fuzz/run-all.sh [SECONDS]
#
# Environment: SANITIZER (default none: the crates forbid unsafe code, and without ASan
# the run is about twice as fast), TARGETS (space-separated subset), RSS_LIMIT_MB (2048).
# Debug assertions (overflow checks) are on, as cargo-fuzz builds by default.
set -uo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
SECONDS_EACH=${1:-15}
SANITIZER=${SANITIZER:-none}
RSS_LIMIT_MB=${RSS_LIMIT_MB:-2048}
read -r -a targets <<<"${TARGETS:-$(cargo fuzz list | tr '\n' ' ')}"

mkdir -p artifacts
start=$(date +%s)
echo "fuzz: building every target (sanitizer $SANITIZER), running ${#targets[@]}"
if ! cargo fuzz build -s "$SANITIZER" >artifacts/build.log 2>&1; then
    tail -30 artifacts/build.log
    echo "fuzz: build failed"
    exit 1
fi
echo "fuzz: built in $(( $(date +%s) - start )) s"

failed=()
printf '%-22s %12s %10s  %s\n' target executions exec/s result
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    log="artifacts/$t.log"
    mkdir -p artifacts
    cargo fuzz run -s "$SANITIZER" "$t" "corpus/$t" -- \
        -max_total_time="$SECONDS_EACH" -rss_limit_mb="$RSS_LIMIT_MB" -timeout=10 \
        -print_final_stats=1 >"$log" 2>&1
    rc=$?
    runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1)
    runs=${runs:-?}
    rate=$([ "$runs" != "?" ] && echo $(( runs / SECONDS_EACH )) || echo "?")
    if [ $rc -eq 0 ]; then
        result=ok
    else
        repro=$(grep -Eo 'Test unit written to [^ ]+' "$log" | tail -1 | sed 's/Test unit written to //')
        result="FAILED (exit $rc) ${repro:+reproducer fuzz/$repro}; log fuzz/$log"
        failed+=("$t")
    fi
    printf '%-22s %12s %10s  %s\n' "$t" "$runs" "$rate" "$result"
done
echo "fuzz: total $(( $(date +%s) - start )) s"
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: FAILED: ${failed[*]}"
    for t in "${failed[@]}"; do
        grep -E "panicked|ERROR: libFuzzer|SUMMARY" "artifacts/$t.log" | head -5
    done
    exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${SECONDS_EACH} s each without a crash"
