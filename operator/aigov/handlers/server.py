"""The webhook server: kopf's, with a guard in front and audit annotations behind.

Why subclass: kopf hands handlers the object but not the request uid, the requesting
resource or a way to add `auditAnnotations`; and a malformed review would surface as a bare
HTTP 500. The guard parses every AdmissionReview once (aigov.admission.request), refuses a
malformed one with a clear message, exposes the parsed request to handlers through a context
variable, and copies the handlers' audit annotations into the response. Nothing it does can
take the server down: every exception becomes a response.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, cast

import aiohttp.web
import kopf
from kopf._cogs.structs import reviews  # the protocol's TypedDicts; not re-exported

from aigov import logs
from aigov.admission.request import AdmissionRequest, MalformedReview, parse_review

log = logs.get("aigov.webhook")


MAX_REVIEW_BYTES = 8 * 1024 * 1024
"""Largest AdmissionReview read: an object and its old object at the API server's 3 MiB."""


@dataclass
class RequestContext:
    """The request being served, and what handlers add to its response."""

    request: AdmissionRequest
    audit_annotations: dict[str, str] = field(default_factory=dict)


CURRENT: contextvars.ContextVar[RequestContext] = contextvars.ContextVar("aigov_request")


def current() -> RequestContext:
    """The request under review; only valid inside an admission handler."""
    return CURRENT.get()


def _refusal(uid: str, code: int, message: str) -> dict[str, Any]:
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "response": {
            "uid": uid,
            "allowed": False,
            "status": {"code": code, "message": message, "reason": "BadRequest"},
        },
    }


class GuardedWebhookServer(kopf.WebhookServer):
    """kopf.WebhookServer with the guard described in the module docstring."""

    async def __call__(self, fn: kopf.WebhookFn) -> AsyncIterator[kopf.WebhookClientConfig]:
        async def guarded(
            request: reviews.Request,
            *,
            webhook: str | None = None,
            headers: dict[str, str] | None = None,
            sslpeer: dict[str, Any] | None = None,
        ) -> reviews.Response:
            try:
                parsed = parse_review(request)
            except MalformedReview as exc:
                body: Any = request  # may be anything JSON: that is why it is malformed
                inner = body.get("request") if isinstance(body, dict) else None
                uid = str(inner.get("uid", "")) if isinstance(inner, dict) else ""
                log.warning("malformed admission review", error=str(exc), uid=uid)
                return cast(
                    reviews.Response,
                    _refusal(uid, 400, f"aigov: malformed AdmissionReview: {exc}"),
                )
            ctx = RequestContext(request=parsed)
            token = CURRENT.set(ctx)
            try:
                response = await fn(request, webhook=webhook, headers=headers, sslpeer=sslpeer)
            finally:
                CURRENT.reset(token)
            if ctx.audit_annotations:
                response["response"]["auditAnnotations"] = ctx.audit_annotations  # type: ignore[typeddict-unknown-key]
            return response

        async for client_config in super().__call__(guarded):
            yield client_config

    @staticmethod
    async def _serve(fn: Any, request: aiohttp.web.Request) -> aiohttp.web.Response:
        # aiohttp refuses bodies over 1 MiB by default, and the API server sends objects up
        # to its own 3 MiB limit (twice, with oldObject, on an update): a 413 there would be
        # a failure the webhook's failurePolicy decides, not a verdict (bypass class 11).
        request = request.clone(client_max_size=MAX_REVIEW_BYTES)
        try:
            json.loads(await request.text())
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            return aiohttp.web.json_response(
                _refusal("", 400, f"aigov: the request body is not JSON: {exc}"), status=400
            )
        try:
            response: aiohttp.web.Response = await kopf.WebhookServer._serve(fn, request)
            return response
        except aiohttp.web.HTTPException:
            raise
        except Exception as exc:
            # A bug of ours must not take the server down nor leak a stack trace to users.
            log.exception("admission handler crashed")
            return aiohttp.web.json_response(
                _refusal("", 500, f"aigov: internal error while reviewing: {type(exc).__name__}"),
                status=500,
            )
