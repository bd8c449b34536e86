"""Detaching from an interactive container through a real terminal (a pty), with the berth CLI
and the docker CLI: Ctrl-P Ctrl-Q leaves the client and keeps the shell running, and a later
attach finds it (dockerd never ends a TTY container's stdin when a client leaves)."""
import os
import pty
import select
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import berthd_harness  # noqa: E402

D = None
DOCKER = shutil.which("docker")


class Terminal:
    """A client program on its own pty."""

    def __init__(self, argv, env=None):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvpe(argv[0], argv, env or os.environ)
        self.seen = b""

    def read_until(self, needle, timeout=10.0):
        end = time.monotonic() + timeout
        while needle not in self.seen:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {needle!r} within {timeout}s; terminal showed {self.seen!r}")
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"terminal closed before {needle!r}; it showed {self.seen!r}")
                self.seen += chunk
        return self.seen

    def send(self, data):
        os.write(self.fd, data)

    def wait_exit(self, timeout=10.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid != 0:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            try:
                if select.select([self.fd], [], [], 0.05)[0]:
                    self.seen += os.read(self.fd, 4096)
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"client still running after {timeout}s; terminal showed {self.seen!r}")


class Detach(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        D.berth("import", "-c", 'CMD ["sh"]', D.tar, "busybox:local")

    def check_detach_and_reattach(self, client, name):
        run = Terminal([*client, "run", "-it", "--name", name, "busybox:local", "sh"])
        run.send(b"echo first-$((40+2))\n")
        run.read_until(b"first-42")
        run.send(b"\x10\x11")  # Ctrl-P Ctrl-Q
        self.assertEqual(run.wait_exit(), 0, run.seen)
        time.sleep(1)  # the container used to exit a moment after the detach
        state = D.berth("inspect", "-f", "{{.State.Status}}", name).stdout.strip()
        self.assertEqual(state, "running")
        attach = Terminal([*client, "attach", name])
        time.sleep(0.3)
        attach.send(b"echo again-$((50+5))\n")
        attach.read_until(b"again-55")
        attach.send(b"exit 3\n")
        self.assertEqual(attach.wait_exit(), 3, attach.seen)
        D.berth("rm", name)

    def test_berth_cli(self):
        self.check_detach_and_reattach([os.path.join(berthd_harness.BUILD, "bin", "berth"), "-H", D.host],
                                       "detach-berth")

    @unittest.skipIf(DOCKER is None, "no docker CLI on PATH")
    def test_docker_cli(self):
        os.environ["DOCKER_HOST"] = D.host
        os.environ["DOCKER_CONFIG"] = os.path.join(D.root, "docker-config")
        self.check_detach_and_reattach([DOCKER], "detach-docker")


if __name__ == "__main__":
    D = berthd_harness.Berthd()
    try:
        result = unittest.main(exit=False, verbosity=2).result
    finally:
        D.stop()
    sys.exit(0 if result.wasSuccessful() else 1)
