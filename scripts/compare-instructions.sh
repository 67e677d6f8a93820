#!/usr/bin/env bash
# compare-instructions.sh - instructions executed by two pcap-cli binaries on the same work,
# counted by valgrind (cachegrind, no cache simulation): repeatable whatever else the machine
# is doing, unlike CPU time on a shared 2-core machine. For refactors that must keep speed.
#
#   scripts/compare-instructions.sh OLD_BIN NEW_BIN CAPTURE...
#
# Each capture runs through http-trace (--json and text), grep, flows --json, follow and
# capture --json; one line per run: capture, command, OLD and NEW instruction counts, NEW/OLD.
# valgrind runs ~50x slower than native: cut big captures first, e.g.
#   pcap-cli capture -r target/bench/many_flows.pcap -c 300000 -w /tmp/mf300k.pcap
set -euo pipefail
[[ $# -ge 3 ]] || { sed -n '2,12p' "$0" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "compare-instructions.sh: valgrind not found (apt-get install valgrind)" >&2; exit 2; }
old=$1 new=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Instructions of one run; output goes to a scratch directory, emptied after each run.
count() {
    local bin=$1 cap=$2
    shift 2
    (cd "$work" && valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
        "$bin" "$@" -r "$cap" 2>&1 >/dev/null) | awk '/I *refs/ { gsub(",", "", $4); print $4 }'
    rm -rf "${work:?}"/*
}

for cap in "$@"; do
    cap=$(realpath "$cap")
    for args in "http-trace --json" "http-trace" "grep Host:.[a-z.]+" "flows --json" \
        "follow -o out" "capture --json"; do
        read -ra a <<<"$args"
        o=$(count "$old" "$cap" "${a[@]}")
        n=$(count "$new" "$cap" "${a[@]}")
        printf '%-16s %-20s old %13d new %13d new/old %.4f\n' "$(basename "$cap")" "$args" \
            "$o" "$n" "$(awk -v n="$n" -v o="$o" 'BEGIN { print n / o }')"
    done
done
