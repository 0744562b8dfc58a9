"""Write and remove the webhook configurations of a local run (AIGOV_MANAGE_WEBHOOKS).

In a cluster the Helm chart renders them and the operator never writes them.
"""

from __future__ import annotations

import asyncio
from typing import Any

from kubernetes.client.exceptions import ApiException

from aigov.kube.client import call

_PATH = "/apis/admissionregistration.k8s.io/v1/{plural}"
_PLURALS = {
    "ValidatingWebhookConfiguration": "validatingwebhookconfigurations",
    "MutatingWebhookConfiguration": "mutatingwebhookconfigurations",
}


def _collection(kind: str) -> str:
    return _PATH.format(plural=_PLURALS[kind])


def _apply_sync(body: dict[str, Any]) -> None:
    collection = _collection(body["kind"])
    name = body["metadata"]["name"]
    try:
        call("POST", collection, body)
    except ApiException as exc:
        if exc.status != 409:
            raise
        existing = call("GET", f"{collection}/{name}")
        version = existing["metadata"]["resourceVersion"]
        body = {**body, "metadata": {**body["metadata"], "resourceVersion": version}}
        call("PUT", f"{collection}/{name}", body)


def _delete_sync(kind: str, name: str) -> None:
    try:
        call("DELETE", f"{_collection(kind)}/{name}")
    except ApiException as exc:
        if exc.status != 404:
            raise


async def apply_webhook_configuration(body: dict[str, Any]) -> None:
    """Create or replace a Validating/MutatingWebhookConfiguration."""
    await asyncio.to_thread(_apply_sync, body)


async def delete_webhook_configuration(kind: str, name: str) -> None:
    """Delete a webhook configuration; absent is fine."""
    await asyncio.to_thread(_delete_sync, kind, name)
