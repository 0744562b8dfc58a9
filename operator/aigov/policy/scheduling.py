"""Where a pod could be scheduled: the scheduler's node filters that placement depends on.

Pure re-implementations of what kube-scheduler checks before a pod may land on a node:
`nodeName`, `nodeSelector`, required node affinity (In, NotIn, Exists, DoesNotExist, Gt, Lt
and matchFields on metadata.name) and taints with NoSchedule/NoExecute effects against the
pod's tolerations. Preferred affinity and resources are not filters of *where* a pod may go.

Cost is bounded twice (issue 10): what a pod may ask is capped (`oversized`), and the filters
never run once per node. `NodeSet` groups the nodes once (per view of the cluster): by each
label's value (nodes sharing a value form one group, held as a bit set), by their taints
(identical taints, one group) and by name. Each requirement of the pod is then evaluated once
per group of the one label it reads, and terms combine the groups with bit operations: the
work grows with what the pod asks (capped), not with nodes times terms times expressions. A
per-node label such as kubernetes.io/hostname, which would make every node a group of its
own under whole-label grouping, costs one set lookup per value the pod names.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

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
    present = key in values_of
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    values = [str(v) for v in expr.get("values") or []]
    actual = values_of.get(key, "")
    if op == "In":
        return present and actual in values
    if op == "NotIn":
        return not present or actual not in values
    if op in ("Gt", "Lt"):
        return present and _compare(op, actual, values)
    return False


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


@dataclass(frozen=True)
class _Column:
    """One label key (or the node name) across the nodes, as bit sets of node positions."""

    values: Mapping[str, int]
    """Value -> the nodes carrying it."""
    present: int
    """The nodes that have the key at all."""
    numbers: tuple[tuple[int, int], ...]
    """(int value, nodes) for values Kubernetes reads as integers (Gt, Lt)."""


def _column(values: Mapping[str, int], present: int) -> _Column:
    numbers = tuple((n, mask) for v, mask in values.items() if (n := _int(v)) is not None)
    return _Column(values, present, numbers)


_ABSENT = _Column({}, 0, ())


class NodeSet(Sequence[NodeInfo]):
    """Nodes, grouped once for the placement filters (module docstring): build one per view
    of the cluster (PlacementContext does) and keep it while the nodes do not change."""

    def __init__(self, nodes: Iterable[NodeInfo]) -> None:
        self._nodes = tuple(nodes)

    @overload
    def __getitem__(self, index: int) -> NodeInfo: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[NodeInfo]: ...
    def __getitem__(self, index: int | slice) -> NodeInfo | Sequence[NodeInfo]:
        return self._nodes[index]

    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Iterator[NodeInfo]:
        return iter(self._nodes)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, NodeSet):
            return self._nodes == other._nodes
        return isinstance(other, Sequence) and self._nodes == tuple(other)

    def __hash__(self) -> int:
        return hash(self._nodes)

    def __repr__(self) -> str:
        return f"NodeSet({len(self._nodes)} nodes)"

    @functools.cached_property
    def everyone(self) -> int:
        """Every node, as a bit set."""
        return (1 << len(self._nodes)) - 1

    @functools.cached_property
    def labels(self) -> Mapping[str, _Column]:
        """Label key -> its column: computed once per NodeSet."""
        values: dict[str, dict[str, int]] = {}
        present: dict[str, int] = {}
        for i, node in enumerate(self._nodes):
            bit = 1 << i
            for key, value in node.labels.items():
                column = values.setdefault(key, {})
                column[value] = column.get(value, 0) | bit
                present[key] = present.get(key, 0) | bit
        return {key: _column(column, present[key]) for key, column in values.items()}

    @functools.cached_property
    def names(self) -> _Column:
        """The node names as a column (nodeName, matchFields on metadata.name)."""
        values: dict[str, int] = {}
        for i, node in enumerate(self._nodes):
            values[node.name] = values.get(node.name, 0) | (1 << i)
        return _column(values, self.everyone)

    @functools.cached_property
    def taint_groups(self) -> tuple[tuple[tuple[Taint, ...], int], ...]:
        """(the NoSchedule/NoExecute taints, the nodes that have exactly them), per group."""
        found: dict[tuple[Taint, ...], int] = {}
        for i, node in enumerate(self._nodes):
            key = tuple(t for t in node.taints if t.effect in _FILTERING_EFFECTS)
            found[key] = found.get(key, 0) | (1 << i)
        return tuple(found.items())

    def members(self, mask: int) -> list[NodeInfo]:
        """The nodes of a bit set, in their order."""
        bits = bin(mask)[:1:-1]
        return [self._nodes[i] for i, bit in enumerate(bits) if bit == "1"]


def node_set(nodes: Sequence[NodeInfo]) -> NodeSet:
    """`nodes` as a NodeSet (itself when it is one already)."""
    return nodes if isinstance(nodes, NodeSet) else NodeSet(nodes)


def _requirement(expr: Mapping[str, Any], column: _Column, everyone: int) -> int:
    """The nodes satisfying one requirement: expression_matches, on a whole column at once."""
    op = str(expr.get("operator", ""))
    if op == "Exists":
        return column.present
    if op == "DoesNotExist":
        return everyone & ~column.present
    values = {str(v) for v in expr.get("values") or []}
    if op in ("In", "NotIn"):
        found = 0
        for value in values:
            found |= column.values.get(value, 0)
        return found if op == "In" else everyone & ~found
    if op in ("Gt", "Lt") and len(values) == 1:
        (raw,) = values
        bound = _int(raw)
        if bound is None:
            return 0
        found = 0
        for number, mask in column.numbers:
            if (number > bound) if op == "Gt" else (number < bound):
                found |= mask
        return found
    return 0


def _term(term: Mapping[str, Any], nodes: NodeSet) -> int:
    """The nodes a NodeSelectorTerm matches (term_matches on every node at once)."""
    exprs = [e for e in term.get("matchExpressions") or [] if isinstance(e, Mapping)]
    fields = [e for e in term.get("matchFields") or [] if isinstance(e, Mapping)]
    if not exprs and not fields:
        return 0
    found = nodes.everyone
    for expr in exprs:
        found &= _requirement(
            expr, nodes.labels.get(str(expr.get("key", "")), _ABSENT), nodes.everyone
        )
        if not found:
            return 0
    for expr in fields:
        name = str(expr.get("key", "")) == "metadata.name"
        found &= _requirement(expr, nodes.names if name else _ABSENT, nodes.everyone)
        if not found:
            return 0
    return found


def candidates(template: PodTemplate, nodes: Sequence[NodeInfo]) -> list[NodeInfo]:
    """The nodes a pod of `template` could be scheduled on, among `nodes`, in their order:
    `schedulable_on` for every node, evaluated per group (module docstring)."""
    grouped = node_set(nodes)
    if template.node_name:
        return grouped.members(grouped.names.values.get(template.node_name, 0))
    found = grouped.everyone
    for key, value in template.node_selector.items():
        found &= grouped.labels.get(key, _ABSENT).values.get(value, 0)
    terms = required_terms(template.affinity)
    if terms is not None and found:
        matched = 0
        for term in terms:
            matched |= _term(term, grouped) & found
            if matched == found:
                break
        found = matched
    if found:
        tolerated = 0
        for taints, mask in grouped.taint_groups:
            if mask & found and all(tolerates(template.tolerations, t) for t in taints):
                tolerated |= mask
        found &= tolerated
    return grouped.members(found)


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
