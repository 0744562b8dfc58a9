"""Write and remove the webhook configurations of a local run (AIGOV_MANAGE_WEBHOOKS).

In a cluster the Helm chart renders them; the operator only narrows or widens one entry's
matchConditions (set_mutation_conditions: the mutating webhook's scope follows whether a
PlacementPolicy injects, see handlers.mutation_scope).
"""

from __future__ import annotations

import asyncio
import urllib.parse
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


_MUTATING = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/"


def _set_mutation_conditions_sync(
    name: str, webhook: str, conditions: list[dict[str, str]]
) -> bool:
    path = _MUTATING + urllib.parse.quote(name)
    # Raw JSON (not the client's models): the models drop fields this client version lacks.
    hooks = (call("GET", path) or {}).get("webhooks") or []
    index = next((i for i, h in enumerate(hooks) if h.get("name") == webhook), None)
    if index is None:
        return False
    if hooks[index].get("matchConditions") == conditions:
        return True
    patch = [
        # The test pins the entry: a configuration rewritten in between fails the patch.
        {"op": "test", "path": f"/webhooks/{index}/name", "value": webhook},
        {"op": "replace", "path": f"/webhooks/{index}/matchConditions", "value": conditions},
    ]
    call("PATCH", path, patch, None, "application/json-patch+json")
    return True


async def set_mutation_conditions(
    name: str, webhook: str, conditions: list[dict[str, str]]
) -> bool:
    """Set one entry's matchConditions in the MutatingWebhookConfiguration `name` (a JSON
    patch pinned to the entry's name; nothing when they are already set). False when the
    configuration has no such entry; raises ApiException (404: no configuration)."""
    return await asyncio.to_thread(_set_mutation_conditions_sync, name, webhook, conditions)
