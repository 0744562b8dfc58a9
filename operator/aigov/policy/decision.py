"""What every rule returns: violations with a reason code and a field path, and warnings.

A rule reports every problem it finds, each where the user can fix it, instead of stopping at
the first: a refused ``kubectl apply`` should be fixable in one round (policy-controller's
field-path errors). The admission layer turns a Decision into a refusal, admission warnings or
the ``aigov.io/violations`` annotation, according to the namespace's mode; nothing here knows
which.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from aigov.api.constants import Reason

_REASON_ORDER = {reason: i for i, reason in enumerate(Reason)}


@dataclass(frozen=True)
class Violation:
    """One broken rule: a stable code, a sentence for a person, and the field to look at."""

    code: Reason
    message: str
    """Written for the person who applied the object: what is wrong and what to do."""
    path: str
    """Field path in the admitted object, e.g. ``spec.template.metadata.labels``."""

    def render(self) -> str:
        """``<Code> at <path>: <message>``, the form users read in refusals and warnings."""
        return f"{self.code.value} at {self.path}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        """The JSON form used in the ``aigov.io/violations`` annotation."""
        return {"code": self.code.value, "message": self.message, "path": self.path}


def _sort_key(violation: Violation) -> tuple[int, str, str]:
    return (_REASON_ORDER[violation.code], violation.path, violation.message)


@dataclass(frozen=True, init=False)
class Decision:
    """The verdict on one workload: allowed when there are no violations.

    Violations are de-duplicated and kept in a stable order (reason code as DESIGN.md lists
    them, then path), so the same object always yields the same message and annotation, and
    audit-mode annotations do not churn between evaluations.
    """

    violations: tuple[Violation, ...]
    warnings: tuple[str, ...]
    """Notes that never refuse, e.g. "model fraud-scorer is deprecated"."""

    def __init__(self, violations: Iterable[Violation] = (), warnings: Iterable[str] = ()) -> None:
        object.__setattr__(self, "violations", tuple(sorted(set(violations), key=_sort_key)))
        object.__setattr__(self, "warnings", tuple(dict.fromkeys(warnings)))

    @property
    def allowed(self) -> bool:
        """True when no rule was broken (warnings do not count)."""
        return not self.violations

    @property
    def codes(self) -> tuple[Reason, ...]:
        """The distinct reason codes, in the stable order."""
        return tuple(dict.fromkeys(v.code for v in self.violations))

    def summary(self) -> str:
        """One message naming every violation: ``<Code> at <path>: <message>; ...``."""
        return "; ".join(v.render() for v in self.violations)

    def to_json(self) -> str:
        """The ``aigov.io/violations`` annotation: a JSON list of {code, message, path}."""
        return json.dumps(
            [v.to_dict() for v in self.violations], ensure_ascii=False, separators=(",", ":")
        )

    def merge(self, *others: Decision) -> Decision:
        """This decision together with others, as when several rules judge one workload."""
        return Decision(
            violations=(v for d in (self, *others) for v in d.violations),
            warnings=(w for d in (self, *others) for w in d.warnings),
        )
