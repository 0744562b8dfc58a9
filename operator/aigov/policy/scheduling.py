"""Where a pod could be scheduled: the scheduler's node filters that placement depends on.

Pure re-implementations of what kube-scheduler checks before a pod may land on a node:
`nodeName`, `nodeSelector`, required node affinity (In, NotIn, Exists, DoesNotExist, Gt, Lt
and matchFields on metadata.name) and taints with NoSchedule/NoExecute effects against the
pod's tolerations. Preferred affinity and resources are not filters of *where* a pod may go.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aigov.policy.workload import PodTemplate

_FILTERING_EFFECTS = frozenset({"NoSchedule", "NoExecute"})


@dataclass(frozen=True)
class Taint:
    """A node taint."""

    key: str
    value: str = ""
    effect: str = "NoSchedule"


@dataclass(frozen=True)
class NodeInfo:
    """What the placement rule knows of a node: its name, labels and taints."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: tuple[Taint, ...] = ()


def node_info(body: Mapping[str, Any]) -> NodeInfo:
    """NodeInfo of a Node object; tolerant of missing fields."""
    meta = body.get("metadata") if isinstance(body.get("metadata"), Mapping) else {}
    spec = body.get("spec") if isinstance(body.get("spec"), Mapping) else {}
    labels = meta.get("labels") if isinstance(meta, Mapping) else None
    raw_taints = spec.get("taints") if isinstance(spec, Mapping) else None
    taints = tuple(
        Taint(str(t.get("key", "")), str(t.get("value") or ""), str(t.get("effect", "")))
        for t in raw_taints or []
        if isinstance(t, Mapping)
    )
    return NodeInfo(
        name=str(meta.get("name", "")) if isinstance(meta, Mapping) else "",
        labels={str(k): str(v) for k, v in (labels or {}).items()},
        taints=taints,
    )


_INTEGER = re.compile(r"-?[0-9]+")
_INT64 = (-(2**63), 2**63 - 1)


def _int(value: str) -> int | None:
    """A label value as Kubernetes reads it for Gt/Lt: a decimal int64, nothing looser."""
    if not _INTEGER.fullmatch(value):
        return None
    number = int(value)
    return number if _INT64[0] <= number <= _INT64[1] else None


def _compare(op: str, actual: str, values: list[str]) -> bool:
    if len(values) != 1:
        return False
    mine, theirs = _int(actual), _int(values[0])
    if mine is None or theirs is None:
        return False
    return mine > theirs if op == "Gt" else mine < theirs


def expression_matches(expr: Mapping[str, Any], values_of: Mapping[str, str]) -> bool:
    """One NodeSelectorRequirement against a node's labels (or fields).

    Unknown operators match nothing, as the scheduler treats an invalid term.
    """
    key = str(expr.get("key", ""))
    op = str(expr.get("operator", ""))
    values = [str(v) for v in expr.get("values") or []]
    present = key in values_of
    actual = values_of.get(key, "")
    checks = {
        "In": lambda: present and actual in values,
        "NotIn": lambda: not present or actual not in values,
        "Exists": lambda: present,
        "DoesNotExist": lambda: not present,
        "Gt": lambda: present and _compare("Gt", actual, values),
        "Lt": lambda: present and _compare("Lt", actual, values),
    }
    check = checks.get(op)
    return bool(check()) if check is not None else False


def term_matches(term: Mapping[str, Any], node: NodeInfo) -> bool:
    """A NodeSelectorTerm: all its expressions and fields hold. An empty term matches none."""
    exprs = [e for e in term.get("matchExpressions") or [] if isinstance(e, Mapping)]
    fields = [e for e in term.get("matchFields") or [] if isinstance(e, Mapping)]
    if not exprs and not fields:
        return False
    return all(expression_matches(e, node.labels) for e in exprs) and all(
        expression_matches(f, {"metadata.name": node.name}) for f in fields
    )


def required_terms(affinity: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    """requiredDuringSchedulingIgnoredDuringExecution terms, or None when there are none."""
    node_affinity = affinity.get("nodeAffinity")
    if not isinstance(node_affinity, Mapping):
        return None
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    if not isinstance(required, Mapping):
        return None
    terms = required.get("nodeSelectorTerms")
    return [t for t in terms if isinstance(t, Mapping)] if isinstance(terms, list) else None


def tolerates(tolerations: Iterable[Mapping[str, Any]], taint: Taint) -> bool:
    """Whether any toleration tolerates `taint` (core/v1 semantics)."""
    for tol in tolerations:
        effect = tol.get("effect") or ""
        if effect and effect != taint.effect:
            continue
        key = tol.get("key") or ""
        operator = tol.get("operator") or "Equal"
        if operator == "Exists" and (not key or key == taint.key):
            return True
        if operator == "Equal" and key == taint.key and (tol.get("value") or "") == taint.value:
            return True
    return False


def schedulable_on(template: PodTemplate, node: NodeInfo) -> bool:
    """Whether the scheduler's placement filters let a pod of `template` land on `node`.

    With `nodeName` set the scheduler is skipped entirely and the kubelet accepts the pod
    regardless of taints with NoSchedule; only the name counts (bypass class 15).
    """
    if template.node_name:
        return template.node_name == node.name
    if any(node.labels.get(k) != v for k, v in template.node_selector.items()):
        return False
    terms = required_terms(template.affinity)
    if terms is not None and not any(term_matches(t, node) for t in terms):
        return False
    return all(
        tolerates(template.tolerations, taint)
        for taint in node.taints
        if taint.effect in _FILTERING_EFFECTS
    )


def candidates(template: PodTemplate, nodes: Sequence[NodeInfo]) -> list[NodeInfo]:
    """The nodes a pod of `template` could be scheduled on, among `nodes`."""
    return [node for node in nodes if schedulable_on(template, node)]


MAX_TERMS = 64
"""nodeSelectorTerms a pod may ask the placement rule to evaluate (real pods use a few)."""
MAX_EXPRESSIONS = 512
"""matchExpressions and matchFields, over all terms."""
MAX_VALUES = 4096
"""Values over all expressions."""
MAX_TOLERATIONS = 256
"""Tolerations; each is compared with every taint of every node."""


def oversized(template: PodTemplate) -> list[tuple[str, str]]:
    """(path, why) for each scheduling field too large to evaluate (issue 10, cost as a
    weapon): the placement rule runs nodes x terms x expressions x values on the event loop
    every admission shares, so one tenant's 55,000-expression pod must not stall the others.
    The limits are far above any real pod; what exceeds them is refused unread."""
    found: list[tuple[str, str]] = []
    terms = required_terms(template.affinity) or []
    where = f"{template.path}.affinity.nodeAffinity"
    if len(terms) > MAX_TERMS:
        found.append((where, f"{len(terms)} nodeSelectorTerms (at most {MAX_TERMS})"))
    expressions = [
        e
        for term in terms[: MAX_TERMS + 1]
        for key in ("matchExpressions", "matchFields")
        for e in (term.get(key) or [])[: MAX_EXPRESSIONS + 1]
        if isinstance(e, Mapping)
    ]
    if len(expressions) > MAX_EXPRESSIONS:
        found.append((where, f"more than {MAX_EXPRESSIONS} node-affinity expressions"))
    values = sum(len(v) for e in expressions if isinstance(v := e.get("values"), list))
    if values > MAX_VALUES:
        found.append((where, f"{values} node-affinity values (at most {MAX_VALUES})"))
    if len(template.tolerations) > MAX_TOLERATIONS:
        found.append(
            (
                f"{template.path}.tolerations",
                f"{len(template.tolerations)} tolerations (at most {MAX_TOLERATIONS})",
            )
        )
    return found
