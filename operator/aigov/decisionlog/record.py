"""One decision-log record: what it holds, its canonical form and its hash.

Canonical form (what is hashed): the record without its `hash` key, as UTF-8 JSON with the
keys of every object sorted by code point, no whitespace, non-ASCII characters unescaped;
that is `json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`,
and for the values a record holds (strings, integers, booleans, null, lists, objects with
ASCII keys; never a float) the same bytes as RFC 8785 (JCS). `hash` is the lowercase hex
SHA-256 of those bytes. Each record carries the hash of the one before as `prevHash`
(`GENESIS` for the first of a log), so changing, removing or reordering one breaks the
chain at that point; the file line is the canonical form with `hash` added (sorted too).

Personal data is limited to the identities of the people acting (`user`, `groups`):
object references, never object bodies, environment values or free text people typed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from aigov.admission.outcome import Outcome
from aigov.admission.request import AdmissionRequest
from aigov.decisionlog.controls import controls_for

GENESIS = "0" * 64
"""`prevHash` of a log's first record."""

ADMISSION = "admission"
GOVERNANCE = "governance"

_OUTCOMES = {"allowed": "admitted", "refused": "refused", "warned": "warned", "audited": "recorded"}
"""Outcome.verdict -> the log's outcome word."""

REQUIRED = ("log", "seq", "time", "type", "outcome", "controls", "prevHash", "hash")
"""Keys every record has; the verifier reports a record missing one as altered."""


def canonical(record: Mapping[str, Any]) -> bytes:
    """The canonical bytes of `record` without its `hash` key (see the module docstring).

    orjson with sorted keys writes exactly the bytes of the `json.dumps` call above (a unit
    test holds them equal on control characters, quotes and non-ASCII) in a tenth of the time.
    """
    body = {k: v for k, v in record.items() if k != "hash"}
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def record_hash(record: Mapping[str, Any]) -> str:
    """Lowercase hex SHA-256 of the canonical form."""
    return hashlib.sha256(canonical(record)).hexdigest()


def line(record: Mapping[str, Any]) -> str:
    """The record (with its `hash`) as one line of the log, without the newline."""
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS).decode()


def _ref(
    kind: str, namespace: str, name: str, subresource: str = "", api_version: str = ""
) -> dict[str, str]:
    ref = {
        "apiVersion": api_version,
        "kind": kind,
        "namespace": namespace,
        "name": name,
        "subresource": subresource,
    }
    return {k: v for k, v in ref.items() if v}


def _request_spec_hash(request: AdmissionRequest) -> str | None:
    """The spec hash an assessment or approval binds to (spec.modelRef.specHash)."""
    spec = request.object.get("spec")
    ref = spec.get("modelRef") if isinstance(spec, Mapping) else None
    value = ref.get("specHash") if isinstance(ref, Mapping) else None
    return value if isinstance(value, str) else None


def _request_model(request: AdmissionRequest, outcome: Outcome) -> str | None:
    if outcome.model:
        return outcome.model
    if request.kind == "GovernedModel":
        return request.name or None
    spec = request.object.get("spec")
    ref = spec.get("modelRef") if isinstance(spec, Mapping) else None
    value = ref.get("name") if isinstance(ref, Mapping) else None
    return value if isinstance(value, str) else None


def admission_fields(
    outcome: Outcome,
    request: AdmissionRequest,
    webhook: str,
    spec_hash: str | None = None,
) -> dict[str, Any]:
    """The record of one admission decision, before the chain adds seq, time and hashes.

    `spec_hash` is the model's spec hash the decision was made against, when the caller
    knows it; for assessments and approvals the hash they bind to is read from the object.
    """
    reasons = [{"code": v.code.value, "path": v.path} for v in outcome.decision.violations]
    api_version = f"{request.group}/{request.version}" if request.group else request.version
    fields: dict[str, Any] = {
        "type": ADMISSION,
        "webhook": webhook,
        "uid": request.uid,
        "user": request.user.username,
        "groups": list(request.user.groups),
        "operation": request.operation,
        "object": _ref(
            request.kind, request.namespace, request.name, request.subresource, api_version
        ),
        "model": _request_model(request, outcome),
        "specHash": spec_hash or _request_spec_hash(request),
        "mode": outcome.mode.value if outcome.mode else None,
        "outcome": _OUTCOMES.get(outcome.verdict, outcome.verdict),
        "dryRun": request.dry_run,
        "reasons": reasons,
        "controls": controls_for(webhook, (r["code"] for r in reasons)),
    }
    if outcome.break_glass:
        fields["breakGlass"] = outcome.break_glass
    return fields


def governance_fields(
    event: str,
    *,
    actor: str | None,
    kind: str,
    namespace: str,
    name: str,
    model: str | None,
    spec_hash: str | None = None,
    reasons: Iterable[str] = (),
    api_version: str = "",
) -> dict[str, Any]:
    """The record of one governance event (a model's history entry, a workload flagged or
    stopped), before the chain adds seq, time and hashes. `actor` is the person whose act
    the event records, or None when the operator acted on its own (a clock, a deletion)."""
    codes = list(reasons)
    return {
        "type": GOVERNANCE,
        "user": actor,
        "object": _ref(kind, namespace, name, api_version=api_version),
        "model": model,
        "specHash": spec_hash,
        "outcome": event,
        "reasons": [{"code": c, "path": ""} for c in codes],
        "controls": controls_for(reasons=codes, event=event),
    }
