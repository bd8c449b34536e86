#!/usr/bin/env python3
"""Writes a docker-save archive of an image with N layers of M MiB of random (incompressible)
data each: make_image.py <out.tar> <layers> <MiB per layer> <name:tag>"""
import hashlib, io, json, os, sys, tarfile

out, layers, mib, name = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
diff_ids, members = [], []
for i in range(layers):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        data = os.urandom(mib << 20)
        info = tarfile.TarInfo(f"layer{i}/blob.bin")
        info.size, info.mtime, info.mode = len(data), 1700000000, 0o644
        t.addfile(info, io.BytesIO(data))
    layer = buf.getvalue()
    digest = hashlib.sha256(layer).hexdigest()
    diff_ids.append("sha256:" + digest)
    members.append((f"{digest}/layer.tar", layer))
config = json.dumps({"architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
                     "config": {"Cmd": ["sh"]},
                     "rootfs": {"type": "layers", "diff_ids": diff_ids},
                     "history": [{"created": "2024-01-01T00:00:00Z", "created_by": f"layer {i}"}
                                 for i in range(layers)]}).encode()
config_name = hashlib.sha256(config).hexdigest() + ".json"
manifest = json.dumps([{"Config": config_name, "RepoTags": [name],
                        "Layers": [m[0] for m in members]}]).encode()
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    for path, data in members + [(config_name, config), ("manifest.json", manifest)]:
        info = tarfile.TarInfo(path)
        info.size, info.mtime, info.mode = len(data), 1700000000, 0o644
        t.addfile(info, io.BytesIO(data))
