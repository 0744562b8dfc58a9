"""Namespace guard: aigov.io/mode, aigov.io/stop-on-loss and aigov.io/require-signed-approvals
are set, changed or removed by admins only.

Without it a tenant could opt its own namespace out of governance (bypass class 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aigov.admission.outcome import Outcome
from aigov.admission.request import AdmissionRequest
from aigov.api.constants import MODE_LABEL, REQUIRE_SIGNED_LABEL, STOP_LABEL, Mode, Reason
from aigov.policy.decision import Decision, Violation

GUARDED = {
    MODE_LABEL: ("a mode: use enforce, warn or audit", frozenset(m.value for m in Mode)),
    STOP_LABEL: ("a switch: use true or false", frozenset({"true", "false"})),
    REQUIRE_SIGNED_LABEL: ("a switch: use true or false", frozenset({"true", "false"})),
}
"""Namespace labels that say how the namespace is governed, with their allowed values."""


def _label(obj: Mapping[str, Any], key: str) -> str | None:
    meta = obj.get("metadata")
    labels = meta.get("labels") if isinstance(meta, Mapping) else None
    value = labels.get(key) if isinstance(labels, Mapping) else None
    return value if isinstance(value, str) else None


def _check(
    request: AdmissionRequest, key: str, admin: bool, admin_groups: tuple[str, ...]
) -> list[Violation]:
    new = _label(request.object, key)
    old = _label(request.old_object, key) if request.operation == "UPDATE" else None
    found = []
    path = f"metadata.labels[{key}]"
    allowed_text, allowed = GUARDED[key]
    if new is not None and new not in allowed:
        found.append(Violation(Reason.INVALID_MODE, f"{key}={new!r} is not {allowed_text}", path))
    if new != old and not admin:
        change = (
            f"remove {key}={old}"
            if new is None
            else f"set {key}={new}" + (f" (was {old})" if old is not None else "")
        )
        found.append(
            Violation(
                Reason.MODE_CHANGE_FORBIDDEN,
                f"user {request.user.username!r} may not {change} on namespace "
                f"{request.name!r}: only members of {', '.join(admin_groups)} may change "
                "how a namespace is governed",
                path,
            )
        )
    return found


def judge(request: AdmissionRequest, admin_groups: tuple[str, ...]) -> Outcome:
    """Refuse a change of aigov.io/mode or aigov.io/stop-on-loss by anyone outside
    `admin_groups`; check their values."""
    admin = bool(set(request.user.groups) & set(admin_groups))
    violations = [v for key in GUARDED for v in _check(request, key, admin, admin_groups)]
    decision = Decision(violations)
    message = f"aigov refused {request.ref}: {decision.summary()}" if violations else ""
    return Outcome(decision=decision, mode=Mode.ENFORCE, message=message)
