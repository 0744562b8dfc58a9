"""Inject mode at admission: which pod specs of a request get the pools' affinity."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from aigov.admission.request import AdmissionRequest
from aigov.api.enums import PlacementMode
from aigov.api.models import GovernedModel
from aigov.policy.inject import Injection, injection
from aigov.policy.placement import PlacementContext, resolve
from aigov.policy.workload import parse_workload


def _at(obj: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    node: Any = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else {}


def injections(
    request: AdmissionRequest, model: GovernedModel | None, ctx: PlacementContext
) -> list[Injection]:
    """The changes inject mode makes to the request's object; empty when none apply."""
    if model is None or request.subresource:
        return []
    policy = resolve(model, ctx).policy
    if policy is None or policy.spec.mode is not PlacementMode.INJECT:
        return []
    workload = parse_workload(request.object)
    found = [injection(t.path, _at(request.object, t.path), policy) for t in workload.templates]
    return [i for i in found if i.affinity is not None or i.tolerations is not None]


def merge_patch(found: list[Injection]) -> dict[str, Any]:
    """A merge patch (kopf's Patch dialect) setting the injected fields at their paths."""
    patch: dict[str, Any] = {}
    for item in found:
        node = patch
        for part in item.path.split("."):
            node = node.setdefault(part, {})
        if item.affinity is not None:
            node["affinity"] = item.affinity
        if item.tolerations is not None:
            node["tolerations"] = item.tolerations
    return patch


def applied(obj: Mapping[str, Any], found: list[Injection]) -> dict[str, Any]:
    """The object as it will be after injection, so rules judge what will be stored."""
    return _merged(obj, merge_patch(found))


def _merged(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(dict(base))
    for key, value in patch.items():
        old = result.get(key)
        if isinstance(value, Mapping) and isinstance(old, Mapping):
            result[key] = _merged(old, value)
        else:
            result[key] = copy.deepcopy(value)
    return result
