#!/usr/bin/env python3
"""Interop with podman: an image imported from busybox-static is pushed to berth-registry with
--tls-verify=false and pulled back with the same digest. podman runs with its own --root and
--runroot (vfs storage) under a temporary directory, so the host's container storage is never
touched. Exits 77 (skip) with the reason when podman or root is missing."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from registry_harness import Registry, digest_of, find_binary  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = None
REG = None


def podman(*args, check=True):
    cmd = ["podman", "--root", os.path.join(WORK, "storage"), "--runroot",
           os.path.join(WORK, "run"), "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
           "--events-backend", "file", *args]
    proc = subprocess.run(cmd, capture_output=True, timeout=300,
                          env=dict(os.environ, XDG_RUNTIME_DIR=os.path.join(WORK, "xdg")))
    if check and proc.returncode != 0:
        raise AssertionError("podman %s: %s" % (" ".join(args), proc.stderr.decode()))
    return proc.stdout.decode()


def setUpModule():
    global WORK, REG
    WORK = tempfile.mkdtemp(prefix="berth-registry-podman-")
    os.makedirs(os.path.join(WORK, "xdg"), mode=0o700)
    REG = Registry(find_binary()).start()


def tearDownModule():
    with open("/proc/mounts") as f:
        mounts = [line.split()[1] for line in f if WORK and (" " + WORK) in line]
    for m in sorted(mounts, reverse=True):
        subprocess.run(["umount", "-l", m], capture_output=True)
    REG.cleanup()
    shutil.rmtree(WORK, ignore_errors=True)


class PodmanInterop(unittest.TestCase):
    def test_push_and_pull(self):
        tar = os.path.join(WORK, "rootfs.tar")
        subprocess.run(["sh", os.path.join(HERE, "..", "images", "make-busybox-rootfs.sh"), tar],
                       check=True)
        ref = "%s/interop/podman:v1" % REG.address
        podman("import", tar, ref)
        digest_file = os.path.join(WORK, "digest")
        podman("push", "--tls-verify=false", "--digestfile", digest_file, ref)
        with open(digest_file) as f:
            pushed = f.read().strip()
        self.assertRegex(pushed, r"^sha256:[0-9a-f]{64}$")
        status, hdrs, body = REG.request("GET", "/v2/interop/podman/manifests/v1")
        self.assertEqual((status, hdrs["docker-content-digest"], digest_of(body)),
                         (200, pushed, pushed))
        podman("rmi", ref)
        podman("pull", "--tls-verify=false", ref)
        digests = json.loads(podman("image", "inspect", "--format", "{{json .RepoDigests}}", ref))
        self.assertIn("%s/interop/podman@%s" % (REG.address, pushed), digests)
        podman("pull", "--tls-verify=false", "%s/interop/podman@%s" % (REG.address, pushed))


def preconditions():
    if shutil.which("podman") is None:
        print("SKIP: podman is not installed (apt-get install podman)")
        sys.exit(77)
    if os.geteuid() != 0:
        print("SKIP: this test runs podman as root with private storage")
        sys.exit(77)
    if not os.path.exists("/bin/busybox"):
        print("SKIP: /bin/busybox (busybox-static) is missing")
        sys.exit(77)


if __name__ == "__main__":
    preconditions()
    unittest.main(verbosity=2)
