"""Weights a workload loads must be the model's pinned artifacts; the unknown is refused."""

from __future__ import annotations

from typing import Any

import pytest
from builders import HEX64, deployment, governed_model, model_spec

from aigov.api.constants import Reason
from aigov.api.models import GovernedModel
from aigov.policy.references import resolve
from aigov.policy.weights import reference_violations
from aigov.policy.workload import parse_workload

REV = "0123456789abcdef0123456789abcdef01234567"
OTHER_REV = "f" * 40
VLLM = "vllm/vllm-openai@sha256:" + "b" * 64
C0 = "spec.template.spec.containers[0]"
DIGEST = f"sha256:{HEX64}"


def served(*artifacts: dict[str, Any]) -> GovernedModel:
    base = [{"name": "server", "image": VLLM}]
    return governed_model(model_spec(artifacts=base + list(artifacts)))


HF_MODEL = served(
    {"name": "weights", "uri": "hf://meta-llama/Llama-3.1-8B-Instruct", "revision": REV}
)


def violations(
    container: dict[str, Any], gm: GovernedModel = HF_MODEL, **pod: Any
) -> list[tuple[Reason, str, str]]:
    body = deployment({"containers": [container], **pod})
    found = reference_violations(resolve(parse_workload(body)), gm)
    return [(v.code, v.path, v.message) for v in found]


def vllm(*args: str, **fields: Any) -> dict[str, Any]:
    return {"name": "vllm", "image": VLLM, "args": list(args), **fields}


def test_the_approved_model_at_its_revision_passes_in_any_spelling() -> None:
    for name in ("meta-llama/Llama-3.1-8B-Instruct", "hf://meta-llama/llama-3.1-8b-instruct",
                 "https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct"):  # fmt: skip
        assert violations(vllm("--model", name, "--revision", REV)) == [], name
    assert violations(vllm("--model=meta-llama/Llama-3.1-8B-Instruct", f"--revision={REV}")) == []


def test_another_model_is_not_approved_at_its_argument() -> None:
    ((code, path, message),) = violations(vllm("--model", "some-org/unapproved", "--revision", REV))
    assert (code, path) == (Reason.ARTIFACT_NOT_APPROVED, f"{C0}.args[1]")
    assert "vLLM --model 'some-org/unapproved'" in message
    assert "hf://meta-llama/Llama-3.1-8B-Instruct@" + REV in message


def test_the_engine_default_is_not_approved() -> None:
    ((code, path, message),) = violations(vllm())
    assert (code, path) == (Reason.ARTIFACT_NOT_APPROVED, f"{C0}.args")
    assert "vLLM default model 'Qwen/Qwen3-0.6B'" in message


def test_a_hub_name_without_revision_is_mutable() -> None:
    ((code, path, message),) = violations(vllm("--model", "meta-llama/Llama-3.1-8B-Instruct"))
    assert (code, path) == (Reason.ARTIFACT_NOT_APPROVED, f"{C0}.args[1]")
    assert "names no revision" in message
    assert REV in message


def test_another_revision_is_refused_at_the_revision() -> None:
    ((code, path, message),) = violations(
        vllm("--model", "meta-llama/Llama-3.1-8B-Instruct", "--revision", OTHER_REV)
    )
    assert (code, path) == (Reason.ARTIFACT_NOT_APPROVED, f"{C0}.args[3]")
    assert f"not the approved commit {REV}" in message


def test_tgi_env_model_and_revision() -> None:
    tgi = {
        "name": "tgi",
        "image": VLLM.replace("vllm/vllm-openai", "ghcr.io/huggingface/text-generation-inference"),
        "env": [{"name": "MODEL_ID", "value": "other/model"}, {"name": "REVISION", "value": REV}],
    }
    ((code, path, _),) = violations(tgi)
    assert (code, path) == (Reason.ARTIFACT_NOT_APPROVED, f"{C0}.env[0].value")


def test_unresolved_places_are_their_own_reason() -> None:
    env = [{"name": "M", "valueFrom": {"secretKeyRef": {"name": "s", "key": "m"}}}]
    ((code, path, message),) = violations(vllm("--model", "$(M)", env=env))
    assert (code, path) == (Reason.MODEL_REFERENCE_UNRESOLVED, f"{C0}.args[1]")
    assert "never lets unidentified weights run" in message


WEIGHTS = served(
    {"name": "pvc", "uri": "pvc://llama-weights/llama-3", "digest": DIGEST},
    {"name": "oci", "uri": "oci://reg.example.com/weights/llama@" + DIGEST},
    {"name": "s3", "uri": "s3://models/llama/", "digest": DIGEST},
)


@pytest.mark.parametrize(
    ("volume", "mount_path", "model", "ok"),
    [
        (
            {"persistentVolumeClaim": {"claimName": "llama-weights"}},
            "/models",
            "/models/llama-3",
            True,
        ),
        (
            {"persistentVolumeClaim": {"claimName": "llama-weights"}},
            "/models",
            "/models/llama-3/sub",
            True,
        ),
        (
            {"persistentVolumeClaim": {"claimName": "llama-weights"}},
            "/models",
            "/models/other",
            False,
        ),
        ({"persistentVolumeClaim": {"claimName": "scratch"}}, "/models", "/models/llama-3", False),
        (
            {"image": {"reference": "reg.example.com/weights/llama@" + DIGEST}},
            "/models",
            "/models/x",
            True,
        ),
        (
            {"image": {"reference": "reg.example.com/weights/llama:latest"}},
            "/models",
            "/models/x",
            False,
        ),
        (
            {"image": {"reference": "reg.example.com/weights/other@" + DIGEST}},
            "/models",
            "/models/x",
            False,
        ),
    ],
)
def test_local_paths_through_volumes(
    volume: dict[str, Any], mount_path: str, model: str, ok: bool
) -> None:
    container = vllm("--model", model, volumeMounts=[{"name": "w", "mountPath": mount_path}])
    found = violations(container, WEIGHTS, volumes=[{"name": "w", **volume}])
    assert (found == []) is ok, found
    if not ok:
        assert found[0][:2] == (Reason.ARTIFACT_NOT_APPROVED, f"{C0}.args[1]")


def test_a_path_inside_the_image_is_covered_by_the_image() -> None:
    assert violations(vllm("--model", "/opt/models/baked-in"), WEIGHTS) == []


def test_store_uris_and_directories_under_them() -> None:
    assert violations(vllm("--model", "s3://models/llama"), WEIGHTS) == []
    assert violations(vllm("--model", "s3://models/llama/shard-1"), WEIGHTS) == []
    ((code, _, _),) = violations(vllm("--model", "s3://models/llama-evil"), WEIGHTS)
    assert code is Reason.ARTIFACT_NOT_APPROVED


def test_an_oci_reference_needs_a_digest() -> None:
    ((_, _, message),) = violations(
        vllm("--model", "oci://reg.example.com/weights/llama:v1"), WEIGHTS
    )
    assert "not pinned by digest" in message
    assert (
        violations(vllm("--model", "oci://reg.example.com/weights/llama@" + DIGEST), WEIGHTS) == []
    )


def test_hugging_face_artifacts_are_pinned_by_revision_for_lineage() -> None:
    pinned = served({"name": "w", "uri": "hf://org/name", "revision": REV})
    assert pinned.spec.lineage_problems() == []
    loose = served({"name": "w", "uri": "hf://org/name"})
    (problem,) = loose.spec.lineage_problems()
    assert problem.path == "spec.artifacts[1].revision"
    assert "no commit revision" in problem.message
    branch = served({"name": "w", "uri": "hf://org/name", "revision": "main"})
    assert [p.path for p in branch.spec.lineage_problems()] == ["spec.artifacts[1].revision"]
