"""Walk a serving engine's arguments as its argument parser would, for the flags that name
weights.

Engines parse their command lines with argparse or clap: ``--flag value`` and
``--flag=value``, the last occurrence wins, argparse takes unique prefixes (``--model-p``),
and vLLM reads ``--max_model_len`` as ``--max-model-len``. A positional model (``vllm serve
<model>``) can stand after any flag, so a bare word that follows a flag aigov does not know
is ambiguous: it may be that flag's value or the model. Ambiguity is reported, not guessed.

Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from aigov.api.engines import Engine, ReferenceSpec, ValueFormat
from aigov.policy.commandline import Word

HF_NAME: Final = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
"""A Hugging Face repository id: ``org/name`` (or a legacy root-level ``name``)."""
SCHEME: Final = re.compile(r"^([a-z][a-z0-9+.-]*)://")
"""A URI scheme: ``s3://``, ``hf://``."""


def looks_like_reference(text: str) -> bool:
    """``org/name``, a URI or an absolute path; not ``auto``, ``2`` or ``fraud-scorer``."""
    return bool(SCHEME.match(text) or text.startswith("/") or ("/" in text and HF_NAME.match(text)))


@dataclass
class Parsed:
    """What the arguments say, by index into ``Engine.all_specs``."""

    refs: dict[int, list[tuple[Word, str]]] = field(default_factory=dict)
    """Spec index -> (word, source) of each reference."""
    revisions: dict[int, Word] = field(default_factory=dict)
    """Spec index -> the revision flag's value."""
    json_revisions: dict[str, Word] = field(default_factory=dict)
    """Path of a JSON value -> the revision inside it."""
    positional: Word | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)


class _Walker:
    """One pass over one engine's arguments."""

    def __init__(self, engine: Engine, args: Sequence[Word]) -> None:
        self.engine, self.args, self.out = engine, args, Parsed()
        index = engine.flag_index
        self.index = index
        self.refs, self.revs, self.known = index.refs, index.revisions, index.known
        self.values, self.booleans, self.opaque = index.values, index.booleans, index.opaque

    def problem(self, path: str, message: str) -> None:
        self.out.problems.append((path, f"{self.engine.title}: {message}"))

    def run(self) -> Parsed:
        i = 0
        while i < len(self.args):
            i = self.step(i)
        return self.out

    def step(self, i: int) -> int:
        """Read the word at `i`; return the index of the next unread word."""
        word = self.args[i]
        if not word.value.startswith("-") or word.value in {"-", "--"}:
            if self.engine.positional and self.out.positional is None:
                self.out.positional = word
            return i + 1
        name, eq, inline = word.value.partition("=")
        name = self.abbreviation(self.index.normalise(name, self.engine.normalize_underscores))
        nxt = self.args[i + 1] if i + 1 < len(self.args) else None
        if nxt is not None and nxt.value.startswith("-"):
            nxt = None
        value = Word(inline, word.path, word.unknown) if eq else nxt
        used = 2 if (not eq and nxt is not None) else 1
        if name in self.opaque:
            self.problem(
                word.path,
                f"{name} reads settings (the model among them) from a file aigov cannot see: "
                "name the model in the arguments instead",
            )
            return i + used
        if name in self.refs:
            return self.ref_flag(i, name, value, used=used if not eq else 1, inline=bool(eq))
        if name in self.revs:
            if value is not None:
                self.out.revisions[self.revs[name]] = value
            return i + used
        if name in self.booleans or eq or nxt is None:
            return i + 1
        if (
            self.engine.positional
            and self.out.positional is None
            and name not in self.values
            and looks_like_reference(nxt.value)
        ):
            self.problem(
                nxt.path,
                f"aigov cannot tell whether {nxt.value!r} is the value of {name} or the "
                f"model: write {name}=<value>, or put the model first",
            )
        return i + 2

    def ref_flag(self, i: int, name: str, value: Word | None, *, used: int, inline: bool) -> int:
        """A flag that names weights; return the index of the next unread word."""
        index = self.refs[name]
        spec = self.engine.all_specs[index]
        if spec.format is ValueFormat.NARGS and not inline:
            j = i + 1
            while j < len(self.args) and not self.args[j].value.startswith("-"):
                self.add(index, spec, self.args[j], name)
                j += 1
            return j
        if value is None:
            self.problem(self.args[i].path, f"{name} is given no value")
            return i + 1
        self.add(index, spec, value, name)
        return i + used

    def abbreviation(self, name: str) -> str:
        """argparse accepts a unique prefix of a long option (``--model-p``)."""
        if name in self.known or not name.startswith("--") or len(name) < 5:
            return name
        matches = {flag for flag in self.known if flag.startswith(name)}
        only = next(iter(matches)) if len(matches) == 1 else name
        return only if only in self.refs else name

    def add(self, index: int, spec: ReferenceSpec, value: Word, flag: str) -> None:
        source = f"{self.engine.title} {flag}"
        if spec.format is ValueFormat.IGNORE:
            return
        entries = self.out.refs.setdefault(index, [])
        if spec.format is ValueFormat.JSON:
            self.add_json(entries, spec, value, flag)
            return
        if spec.format is ValueFormat.PLAIN:
            entries.clear()  # argparse keeps the last occurrence
        entries.extend((w, source) for w in split(value.value, spec.format, value))

    def add_json(
        self, entries: list[tuple[Word, str]], spec: ReferenceSpec, value: Word, flag: str
    ) -> None:
        try:
            data = json.loads(value.value)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            self.problem(value.path, f"{flag} is not a JSON object aigov can read")
            return
        ref = data.get(spec.json_key)
        if not isinstance(ref, str) or not ref:
            return
        rev = data.get(spec.json_revision_key) if spec.json_revision_key else None
        if isinstance(rev, str) and rev:
            self.out.json_revisions[value.path] = Word(rev, value.path)
        entries.append((Word(ref, value.path, value.unknown), f"{self.engine.title} {flag}"))


def parse_args(engine: Engine, args: Sequence[Word]) -> Parsed:
    """References, revisions, the positional model and problems in `args`."""
    return _Walker(engine, args).run()


def split(text: str, fmt: ValueFormat, origin: Word) -> list[Word]:
    """The references in one value: a list, ``name=ref`` pairs, JSON ``{"path": ...}``."""
    items = [p.strip() for p in text.split(",") if p.strip()] if fmt is ValueFormat.LIST else [text]
    found: list[Word] = []
    for item in items:
        ref = item
        if fmt in {ValueFormat.NARGS, ValueFormat.LIST}:
            if item.startswith("{"):
                try:
                    data = json.loads(item)
                except ValueError:
                    data = None
                path = data.get("path") if isinstance(data, dict) else None
                ref = path if isinstance(path, str) else item
            elif "=" in item:
                ref = item.split("=", 1)[1]
        found.append(Word(ref, origin.path, origin.unknown))
    return found
