"""The report model: everything report.html, report.json and the ML-BOMs show, as plain data.

One model, three renderings: the page and the JSON are made from the same `Report`, so a
person and a tool read the same facts. Times are RFC 3339 strings (UTC, `Z`), ready to print.
The JSON form (`as_json`) uses camelCase keys, as Kubernetes does; its schema is
aigov/data/evidence-report.schema.json.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SCHEMA_ID = "https://aigov.io/schemas/evidence-report-v1.json"
"""$id of the report.json schema; a tool checks it before reading further."""


def rfc3339(moment: dt.datetime | None) -> str | None:
    """`2026-12-02T17:00:00Z`: UTC, seconds, the form Kubernetes prints."""
    if moment is None:
        return None
    utc = moment.astimezone(dt.UTC).replace(microsecond=0)
    return utc.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class GraphNode:
    """A box of the lineage graph."""

    id: str
    kind: str
    """dataset, base-model, code, model, workload or pool: also the column it is drawn in."""
    label: str
    detail: str = ""
    """A second line: a role, a short digest, a commit."""


@dataclass(frozen=True)
class GraphEdge:
    """An arrow of the lineage graph, from input to output."""

    source: str
    target: str


@dataclass(frozen=True)
class Graph:
    """Where the model came from and where it runs: inputs -> model -> workloads -> pools."""

    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]


@dataclass(frozen=True)
class ArtifactInfo:
    """One artifact a workload of the model may run."""

    name: str
    kind: str
    """image (a container image) or file (weights and other files, by uri)."""
    location: str
    """Image reference or uri."""
    digest: str | None
    """`sha256:<hex>`, from the image reference or beside the uri."""
    revision: str | None = None
    """Hugging Face commit, for weights pinned by revision."""


@dataclass(frozen=True)
class DatasetInfo:
    """A dataset the model was trained, tuned, validated, tested or evaluated on."""

    name: str
    uri: str
    role: str
    contains_personal_data: bool
    digest: str | None = None


@dataclass(frozen=True)
class AssessmentInfo:
    """The RiskAssessment in force and who made it."""

    name: str
    assessor: str | None
    """The aigov.io/assessor stamp (the authenticated user who created it)."""
    signed_by: str | None
    """The TrustedSigner whose signature it carries (aigov.io/signed-by)."""
    risk_level: str
    methodology: str
    valid_until: str | None
    expired: bool
    impact_assessment_ref: str | None
    spec_hash: str
    hazards: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class ApprovalInfo:
    """The decision in force (approve, reject or revoke) and who made it."""

    name: str
    approver: str | None
    """The aigov.io/approver stamp (the authenticated user who created it)."""
    signed_by: str | None
    decision: str
    justification: str
    decided_at: str | None
    valid_until: str | None
    expired: bool
    risk_assessment_ref: str | None
    spec_hash: str


@dataclass(frozen=True)
class HistoryInfo:
    """One entry of status.history."""

    time: str | None
    event: str
    actor: str | None
    spec_hash: str | None
    message: str | None


@dataclass(frozen=True)
class WorkloadInfo:
    """A workload of the model and the GPU pools it runs (or may run) on."""

    kind: str
    name: str
    namespace: str
    nodes: tuple[str, ...]
    pools: tuple[str, ...]
    flagged: bool
    reason: str | None
    observed: bool
    """True: seen running by the operator (status.workloads); False: declared in manifests,
    pools are the ones its placement policy allows."""


@dataclass(frozen=True)
class ViolationInfo:
    """A rule the model (or a workload of it) breaks now, and the controls it concerns."""

    code: str
    message: str
    path: str
    controls: tuple[str, ...]


@dataclass(frozen=True)
class ModelReport:
    """Everything the pack says about one GovernedModel."""

    namespace: str
    name: str
    model_name: str
    version: str
    purpose: str
    owner: str
    risk_class: str
    lifecycle: str
    phase: str
    may_run: bool
    spec_hash: str
    authors: tuple[str, ...]
    """Everyone who authored the spec (aigov.io/spec-editors, else aigov.io/author)."""
    placement_policy: str | None
    placement: str
    """How the placement policy resolves, in words."""
    artifacts: tuple[ArtifactInfo, ...]
    datasets: tuple[DatasetInfo, ...]
    code: Mapping[str, str] | None
    base_model: Mapping[str, str] | None
    training_run: Mapping[str, str] | None
    assessment: AssessmentInfo | None
    approval: ApprovalInfo | None
    history: tuple[HistoryInfo, ...]
    workloads: tuple[WorkloadInfo, ...]
    violations: tuple[ViolationInfo, ...]
    lineage: Graph
    bom: str
    """Path of its CycloneDX ML-BOM inside the pack."""

    @property
    def key(self) -> str:
        """`namespace/name`, unique in a report."""
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class ControlRow:
    """One control of a framework table, as the report shows it."""

    id: str
    title: str
    coverage: str
    coverage_text: str
    evidence: str


@dataclass(frozen=True)
class ControlTable:
    """A framework's controls."""

    key: str
    name: str
    controls: tuple[ControlRow, ...]


@dataclass(frozen=True)
class DecisionExcerpt:
    """The decision-log records of the period, and what is known of their integrity."""

    sources: tuple[str, ...]
    """Files read; empty when no log was given."""
    since: str | None
    count: int
    """Records of the period, written to `file`."""
    verification: str
    """The verifier's verdict on every file read (aigov.decisionlog.verify), one sentence."""
    file: str | None = "decisions.jsonl"
    """Where the pack keeps them; None when no log was given."""


@dataclass(frozen=True)
class Report:
    """The evidence pack's content."""

    generated_at: str
    generator: str
    source: str
    """Where the facts were read: a kubeconfig context, or a directory of manifests."""
    namespace: str | None
    model: str | None
    models: tuple[ModelReport, ...]
    frameworks: tuple[ControlTable, ...]
    decisions: DecisionExcerpt


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {_camel(f.name): _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def as_json(report: Report) -> dict[str, Any]:
    """report.json: the report as JSON-ready data with camelCase keys and its schema id."""
    data: dict[str, Any] = _plain(report)
    for model, plain in zip(report.models, data["models"], strict=True):
        plain["key"] = model.key
    return {"$schema": SCHEMA_ID, "kind": "AigovEvidenceReport", **data}
