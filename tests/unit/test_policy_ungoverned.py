"""Rule UngovernedWorkload: AI workloads name their model, on the object and its templates."""

from __future__ import annotations

from typing import Any

import pytest

from aigov.api.constants import Reason
from aigov.policy.ungoverned import check_model_named, is_ai_workload, model_name
from aigov.policy.workload import parse_workload

GPU = {"name": "srv", "image": "srv", "resources": {"limits": {"nvidia.com/gpu": "1"}}}
CPU = {"name": "web", "image": "web", "resources": {"limits": {"cpu": "1"}}}
ISVC = "serving.kserve.io/v1beta1"


def deployment(container: dict[str, Any], labels: Any = None, tmpl_labels: Any = None) -> Any:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "llm", "namespace": "team-a", "labels": labels or {}},
        "spec": {
            "template": {
                "metadata": {"labels": tmpl_labels or {}},
                "spec": {"containers": [container]},
            }
        },
    }


def model(name: str) -> dict[str, str]:
    return {"aigov.io/model": name}


def test_gpu_deployment_naming_no_model_is_refused_with_a_fix() -> None:
    (violation,) = check_model_named(parse_workload(deployment(GPU)))
    assert violation.code is Reason.UNGOVERNED_WORKLOAD
    assert violation.path == "metadata.labels"
    assert violation.message == (
        "Deployment team-a/llm requests nvidia.com/gpu but names no GovernedModel: "
        "add label aigov.io/model=<model name> to the Deployment (metadata.labels) "
        "and its pod template (spec.template.metadata.labels)"
    )


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (
            {"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [GPU]}},
            "requests nvidia.com/gpu",
        ),
        (
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "spec": {"containers": [{"resources": {"limits": {"amd.com/gpu": 1}}}]},
            },
            "requests amd.com/gpu",
        ),
        (
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "spec": {"resourceClaims": [{"name": "gpu"}], "containers": [CPU]},
            },
            'requests DRA resource claim "gpu"',
        ),
        (
            {"apiVersion": ISVC, "kind": "InferenceService", "spec": {"predictor": {"model": {}}}},
            "is a model-serving or training resource",
        ),
        (
            {"apiVersion": ISVC, "kind": "InferenceService", "spec": None},
            "is a model-serving or training resource",
        ),
        (
            deployment(CPU, tmpl_labels=model("m")),
            "names GovernedModel m only in spec.template.metadata.labels",
        ),
    ],
)
def test_ai_workloads_naming_no_model(body: Any, why: str) -> None:
    workload = parse_workload(body)
    assert is_ai_workload(workload)
    (violation,) = check_model_named(workload)
    assert violation.code is Reason.UNGOVERNED_WORKLOAD
    assert violation.path == "metadata.labels"
    assert f" {why} but names no GovernedModel" in violation.message


def test_pod_message_points_at_its_own_labels_only() -> None:
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"generateName": "llm-"},
        "spec": {"containers": [GPU]},
    }
    (violation,) = check_model_named(parse_workload(body))
    assert violation.message.endswith("to the Pod (metadata.labels)")
    assert violation.message.startswith("Pod llm-* requests")


@pytest.mark.parametrize(
    "body",
    [
        deployment(CPU),
        {"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [CPU]}},
        {"apiVersion": "v1", "kind": "Pod", "spec": None},
        {"apiVersion": "autoscaling/v1", "kind": "Scale", "spec": {"replicas": 50}},
        {"apiVersion": "v1", "kind": "ConfigMap", "data": {"nvidia.com/gpu": "1"}},
        deployment({"resources": {"limits": {"nvidia.com/gpu": 0}}}),
        deployment(CPU, labels=model(""), tmpl_labels=model("")),
    ],
)
def test_cpu_workloads_naming_no_model_pass(body: Any) -> None:
    workload = parse_workload(body)
    assert not is_ai_workload(workload)
    assert check_model_named(workload) == []


@pytest.mark.parametrize("container", [GPU, CPU])
def test_object_and_template_naming_the_same_model_pass(container: dict[str, Any]) -> None:
    workload = parse_workload(deployment(container, model("m"), model("m")))
    assert model_name(workload) == "m"
    assert is_ai_workload(workload)
    assert check_model_named(workload) == []


def test_template_naming_no_model_is_reported_at_the_template() -> None:
    (violation,) = check_model_named(parse_workload(deployment(GPU, labels=model("m"))))
    assert violation.code is Reason.UNGOVERNED_WORKLOAD
    assert violation.path == "spec.template.metadata.labels"
    assert "add label aigov.io/model=m to spec.template.metadata.labels" in violation.message


def test_template_naming_another_model_is_reported() -> None:
    body = deployment(CPU, labels=model("approved"), tmpl_labels=model("other"))
    (violation,) = check_model_named(parse_workload(body))
    assert violation.path == "spec.template.metadata.labels"
    assert violation.message.startswith(
        "Deployment team-a/llm names GovernedModel approved but its pod template names other"
    )


def test_cronjob_template_path() -> None:
    body = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "train", "labels": model("m")},
        "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [GPU]}}}}},
    }
    (violation,) = check_model_named(parse_workload(body))
    assert violation.path == "spec.jobTemplate.spec.template.metadata.labels"


def test_cronjob_naming_no_model_points_at_nested_template() -> None:
    body = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "train", "namespace": "ml"},
        "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [GPU]}}}}},
    }
    (violation,) = check_model_named(parse_workload(body))
    assert violation.message.endswith(
        "and its pod template (spec.jobTemplate.spec.template.metadata.labels)"
    )


def test_inference_service_labels_reach_its_components() -> None:
    spec = {"predictor": {"model": {}}, "transformer": {"containers": [CPU]}}
    body = {
        "apiVersion": ISVC,
        "kind": "InferenceService",
        "metadata": {"labels": model("m")},
        "spec": spec,
    }
    assert check_model_named(parse_workload(body)) == []


@pytest.mark.parametrize("override", ["other", ""])
def test_inference_service_component_overriding_the_model_is_reported(override: str) -> None:
    spec = {"predictor": {"labels": model(override), "model": {}}}
    body = {
        "apiVersion": ISVC,
        "kind": "InferenceService",
        "metadata": {"labels": model("m")},
        "spec": spec,
    }
    (violation,) = check_model_named(parse_workload(body))
    assert violation.path == "spec.predictor.labels"


def test_pod_naming_a_model_passes_without_gpu() -> None:
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": model("m")}, "spec": {}}
    workload = parse_workload(body)
    assert is_ai_workload(workload)
    assert check_model_named(workload) == []


def test_model_name_is_none_without_label() -> None:
    assert model_name(parse_workload(deployment(GPU))) is None


def test_model_named_only_in_template_suggests_that_model() -> None:
    (violation,) = check_model_named(parse_workload(deployment(GPU, tmpl_labels=model("m"))))
    assert "add label aigov.io/model=m to the Deployment (metadata.labels)" in violation.message


@pytest.mark.parametrize(
    ("spec", "phrase"),
    [
        (
            {
                "containers": [
                    {"name": "c", "env": [{"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"}]}
                ]
            },
            "reaches GPUs through env NVIDIA_VISIBLE_DEVICES=all (spec.containers[0].env[0].value)",
        ),
        (
            {"runtimeClassName": "nvidia", "containers": [{"name": "c"}]},
            "reaches GPUs through runtimeClassName nvidia (spec.runtimeClassName)",
        ),
        (
            {"containers": [{"name": "c", "securityContext": {"privileged": True}}]},
            "reaches GPUs through a privileged container "
            "(spec.containers[0].securityContext.privileged)",
        ),
    ],
)
def test_gpus_without_a_request_make_an_ai_workload(spec: dict[str, Any], phrase: str) -> None:
    workload = parse_workload(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}
    )
    assert is_ai_workload(workload)
    (violation,) = check_model_named(workload)
    assert violation.code is Reason.UNGOVERNED_WORKLOAD
    assert f"Pod p {phrase} but names no GovernedModel" in violation.message


def test_requests_and_other_routes_are_both_named() -> None:
    container = {**GPU, "env": [{"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"}]}
    (violation,) = check_model_named(parse_workload(deployment(container)))
    assert "requests nvidia.com/gpu and reaches GPUs through env NVIDIA_VISIBLE_DEVICES=all" in (
        violation.message
    )
