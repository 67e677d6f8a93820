#!/usr/bin/env bash
# Hostile captures through the binary, with peak RSS measured against a bound derived from
# the default caps (docs/hardening.md explains each bound).
#
#   scripts/adversarial.sh            # build, generate into target/adversarial/, run, table
#   KEEP=1 scripts/adversarial.sh     # reuse existing captures (same sizes)
#
# Each case is written by `gen-adversarial` (crates/testkit/src/adversarial.rs) and run
# through `pcap-cli capture -r FILE --json`, `http-trace -r FILE --json --tcp-verbose`,
# `flows -r FILE --json` and `grep -r FILE --json PATTERN` (release build; a pattern that
# never matches). A run fails when it exits non-zero, prints "panicked",
# exceeds its RSS bound, or its output lacks the events the attack must produce.
# Exit status: 0 when every run passes, 1 otherwise. Needs about 1.5 GiB of disk for the
# captures (outputs are deleted unless the run failed) and 0.5 GiB of memory.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=$ROOT/target/adversarial
BIN=$ROOT/target/release/pcap-cli
GEN=$ROOT/target/release/gen-adversarial
MIB=1048576

echo "adversarial: building (release)"
cargo build --release -q -p pcap-cli -p pcap-testkit --bin pcap-cli --bin gen-adversarial || exit 1
mkdir -p "$OUT/out"
start=$(date +%s)
if [ -z "${KEEP:-}" ] || [ ! -s "$OUT/cases.tsv" ]; then
    "$GEN" "$OUT" >"$OUT/cases.tsv" || exit 1
fi
echo "adversarial: captures ready in $(( $(date +%s) - start )) s"

# Bound in MiB per case and command (capture: decoding only, no per-flow state).
# Derivation (docs/hardening.md): base 32 MiB for the process, buffers and output;
# the tcp session table is 262144 sessions x ~512 B = 128 MiB; the HTTP decoders of all
# sessions together are held to the 128 MiB HTTP memory budget (buffers, decompressors,
# heads of requests awaiting a response); http-trace's own record of each request awaiting
# its response, at most one per session here: 262144 x ~512 B = 128 MiB; grep's windows
# share a 64 MiB budget; the tcp
# out-of-order buffers are 4 MiB per direction; a WebSocket message is at most 16 MiB
# (kept twice at worst: fragments, then the unmasked/inflated message); a decoded body is
# streamed, its decoder output capped at 16 MiB; defrag buffers 4 MiB.
bound() { # case command
    local tcp=0 per_session=0 http=0 buffer=0
    case "$1" in
        syn_flood) tcp=128 ;;
        # Answered sessions: no request waits, nothing per session beyond the table.
        rst_inject) tcp=128 ;;
        many_flows) tcp=128 per_session=128 http=128 ;;
        partial_heads) tcp=128 per_session=128 http=128 ;;
        hole | overlap | frag_never | ack_past_holes) buffer=4 ;;
        ws_endless) buffer=$(( 2 * 16 )) ;;
        gzip_bomb | chunked_endless) buffer=16 ;;
        # Brotli decoders count their declared window in the HTTP budget (and windows over
        # max_brotli_window are refused); a decoder's output buffer is under the body cap.
        brotli_windows) http=128 buffer=16 ;;
    esac
    case "$2" in
        capture) echo 32 ;;
        # Per-session state of the command itself: http-trace's record of a waiting request
        # (none when heads never end), grep's match window. flows keeps nothing per session.
        http-trace)
            [ "$1" = partial_heads ] && per_session=0
            echo $(( 32 + tcp + http + per_session + buffer )) ;;
        # grep's windows of all sessions share a 64 MiB budget; of the other buffers only
        # the TCP ones (4 MiB per direction) apply: no HTTP decoding.
        grep) echo $(( 32 + tcp + (per_session > 0 ? 64 : 0) + (buffer == 4 ? 4 : 0) )) ;;
        follow) echo $(( 32 + tcp + buffer )) ;;
        flows) echo $(( 32 + tcp + (buffer == 4 ? 4 : 0) )) ;;
    esac
}

# Checks the output of one run; prints a short note, returns non-zero on a missing event.
check() { # case command n output-file
    python3 - "$@" <<'PY'
import json, sys
case, cmd, n, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
# Outputs run to millions of lines: count substrings, parse only the few HTTP records.
lines = open(path, encoding="utf-8").read().splitlines()
def count(s):
    return sum(1 for l in lines if s in l)
def tcp(ev):
    return count(f'"event":"{ev}"')
ok, note = True, ""
if cmd == "grep":
    note = f"{len(lines)} matches"
    ok = len(lines) == 0
elif cmd == "follow":
    # The output file holds the size of what follow wrote: the data (n bytes) and the
    # index, never the holes (n x 4 MiB).
    written = int(lines[0])
    ok, note = written < 1024 * 1024, f"{written} bytes written"
elif case == "ack_past_holes" and cmd == "http-trace":
    ok, note = tcp("gap") == n, f"{tcp('gap')} gaps"
elif cmd == "flows":
    note = f"{len(lines)} sessions"
    if case in ("syn_flood", "many_flows", "partial_heads"):
        ok = len(lines) == n
    if case == "rst_inject":
        closed = count('"state":"closed"')
        ignored = sum(json.loads(l)["rsts_ignored"] for l in lines)
        ok = closed == n and ignored == 2 * n
        note = f"{closed} sessions closed, {ignored} RSTs ignored"
elif cmd == "capture":
    errors = count('"error":')
    note = f"{len(lines)} packets, {errors} with errors"
    if case in ("syn_flood", "vlan_nested", "tunnel_nested", "dns_loop", "frag_never"):
        ok = len(lines) == n
    if case == "vlan_nested":
        ok = ok and count('"error":"malformed: vlan depth') == n
    if case == "tunnel_nested":
        ok = ok and count('"error":"malformed: tunnel tunnel depth') == n
    if case == "dns_loop":
        ok = ok and count('compression pointer') == n
else:
    nhttp = count('"type":"http"')
    http = [json.loads(l) for l in lines if '"type":"http"' in l] if nhttp < 10 else []
    if case == "syn_flood":
        ok, note = tcp("start") == n, f"{tcp('start')} sessions started"
    elif case == "many_flows":
        ok, note = nhttp == n, f"{nhttp} requests reported"
    elif case == "partial_heads":
        ok = tcp("start") == n and nhttp == 0
        note = f"{tcp('start')} sessions started, no request completed"
    elif case == "hole":
        ok, note = tcp("gap") == 1, f"{tcp('gap')} gap, {tcp('out_of_order')} out-of-order"
    elif case == "overlap":
        # The early segment of each pair conflicts while held; the others overlap bytes
        # already delivered (not compared).
        ok = tcp("retransmit") == n and tcp("overlap") == n // 2
        note = f"{tcp('retransmit')} retransmissions, {tcp('overlap')} conflicts"
    elif case == "rst_inject":
        ok = tcp("rst_ignored") == 2 * n and tcp("reset") == 0 and nhttp == n
        note = f"{tcp('rst_ignored')} RSTs ignored, {nhttp} responses"
    elif case == "chunked_endless":
        r = http[0]["response"] if http else {}
        ok = nhttp == 1 and r.get("complete") is False and r.get("body_len", 0) > 0
        note = f"body_len {r.get('body_len')}, complete {str(r.get('complete')).lower()}"
    elif case == "ws_endless":
        ws = count('"type":"websocket"')
        ok = nhttp == 1 and http[0]["response"]["status"] == 101 and ws == 0
        note = f"101 upgrade, {ws} messages (cap)"
    elif case == "brotli_windows":
        # Every response unfinished and not decoded (window over the cap): body_len is the
        # decoded length, 0 for a refused body.
        rs = [json.loads(l)["response"] for l in lines if '"type":"http"' in l]
        refused = sum(1 for r in rs if r.get("body_len") == 0 and r.get("complete") is False)
        ok, note = nhttp == n and refused == n, f"{nhttp} responses, {refused} not decoded"
    elif case == "gzip_bomb":
        b = http[0]["response"]["body_len"] if http else None
        ok, note = b == 16 * 1024 * 1024, f"body_len {b} (cap)"
    else:
        note = f"{len(lines)} lines"
print(note)
sys.exit(0 if ok else 1)
PY
}

failed=0
rows=()
while IFS=$'\t' read -r name path size n; do
    cmds=(capture http-trace flows grep)
    # follow writes gaps as holes of zeros, up to MAX_HOLE each: crafted ACKs past holes
    # must not turn into gigabytes of files.
    [ "$name" = ack_past_holes ] && cmds+=(follow)
    for cmd in "${cmds[@]}"; do
        case "$cmd" in
            capture) args=(capture --json) ;;
            http-trace) args=(http-trace --json --tcp-verbose) ;;
            flows) args=(flows --json) ;;
            grep) args=(grep --json 'zq9xk|never-matches') ;;
            follow) rm -rf "$OUT/out/follow"; args=(follow -o "$OUT/out/follow") ;;
        esac
        out=$OUT/out/$name.$cmd.jsonl
        /usr/bin/time -f %M -o "$OUT/out/time" "$BIN" "${args[@]}" -r "$path" >"$out" 2>"$OUT/out/stderr"
        rc=$?
        # grep exits 1 when nothing matched, as the never-matching pattern should.
        [ "$cmd" = grep ] && [ $rc -eq 1 ] && rc=0
        kib=$(tail -1 "$OUT/out/time")
        mib=$(( (kib + 1023) / 1024 ))
        b=$(bound "$name" "$cmd")
        [ "$cmd" = follow ] && du -sb "$OUT/out/follow" | cut -f1 >"$out"
        note=$(check "$name" "$cmd" "$n" "$out")
        checked=$?
        if [ $rc -ne 0 ] || grep -q panicked "$OUT/out/stderr"; then
            verdict="FAIL (exit $rc: $(head -c 120 "$OUT/out/stderr"))"
        elif [ $checked -ne 0 ]; then
            verdict="FAIL (events)"
        elif [ "$mib" -le "$b" ]; then
            verdict=ok
        else
            verdict="FAIL (rss)"
        fi
        # Outputs run to hundreds of MiB: keep them only when the run failed.
        case "$verdict" in FAIL*) failed=1 ;; *) rm -f "$out" ;; esac
        rows+=("$(printf '| %-15s | %-10s | %9s | %8s | %4s MiB | %4s MiB | %s | %s |' \
            "$name" "$cmd" "$n" "$(( size / MIB )) MiB" "$mib" "$b" "$verdict" "$note")")
    done
done <"$OUT/cases.tsv"

echo
echo "| case            | command    |         n |     file | peak RSS |    bound | verdict | events |"
echo "| --------------- | ---------- | --------- | -------- | -------- | -------- | ------- | ------ |"
printf '%s\n' "${rows[@]}"
echo
echo "adversarial: total $(( $(date +%s) - start )) s"
exit $failed
