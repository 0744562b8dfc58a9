"""The ISO/IEC 42001 Annex A and EU AI Act control tables (aigov/data/controls.yaml).

One data file, so the evidence pack, the decision log and the README never disagree on which
controls aigov enforces, which it only records, and which are left to people.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Any

import yaml

ISO_CONTROLS = 38
"""ISO/IEC 42001:2023 Annex A has 38 controls; the table must list every one."""


class Coverage(StrEnum):
    """Who makes a control hold."""

    ENFORCED = "enforced"
    """aigov refuses or acts: admission webhooks, the reconciler's flag and stop."""
    RECORDED = "recorded"
    """aigov keeps the record an auditor reads; people make the decision."""
    HUMAN = "human"
    """A process of the organisation outside aigov."""


COVERAGE_TEXT = {
    Coverage.ENFORCED: "enforced by aigov",
    Coverage.RECORDED: "recorded by aigov",
    Coverage.HUMAN: "a human process outside aigov",
}


@dataclass(frozen=True)
class Control:
    """One control of a framework and where its evidence lives."""

    id: str
    title: str
    coverage: Coverage
    evidence: str
    reasons: tuple[str, ...] = ()
    """Reason codes whose refusals evidence this control."""
    events: tuple[str, ...] = ()
    """History and decision-log events that evidence it."""


@dataclass(frozen=True)
class Framework:
    """A named table of controls."""

    key: str
    name: str
    controls: tuple[Control, ...]


class ControlsError(ValueError):
    """The control table is malformed: a packaging error, never the user's input."""


def _control(raw: Mapping[str, Any], where: str) -> Control:
    try:
        return Control(
            id=str(raw["id"]),
            title=str(raw["title"]),
            coverage=Coverage(raw["coverage"]),
            evidence=str(raw["evidence"]),
            reasons=tuple(str(r) for r in raw.get("reasons") or ()),
            events=tuple(str(e) for e in raw.get("events") or ()),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise ControlsError(f"{where}: {exc!r}") from exc


def parse(data: Mapping[str, Any]) -> tuple[Framework, ...]:
    """The frameworks in `data` (the YAML's top-level keys), each control checked."""
    frameworks = []
    for key, raw in data.items():
        controls = tuple(
            _control(c, f"{key}.controls[{i}]") for i, c in enumerate(raw.get("controls") or ())
        )
        ids = [c.id for c in controls]
        if len(set(ids)) != len(ids):
            raise ControlsError(f"{key}: duplicate control ids")
        frameworks.append(Framework(str(key), str(raw["name"]), controls))
    iso = next((f for f in frameworks if f.key == "iso42001"), None)
    if iso is None or len(iso.controls) != ISO_CONTROLS:
        raise ControlsError(f"iso42001 must list all {ISO_CONTROLS} Annex A controls")
    return tuple(frameworks)


@functools.cache
def frameworks() -> tuple[Framework, ...]:
    """The packaged tables, read once."""
    text = resources.files("aigov").joinpath("data/controls.yaml").read_text()
    return parse(yaml.safe_load(text))


def evidenced_by(reason: str) -> tuple[str, ...]:
    """Control ids (of every framework) a refusal with this reason code evidences."""
    return tuple(c.id for f in frameworks() for c in f.controls if reason in c.reasons)


def evidenced_by_event(event: str) -> tuple[str, ...]:
    """Control ids (of every framework) an event (Approved, Revoked, Flagged, ...) evidences."""
    return tuple(c.id for f in frameworks() for c in f.controls if event in c.events)
