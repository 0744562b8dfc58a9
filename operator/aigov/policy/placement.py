"""Rule PlacementViolation: a governed pod may only be able to land on its model's pools.

A template is compliant when every node it could be scheduled on (see scheduling.py) is in an
allowed pool, it asks for no more GPUs than the policy allows, and, under
requireExclusiveGPU, none of those nodes shares its GPUs. Judged against the nodes the
cluster has now: a pod that could land outside the pools today is refused today; inject mode
pins pods to the pools' labels so nodes added later cannot change the answer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aigov.api.constants import Reason
from aigov.api.enums import RiskClass
from aigov.api.models import GovernedModel, NodePool, PlacementPolicy
from aigov.policy.decision import Violation
from aigov.policy.gpu import DEFAULT_RULES, AcceleratorRules, QuantityError, accelerators_per_pod
from aigov.policy.scheduling import NodeInfo, candidates, node_set
from aigov.policy.workload import PodTemplate, Workload

SHARING_LABEL = "nvidia.com/gpu.sharing-strategy"


def in_pool(node: NodeInfo, pool: NodePool) -> bool:
    """A node belongs to a pool when it carries every label of the pool's selector."""
    return all(node.labels.get(k) == v for k, v in pool.node_selector.items())


def pool_of(node: NodeInfo, pools: Sequence[NodePool]) -> str | None:
    """The first pool of `pools` the node belongs to, if any."""
    return next((p.name for p in pools if in_pool(node, p)), None)


def shares_gpus(node: NodeInfo) -> bool:
    """GPU Feature Discovery marks time-slicing and MPS; anything but none is shared."""
    strategy = node.labels.get(SHARING_LABEL)
    return strategy is not None and strategy != "none"


def _pinned_elsewhere(
    template: PodTemplate, nodes: Sequence[NodeInfo], pools: Sequence[NodePool]
) -> list[str]:
    """Nodes the pod's own nodeSelector and tolerations aim at, when all are outside the pools.

    A pod that can land nowhere because its nodeSelector contradicts the pools' affinity
    (e.g. injected) is a request to run elsewhere: refuse it rather than leave it Pending.
    """
    if not template.node_selector:
        return []
    own = dataclasses.replace(template, affinity={})
    aimed = candidates(own, nodes)
    if aimed and all(pool_of(n, pools) is None for n in aimed):
        return sorted(n.name for n in aimed)
    return []


def placement_violations(
    workload: Workload,
    policy: PlacementPolicy,
    nodes: Sequence[NodeInfo],
    rules: AcceleratorRules = DEFAULT_RULES,
) -> tuple[list[Violation], list[str]]:
    """Violations and warnings of every pod template of `workload` under `policy`."""
    pools = policy.spec.node_pools
    allowed = ", ".join(p.name for p in pools)
    name = policy.metadata.name
    found: list[Violation] = []
    warnings: list[str] = []
    for template in workload.templates:
        path = template.path
        where = candidates(template, nodes)
        outside = sorted(n.name for n in where if pool_of(n, pools) is None)
        if template.node_name and not where:
            found.append(
                Violation(
                    Reason.PLACEMENT_VIOLATION,
                    f"nodeName {template.node_name!r} is not a node of an allowed pool of "
                    f"PlacementPolicy {name!r} ({allowed}): no such node today",
                    f"{path}.nodeName",
                )
            )
        elif template.node_name and outside:
            found.append(
                Violation(
                    Reason.PLACEMENT_VIOLATION,
                    f"nodeName {template.node_name!r} is not in an allowed pool of "
                    f"PlacementPolicy {name!r} ({allowed})",
                    f"{path}.nodeName",
                )
            )
        elif outside:
            shown = ", ".join(outside[:5]) + (" ..." if len(outside) > 5 else "")
            found.append(
                Violation(
                    Reason.PLACEMENT_VIOLATION,
                    f"the pod could be scheduled on nodes outside the allowed pools of "
                    f"PlacementPolicy {name!r} ({allowed}): {shown}; pin it with a "
                    f"nodeSelector or required node affinity on the pools' labels",
                    path,
                )
            )
        if policy.spec.require_exclusive_gpu:
            shared = sorted(n.name for n in where if shares_gpus(n))
            if shared:
                found.append(
                    Violation(
                        Reason.PLACEMENT_VIOLATION,
                        f"PlacementPolicy {name!r} requires exclusive GPUs, but the pod could "
                        f"land on nodes whose GPUs are shared ({SHARING_LABEL} not none): "
                        f"{', '.join(shared[:5])}",
                        path,
                    )
                )
        if not where and not template.node_name:
            pinned = _pinned_elsewhere(template, nodes, pools)
            if pinned:
                found.append(
                    Violation(
                        Reason.PLACEMENT_VIOLATION,
                        f"the pod's nodeSelector pins it to nodes outside the allowed pools of "
                        f"PlacementPolicy {name!r} ({allowed}): {', '.join(pinned[:5])}",
                        f"{path}.nodeSelector",
                    )
                )
            else:
                warnings.append(
                    f"aigov: no node matches {path} today; it stays Pending until one in "
                    f"{allowed} appears"
                )
        limit = policy.spec.max_gpus_per_pod
        if limit is not None:
            found.extend(_count_violations(template, limit, name, rules))
    return found, warnings


def _count_violations(
    template: PodTemplate, limit: int, policy: str, rules: AcceleratorRules
) -> list[Violation]:
    """maxGPUsPerPod counts every accelerator resource: 56 MIG slices are 56 devices."""
    path = template.path
    try:
        counts = accelerators_per_pod(template, rules)
    except QuantityError as exc:
        return [Violation(Reason.PLACEMENT_VIOLATION, str(exc), path)]
    total = sum(counts.values())
    if total <= limit:
        return []
    if len(counts) == 1:
        what = next(iter(counts))
    else:
        what = "accelerators (" + ", ".join(f"{k}: {v}" for k, v in counts.items()) + ")"
    return [
        Violation(
            Reason.PLACEMENT_VIOLATION,
            f"the pod asks for {total} {what}; PlacementPolicy {policy!r} allows at most "
            f"{limit} per pod",
            f"{path}.containers",
        )
    ]


@dataclass(frozen=True)
class PlacementContext:
    """What the placement rule reads besides the workload: policies, nodes, configuration."""

    policies: Mapping[str, PlacementPolicy]
    nodes: Sequence[NodeInfo]
    """Held as a NodeSet: grouped by labels and taints once per context, so every request
    judged against a cached context runs the filters per group (scheduling.candidates)."""
    required_for: frozenset[RiskClass] = frozenset({RiskClass.HIGH})
    """Risk classes whose models must name an existing PlacementPolicy."""
    accelerators: AcceleratorRules = DEFAULT_RULES
    """What counts as an accelerator resource, for maxGPUsPerPod."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", node_set(self.nodes))


@dataclass(frozen=True)
class Resolution:
    """Whether a model's placement policy is resolved, as for the PlacementResolved condition."""

    policy: PlacementPolicy | None
    resolved: bool
    reason: str
    message: str


def resolve(model: GovernedModel, ctx: PlacementContext) -> Resolution:
    """Find the model's PlacementPolicy; unresolved is only a problem where it is required."""
    name = model.spec.placement_policy
    required = model.spec.risk_class in ctx.required_for
    klass = model.spec.risk_class.value
    if name is None:
        if required:
            return Resolution(
                None,
                False,
                "PolicyRequired",
                f"a {klass}-risk model must name a PlacementPolicy in spec.placementPolicy",
            )
        return Resolution(None, True, "NotRequired", f"no placement policy needed for {klass} risk")
    policy = ctx.policies.get(name)
    if policy is None:
        return Resolution(
            None, not required, "PolicyNotFound", f"PlacementPolicy {name!r} not found"
        )
    return Resolution(
        policy, True, "Resolved", f"PlacementPolicy {name!r} ({policy.spec.mode.value})"
    )


def model_placement_violations(
    workload: Workload, model: GovernedModel, ctx: PlacementContext
) -> tuple[list[Violation], list[str]]:
    """Placement violations of a workload of `model`, including an unresolved policy."""
    resolution = resolve(model, ctx)
    if resolution.policy is not None:
        return placement_violations(workload, resolution.policy, ctx.nodes, ctx.accelerators)
    if not resolution.resolved:
        return [
            Violation(
                Reason.PLACEMENT_VIOLATION,
                f"GovernedModel {model.metadata.name!r}: {resolution.message}",
                "metadata.labels[aigov.io/model]",
            )
        ], []
    if model.spec.placement_policy is not None:
        return [], [f"aigov: {resolution.message}: placement is not checked"]
    return [], []
