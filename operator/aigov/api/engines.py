"""The table of serving engines: which containers load model weights, and from which fields.

Generic serving images (vLLM, TGI, SGLang, Triton, KServe runtimes) load whatever their
arguments and environment name, so the image digest says nothing of the weights (bypass
class 16). Which flags and variables name weights differs per engine and changes with
releases, so it is data, not code: ``aigov/data/engines.yaml`` ships the defaults, and a
platform team extends or overrides engines by name with a file of the same shape
(``AIGOV_ENGINES_FILE``, filled by the Helm chart from a ConfigMap).

Pure data and computation, except ``builtin_engines``, which reads the package's own data
file once, as importing a module would: no environment, no cluster, no clock.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Any, Self

import yaml
from pydantic import Field, ValidationError

from aigov.api.base import ApiModel


class ValueFormat(StrEnum):
    """How a flag's or variable's value names weights."""

    PLAIN = "plain"
    """The value is one reference; the last occurrence wins, as argparse does."""
    EACH = "each"
    """Every occurrence is a reference (Triton accepts several ``--model-repository``)."""
    LIST = "list"
    """Comma-separated references, each ``name=ref`` or ``ref`` (TGI ``--lora-adapters``)."""
    NARGS = "nargs"
    """The following arguments up to the next flag, each ``name=ref``, ``ref`` or a JSON
    object with ``path`` (vLLM ``--lora-modules``, SGLang ``--lora-paths``)."""
    JSON = "json"
    """A JSON object; ``jsonKey`` names the reference, ``jsonRevisionKey`` its revision."""
    IGNORE = "ignore"
    """The flag takes a value that names no weights; listed so it is not mistaken."""


class ReferenceSpec(ApiModel):
    """Where an engine is told one set of weights: flags and environment variables."""

    role: str = "model"
    """What the weights are for, in messages: model, tokenizer, LoRA adapter, draft model."""
    flags: list[str] = Field(default_factory=list)
    """Command-line flags whose value names the weights, e.g. ``--model``."""
    env: list[str] = Field(default_factory=list)
    """Environment variables read when no flag is given, e.g. ``MODEL_ID``."""
    revision_flags: list[str] = Field(default_factory=list)
    """Flags that pin a Hugging Face reference to a commit, e.g. ``--revision``."""
    revision_env: list[str] = Field(default_factory=list)
    """Variables that pin it when no revision flag is given, e.g. ``REVISION``."""
    format: ValueFormat = Field(ValueFormat.PLAIN, strict=False)
    """How the value names weights."""
    json_key: str = "model"
    """For ``format: json``: the key holding the reference."""
    json_revision_key: str | None = None
    """For ``format: json``: the key holding its revision, if any."""


@dataclass(frozen=True)
class FlagIndex:
    """An engine's flags, normalised once: what admission looks up per argument."""

    refs: Mapping[str, int]
    """Flag -> index into ``Engine.all_specs`` of the weights it names."""
    revisions: Mapping[str, int]
    """Flag -> index of the weights it pins."""
    values: frozenset[str]
    booleans: frozenset[str]
    opaque: frozenset[str]
    known: frozenset[str]

    def normalise(self, flag: str, underscores: bool) -> str:
        """``--max_model_len`` -> ``--max-model-len`` for engines that read it so."""
        if underscores and flag.startswith("--"):
            return "--" + flag[2:].replace("_", "-")
        return flag


class Engine(ApiModel):
    """One serving engine: how to recognise its containers, and where they name weights."""

    name: str
    """Stable key; an extension file's engine of the same name replaces this one."""
    title: str
    """As people write it, for messages: vLLM, Text Generation Inference."""
    images: list[str] = Field(default_factory=list)
    """Image repository path components that mark the engine: ``vllm`` matches
    ``vllm/vllm-openai`` and ``registry.example.com/serving/vllm`` (a component equal to it
    or starting with it and a dash)."""
    image_prefixes: list[str] = Field(default_factory=list)
    """Image reference prefixes that mark the engine, e.g. ``nvcr.io/nim/``."""
    commands: list[str] = Field(default_factory=list)
    """Executables (basename), optionally with a subcommand: ``vllm serve``."""
    modules: list[str] = Field(default_factory=list)
    """Python modules started with ``python -m``: ``vllm.entrypoints.openai.api_server``."""
    model_formats: list[str] = Field(default_factory=list)
    """KServe ``modelFormat.name`` values served by this engine."""
    positional: bool = False
    """A bare argument names the model and beats the model flags (``vllm serve <model>``)."""
    normalize_underscores: bool = False
    """The engine reads ``--max_model_len`` as ``--max-model-len`` (vLLM does)."""
    model: ReferenceSpec = Field(default_factory=ReferenceSpec)
    """Where the main model is named."""
    loads: list[ReferenceSpec] = Field(default_factory=list)
    """Other weights the engine loads besides the model: tokenizer, adapters, draft model."""
    opaque_flags: list[str] = Field(default_factory=list)
    """Flags that hand the engine a file of settings aigov cannot read (``--config``)."""
    value_flags: list[str] = Field(default_factory=list)
    """Flags known to take a value that names no weights, so the value is no model."""
    boolean_flags: list[str] = Field(default_factory=list)
    """Flags known to take no value, so the next bare argument is positional."""
    default: str | None = None
    """The model served when nothing names one; None: the engine needs one named."""
    image_is_model: bool = False
    """The image carries the model (NVIDIA NIM): with nothing named, its digest covers it."""
    unresolvable: str | None = None
    """Set for engines whose weights no manifest field names: why, for the message."""

    @property
    def all_specs(self) -> tuple[ReferenceSpec, ...]:
        """The model's spec, then the other loads."""
        return (self.model, *self.loads)

    @functools.cached_property
    def flag_index(self) -> FlagIndex:
        """The flags, normalised, computed once per engine (admission reads it per request)."""

        def norm(flags: list[str]) -> list[str]:
            if not self.normalize_underscores:
                return flags
            return ["--" + f[2:].replace("_", "-") if f.startswith("--") else f for f in flags]

        refs: dict[str, int] = {}
        revisions: dict[str, int] = {}
        for index, spec in enumerate(self.all_specs):
            refs.update(dict.fromkeys(norm(spec.flags), index))
            revisions.update(dict.fromkeys(norm(spec.revision_flags), index))
        values = frozenset(norm(self.value_flags))
        booleans = frozenset(norm(self.boolean_flags))
        opaque = frozenset(norm(self.opaque_flags))
        known = frozenset(refs) | frozenset(revisions) | values | booleans | opaque
        return FlagIndex(refs, revisions, values, booleans, opaque, known)


class GenericNames(ApiModel):
    """Names that point at weights in any container, recognised engine or not."""

    env: list[str] = Field(default_factory=list)
    """Variables such as ``HF_MODEL_ID`` and ``STORAGE_URI``."""
    revision_env: list[str] = Field(default_factory=list)
    """Variables that pin a Hugging Face reference found through ``env``."""
    flags: list[str] = Field(default_factory=list)
    """Flags such as ``--model-path``, read in containers of no known engine."""
    revision_flags: list[str] = Field(default_factory=list)
    """Flags that pin a reference found through ``flags``."""
    schemes: list[str] = Field(default_factory=list)
    """URI schemes of model stores: an argument ``s3://...`` is a reference anywhere."""


class EngineTable(ApiModel):
    """Every engine aigov recognises, and the generic names."""

    engines: list[Engine] = Field(default_factory=list)
    """In order: the first engine that matches a container wins."""
    generic: GenericNames = Field(default_factory=GenericNames)
    """Names read in every container."""

    @functools.cached_property
    def executables(self) -> Mapping[str, tuple[tuple[Engine, tuple[str, ...]], ...]]:
        """Executable basename -> (engine, subcommand words) for every ``commands`` entry."""
        found: dict[str, list[tuple[Engine, tuple[str, ...]]]] = {}
        for engine in self.engines:
            for command in engine.commands:
                first, *rest = command.split() or [""]
                found.setdefault(first, []).append((engine, tuple(rest)))
        return {k: tuple(v) for k, v in found.items()}

    @functools.cached_property
    def image_memo(self) -> dict[str, Engine | None]:
        """Image -> engine, filled by the resolver: workloads repeat a few images, so each
        is matched against the table once (cleared when it grows past 4,096 entries)."""
        return {}

    @functools.cached_property
    def modules(self) -> Mapping[str, Engine]:
        """Python module -> the first engine started by ``python -m`` it."""
        found: dict[str, Engine] = {}
        for engine in self.engines:
            for module in engine.modules:
                found.setdefault(module, engine)
        return found

    @classmethod
    def from_yaml(cls, text: str, source: str = "engine table") -> Self:
        """Parse a table; raise ValueError naming the source and the bad fields."""
        try:
            data: Any = yaml.safe_load(text) or {}
            return cls.model_validate(data)
        except (yaml.YAMLError, ValidationError) as exc:
            raise ValueError(f"{source}: not a valid engine table: {exc}") from exc

    def extended(self, other: EngineTable) -> EngineTable:
        """This table with `other`'s engines first (replacing same-named ones) and its
        generic names added: how a platform team's file extends the defaults."""
        names = {e.name for e in other.engines}
        kept = [e for e in self.engines if e.name not in names]
        g, o = self.generic, other.generic
        generic = GenericNames(
            env=list(dict.fromkeys(g.env + o.env)),
            revision_env=list(dict.fromkeys(g.revision_env + o.revision_env)),
            flags=list(dict.fromkeys(g.flags + o.flags)),
            revision_flags=list(dict.fromkeys(g.revision_flags + o.revision_flags)),
            schemes=list(dict.fromkeys(g.schemes + o.schemes)),
        )
        return EngineTable(engines=[*other.engines, *kept], generic=generic)


@functools.cache
def builtin_engines() -> EngineTable:
    """The table shipped in the package (``aigov/data/engines.yaml``), read once."""
    text = resources.files("aigov").joinpath("data/engines.yaml").read_text(encoding="utf-8")
    return EngineTable.from_yaml(text, "aigov/data/engines.yaml")
