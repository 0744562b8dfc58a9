"""Merge-style changes turned into the JSON Patch (RFC 6902) a mutating webhook returns.

The admission rules describe what they change as a nested mapping (a JSON merge patch:
a value sets, None removes). The API server only accepts JSON Patch from a webhook, and a
JSON Patch `add` fails on a missing parent, so each change is written against the object as
it is: missing parents are added whole, removals of absent keys are dropped. Walking only
the changed keys costs nothing on the (usual) request that changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

JsonPatch = list[dict[str, Any]]


def pointer(path: tuple[str, ...]) -> str:
    """RFC 6901 JSON Pointer of `path` (`~` and `/` escaped)."""
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in path)


def _without_none(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    return value


def from_merge(original: Mapping[str, Any], changes: Mapping[str, Any]) -> JsonPatch:
    """The JSON Patch that applies merge-style `changes` to `original`."""
    ops: JsonPatch = []
    _walk(original, changes, (), ops)
    return ops


def _walk(
    current: Mapping[str, Any], changes: Mapping[str, Any], at: tuple[str, ...], ops: JsonPatch
) -> None:
    for key, value in changes.items():
        path = (*at, key)
        present = key in current
        old = current.get(key)
        if value is None:
            if present:
                ops.append({"op": "remove", "path": pointer(path)})
        elif isinstance(value, Mapping) and isinstance(old, Mapping):
            _walk(old, value, path, ops)
        elif not present or old is None:
            ops.append({"op": "add", "path": pointer(path), "value": _without_none(value)})
        elif old != value:
            ops.append({"op": "replace", "path": pointer(path), "value": _without_none(value)})
