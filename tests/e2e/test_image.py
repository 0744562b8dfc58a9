"""Issue 14 end to end: the operator image, built here, inspected and run as the chart runs it.

The image is the OCI archive `make image` writes without Docker (tools/image/build.sh: Debian
bookworm bases made by mmdebstrap, the Dockerfile built by buildah); the `archive` fixture
calls that script, which returns at once when the archive is up to date.

First what the image carries, read from its config and its layers (tools/image/oci.py). Then
the image started by podman (runc; tools/image/container.py) exactly as a pod of the chart's
Deployment: the Deployment as the API server holds it after `helm install` gives the user,
read-only root filesystem, dropped capabilities, no privilege escalation, the tls Secret
volume and the emptyDir /tmp, and the environment. The pod's ServiceAccount token, CA and
namespace are mounted where the kubelet puts them, with KUBERNETES_SERVICE_HOST/PORT pointing
at the API server: the operator inside finds the cluster through its in-cluster
configuration and acts with the chart's RBAC. Host network, as the API server is a host
process here: the release's `webhooks.url` is https://127.0.0.1:<webhook port>, so every
admission call the chart's webhook configurations cause is served from inside the container.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import time
import tomllib
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from tools import serviceaccount
from tools.controlplane.operator import free_port
from tools.helm import Helm
from tools.image.container import Container, Podman, PodRun, running
from tools.image.oci import Image
from tools.kubectl import Kube

from tests.e2e import governed, manifests
from tests.e2e.governed import ALICE

ROOT = Path(__file__).resolve().parents[2]
ARCHIVE = ROOT / ".cache" / "image" / "aigov.oci.tar"
LOGS = ROOT / ".cache" / "e2e"
SITE = "/opt/aigov/lib/python3.11/site-packages"

# A cold build (two Debian bases, PyPI downloads) takes about 3 minutes on 2 cores.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def archive() -> Path:
    """The image archive, built (or found up to date) by the script `make image` runs."""
    if os.geteuid() != 0:
        pytest.fail("building and running the image here needs root (buildah, podman, runc)")
    result = subprocess.run(
        ["bash", str(ROOT / "tools" / "image" / "build.sh"), "--builder", "buildah"],
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )
    assert result.returncode == 0, f"tools/image/build.sh failed:\n{result.stderr[-4000:]}"
    return ARCHIVE


@pytest.fixture(scope="module")
def image(archive: Path) -> Image:
    return Image.load(archive)


@pytest.fixture(scope="module")
def rootfs(image: Image) -> dict[str, Any]:
    return dict(image.filesystem())


# ---- what the image carries ------------------------------------------------------------


def test_runs_as_a_numeric_non_root_user_known_to_the_image(
    image: Image, rootfs: dict[str, Any]
) -> None:
    """Kubernetes' runAsNonRoot can only verify a numeric user; 65532 as in the chart."""
    uid, _, gid = image.runtime["User"].partition(":")
    assert (uid, gid) == ("65532", "65532")
    passwd = image.read("/etc/passwd").decode().splitlines()
    (entry,) = [line for line in passwd if line.split(":")[2:4] == ["65532", "65532"]]
    assert entry.split(":")[6] == "/usr/sbin/nologin"
    assert rootfs["/etc/passwd"].uid == 0, "the user cannot rewrite who it is"


def test_entry_point_is_the_operator_and_no_healthcheck(image: Image) -> None:
    run = image.runtime
    assert run["Entrypoint"] == ["python", "-m", "aigov"]
    assert not run.get("Cmd")
    assert "Healthcheck" not in run, "probes come from the chart"
    values = yaml.safe_load((ROOT / "charts" / "aigov" / "values.yaml").read_text())
    ports = {values["operator"]["webhookPort"], values["operator"]["healthPort"]}
    assert {int(p.partition("/")[0]) for p in run["ExposedPorts"]} == ports
    assert image.env["PATH"].startswith("/opt/aigov/bin:")
    assert image.env["PYTHONDONTWRITEBYTECODE"] == "1", "the root filesystem is read-only"


def test_oci_labels_name_source_version_and_licence(image: Image) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    labels = image.labels
    assert labels["org.opencontainers.image.version"] == project["version"]
    assert labels["org.opencontainers.image.licenses"] == project["license"]
    assert labels["org.opencontainers.image.source"].startswith("https://")
    assert labels["org.opencontainers.image.title"] == "aigov"


def test_no_compiler_build_tool_or_installer(rootfs: dict[str, Any]) -> None:
    """Only what runs: a compiler, pip or apt in the image would let a compromised operator
    build or fetch code, and is weight nobody uses."""
    bins = ("/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/", "/usr/local/bin/", "/opt/aigov/bin/")
    names = {path.rpartition("/")[2] for path in rootfs if path.startswith(bins)}
    assert "python" in names, "the check looks where programs are"
    for tool in ("gcc", "cc", "c++", "g++", "ld", "as", "make", "pip", "pip3", "apt", "apt-get"):
        assert tool not in names, tool
    assert not [p for p in rootfs if re.search(r"-linux-gnu-(gcc|g\+\+|ld)", p)]
    for package in ("pip", "setuptools", "ensurepip", "wheel"):
        found = [p for p in rootfs if re.search(rf"/(site|dist)-packages/{package}/", p)]
        found += [p for p in rootfs if p.endswith(f"/python3.11/{package}/__init__.py")]
        assert not found, found[:3]
    assert not [p for p in rootfs if p.startswith("/usr/include/")], "no headers"
    assert "/usr/share/python-wheels" not in rootfs


def test_installed_packages_are_exactly_the_lock(rootfs: dict[str, Any]) -> None:
    """What pip installed in the image is what requirements.lock pins, and nothing else."""
    installed = {}
    for path in rootfs:
        match = re.fullmatch(rf"{SITE}/([^/]+)-([^-/]+)\.dist-info/METADATA", path)
        if match:
            installed[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    locked = {}
    for raw in (ROOT / "requirements.lock").read_text().splitlines():
        if raw.strip() and not raw.startswith("#"):
            name, _, version = raw.strip().partition("==")
            locked[re.sub(r"[-_.]+", "-", name).lower()] = version
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert installed == {**locked, "aigov": project["version"]}


# ---- the image run as the chart's pod ------------------------------------------------------


@dataclass
class Release:
    """The chart installed for this module, with the ports its webhooks and probes use."""

    name: str
    namespace: str
    webhook_port: int
    health_port: int

    @property
    def user(self) -> str:
        return serviceaccount.username(self.namespace, self.name)


@pytest.fixture(scope="module")
def release(kube: Kube, kubeconfig: Path) -> Iterator[Release]:
    """helm install in a restricted namespace, webhooks pointing at the container's port.

    failurePolicy Ignore: should the container die, nothing else in the shared cluster is
    refused. A refusal below therefore proves the container answered.
    """
    crds = ROOT / "charts" / "aigov" / "crds"
    kube.run("apply", "--server-side", "--force-conflicts", "-f", str(crds), check=True)
    helm = Helm.find(kubeconfig)
    suffix = uuid.uuid4().hex[:5]
    name = f"aigov-img-{suffix}"
    namespace = kube.namespace(f"aigov-image-{suffix}")
    for mode in ("enforce", "warn", "audit"):
        label = f"pod-security.kubernetes.io/{mode}=restricted"
        kube.run("label", "namespace", namespace, label, check=True)
    webhook_port, health_port = free_port(), free_port()
    values = {
        "image": {"repository": "localhost/aigov", "tag": "dev"},
        "personas": {"namePrefix": name},
        "operator": {"webhookPort": webhook_port, "healthPort": health_port},
        "webhooks": {"url": f"https://127.0.0.1:{webhook_port}", "failurePolicy": "Ignore"},
    }
    result = helm.install(name, namespace, values, "--wait", "--timeout=120s")
    assert result.ok, result.stderr
    yield Release(name, namespace, webhook_port, health_port)
    helm.uninstall(name, namespace, "--wait")


def _owned_by_the_pod_group(directory: Path, files: dict[str, bytes], gid: int) -> Path:
    """Files as the kubelet mounts a Secret with defaultMode 0440 and the pod's fsGroup."""
    directory.mkdir(parents=True)
    for key, data in files.items():
        path = directory / key
        path.write_bytes(data)
        os.chown(path, 0, gid)
        path.chmod(0o440)
    os.chown(directory, 0, gid)
    directory.chmod(0o750)
    return directory


@pytest.fixture(scope="module")
def container(
    kube: Kube,
    kubeconfig: Path,
    release: Release,
    archive: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Container]:
    """The image, loaded from the archive into podman's own storage, started as a replica
    of the release."""
    deployment = kube.get("deployment", release.name, release.namespace)
    pod = deployment["spec"]["template"]["spec"]
    gid = int(pod["securityContext"]["fsGroup"])
    base = tmp_path_factory.mktemp("image-pod")
    # Every Secret volume (the serving certificate, the decision log's signing key) as the
    # kubelet would project it.
    secret_dirs = {}
    for volume in (v for v in pod["volumes"] if "secret" in v):
        data = kube.get("secret", volume["secret"]["secretName"], release.namespace)["data"]
        secret_dirs[volume["name"]] = _owned_by_the_pod_group(
            base / volume["name"], {k: base64.b64decode(v) for k, v in data.items()}, gid
        )
    admin = yaml.safe_load(kubeconfig.read_text())
    (cluster,) = [c["cluster"] for c in admin["clusters"]]
    token_dir = _owned_by_the_pod_group(
        base / "serviceaccount",
        {
            "token": serviceaccount.token(kube, release.namespace, release.name).encode(),
            "ca.crt": base64.b64decode(cluster["certificate-authority-data"]),
            "namespace": release.namespace.encode(),
        },
        gid,
    )
    server = urllib.request.urlparse(cluster["server"])
    podman = Podman()
    # A session killed earlier may have left its container running, holding ports and
    # resources: this storage holds only this test's containers.
    podman.run("rm", "--all", "--force", "--time", "0")
    run = PodRun.from_deployment(
        deployment,
        image=podman.load(archive),
        pod_name=f"{release.name}-image",
        volumes=secret_dirs,
        service_account=token_dir,
        env={
            "KUBERNETES_SERVICE_HOST": str(server.hostname),
            "KUBERNETES_SERVICE_PORT": str(server.port),
        },
    )
    with running(podman, run, f"aigov-e2e-{release.name}") as started:
        try:
            yield started
        finally:
            LOGS.mkdir(parents=True, exist_ok=True)
            (LOGS / "image-container.log").write_text(started.logs())


def _ready(release: Release) -> bool:
    try:
        url = f"http://127.0.0.1:{release.health_port}/readyz"
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def test_container_runs_with_the_charts_security_settings(
    kube: Kube, release: Release, container: Container
) -> None:
    """The operator process as the kernel sees it: the chart's user and groups, no
    capability in any set, no privilege escalation, a read-only root and a writable /tmp."""
    deployment = kube.get("deployment", release.name, release.namespace)
    security = deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"]["drop"] == ["ALL"]
    pid = container.podman.run("inspect", "--format", "{{.State.Pid}}", container.name)
    assert pid.returncode == 0, pid.stderr
    proc = Path("/proc") / pid.stdout.strip()
    status = dict(
        line.split(":", 1) for line in (proc / "status").read_text().splitlines() if ":" in line
    )
    assert status["Uid"].split() == ["65532"] * 4
    assert status["Gid"].split() == ["65532"] * 4
    for capabilities in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(status[capabilities], 16) == 0, capabilities
    assert status["NoNewPrivs"].strip() == "1"
    assert status["Seccomp"].strip() == "2", "a seccomp filter, as RuntimeDefault"
    mounts = {}
    for line in (proc / "mountinfo").read_text().splitlines():
        fields = line.split()
        mounts[fields[4]] = set(fields[5].split(","))
    assert "ro" in mounts["/"]
    assert "rw" in mounts["/tmp"]
    assert "ro" in mounts["/etc/aigov/tls"]
    # /var/run is a link to /run in Debian: the kernel names the resolved path.
    assert "ro" in mounts["/run/secrets/kubernetes.io/serviceaccount"]
    assert (proc / "cmdline").read_bytes().split(b"\0")[:3] == [b"python", b"-m", b"aigov"]


def test_container_turns_ready(release: Release, container: Container) -> None:
    deadline = time.monotonic() + 120
    while not _ready(release):
        assert container.state() == "running", f"the container stopped:\n{container.logs()}"
        assert time.monotonic() < deadline, f"not ready after 120 s:\n{container.logs()[-4000:]}"
        time.sleep(0.5)


def test_webhook_in_the_container_refuses_ungoverned_and_admits_governed(
    kube: Kube, release: Release, container: Container, unique: str
) -> None:
    assert _ready(release)
    ns = kube.namespace(f"image-gov-{unique}", mode="enforce")
    governed.bind_personas(kube, ns)

    refused = kube.apply(manifests.deployment("llm", ns, gpus=1))
    assert not refused.ok, "admitted: the container's webhook did not answer"
    assert "UngovernedWorkload" in refused.stderr
    assert "aigov refused Deployment" in refused.stderr

    governed.govern(kube, ns, "scorer")
    stamped = kube.get("governedmodel", "scorer", ns)["metadata"]["annotations"]
    assert stamped["aigov.io/author"] == "alice", "the container's mutating webhook stamps"
    admitted = kube.apply(
        manifests.deployment("scorer", ns, gpus=1, model="scorer", image=governed.IMAGE),
        user=ALICE,
    )
    assert admitted.ok, f"{admitted.stderr}\n{container.logs()[-3000:]}"
    # The operator reconciles with the chart's ServiceAccount: the model's status is its work.
    kube.wait_for(
        lambda: (
            (kube.get("governedmodel", "scorer", ns).get("status") or {}).get("phase") == "Approved"
        ),
        "status Approved written from the container",
        60,
    )
    assert "admission decision" in container.logs()


def test_sigterm_stops_it_cleanly_within_the_grace_period(
    kube: Kube, release: Release, container: Container
) -> None:
    deployment = kube.get("deployment", release.name, release.namespace)
    grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    code, seconds = container.signal_and_wait("TERM", timeout=grace + 30)
    logs = container.logs()
    assert code == 0, f"exit code {code} after SIGTERM:\n{logs[-3000:]}"
    assert seconds < grace, f"took {seconds:.1f}s, the chart allows {grace}s"
    assert "Traceback" not in logs, logs[-3000:]
    # The leader released its Lease on the way out: another replica takes over at once.
    lease = kube.get("lease", release.name, release.namespace)["spec"]
    assert lease.get("holderIdentity", "") == "", lease
