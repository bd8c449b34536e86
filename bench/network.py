#!/usr/bin/env python3
"""What networking costs, measured with berthd inside a network namespace of the benchmark's own
(tests/compat/netns_harness.py: every bridge, veth and nftables rule lives there and goes with
it; the host's links and firewall are never touched):
  - one-shot `run --rm IMG true` on the default bridge vs `--network none` (mean of N runs);
  - the embedded DNS server's latency: A queries for a container's name sent to 127.0.0.11 from
    inside another container's namespace, p50/p99 over Q queries;
  - HTTP throughput through a published port (DNAT, no proxy) vs `--network host`, wrk against
    busybox httpd from berthd's namespace.
  sudo bench/network.py [N=20] [Q=2000]
"""
import json
import os
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "compat"))
os.environ.setdefault("BERTH_BUILD_DIR", os.path.join(HERE, "..", "build"))
import berthd_harness  # noqa: E402
import netns_harness  # noqa: E402

HTTPD = "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 80 -h /www"


def one_shot(d, network, n):
    args = ["run", "--rm"] + (["--network", network] if network else []) + ["busybox:local", "true"]
    d.berth(*args)  # warm
    t0 = time.monotonic()
    for _ in range(n):
        d.berth(*args)
    return (time.monotonic() - t0) / n


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
    out = netns_harness.sh("wrk", "-t2", "-c16", "-d5s", url, ns=ns).stdout
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
    ns = netns_harness.TestNetworks()
    try:
        d = berthd_harness.Berthd(argv_prefix=ns.prefix(), extra_config={"bridge": "berth0", "log-level": "warn"})
        try:
            d.berth("import", "-c", 'CMD ["sh"]', d.tar, "busybox:local")
            bridge = one_shot(d, "", n)
            none = one_shot(d, "none", n)
            print(f"| run --rm true, default bridge | {bridge * 1000:.0f} ms |")
            print(f"| run --rm true, --network none | {none * 1000:.0f} ms |")
            print(f"| ratio bridge / none | {bridge / none:.2f}x |")

            d.berth("network", "create", "bench")
            d.berth("run", "-d", "--name", "web", "--network", "bench", "-p", "8080:80", "busybox:local", "sh", "-c", HTTPD)
            d.berth("run", "-d", "--name", "client", "--network", "bench", "busybox:local", "sleep", "600")
            key = json.loads(d.berth("inspect", "client").stdout)[0]["NetworkSettings"]["SandboxKey"]
            p50, p99, lost = dns_latency(key, "web", q)
            print(f"| DNS A lookup at 127.0.0.11, {q} queries | p50 {p50:.0f} us, p99 {p99:.0f} us, lost {lost} |")

            time.sleep(0.5)
            published = wrk(ns.inside, "http://127.0.0.1:8080/")
            d.berth("run", "-d", "--name", "hostweb", "--network", "host", "busybox:local", "sh", "-c",
                    HTTPD.replace("-p 80", "-p 8090"))
            time.sleep(0.5)
            host = wrk(ns.inside, "http://127.0.0.1:8090/")
            print(f"| wrk through the published port | {published:.0f} req/s |")
            print(f"| wrk to --network host | {host:.0f} req/s |")
            print(f"| ratio published / host | {published / host:.2f}x |")

            for i in range(50):
                d.berth("run", "-d", "--network", "bench", "busybox:local", "sleep", "600")
            print(f"| berthd RSS with 53 containers networked | {rss_kib(d.proc.pid) // 1024} MiB |")
        finally:
            ids = d.berth("ps", "-aq", check=False).stdout.split()
            if ids:
                d.berth("rm", "-f", *ids, check=False)
            d.berth("network", "rm", "bench", check=False)
            d.stop()
    finally:
        ns.close()


if __name__ == "__main__":
    main()
