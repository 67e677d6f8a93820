#!/usr/bin/env bash
# bench.sh - time pcap-cli against the libpcap read floor and against tshark, tcpdump,
# tcpflow (and ngrep) doing comparable work, on synthetic HTTP captures.
#
#   scripts/bench.sh [PROFILE...]          default: small
#   PROFILES: small http_big http_mtu1500 many_flows  (or "all"), and tls
#
# Profile tls (issue 16; not in "all": its captures are made live, as root) times
# http-trace --json on about 300 MB of HTTPS (TLS 1.3 and 1.2, AES-GCM and ChaCha20) with its
# key log against the same requests in clear, and tshark decrypting the same file; the
# captures are made once on loopback by scripts/gen-tls-bench.sh.
#
# Captures are generated once into target/bench/ by /work/shared/bench/gen_http_pcap.py
# (the 1 GB ones take minutes). Each command is timed by /work/shared/bench/benchrun.py:
# median of RUNS runs (default 5 on small, 3 on the large profiles; tshark and tcpflow get
# one run on the large profiles because they take minutes), CPU = user+sys, peak RSS of the
# largest process. Ratios are to the libpcap floor (scripts/pcap_floor.c) of the same run.
# http-trace's transactions are checked against the generator's truth (.tx.tsv).
#
# Environment: RUNS=N, PCAP_CLI=path (default: cargo build --release -p pcap-cli),
# BENCH_DIR=dir (default target/bench), SHARED=dir (default /work/shared or ../shared).
# Output: a markdown table per profile on stdout and in $BENCH_DIR/results-PROFILE.md,
# raw figures in $BENCH_DIR/results-PROFILE.jsonl.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bench_dir=${BENCH_DIR:-$root/target/bench}
shared=${SHARED:-}
for s in "$shared" /work/shared "$root/../shared"; do
    if [[ -n "$s" && -f "$s/bench/benchrun.py" ]]; then shared=$s; break; fi
done
gen="$shared/bench/gen_http_pcap.py"
benchrun="$shared/bench/benchrun.py"
[[ -f "$gen" && -f "$benchrun" ]] || { echo "bench.sh: no shared/bench (set SHARED=dir)" >&2; exit 2; }

profiles=("$@")
[[ ${#profiles[@]} -eq 0 ]] && profiles=(small)
[[ "${profiles[*]}" == all ]] && profiles=(small http_big http_mtu1500 many_flows)
mkdir -p "$bench_dir"

# --- tools ---------------------------------------------------------------------------
if [[ -z "${PCAP_CLI:-}" ]]; then
    cargo build --release -q -p pcap-cli
    PCAP_CLI=$root/target/release/pcap-cli
fi
floor=$bench_dir/pcap_floor
gcc -O2 -o "$floor" "$root/scripts/pcap_floor.c" -lpcap
have() { command -v "$1" >/dev/null 2>&1; }
# A subcommand is benchmarked when it runs on the sample capture.
sample=$root/tests/data/sample-http-ws.pcap
sub_ok() { "$PCAP_CLI" "$@" >/dev/null 2>&1; }

# --- machine ---------------------------------------------------------------------------
machine() {
    local cpu
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
    echo "$(nproc) cores ($cpu), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
        "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# --- one profile ---------------------------------------------------------------------
run_profile() {
    local prof=$1 f=$bench_dir/$1.pcap
    if [[ ! -f $f || ! -f $f.tx.tsv ]]; then
        echo "generating $f ..." >&2
        python3 "$gen" --profile "$prof" -o "$f" --tx-log >&2
    fi
    local runs=${RUNS:-} slow_runs warm=1
    if [[ $prof == small ]]; then
        runs=${runs:-5}; slow_runs=$runs
    else
        runs=${runs:-3}; slow_runs=1; warm=0
    fi
    local jsonl=$bench_dir/results-$prof.jsonl tmp=$bench_dir/tmp-$prof
    : >"$jsonl"
    mkdir -p "$tmp"
    local load
    load=$(machine)
    # Peak RSS comes from GNU time wrapped around the command: benchrun's ru_maxrss also
    # counts the Python process it forks from (about 15 MiB) before the exec.
    local rss=$bench_dir/results-$prof.rss
    : >"$rss"
    t() { # label runs [benchrun options] -- cmd...
        local label=$1 n=$2 opts=() rf
        shift 2
        while [[ $1 != -- ]]; do opts+=("$1"); shift; done
        shift
        rf=$tmp/rss.$RANDOM
        echo "  timing $label" >&2
        python3 "$benchrun" -n "$n" --warmup "$warm" --quiet --label "$label" --jsonl "$jsonl" \
            "${opts[@]}" -- /usr/bin/time -f %M -a -o "$rf" "$@" ||
            echo "  ($label exited non-zero)" >&2
        printf '%s\t%s\n' "$label" "$(sort -n "$rf" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')" >>"$rss"
    }
    t "libpcap floor" "$runs" -- "$floor" "$f"
    t "pcap-cli http-trace --json" "$runs" -- "$PCAP_CLI" http-trace -r "$f" --json
    t "pcap-cli capture --json" "$runs" -- "$PCAP_CLI" capture -r "$f" --json
    t "pcap-cli capture" "$runs" -- "$PCAP_CLI" capture -r "$f"
    if sub_ok grep -r "$sample" 'GET'; then
        t "pcap-cli grep" "$runs" -- "$PCAP_CLI" grep -r "$f" 'consequat'
    fi
    if sub_ok flows -r "$sample" --json; then
        t "pcap-cli flows --json" "$runs" -- "$PCAP_CLI" flows -r "$f" --json
    fi
    # Stream-to-file tools write two files per connection: on many_flows (400 000 files)
    # they measure the file system, not the tool, and take minutes. SKIP_FILES=1 skips them.
    local files=${SKIP_FILES:-}
    [[ -z $files && $prof == many_flows ]] && files=1
    if [[ $files != 1 ]] && sub_ok follow -r "$sample" -o "$tmp/probe"; then
        t "pcap-cli follow" "$runs" --pre "rm -rf '$tmp/follow'" --post "rm -rf '$tmp/follow'" \
            -- "$PCAP_CLI" follow -r "$f" -o "$tmp/follow"
    fi
    # Parquet export (all six tables), next to http-trace --json above (target: at most 2x).
    if [[ $files != 1 ]] && sub_ok export -q -r "$sample" --parquet "$tmp/probe-parquet"; then
        t "pcap-cli export --parquet" "$runs" --pre "rm -rf '$tmp/parquet'" \
            --post "rm -rf '$tmp/parquet'" -- "$PCAP_CLI" export -q -r "$f" --parquet "$tmp/parquet"
    fi
    t "tcpdump -nn" "$runs" -- tcpdump -nn -r "$f"
    if have tshark; then
        t "tshark http.request" "$slow_runs" -- tshark -n -r "$f" -Y http.request -T fields \
            -e http.request.method -e http.host -e http.request.uri
        t "tshark conv,tcp" "$slow_runs" -- tshark -n -q -r "$f" -z conv,tcp
    fi
    if [[ $files != 1 ]] && have tcpflow; then
        t "tcpflow" "$slow_runs" --pre "rm -rf '$tmp/tcpflow'; mkdir -p '$tmp/tcpflow'" \
            --post "rm -rf '$tmp/tcpflow'" -- tcpflow -r "$f" -o "$tmp/tcpflow"
    fi
    if have ngrep; then
        t "ngrep" "$slow_runs" -- ngrep -q -I "$f" 'consequat'
    fi

    # Correctness: http-trace's transactions against the generator's truth.
    local check
    check=$("$PCAP_CLI" http-trace -r "$f" --json | python3 "$root/scripts/check_tx.py" "$f.tx.tsv") || true

    rm -rf "$tmp"
    local md=$bench_dir/results-$prof.md
    python3 - "$jsonl" "$prof" "$f" "$load" "$check" "$rss" >"$md" <<'EOF'
import json, os, sys
jsonl, prof, f, load, check, rssf = sys.argv[1:]
rows = [json.loads(l) for l in open(jsonl)]
rss = dict(l.rstrip('\n').split('\t') for l in open(rssf))
for r in rows:
    r['cmd'] = r['cmd'][6:]  # drop the /usr/bin/time wrapper
    r['rss_mib'] = int(rss.get(r['label']) or 0) / 1024
floor = next(r for r in rows if r['label'] == 'libpcap floor')
fw, fc = floor['wall']['median'], floor['cpu']['median']
size = os.path.getsize(f) / 1e6
print('### Profile `%s` (%.0f MB)\n' % (prof, size))
print('Machine: %s.\n' % load)
print('| tool | command | runs | wall median s | CPU median s | peak RSS MiB | wall / floor | CPU / floor | MB/s |')
print('|---|---|---:|---:|---:|---:|---:|---:|---:|')
for r in rows:
    cmd = ' '.join(os.path.basename(a) if a.startswith('/') else a for a in r['cmd'])
    w, c = r['wall']['median'], r['cpu']['median']
    rc = '' if r['rc'] == [0] else ' (exit %s)' % r['rc']
    print('| %s%s | `%s` | %d | %.3f | %.3f | %.1f | %.1f | %.1f | %.0f |' % (
        r['label'], rc, cmd, r['runs'], w, c, r['rss_mib'],
        w / fw if fw else 0, c / fc if fc else 0, size / w if w else 0))
print('\nhttp-trace vs truth: %s' % check)
EOF
    cat "$md"
    echo
}

# --- profile tls ---------------------------------------------------------------------
run_tls() {
    local tls=$bench_dir/tls.pcap clear=$bench_dir/clear.pcap keys=$bench_dir/tls.keys
    if [[ ! -f $tls || ! -f $clear || ! -f $keys || ! -f $bench_dir/tls1500.pcap ]]; then
        echo "generating $tls and $clear ..." >&2
        PCAP_CLI=$PCAP_CLI "$root/scripts/gen-tls-bench.sh" "$bench_dir" >&2
    fi
    local runs=${RUNS:-5} jsonl=$bench_dir/results-tls.jsonl load
    : >"$jsonl"
    load=$(machine)
    tt() { # label runs -- cmd...
        local label=$1 n=$2
        shift 3
        echo "  timing $label" >&2
        python3 "$benchrun" -n "$n" --warmup 1 --quiet --label "$label" --jsonl "$jsonl" \
            -- "$@" || echo "  ($label exited non-zero)" >&2
    }
    local mtu t c
    for mtu in "" 1500; do
        t=$bench_dir/tls$mtu.pcap c=$bench_dir/clear$mtu.pcap
        tt "libpcap floor (tls$mtu.pcap)" "$runs" -- "$floor" "$t"
        tt "pcap-cli http-trace --json, TLS$mtu" "$runs" -- "$PCAP_CLI" http-trace -q -r "$t" \
            --keylog "$keys" --json
        tt "pcap-cli http-trace --json, clear$mtu" "$runs" -- "$PCAP_CLI" http-trace -q -r "$c" \
            --json
        if have tshark; then
            tt "tshark http.request, TLS$mtu" 1 -- tshark -n -r "$t" -o "tls.keylog_file:$keys" \
                -Y http.request -T fields -e http.request.method -e http.host -e http.request.uri
            tt "tshark http.request, clear$mtu" 1 -- tshark -n -r "$c" -Y http.request -T fields \
                -e http.request.method -e http.host -e http.request.uri
        fi
    done
    # Correctness: every request decrypted, the same count as in clear.
    local want got_tls got_clear
    want=$(cat "$bench_dir/tls.requests")
    got_tls=$("$PCAP_CLI" http-trace -q -r "$tls" --keylog "$keys" --json | grep -c '"type":"http"')
    got_clear=$("$PCAP_CLI" http-trace -q -r "$clear" --json | grep -c '"type":"http"')
    python3 - "$jsonl" "$load" "$want" "$got_tls" "$got_clear" "$tls" >"$bench_dir/results-tls.md" <<'EOF'
import json, os, sys
jsonl, load, want, got_tls, got_clear, f = sys.argv[1:]
rows = {}
for l in open(jsonl):
    r = json.loads(l)
    rows[r['label']] = r
size = os.path.getsize(f) / 1e6
print('### Profile `tls` (%.0f MB of TLS, the same requests in clear)\n' % size)
print('Machine: %s.\n' % load)
print('| tool | runs | wall median s | CPU median s | MB/s (CPU) |')
print('|---|---:|---:|---:|---:|')
for label, r in rows.items():
    c = r['cpu']['median']
    print('| %s | %d | %.3f | %.3f | %.0f |' % (label, r['runs'], r['wall']['median'], c,
          size / c if c else 0))
def cpu(label):
    r = rows.get(label)
    return r['cpu']['median'] if r else None
print()
for mtu in ('', '1500'):
    t = cpu('pcap-cli http-trace --json, TLS' + mtu)
    c = cpu('pcap-cli http-trace --json, clear' + mtu)
    s = cpu('tshark http.request, TLS' + mtu)
    print('tls%s.pcap: TLS / clear (CPU): %.1fx (goal: at most 1.5x)' % (mtu, t / c))
    if s:
        print('tls%s.pcap: tshark / pcap-cli on TLS (CPU): %.1fx (goal: more than 20x)' % (mtu, s / t))
print('transactions: %s requested, %s decrypted, %s in clear' % (want, got_tls, got_clear))
EOF
    cat "$bench_dir/results-tls.md"
    echo
}

for p in "${profiles[@]}"; do
    case $p in
        small | http_big | http_mtu1500 | many_flows) run_profile "$p" ;;
        tls) run_tls ;;
        *) echo "bench.sh: unknown profile $p" >&2; exit 2 ;;
    esac
done
