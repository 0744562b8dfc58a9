"""The image tools without building an image: the OCI archive reader on a hand-made archive
(whiteouts are where a layered filesystem goes wrong). The chart-to-podman mapping, which
needs helm, is tested in tests/e2e/test_image_mapping.py."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from tools.image.container import quantity_bytes
from tools.image.oci import Image, ImageError

GZIP_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def _layer(files: dict[str, bytes | None]) -> bytes:
    """A gzip-compressed layer tar: path -> content, None for a directory."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def _archive(path: Path, layers: list[bytes], config: dict[str, Any]) -> Path:
    blobs: dict[str, bytes] = {}

    def blob(data: bytes) -> dict[str, Any]:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return {"digest": digest, "size": len(data)}

    config_blob = json.dumps(config).encode()
    manifest = {
        "schemaVersion": 2,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **blob(config_blob)},
        "layers": [{"mediaType": GZIP_LAYER, **blob(layer)} for layer in layers],
    }
    index = {"schemaVersion": 2, "manifests": [blob(json.dumps(manifest).encode())]}
    with tarfile.open(path, "w") as tar:
        entries = {"index.json": json.dumps(index).encode()}
        entries |= {f"blobs/sha256/{d.partition(':')[2]}": data for d, data in blobs.items()}
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def layered(tmp_path: Path) -> Image:
    base = _layer(
        {
            "etc": None,
            "etc/passwd": b"root:x:0:0::/root:/bin/sh\n",
            "usr/bin/pip": b"#!pip",
            "cache": None,
            "cache/a": b"a",
            "cache/sub/b": b"b",
        }
    )
    top = _layer(
        {
            "usr/bin/.wh.pip": b"",  # pip removed
            "cache/.wh..wh..opq": b"",  # cache emptied, then one new file
            "cache/new": b"new",
            "etc/passwd": b"root:x:0:0::/root:/bin/sh\nnonroot:x:65532:65532::/:/x\n",
        }
    )
    config = {
        "config": {"User": "65532:65532", "Env": ["PATH=/opt/aigov/bin:/usr/bin", "A=b=c"]},
        "history": [
            {"created_by": "base"},
            {"created_by": "ENV", "empty_layer": True},
            {"created_by": "RUN rm pip"},
        ],
    }
    return Image.load(_archive(tmp_path / "image.oci.tar", [base, top], config))


def test_whiteouts_and_opaque_directories_are_applied(layered: Image) -> None:
    files = layered.filesystem()
    assert "/usr/bin/pip" not in files
    assert {p for p in files if p.startswith("/cache/")} == {"/cache/new"}
    assert layered.read("/etc/passwd").endswith(b"nonroot:x:65532:65532::/:/x\n")
    with pytest.raises(ImageError):
        layered.read("/usr/bin/pip")


def test_layers_carry_the_step_that_made_them(layered: Image) -> None:
    assert [layer.created_by for layer in layered.layers] == ["base", "RUN rm pip"]
    assert layered.env == {"PATH": "/opt/aigov/bin:/usr/bin", "A": "b=c"}
    assert layered.runtime["User"] == "65532:65532"


def test_a_missing_archive_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="make image"):
        Image.load(tmp_path / "absent.tar")


def test_quantities() -> None:
    assert quantity_bytes("64Mi") == 64 * 2**20
    assert quantity_bytes("1G") == 10**9
    assert quantity_bytes("512") == 512
    with pytest.raises(ValueError, match="quantity"):
        quantity_bytes("64MB")
