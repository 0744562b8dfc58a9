"""Keep the mutating workload webhook's scope to where it can act (see aigov.webhooks).

In enforce and warn namespaces the mutating webhook (governed.workloads.aigov.io) injects
placement only for models of a PlacementPolicy with mode inject; while no such policy exists,
calling it for every workload that names a model would be a second review for nothing. This
task narrows that entry's matchConditions to audit records alone while no injecting policy
exists, and widens them again when one appears: the first check once the indexes are loaded,
then on every PlacementPolicy event, and every CHECK_SECONDS (a Helm upgrade or a person may
have rewritten the configuration). The patch names the configuration and the entry, so the
chart grants get/patch on that one configuration and nothing else.

Configurations are written with injection on, so a patch that fails (RBAC, the API server)
costs reviews, never an injection; and the validating webhook judges placement without the
mutating one. Every replica runs it: the patches are idempotent, from the same cluster state.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

import kopf
from kubernetes.client.exceptions import ApiException

from aigov import kube, logs, webhooks
from aigov.api.constants import GROUP, VERSION
from aigov.api.enums import PlacementMode
from aigov.api.models import PlacementPolicy
from aigov.handlers.runtime import Runtime

log = logs.get("aigov.mutation_scope")

CHECK_SECONDS = 30.0
"""How often the entry is checked without a PlacementPolicy event."""


def injecting(index: Mapping[str, Any]) -> bool:
    """Whether any PlacementPolicy in the index (name -> store of parsed policies) injects."""
    return any(
        isinstance(policy, PlacementPolicy) and policy.spec.mode is PlacementMode.INJECT
        for store in index.values()
        for policy in store
    )


async def _apply(runtime: Runtime, inject: bool) -> bool:
    """Set the entry's conditions for `inject`; False (and a log record) if it could not."""
    name = runtime.settings.webhook_config_name
    try:
        found = await kube.set_mutation_conditions(
            name, webhooks.GOVERNED_MUTATION, webhooks.mutation_conditions(inject)
        )
    except ApiException as exc:
        log.warning(
            "cannot set the mutating webhook's scope",
            configuration=name,
            status=exc.status,
            reason=exc.reason,
        )
        return False
    if not found:
        log.warning(
            "the mutating webhook configuration has no entry to scope",
            configuration=name,
            webhook=webhooks.GOVERNED_MUTATION,
        )
    return found


async def keep_scope(runtime: Runtime, index: Mapping[str, Any], changed: asyncio.Event) -> None:
    """Check after the indexes load, then on every change or CHECK_SECONDS, forever."""
    await runtime.indexed.wait()
    applied: bool | None = None
    while True:
        changed.clear()
        inject = injecting(index)
        if await _apply(runtime, inject) and inject != applied:
            log.info("mutating webhook scope", webhook=webhooks.GOVERNED_MUTATION, inject=inject)
            applied = inject
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), timeout=CHECK_SECONDS)


@kopf.on.startup()
async def start_scope(*, memo: Any, **kwargs: Any) -> None:
    """Start the task with kopf's live PlacementPolicy index (indexes.placement_policies)."""
    runtime: Runtime = memo.runtime
    runtime.scope_task = asyncio.get_running_loop().create_task(
        keep_scope(runtime, kwargs["placement_policies"], runtime.scope_changed)
    )


@kopf.on.event(GROUP, VERSION, "placementpolicies")
async def policy_event(*, memo: Any, **_: Any) -> None:
    """A policy appeared, changed or went: check the scope now."""
    runtime: Runtime = memo.runtime
    runtime.scope_changed.set()


@kopf.on.cleanup()
async def stop_scope(*, memo: Any, **_: Any) -> None:
    runtime: Runtime = memo.runtime
    task = runtime.scope_task
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
