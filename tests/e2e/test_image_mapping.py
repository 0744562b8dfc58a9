"""The chart-to-podman mapping (tools.image.container) on the chart as helm renders it: the
e2e image test runs the chart's pod this way and trusts the mapping. No cluster, but the helm
binary `make binaries` builds, so it runs in the e2e stage (`make unit` needs no binaries)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tools.helm import Helm, one
from tools.image.container import ContainerError, PodRun


def test_the_charts_pod_becomes_these_podman_flags(tmp_path: Path) -> None:
    rendered = Helm.find().template({}, release="aigov", namespace="aigov-system")
    deployment = one(rendered, "Deployment")
    tls, sa = tmp_path / "tls", tmp_path / "sa"
    run = PodRun.from_deployment(
        deployment,
        image="localhost/aigov:dev",
        pod_name="aigov-0",
        volumes={"tls": tls, "decision-log-key": tmp_path / "key"},
        service_account=sa,
        env={"KUBERNETES_SERVICE_HOST": "127.0.0.1"},
    )
    args = run.podman_args()
    assert args[args.index("--user") + 1] == "65532:65532"
    for flag in ("--read-only", "--read-only-tmpfs=false", "--cap-drop=ALL"):
        assert flag in args
    assert "--security-opt=no-new-privileges" in args
    assert f"/tmp:rw,nosuid,nodev,size={64 * 2**20},mode=1777" in args
    assert f"{tls}:/etc/aigov/tls:ro" in args
    assert f"{sa}:/var/run/secrets/kubernetes.io/serviceaccount:ro" in args
    assert f"{tmp_path / 'key'}:/etc/aigov/decision-log-key:ro" in args
    assert "POD_NAME=aigov-0" in args
    assert "AIGOV_MANAGE_WEBHOOKS=false" in args
    assert "KUBERNETES_SERVICE_HOST=127.0.0.1" in args


def test_an_env_value_the_api_server_left_out_is_empty(tmp_path: Path) -> None:
    """The API server stores `value: ""` as no value at all: the variable is still set."""
    deployment = one(Helm.find().template({}, release="aigov", namespace="ns"), "Deployment")
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    for item in env:
        if item.get("value") == "":
            del item["value"]
    run = PodRun.from_deployment(
        deployment,
        image="x",
        pod_name="p",
        volumes={"tls": tmp_path, "decision-log-key": tmp_path},
        service_account=None,
        env={},
    )
    assert "AIGOV_ACCELERATOR_RESOURCES=" in run.podman_args()


def test_what_cannot_be_reproduced_is_refused(tmp_path: Path) -> None:
    deployment = one(Helm.find().template({}, release="aigov", namespace="ns"), "Deployment")
    with pytest.raises(ContainerError, match="give its files"):
        PodRun.from_deployment(
            deployment, image="x", pod_name="p", volumes={}, service_account=None, env={}
        )
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsUser"] = 0
    with pytest.raises(ContainerError, match="runAsNonRoot"):
        PodRun.from_deployment(
            deployment,
            image="x",
            pod_name="p",
            volumes={"tls": tmp_path, "decision-log-key": tmp_path},
            service_account=None,
            env={},
        )
