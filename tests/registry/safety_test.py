#!/usr/bin/env python3
"""Safety: kill -9 in the middle of a chunked push, then a restart on the same root: committed
blobs and manifests intact, the upload resumable, nothing half-written visible; and a blob
corrupted on disk is never served as valid content (and a new push restores it)."""
import os
import signal
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from registry_harness import Registry, digest_of, error_codes, find_binary  # noqa: E402


def blob_path(root, d):
    algorithm, hexd = d.split(":")
    return os.path.join(root, "blobs", algorithm, hexd[:2], hexd)


class KillDuringPush(unittest.TestCase):
    def test_kill_9_during_chunked_push(self):
        reg = Registry(find_binary()).start()
        try:
            committed, manifest = reg.push_image("safe/kill", "v1", layer=os.urandom(200000))
            data = os.urandom(3 * 1024 * 1024)
            status, hdrs, _ = reg.request("POST", "/v2/safe/kill/blobs/uploads/")
            loc = hdrs["location"]
            first = data[:1024 * 1024]
            status, hdrs, _ = reg.request("PATCH", loc, body=first,
                                          headers={"Content-Range": "0-%d" % (len(first) - 1)})
            self.assertEqual(status, 202)
            # The second chunk is cut by kill -9 half way through its body.
            second = data[len(first):2 * 1024 * 1024]
            sock = socket.create_connection(("127.0.0.1", reg.port))
            sock.sendall(("PATCH %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                          "Content-Range: %d-%d\r\n\r\n" % (loc, len(second), len(first),
                                                            len(first) + len(second) - 1)).encode())
            sock.sendall(second[:len(second) // 2])
            time.sleep(0.3)
            reg.proc.send_signal(signal.SIGKILL)
            reg.proc.wait(timeout=10)
            sock.close()

            reg2 = Registry(find_binary(), root=reg.root).start()
            try:
                # Committed content intact.
                status, _, body = reg2.request("GET", "/v2/safe/kill/manifests/v1")
                self.assertEqual((status, digest_of(body)), (200, committed))
                for desc in [manifest["config"]] + manifest["layers"]:
                    status, _, body = reg2.request("GET", "/v2/safe/kill/blobs/" + desc["digest"])
                    self.assertEqual((status, digest_of(body)), (200, desc["digest"]))
                # The upload resumes where its data really ends.
                status, hdrs, _ = reg2.request("GET", loc)
                self.assertEqual(status, 204)
                end = int(hdrs["range"].split("-")[1]) + 1
                self.assertGreaterEqual(end, len(first))
                self.assertLessEqual(end, len(first) + len(second))
                self.assertEqual(reg2.request("HEAD", "/v2/safe/kill/blobs/" + digest_of(data))[0], 404)
                rest = data[end:]
                status, _, body = reg2.request(
                    "PATCH", loc, body=rest, headers={"Content-Range": "%d-%d" % (end, len(data) - 1)})
                self.assertEqual(status, 202, body)
                status, _, body = reg2.request("PUT", loc + "?digest=" + digest_of(data))
                self.assertEqual(status, 201, body)
                status, _, body = reg2.request("GET", "/v2/safe/kill/blobs/" + digest_of(data))
                self.assertEqual((status, body == data), (200, True))
                # No temp files, no stray uploads left behind.
                self.assertEqual(os.listdir(os.path.join(reg.root, "uploads")), [])
            finally:
                reg2.cleanup()
        finally:
            reg.cleanup()


class Corruption(unittest.TestCase):
    def setUp(self):
        self.reg = Registry(find_binary()).start()

    def tearDown(self):
        self.reg.cleanup()

    def corrupt(self, d):
        path = blob_path(self.reg.root, d)
        os.chmod(path, 0o644)
        with open(path, "r+b") as f:
            f.seek(10)
            f.write(b"XXXX")

    def test_corrupted_after_being_served(self):
        data = os.urandom(100000)
        d = self.reg.push_blob("safe/corrupt", data)
        self.assertEqual(self.reg.request("GET", "/v2/safe/corrupt/blobs/" + d)[2], data)
        self.corrupt(d)
        status, _, body = self.reg.request("GET", "/v2/safe/corrupt/blobs/" + d)
        self.assertEqual(status, 404)
        self.assertEqual(error_codes(body), ["BLOB_UNKNOWN"])
        self.assertEqual(self.reg.request("GET", "/v2/safe/corrupt/blobs/" + d,
                                          headers={"Range": "bytes=0-20"})[0], 404)
        # Pushed again, it is served again.
        self.assertEqual(self.reg.push_blob("safe/corrupt", data), d)
        self.assertEqual(self.reg.request("GET", "/v2/safe/corrupt/blobs/" + d)[2], data)

    def test_corrupted_before_a_restart(self):
        data = os.urandom(50000)
        d = self.reg.push_blob("safe/corrupt2", data)
        self.reg.stop()
        self.corrupt(d)
        reg2 = Registry(find_binary(), root=self.reg.root).start()
        try:
            status, _, body = reg2.request("GET", "/v2/safe/corrupt2/blobs/" + d,
                                           headers={"Range": "bytes=0-99"})
            self.assertEqual(status, 404)
            self.assertNotIn(b"XXXX", body)
        finally:
            reg2.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
