"""Helpers for the dashboard's browser tests and benchmark."""
import os
import re
import shutil
import subprocess
import sys

CHROMEDRIVER = "/usr/bin/chromedriver"


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


class Dashboard:
    """`berth ui --no-browser` (plus `extra_args`) in front of the Berthd `d`; the URL it printed
    is `url` (token included), `base` is that URL without its path, `port` and `token` its parts."""

    def __init__(self, d, *extra_args):
        from berthd_harness import BUILD
        self.proc = subprocess.Popen([os.path.join(BUILD, "bin", "berth"), "-H", d.host, "ui", "--no-browser",
                                      *extra_args], stdout=subprocess.PIPE, text=True)
        for _ in range(20):
            m = re.search(r"((https?://[^/\s]+):(\d+))/\?token=([0-9a-f]{64})", self.proc.stdout.readline())
            if m:
                self.url, self.base = m.group(0), m.group(1)
                self.port, self.token = int(m.group(3)), m.group(4)
                return
        self.stop()
        raise RuntimeError("berth ui printed no URL")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()


def headless_chromium(webdriver, service_class):
    """Debian's chromium through chromium-driver, headless, at 1280x900, with no proxy."""
    opts = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
                "--disable-dev-shm-usage", "--no-proxy-server"):
        opts.add_argument(arg)
    opts.binary_location = shutil.which("chromium")
    return webdriver.Chrome(service=service_class(executable_path=CHROMEDRIVER), options=opts)
