"""GovernedModel: one version of an AI model (mirrors crds/aigov.io_governedmodels.yaml).

Artifacts and lineage are in aigov.api.lineage.

Pure data and computation: no kopf, no Kubernetes client, no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self

from pydantic import Field, PrivateAttr, ValidatorFunctionWrapHandler, model_validator

from aigov.api.base import (
    ApiModel,
    Condition,
    FieldProblem,
    Resource,
    Timestamp,
    find_condition,
    spec_hash,
)
from aigov.api.constants import (
    AUTHOR_ANNOTATION,
    LAST_EDITOR_ANNOTATION,
    SPEC_EDITORS_ANNOTATION,
)
from aigov.api.enums import Decision, Lifecycle, Phase, RiskClass, RiskLevel
from aigov.api.lineage import Artifact, Lineage


class GovernedModelSpec(ApiModel):  # noqa: PLW1641 - pydantic adds a field-based __hash__
    """What the model is, where it came from, its risk class, placement and lifecycle.

    Its hash (canonical_hash) is what RiskAssessments and ModelApprovals bind to.
    """

    model_name: str
    """Logical name shared by all versions of the model."""
    version: str
    """Version of this model."""
    purpose: str
    """Intended purpose, for the auditor (EU AI Act Art. 13)."""
    owner: str
    """Accountable team or person."""
    artifacts: list[Artifact]
    """The only images and files a workload of this model may use."""
    risk_class: RiskClass = Field(strict=False)
    """EU AI Act risk tier; prohibited never runs."""
    placement_policy: str | None = None
    """Name of the PlacementPolicy (cluster-scoped) for its workloads; required for the risk
    classes the operator is configured to demand one for (default: high)."""
    lineage: Lineage | None = None
    """Provenance; optional in the schema so the operator can report what is missing."""
    lifecycle: Lifecycle = Field(Lifecycle.ACTIVE, strict=False)
    """active, deprecated or retired; the CRD defaults it to active."""

    _raw_hash: str | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _remember_raw_hash(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Self:
        """Hash the mapping as parsed, so canonical_hash() is the hash of the stored spec."""
        spec: Self = handler(data)
        if isinstance(data, Mapping):
            try:
                spec._raw_hash = spec_hash(data)
            except (TypeError, ValueError):
                spec._raw_hash = None  # not JSON (built in Python): fall back to the dump
        return spec

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """Copy; an updated copy is a different spec and is hashed from its own dump."""
        copied = super().model_copy(update=update, deep=deep)
        if update:
            copied._raw_hash = None
        return copied

    def __eq__(self, other: object) -> bool:
        """Equal when the fields are equal; the remembered hash of the raw form is no field."""
        if not isinstance(other, GovernedModelSpec):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def canonical_hash(self) -> str:
        """sha256 hex of the canonical JSON of this spec (see base.spec_hash).

        For a spec parsed from a mapping, the hash of that mapping exactly as given: parse
        the spec as stored in the cluster and this equals what every other reader computes.
        For a spec built in Python, the hash of its to_k8s() dump, which is what the API
        server would store if that dump were applied.
        """
        return self._raw_hash if self._raw_hash is not None else spec_hash(self.to_k8s())

    @property
    def pinned_images(self) -> frozenset[str]:
        """The image references workloads may use: the digest-pinned image artifacts."""
        return frozenset(a.image for a in self.artifacts if a.image and a.is_digest_pinned)

    def lineage_problems(self) -> list[FieldProblem]:
        """Why the model is LineageIncomplete, each with its path; empty if it is complete.

        Complete means: every artifact pinned (by a sha256 digest, or a Hugging Face one by
        its commit revision), at least one dataset, and code lineage. Paths are relative to
        the GovernedModel object (`spec.`...).
        """
        problems: list[FieldProblem] = []
        for index, artifact in enumerate(self.artifacts):
            if artifact.is_pinned:
                continue
            if artifact.image is not None:
                problems.append(
                    FieldProblem(
                        f"spec.artifacts[{index}].image",
                        f"artifact {artifact.name!r}: image {artifact.image!r} is not pinned"
                        " by digest (use repo@sha256:<64 lowercase hex>)",
                    )
                )
            elif artifact.is_hugging_face:
                problems.append(
                    FieldProblem(
                        f"spec.artifacts[{index}].revision",
                        f"artifact {artifact.name!r}: no commit revision (40 hex) for "
                        f"{artifact.uri!r}: a branch of the Hub can move after approval",
                    )
                )
            else:
                problems.append(
                    FieldProblem(
                        f"spec.artifacts[{index}].digest",
                        f"artifact {artifact.name!r}: no sha256 digest for {artifact.uri!r}",
                    )
                )
        lineage = self.lineage or Lineage()
        if not lineage.datasets:
            problems.append(
                FieldProblem(
                    "spec.lineage.datasets",
                    "no dataset lineage: list the datasets the model was trained and evaluated on",
                )
            )
        if lineage.code is None:
            problems.append(
                FieldProblem(
                    "spec.lineage.code",
                    "no code lineage: give the repository and commit that produced the model",
                )
            )
        return problems


class ApprovalSummary(ApiModel):
    """The ModelApproval in force, copied into the model's status for readers and auditors."""

    name: str
    """Name of the ModelApproval."""
    approver: str | None = None
    """Who decided, from its aigov.io/approver stamp."""
    decision: Decision | None = Field(None, strict=False)
    """The decision."""
    spec_hash: str | None = None
    """The spec hash it is bound to."""
    valid_until: Timestamp | None = None
    """When it lapses, if it does."""
    approved_at: Timestamp | None = None
    """When it was made."""
    signed_by: str | None = None
    """The TrustedSigner whose signature it carries, if signed."""


class RiskAssessmentSummary(ApiModel):
    """The RiskAssessment in force, copied into the model's status."""

    name: str
    """Name of the RiskAssessment."""
    assessor: str | None = None
    """Who assessed, from its aigov.io/assessor stamp."""
    risk_level: RiskLevel | None = Field(None, strict=False)
    """The assessed risk level."""
    spec_hash: str | None = None
    """The spec hash it is bound to."""
    valid_until: Timestamp | None = None
    """When it expires."""
    signed_by: str | None = None
    """The TrustedSigner whose signature it carries, if signed."""


class PlacementRef(ApiModel):
    """The PlacementPolicy last judged for a model, at which generation."""

    policy: str
    """Name of the PlacementPolicy."""
    generation: int | None = None
    """Its metadata.generation when last judged."""


class WorkloadRef(ApiModel):
    """A workload running the model, where it runs, and whether aigov flagged it."""

    kind: str
    """Kind, e.g. Deployment or InferenceService."""
    name: str
    """Name."""
    namespace: str | None = None
    """Namespace, when not the model's."""
    nodes: list[str] = Field(default_factory=list)
    """Nodes its pods run on."""
    pools: list[str] = Field(default_factory=list)
    """PlacementPolicy pools of those nodes."""
    flagged: bool = False
    """Whether it was flagged because the model lost approval or placement."""
    reason: str | None = None
    """Reason code for the flag."""


class HistoryEntry(ApiModel):
    """One event in the model's append-only lifecycle history (the audit trail)."""

    time: Timestamp
    """When it happened."""
    event: str
    """What happened, e.g. Created, SpecChanged, Approved, Revoked, Expired, Retired."""
    actor: str | None = None
    """Who caused it: an identity stamp, or the operator."""
    spec_hash: str | None = None
    """The spec hash at the time."""
    message: str | None = None
    """Details for a human reader."""


class GovernedModelStatus(ApiModel):
    """Observed governance state, written only by the operator."""

    phase: Phase | None = Field(None, strict=False)
    """Summary of the conditions for `kubectl get`."""
    spec_hash: str | None = None
    """canonical_hash() of the spec last reconciled; assessments and approvals bind to it."""
    observed_generation: int | None = None
    """metadata.generation this status describes."""
    conditions: list[Condition] = Field(default_factory=list)
    """LineageComplete, RiskAssessed, Approved, PlacementResolved, Ready."""
    approval: ApprovalSummary | None = None
    """The approval in force."""
    risk_assessment: RiskAssessmentSummary | None = None
    """The assessment in force."""
    spec_editors: list[str] = Field(default_factory=list)
    """Everyone who authored the spec, from the aigov.io/spec-editors stamp."""
    placement: PlacementRef | None = None
    """The PlacementPolicy last judged and its generation: an edit of it is history."""
    workloads: list[WorkloadRef] = Field(default_factory=list)
    """Workloads running the model."""
    history: list[HistoryEntry] = Field(default_factory=list)
    """Append-only lifecycle events."""

    def condition(self, type_: str) -> Condition | None:
        """The condition of that type, or None."""
        return find_condition(self.conditions, type_)


class GovernedModel(Resource):
    """A GovernedModel object: metadata, spec and status."""

    KIND: ClassVar[str] = "GovernedModel"

    spec: GovernedModelSpec
    """What the model is."""
    status: GovernedModelStatus = Field(default_factory=GovernedModelStatus)
    """Observed state; empty until the operator first reconciles."""

    @property
    def author(self) -> str | None:
        """Who created it, from the aigov.io/author stamp the webhook wrote."""
        return self.metadata.annotations.get(AUTHOR_ANNOTATION)

    @property
    def last_editor(self) -> str | None:
        """Who made the last change to the spec (lifecycle included); the author at first."""
        return self.metadata.annotations.get(LAST_EDITOR_ANNOTATION) or self.author

    @property
    def spec_editors(self) -> tuple[str, ...] | None:
        """Everyone who authored the spec, the editor of the spec in force last.

        From the aigov.io/spec-editors stamp; a model stamped before that stamp existed has
        its author only. None when the stamp is there but unreadable: separation of duties
        then cannot be shown, and callers must fail closed.
        """
        raw = self.metadata.annotations.get(SPEC_EDITORS_ANNOTATION)
        if raw is None:
            return (self.author,) if self.author else ()
        return parse_editors(raw)


def parse_editors(raw: str) -> tuple[str, ...] | None:
    """The aigov.io/spec-editors value (a JSON list of user names), or None if malformed."""
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        return None
    return tuple(value)


def editors_after(editors: Sequence[str], user: str) -> tuple[str, ...]:
    """The editors once `user` changed the spec: `user` moves to (or joins at) the end."""
    return (*(e for e in editors if e != user), user)
