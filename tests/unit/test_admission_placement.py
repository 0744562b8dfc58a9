"""Inject mode at admission: which pod specs of a request are pinned, the patch, the result.

Requests are built directly as AdmissionRequest with realistic Deployment, Pod, CronJob and
InferenceService objects; the fleet is tools/controlplane/nodes.py.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import builders
import pytest
from builders import (
    GPU_TOLERATION,
    IMAGE,
    NAMESPACE,
    governed_model,
    model_spec,
    node_pool,
    placement_policy,
)
from tools.controlplane import nodes

from aigov.admission.placement import applied, injections, merge_patch
from aigov.admission.request import AdmissionRequest, UserInfo
from aigov.api.constants import MODEL_LABEL
from aigov.api.models import GovernedModel, PlacementPolicy
from aigov.policy.inject import Injection
from aigov.policy.placement import PlacementContext, placement_violations
from aigov.policy.scheduling import node_info
from aigov.policy.workload import parse_workload

FLEET = [node_info(m) for m in nodes.all_nodes()]
MODEL = builders.MODEL_NAME
DEDICATED = {"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}
REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"
PINNED_AFFINITY = {
    "nodeAffinity": {
        REQUIRED: {
            "nodeSelectorTerms": [
                {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["h100-eu"]}]},
                {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["h200-eu"]}]},
            ]
        }
    }
}


def policy(name: str, mode: str) -> PlacementPolicy:
    """Pools h100-eu and h200-eu, each by its `pool` label."""
    pools = [node_pool("h100-eu"), node_pool("h200-eu")]
    return placement_policy(name, pools, maxGPUsPerPod=8, mode=mode)


CTX = PlacementContext(
    {"pin-eu": policy("pin-eu", "inject"), "check-eu": policy("check-eu", "validate")}, FLEET
)


def model(placement: str | None = "pin-eu", risk: str = "high") -> GovernedModel:
    """Only what placement reads: the server image, risk class and policy (no lineage, stamps)."""
    spec = model_spec(weights=False, riskClass=risk, placement_policy=placement)
    del spec["lineage"]
    return governed_model(spec, uid="uid-model", generation=None, created=None, author=None)


def pod_spec(**fields: Any) -> dict[str, Any]:
    return builders.pod_spec(builders.container(gpus=2), **fields)


def deployment(spec: dict[str, Any] | None = None) -> dict[str, Any]:
    return builders.deployment(pod_spec() if spec is None else spec)


def cronjob() -> dict[str, Any]:
    return builders.cronjob(pod_spec(restartPolicy="Never"), backoffLimit=1)


def inference_service() -> dict[str, Any]:
    return builders.inference_service(
        {
            "predictor": {
                "minReplicas": 1,
                "model": {
                    "modelFormat": {"name": "pytorch"},
                    "storageUri": "s3://models/fraud-scorer/3.1.0",
                    "resources": {"limits": {"nvidia.com/gpu": "1"}},
                },
            },
            "transformer": {
                "tolerations": [GPU_TOLERATION],
                "containers": [{"name": "tx", "image": IMAGE}],
            },
        }
    )


def request(
    obj: dict[str, Any], kind: str = "Deployment", resource: str = "deployments", **extra: Any
) -> AdmissionRequest:
    api_version = str(obj.get("apiVersion", "v1"))
    group, _, version = api_version.rpartition("/")
    return AdmissionRequest(
        uid="705ab4f5-6393-11e8-b7cc-42010a800002",
        operation="CREATE",
        group=group,
        version=version,
        resource=resource,
        kind=kind,
        namespace=NAMESPACE,
        name=str(obj.get("metadata", {}).get("name", "")),
        user=UserInfo("alice", ("system:authenticated",)),
        object=obj,
        **extra,
    )


INJECTED = Injection("spec.template.spec", PINNED_AFFINITY, [GPU_TOLERATION])


# --- injections --------------------------------------------------------------------------------


def test_deployment_in_inject_mode() -> None:
    assert injections(request(deployment()), model(), CTX) == [INJECTED]


def test_pod_in_inject_mode() -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "fraud-0", "namespace": NAMESPACE, "labels": {MODEL_LABEL: MODEL}},
        "spec": pod_spec(tolerations=[DEDICATED]),
    }
    assert injections(request(pod, "Pod", "pods"), model(), CTX) == [
        Injection("spec", PINNED_AFFINITY, [DEDICATED, GPU_TOLERATION])
    ]


def test_cronjob_in_inject_mode() -> None:
    assert injections(request(cronjob(), "CronJob", "cronjobs"), model(), CTX) == [
        Injection("spec.jobTemplate.spec.template.spec", PINNED_AFFINITY, [GPU_TOLERATION])
    ]


def test_inference_service_components_in_inject_mode() -> None:
    req = request(inference_service(), "InferenceService", "inferenceservices")
    assert injections(req, model(), CTX) == [
        Injection("spec.predictor", PINNED_AFFINITY, [GPU_TOLERATION]),
        Injection("spec.transformer", PINNED_AFFINITY, None),
    ]


def test_update_is_injected_too() -> None:
    req = dataclasses.replace(request(deployment()), operation="UPDATE", old_object=deployment())
    assert injections(req, model(), CTX) == [INJECTED]


def test_validate_mode_injects_nothing() -> None:
    assert injections(request(deployment()), model("check-eu"), CTX) == []


@pytest.mark.parametrize("subresource", ["scale", "status", "ephemeralcontainers"])
def test_subresource_requests_inject_nothing(subresource: str) -> None:
    assert injections(request(deployment(), subresource=subresource), model(), CTX) == []


@pytest.mark.parametrize(
    "found",
    [None, model("missing-policy"), model(None), model(None, "limited"), model("ghost", "limited")],
)
def test_missing_model_or_policy_injects_nothing(found: GovernedModel | None) -> None:
    assert injections(request(deployment()), found, CTX) == []


def test_already_pinned_spec_injects_nothing() -> None:
    spec = pod_spec(affinity=PINNED_AFFINITY, tolerations=[GPU_TOLERATION])
    assert injections(request(deployment(spec)), model(), CTX) == []


def test_only_missing_fields_are_injected() -> None:
    spec = pod_spec(affinity=PINNED_AFFINITY)
    assert injections(request(deployment(spec)), model(), CTX) == [
        Injection("spec.template.spec", None, [GPU_TOLERATION])
    ]


def test_object_without_pod_templates_injects_nothing() -> None:
    obj = deployment()
    del obj["spec"]["template"]
    assert injections(request(obj), model(), CTX) == []


# --- merge_patch -------------------------------------------------------------------------------


def test_merge_patch_of_nothing() -> None:
    assert merge_patch([]) == {}


def test_merge_patch_at_deployment_template() -> None:
    assert merge_patch([INJECTED]) == {
        "spec": {
            "template": {"spec": {"affinity": PINNED_AFFINITY, "tolerations": [GPU_TOLERATION]}}
        }
    }


def test_merge_patch_at_cronjob_template() -> None:
    found = Injection("spec.jobTemplate.spec.template.spec", PINNED_AFFINITY, None)
    assert merge_patch([found]) == {
        "spec": {"jobTemplate": {"spec": {"template": {"spec": {"affinity": PINNED_AFFINITY}}}}}
    }


def test_merge_patch_at_pod_spec() -> None:
    found = Injection("spec", None, [DEDICATED, GPU_TOLERATION])
    assert merge_patch([found]) == {"spec": {"tolerations": [DEDICATED, GPU_TOLERATION]}}


def test_merge_patch_of_several_components_shares_parents() -> None:
    found = [
        Injection("spec.predictor", PINNED_AFFINITY, [GPU_TOLERATION]),
        Injection("spec.predictor.workerSpec", PINNED_AFFINITY, None),
        Injection("spec.transformer", None, [GPU_TOLERATION]),
    ]
    assert merge_patch(found) == {
        "spec": {
            "predictor": {
                "affinity": PINNED_AFFINITY,
                "tolerations": [GPU_TOLERATION],
                "workerSpec": {"affinity": PINNED_AFFINITY},
            },
            "transformer": {"tolerations": [GPU_TOLERATION]},
        }
    }


# --- applied -----------------------------------------------------------------------------------


def test_applied_sets_the_injected_fields_and_leaves_the_input() -> None:
    obj = deployment(pod_spec(tolerations=[DEDICATED]))
    before = copy.deepcopy(obj)
    found = injections(request(obj), model(), CTX)
    result = applied(obj, found)
    expected = copy.deepcopy(before)
    expected["spec"]["template"]["spec"]["affinity"] = PINNED_AFFINITY
    expected["spec"]["template"]["spec"]["tolerations"] = [DEDICATED, GPU_TOLERATION]
    assert result == expected
    assert obj == before


def test_applied_result_does_not_alias_input_or_injection() -> None:
    obj = deployment()
    found = [INJECTED]
    result = applied(obj, found)
    result["spec"]["template"]["spec"]["containers"][0]["name"] = "changed"
    result["spec"]["template"]["spec"]["tolerations"].append(DEDICATED)
    assert obj["spec"]["template"]["spec"]["containers"][0]["name"] == "server"
    assert INJECTED.tolerations == [GPU_TOLERATION]


def test_applied_keeps_existing_affinity_beside_the_injected() -> None:
    preferred = [
        {
            "weight": 10,
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
    obj = deployment(
        pod_spec(affinity={"nodeAffinity": {PREFERRED: preferred}, "podAntiAffinity": anti})
    )
    result = applied(obj, injections(request(obj), model(), CTX))
    assert result["spec"]["template"]["spec"]["affinity"] == {
        "nodeAffinity": {PREFERRED: preferred, **PINNED_AFFINITY["nodeAffinity"]},
        "podAntiAffinity": anti,
    }


def test_applied_of_nothing_is_an_equal_copy() -> None:
    obj = deployment()
    result = applied(obj, [])
    assert result == obj
    assert result is not obj


def test_applied_cronjob_and_inference_service() -> None:
    job = cronjob()
    result = applied(job, injections(request(job, "CronJob", "cronjobs"), model(), CTX))
    expected = copy.deepcopy(job)
    tmpl = expected["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    tmpl["affinity"] = PINNED_AFFINITY
    tmpl["tolerations"] = [GPU_TOLERATION]
    assert result == expected

    isvc = inference_service()
    req = request(isvc, "InferenceService", "inferenceservices")
    result = applied(isvc, injections(req, model(), CTX))
    expected = copy.deepcopy(isvc)
    expected["spec"]["predictor"]["affinity"] = PINNED_AFFINITY
    expected["spec"]["predictor"]["tolerations"] = [GPU_TOLERATION]
    expected["spec"]["transformer"]["affinity"] = PINNED_AFFINITY
    assert result == expected


@pytest.mark.parametrize(
    ("obj", "kind", "resource"),
    [
        (deployment(), "Deployment", "deployments"),
        (deployment(pod_spec(tolerations=[DEDICATED])), "Deployment", "deployments"),
        (cronjob(), "CronJob", "cronjobs"),
        (inference_service(), "InferenceService", "inferenceservices"),
    ],
)
def test_injected_object_passes_placement_and_is_stable(
    obj: dict[str, Any], kind: str, resource: str
) -> None:
    pin = CTX.policies["pin-eu"]
    workload = parse_workload(obj)
    before, _ = placement_violations(workload, pin, FLEET)
    assert before, "the object as written could land outside the pools"
    result = applied(obj, injections(request(obj, kind, resource), model(), CTX))
    assert placement_violations(parse_workload(result), pin, FLEET) == ([], [])
    again = dataclasses.replace(request(obj, kind, resource), object=result)
    assert injections(again, model(), CTX) == []
