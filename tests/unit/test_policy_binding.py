"""pods/binding by hand (issue 11): the target node is judged against the pod's model."""

from __future__ import annotations

import datetime as dt
from typing import Any

import builders
from builders import (
    H200_SELECTOR,
    NAMESPACE,
    T0,
    governed_model,
    model_approval,
    model_spec,
    node_pool,
    placement_policy,
    risk_assessment,
)
from tools.controlplane import nodes

from aigov.admission import binding
from aigov.admission.request import AdmissionRequest, UserInfo
from aigov.api.constants import Reason
from aigov.api.models import spec_hash
from aigov.policy.binding import judge_binding
from aigov.policy.placement import PlacementContext
from aigov.policy.scheduling import node_info
from aigov.policy.standing import Evidence

FLEET = [node_info(m) for m in nodes.all_nodes()]
NOW = T0 + dt.timedelta(days=1)
EU = [node_pool("h100-eu"), node_pool("h200-eu", H200_SELECTOR)]
SPEC = model_spec(placementPolicy="confidential-eu")
HASH = spec_hash(SPEC)


def ctx(reserved: bool) -> PlacementContext:
    policy = placement_policy("confidential-eu", EU, reservePools=reserved)
    return PlacementContext({"confidential-eu": policy}, FLEET)


def evidence(approved: bool = True) -> Evidence:
    return Evidence(
        namespace=NAMESPACE,
        name=builders.MODEL_NAME,
        model=governed_model(SPEC),
        assessments=(risk_assessment(HASH),),
        approvals=(model_approval(HASH),) if approved else (),
    )


def codes(target: str, ev: Evidence | None, reserved: bool = True) -> tuple[Reason, ...]:
    return judge_binding("p", target, ev, ctx(reserved), NOW).codes


def test_an_unlabelled_pod_may_not_be_bound_to_a_reserved_pool() -> None:
    assert codes("h100-eu-0", None) == (Reason.PLACEMENT_VIOLATION,)
    assert codes("a100-shared-us-0", None) == ()
    assert codes("h100-eu-0", None, reserved=False) == ()


def test_a_models_pod_stays_in_its_pools() -> None:
    assert codes("h200-eu-0", evidence()) == ()
    (violation,) = judge_binding("p", "a100-shared-us-0", evidence(), ctx(False), NOW).violations
    assert violation.path == "target.name"
    assert "outside the pools of GovernedModel" in violation.message


def test_a_reserved_pool_takes_only_approved_models() -> None:
    decision = judge_binding("p", "h100-eu-0", evidence(approved=False), ctx(True), NOW)
    assert decision.codes == (Reason.PLACEMENT_VIOLATION,)
    assert "is not approved" in decision.violations[0].message


def test_an_unknown_node_is_refused() -> None:
    assert codes("nowhere-0", None) == (Reason.PLACEMENT_VIOLATION,)


def test_the_admission_outcome_refuses_in_every_mode() -> None:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "p", "namespace": NAMESPACE},
        "target": {"apiVersion": "v1", "kind": "Node", "name": "h100-eu-0"},
    }
    request = AdmissionRequest(
        uid="u", operation="CREATE", group="", version="v1", resource="pods", kind="Binding",
        namespace=NAMESPACE, name="p", user=UserInfo("mallory"), object=body,
        subresource="binding",
    )  # fmt: skip
    outcome = binding.judge(request, None, lambda ns, name: evidence(), ctx(True), NOW)
    assert not outcome.allowed
    assert outcome.message.startswith(f"aigov refused Binding {NAMESPACE}/p (binding): ")
