"""Namespace guard: the aigov.io/mode label is set, changed or removed by admins only.

Without it a tenant could opt its own namespace out of governance (bypass class 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aigov.admission.outcome import Outcome
from aigov.admission.request import AdmissionRequest
from aigov.api.constants import MODE_LABEL, Mode, Reason
from aigov.policy.decision import Decision, Violation


def _mode_label(obj: Mapping[str, Any]) -> str | None:
    meta = obj.get("metadata")
    labels = meta.get("labels") if isinstance(meta, Mapping) else None
    value = labels.get(MODE_LABEL) if isinstance(labels, Mapping) else None
    return value if isinstance(value, str) else None


def judge(request: AdmissionRequest, admin_groups: tuple[str, ...]) -> Outcome:
    """Refuse a change of aigov.io/mode by anyone outside `admin_groups`; check its value."""
    new = _mode_label(request.object)
    old = _mode_label(request.old_object) if request.operation == "UPDATE" else None
    violations = []
    path = f"metadata.labels[{MODE_LABEL}]"
    if new is not None and new not in {m.value for m in Mode}:
        violations.append(
            Violation(
                Reason.INVALID_MODE,
                f"{MODE_LABEL}={new!r} is not a mode: use enforce, warn or audit",
                path,
            )
        )
    admin = bool(set(request.user.groups) & set(admin_groups))
    if new != old and not admin:
        change = (
            f"remove {MODE_LABEL}={old}"
            if new is None
            else f"set {MODE_LABEL}={new}" + (f" (was {old})" if old is not None else "")
        )
        violations.append(
            Violation(
                Reason.MODE_CHANGE_FORBIDDEN,
                f"user {request.user.username!r} may not {change} on namespace "
                f"{request.name!r}: only members of {', '.join(admin_groups)} may change "
                "how a namespace is governed",
                path,
            )
        )
    decision = Decision(violations)
    message = f"aigov refused {request.ref}: {decision.summary()}" if violations else ""
    return Outcome(decision=decision, mode=Mode.ENFORCE, message=message)
