"""Checks of an evidence pack shared by the unit and e2e tests: the official CycloneDX 1.6
schema (vendored, resolved offline), and report.html as a real Chromium renders it."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

ROOT = Path(__file__).resolve().parents[1]
CYCLONEDX = ROOT / "tests" / "fixtures" / "cyclonedx"
BOM_SCHEMA_ID = "http://cyclonedx.org/schema/bom-1.6.schema.json"


@cache
def bom_validator() -> jsonschema.Draft7Validator:
    """The bom-1.6 validator; its $refs to spdx and jsf resolve from the vendored files."""
    schemas = {
        name: json.loads((CYCLONEDX / name).read_text())
        for name in ("bom-1.6.schema.json", "spdx.schema.json", "jsf-0.82.schema.json")
    }
    registry: Registry[Any] = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in schemas.values()
    )
    root = schemas["bom-1.6.schema.json"]
    assert root["$id"] == BOM_SCHEMA_ID
    return jsonschema.Draft7Validator(root, registry=registry)


def bom_errors(document: Mapping[str, Any]) -> list[str]:
    """Every schema error of a BOM, each with its path; empty when it validates."""
    return [
        f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
        for e in bom_validator().iter_errors(document)
    ]


@cache
def chromium() -> str:
    """Chromium from Debian's packages, installed by the project's script when missing."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    done = subprocess.run(
        ["bash", str(ROOT / "tools" / "chromium.sh")], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"cannot get chromium (tools/chromium.sh): {done.stderr.strip()}")
    return done.stdout.strip().splitlines()[-1]


def _browser(*args: str) -> subprocess.CompletedProcess[bytes]:
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--no-first-run", "--disable-extensions", *args]  # fmt: skip
    return subprocess.run(command, capture_output=True, check=True, timeout=120)


def dump_dom(page: Path) -> str:
    """The DOM after Chromium loaded and laid out the page (`--dump-dom`)."""
    return _browser("--dump-dom", page.resolve().as_uri()).stdout.decode()


def screenshot(page: Path, png: Path, width: int = 1280, height: int = 1600) -> Path:
    """A PNG of the page's first `height` pixels, as Chromium draws it."""
    _browser(f"--screenshot={png}", f"--window-size={width},{height}", page.resolve().as_uri())
    return png


@dataclass
class Dom:
    """What a test looks for in the rendered page."""

    models: list[str] = field(default_factory=list)
    """data-model of every model section, in order."""
    controls: dict[str, list[str]] = field(default_factory=dict)
    """framework -> data-control of its table's rows."""
    nodes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """model -> (kind, id) of the lineage SVG's nodes."""
    svg_in_models: int = 0
    external: list[str] = field(default_factory=list)
    """src/href values that would make a request (anything but #fragments and relative
    links into the pack)."""


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.dom = Dom()
        self._model: str | None = None
        self._framework: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "section" and "data-model" in found:
            self._model = found["data-model"]
            self.dom.models.append(self._model)
        if tag == "table" and "data-framework" in found:
            self._framework = found["data-framework"]
            self.dom.controls[self._framework] = []
        if tag == "tr" and self._framework and "data-control" in found:
            self.dom.controls[self._framework].append(found["data-control"])
        if tag == "svg" and "lineage" in found.get("class", "") and self._model:
            self.dom.svg_in_models += 1
        if tag == "g" and "data-node-id" in found and self._model:
            nodes = self.dom.nodes.setdefault(self._model, [])
            nodes.append((found.get("data-kind", ""), found["data-node-id"]))
        for key in ("src", "href"):
            value = found.get(key)
            if value and (":" in value.split("/", 1)[0] or value.startswith("//")):
                self.dom.external.append(value)
        if tag == "link" or tag == "script":
            self.dom.external.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._framework = None
        if tag == "section":
            self._model = None


def parse_dom(html: str) -> Dom:
    """The models, control rows and lineage nodes of report.html (or of its rendered DOM)."""
    parser = _Parser()
    parser.feed(html)
    return parser.dom


def png_colours(png: Path) -> tuple[int, int, int]:
    """(width, height, distinct colours) of an 8-bit RGB/RGBA PNG, decoded here (no Pillow):
    a blank page has one colour, a drawn report hundreds."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, idat, header = 8, b"", b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert (depth, colour) in {(8, 2), (8, 6)}, f"unexpected PNG format {depth}/{colour}"
    step = 4 if colour == 6 else 3
    stride = width * step
    raw = zlib.decompress(idat)
    previous = bytearray(stride)
    colours: set[bytes] = set()
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up = previous[i]
            corner = previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                line[i] = (line[i] + pred) & 0xFF
        if row % 8 == 0:
            colours.update(bytes(line[i : i + 3]) for i in range(0, stride, step * 4))
        previous = line
    return width, height, len(colours)
