"""The fake GPU node pools: shape, taints, GFD labels, and H200 values from a real nvidia-smi."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from tools.controlplane.nodes import GPU_TAINT, KWOK_ANNOTATION, all_nodes

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gpu"
"""A real H200's `nvidia-smi -q` and query CSV, copied into the repository (self-contained)."""
GPU_POOLS = ("h100-eu", "h200-eu", "a100-shared-us")


def _fixture(name: str) -> Path:
    path = FIXTURES / name
    if not path.is_file():
        pytest.fail(
            f"GPU fixture {path} is missing: tests/fixtures/gpu holds a real H200's "
            "nvidia-smi -q and query CSV"
        )
    return path


@pytest.fixture(scope="module")
def nodes() -> list[dict[str, Any]]:
    return all_nodes()


def _pool(nodes: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    found = [n for n in nodes if n["metadata"]["labels"]["pool"] == name]
    assert found, f"no nodes in pool {name}"
    return found


def _labels(node: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = node["metadata"]["labels"]
    return labels


def test_pools_and_node_counts(nodes: list[dict[str, Any]]) -> None:
    counts = Counter(_labels(n)["pool"] for n in nodes)
    assert dict(counts) == {"h100-eu": 2, "h200-eu": 1, "a100-shared-us": 2, "cpu": 2}
    assert [n["metadata"]["name"] for n in nodes] == [
        "h100-eu-0",
        "h100-eu-1",
        "h200-eu-0",
        "a100-shared-us-0",
        "a100-shared-us-1",
        "cpu-0",
        "cpu-1",
    ]


def test_every_node_is_a_kwok_node(nodes: list[dict[str, Any]]) -> None:
    assert KWOK_ANNOTATION == "kwok.x-k8s.io/node"
    for node in nodes:
        assert node["apiVersion"] == "v1"
        assert node["kind"] == "Node"
        assert node["metadata"]["annotations"] == {"kwok.x-k8s.io/node": "fake"}
        assert _labels(node)["type"] == "kwok"
        assert _labels(node)["kubernetes.io/hostname"] == node["metadata"]["name"]
        assert node["status"]["capacity"] == node["status"]["allocatable"]


@pytest.mark.parametrize("pool", GPU_POOLS)
def test_gpu_nodes_are_tainted_and_advertise_gpus(nodes: list[dict[str, Any]], pool: str) -> None:
    for node in _pool(nodes, pool):
        assert node["spec"]["taints"] == [
            {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
        ]
        assert int(node["status"]["capacity"]["nvidia.com/gpu"]) > 0
        assert _labels(node)["nvidia.com/gpu.present"] == "true"


def test_gpu_taint_constant_is_not_shared_between_nodes(nodes: list[dict[str, Any]]) -> None:
    first, second = _pool(nodes, "h100-eu")
    assert first["spec"]["taints"][0] is not second["spec"]["taints"][0]
    assert first["spec"]["taints"][0] is not GPU_TAINT


def test_cpu_nodes_have_no_gpu(nodes: list[dict[str, Any]]) -> None:
    for node in _pool(nodes, "cpu"):
        assert node["spec"]["taints"] == []
        assert "nvidia.com/gpu" not in node["status"]["capacity"]
        assert not any(k.startswith("nvidia.com/") for k in _labels(node))
        assert _labels(node)["topology.kubernetes.io/region"] == "eu-central-1"


def test_a100_pool_is_time_sliced_in_the_us(nodes: list[dict[str, Any]]) -> None:
    for node in _pool(nodes, "a100-shared-us"):
        labels = _labels(node)
        assert labels["nvidia.com/gpu.sharing-strategy"] == "time-slicing"
        assert labels["nvidia.com/gpu.replicas"] == "4"
        assert labels["topology.kubernetes.io/region"] == "us-east-1"
        assert labels["topology.kubernetes.io/zone"] == "us-east-1a"
        assert labels["nvidia.com/gpu.product"] == "NVIDIA-A100-SXM4-80GB"
        assert labels["nvidia.com/gpu.family"] == "ampere"
        assert labels["nvidia.com/cc.capable"] == "false"
        assert labels["nvidia.com/mig.capable"] == "false"
        # 8 physical GPUs, each advertised 4 times.
        assert node["status"]["capacity"]["nvidia.com/gpu"] == "32"


def test_h100_pool_is_confidential_and_exclusive(nodes: list[dict[str, Any]]) -> None:
    for node in _pool(nodes, "h100-eu"):
        labels = _labels(node)
        assert labels["nvidia.com/cc.capable"] == "true"
        assert labels["nvidia.com/gpu.sharing-strategy"] == "none"
        assert labels["nvidia.com/gpu.replicas"] == "1"
        assert labels["nvidia.com/gpu.count"] == "8"
        assert labels["nvidia.com/gpu.product"] == "NVIDIA-H100-80GB-HBM3"
        assert labels["topology.kubernetes.io/region"] == "eu-central-1"
        assert node["status"]["capacity"]["nvidia.com/gpu"] == "8"


def _csv_row() -> dict[str, str]:
    with _fixture("h200-query.csv").open(newline="") as f:
        rows = list(csv.DictReader(f, skipinitialspace=True))
    assert len(rows) == 1, f"expected one GPU row in h200-query.csv, got {len(rows)}"
    return {k.strip(): v.strip() for k, v in rows[0].items()}


def test_h200_labels_match_the_real_nvidia_smi_query(nodes: list[dict[str, Any]]) -> None:
    row = _csv_row()
    (node,) = _pool(nodes, "h200-eu")
    labels = _labels(node)

    assert labels["nvidia.com/gpu.product"] == row["name"].replace(" ", "-")
    assert labels["nvidia.com/gpu.product"] == "NVIDIA-H200"

    memory, unit = row["memory.total [MiB]"].split()
    assert unit == "MiB"
    assert labels["nvidia.com/gpu.memory"] == memory

    major, minor = row["compute_cap"].split(".")
    assert (labels["nvidia.com/gpu.compute.major"], labels["nvidia.com/gpu.compute.minor"]) == (
        major,
        minor,
    )

    d_major, d_minor, d_rev = row["driver_version"].split(".")
    assert labels["nvidia.com/cuda.driver.major"] == d_major
    assert labels["nvidia.com/cuda.driver.minor"] == d_minor
    assert labels["nvidia.com/cuda.driver.rev"] == d_rev


def test_h200_labels_match_the_real_nvidia_smi_xml(nodes: list[dict[str, Any]]) -> None:
    root = ET.parse(_fixture("h200-nvidia-smi-q.xml")).getroot()
    gpu = root.find("gpu")
    assert gpu is not None, "h200-nvidia-smi-q.xml has no <gpu> element"
    (node,) = _pool(nodes, "h200-eu")
    labels = _labels(node)

    assert labels["nvidia.com/gpu.family"] == gpu.findtext("product_architecture", "").lower()
    assert labels["nvidia.com/gpu.family"] == "hopper"
    assert labels["nvidia.com/gpu.product"] == gpu.findtext("product_name", "").replace(" ", "-")
    assert labels["nvidia.com/gpu.memory"] == gpu.findtext("fb_memory_usage/total", "").split()[0]

    driver = root.findtext("driver_version", "")
    assert (
        ".".join(labels[f"nvidia.com/cuda.driver.{part}"] for part in ("major", "minor", "rev"))
        == driver
    )
    cuda = root.findtext("cuda_version", "")
    assert (
        f"{labels['nvidia.com/cuda.runtime.major']}.{labels['nvidia.com/cuda.runtime.minor']}"
        == (cuda)
    )


def test_a_missing_fixture_fails_instead_of_skipping(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(globals(), "FIXTURES", tmp_path)
    with pytest.raises(pytest.fail.Exception, match=r"h200-query\.csv is missing"):
        _fixture("h200-query.csv")
