"""berth ui in Firefox (Debian's firefox-esr, headless, driven over Marionette): the same page
works there as in Chromium (ui_test.py has the full tour): a running container is listed and
stopped and started from the page, its logs follow, its terminal runs a command, its stats are
charted. Runs in a network namespace with only loopback, like ui_test.py."""
import os
import shutil
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from berthd_harness import Berthd, skip  # noqa: E402
from ui_harness import Dashboard, isolate_network  # noqa: E402

isolate_network(__file__)
from marionette_client import Firefox  # noqa: E402

ROW = "const a = document.querySelector('a[data-container=\"web\"]'); return a ? a.closest('tr').innerText : null;"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class UiFirefox(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("firefox-esr"):
            skip("firefox-esr is not installed (scripts/install-deps.sh installs it)")
        cls.d = Berthd()
        cls.ui = cls.ff = None
        try:
            cls.d.berth("import", cls.d.tar, "busybox:ui")
            cls.d.berth("run", "-d", "--name", "web", "busybox:ui", "sh", "-c",
                        "trap 'exit 0' TERM; i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.5; done")
            cls.ui = Dashboard(cls.d)
            cls.url, cls.base = cls.ui.url, cls.ui.base
            cls.ff = Firefox(free_port())
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.ff:
            cls.ff.quit()
        if cls.ui:
            cls.ui.stop()
        cls.d.stop()

    def test_the_dashboard_works_in_firefox(self):
        ff = self.ff
        ff.navigate(self.url)
        self.assertIn("running", ff.until(ROW))
        self.assertNotIn("token=", ff.script("return location.href"))
        ff.script("document.querySelector('a[data-container=\"web\"]').closest('tr')"
                  ".querySelector('button[data-action=\"stop\"]').click()")
        ff.until(ROW.replace("return a ?", "return a && a.closest('tr').innerText.includes('exited') ?"))
        ff.script("document.querySelector('a[data-container=\"web\"]').closest('tr')"
                  ".querySelector('button[data-action=\"start\"]').click()")
        ff.until(ROW.replace("return a ?", "return a && a.closest('tr').innerText.includes('running') ?"))

        ff.navigate(self.base + "/#/containers/web")
        ff.until("const b = document.querySelector('button[data-tab=\"logs\"]'); if (b) b.click(); return !!b;")
        ff.until("const l = document.getElementById('logs'); return l && l.textContent.includes('tick-');")

        ff.script("document.querySelector('button[data-tab=\"terminal\"]').click()")
        ff.until("return !!(window.berthTerminal && document.querySelector('#terminal canvas'))")
        screen = ("const b = window.berthTerminal._core.buffer; let s = '';"
                  "for (let i = 0; i < b.lines.length; i++) s += b.translateBufferLineToString(i, true) + '\\n';"
                  "return s;")
        ff.until(screen.replace("return s;", "return s.includes('#') ? s : null;"))  # the prompt
        ff.script("window.berthTerminal._core.handler('echo hello-$((6*7))\\r')")
        ff.until(screen.replace("return s;", "return s.includes('hello-42') ? s : null;"))

        ff.script("document.querySelector('button[data-tab=\"stats\"]').click()")
        ff.until("const v = document.querySelector('[data-chart=\"Memory\"] .value'); return v && v.textContent !== '—';")


if __name__ == "__main__":
    unittest.main(verbosity=2)
