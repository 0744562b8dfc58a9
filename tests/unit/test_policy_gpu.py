"""Accelerator detection, GPU counting as the scheduler does, and Kubernetes quantities."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from aigov.policy.gpu import (
    DEFAULT_ACCELERATOR_RESOURCES,
    AcceleratorRules,
    QuantityError,
    UseKind,
    accelerators_per_pod,
    find_accelerators,
    gpus_per_pod,
    is_accelerator_resource,
    parse_quantity,
    workload_accelerators,
)
from aigov.policy.workload import PodTemplate, Quantity, parse_workload


def pod(spec: Any) -> PodTemplate:
    (template,) = parse_workload({"apiVersion": "v1", "kind": "Pod", "spec": spec}).templates
    return template


def limits(**quantities: Any) -> dict[str, Any]:
    return {"name": "c", "resources": {"limits": quantities}}


def gpu(requests: Any = None, limits: Any = None, **extra: Any) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    if requests is not None:
        resources["requests"] = {"nvidia.com/gpu": requests}
    if limits is not None:
        resources["limits"] = {"nvidia.com/gpu": limits}
    return {"name": "c", "resources": resources, **extra}


@pytest.mark.parametrize(
    "name",
    [
        "nvidia.com/gpu",
        "nvidia.com/mig-1g.10gb",
        "nvidia.com/mig-3g.71gb",
        "nvidia.com/gpu.shared",
        "amd.com/gpu",
        "gpu.intel.com/i915",
        "gpu.intel.com/xe",
        "example.com/GPU",
        "google.com/tpu",
        "aws.amazon.com/neuroncore",
        "habana.ai/gaudi",
    ],
)
def test_accelerator_resources(name: str) -> None:
    assert is_accelerator_resource(name)


@pytest.mark.parametrize(
    "name",
    [
        "cpu",
        "memory",
        "gpu",
        "hugepages-2Mi",
        "ephemeral-storage",
        "nvidia.com/rdma_shared_device_a",
        "example.com/foo",
        "/gpu",
        "nvidia.com/",
        "kubernetes.io/gpu",
    ],
)
def test_not_accelerator_resources(name: str) -> None:
    assert not is_accelerator_resource(name)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {"containers": [limits(**{"nvidia.com/gpu": 1, "cpu": "2"})]},
            [("nvidia.com/gpu", "spec.containers[0].resources.limits[nvidia.com/gpu]")],
        ),
        (
            {"containers": [{"resources": {"requests": {"nvidia.com/mig-1g.10gb": "1"}}}]},
            [
                (
                    "nvidia.com/mig-1g.10gb",
                    "spec.containers[0].resources.requests[nvidia.com/mig-1g.10gb]",
                )
            ],
        ),
        (
            {"containers": [{}, limits(**{"amd.com/gpu": 1})]},
            [("amd.com/gpu", "spec.containers[1].resources.limits[amd.com/gpu]")],
        ),
        (
            {"initContainers": [limits(**{"gpu.intel.com/i915": 1})]},
            [("gpu.intel.com/i915", "spec.initContainers[0].resources.limits[gpu.intel.com/i915]")],
        ),
        (
            {"containers": [limits(**{"nvidia.com/gpu": "lots"})]},
            [("nvidia.com/gpu", "spec.containers[0].resources.limits[nvidia.com/gpu]")],
        ),
        ({"containers": [limits(**{"nvidia.com/gpu": 0})]}, []),
        ({"containers": [limits(**{"nvidia.com/gpu": "0"})]}, []),
        ({"containers": [limits(cpu="8", memory="64Gi")]}, []),
        ({"containers": None, "initContainers": "x"}, []),
        ({"containers": [{"resources": "nvidia.com/gpu: 1"}]}, []),
    ],
)
def test_find_extended_resources(spec: Any, expected: list[tuple[str, str]]) -> None:
    uses = find_accelerators(pod(spec))
    assert [(u.resource, u.path) for u in uses] == expected
    assert all(u.kind is UseKind.EXTENDED_RESOURCE for u in uses)


def test_find_dra_claims_on_pod_and_containers() -> None:
    spec = {
        "resourceClaims": [{"name": "gpu", "resourceClaimTemplateName": "one-gpu"}],
        "containers": [{"name": "c", "resources": {"claims": [{"name": "gpu"}]}}],
    }
    uses = find_accelerators(pod(spec))
    assert [(u.kind, u.resource, u.path) for u in uses] == [
        (UseKind.RESOURCE_CLAIM, "gpu", "spec.resourceClaims[0]"),
        (UseKind.RESOURCE_CLAIM, "gpu", "spec.containers[0].resources.claims[0]"),
    ]
    assert uses[0].describe() == 'DRA resource claim "gpu"'


def test_empty_dra_claims_are_no_use() -> None:
    assert find_accelerators(pod({"resourceClaims": [], "containers": [{"resources": {}}]})) == []


def test_inference_service_model_resources_count() -> None:
    body = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "spec": {"predictor": {"model": {"resources": {"limits": {"nvidia.com/gpu": "1"}}}}},
    }
    workload = parse_workload(body)
    assert [u.path for u in workload_accelerators(workload)] == [
        "spec.predictor.model.resources.limits[nvidia.com/gpu]"
    ]
    assert gpus_per_pod(workload.templates[0]) == 1


def test_cronjob_gpu_is_found_at_depth() -> None:
    body = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [gpu(limits=1)]}}}}},
    }
    (use,) = workload_accelerators(parse_workload(body))
    assert use.path == (
        "spec.jobTemplate.spec.template.spec.containers[0].resources.limits[nvidia.com/gpu]"
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, 0),
        ({"containers": [limits(cpu="1")]}, 0),
        ({"containers": [gpu(limits=1)]}, 1),
        ({"containers": [gpu(limits="8")]}, 8),
        ({"containers": [gpu(requests=2)]}, 2),
        ({"containers": [gpu(requests="1", limits="2")]}, 2),
        ({"containers": [gpu(limits=2), gpu(limits="3")]}, 5),
        ({"containers": [gpu(limits=2.0)]}, 2),
        ({"containers": [gpu(limits="1k")]}, 1000),
        ({"containers": [gpu(limits="2e0")]}, 2),
        # init containers run one at a time, before the app containers
        ({"initContainers": [gpu(limits=4)], "containers": [gpu(limits=1)]}, 4),
        ({"initContainers": [gpu(limits=1), gpu(limits=2)], "containers": [gpu(limits=3)]}, 3),
        # sidecars (restartPolicy Always) keep running: they add to what follows
        (
            {
                "initContainers": [gpu(limits=1, restartPolicy="Always"), gpu(limits=2)],
                "containers": [gpu(limits=1)],
            },
            3,
        ),
        (
            {
                "initContainers": [gpu(limits=1, restartPolicy="Always")],
                "containers": [gpu(limits=2)],
            },
            3,
        ),
        # ephemeral containers cannot hold resources
        ({"ephemeralContainers": [gpu(limits=8)]}, 0),
        # pod-level resources can only raise the figure
        ({"resources": {"limits": {"nvidia.com/gpu": 4}}, "containers": [gpu(limits=1)]}, 4),
    ],
)
def test_gpus_per_pod(spec: Any, expected: int) -> None:
    assert gpus_per_pod(pod(spec)) == expected


def test_gpus_per_pod_other_resource() -> None:
    template = pod({"containers": [limits(**{"nvidia.com/mig-1g.10gb": 2, "nvidia.com/gpu": 1})]})
    assert gpus_per_pod(template, "nvidia.com/mig-1g.10gb") == 2


@pytest.mark.parametrize(
    ("quantity", "fragment"),
    [
        ("500m", "must be a whole number of devices, got '500m'"),
        (0.5, "must be a whole number of devices, got 0.5"),
        ("-1", "must be a whole number of devices"),
        ("one", "'one' is not a Kubernetes quantity"),
        ("1 GPU", "is not a Kubernetes quantity"),
    ],
)
def test_gpus_per_pod_names_the_field_of_a_bad_quantity(quantity: Any, fragment: str) -> None:
    with pytest.raises(QuantityError) as caught:
        gpus_per_pod(pod({"containers": [{}, gpu(limits=quantity)]}))
    message = str(caught.value)
    assert message.startswith("spec.containers[1].resources.limits[nvidia.com/gpu]: ")
    assert fragment in message


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [
        ("1", Decimal(1)),
        (2, Decimal(2)),
        (" 8 ", Decimal(8)),
        ("+3", Decimal(3)),
        ("1.5", Decimal("1.5")),
        (".5", Decimal("0.5")),
        ("1.", Decimal(1)),
        ("500m", Decimal("0.5")),
        ("100u", Decimal("0.0001")),
        ("3n", Decimal("3e-9")),
        ("2k", Decimal(2000)),
        ("1M", Decimal(10**6)),
        ("1G", Decimal(10**9)),
        ("1E", Decimal(10**18)),
        ("1Ki", Decimal(1024)),
        ("16Gi", Decimal(16 * 2**30)),
        ("1e3", Decimal(1000)),
        ("12E-1", Decimal("1.2")),
        (1.25, Decimal("1.25")),
    ],
)
def test_parse_quantity(quantity: Quantity, expected: Decimal) -> None:
    assert parse_quantity(quantity) == expected


@pytest.mark.parametrize(
    "quantity",
    ["", "m", "1.2.3", "1KB", "1 Gi", "0x10", "1e", "e3", "1e99999999999", "1e" + "9" * 60, True],
)
def test_parse_quantity_rejects(quantity: Any) -> None:
    with pytest.raises(QuantityError):
        parse_quantity(quantity)


@pytest.mark.parametrize("quantity", [float("nan"), float("inf")])
def test_parse_quantity_rejects_non_finite(quantity: float) -> None:
    with pytest.raises(QuantityError):
        parse_quantity(quantity)


def test_parse_quantity_is_fast_on_huge_input() -> None:
    with pytest.raises(QuantityError):
        parse_quantity("1" * 1_000_000 + "x")


def test_bad_pod_level_quantity_names_its_field() -> None:
    with pytest.raises(QuantityError, match=r"^spec\.resources\.limits\[nvidia\.com/gpu\]: "):
        gpus_per_pod(pod({"resources": {"limits": {"nvidia.com/gpu": "0.5"}}}))


def test_huge_integer_quantity_parses() -> None:
    assert parse_quantity(10**5000) == Decimal(10**5000)


# Every way to a GPU (bypass classes 17 and 18) ----------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "nvidia.com/vgpu",
        "nvidia.com/GA100_A100_PCIE_40GB",
        "nvidia.com/mig-1g.10gb",
        "deviceclass.resource.kubernetes.io/gpu.example.com",
        "aws.amazon.com/neuron",
        "habana.ai/gaudi3",
        "google.com/tpu",
        "huawei.com/Ascend910",
    ],
)
def test_vendor_and_dra_implicit_resources_are_accelerators(name: str) -> None:
    assert is_accelerator_resource(name)


@pytest.mark.parametrize("name", ["nvidia.com/hostdev", "nvidia.com/sriov_rdma", "example.com/npu"])
def test_network_devices_and_unknown_names_are_not(name: str) -> None:
    assert not is_accelerator_resource(name)


def test_configured_resources_and_runtime_classes_extend_the_lists() -> None:
    rules = AcceleratorRules(
        resources=(*DEFAULT_ACCELERATOR_RESOURCES, "example.com/npu*"),
        runtime_classes=frozenset({"kata-gpu"}),
    )
    assert is_accelerator_resource("example.com/npu-x1", rules)
    spec = {"runtimeClassName": "kata-gpu", "containers": [{"name": "c"}]}
    assert [u.kind for u in find_accelerators(pod(spec), rules)] == [UseKind.RUNTIME_CLASS]
    assert find_accelerators(pod(spec)) == []


@pytest.mark.parametrize(
    ("spec", "kind", "resource", "path"),
    [
        (
            {
                "containers": [
                    {"name": "c", "env": [{"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"}]}
                ]
            },
            UseKind.ENV,
            "NVIDIA_VISIBLE_DEVICES=all",
            "spec.containers[0].env[0].value",
        ),
        (
            {
                "containers": [
                    {
                        "name": "c",
                        "env": [{"name": "NVIDIA_DRIVER_CAPABILITIES", "value": "compute,utility"}],
                    }
                ]
            },
            UseKind.ENV,
            "NVIDIA_DRIVER_CAPABILITIES=compute,utility",
            "spec.containers[0].env[0].value",
        ),
        (
            {
                "containers": [
                    {
                        "name": "c",
                        "env": [
                            {
                                "name": "NVIDIA_VISIBLE_DEVICES",
                                "valueFrom": {"fieldRef": {"fieldPath": "x"}},
                            }
                        ],
                    }
                ]
            },
            UseKind.ENV,
            "NVIDIA_VISIBLE_DEVICES (valueFrom)",
            "spec.containers[0].env[0].valueFrom",
        ),
        (
            {"runtimeClassName": "nvidia", "containers": [{"name": "c"}]},
            UseKind.RUNTIME_CLASS,
            "nvidia",
            "spec.runtimeClassName",
        ),
        (
            {"containers": [{"name": "c", "securityContext": {"privileged": True}}]},
            UseKind.PRIVILEGED,
            "a privileged container",
            "spec.containers[0].securityContext.privileged",
        ),
        (
            {
                "containers": [{"name": "c"}],
                "volumes": [{"name": "d", "hostPath": {"path": "/dev/nvidia0"}}],
            },
            UseKind.HOST_PATH,
            "/dev/nvidia0",
            "spec.volumes[0].hostPath.path",
        ),
        (
            {
                "containers": [{"name": "c"}],
                "volumes": [{"name": "d", "hostPath": {"path": "/dev/dri/"}}],
            },
            UseKind.HOST_PATH,
            "/dev/dri/",
            "spec.volumes[0].hostPath.path",
        ),
        (
            {
                "containers": [{"name": "c"}],
                "volumes": [{"name": "d", "hostPath": {"path": "//dev"}}],
            },
            UseKind.HOST_PATH,
            "//dev",
            "spec.volumes[0].hostPath.path",
        ),
        (
            {
                "ephemeralContainers": [
                    {"name": "dbg", "env": [{"name": "NVIDIA_VISIBLE_DEVICES", "value": "0,1"}]}
                ]
            },
            UseKind.ENV,
            "NVIDIA_VISIBLE_DEVICES=0,1",
            "spec.ephemeralContainers[0].env[0].value",
        ),
    ],
)
def test_gpus_without_a_request(
    spec: dict[str, Any], kind: UseKind, resource: str, path: str
) -> None:
    (use,) = find_accelerators(pod(spec))
    assert (use.kind, use.resource, use.path) == (kind, resource, path)
    assert not use.is_request


def test_cdi_annotations_on_the_pod_template() -> None:
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "spec": {
            "template": {
                "metadata": {"annotations": {"cdi.k8s.io/gpu": "nvidia.com/gpu=all", "other": "x"}},
                "spec": {"containers": [{"name": "c"}]},
            }
        },
    }
    (use,) = workload_accelerators(parse_workload(body))
    assert (use.kind, use.path) == (
        UseKind.CDI,
        "spec.template.metadata.annotations[cdi.k8s.io/gpu]",
    )
    assert use.describe() == "CDI annotation cdi.k8s.io/gpu"


@pytest.mark.parametrize("value", ["void", "none", "", " NONE "])
def test_gpu_env_that_hands_out_nothing(value: str) -> None:
    env = [{"name": "NVIDIA_VISIBLE_DEVICES", "value": value}]
    assert find_accelerators(pod({"containers": [{"name": "c", "env": env}]})) == []


def test_harmless_host_paths_and_runtime_classes() -> None:
    spec = {
        "runtimeClassName": "gvisor",
        "containers": [{"name": "c", "securityContext": {"privileged": False}}],
        "volumes": [{"name": "d", "hostPath": {"path": "/var/log"}}, {"name": "e", "emptyDir": {}}],
    }
    assert find_accelerators(pod(spec)) == []


def test_accelerators_per_pod_counts_every_accelerator_resource() -> None:
    spec = {
        "containers": [
            limits(**{"nvidia.com/mig-1g.10gb": "56", "cpu": "4"}),
            limits(**{"nvidia.com/gpu": 1, "amd.com/gpu": 0}),
        ]
    }
    assert accelerators_per_pod(pod(spec)) == {"nvidia.com/mig-1g.10gb": 56, "nvidia.com/gpu": 1}
