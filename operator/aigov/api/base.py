"""Shared pieces of the resource models: the model base, metadata, conditions, errors, hashing.

Pure data and computation: no kopf, no Kubernetes client, no I/O.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, ClassVar, NamedTuple, Self

from pydantic import AwareDatetime, ConfigDict, Field, ValidationError
from pydantic import BaseModel as PydanticModel
from pydantic.alias_generators import to_camel

from aigov.api.enums import ConditionStatus

Timestamp = Annotated[AwareDatetime, Field(strict=False)]
"""An RFC 3339 time with offset, as Kubernetes writes `format: date-time` (parsed from str)."""


class ApiModel(PydanticModel):
    """Base of every model here: camelCase on the wire, snake_case in Python.

    Types are strict (no "1" for 1, no "true" for True): the API server already validated
    the object against the CRD, so anything else is drift we want to hear about. Enum and
    time fields opt out of strictness only to accept their wire form (a string). Unknown
    fields are ignored, so an older operator can read objects written by a newer CRD.
    Instances are frozen: they are shared through kopf indexes between handlers.
    """

    model_config = ConfigDict(
        strict=True,
        alias_generator=to_camel,
        populate_by_name=True,
        serialize_by_alias=True,
        extra="ignore",
        frozen=True,
    )

    def to_k8s(self) -> dict[str, Any]:
        """The mapping as the API server stores it: camelCase keys, JSON types, no nulls."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class FieldProblem(NamedTuple):
    """One problem with a field, located by a path such as `spec.artifacts[0].image`."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class InvalidResource(Exception):  # noqa: N818 - a domain error named for what it reports
    """A resource body does not match its model: raised by every `from_body`.

    Handlers catch this one error instead of pydantic's; `details` lists every problem with
    its path, so a status condition or an admission message can show them all.
    """

    def __init__(self, kind: str, name: str, details: Sequence[FieldProblem]) -> None:
        self.kind = kind
        """Kind of the resource, e.g. GovernedModel."""
        self.name = name
        """metadata.name, or "" when the body had none."""
        self.details = tuple(details)
        """Each problem with its field path."""
        super().__init__(str(self))

    def __str__(self) -> str:
        problems = "; ".join(str(problem) for problem in self.details)
        return f"{self.kind} {self.name!r} is invalid: {problems}"


class Condition(ApiModel):
    """One aspect of an object's state, in the Kubernetes condition dialect (metav1.Condition).

    Tools such as `kubectl wait --for=condition=Ready` and printer columns read these.
    """

    type: str
    """CamelCase name of the aspect, e.g. Ready; unique within the list."""
    status: ConditionStatus = Field(strict=False)
    """Whether the aspect holds."""
    reason: str
    """A stable CamelCase code for why (see constants.Reason), for machines and alerts."""
    message: str
    """Details for a human reader; may be empty."""
    last_transition_time: Timestamp
    """When status last changed, so readers can tell how long it has been so."""
    observed_generation: int | None = None
    """The metadata.generation this condition was computed from; older means stale."""


def find_condition(conditions: Sequence[Condition], type_: str) -> Condition | None:
    """The condition of the given type, or None."""
    return next((c for c in conditions if c.type == type_), None)


class ObjectMeta(ApiModel):
    """The few metadata fields aigov reads; the rest (managedFields, ...) is ignored."""

    name: str = ""
    """Object name; empty only in a CREATE admission request that uses generateName."""
    namespace: str | None = None
    """Namespace; None for cluster-scoped kinds such as PlacementPolicy."""
    uid: str | None = None
    """Distinguishes a re-created object from its predecessor of the same name."""
    generation: int | None = None
    """Spec version, mirrored into observedGeneration so readers can tell stale status."""
    annotations: dict[str, str] = Field(default_factory=dict)
    """Annotations, including the aigov.io/ identity stamps."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Labels."""
    creation_timestamp: Timestamp | None = None
    """When the object was created; approval and assessment times derive from it."""
    deletion_timestamp: Timestamp | None = None
    """Set while the object is being deleted (finalizers pending)."""


class ModelRef(ApiModel):
    """A GovernedModel in the same namespace, at one exact spec.

    Binding to the spec hash means a changed model is no longer assessed or approved.
    """

    name: str
    """Name of the GovernedModel."""
    spec_hash: str
    """The model's status.specHash that was assessed or decided on."""


class Resource(ApiModel):
    """Base of the per-kind wrappers: metadata plus (in subclasses) spec and status."""

    KIND: ClassVar[str]
    """The kind, as the API server spells it."""

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Object metadata."""

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Self:
        """Parse a body (a dict, or a kopf Body view) or raise InvalidResource.

        This is the boundary: code past it works with typed objects only.
        """
        try:
            return cls.model_validate(plain(body))
        except ValidationError as exc:
            metadata = body.get("metadata")
            name = metadata.get("name", "") if isinstance(metadata, Mapping) else ""
            problems = [
                FieldProblem(_format_loc(error["loc"]), error["msg"]) for error in exc.errors()
            ]
            raise InvalidResource(cls.KIND, str(name), problems) from exc


def _format_loc(loc: tuple[int | str, ...]) -> str:
    """('spec', 'artifacts', 0, 'image') -> 'spec.artifacts[0].image'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or "<root>"


def plain(value: Any) -> Any:
    """A deep copy made of dicts and lists only, so kopf's Mapping views parse and serialize."""
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


UNHASHED_FIELDS = frozenset({"lifecycle"})
"""Spec fields outside the hash: lifecycle is an operational state, not what was assessed.
Deprecating or retiring a model must not void its assessment and approval (deprecated only
warns); retiring stops it by its own rule."""


def spec_hash(raw_spec: Mapping[str, Any]) -> str:
    """sha256 hex of the canonical JSON of a spec mapping, less UNHASHED_FIELDS.

    Canonical JSON is `json.dumps(spec, sort_keys=True, separators=(",", ":"))` (ASCII only).
    Hash the spec as stored in the cluster (defaults applied, unknown fields pruned), as the
    API server hands it to the operator and to webhooks: two readers of the same object get
    the same hash, and any change of a field (even a default one made explicit) changes it.
    Raises TypeError for values JSON cannot encode (e.g. datetime): a stored spec has none.
    """
    hashed = {k: v for k, v in plain(raw_spec).items() if k not in UNHASHED_FIELDS}
    canonical = json.dumps(hashed, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()
