"""Rule PlacementViolation for reserved pools: a reserved GPU pool runs only approved models.

A PlacementPolicy with `reservePools: true` reserves its node pools for the approved models
whose own PlacementPolicy allows them. Any other pod, from any namespace, governed or not,
that could land on a node of such a pool (judged with the scheduler's filters of
scheduling.py against the nodes the cluster has now) is refused: the expensive, confidential
or data-resident GPUs of a platform are not first-come, first-served.

This module answers only where a workload could land and whether its model's policy allows
the reserved nodes among them. Whether the model is approved, and whether the workload runs
what the model approved (its images and weights), is the other rules' job: admission judges a
workload that could land on a reserved pool by every rule, in enforce mode, wherever it comes
from (admission/workloads.py), because otherwise the `aigov.io/model` label alone, a claim,
would open the pool.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aigov.api.constants import Reason
from aigov.api.models import GovernedModel, PlacementPolicy
from aigov.policy.decision import Violation
from aigov.policy.placement import in_pool, pool_of
from aigov.policy.scheduling import NodeInfo, candidates
from aigov.policy.workload import PodTemplate, Workload


@dataclass(frozen=True)
class Reservation:
    """One reserved pool: the policy that reserves it and the pool's name."""

    policy: str
    pool: str

    def describe(self) -> str:
        return f"{self.pool} (PlacementPolicy {self.policy})"


def reservations(
    policies: Mapping[str, PlacementPolicy], nodes: Sequence[NodeInfo]
) -> dict[str, tuple[Reservation, ...]]:
    """node name -> the reserved pools it belongs to; nodes of no reserved pool are absent."""
    reserving = [p for p in policies.values() if p.spec.reserve_pools]
    found: dict[str, tuple[Reservation, ...]] = {}
    for node in nodes:
        held = tuple(
            Reservation(policy.metadata.name, pool.name)
            for policy in reserving
            for pool in policy.spec.node_pools
            if in_pool(node, pool)
        )
        if held:
            found[node.name] = held
    return found


def reserved_candidates(
    template: PodTemplate, nodes: Sequence[NodeInfo], reserved: Mapping[str, object]
) -> list[NodeInfo]:
    """The reserved nodes a pod of `template` could be scheduled on."""
    if not reserved:
        return []
    return [n for n in candidates(template, nodes) if n.name in reserved]


def exposed(workload: Workload, nodes: Sequence[NodeInfo], reserved: Mapping[str, object]) -> bool:
    """Whether any pod of `workload` could land on a reserved node."""
    return any(reserved_candidates(t, nodes, reserved) for t in workload.templates)


def _pools_text(nodes: Sequence[NodeInfo], reserved: Mapping[str, tuple[Reservation, ...]]) -> str:
    pools = dict.fromkeys(r.describe() for n in nodes for r in reserved[n.name])
    return ", ".join(pools)


def untainted(
    reserved: Mapping[str, tuple[Reservation, ...]], nodes: Sequence[NodeInfo]
) -> list[str]:
    """Reserved nodes without a NoSchedule/NoExecute taint of their own (node.kubernetes.io/
    taints are the node lifecycle's, tolerated by many pods): a pod that asks for nothing
    could land there without the webhook's matchConditions calling aigov."""
    return sorted(
        n.name
        for n in nodes
        if n.name in reserved
        and not any(
            t.effect in {"NoSchedule", "NoExecute"} and not t.key.startswith("node.kubernetes.io/")
            for t in n.taints
        )
    )


def reserved_pool_violations(
    workload: Workload,
    model: GovernedModel | None,
    policies: Mapping[str, PlacementPolicy],
    nodes: Sequence[NodeInfo],
) -> list[Violation]:
    """A violation for each pod template that could land on reserved nodes its model's
    PlacementPolicy does not allow (all of them, when it names no model, or its model does
    not exist or names no policy that exists)."""
    reserved = reservations(policies, nodes)
    if not reserved:
        return []
    own = policies.get(model.spec.placement_policy or "") if model is not None else None
    allowed = own.spec.node_pools if own is not None else []
    found = []
    for template in workload.templates:
        landing = reserved_candidates(template, nodes, reserved)
        outside = [n for n in landing if pool_of(n, allowed) is None]
        if not outside:
            continue
        pools = _pools_text(outside, reserved)
        names = ", ".join(sorted(n.name for n in outside)[:5])
        if model is None:
            who = (
                "they are reserved for approved GovernedModels whose PlacementPolicy allows "
                "them, and this workload names none"
            )
        elif own is None:
            policy = model.spec.placement_policy
            who = (
                f"GovernedModel {model.metadata.name!r} names no PlacementPolicy"
                if policy is None
                else f"PlacementPolicy {policy!r} of GovernedModel {model.metadata.name!r} "
                "does not exist"
            )
            who += ", so none of its pools is allowed there"
        else:
            who = (
                f"PlacementPolicy {own.metadata.name!r} of GovernedModel "
                f"{model.metadata.name!r} does not allow them"
            )
        at = f"{template.path}.nodeName" if template.node_name else template.path
        found.append(
            Violation(
                Reason.PLACEMENT_VIOLATION,
                f"the pod could be scheduled on nodes of reserved pool {pools}: {names}; "
                f"{who}. Pin it to another pool with a nodeSelector, or run it as an approved "
                "model whose PlacementPolicy allows the pool",
                at,
            )
        )
    return found
