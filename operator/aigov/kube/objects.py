"""Read and patch aigov's kinds and the workload kinds by path, for the reconcilers.

One path table rather than a typed client per kind: the reconciler reads and patches many
kinds (every one of the workload kinds table), and all it needs is get, list by label and
merge patch.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from kubernetes.client.exceptions import ApiException

from aigov.api.kinds import workload_kinds
from aigov.kube.client import call


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


async def get(kind: str, namespace: str, name: str) -> dict[str, Any] | None:
    """One object, or None when it does not exist."""
    path = _PATHS[kind].format(ns=namespace) + f"/{name}"
    try:
        obj: dict[str, Any] = await asyncio.to_thread(call, "GET", path)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return obj


ABSENT_RECHECK_SECONDS = 300.0
"""How long a kind whose API answered 404 (its CRD is not installed) is not asked again."""
_absent: dict[str, float] = {}
"""kind -> when (monotonic) its collection last answered 404."""


def _known_absent(kind: str, now: float) -> bool:
    since = _absent.get(kind)
    return since is not None and now - since < ABSENT_RECHECK_SECONDS


async def list_labelled(namespace: str, selector: str, kinds: tuple[str, ...]) -> list[Any]:
    """Objects of `kinds` in `namespace` matching a label selector, kind set on each.

    A kind whose API is not installed (e.g. KServe) contributes nothing, and is not asked
    again for ABSENT_RECHECK_SECONDS: eight optional kinds asked per pass of each of 1,000
    models were most of the operator's calls. A CRD installed meanwhile is listed from the
    next check on; admission judges its objects from the first.
    """

    def one(kind: str) -> list[Any]:
        path = _PATHS[kind].format(ns=namespace)
        try:
            items = call("GET", path, query=[("labelSelector", selector)])["items"]
        except ApiException as exc:
            if exc.status == 404:
                _absent[kind] = time.monotonic()
                return []
            raise
        _absent.pop(kind, None)
        # Items of a list carry neither kind nor apiVersion: restore both.
        api_version = (
            _PATHS[kind].split("/namespaces/")[0].removeprefix("/apis/").removeprefix("/api/")
        )
        return [{**item, "kind": kind, "apiVersion": api_version} for item in items]

    now = time.monotonic()
    asked = [kind for kind in kinds if not _known_absent(kind, now)]
    lists = await asyncio.gather(*(asyncio.to_thread(one, kind) for kind in asked))
    return [item for found in lists for item in found]


async def merge_patch(
    kind: str, namespace: str, name: str, patch: dict[str, Any], subresource: str = ""
) -> None:
    """JSON merge patch of an object (or its status with subresource="status")."""
    path = (
        _PATHS[kind].format(ns=namespace) + f"/{name}" + (f"/{subresource}" if subresource else "")
    )
    try:
        await asyncio.to_thread(call, "PATCH", path, patch, None, "application/merge-patch+json")
    except ApiException as exc:
        if exc.status != 404:  # gone meanwhile: nothing to patch
            raise
