"""From parsed governance objects to the report model: the facts, stated once.

The standing of each model is computed with the operator's own `standing()` and its current
violations with admission's own `model_violations()`, so the pack says exactly what the
webhook would say now. Stamps (aigov.io/author, assessor, approver, signed-by) name the
people: they were written by the webhook from the authenticated request, never typed in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from aigov import __version__
from aigov.api.models import GovernedModel, WorkloadRef
from aigov.evidencepack import controls
from aigov.evidencepack.report import (
    ApprovalInfo,
    ArtifactInfo,
    AssessmentInfo,
    ControlRow,
    ControlTable,
    DatasetInfo,
    DecisionExcerpt,
    Graph,
    GraphEdge,
    GraphNode,
    HistoryInfo,
    ModelReport,
    Report,
    ViolationInfo,
    WorkloadInfo,
    rfc3339,
)
from aigov.policy.governance import model_violations
from aigov.policy.placement import PlacementContext, resolve
from aigov.policy.standing import Evidence, Standing, standing

FLAG_PATH = "metadata.annotations[aigov.io/flagged]"


@dataclass(frozen=True)
class Snapshot:
    """What the pack is made from: read from a cluster or from manifests by the caller."""

    models: Sequence[Evidence]
    """One per GovernedModel in scope, with the assessments and approvals naming it."""
    placement: PlacementContext
    now: dt.datetime
    source: str
    decisions: DecisionExcerpt
    namespace: str | None = None
    model: str | None = None
    declared: Mapping[tuple[str, str], Sequence[tuple[str, str]]] | None = None
    """Manifests mode: (namespace, model) -> (kind, name) of the workloads naming it in the
    manifests. None: a cluster was read, and status.workloads says what runs."""
    stand_ins: frozenset[str] = frozenset()
    """Identities that are no people: offline, manifests are judged as if each governance
    object were applied by someone else, and the pack shows those actors as not stamped."""


def bom_path(namespace: str, name: str) -> str:
    """Where the model's ML-BOM is in the pack."""
    return f"models/{namespace}-{name}.cdx.json"


def _short(digest: str | None, length: int = 12) -> str:
    if not digest:
        return ""
    algorithm, _, value = digest.partition(":")
    return f"{algorithm}:{value[:length]}" if value else digest[:length]


def _artifacts(model: GovernedModel) -> tuple[ArtifactInfo, ...]:
    return tuple(
        ArtifactInfo(
            name=a.name,
            kind="image" if a.image is not None else "file",
            location=a.image or a.uri or "",
            digest=a.image_digest if a.image is not None else a.digest,
            revision=a.revision,
        )
        for a in model.spec.artifacts
    )


Who = Callable[[str | None], str | None]
"""A stamp as the pack shows it: the person, or None for a stand-in (see Snapshot)."""


def _assessment(st: Standing, who: Who) -> AssessmentInfo | None:
    ra = st.assessment
    if ra is None:
        return None
    return AssessmentInfo(
        name=ra.metadata.name,
        assessor=who(ra.assessor),
        signed_by=ra.signed_by,
        risk_level=ra.spec.risk_level.value,
        methodology=ra.spec.methodology,
        valid_until=rfc3339(ra.spec.valid_until),
        expired=st.assessment_expired,
        impact_assessment_ref=ra.spec.impact_assessment_ref,
        spec_hash=ra.spec.model_ref.spec_hash,
        hazards=tuple(h.to_k8s() for h in ra.spec.hazards),
    )


def _approval(st: Standing, who: Who) -> ApprovalInfo | None:
    ma = st.decision
    if ma is None:
        return None
    return ApprovalInfo(
        name=ma.metadata.name,
        approver=who(ma.approver),
        signed_by=ma.signed_by,
        decision=ma.spec.decision.value,
        justification=ma.spec.justification,
        decided_at=rfc3339(ma.decided_at),
        valid_until=rfc3339(ma.spec.valid_until),
        expired=st.approval_expired,
        risk_assessment_ref=ma.spec.risk_assessment_ref,
        spec_hash=ma.spec.model_ref.spec_hash,
    )


def _workloads(
    model: GovernedModel, snapshot: Snapshot, namespace: str
) -> tuple[WorkloadInfo, ...]:
    if snapshot.declared is None:
        return tuple(_observed(ref, namespace) for ref in model.status.workloads)
    policy = resolve(model, snapshot.placement).policy
    pools = tuple(p.name for p in policy.spec.node_pools) if policy else ()
    declared = snapshot.declared.get((namespace, model.metadata.name), ())
    return tuple(
        WorkloadInfo(kind, name, namespace, (), pools, False, None, observed=False)
        for kind, name in declared
    )


def _observed(ref: WorkloadRef, namespace: str) -> WorkloadInfo:
    return WorkloadInfo(
        kind=ref.kind,
        name=ref.name,
        namespace=ref.namespace or namespace,
        nodes=tuple(ref.nodes),
        pools=tuple(ref.pools),
        flagged=ref.flagged,
        reason=ref.reason,
        observed=True,
    )


def _flag_controls(reason: str | None) -> tuple[str, ...]:
    """The controls a flag evidences: monitoring (the Flagged event) and what caused it, a
    reason code (RiskAssessmentExpired) or an event (Revoked)."""
    cause = reason or ""
    found = (
        controls.evidenced_by_event("Flagged")
        + controls.evidenced_by(cause)
        + controls.evidenced_by_event(cause)
    )
    return tuple(dict.fromkeys(found))


def _violations(st: Standing, workloads: Sequence[WorkloadInfo]) -> tuple[ViolationInfo, ...]:
    found = [
        ViolationInfo(v.code.value, v.message, v.path, controls.evidenced_by(v.code.value))
        for v in model_violations(st)
    ]
    found.extend(
        ViolationInfo(
            w.reason or "Flagged",
            f"{w.kind} {w.namespace}/{w.name} is flagged: its model lost approval or placement",
            f"{w.kind}/{w.name}: {FLAG_PATH}",
            _flag_controls(w.reason),
        )
        for w in workloads
        if w.flagged
    )
    return tuple(found)


def lineage_graph(model: GovernedModel, workloads: Sequence[WorkloadInfo]) -> Graph:
    """Datasets, base model and code commit -> model -> workloads -> GPU pools."""
    key = f"{model.metadata.namespace}/{model.metadata.name}"
    centre = GraphNode(f"model:{key}", "model", model.metadata.name, f"v{model.spec.version}")
    nodes: list[GraphNode] = []
    edges: list[GraphEdge] = []
    lineage = model.spec.lineage
    if lineage is not None:
        for ds in lineage.datasets:
            node = GraphNode(f"dataset:{ds.name}", "dataset", ds.name, ds.role.value)
            nodes.append(node)
            edges.append(GraphEdge(node.id, centre.id))
        if lineage.base_model is not None:
            base = lineage.base_model
            detail = base.supplier or _short(base.digest) or "base model"
            node = GraphNode(f"base:{base.name}", "base-model", base.name, detail)
            nodes.append(node)
            edges.append(GraphEdge(node.id, centre.id))
        if lineage.code is not None:
            repo = lineage.code.repository.rstrip("/").rsplit("/", 1)[-1]
            node = GraphNode("code", "code", repo, f"commit {lineage.code.commit[:12]}")
            nodes.append(node)
            edges.append(GraphEdge(node.id, centre.id))
    nodes.append(centre)
    pools: dict[str, GraphNode] = {}
    for w in workloads:
        state = "flagged" if w.flagged else ("running" if w.observed else "declared")
        node = GraphNode(f"workload:{w.kind}/{w.name}", "workload", w.name, f"{w.kind}, {state}")
        nodes.append(node)
        edges.append(GraphEdge(centre.id, node.id))
        for pool in w.pools:
            pools.setdefault(pool, GraphNode(f"pool:{pool}", "pool", pool, "GPU pool"))
            edges.append(GraphEdge(node.id, f"pool:{pool}"))
    nodes.extend(pools[name] for name in sorted(pools))
    return Graph(tuple(nodes), tuple(edges))


def _history(model: GovernedModel, who: Who) -> tuple[HistoryInfo, ...]:
    return tuple(
        HistoryInfo(rfc3339(h.time), h.event, who(h.actor), h.spec_hash, h.message)
        for h in sorted(model.status.history, key=lambda h: h.time)
    )


def model_report(evidence: Evidence, snapshot: Snapshot) -> ModelReport | None:
    """The report on one model, or None when the evidence holds no readable model."""
    model = evidence.model
    if model is None:
        return None
    st = standing(
        model, evidence.assessments, evidence.approvals, snapshot.now, evidence.unreadable
    )
    namespace = model.metadata.namespace or evidence.namespace

    def who(name: str | None) -> str | None:
        return None if name in snapshot.stand_ins else name

    workloads = _workloads(model, snapshot, namespace)
    lineage = model.spec.lineage
    code = lineage.code if lineage else None
    base = lineage.base_model if lineage else None
    run = lineage.training_run if lineage else None
    return ModelReport(
        namespace=namespace,
        name=model.metadata.name,
        model_name=model.spec.model_name,
        version=model.spec.version,
        purpose=model.spec.purpose,
        owner=model.spec.owner,
        risk_class=model.spec.risk_class.value,
        lifecycle=model.spec.lifecycle.value,
        phase=st.phase.value,
        may_run=st.may_run,
        spec_hash=st.spec_hash,
        authors=tuple(a for a in model.spec_editors or () if who(a)),
        placement_policy=model.spec.placement_policy,
        placement=resolve(model, snapshot.placement).message,
        artifacts=_artifacts(model),
        datasets=tuple(
            DatasetInfo(d.name, d.uri, d.role.value, d.contains_personal_data, d.digest)
            for d in (lineage.datasets if lineage else ())
        ),
        code=code.to_k8s() if code else None,
        base_model=base.to_k8s() if base else None,
        training_run=run.to_k8s() if run else None,
        assessment=_assessment(st, who),
        approval=_approval(st, who),
        history=_history(model, who),
        workloads=workloads,
        violations=_violations(st, workloads),
        lineage=lineage_graph(model, workloads),
        bom=bom_path(namespace, model.metadata.name),
    )


def control_tables() -> tuple[ControlTable, ...]:
    """The framework tables as the report shows them."""
    return tuple(
        ControlTable(
            f.key,
            f.name,
            tuple(
                ControlRow(
                    c.id, c.title, c.coverage.value, controls.COVERAGE_TEXT[c.coverage], c.evidence
                )
                for c in f.controls
            ),
        )
        for f in controls.frameworks()
    )


def build(snapshot: Snapshot) -> Report:
    """The report of every model in `snapshot`, ordered by namespace and name."""
    wanted = [
        e
        for e in snapshot.models
        if (snapshot.namespace is None or e.namespace == snapshot.namespace)
        and (snapshot.model is None or e.name == snapshot.model)
    ]
    reports = [model_report(e, snapshot) for e in wanted]
    models = sorted((r for r in reports if r is not None), key=lambda r: (r.namespace, r.name))
    paths = Counter(m.bom for m in models)
    # `a-b`/`c` and `a`/`b-c` would share a file: those use `_`, which no Kubernetes name has.
    models = [
        dataclasses.replace(m, bom=f"models/{m.namespace}_{m.name}.cdx.json")
        if paths[m.bom] > 1
        else m
        for m in models
    ]
    return Report(
        generated_at=rfc3339(snapshot.now) or "",
        generator=f"aigov {__version__}",
        source=snapshot.source,
        namespace=snapshot.namespace,
        model=snapshot.model,
        models=tuple(models),
        frameworks=control_tables(),
        decisions=snapshot.decisions,
    )
