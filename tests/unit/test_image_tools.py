"""The image tools without building an image: the OCI archive reader on a hand-made archive
(whiteouts are where a layered filesystem goes wrong), and the chart-to-podman mapping on
the chart as helm renders it (the e2e image test trusts that mapping)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from tools.helm import Helm, one
from tools.image.container import ContainerError, PodRun, quantity_bytes
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


def test_the_charts_pod_becomes_these_podman_flags(tmp_path: Path) -> None:
    rendered = Helm.find().template({}, release="aigov", namespace="aigov-system")
    deployment = one(rendered, "Deployment")
    tls, sa = tmp_path / "tls", tmp_path / "sa"
    run = PodRun.from_deployment(
        deployment,
        image="localhost/aigov:dev",
        pod_name="aigov-0",
        volumes={"tls": tls, "decision-log-key": tmp_path / "key"},
        service_account=sa,
        env={"KUBERNETES_SERVICE_HOST": "127.0.0.1"},
    )
    args = run.podman_args()
    assert args[args.index("--user") + 1] == "65532:65532"
    for flag in ("--read-only", "--read-only-tmpfs=false", "--cap-drop=ALL"):
        assert flag in args
    assert "--security-opt=no-new-privileges" in args
    assert f"/tmp:rw,nosuid,nodev,size={64 * 2**20},mode=1777" in args
    assert f"{tls}:/etc/aigov/tls:ro" in args
    assert f"{tmp_path / 'key'}:/etc/aigov/decision-log-key:ro" in args
    assert f"{sa}:/var/run/secrets/kubernetes.io/serviceaccount:ro" in args
    assert "POD_ID=aigov-0" in args
    assert "AIGOV_MANAGE_WEBHOOKS=false" in args
    assert "KUBERNETES_SERVICE_HOST=127.0.0.1" in args


def test_an_env_value_the_api_server_left_out_is_empty(tmp_path: Path) -> None:
    """The API server stores `value: ""` as no value at all: the variable is still set."""
    deployment = one(Helm.find().template({}, release="aigov", namespace="ns"), "Deployment")
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    for item in env:
        if item.get("value") == "":
            del item["value"]
    run = PodRun.from_deployment(
        deployment,
        image="x",
        pod_name="p",
        volumes={"tls": tmp_path, "decision-log-key": tmp_path},
        service_account=None,
        env={},
    )
    assert "AIGOV_ACCELERATOR_RESOURCES=" in run.podman_args()


def test_what_cannot_be_reproduced_is_refused(tmp_path: Path) -> None:
    deployment = one(Helm.find().template({}, release="aigov", namespace="ns"), "Deployment")
    with pytest.raises(ContainerError, match="give its files"):
        PodRun.from_deployment(
            deployment, image="x", pod_name="p", volumes={}, service_account=None, env={}
        )
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsUser"] = 0
    with pytest.raises(ContainerError, match="runAsNonRoot"):
        PodRun.from_deployment(
            deployment,
            image="x",
            pod_name="p",
            volumes={"tls": tmp_path, "decision-log-key": tmp_path},
            service_account=None,
            env={},
        )
