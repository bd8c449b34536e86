"""Network namespaces for the networking tests, so that nothing of the host's own networking is
ever touched: berthd runs inside `berth-t-<pid>` (its bridges, veths, sysctls and nftables table
live there; its unix socket is on the filesystem, so clients on the host still reach it), and a
second namespace `berth-o-<pid>` linked to it by a veth on 198.51.100.0/24 (a documentation
range) stands in for "outside": the masquerade and DNS-forwarding tests talk only to it."""
import os
import subprocess
import time

import berthd_harness


def sh(*args, check=True, ns=None):
    argv = list(args)
    if ns:
        argv = ["ip", "netns", "exec", ns, *argv]
    r = subprocess.run(argv, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed ({r.returncode}): {r.stdout}{r.stderr}")
    return r


def host_firewall():
    """The host's ruleset as the tests compare it (before and after must be identical)."""
    nft = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout
    ipt = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    ipt = "\n".join(line for line in ipt.splitlines() if not line.startswith("#"))
    return nft + "\n--\n" + ipt


def host_links():
    return sorted(os.listdir("/sys/class/net"))


class TestNetworks:
    OUTSIDE_IP = "198.51.100.2"
    INSIDE_IP = "198.51.100.1"

    def __init__(self):
        for tool in ("ip", "nft", "nsenter"):
            if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode != 0:
                berthd_harness.skip(f"{tool} is missing (iproute2, nftables, util-linux)")
        self.inside = f"berth-t-{os.getpid()}"
        self.outside = f"berth-o-{os.getpid()}"
        sh("ip", "netns", "add", self.inside)
        sh("ip", "netns", "add", self.outside)
        sh("ip", "link", "set", "lo", "up", ns=self.inside)
        sh("ip", "link", "set", "lo", "up", ns=self.outside)
        # Made inside the test namespace, its peer moved straight to the outside one: the host's
        # namespace never sees either end.
        sh("ip", "link", "add", "uplink", "type", "veth", "peer", "name", "world", "netns", self.outside,
           ns=self.inside)
        sh("ip", "addr", "add", self.INSIDE_IP + "/24", "dev", "uplink", ns=self.inside)
        sh("ip", "link", "set", "uplink", "up", ns=self.inside)
        sh("ip", "addr", "add", self.OUTSIDE_IP + "/24", "dev", "world", ns=self.outside)
        sh("ip", "link", "set", "world", "up", ns=self.outside)
        # The "internet" is the outside namespace: the default route of berthd's namespace.
        sh("ip", "route", "add", "default", "via", self.OUTSIDE_IP, ns=self.inside)

    def prefix(self):
        """argv prefix that runs a program in berthd's namespace (network only: same mounts)."""
        return ["nsenter", f"--net=/run/netns/{self.inside}", "--"]

    def links(self):
        out = sh("ip", "-o", "link", "show", ns=self.inside).stdout
        return sorted(line.split(":")[1].strip().split("@")[0] for line in out.splitlines())

    def table(self):
        return sh("nft", "list", "table", "ip", "berth", check=False, ns=self.inside).stdout

    def close(self):
        for ns in (self.inside, self.outside):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        time.sleep(0.1)
