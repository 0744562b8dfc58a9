"""A typed view of any admitted object: which pod specs it holds and what they would run.

The API server sends objects as plain JSON in a dozen shapes: a Pod's spec is at ``spec``, a
CronJob's at ``spec.jobTemplate.spec.template.spec``, an InferenceService's components are
pod-spec-like objects with a ``model`` on the side. Rules should not know those shapes (bypass
class 6: a pod template hidden inside another kind), so ``parse_workload`` finds every pod spec
once and each rule reads ``Workload.templates``, with the field path a user can find it at.

Parsing never raises on odd fields: a missing, null or wrongly typed field counts as absent,
because a webhook that crashes fails open or closed by configuration, not by decision. Only an
object that is not a mapping or has no kind raises ``MalformedWorkload``: there is nothing to
judge.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Final

import yaml

from aigov.api.constants import MODEL_LABEL
from aigov.api.kinds import Shape, WorkloadKind, workload_kinds

Quantity = str | int | float
"""A resource quantity as JSON carries it: "1", 2, "500m", "16Gi"."""

INFERENCE_SERVICE: Final = ("serving.kserve.io", "InferenceService")
"""(group, kind) of KServe's model-serving resource: an AI workload by definition."""

_ISVC_COMPONENTS: Final = ("predictor", "transformer", "explainer")
# Keys of a KServe component that hold a model server: `model` (v1beta1) and the older
# framework-specific predictors and explainers. Each embeds a container with resources.
_ISVC_MODEL_KEYS: Final = (
    "model", "sklearn", "xgboost", "tensorflow", "pytorch", "triton", "onnx", "huggingface",
    "pmml", "lightgbm", "paddle", "art", "alibi",
)  # fmt: skip


class MalformedWorkload(ValueError):  # noqa: N818 - the name is the contract
    """The admitted object is not a Kubernetes object at all (not a mapping, or no kind)."""


class ContainerKind(StrEnum):
    """Where in a pod spec a container sits; the values are the JSON field names."""

    CONTAINER = "containers"
    INIT = "initContainers"
    EPHEMERAL = "ephemeralContainers"
    MODEL = "model"
    """An InferenceService model entry: KServe turns it into the serving container."""


@dataclass(frozen=True)
class Claim:
    """A DRA claim reference: a pod's ``resourceClaims[i]`` or a container's ``claims[i]``."""

    name: str
    path: str


@dataclass(frozen=True)
class Resources:
    """``resources`` of a container or pod. Only well-typed quantities are kept."""

    requests: Mapping[str, Quantity] = field(default_factory=dict)
    limits: Mapping[str, Quantity] = field(default_factory=dict)
    claims: tuple[Claim, ...] = ()


@dataclass(frozen=True)
class EnvVar:
    """One ``env`` entry. ``value`` is None when it comes from ``valueFrom``: unknown here."""

    name: str
    value: str | None
    path: str
    """E.g. ``spec.containers[0].env[2]``; the literal is at ``<path>.value``."""

    @property
    def value_path(self) -> str:
        """Where the value is written: ``.value`` for a literal, ``.valueFrom`` otherwise."""
        return f"{self.path}.value" if self.value is not None else f"{self.path}.valueFrom"


@dataclass(frozen=True)
class VolumeMount:
    """A container's ``volumeMounts[i]``: which volume it sees at which path."""

    name: str
    mount_path: str
    sub_path: str = ""
    read_only: bool = False


@dataclass(frozen=True)
class Volume:
    """A pod ``volumes[i]`` entry, reduced to what says where its files come from.

    ``kind`` is the volume source's field name (``persistentVolumeClaim``, ``image``,
    ``emptyDir``, ``hostPath``, ...); ``source`` is its claim name, image reference or host
    path when it has one.
    """

    name: str
    kind: str
    path: str
    """E.g. ``spec.template.spec.volumes[1]``."""
    source: str | None = None


@dataclass(frozen=True)
class Container:
    """One container of a pod spec, with the field path users see in errors and YAML."""

    kind: ContainerKind
    path: str
    """E.g. ``spec.template.spec.containers[0]`` or ``spec.predictor.model``."""
    name: str | None
    image: str | None
    resources: Resources
    restart_policy: str | None = None
    """``Always`` on an init container makes it a sidecar that runs beside the app."""
    storage_uri: str | None = None
    """Model entries only: where KServe loads the weights from."""
    storage_field: str = "storageUri"
    """The field of ``path`` that holds ``storage_uri`` ("" when ``path`` is the field)."""
    command: tuple[str, ...] = ()
    """``command``; entries that are not strings are dropped (the API server refuses them)."""
    args: tuple[str, ...] = ()
    env: tuple[EnvVar, ...] = ()
    env_from: bool = False
    """Whether ``envFrom`` adds variables aigov cannot see (a ConfigMap or Secret)."""
    volume_mounts: tuple[VolumeMount, ...] = ()
    privileged: bool = False
    """``securityContext.privileged: true``: the container sees every device of its node."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Model entries only: the KServe fields besides the container's (``storage``,
    ``storageUris``, ``modelFormat``), as given."""

    @property
    def image_path(self) -> str:
        """Path of the image field, e.g. ``spec.template.spec.containers[0].image``."""
        return f"{self.path}.image"

    @property
    def is_sidecar(self) -> bool:
        """Sidecar init containers keep running, so the scheduler adds them to the app sum."""
        return self.kind is ContainerKind.INIT and self.restart_policy == "Always"


@dataclass(frozen=True)
class PodTemplate:
    """A pod spec found inside an object, and the labels its Pods would carry."""

    path: str
    """Path of the pod spec, e.g. ``spec.template.spec``, ``spec``, ``spec.predictor``."""
    labels_path: str
    """Where the Pods' labels are written, e.g. ``spec.template.metadata.labels``."""
    labels: Mapping[str, str]
    inherits_labels: bool
    """True when the labels are the object's own (Pod, InferenceService), not a separate set."""
    containers: tuple[Container, ...] = ()
    """App containers; for InferenceService components also the model entries."""
    init_containers: tuple[Container, ...] = ()
    ephemeral_containers: tuple[Container, ...] = ()
    resources: Resources = field(default_factory=Resources)
    """Pod-level ``spec.resources`` (Kubernetes 1.32+)."""
    resource_claims: tuple[Claim, ...] = ()
    node_name: str | None = None
    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: tuple[Mapping[str, Any], ...] = ()
    affinity: Mapping[str, Any] = field(default_factory=dict)
    volumes: tuple[Volume, ...] = ()
    runtime_class_name: str | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)
    """Annotations the Pods would carry (the template's; a Pod's own)."""
    annotations_path: str = "metadata.annotations"

    @property
    def model(self) -> str | None:
        """The ``aigov.io/model`` label the Pods would carry, if any."""
        return _label_value(self.labels)

    @property
    def all_containers(self) -> tuple[Container, ...]:
        """Every container that could run code: app, init and ephemeral."""
        return self.containers + self.init_containers + self.ephemeral_containers


@dataclass(frozen=True)
class Workload:
    """What a rule needs to know about an admitted object, whatever its kind."""

    kind: str
    api_version: str
    namespace: str | None
    name: str | None
    generate_name: str | None
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    templates: tuple[PodTemplate, ...] = ()
    """Every pod spec the object holds; empty for Scale and unknown kinds."""
    replicas: int | None = None
    """``spec.replicas`` when it is an integer: lets callers judge scale-ups against old."""

    @property
    def group(self) -> str:
        """API group; ``""`` for the core group (``v1``)."""
        group, _, _ = self.api_version.rpartition("/")
        return group

    @property
    def model(self) -> str | None:
        """The object's own ``aigov.io/model`` label, if set and not empty."""
        return _label_value(self.labels)

    @property
    def is_inference_service(self) -> bool:
        """A KServe InferenceService (its model entries have KServe's own fields)."""
        return (self.group, self.kind) == INFERENCE_SERVICE

    @property
    def is_serving(self) -> bool:
        """A model-serving or training kind (kinds table): an AI workload without a GPU too."""
        entry = _entry(self.kind, self.api_version)
        return entry is not None and entry.serving

    @property
    def ref(self) -> str:
        """``namespace/name`` for messages; a generated name shows as ``prefix*``."""
        name = self.name or (f"{self.generate_name}*" if self.generate_name else "<unnamed>")
        return f"{self.namespace}/{name}" if self.namespace else name


def parse_workload(obj: object) -> Workload:
    """Build the typed view of an admitted object; raise only if it has no kind."""
    if not isinstance(obj, Mapping):
        raise MalformedWorkload(f"expected a Kubernetes object, got {type(obj).__name__}")
    kind = obj.get("kind")
    if not isinstance(kind, str) or not kind:
        raise MalformedWorkload("the object has no kind")
    api_version = _str(obj.get("apiVersion")) or ""
    meta, spec = _map(obj.get("metadata")), _map(obj.get("spec"))
    labels = _str_map(meta.get("labels"))
    annotations = _str_map(meta.get("annotations"))
    replicas = spec.get("replicas")
    return Workload(
        kind=kind,
        api_version=api_version,
        namespace=_str(meta.get("namespace")),
        name=_str(meta.get("name")),
        generate_name=_str(meta.get("generateName")),
        labels=labels,
        annotations=annotations,
        templates=_templates(kind, api_version, obj, labels, annotations),
        replicas=replicas if isinstance(replicas, int) and not isinstance(replicas, bool) else None,
    )


def _entry(kind: str, api_version: str) -> WorkloadKind | None:
    """The kinds-table entry of an object; a missing apiVersion matches the kind alone."""
    table = workload_kinds()
    if api_version:
        return table.by_kind(api_version.rpartition("/")[0], kind)
    return next((k for k in table.kinds if k.kind == kind), None)


def _templates(
    kind: str,
    api_version: str,
    obj: Mapping[str, Any],
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
) -> tuple[PodTemplate, ...]:
    """Every pod spec of a kind the table knows, where the table says it is."""
    entry = _entry(kind, api_version)
    if entry is None:
        return ()
    spec = _map(obj.get("spec"))
    notes = (annotations, "metadata.annotations")
    found: list[PodTemplate]
    if entry.shape is Shape.POD:
        found = [_pod(spec, "spec", labels, "metadata.labels", inherits=True, annotations=notes)]
    elif entry.shape is Shape.KSERVE:
        found = list(_inference_service(spec, labels, annotations))
    elif entry.shape is Shape.TEMPLATES:
        found = [
            _from_template(template, path)
            for where in entry.templates
            for template, path in _at(obj, where)
        ]
    elif entry.shape is Shape.POD_SPECS:
        found = [
            _pod(pod_spec, path, labels, "metadata.labels", inherits=True, annotations=notes)
            for where in entry.pod_specs
            for pod_spec, path in _at(obj, where)
        ]
    else:
        found = [_single_container(entry.shape, spec, labels, annotations)]
    weights = tuple(model for where in entry.weights for model in _weight_entries(obj, where))
    if weights:
        first = found[0] if found else _pod({}, "spec", labels, "metadata.labels", inherits=True)
        found = [replace(first, containers=first.containers + weights), *found[1:]]
    return tuple(found)


def _at(obj: Mapping[str, Any], where: str) -> list[tuple[Mapping[str, Any], str]]:
    """The mappings at a dotted path, ``[*]`` standing for every item of a list."""
    found: list[tuple[Any, str]] = [(obj, "")]
    for step in where.split("."):
        each = step.endswith("[*]")
        key = step.removesuffix("[*]")
        nxt: list[tuple[Any, str]] = []
        for value, path in found:
            child = _map(value).get(key)
            at = f"{path}.{key}" if path else key
            if each:
                nxt.extend((item, f"{at}[{i}]") for i, item in enumerate(_list(child)))
            else:
                nxt.append((child, at))
        found = nxt
    return [(value, path) for value, path in found if isinstance(value, Mapping) and value]


def _from_template(template: Mapping[str, Any], path: str) -> PodTemplate:
    """A PodTemplateSpec: its own labels and annotations, its spec."""
    meta = _map(template.get("metadata"))
    return _pod(
        _map(template.get("spec")),
        f"{path}.spec",
        _str_map(meta.get("labels")),
        f"{path}.metadata.labels",
        inherits=False,
        annotations=(_str_map(meta.get("annotations")), f"{path}.metadata.annotations"),
    )


def _single_container(
    shape: Shape, spec: Mapping[str, Any], labels: Mapping[str, str], annotations: Mapping[str, str]
) -> PodTemplate:
    """Kinds whose spec describes one container, not a pod (TrainJob, NIMService).

    Their pods carry the object's labels and ``spec.labels``, as their operators write them.
    """
    merged = {**labels, **_str_map(spec.get("labels"))}
    notes = ({**annotations, **_str_map(spec.get("annotations"))}, "metadata.annotations")
    if shape is Shape.TRAIN_JOB:
        trainer = _map(spec.get("trainer"))
        item = {**trainer, "resources": trainer.get("resourcesPerNode")}
        container = _container(item, "spec.trainer", ContainerKind.CONTAINER)
        scheduling: Mapping[str, Any] = {}
    else:
        image = _map(spec.get("image"))
        repository, tag = _str(image.get("repository")), _str(image.get("tag"))
        sep = "@" if tag and tag.startswith("sha256:") else ":"
        ref = f"{repository}{sep}{tag}" if repository and tag else repository
        container = _container({**spec, "image": ref}, "spec", ContainerKind.CONTAINER)
        scheduling = spec
    pod = {k: scheduling[k] for k in _SCHEDULING if k in scheduling}
    return _pod(
        pod, "spec", merged, "metadata.labels", inherits=True, extra=(container,), annotations=notes
    )


_SCHEDULING: Final = ("nodeSelector", "tolerations", "affinity", "runtimeClassName")
_SAFE_LOADER: Final = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it, else the Python one: never objects, only data."""


def _weight_entries(obj: Mapping[str, Any], where: str) -> list[Container]:
    """Model entries for the fields the kinds table says name weights.

    A URI field is one entry; a Ray Serve config (a YAML string) gives one entry per
    ``model_source`` it names, so the resolver matches each against the model's artifacts.
    """
    parent, _, key = where.rpartition(".")
    found: list[Container] = []
    for holder, path in _at(obj, parent) if parent else [(obj, "")]:
        value = holder.get(key)
        field_path = f"{path}.{key}" if path else key
        if isinstance(value, str) and value and key == "serveConfigV2":
            found.extend(
                Container(ContainerKind.MODEL, field_path, None, None, Resources(),
                          storage_uri=source, storage_field="")
                for source in _model_sources(value)
            )  # fmt: skip
        elif isinstance(value, str) and value:
            found.append(
                Container(ContainerKind.MODEL, path, None, None, Resources(),
                          storage_uri=value, storage_field=key)
            )  # fmt: skip
    return found


def _model_sources(config: str) -> list[str]:
    """Every ``model_source`` (Ray Serve LLM) in a serve config; none if it does not parse."""
    try:
        loaded = yaml.load(config, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return []
    found: list[str] = []
    stack: list[Any] = [loaded]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            source = item.get("model_source")
            if isinstance(source, str) and source:
                found.append(source)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return sorted(found)


def _inference_service(
    spec: Mapping[str, Any], labels: Mapping[str, str], annotations: Mapping[str, str]
) -> tuple[PodTemplate, ...]:
    """Each KServe component (and a multi-node predictor's workerSpec) is a pod spec.

    KServe puts the InferenceService's labels on every Pod, overridden by the component's own
    ``labels``; so the effective labels are the union, and a component override is judged.
    """
    found: list[PodTemplate] = []
    for name in _ISVC_COMPONENTS:
        component = _map(spec.get(name))
        if not component:
            continue
        path = f"spec.{name}"
        merged = {**labels, **_str_map(component.get("labels"))}
        notes = ({**annotations, **_str_map(component.get("annotations"))}, f"{path}.annotations")
        models = tuple(
            _container(component.get(key), f"{path}.{key}", ContainerKind.MODEL)
            for key in _ISVC_MODEL_KEYS
            if isinstance(component.get(key), Mapping)
        )
        found.append(
            _pod(
                component,
                path,
                merged,
                f"{path}.labels",
                inherits=True,
                extra=models,
                annotations=notes,
            )
        )
        worker = _map(component.get("workerSpec"))
        if worker:
            found.append(
                _pod(
                    worker,
                    f"{path}.workerSpec",
                    merged,
                    f"{path}.labels",
                    inherits=True,
                    annotations=notes,
                )
            )
    return tuple(found)


def _pod(
    spec: Mapping[str, Any],
    path: str,
    labels: Mapping[str, str],
    labels_path: str,
    *,
    inherits: bool,
    extra: tuple[Container, ...] = (),
    annotations: tuple[Mapping[str, str], str] = ({}, "metadata.annotations"),
) -> PodTemplate:
    return PodTemplate(
        path=path,
        labels_path=labels_path,
        labels=labels,
        inherits_labels=inherits,
        containers=_containers(spec, path, ContainerKind.CONTAINER) + extra,
        init_containers=_containers(spec, path, ContainerKind.INIT),
        ephemeral_containers=_containers(spec, path, ContainerKind.EPHEMERAL),
        resources=_resources(spec.get("resources"), f"{path}.resources"),
        resource_claims=_claims(spec.get("resourceClaims"), f"{path}.resourceClaims"),
        node_name=_str(spec.get("nodeName")),
        node_selector=_str_map(spec.get("nodeSelector")),
        tolerations=tuple(t for t in _list(spec.get("tolerations")) if isinstance(t, Mapping)),
        affinity=_map(spec.get("affinity")),
        volumes=_volumes(spec.get("volumes"), f"{path}.volumes"),
        runtime_class_name=_str(spec.get("runtimeClassName")),
        annotations=annotations[0],
        annotations_path=annotations[1],
    )


def _containers(spec: Mapping[str, Any], path: str, kind: ContainerKind) -> tuple[Container, ...]:
    """Parse one container list; indexes in paths are the original ones, even past garbage."""
    return tuple(
        _container(item, f"{path}.{kind.value}[{i}]", kind)
        for i, item in enumerate(_list(spec.get(kind.value)))
        if isinstance(item, Mapping)
    )


def _container(raw: object, path: str, kind: ContainerKind) -> Container:
    item = _map(raw)
    security = _map(item.get("securityContext"))
    return Container(
        kind=kind,
        path=path,
        name=_str(item.get("name")),
        image=_str(item.get("image")),
        resources=_resources(item.get("resources"), f"{path}.resources"),
        restart_policy=_str(item.get("restartPolicy")),
        storage_uri=_str(item.get("storageUri")),
        command=_strings(item.get("command")),
        args=_strings(item.get("args")),
        env=_env(item.get("env"), f"{path}.env"),
        env_from=bool(_list(item.get("envFrom"))),
        volume_mounts=_mounts(item.get("volumeMounts")),
        privileged=security.get("privileged") is True,
        extra=(
            {k: item[k] for k in _MODEL_FIELDS if k in item} if kind is ContainerKind.MODEL else {}
        ),
    )


_MODEL_FIELDS: Final = ("storage", "storageUris", "modelFormat")


def _strings(raw: object) -> tuple[str, ...]:
    """A list of strings; a non-string entry becomes "" so later indexes stay true."""
    return tuple(v if isinstance(v, str) else "" for v in _list(raw))


def _env(raw: object, path: str) -> tuple[EnvVar, ...]:
    found: list[EnvVar] = []
    for i, item in enumerate(_list(raw)):
        entry = _map(item)
        name = _str(entry.get("name"))
        if name is None:
            continue
        value = entry.get("value")
        literal = value if isinstance(value, str) else None
        if literal is None and "valueFrom" not in entry:
            literal = ""  # no value at all: the variable is set to the empty string
        found.append(EnvVar(name=name, value=literal, path=f"{path}[{i}]"))
    return tuple(found)


def _mounts(raw: object) -> tuple[VolumeMount, ...]:
    return tuple(
        VolumeMount(
            name=name,
            mount_path=mount,
            sub_path=_str(entry.get("subPath")) or "",
            read_only=entry.get("readOnly") is True,
        )
        for entry in (_map(item) for item in _list(raw))
        if (name := _str(entry.get("name"))) and (mount := _str(entry.get("mountPath")))
    )


_VOLUME_SOURCES: Final[Mapping[str, str | None]] = {
    "persistentVolumeClaim": "claimName",
    "image": "reference",
    "hostPath": "path",
    "emptyDir": None,
}


def _volumes(raw: object, path: str) -> tuple[Volume, ...]:
    """Each volume with its source kind; an unknown source keeps its field name as kind."""
    found: list[Volume] = []
    for i, item in enumerate(_list(raw)):
        entry = _map(item)
        name = _str(entry.get("name"))
        if name is None:
            continue
        kind = next((k for k in entry if k != "name" and isinstance(k, str)), "")
        key = _VOLUME_SOURCES.get(kind)
        source = _str(_map(entry.get(kind)).get(key)) if key else None
        found.append(Volume(name=name, kind=kind, path=f"{path}[{i}]", source=source))
    return tuple(found)


def _resources(raw: object, path: str) -> Resources:
    res = _map(raw)
    return Resources(
        requests=_quantities(res.get("requests")),
        limits=_quantities(res.get("limits")),
        claims=_claims(res.get("claims"), f"{path}.claims"),
    )


def _quantities(raw: object) -> dict[str, Quantity]:
    return {
        k: v
        for k, v in _map(raw).items()
        if isinstance(k, str) and isinstance(v, str | int | float) and not isinstance(v, bool)
    }


def _claims(raw: object, path: str) -> tuple[Claim, ...]:
    return tuple(
        Claim(name=_str(item.get("name")) or "", path=f"{path}[{i}]")
        for i, item in enumerate(_list(raw))
        if isinstance(item, Mapping)
    )


def _label_value(labels: Mapping[str, str]) -> str | None:
    return labels.get(MODEL_LABEL, "").strip() or None


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> Iterable[Any]:
    return value if isinstance(value, list | tuple) else ()


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _str_map(value: object) -> dict[str, str]:
    return {k: v for k, v in _map(value).items() if isinstance(k, str) and isinstance(v, str)}
