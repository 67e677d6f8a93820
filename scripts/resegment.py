#!/usr/bin/env python3
"""Cuts the TCP segments of an Ethernet/IPv4 pcap into segments of at most MSS bytes, as a
1500-byte MTU would have carried them (loopback captures have 64 KiB packets).

    resegment.py IN.pcap OUT.pcap [MSS]      MSS default 1448

Sequence numbers, IPv4 lengths and header checksums are rewritten; TCP checksums are left
as they were (wrong for the pieces: tshark and pcap-cli do not check them by default). The
pieces share the original timestamp. Other packets are copied as they are.
"""
import struct
import sys


def ip_checksum(h):
    s = sum(struct.unpack('!%dH' % (len(h) // 2), h))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


src, dst = sys.argv[1], sys.argv[2]
mss = int(sys.argv[3]) if len(sys.argv) > 3 else 1448
with open(src, 'rb') as f, open(dst, 'wb') as out:
    gh = f.read(24)
    magic = struct.unpack('<I', gh[:4])[0]
    assert magic in (0xa1b2c3d4, 0xa1b23c4d), 'little-endian pcap only'
    assert struct.unpack('<I', gh[20:24])[0] == 1, 'Ethernet only'
    out.write(gh)
    while True:
        rh = f.read(16)
        if len(rh) < 16:
            break
        sec, frac, incl, orig = struct.unpack('<IIII', rh)
        data = f.read(incl)
        eth, ip = data[:14], data[14:]
        if (incl != orig or eth[12:14] != b'\x08\x00' or len(ip) < 20 or ip[9] != 6
                or ip[6] & 0x3f or ip[7]):
            out.write(rh + data)
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack('!H', ip[2:4])[0]
        tcp = ip[ihl:total]
        thl = (tcp[12] >> 4) * 4
        payload = tcp[thl:]
        if len(payload) <= mss:
            out.write(rh + data)
            continue
        seq = struct.unpack('!I', tcp[4:8])[0]
        flags = tcp[13]
        for at in range(0, len(payload), mss):
            piece = payload[at:at + mss]
            last = at + mss >= len(payload)
            # FIN (and PSH) only on the last piece.
            fl = flags if last else flags & ~0x09
            th = bytearray(tcp[:thl])
            th[4:8] = struct.pack('!I', (seq + at) & 0xffffffff)
            th[13] = fl
            ih = bytearray(ip[:ihl])
            ih[2:4] = struct.pack('!H', ihl + thl + len(piece))
            ih[10:12] = b'\0\0'
            ih[10:12] = struct.pack('!H', ip_checksum(bytes(ih)))
            frame = eth + bytes(ih) + bytes(th) + piece
            out.write(struct.pack('<IIII', sec, frac, len(frame), len(frame)) + frame)
