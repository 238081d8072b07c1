#!/usr/bin/python3
"""Builds a minimal OCI image (one layer) for one dynamically linked binary.

Hand-written on purpose: no base image can be pulled here, and the image has to
be byte-for-byte reproducible, which rules out tools that stamp times or walk
directories in filesystem order. Only the Python standard library is used.

The layer holds exactly:
  /app/NAME                    the binary, stripped (mode 0555)
  the shared libraries `ldd` says it loads, at those paths, and the loader
  /etc/ssl/certs/ca-certificates.crt, /usr/share/zoneinfo (without right/ posix/)
  /etc/passwd, /etc/group (root and nonroot 65532), /etc/nsswitch.conf, /tmp
No shell, no package manager. Every tar entry has mtime 0, uid/gid 0 and a
sorted position; gzip has no name or time; the config has no creation time.
Two runs on the same machine therefore give the same manifest digest.

Writes an OCI archive (oci-layout, index.json, blobs/sha256/*) that also carries
Docker's manifest.json, so both `podman load` and `docker load` accept it.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import tempfile
import sys
import tarfile

NONROOT = 65532


def ldd_closure(binary):
    out = subprocess.run(["ldd", binary], check=True, capture_output=True, text=True).stdout
    paths = set()
    for line in out.splitlines():
        line = line.strip()
        m = re.match(r"\S+ => (/\S+) \(0x[0-9a-f]+\)", line) or re.match(r"(/\S+) \(0x[0-9a-f]+\)", line)
        if m:
            paths.add(m.group(1))
        elif "not found" in line:
            sys.exit(f"build_image: {binary}: {line}")
    if not any("ld-linux" in p for p in paths):
        sys.exit(f"build_image: {binary}: no loader in ldd output (static binary?)")
    return sorted(paths)


class Layer:
    def __init__(self):
        self.entries = {}  # path in image -> (TarInfo, bytes or None)

    def _info(self, path, kind, mode, size=0, uid=0, gid=0):
        ti = tarfile.TarInfo(path.lstrip("/"))
        ti.type, ti.mode, ti.size = kind, mode, size
        ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = 0, uid, gid, "", ""
        return ti

    def dir(self, path, mode=0o755):
        parts = path.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            p = "/" + "/".join(parts[:i])
            if p not in self.entries:
                self.entries[p] = (self._info(p, tarfile.DIRTYPE, mode if i == len(parts) else 0o755), None)

    def file(self, path, data, mode=0o644):
        self.dir(os.path.dirname(path))
        self.entries[path] = (self._info(path, tarfile.REGTYPE, mode, len(data)), data)

    def symlink(self, path, target):
        self.dir(os.path.dirname(path))
        ti = self._info(path, tarfile.SYMTYPE, 0o777)
        ti.linkname = target
        self.entries[path] = (ti, None)

    def host_file(self, src, dst, mode=None):
        with open(os.path.realpath(src), "rb") as f:
            data = f.read()
        self.file(dst, data, mode if mode is not None else (0o755 if os.access(src, os.X_OK) else 0o644))

    def host_tree(self, src, dst, skip=()):
        for root, dirs, files in os.walk(src):
            dirs[:] = sorted(d for d in dirs if d not in skip)
            rel = os.path.relpath(root, src)
            base = dst if rel == "." else os.path.join(dst, rel)
            self.dir(base)
            for name in sorted(files):
                p = os.path.join(root, name)
                if os.path.islink(p):
                    target = os.readlink(p)
                    if target.startswith("/"):
                        continue  # points out of the tree (zoneinfo/localtime)
                    self.symlink(os.path.join(base, name), target)
                else:
                    self.host_file(p, os.path.join(base, name), 0o644)

    def tar_gz(self):
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
            for path in sorted(self.entries):
                ti, data = self.entries[path]
                tar.addfile(ti, io.BytesIO(data) if data is not None else None)
        diff = raw.getvalue()
        gz = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=gz, mtime=0, compresslevel=6) as g:
            g.write(diff)
        return diff, gz.getvalue()


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--name", required=True, help="program name: /app/NAME")
    ap.add_argument("--repository", required=True, help="e.g. orderplatform/order-service")
    ap.add_argument("--tag", default="latest")
    ap.add_argument("--port", action="append", default=[], help="exposed TCP port")
    ap.add_argument("--env", action="append", default=[], help="KEY=VALUE")
    ap.add_argument("--arg", action="append", default=[], help="default argument (Cmd)")
    ap.add_argument("--health-check", action="store_true", help="the binary answers --health-check")
    ap.add_argument("--version", default="0.1.0")
    ap.add_argument("--out", required=True, help="OCI archive (.tar)")
    ap.add_argument("--digest", required=True, help="file for the manifest digest")
    ap.add_argument("--sizes", help="file for sizes as JSON")
    a = ap.parse_args()

    layer = Layer()
    # The symbol table is for debugging on the build host (bazel-bin keeps it);
    # the image gets the binary without it, whatever the compilation mode.
    with tempfile.TemporaryDirectory() as tmp:
        stripped = os.path.join(tmp, a.name)
        subprocess.run(["strip", "--strip-unneeded", "-o", stripped, os.path.realpath(a.binary)], check=True)
        layer.host_file(stripped, f"/app/{a.name}", 0o555)
    for lib in ldd_closure(a.binary):
        layer.host_file(lib, lib, 0o755)
    layer.host_file("/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/certs/ca-certificates.crt", 0o644)
    layer.host_tree("/usr/share/zoneinfo", "/usr/share/zoneinfo", skip=("right", "posix"))
    layer.file("/etc/passwd", f"root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:{NONROOT}:{NONROOT}:nonroot:/home/nonroot:/sbin/nologin\n".encode())
    layer.file("/etc/group", f"root:x:0:\nnonroot:x:{NONROOT}:\n".encode())
    layer.file("/etc/nsswitch.conf", b"hosts: files dns\n")
    layer.dir("/tmp", 0o1777)
    layer.dir("/home/nonroot", 0o755)
    diff, gz = layer.tar_gz()

    ports = {f"{p}/tcp": {} for p in a.port}
    config = {
        "created": "1970-01-01T00:00:00Z",  # fixed: the digest must not depend on the time of the build
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "User": f"{NONROOT}:{NONROOT}",
            "Entrypoint": [f"/app/{a.name}"],
            "Cmd": a.arg,
            "Env": ["PATH=/app", "TZ=UTC", "SERVER_HOST=0.0.0.0"] + a.env,
            "WorkingDir": "/app",
            "ExposedPorts": ports,
            "StopSignal": "SIGTERM",
            "Labels": {
                "org.opencontainers.image.title": a.repository.split("/")[-1],
                "org.opencontainers.image.version": a.version,
                "org.opencontainers.image.description": f"orderplatform {a.name}: /app/{a.name}, its shared libraries, CA certificates, tzdata",
            },
        },
        "rootfs": {"type": "layers", "diff_ids": [sha(diff)]},
        "history": [{"created_by": "tools/oci/build_image.py", "comment": f"{a.name} and its shared libraries"}],
    }
    if a.health_check:
        # Docker's extension (podman honours it for docker-format images); Kubernetes uses the HTTP probes.
        config["config"]["Healthcheck"] = {"Test": ["CMD", f"/app/{a.name}", "--health-check"],
                                           "Interval": 10_000_000_000, "Timeout": 3_000_000_000,
                                           "StartPeriod": 30_000_000_000, "Retries": 3}
    config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(config_bytes), "size": len(config_bytes)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(gz), "size": len(gz)}],
    }
    manifest_bytes = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    ref = f"{a.repository}:{a.tag}"
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": manifest["mediaType"], "digest": sha(manifest_bytes), "size": len(manifest_bytes),
                       "annotations": {"org.opencontainers.image.ref.name": ref, "io.containerd.image.name": ref}}],
    }
    blob = lambda d: "blobs/sha256/" + d.split(":")[1]
    docker_manifest = [{"Config": blob(sha(config_bytes)), "RepoTags": [ref], "Layers": [blob(sha(gz))]}]

    archive = Layer()
    archive.file("/oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    archive.file("/index.json", json.dumps(index, sort_keys=True, separators=(",", ":")).encode())
    archive.file("/manifest.json", json.dumps(docker_manifest, sort_keys=True, separators=(",", ":")).encode())
    for data in (config_bytes, manifest_bytes, gz):
        archive.file("/" + blob(sha(data)), data)
    with open(a.out, "wb") as f:
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
            for path in sorted(archive.entries):
                ti, data = archive.entries[path]
                if ti.type == tarfile.DIRTYPE:
                    continue
                tar.addfile(ti, io.BytesIO(data))
        f.write(raw.getvalue())
    with open(a.digest, "w") as f:
        f.write(sha(manifest_bytes) + "\n")
    if a.sizes:
        with open(a.sizes, "w") as f:
            json.dump({"repository": a.repository, "compressedBytes": len(gz), "uncompressedBytes": len(diff),
                       "files": sum(1 for ti, _ in layer.entries.values() if ti.type == tarfile.REGTYPE)}, f, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
