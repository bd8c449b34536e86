"""--volumes-from through the docker CLI and Python's docker SDK: a file written in a volume by
container A is read by B; ":ro" refuses writing; binds come along too; inspect shows the Mounts;
a source that does not exist is refused with dockerd's message. Skipped (77) without the docker
CLI or python3-docker."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
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


def docker(*args, check=True):
    env = dict(os.environ, DOCKER_HOST=D.host, DOCKER_CONFIG=os.path.join(D.root, "docker-config"))
    r = subprocess.run([DOCKER, *args], capture_output=True, text=True, env=env)
    if check and r.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


def mounts(name):
    return {m["Destination"]: m for m in json.loads(docker("inspect", "-f", "{{json .Mounts}}", name).stdout)}


class VolumesFrom(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        docker("import", "-c", 'CMD ["sh"]', D.tar, "busybox:local")

    def tearDown(self):
        ids = docker("ps", "-aq").stdout.split()
        if ids:
            docker("rm", "-f", *ids, check=False)

    def test_cli_named_and_anonymous_volumes_and_binds(self):
        host_dir = tempfile.mkdtemp(prefix="berth-vf-", dir=D.root)
        with open(os.path.join(host_dir, "conf"), "w") as f:
            f.write("from-host\n")
        docker("run", "--name", "vf-src", "-v", "vf-named:/data", "-v", "/scratch",
               "-v", f"{host_dir}:/conf:ro", "busybox:local",
               "sh", "-c", "echo written-by-a > /data/f; echo anon > /scratch/g")
        # B sees what A wrote, at the same destinations, through volumes and the bind.
        out = docker("run", "--rm", "--volumes-from", "vf-src", "busybox:local",
                     "cat", "/data/f", "/scratch/g", "/conf/conf").stdout
        self.assertEqual(out, "written-by-a\nanon\nfrom-host\n")
        # B may write where A could; its write is A's file.
        docker("run", "--rm", "--volumes-from", "vf-src", "busybox:local", "sh", "-c", "echo from-b >> /data/f")
        self.assertEqual(docker("run", "--rm", "-v", "vf-named:/v", "busybox:local", "cat", "/v/f").stdout,
                         "written-by-a\nfrom-b\n")
        # A read-only bind stays read-only.
        r = docker("run", "--rm", "--volumes-from", "vf-src", "busybox:local", "sh", "-c", "echo x > /conf/y",
                   check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Read-only file system", r.stderr)

        docker("create", "--name", "vf-dst", "--volumes-from", "vf-src", "busybox:local", "true")
        src, dst = mounts("vf-src"), mounts("vf-dst")
        self.assertEqual(sorted(dst), ["/conf", "/data", "/scratch"])
        for dest in ("/data", "/scratch", "/conf"):
            self.assertEqual(dst[dest]["Source"], src[dest]["Source"], dest)
            self.assertEqual(dst[dest]["Type"], src[dest]["Type"], dest)
            self.assertEqual(dst[dest]["RW"], src[dest]["RW"], dest)
        self.assertEqual(dst["/data"]["Name"], "vf-named")
        self.assertEqual(dst["/scratch"]["Name"], src["/scratch"]["Name"])
        self.assertEqual(json.loads(docker("inspect", "-f", "{{json .HostConfig.VolumesFrom}}", "vf-dst").stdout),
                         ["vf-src"])
        # The volume is in use by both: removing it is refused.
        self.assertNotEqual(docker("volume", "rm", "vf-named", check=False).returncode, 0)
        # The list's volume filter finds B by the inherited volume.
        names = docker("ps", "-a", "--filter", "volume=vf-named", "--format", "{{.Names}}").stdout.split()
        self.assertEqual(sorted(names), ["vf-dst", "vf-src"])

    def test_cli_read_only(self):
        docker("run", "--name", "vf-ro-src", "-v", "vf-ro:/data", "busybox:local", "sh", "-c", "echo a > /data/f")
        r = docker("run", "--rm", "--volumes-from", "vf-ro-src:ro", "busybox:local",
                   "sh", "-c", "cat /data/f; echo b > /data/f", check=False)
        self.assertEqual(r.stdout, "a\n")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Read-only file system", r.stderr)
        docker("create", "--name", "vf-ro-dst", "--volumes-from", "vf-ro-src:ro", "busybox:local", "true")
        self.assertFalse(mounts("vf-ro-dst")["/data"]["RW"])
        # An explicit -v at the same destination wins over the inherited mount.
        out = docker("run", "--rm", "--volumes-from", "vf-ro-src", "-v", "vf-other:/data", "busybox:local",
                     "sh", "-c", "ls /data; echo ok > /data/g && echo wrote").stdout
        self.assertEqual(out, "wrote\n")

    def test_cli_refusals(self):
        r = docker("run", "--rm", "--volumes-from", "no-such-ctr", "busybox:local", "true", check=False)
        self.assertEqual(r.returncode, 125)
        self.assertIn("No such container: no-such-ctr", r.stderr)
        docker("create", "--name", "vf-mode", "busybox:local", "true")
        r = docker("create", "--volumes-from", "vf-mode:rshared", "busybox:local", "true", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("invalid mode: rshared", r.stderr)

    def test_python_sdk(self):
        src = C.containers.run("busybox:local", ["sh", "-c", "echo sdk > /data/f"], volumes={"vf-py": {"bind": "/data"}},
                               name="vf-py-src")
        del src
        out = C.containers.run("busybox:local", ["cat", "/data/f"], volumes_from=["vf-py-src"], remove=True)
        self.assertEqual(out, b"sdk\n")
        with self.assertRaises(docker_sdk.errors.ContainerError) as err:
            C.containers.run("busybox:local", ["sh", "-c", "echo no > /data/f"], volumes_from=["vf-py-src:ro"],
                             remove=True)
        self.assertIn(b"Read-only file system", err.exception.stderr)
        with self.assertRaises(docker_sdk.errors.APIError) as err:
            C.containers.create("busybox:local", ["true"], volumes_from=["vf-py-missing"])
        self.assertEqual(err.exception.status_code, 400)
        self.assertIn("No such container: vf-py-missing", str(err.exception))
        dst = C.containers.create("busybox:local", ["true"], volumes_from=["vf-py-src:ro"])
        m = dst.attrs["Mounts"][0]
        self.assertEqual((m["Name"], m["Destination"], m["RW"]), ("vf-py", "/data", False))


if __name__ == "__main__":
    D = berthd_harness.Berthd()
    C = docker_sdk.DockerClient(base_url=D.host, version="1.41")
    try:
        result = unittest.main(exit=False, verbosity=2).result
    finally:
        C.close()
        D.stop()
    sys.exit(0 if result.wasSuccessful() else 1)
