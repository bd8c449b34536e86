"""A minimal client of Firefox's Marionette protocol (no geckodriver in Debian 12): frames are
"<length>:<json>", commands [0, id, name, params], answers [1, id, error, result]. Enough to
navigate and run scripts in the page, which is all the dashboard's Firefox test needs."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time


class Firefox:
    def __init__(self, port):
        self.profile = tempfile.mkdtemp(prefix="berth-ui-firefox-")
        prefs = {
            "marionette.port": port,
            # Quiet: no first-run pages, updates, telemetry or experiments (the test's network
            # namespace stops them anyway).
            "browser.shell.checkDefaultBrowser": False,
            "browser.startup.homepage_override.mstone": "ignore",
            "app.update.enabled": False,
            "datareporting.policy.dataSubmissionEnabled": False,
            "toolkit.telemetry.enabled": False,
            "app.normandy.enabled": False,
            "network.captive-portal-service.enabled": False,
            "network.connectivity-service.enabled": False,
        }
        with open(os.path.join(self.profile, "user.js"), "w") as f:
            for k, v in prefs.items():
                f.write("user_pref(%s, %s);\n" % (json.dumps(k), json.dumps(v)))
        self.log = open(os.path.join(self.profile, "firefox.log"), "w")
        self.proc = subprocess.Popen([shutil.which("firefox-esr") or "firefox", "--headless", "--marionette",
                                      "--no-remote", "--profile", self.profile, "about:blank"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
                break
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.quit()
                    raise RuntimeError("Firefox's Marionette did not answer on port %d" % port)
                time.sleep(0.2)
        self.next_id = 0
        self._read()  # the hello
        self.command("WebDriver:NewSession", {"capabilities": {"alwaysMatch": {"acceptInsecureCerts": True}}})

    def _read(self):
        head = b""
        while not head.endswith(b":"):
            c = self.sock.recv(1)
            if not c:
                raise RuntimeError("Marionette closed the connection")
            head += c
        size = int(head[:-1])
        body = b""
        while len(body) < size:
            body += self.sock.recv(size - len(body))
        return json.loads(body)

    def command(self, name, params):
        self.next_id += 1
        message = json.dumps([0, self.next_id, name, params]).encode()
        self.sock.sendall(str(len(message)).encode() + b":" + message)
        while True:
            answer = self._read()
            if answer[0] == 1 and answer[1] == self.next_id:
                break
        if answer[2]:
            raise RuntimeError("%s: %s" % (name, answer[2].get("message", answer[2])))
        return answer[3]

    def navigate(self, url):
        self.command("WebDriver:Navigate", {"url": url})

    def script(self, source, *args):
        return self.command("WebDriver:ExecuteScript", {"script": source, "args": list(args)}).get("value")

    def until(self, source, *args, timeout=20):
        """Runs `source` until it returns something true; returns that."""
        deadline = time.time() + timeout
        while True:
            value = self.script(source, *args)
            if value:
                return value
            if time.time() > deadline:
                raise AssertionError("timed out waiting for: %s\npage: %s" % (
                    source, self.script("return document.body ? document.body.innerText : ''")))
            time.sleep(0.1)

    def quit(self):
        try:
            if getattr(self, "sock", None):
                self.command("Marionette:Quit", {})
        except Exception:
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)
