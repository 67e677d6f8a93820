#!/usr/bin/env python3
"""HTTP/1.1 server for scripts/gen-tls-bench.sh: one port in clear, one per TLS setup.

    gen-tls-bench.py DIR        writes DIR/cert.pem, DIR/key.pem, DIR/ports, serves until killed

Every TLS port logs its sessions' secrets to DIR/keys.log (Python's keylog_filename, the
NSS format). GET /b/SIZE answers SIZE bytes of text (deterministic), keep-alive.
"""
import http.server
import os
import socketserver
import ssl
import subprocess
import sys
import threading

d = sys.argv[1]
cert, key = os.path.join(d, 'cert.pem'), os.path.join(d, 'key.pem')
if not os.path.exists(cert):
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
                    '-subj', '/CN=bench.local', '-addext', 'subjectAltName=DNS:bench.local',
                    '-keyout', key, '-out', cert], check=True, capture_output=True)

TEXT = (b'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor '
        b'incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud '
        b'exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.\n') * 8000


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def do_GET(self):
        try:
            size = int(self.path.rsplit('/', 1)[1])
        except ValueError:
            size = 0
        self.send_response(200)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(size))
        self.end_headers()
        left = size
        while left > 0:
            chunk = TEXT[:min(left, len(TEXT))]
            self.wfile.write(chunk)
            left -= len(chunk)

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def tls_context(version):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.minimum_version = ctx.maximum_version = version
    ctx.keylog_filename = os.path.join(d, 'keys.log')
    return ctx


servers = {'clear': Server(('127.0.0.1', 0), Handler)}
for name, version in [('tls13', ssl.TLSVersion.TLSv1_3), ('tls12', ssl.TLSVersion.TLSv1_2)]:
    s = Server(('127.0.0.1', 0), Handler)
    s.socket = tls_context(version).wrap_socket(s.socket, server_side=True)
    servers[name] = s
with open(os.path.join(d, 'ports.tmp'), 'w') as f:
    for name, s in servers.items():
        f.write('%s %d\n' % (name, s.server_address[1]))
os.rename(os.path.join(d, 'ports.tmp'), os.path.join(d, 'ports'))
threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers.values()]
for t in threads:
    t.start()
for t in threads:
    t.join()
