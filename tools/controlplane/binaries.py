"""Where the control-plane binaries are, and their pinned versions.

`KUBEBUILDER_ASSETS` (the envtest convention) wins when set; otherwise `.cache/bin`, filled by
build.sh. A missing binary is a clear error that says how to get it.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("AIGOV_CACHE", ROOT / ".cache"))
VERSIONS_FILE = Path(__file__).with_name("versions.env")


class MissingBinaryError(RuntimeError):
    """A control-plane binary is not where it should be."""


def versions() -> dict[str, str]:
    """The pins of versions.env as a dict (KUBERNETES_VERSION -> v1.x.y, ...)."""
    pins: dict[str, str] = {}
    for raw in VERSIONS_FILE.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            pins[key.strip()] = value.strip()
    return pins


def bin_dirs() -> list[Path]:
    """Directories searched for binaries, in order."""
    dirs = []
    if assets := os.environ.get("KUBEBUILDER_ASSETS"):
        dirs.append(Path(assets))
    dirs.append(CACHE / "bin")
    return dirs


def find(name: str) -> Path:
    """Path of binary `name`, or MissingBinaryError saying how to build it."""
    for directory in bin_dirs():
        candidate = directory / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    searched = ", ".join(str(d) for d in bin_dirs())
    raise MissingBinaryError(
        f"{name} not found in {searched}: run `make binaries` "
        "(builds it from the Go module proxy) or set KUBEBUILDER_ASSETS to a directory holding it"
    )
