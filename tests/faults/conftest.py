"""The fault suite's own control plane and operator: it stops etcd and the API server, so it
never shares the e2e session's cluster (nor `make cluster-up`'s).

Its cluster lives in `.cache/faults/cluster` on ports 22379/22380/26443/20247, unless
AIGOV_CLUSTER_DIR and AIGOV_*_PORT say otherwise (as they do for a helper given its own).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tools.controlplane import binaries
from tools.controlplane.cluster import Cluster, Ports, running
from tools.controlplane.operator import Operator, running_operator
from tools.kubectl import Kube

from tests.e2e import governed
from tests.faults.results import Results

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / ".cache" / "faults"
RESULTS = Results()


def _port(env: str, default: int) -> int:
    return int(os.environ.get(env, default))


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    if os.environ.get("USE_EXISTING_CLUSTER", "").lower() == "true":
        raise pytest.UsageError("the fault suite stops etcd and the API server: it needs its own")
    ports = Ports(
        etcd_client=_port("AIGOV_ETCD_PORT", 22379),
        etcd_peer=_port("AIGOV_ETCD_PEER_PORT", 22380),
        apiserver=_port("AIGOV_APISERVER_PORT", 26443),
        kwok=_port("AIGOV_KWOK_PORT", 20247),
    )
    directory = Path(os.environ.get("AIGOV_CLUSTER_DIR", OUT / "cluster"))
    with running(Cluster(directory, ports)) as c:
        yield c


@pytest.fixture(scope="session")
def kube(cluster: Cluster) -> Kube:
    client = Kube(binaries.find("kubectl"), cluster.kubeconfig)
    for path in ("crds", "config/rbac"):
        client.run(
            "apply", "--server-side", "--force-conflicts", "-f", str(ROOT / path), check=True
        )
    names = [f"crd/{c}.aigov.io" for c in ("governedmodels", "riskassessments", "modelapprovals")]
    names += ["crd/placementpolicies.aigov.io", "crd/trustedsigners.aigov.io"]
    client.run("wait", "--for=condition=Established", *names, "--timeout=60s", check=True)
    return client


class Supervisor:
    """The operator process of the moment: started, killed with SIGKILL, started again.

    Each incarnation logs to its own file (`.cache/faults/operator-N.log`). At the end the
    last one is stopped gracefully (SIGTERM), which also removes its webhook configurations.
    """

    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig
        self.count = 0
        self.current: Operator | None = None
        self._stack = contextlib.ExitStack()

    def start(self, ready_within: float | None = 90) -> Operator:
        assert self.current is None or self.current.process.poll() is not None
        self.count += 1
        self._stack.close()
        self._stack = contextlib.ExitStack()
        self.current = self._stack.enter_context(
            running_operator(
                self.kubeconfig,
                OUT / f"operator-{self.count}.log",
                config_name="aigov-faults",
                ready_within=ready_within,
            )
        )
        return self.current

    def kill(self) -> None:
        """SIGKILL: no cleanup handler runs, the webhook configurations stay behind."""
        assert self.current is not None
        self.current.process.kill()
        self.current.process.wait()

    def close(self) -> None:
        self._stack.close()


@pytest.fixture(scope="session")
def supervisor(kube: Kube) -> Iterator[Supervisor]:
    sup = Supervisor(kube.kubeconfig)
    sup.start()
    yield sup
    sup.close()


@pytest.fixture(scope="session")
def ns(kube: Kube, supervisor: Supervisor) -> Iterator[str]:
    """An enforce namespace with stop-on-loss, the personas bound, and one model (`steady`)
    that stays approved all along: the governed probes name it."""
    name = kube.namespace(f"faults-{uuid.uuid4().hex[:6]}", mode="enforce")
    kube.run("label", "namespace", name, "aigov.io/stop-on-loss=true", check=True)
    governed.bind_personas(kube, name)
    governed.govern(kube, name, "steady")
    yield name
    kube.run("delete", "namespace", name, "--wait=false")


@pytest.fixture(scope="session")
def results() -> Results:
    return RESULTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if RESULTS.items:
        terminalreporter.section("fault suite: recovery")
        terminalreporter.write_line(RESULTS.table())
        terminalreporter.write_line(f"written to {OUT / 'results.json'}")


def pytest_sessionfinish(session: pytest.Session) -> None:
    del session
    if RESULTS.items:
        RESULTS.write(OUT / "results.json")
