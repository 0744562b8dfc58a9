"""The one module that talks to the API server outside kopf's own machinery.

Used at start-up and shutdown (webhook configurations for local runs) and by reconcilers;
never on the admission path, which reads in-memory indexes only. Calls are synchronous
`kubernetes` client calls run in a thread so they never block kopf's event loop.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import urllib.parse
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from aigov import logs
from aigov.api.kinds import workload_kinds

log = logs.get("aigov.kube")

_loaded = False


def _api() -> Any:
    global _loaded  # noqa: PLW0603 - the kubeconfig is loaded once per process
    if not _loaded:
        try:
            config.load_incluster_config()  # type: ignore[no-untyped-call]
        except config.ConfigException:
            config.load_kube_config()  # type: ignore[no-untyped-call]
        _loaded = True
    return client.ApiClient()


def _apply_webhook_configuration_sync(body: dict[str, Any]) -> None:
    # The client accepts plain dicts; typed as Any because its models are not our API.
    api: Any = client.AdmissionregistrationV1Api(_api())
    kind = body["kind"]
    name = body["metadata"]["name"]
    create, read, replace = (
        (
            api.create_validating_webhook_configuration,
            api.read_validating_webhook_configuration,
            api.replace_validating_webhook_configuration,
        )
        if kind == "ValidatingWebhookConfiguration"
        else (
            api.create_mutating_webhook_configuration,
            api.read_mutating_webhook_configuration,
            api.replace_mutating_webhook_configuration,
        )
    )
    try:
        create(body)
    except ApiException as exc:
        if exc.status != 409:
            raise
        existing = read(name)
        body = {
            **body,
            "metadata": {**body["metadata"], "resourceVersion": existing.metadata.resource_version},
        }
        replace(name, body)


def _delete_webhook_configuration_sync(kind: str, name: str) -> None:
    api: Any = client.AdmissionregistrationV1Api(_api())
    delete = (
        api.delete_validating_webhook_configuration
        if kind == "ValidatingWebhookConfiguration"
        else api.delete_mutating_webhook_configuration
    )
    try:
        delete(name)
    except ApiException as exc:
        if exc.status != 404:
            raise


async def apply_webhook_configuration(body: dict[str, Any]) -> None:
    """Create or replace a Validating/MutatingWebhookConfiguration."""
    await asyncio.to_thread(_apply_webhook_configuration_sync, body)


_MUTATING = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/"


def _set_mutation_conditions_sync(
    name: str, webhook: str, conditions: list[dict[str, str]]
) -> bool:
    path = _MUTATING + urllib.parse.quote(name)
    # Raw JSON (not the client's models): the models drop fields this client version lacks.
    hooks = (_call_sync("GET", path) or {}).get("webhooks") or []
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
    _call_sync("PATCH", path, body=patch, content_type="application/json-patch+json")
    return True


async def set_mutation_conditions(
    name: str, webhook: str, conditions: list[dict[str, str]]
) -> bool:
    """Set one entry's matchConditions in the MutatingWebhookConfiguration `name` (a JSON
    patch pinned to the entry's name; nothing when they are already set). False when the
    configuration has no such entry; raises ApiException (404: no configuration)."""
    return await asyncio.to_thread(_set_mutation_conditions_sync, name, webhook, conditions)


async def delete_webhook_configuration(kind: str, name: str) -> None:
    """Delete a webhook configuration; absent is fine."""
    await asyncio.to_thread(_delete_webhook_configuration_sync, kind, name)


def _post_event_sync(
    involved: dict[str, Any], event_type: str, reason: str, message: str, component: str
) -> None:
    api: Any = client.CoreV1Api(_api())
    now = datetime.datetime.now(datetime.UTC)
    namespace = involved.get("namespace") or "default"
    body = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": "aigov-", "namespace": namespace},
        "involvedObject": involved,
        "type": event_type,
        "reason": reason,
        "message": message[:1024],
        "source": {"component": component},
        "reportingComponent": component,
        "reportingInstance": component,
        "firstTimestamp": now.isoformat(),
        "lastTimestamp": now.isoformat(),
        "count": 1,
    }
    api.create_namespaced_event(namespace, body)


_background: set[asyncio.Task[None]] = set()


def post_event(
    involved: dict[str, Any], event_type: str, reason: str, message: str, component: str = "aigov"
) -> None:
    """Post an Event in the background: never delays, and never fails, the caller.

    Used where kopf's own event posting is not available (admission handlers run outside
    kopf's posting context). A failed post is logged, not raised.
    """

    async def post() -> None:
        try:
            await asyncio.to_thread(
                _post_event_sync, involved, event_type, reason, message, component
            )
        except Exception as exc:  # evidence is best effort; the decision is already made
            log.warning("event not posted", reason=reason, error=str(exc))

    task = asyncio.get_running_loop().create_task(post())
    _background.add(task)
    task.add_done_callback(_background.discard)


# Generic REST: the reconciler reads and patches several kinds; one path table is simpler
# than a typed client per kind.
def _collection(group: str, version: str, plural: str) -> str:
    prefix = f"/apis/{group}" if group else "/api"
    return f"{prefix}/{version}/namespaces/{{ns}}/{plural}"


_PATHS: dict[str, str] = {
    **{k.kind: _collection(k.group, k.version, k.plural) for k in workload_kinds().kinds},
    "GovernedModel": _collection("aigov.io", "v1alpha1", "governedmodels"),
    "RiskAssessment": _collection("aigov.io", "v1alpha1", "riskassessments"),
    "ModelApproval": _collection("aigov.io", "v1alpha1", "modelapprovals"),
}
"""kind -> the path of its namespaced collection; workload kinds from the kinds table."""


def _call_sync(
    method: str,
    path: str,
    body: Any = None,
    query: list[tuple[str, str]] | None = None,
    content_type: str | None = None,
) -> Any:
    api = _api()
    headers = {"Accept": "application/json"}
    if content_type:
        headers["Content-Type"] = content_type
    # A service-account token (in cluster) travels as a header; client certificates
    # (kubeconfig) are part of the connection already.
    for auth in api.configuration.auth_settings().values():
        if auth.get("in") == "header" and auth.get("value"):
            headers[auth["key"]] = auth["value"]
    url = api.configuration.host + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
    response = api.call_api(method, url, header_params=headers, body=body)
    data = response.read()
    if not 200 <= response.status < 300:
        raise ApiException(status=response.status, reason=response.reason, body=data)
    return json.loads(data) if data else None


async def get(kind: str, namespace: str, name: str) -> dict[str, Any] | None:
    """One object, or None when it does not exist."""
    path = _PATHS[kind].format(ns=namespace) + f"/{name}"
    try:
        obj: dict[str, Any] = await asyncio.to_thread(_call_sync, "GET", path)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return obj


async def list_labelled(namespace: str, selector: str, kinds: tuple[str, ...]) -> list[Any]:
    """Objects of `kinds` in `namespace` matching a label selector, kind set on each.

    A kind whose API is not installed (e.g. KServe) contributes nothing.
    """

    def one(kind: str) -> list[Any]:
        path = _PATHS[kind].format(ns=namespace)
        try:
            items = _call_sync("GET", path, query=[("labelSelector", selector)])["items"]
        except ApiException as exc:
            if exc.status == 404:
                return []
            raise
        # Items of a list carry neither kind nor apiVersion: restore both.
        api_version = (
            _PATHS[kind].split("/namespaces/")[0].removeprefix("/apis/").removeprefix("/api/")
        )
        return [{**item, "kind": kind, "apiVersion": api_version} for item in items]

    lists = await asyncio.gather(*(asyncio.to_thread(one, kind) for kind in kinds))
    return [item for found in lists for item in found]


async def merge_patch(
    kind: str, namespace: str, name: str, patch: dict[str, Any], subresource: str = ""
) -> None:
    """JSON merge patch of an object (or its status with subresource="status")."""
    path = (
        _PATHS[kind].format(ns=namespace) + f"/{name}" + (f"/{subresource}" if subresource else "")
    )
    try:
        await asyncio.to_thread(
            _call_sync, "PATCH", path, patch, None, "application/merge-patch+json"
        )
    except ApiException as exc:
        if exc.status != 404:  # gone meanwhile: nothing to patch
            raise
