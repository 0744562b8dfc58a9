"""Issue 8 end to end: the weights a workload serves and every way it reaches a GPU.

Real API server, real webhook, impersonated users: alice's vLLM and KServe workloads of an
approved model are admitted only when what they load is the model's pinned weights; pods
that reach GPUs without asking the scheduler are AI workloads.
"""

from __future__ import annotations

from typing import Any

import pytest
from tools.controlplane.operator import Operator
from tools.kubectl import Kube

from tests.e2e import governed, manifests
from tests.e2e.governed import ALICE

VLLM = "registry.example.com/serving/vllm@sha256:" + "1a" * 32
TGI = "ghcr.io/huggingface/text-generation-inference@sha256:" + "2b" * 32
HF = "meta-llama/Llama-3.1-8B-Instruct"
REV = "0e9e39f249a16976918f6564b8830bc894c89659"
WEIGHTS = "s3://models/llama-3.1-8b/"
C0 = "spec.template.spec.containers[0]"


@pytest.fixture
def ns(kube: Kube, operator: Operator, unique: str) -> str:
    name = kube.namespace(f"runs-{unique}", mode="enforce")
    governed.bind_personas(kube, name)
    return name


def _served_spec(**overrides: Any) -> dict[str, Any]:
    return governed.model_spec(
        artifacts=[
            {"name": "vllm", "image": VLLM},
            {"name": "tgi", "image": TGI},
            {"name": "base", "uri": f"hf://{HF}", "revision": REV},
            {"name": "weights", "uri": WEIGHTS, "digest": "sha256:" + "33" * 32},
        ],
        **overrides,
    )


@pytest.fixture
def llama(kube: Kube, ns: str) -> str:
    """An approved model whose weights are a pinned Hugging Face repo and an S3 copy."""
    governed.govern(kube, ns, "llama", _served_spec())
    return "llama"


def _server(
    ns: str, name: str, image: str = VLLM, gpus: int = 1, **container: Any
) -> dict[str, Any]:
    manifest = manifests.deployment(name, ns, gpus=gpus, model="llama", image=image)
    manifest["spec"]["template"]["spec"]["containers"][0].update(container)
    return manifest


def _refused(result: Any, code: str, path: str) -> None:
    assert not result.ok, "admitted"
    assert f"{code} at {path}" in result.stderr, result.stderr


def test_vllm_pinned_to_the_approved_revision_is_admitted_and_runs(
    kube: Kube, ns: str, llama: str
) -> None:
    result = kube.apply(
        _server(ns, "llama-vllm", args=["--model", HF, "--revision", REV]), user=ALICE
    )
    assert result.ok, result.stderr

    def running() -> bool:
        pods = kube.list("pods", ns, "app=llama-vllm")
        return len(pods) == 1 and pods[0]["status"].get("phase") == "Running"

    kube.wait_for(running, "the governed vLLM pod Running", 90)


def test_vllm_serving_another_model_is_refused_at_the_argument(
    kube: Kube, ns: str, llama: str
) -> None:
    result = kube.apply(
        _server(ns, "other", args=["--model", "some-org/unapproved-model", "--revision", REV]),
        user=ALICE,
    )
    _refused(result, "ArtifactNotApproved", f"{C0}.args[1]")
    assert "some-org/unapproved-model" in result.stderr


def test_vllm_positional_serve_and_unpinned_revision_are_refused(
    kube: Kube, ns: str, llama: str
) -> None:
    result = kube.apply(
        _server(ns, "serve", command=["vllm", "serve", "other/model"], args=["--model", HF]),
        user=ALICE,
    )
    _refused(result, "ArtifactNotApproved", f"{C0}.command[2]")
    result = kube.apply(_server(ns, "mutable", args=["--model", HF]), user=ALICE)
    _refused(result, "ArtifactNotApproved", f"{C0}.args[1]")
    assert "names no revision" in result.stderr


def test_vllm_without_a_model_argument_serves_its_default_and_is_refused(
    kube: Kube, ns: str, llama: str
) -> None:
    result = kube.apply(_server(ns, "bare"), user=ALICE)
    _refused(result, "ArtifactNotApproved", f"{C0}.args")
    assert "Qwen/Qwen3-0.6B" in result.stderr


def test_tgi_model_id_env_is_read(kube: Kube, ns: str, llama: str) -> None:
    env = [{"name": "MODEL_ID", "value": "some-org/unapproved-model"}]
    result = kube.apply(_server(ns, "tgi-other", image=TGI, env=env), user=ALICE)
    _refused(result, "ArtifactNotApproved", f"{C0}.env[0].value")
    env = [{"name": "MODEL_ID", "value": HF}, {"name": "REVISION", "value": REV}]
    result = kube.apply(_server(ns, "tgi-ok", image=TGI, env=env), user=ALICE)
    assert result.ok, result.stderr


def test_a_model_hidden_in_a_config_map_is_unresolved(kube: Kube, ns: str, llama: str) -> None:
    env = [{"name": "M", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "model"}}}]
    result = kube.apply(_server(ns, "hidden", args=["--model", "$(M)"], env=env), user=ALICE)
    _refused(result, "ModelReferenceUnresolved", f"{C0}.args[1]")


def _isvc(ns: str, storage: str) -> dict[str, Any]:
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "llama-isvc", "namespace": ns, "labels": {"aigov.io/model": "llama"}},
        "spec": {
            "predictor": {"model": {"modelFormat": {"name": "sklearn"}, "storageUri": storage}}
        },
    }


def test_inference_service_storage_uri_must_be_the_approved_weights(
    kube: Kube, ns: str, llama: str
) -> None:
    result = kube.apply(_isvc(ns, "s3://models/other-llm/"), user=ALICE)
    _refused(result, "ArtifactNotApproved", "spec.predictor.model.storageUri")
    result = kube.apply(_isvc(ns, WEIGHTS), user=ALICE)
    assert result.ok, result.stderr
    result = kube.apply(_isvc(ns, f"hf://{HF}"), user=ALICE)  # the Hub's main branch moves
    _refused(result, "ArtifactNotApproved", "spec.predictor.model.storageUri")
    result = kube.apply(_isvc(ns, f"hf://{HF}:{REV}"), user=ALICE)
    assert result.ok, result.stderr


def test_warn_mode_admits_other_weights_with_a_warning(
    kube: Kube, operator: Operator, unique: str
) -> None:
    ns = kube.namespace(f"runs-warn-{unique}", mode="warn")
    governed.bind_personas(kube, ns)
    governed.govern(kube, ns, "llama", _served_spec())
    result = kube.apply(_server(ns, "warned", args=["--model", "other/model"]), user=ALICE)
    assert result.ok, result.stderr
    assert f"ArtifactNotApproved at {C0}.args[1]" in result.stderr


# Every way to a GPU ------------------------------------------------------------------------


def _gpu_pod(ns: str, name: str, **spec: Any) -> dict[str, Any]:
    pod = manifests.pod(name, ns)
    pod["spec"].update(spec)
    return pod


def test_nvidia_visible_devices_all_without_a_model_is_ungoverned(kube: Kube, ns: str) -> None:
    pod = _gpu_pod(ns, "sneaky")
    pod["spec"]["containers"][0]["env"] = [{"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"}]
    result = kube.apply(pod, user=ALICE)
    _refused(result, "UngovernedWorkload", "metadata.labels")
    assert "NVIDIA_VISIBLE_DEVICES=all (spec.containers[0].env[0].value)" in result.stderr


def test_nvidia_runtime_class_without_a_model_is_ungoverned(kube: Kube, ns: str) -> None:
    runtime = {
        "apiVersion": "node.k8s.io/v1",
        "kind": "RuntimeClass",
        "metadata": {"name": "nvidia"},
        "handler": "nvidia",
    }
    assert kube.apply(runtime).ok
    result = kube.apply(_gpu_pod(ns, "runtime", runtimeClassName="nvidia"), user=ALICE)
    _refused(result, "UngovernedWorkload", "metadata.labels")
    assert "runtimeClassName nvidia (spec.runtimeClassName)" in result.stderr


def test_56_mig_slices_exceed_max_gpus_per_pod(kube: Kube, ns: str, unique: str) -> None:
    policy = {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "PlacementPolicy",
        "metadata": {"name": f"two-{unique}"},
        "spec": {
            "mode": "validate",
            "maxGPUsPerPod": 2,
            "nodePools": [
                {
                    "name": "h100-eu",
                    "nodeSelector": {"pool": "h100-eu"},
                    "tolerations": [manifests.GPU_TOLERATION],
                }
            ],
        },
    }
    assert kube.apply(policy).ok
    spec = _served_spec(riskClass="high", placementPolicy=f"two-{unique}")
    governed.govern(kube, ns, "llama", spec)
    deployment = _server(ns, "mig", gpus=0, args=["--model", HF, "--revision", REV])
    template = deployment["spec"]["template"]["spec"]
    template["nodeSelector"] = {"pool": "h100-eu"}
    template["tolerations"] = [manifests.GPU_TOLERATION]
    template["containers"][0]["resources"]["limits"] = {"nvidia.com/mig-1g.10gb": "56"}
    result = kube.apply(deployment, user=ALICE)
    _refused(result, "PlacementViolation", "spec.template.spec.containers")
    assert "asks for 56 nvidia.com/mig-1g.10gb" in result.stderr
    assert "at most 2 per pod" in result.stderr


def test_the_crd_pins_hub_weights_by_revision_and_others_by_digest(kube: Kube, ns: str) -> None:
    def artifacts(*weights: dict[str, Any]) -> dict[str, Any]:
        spec = governed.model_spec(artifacts=[{"name": "vllm", "image": VLLM}, *weights])
        return governed.model("crd-check", ns, spec)

    result = kube.apply(artifacts({"name": "w", "uri": f"hf://{HF}"}), user=ALICE)
    assert not result.ok
    assert "an hf:// artifact must carry revision" in result.stderr
    result = kube.apply(
        artifacts({"name": "w", "uri": WEIGHTS, "revision": REV, "digest": "sha256:" + "3" * 64}),
        user=ALICE,
    )
    assert not result.ok
    assert "revision pins hf:// artifacts only" in result.stderr
    result = kube.apply(
        artifacts({"name": "w", "uri": f"hf://{HF}", "revision": "main"}), user=ALICE
    )
    assert not result.ok
    assert "revision must be a full commit id" in result.stderr
    result = kube.apply(artifacts({"name": "w", "uri": f"hf://{HF}", "revision": REV}), user=ALICE)
    assert result.ok, result.stderr
