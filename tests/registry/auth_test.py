#!/usr/bin/env python3
"""Auth: htpasswd Basic auth (bcrypt files from Debian's `htpasswd -B`) and the registry's own
Docker token auth: 401 with the challenge Docker clients expect, 403 on a scope not granted,
wrong passwords refused, token expiry and tampering, per-repository rules, no credentials in
the log, and skopeo pushing with credentials through the token flow."""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from registry_harness import Registry, digest_of, error_codes, find_binary  # noqa: E402

WORK = None
RULES = [
    {"repository": "team/*", "users": ["alice"], "actions": ["pull", "push", "delete"]},
    {"repository": "team/*", "users": ["bob"], "actions": ["pull"]},
    {"repository": "public/*", "users": ["*"], "actions": ["pull", "push"]},
    {"repository": "public/*", "users": ["anonymous"], "actions": ["pull"]},
    {"repository": "alice/*", "users": ["alice"], "actions": ["pull", "push"]},
]


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()}


def start(mode, **auth):
    config = {"auth": dict({"mode": mode, "htpasswd": os.path.join(WORK, "htpasswd"),
                            "access": RULES}, **auth)}
    path = os.path.join(WORK, "config-%s.json" % mode)
    with open(path, "w") as f:
        json.dump(config, f)
    return Registry(find_binary(), ["--config", path]).start()


def setUpModule():
    global WORK
    if shutil.which("htpasswd") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "apache2-utils"], capture_output=True)
    if shutil.which("htpasswd") is None:
        print("SKIP: htpasswd (apache2-utils) is missing and cannot be installed")
        sys.exit(77)
    WORK = tempfile.mkdtemp(prefix="berth-registry-auth-")
    path = os.path.join(WORK, "htpasswd")
    subprocess.run(["htpasswd", "-B", "-b", "-c", path, "alice", "alice-secret"], check=True,
                   capture_output=True)
    subprocess.run(["htpasswd", "-B", "-b", path, "bob", "bob-secret"], check=True,
                   capture_output=True)


def tearDownModule():
    shutil.rmtree(WORK, ignore_errors=True)


class Basic(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.reg = start("basic")

    @classmethod
    def tearDownClass(cls):
        cls.reg.cleanup()

    def test_challenge_and_login(self):
        status, hdrs, body = self.reg.request("GET", "/v2/")
        self.assertEqual(status, 401)
        self.assertEqual(hdrs["www-authenticate"], 'Basic realm="berth-registry"')
        self.assertEqual(error_codes(body), ["UNAUTHORIZED"])
        self.assertEqual(self.reg.request("GET", "/v2/", headers=basic("alice", "alice-secret"))[0], 200)
        self.assertEqual(self.reg.request("GET", "/v2/", headers=basic("alice", "wrong"))[0], 401)
        self.assertEqual(self.reg.request("GET", "/v2/", headers=basic("mallory", "x"))[0], 401)

    def test_rules(self):
        data = b"team content"
        d = digest_of(data)
        up = "/v2/team/app/blobs/uploads/?digest=" + d
        status, _, body = self.reg.request("POST", up, body=data, headers=basic("alice", "alice-secret"))
        self.assertEqual(status, 201, body)
        # bob may pull team/*, not push: 403 DENIED.
        self.assertEqual(self.reg.request("GET", "/v2/team/app/blobs/" + d,
                                          headers=basic("bob", "bob-secret"))[0], 200)
        status, _, body = self.reg.request("POST", up, body=data, headers=basic("bob", "bob-secret"))
        self.assertEqual(status, 403)
        self.assertEqual(error_codes(body), ["DENIED"])
        # Anonymous: 401 (log in) on team/*, pull on public/*.
        status, hdrs, _ = self.reg.request("GET", "/v2/team/app/blobs/" + d)
        self.assertEqual(status, 401)
        self.assertIn("www-authenticate", hdrs)
        pd = digest_of(b"public")
        self.assertEqual(self.reg.request("POST", "/v2/public/x/blobs/uploads/?digest=" + pd,
                                          body=b"public", headers=basic("bob", "bob-secret"))[0], 201)
        self.assertEqual(self.reg.request("GET", "/v2/public/x/blobs/" + pd)[0], 200)
        self.assertEqual(self.reg.request("DELETE", "/v2/public/x/blobs/" + pd,
                                          headers=basic("bob", "bob-secret"))[0], 403)
        # A mount needs pull on the source: bob cannot mount from a repository he cannot read.
        status, _, _ = self.reg.request(
            "POST", "/v2/public/y/blobs/uploads/?mount=%s&from=private/z" % d,
            headers=basic("bob", "bob-secret"))
        self.assertEqual(status, 403)

    def test_catalog_shows_what_the_user_may_pull(self):
        self.reg.headers = basic("alice", "alice-secret")
        try:
            self.reg.push_image("team/cat", "v1")
        finally:
            self.reg.headers = {}
        self.assertEqual(self.reg.request("GET", "/v2/_catalog")[0], 401)
        status, _, body = self.reg.request("GET", "/v2/_catalog", headers=basic("bob", "bob-secret"))
        self.assertEqual(status, 200)
        self.assertIn("team/cat", json.loads(body)["repositories"])

    def test_search_shows_what_the_user_may_pull(self):
        self.reg.headers = basic("alice", "alice-secret")
        try:
            self.reg.push_image("alice/findme", "v1")
            self.reg.push_image("public/findme", "v1")
        finally:
            self.reg.headers = {}
        self.assertEqual(self.reg.request("GET", "/v1/search?q=findme")[0], 401)
        for user, expected in (("alice", ["alice/findme", "public/findme"]),
                               ("bob", ["public/findme"])):
            status, _, body = self.reg.request("GET", "/v1/search?q=findme",
                                               headers=basic(user, user + "-secret"))
            self.assertEqual(status, 200, body)
            self.assertEqual([r["name"] for r in json.loads(body)["results"]], expected, user)

    def test_credentials_never_logged(self):
        self.reg.request("GET", "/v2/", headers=basic("alice", "alice-secret"))
        time.sleep(0.2)
        log = self.reg.log()
        self.assertIn("user=alice", log)
        self.assertNotIn("alice-secret", log)
        self.assertNotIn(basic("alice", "alice-secret")["Authorization"].split()[1], log)


class Token(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.reg = start("token", token_ttl="2s")

    @classmethod
    def tearDownClass(cls):
        cls.reg.cleanup()

    def token(self, scope, creds=None):
        path = "/token?service=berth-registry&scope=" + scope
        status, _, body = self.reg.request("GET", path, headers=basic(*creds) if creds else {})
        self.assertEqual(status, 200, body)
        answer = json.loads(body)
        self.assertEqual(answer["token"], answer["access_token"])
        self.assertEqual(answer["expires_in"], 2)
        return {"Authorization": "Bearer " + answer["token"]}

    def test_challenge(self):
        status, hdrs, body = self.reg.request("GET", "/v2/")
        self.assertEqual(status, 401)
        self.assertEqual(hdrs["www-authenticate"],
                         'Bearer realm="http://%s/token",service="berth-registry"' % self.reg.address)
        status, hdrs, _ = self.reg.request("GET", "/v2/team/app/manifests/latest")
        self.assertEqual(status, 401)
        self.assertEqual(hdrs["www-authenticate"],
                         'Bearer realm="http://%s/token",service="berth-registry",'
                         'scope="repository:team/app:pull"' % self.reg.address)
        status, hdrs, _ = self.reg.request("POST", "/v2/team/app/blobs/uploads/")
        self.assertIn('scope="repository:team/app:pull,push"', hdrs["www-authenticate"])

    def test_push_and_pull_with_tokens(self):
        auth = self.token("repository:team/tok:pull,push", ("alice", "alice-secret"))
        data = b"token content"
        d = digest_of(data)
        status, _, body = self.reg.request("POST", "/v2/team/tok/blobs/uploads/?digest=" + d,
                                           body=data, headers=auth)
        self.assertEqual(status, 201, body)
        self.assertEqual(self.reg.request("GET", "/v2/team/tok/blobs/" + d, headers=auth)[0], 200)
        # The token covers team/tok only.
        status, hdrs, _ = self.reg.request("GET", "/v2/team/other/blobs/" + d, headers=auth)
        self.assertEqual(status, 401)
        self.assertIn("insufficient_scope", hdrs["www-authenticate"])

    def test_scope_not_granted_is_403(self):
        # bob asks for push on team/*; the token grants pull only; a push is refused with 403.
        auth = self.token("repository:team/tok2:pull,push", ("bob", "bob-secret"))
        status, _, body = self.reg.request("POST", "/v2/team/tok2/blobs/uploads/", headers=auth)
        self.assertEqual(status, 403)
        self.assertEqual(error_codes(body), ["DENIED"])

    def test_anonymous_token(self):
        auth = self.token("repository:public/anon:pull")
        status, _, body = self.reg.request("GET", "/v2/public/anon/tags/list", headers=auth)
        self.assertIn(status, (200, 404))  # allowed through; the repository does not exist
        status, hdrs, _ = self.reg.request("POST", "/v2/public/anon/blobs/uploads/", headers=auth)
        self.assertEqual(status, 401)

    def test_wrong_password_refused(self):
        status, hdrs, body = self.reg.request(
            "GET", "/token?service=berth-registry&scope=repository:team/x:pull",
            headers=basic("alice", "nope"))
        self.assertEqual(status, 401)

    def test_expiry_and_tampering(self):
        auth = self.token("repository:team/exp:pull", ("alice", "alice-secret"))
        self.assertNotEqual(self.reg.request("GET", "/v2/team/exp/tags/list", headers=auth)[0], 401)
        header, payload, signature = auth["Authorization"][7:].split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["access"][0]["actions"] = ["pull", "push", "delete"]
        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        status, hdrs, _ = self.reg.request(
            "GET", "/v2/team/exp/tags/list",
            headers={"Authorization": "Bearer %s.%s.%s" % (header, forged, signature)})
        self.assertEqual(status, 401)
        self.assertIn('error="invalid_token"', hdrs["www-authenticate"])
        time.sleep(3)
        status, hdrs, _ = self.reg.request("GET", "/v2/team/exp/tags/list", headers=auth)
        self.assertEqual(status, 401)
        self.assertIn('error="invalid_token"', hdrs["www-authenticate"])

    def test_skopeo_through_the_token_flow(self):
        if shutil.which("skopeo") is None:
            self.skipTest("skopeo is not installed")
        layout = os.path.join(WORK, "layout")
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
        dest = "docker://%s/team/skopeo:v1" % self.reg.address
        denied = subprocess.run(["skopeo", "copy", "--dest-tls-verify=false",
                                 "--dest-creds", "bob:bob-secret", "oci:%s:v1" % layout, dest],
                                capture_output=True, timeout=120)
        self.assertNotEqual(denied.returncode, 0)
        proc = subprocess.run(["skopeo", "copy", "--preserve-digests", "--dest-tls-verify=false",
                               "--dest-creds", "alice:alice-secret", "oci:%s:v1" % layout, dest],
                              capture_output=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        raw = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false",
                              "--creds", "bob:bob-secret", dest], capture_output=True, timeout=120)
        self.assertEqual(raw.returncode, 0, raw.stderr.decode())
        self.assertEqual(digest_of(raw.stdout), md)


if __name__ == "__main__":
    unittest.main(verbosity=2)
