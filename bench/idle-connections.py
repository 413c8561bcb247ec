#!/usr/bin/env python3
"""Memory a proxy holds per idle keep-alive client connection.

Usage: idle-connections.py PID COUNT PORT PATH [--tls CA_FILE [--h2]]

Opens COUNT connections to 127.0.0.1:PORT, sends one GET PATH on each and reads its
answer (its head; over HTTP/2, the whole stream), keeps them all open and idle, and prints
how much the resident set of process PID grew per connection (VmRSS, read before and one
second after). With --tls, the connections are TLS (trusting CA_FILE, server name
`localhost`), HTTP/1.1 by ALPN, or HTTP/2 with --h2.
"""
import socket
import ssl
import sys
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1])
    raise SystemExit(f"no VmRSS for process {pid}")


def frame(kind, flags, stream, payload):
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload


def literal(name, value):
    """An HPACK field, literal without indexing, new name, no Huffman coding."""
    name, value = name.encode(), value.encode()
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def h2_get(conn, path):
    fields = (literal(":method", "GET") + literal(":scheme", "https")
              + literal(":path", path) + literal(":authority", "localhost"))
    conn.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0, b"")
                 + frame(1, 0x5, 1, fields))
    seen = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            raise SystemExit("the proxy closed a connection")
        seen += chunk
        at = 0
        while at + 9 <= len(seen):
            length = int.from_bytes(seen[at:at + 3], "big")
            if at + 9 + length > len(seen):
                break
            flags, stream = seen[at + 4], int.from_bytes(seen[at + 5:at + 9], "big") & 0x7FFFFFFF
            if stream == 1 and flags & 0x1:
                conn.sendall(frame(4, 0x1, 0, b""))  # acknowledges the server's SETTINGS
                return
            at += 9 + length


def main():
    args = sys.argv[1:]
    pid, count, port, path = int(args[0]), int(args[1]), int(args[2]), args[3]
    tls = None
    if "--tls" in args:
        tls = ssl.create_default_context(cafile=args[args.index("--tls") + 1])
        tls.set_alpn_protocols(["h2"] if "--h2" in args else ["http/1.1"])
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    before = rss_kib(pid)
    kept = []
    for _ in range(count):
        conn = socket.create_connection(("127.0.0.1", port))
        if tls:
            conn = tls.wrap_socket(conn, server_hostname="localhost")
        if tls and conn.selected_alpn_protocol() == "h2":
            h2_get(conn, path)
        else:
            conn.sendall(request)
            seen = b""
            while b"\r\n\r\n" not in seen:
                chunk = conn.recv(4096)
                if not chunk:
                    raise SystemExit("the proxy closed a connection")
                seen += chunk
        kept.append(conn)
    time.sleep(1)
    after = rss_kib(pid)
    kind = "HTTP/2 over TLS" if tls and "--h2" in args else ("TLS" if tls else "keep-alive")
    print(f"{count} idle {kind} connections: RSS {before} -> {after} KiB, "
          f"{(after - before) * 1024 / count:.0f} bytes each")


if __name__ == "__main__":
    main()
