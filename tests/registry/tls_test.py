#!/usr/bin/env python3
"""TLS: berth-registry serving HTTPS from a certificate and key (OpenSSL), optionally requiring
client certificates; plain HTTP refused on the TLS port; blobs (sent without sendfile under
TLS) and ranges intact; skopeo trusting the CA through --dest-cert-dir."""
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from registry_harness import Registry, digest_of, find_binary  # noqa: E402

WORK = None


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=WORK)


def setUpModule():
    global WORK
    if shutil.which("openssl") is None:
        print("SKIP: the openssl command is missing")
        sys.exit(77)
    WORK = tempfile.mkdtemp(prefix="berth-registry-tls-")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test CA",
            "-keyout", "ca.key", "-out", "ca.crt")
    with open(os.path.join(WORK, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", "server.key", "-out", "server.csr")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.crt")
    with open(os.path.join(WORK, "client.ext"), "w") as f:
        f.write("extendedKeyUsage=clientAuth\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=client",
            "-keyout", "client.key", "-out", "client.csr")
    openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "client.ext", "-out", "client.crt")


def tearDownModule():
    shutil.rmtree(WORK, ignore_errors=True)


def path(name):
    return os.path.join(WORK, name)


def client_context(with_cert=False):
    ctx = ssl.create_default_context(cafile=path("ca.crt"))
    if with_cert:
        ctx.load_cert_chain(path("client.crt"), path("client.key"))
    return ctx


class Tls(unittest.TestCase):
    def test_https(self):
        reg = Registry(find_binary(), ["--tls-cert", path("server.crt"),
                                       "--tls-key", path("server.key")]).start()
        try:
            reg.ssl_context = client_context()
            status, hdrs, _ = reg.request("GET", "/v2/")
            self.assertEqual(status, 200)
            data = os.urandom(600000)
            d = reg.push_blob("tls/app", data)
            status, _, body = reg.request("GET", "/v2/tls/app/blobs/" + d)
            self.assertEqual((status, body == data), (200, True))
            status, _, body = reg.request("GET", "/v2/tls/app/blobs/" + d,
                                          headers={"Range": "bytes=1000-1999"})
            self.assertEqual((status, body), (206, data[1000:2000]))
            # Plain HTTP on the TLS port gets no HTTP answer.
            sock = socket.create_connection(("127.0.0.1", reg.port), timeout=5)
            sock.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                reply = sock.recv(100)
            except ConnectionResetError:
                reply = b""
            sock.close()
            self.assertFalse(reply.startswith(b"HTTP/1.1 200"))
            if shutil.which("skopeo"):
                self.skopeo_push(reg)
        finally:
            reg.cleanup()

    def skopeo_push(self, reg):
        certs = path("certs")
        os.makedirs(certs, exist_ok=True)
        shutil.copy(path("ca.crt"), os.path.join(certs, "ca.crt"))
        layout = path("layout")
        os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)

        def blob(data):
            d = digest_of(data)
            with open(os.path.join(layout, "blobs", "sha256", d.split(":")[1]), "wb") as f:
                f.write(data)
            return d
        config = json.dumps({"architecture": "amd64", "os": "linux",
                             "rootfs": {"type": "layers", "diff_ids": []}}).encode()
        manifest = json.dumps({"schemaVersion": 2,
                               "mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                          "digest": blob(config), "size": len(config)},
                               "layers": []}).encode()
        md = blob(manifest)
        with open(os.path.join(layout, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
        with open(os.path.join(layout, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md,
                "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}, f)
        dest = "docker://%s/tls/skopeo:v1" % reg.address
        proc = subprocess.run(["skopeo", "copy", "--preserve-digests", "--dest-cert-dir", certs,
                               "oci:%s:v1" % layout, dest], capture_output=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        raw = subprocess.run(["skopeo", "inspect", "--raw", "--cert-dir", certs, dest],
                             capture_output=True, timeout=120)
        self.assertEqual(digest_of(raw.stdout), md)

    def test_client_certificates(self):
        reg = Registry(find_binary(), ["--tls-cert", path("server.crt"), "--tls-key",
                                       path("server.key"), "--tls-client-ca", path("ca.crt")]).start()
        try:
            reg.ssl_context = client_context(with_cert=False)
            with self.assertRaises((ssl.SSLError, ConnectionError, OSError)):
                reg.request("GET", "/v2/")
            reg.ssl_context = client_context(with_cert=True)
            self.assertEqual(reg.request("GET", "/v2/")[0], 200)
        finally:
            reg.cleanup()

    def test_bad_tls_settings_stop_startup(self):
        for args, key in ((["--tls-cert", path("server.crt")], "tls.key"),
                          (["--tls-cert", path("missing.crt"), "--tls-key", path("server.key")],
                           "tls.cert"),
                          (["--tls-cert", path("server.crt"), "--tls-key", path("ca.key")],
                           "tls.key")):
            proc = subprocess.run([find_binary(), "--listen", "127.0.0.1:0", "--root",
                                   path("root"), *args], capture_output=True, timeout=10)
            self.assertNotEqual(proc.returncode, 0)
            self.assertIn(key, proc.stderr.decode())


if __name__ == "__main__":
    unittest.main(verbosity=2)
