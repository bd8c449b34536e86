#!/usr/bin/env python3
"""Where the default bridge's one-shot cost goes, without strace: a private berthd in a network
namespace of the script's own (tests/compat/netns_harness.py) with debug logging, N one-shots
`run --rm busybox true` alternated between the default bridge and --network none, back to back
and then with a pause between runs; then the phase timings berthd logged (network attach and
isolation create at start, the driver's leave at exit).
  sudo bench/network_phases.py [N=12 of each] [PAUSE_S=0.3]
"""
import re
import statistics
import sys

from netns_berthd import berthd_in_own_netns, one_shots


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    pause = float(sys.argv[2]) if len(sys.argv) > 2 else 0.3
    with berthd_in_own_netns("debug") as (d, _):
        for p in (0.0, pause):
            bridge, none = one_shots(d, n, p)
            print(f"pause {p:.1f} s: bridge {bridge * 1000:.1f} ms, none {none * 1000:.1f} ms, "
                  f"ratio {bridge / none:.2f}")
        log = open(d.log_path).read()
    starts = re.findall(r"task \w+: network ([\d.]+) ms, create ([\d.]+) ms", log)
    bridged = [(float(a), float(b)) for a, b in starts if float(a) > 0]
    plain = [float(b) for a, b in starts if float(a) == 0]
    # detach runs at the exit and again at rm (then there is nothing left to do): the first of
    # each container's is the one on the exit path.
    first = {}
    for cid, ms in re.findall(r"container (\w+): left bridge in ([\d.]+) ms", log):
        first.setdefault(cid, float(ms))
    leaves = sorted(first.values())
    print(f"network attach at start (bridge): median {statistics.median(a for a, _ in bridged):.1f} ms")
    print(f"isolation create: median {statistics.median(b for _, b in bridged):.1f} ms after a bridge join, "
          f"{statistics.median(plain):.1f} ms with --network none")
    print(f"leave at exit: median {statistics.median(leaves):.1f} ms, "
          f"min {leaves[0]:.1f}, max {leaves[-1]:.1f} ({len(leaves)} one-shots)")


if __name__ == "__main__":
    main()
