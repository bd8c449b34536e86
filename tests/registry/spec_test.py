#!/usr/bin/env python3
"""The OCI Distribution Spec v1.1 suite against a real berth-registry, organised like the OCI
conformance suite: pull, push, content discovery, content management. Raw HTTP only."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from registry_harness import Registry, digest_of, error_codes, find_binary  # noqa: E402

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"

REG = None


def setUpModule():
    global REG
    REG = Registry(find_binary()).start()


def tearDownModule():
    REG.cleanup()


class Pull(unittest.TestCase):
    def test_base_endpoint(self):
        status, hdrs, body = REG.request("GET", "/v2/")
        self.assertEqual(status, 200)
        self.assertEqual(hdrs["docker-distribution-api-version"], "registry/2.0")

    def test_manifest_by_tag_and_digest(self):
        d, manifest = REG.push_image("pull/a", "v1")
        raw = json.dumps(manifest).encode()
        for ref in ("v1", d):
            status, hdrs, body = REG.request("GET", "/v2/pull/a/manifests/" + ref,
                                             headers={"Accept": OCI_MANIFEST})
            self.assertEqual(status, 200, body)
            self.assertEqual(body, raw)
            self.assertEqual(hdrs["content-type"], OCI_MANIFEST)
            self.assertEqual(hdrs["docker-content-digest"], d)
            status, hdrs, body = REG.request("HEAD", "/v2/pull/a/manifests/" + ref)
            self.assertEqual(status, 200)
            self.assertEqual(body, b"")
            self.assertEqual(int(hdrs["content-length"]), len(raw))
            self.assertEqual(hdrs["docker-content-digest"], d)

    def test_blob_get_and_head(self):
        data = os.urandom(100000)
        d = REG.push_blob("pull/b", data)
        status, hdrs, body = REG.request("GET", "/v2/pull/b/blobs/" + d)
        self.assertEqual(status, 200)
        self.assertEqual(body, data)
        self.assertEqual(hdrs["docker-content-digest"], d)
        status, hdrs, body = REG.request("HEAD", "/v2/pull/b/blobs/" + d)
        self.assertEqual((status, body), (200, b""))
        self.assertEqual(int(hdrs["content-length"]), len(data))

    def test_range_reads(self):
        data = bytes(range(256)) * 40
        d = REG.push_blob("pull/range", data)
        path = "/v2/pull/range/blobs/" + d
        status, hdrs, body = REG.request("GET", path, headers={"Range": "bytes=10-19"})
        self.assertEqual((status, body), (206, data[10:20]))
        self.assertEqual(hdrs["content-range"], "bytes 10-19/%d" % len(data))
        status, hdrs, body = REG.request("GET", path, headers={"Range": "bytes=10000-"})
        self.assertEqual((status, body), (206, data[10000:]))
        status, hdrs, body = REG.request("GET", path, headers={"Range": "bytes=-5"})
        self.assertEqual((status, body), (206, data[-5:]))
        status, hdrs, body = REG.request("GET", path, headers={"Range": "bytes=0-999999"})
        self.assertEqual((status, body), (206, data))
        status, hdrs, body = REG.request("GET", path, headers={"Range": "bytes=%d-" % len(data)})
        self.assertEqual(status, 416)
        self.assertEqual(hdrs["content-range"], "bytes */%d" % len(data))

    def test_unknown_blob_and_manifest(self):
        REG.push_blob("pull/c", b"x")
        status, _, body = REG.request("GET", "/v2/pull/c/blobs/" + digest_of(b"nothing"))
        self.assertEqual(status, 404)
        self.assertEqual(error_codes(body), ["BLOB_UNKNOWN"])
        status, _, body = REG.request("GET", "/v2/pull/c/manifests/nope")
        self.assertEqual(status, 404)
        self.assertEqual(error_codes(body), ["MANIFEST_UNKNOWN"])
        status, _, body = REG.request("GET", "/v2/never/pushed/manifests/latest")
        self.assertEqual(status, 404)
        self.assertIn(error_codes(body)[0], ("NAME_UNKNOWN", "MANIFEST_UNKNOWN"))

    def test_blob_of_another_repository_is_not_served(self):
        d = REG.push_blob("pull/owner", b"private content")
        REG.push_blob("pull/other", b"something")
        status, _, body = REG.request("GET", "/v2/pull/other/blobs/" + d)
        self.assertEqual(status, 404)

    def test_invalid_names_and_digests(self):
        status, _, body = REG.request("GET", "/v2/UPPER/manifests/latest")
        self.assertEqual(status, 400)
        self.assertEqual(error_codes(body), ["NAME_INVALID"])
        status, _, body = REG.request("GET", "/v2/a/blobs/sha256:1234")
        self.assertEqual(status, 400)
        self.assertEqual(error_codes(body), ["DIGEST_INVALID"])

    def test_sha512_blob(self):
        data = b"sha512 content"
        d = REG.push_blob("pull/sha512", data, algorithm="sha512")
        self.assertTrue(d.startswith("sha512:"))
        status, hdrs, body = REG.request("GET", "/v2/pull/sha512/blobs/" + d)
        self.assertEqual((status, body), (200, data))


class Push(unittest.TestCase):
    def start_upload(self, repo):
        status, hdrs, _ = REG.request("POST", "/v2/%s/blobs/uploads/" % repo)
        self.assertEqual(status, 202)
        self.assertIn("docker-upload-uuid", hdrs)
        return hdrs["location"]

    def test_post_then_put(self):
        loc = self.start_upload("push/a")
        data = b"post then put"
        d = digest_of(data)
        status, hdrs, body = REG.request("PUT", loc + "?digest=" + d, body=data)
        self.assertEqual(status, 201, body)
        self.assertEqual(hdrs["location"], "/v2/push/a/blobs/" + d)
        self.assertEqual(hdrs["docker-content-digest"], d)
        self.assertEqual(REG.request("GET", "/v2/push/a/blobs/" + d)[2], data)

    def test_chunked_upload_with_status_and_resume(self):
        loc = self.start_upload("push/chunked")
        data = os.urandom(300000)
        chunks = [data[:100000], data[100000:200000], data[200000:]]
        offset = 0
        for chunk in chunks[:2]:
            status, hdrs, body = REG.request(
                "PATCH", loc, body=chunk,
                headers={"Content-Range": "%d-%d" % (offset, offset + len(chunk) - 1),
                         "Content-Type": "application/octet-stream"})
            self.assertEqual(status, 202, body)
            offset += len(chunk)
            self.assertEqual(hdrs["range"], "0-%d" % (offset - 1))
            loc = hdrs["location"]
        # Status of the upload: where to resume.
        status, hdrs, _ = REG.request("GET", loc)
        self.assertEqual(status, 204)
        self.assertEqual(hdrs["range"], "0-%d" % (offset - 1))
        d = digest_of(data)
        status, hdrs, body = REG.request(
            "PUT", loc + "?digest=" + d, body=chunks[2],
            headers={"Content-Range": "%d-%d" % (offset, len(data) - 1)})
        self.assertEqual(status, 201, body)
        self.assertEqual(REG.request("GET", "/v2/push/chunked/blobs/" + d)[2], data)

    def test_out_of_order_chunk_is_416(self):
        loc = self.start_upload("push/order")
        status, hdrs, _ = REG.request("PATCH", loc, body=b"abcd", headers={"Content-Range": "0-3"})
        self.assertEqual(status, 202)
        status, hdrs, body = REG.request("PATCH", hdrs["location"], body=b"ijkl",
                                         headers={"Content-Range": "8-11"})
        self.assertEqual(status, 416)
        self.assertEqual(hdrs["range"], "0-3")
        # The upload is still usable from where it really ends.
        status, hdrs, _ = REG.request("PATCH", loc, body=b"efgh", headers={"Content-Range": "4-7"})
        self.assertEqual(status, 202)
        d = digest_of(b"abcdefgh")
        status, _, body = REG.request("PUT", loc + "?digest=" + d)
        self.assertEqual(status, 201, body)

    def test_wrong_digest_is_refused_and_not_visible(self):
        loc = self.start_upload("push/wrong")
        data = b"real content"
        wrong = digest_of(b"other content")
        status, _, body = REG.request("PUT", loc + "?digest=" + wrong, body=data)
        self.assertEqual(status, 400)
        self.assertEqual(error_codes(body), ["DIGEST_INVALID"])
        self.assertEqual(REG.request("HEAD", "/v2/push/wrong/blobs/" + wrong)[0], 404)
        self.assertEqual(REG.request("HEAD", "/v2/push/wrong/blobs/" + digest_of(data))[0], 404)
        # Monolithic too.
        status, _, body = REG.request("POST", "/v2/push/wrong/blobs/uploads/?digest=" + wrong,
                                      body=data)
        self.assertEqual(status, 400)
        self.assertEqual(error_codes(body), ["DIGEST_INVALID"])

    def test_missing_digest_on_close(self):
        loc = self.start_upload("push/nodigest")
        status, _, body = REG.request("PUT", loc, body=b"x")
        self.assertEqual(status, 400)
        self.assertEqual(error_codes(body), ["DIGEST_INVALID"])

    def test_wrong_size(self):
        loc = self.start_upload("push/size")
        # Content-Range announces 10 bytes, the body has 4.
        status, _, body = REG.request("PATCH", loc, body=b"abcd", headers={"Content-Range": "0-9"})
        self.assertEqual(status, 400)
        self.assertEqual(error_codes(body), ["SIZE_INVALID"])

    def test_cancel_upload(self):
        loc = self.start_upload("push/cancel")
        REG.request("PATCH", loc, body=b"abc")
        status, _, _ = REG.request("DELETE", loc)
        self.assertEqual(status, 204)
        status, _, body = REG.request("GET", loc)
        self.assertEqual(status, 404)
        self.assertEqual(error_codes(body), ["BLOB_UPLOAD_UNKNOWN"])
        status, _, body = REG.request("PATCH", loc, body=b"more")
        self.assertEqual(status, 404)
        self.assertEqual(error_codes(body), ["BLOB_UPLOAD_UNKNOWN"])

    def test_upload_of_another_repository_is_unknown(self):
        loc = self.start_upload("push/mine")
        other = loc.replace("/push/mine/", "/push/theirs/")
        status, _, body = REG.request("GET", other)
        self.assertEqual(status, 404)
        self.assertEqual(error_codes(body), ["BLOB_UPLOAD_UNKNOWN"])

    def test_cross_repository_mount(self):
        data = b"mount me"
        d = REG.push_blob("push/source", data)
        status, hdrs, _ = REG.request(
            "POST", "/v2/push/target/blobs/uploads/?mount=%s&from=push/source" % d)
        self.assertEqual(status, 201)
        self.assertEqual(hdrs["location"], "/v2/push/target/blobs/" + d)
        self.assertEqual(REG.request("GET", "/v2/push/target/blobs/" + d)[2], data)
        # From a repository without the blob: an upload session instead.
        other = digest_of(b"not there")
        status, hdrs, _ = REG.request(
            "POST", "/v2/push/target/blobs/uploads/?mount=%s&from=push/source" % other)
        self.assertEqual(status, 202)
        self.assertIn("/blobs/uploads/", hdrs["location"])

    def test_mount_without_from(self):
        data = b"mount without from"
        d = REG.push_blob("push/anywhere", data)
        status, hdrs, _ = REG.request("POST", "/v2/push/mounted/blobs/uploads/?mount=" + d)
        self.assertEqual(status, 201)
        self.assertEqual(REG.request("GET", "/v2/push/mounted/blobs/" + d)[2], data)

    def test_manifest_push_headers(self):
        d, _ = REG.push_image("push/m", "v1")
        status, hdrs, _ = REG.request("HEAD", "/v2/push/m/manifests/v1")
        self.assertEqual(status, 200)
        status, hdrs, body, d2 = REG.push_manifest(
            "push/m", "v2", REG.request("GET", "/v2/push/m/manifests/v1")[2])
        self.assertEqual(status, 201)
        self.assertEqual(hdrs["location"], "/v2/push/m/manifests/" + d)
        self.assertEqual(hdrs["docker-content-digest"], d)

    def test_manifest_by_digest(self):
        d, manifest = REG.push_image("push/bydigest", "t")
        raw = json.dumps(manifest).encode()
        status, hdrs, body, _ = REG.push_manifest("push/bydigest", d, raw)
        self.assertEqual(status, 201, body)
        wrong = digest_of(b"different")
        status, hdrs, body, _ = REG.push_manifest("push/bydigest", wrong, raw)
        self.assertEqual(status, 400)
        self.assertEqual(error_codes(body), ["DIGEST_INVALID"])

    def test_manifest_with_unknown_blob(self):
        config = REG.push_blob("push/missing", b"{}")
        manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                               "digest": config, "size": 2},
                    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                                "digest": digest_of(b"never pushed"), "size": 12}]}
        status, _, body, _ = REG.push_manifest("push/missing", "v1", manifest)
        self.assertEqual(status, 400)
        self.assertEqual(error_codes(body), ["MANIFEST_BLOB_UNKNOWN"])
        self.assertEqual(REG.request("GET", "/v2/push/missing/manifests/v1")[0], 404)

    def test_invalid_manifest(self):
        REG.push_blob("push/invalid", b"x")
        for raw in (b"not json", b"[]", json.dumps({"schemaVersion": 1}).encode(),
                    json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST}).encode()):
            status, _, body, _ = REG.push_manifest("push/invalid", "v1", raw)
            self.assertEqual(status, 400, raw)
            self.assertEqual(error_codes(body), ["MANIFEST_INVALID"])
        # The body's mediaType must agree with Content-Type.
        status, _, body, _ = REG.push_manifest(
            "push/invalid", "v1", {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []},
            media_type=OCI_MANIFEST)
        self.assertEqual(status, 400)

    def test_manifest_too_large(self):
        reg = Registry(find_binary(), ["--max-manifest-bytes", "2000"]).start()
        try:
            raw = json.dumps({"schemaVersion": 2, "annotations": {"x": "y" * 4000}}).encode()
            status, _, body, _ = reg.push_manifest("big/m", "v1", raw)
            self.assertEqual(status, 413)
            self.assertEqual(error_codes(body), ["SIZE_INVALID"])
        finally:
            reg.cleanup()

    def test_image_index_and_docker_manifest_list(self):
        d1, _ = REG.push_image("push/index", "amd64", layer=b"amd64 layer")
        d2, _ = REG.push_image("push/index", "arm64", layer=b"arm64 layer")
        size = lambda d: len(REG.request("GET", "/v2/push/index/manifests/" + d)[2])
        for media_type, child_type in ((OCI_INDEX, OCI_MANIFEST), (DOCKER_LIST, OCI_MANIFEST)):
            index = {"schemaVersion": 2, "mediaType": media_type, "manifests": [
                {"mediaType": child_type, "digest": d1, "size": size(d1),
                 "platform": {"architecture": "amd64", "os": "linux"}},
                {"mediaType": child_type, "digest": d2, "size": size(d2),
                 "platform": {"architecture": "arm64", "os": "linux"}}]}
            status, hdrs, body, d = REG.push_manifest("push/index", "multi", index, media_type)
            self.assertEqual(status, 201, body)
            status, hdrs, body = REG.request("GET", "/v2/push/index/manifests/multi")
            self.assertEqual(hdrs["content-type"], media_type)
            self.assertEqual(hdrs["docker-content-digest"], d)
        missing = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": digest_of(b"no such manifest"), "size": 3}]}
        status, _, body, _ = REG.push_manifest("push/index", "broken", missing, OCI_INDEX)
        self.assertEqual(status, 400)
        self.assertEqual(error_codes(body), ["MANIFEST_BLOB_UNKNOWN"])

    def test_docker_schema2_manifest(self):
        config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
        c = REG.push_blob("push/docker", config)
        layer = REG.push_blob("push/docker", b"docker layer")
        manifest = {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
                    "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                               "digest": c, "size": len(config)},
                    "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                                "digest": layer, "size": 12}]}
        status, _, body, d = REG.push_manifest("push/docker", "latest", manifest, DOCKER_MANIFEST)
        self.assertEqual(status, 201, body)
        status, hdrs, _ = REG.request("GET", "/v2/push/docker/manifests/latest")
        self.assertEqual(hdrs["content-type"], DOCKER_MANIFEST)

    def test_chunked_transfer_encoding(self):
        loc = self.start_upload("push/te")
        data = os.urandom(70000)

        def gen():
            yield data[:30000]
            yield data[30000:]
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", REG.port, timeout=30)
        conn.request("PATCH", loc, body=gen(), encode_chunked=True,
                     headers={"Transfer-Encoding": "chunked"})
        resp = conn.getresponse()
        resp.read()
        conn.close()
        self.assertEqual(resp.status, 202)
        d = digest_of(data)
        status, _, body = REG.request("PUT", loc + "?digest=" + d)
        self.assertEqual(status, 201, body)


class ContentDiscovery(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tags = sorted(["a", "b", "c", "d", "e", "latest", "v1.0"])
        for tag in cls.tags:
            REG.push_image("discover/tags", tag)

    def test_tags_list(self):
        status, hdrs, body = REG.request("GET", "/v2/discover/tags/tags/list")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"name": "discover/tags", "tags": self.tags})
        self.assertNotIn("link", hdrs)

    def test_tags_pagination(self):
        seen = []
        path = "/v2/discover/tags/tags/list?n=3"
        pages = 0
        while path:
            status, hdrs, body = REG.request("GET", path)
            self.assertEqual(status, 200)
            page = json.loads(body)["tags"]
            self.assertLessEqual(len(page), 3)
            seen += page
            pages += 1
            link = hdrs.get("link")
            path = link[link.index("<") + 1:link.index(">")] if link else None
            if link:
                self.assertIn('rel="next"', link)
        self.assertEqual(seen, self.tags)
        self.assertEqual(pages, 3)

    def test_tags_pagination_edges(self):
        get = lambda q: json.loads(REG.request("GET", "/v2/discover/tags/tags/list" + q)[2])["tags"]
        self.assertEqual(get("?n=0"), [])
        self.assertEqual(get("?last=b"), self.tags[2:])
        self.assertEqual(get("?n=2&last=c"), ["d", "e"])
        self.assertEqual(get("?last=zzz"), [])
        self.assertEqual(get("?n=100"), self.tags)
        # Exactly the remaining count: no Link to an empty page.
        status, hdrs, body = REG.request("GET", "/v2/discover/tags/tags/list?n=7")
        self.assertNotIn("link", hdrs)
        status, _, _ = REG.request("GET", "/v2/discover/tags/tags/list?n=-1")
        self.assertEqual(status, 400)

    def test_tags_of_unknown_repository(self):
        status, _, body = REG.request("GET", "/v2/discover/nothing/tags/list")
        self.assertEqual(status, 404)
        self.assertEqual(error_codes(body), ["NAME_UNKNOWN"])

    def test_catalog(self):
        status, _, body = REG.request("GET", "/v2/_catalog")
        self.assertEqual(status, 200)
        repos = json.loads(body)["repositories"]
        self.assertIn("discover/tags", repos)
        self.assertEqual(repos, sorted(repos))
        seen = []
        path = "/v2/_catalog?n=2"
        while path:
            status, hdrs, body = REG.request("GET", path)
            seen += json.loads(body)["repositories"]
            link = hdrs.get("link")
            path = link[link.index("<") + 1:link.index(">")] if link else None
        self.assertEqual(seen, repos)

    def test_search(self):
        # GET /v1/search, what docker search asks: a substring of the name, case-insensitive,
        # with Docker Hub's answer shape and ?n= / ?page= paging.
        for name in ("search/alpha-tool", "search/beta-tool", "search/gamma"):
            REG.push_image(name, "v1")
        status, hdrs, body = REG.request("GET", "/v1/search?q=TOOL")
        self.assertEqual(status, 200, body)
        self.assertEqual(hdrs["content-type"], "application/json")
        answer = json.loads(body)
        self.assertEqual(answer["query"], "TOOL")
        self.assertEqual([r["name"] for r in answer["results"]],
                         ["search/alpha-tool", "search/beta-tool"])
        self.assertEqual(answer["num_results"], 2)
        self.assertEqual(answer["results"][0], {"name": "search/alpha-tool", "description": "",
                                                "star_count": 0, "is_official": False,
                                                "is_automated": False})
        status, _, body = REG.request("GET", "/v1/search?q=search/&n=2&page=2")
        self.assertEqual(status, 200)
        answer = json.loads(body)
        self.assertEqual((answer["num_results"], answer["num_pages"], answer["page"]), (3, 2, 2))
        self.assertEqual([r["name"] for r in answer["results"]], ["search/gamma"])
        self.assertEqual(json.loads(REG.request("GET", "/v1/search?q=nothing-like-it")[2])["results"], [])
        self.assertEqual(REG.request("GET", "/v1/search?q=x&page=0")[0], 400)
        self.assertEqual(REG.request("POST", "/v1/search?q=x")[0], 405)

    def test_referrers(self):
        subject, subject_manifest = REG.push_image("discover/ref", "base")
        subject_size = len(REG.request("GET", "/v2/discover/ref/manifests/base")[2])
        empty = REG.push_blob("discover/ref", b"{}")
        pushed = {}
        for artifact_type in ("application/vnd.example.sbom", "application/vnd.example.sig"):
            manifest = {
                "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": artifact_type,
                "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty,
                           "size": 2},
                "layers": [{"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty,
                            "size": 2}],
                "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": subject_size},
                "annotations": {"org.example.kind": artifact_type}}
            raw = json.dumps(manifest).encode()
            d = digest_of(raw)
            status, hdrs, body, _ = REG.push_manifest("discover/ref", d, raw)
            self.assertEqual(status, 201, body)
            self.assertEqual(hdrs["oci-subject"], subject)
            pushed[artifact_type] = (d, len(raw))

        status, hdrs, body = REG.request("GET", "/v2/discover/ref/referrers/" + subject)
        self.assertEqual(status, 200)
        self.assertEqual(hdrs["content-type"], OCI_INDEX)
        index = json.loads(body)
        self.assertEqual(index["schemaVersion"], 2)
        self.assertEqual(index["mediaType"], OCI_INDEX)
        got = {m["artifactType"]: (m["digest"], m["size"]) for m in index["manifests"]}
        self.assertEqual(got, pushed)
        for m in index["manifests"]:
            self.assertEqual(m["mediaType"], OCI_MANIFEST)
            self.assertEqual(m["annotations"]["org.example.kind"], m["artifactType"])

        status, hdrs, body = REG.request(
            "GET", "/v2/discover/ref/referrers/%s?artifactType=application/vnd.example.sig" % subject)
        self.assertEqual(status, 200)
        self.assertEqual(hdrs["oci-filters-applied"], "artifactType")
        manifests = json.loads(body)["manifests"]
        self.assertEqual([m["digest"] for m in manifests], [pushed["application/vnd.example.sig"][0]])

        # A subject with no referrers (even one never pushed): an empty index.
        status, _, body = REG.request("GET", "/v2/discover/ref/referrers/" + digest_of(b"none"))
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["manifests"], [])

        # Deleting a referrer removes it from the list.
        sig = pushed["application/vnd.example.sig"][0]
        self.assertEqual(REG.request("DELETE", "/v2/discover/ref/manifests/" + sig)[0], 202)
        manifests = json.loads(REG.request("GET", "/v2/discover/ref/referrers/" + subject)[2])["manifests"]
        self.assertEqual([m["digest"] for m in manifests], [pushed["application/vnd.example.sbom"][0]])

    def test_referrer_artifact_type_from_config(self):
        subject, _ = REG.push_image("discover/ref2", "base")
        config = b'{"kind":"cfg"}'
        c = REG.push_blob("discover/ref2", config)
        manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                    "config": {"mediaType": "application/vnd.example.config", "digest": c,
                               "size": len(config)},
                    "layers": [],
                    "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": 1}}
        status, hdrs, body, d = REG.push_manifest("discover/ref2", "sig", manifest)
        self.assertEqual(status, 201, body)
        manifests = json.loads(REG.request("GET", "/v2/discover/ref2/referrers/" + subject)[2])["manifests"]
        self.assertEqual(manifests[0]["artifactType"], "application/vnd.example.config")


class ContentManagement(unittest.TestCase):
    def test_delete_tag(self):
        d, _ = REG.push_image("manage/tag", "v1")
        REG.push_manifest("manage/tag", "v2", REG.request("GET", "/v2/manage/tag/manifests/v1")[2])
        status, _, _ = REG.request("DELETE", "/v2/manage/tag/manifests/v1")
        self.assertEqual(status, 202)
        self.assertEqual(REG.request("GET", "/v2/manage/tag/manifests/v1")[0], 404)
        self.assertEqual(REG.request("GET", "/v2/manage/tag/manifests/v2")[0], 200)
        self.assertEqual(REG.request("GET", "/v2/manage/tag/manifests/" + d)[0], 200)

    def test_delete_manifest_by_digest(self):
        d, _ = REG.push_image("manage/manifest", "v1")
        status, _, _ = REG.request("DELETE", "/v2/manage/manifest/manifests/" + d)
        self.assertEqual(status, 202)
        self.assertEqual(REG.request("GET", "/v2/manage/manifest/manifests/" + d)[0], 404)
        self.assertEqual(REG.request("GET", "/v2/manage/manifest/manifests/v1")[0], 404)
        tags = json.loads(REG.request("GET", "/v2/manage/manifest/tags/list")[2])["tags"]
        self.assertEqual(tags, [])
        status, _, body = REG.request("DELETE", "/v2/manage/manifest/manifests/" + d)
        self.assertEqual(status, 404)
        self.assertEqual(error_codes(body), ["MANIFEST_UNKNOWN"])

    def test_delete_blob(self):
        d = REG.push_blob("manage/blob", b"delete me")
        status, _, _ = REG.request("DELETE", "/v2/manage/blob/blobs/" + d)
        self.assertEqual(status, 202)
        status, _, body = REG.request("GET", "/v2/manage/blob/blobs/" + d)
        self.assertEqual(status, 404)
        self.assertEqual(error_codes(body), ["BLOB_UNKNOWN"])
        status, _, body = REG.request("DELETE", "/v2/manage/blob/blobs/" + d)
        self.assertEqual(status, 404)
        self.assertEqual(error_codes(body), ["BLOB_UNKNOWN"])

    def test_read_only_mode(self):
        reg = Registry(find_binary(), ["--read-only"]).start()
        try:
            status, _, body = reg.request("POST", "/v2/ro/blobs/uploads/")
            self.assertEqual(status, 405)
            self.assertEqual(error_codes(body), ["UNSUPPORTED"])
            self.assertEqual(reg.request("GET", "/v2/")[0], 200)
        finally:
            reg.cleanup()


class Safety(unittest.TestCase):
    def test_nothing_half_written_is_visible(self):
        loc = Push.start_upload(self, "safe/partial")
        REG.request("PATCH", loc, body=b"half of a blob")
        d = digest_of(b"half of a blob")
        self.assertEqual(REG.request("HEAD", "/v2/safe/partial/blobs/" + d)[0], 404)

    def test_corrupted_manifest_is_not_served(self):
        reg = Registry(find_binary()).start()
        try:
            d, _ = reg.push_image("safe/corrupt", "v1")
            algorithm, hexd = d.split(":")
            path = os.path.join(reg.root, "blobs", algorithm, hexd[:2], hexd)
            os.chmod(path, 0o644)
            with open(path, "r+b") as f:
                f.write(b"X")
            status, _, body = reg.request("GET", "/v2/safe/corrupt/manifests/v1")
            self.assertNotEqual(status, 200)
        finally:
            reg.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
