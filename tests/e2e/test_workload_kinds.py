"""Issue 8, kinds: every kind of the kinds table is judged on the object the user applies.

Stand-in CRDs (tests/e2e/manifests.py) make LeaderWorkerSet, JobSet, Ray, TrainJob,
NIMService and LLMInferenceService objects creatable without their operators; the real API
server sends each to the real webhook.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from tools.controlplane.operator import Operator
from tools.kubectl import Kube

from tests.e2e import governed, manifests
from tests.e2e.governed import ALICE, IMAGE

OTHER = "registry.example.com/other/server@sha256:" + "ef" * 32
HF = "meta-llama/Llama-3.1-8B-Instruct"
REV = "0e9e39f249a16976918f6564b8830bc894c89659"


@pytest.fixture
def ns(kube: Kube, operator: Operator, unique: str) -> str:
    name = kube.namespace(f"kinds-{unique}", mode="enforce")
    governed.bind_personas(kube, name)
    return name


@pytest.fixture
def approved(kube: Kube, ns: str) -> str:
    spec = governed.model_spec(
        artifacts=[
            {"name": "server", "image": IMAGE},
            {"name": "base", "uri": f"hf://{HF}", "revision": REV},
        ]
    )
    governed.govern(kube, ns, "m", spec)
    return "m"


def _template(model: str | None, image: str = IMAGE, gpus: int = 1) -> dict[str, Any]:
    labels = {"app": "x", **({"aigov.io/model": model} if model else {})}
    return {"metadata": {"labels": labels}, "spec": manifests.pod_spec(gpus, image)}


def _object(
    api_version: str, kind: str, ns: str, name: str, model: str | None, spec: dict[str, Any]
) -> dict[str, Any]:
    labels = {"aigov.io/model": model} if model else {}
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": spec,
    }


def _kinds(model: str | None, image: str = IMAGE) -> dict[str, tuple[dict[str, Any], str]]:
    """One object of each new kind, with the path where its (first) GPU container sits."""
    t = _template(model, image)
    container = manifests.container(1, image)
    return {
        "ReplicationController": (
            {"apiVersion": "v1", "kind": "ReplicationController",
             "spec": {"replicas": 1, "selector": {"app": "x"}, "template": t}},
            "spec.template.spec.containers[0]",
        ),
        "LeaderWorkerSet": (
            {"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet",
             "spec": {"replicas": 1, "leaderWorkerTemplate": {
                 "size": 2, "leaderTemplate": t, "workerTemplate": copy.deepcopy(t)}}},
            "spec.leaderWorkerTemplate.leaderTemplate.spec.containers[0]",
        ),
        "JobSet": (
            {"apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet",
             "spec": {"replicatedJobs": [{"name": "workers", "replicas": 1,
                                          "template": {"spec": {"template": t}}}]}},
            "spec.replicatedJobs[0].template.spec.template.spec.containers[0]",
        ),
        "RayCluster": (
            {"apiVersion": "ray.io/v1", "kind": "RayCluster",
             "spec": {"headGroupSpec": {"template": t},
                      "workerGroupSpecs": [{"groupName": "gpu", "template": copy.deepcopy(t)}]}},
            "spec.headGroupSpec.template.spec.containers[0]",
        ),
        "RayJob": (
            {"apiVersion": "ray.io/v1", "kind": "RayJob",
             "spec": {"entrypoint": "python train.py",
                      "rayClusterSpec": {"headGroupSpec": {"template": t}}}},
            "spec.rayClusterSpec.headGroupSpec.template.spec.containers[0]",
        ),
        "TrainJob": (
            {"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob",
             "spec": {"runtimeRef": {"name": "torch-distributed"},
                      "labels": t["metadata"]["labels"],
                      "trainer": {"image": image, "resourcesPerNode": container["resources"]}}},
            "spec.trainer",
        ),
        "NIMService": (
            {"apiVersion": "apps.nvidia.com/v1alpha1", "kind": "NIMService",
             "spec": {"image": {"repository": image.split("@", maxsplit=1)[0],
                                "tag": image.split("@")[1] if "@" in image else "latest"},
                      "labels": t["metadata"]["labels"], "resources": container["resources"]}},
            "spec",
        ),
    }  # fmt: skip


@pytest.mark.parametrize(
    "kind",
    ["ReplicationController", "LeaderWorkerSet", "JobSet", "RayCluster", "RayJob", "TrainJob",
     "NIMService"],
)  # fmt: skip
def test_a_gpu_workload_of_every_kind_names_its_model(kube: Kube, ns: str, kind: str) -> None:
    body, path = _kinds(None)[kind]
    result = kube.apply(_object(body["apiVersion"], kind, ns, "ungoverned", None, body["spec"]))
    assert not result.ok, f"{kind} without a model was admitted"
    assert "UngovernedWorkload" in result.stderr, result.stderr
    # The message names where the label goes: the object, and each pod template it holds.
    labels = path.replace(".spec.containers[0]", ".metadata.labels")
    where = f"({labels})" if labels.endswith(".metadata.labels") else "(metadata.labels)"
    assert where in result.stderr or f"{labels}," in result.stderr, result.stderr


@pytest.mark.parametrize(
    "kind", ["ReplicationController", "LeaderWorkerSet", "JobSet", "RayCluster", "NIMService"]
)
def test_every_kind_of_an_approved_model_is_admitted_and_other_images_refused(
    kube: Kube, ns: str, approved: str, kind: str
) -> None:
    body, path = _kinds(approved)[kind]
    good = _object(body["apiVersion"], kind, ns, f"{kind.lower()}-ok", approved, body["spec"])
    result = kube.apply(good, user=ALICE)
    assert result.ok, result.stderr
    other, _ = _kinds(approved, OTHER)[kind]
    bad = _object(body["apiVersion"], kind, ns, f"{kind.lower()}-bad", approved, other["spec"])
    result = kube.apply(bad, user=ALICE)
    assert not result.ok, f"{kind} with a foreign image was admitted"
    assert f"ArtifactNotApproved at {path}.image" in result.stderr, result.stderr


def test_a_replication_controllers_pods_run(kube: Kube, ns: str, approved: str) -> None:
    body, _ = _kinds(approved)["ReplicationController"]
    rc = _object("v1", "ReplicationController", ns, "rc", approved, body["spec"])
    assert kube.apply(rc, user=ALICE).ok

    def running() -> bool:
        pods = kube.list("pods", ns, "app=x")
        return bool(pods) and all(p["status"].get("phase") == "Running" for p in pods)

    kube.wait_for(running, "the ReplicationController's pod Running", 90)
    scaled = kube.run("scale", "rc", "rc", "-n", ns, "--replicas=2", user=ALICE)
    assert scaled.ok, scaled.stderr  # judged against the ReplicationController index
    kube.run("delete", "rc", "rc", "-n", ns, "--wait=false")  # give the GPUs back


def test_a_ray_service_loads_only_approved_weights(kube: Kube, ns: str, approved: str) -> None:
    def service(source: str) -> dict[str, Any]:
        config = {
            "applications": [
                {
                    "name": "llm",
                    "import_path": "ray.serve.llm:build_openai_app",
                    "args": {"llm_configs": [{"model_loading_config": {"model_source": source}}]},
                }
            ]
        }
        spec = {
            "serveConfigV2": yaml.safe_dump(config),
            "rayClusterConfig": {"headGroupSpec": {"template": _template(approved)}},
        }
        return _object("ray.io/v1", "RayService", ns, "llm", approved, spec)

    refused = kube.apply(service("other-org/unapproved-model"), user=ALICE)
    assert not refused.ok
    assert "ArtifactNotApproved at spec.serveConfigV2" in refused.stderr, refused.stderr


def test_a_train_job_initializer_model_is_matched(kube: Kube, ns: str, approved: str) -> None:
    spec = {
        "runtimeRef": {"name": "torch-distributed"},
        "labels": {"aigov.io/model": approved},
        "initializer": {"model": {"storageUri": "hf://other-org/unapproved-model"}},
        "trainer": {"image": IMAGE},
    }
    result = kube.apply(
        _object("trainer.kubeflow.org/v1alpha1", "TrainJob", ns, "tune", approved, spec),
        user=ALICE,
    )
    assert not result.ok
    assert "spec.initializer.model.storageUri" in result.stderr, result.stderr
