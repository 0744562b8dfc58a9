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


def _not_yet_indexed(*, memo: Any, **_: Any) -> bool:
    runtime: Runtime = memo.runtime
    return not runtime.indexed.is_set()


@kopf.on.event("namespaces", when=_not_yet_indexed)
def mark_indexed(*, memo: Any, **_: Any) -> None:
    """kopf calls event handlers only after every index is pre-populated: we are ready.

    The filter turns the handler off once it has fired, so namespace events cost nothing.
    """
    runtime: Runtime = memo.runtime
    runtime.indexed.set()
