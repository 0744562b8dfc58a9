"""Inject mode: the required node affinity and tolerations that pin a pod spec to its pools.

The injected pod spec is then checked against the scheduler's filters and the placement rule
on the realistic fleet of tools/controlplane/nodes.py, so "pinned" means what it says.
"""

from __future__ import annotations

import copy
from typing import Any

import builders
import pytest
from builders import GPU_TOLERATION, H200_SELECTOR, placement_policy, pod
from tools.controlplane import nodes

from aigov.api.models import PlacementPolicy
from aigov.policy.inject import Injection, injection
from aigov.policy.placement import placement_violations
from aigov.policy.scheduling import candidates, node_info
from aigov.policy.workload import parse_workload

FLEET = [node_info(m) for m in nodes.all_nodes()]
DEDICATED = {"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}
REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"
PATH = "spec.template.spec"
# H200_SELECTOR is written region first: the injected expressions come out in sorted key order.
H100_EXPRS = [{"key": "pool", "operator": "In", "values": ["h100-eu"]}]
H200_EXPRS = [
    {"key": "nvidia.com/gpu.product", "operator": "In", "values": ["NVIDIA-H200"]},
    {"key": "topology.kubernetes.io/region", "operator": "In", "values": ["eu-central-1"]},
]


def policy(pools: list[dict[str, Any]] | None = None) -> PlacementPolicy:
    """An inject-mode policy, `confidential-eu`'s pools unless `pools` says."""
    return placement_policy(pools=pools, maxGPUsPerPod=8, mode="inject")


POLICY = policy()


def spec(**fields: Any) -> dict[str, Any]:
    """A pod spec of the model's server, asking for one GPU; `fields` add to it."""
    return builders.pod_spec(**fields)


def node_affinity(terms: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"nodeAffinity": {**extra, REQUIRED: {"nodeSelectorTerms": terms}}}


def apply(pod_spec: dict[str, Any], found: Injection) -> dict[str, Any]:
    result = copy.deepcopy(pod_spec)
    if found.affinity is not None:
        result["affinity"] = found.affinity
    if found.tolerations is not None:
        result["tolerations"] = found.tolerations
    return result


def landing(pod_spec: dict[str, Any]) -> list[str]:
    body = pod(pod_spec, name="p", namespace=None, model=None)
    (template,) = parse_workload(body).templates
    return [n.name for n in candidates(template, FLEET)]


def test_empty_affinity_gets_one_term_per_pool() -> None:
    assert injection(PATH, spec(), POLICY) == Injection(
        PATH,
        node_affinity([{"matchExpressions": H100_EXPRS}, {"matchExpressions": H200_EXPRS}]),
        [GPU_TOLERATION],
    )


def test_injected_spec_lands_only_in_the_pools() -> None:
    pod_spec = spec()
    assert landing(pod_spec) == ["cpu-0", "cpu-1"]
    injected = apply(pod_spec, injection("spec", pod_spec, POLICY))
    assert landing(injected) == ["h100-eu-0", "h100-eu-1", "h200-eu-0"]
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": injected}
    assert placement_violations(parse_workload(body), POLICY, FLEET) == ([], [])


def test_path_is_kept() -> None:
    path = "spec.jobTemplate.spec.template.spec"
    assert injection(path, spec(), POLICY).path == path


@pytest.mark.parametrize("affinity", [None, {}, [], "nodeAffinity"])
def test_absent_or_malformed_affinity_counts_as_empty(affinity: Any) -> None:
    found = injection(PATH, spec(affinity=affinity), POLICY)
    assert found.affinity == node_affinity(
        [{"matchExpressions": H100_EXPRS}, {"matchExpressions": H200_EXPRS}]
    )


def test_existing_preferred_and_pod_affinity_are_kept() -> None:
    preferred = [
        {
            "weight": 50,
            "preference": {
                "matchExpressions": [
                    {
                        "key": "topology.kubernetes.io/zone",
                        "operator": "In",
                        "values": ["eu-central-1a"],
                    }
                ]
            },
        }
    ]
    anti = {
        REQUIRED: [
            {
                "labelSelector": {"matchLabels": {"app": "fraud-scorer"}},
                "topologyKey": "kubernetes.io/hostname",
            }
        ]
    }
    pod_spec = spec(affinity={"nodeAffinity": {PREFERRED: preferred}, "podAntiAffinity": anti})
    before = copy.deepcopy(pod_spec)
    found = injection(PATH, pod_spec, POLICY)
    assert found.affinity == {
        "nodeAffinity": {
            PREFERRED: preferred,
            REQUIRED: {
                "nodeSelectorTerms": [
                    {"matchExpressions": H100_EXPRS},
                    {"matchExpressions": H200_EXPRS},
                ]
            },
        },
        "podAntiAffinity": anti,
    }
    assert pod_spec == before


def test_existing_required_terms_are_combined_with_each_pool() -> None:
    zone = {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["eu-central-1a"]}
    memory = {"key": "nvidia.com/gpu.memory", "operator": "Gt", "values": ["80000"]}
    name = {"key": "metadata.name", "operator": "NotIn", "values": ["h100-eu-1"]}
    user_terms = [
        {"matchExpressions": [zone]},
        {"matchExpressions": [memory], "matchFields": [name]},
    ]
    pod_spec = spec(affinity=node_affinity(user_terms), tolerations=[GPU_TOLERATION])
    before = copy.deepcopy(pod_spec)
    found = injection(PATH, pod_spec, POLICY)
    assert found == Injection(
        PATH,
        node_affinity(
            [
                {"matchExpressions": [zone, *H100_EXPRS]},
                {"matchExpressions": [zone, *H200_EXPRS]},
                {"matchExpressions": [memory, *H100_EXPRS], "matchFields": [name]},
                {"matchExpressions": [memory, *H200_EXPRS], "matchFields": [name]},
            ]
        ),
        None,
    )
    assert pod_spec == before
    assert landing(apply(pod_spec, found)) == ["h100-eu-0", "h100-eu-1", "h200-eu-0"]


def test_term_with_only_match_fields_gets_the_pool_expressions() -> None:
    fields = [{"key": "metadata.name", "operator": "In", "values": ["h100-eu-1", "cpu-0"]}]
    pod_spec = spec(affinity=node_affinity([{"matchFields": fields}]))
    found = injection(PATH, pod_spec, POLICY)
    assert found.affinity == node_affinity(
        [
            {"matchFields": fields, "matchExpressions": H100_EXPRS},
            {"matchFields": fields, "matchExpressions": H200_EXPRS},
        ]
    )
    assert landing(apply(pod_spec, found)) == ["h100-eu-1"]


@pytest.mark.parametrize(
    "pod_spec",
    [
        spec(),
        spec(tolerations=[DEDICATED]),
        spec(
            affinity=node_affinity(
                [
                    {
                        "matchExpressions": [
                            {"key": "pool", "operator": "In", "values": ["h100-eu", "h200-eu"]}
                        ]
                    }
                ]
            )
        ),
        spec(
            affinity=node_affinity(
                [{"matchExpressions": [{"key": "nvidia.com/gpu.present", "operator": "Exists"}]}]
            ),
            tolerations=[DEDICATED, GPU_TOLERATION],
        ),
        spec(affinity={"nodeAffinity": {PREFERRED: []}}),
    ],
)
def test_injection_is_idempotent(pod_spec: dict[str, Any]) -> None:
    first = injection(PATH, pod_spec, POLICY)
    assert first.affinity is not None
    once = apply(pod_spec, first)
    assert injection(PATH, once, POLICY) == Injection(PATH, None, None)
    assert apply(once, injection(PATH, once, POLICY)) == once


def test_terms_that_already_name_a_pool_are_left_alone() -> None:
    pod_spec = spec(
        affinity=node_affinity(
            [
                {"matchExpressions": H200_EXPRS[::-1]},
                {
                    "matchExpressions": [
                        {"key": "topology.kubernetes.io/zone", "operator": "Exists"},
                        *H100_EXPRS,
                    ]
                },
            ]
        ),
        tolerations=[GPU_TOLERATION],
    )
    assert injection(PATH, pod_spec, POLICY) == Injection(PATH, None, None)


def test_one_term_naming_no_pool_is_enough_to_rewrite_all() -> None:
    other = [{"key": "pool", "operator": "In", "values": ["a100-shared-us"]}]
    pod_spec = spec(
        affinity=node_affinity([{"matchExpressions": H100_EXPRS}, {"matchExpressions": other}]),
        tolerations=[GPU_TOLERATION],
    )
    found = injection(PATH, pod_spec, POLICY)
    assert found.affinity == node_affinity(
        [
            {"matchExpressions": H100_EXPRS + H100_EXPRS},
            {"matchExpressions": H100_EXPRS + H200_EXPRS},
            {"matchExpressions": other + H100_EXPRS},
            {"matchExpressions": other + H200_EXPRS},
        ]
    )
    assert landing(apply(pod_spec, found)) == ["h100-eu-0", "h100-eu-1"]


def test_pool_tolerations_appended_once_after_existing_ones() -> None:
    existing = [DEDICATED, {"key": "node.kubernetes.io/unreachable", "operator": "Exists"}]
    found = injection(PATH, spec(tolerations=existing), POLICY)
    assert found.tolerations == [*existing, GPU_TOLERATION]


def test_tolerations_of_several_pools_in_pool_order() -> None:
    pools = policy(
        [
            {"name": "h100-eu", "nodeSelector": {"pool": "h100-eu"}, "tolerations": [DEDICATED]},
            {
                "name": "h200-eu",
                "nodeSelector": H200_SELECTOR,
                "tolerations": [
                    GPU_TOLERATION,
                    {
                        "key": "dedicated",
                        "operator": "Equal",
                        "value": "ml",
                        "effect": "NoSchedule",
                    },
                ],
            },
        ]
    )
    assert injection(PATH, spec(), pools).tolerations == [DEDICATED, GPU_TOLERATION]
    assert injection(PATH, spec(tolerations=[GPU_TOLERATION]), pools).tolerations == [
        GPU_TOLERATION,
        DEDICATED,
    ]


def test_present_toleration_is_not_added_again() -> None:
    reordered = {"effect": "NoSchedule", "operator": "Exists", "key": "nvidia.com/gpu"}
    found = injection(PATH, spec(tolerations=[DEDICATED, reordered]), POLICY)
    assert found.tolerations is None


def test_toleration_seconds_are_copied() -> None:
    evict = {
        "key": "nvidia.com/gpu.health",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 300,
    }
    pools = policy(
        [{"name": "h100-eu", "nodeSelector": {"pool": "h100-eu"}, "tolerations": [evict]}]
    )
    assert injection(PATH, spec(), pools).tolerations == [evict]


@pytest.mark.parametrize("tolerations", [None, "nvidia.com/gpu", {"key": "nvidia.com/gpu"}])
def test_malformed_tolerations_count_as_none(tolerations: Any) -> None:
    assert injection(PATH, spec(tolerations=tolerations), POLICY).tolerations == [GPU_TOLERATION]


def test_non_mapping_tolerations_are_dropped() -> None:
    found = injection(PATH, spec(tolerations=["junk", DEDICATED]), POLICY)
    assert found.tolerations == [DEDICATED, GPU_TOLERATION]


def test_pools_without_tolerations_add_none() -> None:
    bare = policy(
        [
            {"name": "h100-eu", "nodeSelector": {"pool": "h100-eu"}},
            {"name": "cpu", "nodeSelector": {"pool": "cpu"}},
        ]
    )
    found = injection(PATH, spec(), bare)
    assert found.tolerations is None
    assert found.affinity == node_affinity(
        [
            {"matchExpressions": H100_EXPRS},
            {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["cpu"]}]},
        ]
    )


def test_nothing_to_do() -> None:
    pod_spec = spec(
        affinity=node_affinity([{"matchExpressions": H100_EXPRS}]),
        tolerations=[GPU_TOLERATION],
    )
    assert injection(PATH, pod_spec, POLICY) == Injection(PATH, None, None)
