"""Builders of realistic Kubernetes bodies for the unit tests, in one place.

Every test module describes the same small world: the GovernedModel `fraud-scorer-3-1` in
namespace `risk`, written by alice, assessed by bob (RiskAssessment `fraud-ra`) and approved by
carol (ModelApproval `fraud-ma`), pinned to the PlacementPolicy `confidential-eu`, and the
Deployments, Pods, CronJobs and InferenceServices that run it.

Bodies are built as the API server stores them (wire names, RFC 3339 times, the identity-stamp
annotations admission writes), as plain dicts a test may mutate. `governed_model`,
`risk_assessment`, `model_approval` and `placement_policy` take the arguments of their `*_body`
builder and parse the body with `Kind.from_body`, so the objects a test sees went through the
same boundary as in the operator. Every variation a test needs is a keyword argument, with the
shared world's value as its default; a module whose world differs passes its own values (its
module constants, or a small local helper that binds them). The dicts a builder is given
(specs, pod specs, containers, statuses) go into the body as they are, not copied, as in a body
written out by hand.

Import it as `from builders import ...`: tests/unit has no `__init__.py`, so pytest's default
`prepend` import mode puts tests/unit itself on `sys.path` (no conftest.py needed).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ParamSpec, TypedDict, TypeVar, Unpack

from aigov.api import constants
from aigov.api.base import Resource
from aigov.api.models import GovernedModel, ModelApproval, PlacementPolicy, RiskAssessment

Body = dict[str, Any]
"""A Kubernetes object (or part of one) as JSON: what the API server stores and sends."""

# The shared world -------------------------------------------------------------------------

HEX64 = "a" * 64
"""A sha256 hex digest: of the server image, the weights and the dataset."""
COMMIT = "0123456789abcdef0123456789abcdef01234567"
"""The git commit that produced the model."""
MODEL_NAME = "fraud-scorer-3-1"
"""The GovernedModel's metadata.name (what `aigov.io/model` labels name)."""
NAMESPACE = "risk"
"""The namespace of the model, its assessments, approvals and workloads."""
REPO = "registry.example.com/risk/fraud-scorer"
"""The server image's repository."""
IMAGE = f"{REPO}@sha256:{HEX64}"
"""The server image, pinned by digest: the model's `server` artifact."""
WEIGHTS_URI = "s3://models/fraud-scorer/3.1.0/model.safetensors"
"""Where the model's `weights` artifact is stored."""
T0 = datetime(2026, 10, 2, 8, tzinfo=UTC)
"""When the model, its assessment and its approval were created."""
UNTIL = T0 + timedelta(days=365)
"""Until when a RiskAssessment is valid unless told otherwise: a year after T0."""
GPU_TOLERATION: Mapping[str, str] = {
    "key": "nvidia.com/gpu",
    "operator": "Exists",
    "effect": "NoSchedule",
}
"""Tolerates the taint every GPU node of the fake fleet carries."""
H200_SELECTOR: Mapping[str, str] = {
    "topology.kubernetes.io/region": "eu-central-1",
    "nvidia.com/gpu.product": "NVIDIA-H200",
}
"""The `h200-eu` pool's node selector, region written first (injection sorts the keys)."""


# Times and patches ------------------------------------------------------------------------


def wire(moment: datetime) -> str:
    """RFC 3339 as the API server writes it: `2026-10-02T08:00:00Z`."""
    return moment.isoformat().replace("+00:00", "Z")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 applied as the API server applies a merge patch: `None` deletes a key."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# Metadata ---------------------------------------------------------------------------------


class MetadataOptions(TypedDict, total=False):
    """The keyword arguments of `metadata` that the body builders pass through."""

    namespace: str | None
    uid: str | None
    generation: int | None
    created: datetime | None
    deleted: datetime | None


def stamps(annotation: str, who: str | None) -> dict[str, str]:
    """The identity stamp admission writes (`{annotation: who}`); none for `who=None`."""
    return {annotation: who} if who is not None else {}


def metadata(
    name: str,
    *,
    namespace: str | None = NAMESPACE,
    uid: str | None = "uid-{name}",
    generation: int | None = 1,
    created: datetime | None = T0,
    deleted: datetime | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    **extra: Any,
) -> Body:
    """Object metadata as stored.

    `uid` is a `str.format` template over `name`. Any field given `None` is left out, and
    `extra` adds other fields (resourceVersion, managedFields, ownerReferences...).
    """
    body: Body = {"name": name}
    if namespace is not None:
        body["namespace"] = namespace
    if uid is not None:
        body["uid"] = uid.format(name=name)
    if generation is not None:
        body["generation"] = generation
    body.update(extra)
    if created is not None:
        body["creationTimestamp"] = wire(created)
    if deleted is not None:
        body["deletionTimestamp"] = wire(deleted)
    if labels is not None:
        body["labels"] = dict(labels)
    if annotations is not None:
        body["annotations"] = dict(annotations)
    return body


def resource_body(kind: str, meta: Body, spec: Any, **extra: Any) -> Body:
    """An object of one of aigov's own kinds; `extra` adds top-level fields (status)."""
    return {
        "apiVersion": constants.API_VERSION,
        "kind": kind,
        "metadata": meta,
        "spec": spec,
        **extra,
    }


# Specs ------------------------------------------------------------------------------------


def artifacts(image: str = IMAGE, *, weights: bool = True) -> list[Body]:
    """The server `image`, then (unless `weights=False`) the weights, pinned by digest."""
    found: list[Body] = [{"name": "server", "image": image}]
    if weights:
        found.append({"name": "weights", "uri": WEIGHTS_URI, "digest": f"sha256:{HEX64}"})
    return found


def model_spec(
    *,
    weights: bool = True,
    dataset_digest: bool = False,
    placement_policy: str | None = "confidential-eu",
    **changes: Any,
) -> Body:
    """A complete, valid GovernedModel spec with full lineage, as the API server stores it.

    `weights=False` lists the server image only; `dataset_digest=True` pins the training set
    by digest; `placement_policy=None` names no PlacementPolicy. `changes` replace whole
    top-level fields by their wire names (`riskClass="limited"`, `lineage={...}`).
    """
    dataset: Body = {"name": "transactions-2025", "uri": "s3://datasets/tx/2025-12"}
    if dataset_digest:
        dataset["digest"] = f"sha256:{HEX64}"
    dataset.update(role="training", containsPersonalData=True)
    spec: Body = {
        "modelName": "fraud-scorer",
        "version": "3.1.0",
        "purpose": "Card-fraud scoring for payment authorisation",
        "owner": "team-risk-ml",
        "artifacts": artifacts(weights=weights),
        "lineage": {
            "datasets": [dataset],
            "code": {"repository": "https://git.example.com/risk/fraud", "commit": COMMIT},
        },
        "riskClass": "high",
    }
    if placement_policy is not None:
        spec["placementPolicy"] = placement_policy
    spec["lifecycle"] = "active"
    spec.update(changes)
    return spec


HAZARD: Mapping[str, Any] = {
    "id": "H1",
    "description": "Unfair refusals for thin-file customers",
    "severity": "high",
    "likelihood": "possible",
    "mitigations": ["human review of refusals"],
}
"""One hazard of a RiskAssessment, with its mitigation."""


# Bodies of aigov's kinds ------------------------------------------------------------------


class BodyOptions(MetadataOptions, total=False):
    """The keyword arguments every builder of an aigov kind takes, besides its spec's.

    `annotations`, when given, replace the identity stamp; `status` is written as given.
    The others are `metadata`'s.
    """

    annotations: Mapping[str, str] | None
    status: Body | None


STAMP_OF: Mapping[str, str] = {
    "GovernedModel": constants.AUTHOR_ANNOTATION,
    "RiskAssessment": constants.ASSESSOR_ANNOTATION,
    "ModelApproval": constants.APPROVER_ANNOTATION,
}
"""Each kind's identity-stamp annotation: who wrote, assessed or decided."""


def stamped_body(
    kind: str,
    name: str,
    spec: Any,
    who: str | None,
    *,
    annotations: Mapping[str, str] | None = None,
    status: Body | None = None,
    **meta: Unpack[MetadataOptions],
) -> Body:
    """An object of `kind` carrying its identity stamp for `who` (see `BodyOptions`)."""
    found = stamps(STAMP_OF[kind], who) if annotations is None else annotations
    body = resource_body(kind, metadata(name, annotations=found, **meta), spec)
    if status is not None:
        body["status"] = status
    return body


def governed_model_body(
    spec: Body | None = None,
    *,
    name: str = MODEL_NAME,
    author: str | None = "alice",
    **options: Unpack[BodyOptions],
) -> Body:
    """A GovernedModel of `spec` (default: `model_spec()`) written by `author`."""
    return stamped_body(
        "GovernedModel", name, spec if spec is not None else model_spec(), author, **options
    )


def risk_assessment_body(
    spec_hash: str,
    *,
    name: str = "fraud-ra",
    assessor: str | None = "bob",
    level: str = "medium",
    valid_until: datetime = UNTIL,
    hazards: Sequence[Mapping[str, Any]] | None = None,
    model_name: str = MODEL_NAME,
    **options: Unpack[BodyOptions],
) -> Body:
    """A RiskAssessment by `assessor` of `model_name` at `spec_hash`, listing `hazards`."""
    spec: Body = {
        "modelRef": {"name": model_name, "specHash": spec_hash},
        "riskLevel": level,
        "methodology": "ISO/IEC 23894 workshop",
    }
    if hazards is not None:
        spec["hazards"] = copy.deepcopy(list(hazards))
    spec["validUntil"] = wire(valid_until)
    return stamped_body("RiskAssessment", name, spec, assessor, **options)


def model_approval_body(
    spec_hash: str,
    *,
    name: str = "fraud-ma",
    approver: str | None = "carol",
    valid_until: datetime | None = None,
    decision: str = "approve",
    justification: str = "{decision}: model risk committee",
    assessment_ref: str = "fraud-ra",
    model_name: str = MODEL_NAME,
    **options: Unpack[BodyOptions],
) -> Body:
    """A ModelApproval by `approver` of `model_name` at `spec_hash`, relying on `assessment_ref`.

    `justification` is a `str.format` template over `decision`; no `validUntil` unless given.
    """
    spec: Body = {
        "modelRef": {"name": model_name, "specHash": spec_hash},
        "riskAssessmentRef": assessment_ref,
        "decision": decision,
        "justification": justification.format(decision=decision),
    }
    if valid_until is not None:
        spec["validUntil"] = wire(valid_until)
    return stamped_body("ModelApproval", name, spec, approver, **options)


def node_pool(
    name: str,
    selector: Mapping[str, str] | None = None,
    *,
    tolerations: Sequence[Mapping[str, str]] = (GPU_TOLERATION,),
) -> Body:
    """A PlacementPolicy node pool: nodes labelled `pool=<name>` unless `selector` says."""
    pool: Body = {"name": name, "nodeSelector": dict(selector or {"pool": name})}
    if tolerations:
        pool["tolerations"] = [dict(toleration) for toleration in tolerations]
    return pool


def placement_policy_body(
    name: str = "confidential-eu",
    pools: Sequence[Body] | None = None,
    *,
    generation: int | None = None,
    **spec: Any,
) -> Body:
    """A (cluster-scoped) PlacementPolicy; `spec` adds wire fields (`mode="inject"`).

    The pools default to `h100-eu` (by its pool label) and `h200-eu` (by `H200_SELECTOR`),
    both tolerating the GPU taint.
    """
    if pools is None:
        pools = [node_pool("h100-eu"), node_pool("h200-eu", H200_SELECTOR)]
    meta = metadata(name, namespace=None, uid=None, generation=generation, created=None)
    return resource_body("PlacementPolicy", meta, {"nodePools": list(pools), **spec})


# Parsed objects ---------------------------------------------------------------------------

P = ParamSpec("P")
R = TypeVar("R", bound=Resource)


def _parsed(kind: type[R], build: Callable[P, Body]) -> Callable[P, R]:
    """`build`, parsed by `kind.from_body`, with the same arguments."""

    @functools.wraps(build)
    def parse(*args: P.args, **kwargs: P.kwargs) -> R:
        return kind.from_body(build(*args, **kwargs))

    parse.__name__ = parse.__qualname__ = build.__name__.removesuffix("_body")
    parse.__doc__ = f"{build.__doc__}\n\nParsed: a {kind.__name__}, by `from_body`."
    return parse


governed_model = _parsed(GovernedModel, governed_model_body)
risk_assessment = _parsed(RiskAssessment, risk_assessment_body)
model_approval = _parsed(ModelApproval, model_approval_body)
placement_policy = _parsed(PlacementPolicy, placement_policy_body)


# Workloads --------------------------------------------------------------------------------


def container(
    name: str = "server", image: str = IMAGE, *, gpus: int | str | None = 1, **limits: Any
) -> Body:
    """A container asking for `gpus` nvidia.com/gpu (none: no resources) and other `limits`."""
    found: Body = {"name": name, "image": image}
    if gpus is not None:
        found["resources"] = {"limits": {"nvidia.com/gpu": gpus, **limits}}
    return found


def pod_spec(*containers: Body, **fields: Any) -> Body:
    """A pod spec of `containers` (one GPU `container()` if none); `fields` add to it."""
    return {"containers": list(containers) or [container()], **fields}


def workload_metadata(
    name: str,
    *,
    namespace: str | None = NAMESPACE,
    model: str | None = MODEL_NAME,
    labels: Mapping[str, str] | None = None,
) -> Body:
    """A workload's metadata: `labels`, or by default the `aigov.io/model` label of `model`."""
    if labels is None:
        labels = {constants.MODEL_LABEL: model} if model is not None else None
    return metadata(
        name, namespace=namespace, uid=None, generation=None, created=None, labels=labels
    )


def deployment(
    spec: Body,
    *,
    name: str = "fraud-scorer",
    namespace: str = NAMESPACE,
    model: str = MODEL_NAME,
    labels: Mapping[str, str] | None = None,
    replicas: int = 2,
) -> Body:
    """A Deployment running pods of `spec`, selected by `app=<name>`.

    `labels` (on the Deployment and its pod template) default to `app=<name>` and the
    `aigov.io/model` label of `model`.
    """
    if labels is None:
        labels = {"app": name, constants.MODEL_LABEL: model}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": workload_metadata(name, namespace=namespace, labels=labels),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": dict(labels)}, "spec": spec},
        },
    }


def pod(
    spec: Body,
    *,
    name: str = "fraud-scorer-0",
    namespace: str | None = NAMESPACE,
    model: str | None = MODEL_NAME,
    labels: Mapping[str, str] | None = None,
) -> Body:
    """A bare Pod of `spec`, labelled as `workload_metadata` says."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": workload_metadata(name, namespace=namespace, model=model, labels=labels),
        "spec": spec,
    }


def cronjob(
    spec: Body,
    *,
    name: str = "fraud-retrain",
    model: str = MODEL_NAME,
    schedule: str = "0 3 * * *",
    **job: Any,
) -> Body:
    """A CronJob whose Jobs run pods of `spec`; `job` adds fields to the Job spec."""
    labels = {constants.MODEL_LABEL: model}
    template = {"metadata": {"labels": dict(labels)}, "spec": spec}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": workload_metadata(name, labels=labels),
        "spec": {"schedule": schedule, "jobTemplate": {"spec": {**job, "template": template}}},
    }


def inference_service(
    spec: Body,
    *,
    name: str = "fraud",
    model: str = MODEL_NAME,
    labels: Mapping[str, str] | None = None,
) -> Body:
    """A KServe InferenceService of `spec` (predictor, transformer...)."""
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": workload_metadata(name, model=model, labels=labels),
        "spec": spec,
    }
