"""Hostile clients against a `telroute serve` with the default edge limits: what the issue "Trust, round 2"
measured (a 1 MB request header; 1,100 connections that send half a request head and then nothing).

Starts a server (sandbox, fresh data dir, SQLite), sends one request with a 1 MB header and prints the
answer's status line, then opens the half-open connections (127.0.0.1 only; with `--refill`, each one the
server closes is replaced at once) and, every second for `--seconds`, prints how many of them the server
still holds open, what they were answered, and the status and latency of a /healthz probe on a fresh
connection. Ends with the server's warnings and errors.

Usage: .venv/bin/python -m benchmarks.http_edge_attack [--connections 1100] [--seconds 15] [--refill]
"""

from __future__ import annotations

import argparse
import re
import selectors
import socket
import time
from collections import Counter

import httpx

from benchmarks.support import start_server

PARTIAL_HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
WORRYING = re.compile(r"\[(warning|error|critical)|Traceback|^(WARNING|ERROR)")


def status_line(raw: bytes) -> str:
    return raw.split(b"\r\n", 1)[0].decode("latin-1") or "(closed without an answer)"


def big_header(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 1_048_576 + b"\r\n\r\n")
        except OSError as exc:
            return f"(send failed: {exc})"
        return status_line(sock.recv(65536))


def probe(url: str) -> str:
    started = time.monotonic()
    try:
        status = str(httpx.get(f"{url}/healthz", timeout=5).status_code)
    except httpx.HTTPError as exc:
        status = type(exc).__name__
    return f"{status} in {(time.monotonic() - started) * 1000:.0f} ms"


def half_open(port: int, count: int, seconds: int, url: str, *, refill: bool) -> None:
    selector = selectors.DefaultSelector()
    answers: Counter[str] = Counter()
    received: dict[socket.socket, bytes] = {}

    def open_one() -> None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(PARTIAL_HEAD)
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
        received[sock] = b""

    for _ in range(count):
        open_one()
    started = time.monotonic()
    for second in range(1, seconds + 1):
        while (left := started + second - time.monotonic()) > 0:
            for key, _ in selector.select(timeout=left):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    chunk = sock.recv(65536)
                except ConnectionResetError:
                    chunk = b""
                received[sock] += chunk
                if not chunk:
                    answers[status_line(received.pop(sock))] += 1
                    selector.unregister(sock)
                    sock.close()
                    if refill:
                        open_one()
        print(f"{second:>3} s: {len(received):>5} held open; answered {dict(answers)}; /healthz {probe(url)}")
    for sock in received:
        sock.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=1100)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--refill", action="store_true", help="open a new half-open connection for each one closed")
    options = parser.parse_args()
    server = start_server()
    try:
        port = int(server.url.rsplit(":", 1)[1])
        print(f"1 MB header: {big_header(port)}")
        half_open(port, options.connections, options.seconds, server.url, refill=options.refill)
    finally:
        server.stop()
    log = (server.data_dir / "server.log").read_text(errors="replace").splitlines()
    print("server warnings and errors:", *[line for line in log if WORRYING.search(line)] or ["(none)"], sep="\n  ")


if __name__ == "__main__":
    main()
