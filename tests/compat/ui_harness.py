"""Helpers for the dashboard's browser tests and benchmark."""
import os
import subprocess
import sys


def isolate_network(script):
    """Re-runs `script` inside a new network namespace holding only loopback (once: the child
    sees BERTH_UI_NETNS). A browser's own background traffic (update checks, safe browsing,
    captive-portal probes) then resolves nothing and reaches nothing; the tests need only
    127.0.0.1 and berthd's unix socket, which namespaces do not separate."""
    if os.environ.get("BERTH_UI_NETNS") == "1":
        return
    if os.geteuid() != 0:
        return  # the Berthd harness skips without root anyway
    env = dict(os.environ, BERTH_UI_NETNS="1")
    cmd = ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
           sys.executable, os.path.abspath(script), *sys.argv[1:]]
    sys.exit(subprocess.run(cmd, env=env).returncode)
