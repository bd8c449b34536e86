#!/usr/bin/env python3
"""Interop with a real client: skopeo (Debian) copies a busybox-static image, as an OCI layout
and as a docker-archive, into berth-registry and back; digests must be identical both ways.
Also lists tags and deletes. Exit 77 (skip) with a reason when skopeo or busybox-static is
missing and cannot be installed."""
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from registry_harness import Registry, digest_of, find_binary  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOTFS_SCRIPT = os.path.join(HERE, "..", "images", "make-busybox-rootfs.sh")
REG = None
WORK = None


def skopeo(*args, check=True):
    proc = subprocess.run(["skopeo", *args], capture_output=True, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError("skopeo %s failed: %s" % (" ".join(args), proc.stderr.decode()))
    return proc


def write_blob(layout, data):
    d = hashlib.sha256(data).hexdigest()
    path = os.path.join(layout, "blobs", "sha256", d)
    with open(path, "wb") as f:
        f.write(data)
    return "sha256:" + d


def make_oci_layout(layout):
    """An OCI image layout holding busybox-static as one gzip layer, tag "v1"."""
    os.makedirs(os.path.join(layout, "blobs", "sha256"))
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    tar_path = os.path.join(WORK, "rootfs.tar")
    subprocess.run(["sh", ROOTFS_SCRIPT, tar_path], check=True)
    with open(tar_path, "rb") as f:
        tar = f.read()
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        gz.write(tar)
    layer = buf.getvalue()
    layer_digest = write_blob(layout, layer)
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]},
    }).encode()
    config_digest = write_blob(layout, config)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": layer_digest, "size": len(layer)}],
    }).encode()
    manifest_digest = write_blob(layout, manifest)
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest, "size": len(manifest),
            "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}, f)
    return manifest_digest, [config_digest, layer_digest]


def layout_manifest_digest(layout):
    with open(os.path.join(layout, "index.json")) as f:
        return json.load(f)["manifests"][0]["digest"]


def setUpModule():
    global REG, WORK
    WORK = tempfile.mkdtemp(prefix="berth-registry-skopeo-")
    REG = Registry(find_binary()).start()


def tearDownModule():
    REG.cleanup()
    shutil.rmtree(WORK, ignore_errors=True)


class SkopeoInterop(unittest.TestCase):
    def ref(self, path):
        return "docker://%s/%s" % (REG.address, path)

    def test_oci_layout_round_trip(self):
        layout = os.path.join(WORK, "oci-in")
        manifest_digest, blobs = make_oci_layout(layout)
        # --preserve-digests: skopeo's blob-info cache may otherwise substitute a layer it saw
        # elsewhere (the docker-archive test's uncompressed copy) and rewrite the manifest.
        skopeo("copy", "--preserve-digests", "--dest-tls-verify=false", "oci:%s:v1" % layout,
               self.ref("interop/busybox:v1"))

        raw = skopeo("inspect", "--raw", "--tls-verify=false", self.ref("interop/busybox:v1")).stdout
        self.assertEqual(digest_of(raw), manifest_digest)
        status, hdrs, _ = REG.request("HEAD", "/v2/interop/busybox/manifests/v1")
        self.assertEqual(hdrs["docker-content-digest"], manifest_digest)
        info = json.loads(skopeo("inspect", "--tls-verify=false",
                                 self.ref("interop/busybox:v1")).stdout)
        self.assertEqual(info["Digest"], manifest_digest)
        self.assertEqual(info["Layers"], blobs[1:])

        out = os.path.join(WORK, "oci-out")
        skopeo("copy", "--src-tls-verify=false", self.ref("interop/busybox:v1"),
               "oci:%s:v1" % out)
        self.assertEqual(layout_manifest_digest(out), manifest_digest)
        for d in [manifest_digest] + blobs:
            path = os.path.join(out, "blobs", "sha256", d.split(":")[1])
            with open(path, "rb") as f:
                self.assertEqual(digest_of(f.read()), d)

        # By digest, too.
        raw = skopeo("inspect", "--raw", "--tls-verify=false",
                     self.ref("interop/busybox@" + manifest_digest)).stdout
        self.assertEqual(digest_of(raw), manifest_digest)

    def test_docker_archive_round_trip(self):
        layout = os.path.join(WORK, "oci-for-archive")
        make_oci_layout(layout)
        archive = os.path.join(WORK, "busybox.tar")
        skopeo("copy", "oci:%s:v1" % layout, "docker-archive:%s:interop/busybox:v1" % archive)
        skopeo("copy", "--dest-tls-verify=false", "docker-archive:%s" % archive,
               self.ref("interop/docker:v1"))
        raw = skopeo("inspect", "--raw", "--tls-verify=false", self.ref("interop/docker:v1")).stdout
        manifest = json.loads(raw)
        self.assertEqual(manifest["mediaType"],
                         "application/vnd.docker.distribution.manifest.v2+json")
        pushed_digest = digest_of(raw)
        status, hdrs, _ = REG.request("HEAD", "/v2/interop/docker/manifests/v1")
        self.assertEqual(hdrs["docker-content-digest"], pushed_digest)

        # Back out as a dir: byte-identical manifest and blobs.
        out = os.path.join(WORK, "dir-out")
        skopeo("copy", "--src-tls-verify=false", self.ref("interop/docker:v1"), "dir:%s" % out)
        with open(os.path.join(out, "manifest.json"), "rb") as f:
            self.assertEqual(digest_of(f.read()), pushed_digest)
        for desc in [manifest["config"]] + manifest["layers"]:
            with open(os.path.join(out, desc["digest"].split(":")[1]), "rb") as f:
                self.assertEqual(digest_of(f.read()), desc["digest"])

        # Registry to registry (cross-repository copy) keeps the digest.
        skopeo("copy", "--src-tls-verify=false", "--dest-tls-verify=false",
               self.ref("interop/docker:v1"), self.ref("interop/copy:v2"))
        raw2 = skopeo("inspect", "--raw", "--tls-verify=false", self.ref("interop/copy:v2")).stdout
        self.assertEqual(digest_of(raw2), pushed_digest)

    def test_list_tags_and_delete(self):
        layout = os.path.join(WORK, "oci-tags")
        manifest_digest, _ = make_oci_layout(layout)
        for tag in ("one", "two"):
            skopeo("copy", "--preserve-digests", "--dest-tls-verify=false", "oci:%s:v1" % layout,
                   self.ref("interop/tags:" + tag))
        tags = json.loads(skopeo("list-tags", "--tls-verify=false",
                                 self.ref("interop/tags")).stdout)["Tags"]
        self.assertEqual(sorted(tags), ["one", "two"])
        skopeo("delete", "--tls-verify=false", self.ref("interop/tags:one"))
        gone = skopeo("inspect", "--raw", "--tls-verify=false", self.ref("interop/tags:two"),
                      check=False)
        # skopeo deletes by digest: both tags naming the manifest are gone.
        self.assertNotEqual(gone.returncode, 0)
        status, _, _ = REG.request("GET", "/v2/interop/tags/manifests/" + manifest_digest)
        self.assertEqual(status, 404)


def ensure_tools():
    if shutil.which("skopeo") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "skopeo"], capture_output=True)
    if shutil.which("skopeo") is None:
        print("SKIP: skopeo is not installed and apt-get install skopeo failed")
        sys.exit(77)
    if not os.path.exists("/bin/busybox"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "busybox-static"], capture_output=True)
    if not os.path.exists("/bin/busybox"):
        print("SKIP: /bin/busybox (busybox-static) is missing and cannot be installed")
        sys.exit(77)


if __name__ == "__main__":
    ensure_tools()
    unittest.main(verbosity=2)
