"""The table of workload kinds aigov judges (``aigov/data/kinds.yaml``).

One table instead of a list per concern: the webhook rules (operator and Helm chart, which
renders a copy of the same file), the parser that finds each kind's pod templates and model
fields, the scale indexes, the reconciler's lists and the command line all read it. A kind
added here is judged everywhere at once; its CRD may be absent from a cluster (``optional``).

Pure data, except ``workload_kinds``, which reads the package's own data file once, as
importing a module would.
"""

from __future__ import annotations

import functools
from enum import StrEnum
from importlib import resources

import yaml
from pydantic import Field, PrivateAttr

from aigov.api.base import ApiModel


class Shape(StrEnum):
    """How a kind describes the pods it runs."""

    POD = "pod"
    """The object is a Pod: its spec is the pod spec, its labels the pods' labels."""
    TEMPLATES = "templates"
    """PodTemplateSpecs (metadata.labels + spec) at the paths in ``templates``."""
    POD_SPECS = "podSpecs"
    """Pod specs at the paths in ``podSpecs``; the pods carry the object's labels."""
    KSERVE = "kserve"
    """KServe InferenceService components: predictor, transformer, explainer."""
    TRAIN_JOB = "trainJob"
    """Kubeflow TrainJob: ``spec.trainer`` is the training container."""
    NIM_SERVICE = "nimService"
    """NVIDIA NIMService: ``spec`` is the container (``image.repository``/``tag``, ``env``)."""


class Stop(StrEnum):
    """How stop-on-loss brings a workload of a model that may no longer run to a safe state."""

    SCALE = "scale"
    """spec.replicas = 0."""
    SUSPEND = "suspend"
    """spec.suspend = true."""
    NONE = "none"
    """Nothing aigov can set: flagged, and a person must act."""


class WorkloadKind(ApiModel):
    """One workload kind: its API resource and where its pods and weights are described."""

    kind: str
    """Kind, e.g. Deployment."""
    group: str
    """API group; "" for the core group."""
    version: str
    """The version the webhook rules name (matchPolicy Equivalent covers the others)."""
    plural: str
    """Resource name, e.g. deployments."""
    short: list[str] = Field(default_factory=list)
    """Names kubectl and ``aigov why`` accept, e.g. deploy."""
    subresources: list[str] = Field(default_factory=list)
    """Subresources also judged: scale, ephemeralcontainers."""
    shape: Shape = Field(strict=False)
    """How its pods are described."""
    templates: list[str] = Field(default_factory=list)
    """Paths of PodTemplateSpecs (shape templates); ``[*]`` is every list item."""
    pod_specs: list[str] = Field(default_factory=list)
    """Paths of pod specs (shape podSpecs)."""
    weights: list[str] = Field(default_factory=list)
    """Paths of fields that name weights: a URI, or a serve config naming model_source."""
    serving: bool = False
    """A model-serving or training resource: an AI workload even without a GPU."""
    stop: Stop = Field(Stop.NONE, strict=False)
    """How stop-on-loss stops it."""
    top_level: bool = False
    """Applied by people; owned kinds (ReplicaSet, Pod) are reported under their owner."""
    optional: bool = False
    """Its CRD may be absent from a cluster."""

    @property
    def api_version(self) -> str:
        """``group/version``, or ``version`` for the core group."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def rule_resources(self) -> list[str]:
        """The resources a webhook rule names: the plural and its judged subresources."""
        return [self.plural, *(f"{self.plural}/{s}" for s in self.subresources)]


class KindTable(ApiModel):
    """Every workload kind, in the order the file lists them."""

    kinds: list[WorkloadKind]
    """The kinds."""

    _by_kind: dict[tuple[str, str], WorkloadKind] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: object, /) -> None:
        """Index the kinds by (group, kind) once: the parser looks one up per request."""
        self._by_kind.update({(k.group, k.kind): k for k in self.kinds})

    def by_kind(self, group: str, kind: str) -> WorkloadKind | None:
        """The entry of (group, kind); None for a kind aigov does not judge."""
        return self._by_kind.get((group, kind))

    def named(self, name: str) -> WorkloadKind | None:
        """The entry kubectl would mean by ``name`` (a short name, kind or plural)."""
        lowered = name.lower()
        return next(
            (k for k in self.kinds if lowered in {*k.short, k.kind.lower(), k.plural}), None
        )


@functools.cache
def workload_kinds() -> KindTable:
    """The table shipped in the package (``aigov/data/kinds.yaml``), read once."""
    text = resources.files("aigov").joinpath("data/kinds.yaml").read_text(encoding="utf-8")
    return KindTable.model_validate(yaml.safe_load(text))
