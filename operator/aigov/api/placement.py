"""PlacementPolicy: which GPU node pools a model may run on (crds/aigov.io_placementpolicies.yaml).

Pure data and computation: no kopf, no Kubernetes client, no I/O.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from aigov.api.base import ApiModel, Condition, Resource, find_condition
from aigov.api.enums import PlacementMode, TaintEffect, TolerationOperator


class Toleration(ApiModel):
    """A core/v1 Toleration, copied into pods in inject mode."""

    key: str | None = None
    """Taint key; None with operator Exists tolerates every taint."""
    operator: TolerationOperator | None = Field(None, strict=False)
    """Equal (the Kubernetes default when None) or Exists."""
    value: str | None = None
    """Taint value, with operator Equal."""
    effect: TaintEffect | None = Field(None, strict=False)
    """Taint effect matched; None matches all."""
    toleration_seconds: int | None = None
    """How long a NoExecute taint is tolerated."""


class NodePool(ApiModel):
    """A set of nodes picked by labels, e.g. GPU Feature Discovery's nvidia.com/gpu.product."""

    name: str
    """Unique within the policy; shown in status.workloads[].pools."""
    node_selector: dict[str, str]
    """Labels a node must have to be in the pool."""
    tolerations: list[Toleration] = Field(default_factory=list)
    """Tolerations of the pool's taints."""


class PlacementPolicySpec(ApiModel):
    """Where a model's workloads may run and how many GPUs they may take."""

    node_pools: list[NodePool]
    """The allowed pools; a pod must be pinned inside one of them."""
    max_gpus_per_pod: int | None = Field(None, alias="maxGPUsPerPod")
    """Most GPUs one pod may request; None means no limit."""
    require_exclusive_gpu: bool = Field(False, alias="requireExclusiveGPU")
    """Refuse shared GPUs (time-slicing, MPS, MIG slices), e.g. for confidential workloads."""
    mode: PlacementMode = Field(PlacementMode.VALIDATE, strict=False)
    """validate refuses misplaced pods; inject also pins pods that name no pool."""
    reserve_pools: bool = False
    """The pools are reserved for approved models whose policy allows them: any other pod,
    from any namespace, governed or not, that could land there is refused
    (PlacementViolation). See policy/reserved.py."""


class PlacementPolicyStatus(ApiModel):
    """Observed state of a PlacementPolicy, written only by the operator."""

    observed_generation: int | None = None
    """metadata.generation this status describes."""
    conditions: list[Condition] = Field(default_factory=list)
    """Conditions in the Kubernetes dialect."""

    def condition(self, type_: str) -> Condition | None:
        """The condition of that type, or None."""
        return find_condition(self.conditions, type_)


class PlacementPolicy(Resource):
    """A PlacementPolicy object (cluster-scoped): metadata, spec and status."""

    KIND: ClassVar[str] = "PlacementPolicy"

    spec: PlacementPolicySpec
    """The policy."""
    status: PlacementPolicyStatus = Field(default_factory=PlacementPolicyStatus)
    """Observed state."""
