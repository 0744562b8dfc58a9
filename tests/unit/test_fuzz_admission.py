"""Fuzzing the admission path (issue 11, bad input): whatever shape a governed object takes,
the rules never crash and a GPU workload naming no model is never allowed because its body
confused the parser. 10,000 generated cases, deterministic per run (derandomized)."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import builders
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aigov.admission.request import AdmissionRequest, UserInfo
from aigov.admission.workloads import judge
from aigov.api.constants import Mode
from aigov.policy.standing import Evidence
from aigov.policy.workload import MalformedWorkload

pytestmark = pytest.mark.slow

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
"""Any JSON value, with NaN and odd strings: what a misbehaving client could send."""

# Fields a user may fill with anything without changing that the pod asks for a GPU and
# names no model (resources of containers[0] and every label stay as they are).
FREE = [
    ("spec", "replicas"),
    ("spec", "strategy"),
    ("metadata", "annotations"),
    ("spec", "template", "metadata", "annotations"),
    ("spec", "template", "spec", "nodeSelector"),
    ("spec", "template", "spec", "affinity"),
    ("spec", "template", "spec", "tolerations"),
    ("spec", "template", "spec", "volumes"),
    ("spec", "template", "spec", "initContainers"),
    ("spec", "template", "spec", "ephemeralContainers"),
    ("spec", "template", "spec", "runtimeClassName"),
    ("spec", "template", "spec", "resourceClaims"),
    ("spec", "template", "spec", "resources"),
    ("spec", "template", "spec", "nodeName"),
    ("spec", "template", "spec", "containers", 0, "args"),
    ("spec", "template", "spec", "containers", 0, "command"),
    ("spec", "template", "spec", "containers", 0, "env"),
    ("spec", "template", "spec", "containers", 0, "image"),
    ("spec", "template", "spec", "containers", 0, "volumeMounts"),
    ("spec", "template", "spec", "containers", 0, "securityContext"),
]


def ungoverned() -> dict[str, Any]:
    """A Deployment asking for a GPU, naming no model: always refused in enforce mode."""
    spec = builders.pod_spec(builders.container(gpus="1"))
    return builders.deployment(spec, name="llm", labels={"app": "llm"})


def request(obj: Any) -> AdmissionRequest:
    return AdmissionRequest(
        uid="fuzz", operation="CREATE", group="apps", version="v1", resource="deployments",
        kind="Deployment", namespace="team", name="llm", user=UserInfo("mallory"), object=obj,
    )  # fmt: skip


def lookup(namespace: str, name: str) -> Evidence:
    return Evidence(namespace=namespace, name=name)


def put(obj: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    node: Any = obj
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


@settings(
    max_examples=10_000,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(st.tuples(st.sampled_from(FREE), JSON), min_size=1, max_size=4))
def test_a_confused_body_never_lets_an_ungoverned_gpu_workload_through(
    edits: list[tuple[tuple[Any, ...], Any]],
) -> None:
    obj = ungoverned()
    for path, value in edits:
        put(obj, path, copy.deepcopy(value))
    outcome = judge(request(obj), Mode.ENFORCE, lookup, NOW)
    assert not outcome.allowed, edits
    assert outcome.message.startswith("aigov refused Deployment team/llm: ")


@settings(max_examples=2_000, derandomize=True, deadline=None)
@given(JSON)
def test_any_object_gets_a_verdict_or_a_clear_error(obj: Any) -> None:
    """Not a mapping, or no kind: MalformedWorkload (a clear refusal upstream); else a
    verdict. Never another exception."""
    try:
        outcome = judge(request(obj), Mode.ENFORCE, lookup, NOW)
    except MalformedWorkload:
        return
    assert isinstance(outcome.allowed, bool)
