#!/usr/bin/env python3
"""Memory a proxy holds per idle keep-alive client connection.

Usage: idle-connections.py PID COUNT PORT PATH

Opens COUNT connections to 127.0.0.1:PORT, sends one GET PATH on each and reads its
answer's head, keeps them all open and idle, and prints how much the resident set of
process PID grew per connection (VmRSS, read before and one second after).
"""
import socket
import sys
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1])
    raise SystemExit(f"no VmRSS for process {pid}")


def main():
    pid, count, port, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    before = rss_kib(pid)
    kept = []
    for _ in range(count):
        conn = socket.create_connection(("127.0.0.1", port))
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
    print(f"{count} idle keep-alive connections: RSS {before} -> {after} KiB, "
          f"{(after - before) * 1024 / count:.0f} bytes each")


if __name__ == "__main__":
    main()
