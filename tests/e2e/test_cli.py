"""The `aigov` command line against the real API server: `why`, `get models`, `check
--cluster`, and `kubectl aigov` found by the real kubectl as a plugin."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from tools.controlplane import binaries
from tools.controlplane.operator import Operator
from tools.kubectl import Kube

from tests.e2e import governed, manifests
from tests.e2e.governed import ALICE, IMAGE

BIN = Path(sys.executable).parent


@pytest.fixture
def ns(kube: Kube, operator: Operator, unique: str) -> Iterator[str]:
    name = kube.namespace(f"cli-{unique}", mode="enforce")
    governed.bind_personas(kube, name)
    return name


def _run(kube: Kube, *args: str, kubectl: bool = False) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        "KUBECONFIG": str(kube.kubeconfig),
        "HOME": os.environ.get("HOME", "/tmp"),
    }
    command = [str(binaries.find("kubectl")), "aigov", *args] if kubectl else ["aigov", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)


def test_kubectl_aigov_why_names_who_must_act(kube: Kube, ns: str) -> None:
    governed.govern(kube, ns, "pending", approve=False)
    result = _run(kube, "why", "gm/pending", "-n", ns, kubectl=True)
    assert result.returncode == 1, result.stderr
    assert f"GovernedModel {ns}/pending: PendingApproval" in result.stdout
    assert "authored by alice" in result.stdout
    assert "Risk assessment: pending-ra by bob rates the risk medium" in result.stdout
    assert "Next: An approver (aigov-approver), not one of the authors (alice) nor the " in (
        result.stdout
    )
    assert "assessor (bob)" in result.stdout


def test_why_a_workload_and_get_models(kube: Kube, ns: str) -> None:
    governed.govern(kube, ns, "served")
    deployment = manifests.deployment("served", ns, gpus=1, model="served", image=IMAGE)
    assert kube.apply(deployment, user=ALICE).ok
    kube.wait_for(
        lambda: any(
            p["status"].get("phase") == "Running" for p in kube.list("pods", ns, "app=served")
        ),
        "a Running pod of served",
        90,
    )
    why = _run(kube, "why", "deploy/served", "-n", ns)
    assert why.returncode == 0, why.stdout + why.stderr
    assert f"Deployment {ns}/served: admitted if applied now" in why.stdout
    assert " runs on " in why.stdout
    assert "(pool " in why.stdout

    kube.wait_for(
        lambda: "served" in _run(kube, "get", "models", "-n", ns).stdout, "the model listed"
    )
    table = _run(kube, "get", "models", "-n", ns, "-o", "yaml")
    assert table.returncode == 0, table.stderr
    (row,) = yaml.safe_load(table.stdout)["models"]
    assert (row["model"], row["assessor"], row["approver"]) == ("served", "bob", "carol")
    text = _run(kube, "get", "models", "-n", ns).stdout
    assert text.splitlines()[0].split()[:4] == ["NAMESPACE", "MODEL", "VERSION", "PHASE"]
    kube.run("delete", "deployment", "served", "-n", ns, "--wait=false")  # give the GPU back


def test_check_against_the_cluster_uses_its_models(kube: Kube, ns: str, tmp_path: Path) -> None:
    governed.govern(kube, ns, "gitcheck", approve=False)
    path = tmp_path / "deploy.yaml"
    path.write_text(
        yaml.safe_dump(manifests.deployment("gitcheck", ns, gpus=1, model="gitcheck", image=IMAGE))
    )
    offline = _run(kube, "check", "-f", str(path))
    assert offline.returncode == 1
    assert "ModelNotFound" in offline.stdout
    live = _run(kube, "check", "--cluster", "-f", str(path))
    assert live.returncode == 1, live.stderr
    assert "ModelNotFound" not in live.stdout
    assert "NotApproved at metadata.labels[aigov.io/model]" in live.stdout
    bad = _run(kube, "why", "nonsense")
    assert bad.returncode == 2
    assert "use gm/NAME or a workload" in bad.stderr
