"""Shared by the network benchmarks: a private berthd inside a network namespace of the
benchmark's own (tests/compat/netns_harness.py: nothing on the host is touched), with the
busybox test image imported, and the one-shot loop they time."""
import contextlib
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "compat"))
os.environ.setdefault("BERTH_BUILD_DIR", os.path.join(HERE, "..", "build"))
import berthd_harness  # noqa: E402
import netns_harness  # noqa: E402


@contextlib.contextmanager
def berthd_in_own_netns(log_level="warn"):
    """Yields (berthd, namespaces); every container is removed and berthd stopped afterwards."""
    ns = netns_harness.TestNetworks()
    try:
        d = berthd_harness.Berthd(argv_prefix=ns.prefix(), extra_config={"bridge": "berth0", "log-level": log_level})
        try:
            d.berth("import", "-c", 'CMD ["sh"]', d.tar, "busybox:local")
            yield d, ns
        finally:
            ids = d.berth("ps", "-aq", check=False).stdout.split()
            if ids:
                d.berth("rm", "-f", *ids, check=False)
            d.stop()
    finally:
        ns.close()


def one_shots(d, n, pause=0.0):
    """Median seconds of `run --rm busybox true` on the default bridge and with --network none,
    alternated run by run so that both see the same load on a shared machine; `pause` seconds
    before each run."""
    times = {"": [], "none": []}
    for network in times:
        d.berth("run", "--rm", *(["--network", network] if network else []), "busybox:local", "true")  # warm
    for _ in range(n):
        for network, got in times.items():
            time.sleep(pause)
            t0 = time.monotonic()
            d.berth("run", "--rm", *(["--network", network] if network else []), "busybox:local", "true")
            got.append(time.monotonic() - t0)
    return tuple(sorted(v)[len(v) // 2] for v in times.values())
