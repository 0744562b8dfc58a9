"""Rule PlacementViolation: pools, shared GPUs, GPU limits, and resolving a model's policy.

Workloads are realistic Deployment, Pod, CronJob and InferenceService bodies read through
`parse_workload`; the fleet is tools/controlplane/nodes.py (h100-eu x2, h200-eu x1,
a100-shared-us x2 time-sliced, cpu x2).
"""

from __future__ import annotations

from typing import Any

import builders
import pytest
from builders import (
    GPU_TOLERATION,
    H200_SELECTOR,
    IMAGE,
    NAMESPACE,
    cronjob,
    deployment,
    governed_model,
    model_spec,
    pod,
)
from builders import placement_policy as policy
from tools.controlplane import nodes

from aigov.api.constants import MODEL_LABEL, Reason
from aigov.api.enums import RiskClass
from aigov.api.models import GovernedModel, NodePool, PlacementPolicy
from aigov.policy.decision import Violation
from aigov.policy.placement import (
    PlacementContext,
    Resolution,
    in_pool,
    model_placement_violations,
    placement_violations,
    pool_of,
    resolve,
    shares_gpus,
)
from aigov.policy.scheduling import NodeInfo, node_info
from aigov.policy.workload import parse_workload

FLEET = [node_info(m) for m in nodes.all_nodes()]
BY_NAME = {n.name: n for n in FLEET}
MODEL = builders.MODEL_NAME
TEMPLATE = "spec.template.spec"
PV = Reason.PLACEMENT_VIOLATION
CONFIDENTIAL = policy(maxGPUsPerPod=8)
ALLOWED = "(h100-eu, h200-eu)"


def pool(name: str, selector: dict[str, str]) -> NodePool:
    return NodePool.model_validate({"name": name, "nodeSelector": selector})


def container(gpus: int | str | None = 1, name: str = "server") -> dict[str, Any]:
    """The model's server image, with `gpus` and 64Gi of memory (no resources for None)."""
    return builders.container(name, gpus=gpus, memory="64Gi")


def pod_spec(*containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return builders.pod_spec(*(containers or (container(),)), **spec)


def judge(
    obj: dict[str, Any], pp: PlacementPolicy = CONFIDENTIAL
) -> tuple[list[Violation], list[str]]:
    return placement_violations(parse_workload(obj), pp, FLEET)


def pinned(**extra: Any) -> dict[str, Any]:
    return pod_spec(nodeSelector={"pool": "h100-eu"}, tolerations=[GPU_TOLERATION], **extra)


def required(*terms: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": t} for t in terms]
            }
        }
    }


def pools_in(*names: str) -> list[dict[str, Any]]:
    return [{"key": "pool", "operator": "In", "values": list(names)}]


def outside(names: str, path: str = TEMPLATE, pp: str = "confidential-eu") -> Violation:
    return Violation(
        PV,
        f"the pod could be scheduled on nodes outside the allowed pools of PlacementPolicy "
        f"{pp!r} {ALLOWED}: {names}; pin it with a nodeSelector or required node affinity on "
        f"the pools' labels",
        path,
    )


# --- in_pool, pool_of, shares_gpus -------------------------------------------------------------


@pytest.mark.parametrize(
    ("node", "selector", "expected"),
    [
        ("h100-eu-0", {"pool": "h100-eu"}, True),
        ("h100-eu-1", {"pool": "h100-eu"}, True),
        ("h200-eu-0", {"pool": "h100-eu"}, False),
        ("h200-eu-0", H200_SELECTOR, True),
        ("h100-eu-0", H200_SELECTOR, False),
        ("cpu-0", {"topology.kubernetes.io/region": "eu-central-1"}, True),
        ("cpu-0", {"topology.kubernetes.io/region": "eu-central-1", "pool": "h100-eu"}, False),
        ("cpu-0", {"nvidia.com/gpu.present": "true"}, False),
        ("a100-shared-us-1", {"nvidia.com/gpu.present": "true"}, True),
    ],
)
def test_in_pool(node: str, selector: dict[str, str], expected: bool) -> None:
    assert in_pool(BY_NAME[node], pool("p", selector)) is expected


EU_POOLS = [pool("h100-eu", {"pool": "h100-eu"}), pool("h200-eu", H200_SELECTOR)]


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ("h100-eu-0", "h100-eu"),
        ("h100-eu-1", "h100-eu"),
        ("h200-eu-0", "h200-eu"),
        ("a100-shared-us-0", None),
        ("cpu-1", None),
    ],
)
def test_pool_of(node: str, expected: str | None) -> None:
    assert pool_of(BY_NAME[node], EU_POOLS) == expected


def test_pool_of_is_the_first_matching_pool() -> None:
    pools = [pool("any-gpu", {"nvidia.com/gpu.present": "true"}), *EU_POOLS]
    assert pool_of(BY_NAME["h100-eu-0"], pools) == "any-gpu"
    assert pool_of(BY_NAME["h100-eu-0"], pools[::-1]) == "h100-eu"
    assert pool_of(BY_NAME["h100-eu-0"], []) is None


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"nvidia.com/gpu.sharing-strategy": "time-slicing"}, True),
        ({"nvidia.com/gpu.sharing-strategy": "mps"}, True),
        ({"nvidia.com/gpu.sharing-strategy": "none"}, False),
        ({}, False),
    ],
)
def test_shares_gpus(labels: dict[str, str], expected: bool) -> None:
    assert shares_gpus(NodeInfo("n", labels)) is expected


def test_shares_gpus_on_the_fleet() -> None:
    assert [n.name for n in FLEET if shares_gpus(n)] == ["a100-shared-us-0", "a100-shared-us-1"]


# --- placement_violations ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        pinned(),
        pod_spec(nodeSelector=H200_SELECTOR, tolerations=[GPU_TOLERATION]),
        pod_spec(affinity=required(pools_in("h100-eu", "h200-eu")), tolerations=[GPU_TOLERATION]),
        pod_spec(nodeName="h200-eu-0"),
        pod_spec(container(8), nodeName="h100-eu-1"),
    ],
)
def test_compliant_deployment(spec: dict[str, Any]) -> None:
    assert judge(deployment(spec)) == ([], [])


def test_compliant_pod() -> None:
    assert judge(pod(pinned())) == ([], [])


def test_unpinned_gpu_pod_could_land_outside() -> None:
    found = judge(deployment(pod_spec(tolerations=[GPU_TOLERATION])))
    assert found == ([outside("a100-shared-us-0, a100-shared-us-1, cpu-0, cpu-1")], [])


def test_unpinned_pod_without_toleration_could_land_on_cpu_nodes() -> None:
    assert judge(pod(pod_spec())) == ([outside("cpu-0, cpu-1", "spec")], [])


def test_outside_nodes_are_shown_five_at_most() -> None:
    h200_only = policy(
        "h200-only",
        [{"name": "h200-eu", "nodeSelector": H200_SELECTOR, "tolerations": [GPU_TOLERATION]}],
    )
    found, warnings = judge(deployment(pod_spec(tolerations=[GPU_TOLERATION])), h200_only)
    assert warnings == []
    assert found == [
        Violation(
            PV,
            "the pod could be scheduled on nodes outside the allowed pools of PlacementPolicy "
            "'h200-only' (h200-eu): a100-shared-us-0, a100-shared-us-1, cpu-0, cpu-1, "
            "h100-eu-0 ...; pin it with a nodeSelector or required node affinity on the "
            "pools' labels",
            TEMPLATE,
        )
    ]


def test_partly_pinned_pod_lists_only_nodes_outside() -> None:
    spec = pod_spec(
        affinity=required(pools_in("h100-eu", "a100-shared-us")), tolerations=[GPU_TOLERATION]
    )
    assert judge(deployment(spec)) == ([outside("a100-shared-us-0, a100-shared-us-1")], [])


@pytest.mark.parametrize("node", ["a100-shared-us-1", "cpu-0"])
def test_node_name_on_a_disallowed_node(node: str) -> None:
    found = judge(pod(pod_spec(nodeName=node, tolerations=[GPU_TOLERATION])))
    assert found == (
        [
            Violation(
                PV,
                f"nodeName {node!r} is not in an allowed pool of PlacementPolicy "
                f"'confidential-eu' (h100-eu, h200-eu)",
                "spec.nodeName",
            )
        ],
        [],
    )


def test_node_name_in_a_deployment_template() -> None:
    found, _ = judge(deployment(pod_spec(nodeName="cpu-1")))
    assert [v.path for v in found] == [f"{TEMPLATE}.nodeName"]


def test_exclusive_gpu_refuses_time_sliced_nodes() -> None:
    exclusive = policy(
        "exclusive",
        [
            {"name": "h100-eu", "nodeSelector": {"pool": "h100-eu"}},
            {"name": "a100-shared-us", "nodeSelector": {"pool": "a100-shared-us"}},
        ],
        requireExclusiveGPU=True,
    )
    spec = pod_spec(
        affinity=required(pools_in("h100-eu", "a100-shared-us")), tolerations=[GPU_TOLERATION]
    )
    assert judge(deployment(spec), exclusive) == (
        [
            Violation(
                PV,
                "PlacementPolicy 'exclusive' requires exclusive GPUs, but the pod could land on "
                "nodes whose GPUs are shared (nvidia.com/gpu.sharing-strategy not none): "
                "a100-shared-us-0, a100-shared-us-1",
                TEMPLATE,
            )
        ],
        [],
    )
    pinned_h100 = pod_spec(nodeSelector={"pool": "h100-eu"}, tolerations=[GPU_TOLERATION])
    assert judge(deployment(pinned_h100), exclusive) == ([], [])


def test_exclusive_gpu_and_outside_pools_are_both_reported() -> None:
    exclusive = policy(requireExclusiveGPU=True)
    found, warnings = judge(deployment(pod_spec(tolerations=[GPU_TOLERATION])), exclusive)
    assert warnings == []
    assert [v.path for v in found] == [TEMPLATE, TEMPLATE]
    assert found[0] == outside("a100-shared-us-0, a100-shared-us-1, cpu-0, cpu-1")
    assert found[1].message.endswith(": a100-shared-us-0, a100-shared-us-1")


def test_exclusive_gpu_with_node_name_on_a_shared_node() -> None:
    exclusive = policy(
        "exclusive",
        [{"name": "a100-shared-us", "nodeSelector": {"pool": "a100-shared-us"}}],
        requireExclusiveGPU=True,
    )
    found, _ = judge(pod(pod_spec(nodeName="a100-shared-us-0")), exclusive)
    assert [(v.code, v.path) for v in found] == [(PV, "spec")]
    assert found[0].message.endswith("(nvidia.com/gpu.sharing-strategy not none): a100-shared-us-0")


def pinned_with(containers: list[dict[str, Any]]) -> dict[str, Any]:
    return pod_spec(*containers, nodeSelector={"pool": "h100-eu"}, tolerations=[GPU_TOLERATION])


@pytest.mark.parametrize(
    ("containers", "count"),
    [
        ([container(8)], 8),
        ([container(3), container(2, "sidecar")], 5),
        ([container("16")], 16),
    ],
)
def test_gpus_over_the_limit(containers: list[dict[str, Any]], count: int) -> None:
    four = policy(maxGPUsPerPod=4)
    assert judge(deployment(pinned_with(containers)), four) == (
        [
            Violation(
                PV,
                f"the pod asks for {count} nvidia.com/gpu; PlacementPolicy 'confidential-eu' "
                f"allows at most 4 per pod",
                f"{TEMPLATE}.containers",
            )
        ],
        [],
    )


@pytest.mark.parametrize(
    "containers",
    [[container(4)], [container(2), container(2, "b")], [container(None)], [container(0)]],
)
def test_gpus_within_the_limit(containers: list[dict[str, Any]]) -> None:
    assert judge(deployment(pinned_with(containers)), policy(maxGPUsPerPod=4)) == ([], [])


def test_no_gpu_limit_without_max_gpus_per_pod() -> None:
    assert judge(deployment(pinned_with([container(64)])), policy()) == ([], [])


def test_unreadable_gpu_quantity_is_a_violation() -> None:
    found = judge(deployment(pinned_with([container("1.5")])))
    assert found == (
        [
            Violation(
                PV,
                f"{TEMPLATE}.containers[0].resources.limits[nvidia.com/gpu]: nvidia.com/gpu "
                "must be a whole number of devices, got '1.5'",
                TEMPLATE,
            )
        ],
        [],
    )


def test_node_selector_aiming_outside_the_injected_affinity() -> None:
    spec = pod_spec(
        nodeSelector={"pool": "a100-shared-us"},
        affinity=required(pools_in("h100-eu"), pools_in("h200-eu")),
        tolerations=[GPU_TOLERATION],
    )
    assert judge(deployment(spec)) == (
        [
            Violation(
                PV,
                "the pod's nodeSelector pins it to nodes outside the allowed pools of "
                "PlacementPolicy 'confidential-eu' (h100-eu, h200-eu): "
                "a100-shared-us-0, a100-shared-us-1",
                f"{TEMPLATE}.nodeSelector",
            )
        ],
        [],
    )


def test_no_node_matches_is_only_a_warning() -> None:
    spec = pod_spec(affinity=required(pools_in("b200-eu")), tolerations=[GPU_TOLERATION])
    assert judge(deployment(spec)) == (
        [],
        [
            f"aigov: no node matches {TEMPLATE} today; it stays Pending until one in "
            "h100-eu, h200-eu appears"
        ],
    )


def test_node_selector_matching_no_node_is_only_a_warning() -> None:
    spec = pod_spec(nodeSelector={"pool": "b200-eu"}, tolerations=[GPU_TOLERATION])
    found, warnings = judge(pod(spec))
    assert found == []
    assert warnings == [
        "aigov: no node matches spec today; it stays Pending until one in h100-eu, h200-eu appears"
    ]


def test_cronjob_template_path() -> None:
    path = "spec.jobTemplate.spec.template.spec"
    assert judge(cronjob(pod_spec(tolerations=[GPU_TOLERATION]))) == (
        [outside("a100-shared-us-0, a100-shared-us-1, cpu-0, cpu-1", path)],
        [],
    )
    found, _ = judge(cronjob(pod_spec(nodeName="cpu-0")))
    assert [v.path for v in found] == [f"{path}.nodeName"]
    assert judge(cronjob(pinned())) == ([], [])


def test_inference_service_components_are_judged_each() -> None:
    isvc = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "fraud", "namespace": NAMESPACE, "labels": {MODEL_LABEL: MODEL}},
        "spec": {
            "predictor": {
                "nodeSelector": {"pool": "h100-eu"},
                "tolerations": [GPU_TOLERATION],
                "model": {
                    "modelFormat": {"name": "pytorch"},
                    "storageUri": "s3://models/fraud-scorer/3.1.0",
                    "resources": {"limits": {"nvidia.com/gpu": "1"}},
                },
            },
            "transformer": {"containers": [{"name": "tx", "image": IMAGE}]},
        },
    }
    assert judge(isvc) == ([outside("cpu-0, cpu-1", "spec.transformer")], [])


def test_workload_without_templates_has_nothing_to_judge() -> None:
    scale = {"apiVersion": "autoscaling/v1", "kind": "Scale", "spec": {"replicas": 3}}
    assert judge(scale) == ([], [])


# --- resolve and model_placement_violations ----------------------------------------------------


def model(risk: str = "high", placement: str | None = "confidential-eu") -> GovernedModel:
    spec = model_spec(riskClass=risk, placement_policy=placement)
    return governed_model(spec, uid="uid-model", created=None)


CTX = PlacementContext({"confidential-eu": CONFIDENTIAL}, FLEET)
EMPTY = PlacementContext({}, FLEET)
UNPINNED = parse_workload(deployment(pod_spec(tolerations=[GPU_TOLERATION])))
PINNED = parse_workload(deployment(pinned()))
LABEL_PATH = "metadata.labels[aigov.io/model]"


def test_resolve_found() -> None:
    assert resolve(model(), CTX) == Resolution(
        CONFIDENTIAL, True, "Resolved", "PlacementPolicy 'confidential-eu' (validate)"
    )


def test_resolve_found_names_the_mode() -> None:
    inject = policy(mode="inject")
    ctx = PlacementContext({"confidential-eu": inject}, FLEET)
    assert resolve(model("limited"), ctx) == Resolution(
        inject, True, "Resolved", "PlacementPolicy 'confidential-eu' (inject)"
    )


def test_found_policy_judges_the_workload() -> None:
    assert model_placement_violations(PINNED, model(), CTX) == ([], [])
    assert model_placement_violations(UNPINNED, model(), CTX) == (
        [outside("a100-shared-us-0, a100-shared-us-1, cpu-0, cpu-1")],
        [],
    )
    assert model_placement_violations(UNPINNED, model("minimal"), CTX) == (
        [outside("a100-shared-us-0, a100-shared-us-1, cpu-0, cpu-1")],
        [],
    )


def test_missing_policy_for_high_risk() -> None:
    assert resolve(model(), EMPTY) == Resolution(
        None, False, "PolicyNotFound", "PlacementPolicy 'confidential-eu' not found"
    )
    assert model_placement_violations(PINNED, model(), EMPTY) == (
        [
            Violation(
                PV,
                f"GovernedModel {MODEL!r}: PlacementPolicy 'confidential-eu' not found",
                LABEL_PATH,
            )
        ],
        [],
    )


def test_missing_policy_for_limited_risk_warns() -> None:
    assert resolve(model("limited"), EMPTY) == Resolution(
        None, True, "PolicyNotFound", "PlacementPolicy 'confidential-eu' not found"
    )
    assert model_placement_violations(UNPINNED, model("limited"), EMPTY) == (
        [],
        ["aigov: PlacementPolicy 'confidential-eu' not found: placement is not checked"],
    )


def test_no_policy_named_for_high_risk() -> None:
    assert resolve(model(placement=None), CTX) == Resolution(
        None,
        False,
        "PolicyRequired",
        "a high-risk model must name a PlacementPolicy in spec.placementPolicy",
    )
    assert model_placement_violations(PINNED, model(placement=None), CTX) == (
        [
            Violation(
                PV,
                f"GovernedModel {MODEL!r}: a high-risk model must name a PlacementPolicy in "
                "spec.placementPolicy",
                LABEL_PATH,
            )
        ],
        [],
    )


@pytest.mark.parametrize("risk", ["minimal", "limited"])
def test_no_policy_named_where_not_required(risk: str) -> None:
    found = model(risk, placement=None)
    assert resolve(found, CTX) == Resolution(
        None, True, "NotRequired", f"no placement policy needed for {risk} risk"
    )
    assert model_placement_violations(UNPINNED, found, CTX) == ([], [])


def test_required_for_is_configurable() -> None:
    strict = PlacementContext({}, FLEET, frozenset({RiskClass.LIMITED, RiskClass.HIGH}))
    assert resolve(model("limited"), strict).resolved is False
    assert model_placement_violations(PINNED, model("limited", placement=None), strict) == (
        [
            Violation(
                PV,
                f"GovernedModel {MODEL!r}: a limited-risk model must name a PlacementPolicy in "
                "spec.placementPolicy",
                LABEL_PATH,
            )
        ],
        [],
    )
    lenient = PlacementContext({}, FLEET, frozenset())
    assert resolve(model(), lenient) == Resolution(
        None, True, "PolicyNotFound", "PlacementPolicy 'confidential-eu' not found"
    )
    assert resolve(model(placement=None), lenient).reason == "NotRequired"


def test_node_name_of_a_node_that_does_not_exist_is_refused() -> None:
    """A name that joins later outside the pools would bypass the rule: refuse it now."""
    pod = parse_workload(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p", "namespace": "ns"},
            "spec": {"nodeName": "h100-eu-9", "containers": [{"name": "c", "image": "i"}]},
        }
    )
    found, warnings = placement_violations(pod, CONFIDENTIAL, FLEET)
    assert [(v.code, v.path) for v in found] == [(Reason.PLACEMENT_VIOLATION, "spec.nodeName")]
    assert "no such node today" in found[0].message
    assert warnings == []


def test_max_gpus_per_pod_counts_every_accelerator_resource() -> None:
    """56 MIG slices are 56 devices, not zero nvidia.com/gpu."""
    mig = {"name": "srv", "image": "srv", "resources": {"limits": {"nvidia.com/mig-1g.10gb": "56"}}}
    found, _ = judge(deployment(pinned_with([mig])), policy(maxGPUsPerPod=2))
    assert found == [
        Violation(
            PV,
            "the pod asks for 56 nvidia.com/mig-1g.10gb; PlacementPolicy 'confidential-eu' "
            "allows at most 2 per pod",
            f"{TEMPLATE}.containers",
        )
    ]
    mixed = [container(1), {"name": "b", "resources": {"limits": {"nvidia.com/mig-1g.10gb": 2}}}]
    (violation,) = judge(deployment(pinned_with(mixed)), policy(maxGPUsPerPod=2))[0]
    assert "asks for 3 accelerators (nvidia.com/gpu: 1, nvidia.com/mig-1g.10gb: 2)" in (
        violation.message
    )
