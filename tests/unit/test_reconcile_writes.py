"""One failed flag or stop patch never keeps the other workloads unflagged or running."""

from __future__ import annotations

from typing import Any

import pytest

from aigov import kube
from aigov.handlers import reconcile
from aigov.reconcile.workloads import Flag


def flag(name: str) -> Flag:
    return Flag(
        kind="Deployment",
        api_version="apps/v1",
        namespace="ns",
        name=name,
        uid=f"uid-{name}",
        current=None,
        reason="Revoked",
        running=True,
        replicas=2,
    )


async def test_a_failed_patch_does_not_skip_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    written: list[tuple[str, dict[str, Any]]] = []

    async def merge_patch(kind: str, namespace: str, name: str, patch: dict[str, Any]) -> None:
        if name == "first":
            raise RuntimeError("conflict")
        written.append((name, patch))

    monkeypatch.setattr(kube, "merge_patch", merge_patch)
    monkeypatch.setattr(kube, "post_event", lambda *_: None)
    flags = (flag("first"), flag("second"))
    with pytest.raises(reconcile.WorkloadWriteError, match="2 workload writes failed"):
        await reconcile.write_workloads(flags, flags)
    assert [name for name, _ in written] == ["second", "second"]
    assert written[0][1] == {"metadata": {"annotations": {"aigov.io/flagged": "Revoked"}}}
    assert written[1][1]["spec"] == {"replicas": 0}
