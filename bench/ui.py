#!/usr/bin/env python3
"""How `berth ui` holds up with many objects: a private berthd (no bridge, nothing on the host's
network) with 200 containers and 500 images, the dashboard in headless Chromium (Debian's
chromium, chromium-driver and python3-selenium). Medians over R rounds of:
  - containers page: from navigation to all 200 rows drawn;
  - images page: from navigation to all 500 rows drawn;
  - update: from the container's start event reaching the page to its row saying "running",
    and from `berth start` returning to the same (the page learns it from the event stream, it
    does not poll). Times inside the page are taken by the page's own clock.
  sudo bench/ui.py [R=5]
"""
import io
import os
import statistics
import subprocess
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "compat"))
os.environ.setdefault("BERTH_BUILD_DIR", os.path.join(HERE, "..", "build"))
import berthd_harness  # noqa: E402
from ui_harness import Dashboard, headless_chromium, isolate_network  # noqa: E402

isolate_network(__file__)  # the browser never reaches beyond loopback (see ui_harness)
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CONTAINERS, IMAGES = 200, 500


def tiny_image_tar(i):
    """A one-file root filesystem whose content makes the image unique."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        data = ("image %d\n" % i).encode()
        info = tarfile.TarInfo("id")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    d = berthd_harness.Berthd()
    ui = browser = None
    try:
        berth = os.path.join(berthd_harness.BUILD, "bin", "berth")
        d.berth("import", d.tar, "busybox:ui")
        t0 = time.time()
        for i in range(CONTAINERS):
            d.berth("create", "--name", "c%03d" % i, "busybox:ui", "sleep", "1000")
        for i in range(IMAGES - 1):
            subprocess.run([berth, "-H", d.host, "import", "-", "many/img%03d:v1" % i],
                           input=tiny_image_tar(i), check=True, capture_output=True)
        print("made %d containers and %d images in %.0f s" % (CONTAINERS, IMAGES, time.time() - t0))

        ui = Dashboard(d)
        url, base = ui.url, ui.base
        browser = headless_chromium(webdriver, Service)
        wait = WebDriverWait(browser, 60, poll_frequency=0.01)
        browser.get(url)

        def timed_load(fragment, css, count):
            browser.get("about:blank")
            start = time.time()
            browser.get(base + "/#/" + fragment)
            wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, css)) >= count)
            return (time.time() - start) * 1000

        containers, images, updates, from_cli = [], [], [], []
        # Watches, frame by frame, for the row to say "running"; notes when the event came.
        watch = ("""
            const name = arguments[0];
            window.__event = window.__drawn = null;
            onEvents((ev) => { if (ev.Type === 'container' && ev.Action === 'start' && window.__event === null
                                   && ev.Actor.Attributes.name === name) window.__event = performance.now(); });
            (function check() {
              const a = document.querySelector('a[data-container="' + name + '"]');
              if (a && a.closest('tr').textContent.includes('running')) window.__drawn = performance.now();
              else requestAnimationFrame(check);
            })();""")
        for r in range(rounds):
            containers.append(timed_load("containers", "a[data-container]", CONTAINERS))
            images.append(timed_load("images", "main tbody tr", IMAGES))
            browser.get(base + "/#/containers")
            wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "a[data-container]")) >= CONTAINERS)
            name = "c%03d" % r
            browser.execute_script(watch, name)
            d.berth("start", name)
            returned = browser.execute_script("return performance.now()")
            wait.until(lambda b: b.execute_script("return window.__drawn") is not None)
            drawn, event = browser.execute_script("return [window.__drawn, window.__event]")
            updates.append(drawn - event)
            from_cli.append(max(0.0, drawn - returned))
            d.berth("kill", name)

        print("| measure (median of %d, ms) | berth ui |" % rounds)
        print("|---|---|")
        print("| containers page, %d rows drawn | %.0f |" % (CONTAINERS, statistics.median(containers)))
        print("| images page, %d rows drawn | %.0f |" % (IMAGES, statistics.median(images)))
        print("| a container started: from its event to its row saying running | %.0f |" % statistics.median(updates))
        print("| the same, from `berth start` returning | %.0f |" % statistics.median(from_cli))
    finally:
        if browser:
            browser.quit()
        if ui:
            ui.stop()
        d.stop()


if __name__ == "__main__":
    main()
