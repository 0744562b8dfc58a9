"""The AdmissionReview the webhook answers with, built from a verdict.

One function for every answer (allowed, refused, malformed, unavailable, internal error), so
each carries the request's uid and a human message in the same place: what kubectl prints
is `status.message`, and the API server rejects a response whose uid does not match.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from aigov.admission.jsonpatch import JsonPatch


def review(
    uid: str,
    *,
    allowed: bool,
    code: int = 200,
    message: str = "",
    reason: str = "",
    warnings: Sequence[str] = (),
    audit_annotations: Mapping[str, str] | None = None,
    patch: JsonPatch | None = None,
) -> dict[str, Any]:
    """An `admission.k8s.io/v1` AdmissionReview response."""
    response: dict[str, Any] = {"uid": uid, "allowed": allowed}
    if not allowed or message:
        status: dict[str, Any] = {"code": code, "message": message}
        if reason:
            status["reason"] = reason
        response["status"] = status
    if warnings:
        response["warnings"] = list(warnings)
    if audit_annotations:
        response["auditAnnotations"] = dict(audit_annotations)
    if patch:
        response["patchType"] = "JSONPatch"
        response["patch"] = base64.b64encode(orjson.dumps(patch)).decode()
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}


def refusal(uid: str, code: int, message: str, reason: str = "") -> dict[str, Any]:
    """A refusal that is not a governance verdict: bad request, not ready, internal error."""
    default = {400: "BadRequest", 500: "InternalError", 503: "ServiceUnavailable"}
    return review(
        uid,
        allowed=False,
        code=code,
        message=message,
        reason=reason or default.get(code, "Forbidden"),
    )


def uid_of(body: object) -> str:
    """The request uid of a body that may be anything: a refusal must still carry it."""
    inner = body.get("request") if isinstance(body, Mapping) else None
    uid = inner.get("uid") if isinstance(inner, Mapping) else None
    return uid if isinstance(uid, str) else ""
