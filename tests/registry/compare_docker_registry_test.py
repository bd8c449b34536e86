#!/usr/bin/env python3
"""The same requests against berth-registry and Debian's docker-registry (CNCF distribution
2.8): statuses and error codes must agree, except where berth-registry follows the OCI
Distribution Spec v1.1 and distribution 2.8 predates it (listed in EXPECTED_DIFFERENCES with
the reason). Prints the comparison table. Exits 77 (skip) when docker-registry is missing."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from registry_harness import Registry, digest_of, find_binary  # noqa: E402

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"

# scenario → why the answers differ on purpose
EXPECTED_DIFFERENCES = {
    "delete manifest by tag": "OCI 1.1 lets a tag be deleted (202); distribution 2.8 refuses",
    "referrers": "the referrers API is OCI 1.1; distribution 2.8 has none (404)",
    "sha512 monolithic upload": "distribution 2.8 refuses sha512 digests on upload",
    "invalid repository name": "OCI: NAME_INVALID (400); distribution 2.8 matches no route (404)",
    "chunk out of order": "OCI: 416; distribution 2.8 appends the chunk regardless (202)",
    "tags page": "OCI: tags pagination (n, Link); distribution 2.8 ignores n",
}


class DockerRegistry:
    def __init__(self):
        self.work = tempfile.mkdtemp(prefix="berth-registry-dr-")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        config = os.path.join(self.work, "config.yml")
        with open(config, "w") as f:
            f.write("version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\n"
                    "storage: {filesystem: {rootdirectory: %s/root}, delete: {enabled: true}}\n"
                    "http: {addr: 127.0.0.1:%d}\n" % (self.work, self.port))
        self.proc = subprocess.Popen(["docker-registry", "serve", config],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Reuse the harness's HTTP helpers against this port.
        self.client = Registry.__new__(Registry)
        self.client.port = self.port
        self.client.headers = {}
        self.client.ssl_context = None
        for _ in range(200):
            try:
                if self.client.request("GET", "/v2/")[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("docker-registry did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.work, ignore_errors=True)


def codes(body):
    try:
        return [e["code"] for e in json.loads(body)["errors"]]
    except (ValueError, KeyError, TypeError):
        return None


def scenarios(reg):
    """(name, status, error codes, notable headers) for each request, on one registry."""
    out = []

    def record(name, status, hdrs, body, headers=()):
        out.append((name, status, codes(body) if status >= 400 else None,
                    tuple(h for h in headers if h in hdrs)))

    r = reg.request
    record("base", *r("GET", "/v2/"), headers=("docker-distribution-api-version",))
    record("unknown manifest, unknown repository", *r("GET", "/v2/nothing/here/manifests/latest"))
    record("invalid repository name", *r("GET", "/v2/UPPER/tags/list"))
    data = b"compare content"
    d = digest_of(data)
    status, hdrs, body = r("POST", "/v2/cmp/app/blobs/uploads/")
    record("start upload", status, hdrs, body, headers=("location", "range", "docker-upload-uuid"))
    loc = hdrs["location"]
    if loc.startswith("http"):
        loc = "/" + loc.split("/", 3)[3]
    sep = "&" if "?" in loc else "?"
    record("upload status", *r("GET", loc), headers=("range", "docker-upload-uuid"))
    status, hdrs, body = r("PATCH", loc, body=data[:5], headers={"Content-Range": "0-4"})
    record("chunk", status, hdrs, body, headers=("range", "location"))
    loc = hdrs["location"]
    if loc.startswith("http"):
        loc = "/" + loc.split("/", 3)[3]
    sep = "&" if "?" in loc else "?"
    record("chunk out of order", *r("PATCH", loc, body=b"zz", headers={"Content-Range": "9-10"}))
    status, hdrs, body = r("POST", "/v2/cmp/app/blobs/uploads/")
    fresh = hdrs["location"]
    if fresh.startswith("http"):
        fresh = "/" + fresh.split("/", 3)[3]
    record("close with wrong digest",
           *r("PUT", fresh + ("&" if "?" in fresh else "?") + "digest=" + digest_of(b"x"), body=data))
    status, hdrs, body = r("POST", "/v2/cmp/app/blobs/uploads/")
    loc = hdrs["location"]
    if loc.startswith("http"):
        loc = "/" + loc.split("/", 3)[3]
    sep = "&" if "?" in loc else "?"
    record("close with digest", *r("PUT", loc + sep + "digest=" + d, body=data),
           headers=("location", "docker-content-digest"))
    record("blob HEAD", *r("HEAD", "/v2/cmp/app/blobs/" + d), headers=("docker-content-digest",))
    record("blob range", *r("GET", "/v2/cmp/app/blobs/" + d, headers={"Range": "bytes=0-3"}))
    record("unknown blob", *r("GET", "/v2/cmp/app/blobs/" + digest_of(b"nope")))
    record("mount", *r("POST", "/v2/cmp/other/blobs/uploads/?mount=%s&from=cmp/app" % d),
           headers=("location", "docker-content-digest"))
    status, hdrs, body = r("POST", "/v2/cmp/app/blobs/uploads/")
    loc = hdrs["location"]
    if loc.startswith("http"):
        loc = "/" + loc.split("/", 3)[3]
    record("cancel upload", *r("DELETE", loc))
    record("cancelled upload status", *r("GET", loc))
    sha512 = "sha512:" + __import__("hashlib").sha512(data).hexdigest()
    record("sha512 monolithic upload", *r("POST", "/v2/cmp/app/blobs/uploads/?digest=" + sha512,
                                          body=data))

    config = b"{}"
    c_status = r("POST", "/v2/cmp/app/blobs/uploads/?digest=" + digest_of(config), body=config)
    if c_status[0] != 201:  # no monolithic POST: session + PUT
        status, hdrs, body = r("POST", "/v2/cmp/app/blobs/uploads/")
        loc = hdrs["location"]
        if loc.startswith("http"):
            loc = "/" + loc.split("/", 3)[3]
        r("PUT", loc + ("&" if "?" in loc else "?") + "digest=" + digest_of(config), body=config)
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": digest_of(config), "size": 2},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                            "digest": d, "size": len(data)}]}
    raw = json.dumps(manifest).encode()
    ct = {"Content-Type": OCI_MANIFEST}
    for tag in ("a", "b", "c"):
        status, hdrs, body = r("PUT", "/v2/cmp/app/manifests/" + tag, body=raw, headers=ct)
    record("push manifest", status, hdrs, body, headers=("location", "docker-content-digest"))
    record("manifest GET by tag", *r("GET", "/v2/cmp/app/manifests/a", headers={"Accept": OCI_MANIFEST}),
           headers=("docker-content-digest", "content-type"))
    missing = dict(manifest, layers=[{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                                      "digest": digest_of(b"missing"), "size": 7}])
    record("manifest with unknown blob",
           *r("PUT", "/v2/cmp/app/manifests/bad", body=json.dumps(missing).encode(), headers=ct))
    record("invalid manifest", *r("PUT", "/v2/cmp/app/manifests/bad", body=b"{nope", headers=ct))
    record("manifest digest mismatch",
           *r("PUT", "/v2/cmp/app/manifests/" + digest_of(b"other"), body=raw, headers=ct))
    record("tags list", *r("GET", "/v2/cmp/app/tags/list"))
    record("tags page", *r("GET", "/v2/cmp/app/tags/list?n=2"), headers=("link",))
    record("tags last page", *r("GET", "/v2/cmp/app/tags/list?n=2&last=b"), headers=("link",))
    record("catalog page", *r("GET", "/v2/_catalog?n=1"), headers=("link",))
    record("referrers", *r("GET", "/v2/cmp/app/referrers/" + digest_of(raw)))
    record("delete manifest by tag", *r("DELETE", "/v2/cmp/app/manifests/c"))
    record("delete manifest by digest", *r("DELETE", "/v2/cmp/app/manifests/" + digest_of(raw)))
    record("deleted manifest", *r("GET", "/v2/cmp/app/manifests/a"))
    record("delete blob", *r("DELETE", "/v2/cmp/app/blobs/" + d))
    record("deleted blob", *r("GET", "/v2/cmp/app/blobs/" + d))
    return out


class CompareWithDockerRegistry(unittest.TestCase):
    def test_same_answers(self):
        berth = Registry(find_binary()).start()
        other = DockerRegistry()
        try:
            ours = scenarios(berth)
            theirs = scenarios(other.client)
        finally:
            berth.cleanup()
            other.stop()
        mismatches = []
        print("\n%-40s %-34s %-34s" % ("request", "berth-registry", "docker-registry"))
        for a, b in zip(ours, theirs):
            self.assertEqual(a[0], b[0])
            same = a[1:] == b[1:]
            mark = "" if same else ("  (expected: %s)" % EXPECTED_DIFFERENCES[a[0]]
                                    if a[0] in EXPECTED_DIFFERENCES else "  MISMATCH")
            print("%-40s %-34s %-34s%s" % (a[0], "%s %s" % (a[1], a[2] or ""),
                                           "%s %s" % (b[1], b[2] or ""), mark))
            if not same and a[0] not in EXPECTED_DIFFERENCES:
                mismatches.append((a, b))
        self.assertEqual(mismatches, [])


if __name__ == "__main__":
    if shutil.which("docker-registry") is None:
        print("SKIP: docker-registry is not installed (apt-get install docker-registry)")
        sys.exit(77)
    unittest.main(verbosity=2)
