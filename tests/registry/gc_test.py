#!/usr/bin/env python3
"""Garbage collection: what `berth-registry gc` and POST /admin/gc delete (and list in a dry
run), untagged manifests, and GC running in a loop while 20 clients push and pull: nothing a
manifest accepted with 201 references is ever lost (every digest verified afterwards)."""
import fcntl
import hashlib
import json
import os
import random
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from registry_harness import Registry, digest_of, error_codes, find_binary  # noqa: E402

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def blob_path(root, d):
    algorithm, hexd = d.split(":")
    return os.path.join(root, "blobs", algorithm, hexd[:2], hexd)


def age(root, d, seconds=7200):
    """Makes a blob look old (past any grace period)."""
    path = blob_path(root, d)
    when = time.time() - seconds
    os.utime(path, (when, when))


def age_everything(root, seconds=7200):
    when = time.time() - seconds
    for top in ("blobs", "repositories"):
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            for name in filenames:
                os.utime(os.path.join(dirpath, name), (when, when))


def gc_command(root, *flags):
    proc = subprocess.run([find_binary(), "gc", "--root", root, *flags], capture_output=True,
                          timeout=60)
    if proc.returncode != 0:
        raise AssertionError("gc failed: " + proc.stderr.decode())
    return json.loads(proc.stdout)


class Collection(unittest.TestCase):
    def setUp(self):
        self.reg = Registry(find_binary()).start()

    def tearDown(self):
        self.reg.cleanup()

    def test_unreferenced_blobs_go_referenced_stay(self):
        reg = self.reg
        kept, manifest = reg.push_image("gc/app", "v1", layer=b"kept layer")
        orphan = reg.push_blob("gc/app", b"orphan blob")
        young_orphan = reg.push_blob("gc/app", b"young orphan")
        age_everything(reg.root)
        os.utime(blob_path(reg.root, young_orphan), None)

        report = gc_command(reg.root, "--dry-run")
        self.assertTrue(report["dry_run"])
        self.assertEqual(report["deleted_blobs"], [orphan])
        self.assertEqual(report["kept_young_blobs"], 1)
        self.assertTrue(os.path.exists(blob_path(reg.root, orphan)))  # dry run deletes nothing

        report = gc_command(reg.root)
        self.assertEqual(report["deleted_blobs"], [orphan])
        self.assertEqual(report["freed_bytes"], len(b"orphan blob"))
        self.assertFalse(os.path.exists(blob_path(reg.root, orphan)))
        self.assertEqual(reg.request("HEAD", "/v2/gc/app/blobs/" + orphan)[0], 404)
        # Everything the manifest references is intact and served.
        self.assertEqual(reg.request("GET", "/v2/gc/app/manifests/v1")[0], 200)
        for desc in [manifest["config"]] + manifest["layers"]:
            status, _, body = reg.request("GET", "/v2/gc/app/blobs/" + desc["digest"])
            self.assertEqual((status, digest_of(body)), (200, desc["digest"]))
        self.assertEqual(reg.request("HEAD", "/v2/gc/app/blobs/" + young_orphan)[0], 200)

    def test_deleted_manifest_frees_its_blobs(self):
        reg = self.reg
        d, manifest = reg.push_image("gc/del", "v1", layer=b"layer of a deleted image")
        self.assertEqual(reg.request("DELETE", "/v2/gc/del/manifests/" + d)[0], 202)
        age_everything(reg.root)
        status, _, body = reg.request("POST", "/admin/gc")
        self.assertEqual(status, 200, body)
        report = json.loads(body)
        self.assertIn(manifest["layers"][0]["digest"], report["deleted_blobs"])
        self.assertIn(d, report["deleted_blobs"])
        metrics = reg.request("GET", "/metrics")[2].decode()
        self.assertIn("berth_registry_gc_runs_total 1", metrics)

    def test_untagged_manifests(self):
        reg = self.reg
        tagged, _ = reg.push_image("gc/untag", "v1", layer=b"tagged layer")
        untagged, untagged_manifest = reg.push_image("gc/untag", "tmp", layer=b"untagged layer")
        reg.request("DELETE", "/v2/gc/untag/manifests/tmp")  # tag gone, revision stays
        # A referrer of the tagged image (untagged itself) is kept with its subject.
        empty = reg.push_blob("gc/untag", b"{}")
        sig = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": "application/x-sig",
               "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
               "layers": [],
               "subject": {"mediaType": OCI_MANIFEST, "digest": tagged, "size": 1}}
        raw = json.dumps(sig).encode()
        status, _, _, sig_digest = reg.push_manifest("gc/untag", digest_of(raw), raw)
        self.assertEqual(status, 201)
        # An index's children are kept with the index.
        c1, _ = reg.push_image("gc/untag", "child", layer=b"child layer")
        child_size = len(reg.request("GET", "/v2/gc/untag/manifests/child")[2])
        reg.request("DELETE", "/v2/gc/untag/manifests/child")
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX,
                 "manifests": [{"mediaType": OCI_MANIFEST, "digest": c1, "size": child_size}]}
        self.assertEqual(reg.push_manifest("gc/untag", "multi", index, OCI_INDEX)[0], 201)
        age_everything(reg.root)

        report = gc_command(reg.root, "--delete-untagged", "--dry-run")
        self.assertEqual(report["deleted_manifests"], ["gc/untag@" + untagged])
        report = gc_command(reg.root, "--delete-untagged")
        self.assertEqual(report["deleted_manifests"], ["gc/untag@" + untagged])
        self.assertIn(untagged_manifest["layers"][0]["digest"], report["deleted_blobs"])
        self.assertEqual(reg.request("GET", "/v2/gc/untag/manifests/" + untagged)[0], 404)
        for d in (tagged, sig_digest, c1):
            self.assertEqual(reg.request("GET", "/v2/gc/untag/manifests/" + d)[0], 200, d)
        refs = json.loads(reg.request("GET", "/v2/gc/untag/referrers/" + tagged)[2])["manifests"]
        self.assertEqual([r["digest"] for r in refs], [sig_digest])

    def test_scheduled_collection(self):
        reg = Registry(find_binary(), ["--gc-interval", "1s", "--gc-grace-period", "2s"]).start()
        try:
            kept, manifest = reg.push_image("gc/sched", "v1")
            orphan = reg.push_blob("gc/sched", b"scheduled orphan")
            deadline = time.time() + 15
            while time.time() < deadline and os.path.exists(blob_path(reg.root, orphan)):
                time.sleep(0.5)
            self.assertFalse(os.path.exists(blob_path(reg.root, orphan)))
            self.assertEqual(reg.request("GET", "/v2/gc/sched/manifests/v1")[0], 200)
            for desc in [manifest["config"]] + manifest["layers"]:
                self.assertEqual(reg.request("HEAD", "/v2/gc/sched/blobs/" + desc["digest"])[0], 200)
            metrics = reg.request("GET", "/metrics")[2].decode()
            self.assertNotIn("berth_registry_gc_runs_total 0\n", metrics)
        finally:
            reg.cleanup()

    def test_admin_endpoint_needs_post(self):
        status, _, body = self.reg.request("GET", "/admin/gc")
        self.assertEqual(status, 405)


class ConcurrentCollection(unittest.TestCase):
    """20 clients push (new layers, and old unreferenced layers re-used by upload, by
    HEAD-then-skip and by mount) and pull, while GC runs in a loop over seed blobs the test
    keeps making old again between runs, so they are deleted while pushes reference them."""

    def test_gc_loses_nothing_referenced(self):
        reg = Registry(find_binary(), ["--gc-grace-period", "30s"]).start()
        try:
            self.run_load(reg)
        finally:
            reg.cleanup()

    def run_load(self, reg):
        # Old, unreferenced blobs: garbage the collector may delete at any moment, and content
        # the pushers re-use (the dangerous case: a push referencing a blob being collected).
        old = [os.urandom(2048) for _ in range(40)]
        old_digests = [reg.push_blob("gc/seed", data) for data in old]
        for d in old_digests:
            age(reg.root, d)
        # Aged upload-link files do not matter: only blob ages count.
        accepted = []  # (repo, tag, manifest digest, manifest dict)
        lock = threading.Lock()
        stop = threading.Event()
        errors = []
        collected = []

        def pusher(n):
            rnd = random.Random(n)
            repo = "gc/load%d" % n
            i = 0
            try:
                while not stop.is_set():
                    i += 1
                    layers = []
                    new = os.urandom(rnd.randint(1000, 50000))
                    layers.append((reg.push_blob(repo, new), len(new)))
                    data = old[rnd.randrange(len(old))]
                    d = digest_of(data)
                    how = rnd.choice(("upload", "head", "mount"))
                    if how == "upload":
                        reg.push_blob(repo, data)
                    elif how == "head":
                        if reg.request("HEAD", "/v2/%s/blobs/%s" % (repo, d))[0] != 200:
                            reg.push_blob(repo, data)
                    else:
                        status, _, _ = reg.request(
                            "POST", "/v2/%s/blobs/uploads/?mount=%s&from=gc/seed" % (repo, d))
                        if status != 201:
                            reg.push_blob(repo, data)
                    layers.append((d, len(data)))
                    config = json.dumps({"n": n, "i": i}).encode()
                    c = reg.push_blob(repo, config)
                    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                           "digest": c, "size": len(config)},
                                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                                            "digest": ld, "size": ls} for ld, ls in layers]}
                    tag = "t%d" % i
                    status, hdrs, body, md = reg.push_manifest(repo, tag, manifest)
                    if status == 201:
                        with lock:
                            accepted.append((repo, tag, md, manifest))
                    elif status == 400 and error_codes(body) == ["MANIFEST_BLOB_UNKNOWN"]:
                        pass  # a clean refusal: the client pushes the blob again
                    else:
                        errors.append("push %s:%s: %d %s" % (repo, tag, status, body))
                    # Pull something accepted earlier.
                    with lock:
                        pick = rnd.choice(accepted) if accepted else None
                    if pick:
                        status, _, body = reg.request("GET", "/v2/%s/manifests/%s" % (pick[0], pick[2]))
                        if status != 200:
                            errors.append("pull %s@%s: %d" % (pick[0], pick[2], status))
            except Exception as e:  # noqa: BLE001
                errors.append("pusher %d: %r" % (n, e))

        def collector():
            while not stop.is_set():
                status, _, body = reg.request("POST", "/admin/gc")
                if status not in (200, 409):
                    errors.append("gc: %d %s" % (status, body))
                elif status == 200:
                    collected.extend(json.loads(body)["deleted_blobs"])
                # Age the seeds again: re-used ones were touched by the pushes. Under the blob
                # guard, as the collector itself would: turning a blob's clock back between a
                # push's touch and its stored manifest is not something time ever does.
                with open(os.path.join(reg.root, "gc.lock"), "a") as lock:
                    fcntl.flock(lock, fcntl.LOCK_EX)
                    for d in old_digests:
                        try:
                            age(reg.root, d)
                        except FileNotFoundError:
                            pass

        threads = [threading.Thread(target=pusher, args=(n,)) for n in range(20)]
        threads.append(threading.Thread(target=collector))
        for t in threads:
            t.start()
        time.sleep(8)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        self.assertEqual(errors, [])
        self.assertGreater(len(accepted), 50)
        # The collector really deleted seeds while they were being re-used.
        self.assertTrue(set(collected) & set(old_digests), "GC deleted no seed during the load")
        # One more collection with everything old: referenced content must survive even that.
        age_everything(reg.root)
        status, _, body = reg.request("POST", "/admin/gc")
        self.assertEqual(status, 200, body)
        for repo, tag, md, manifest in accepted:
            status, _, body = reg.request("GET", "/v2/%s/manifests/%s" % (repo, tag))
            self.assertEqual((status, digest_of(body)), (200, md), "%s:%s" % (repo, tag))
            for desc in [manifest["config"]] + manifest["layers"]:
                status, _, body = reg.request("GET", "/v2/%s/blobs/%s" % (repo, desc["digest"]))
                self.assertEqual(status, 200, "%s %s lost" % (repo, desc["digest"]))
                self.assertEqual(digest_of(body), desc["digest"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
