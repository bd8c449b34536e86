"""Python's docker SDK (Debian's python3-docker) against berthd. Skipped (77) without it."""
import io
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import berthd_harness  # noqa: E402

try:
    import docker  # noqa: E402
except ImportError:
    berthd_harness.skip("python3-docker is not installed (apt-get install python3-docker)")

D = None
C = None


class PythonSdk(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(D.tar, "rb") as f:
            C.api.import_image_from_data(f.read(), repository="busybox", tag="local",
                                         changes=['CMD ["sh"]'])

    def test_version_info_images(self):
        self.assertEqual(C.version()["ApiVersion"], "1.41")
        self.assertEqual(C.info()["Driver"], "overlay")
        image = C.images.get("busybox:local")
        self.assertIn("busybox:local", image.tags)
        image.tag("cap/py", "v1")
        self.assertIn("cap/py:v1", C.images.get("busybox:local").tags)
        data = b"".join(C.images.get("cap/py:v1").save(named=True))
        C.images.remove("cap/py:v1")
        loaded = C.images.load(data)
        self.assertEqual(loaded[0].id, image.id)
        C.images.remove("cap/py:v1")

    def test_images_build(self):
        dockerfile = b'FROM busybox:local\nARG WHO=nobody\nRUN echo built by $WHO > /who\nCMD ["cat", "/who"]\n'
        image, logs = C.images.build(fileobj=io.BytesIO(dockerfile), tag="cap/built", buildargs={"WHO": "py"})
        self.assertIn("cap/built:latest", image.tags)
        self.assertTrue(any("Step 1/4 : FROM busybox:local" in m.get("stream", "") for m in logs))
        self.assertEqual(C.containers.run("cap/built", remove=True), b"built by py\n")
        with self.assertRaises(docker.errors.BuildError) as failed:
            C.images.build(fileobj=io.BytesIO(b"FROM busybox:local\nRUN exit 2\n"))
        self.assertIn("returned a non-zero code: 2", failed.exception.msg)
        C.images.remove("cap/built")

    def test_containers(self):
        out = C.containers.run("busybox:local", ["sh", "-c", "echo from-python"], remove=True)
        self.assertEqual(out, b"from-python\n")
        with self.assertRaises(docker.errors.ContainerError) as err:
            C.containers.run("busybox:local", ["sh", "-c", "exit 4"], remove=True)
        self.assertEqual(err.exception.exit_status, 4)
        ctr = C.containers.run("busybox:local", ["sh", "-c", "echo logged; exec sleep 1000"], detach=True,
                               name="py-detached")
        ctr.reload()
        self.assertEqual(ctr.status, "running")
        code, output = ctr.exec_run(["sh", "-c", "echo exec; exit 2"])
        self.assertEqual((code, output), (2, b"exec\n"))
        for _ in range(100):
            if ctr.logs() == b"logged\n":
                break
        self.assertEqual(ctr.logs(), b"logged\n")
        self.assertIn("py-detached", [c.name for c in C.containers.list()])
        ctr.stop(timeout=1)
        self.assertEqual(ctr.wait()["StatusCode"], 137)
        ctr.remove()
        with self.assertRaises(docker.errors.NotFound):
            C.containers.get("py-detached")

    def test_exec_start_frames_by_the_start_requests_tty(self):
        # docker-py's exec_start(tty=False) demultiplexes stdcopy frames; dockerd frames by the
        # start request, whatever the exec was created with.
        ctr = C.containers.run("busybox:local", ["sleep", "1000"], detach=True)
        try:
            tty_exec = C.api.exec_create(ctr.id, ["echo", "framed"], tty=True)
            self.assertEqual(C.api.exec_start(tty_exec, tty=False), b"framed\r\n")
            pipe_exec = C.api.exec_create(ctr.id, ["sh", "-c", "echo raw"], tty=False)
            self.assertEqual(C.api.exec_start(pipe_exec, tty=True), b"raw\n")
        finally:
            ctr.remove(force=True)

    def test_keys_in_another_case_reach_their_fields(self):
        # docker-py sends CPURealtimePeriod/CPURealtimeRuntime (Go matches keys in any case).
        ctr = C.containers.create("busybox:local", ["true"], cpu_rt_period=1000000, cpu_rt_runtime=950000)
        try:
            hc = C.api.inspect_container(ctr.id)["HostConfig"]
            self.assertEqual(hc["CpuRealtimePeriod"], 1000000)
            self.assertEqual(hc["CpuRealtimeRuntime"], 950000)
        finally:
            ctr.remove()

    def test_load_errors_arrive_in_the_stream(self):
        with self.assertRaises(docker.errors.ImageLoadError):
            C.images.load(b"this is not an image archive" * 100)

    def test_leaving_a_swarm_that_was_never_joined_is_ignored(self):
        C.api.leave_swarm(force=True)  # docker-py ignores dockerd's "not part of a swarm"
        with self.assertRaises(docker.errors.APIError) as err:
            C.api.inspect_swarm()
        self.assertEqual(err.exception.status_code, 503)
        self.assertIn("This node is not part of a swarm", str(err.exception))

    def test_attach_logs_without_stream_returns_the_logs_every_time(self):
        # docker-py reads the 101 head through a buffered reader: log bytes that arrive with the
        # head are lost unless the head goes out on its own.
        ctr = C.containers.run("busybox:local", ["sh", "-c", "echo hello-attach"], detach=True)
        try:
            self.assertEqual(ctr.wait()["StatusCode"], 0)
            got = [C.api.attach(ctr.id, stdout=True, stderr=True, stream=False, logs=True) for _ in range(20)]
            self.assertEqual(got, [b"hello-attach\n"] * 20)
        finally:
            ctr.remove()

    def test_kill_then_remove_at_once(self):
        # dockerd answers a SIGKILL once the container stopped: rm right after does not conflict.
        for _ in range(5):
            ctr = C.containers.run("busybox:local", ["sleep", "1000"], detach=True)
            ctr.kill()
            ctr.reload()
            self.assertEqual(ctr.status, "exited")
            ctr.remove()

    def test_wait_wakes_at_the_first_exit_under_a_restart_policy(self):
        ctr = C.containers.run("busybox:local", ["sh", "-c", "sleep 1; exit 5"], detach=True,
                               restart_policy={"Name": "always"})
        try:
            self.assertEqual(ctr.wait(timeout=15)["StatusCode"], 5)
        finally:
            ctr.remove(force=True)

    def test_volumes(self):
        v = C.volumes.create("py-vol", labels={"team": "core"})
        self.assertEqual(C.volumes.get("py-vol").attrs["Labels"], {"team": "core"})
        v.remove()


if __name__ == "__main__":
    D = berthd_harness.Berthd()
    C = docker.DockerClient(base_url=D.host, version="1.41")
    try:
        result = unittest.main(exit=False, verbosity=2).result
    finally:
        C.close()
        D.stop()
    sys.exit(0 if result.wasSuccessful() else 1)
