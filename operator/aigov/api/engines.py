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
