"""Healthchecks as clients see them: the docker CLI's --health-* flags, ps status and filters,
inspect's State.Health, health_status events; Python's docker SDK for an image's HEALTHCHECK
(committed with a Healthcheck config) and the merge with a container's; probes that time out;
health kept over a berthd restart with live restore. Skipped (77) without the docker CLI or
python3-docker."""
import json
import os
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import berthd_harness  # noqa: E402

DOCKER = shutil.which("docker")
if DOCKER is None:
    berthd_harness.skip("no docker CLI on PATH (the docker.io package or docker-ce-cli provides it)")
try:
    import docker as docker_sdk  # noqa: E402
except ImportError:
    berthd_harness.skip("python3-docker is not installed (apt-get install python3-docker)")

D = None
C = None
MS = 1000000  # nanoseconds


def docker(*args, check=True):
    env = dict(os.environ, DOCKER_HOST=D.host, DOCKER_CONFIG=os.path.join(D.root, "docker-config"))
    r = subprocess.run([DOCKER, *args], capture_output=True, text=True, env=env)
    if check and r.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


def health(name):
    out = docker("inspect", "-f", "{{json .State.Health}}", name).stdout.strip()
    return json.loads(out)


def wait_for(predicate, what, timeout=15.0):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def wait_status(name, status, timeout=15.0):
    return wait_for(lambda: health(name) if health(name)["Status"] == status else None,
                    f"{name} to be {status}", timeout)


def sdk_health(name):
    return C.containers.get(name).attrs["State"].get("Health", {}).get("Status")


def ps_status(name):
    return docker("ps", "-a", "--filter", f"name={name}", "--format", "{{.Status}}").stdout.strip()


class Healthchecks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        docker("import", "-c", 'CMD ["sh"]', D.tar, "busybox:local")

    def tearDown(self):
        ids = docker("ps", "-aq").stdout.split()
        if ids:
            docker("rm", "-f", *ids, check=False)

    def test_cli_flags_status_filters_and_events(self):
        since = str(int(time.time()) - 1)
        docker("run", "-d", "--name", "hc-cli", "--health-cmd", "echo probing; test -f /tmp/ok",
               "--health-interval", "1s", "--health-retries", "2", "busybox:local", "sleep", "1000")
        # The first probe runs an interval after the start: until then it is starting.
        self.assertRegex(ps_status("hc-cli"), r"^Up .* \(health: starting\)$")
        self.assertEqual(health("hc-cli")["Status"], "starting")
        h = wait_status("hc-cli", "unhealthy")
        self.assertGreaterEqual(h["FailingStreak"], 2)
        self.assertEqual(h["Log"][-1]["ExitCode"], 1)
        self.assertEqual(h["Log"][-1]["Output"], "probing\n")
        self.assertRegex(ps_status("hc-cli"), r"\(unhealthy\)$")
        self.assertIn("hc-cli", docker("ps", "--filter", "health=unhealthy", "--format", "{{.Names}}").stdout)
        self.assertNotIn("hc-cli", docker("ps", "--filter", "health=healthy", "--format", "{{.Names}}").stdout)

        docker("exec", "hc-cli", "touch", "/tmp/ok")
        h = wait_status("hc-cli", "healthy")
        self.assertEqual(h["FailingStreak"], 0)
        self.assertEqual(h["Log"][-1]["ExitCode"], 0)
        self.assertLessEqual(len(h["Log"]), 5)
        self.assertRegex(ps_status("hc-cli"), r"\(healthy\)$")
        self.assertEqual(docker("ps", "--filter", "health=healthy", "--format", "{{.Names}}").stdout.strip(),
                         "hc-cli")

        events = docker("events", "--since", since, "--until", str(int(time.time()) + 1),
                        "--filter", "container=hc-cli", "--filter", "event=health_status",
                        "--format", "{{.Status}}").stdout.split("\n")
        self.assertEqual([e for e in events if e], ["health_status: unhealthy", "health_status: healthy"])
        # Probes are execs, as under dockerd: their events name the command.
        execs = docker("events", "--since", since, "--until", str(int(time.time()) + 1),
                       "--filter", "container=hc-cli", "--filter", "event=exec_start",
                       "--format", "{{.Status}}").stdout
        self.assertIn("exec_start: /bin/sh -c echo probing; test -f /tmp/ok", execs)

        bad = docker("ps", "--filter", "health=sick", check=False)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("Unrecognised filter value for health: sick", bad.stderr)  # dockerd 20.10's words

        # Stopped: dockerd reports the last status as unhealthy; no suffix without "Up".
        docker("stop", "-t", "0", "hc-cli")
        self.assertEqual(health("hc-cli")["Status"], "unhealthy")
        self.assertRegex(ps_status("hc-cli"), r"^Exited \(137\)")
        docker("start", "hc-cli")
        self.assertEqual(health("hc-cli")["Status"], "starting")
        wait_status("hc-cli", "healthy")  # /tmp/ok is still in its filesystem

    def test_no_healthcheck_and_containers_without_one(self):
        docker("run", "-d", "--name", "hc-none", "busybox:local", "sleep", "1000")
        self.assertEqual(docker("inspect", "-f", "{{json .State.Health}}", "hc-none").stdout.strip(), "null")
        self.assertIn("hc-none", docker("ps", "--filter", "health=none", "--format", "{{.Names}}").stdout)
        self.assertRegex(ps_status("hc-none"), r"^Up [^()]*$")
        conflict = docker("run", "-d", "--no-healthcheck", "--health-cmd", "true", "busybox:local", "true",
                          check=False)
        self.assertEqual(conflict.returncode, 125)
        self.assertIn("--no-healthcheck conflicts with --health-* options", conflict.stderr)

    def test_berth_cli_flags(self):
        D.berth("run", "-d", "--name", "hc-berth", "--health-cmd", "test -d /proc/1",
                "--health-interval", "200ms", "--health-start-period", "10s", "busybox:local", "sleep", "1000")
        cfg = json.loads(D.berth("inspect", "-f", "{{json .Config.Healthcheck}}", "hc-berth").stdout)
        self.assertEqual(cfg, {"Test": ["CMD-SHELL", "test -d /proc/1"], "Interval": 200 * MS,
                               "StartPeriod": 10000 * MS})
        wait_status("hc-berth", "healthy")
        out = D.berth("ps", "--filter", "health=healthy", "--format", "{{.Names}} {{.Status}}").stdout
        self.assertRegex(out, r"^hc-berth Up .* \(healthy\)\n$")
        r = D.berth("run", "--no-healthcheck", "--health-interval", "1s", "busybox:local", "true", check=False)
        self.assertEqual(r.returncode, 125)
        self.assertIn("--no-healthcheck conflicts with --health-* options", r.stderr)

    def test_timeout_kills_the_probe_and_counts_as_failure(self):
        docker("run", "-d", "--name", "hc-slow", "--health-cmd", "echo started; sleep 30",
               "--health-interval", "500ms", "--health-timeout", "300ms", "--health-retries", "1",
               "busybox:local", "sleep", "1000")
        h = wait_status("hc-slow", "unhealthy")
        entry = h["Log"][-1]
        self.assertEqual(entry["ExitCode"], -1)
        self.assertEqual(entry["Output"], "Health check exceeded timeout (300ms): started\n")
        time.sleep(0.3)
        # The timed-out probes were killed: at most the one running now may be left.
        sleeps = [line for line in docker("top", "hc-slow").stdout.splitlines() if "sleep 30" in line]
        self.assertLessEqual(len(sleeps), 1, sleeps)

    def test_output_is_cut_at_4096_bytes(self):
        docker("run", "-d", "--name", "hc-loud", "--health-cmd",
               "head -c 5000 /dev/zero | tr '\\0' x", "--health-interval", "200ms",
               "busybox:local", "sleep", "1000")
        h = wait_status("hc-loud", "healthy")
        out = h["Log"][-1]["Output"]
        self.assertEqual(len(out), 4096 + 3)
        self.assertTrue(out.endswith("x..."))

    def test_image_healthcheck_is_merged_with_the_containers(self):
        base = C.containers.create("busybox:local", ["true"])
        image_hc = {"Test": ["CMD-SHELL", "test -e /etc/passwd"], "Interval": 200 * MS,
                    "Timeout": 3000 * MS, "Retries": 4}
        base.commit("hc/image", "v1", conf={"Cmd": ["sleep", "1000"], "Healthcheck": image_hc})
        base.remove()
        self.assertEqual(C.images.get("hc/image:v1").attrs["Config"]["Healthcheck"], image_hc)

        ctr = C.containers.run("hc/image:v1", detach=True, name="hc-image")
        wait_for(lambda: sdk_health("hc-image") == "healthy", "the image's check")
        # The container's non-zero fields win one by one; the rest stays the image's.
        merged = C.containers.run("hc/image:v1", detach=True, name="hc-merged",
                                  healthcheck={"test": ["CMD", "false"], "retries": 1})
        merged.reload()
        self.assertEqual(merged.attrs["Config"]["Healthcheck"],
                         {"Test": ["CMD", "false"], "Interval": 200 * MS, "Timeout": 3000 * MS,
                          "Retries": 1})
        wait_for(lambda: sdk_health("hc-merged") == "unhealthy", "the container's check")
        names = {c.name for c in C.containers.list(filters={"health": "unhealthy"})}
        self.assertEqual(names, {"hc-merged"})
        # --no-healthcheck (Test ["NONE"]) disables the image's.
        off = C.containers.run("hc/image:v1", detach=True, name="hc-off", healthcheck={"test": ["NONE"]})
        time.sleep(0.6)
        off.reload()
        self.assertNotIn("Health", off.attrs["State"])
        for c in (ctr, merged, off):
            c.remove(force=True)
        C.images.remove("hc/image:v1")

    def test_create_refuses_what_dockerd_refuses(self):
        with self.assertRaises(docker_sdk.errors.APIError) as err:
            C.containers.create("busybox:local", ["true"], healthcheck={"test": ["CMD", "true"], "interval": 5})
        self.assertEqual(err.exception.status_code, 400)
        self.assertIn("Interval in Healthcheck cannot be less than 1ms", str(err.exception))
        with self.assertRaises(docker_sdk.errors.APIError) as err:
            C.containers.create("busybox:local", ["true"], healthcheck={"test": ["CMD", "true"], "retries": -1})
        self.assertIn("Retries in Healthcheck cannot be negative", str(err.exception))

    def test_pause_stops_probing(self):
        docker("run", "-d", "--name", "hc-pause", "--health-cmd", "true", "--health-interval", "200ms",
               "busybox:local", "sleep", "1000")
        wait_status("hc-pause", "healthy")
        docker("pause", "hc-pause")
        before = health("hc-pause")["Log"][-1]["Start"]
        time.sleep(0.8)
        self.assertEqual(health("hc-pause")["Log"][-1]["Start"], before)
        self.assertRegex(ps_status("hc-pause"), r"\(Paused\)$")
        docker("unpause", "hc-pause")
        wait_for(lambda: health("hc-pause")["Log"][-1]["Start"] != before, "probes after unpause")
        wait_status("hc-pause", "healthy")

    def test_health_survives_a_berthd_restart(self):
        docker("run", "-d", "--name", "hc-live", "--health-cmd", "true", "--health-interval", "200ms",
               "busybox:local", "sleep", "1000")
        h = wait_status("hc-live", "healthy")
        wait_for(lambda: len(health("hc-live")["Log"]) >= 2, "two results")
        log_before = health("hc-live")["Log"]
        global C
        D.restart()
        C.close()
        C = docker_sdk.DockerClient(base_url=D.host, version="1.41")
        h = health("hc-live")
        self.assertIn(h["Status"], ("starting", "healthy"))
        # The results from before the restart are still there (the oldest may have been pushed out).
        starts = [e["Start"] for e in h["Log"]]
        self.assertIn(log_before[-1]["Start"], starts)
        h = wait_status("hc-live", "healthy")
        wait_for(lambda: health("hc-live")["Log"][-1]["Start"] > log_before[-1]["Start"], "a new probe")


if __name__ == "__main__":
    D = berthd_harness.Berthd()
    C = docker_sdk.DockerClient(base_url=D.host, version="1.41")
    try:
        result = unittest.main(exit=False, verbosity=2).result
    finally:
        C.close()
        D.stop()
    sys.exit(0 if result.wasSuccessful() else 1)
