"""Which workloads run a model, where, and which of them must carry a flag.

Input: the objects labelled `aigov.io/model=<name>` in the model's namespace (as listed by
the reconciler) and the node -> pool map; output: `status.workloads` entries and the flag
each top-level object should carry. Level-based: the flags follow from the model's state
now, so a missed event is repaired on the next pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aigov.api.constants import FLAGGED_ANNOTATION, GROUP
from aigov.api.kinds import Stop, workload_kinds
from aigov.api.models import WorkloadRef

TOP_LEVEL_KINDS = frozenset(k.kind for k in workload_kinds().kinds if k.top_level)
"""Kinds a person applies (kinds table); ReplicaSets and Pods they own are reported under
them."""
_SCALED = frozenset(k.kind for k in workload_kinds().kinds if k.stop is Stop.SCALE)
_SUSPENDED = frozenset(k.kind for k in workload_kinds().kinds if k.stop is Stop.SUSPEND)
_UNSTOPPABLE = frozenset(k.kind for k in workload_kinds().kinds if k.stop is Stop.NONE)


REPLICAS_BEFORE_STOP = f"{GROUP}/replicas-before-stop"
"""Replicas a workload had when aigov scaled it to zero (AIGOV_STOP_WORKLOADS)."""

PLACEMENT_FLAG = "PlacementViolation"
"""Flag of a workload with a pod on a node outside its model's pools."""


@dataclass(frozen=True)
class Flag:
    """The flag one top-level object should carry: `reason` None means no flag."""

    kind: str
    api_version: str
    namespace: str
    name: str
    uid: str
    current: str | None
    reason: str | None
    running: bool = False
    """Whether the object still asks for pods: replicas above 0, or a Job/CronJob not
    suspended. Bare Pods and InferenceServices count as not stoppable (False)."""
    replicas: int | None = None

    @property
    def changed(self) -> bool:
        return self.current != self.reason

    @property
    def stoppable(self) -> bool:
        """Whether stop-on-loss can bring it to a safe state (replicas or suspend); a
        DaemonSet, a bare Pod or an InferenceService needs a person."""
        return self.kind not in _UNSTOPPABLE

    @property
    def involved(self) -> dict[str, str]:
        """The object reference of an Event about this workload."""
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "uid": self.uid,
        }

    def stop_patch(self) -> dict[str, Any] | None:
        """The merge patch that brings this flagged workload to a safe state, if it runs.

        Scaled objects go to 0 replicas (the count before is kept in an annotation, for the
        person who restores it once the model is approved again); Jobs and CronJobs are
        suspended. Never applied to an unflagged workload.
        """
        if self.reason is None or not self.running:
            return None
        if self.kind in _SUSPENDED:
            return {"spec": {"suspend": True}}
        annotations = {REPLICAS_BEFORE_STOP: str(self.replicas)}
        return {"metadata": {"annotations": annotations}, "spec": {"replicas": 0}}


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def _owner(obj: Mapping[str, Any]) -> tuple[str, str] | None:
    for ref in _meta(obj).get("ownerReferences") or []:
        if isinstance(ref, Mapping) and ref.get("controller"):
            return str(ref.get("kind")), str(ref.get("name"))
    return None


def _top(
    pod: Mapping[str, Any], replicasets: Mapping[str, tuple[str, str] | None]
) -> tuple[str, str]:
    """The object a person applied that owns this pod (the pod itself when bare)."""
    owner = _owner(pod)
    if owner is None:
        return "Pod", str(_meta(pod).get("name"))
    if owner[0] == "ReplicaSet":
        return replicasets.get(owner[1]) or owner
    return owner


def workload_refs(
    objects: Iterable[Mapping[str, Any]],
    pools: Mapping[str, str],
    flag_reason: str | None,
    misplaced: Callable[[str], bool] | None = None,
) -> tuple[list[WorkloadRef], list[Flag]]:
    """status.workloads entries and flags for the objects labelled with the model.

    `flag_reason` is None when the model may run, else why its running workloads are flagged.
    `misplaced(node)` says a node is outside the model's pools: a workload with a pod there
    is flagged PlacementViolation (e.g. after its policy changed).
    """
    items = list(objects)
    replicasets = {
        str(_meta(o).get("name")): _owner(o) for o in items if o.get("kind") == "ReplicaSet"
    }
    nodes: dict[tuple[str, str], set[str]] = {}
    for pod in (o for o in items if o.get("kind") == "Pod"):
        spec = pod.get("spec") if isinstance(pod.get("spec"), Mapping) else {}
        top = _top(pod, replicasets)
        node = spec.get("nodeName") if isinstance(spec, Mapping) else None
        nodes.setdefault(top, set())
        if isinstance(node, str) and node:
            nodes[top].add(node)
    tops: list[Mapping[str, Any]] = [o for o in items if o.get("kind") in TOP_LEVEL_KINDS]
    # Pods and ReplicaSets a person applied directly are their own workloads.
    tops += [o for o in items if o.get("kind") in {"Pod", "ReplicaSet"} and _owner(o) is None]
    refs: list[WorkloadRef] = []
    flags: list[Flag] = []
    for obj in sorted(tops, key=lambda o: (str(o.get("kind")), str(_meta(o).get("name")))):
        meta = _meta(obj)
        kind, name = str(obj.get("kind")), str(meta.get("name"))
        ran_on = sorted(nodes.get((kind, name), set()))
        reason = flag_reason
        if reason is None and misplaced is not None and any(misplaced(n) for n in ran_on):
            reason = PLACEMENT_FLAG
        annotations = (
            meta.get("annotations") if isinstance(meta.get("annotations"), Mapping) else {}
        )
        current = annotations.get(FLAGGED_ANNOTATION) if isinstance(annotations, Mapping) else None
        refs.append(
            WorkloadRef(
                kind=kind,
                name=name,
                nodes=ran_on,
                pools=sorted({pools[n] for n in ran_on if n in pools}),
                flagged=reason is not None,
                reason=reason,
            )
        )
        flags.append(
            Flag(
                kind=kind,
                api_version=str(obj.get("apiVersion")),
                namespace=str(meta.get("namespace")),
                name=name,
                uid=str(meta.get("uid")),
                current=current if isinstance(current, str) else None,
                reason=reason,
                running=_running(obj),
                replicas=_spec_replicas(obj),
            )
        )
    return refs, flags


def _spec_replicas(obj: Mapping[str, Any]) -> int | None:
    spec = obj.get("spec")
    if obj.get("kind") not in _SCALED or not isinstance(spec, Mapping):
        return None
    value = spec.get("replicas", 1)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _running(obj: Mapping[str, Any]) -> bool:
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        return False
    if obj.get("kind") in _SUSPENDED:
        return spec.get("suspend") is not True
    replicas = _spec_replicas(obj)
    return replicas is not None and replicas > 0


def flag_changes(flags: Sequence[Flag]) -> list[Flag]:
    """The flags whose annotation must be written or removed."""
    return [f for f in flags if f.changed]
