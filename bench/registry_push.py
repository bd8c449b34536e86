#!/usr/bin/env python3
"""Pushes for bench/registry.sh (stdlib only), against any distribution registry:
  seed ADDR                      an image bench/app:v1 and a 50 MB blob in bench/big (prints its digest)
  push ADDR MODE COUNT SIZE_MB   COUNT distinct layers of SIZE_MB pushed in parallel, MODE
                                 monolithic (POST, then PUT with the body) or chunked (PATCH
                                 8 MiB chunks with Content-Range, then PUT); prints seconds"""
import hashlib
import http.client
import json
import os
import sys
import threading
import time
from urllib.parse import urlsplit


def request(addr, method, path, body=None, headers=None):
    host, port = addr.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=300)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    hdrs = {k.lower(): v for k, v in resp.getheaders()}
    conn.close()
    return resp.status, hdrs, data


def location(addr, hdrs):
    loc = hdrs["location"]
    return urlsplit(loc).path + ("?" + urlsplit(loc).query if urlsplit(loc).query else "")


def with_digest(loc, digest):
    return loc + ("&" if "?" in loc else "?") + "digest=" + digest


def push_blob(addr, repo, data, mode="monolithic", chunk=8 << 20):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    status, hdrs, body = request(addr, "POST", "/v2/%s/blobs/uploads/" % repo)
    assert status == 202, (status, body)
    loc = location(addr, hdrs)
    if mode == "chunked":
        for offset in range(0, len(data), chunk):
            piece = data[offset:offset + chunk]
            status, hdrs, body = request(addr, "PATCH", loc, body=piece, headers={
                "Content-Type": "application/octet-stream",
                "Content-Range": "%d-%d" % (offset, offset + len(piece) - 1)})
            assert status == 202, (status, body)
            loc = location(addr, hdrs)
        status, hdrs, body = request(addr, "PUT", with_digest(loc, digest))
    else:
        status, hdrs, body = request(addr, "PUT", with_digest(loc, digest), body=data,
                                     headers={"Content-Type": "application/octet-stream"})
    assert status == 201, (status, body)
    return digest


def seed(addr):
    config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    layer = os.urandom(4096)
    c = push_blob(addr, "bench/app", config)
    l = push_blob(addr, "bench/app", layer)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": c,
                   "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": l,
                    "size": len(layer)}]}).encode()
    status, _, body = request(addr, "PUT", "/v2/bench/app/manifests/v1", body=manifest,
                              headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    assert status == 201, (status, body)
    big = push_blob(addr, "bench/big", os.urandom(50 << 20))
    print(big)


def push(addr, mode, count, size_mb):
    layers = [os.urandom(size_mb << 20) for _ in range(count)]
    errors = []

    def one(i):
        try:
            push_blob(addr, "bench/push-%s" % mode, layers[i], mode)
        except Exception as e:  # noqa: BLE001
            errors.append(e)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    if errors:
        raise SystemExit("push failed: %r" % errors[0])
    print("%.3f" % elapsed)


if __name__ == "__main__":
    if sys.argv[1] == "seed":
        seed(sys.argv[2])
    else:
        push(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
