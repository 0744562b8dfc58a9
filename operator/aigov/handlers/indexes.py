"""In-memory indexes the admission path reads; kopf keeps them current from watches."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from aigov.api.constants import MODE_LABEL
from aigov.handlers.runtime import Runtime


@kopf.index("namespaces")
def namespace_modes(*, name: str, labels: Mapping[str, str], **_: Any) -> dict[str, str | None]:
    """namespace -> its aigov.io/mode label (None when unlabelled)."""
    return {name: labels.get(MODE_LABEL)}


@kopf.on.event("namespaces")
def mark_indexed(*, memo: Any, **_: Any) -> None:
    """kopf calls event handlers only after every index is pre-populated: we are ready."""
    runtime: Runtime = memo.runtime
    if not runtime.indexed.is_set():
        runtime.indexed.set()
