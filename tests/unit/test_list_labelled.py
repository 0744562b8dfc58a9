"""kube.list_labelled: a kind whose API is not installed is asked once, not on every pass.

Eight optional kinds (KServe, Ray, ...) answered 404 to every pass of every model: with
1,000 models that was most of the operator's API calls and a queue of thousands of thread
pool jobs that never drained.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from aigov.kube import objects


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fake API: deployments exist (one labelled object), rayclusters are not installed."""
    seen: list[str] = []

    def call(method: str, path: str, *_: Any, **__: Any) -> dict[str, Any]:
        seen.append(path)
        if "rayclusters" in path:
            raise ApiException(status=404, reason="Not Found")
        return {"items": [{"metadata": {"name": "a"}}]}

    monkeypatch.setattr(objects, "call", call)
    monkeypatch.setattr(objects, "_absent", {})
    return seen


def _list() -> list[Any]:
    return asyncio.run(
        objects.list_labelled("ns", "aigov.io/model=m", ("Deployment", "RayCluster"))
    )


def test_an_absent_kind_is_not_asked_again_until_the_recheck(
    calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(objects.time, "monotonic", lambda: now[0])
    first = _list()
    assert [o["kind"] for o in first] == ["Deployment"]
    assert first[0]["apiVersion"] == "apps/v1"
    assert sum("rayclusters" in p for p in calls) == 1
    now[0] += objects.ABSENT_RECHECK_SECONDS - 1
    _list()
    assert sum("rayclusters" in p for p in calls) == 1, "asked again before the recheck"
    assert sum("deployments" in p for p in calls) == 2, "an installed kind is always asked"
    now[0] += 2
    _list()
    assert sum("rayclusters" in p for p in calls) == 2, "not asked again after the recheck"


def test_a_kind_installed_later_is_listed_from_the_recheck_on(
    calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [0.0]
    monkeypatch.setattr(objects.time, "monotonic", lambda: now[0])
    _list()
    monkeypatch.setattr(objects, "call", lambda *_a, **_k: {"items": [{"metadata": {}}]})
    now[0] += objects.ABSENT_RECHECK_SECONDS + 1
    assert [o["kind"] for o in _list()] == ["Deployment", "RayCluster"]
    assert objects._absent == {}


def test_other_errors_are_raised_not_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    def call(*_: Any, **__: Any) -> dict[str, Any]:
        raise ApiException(status=403, reason="Forbidden")

    monkeypatch.setattr(objects, "call", call)
    monkeypatch.setattr(objects, "_absent", {})
    with pytest.raises(ApiException):
        _list()
    assert objects._absent == {}
