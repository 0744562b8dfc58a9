"""parse_workload: every covered kind, field paths, and garbage that must not raise."""

from __future__ import annotations

from typing import Any

import pytest

from aigov.policy.workload import ContainerKind, MalformedWorkload, Workload, parse_workload

GPU_CONTAINER = {
    "name": "srv",
    "image": "reg/srv@sha256:ab",
    "resources": {"limits": {"nvidia.com/gpu": 1}},
}
POD_SPEC = {"containers": [GPU_CONTAINER]}
ISVC = "serving.kserve.io/v1beta1"
MODEL = {"aigov.io/model": "m"}
TEMPLATE = {"metadata": {"labels": {"aigov.io/model": "m"}}, "spec": POD_SPEC}


def obj(kind: str, api_version: str, spec: Any, **meta: Any) -> dict[str, Any]:
    metadata = {"name": "llm", "namespace": "team-a", **meta}
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec}


@pytest.mark.parametrize(
    ("kind", "api_version", "spec", "pod_path", "labels_path"),
    [
        ("Pod", "v1", POD_SPEC, "spec", "metadata.labels"),
        (
            "Deployment",
            "apps/v1",
            {"template": TEMPLATE},
            "spec.template.spec",
            "spec.template.metadata.labels",
        ),
        (
            "StatefulSet",
            "apps/v1",
            {"template": TEMPLATE},
            "spec.template.spec",
            "spec.template.metadata.labels",
        ),
        (
            "DaemonSet",
            "apps/v1",
            {"template": TEMPLATE},
            "spec.template.spec",
            "spec.template.metadata.labels",
        ),
        (
            "ReplicaSet",
            "apps/v1",
            {"template": TEMPLATE},
            "spec.template.spec",
            "spec.template.metadata.labels",
        ),
        (
            "ReplicationController",
            "v1",
            {"template": TEMPLATE},
            "spec.template.spec",
            "spec.template.metadata.labels",
        ),
        (
            "Job",
            "batch/v1",
            {"template": TEMPLATE},
            "spec.template.spec",
            "spec.template.metadata.labels",
        ),
        (
            "CronJob",
            "batch/v1",
            {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": TEMPLATE}}},
            "spec.jobTemplate.spec.template.spec",
            "spec.jobTemplate.spec.template.metadata.labels",
        ),
        (
            "InferenceService",
            "serving.kserve.io/v1beta1",
            {"predictor": POD_SPEC},
            "spec.predictor",
            "spec.predictor.labels",
        ),
    ],
)
def test_every_kind_yields_its_pod_spec_with_paths(
    kind: str, api_version: str, spec: Any, pod_path: str, labels_path: str
) -> None:
    workload = parse_workload(obj(kind, api_version, spec, labels={"aigov.io/model": "m"}))
    (template,) = workload.templates
    assert template.path == pod_path
    assert template.labels_path == labels_path
    assert template.model == "m"
    (container,) = template.containers
    assert container.path == f"{pod_path}.containers[0]"
    assert container.image_path == f"{pod_path}.containers[0].image"
    assert container.name == "srv"
    assert container.image == "reg/srv@sha256:ab"
    assert container.resources.limits == {"nvidia.com/gpu": 1}


def test_metadata_is_read() -> None:
    workload = parse_workload(
        obj(
            "Deployment",
            "apps/v1",
            {"replicas": 3},
            labels={"aigov.io/model": " m "},
            annotations={"a": "b"},
        )
    )
    assert (workload.kind, workload.api_version, workload.group) == (
        "Deployment",
        "apps/v1",
        "apps",
    )
    assert (workload.namespace, workload.name, workload.ref) == ("team-a", "llm", "team-a/llm")
    assert workload.model == "m"
    assert workload.annotations == {"a": "b"}
    assert workload.replicas == 3


def test_generate_name_shows_in_ref() -> None:
    workload = parse_workload(
        {"kind": "Pod", "apiVersion": "v1", "metadata": {"generateName": "llm-"}}
    )
    assert workload.name is None
    assert workload.generate_name == "llm-"
    assert workload.ref == "llm-*"


def test_pod_containers_of_every_kind_with_paths() -> None:
    spec = {
        "initContainers": [{"name": "fetch", "image": "i", "restartPolicy": "Always"}],
        "containers": [{"name": "a", "image": "a"}, {"name": "b", "image": "b"}],
        "ephemeralContainers": [{"name": "debugger", "image": "busybox"}],
        "nodeName": "gpu-node-1",
        "nodeSelector": {"pool": "h200"},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists"}, "junk"],
        "resourceClaims": [{"name": "gpu", "resourceClaimTemplateName": "single-gpu"}],
    }
    (template,) = parse_workload(obj("Pod", "v1", spec, labels={"x": "y"})).templates
    assert template.labels == {"x": "y"}
    assert template.inherits_labels
    assert [c.path for c in template.all_containers] == [
        "spec.containers[0]",
        "spec.containers[1]",
        "spec.initContainers[0]",
        "spec.ephemeralContainers[0]",
    ]
    assert [c.kind for c in template.all_containers] == [
        ContainerKind.CONTAINER,
        ContainerKind.CONTAINER,
        ContainerKind.INIT,
        ContainerKind.EPHEMERAL,
    ]
    assert template.init_containers[0].is_sidecar
    assert template.node_name == "gpu-node-1"
    assert template.node_selector == {"pool": "h200"}
    assert template.tolerations == ({"key": "nvidia.com/gpu", "operator": "Exists"},)
    assert [(c.name, c.path) for c in template.resource_claims] == [
        ("gpu", "spec.resourceClaims[0]")
    ]


def test_ephemeral_containers_subresource_body_is_a_pod() -> None:
    body = obj(
        "Pod",
        "v1",
        {
            "containers": [GPU_CONTAINER],
            "ephemeralContainers": [{"name": "debugger-x", "image": "busybox:latest"}],
        },
    )
    (template,) = parse_workload(body).templates
    (debugger,) = template.ephemeral_containers
    assert debugger.image_path == "spec.ephemeralContainers[0].image"
    assert debugger.image == "busybox:latest"


def test_inference_service_components_models_and_workers() -> None:
    spec = {
        "predictor": {
            "labels": {"team": "x"},
            "model": {
                "modelFormat": {"name": "huggingface"},
                "storageUri": "s3://models/llm",
                "runtime": "vllm",
                "resources": {"limits": {"nvidia.com/gpu": "2"}},
            },
            "containers": [{"name": "sidecar", "image": "proxy"}],
            "workerSpec": {"containers": [{"name": "worker", "image": "w"}]},
        },
        "transformer": {"containers": [{"name": "t", "image": "t"}]},
        "explainer": {"alibi": {"type": "AnchorTabular", "storageUri": "gs://e"}},
    }
    workload = parse_workload(obj("InferenceService", ISVC, spec, labels=MODEL))
    assert workload.is_inference_service
    assert [t.path for t in workload.templates] == [
        "spec.predictor",
        "spec.predictor.workerSpec",
        "spec.transformer",
        "spec.explainer",
    ]
    predictor = workload.templates[0]
    assert predictor.labels == {"aigov.io/model": "m", "team": "x"}
    assert predictor.inherits_labels
    sidecar, model = predictor.containers
    assert sidecar.path == "spec.predictor.containers[0]"
    assert (model.kind, model.path) == (ContainerKind.MODEL, "spec.predictor.model")
    assert model.storage_uri == "s3://models/llm"
    assert model.image is None
    assert model.resources.limits == {"nvidia.com/gpu": "2"}
    assert workload.templates[1].containers[0].path == "spec.predictor.workerSpec.containers[0]"
    assert workload.templates[1].model == "m"
    assert workload.templates[3].containers[0].path == "spec.explainer.alibi"


def test_inference_service_component_labels_override_the_object() -> None:
    spec = {"predictor": {"labels": {"aigov.io/model": "other"}, "model": {}}}
    workload = parse_workload(obj("InferenceService", ISVC, spec, labels=MODEL))
    assert workload.model == "m"
    assert workload.templates[0].model == "other"


def test_scale_exposes_replicas_and_no_template() -> None:
    scale = obj("Scale", "autoscaling/v1", {"replicas": 8})
    workload = parse_workload(scale)
    assert workload.replicas == 8
    assert workload.templates == ()


@pytest.mark.parametrize(
    "body",
    [
        obj("Widget", "example.com/v1", {"template": TEMPLATE}),
        obj("Deployment", "example.com/v1", {"template": TEMPLATE}),
        obj("Pod", "example.com/v1", POD_SPEC),
    ],
)
def test_unknown_kinds_have_no_templates(body: dict[str, Any]) -> None:
    assert parse_workload(body).templates == ()


def test_missing_api_version_still_finds_known_kinds() -> None:
    body = {"kind": "Deployment", "spec": {"template": TEMPLATE}}
    assert [t.path for t in parse_workload(body).templates] == ["spec.template.spec"]


@pytest.mark.parametrize(
    "body", [None, [], "Pod", 3, {}, {"kind": None}, {"kind": ""}, {"kind": 7}]
)
def test_malformed_only_without_mapping_or_kind(body: Any) -> None:
    with pytest.raises(MalformedWorkload):
        parse_workload(body)


@pytest.mark.parametrize(
    "spec",
    [
        None,
        "spec",
        [],
        {"template": None},
        {"template": "t"},
        {"template": {"metadata": None, "spec": None}},
        {"template": {"metadata": {"labels": None}, "spec": {"containers": None}}},
        {"template": {"metadata": {"labels": ["a"]}, "spec": {"containers": "c"}}},
        {"template": {"spec": {"containers": {"name": "c"}}}},
        {"template": {"spec": {"containers": [None, 3, "x", []]}}},
    ],
)
def test_garbage_is_absent_never_an_error(spec: Any) -> None:
    workload = parse_workload(obj("Deployment", "apps/v1", spec))
    assert all(t.all_containers == () for t in workload.templates)


@pytest.mark.parametrize(
    "container",
    [
        {"name": 3, "image": None, "resources": "lots"},
        {"resources": None},
        {"resources": {"requests": "1", "limits": ["nvidia.com/gpu"]}},
        {"resources": {"limits": {"nvidia.com/gpu": None, "cpu": True, "x": {"y": 1}}}},
        {"resources": {"claims": "gpu"}},
    ],
)
def test_garbage_container_fields_are_absent(container: dict[str, Any]) -> None:
    (template,) = parse_workload(obj("Pod", "v1", {"containers": [container]})).templates
    (parsed,) = template.containers
    assert (parsed.name, parsed.image) == (None, None)
    assert parsed.resources.requests == {}
    assert parsed.resources.limits == {}
    assert parsed.resources.claims == ()


def test_garbage_entries_keep_the_real_index_in_paths() -> None:
    (template,) = parse_workload(
        obj("Pod", "v1", {"containers": ["junk", {"name": "real"}]})
    ).templates
    assert [c.path for c in template.containers] == ["spec.containers[1]"]


def test_garbage_metadata_and_replicas() -> None:
    body = {
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "metadata": {"name": 5, "namespace": None, "labels": {"aigov.io/model": 3, "ok": "v"}},
        "spec": {"replicas": True},
    }
    workload: Workload = parse_workload(body)
    assert (workload.name, workload.namespace, workload.model) == (None, None, None)
    assert workload.labels == {"ok": "v"}
    assert workload.replicas is None
    assert workload.ref == "<unnamed>"


def test_empty_model_label_names_no_model() -> None:
    assert parse_workload(obj("Pod", "v1", {}, labels={"aigov.io/model": ""})).model is None


# What a container runs and sees: command, args, env, mounts, volumes ----------------------


def test_command_args_env_mounts_and_volumes_are_read_with_their_paths() -> None:
    container = {
        "name": "srv",
        "image": "vllm/vllm-openai:v0.9",
        "command": ["vllm", "serve", 7],
        "args": ["--model", "org/name"],
        "env": [
            {"name": "MODEL_ID", "value": "org/a"},
            {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
            {"name": "EMPTY"},
            {"value": "no name"},
        ],
        "envFrom": [{"configMapRef": {"name": "c"}}],
        "volumeMounts": [{"name": "w", "mountPath": "/models", "subPath": "x", "readOnly": True}],
        "securityContext": {"privileged": True},
    }
    spec = {
        "containers": [container],
        "runtimeClassName": "nvidia",
        "volumes": [
            {"name": "w", "persistentVolumeClaim": {"claimName": "llama"}},
            {"name": "i", "image": {"reference": "reg/w@sha256:ab"}},
            {"name": "e", "emptyDir": {}},
            {"name": "h", "hostPath": {"path": "/dev/nvidia0"}},
            "garbage",
        ],
    }
    template = {"metadata": {"labels": MODEL, "annotations": {"cdi.k8s.io/gpu": "x"}}}
    workload = parse_workload(
        obj("Deployment", "apps/v1", {"template": {**template, "spec": spec}})
    )
    (pod,) = workload.templates
    (c,) = pod.containers
    assert c.command == ("vllm", "serve", "")
    assert c.args == ("--model", "org/name")
    assert [(e.name, e.value, e.value_path) for e in c.env] == [
        ("MODEL_ID", "org/a", "spec.template.spec.containers[0].env[0].value"),
        ("TOKEN", None, "spec.template.spec.containers[0].env[1].valueFrom"),
        ("EMPTY", "", "spec.template.spec.containers[0].env[2].value"),
    ]
    assert c.env_from
    assert c.privileged
    (mount,) = c.volume_mounts
    assert (mount.name, mount.mount_path, mount.sub_path, mount.read_only) == (
        "w",
        "/models",
        "x",
        True,
    )
    assert [(v.name, v.kind, v.source, v.path) for v in pod.volumes] == [
        ("w", "persistentVolumeClaim", "llama", "spec.template.spec.volumes[0]"),
        ("i", "image", "reg/w@sha256:ab", "spec.template.spec.volumes[1]"),
        ("e", "emptyDir", None, "spec.template.spec.volumes[2]"),
        ("h", "hostPath", "/dev/nvidia0", "spec.template.spec.volumes[3]"),
    ]
    assert pod.runtime_class_name == "nvidia"
    assert pod.annotations == {"cdi.k8s.io/gpu": "x"}
    assert pod.annotations_path == "spec.template.metadata.annotations"


def test_a_pods_annotations_are_its_own_and_odd_fields_count_as_absent() -> None:
    body = obj(
        "Pod",
        "v1",
        {
            "containers": [{"name": "a", "command": "vllm serve", "env": "x", "volumeMounts": 3}],
            "volumes": {"not": "a list"},
            "runtimeClassName": 5,
        },
        annotations={"cdi.k8s.io/x": "y"},
    )
    (pod,) = parse_workload(body).templates
    (c,) = pod.containers
    assert (c.command, c.env, c.volume_mounts, c.privileged) == ((), (), (), False)
    assert (pod.volumes, pod.runtime_class_name) == ((), None)
    assert pod.annotations == {"cdi.k8s.io/x": "y"}
    assert pod.annotations_path == "metadata.annotations"


def test_inference_service_model_entries_keep_their_storage_fields() -> None:
    spec = {
        "predictor": {
            "annotations": {"cdi.k8s.io/a": "b"},
            "model": {
                "modelFormat": {"name": "huggingface"},
                "storage": {"key": "k", "path": "p"},
                "storageUris": ["s3://a"],
                "args": ["--model_id=org/x"],
            },
        }
    }
    (pod,) = parse_workload(obj("InferenceService", ISVC, spec, labels=MODEL)).templates
    (model,) = pod.containers
    assert model.kind is ContainerKind.MODEL
    assert model.extra == {
        "storage": {"key": "k", "path": "p"},
        "storageUris": ["s3://a"],
        "modelFormat": {"name": "huggingface"},
    }
    assert model.args == ("--model_id=org/x",)
    assert pod.annotations == {"cdi.k8s.io/a": "b"}
    assert pod.annotations_path == "spec.predictor.annotations"
