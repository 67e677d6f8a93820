#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with seeds from the repository's tests/data and, when present,
# ../shared/corpus/captures (beside the checkout).
#
#   fuzz/seed.sh            # idempotent; seeds are named by their SHA-1 (git-ignored)
#
# File-level targets (capture_pcap, capture_pcapng, pipeline) get whole capture files.
# Frame-level targets get packet records cut out of classic pcap files by a small python3
# reader: decode_<link> gets the frames of that link type, decode_raw the IP packets (with
# the target's selector byte in front), decode_dns the UDP payloads on DNS ports and
# http_stream the TCP payloads on port 80 in the target's chunk encoding, tls_session the TCP
# payloads of the captures in ../shared/corpus-tls in the same encoding (the lower port as
# the server) and tls_client_hello the payloads that start a ClientHello record.
# At most MAX_PER_FILE seeds per capture and target keep the corpora small; whole files
# over MAX_FILE_BYTES (64 KiB) are skipped.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd .. && pwd)
MAX_PER_FILE=${MAX_PER_FILE:-64}
# Whole captures larger than this are left out of the file-level corpora: large inputs
# slow every execution and raise libFuzzer's guessed -max_len.
MAX_FILE_BYTES=${MAX_FILE_BYTES:-65536}

sources=("$ROOT/tests/data")
SHARED=${PCAP_CORPUS:-$ROOT/../shared/corpus}
if [ -d "$SHARED/captures" ]; then
    sources+=("$SHARED/captures")
else
    echo "seed: $SHARED/captures not found: seeding from tests/data only" >&2
fi
SHARED_TLS=${PCAP_CORPUS_TLS:-$ROOT/../shared/corpus-tls}
if [ -d "$SHARED_TLS/captures" ]; then
    sources+=("$SHARED_TLS/captures")
else
    echo "seed: $SHARED_TLS/captures not found: no TLS seeds" >&2
fi

mapfile -t files < <(find "${sources[@]}" -maxdepth 1 -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) | sort)

copy_seed() { # target file
    local dir="corpus/$1" sum
    mkdir -p "$dir"
    sum=$(sha1sum "$2" | cut -c1-40)
    [ -e "$dir/$sum" ] || cp "$2" "$dir/$sum"
}

for f in "${files[@]}"; do
    [ "$(stat -c %s "$f")" -le "$MAX_FILE_BYTES" ] || continue
    copy_seed pipeline "$f"
    case "$f" in
        *.pcapng) copy_seed capture_pcapng "$f" ;;
        *) copy_seed capture_pcap "$f" ;;
    esac
done

python3 - "$MAX_PER_FILE" "${files[@]}" <<'PY'
import hashlib, os, struct, sys

max_per_file = int(sys.argv[1])
DNS_PORTS = {53, 5353, 5355}

def records(path):
    """(linktype, frame) for each record of a classic pcap file; nothing for pcapng."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return
    link = struct.unpack(e + "I", data[20:24])[0] & 0xFFFF
    off = 24
    while off + 16 <= len(data):
        caplen = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + caplen]
        if len(frame) != caplen:
            return
        yield link, frame
        off += 16 + caplen

def ip_of(link, frame):
    """The IP packet inside an Ethernet (with VLAN tags) or raw frame, else None."""
    if link == 1:
        i, et = 12, None
        while i + 2 <= len(frame):
            et = struct.unpack(">H", frame[i:i + 2])[0]
            if et in (0x8100, 0x88A8):
                i += 4
                continue
            break
        return frame[i + 2:] if et in (0x0800, 0x86DD) else None
    if link in (12, 14, 101, 228, 229):
        return frame
    return None

def transport(ip):
    """(protocol, src port, dst port, payload) of an unfragmented IPv4/IPv6 TCP or UDP packet."""
    if len(ip) < 20:
        return None
    v = ip[0] >> 4
    if v == 4:
        ihl = (ip[0] & 15) * 4
        proto, rest = ip[9], ip[ihl:]
        if struct.unpack(">H", ip[6:8])[0] & 0x3FFF:
            return None
    elif v == 6 and len(ip) >= 40:
        proto, rest = ip[6], ip[40:]
    else:
        return None
    if proto == 17 and len(rest) >= 8:
        sp, dp = struct.unpack(">HH", rest[:4])
        return proto, sp, dp, rest[8:]
    if proto == 6 and len(rest) >= 20:
        sp, dp = struct.unpack(">HH", rest[:4])
        return proto, sp, dp, rest[(rest[12] >> 4) * 4:]
    return None

def chunks(payload, to_server):
    """http_stream's encoding: control byte (bit 7 direction, bits 0..5 length) + bytes."""
    out = bytearray()
    for i in range(0, len(payload), 63):
        part = payload[i:i + 63]
        out.append((0 if to_server else 0x80) | len(part))
        out += part
    return bytes(out)

def save(target, data, counts, key):
    if not data or counts.get(key, 0) >= max_per_file:
        return
    counts[key] = counts.get(key, 0) + 1
    d = os.path.join("corpus", target)
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, hashlib.sha1(data).hexdigest())
    if not os.path.exists(p):
        with open(p, "wb") as f:
            f.write(data)

LINK_TARGET = {1: "decode_ethernet", 113: "decode_sll", 276: "decode_sll2", 0: "decode_null", 108: "decode_null"}
RAW_PICK = {12: 0, 14: 0, 101: 0, 228: 1, 229: 2}
total = {}
for path in sys.argv[2:]:
    counts, http, tls = {}, bytearray(), bytearray()
    for link, frame in records(path):
        if link in LINK_TARGET:
            save(LINK_TARGET[link], frame, counts, LINK_TARGET[link])
        ip = ip_of(link, frame)
        if ip is None:
            continue
        pick = RAW_PICK.get(link, 0)  # Ethernet payloads go in as LINKTYPE_RAW
        save("decode_raw", bytes([pick]) + ip, counts, "decode_raw")
        t = transport(ip)
        if t is None:
            continue
        proto, sp, dp, payload = t
        if proto == 17 and (sp in DNS_PORTS or dp in DNS_PORTS):
            save("decode_dns", payload, counts, "decode_dns")
        if proto == 6 and payload and 80 in (sp, dp) and len(http) < 16384:
            http += chunks(payload, dp == 80)
        if proto == 6 and payload and "corpus-tls" in path and len(tls) < 16384:
            tls += chunks(payload, dp < sp)
            if payload[:1] == b"\x16" and payload[5:6] == b"\x01":
                save("tls_client_hello", payload, counts, "tls_client_hello")
    save("http_stream", bytes(http), counts, "http_stream")
    save("tls_session", bytes(tls), counts, "tls_session")
    for k, n in counts.items():
        total[k] = total.get(k, 0) + n
for k in sorted(total):
    print(f"seed: {k}: {total[k]} seeds extracted")
PY

for d in corpus/*/; do
    printf 'seed: %-20s %5d files\n' "$(basename "$d")" "$(find "$d" -type f | wc -l)"
done
