"""Starts a private berthd (temporary data-root, exec-root, socket, cgroup parent) for the
compatibility tests, and imports the busybox test image. Nothing here talks to a registry."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("BERTH_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SKIP = 77  # CTest SKIP_RETURN_CODE


def skip(reason):
    print(f"SKIP: {reason}")
    sys.exit(SKIP)


def unmount_below(root):
    """Lazily unmounts everything mounted at or below `root`, deepest first."""
    subprocess.run(["sh", "-c", f"grep ' {root}' /proc/mounts | cut -d' ' -f2 | sort -r | "
                    "xargs -r -n1 umount -l"], check=False)


class Berthd:
    def __init__(self, extra_args=(), extra_config=None, argv_prefix=()):
        """extra_args: more berthd flags (another --host); extra_config: keys merged into
        daemon.json (TLS settings); argv_prefix: what berthd runs under (nsenter into a test's
        network namespace)."""
        if os.geteuid() != 0:
            skip("berthd runs containers as root")
        self.root = tempfile.mkdtemp(prefix="berth-compat-")
        os.chmod(self.root, 0o755)
        self.sock = os.path.join(self.root, "berth.sock")
        self.host = "unix://" + self.sock
        self.log_path = os.path.join(self.root, "berthd.log")
        self.cgroup_parent = f"berth-compat-{os.getpid()}"
        config = os.path.join(self.root, "daemon.json")
        # "bridge": "none": no default bridge network, so a test's berthd never makes bridges,
        # veths or nftables rules in the host's namespace (network_test.py runs its berthd in a
        # namespace of its own and turns it back on).
        settings = {"plugins": {"isolation.linux": {"cgroup-parent": self.cgroup_parent}},
                    "bridge": "none"}
        settings.update(extra_config or {})
        with open(config, "w") as f:
            json.dump(settings, f)
        self.log = open(self.log_path, "w")
        self.argv = [*argv_prefix, os.path.join(BUILD, "bin", "berthd"), "--config", config,
                     "--data-root", os.path.join(self.root, "data"),
                     "--exec-root", os.path.join(self.root, "exec"),
                     "--host", self.host, "--log-level", "debug", *extra_args]
        self._launch()
        self.tar = os.path.join(self.root, "busybox.tar")
        subprocess.run(["/bin/sh", os.path.join(SOURCE, "tests/images/make-busybox-rootfs.sh"), self.tar],
                       check=True)

    def _launch(self):
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(400):
            if self.proc.poll() is not None:
                raise RuntimeError("berthd exited:\n" + open(self.log_path).read())
            if os.path.exists(self.sock):
                break
            time.sleep(0.025)
        time.sleep(0.1)

    def restart(self):
        """Stops berthd (SIGTERM; containers live on under their monitors) and starts it again."""
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=20)
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        self._launch()

    def berth(self, *args, check=True, input=None):
        r = subprocess.run([os.path.join(BUILD, "bin", "berth"), "-H", self.host, *args],
                           capture_output=True, text=True, input=input)
        if check and r.returncode != 0:
            raise AssertionError(f"berth {' '.join(args)} failed ({r.returncode}): {r.stderr}")
        return r

    def stop(self):
        # Remove whatever containers a failed test left, then stop berthd and clean up.
        try:
            ids = self.berth("ps", "-aq", check=False).stdout.split()
            if ids:
                self.berth("rm", "-f", *ids, check=False)
        except Exception:
            pass
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        unmount_below(self.root)
        shutil.rmtree(self.root, ignore_errors=True)
