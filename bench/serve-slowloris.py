#!/usr/bin/python3
"""Slow clients against a running digits-serve: trickled headers and trickled bodies from several
loopback addresses, while a legitimate client on another address probes the server.

Prints the legitimate requests' worst and median latency, how many failed, and how many slow
connections the server closed (and after how long). Loopback only: every 127.x.y.z is this machine,
and the server counts each as another client.

    build/bin/digits-serve --port 5000 &
    bench/serve-slowloris.py --port 5000 --connections 500 --addresses 1 --seconds 30
    bench/serve-slowloris.py --port 5000 --connections 560 --addresses 5 --seconds 30 --body
"""

import argparse
import http.client
import resource
import selectors
import socket
import statistics
import time


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=5000)
    p.add_argument("--connections", type=int, default=500, help="slow connections in all")
    p.add_argument("--addresses", type=int, default=1, help="client addresses they come from (127.0.1.x)")
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--interval", type=float, default=3, help="seconds between two trickled bytes")
    p.add_argument("--body", action="store_true", help="trickle a body after complete headers, not the headers")
    p.add_argument("--image", help="a picture the probe also posts (default: only GET /healthz)")
    a = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, a.connections + 256)), hard))

    start = (b"POST /api/digit_recognize HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
             b"Content-Length: 1000000\r\n\r\n") if a.body else b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
    selector = selectors.DefaultSelector()
    opened = time.monotonic()
    slow = []
    for i in range(a.connections):
        s = socket.socket()
        s.bind((f"127.0.1.{1 + i % a.addresses}", 0))
        try:
            s.connect(("127.0.0.1", a.port))
            s.sendall(start)
        except OSError:
            s.close()
            continue
        s.setblocking(False)
        slow.append(s)
        selector.register(s, selectors.EVENT_READ, i)
    closed_after = {}
    latencies, failures = [], 0
    next_trickle = time.monotonic() + a.interval
    image = open(a.image, "rb").read() if a.image else None
    while time.monotonic() - opened < a.seconds:
        for key, _ in selector.select(timeout=0.05):
            try:
                data = key.fileobj.recv(4096)
            except OSError:
                data = b""
            if not data:
                closed_after[key.data] = time.monotonic() - opened
                selector.unregister(key.fileobj)
                key.fileobj.close()
        if time.monotonic() >= next_trickle:
            for key in list(selector.get_map().values()):
                try:
                    key.fileobj.send(b"a" if a.body else b"X-a: b\r\n")
                except OSError:
                    pass
            next_trickle += a.interval
        # The legitimate client, from an address of its own.
        begun = time.monotonic()
        try:
            c = http.client.HTTPConnection("127.0.0.1", a.port, timeout=5, source_address=("127.0.0.200", 0))
            if image is not None:
                c.request("POST", "/api/digit_recognize", body=image, headers={"Content-Type": "image/png"})
            else:
                c.request("GET", "/healthz")
            ok = c.getresponse().status == 200
            c.close()
        except OSError:
            ok = False
        latencies.append(time.monotonic() - begun)
        failures += not ok
        time.sleep(0.2)
    held = len(selector.get_map())
    times = sorted(closed_after.values())
    print(f"slow connections: {len(slow)} opened from {a.addresses} address(es), {len(times)} closed by the server"
          f" (first {times[0]:.1f} s, median {statistics.median(times):.1f} s)" if times else
          f"slow connections: {len(slow)} opened, none closed by the server")
    print(f"still open at the end: {held}")
    print(f"legitimate requests: {len(latencies)}, failed {failures}, worst {max(latencies) * 1000:.0f} ms,"
          f" median {statistics.median(latencies) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
