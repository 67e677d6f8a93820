#!/usr/bin/env bash
# gen-tls-bench.sh - the TLS benchmark captures (issue 16): the same HTTP/1.1 keep-alive
# requests made on loopback over TLS and in clear, captured live by pcap-cli itself.
#
#   scripts/gen-tls-bench.sh [DIR]      default DIR: target/bench
#
# Writes DIR/tls.pcap, DIR/tls.keys (NSS key log), DIR/clear.pcap and DIR/tls.requests
# (transactions per capture), and tls1500.pcap and clear1500.pcap: the same with the
# segments cut to 1448 bytes (scripts/resegment.py), as a 1500-byte MTU carries them. A Python server (scripts/gen-tls-bench.py; keep-alive,
# bodies of 150 B to 1 MiB) answers curl, one connection per 40 requests, in five setups:
# TLS 1.3 AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305, TLS 1.2 ECDHE-RSA AES-128-GCM
# and ChaCha20-Poly1305; the clear capture repeats the same requests over plain HTTP.
# Needs root (live capture), curl and openssl. MB=N sets the body megabytes per setup
# (default 60: about 300 MB per capture). Takes about a minute on an idle machine.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(realpath -m "${1:-$root/target/bench}")
mb=${MB:-60}
mkdir -p "$dir"
if [[ -z "${PCAP_CLI:-}" ]]; then
    (cd "$root" && cargo build --release -q -p pcap-cli)
    PCAP_CLI=$root/target/release/pcap-cli
fi
work=$(mktemp -d)
server=
cleanup() {
    [[ -n $server ]] && kill "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

python3 "$root/scripts/gen-tls-bench.py" "$work" &
server=$!
for _ in $(seq 100); do [[ -f $work/ports ]] && break; sleep 0.1; done
declare -A port
while read -r name p; do port[$name]=$p; done <"$work/ports"

# One request list per setup: body sizes cycling over 150 B .. 1 MiB (mean 198 KB).
sizes=(150 1500 4096 16384 65536 262144 1048576)
n=$((mb * 1000000 / 198000))
setups=(
    "tls13 --tlsv1.3 --tls13-ciphers TLS_AES_128_GCM_SHA256"
    "tls13 --tlsv1.3 --tls13-ciphers TLS_AES_256_GCM_SHA384"
    "tls13 --tlsv1.3 --tls13-ciphers TLS_CHACHA20_POLY1305_SHA256"
    "tls12 --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256"
    "tls12 --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-RSA-CHACHA20-POLY1305"
)

# Runs every setup's requests, 40 per connection, over TLS or (clear) plain HTTP.
requests() {
    local mode=$1 s name opts i c
    for s in "${setups[@]}"; do
        read -r name opts <<<"$s"
        for ((c = 0; c * 40 < n; c++)); do
            : >"$work/curl.cfg"
            for ((i = c * 40; i < n && i < c * 40 + 40; i++)); do
                if [[ $mode == clear ]]; then
                    echo "url = \"http://127.0.0.1:${port[clear]}/b/${sizes[i % 7]}\""
                else
                    echo "url = \"https://127.0.0.1:${port[$name]}/b/${sizes[i % 7]}\""
                fi
                echo 'output = "/dev/null"'
            done >>"$work/curl.cfg"
            if [[ $mode == clear ]]; then
                curl -s -K "$work/curl.cfg"
            else
                # shellcheck disable=SC2086
                curl -sk $opts -K "$work/curl.cfg"
            fi
        done
    done
}

# Captures on lo what `requests MODE` sends to PORTS into FILE.
capture() {
    local mode=$1 file=$2 filter=$3
    "$PCAP_CLI" capture -i lo -B 262144 -f "$filter" -w "$file.tmp" 2>"$work/capture.err" &
    local cap=$!
    for _ in $(seq 100); do grep -q listening "$work/capture.err" && break; sleep 0.1; done
    requests "$mode"
    sleep 1
    kill -INT "$cap"
    wait "$cap" || true
    cat "$work/capture.err" >&2
    if ! grep -q '^0 packets dropped by kernel' "$work/capture.err"; then
        echo "gen-tls-bench.sh: the kernel dropped packets: run again on a quieter machine" >&2
        exit 1
    fi
    mv "$file.tmp" "$file"
}

capture tls "$dir/tls.pcap" "tcp port ${port[tls13]} or tcp port ${port[tls12]}"
cp "$work/keys.log" "$dir/tls.keys"
capture clear "$dir/clear.pcap" "tcp port ${port[clear]}"
echo "$((n * ${#setups[@]}))" >"$dir/tls.requests"
# The same packets as a 1500-byte MTU would have carried them.
python3 "$root/scripts/resegment.py" "$dir/tls.pcap" "$dir/tls1500.pcap"
python3 "$root/scripts/resegment.py" "$dir/clear.pcap" "$dir/clear1500.pcap"
ls -l "$dir"/tls*.pcap "$dir"/clear*.pcap "$dir/tls.keys" >&2
