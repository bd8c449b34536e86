#!/usr/bin/env python3
"""Pull and push through berthd's registry.http transport, all on 127.0.0.1: a two-layer image
made from busybox-static is pushed to berth-registry and to Debian's docker-registry (its own
config, port and root dir), removed, pulled back with every digest the same, and run; a second
push uploads nothing; a corrupted blob fails the pull and leaves no image and no layer; login
with token auth; an OCI index (platform selection) of zstd and uncompressed layers;
registry-mirrors for a registry other than docker.io, falling back to the
origin; a download cut half way resumes with a Range request; the docker CLI through berthd
when it is on PATH; search (berth search, docker search, the Python SDK) against berth-registry's
/v1/search and a clear refusal from docker-registry, which has none.
Needs root (berthd); exits 77 (skip) with the reason when root or a registry is missing."""
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "compat"))
sys.path.insert(0, os.path.join(HERE, "..", "registry"))
import berthd_harness  # noqa: E402
from registry_harness import Registry  # noqa: E402

D = None
REG = None        # berth-registry, no auth
DREG = None       # Debian's docker-registry
WORK = None
IMAGE = "busybox:pushme"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DockerRegistry:
    """Debian's docker-registry with a config of its own on 127.0.0.1."""

    def __init__(self, work):
        self.root = os.path.join(work, "docker-registry")
        os.makedirs(self.root)
        self.port = free_port()
        config = os.path.join(work, "docker-registry.yml")
        with open(config, "w") as f:
            f.write("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
                    f"    rootdirectory: {self.root}\n  delete:\n    enabled: true\n"
                    f"http:\n  addr: 127.0.0.1:{self.port}\n")
        self.log = open(os.path.join(work, "docker-registry.log"), "wb")
        self.proc = subprocess.Popen(["docker-registry", "serve", config], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://{self.address}/v2/", timeout=1).read()
                return
            except Exception:
                time.sleep(0.1)
        raise RuntimeError("docker-registry did not start")

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def blob_path(self, digest):
        hexd = digest.split(":")[1]
        return os.path.join(self.root, "docker/registry/v2/blobs/sha256", hexd[:2], hexd, "data")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


def setUpModule():
    global D, REG, DREG, WORK
    binary = os.environ.get("BERTH_REGISTRY_BIN") or os.path.join(berthd_harness.BUILD, "bin", "berth-registry")
    plugin = os.path.join(berthd_harness.BUILD, "lib", "berth", "plugins", "berth-registry-http.so")
    if not os.path.exists(plugin):
        berthd_harness.skip("berth-registry-http.so is not built")
    if not os.path.exists(binary):
        berthd_harness.skip("berth-registry is not built")
    WORK = tempfile.mkdtemp(prefix="berth-distribution-")
    D = berthd_harness.Berthd()
    REG = Registry(binary).start()
    if shutil.which("docker-registry"):
        DREG = DockerRegistry(WORK)
    # Two layers: the busybox rootfs and a file added by a container, committed.
    D.berth("import", "-c", 'CMD ["sh"]', D.tar, "busybox:local")
    D.berth("run", "--name", "layer2", "busybox:local", "sh", "-c", "echo pushed-and-pulled > /hello")
    D.berth("commit", "layer2", IMAGE)
    D.berth("rm", "layer2")


def tearDownModule():
    if D:
        D.stop()
    if REG:
        REG.cleanup()
    if DREG:
        DREG.stop()
    if WORK:
        shutil.rmtree(WORK, ignore_errors=True)


def inspect(name):
    return json.loads(D.berth("image", "inspect", name).stdout)[0]


def remove_every_image():
    ids = D.berth("images", "-aq").stdout.split()
    if ids:
        D.berth("rmi", "-f", *sorted(set(ids)))


def stored_layers():
    out = []
    for root, _, files in os.walk(os.path.join(D.root, "data", "image")):
        if os.path.basename(root) == "layers":
            out += [f for f in files if f.endswith(".json")]
    return out


def manifest_digest(out):
    m = re.search(r"digest: (sha256:[0-9a-f]{64}) size: \d+", out)
    assert m, out
    return m.group(1)


class PullPush(unittest.TestCase):
    def round_trip(self, registry, repo):
        ref = f"{registry}/{repo}:v1"
        D.berth("tag", IMAGE, ref)
        first = D.berth("push", ref).stdout
        # Uploaded, or mounted from a repository an earlier test pushed the same layers to.
        self.assertTrue("Pushed" in first or "Mounted from" in first, first)
        digest = manifest_digest(first)
        # A second push uploads nothing and gives the same manifest digest.
        second = D.berth("push", ref).stdout
        self.assertNotIn("Pushed", second)
        self.assertIn("Layer already exists", second)
        self.assertEqual(manifest_digest(second), digest)
        layers = inspect(ref)["RootFS"]["Layers"]
        image_id = inspect(ref)["Id"]
        D.berth("rmi", ref)
        pulled = D.berth("pull", ref).stdout
        self.assertIn("Digest: " + digest, pulled)
        self.assertIn("Status: Downloaded newer image for " + ref, pulled)
        info = inspect(ref)
        self.assertEqual(info["Id"], image_id)
        self.assertEqual(info["RootFS"]["Layers"], layers)
        self.assertIn(f"{registry}/{repo}@{digest}", info["RepoDigests"])
        again = D.berth("pull", ref).stdout
        self.assertIn("Status: Image is up to date for " + ref, again)
        # By digest too.
        D.berth("pull", f"{registry}/{repo}@{digest}")
        out = D.berth("run", "--rm", ref, "cat", "/hello").stdout
        self.assertEqual(out.strip(), "pushed-and-pulled")
        return digest

    def test_berth_registry_round_trip(self):
        self.round_trip(REG.address, "berth/bb")

    def test_docker_registry_round_trip(self):
        if DREG is None:
            self.skipTest("docker-registry is not installed")
        self.round_trip(DREG.address, "berth/bb")

    def test_fresh_pull_of_every_layer(self):
        # Nothing of the image stored: every layer comes over the wire, applied as it arrives.
        ref = f"{REG.address}/berth/fresh:v1"
        D.berth("tag", IMAGE, ref)
        D.berth("push", ref)
        before = set(inspect(ref)["RootFS"]["Layers"])
        remove_every_image()
        self.assertEqual(stored_layers(), [])
        out = D.berth("pull", ref).stdout
        self.assertIn("Pull complete", out)
        self.assertEqual(set(inspect(ref)["RootFS"]["Layers"]), before)
        # Put the local names back for the other tests.
        D.berth("tag", ref, IMAGE)

    def test_build_from_pulls_a_missing_image(self):
        # docker build pulls a FROM image it does not have; so does berthd's builder.
        ref = f"{REG.address}/berth/base:v1"
        D.berth("tag", IMAGE, ref)
        D.berth("push", ref)
        D.berth("rmi", ref)
        dockerfile = f"FROM {ref}\nRUN cp /hello /copied\n"
        out = D.berth("build", "-t", "built-from-pull:v1", "-", input=dockerfile).stdout
        self.assertIn(f"Status: Downloaded newer image for {ref}", out)
        self.assertEqual(D.berth("run", "--rm", "built-from-pull:v1", "cat", "/copied").stdout,
                         "pushed-and-pulled\n")
        missing = D.berth("build", "-", input=f"FROM {REG.address}/berth/none:v1\n", check=False)
        self.assertNotEqual(missing.returncode, 0)
        self.assertIn("FROM " + REG.address + "/berth/none:v1", missing.stderr + missing.stdout)
        D.berth("rmi", "built-from-pull:v1", ref)

    def test_corrupted_blob_fails_cleanly(self):
        if DREG is None:
            self.skipTest("docker-registry is not installed")
        ref = f"{DREG.address}/berth/corrupt:v1"
        D.berth("tag", IMAGE, ref)
        out = D.berth("push", ref).stdout
        digest = manifest_digest(out)
        with urllib.request.urlopen(urllib.request.Request(
                f"http://{DREG.address}/v2/berth/corrupt/manifests/v1",
                headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"})) as r:
            manifest = json.loads(r.read())
        top = manifest["layers"][-1]["digest"]
        remove_every_image()
        # The same size, other bytes.
        path = DREG.blob_path(top)
        with open(path, "r+b") as f:
            data = bytearray(f.read())
            data[len(data) // 2] ^= 0xFF
            f.seek(0)
            f.write(data)
        r = D.berth("pull", ref, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(top, r.stderr + r.stdout)
        self.assertEqual(D.berth("images", "-aq").stdout.split(), [])
        self.assertEqual(stored_layers(), [], "a failed pull left layers behind")
        self.assertNotEqual(D.berth("image", "inspect", ref, check=False).returncode, 0)
        downloads = os.path.join(D.root, "data", "image", "downloads")
        self.assertEqual(os.listdir(downloads) if os.path.isdir(downloads) else [], [])
        # Restore the blob and the image for the other tests.
        with open(path, "r+b") as f:
            data[len(data) // 2] ^= 0xFF
            f.seek(0)
            f.write(data)
        D.berth("pull", ref)
        D.berth("tag", ref, IMAGE)
        self.assertTrue(digest)

    def test_unknown_tag_and_registry(self):
        r = D.berth("pull", f"{REG.address}/berth/none:nope", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not found", r.stderr)
        port = free_port()
        r = D.berth("pull", f"127.0.0.1:{port}/berth/none:v1", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(f"127.0.0.1:{port}", r.stderr)

    def test_docker_cli_through_berthd(self):
        if not shutil.which("docker"):
            self.skipTest("docker CLI is not installed")
        ref = f"{REG.address}/berth/docker-cli:v1"
        env = dict(os.environ, DOCKER_CONFIG=os.path.join(WORK, "docker-config"), DOCKER_HOST=D.host)
        D.berth("tag", IMAGE, ref)
        push = subprocess.run(["docker", "push", ref], capture_output=True, text=True, env=env, timeout=300)
        self.assertEqual(push.returncode, 0, push.stderr)
        digest = manifest_digest(push.stdout)
        D.berth("rmi", ref)
        pull = subprocess.run(["docker", "pull", ref], capture_output=True, text=True, env=env, timeout=300)
        self.assertEqual(pull.returncode, 0, pull.stderr)
        self.assertIn("Digest: " + digest, pull.stdout)

    def test_login_with_token_auth(self):
        if not shutil.which("htpasswd"):
            self.skipTest("htpasswd (apache2-utils) is not installed")
        htpasswd = os.path.join(WORK, "htpasswd")
        subprocess.run(["htpasswd", "-B", "-b", "-c", htpasswd, "alice", "alice-secret"],
                       check=True, capture_output=True)
        config = os.path.join(WORK, "auth.json")
        with open(config, "w") as f:
            json.dump({"auth": {"mode": "token", "htpasswd": htpasswd}}, f)
        binary = REG.binary
        auth = Registry(binary, ["--config", config]).start()
        try:
            ref = f"{auth.address}/alice/bb:v1"
            D.berth("tag", IMAGE, ref)
            cfg = os.path.join(WORK, "berth-config")
            os.makedirs(cfg, exist_ok=True)
            env = ["--config", cfg]
            r = D.berth("push", ref, check=False)
            self.assertNotEqual(r.returncode, 0)
            r = D.berth(*env, "login", "-u", "alice", "--password-stdin", auth.address,
                        input="bad-pass-7q\n", check=False)
            self.assertNotEqual(r.returncode, 0)
            self.assertNotIn("bad-pass-7q", r.stderr + r.stdout)
            self.assertIn("unauthorized", r.stderr)
            r = D.berth(*env, "login", "-u", "alice", "--password-stdin", auth.address,
                        input="alice-secret\n")
            self.assertIn("Login Succeeded", r.stdout)
            with open(os.path.join(cfg, "config.json")) as f:
                stored = json.load(f)["auths"][auth.address]["auth"]
            self.assertEqual(stored, "YWxpY2U6YWxpY2Utc2VjcmV0")  # base64("alice:alice-secret")
            out = D.berth(*env, "push", ref).stdout
            digest = manifest_digest(out)
            D.berth("rmi", ref)
            out = D.berth(*env, "pull", ref).stdout
            self.assertIn("Digest: " + digest, out)
            # Search with the stored login: the token carries the catalog's scope.
            found = D.berth(*env, "search", "--format", "{{.Name}}", f"{auth.address}/alice").stdout
            self.assertEqual(found.split(), ["alice/bb"])
            with open(D.log_path) as f:
                self.assertNotIn("alice-secret", f.read())
            D.berth(*env, "logout", auth.address)
            r = D.berth(*env, "pull", ref.replace(":v1", ":v2"), check=False)
            self.assertNotEqual(r.returncode, 0)
        finally:
            auth.cleanup()


class Search(unittest.TestCase):
    """docker search: GET /images/search through the transport to a registry's /v1/search."""

    @classmethod
    def setUpClass(cls):
        for repo in ("find/alpha-tool", "find/beta-tool", "find/other"):
            REG.push_image(repo, "v1")

    def test_berth_search_shows_a_table_and_honours_limit_format_and_filters(self):
        out = D.berth("search", f"{REG.address}/tool").stdout.splitlines()
        self.assertEqual(out[0].split(), ["NAME", "DESCRIPTION", "STARS", "OFFICIAL"])
        self.assertEqual([line.split()[0] for line in out[1:]], ["find/alpha-tool", "find/beta-tool"])
        self.assertEqual([line.split()[1] for line in out[1:]], ["0", "0"])  # no stars kept
        names = D.berth("search", "--format", "{{.Name}}", "--limit", "1", f"{REG.address}/find/").stdout
        self.assertEqual(names.split(), ["find/alpha-tool"])
        stars = D.berth("search", "--format", "{{.Name}}", "-f", "stars=1", f"{REG.address}/tool")
        self.assertEqual(stars.stdout, "")
        unofficial = D.berth("search", "--format", "{{.Name}}", "-f", "is-official=false",
                             f"{REG.address}/other")
        self.assertEqual(unofficial.stdout.split(), ["find/other"])
        bad = D.berth("search", "-f", "color=blue", f"{REG.address}/tool", check=False)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("invalid filter 'color'", bad.stderr)
        over = D.berth("search", "--limit", "101", f"{REG.address}/tool", check=False)
        self.assertNotEqual(over.returncode, 0)
        self.assertIn("limit 101 is outside the range of [1, 100]", over.stderr)

    def test_a_registry_without_search_says_so(self):
        if DREG is None:
            self.skipTest("docker-registry is not installed")
        r = D.berth("search", f"{DREG.address}/anything", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("search is not supported by this registry", r.stderr)
        self.assertIn(DREG.address, r.stderr)

    def test_docker_cli_and_python_sdk_search_through_berthd(self):
        if shutil.which("docker"):
            env = dict(os.environ, DOCKER_CONFIG=os.path.join(WORK, "docker-config"), DOCKER_HOST=D.host)
            r = subprocess.run(["docker", "search", "--format", "{{.Name}} {{.StarCount}}",
                                f"{REG.address}/tool"], capture_output=True, text=True, env=env, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.splitlines(), ["find/alpha-tool 0", "find/beta-tool 0"])
        else:
            print("docker CLI is not installed: only the Python SDK searches", file=sys.stderr)
        try:
            import docker
        except ImportError:
            self.skipTest("python3-docker is not installed")
        client = docker.DockerClient(base_url=D.host)
        try:
            found = client.images.search(f"{REG.address}/other")
        finally:
            client.close()
        self.assertEqual(found, [{"star_count": 0, "is_official": False, "name": "find/other",
                                  "is_automated": False, "description": ""}])


def host_arch():
    import platform
    m = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(m, m)


def layer_tar(name, content):
    import io
    import tarfile
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(content), 1700000000, 0o644
        t.addfile(info, io.BytesIO(content))
    return buf.getvalue()


class OciIndexAndZstd(unittest.TestCase):
    def test_multi_platform_index_with_zstd_and_plain_layers(self):
        if not shutil.which("zstd"):
            self.skipTest("zstd is not installed")
        repo = "berth/multi"
        with open(D.tar, "rb") as f:
            base = f.read()  # an uncompressed layer
        top = layer_tar("zstd-file.txt", b"from-zstd\n")
        top_zstd = subprocess.run(["zstd", "-q", "-c"], input=top, capture_output=True, check=True).stdout

        def image(arch, layers):
            config = json.dumps({"architecture": arch, "os": "linux", "config": {"Cmd": ["sh"]},
                                 "rootfs": {"type": "layers", "diff_ids": [
                                     "sha256:" + hashlib.sha256(plain).hexdigest() for plain, _, _ in layers]}}).encode()
            manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                   "digest": REG.push_blob(repo, config), "size": len(config)},
                        "layers": [{"mediaType": media, "digest": REG.push_blob(repo, blob), "size": len(blob)}
                                   for _, blob, media in layers]}
            raw = json.dumps(manifest).encode()
            status, _, body, digest = REG.push_manifest(repo, "sha256:" + hashlib.sha256(raw).hexdigest(), raw)
            self.assertEqual(status, 201, body)
            return digest, len(raw)

        native = image(host_arch(), [(base, base, "application/vnd.oci.image.layer.v1.tar"),
                                     (top, top_zstd, "application/vnd.oci.image.layer.v1.tar+zstd")])
        other_arch = "arm64" if host_arch() != "arm64" else "amd64"
        other = image(other_arch, [(top, top_zstd, "application/vnd.oci.image.layer.v1.tar+zstd")])
        index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                 "manifests": [
                     {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": other[0],
                      "size": other[1], "platform": {"os": "linux", "architecture": other_arch}},
                     {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": native[0],
                      "size": native[1], "platform": {"os": "linux", "architecture": host_arch()}}]}
        status, _, body, index_digest = REG.push_manifest(
            repo, "v1", index, media_type="application/vnd.oci.image.index.v1+json")
        self.assertEqual(status, 201, body)
        ref = f"{REG.address}/{repo}:v1"
        out = D.berth("pull", ref).stdout
        self.assertIn("Digest: " + index_digest, out)
        self.assertEqual(inspect(ref)["Architecture"], host_arch())
        self.assertEqual(D.berth("run", "--rm", ref, "cat", "/zstd-file.txt").stdout, "from-zstd\n")
        D.berth("rmi", ref)
        D.berth("pull", "--platform", "linux/" + other_arch, ref)
        self.assertEqual(inspect(ref)["Architecture"], other_arch)
        D.berth("rmi", ref)
        r = D.berth("pull", "--platform", "linux/s390x", ref, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("linux/s390x", r.stderr)


class CuttingProxy:
    """Forwards GET/HEAD to berth-registry; the first GET of a blob larger than 64 KiB is cut
    off half way (the connection closed), as a network drop would. With page_tags=N, a tag list
    asked without ?n= is asked with ?n=N, so the registry pages it as Quay or Harbor do."""

    def __init__(self, upstream, cut_blobs=True, page_tags=0):
        import http.client
        import http.server
        import threading
        proxy = self
        self.ranges = []
        self.cut = set()
        self.tag_pages = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def forward(self):
                conn = http.client.HTTPConnection("127.0.0.1", upstream.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                if "Range" in self.headers:
                    proxy.ranges.append(self.headers["Range"])
                path = self.path
                if page_tags and path.split("?")[0].endswith("/tags/list"):
                    proxy.tag_pages += 1
                    if "n=" not in path:
                        path += ("&" if "?" in path else "?") + "n=%d" % page_tags
                conn.request(self.command, path, headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                conn.close()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("connection", "transfer-encoding", "date", "server"):
                        self.send_header(k, v)
                self.end_headers()
                if self.command == "HEAD":
                    return
                if cut_blobs and "/blobs/" in self.path and len(body) > 65536 and self.path not in proxy.cut:
                    proxy.cut.add(self.path)
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.wfile.write(body)

            do_GET = forward
            do_HEAD = forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class PagedTags(unittest.TestCase):
    def test_pull_all_tags_follows_every_page(self):
        repo = f"{REG.address}/berth/paged"
        for tag in ("t1", "t2", "t3", "t4", "t5"):
            D.berth("tag", IMAGE, f"{repo}:{tag}")
        D.berth("push", "-a", "-q", repo)
        proxy = CuttingProxy(REG, cut_blobs=False, page_tags=2)
        via = f"127.0.0.1:{proxy.port}/berth/paged"
        try:
            D.berth("pull", "-a", "-q", via)
            rows = D.berth("images", "--format", "{{.Repository}} {{.Tag}}").stdout.splitlines()
            tags = [row.split()[1] for row in rows if row.split()[0] == via]
            self.assertEqual(sorted(tags), ["t1", "t2", "t3", "t4", "t5"])
            self.assertGreaterEqual(proxy.tag_pages, 3)  # 2 + 2 + 1 tags
        finally:
            proxy.stop()
            D.berth("rmi", *[f"{via}:{t}" for t in ("t1", "t2", "t3", "t4", "t5")], check=False)
            D.berth("rmi", *[f"{repo}:{t}" for t in ("t1", "t2", "t3", "t4", "t5")], check=False)


class Resume(unittest.TestCase):
    def test_dropped_download_resumes_with_range(self):
        ref = f"{REG.address}/berth/resume:v1"
        D.berth("tag", IMAGE, ref)
        digest = manifest_digest(D.berth("push", ref).stdout)
        remove_every_image()
        proxy = CuttingProxy(REG)
        try:
            out = D.berth("pull", f"127.0.0.1:{proxy.port}/berth/resume:v1").stdout
            self.assertIn("Digest: " + digest, out)
            self.assertTrue(proxy.cut, "no blob was cut")
            self.assertTrue(any(r.startswith("bytes=") and r != "bytes=0-" for r in proxy.ranges), proxy.ranges)
            D.berth("tag", f"127.0.0.1:{proxy.port}/berth/resume:v1", IMAGE)
        finally:
            proxy.stop()


class Mirrors(unittest.TestCase):
    def test_mirror_first_then_origin(self):
        # A second berthd whose registry-mirrors give a registry nobody serves (dead) a mirror
        # (berth-registry), and berth-registry a mirror nobody serves.
        dead, dead_mirror = free_port(), free_port()
        ref = f"{REG.address}/berth/mirrored:v1"
        D.berth("tag", IMAGE, ref)
        digest = manifest_digest(D.berth("push", ref).stdout)
        mirrors = [f"127.0.0.1:{dead}=http://{REG.address}",
                   f"{REG.address}=http://127.0.0.1:{dead_mirror}"]
        d2 = berthd_harness.Berthd(extra_config={"registry-mirrors": mirrors})
        try:
            # Served by the mirror alone: the origin does not exist.
            out = d2.berth("pull", f"127.0.0.1:{dead}/berth/mirrored:v1").stdout
            self.assertIn("Digest: " + digest, out)
            # The mirror is down: the origin serves it.
            out = d2.berth("pull", ref).stdout
            self.assertIn("Digest: " + digest, out)
        finally:
            d2.stop()


def registry_bytes(registry, which):
    """berth-registry's berth_registry_{received,sent}_bytes_total from /metrics."""
    status, _, body = registry.request("GET", "/metrics")
    assert status == 200, status
    m = re.search(r"^berth_registry_%s_bytes_total (\d+)$" % which, body.decode(), re.M)
    assert m, body
    return int(m.group(1))


class MountConcurrencyBasicAuth(unittest.TestCase):
    def test_cross_repository_mount(self):
        # Pushed to repository a, then to b of the same registry: b mounts every layer from a
        # (POST ?mount=&from=), nothing compressed or uploaded but the config.
        a, b = f"{REG.address}/berth/mount-a:v1", f"{REG.address}/berth/mount-b:v1"
        D.berth("tag", IMAGE, a)
        D.berth("tag", IMAGE, b)
        D.berth("push", a)
        before = registry_bytes(REG, "received")
        out = D.berth("push", b).stdout
        received = registry_bytes(REG, "received") - before
        layers = len(inspect(b)["RootFS"]["Layers"])
        self.assertEqual(out.count("Mounted from berth/mount-a"), layers, out)
        self.assertNotIn("Pushed", out)
        # The config (a few KiB) and the manifest are all that went over the wire.
        self.assertLess(received, 64 * 1024)
        status, _, _ = REG.request("HEAD", "/v2/berth/mount-b/manifests/v1")
        self.assertEqual(status, 200)
        D.berth("rmi", a, b)

    def test_concurrent_pulls_of_one_image(self):
        ref = f"{REG.address}/berth/concurrent:v1"
        D.berth("tag", IMAGE, ref)
        D.berth("push", ref)
        layers = inspect(ref)["RootFS"]["Layers"]
        remove_every_image()
        before = registry_bytes(REG, "sent")
        D.berth("pull", ref)
        one_pull = registry_bytes(REG, "sent") - before
        remove_every_image()
        self.assertEqual(stored_layers(), [])
        before = registry_bytes(REG, "sent")
        cli = [os.path.join(berthd_harness.BUILD, "bin", "berth"), "-H", D.host, "pull", ref]
        pulls = [subprocess.Popen(cli, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
        results = [p.communicate(timeout=300) + (p.returncode,) for p in pulls]
        both = registry_bytes(REG, "sent") - before
        for out, err, rc in results:
            self.assertEqual(rc, 0, err)
            self.assertIn("Digest: ", out)
        self.assertEqual(inspect(ref)["RootFS"]["Layers"], layers)
        # Each layer stored once, and downloaded once: two pulls cost one pull's bytes (plus
        # the second manifest and config).
        self.assertEqual(len(stored_layers()), len(layers), stored_layers())
        self.assertLess(both, one_pull * 1.5, (both, one_pull))
        D.berth("tag", ref, IMAGE)
        D.berth("rmi", ref)

    def test_push_and_pull_with_basic_auth(self):
        if not shutil.which("htpasswd"):
            self.skipTest("htpasswd (apache2-utils) is not installed")
        htpasswd = os.path.join(WORK, "htpasswd-basic")
        subprocess.run(["htpasswd", "-B", "-b", "-c", htpasswd, "bob", "bob-secret"],
                       check=True, capture_output=True)
        config = os.path.join(WORK, "basic.json")
        with open(config, "w") as f:
            json.dump({"auth": {"mode": "basic", "htpasswd": htpasswd}}, f)
        auth = Registry(REG.binary, ["--config", config]).start()
        try:
            ref = f"{auth.address}/bob/bb:v1"
            D.berth("tag", IMAGE, ref)
            cfg = os.path.join(WORK, "berth-config-basic")
            os.makedirs(cfg, exist_ok=True)
            env = ["--config", cfg]
            r = D.berth(*env, "push", ref, check=False)
            self.assertNotEqual(r.returncode, 0)
            r = D.berth(*env, "login", "-u", "bob", "--password-stdin", auth.address,
                        input="wrong-pass-3x\n", check=False)
            self.assertNotEqual(r.returncode, 0)
            self.assertNotIn("wrong-pass-3x", r.stderr + r.stdout)
            r = D.berth(*env, "login", "-u", "bob", "--password-stdin", auth.address,
                        input="bob-secret\n")
            self.assertIn("Login Succeeded", r.stdout)
            digest = manifest_digest(D.berth(*env, "push", ref).stdout)
            D.berth("rmi", ref)
            self.assertIn("Digest: " + digest, D.berth(*env, "pull", ref).stdout)
            with open(D.log_path) as f:
                self.assertNotIn("bob-secret", f.read())
            D.berth(*env, "logout", auth.address)
            D.berth("rmi", ref)
            r = D.berth(*env, "pull", ref, check=False)
            self.assertNotEqual(r.returncode, 0)
        finally:
            auth.cleanup()


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() else 1)
