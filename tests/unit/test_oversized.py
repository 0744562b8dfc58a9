"""Cost as a weapon (issue 10): scheduling constraints too large to evaluate are refused
unread, before the placement rule would run nodes x terms x expressions x values."""

from __future__ import annotations

import datetime as dt
from typing import Any

import builders
import pytest

from aigov.admission.request import AdmissionRequest, UserInfo
from aigov.admission.workloads import judge
from aigov.api.constants import Mode, Reason
from aigov.policy.placement import PlacementContext
from aigov.policy.scheduling import MAX_EXPRESSIONS, MAX_TERMS, MAX_TOLERATIONS, oversized
from aigov.policy.standing import Evidence
from aigov.policy.workload import parse_workload


def affinity(terms: int, expressions: int, values: int = 1) -> dict[str, Any]:
    expression = {"key": "pool", "operator": "In", "values": ["v"] * values}
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [expression] * expressions} for _ in range(terms)
                ]
            }
        }
    }


def pod(**spec: Any) -> dict[str, Any]:
    return builders.pod(builders.pod_spec(builders.container(gpus="1"), **spec), name="p")


def problems(**spec: Any) -> list[tuple[str, str]]:
    (template,) = parse_workload(pod(**spec)).templates
    return oversized(template)


def test_real_pods_are_far_below_the_limits() -> None:
    assert problems(affinity=affinity(2, 3, 4), tolerations=[{"operator": "Exists"}]) == []


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ({"affinity": affinity(MAX_TERMS + 1, 1)}, "nodeSelectorTerms"),
        ({"affinity": affinity(1, 55_000)}, "node-affinity expressions"),
        ({"affinity": affinity(1, 10, 1_000)}, "node-affinity values"),
        ({"tolerations": [{"operator": "Exists"}] * (MAX_TOLERATIONS + 1)}, "tolerations"),
    ],
    ids=["terms", "expressions", "values", "tolerations"],
)
def test_each_limit(spec: dict[str, Any], why: str) -> None:
    ((path, message),) = problems(**spec)
    assert why in message
    assert path.startswith("spec.")


def request(body: dict[str, Any]) -> AdmissionRequest:
    return AdmissionRequest(
        uid="u", operation="CREATE", group="", version="v1", resource="pods", kind="Pod",
        namespace="ns", name="p", user=UserInfo("tenant"), object=body,
    )  # fmt: skip


def lookup(namespace: str, name: str) -> Evidence:
    return Evidence(namespace=namespace, name=name)


@pytest.mark.parametrize("mode", [Mode.ENFORCE, Mode.WARN, Mode.AUDIT, None])
def test_refused_in_every_mode_before_any_rule(mode: Mode | None) -> None:
    """Also in an ungoverned namespace, where only the reserved-pool rule would read it."""
    body = pod(affinity=affinity(1, MAX_EXPRESSIONS * 100))
    ctx = PlacementContext(policies={}, nodes=[])
    outcome = judge(request(body), mode, lookup, dt.datetime.now(dt.UTC), placement=ctx)
    assert not outcome.allowed
    assert outcome.decision.codes == (Reason.PLACEMENT_VIOLATION,)
    assert "aigov does not evaluate scheduling constraints this large" in outcome.message
