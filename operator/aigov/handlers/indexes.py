"""In-memory indexes the admission path reads; kopf keeps them current from watches.

Objects are parsed once here, when their watch event arrives, so an admission decision is
a few dictionary lookups over typed objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from aigov import logs
from aigov.api.base import InvalidResource
from aigov.api.constants import GROUP, MODE_LABEL, STOP_LABEL, VERSION
from aigov.api.enums import RiskClass
from aigov.api.models import GovernedModel, ModelApproval, PlacementPolicy, RiskAssessment
from aigov.handlers.runtime import Runtime
from aigov.policy.gpu import DEFAULT_RULES, AcceleratorRules
from aigov.policy.placement import PlacementContext
from aigov.policy.scheduling import NodeInfo, node_info
from aigov.policy.standing import Evidence
from aigov.policy.workload import Workload, parse_workload

log = logs.get("aigov.indexes")


@kopf.index("namespaces")
def namespace_modes(*, name: str, labels: Mapping[str, str], **_: Any) -> dict[str, str | None]:
    """namespace -> its aigov.io/mode label (None when unlabelled)."""
    return {name: labels.get(MODE_LABEL)}


@kopf.index("namespaces")
def namespace_stops(*, name: str, labels: Mapping[str, str], **_: Any) -> dict[str, bool]:
    """namespace -> whether aigov.io/stop-on-loss=true: stop workloads of lost models."""
    return {name: labels.get(STOP_LABEL) == "true"}


@kopf.index(GROUP, VERSION, "governedmodels")
def governed_models(
    *, namespace: str | None, name: str, body: Mapping[str, Any], **_: Any
) -> dict[tuple[str, str], GovernedModel | str]:
    """(namespace, name) -> the parsed model, or why it does not parse."""
    key = (namespace or "", name)
    try:
        return {key: GovernedModel.from_body(body)}
    except InvalidResource as exc:
        log.warning("invalid GovernedModel", namespace=namespace, name=name, error=str(exc))
        return {key: str(exc)}


@kopf.index(GROUP, VERSION, "riskassessments")
def risk_assessments(
    *, namespace: str | None, name: str, body: Mapping[str, Any], **_: Any
) -> dict[tuple[str, str], RiskAssessment] | None:
    """(namespace, model name) -> the RiskAssessments naming that model."""
    try:
        ra = RiskAssessment.from_body(body)
    except InvalidResource as exc:
        log.warning("invalid RiskAssessment", namespace=namespace, name=name, error=str(exc))
        return None
    return {(namespace or "", ra.spec.model_ref.name): ra}


@kopf.index(GROUP, VERSION, "modelapprovals")
def model_approvals(
    *, namespace: str | None, name: str, body: Mapping[str, Any], **_: Any
) -> dict[tuple[str, str], ModelApproval] | None:
    """(namespace, model name) -> the ModelApprovals naming that model."""
    try:
        ma = ModelApproval.from_body(body)
    except InvalidResource as exc:
        log.warning("invalid ModelApproval", namespace=namespace, name=name, error=str(exc))
        return None
    return {(namespace or "", ma.spec.model_ref.name): ma}


def _workload(
    namespace: str | None, name: str, body: Mapping[str, Any]
) -> dict[tuple[str, str], Workload]:
    return {(namespace or "", name): parse_workload(body)}


# Scalable kinds, so a scale subresource request (whose body is only a Scale) can be judged
# against the pod template of the object it scales.
@kopf.index("apps", "v1", "deployments")
def deployments(*, namespace: str | None, name: str, body: Mapping[str, Any], **_: Any) -> Any:
    """(namespace, name) -> Workload view of each Deployment."""
    return _workload(namespace, name, body)


@kopf.index("apps", "v1", "statefulsets")
def statefulsets(*, namespace: str | None, name: str, body: Mapping[str, Any], **_: Any) -> Any:
    """(namespace, name) -> Workload view of each StatefulSet."""
    return _workload(namespace, name, body)


@kopf.index("apps", "v1", "replicasets")
def replicasets(*, namespace: str | None, name: str, body: Mapping[str, Any], **_: Any) -> Any:
    """(namespace, name) -> Workload view of each ReplicaSet."""
    return _workload(namespace, name, body)


SCALABLE = frozenset({"deployments", "statefulsets", "replicasets"})
"""Resources with a scale subresource; each has an index of the same name above."""


@kopf.index(GROUP, VERSION, "placementpolicies")
def placement_policies(
    *, name: str, body: Mapping[str, Any], **_: Any
) -> dict[str, PlacementPolicy] | None:
    """name -> the parsed PlacementPolicy (cluster-scoped)."""
    try:
        return {name: PlacementPolicy.from_body(body)}
    except InvalidResource as exc:
        log.warning("invalid PlacementPolicy", name=name, error=str(exc))
        return None


@kopf.index("nodes")
def nodes(*, name: str, body: Mapping[str, Any], **_: Any) -> dict[str, NodeInfo]:
    """node name -> its labels and taints, for the placement rule and status.workloads."""
    return {name: node_info(body)}


def placement_context(
    indices: Mapping[str, Any],
    required_for: tuple[str, ...],
    accelerators: AcceleratorRules = DEFAULT_RULES,
) -> PlacementContext:
    """The placement rule's view of the cluster, from the indexes."""
    policies = {
        name: policy for name, store in indices["placement_policies"].items() for policy in store
    }
    node_list = [node for store in indices["nodes"].values() for node in store]
    return PlacementContext(
        policies=policies,
        nodes=node_list,
        required_for=frozenset(RiskClass(c) for c in required_for),
        accelerators=accelerators,
    )


def evidence(indices: Mapping[str, Any], namespace: str, name: str) -> Evidence:
    """Everything the indexes hold about model `name` in `namespace`."""
    key = (namespace, name)
    found = list(indices["governed_models"].get(key, []))
    model = next((m for m in found if isinstance(m, GovernedModel)), None)
    invalid = next((m for m in found if isinstance(m, str)), None)
    return Evidence(
        namespace=namespace,
        name=name,
        model=model,
        invalid=invalid if model is None else None,
        assessments=tuple(indices["risk_assessments"].get(key, [])),
        approvals=tuple(indices["model_approvals"].get(key, [])),
    )


def scaled_parent(
    indices: Mapping[str, Any], resource: str, namespace: str, name: str
) -> Workload | None:
    """The object a scale request scales, from its index; None if not (yet) known."""
    if resource not in SCALABLE:
        return None
    return next(iter(indices[resource].get((namespace, name), [])), None)


def _not_yet_indexed(*, memo: Any, **_: Any) -> bool:
    runtime: Runtime = memo.runtime
    return not runtime.indexed.is_set()


@kopf.on.event("namespaces", when=_not_yet_indexed)
async def mark_indexed(*, memo: Any, **_: Any) -> None:
    """kopf calls event handlers only after every index is pre-populated: we are ready.

    The filter turns the handler off once it has fired, so namespace events cost nothing.
    """
    runtime: Runtime = memo.runtime
    runtime.indexed.set()
