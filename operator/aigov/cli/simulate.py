"""Admission without a cluster: apply manifests in order to an in-memory stand-in of the
operator's indexes, through exactly the admission code the webhooks run.

A governance object (GovernedModel, RiskAssessment, ModelApproval) is stamped and judged by
`admission.governance` as the API server would have it (the acting user is given, since there
is no authenticated request), and kept only if admitted; a Namespace sets the mode; a
PlacementPolicy, TrustedSigner or Node is kept as the indexes would keep it. A workload is
injected (inject-mode placement) and judged by `admission.workloads` with the evidence so far.
Objects read from a live cluster are added as they are stored (`add_stored`), stamps included.
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aigov.admission import governance, placement, workloads
from aigov.admission.outcome import Outcome
from aigov.admission.request import AdmissionRequest, UserInfo
from aigov.api.base import InvalidResource
from aigov.api.constants import MODE_LABEL, REQUIRE_SIGNED_LABEL, Mode
from aigov.api.enums import RiskClass
from aigov.api.kinds import workload_kinds
from aigov.api.models import GovernedModel, ModelApproval, PlacementPolicy, RiskAssessment
from aigov.api.signer import TrustedSigner
from aigov.cli.manifests import Document
from aigov.policy.decision import Decision
from aigov.policy.placement import PlacementContext
from aigov.policy.recognition import Recognition
from aigov.policy.scheduling import NodeInfo, node_info
from aigov.policy.signing import BadKeyError, Signer, signer_of
from aigov.policy.standing import Evidence
from aigov.policy.workload import parse_workload

GOVERNANCE_KINDS = frozenset({"GovernedModel", "RiskAssessment", "ModelApproval"})
CLUSTER_SCOPED = frozenset({"Namespace", "PlacementPolicy", "TrustedSigner", "Node"})
_PLURALS = {
    "GovernedModel": "governedmodels",
    "RiskAssessment": "riskassessments",
    "ModelApproval": "modelapprovals",
    **{k.kind: k.plural for k in workload_kinds().kinds},
}
"""kind -> resource, as the API server names it in an AdmissionReview."""


@dataclass(frozen=True)
class Finding:
    """What admission would do with one document."""

    document: Document
    namespace: str
    verdict: str
    """admitted, refused, warned, audited, recorded (not judged: kept as configuration),
    or skipped (a kind aigov does not judge)."""
    outcome: Outcome | None = None
    note: str = ""

    @property
    def decision(self) -> Decision:
        return self.outcome.decision if self.outcome is not None else Decision()


@dataclass
class Cluster:
    """The indexes' view, kept in memory; `default_mode` governs namespaces it has not seen."""

    default_mode: Mode | None = Mode.ENFORCE
    default_namespace: str = "default"
    user: str | None = None
    """Who applies the documents; None: a different person for each governance object, as
    offline the appliers are unknown (signed objects name their signer anyway)."""
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    required_for: tuple[str, ...] = ("high",)
    recognition: Recognition = field(default_factory=Recognition)
    """Engine table and accelerator rules, as the cluster's operator has them."""
    models: dict[tuple[str, str], GovernedModel] = field(default_factory=dict)
    assessments: dict[tuple[str, str], list[RiskAssessment]] = field(default_factory=dict)
    """(namespace, model name) -> the assessments naming it, as the operator's index."""
    approvals: dict[tuple[str, str], list[ModelApproval]] = field(default_factory=dict)
    """(namespace, model name) -> the decisions naming it."""
    policies: dict[str, PlacementPolicy] = field(default_factory=dict)
    nodes: dict[str, NodeInfo] = field(default_factory=dict)
    modes: dict[str, Mode | None] = field(default_factory=dict)
    signed: set[str] = field(default_factory=set)
    signers: dict[str, Signer] = field(default_factory=dict)
    _created: int = 0

    # The indexes' lookups ----------------------------------------------------------------

    def evidence(self, namespace: str, name: str) -> Evidence:
        """What the indexes would hold about model `name` in `namespace`."""

        key = (namespace, name)
        return Evidence(
            namespace=namespace,
            name=name,
            model=self.models.get(key),
            assessments=tuple(self.assessments.get(key, ())),
            approvals=tuple(self.approvals.get(key, ())),
        )

    def placement(self) -> PlacementContext:
        """The placement rule's view: policies and nodes seen so far."""
        return PlacementContext(
            policies=dict(self.policies),
            nodes=list(self.nodes.values()),
            required_for=frozenset(RiskClass(c) for c in self.required_for),
        )

    def mode(self, namespace: str) -> Mode | None:
        """A Namespace seen in the input decides; otherwise the default mode."""
        return self.modes.get(namespace, self.default_mode)

    # Applying documents ------------------------------------------------------------------

    def apply(self, document: Document, user: str | None = None) -> Finding:
        """What the API server with aigov's webhooks would do with this document."""
        body = document.body
        namespace = _namespace(body) or self.default_namespace
        kind = document.kind
        who = user or self.user or f"{kind}/{namespace}/{document.name}"
        if kind in GOVERNANCE_KINDS:
            return self._governance(document, namespace, who)
        if kind in CLUSTER_SCOPED:
            self.add_stored(body)
            return Finding(document, "", "recorded")
        workload = parse_workload(body)
        if not workload.templates and not workload.is_serving:
            return Finding(document, namespace, "skipped", note=f"aigov does not judge {kind}")
        return self._workload(document, namespace, who)

    def add_stored(self, body: Mapping[str, Any]) -> None:
        """Keep an object as the indexes keep it (already admitted and stamped)."""
        kind, meta = body.get("kind"), body.get("metadata") or {}
        name = str(meta.get("name", ""))
        labels = meta.get("labels") or {}
        try:
            if kind == "Namespace":
                value = labels.get(MODE_LABEL)
                self.modes[name] = Mode(value) if value in set(Mode) else None
                if labels.get(REQUIRE_SIGNED_LABEL) == "true":
                    self.signed.add(name)
            elif kind == "PlacementPolicy":
                self.policies[name] = PlacementPolicy.from_body(body)
            elif kind == "TrustedSigner":
                self.signers[name] = signer_of(TrustedSigner.from_body(body))
            elif kind == "Node":
                self.nodes[name] = node_info(body)
            elif kind == "GovernedModel":
                model = GovernedModel.from_body(body)
                self.models[(model.metadata.namespace or "", model.metadata.name)] = model
            elif kind == "RiskAssessment":
                ra = RiskAssessment.from_body(body)
                key = (ra.metadata.namespace or "", ra.spec.model_ref.name)
                self.assessments.setdefault(key, []).append(ra)
            elif kind == "ModelApproval":
                ma = ModelApproval.from_body(body)
                key = (ma.metadata.namespace or "", ma.spec.model_ref.name)
                self.approvals.setdefault(key, []).append(ma)
        except (InvalidResource, BadKeyError):
            return  # the operator's indexes skip them too (and log); admission would refuse

    def _request(
        self, document: Document, namespace: str, user: str, body: Mapping[str, Any]
    ) -> AdmissionRequest:
        api_version = str(body.get("apiVersion", ""))
        group, _, version = api_version.rpartition("/")
        kind = document.kind
        return AdmissionRequest(
            uid=str(uuid.uuid4()),
            operation="CREATE",
            group=group,
            version=version,
            resource=_PLURALS.get(kind, kind.lower() + "s"),  # an unknown kind is not judged
            kind=kind,
            namespace=namespace,
            name=document.name,
            user=UserInfo(username=user),
            object=body,
        )

    def _governance(self, document: Document, namespace: str, user: str) -> Finding:
        body = _with_namespace(document.body, namespace)
        request = self._request(document, namespace, user, body)
        spec = body.get("spec") or {}
        ref = spec.get("modelRef") or {} if isinstance(spec, Mapping) else {}
        model_name = ref.get("name") if isinstance(ref, Mapping) else None
        ev = self.evidence(namespace, str(model_name)) if model_name else None
        wanted = spec.get("riskAssessmentRef") if isinstance(spec, Mapping) else None
        assessment = next(
            (a for a in (ev.assessments if ev else ()) if a.metadata.name == wanted), None
        )
        ctx = governance.Context(
            model=ev.model if ev else None,
            assessment=assessment,
            now=self.now,
            signers=tuple(self.signers.values()),
            require_signed=namespace in self.signed,
        )
        stamped = _stamped(body, governance.stamp(request, ctx).changes)
        outcome = governance.judge(self._request(document, namespace, user, stamped), ctx, ())
        if not outcome.allowed:
            return Finding(document, namespace, "refused", outcome)
        self._created += 1
        meta = stamped["metadata"]
        meta["uid"] = str(uuid.uuid4())
        created = self.now.replace(microsecond=0) + dt.timedelta(seconds=self._created)
        meta["creationTimestamp"] = created.isoformat().replace("+00:00", "Z")
        self.add_stored(stamped)
        return Finding(document, namespace, "admitted", outcome)

    def _workload(self, document: Document, namespace: str, user: str) -> Finding:
        body = _with_namespace(document.body, namespace)
        request = self._request(document, namespace, user, body)
        mode = self.mode(namespace)
        ctx = self.placement()
        model_name = parse_workload(body).model
        model = self.models.get((namespace, model_name)) if model_name else None
        if mode is not None:
            found = placement.injections(request, model, ctx)
            if found:
                applied = placement.applied(request.object, found)
                request = self._request(document, namespace, user, applied)
        outcome = workloads.judge(
            request, mode, self.evidence, self.now, placement=ctx, recognition=self.recognition
        )
        if outcome.mode is None:
            return Finding(document, namespace, "admitted", outcome, note="not governed")
        return Finding(document, namespace, outcome.verdict.replace("allowed", "admitted"), outcome)


def _namespace(body: Mapping[str, Any]) -> str | None:
    meta = body.get("metadata")
    value = meta.get("namespace") if isinstance(meta, Mapping) else None
    return value if isinstance(value, str) and value else None


def _with_namespace(body: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    copied: dict[str, Any] = copy.deepcopy(dict(body))
    meta = copied.get("metadata")
    if not isinstance(meta, dict):
        meta = copied["metadata"] = {}
    meta["namespace"] = namespace
    return copied


def _stamped(body: dict[str, Any], changes: Mapping[str, str | None]) -> dict[str, Any]:
    stamped = copy.deepcopy(body)
    annotations = dict(stamped["metadata"].get("annotations") or {})
    for key, value in changes.items():
        if value is None:
            annotations.pop(key, None)
        else:
            annotations[key] = value
    stamped["metadata"]["annotations"] = annotations
    return stamped
