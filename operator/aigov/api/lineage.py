"""Artifacts and lineage of a GovernedModel: what may run and where it came from.

Mirrors spec.artifacts and spec.lineage of crds/aigov.io_governedmodels.yaml.
Pure data and computation: no kopf, no Kubernetes client, no I/O.
"""

from __future__ import annotations

import re

from pydantic import Field

from aigov.api.base import ApiModel, Timestamp
from aigov.api.enums import DatasetRole

IMAGE_DIGEST_RE = re.compile(r"^[^@]+@(?P<digest>sha256:[a-f0-9]{64})$")
"""An image reference pinned by digest: `repo@sha256:<64 lowercase hex>`."""
DIGEST_RE = re.compile(r"^sha256:[a-f0-9]{64}$")
"""A content digest: `sha256:<64 lowercase hex>`."""
REVISION_RE = re.compile(r"^[a-f0-9]{40}$")
"""A Hugging Face revision pinned to a commit: 40 lowercase hex."""


class Artifact(ApiModel):
    """Something a workload of the model may run: a container image, or a file by uri."""

    name: str
    """Unique within the model, so findings can point at it."""
    image: str | None = None
    """Container image, which should be `repo@sha256:<hex>`; an unpinned tag is lineage debt."""
    uri: str | None = None
    """Location of weights, named the way workloads name them: `hf://org/name` (pinned by
    revision), `s3://`, `gs://`, `pvc://<claim>/<dir>`, `oci://` (pinned by digest)."""
    digest: str | None = None
    """`sha256:<hex>` of the file at uri, so what runs is what was assessed."""
    revision: str | None = None
    """For `hf://` weights: the 40-hex commit of the repository that was assessed."""

    @property
    def is_hugging_face(self) -> bool:
        """Weights on the Hugging Face Hub, pinned by revision rather than digest."""
        return self.uri is not None and self.uri.startswith("hf://")

    @property
    def image_digest(self) -> str | None:
        """The `sha256:<hex>` part of `repo@sha256:<hex>`, or None if the image is not pinned."""
        match = IMAGE_DIGEST_RE.match(self.image) if self.image is not None else None
        return match["digest"] if match else None

    @property
    def is_digest_pinned(self) -> bool:
        """Whether the artifact is fixed by a sha256 digest (in the image, or beside the uri)."""
        if self.image is not None:
            return self.image_digest is not None
        return self.digest is not None and DIGEST_RE.match(self.digest) is not None

    @property
    def is_pinned(self) -> bool:
        """Fixed by a digest, or for Hugging Face weights by a commit revision."""
        if self.is_digest_pinned:
            return True
        return (
            self.is_hugging_face
            and self.revision is not None
            and REVISION_RE.match(self.revision) is not None
        )


class Dataset(ApiModel):
    """A dataset the model was trained, tuned, validated, tested or evaluated on."""

    name: str
    """Unique within the model."""
    uri: str
    """Where this exact snapshot is stored."""
    role: DatasetRole = Field(strict=False)
    """What it was used for (EU AI Act Art. 10 distinguishes them)."""
    contains_personal_data: bool
    """Required, so that whether personal data was used is always stated."""
    digest: str | None = None
    """`sha256:<hex>` of the snapshot, when it can be computed."""


class CodeRef(ApiModel):
    """The source code that produced the model, at one exact commit."""

    repository: str
    """URL of the repository."""
    commit: str
    """Full 40-hex commit id: a branch or tag could move."""


class BaseModelRef(ApiModel):
    """The model this one was fine-tuned from (EU AI Act Art. 25 value chain)."""

    name: str
    """Name of the base model."""
    digest: str | None = None
    """`sha256:<hex>` of its weights."""
    supplier: str | None = None
    """Who supplies it."""
    license: str | None = None
    """The licence it is used under."""


class TrainingRun(ApiModel):
    """The training run that produced the weights, for tracing back to its logs."""

    id: str
    """Identifier in the training system."""
    finished_at: Timestamp | None = None
    """When it finished."""


class Lineage(ApiModel):
    """Where the model came from; without datasets and code it is LineageIncomplete."""

    datasets: list[Dataset] = Field(default_factory=list)
    """Datasets used; at least one is needed to run."""
    code: CodeRef | None = None
    """Code that produced the model; needed to run."""
    base_model: BaseModelRef | None = None
    """Base model, if fine-tuned."""
    training_run: TrainingRun | None = None
    """Training run, if tracked."""
