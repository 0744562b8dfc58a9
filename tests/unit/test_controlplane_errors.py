"""The local control plane says clearly what is wrong: a missing binary, a taken port."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from tools.controlplane import binaries
from tools.controlplane.cluster import Cluster, ClusterError, Ports


def test_a_missing_binary_names_itself_and_how_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(tmp_path))
    monkeypatch.setattr(binaries, "CACHE", tmp_path / "cache")
    with pytest.raises(binaries.MissingBinaryError) as caught:
        binaries.find("kube-apiserver")
    message = str(caught.value)
    assert "kube-apiserver not found" in message
    assert str(tmp_path) in message
    assert "make binaries" in message
    assert "KUBEBUILDER_ASSETS" in message


def test_kubebuilder_assets_win_over_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exe = tmp_path / "etcd"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(tmp_path))
    assert binaries.find("etcd") == exe


def test_a_taken_port_is_reported_by_name(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cluster = Cluster(tmp_path, Ports(etcd_client=port, etcd_peer=1, apiserver=2, kwok=3))
        with pytest.raises(ClusterError) as caught:
            cluster._check_ports_free()
    assert f"port {port} (etcd client)" in str(caught.value)
    assert "AIGOV_" in str(caught.value)


def test_versions_are_pinned_in_one_place() -> None:
    pins = binaries.versions()
    assert pins["KUBERNETES_VERSION"].startswith("v1.")
    assert pins["ETCD_VERSION"].startswith("v3.6.")
    assert pins["KWOK_VERSION"].startswith("v0.8.")
    assert pins["HELM_VERSION"].startswith("v3.")
