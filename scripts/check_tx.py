#!/usr/bin/env python3
"""check_tx.py - compare `pcap-cli http-trace --json` (stdin) with a generator's .tx.tsv.

Each transaction is keyed by (method, host, uri, status, decoded response body length);
the two multisets must be equal. Prints one summary line; exit 1 on any difference.

  pcap-cli http-trace -r F --json | check_tx.py F.tx.tsv
"""
import collections
import json
import sys


def main():
    truth = collections.Counter()
    with open(sys.argv[1]) as f:
        next(f)  # header: conn method host uri status body_wire_bytes body_decoded_bytes
        for line in f:
            _conn, method, host, uri, status, _wire, decoded = line.rstrip('\n').split('\t')
            truth[(method, host, uri, int(status), int(decoded))] += 1
    seen = collections.Counter()
    other = 0
    for line in sys.stdin:
        o = json.loads(line)
        if o.get('type') != 'http':
            other += 1
            continue
        req, resp = o.get('request') or {}, o.get('response') or {}
        host = next((v for k, v in req.get('headers', []) if k.lower() == 'host'), '')
        seen[(req.get('method'), host, req.get('uri'), resp.get('status'), resp.get('body_len'))] += 1
    missing = truth - seen
    extra = seen - truth
    n_truth, n_seen = sum(truth.values()), sum(seen.values())
    ok = not missing and not extra
    print('%s: %d transactions, truth %d; missing %d, extra %d (%d other lines)' % (
        'OK' if ok else 'MISMATCH', n_seen, n_truth, sum(missing.values()), sum(extra.values()), other))
    for k in list(missing)[:5]:
        print('  missing', k, file=sys.stderr)
    for k in list(extra)[:5]:
        print('  extra  ', k, file=sys.stderr)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
