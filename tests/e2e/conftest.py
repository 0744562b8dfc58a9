"""End-to-end fixtures: the real control plane, the CRDs, and the operator as a process.

The control plane is the one `make cluster-up` starts (same code). With
USE_EXISTING_CLUSTER=true and KUBECONFIG, the tests run against that cluster instead (the
envtest convention), e.g. a kind cluster made by `make kind-up`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tools.controlplane import binaries
from tools.controlplane.cluster import Cluster, running
from tools.controlplane.operator import Operator, running_operator
from tools.kubectl import Kube
from tools.stand_ins import stand_in_crds

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def kubeconfig() -> Iterator[Path]:
    if os.environ.get("USE_EXISTING_CLUSTER", "").lower() == "true":
        path = os.environ.get("KUBECONFIG")
        if not path:
            raise pytest.UsageError("USE_EXISTING_CLUSTER=true needs KUBECONFIG")
        yield Path(path)
        return
    with running(Cluster()) as cluster:
        yield cluster.kubeconfig


@pytest.fixture(scope="session")
def audit_log(kubeconfig: Path) -> Path:
    """The API server's audit log. Only the local control plane's is readable here; against
    an existing cluster the tests that read it are deselected, not silently passed."""
    if os.environ.get("USE_EXISTING_CLUSTER", "").lower() == "true":
        pytest.fail("the audit log of an existing cluster is not readable: deselect with -k")
    return Cluster().logs / "audit.log"


@pytest.fixture(scope="session")
def kube(kubeconfig: Path) -> Iterator[Kube]:
    client = Kube(binaries.find("kubectl"), kubeconfig)
    # The OpenReports Report stand-in goes in before the operator starts, as in a cluster
    # running Kyverno or the OpenReports chart (the wgpolicyk8s one is left to test_reports).
    for path in (
        "crds",
        "tests/e2e/manifests/kserve-inferenceservice-crd.yaml",
        "tests/e2e/manifests/openreports-report-crd.yaml",
        "config/rbac",
    ):
        client.run(
            "apply", "--server-side", "--force-conflicts", "-f", str(ROOT / path), check=True
        )
    stand_ins = stand_in_crds()
    for crd in stand_ins:
        client.apply(crd)
    names = [f"crd/{c}.aigov.io" for c in ("governedmodels", "riskassessments", "modelapprovals")]
    names += ["crd/placementpolicies.aigov.io", "crd/trustedsigners.aigov.io"]
    names += ["crd/reports.openreports.io"]
    names += [f"crd/{crd['metadata']['name']}" for crd in stand_ins]
    client.run("wait", "--for=condition=Established", *names, "--timeout=60s")
    yield client
    for ns in client.created_namespaces:
        client.run("delete", "namespace", ns, "--wait=false")


RESYNC_SECONDS = 30
"""The session operator's AIGOV_RESYNC_SECONDS: short enough that a test can wait for a
resync (the default, 300 s, is for clusters with thousands of models)."""

OPERATOR_NAMESPACE = "aigov-system"
"""The operator's namespace (AIGOV_NAMESPACE's default): it keeps its checkpoints there."""


@pytest.fixture(scope="session")
def decision_log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the session operator writes its decision log (AIGOV_DECISION_LOG_DIR)."""
    return tmp_path_factory.mktemp("decision-log")


@pytest.fixture(scope="session")
def operator(kube: Kube, decision_log_dir: Path) -> Iterator[Operator]:
    log = ROOT / ".cache" / "e2e" / "operator.log"
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": OPERATOR_NAMESPACE}})
    env = {
        "AIGOV_DECISION_LOG_DIR": str(decision_log_dir),
        # Checkpoints every few seconds, so a test sees one kept in the cluster soon.
        "AIGOV_DECISION_LOG_CHECKPOINT_SECONDS": "3",
        "AIGOV_RESYNC_SECONDS": str(RESYNC_SECONDS),
    }
    with running_operator(kube.kubeconfig, log, config_name="aigov-e2e", **env) as op:
        yield op


@pytest.fixture
def unique() -> str:
    """A short random suffix for names that must not collide between tests."""
    return uuid.uuid4().hex[:6]


@pytest.fixture(scope="module", autouse=True)
def give_back_gpus(kube: Kube) -> Iterator[None]:
    """Delete the namespaces a test module made once the module is done.

    The fake GPU pools are shared by the whole session, and what a module leaves running
    (a revoked model's Deployment, a warned pod) would hold GPUs that later modules need to
    schedule their own pods: namespaces made within a module end with it (its module-scoped
    fixtures included); the session's own fixtures make theirs with kube.apply."""
    first = len(kube.created_namespaces)
    yield
    made = kube.created_namespaces[first:]
    if made:
        kube.run("delete", "namespace", *made, "--wait=false")
        del kube.created_namespaces[first:]
