"""Start and stop the local control plane as processes: the code behind `make cluster-up`.

Layout under `.cache/cluster/`: `pki/`, `etcd/` (data), `logs/<component>.log`,
`pids/<component>.pid`, `kubeconfig` (admin, certificates embedded). `up()` is idempotent: a
healthy cluster is left alone, a half-dead one is stopped and started again. `down()` stops
every process it started and leaves none behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tools.controlplane import binaries, nodes
from tools.controlplane.pki import Pki

COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
STAGES_FILE = Path(__file__).with_name("kwok-stages.yaml")
AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    resources:
      - group: ""
        resources: [events, nodes, nodes/status]
      - group: coordination.k8s.io
        resources: [leases]
  - level: None
    nonResourceURLs: ["/readyz*", "/livez*", "/healthz*", "/version"]
  - level: Metadata
"""


class ClusterError(RuntimeError):
    """The control plane could not be started, with what to do about it."""


def _port(env: str, default: int) -> int:
    return int(os.environ.get(env, default))


@dataclass(frozen=True)
class Ports:
    """Loopback ports; override with AIGOV_*_PORT to run beside another cluster."""

    etcd_client: int = field(default_factory=lambda: _port("AIGOV_ETCD_PORT", 12379))
    etcd_peer: int = field(default_factory=lambda: _port("AIGOV_ETCD_PEER_PORT", 12380))
    apiserver: int = field(default_factory=lambda: _port("AIGOV_APISERVER_PORT", 16443))
    kwok: int = field(default_factory=lambda: _port("AIGOV_KWOK_PORT", 10247))


def _log(message: str) -> None:
    print(f"[cluster] {message}", file=sys.stderr, flush=True)


class Cluster:
    """A local control plane rooted at `directory` (default `.cache/cluster`)."""

    def __init__(self, directory: Path | None = None, ports: Ports | None = None) -> None:
        default = Path(os.environ.get("AIGOV_CLUSTER_DIR", binaries.CACHE / "cluster"))
        self.dir = directory or default
        self.ports = ports or Ports()
        self.pki = Pki(self.dir / "pki")
        self.logs = self.dir / "logs"
        self.pids = self.dir / "pids"

    @property
    def kubeconfig(self) -> Path:
        return self.dir / "kubeconfig"

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.ports.apiserver}"

    # ---- lifecycle -------------------------------------------------------------------------

    def up(self) -> None:
        """Start whatever is not running; return when nodes are Ready. Idempotent."""
        if self.healthy():
            _log(f"already up: {self.server} (KUBECONFIG={self.kubeconfig})")
            return
        if self._running():
            _log("found a partly running cluster: stopping it first")
            self.down()
        exes = {name: binaries.find(name) for name in (*COMPONENTS, "kubectl")}
        self._check_ports_free()
        for d in (self.logs, self.pids):
            d.mkdir(parents=True, exist_ok=True)
        self.pki.ensure()
        self._write_kubeconfigs()
        started = time.monotonic()
        try:
            self._start_all(exes)
        except BaseException:
            _log(f"start failed: stopping what started; logs kept in {self.logs}")
            self.down()
            raise
        _log(f"up in {time.monotonic() - started:.1f}s: {self.server}")
        _log(f"export KUBECONFIG={self.kubeconfig}")

    def _start_all(self, exes: dict[str, Path]) -> None:
        self._start("etcd", self._etcd_args(exes["etcd"]))
        self._wait(f"http://127.0.0.1:{self.ports.etcd_client}/health", "etcd", 30, tls=False)
        self._start("kube-apiserver", self._apiserver_args(exes["kube-apiserver"]))
        self._wait(f"{self.server}/readyz", "kube-apiserver", 90)
        self._start("kube-controller-manager", self._kcm_args(exes["kube-controller-manager"]))
        self._start("kube-scheduler", self._scheduler_args(exes["kube-scheduler"]))
        self._start("kwok", self._kwok_args(exes["kwok"]))
        self._register_nodes()
        self._wait_nodes_ready(90)
        self._wait_default_service_account(60)

    def down(self) -> None:
        """Stop every component (newest first) and forget the cluster's state."""
        for name in reversed(COMPONENTS):
            self._stop(name)
        for sub in ("etcd", "pids"):
            path = self.dir / sub
            if path.exists():
                subprocess.run(["rm", "-rf", str(path)], check=True)
        _log("down")

    def healthy(self) -> bool:
        """True when every component runs and the API server is ready."""
        if not all(self._alive(name) for name in COMPONENTS) or not self.kubeconfig.exists():
            return False
        try:
            self._get(f"{self.server}/readyz", timeout=3)
        except OSError:
            return False
        return True

    # ---- one component (the fault suite) ---------------------------------------------------

    def stop(self, name: str) -> None:
        """Stop one component (SIGTERM, then SIGKILL after 15 s); its data stays.

        For the fault suite: an outage of etcd or the API server while the rest runs on.
        """
        self._component(name)
        self._stop(name)

    def start(self, name: str, wait: float = 90) -> None:
        """Start one stopped component with the arguments `up()` gives it; for etcd and the
        API server, return once it answers its health endpoint."""
        self._component(name)
        if self._alive(name):
            raise ClusterError(f"{name} is running already; stop it first")
        args = {
            "etcd": self._etcd_args,
            "kube-apiserver": self._apiserver_args,
            "kube-controller-manager": self._kcm_args,
            "kube-scheduler": self._scheduler_args,
            "kwok": self._kwok_args,
        }[name](binaries.find(name))
        self._start(name, args)
        if name == "etcd":
            self._wait(f"http://127.0.0.1:{self.ports.etcd_client}/health", name, wait, tls=False)
        elif name == "kube-apiserver":
            self._wait(f"{self.server}/readyz", name, wait)

    def restart(self, name: str, down_for: float = 0.0, wait: float = 90) -> None:
        """Stop one component, leave it down `down_for` seconds, start it again."""
        self.stop(name)
        time.sleep(down_for)
        self.start(name, wait)

    def alive(self, name: str) -> bool:
        """True when the component's process runs (not whether it is healthy)."""
        self._component(name)
        return self._alive(name)

    @staticmethod
    def _component(name: str) -> None:
        if name not in COMPONENTS:
            raise ClusterError(f"unknown component {name!r}; one of {', '.join(COMPONENTS)}")

    # ---- components ------------------------------------------------------------------------

    def _etcd_args(self, exe: Path) -> list[str]:
        client = f"http://127.0.0.1:{self.ports.etcd_client}"
        peer = f"http://127.0.0.1:{self.ports.etcd_peer}"
        return [
            str(exe),
            f"--data-dir={self.dir / 'etcd'}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=default={peer}",
            "--unsafe-no-fsync=true",  # a throwaway dev cluster: speed over durability
            "--quota-backend-bytes=4294967296",
            "--log-level=warn",
        ]

    def _apiserver_args(self, exe: Path) -> list[str]:
        p = self.pki
        audit_policy = self.dir / "audit-policy.yaml"
        audit_policy.write_text(AUDIT_POLICY)
        return [
            str(exe),
            f"--etcd-servers=http://127.0.0.1:{self.ports.etcd_client}",
            f"--secure-port={self.ports.apiserver}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            # The loopback address cannot be published as the kubernetes Service endpoint.
            "--endpoint-reconciler-type=none",
            f"--cert-dir={self.dir / 'apiserver-certs'}",
            f"--tls-cert-file={p.cert('apiserver')}",
            f"--tls-private-key-file={p.key('apiserver')}",
            f"--client-ca-file={p.ca_cert}",
            "--service-cluster-ip-range=10.96.0.0/16",
            "--allow-privileged=true",
            "--authorization-mode=RBAC",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={p.dir / 'sa.pub'}",
            f"--service-account-signing-key-file={p.key('sa')}",
            f"--audit-policy-file={audit_policy}",
            f"--audit-log-path={self.logs / 'audit.log'}",
            "--audit-log-maxsize=100",
            "--profiling=false",
            "--v=1",
        ]

    def _kcm_args(self, exe: Path) -> list[str]:
        p = self.pki
        return [
            str(exe),
            f"--kubeconfig={self.dir / 'controller-manager.kubeconfig'}",
            "--bind-address=127.0.0.1",
            "--secure-port=0",
            "--leader-elect=false",
            "--use-service-account-credentials=true",
            f"--service-account-private-key-file={p.key('sa')}",
            f"--root-ca-file={p.ca_cert}",
            f"--cluster-signing-cert-file={p.ca_cert}",
            f"--cluster-signing-key-file={p.ca_key}",
            "--controllers=*,-nodeipam",
            # client-go's default of 20 requests/s would take most of an hour to give
            # `make bench`'s 10,000 Deployments their ReplicaSets and pods.
            "--kube-api-qps=200",
            "--kube-api-burst=400",
            "--v=1",
        ]

    def _scheduler_args(self, exe: Path) -> list[str]:
        return [
            str(exe),
            f"--kubeconfig={self.dir / 'scheduler.kubeconfig'}",
            "--bind-address=127.0.0.1",
            "--secure-port=0",
            "--leader-elect=false",
            "--kube-api-qps=200",  # binds 10,000 bench pods in a minute, not four
            "--kube-api-burst=400",
            "--v=1",
        ]

    def _kwok_args(self, exe: Path) -> list[str]:
        return [
            str(exe),
            f"--kubeconfig={self.kubeconfig}",
            f"--config={STAGES_FILE}",
            f"--manage-nodes-with-annotation-selector={nodes.KWOK_ANNOTATION}=fake",
            "--cidr=10.244.0.0/16",
            "--node-ip=10.1.0.1",
            f"--server-address=127.0.0.1:{self.ports.kwok}",
        ]

    def _write_kubeconfigs(self) -> None:
        self.kubeconfig.write_text(self.pki.kubeconfig("admin", self.server))
        self.kubeconfig.chmod(0o600)
        for user in ("controller-manager", "scheduler"):
            path = self.dir / f"{user}.kubeconfig"
            path.write_text(self.pki.kubeconfig(user, self.server))
            path.chmod(0o600)

    # ---- processes -------------------------------------------------------------------------

    def _pidfile(self, name: str) -> Path:
        return self.pids / f"{name}.pid"

    def _start(self, name: str, args: list[str]) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        # A session of its own: the component outlives `make cluster-up` and is stopped as a
        # group by down().
        proc = subprocess.Popen(
            args,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=self.dir,
        )
        log.close()
        self._pidfile(name).write_text(str(proc.pid))
        time.sleep(0.2)
        if proc.poll() is not None:
            raise ClusterError(
                f"{name} exited at once (code {proc.returncode}): {self._tail(name)}"
            )

    def _pid(self, name: str) -> int | None:
        try:
            return int(self._pidfile(name).read_text())
        except (OSError, ValueError):
            return None

    def _alive(self, name: str) -> bool:
        pid = self._pid(name)
        if pid is None:
            return False
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            return False
        # The pid must still be our binary, not a recycled pid of something else.
        return Path(cmdline.decode(errors="replace")).name == name

    def _running(self) -> bool:
        return any(self._alive(name) for name in COMPONENTS)

    def _stop(self, name: str) -> None:
        pid = self._pid(name)
        if pid is None or not self._alive(name):
            self._pidfile(name).unlink(missing_ok=True)
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while self._alive(name) and time.monotonic() < deadline:
            time.sleep(0.1)
        if self._alive(name):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            while self._alive(name):
                time.sleep(0.1)
        self._pidfile(name).unlink(missing_ok=True)

    def _tail(self, name: str, lines: int = 15) -> str:
        try:
            text = (self.logs / f"{name}.log").read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def _check_ports_free(self) -> None:
        for label, port in (
            ("etcd client", self.ports.etcd_client),
            ("etcd peer", self.ports.etcd_peer),
            ("kube-apiserver", self.ports.apiserver),
            ("kwok", self.ports.kwok),
        ):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    raise ClusterError(
                        f"port {port} ({label}) on 127.0.0.1 is taken by another process; "
                        f"stop it, or choose another port with AIGOV_*_PORT "
                        f"(see tools/controlplane/cluster.py Ports)"
                    )

    # ---- readiness -------------------------------------------------------------------------

    def _ssl(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.pki.ca_cert))
        ctx.load_cert_chain(self.pki.cert("admin"), self.pki.key("admin"))
        return ctx

    def _get(self, url: str, timeout: float = 5) -> bytes:
        ctx = self._ssl() if url.startswith("https") else None
        with urllib.request.urlopen(url, timeout=timeout, context=ctx) as resp:  # noqa: S310
            data: bytes = resp.read()
            return data

    def _wait(self, url: str, name: str, seconds: float, tls: bool = True) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                self._get(url, timeout=3)
                return
            except OSError as exc:
                if not self._alive(name):
                    raise ClusterError(f"{name} died while starting: {self._tail(name)}") from exc
                if time.monotonic() > deadline:
                    raise ClusterError(
                        f"{name} not ready after {seconds:.0f}s ({exc}); "
                        f"log: {self.logs}/{name}.log"
                    ) from exc
                time.sleep(0.3)

    def kubectl(self, *args: str, stdin: str | None = None) -> str:
        """Run kubectl as the cluster admin; raise ClusterError with its stderr on failure."""
        exe = binaries.find("kubectl")
        proc = subprocess.run(
            [str(exe), f"--kubeconfig={self.kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if proc.returncode != 0:
            raise ClusterError(f"kubectl {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc.stdout

    def _register_nodes(self) -> None:
        docs = "\n---\n".join(yaml.safe_dump(n) for n in nodes.all_nodes())
        self.kubectl("apply", "-f", "-", stdin=docs)

    def _wait_nodes_ready(self, seconds: float) -> None:
        expected = {n["metadata"]["name"] for n in nodes.all_nodes()}
        deadline = time.monotonic() + seconds
        while True:
            items = json.loads(self.kubectl("get", "nodes", "-o", "json"))["items"]
            # Ready, and the controller-manager has lifted the not-ready taint: schedulable.
            ready = {
                i["metadata"]["name"]
                for i in items
                for c in i.get("status", {}).get("conditions", [])
                if c["type"] == "Ready"
                and c["status"] == "True"
                and not any(
                    t["key"].startswith("node.kubernetes.io/")
                    for t in i.get("spec", {}).get("taints", [])
                )
            }
            if expected <= ready:
                return
            if time.monotonic() > deadline:
                raise ClusterError(f"nodes not Ready: {sorted(expected - ready)}; see kwok log")
            time.sleep(0.5)

    def _wait_default_service_account(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                self.kubectl("get", "serviceaccount", "default", "-n", "default")
                return
            except ClusterError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)


@contextlib.contextmanager
def running(cluster: Cluster | None = None) -> Iterator[Cluster]:
    """Use a running cluster, or start one and stop it afterwards (for tests)."""
    cluster = cluster or Cluster()
    was_up = cluster.healthy()
    cluster.up()
    try:
        yield cluster
    finally:
        if not was_up:
            cluster.down()


__all__ = ["Cluster", "ClusterError", "Ports", "running"]
