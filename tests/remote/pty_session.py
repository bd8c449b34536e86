"""Runs a command on a pseudo-terminal (python's pty module), as a user at a terminal would:
`berth run -it` and `exec -it` need a real TTY on stdin/stdout."""
import os
import pty
import re
import select
import time


class PtySession:
    def __init__(self, argv, env):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.output = b""
        self.status = None

    def send(self, text):
        os.write(self.fd, text.encode() if isinstance(text, str) else text)

    def _read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not chunk:
            return False
        self.output += chunk
        return True

    def expect(self, pattern, timeout=30):
        """Waits until the output so far matches `pattern` (bytes regex); returns the match."""
        deadline = time.time() + timeout
        rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        while True:
            m = rx.search(self.output)
            if m:
                return m
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError(f"expected {pattern!r} within {timeout}s; got {self.output!r}")
            if not self._read(min(left, 0.5)) and not rx.search(self.output):
                raise AssertionError(f"the command ended before {pattern!r}; got {self.output!r}")

    def poll(self):
        if self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
        return self.status

    def wait(self, timeout=30):
        """Drains the output until the command exits; returns its exit code."""
        deadline = time.time() + timeout
        while self.poll() is None:
            if time.time() > deadline:
                os.kill(self.pid, 9)
                os.waitpid(self.pid, 0)
                raise AssertionError(f"command did not exit; output {self.output!r}")
            self._read(0.1)
        while self._read(0.05):
            pass
        os.close(self.fd)
        return self.status
