"""berth ui in a real browser: headless Chromium (Debian's chromium and chromium-driver) driven by
Debian's python3-selenium against `berth ui` in front of a private berthd. The page must show a
running container, stop it, follow its logs, run a shell in its terminal, draw its stats, and
pull an image from a berth-registry on 127.0.0.1 with per-layer progress; requests without the
access token are refused. BERTH_UI_SCREENSHOTS=DIR saves the main views there (docs/ui/)."""
import http.client
import os
import shutil
import ssl
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "registry"))
from berthd_harness import BUILD, Berthd, skip  # noqa: E402
from ui_harness import CHROMEDRIVER, Dashboard, headless_chromium, isolate_network  # noqa: E402

# Browsers reach out on their own (updates, safe browsing, captive-portal checks): the whole test
# runs in a network namespace of its own with only loopback, where no name resolves and nothing
# leaves the machine. berthd, berth ui, the registry and the browser all live there.
isolate_network(__file__)

try:
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    skip("python3-selenium is not installed (scripts/install-deps.sh installs it)")

SHOTS = os.environ.get("BERTH_UI_SCREENSHOTS")


def request(port, method, path, headers=None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


class Ui(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(CHROMEDRIVER) or not shutil.which("chromium"):
            skip("chromium and chromium-driver are not installed (scripts/install-deps.sh installs them)")
        cls.d = Berthd()
        try:
            cls._start()
        except BaseException:
            cls.tearDownClass()  # unittest skips it when setUpClass fails: nothing may be left
            raise

    @classmethod
    def _start(cls):
        cls.d.berth("import", cls.d.tar, "busybox:ui")
        cls.d.berth("run", "-d", "--name", "web", "busybox:ui", "sh", "-c",
                    "trap 'exit 0' TERM; i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.5; done")
        cls.ui = Dashboard(cls.d)
        cls.url, cls.port, cls.token = cls.ui.url, cls.ui.port, cls.ui.token
        cls.browser = headless_chromium(webdriver, Service)
        # Tables are redrawn on every event: an element found a moment ago may be replaced before
        # its text is read, which is a retry, not a failure.
        cls.wait = WebDriverWait(cls.browser, 20, ignored_exceptions=[StaleElementReferenceException])

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "browser", None):
            cls.browser.quit()
        if getattr(cls, "ui", None):
            cls.ui.stop()
        cls.d.stop()

    def press(self, button):
        """Activates a button as the keyboard does (focus, Enter): a pointer click lands at
        coordinates taken a moment earlier, and a table redrawn by an event in between can put
        another row's button there."""
        button.send_keys(Keys.ENTER)

    def ensure_web_runs(self):
        """Each test that needs the container running starts it (another test may have stopped it)."""
        if self.d.berth("inspect", "-f", "{{.State.Running}}", "web").stdout.strip() != "true":
            self.d.berth("start", "web")

    def until(self, condition):
        """WebDriverWait.until, printing what the page showed and logged when it times out."""
        try:
            return self.wait.until(condition)
        except Exception:
            try:
                print("--- url:", self.browser.current_url)
                print("--- page source:\n" + self.browser.page_source[:3000])
                for entry in self.browser.get_log("browser"):
                    print("--- console:", entry.get("message"))
            except Exception as e:  # the browser itself may be the problem
                print("--- no page state:", e)
            raise

    def shot(self, name):
        if SHOTS:
            os.makedirs(SHOTS, exist_ok=True)
            self.browser.save_screenshot(os.path.join(SHOTS, name + ".png"))

    def open(self, fragment):
        if not self.browser.get_cookies():
            self.browser.get(self.url)  # the URL's token becomes the page's cookie
        self.browser.get("http://127.0.0.1:%d/#/%s" % (self.port, fragment))

    def text_of(self, css):
        return self.browser.find_element(By.CSS_SELECTOR, css).text

    # -- the token ------------------------------------------------------------------------------

    def test_0_requests_without_the_token_are_refused(self):
        host = {"Host": "127.0.0.1:%d" % self.port}
        self.assertEqual(request(self.port, "GET", "/", host)[0], 403)
        self.assertEqual(request(self.port, "GET", "/api/containers/json", host)[0], 403)
        wrong = dict(host, **{"X-Berth-Token": "0" * 64})
        self.assertEqual(request(self.port, "POST", "/api/containers/web/stop", wrong)[0], 403)
        # The cookie alone (what a cross-site form would carry) cannot act on the daemon.
        cookie = dict(host, Cookie="berth_ui_token=" + self.token)
        self.assertEqual(request(self.port, "POST", "/api/containers/web/stop", cookie)[0], 403)
        # A DNS-rebinding name is refused whatever it carries; so is another site's Origin.
        rebound = {"Host": "attacker.example:%d" % self.port, "X-Berth-Token": self.token}
        self.assertEqual(request(self.port, "GET", "/api/containers/json", rebound)[0], 421)
        cross = dict(host, **{"X-Berth-Token": self.token, "Origin": "http://attacker.example"})
        self.assertEqual(request(self.port, "GET", "/api/containers/json", cross)[0], 403)
        status, _, body = request(self.port, "GET", "/api/containers/json",
                                  dict(host, **{"X-Berth-Token": self.token}))
        self.assertEqual(status, 200)
        self.assertIn(b'"/web"', body)
        self.assertEqual(self.d.berth("inspect", "-f", "{{.State.Status}}", "web").stdout.strip(), "running")
        # The URL's token becomes an HttpOnly, SameSite=Strict cookie and leaves the address bar.
        status, headers, _ = request(self.port, "GET", "/?token=" + self.token, host)
        self.assertEqual(status, 303)
        self.assertIn("HttpOnly", headers["set-cookie"])
        self.assertIn("SameSite=Strict", headers["set-cookie"])
        self.assertEqual(headers["location"], "/")

    # -- containers -----------------------------------------------------------------------------

    def test_1_containers_appear_stop_and_start_from_the_page(self):
        started = time.time()
        self.browser.get(self.url)
        link = self.until(EC.presence_of_element_located((By.CSS_SELECTOR, 'a[data-container="web"]')))
        print("containers view shown %.0f ms after opening the URL" % ((time.time() - started) * 1000))
        self.assertNotIn("token=", self.browser.current_url)
        row = link.find_element(By.XPATH, "./ancestor::tr")
        self.assertIn("running", row.text)
        self.shot("containers")
        self.press(row.find_element(By.CSS_SELECTOR, 'button[data-action="stop"]'))
        # The row changes when the daemon's event arrives, not by polling.
        self.until(lambda b: "exited" in b.find_element(
            By.XPATH, '//a[@data-container="web"]/ancestor::tr').text)
        self.assertEqual(self.d.berth("inspect", "-f", "{{.State.Status}}", "web").stdout.strip(), "exited")
        self.press(self.browser.find_element(By.XPATH, '//a[@data-container="web"]/ancestor::tr//button[@data-action="start"]'))
        self.until(lambda b: "running" in b.find_element(
            By.XPATH, '//a[@data-container="web"]/ancestor::tr').text)

    def test_2_a_new_container_appears_without_reload(self):
        self.open("containers")
        self.until(EC.presence_of_element_located((By.CSS_SELECTOR, 'a[data-container="web"]')))
        self.d.berth("create", "--name", "newcomer", "busybox:ui", "true")
        self.until(EC.presence_of_element_located((By.CSS_SELECTOR, 'a[data-container="newcomer"]')))
        # Removing asks first; confirming removes it.
        self.press(self.browser.find_element(By.XPATH, '//a[@data-container="newcomer"]/ancestor::tr//button[@data-action="remove"]'))
        self.until(EC.visibility_of_element_located((By.ID, "confirm-ok"))).click()
        self.until(EC.invisibility_of_element_located((By.CSS_SELECTOR, 'a[data-container="newcomer"]')))
        self.assertNotEqual(self.d.berth("inspect", "newcomer", check=False).returncode, 0)

    def test_3_logs_follow_and_search(self):
        self.ensure_web_runs()
        self.open("containers/web")
        self.until(EC.element_to_be_clickable((By.CSS_SELECTOR, 'button[data-tab="logs"]'))).click()
        self.until(lambda b: "tick-" in b.find_element(By.ID, "logs").text)
        first = self.text_of("#logs").count("tick-")
        self.until(lambda b: b.find_element(By.ID, "logs").text.count("tick-") > first)  # it follows
        self.shot("logs")
        box = self.browser.find_element(By.CSS_SELECTOR, 'input[aria-label="search logs"]')
        box.send_keys("tick-3")
        self.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#logs mark"))
        for line in self.text_of("#logs").splitlines():
            self.assertIn("tick-3", line)

    def test_4_terminal_runs_a_shell(self):
        self.ensure_web_runs()
        self.open("containers/web")
        self.until(EC.element_to_be_clickable((By.CSS_SELECTOR, 'button[data-tab="terminal"]'))).click()
        area = self.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#terminal .xterm-helper-textarea")))
        time.sleep(0.5)  # the shell's prompt
        area.send_keys("echo hello-$((6*7))" + Keys.ENTER)
        # xterm draws on a canvas: read what it holds from its buffer.
        screen = ("const b = window.berthTerminal._core.buffer; let s = '';"
                  "for (let i = 0; i < b.lines.length; i++) s += b.translateBufferLineToString(i, true) + '\\n';"
                  "return s;")
        self.until(lambda b: "hello-42" in b.execute_script(screen))
        # The session's tty has the page terminal's size, and follows it when the window changes.
        def tty_size_is(b, rows, cols):
            area.send_keys("stty size" + Keys.ENTER)
            time.sleep(0.3)
            return "%d %d" % (rows, cols) in b.execute_script(screen).splitlines()
        rows, cols = self.browser.execute_script("return [window.berthTerminal.rows, window.berthTerminal.cols]")
        self.assertGreater(cols, 80)  # fitted to a 1280 px window, not xterm's default
        self.until(lambda b: tty_size_is(b, rows, cols))
        self.browser.set_window_size(900, 700)
        self.until(lambda b: b.execute_script("return window.berthTerminal.cols") < cols)
        rows, cols = self.browser.execute_script("return [window.berthTerminal.rows, window.berthTerminal.cols]")
        self.until(lambda b: tty_size_is(b, rows, cols))
        self.browser.set_window_size(1280, 900)
        self.shot("terminal")

    def test_5_stats_are_charted(self):
        self.ensure_web_runs()
        self.open("containers/web")
        self.until(EC.element_to_be_clickable((By.CSS_SELECTOR, 'button[data-tab="stats"]'))).click()
        self.until(lambda b: b.find_element(By.CSS_SELECTOR, '[data-chart="Memory"] .value').text not in ("", "—"))
        self.assertRegex(self.text_of('[data-chart="CPU"] .value'), r"^\d+\.\d %$")
        # Rates need two samples (a second apart).
        self.until(lambda b: b.find_element(By.CSS_SELECTOR, '[data-chart="Block I/O (per second)"] .value').text != "—")
        self.shot("stats")

    def test_6_pull_from_a_loopback_registry_shows_progress(self):
        from registry_harness import Registry, find_binary
        reg = Registry(find_binary()).start()
        try:
            # An image with a layer of its own (3 MB), so the pull has something to download.
            ref = "%s/ui/busybox:v1" % reg.address
            self.d.berth("run", "--name", "maker", "busybox:ui", "sh", "-c",
                         "head -c 3000000 /dev/urandom > /blob")
            self.d.berth("commit", "maker", ref)
            self.d.berth("rm", "maker")
            self.d.berth("push", ref)
            self.d.berth("rmi", ref)
            self.open("images")
            field = self.until(EC.presence_of_element_located((By.ID, "pull-ref")))
            field.send_keys(ref)
            self.browser.find_element(By.ID, "pull").click()
            self.until(lambda b: "Status:" in b.find_element(By.ID, "pull-progress").text)
            layers = self.text_of("#pull-progress table")
            self.assertIn("Pull complete", layers)  # the new layer, downloaded and applied
            self.assertIn("Already exists", layers)  # busybox's, present already
            self.shot("images")
            self.assertEqual(self.d.berth("image", "inspect", ref, check=False).returncode, 0)
        finally:
            reg.cleanup()

    def test_7_a_daemon_error_is_shown_as_the_cli_shows_it(self):
        self.open("volumes")
        self.until(EC.presence_of_element_located((By.CSS_SELECTOR, 'input[aria-label="volume name"]'))).send_keys("bad/name")
        self.browser.find_element(By.XPATH, '//button[text()="Create"]').click()
        self.until(lambda b: "Error response from daemon:" in b.find_element(By.ID, "errors").text)

    def test_8_build_from_a_dockerfile_typed_in_the_page(self):
        self.open("build")
        tag = self.until(EC.presence_of_element_located((By.ID, "build-tag")))
        tag.send_keys("ui/built:v1")
        area = self.browser.find_element(By.ID, "build-dockerfile")
        area.clear()
        area.send_keys('FROM busybox:ui\nRUN echo made-in-the-page > /made\nCMD ["cat", "/made"]\n')
        self.browser.find_element(By.ID, "build").click()
        self.until(lambda b: "Built sha256:" in b.find_element(By.ID, "build-output").text)
        self.assertIn("Step 2/3 : RUN echo made-in-the-page > /made", self.text_of("#build-output"))
        out = self.d.berth("run", "--rm", "ui/built:v1").stdout
        self.assertEqual(out.strip(), "made-in-the-page")

    def test_9_events_system_and_a_narrow_window(self):
        self.open("events")
        self.until(EC.presence_of_element_located((By.ID, "events")))
        time.sleep(0.5)  # the page's event stream is connected
        self.d.berth("volume", "create", "ui-vol")
        self.until(lambda b: "ui-vol" in b.find_element(By.ID, "events").text)
        self.d.berth("create", "--name", "vol-user", "-v", "ui-vol:/data", "busybox:ui", "true")
        self.open("volumes")
        self.until(lambda b: "ui-vol" in b.find_element(By.TAG_NAME, "main").text)
        row = self.browser.find_element(By.XPATH, '//a[text()="ui-vol"]/ancestor::tr')
        self.assertIn("vol-user", row.text)  # which containers use it
        row.find_element(By.TAG_NAME, "a").click()
        self.until(lambda b: '"Mountpoint"' in b.find_element(By.TAG_NAME, "pre").text)
        if os.environ.get("BERTH_UI_NETNS") == "1":  # a bridge is made only in the test's namespace
            self.open("networks")
            self.until(EC.presence_of_element_located((By.CSS_SELECTOR, 'input[aria-label="network name"]'))).send_keys("uinet")
            self.browser.find_element(By.CSS_SELECTOR, 'input[aria-label="subnet"]').send_keys("10.199.0.0/24")
            self.browser.find_element(By.XPATH, '//button[text()="Create"]').click()
            self.until(lambda b: "10.199.0.0/24" in b.find_element(By.TAG_NAME, "main").text)
            self.assertIn("10.199.0.0/24", self.d.berth("network", "inspect", "-f",
                                                        "{{range .IPAM.Config}}{{.Subnet}}{{end}}", "uinet").stdout)
            self.shot("networks")
            self.browser.find_element(By.XPATH, '//a[text()="uinet"]/ancestor::tr//button[text()="Remove"]').click()
            self.until(EC.visibility_of_element_located((By.ID, "confirm-ok"))).click()
            self.until(lambda b: "uinet" not in b.find_element(By.TAG_NAME, "main").text)
        self.open("system")
        bars = self.until(EC.presence_of_element_located((By.ID, "df")))
        self.assertIn("Images (", bars.text)
        self.shot("system")
        # At a phone's width nothing spills sideways out of the page (wide tables scroll inside).
        self.browser.set_window_size(400, 800)
        try:
            self.open("containers")
            self.until(EC.presence_of_element_located((By.CSS_SELECTOR, 'a[data-container="web"]')))
            self.assertLessEqual(self.browser.execute_script("return document.documentElement.scrollWidth"),
                                 self.browser.execute_script("return window.innerWidth"))
            # Keyboard: Enter on the focused link opens the container's page.
            link = self.browser.find_element(By.CSS_SELECTOR, 'a[data-container="web"]')
            link.send_keys(Keys.ENTER)
            self.until(EC.presence_of_element_located((By.CSS_SELECTOR, 'button[data-tab="logs"]')))
        finally:
            self.browser.set_window_size(1280, 900)

    def test_10_beyond_loopback_only_with_tls(self):
        if os.environ.get("BERTH_UI_NETNS") != "1":
            self.skipTest("needs the test's own network namespace for a stand-in address")
        # A documentation address on a veth of this test's namespace stands for "the LAN".
        subprocess.run(["ip", "link", "add", "uilan0", "type", "veth", "peer", "name", "uilan1"], check=True)
        subprocess.run(["ip", "addr", "add", "198.51.100.1/24", "dev", "uilan0"], check=True)
        subprocess.run(["ip", "link", "set", "uilan0", "up"], check=True)
        berth = os.path.join(BUILD, "bin", "berth")
        r = subprocess.run([berth, "-H", self.d.host, "ui", "--listen", "198.51.100.1", "--no-browser"],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 1)
        self.assertIn("needs TLS", r.stderr)
        cert, key = os.path.join(self.d.root, "ui.crt"), os.path.join(self.d.root, "ui.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=198.51.100.1", "-addext", "subjectAltName=IP:198.51.100.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        ui = Dashboard(self.d, "--listen", "198.51.100.1", "--tls-cert", cert, "--tls-key", key)
        try:
            self.assertTrue(ui.base.startswith("https://198.51.100.1:"), ui.url)
            port, token = ui.port, ui.token
            tls = ssl.create_default_context(cafile=cert)

            def get(path, headers):
                conn = http.client.HTTPSConnection("198.51.100.1", port, context=tls, timeout=10)
                try:
                    conn.request("GET", path, headers=headers)
                    resp = conn.getresponse()
                    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
                finally:
                    conn.close()
            status, headers, _ = get("/?token=" + token, {})
            self.assertEqual(status, 303)
            self.assertIn("Secure", headers["set-cookie"])
            self.assertEqual(get("/api/_ping", {})[0], 403)
            status, _, body = get("/api/_ping", {"X-Berth-Token": token})
            self.assertEqual((status, body), (200, b"OK"))
            # Clear text to the TLS port gets nothing served.
            with self.assertRaises((http.client.HTTPException, ConnectionError, OSError)):
                plain = http.client.HTTPConnection("198.51.100.1", port, timeout=15)
                plain.request("GET", "/api/_ping", headers={"X-Berth-Token": token})
                if plain.getresponse().status == 200:
                    raise AssertionError("served over clear text")
                raise ConnectionError("refused")
        finally:
            ui.stop()
            subprocess.run(["ip", "link", "del", "uilan0"], check=False)


if __name__ == "__main__":
    unittest.main(verbosity=2)
