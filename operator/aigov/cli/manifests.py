"""Read Kubernetes manifests the way people keep them: files, folders, stdin, many documents.

Helm-rendered and Kustomize output is multi-document YAML (and `kubectl get -o yaml` gives a
`List`), so every document of every file is one object, with where it came from: the file,
the document number and the line it starts on, for messages a person can act on.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SUFFIXES = (".yaml", ".yml", ".json")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it (about ten times faster), else the Python one."""


class ManifestError(ValueError):
    """A file that cannot be read as Kubernetes manifests; the message names file and line."""


class NotKubernetesError(ManifestError):
    """Well-formed YAML that is not a Kubernetes object (a CI workflow, a values file): a
    reader of a whole folder may skip such a file, where malformed YAML is always an error."""


@dataclass(frozen=True)
class Source:
    """Where a document came from."""

    file: str
    document: int
    """1-based position among the file's documents."""
    line: int
    """1-based line the document starts on."""

    def __str__(self) -> str:
        return f"{self.file}:{self.line} (document {self.document})"


@dataclass(frozen=True)
class Document:
    """One Kubernetes object and where it came from."""

    source: Source
    body: Mapping[str, Any]

    @property
    def kind(self) -> str:
        return str(self.body.get("kind"))

    @property
    def name(self) -> str:
        meta = self.body.get("metadata")
        name = meta.get("name") if isinstance(meta, Mapping) else None
        return str(name or (meta or {}).get("generateName") or "<unnamed>")


def _files(paths: Iterable[str]) -> Iterator[str]:
    for path in paths:
        if path == "-":
            yield path
            continue
        found = Path(path)
        if found.is_dir():
            yield from (str(p) for p in sorted(found.rglob("*")) if p.suffix in SUFFIXES)
        elif found.exists():
            yield path
        else:
            raise ManifestError(f"{path}: no such file or directory")


def _starts(text: str) -> list[int]:
    """The line each YAML document starts on (after `---` separators)."""
    starts = []
    for number, content in enumerate(text.splitlines(), start=1):
        if content.startswith("---"):
            starts.append(number + 1)
        elif not starts and content.strip() and not content.startswith("#"):
            starts.append(1)
    return starts or [1]


def read(paths: Iterable[str]) -> list[Document]:
    """Every object in the given files and folders (`-` is stdin), in order.

    Raises ManifestError for unreadable files, malformed YAML (with its line) and documents
    that are not Kubernetes objects (no apiVersion or kind).
    """
    documents: list[Document] = []
    for file in _files(paths):
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise ManifestError(f"{file}: cannot read: {exc}") from exc
        name = "<stdin>" if file == "-" else file
        try:
            loaded = list(yaml.load_all(text, Loader=_LOADER))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{name}:{mark.line + 1}" if mark is not None else name
            problem = getattr(exc, "problem", None) or str(exc)
            raise ManifestError(f"{where}: malformed YAML: {problem}") from exc
        starts = _starts(text)
        for index, body in enumerate(loaded, start=1):
            if body is None:
                continue
            line = starts[index - 1] if index - 1 < len(starts) else 1
            source = Source(name, index, line)
            documents.extend(_objects(body, source))
    return documents


def _objects(body: object, source: Source) -> Iterator[Document]:
    if not isinstance(body, Mapping) or not body.get("kind") or not body.get("apiVersion"):
        raise NotKubernetesError(
            f"{source}: not a Kubernetes object (it needs apiVersion and kind)"
        )
    if str(body["kind"]).endswith("List") and isinstance(body.get("items"), list):
        for item in body["items"]:
            yield from _objects(item, source)
        return
    yield Document(source, body)
