"""Read a container's command line as its process would see it, and find the engine it starts.

Kubernetes joins ``command`` and ``args`` (either may be empty: the image's ENTRYPOINT and
CMD fill in, which admission cannot see), expands ``$(VAR)`` from the container's ``env``,
and people wrap engines in ``sh -c "... && exec vllm serve ..."``. This module undoes all
three, keeping for every word the field path it came from, so a finding can say
``spec.template.spec.containers[0].args[1]``.

Anything that cannot be read for sure (a variable from a Secret, a script that does not
parse) is returned as a problem, never guessed: the caller turns it into
``ModelReferenceUnresolved``. Pure: no I/O.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aigov.api.engines import Engine, EngineTable
from aigov.policy.workload import Container, EnvVar

SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh"})
"""Executables whose ``-c`` argument is a script to read word by word."""
_SHELL_OPERATORS = frozenset({"&&", "||", ";", "|", "&", ";;", "(", ")"})
_K8S_VAR = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")
_SHELL_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_MAX_SCRIPT = 16_384
"""Longer scripts are not read (bypass class 11); they are reported as unreadable."""


@dataclass(frozen=True)
class Word:
    """One word of the command line and the field it came from."""

    value: str
    path: str
    unknown: str | None = None
    """Set when the word holds a variable whose value aigov cannot see: which one."""


@dataclass(frozen=True)
class Invocation:
    """The engine a container starts, and the words it is given."""

    engine: Engine
    args: tuple[Word, ...]
    by: str
    """How it was recognised, for messages: ``command vllm serve``, ``image vllm/vllm-openai``."""


@dataclass(frozen=True)
class Reading:
    """What the command line says: an engine invocation or none, the words, and problems."""

    words: tuple[Word, ...]
    invocation: Invocation | None = None
    problems: tuple[tuple[str, str], ...] = ()
    """(path, message) of what could not be read."""


def expand_k8s(text: str, env: Mapping[str, EnvVar]) -> tuple[str, str | None]:
    """Expand ``$(VAR)`` as the kubelet does; the second value names a variable whose value
    comes from a ConfigMap or Secret (unknown here). Undefined variables stay as written."""
    if "$" not in text:
        return text, None
    unknown: str | None = None

    def sub(match: re.Match[str]) -> str:
        nonlocal unknown
        if match[0] == "$$":
            return "$"
        var = env.get(match[1])
        if var is None:
            return match[0]
        if var.value is None:
            unknown = match[1]
            return match[0]
        return var.value

    return _K8S_VAR.sub(sub, text), unknown


def _expand_shell(word: Word, env: Mapping[str, EnvVar]) -> Word:
    """``$VAR`` and ``${VAR}`` in a script word, from literal env; others stay unknown."""
    unknown = word.unknown

    def sub(match: re.Match[str]) -> str:
        nonlocal unknown
        name = match[1] or match[2]
        var = env.get(name)
        if var is None or var.value is None:
            unknown = unknown or name
            return match[0]
        return var.value

    value = _SHELL_VAR.sub(sub, word.value)
    return Word(value, word.path, unknown)


def words_of(container: Container, env: Mapping[str, EnvVar]) -> tuple[list[Word], list[Word]]:
    """``command`` and ``args`` words after ``$(VAR)`` expansion, each with its path."""

    def read(values: Sequence[str], field: str) -> list[Word]:
        found = []
        for i, raw in enumerate(values):
            text, unknown = expand_k8s(raw, env)
            found.append(Word(text, f"{container.path}.{field}[{i}]", unknown))
        return found

    return read(container.command, "command"), read(container.args, "args")


def _script(words: Sequence[Word], env: Mapping[str, EnvVar]) -> tuple[list[Word] | None, str]:
    """If the line is ``<shell> ... -c <script>``, the script's words (None if unreadable)."""
    if not words or words[0].value.rsplit("/", 1)[-1] not in SHELLS:
        return [], ""
    for i, word in enumerate(words[1:], start=1):
        short = word.value.startswith("-") and not word.value.startswith("--")
        if short and "c" in word.value[1:] and i + 1 < len(words):
            script = words[i + 1]
            if len(script.value) > _MAX_SCRIPT:
                return None, script.path
            try:
                lexer = shlex.shlex(script.value, posix=True, punctuation_chars=True)
                lexer.whitespace_split = True
                parts = list(lexer)
            except ValueError:
                return None, script.path
            # Words after the script are its $0, $1...: `sh -c 'exec "$@"' -- vllm serve x`
            # runs them, so they are read too.
            words_ = [_expand_shell(Word(p, script.path, script.unknown), env) for p in parts]
            return [*words_, Word(";", script.path), *words[i + 2 :]], ""
    return [], ""


def image_components(image: str) -> list[str]:
    """Repository path components of an image reference, without registry, tag or digest."""
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    if name.rfind(":") > slash:
        name = name[: name.rfind(":")]
    parts = name.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    return [p.lower() for p in parts]


_MEMO_SIZE = 4096


def engine_of_image(image: str | None, table: EngineTable) -> Engine | None:
    """The first engine whose image names or prefixes match ``image`` (memoised per table)."""
    if not image:
        return None
    memo = table.image_memo
    if image not in memo:
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        memo[image] = _match_image(image, table)
    return memo[image]


def _match_image(image: str, table: EngineTable) -> Engine | None:
    components = image_components(image)
    for engine in table.engines:
        if any(image.startswith(prefix) for prefix in engine.image_prefixes):
            return engine
        for pattern in engine.images:
            if any(c == pattern or c.startswith(f"{pattern}-") for c in components):
                return engine
    return None


def _segment(words: Sequence[Word], start: int) -> tuple[Word, ...]:
    """Words from `start` up to the next shell operator."""
    end = next((i for i in range(start, len(words)) if words[i].value in _SHELL_OPERATORS), None)
    return tuple(words[start:end])


def _invoked(words: Sequence[Word], table: EngineTable) -> Invocation | None:
    """An engine started by name (``vllm serve``) or module (``python -m ...``) in `words`."""
    values = [w.value for w in words]
    executables, modules = table.executables, table.modules
    for i, value in enumerate(values):
        base = value.rsplit("/", 1)[-1]
        for engine, rest in executables.get(base, ()):
            if tuple(values[i + 1 : i + 1 + len(rest)]) == rest:
                command = " ".join((base, *rest))
                return Invocation(engine, _segment(words, i + 1 + len(rest)), f"command {command}")
        if value == "-m" and i + 1 < len(values) and values[i + 1] in modules:
            engine = modules[values[i + 1]]
            return Invocation(engine, _segment(words, i + 2), f"module {values[i + 1]}")
    return None


def read(container: Container, env: Mapping[str, EnvVar], table: EngineTable) -> Reading:
    """Which engine `container` runs, with its arguments, as far as the manifest says."""
    command, args = words_of(container, env)
    line = command + args
    script, bad = _script(line, env)
    if script is None:
        return Reading(tuple(line), problems=((bad, "a shell script aigov cannot read"),))
    words = script or line
    invocation = _invoked(words, table)
    if invocation is not None:
        return Reading(tuple(words), invocation)
    by_image = engine_of_image(container.image, table)
    if by_image is None:
        return Reading(tuple(words))
    if command:
        return Reading(
            tuple(words),
            problems=(
                (
                    f"{container.path}.command",
                    f"image {container.image!r} is a {by_image.title} image, but its command "
                    f"does not start {by_image.title} in a way aigov can read",
                ),
            ),
        )
    return Reading(tuple(words), Invocation(by_image, tuple(args), f"image {container.image}"))


def engine_of_format(model_format: object, table: EngineTable) -> Engine | None:
    """The engine that serves a KServe ``modelFormat`` (``{name: huggingface}``)."""
    name = model_format.get("name") if isinstance(model_format, Mapping) else None
    if not isinstance(name, str):
        return None
    return next((e for e in table.engines if name.lower() in e.model_formats), None)
