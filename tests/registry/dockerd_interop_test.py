#!/usr/bin/env python3
"""Interop with a real Docker daemon: Debian's dockerd (its own data-root, exec-root and socket,
--iptables=false --bridge=none, berth-registry as an insecure registry on 127.0.0.1) pushes an
image made from busybox-static to berth-registry and pulls it back with the same digest.
Needs root; exits 77 (skip) with the reason when root, dockerd or docker is missing."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from registry_harness import Registry, digest_of, find_binary  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REG = None
WORK = None
DOCKERD = None
SOCK = None


def docker(*args, check=True, timeout=180, stdin=None):
    # DOCKER_CONFIG: `docker login` writes credentials under our temp dir, not root's home.
    proc = subprocess.run(["docker", "-H", "unix://" + SOCK, *args], capture_output=True,
                          timeout=timeout, input=stdin,
                          env=dict(os.environ, DOCKER_CONFIG=os.path.join(WORK, "docker-config")))
    if check and proc.returncode != 0:
        raise AssertionError("docker %s: %s" % (" ".join(args), proc.stderr.decode()))
    return proc.stdout.decode()


AUTH_REG = None


def setUpModule():
    global REG, AUTH_REG, WORK, DOCKERD, SOCK
    WORK = tempfile.mkdtemp(prefix="berth-registry-dockerd-")
    REG = Registry(find_binary()).start()
    # A second registry with token auth, for `docker login` (skipped without the htpasswd tool).
    htpasswd = os.path.join(WORK, "htpasswd")
    if shutil.which("htpasswd"):
        subprocess.run(["htpasswd", "-B", "-b", "-c", htpasswd, "alice", "alice-secret"],
                       check=True, capture_output=True)
    config = os.path.join(WORK, "auth.json")
    with open(config, "w") as f:
        json.dump({"auth": {"mode": "token", "htpasswd": htpasswd}}, f)
    if os.path.exists(htpasswd):
        AUTH_REG = Registry(find_binary(), ["--config", config]).start()
    insecure = [REG.address] + ([AUTH_REG.address] if AUTH_REG else [])
    SOCK = os.path.join(WORK, "docker.sock")
    log = open(os.path.join(WORK, "dockerd.log"), "wb")
    DOCKERD = subprocess.Popen(
        ["dockerd", "--iptables=false", "--ip-forward=false", "--ip-masq=false", "--bridge=none",
         "--data-root", os.path.join(WORK, "data"), "--exec-root", os.path.join(WORK, "exec"),
         "--pidfile", os.path.join(WORK, "docker.pid"), "-H", "unix://" + SOCK,
         *[arg for a in insecure for arg in ("--insecure-registry", a)], "--log-level", "warn"],
        stdout=log, stderr=log)
    log.close()
    for _ in range(400):
        if subprocess.run(["docker", "-H", "unix://" + SOCK, "version"],
                          capture_output=True).returncode == 0:
            return
        if DOCKERD.poll() is not None:
            break
        time.sleep(0.05)
    with open(os.path.join(WORK, "dockerd.log")) as f:
        raise RuntimeError("dockerd did not start:\n" + f.read()[-3000:])


def tearDownModule():
    if DOCKERD and DOCKERD.poll() is None:
        DOCKERD.terminate()
        try:
            DOCKERD.wait(timeout=30)
        except subprocess.TimeoutExpired:
            DOCKERD.kill()
            DOCKERD.wait()
    # Unmount what dockerd (and its containerd) left under our roots, deepest first.
    with open("/proc/mounts") as f:
        mounts = [line.split()[1] for line in f if WORK and (" " + WORK) in line]
    for m in sorted(mounts, reverse=True):
        subprocess.run(["umount", "-l", m], capture_output=True)
    if REG:
        REG.cleanup()
    if AUTH_REG:
        AUTH_REG.cleanup()
    shutil.rmtree(WORK, ignore_errors=True)


class DockerdInterop(unittest.TestCase):
    def test_push_and_pull(self):
        tar = os.path.join(WORK, "rootfs.tar")
        subprocess.run(["sh", os.path.join(HERE, "..", "images", "make-busybox-rootfs.sh"), tar],
                       check=True)
        ref = "%s/interop/dockerd:v1" % REG.address
        docker("import", tar, ref)
        out = docker("push", ref)
        pushed = re.search(r"digest: (sha256:[0-9a-f]{64})", out)
        self.assertIsNotNone(pushed, out)
        pushed = pushed.group(1)
        status, hdrs, body = REG.request("GET", "/v2/interop/dockerd/manifests/v1")
        self.assertEqual(status, 200)
        self.assertEqual(hdrs["docker-content-digest"], pushed)
        self.assertEqual(digest_of(body), pushed)
        manifest = json.loads(body)
        self.assertEqual(manifest["mediaType"],
                         "application/vnd.docker.distribution.manifest.v2+json")

        # Pull back into an empty image store: same digest, same image id.
        image_id = docker("image", "inspect", "-f", "{{.Id}}", ref).strip()
        docker("rmi", ref)
        out = docker("pull", ref)
        self.assertIn("Digest: " + pushed, out)
        self.assertEqual(docker("image", "inspect", "-f", "{{.Id}}", ref).strip(), image_id)
        digests = json.loads(docker("image", "inspect", "-f", "{{json .RepoDigests}}", ref))
        self.assertIn("%s/interop/dockerd@%s" % (REG.address, pushed), digests)
        # By digest, and a second push of the same content is a no-op with the same digest.
        docker("pull", "%s/interop/dockerd@%s" % (REG.address, pushed))
        out = docker("push", ref)
        self.assertIn("digest: " + pushed, out)
        self.assertIn("Layer already exists", out)


class DockerdTokenAuth(unittest.TestCase):
    def test_login_push_pull(self):
        if AUTH_REG is None:
            self.skipTest("htpasswd (apache2-utils) is missing")
        tar = os.path.join(WORK, "rootfs-auth.tar")
        subprocess.run(["sh", os.path.join(HERE, "..", "images", "make-busybox-rootfs.sh"), tar],
                       check=True)
        ref = "%s/team/auth:v1" % AUTH_REG.address
        docker("import", tar, ref)
        denied = docker("push", ref, check=False)  # not logged in yet
        self.assertNotIn("digest: sha256", denied)
        bad = subprocess.run(["docker", "-H", "unix://" + SOCK, "login", AUTH_REG.address,
                              "-u", "alice", "--password-stdin"], input=b"wrong",
                             capture_output=True, timeout=60,
                             env=dict(os.environ, DOCKER_CONFIG=os.path.join(WORK, "docker-config")))
        self.assertNotEqual(bad.returncode, 0)
        docker("login", AUTH_REG.address, "-u", "alice", "--password-stdin", stdin=b"alice-secret")
        out = docker("push", ref)
        pushed = re.search(r"digest: (sha256:[0-9a-f]{64})", out).group(1)
        docker("rmi", ref)
        self.assertIn("Digest: " + pushed, docker("pull", ref))
        docker("logout", AUTH_REG.address)
        with open(AUTH_REG.log_path) as f:
            self.assertNotIn("alice-secret", f.read())


def preconditions():
    if os.geteuid() != 0:
        print("SKIP: dockerd needs root")
        sys.exit(77)
    for tool in ("dockerd", "docker"):
        if shutil.which(tool) is None:
            print("SKIP: %s is not installed (apt-get install docker.io)" % tool)
            sys.exit(77)
    if not os.path.exists("/bin/busybox"):
        print("SKIP: /bin/busybox (busybox-static) is missing")
        sys.exit(77)


if __name__ == "__main__":
    preconditions()
    unittest.main(verbosity=2)
