"""The scheduler's placement filters: selector operators, terms, taints and tolerations.

Pods are parsed from plain Pod bodies with `parse_workload`; the fleet is the realistic
7-node GPU cluster of tools/controlplane/nodes.py (h100-eu x2, h200-eu x1, a100-shared-us x2
time-sliced, cpu x2; GPU nodes tainted nvidia.com/gpu=present:NoSchedule).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import builders
import pytest
from builders import GPU_TOLERATION, REPO, container, pod_spec
from tools.controlplane import nodes

from aigov.policy.scheduling import (
    NodeInfo,
    Taint,
    candidates,
    expression_matches,
    node_info,
    required_terms,
    schedulable_on,
    term_matches,
    tolerates,
)
from aigov.policy.workload import PodTemplate, parse_workload

FLEET = [node_info(m) for m in nodes.all_nodes()]
BY_NAME = {n.name: n for n in FLEET}
ALL = [
    "h100-eu-0",
    "h100-eu-1",
    "h200-eu-0",
    "a100-shared-us-0",
    "a100-shared-us-1",
    "cpu-0",
    "cpu-1",
]
GPU_NODES = ALL[:5]
CPU_NODES = ["cpu-0", "cpu-1"]
GPU_TAINT = Taint("nvidia.com/gpu", "present", "NoSchedule")
LABELS = {
    "pool": "h100-eu",
    "nvidia.com/gpu.count": "8",
    "nvidia.com/gpu.memory": "81559",
    "offset": "-3",
    "empty": "",
}


def pod(**spec: Any) -> PodTemplate:
    """The pod template of Pod `scorer`: the model's server on one GPU; `spec` adds to it."""
    body = builders.pod(
        pod_spec(container(image=f"{REPO}:3.1.0"), **spec), name="scorer", model=None
    )
    (template,) = parse_workload(body).templates
    return template


def required(*terms: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}
        }
    }


def expr(key: str, operator: str, *values: str) -> dict[str, Any]:
    found: dict[str, Any] = {"key": key, "operator": operator}
    if values:
        found["values"] = list(values)
    return found


def names(found: Sequence[NodeInfo]) -> list[str]:
    return [n.name for n in found]


# --- expression_matches ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (expr("pool", "In", "h100-eu"), True),
        (expr("pool", "In", "h200-eu", "h100-eu"), True),
        (expr("pool", "In", "h200-eu", "a100-shared-us"), False),
        (expr("pool", "In"), False),
        (expr("region", "In", "eu-central-1"), False),
        (expr("empty", "In", ""), True),
        (expr("pool", "NotIn", "a100-shared-us"), True),
        (expr("pool", "NotIn", "a100-shared-us", "h100-eu"), False),
        (expr("region", "NotIn", "us-east-1"), True),
        (expr("pool", "Exists"), True),
        (expr("empty", "Exists"), True),
        (expr("region", "Exists"), False),
        (expr("pool", "DoesNotExist"), False),
        (expr("region", "DoesNotExist"), True),
        (expr("nvidia.com/gpu.count", "Gt", "4"), True),
        (expr("nvidia.com/gpu.count", "Gt", "8"), False),
        (expr("nvidia.com/gpu.memory", "Gt", "80000"), True),
        (expr("nvidia.com/gpu.count", "Lt", "16"), True),
        (expr("nvidia.com/gpu.count", "Lt", "8"), False),
        (expr("offset", "Lt", "0"), True),
        (expr("offset", "Gt", "-4"), True),
        (expr("pool", "Gt", "1"), False),
        (expr("pool", "Lt", "1"), False),
        (expr("empty", "Gt", "-1"), False),
        (expr("nvidia.com/gpu.count", "Gt", "four"), False),
        (expr("nvidia.com/gpu.count", "Gt", "1", "2"), False),
        (expr("nvidia.com/gpu.count", "Lt", "16", "32"), False),
        (expr("nvidia.com/gpu.count", "Gt"), False),
        (expr("region", "Gt", "1"), False),
        (expr("region", "Lt", "1"), False),
        (expr("pool", "Equals", "h100-eu"), False),
        (expr("pool", "in", "h100-eu"), False),
        (expr("pool", "exists"), False),
        ({"key": "pool", "values": ["h100-eu"]}, False),
    ],
)
def test_expression_matches(expression: dict[str, Any], expected: bool) -> None:
    assert expression_matches(expression, LABELS) is expected


def test_expression_values_are_compared_as_strings() -> None:
    assert expression_matches(
        {"key": "nvidia.com/gpu.count", "operator": "In", "values": [8]}, LABELS
    )
    assert expression_matches(
        {"key": "nvidia.com/gpu.count", "operator": "Gt", "values": [7]}, LABELS
    )


# --- term_matches ------------------------------------------------------------------------------

NODE = NodeInfo("h100-eu-0", LABELS)


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ({"matchExpressions": [expr("pool", "In", "h100-eu")]}, True),
        (
            {
                "matchExpressions": [
                    expr("pool", "In", "h100-eu"),
                    expr("nvidia.com/gpu.count", "Gt", "4"),
                    expr("region", "DoesNotExist"),
                ]
            },
            True,
        ),
        (
            {
                "matchExpressions": [
                    expr("pool", "In", "h100-eu"),
                    expr("nvidia.com/gpu.count", "Gt", "8"),
                ]
            },
            False,
        ),
        ({}, False),
        ({"matchExpressions": []}, False),
        ({"matchExpressions": None, "matchFields": None}, False),
        ({"matchExpressions": [], "matchFields": []}, False),
        ({"matchExpressions": ["pool In h100-eu"]}, False),
        ({"matchFields": [expr("metadata.name", "In", "h100-eu-0")]}, True),
        ({"matchFields": [expr("metadata.name", "In", "h100-eu-1", "h200-eu-0")]}, False),
        ({"matchFields": [expr("metadata.name", "NotIn", "h100-eu-0")]}, False),
        ({"matchFields": [expr("metadata.name", "NotIn", "a100-shared-us-0")]}, True),
        ({"matchFields": [expr("pool", "In", "h100-eu")]}, False),
        (
            {
                "matchExpressions": [expr("pool", "In", "h100-eu")],
                "matchFields": [expr("metadata.name", "In", "h100-eu-0")],
            },
            True,
        ),
        (
            {
                "matchExpressions": [expr("pool", "In", "h100-eu")],
                "matchFields": [expr("metadata.name", "In", "h100-eu-1")],
            },
            False,
        ),
        (
            {
                "matchExpressions": [expr("pool", "In", "h200-eu")],
                "matchFields": [expr("metadata.name", "In", "h100-eu-0")],
            },
            False,
        ),
    ],
)
def test_term_matches(term: dict[str, Any], expected: bool) -> None:
    assert term_matches(term, NODE) is expected


# --- required_terms ----------------------------------------------------------------------------

TERM_A = {"matchExpressions": [expr("pool", "In", "h100-eu")]}
TERM_B = {"matchFields": [expr("metadata.name", "In", "h200-eu-0")]}
REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"


@pytest.mark.parametrize(
    "affinity",
    [
        {},
        {"nodeAffinity": None},
        {"nodeAffinity": []},
        {"nodeAffinity": "required"},
        {"nodeAffinity": {}},
        {"nodeAffinity": {PREFERRED: [{"weight": 1, "preference": TERM_A}]}},
        {"nodeAffinity": {REQUIRED: None}},
        {"nodeAffinity": {REQUIRED: [TERM_A]}},
        {"nodeAffinity": {REQUIRED: {}}},
        {"nodeAffinity": {REQUIRED: {"nodeSelectorTerms": None}}},
        {"nodeAffinity": {REQUIRED: {"nodeSelectorTerms": TERM_A}}},
        {"podAntiAffinity": {REQUIRED: [{"topologyKey": "kubernetes.io/hostname"}]}},
    ],
)
def test_required_terms_absent_or_malformed(affinity: dict[str, Any]) -> None:
    assert required_terms(affinity) is None


def test_required_terms_lists_the_terms() -> None:
    assert required_terms(required(TERM_A, TERM_B)) == [TERM_A, TERM_B]


def test_required_terms_skips_entries_that_are_not_terms() -> None:
    assert required_terms(required(TERM_A, "junk", None, TERM_B)) == [TERM_A, TERM_B]  # type: ignore[arg-type]


def test_required_terms_empty_list_is_kept() -> None:
    assert required_terms(required()) == []


def test_required_terms_ignores_preferred_beside_required() -> None:
    affinity = required(TERM_A)
    affinity["nodeAffinity"][PREFERRED] = [{"weight": 10, "preference": TERM_B}]
    assert required_terms(affinity) == [TERM_A]


# --- tolerates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toleration", "expected"),
    [
        ({"key": "nvidia.com/gpu", "operator": "Exists"}, True),
        ({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}, True),
        ({"operator": "Exists"}, True),
        ({"key": "", "operator": "Exists"}, True),
        ({"operator": "Exists", "effect": "NoSchedule"}, True),
        ({"operator": "Exists", "effect": "NoExecute"}, False),
        ({"key": "dedicated", "operator": "Exists"}, False),
        ({"key": "nvidia.com/gpu", "operator": "Equal", "value": "present"}, True),
        ({"key": "nvidia.com/gpu", "operator": "Equal", "value": "absent"}, False),
        ({"key": "nvidia.com/gpu", "operator": "Equal"}, False),
        ({"key": "nvidia.com/gpu", "value": "present"}, True),
        ({"key": "nvidia.com/gpu", "operator": None, "value": "present"}, True),
        ({"key": "nvidia.com/gpu", "value": "other"}, False),
        ({"key": "nvidia.com/gpu"}, False),
        ({"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}, True),
        ({"key": "nvidia.com/gpu", "value": "present", "effect": ""}, True),
        ({"key": "nvidia.com/gpu", "value": "present", "effect": None}, True),
        ({"key": "nvidia.com/gpu", "value": "present", "effect": "NoExecute"}, False),
        ({"key": "nvidia.com/gpu", "value": "present", "effect": "PreferNoSchedule"}, False),
        ({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoExecute"}, False),
        ({"key": "nvidia.com/gpu", "operator": "Gt", "value": "present"}, False),
        ({"key": "nvidia.com/gpu", "operator": "exists"}, False),
    ],
)
def test_tolerates_gpu_taint(toleration: dict[str, Any], expected: bool) -> None:
    assert tolerates([toleration], GPU_TAINT) is expected


def test_tolerates_nothing_without_tolerations() -> None:
    assert not tolerates([], GPU_TAINT)


def test_tolerates_when_any_toleration_does() -> None:
    tolerations = [
        {"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"},
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
    ]
    assert tolerates(tolerations, GPU_TAINT)
    assert not tolerates(tolerations[:1], GPU_TAINT)


def test_tolerates_taint_without_value() -> None:
    taint = Taint("dedicated", "", "NoExecute")
    assert tolerates([{"key": "dedicated", "effect": "NoExecute"}], taint)
    assert tolerates([{"key": "dedicated", "operator": "Equal", "value": ""}], taint)
    assert not tolerates([{"key": "dedicated", "value": "ml"}], taint)


# --- schedulable_on ----------------------------------------------------------------------------


def test_node_name_bypasses_selectors_and_taints() -> None:
    template = pod(
        nodeName="a100-shared-us-0",
        nodeSelector={"pool": "h100-eu"},
        affinity=required({"matchExpressions": [expr("pool", "In", "cpu")]}),
    )
    assert schedulable_on(template, BY_NAME["a100-shared-us-0"])
    assert candidates(template, FLEET) == [BY_NAME["a100-shared-us-0"]]


def test_node_name_of_an_unknown_node_matches_none() -> None:
    assert candidates(pod(nodeName="h100-eu-9"), FLEET) == []


def test_node_selector_must_match_every_label() -> None:
    template = pod(
        nodeSelector={"pool": "h100-eu", "topology.kubernetes.io/region": "eu-central-1"},
        tolerations=[GPU_TOLERATION],
    )
    assert schedulable_on(template, BY_NAME["h100-eu-0"])
    assert not schedulable_on(template, BY_NAME["h200-eu-0"])
    mismatched = pod(
        nodeSelector={"pool": "h100-eu", "topology.kubernetes.io/region": "us-east-1"},
        tolerations=[GPU_TOLERATION],
    )
    assert not schedulable_on(mismatched, BY_NAME["h100-eu-0"])


def test_node_selector_still_needs_the_taint_tolerated() -> None:
    assert not schedulable_on(pod(nodeSelector={"pool": "h100-eu"}), BY_NAME["h100-eu-0"])


def test_required_affinity_ors_its_terms() -> None:
    template = pod(
        affinity=required(
            {"matchExpressions": [expr("pool", "In", "h200-eu")]},
            {"matchExpressions": [expr("pool", "In", "cpu")]},
        ),
        tolerations=[GPU_TOLERATION],
    )
    assert schedulable_on(template, BY_NAME["h200-eu-0"])
    assert schedulable_on(template, BY_NAME["cpu-1"])
    assert not schedulable_on(template, BY_NAME["h100-eu-0"])
    assert names(candidates(template, FLEET)) == ["h200-eu-0", "cpu-0", "cpu-1"]


def test_node_selector_and_affinity_must_both_hold() -> None:
    template = pod(
        nodeSelector={"pool": "cpu"},
        affinity=required({"matchExpressions": [expr("pool", "In", "h100-eu")]}),
        tolerations=[GPU_TOLERATION],
    )
    assert candidates(template, FLEET) == []


def test_required_affinity_with_no_terms_matches_nothing() -> None:
    assert candidates(pod(affinity=required(), tolerations=[GPU_TOLERATION]), FLEET) == []


def test_preferred_affinity_is_not_a_filter() -> None:
    template = pod(
        affinity={
            "nodeAffinity": {
                PREFERRED: [
                    {"weight": 100, "preference": {"matchExpressions": [expr("pool", "In", "cpu")]}}
                ]
            }
        },
        tolerations=[GPU_TOLERATION],
    )
    assert names(candidates(template, FLEET)) == ALL


@pytest.mark.parametrize(
    ("effect", "needs_toleration"),
    [("NoSchedule", True), ("NoExecute", True), ("PreferNoSchedule", False), ("", False)],
)
def test_taint_effects(effect: str, needs_toleration: bool) -> None:
    node = NodeInfo("tainted", {"pool": "x"}, (Taint("dedicated", "ml", effect),))
    assert schedulable_on(pod(), node) is not needs_toleration
    tolerated = pod(tolerations=[{"key": "dedicated", "operator": "Equal", "value": "ml"}])
    assert schedulable_on(tolerated, node)


def test_every_filtering_taint_must_be_tolerated() -> None:
    node = NodeInfo(
        "gpu-drain",
        {},
        (GPU_TAINT, Taint("node.kubernetes.io/unschedulable", "", "NoExecute")),
    )
    only_gpu = pod(tolerations=[GPU_TOLERATION])
    both = pod(
        tolerations=[
            GPU_TOLERATION,
            {"key": "node.kubernetes.io/unschedulable", "operator": "Exists"},
        ]
    )
    assert not schedulable_on(only_gpu, node)
    assert schedulable_on(both, node)


def test_no_schedule_toleration_does_not_cover_no_execute() -> None:
    node = NodeInfo("n", {}, (Taint("nvidia.com/gpu", "present", "NoExecute"),))
    assert not schedulable_on(pod(tolerations=[GPU_TOLERATION]), node)


# --- candidates over the realistic fleet -------------------------------------------------------


def test_fleet_shape() -> None:
    assert names(FLEET) == ALL
    assert all(BY_NAME[n].taints == (GPU_TAINT,) for n in GPU_NODES)
    assert all(BY_NAME[n].taints == () for n in CPU_NODES)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, CPU_NODES),
        ({"tolerations": [GPU_TOLERATION]}, ALL),
        ({"tolerations": [{"operator": "Exists"}]}, ALL),
        (
            {"tolerations": [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "present"}]},
            ALL,
        ),
        (
            {"tolerations": [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "true"}]},
            CPU_NODES,
        ),
        (
            {"nodeSelector": {"pool": "h100-eu"}, "tolerations": [GPU_TOLERATION]},
            ["h100-eu-0", "h100-eu-1"],
        ),
        ({"nodeSelector": {"pool": "h100-eu"}}, []),
        (
            {
                "nodeSelector": {"nvidia.com/gpu.product": "NVIDIA-H200"},
                "tolerations": [GPU_TOLERATION],
            },
            ["h200-eu-0"],
        ),
        (
            {
                "affinity": required(
                    {"matchExpressions": [expr("pool", "In", "h100-eu", "h200-eu")]}
                ),
                "tolerations": [GPU_TOLERATION],
            },
            ["h100-eu-0", "h100-eu-1", "h200-eu-0"],
        ),
        (
            {
                "affinity": required(
                    {"matchExpressions": [expr("pool", "NotIn", "a100-shared-us")]}
                ),
                "tolerations": [GPU_TOLERATION],
            },
            ["h100-eu-0", "h100-eu-1", "h200-eu-0", "cpu-0", "cpu-1"],
        ),
        (
            {
                "affinity": required(
                    {"matchExpressions": [expr("nvidia.com/gpu.present", "DoesNotExist")]}
                ),
                "tolerations": [GPU_TOLERATION],
            },
            CPU_NODES,
        ),
        (
            {
                "affinity": required(
                    {"matchExpressions": [expr("nvidia.com/gpu.present", "Exists")]}
                ),
                "tolerations": [GPU_TOLERATION],
            },
            GPU_NODES,
        ),
        (
            {
                "affinity": required(
                    {"matchExpressions": [expr("nvidia.com/gpu.present", "Exists")]}
                )
            },
            [],
        ),
        (
            {
                "affinity": required(
                    {"matchExpressions": [expr("nvidia.com/gpu.memory", "Gt", "100000")]}
                ),
                "tolerations": [GPU_TOLERATION],
            },
            ["h200-eu-0"],
        ),
        (
            {
                "affinity": required(
                    {"matchExpressions": [expr("nvidia.com/gpu.compute.major", "Lt", "9")]}
                ),
                "tolerations": [GPU_TOLERATION],
            },
            ["a100-shared-us-0", "a100-shared-us-1"],
        ),
        (
            {
                "affinity": required(
                    {
                        "matchExpressions": [
                            expr("topology.kubernetes.io/region", "In", "eu-central-1")
                        ],
                        "matchFields": [expr("metadata.name", "NotIn", "h100-eu-1")],
                    }
                ),
                "tolerations": [GPU_TOLERATION],
            },
            ["h100-eu-0", "h200-eu-0", "cpu-0", "cpu-1"],
        ),
        ({"nodeSelector": {"pool": "b200-eu"}, "tolerations": [GPU_TOLERATION]}, []),
    ],
)
def test_candidates_on_the_fleet(spec: dict[str, Any], expected: list[str]) -> None:
    assert names(candidates(pod(**spec), FLEET)) == expected


def test_candidates_of_no_nodes() -> None:
    assert candidates(pod(tolerations=[GPU_TOLERATION]), []) == []


# --- node_info ---------------------------------------------------------------------------------


def test_node_info_of_a_realistic_gpu_node() -> None:
    manifest = nodes.node_manifest(nodes.POOLS[0], 1)
    info = node_info(manifest)
    assert info.name == "h100-eu-1"
    assert info.labels["pool"] == "h100-eu"
    assert info.labels["nvidia.com/gpu.product"] == "NVIDIA-H100-80GB-HBM3"
    assert info.labels["nvidia.com/gpu.sharing-strategy"] == "none"
    assert info.taints == (GPU_TAINT,)


def test_node_info_of_a_cpu_node() -> None:
    info = BY_NAME["cpu-0"]
    assert info.taints == ()
    assert "nvidia.com/gpu.present" not in info.labels
    assert info.labels["topology.kubernetes.io/region"] == "eu-central-1"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"metadata": None, "spec": None},
        {"metadata": "node", "spec": ["taints"]},
        {"metadata": {}, "spec": {}},
        {"metadata": {"labels": None}, "spec": {"taints": None}},
    ],
)
def test_node_info_tolerates_missing_fields(body: dict[str, Any]) -> None:
    assert node_info(body) == NodeInfo("", {}, ())


def test_node_info_normalises_taints_and_labels() -> None:
    body = {
        "metadata": {"name": "n1", "labels": {"nvidia.com/gpu.count": 8, "pool": "cpu"}},
        "spec": {
            "taints": [
                "junk",
                {"key": "dedicated", "value": None, "effect": "NoExecute"},
                {"key": "maintenance"},
                {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"},
            ]
        },
    }
    assert node_info(body) == NodeInfo(
        "n1",
        {"nvidia.com/gpu.count": "8", "pool": "cpu"},
        (
            Taint("dedicated", "", "NoExecute"),
            Taint("maintenance", "", ""),
            GPU_TAINT,
        ),
    )


def test_node_info_taint_without_effect_does_not_filter() -> None:
    info = node_info({"metadata": {"name": "n1"}, "spec": {"taints": [{"key": "maintenance"}]}})
    assert schedulable_on(pod(), info)


@pytest.mark.parametrize("label", ["1_000", "99999999999999999999", " 5", "+5", "0x10"])
def test_gt_reads_labels_as_kubernetes_does_decimal_int64_only(label: str) -> None:
    expr = {"key": "k", "operator": "Gt", "values": ["1"]}
    assert expression_matches(expr, {"k": label}) is False
