#!/usr/bin/env python3
"""What networking costs, measured with berthd inside a network namespace of the benchmark's own
(tests/compat/netns_harness.py: every bridge, veth and nftables rule lives there and goes with
it; the host's links and firewall are never touched):
  - one-shot `run --rm IMG true` on the default bridge vs `--network none` (median of N runs
    each, alternated);
  - the embedded DNS server's latency: A queries for a container's name sent to 127.0.0.11 from
    inside another container's namespace, p50/p99 over Q queries;
  - HTTP throughput through a published port (DNAT, no proxy) vs `--network host`, wrk against
    busybox httpd from berthd's namespace;
  - 50 detached containers started on one bridge network vs `--network none`, and berthd's RSS
    with the 50 networked ones running.
  sudo bench/network.py [N=20] [Q=2000]
"""
import json
import os
import socket
import struct
import subprocess
import sys
import time

from netns_berthd import berthd_in_own_netns, one_shots
import netns_harness  # noqa: E402  (on the path netns_berthd set)

HTTPD = "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 80 -h /www"


def detached(d, network, count):
    """Seconds to start `count` detached containers on `network`, one after another (the CLI's
    create + start each), and their ids."""
    t0 = time.monotonic()
    ids = [d.berth("run", "-d", "--network", network, "busybox:local", "sleep", "600").stdout.strip()
           for _ in range(count)]
    return time.monotonic() - t0, ids


def dns_latency(netns_path, name, q):
    """Runs in a child that joined the container's namespace (setns), sending q A queries."""
    code = f"""
import ctypes, os, socket, struct, time
fd = os.open({netns_path!r}, os.O_RDONLY)
assert ctypes.CDLL(None, use_errno=True).setns(fd, 0x40000000) == 0  # CLONE_NEWNET
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
qname = b"".join(bytes([len(p)]) + p.encode() for p in {name!r}.split(".")) + b"\\0"
lat = []
lost = 0
for i in range({q}):
    msg = struct.pack("!HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0) + qname + struct.pack("!HH", 1, 1)
    t0 = time.perf_counter()
    s.sendto(msg, ("127.0.0.11", 53))
    try:
        s.recv(512)
        lat.append(time.perf_counter() - t0)
    except socket.timeout:
        lost += 1
lat.sort()
print(lat[len(lat) // 2] * 1e6, lat[int(len(lat) * 0.99)] * 1e6, lost)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    p50, p99, lost = out.split()
    return float(p50), float(p99), int(lost)


def wrk(ns, url):
    out = netns_harness.sh("wrk", "-t2", "-c16", "-d3s", url, ns=ns).stdout
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    raise RuntimeError(out)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    q = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    with berthd_in_own_netns() as (d, ns):
        try:
            bridge, none = one_shots(d, n)
            print(f"| run --rm true, default bridge | {bridge * 1000:.0f} ms |")
            print(f"| run --rm true, --network none | {none * 1000:.0f} ms |")
            print(f"| ratio bridge / none | {bridge / none:.2f}x |")

            d.berth("network", "create", "bench")
            d.berth("run", "-d", "--name", "web", "--network", "bench", "-p", "8080:80", "busybox:local", "sh", "-c", HTTPD)
            d.berth("run", "-d", "--name", "client", "--network", "bench", "busybox:local", "sleep", "600")
            key = json.loads(d.berth("inspect", "client").stdout)[0]["NetworkSettings"]["SandboxKey"]
            p50, p99, lost = dns_latency(key, "web", q)
            print(f"| DNS A lookup at 127.0.0.11, {q} queries | p50 {p50:.0f} us, p99 {p99:.0f} us, lost {lost} |")

            d.berth("run", "-d", "--name", "hostweb", "--network", "host", "busybox:local", "sh", "-c",
                    HTTPD.replace("-p 80", "-p 8090"))
            time.sleep(0.5)
            # Alternated, best of three each: on a shared machine one run of either can be unlucky.
            published, host = 0.0, 0.0
            for _ in range(3):
                published = max(published, wrk(ns.inside, "http://127.0.0.1:8080/"))
                host = max(host, wrk(ns.inside, "http://127.0.0.1:8090/"))
            print(f"| wrk through the published port | {published:.0f} req/s |")
            print(f"| wrk to --network host | {host:.0f} req/s |")
            print(f"| ratio published / host | {published / host:.2f}x |")

            for name in ("web", "client", "hostweb"):
                d.berth("rm", "-f", name)
            rss_before = rss_kib(d.proc.pid)
            on_bridge, ids = detached(d, "bench", 50)
            rss = rss_kib(d.proc.pid)
            d.berth("rm", "-f", *ids)
            on_none, ids = detached(d, "none", 50)
            d.berth("rm", "-f", *ids)
            print(f"| 50 x run -d, one bridge network | {on_bridge:.1f} s |")
            print(f"| 50 x run -d, --network none | {on_none:.1f} s |")
            print(f"| ratio bridge / none | {on_bridge / on_none:.2f}x |")
            print(f"| berthd RSS, 50 containers networked | {rss // 1024} MiB ({rss_before // 1024} MiB with none) |")
        finally:
            for name in ("web", "client", "hostweb"):
                d.berth("rm", "-f", name, check=False)
            d.berth("network", "rm", "bench", check=False)


if __name__ == "__main__":
    main()
