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
