"""How `aigov check` prints findings: text for people, JSON/YAML for tools, SARIF 2.1.0 for
code-scanning UIs. Colour only on a terminal."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import yaml

from aigov import __version__
from aigov.api.constants import Reason
from aigov.cli.simulate import Finding

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
HELP = "https://github.com/aigov/aigov/blob/main/README.md"
_COLOURS = {"refused": "31", "warned": "33", "audited": "33", "admitted": "32"}
_LEVELS = {"refused": "error", "warned": "warning", "audited": "note"}


def _paint(text: str, verdict: str) -> str:
    code = _COLOURS.get(verdict)
    if code is None or not sys.stdout.isatty():
        return text
    return f"\033[{code}m{text}\033[0m"


def _ref(finding: Finding) -> str:
    where = f"{finding.namespace}/" if finding.namespace else ""
    return f"{finding.document.kind} {where}{finding.document.name}"


def as_dict(finding: Finding) -> dict[str, Any]:
    """One finding as plain data (json and yaml output)."""
    source = finding.document.source
    return {
        "file": source.file,
        "document": source.document,
        "line": source.line,
        "kind": finding.document.kind,
        "namespace": finding.namespace,
        "name": finding.document.name,
        "verdict": finding.verdict,
        "mode": finding.outcome.mode.value if finding.outcome and finding.outcome.mode else None,
        "violations": [v.to_dict() for v in finding.decision.violations],
        "warnings": list(finding.outcome.warnings if finding.outcome else ()),
        **({"note": finding.note} if finding.note else {}),
    }


def text(findings: Sequence[Finding]) -> str:
    """One line per document, then each violation with its field path."""
    lines = []
    for finding in findings:
        head = f"{finding.document.source}: {_ref(finding)}: "
        verdict = finding.verdict.upper()
        note = f" ({finding.note})" if finding.note else ""
        lines.append(head + _paint(verdict, finding.verdict) + note)
        lines.extend(f"    {v.render()}" for v in finding.decision.violations)
        warnings = finding.outcome.warnings if finding.outcome else ()
        lines.extend(f"    warning: {w}" for w in warnings if finding.verdict != "warned")
    broken = sum(1 for f in findings if f.decision.violations)
    lines.append(f"{len(findings)} documents, {broken} with violations")
    return "\n".join(lines) + "\n"


def sarif(findings: Sequence[Finding]) -> dict[str, Any]:
    """A SARIF 2.1.0 log: one rule per reason code, one result per violation."""
    rules = [
        {
            "id": reason.value,
            "shortDescription": {"text": f"aigov rule {reason.value}"},
            "helpUri": f"{HELP}#reason-codes",
        }
        for reason in Reason
    ]
    results = []
    for finding in findings:
        source = finding.document.source
        for violation in finding.decision.violations:
            results.append(
                {
                    "ruleId": violation.code.value,
                    "level": _LEVELS.get(finding.verdict, "error"),
                    "message": {"text": f"{_ref(finding)}: {violation.message}"},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": source.file},
                                "region": {"startLine": source.line},
                            },
                            "logicalLocations": [
                                {
                                    "fullyQualifiedName": f"{_ref(finding)}#{violation.path}",
                                    "kind": "object",
                                }
                            ],
                        }
                    ],
                    "properties": {"fieldPath": violation.path},
                }
            )
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "aigov",
                        "version": __version__,
                        "informationUri": HELP,
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }


def render(findings: Sequence[Finding], form: str) -> str:
    """The findings in `form`: text, json, yaml or sarif."""
    if form == "text":
        return text(findings)
    if form == "sarif":
        return json.dumps(sarif(findings), indent=2) + "\n"
    data = [as_dict(f) for f in findings]
    if form == "yaml":
        return yaml.safe_dump(data, sort_keys=False)
    return json.dumps(data, indent=2) + "\n"
