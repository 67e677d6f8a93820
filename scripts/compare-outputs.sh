#!/usr/bin/env bash
# compare-outputs.sh - run two pcap-cli binaries over every capture we have and check that
# everything they print or write is byte-identical (for refactors that must not change output).
#
#   scripts/compare-outputs.sh OLD_BIN NEW_BIN
#
# Captures: $SHARED/corpus/captures/*, $SHARED/corpus-tunnels/captures/* and
# $SHARED/corpus-tls/captures/* (when present), tests/data/*.pcap and *.pcapng, and the bench
# captures $BENCH_DIR/*.pcap (default target/bench, made by scripts/bench.sh) when they exist.
# Each capture runs through the matrix in cmd_args below (capture, http-trace, grep, flows,
# follow, with their main options). Per run, OLD and NEW are compared on stdout, stderr, exit
# code and every file the run writes (-w FILE, --har FILE, follow -o DIR: by sha256).
#
# Both binaries run as `pcap-cli` (through a symlink found on PATH, so clap's usage lines name
# the same program), in the same empty working directory, with stdin from /dev/null,
# TZ=UTC, LC_ALL=C, NO_COLOR=1 and --no-color where the subcommand has it. In stderr the two
# binaries' paths are replaced by PCAP_CLI. Nothing else is normalised: any other difference,
# including one that varies from run to run, is reported.
#
# Output: one line per differing run,
#   differ: CAPTURE: pcap-cli ARGS...: WHAT[,WHAT]: FIRST DIFFERENCE
# (WHAT is stdout, stderr, exit, file or timeout), then
#   compare: N runs, N identical, N differ
# Exit status 0 when all runs are identical, 1 when any differ, 2 on a usage/setup error.
#
# Time: the corpus, tests/data and the `small` bench capture (168 captures x 18 runs = 3024
# runs) take 2.5 to 4 minutes with 2 jobs on a 2-core machine that is busy with other builds.
# The big bench profiles take much longer (follow on many_flows writes 400 000 files per side).
#
# Environment:
#   SHARED=dir      shared root (default: /work/shared, then ../shared, as in bench.sh)
#   BENCH_DIR=dir   bench captures (default target/bench); BENCH=0 leaves them out
#   GEN_BENCH=...   first generate bench captures with ../shared/bench/gen_http_pcap.py the
#                   way bench.sh does: 1 or small = small (~20 MB); big = small, many_flows and
#                   http_big (~1.2 GB more, minutes to generate and to compare); or a list of
#                   profile names (small http_big http_mtu1500 many_flows)
#   JOBS=N          parallel captures (default 2)
#   TIMEOUT=S       per-run timeout in seconds (default 60), plus TIMEOUT_PER_MB=S per MB of
#                   capture (default 2) for big captures
#   KEEP=dir        keep both sides' outputs: dir/old/CAPTURE/RUN.{stdout,stderr,rc,files/}
#                   and dir/new/... (without KEEP, identical runs' outputs are deleted at once)
#   ONLY=regex      only captures whose label (corpus/NAME, tls/NAME, ...) matches
#   VERBOSE=1       one progress line per capture on stderr
set -euo pipefail

# ------------------------------------------------------------------ the run matrix
# `id` names the run in KEEP and in the results; args are pcap-cli's, $cap the capture.
ids=(capture capture-json capture-filter capture-w
    http-trace http-trace-json http-trace-tcp-verbose http-trace-headers-bodies
    http-trace-json-tcp-verbose http-trace-filters http-trace-har
    grep-http grep-host grep-packet grep-json flows flows-json follow)
cmd_args() {
    case $1 in
        capture) args=(capture --no-color -r "$cap") ;;
        capture-json) args=(capture --json --no-color -r "$cap") ;;
        capture-filter) args=(capture --no-color -r "$cap" -f 'tcp or udp' -c 50) ;;
        capture-w) args=(capture --no-color -r "$cap" -w out.pcap) ;;
        http-trace) args=(http-trace --no-color -r "$cap") ;;
        http-trace-json) args=(http-trace --json --no-color -r "$cap") ;;
        http-trace-tcp-verbose) args=(http-trace --tcp-verbose --no-color -r "$cap") ;;
        http-trace-headers-bodies) args=(http-trace --headers --bodies --no-color -r "$cap") ;;
        http-trace-json-tcp-verbose) args=(http-trace --json --tcp-verbose --no-color -r "$cap") ;;
        http-trace-filters) args=(http-trace --no-color -r "$cap" --method '^(GET|POST)$'
            --url-ignore '\.png$' --show-header content-type) ;;
        http-trace-har) args=(http-trace --no-color -r "$cap" --har out.har) ;;
        grep-http) args=(grep --no-color -r "$cap" 'HTTP/1\.[01]') ;;
        grep-host) args=(grep --no-color -r "$cap" '(?i)host: [a-z]+') ;;
        grep-packet) args=(grep --no-color -r "$cap" --packet 'HTTP/1\.[01]') ;;
        grep-json) args=(grep --json --no-color -r "$cap" '(?i)content-type: [a-z/]+') ;;
        flows) args=(flows --no-color -r "$cap") ;;
        flows-json) args=(flows --json --no-color -r "$cap") ;;
        follow) args=(follow -r "$cap" -o follow) ;;
        *) echo "compare-outputs.sh: unknown run $1" >&2; exit 2 ;;
    esac
}

# ------------------------------------------------------------------ one capture (worker)
# Invoked by the main part below through xargs: compare-outputs.sh --one LABEL FILE
if [[ ${1:-} == --one ]]; then
    label=$2 cap=$3
    capdir=${label//\//__}
    size_mb=$(($(stat -c %s "$cap") / 1000000))
    tmo=$((TIMEOUT + size_mb * TIMEOUT_PER_MB))
    results=$CMP_WORK/results/$capdir.tsv
    : >"$results"

    # Runs one side; leaves $out/$side/$capdir/$id.{stdout,stderr,rc} and $id.files/ (the
    # files the run wrote, with a sha256 manifest in $id.files.sha256).
    run_side() {
        local side=$1 id=$2 o=$CMP_OUT/$1/$capdir rd=$CMP_WORK/run/$capdir
        mkdir -p "$o"
        rm -rf "$rd"
        mkdir -p "$rd"
        local rc=0
        (cd "$rd" && PATH=$CMP_WORK/bin-$side:$PATH exec timeout -k 5 "$tmo" pcap-cli "${args[@]}") \
            </dev/null >"$o/$id.stdout" 2>"$o/$id.stderr" || rc=$?
        echo "$rc" >"$o/$id.rc"
        # stderr: the binaries' own paths, should a message name them.
        local p
        for p in "$CMP_OLD" "$CMP_NEW" "$CMP_WORK/bin-old" "$CMP_WORK/bin-new"; do
            P=$p perl -pi -e 's/\Q$ENV{P}\E/PCAP_CLI/g' "$o/$id.stderr"
        done
        rm -rf "$o/$id.files"
        mv "$rd" "$o/$id.files"
        (cd "$o/$id.files" && find . -mindepth 1 \( -type f -printf 'f %p\n' -o -type d -printf 'd %p/\n' \
            -o -printf 'other %p\n' \) | LC_ALL=C sort |
            while read -r kind path; do
                if [[ $kind == f ]]; then
                    sha256sum "$path"
                else
                    echo "$kind $path"
                fi
            done) >"$o/$id.files.sha256"
    }

    # First differing line of two text files: "line N: -OLD +NEW" (each cut to 150 bytes).
    first_diff() {
        local a=$1 b=$2 msg n
        msg=$(cmp "$a" "$b" 2>&1 || true)
        n=$(sed -n 's/.*after byte [0-9]*, line \([0-9]*\)$/\1/p' <<<"$msg")
        if [[ -n $n ]]; then
            n=$((n + 1))
        elif [[ $msg == *"which is empty" ]]; then
            n=1
        else
            n=$(sed -n 's/.*line \([0-9]*\)$/\1/p' <<<"$msg")
        fi
        [[ -n $n ]] || { echo "$msg"; return; }
        show() { # line n of $1, or <EOF> past its last line (an unterminated one included)
            if (($(awk 'END { print NR }' "$1") < n)); then
                printf '<EOF>'
            else
                sed -n "${n}{p;q}" "$1" | cut -b 1-150 | cat -v | tr -d '\n'
            fi
        }
        printf 'line %s: -%s +%s' "$n" "$(show "$a")" "$(show "$b")"
    }

    # Where two binary files differ: "byte N", or which one is shorter.
    byte_diff() {
        local msg
        msg=$(cmp "$1" "$2" 2>&1 || true)
        case $msg in
            *"EOF on $1 which is empty"*) echo "empty in OLD, $(stat -c %s "$2") bytes in NEW" ;;
            *"EOF on $2 which is empty"*) echo "$(stat -c %s "$1") bytes in OLD, empty in NEW" ;;
            *"EOF on $1 "*) echo "OLD ($(stat -c %s "$1") bytes) is a prefix of NEW ($(stat -c %s "$2") bytes)" ;;
            *"EOF on $2 "*) echo "NEW ($(stat -c %s "$2") bytes) is a prefix of OLD ($(stat -c %s "$1") bytes)" ;;
            *" differ: "*) echo "first difference at byte $(sed 's/.* differ: [a-z]* \([0-9]*\).*/\1/' <<<"$msg")" ;;
            *) echo "$msg" ;;
        esac
    }

    # First differing written file: its name and, for text, its first differing line.
    file_diff() {
        local fo=$1 fn=$2 line path
        line=$(diff "$fo.sha256" "$fn.sha256" | sed -n 's/^[<>] //p' | sed -n 1p || true)
        path=${line##* }
        path=${path%/}
        if [[ -f $fo/$path && -f $fn/$path ]]; then
            if grep -qI . "$fo/$path" 2>/dev/null && grep -qI . "$fn/$path" 2>/dev/null; then
                printf '%s %s' "${path#./}" "$(first_diff "$fo/$path" "$fn/$path")"
            else
                printf '%s %s' "${path#./}" "$(byte_diff "$fo/$path" "$fn/$path")"
            fi
        elif [[ -e $fo/$path ]]; then
            printf '%s only in OLD' "${path#./}"
        else
            printf '%s only in NEW' "${path#./}"
        fi
    }

    for id in "${ids[@]}"; do
        cmd_args "$id"
        run_side old "$id"
        run_side new "$id"
        o=$CMP_OUT/old/$capdir/$id n=$CMP_OUT/new/$capdir/$id
        what=() first=''
        rco=$(<"$o.rc") rcn=$(<"$n.rc")
        if [[ $rco == 124 || $rco == 137 || $rcn == 124 || $rcn == 137 ]]; then
            what+=(timeout)
            first="timed out after ${tmo}s (OLD exit $rco, NEW exit $rcn)"
        fi
        if ! cmp -s "$o.stdout" "$n.stdout"; then
            what+=(stdout)
            [[ -n $first ]] || first="stdout $(first_diff "$o.stdout" "$n.stdout")"
        fi
        if ! cmp -s "$o.stderr" "$n.stderr"; then
            what+=(stderr)
            [[ -n $first ]] || first="stderr $(first_diff "$o.stderr" "$n.stderr")"
        fi
        if [[ $rco != "$rcn" ]]; then
            what+=(exit)
            [[ -n $first ]] || first="exit $rco vs $rcn"
        fi
        if ! cmp -s "$o.files.sha256" "$n.files.sha256"; then
            what+=(file)
            [[ -n $first ]] || first="file $(file_diff "$o.files" "$n.files")"
        fi
        cmdline=pcap-cli
        for a in "${args[@]}"; do
            if [[ $a == "$cap" ]]; then
                a=FILE
            elif [[ ! $a =~ ^[A-Za-z0-9_./:=,+-]+$ ]]; then
                a="'${a//\'/\'\\\'\'}'"
            fi
            cmdline+=" $a"
        done
        if ((${#what[@]})); then
            w=${what[*]}
            printf 'differ\t%s\t%s\t%s\t%s\n' "$label" "$cmdline" "${w// /,}" "$first" >>"$results"
        else
            printf 'same\t%s\t%s\n' "$label" "$cmdline" >>"$results"
            if [[ -z $CMP_KEEP ]]; then
                rm -rf "$o".* "$n".*
            fi
        fi
    done
    rm -rf "$CMP_WORK/run/$capdir"
    [[ -z ${VERBOSE:-} ]] || echo "compare: done $label" >&2
    exit 0
fi

# ------------------------------------------------------------------ main
usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}
[[ $# -eq 2 && $1 != -* ]] || usage
for b in "$1" "$2"; do
    [[ -x $b && -f $b ]] || { echo "compare-outputs.sh: $b is not an executable file" >&2; exit 2; }
done
CMP_OLD=$(realpath "$1")
CMP_NEW=$(realpath "$2")

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
shared=${SHARED:-}
for s in "$shared" /work/shared "$root/../shared"; do
    if [[ -n "$s" && -d "$s/corpus/captures" ]]; then shared=$s; break; fi
done
[[ -d $shared/corpus/captures ]] || { echo "compare-outputs.sh: no shared/corpus (set SHARED=dir)" >&2; exit 2; }
bench_dir=${BENCH_DIR:-$root/target/bench}

# --- bench captures, generated as bench.sh does ----------------------------------------
if [[ -n ${GEN_BENCH:-} && ${GEN_BENCH} != 0 ]]; then
    case $GEN_BENCH in
        1 | small) profiles=(small) ;;
        big) profiles=(small many_flows http_big) ;;
        all) profiles=(small http_big http_mtu1500 many_flows) ;;
        *) read -ra profiles <<<"$GEN_BENCH" ;;
    esac
    gen=$shared/bench/gen_http_pcap.py
    [[ -f $gen ]] || { echo "compare-outputs.sh: no $gen" >&2; exit 2; }
    mkdir -p "$bench_dir"
    for prof in "${profiles[@]}"; do
        f=$bench_dir/$prof.pcap
        if [[ ! -f $f || ! -f $f.tx.tsv ]]; then
            echo "generating $f ..." >&2
            python3 "$gen" --profile "$prof" -o "$f" --tx-log >&2
        fi
    done
fi

# --- the capture list: LABEL FILE pairs ----------------------------------------------------
shopt -s nullglob
caps=()
add() { # label-prefix files...
    local p=$1 f
    shift
    for f in "$@"; do
        [[ -f $f ]] || continue
        caps+=("$p/$(basename "$f")" "$f")
    done
}
add corpus "$shared"/corpus/captures/*
add tunnels "$shared"/corpus-tunnels/captures/*
add tls "$shared"/corpus-tls/captures/*
add tests "$root"/tests/data/*.pcap "$root"/tests/data/*.pcapng
[[ ${BENCH:-1} == 0 ]] || add bench "$bench_dir"/*.pcap
if [[ -n ${ONLY:-} ]]; then
    sel=()
    for ((i = 0; i < ${#caps[@]}; i += 2)); do
        [[ ${caps[i]} =~ $ONLY ]] && sel+=("${caps[i]}" "${caps[i + 1]}")
    done
    caps=("${sel[@]}")
fi
((${#caps[@]})) || { echo "compare-outputs.sh: no captures" >&2; exit 2; }

# --- work area -------------------------------------------------------------------------------
CMP_WORK=$(mktemp -d "${TMPDIR:-/tmp}/compare-outputs.XXXXXX")
cleanup() { rm -rf "$CMP_WORK"; }
trap cleanup EXIT
if [[ -n ${KEEP:-} ]]; then
    mkdir -p "$KEEP"
    CMP_KEEP=$(realpath "$KEEP")
    rm -rf "$CMP_KEEP/old" "$CMP_KEEP/new"
    CMP_OUT=$CMP_KEEP
else
    CMP_KEEP=''
    CMP_OUT=$CMP_WORK/out
fi
mkdir -p "$CMP_WORK/bin-old" "$CMP_WORK/bin-new" "$CMP_WORK/results" "$CMP_OUT"
ln -s "$CMP_OLD" "$CMP_WORK/bin-old/pcap-cli"
ln -s "$CMP_NEW" "$CMP_WORK/bin-new/pcap-cli"
export CMP_OLD CMP_NEW CMP_WORK CMP_OUT CMP_KEEP
export TIMEOUT=${TIMEOUT:-60} TIMEOUT_PER_MB=${TIMEOUT_PER_MB:-2}
export TZ=UTC LC_ALL=C NO_COLOR=1
unset CLICOLOR_FORCE FORCE_COLOR

start=$(date +%s)
echo "compare: $((${#caps[@]} / 2)) captures, OLD=$CMP_OLD NEW=$CMP_NEW" >&2
failed=0
printf '%s\0' "${caps[@]}" | xargs -0 -n 2 -P "${JOBS:-2}" "$0" --one || failed=1

# --- report ------------------------------------------------------------------------------------
runs=0 same=0 differ=0
while IFS=$'\t' read -r status label cmdline what first; do
    runs=$((runs + 1))
    if [[ $status == same ]]; then
        same=$((same + 1))
    else
        differ=$((differ + 1))
        printf 'differ: %s: %s: %s: %s\n' "$label" "$cmdline" "$what" "$first"
    fi
done < <(LC_ALL=C sort -t $'\t' -k2,2 -s "$CMP_WORK"/results/*.tsv)
echo "compare: $runs runs, $same identical, $differ differ ($((${#caps[@]} / 2)) captures, $(($(date +%s) - start)) s)"
[[ -z $CMP_KEEP ]] || echo "compare: outputs kept in $CMP_KEEP/old and $CMP_KEEP/new" >&2
expected=$((${#caps[@]} / 2 * ${#ids[@]}))
if ((failed || runs != expected)); then
    echo "compare-outputs.sh: a worker failed: $runs of $expected runs reported" >&2
    exit 2
fi
((differ == 0))
