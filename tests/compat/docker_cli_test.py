"""The real docker CLI against berthd: version, info, images, inspect, tag, save/load, rmi,
run, run -d, ps, logs, exec, stop, rm, inspect, cp, volumes. Skipped (77) without a docker CLI."""
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

D = None


def docker(*args, check=True, input=None):
    env = dict(os.environ, DOCKER_HOST=D.host, DOCKER_CONFIG=os.path.join(D.root, "docker-config"))
    r = subprocess.run([DOCKER, *args], capture_output=True, text=True, input=input, env=env)
    if check and r.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


class DockerCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        docker("import", "-c", 'CMD ["sh"]', D.tar, "busybox:local")

    def test_version_and_info(self):
        v = docker("version", "--format", "{{.Server.APIVersion}} {{.Server.Os}}").stdout.strip()
        self.assertEqual(v, "1.41 linux")
        info = json.loads(docker("info", "--format", "{{json .}}").stdout)
        self.assertEqual(info["Driver"], "overlay")
        self.assertEqual(info["OSType"], "linux")

    def test_images_inspect_tag_save_load_rmi(self):
        out = docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout
        self.assertIn("busybox:local", out)
        image_id = docker("image", "inspect", "-f", "{{.Id}}", "busybox:local").stdout.strip()
        layers = docker("image", "inspect", "-f", "{{json .RootFS.Layers}}", "busybox:local").stdout
        docker("tag", "busybox:local", "cap/bb:v1")
        with tempfile.TemporaryDirectory() as tmp:
            archive = os.path.join(tmp, "save.tar")
            docker("save", "-o", archive, "cap/bb:v1")
            docker("rmi", "cap/bb:v1")
            self.assertEqual(docker("image", "inspect", "cap/bb:v1", check=False).returncode, 1)
            loaded = docker("load", "-i", archive).stdout
            self.assertIn("Loaded image: cap/bb:v1", loaded)
        self.assertEqual(docker("image", "inspect", "-f", "{{.Id}}", "cap/bb:v1").stdout.strip(), image_id)
        self.assertEqual(docker("image", "inspect", "-f", "{{json .RootFS.Layers}}", "cap/bb:v1").stdout, layers)
        rmi = docker("rmi", "cap/bb:v1").stdout
        self.assertIn("Untagged: cap/bb:v1", rmi)
        missing = docker("rmi", "nosuch:img", check=False)
        self.assertNotEqual(missing.returncode, 0)
        self.assertIn("No such image: nosuch:img", missing.stderr)

    def test_run_exit_code_and_output(self):
        r = docker("run", "--rm", "busybox:local", "sh", "-c", "echo hi; echo err >&2; exit 3", check=False)
        self.assertEqual(r.returncode, 3)
        self.assertEqual(r.stdout, "hi\n")
        self.assertEqual(r.stderr, "err\n")
        r = docker("run", "--rm", "-i", "busybox:local", "cat", input="piped\n")
        self.assertEqual(r.stdout, "piped\n")
        r = docker("run", "--rm", "--pull", "never", "busybox:local", "nosuchcmd", check=False)
        self.assertEqual(r.returncode, 127)

    def test_detached_lifecycle(self):
        cid = docker("run", "-d", "--name", "compat-web", "busybox:local",
                     "sh", "-c", "echo ready; exec sleep 1000").stdout.strip()
        self.assertEqual(len(cid), 64)
        ps = docker("ps", "--format", "{{.Names}} {{.Status}}").stdout
        self.assertIn("compat-web Up", ps)
        for _ in range(100):
            if docker("logs", "compat-web").stdout == "ready\n":
                break
        self.assertEqual(docker("logs", "compat-web").stdout, "ready\n")
        r = docker("exec", "compat-web", "sh", "-c", "echo in; exit 5", check=False)
        self.assertEqual((r.returncode, r.stdout), (5, "in\n"))
        self.assertEqual(docker("inspect", "-f", "{{.State.Running}}", "compat-web").stdout.strip(), "true")
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "f.txt")
            with open(src, "w") as f:
                f.write("copied\n")
            docker("cp", src, "compat-web:/tmp/f.txt")
            self.assertEqual(docker("exec", "compat-web", "cat", "/tmp/f.txt").stdout, "copied\n")
            docker("cp", "compat-web:/tmp/f.txt", os.path.join(tmp, "back.txt"))
            self.assertEqual(open(os.path.join(tmp, "back.txt")).read(), "copied\n")
        docker("stop", "-t", "1", "compat-web")
        self.assertEqual(docker("inspect", "-f", "{{.State.ExitCode}}", "compat-web").stdout.strip(), "137")
        docker("rm", "compat-web")
        self.assertNotIn("compat-web", docker("ps", "-a").stdout)

    def test_volumes(self):
        docker("volume", "create", "compat-vol")
        self.assertIn("compat-vol", docker("volume", "ls", "-q").stdout)
        docker("run", "--rm", "-v", "compat-vol:/data", "busybox:local", "sh", "-c", "echo v > /data/x")
        self.assertEqual(docker("run", "--rm", "-v", "compat-vol:/data", "busybox:local", "cat", "/data/x").stdout,
                         "v\n")
        inspect = json.loads(docker("volume", "inspect", "compat-vol").stdout)
        self.assertEqual(inspect[0]["Driver"], "local")
        docker("volume", "rm", "compat-vol")

    def test_legacy_build(self):
        """DOCKER_BUILDKIT=0 docker build: the legacy builder API, its step output and errors."""
        with tempfile.TemporaryDirectory() as ctx:
            with open(os.path.join(ctx, "Dockerfile"), "w") as f:
                f.write("FROM busybox:local AS base\nARG WHO=world\nRUN echo hello $WHO > /greeting\n"
                        "FROM base\nWORKDIR /srv\nCOPY note.txt .\nCMD [\"cat\", \"/greeting\", \"note.txt\"]\n")
            with open(os.path.join(ctx, "note.txt"), "w") as f:
                f.write("note\n")
            env_buildkit = dict(DOCKER_BUILDKIT="0")
            def build(*args, check=True):
                env = dict(os.environ, DOCKER_HOST=D.host, DOCKER_CONFIG=os.path.join(D.root, "docker-config"),
                           **env_buildkit)
                r = subprocess.run([DOCKER, "build", *args, ctx], capture_output=True, text=True, env=env)
                if check and r.returncode != 0:
                    raise AssertionError(f"docker build failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
                return r
            out = build("-t", "compat-built", "--build-arg", "WHO=docker").stdout
            self.assertIn("Step 1/7 : FROM busybox:local AS base", out)
            self.assertIn("Successfully tagged compat-built:latest", out)
            self.assertEqual(docker("run", "--rm", "compat-built").stdout, "hello docker\nnote\n")
            again = build("--build-arg", "WHO=docker").stdout
            self.assertEqual(again.count("Using cache"), 5, again)
            quiet = build("-q", "--build-arg", "WHO=docker").stdout.strip()
            self.assertEqual(quiet, docker("image", "inspect", "-f", "{{.Id}}", "compat-built").stdout.strip())
            if docker("buildx", "version", check=False).returncode != 0:
                # Plain `docker build` without the buildx plugin falls back to the legacy builder.
                env_buildkit = {}
                self.assertIn("Successfully tagged compat-plain:latest", build("-t", "compat-plain").stdout)
                docker("rmi", "compat-plain")
                env_buildkit = dict(DOCKER_BUILDKIT="0")
            with open(os.path.join(ctx, "Dockerfile"), "w") as f:
                f.write("FROM busybox:local\nRUN exit 4\n")
            failed = build(check=False)
            self.assertEqual(failed.returncode, 4)
            self.assertIn("The command '/bin/sh -c exit 4' returned a non-zero code: 4", failed.stderr)
            docker("rmi", "compat-built")


if __name__ == "__main__":
    D = berthd_harness.Berthd()
    try:
        result = unittest.main(exit=False, verbosity=2).result
    finally:
        D.stop()
    sys.exit(0 if result.wasSuccessful() else 1)
