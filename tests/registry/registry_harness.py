"""Starts a real berth-registry on 127.0.0.1 (ephemeral port, temporary root) and talks raw
HTTP to it: the helpers the spec suite and the interop tests share (python3 stdlib only)."""
import hashlib
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import time


class Registry:
    def __init__(self, binary, extra_args=(), root=None):
        self.binary = binary
        self.own_root = root is None
        self.workdir = tempfile.mkdtemp(prefix="berth-registry-test-")
        self.root = root or os.path.join(self.workdir, "root")
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.workdir, "registry.log")
        self.headers = {}  # sent with every request (credentials)
        self.ssl_context = None  # set: requests go over HTTPS

    def start(self):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [self.binary, "--listen", "127.0.0.1:0", "--root", self.root] + self.extra_args,
                stdout=subprocess.PIPE, stderr=log)
        line = self.proc.stdout.readline().decode()
        if "listening on" not in line:
            self.proc.wait(timeout=5)
            message = "berth-registry did not start: %r\n%s" % (line, self.log())
            self.cleanup()  # a registry that never started leaves no directory behind
            raise RuntimeError(message)
        self.port = int(line.strip().rsplit(":", 1)[1])
        return self

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, sig=None):
        if self.proc and self.proc.poll() is None:
            if sig is None:
                self.proc.terminate()
            else:
                self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def request(self, method, path, body=None, headers=None):
        """Returns (status, headers as a case-insensitive dict, body bytes)."""
        if self.ssl_context is not None:
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30,
                                               context=self.ssl_context)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=dict(self.headers, **(headers or {})))
            resp = conn.getresponse()
            data = resp.read()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
            return resp.status, hdrs, data
        finally:
            conn.close()

    # --- pushing helpers ---
    def push_blob(self, repo, data, algorithm="sha256"):
        d = digest_of(data, algorithm)
        status, hdrs, body = self.request(
            "POST", "/v2/%s/blobs/uploads/?digest=%s" % (repo, d), body=data,
            headers={"Content-Type": "application/octet-stream"})
        if status != 201:
            raise AssertionError("push blob: %d %s" % (status, body))
        return d

    def push_manifest(self, repo, reference, manifest,
                      media_type="application/vnd.oci.image.manifest.v1+json"):
        raw = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
        status, hdrs, body = self.request("PUT", "/v2/%s/manifests/%s" % (repo, reference),
                                          body=raw, headers={"Content-Type": media_type})
        return status, hdrs, body, digest_of(raw)

    def push_image(self, repo, tag, layer=b"layer", config=None, extra=None):
        """An image manifest with one layer; returns (manifest digest, manifest dict)."""
        config = config or json.dumps({"architecture": "amd64", "os": "linux"}).encode()
        config_digest = self.push_blob(repo, config)
        layer_digest = self.push_blob(repo, layer)
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": config_digest, "size": len(config)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": layer_digest, "size": len(layer)}],
        }
        if extra:
            manifest.update(extra)
        status, hdrs, body, d = self.push_manifest(repo, tag, manifest)
        if status != 201:
            raise AssertionError("push manifest: %d %s" % (status, body))
        return d, manifest


def digest_of(data, algorithm="sha256"):
    return "%s:%s" % (algorithm, hashlib.new(algorithm, data).hexdigest())


def error_codes(body):
    return [e["code"] for e in json.loads(body)["errors"]]


def find_binary():
    path = os.environ.get("BERTH_REGISTRY_BIN")
    if path and os.path.exists(path):
        return path
    here = os.path.dirname(os.path.abspath(__file__))
    guess = os.path.join(here, "..", "..", "build", "bin", "berth-registry")
    return os.path.abspath(guess)
