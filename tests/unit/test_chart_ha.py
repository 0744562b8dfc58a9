"""High availability (aigov.replicas): which kopf handlers every replica runs, and which only
the peering leader runs. The behaviour with real processes is in tests/e2e/test_chart.py."""

from __future__ import annotations

from typing import Any

import kopf
import pytest

import aigov.handlers  # noqa: F401 - registers the handlers with kopf's default registry
from aigov import replicas

SUBREGISTRIES = ("_activities", "_indexing", "_watching", "_spawning", "_changing", "_webhooks")


def _ids(registry: kopf.OperatorRegistry, sub: str) -> list[str]:
    return sorted(str(h.id) for h in getattr(registry, sub).get_all_handlers())


def _modules(registry: kopf.OperatorRegistry, sub: str) -> set[str]:
    return {h.fn.__module__ for h in getattr(registry, sub).get_all_handlers()}


@pytest.fixture(scope="module")
def halves() -> tuple[kopf.OperatorRegistry, kopf.OperatorRegistry, kopf.OperatorRegistry]:
    source = kopf.get_default_registry()
    serving, reconciling = replicas.split(source)
    return source, serving, reconciling


def test_no_handler_is_lost(halves: Any) -> None:
    source, serving, reconciling = halves
    for sub in SUBREGISTRIES:
        handlers = getattr(source, sub).get_all_handlers()
        split = [*getattr(serving, sub).get_all_handlers()]
        split += [*getattr(reconciling, sub).get_all_handlers()]
        assert {id(h) for h in handlers} == {id(h) for h in split}, sub


def test_every_replica_serves_admission_from_live_indexes(halves: Any) -> None:
    source, serving, reconciling = halves
    assert _ids(serving, "_webhooks") == _ids(source, "_webhooks")
    assert _ids(reconciling, "_webhooks") == []
    # Both sides index everything: the admission side decides from its indexes, the
    # reconcilers read theirs; a paused reconciler must not freeze admission's.
    assert _ids(serving, "_indexing") == _ids(source, "_indexing") != []
    assert _ids(reconciling, "_indexing") == _ids(source, "_indexing")
    assert "mark_indexed" in _ids(serving, "_watching")  # the readiness gate
    assert {"start", "stop"} <= set(_ids(serving, "_activities"))  # health endpoint


def test_only_the_leader_reconciles(halves: Any) -> None:
    source, serving, reconciling = halves
    for sub in ("_spawning", "_changing"):
        assert _ids(serving, sub) == []
        assert _ids(reconciling, sub) == _ids(source, sub)
    assert _modules(serving, "_watching") <= set(replicas.SERVING_MODULES)
    assert "aigov.handlers.reconcile" in _modules(reconciling, "_watching")
    assert not _modules(reconciling, "_watching") & set(replicas.SERVING_MODULES)
    assert not _modules(serving, "_activities") - {
        *replicas.SERVING_MODULES,
        "kopf._core.intents.piggybacking",
    }


def test_both_sides_log_in(halves: Any) -> None:
    _, serving, reconciling = halves
    for registry in (serving, reconciling):
        kinds = {h.activity for h in registry._activities.get_all_handlers()}
        assert "authentication" in kinds


def test_handlers_of_new_modules_reconcile() -> None:
    """A handler outside the admission side's modules is leader-only by default: it might
    write, and two replicas writing is what peering is there to prevent."""
    registry = kopf.OperatorRegistry()

    @kopf.on.event("pods", registry=registry, id="somewhere-else")
    def somewhere_else(**_: Any) -> None: ...

    @kopf.on.startup(registry=registry, id="warm-up")
    def warm_up(**_: Any) -> None: ...

    @kopf.daemon("pods", registry=registry, id="watch-over")
    async def watch_over(**_: Any) -> None: ...

    serving, reconciling = replicas.split(registry)
    assert _ids(serving, "_watching") == _ids(serving, "_activities") == []
    assert _ids(reconciling, "_watching") == ["somewhere-else"]
    assert _ids(reconciling, "_activities") == ["warm-up"]
    assert _ids(reconciling, "_spawning") == ["watch-over"]


def test_priority_is_pinned_or_random() -> None:
    assert replicas.priority(200) == 200
    drawn = {replicas.priority() for _ in range(20)}
    assert len(drawn) > 1
    assert all(1 <= p < 2**31 for p in drawn)
