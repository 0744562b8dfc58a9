"""Read an OCI image archive (what `make image` writes) without a container engine.

Why our own reader: the report at the end of a build (size, layers) and the test of what the
image carries must work where no Docker or podman runs. An OCI archive is a tar of an OCI
image layout (index.json, blobs/sha256/...): the standard library reads all of it.

`python -m tools.image.oci report ARCHIVE` prints the image's size, user, entry point,
labels and every layer with the Dockerfile step that made it.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


class ImageError(RuntimeError):
    """The archive is not an OCI image archive this reader understands."""


@dataclass(frozen=True)
class Layer:
    """One filesystem layer: its blob digest, compressed size, and the step that made it."""

    digest: str
    size: int
    media_type: str
    created_by: str


@dataclass
class Image:
    """An image in an OCI archive: its manifest, config and layers."""

    archive: Path
    manifest: dict[str, Any]
    config: dict[str, Any]
    layers: list[Layer] = field(default_factory=list)

    @classmethod
    def load(cls, archive: Path) -> Image:
        """Open the single image of `archive` (an `oci-archive:` written by buildah/skopeo)."""
        if not archive.is_file():
            raise ImageError(f"{archive}: no such archive; build it with `make image`")
        with tarfile.open(archive) as tar:
            index = _json(tar, "index.json")
            manifests = index.get("manifests") or []
            if len(manifests) != 1:
                raise ImageError(f"{archive}: expected one image, found {len(manifests)}")
            manifest = _json(tar, _blob(manifests[0]["digest"]))
            config = _json(tar, _blob(manifest["config"]["digest"]))
        history = [h for h in config.get("history", []) if not h.get("empty_layer")]
        layers = []
        for i, descriptor in enumerate(manifest["layers"]):
            step = history[i].get("created_by", "") if i < len(history) else ""
            layers.append(
                Layer(descriptor["digest"], int(descriptor["size"]), descriptor["mediaType"], step)
            )
        return cls(archive, manifest, config, layers)

    @property
    def runtime(self) -> dict[str, Any]:
        """The image's run settings: User, Entrypoint, Cmd, Env, Labels, ..."""
        return dict(self.config.get("config") or {})

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.runtime.get("Labels") or {})

    @property
    def env(self) -> dict[str, str]:
        pairs = (item.partition("=") for item in self.runtime.get("Env") or [])
        return {key: value for key, _, value in pairs}

    def layer_members(self, layer: Layer) -> Iterator[tarfile.TarInfo]:
        """The entries of one layer's tar, in order."""
        with tarfile.open(self.archive) as tar, _layer_tar(tar, layer) as inner:
            yield from inner

    def layer_bytes(self, layer: Layer) -> int:
        """Uncompressed size of a layer's tar, i.e. what it takes on disk once unpacked."""
        with tarfile.open(self.archive) as tar:
            member = tar.extractfile(_blob(layer.digest))
            if member is None:
                raise ImageError(f"{layer.digest}: not a file in the archive")
            stream = gzip.GzipFile(fileobj=member) if "gzip" in layer.media_type else member
            total = 0
            while chunk := stream.read(1 << 20):
                total += len(chunk)
            return total

    def read(self, path: str) -> bytes:
        """The content of regular file `path` as the image's root filesystem has it."""
        if path not in (files := self.filesystem()) or not files[path].isfile():
            raise ImageError(f"{path}: no such file in the image")
        name = path.lstrip("/")
        for layer in reversed(self.layers):
            with tarfile.open(self.archive) as tar, _layer_tar(tar, layer) as inner:
                for member in inner:
                    if member.name.lstrip("./") == name and member.isfile():
                        data = inner.extractfile(member)
                        assert data is not None
                        return data.read()
        raise ImageError(f"{path}: listed but found in no layer")

    def filesystem(self) -> dict[str, tarfile.TarInfo]:
        """The root filesystem the layers make, path -> entry, with whiteouts applied."""
        files: dict[str, tarfile.TarInfo] = {}
        for layer in self.layers:
            for member in self.layer_members(layer):
                path = PurePosixPath("/", member.name)
                name = path.name
                if name == OPAQUE:
                    prefix = f"{path.parent}/"
                    for key in [k for k in files if k.startswith(prefix)]:
                        del files[key]
                elif name.startswith(WHITEOUT):
                    gone = str(path.parent / name[len(WHITEOUT) :])
                    for key in [k for k in files if k == gone or k.startswith(f"{gone}/")]:
                        del files[key]
                else:
                    files[str(path)] = member
        return files


def _blob(digest: str) -> str:
    algorithm, _, hexdigest = digest.partition(":")
    return f"blobs/{algorithm}/{hexdigest}"


def _json(tar: tarfile.TarFile, name: str) -> dict[str, Any]:
    try:
        member = tar.extractfile(name)
    except KeyError as exc:
        raise ImageError(f"{name} missing from the archive") from exc
    if member is None:
        raise ImageError(f"{name}: not a file in the archive")
    data: dict[str, Any] = json.loads(member.read())
    return data


@contextlib.contextmanager
def _layer_tar(outer: tarfile.TarFile, layer: Layer) -> Iterator[tarfile.TarFile]:
    """The tar inside a (gzip-compressed) layer blob, read as a stream."""
    member = outer.extractfile(_blob(layer.digest))
    if member is None:
        raise ImageError(f"{layer.digest}: not a file in the archive")
    stream = gzip.GzipFile(fileobj=member) if "gzip" in layer.media_type else member
    with tarfile.open(fileobj=stream, mode="r|") as inner:
        yield inner


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def report(archive: Path) -> str:
    """What a build prints at its end: size, run settings, and each layer with its step."""
    image = Image.load(archive)
    run = image.runtime
    unpacked = [image.layer_bytes(layer) for layer in image.layers]
    lines = [
        f"image {archive.name}: {_mb(sum(unpacked))} unpacked, "
        f"{_mb(sum(layer.size for layer in image.layers))} compressed "
        f"in {len(image.layers)} layers (archive {_mb(archive.stat().st_size)})",
        f"  user {run.get('User')!r}, entrypoint {run.get('Entrypoint')}, cmd {run.get('Cmd')}",
    ]
    lines += [f"  label {key}={value}" for key, value in sorted(image.labels.items())]
    lines.append("  layers (unpacked, compressed, step):")
    for layer, size in zip(image.layers, unpacked, strict=True):
        step = " ".join(layer.created_by.split())
        lines.append(f"    {_mb(size):>9} {_mb(layer.size):>9}  {step[:110]}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """`report ARCHIVE`: print the report; exit 1 with a message when it cannot be read."""
    if len(argv) != 2 or argv[0] != "report":
        print("usage: python -m tools.image.oci report ARCHIVE", file=sys.stderr)
        return 2
    try:
        print(report(Path(argv[1])))
    except ImageError as exc:
        print(f"image: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
