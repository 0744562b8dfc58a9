"""Inject mode: pin a pod template to its model's pools by required node affinity.

The result is what the validating rule then judges. Idempotent: a template whose every
required term already names one allowed pool is left alone, so the API server may call the
mutating webhook again (reinvocation) without the patch growing.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aigov.api.models import NodePool, PlacementPolicy, Toleration
from aigov.policy.scheduling import required_terms


@dataclass(frozen=True)
class Injection:
    """New values for one pod spec: None means leave that field as it is."""

    path: str
    affinity: dict[str, Any] | None
    tolerations: list[dict[str, Any]] | None


def _pool_expressions(pool: NodePool) -> list[dict[str, Any]]:
    return [
        {"key": key, "operator": "In", "values": [value]}
        for key, value in sorted(pool.node_selector.items())
    ]


def _names_pool(term: Mapping[str, Any], pool: NodePool) -> bool:
    """The term requires every label of the pool's selector (as our injection writes it)."""
    exprs = [e for e in term.get("matchExpressions") or [] if isinstance(e, Mapping)]
    return all(
        any(
            e.get("key") == key and e.get("operator") == "In" and e.get("values") == [value]
            for e in exprs
        )
        for key, value in pool.node_selector.items()
    )


def _affinity(affinity: Mapping[str, Any], pools: Sequence[NodePool]) -> dict[str, Any] | None:
    terms = required_terms(affinity) or []
    if terms and all(any(_names_pool(t, p) for p in pools) for t in terms):
        return None
    if terms:
        # Keep what the user required, and add a pool to it: each old term times each pool.
        new_terms = [
            {
                **term,
                "matchExpressions": [
                    *(term.get("matchExpressions") or []),
                    *_pool_expressions(pool),
                ],
            }
            for term in terms
            for pool in pools
        ]
    else:
        new_terms = [{"matchExpressions": _pool_expressions(pool)} for pool in pools]
    result = copy.deepcopy(dict(affinity))
    node_affinity = dict(result.get("nodeAffinity") or {})
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {
        "nodeSelectorTerms": new_terms
    }
    result["nodeAffinity"] = node_affinity
    return result


def _toleration(tol: Toleration) -> dict[str, Any]:
    return tol.to_k8s()


def _tolerations(
    existing: Sequence[Mapping[str, Any]], pools: Sequence[NodePool]
) -> list[dict[str, Any]] | None:
    wanted = [_toleration(t) for pool in pools for t in pool.tolerations]
    have = [dict(t) for t in existing]
    missing = [t for t in dict.fromkeys(map(_freeze, wanted)) if t not in map(_freeze, have)]
    if not missing:
        return None
    return have + [dict(t) for t in missing]


def _freeze(tol: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(tol.items()))


def injection(path: str, pod_spec: Mapping[str, Any], policy: PlacementPolicy) -> Injection:
    """What inject mode changes in the pod spec at `path`."""
    pools = policy.spec.node_pools
    affinity = pod_spec.get("affinity")
    tolerations = pod_spec.get("tolerations")
    return Injection(
        path=path,
        affinity=_affinity(affinity if isinstance(affinity, Mapping) else {}, pools),
        tolerations=_tolerations(
            [t for t in tolerations or [] if isinstance(t, Mapping)]
            if isinstance(tolerations, list)
            else [],
            pools,
        ),
    )
