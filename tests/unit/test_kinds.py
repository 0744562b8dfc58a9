"""The kinds table and the parser it drives: every kind's pod templates and weight fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from aigov.api.kinds import Shape, workload_kinds
from aigov.policy.workload import ContainerKind, parse_workload

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "registry.example.com/llm@sha256:" + "a" * 64


def test_the_chart_renders_the_same_table() -> None:
    ours = (ROOT / "operator" / "aigov" / "data" / "kinds.yaml").read_text()
    charted = (ROOT / "charts" / "aigov" / "files" / "kinds.yaml").read_text()
    assert charted == ours, "cp operator/aigov/data/kinds.yaml charts/aigov/files/kinds.yaml"


def test_every_entry_says_where_its_pods_are() -> None:
    table = workload_kinds()
    assert len({(k.group, k.kind) for k in table.kinds}) == len(table.kinds)
    for entry in table.kinds:
        assert entry.plural == entry.plural.lower()
        if entry.shape is Shape.TEMPLATES:
            assert entry.templates, entry.kind
        if entry.shape is Shape.POD_SPECS:
            assert entry.pod_specs, entry.kind
        # A scale request is judged against an index of its kind: only kinds every
        # cluster serves can have one (an index of an absent CRD would never load).
        assert not (entry.optional and "scale" in entry.subresources), entry.kind
    assert table.named("lws") is table.by_kind("leaderworkerset.x-k8s.io", "LeaderWorkerSet")
    assert table.named("Deployments") is table.by_kind("apps", "Deployment")


def template(labels: dict[str, str] | None = None, image: str = IMAGE) -> dict[str, Any]:
    return {
        "metadata": {"labels": labels or {"aigov.io/model": "m"}},
        "spec": {"containers": [{"name": "c", "image": image}]},
    }


def obj(api_version: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}, "spec": spec}


def test_leader_worker_set_has_two_templates() -> None:
    workload = parse_workload(
        obj("leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet",
            {"leaderWorkerTemplate": {"leaderTemplate": template(), "workerTemplate": template()}})
    )  # fmt: skip
    assert [t.path for t in workload.templates] == [
        "spec.leaderWorkerTemplate.leaderTemplate.spec",
        "spec.leaderWorkerTemplate.workerTemplate.spec",
    ]
    assert all(t.model == "m" for t in workload.templates)


def test_a_list_of_templates_is_walked_item_by_item() -> None:
    jobs = [{"name": f"j{i}", "template": {"spec": {"template": template()}}} for i in range(2)]
    workload = parse_workload(obj("jobset.x-k8s.io/v1alpha2", "JobSet", {"replicatedJobs": jobs}))
    assert [t.path for t in workload.templates] == [
        "spec.replicatedJobs[0].template.spec.template.spec",
        "spec.replicatedJobs[1].template.spec.template.spec",
    ]
    assert workload.templates[1].containers[0].image_path == (
        "spec.replicatedJobs[1].template.spec.template.spec.containers[0].image"
    )


def test_a_train_job_is_one_container_and_its_initializer_names_weights() -> None:
    spec = {
        "labels": {"aigov.io/model": "m"},
        "trainer": {"image": IMAGE, "resourcesPerNode": {"limits": {"nvidia.com/gpu": "8"}}},
        "initializer": {"model": {"storageUri": "hf://org/name"}},
    }
    workload = parse_workload(obj("trainer.kubeflow.org/v1alpha1", "TrainJob", spec))
    (pod,) = workload.templates
    assert pod.model == "m"
    trainer, model = pod.containers
    assert (trainer.path, trainer.image) == ("spec.trainer", IMAGE)
    assert trainer.resources.limits == {"nvidia.com/gpu": "8"}
    assert model.kind is ContainerKind.MODEL
    assert (model.path, model.storage_field, model.storage_uri) == (
        "spec.initializer.model",
        "storageUri",
        "hf://org/name",
    )
    assert workload.is_serving


NIM = "nvcr.io/nim/meta/llama3-8b"
DIGEST = "sha256:" + "b" * 64


@pytest.mark.parametrize(
    ("tag", "image"),
    [("1.8.3", f"{NIM}:1.8.3"), (DIGEST, f"{NIM}@{DIGEST}")],
    ids=["tag", "digest"],
)
def test_a_nim_service_image_is_repository_and_tag(tag: str, image: str) -> None:
    spec = {
        "image": {"repository": "nvcr.io/nim/meta/llama3-8b", "tag": tag},
        "nodeSelector": {"pool": "h100-eu"},
    }
    workload = parse_workload(obj("apps.nvidia.com/v1alpha1", "NIMService", spec))
    (pod,) = workload.templates
    assert pod.containers[0].image == image
    assert pod.containers[0].image_path == "spec.image"
    assert pod.node_selector == {"pool": "h100-eu"}


def test_an_llm_inference_service_model_uri_is_a_weight_field() -> None:
    spec = {"model": {"uri": "hf://org/name"}, "template": {"containers": [{"name": "main"}]}}
    workload = parse_workload(obj("serving.kserve.io/v1alpha1", "LLMInferenceService", spec))
    (pod,) = workload.templates
    assert pod.path == "spec.template"
    model = pod.containers[-1]
    assert (model.path, model.storage_field, model.storage_uri) == (
        "spec.model",
        "uri",
        "hf://org/name",
    )


def test_a_ray_service_serve_config_names_each_model_source() -> None:
    config = {
        "applications": [
            {"args": {"llm_configs": [{"model_loading_config": {"model_source": "org/a"}},
                                      {"model_loading_config": {"model_source": "org/b"}}]}}
        ]
    }  # fmt: skip
    spec = {
        "serveConfigV2": yaml.safe_dump(config),
        "rayClusterConfig": {"headGroupSpec": {"template": template()}},
    }
    workload = parse_workload(obj("ray.io/v1", "RayService", spec))
    models = [c for c in workload.templates[0].containers if c.kind is ContainerKind.MODEL]
    assert [(m.path, m.storage_field, m.storage_uri) for m in models] == [
        ("spec.serveConfigV2", "", "org/a"),
        ("spec.serveConfigV2", "", "org/b"),
    ]


def test_a_serve_config_that_does_not_parse_names_nothing() -> None:
    spec = {
        "serveConfigV2": "applications: [unclosed",
        "rayClusterConfig": {"headGroupSpec": {"template": template()}},
    }
    workload = parse_workload(obj("ray.io/v1", "RayService", spec))
    assert all(c.kind is not ContainerKind.MODEL for c in workload.templates[0].containers)


def test_a_kind_outside_the_table_has_no_templates() -> None:
    assert parse_workload(obj("example.com/v1", "Widget", {"template": template()})).templates == ()
