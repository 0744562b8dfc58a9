"""Which weights a workload loads: every model reference, where it is written, how sure.

The ``aigov.io/model`` label is a claim; the weights are what runs (bypass class 16). This
module reads them from the workload itself: serving-engine arguments and environment (the
engine table in ``aigov/data/engines.yaml``), engine defaults when nothing is named, KServe
storage fields, and local paths through the volume mounted there. Each reference carries
the field path a user can fix, whether the manifest declares it (a flag, a KServe field) or
aigov infers it (a conventional variable, an engine default), and what it resolves to.

What cannot be read for sure (a variable from a Secret, an ``envFrom``, an engine whose
model no field names, a volume aigov cannot tie to an artifact) is ``Unresolved``: the rules
turn it into ``ModelReferenceUnresolved``, never into a silent allow.

Pure: no I/O, no kopf, no Kubernetes client.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from aigov.api.engines import Engine, EngineTable, ReferenceSpec, builtin_engines
from aigov.policy import commandline
from aigov.policy.commandline import Word
from aigov.policy.engineargs import HF_NAME, SCHEME, looks_like_reference, parse_args, split
from aigov.policy.workload import Container, ContainerKind, EnvVar, PodTemplate, Workload

COMMIT: Final = re.compile(r"^[0-9a-f]{40}$")
"""A full git commit id: how a Hugging Face revision is pinned."""
_HF_URL: Final = re.compile(r"^https?://(www\.)?huggingface\.co/([\w.-]+/[\w.-]+)/?$")
AI_GROUPS: Final = frozenset(
    {
        "serving.kserve.io",
        "leaderworkerset.x-k8s.io",
        "jobset.x-k8s.io",
        "ray.io",
        "trainer.kubeflow.org",
        "kubeflow.org",
        "apps.nvidia.com",
    }
)
"""API groups of model-serving and training kinds: one aigov does not parse is unresolved."""


class Certainty(StrEnum):
    """How aigov knows of a reference."""

    DECLARED = "declared"
    """Written in a field whose meaning is fixed: ``--model``, ``storageUri``, ``serve X``."""
    INFERRED = "inferred"
    """From a convention (``MODEL_ID``-style variables) or an engine's default model."""


class Target(StrEnum):
    """What a reference resolves to."""

    HUGGING_FACE = "hf"
    """A Hugging Face repository, ``hf://org/name``; pinned by a 40-hex revision."""
    URI = "uri"
    """A store URI (``s3://``, ``gs://``, ``pvc://``...); pinned by the artifact's digest."""
    OCI = "oci"
    """An OCI artifact or image, ``oci://repo@sha256:...``; pinned by its digest."""
    IMAGE = "image"
    """A path inside the container's own image: covered by the image's digest."""
    PULLED = "pulled"
    """A path in an emptyDir filled by init containers: covered by their images and
    arguments, which are judged as containers in their own right."""


@dataclass(frozen=True)
class ModelReference:
    """One set of weights a workload loads."""

    value: str
    """As written (after ``$(VAR)`` expansion)."""
    path: str
    """Field path, e.g. ``spec.template.spec.containers[0].args[1]``."""
    source: str
    """Where it was read, for messages: ``vLLM --model``, ``env MODEL_ID``."""
    certainty: Certainty
    target: Target
    uri: str
    """Normalised: ``hf://org/name``, ``s3://bucket/key``, ``pvc://claim/dir``, ``oci://...``,
    or the local path for IMAGE and PULLED."""
    role: str = "model"
    revision: str | None = None
    revision_path: str | None = None
    via: str | None = None
    """For a local path: the volume it resolved through, in words."""

    @property
    def pinned(self) -> bool:
        """Whether the reference itself fixes the bytes. A store URI never does: the
        model's artifact must carry the digest."""
        if self.target is Target.HUGGING_FACE:
            return self.revision is not None and COMMIT.match(self.revision) is not None
        if self.target is Target.OCI:
            return "@sha256:" in self.uri
        return self.target in {Target.IMAGE, Target.PULLED}

    def describe(self) -> str:
        """``vLLM --model 'org/name'`` plus what a local path resolved to."""
        text = f"{self.source} {self.value!r}"
        if self.role != "model":
            text = f"{self.role} {text}"
        return f"{text} ({self.via})" if self.via else text


@dataclass(frozen=True)
class Unresolved:
    """A place that loads weights aigov cannot identify."""

    path: str
    message: str


@dataclass(frozen=True)
class Resolution:
    """Every reference and every unresolved place of a workload."""

    references: tuple[ModelReference, ...] = ()
    unresolved: tuple[Unresolved, ...] = ()


@dataclass
class _Found:
    references: list[ModelReference] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)

    def problem(self, path: str, message: str) -> None:
        self.unresolved.append(Unresolved(path, message))


def resolve(workload: Workload, table: EngineTable | None = None) -> Resolution:
    """Every model reference of every container of every pod template of `workload`."""
    table = table or builtin_engines()
    found = _Found()
    if not workload.templates and workload.group in AI_GROUPS:
        found.problem(
            "spec",
            f"{workload.kind} ({workload.api_version}) is a model-serving or training kind "
            "aigov cannot read yet, so it cannot tell which weights it loads",
        )
    for template in workload.templates:
        for container in template.all_containers:
            _container(container, template, table, found)
    return Resolution(
        tuple(dict.fromkeys(found.references)), tuple(dict.fromkeys(found.unresolved))
    )


# One container ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Value:
    """A raw reference before it is resolved to a target."""

    value: str
    path: str
    source: str
    certainty: Certainty
    role: str = "model"
    revision: Word | None = None
    unknown: str | None = None


def _container(c: Container, t: PodTemplate, table: EngineTable, found: _Found) -> None:
    env = {var.name: var for var in c.env}
    values: list[_Value] = []
    storage = _kserve_fields(c, values, found) if c.kind is ContainerKind.MODEL else False
    reading = commandline.read(c, env, table)
    for path, message in reading.problems:
        found.problem(path, f"{c.name or 'container'}: {message}")
    invocation = reading.invocation
    if invocation is None and c.kind is ContainerKind.MODEL:
        engine = commandline.engine_of_format(c.extra.get("modelFormat"), table)
        if engine is not None:
            _, args = commandline.words_of(c, env)
            invocation = commandline.Invocation(engine, tuple(args), "modelFormat")
    if invocation is not None:
        _engine(c, invocation, env, values, found, named_elsewhere=storage)
    elif not reading.problems:
        _generic(c, words=reading.words, env=env, table=table, values=values, found=found)
        if c.kind is ContainerKind.MODEL and not storage and c.image is None:
            found.problem(
                c.path,
                "the model entry names no weights (storageUri) and no runtime aigov "
                "recognises: the ServingRuntime decides what it loads",
            )
    for value in values:
        _resolve(value, c, t, found)


def _field(path: str, name: str) -> str:
    return f"{path}.{name}" if name else path


def _kserve_fields(c: Container, values: list[_Value], found: _Found) -> bool:
    """KServe's storage fields of a model entry; True when any names weights."""
    named = False
    if c.storage_uri:
        values.append(
            _Value(
                c.storage_uri,
                _field(c.path, c.storage_field),
                c.storage_field or "uri",
                Certainty.DECLARED,
            )
        )
        named = True
    uris = c.extra.get("storageUris")
    for i, item in enumerate(uris if isinstance(uris, list) else ()):
        uri = item.get("uri") if isinstance(item, Mapping) else item
        if isinstance(uri, str) and uri:
            suffix = ".uri" if isinstance(item, Mapping) else ""
            values.append(
                _Value(uri, f"{c.path}.storageUris[{i}]{suffix}", "storageUris", Certainty.DECLARED)
            )
            named = True
    storage = c.extra.get("storage")
    if isinstance(storage, Mapping) and storage:
        key = storage.get("key")
        found.problem(
            f"{c.path}.storage",
            f"storage names weights through storage key {key!r}, a storage-config Secret aigov "
            "cannot read: name them with storageUri, as one of the model's artifacts",
        )
        named = True
    return named


def _engine(
    c: Container,
    invocation: commandline.Invocation,
    env: Mapping[str, EnvVar],
    values: list[_Value],
    found: _Found,
    *,
    named_elsewhere: bool,
) -> None:
    engine = invocation.engine
    if engine.unresolvable:
        found.problem(c.path, f"{engine.title} ({invocation.by}): {engine.unresolvable}")
        return
    parsed = parse_args(engine, invocation.args)
    for path, message in parsed.problems:
        found.problem(path, message)
    title = engine.title
    for index, spec in enumerate(engine.all_specs):
        main = index == 0
        got = parsed.refs.get(index, [])
        if main and parsed.positional is not None:
            got = [(parsed.positional, f"{title} positional argument")]
        if not got:
            got = _from_env(spec, env, found, title)
        revision = parsed.revisions.get(index) or _revision_env(spec.revision_env, env)
        values.extend(
            _Value(
                word.value,
                word.path,
                source,
                Certainty.DECLARED,
                role=spec.role,
                revision=parsed.json_revisions.get(word.path, revision),
                unknown=word.unknown,
            )
            for word, source in got
        )
        if main and not got and not named_elsewhere:
            _default(c, engine, invocation, values, found)


def _default(
    c: Container,
    engine: Engine,
    invocation: commandline.Invocation,
    values: list[_Value],
    found: _Found,
) -> None:
    """Nothing names the model: the engine's default, the image, or unresolved."""
    path = f"{c.path}.args"
    if c.env_from and engine.model.env:
        found.problem(
            f"{c.path}.envFrom",
            f"{engine.title} reads its model from {', '.join(engine.model.env)}, which envFrom "
            "may set from a ConfigMap or Secret aigov cannot see: name the model in args or env",
        )
    elif engine.default is not None:
        values.append(
            _Value(engine.default, path, f"{engine.title} default model", Certainty.INFERRED)
        )
    elif not engine.image_is_model:
        found.problem(
            path,
            f"{engine.title} ({invocation.by}) names no model aigov can read, and has no "
            "default: name the model in its arguments",
        )


def _from_env(
    spec: ReferenceSpec, env: Mapping[str, EnvVar], found: _Found, title: str
) -> list[tuple[Word, str]]:
    for name in spec.env:
        var = env.get(name)
        if var is None:
            continue
        if var.value is None:
            found.problem(
                var.value_path,
                f"{title} reads its {spec.role} from env {name}, whose value comes from a "
                "ConfigMap or Secret aigov cannot see: write the value in the manifest",
            )
            return []
        if not var.value:
            continue
        words = split(var.value, spec.format, Word(var.value, var.value_path))
        return [(w, f"{title} env {name}") for w in words]
    return []


def _revision_env(names: Sequence[str], env: Mapping[str, EnvVar]) -> Word | None:
    for name in names:
        var = env.get(name)
        if var is not None and var.value:
            return Word(var.value, var.value_path)
    return None


# Containers of no known engine ------------------------------------------------------------


def _generic(
    c: Container,
    *,
    words: Sequence[Word],
    env: Mapping[str, EnvVar],
    table: EngineTable,
    values: list[_Value],
    found: _Found,
) -> None:
    """Conventional variables and flags, and store URIs in the arguments of any container.

    Only values that look like a reference count (``org/name``, a URI, an absolute path):
    ``MODEL_NAME=fraud-scorer`` is a served name, not weights.
    """
    generic = table.generic
    schemes = set(generic.schemes)
    revision = _revision_env(generic.revision_env, env)
    flags, rev_flags = set(generic.flags), set(generic.revision_flags)
    seen: set[str] = set()
    for i, word in enumerate(words):
        name, eq, inline = word.value.partition("=")
        if name in rev_flags:
            nxt = words[i + 1] if i + 1 < len(words) else None
            revision = Word(inline, word.path) if eq else nxt or revision
    for i, word in enumerate(words):
        name, eq, inline = word.value.partition("=")
        if name in flags:
            nxt = words[i + 1] if i + 1 < len(words) else None
            value = Word(inline, word.path, word.unknown) if eq else nxt
            if value is not None and looks_like_reference(value.value):
                values.append(
                    _Value(value.value, value.path, f"argument {name}", Certainty.INFERRED,
                           revision=revision, unknown=value.unknown)
                )  # fmt: skip
                seen.add(value.path)
        match = SCHEME.match(word.value)
        if match and match[1] in schemes and word.path not in seen:
            values.append(
                _Value(word.value, word.path, "argument", Certainty.INFERRED, revision=revision)
            )
    for name in generic.env:
        var = env.get(name)
        if var is None:
            continue
        if var.value is None:
            found.problem(
                var.value_path,
                f"env {name} conventionally names the model, and its value comes from a "
                "ConfigMap or Secret aigov cannot see: write the value in the manifest",
            )
        elif looks_like_reference(var.value):
            values.append(
                _Value(var.value, var.value_path, f"env {name}", Certainty.INFERRED,
                       revision=revision)
            )  # fmt: skip


# From a raw value to a target -------------------------------------------------------------


def _resolve(v: _Value, c: Container, t: PodTemplate, found: _Found) -> None:
    if v.unknown or "$" in v.value:
        found.problem(
            v.path,
            f"{v.source} takes its value from variable {v.unknown or v.value!r}, which aigov "
            "cannot see: write the model in the manifest",
        )
        return
    text = v.value.strip()
    revision = v.revision.value if v.revision else None
    rev_path = v.revision.path if v.revision else None

    def add(target: Target, uri: str, via: str | None = None) -> None:
        found.references.append(
            ModelReference(
                value=v.value,
                path=v.path,
                source=v.source,
                certainty=v.certainty,
                target=target,
                uri=uri,
                role=v.role,
                revision=revision,
                revision_path=rev_path,
                via=via,
            )
        )

    hf = _HF_URL.match(text)
    if text.startswith("hf://") or hf:
        name = (hf[2] if hf else text[5:]).strip("/")
        name, colon, pinned = name.partition(":")  # KServe: hf://org/name:<commit>
        if colon and revision is None:
            revision, rev_path = pinned, v.path
        add(Target.HUGGING_FACE, f"hf://{name.lower()}")
    elif text.startswith("oci://"):
        add(Target.OCI, text)
    elif SCHEME.match(text):
        add(Target.URI, text.rstrip("/"))
    elif text.startswith(("/", "file://")):
        _local(text.removeprefix("file://"), v=v, c=c, t=t, found=found, add=add)
    elif text.startswith("."):
        if c.volume_mounts:
            found.problem(
                v.path,
                f"{v.source} {text!r} is a relative path, which may lead into a mounted "
                "volume: write an absolute path",
            )
        else:
            add(Target.IMAGE, text, f"inside image {c.image}")
    elif HF_NAME.match(text):
        add(Target.HUGGING_FACE, f"hf://{text.lower()}")
    else:
        found.problem(v.path, f"{v.source} {text!r} is not a model reference aigov can read")


def _local(
    path: str,
    *,
    v: _Value,
    c: Container,
    t: PodTemplate,
    found: _Found,
    add: Callable[[Target, str, str | None], None],
) -> None:
    """A path in the container: through the volume mounted there, or inside the image."""
    mounts = [
        m
        for m in c.volume_mounts
        if path == m.mount_path or path.startswith(m.mount_path.rstrip("/") + "/")
    ]
    if not mounts:
        add(Target.IMAGE, path, f"inside image {c.image}, covered by its digest")
        return
    mount = max(mounts, key=lambda m: len(m.mount_path))
    volume = next((vol for vol in t.volumes if vol.name == mount.name), None)
    rest = path[len(mount.mount_path.rstrip("/")) :].strip("/")
    if volume is None:
        found.problem(v.path, f"{v.source} {path!r} is under a mount of no volume {mount.name!r}")
        return
    where = f"volume {volume.name!r} at {mount.mount_path}"
    if volume.kind == "persistentVolumeClaim" and volume.source:
        parts = [volume.source, mount.sub_path.strip("/"), rest]
        add(Target.URI, "pvc://" + "/".join(p for p in parts if p), where)
    elif volume.kind == "image" and volume.source:
        add(Target.OCI, f"oci://{volume.source}", where)
    elif volume.kind == "emptyDir":
        writers = [
            i.name or i.path
            for i in t.init_containers
            if any(m.name == volume.name and not m.read_only for m in i.volume_mounts)
        ]
        if writers:
            add(Target.PULLED, path, f"{where}, filled by init container {', '.join(writers)}")
        else:
            found.problem(
                v.path,
                f"{v.source} {path!r} is in emptyDir {volume.name!r}, which no init container "
                "fills: aigov cannot tell what it holds",
            )
    else:
        kind = volume.kind or "unknown"
        found.problem(
            f"{volume.path}",
            f"{v.source} {path!r} is in volume {volume.name!r} ({kind}), which aigov cannot tie "
            "to an artifact: use a PersistentVolumeClaim (pvc://), an image volume pinned by "
            "digest (oci://), or an emptyDir filled by an approved init container",
        )
