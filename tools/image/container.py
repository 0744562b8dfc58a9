"""Run the operator image as a pod of the chart's Deployment would run it, with podman.

Why: a Helm user's first contact with aigov is the image started under the chart's security
context (non-root numeric user, read-only root filesystem, no capabilities, no privilege
escalation) with the chart's volumes and environment. The e2e test starts the built image
that way here, without a kubelet: `PodRun.from_deployment` turns the Deployment the API
server holds into podman flags, so a change to the chart is what the test runs.

How podman runs here: these machines mount cgroup v1 with an empty v2 hierarchy ("hybrid"),
which crun (podman's default runtime) refuses; runc (Debian's package) runs with the
cgroupfs manager, given resource limits no higher than the host's (it cannot raise them).
Host network, like the API server: it calls the webhook on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import re
import resource
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.controlplane.binaries import CACHE

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
_QUANTITY = re.compile(r"([0-9]+)(Ki|Mi|Gi|k|M|G)?")
_UNITS = {None: 1, "k": 10**3, "M": 10**6, "G": 10**9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}


class ContainerError(RuntimeError):
    """podman could not start or stop the container; carries what it said."""


def quantity_bytes(quantity: str) -> int:
    """A Kubernetes memory quantity (64Mi, 1G, 512) in bytes."""
    match = _QUANTITY.fullmatch(quantity)
    if match is None:
        raise ValueError(f"{quantity!r}: not a quantity this runner understands")
    return int(match.group(1)) * _UNITS[match.group(2)]


@dataclass(frozen=True)
class Mount:
    """A host directory bind-mounted into the container."""

    source: Path
    target: str
    read_only: bool = True


@dataclass(frozen=True)
class PodRun:
    """Everything podman needs to run the image as the chart's pod runs it."""

    image: str
    user: str
    groups: tuple[int, ...]
    read_only_root: bool
    drop_all_capabilities: bool
    no_new_privileges: bool
    env: dict[str, str]
    mounts: tuple[Mount, ...]
    tmpfs: dict[str, int] = field(default_factory=dict)
    """Writable in-memory directories (emptyDir volumes): path -> size limit in bytes."""

    @classmethod
    def from_deployment(
        cls,
        deployment: Mapping[str, Any],
        *,
        image: str,
        pod_name: str,
        volumes: Mapping[str, Path],
        service_account: Path | None,
        env: Mapping[str, str],
    ) -> PodRun:
        """The pod template's only container, with `volumes` giving each secret volume's
        files on the host (a directory), `service_account` the token directory the kubelet
        would project, and `env` what the cluster would add (KUBERNETES_SERVICE_HOST, ...).

        Refuses what it cannot reproduce faithfully instead of silently running otherwise.
        """
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        pod_security = pod.get("securityContext") or {}
        security = {**pod_security, **(container.get("securityContext") or {})}
        uid, gid = security.get("runAsUser"), security.get("runAsGroup")
        if uid is None or gid is None:
            raise ContainerError("the chart must set runAsUser and runAsGroup")
        if security.get("runAsNonRoot") and uid == 0:
            raise ContainerError("runAsNonRoot with runAsUser 0: the kubelet would refuse")
        if security.get("privileged"):
            raise ContainerError("privileged containers are not run here")
        environment = _environment(container, pod_name)
        mounts, tmpfs = _volumes(pod, container, volumes)
        if pod.get("automountServiceAccountToken", True) and service_account is not None:
            mounts.append(Mount(service_account, SERVICE_ACCOUNT_DIR))
        capabilities = security.get("capabilities") or {}
        groups = (gid, pod_security["fsGroup"]) if "fsGroup" in pod_security else (gid,)
        return cls(
            image=image,
            user=f"{uid}:{gid}",
            groups=tuple(dict.fromkeys(groups)),
            read_only_root=bool(security.get("readOnlyRootFilesystem")),
            drop_all_capabilities="ALL" in (capabilities.get("drop") or []),
            no_new_privileges=security.get("allowPrivilegeEscalation") is False,
            env={**environment, **env},
            mounts=tuple(mounts),
            tmpfs=tmpfs,
        )

    def podman_args(self) -> list[str]:
        """`podman run` options (after `run`, before the image)."""
        args = ["--network=host", "--user", self.user, "--pull=never"]
        for group in self.groups[1:]:
            args += ["--group-add", str(group)]
        # --read-only alone would add tmpfs on /tmp, /var/tmp and /run: only the chart's
        # volumes may be writable.
        args += ["--read-only", "--read-only-tmpfs=false"] if self.read_only_root else []
        args += ["--cap-drop=ALL"] if self.drop_all_capabilities else []
        args += ["--security-opt=no-new-privileges"] if self.no_new_privileges else []
        for path, size in self.tmpfs.items():
            args += ["--tmpfs", f"{path}:rw,nosuid,nodev,size={size},mode=1777"]
        for mount in self.mounts:
            suffix = ":ro" if mount.read_only else ""
            args += ["--volume", f"{mount.source}:{mount.target}{suffix}"]
        for key, value in sorted(self.env.items()):
            args += ["--env", f"{key}={value}"]
        return args


def _environment(container: Mapping[str, Any], pod_name: str) -> dict[str, str]:
    """The container's env: plain values, and the pod's name where a fieldRef asks for it."""
    environment = {}
    for item in container.get("env") or []:
        if "valueFrom" not in item:
            # The API server omits an empty value: such a variable is set, to "".
            environment[item["name"]] = str(item.get("value", ""))
        elif item.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name":
            environment[item["name"]] = pod_name
        else:
            raise ContainerError(f"env {item['name']}: only values and the pod name")
    return environment


def _volumes(
    pod: Mapping[str, Any], container: Mapping[str, Any], files: Mapping[str, Path]
) -> tuple[list[Mount], dict[str, int]]:
    """Bind mounts for secret volumes (their files given on the host), tmpfs for emptyDirs."""
    by_name = {v["name"]: v for v in pod.get("volumes") or []}
    mounts: list[Mount] = []
    tmpfs: dict[str, int] = {}
    for mount in container.get("volumeMounts") or []:
        volume = by_name[mount["name"]]
        if "emptyDir" in volume:
            limit = (volume["emptyDir"] or {}).get("sizeLimit", "64Mi")
            tmpfs[mount["mountPath"]] = quantity_bytes(str(limit))
        elif "secret" in volume:
            if mount["name"] not in files:
                raise ContainerError(f"volume {mount['name']}: give its files")
            read_only = bool(mount.get("readOnly"))
            mounts.append(Mount(files[mount["name"]], mount["mountPath"], read_only))
        else:
            raise ContainerError(f"volume {mount['name']}: only emptyDir and secret")
    return mounts, tmpfs


# The highest RLIMIT_NPROC runc could set here: podman starts it (through conmon) with a hard
# limit of 32768 processes whatever the host's is (seen: 32768 runs, 32769 is refused).
_NPROC_CEILING = 32768


def _limits() -> list[str]:
    """The host's own limits for open files and processes: runc cannot raise them, and
    podman's defaults are higher than this machine's."""
    args = []
    for name, which in (("nofile", resource.RLIMIT_NOFILE), ("nproc", resource.RLIMIT_NPROC)):
        soft, hard = resource.getrlimit(which)
        if hard == resource.RLIM_INFINITY:
            hard = 1 << 20 if soft == resource.RLIM_INFINITY else soft
        if name == "nproc":
            hard = min(hard, _NPROC_CEILING)
        if soft == resource.RLIM_INFINITY or soft > hard:
            soft = hard
        args += ["--ulimit", f"{name}={soft}:{hard}"]
    return args


@dataclass(frozen=True)
class Podman:
    """podman with a storage of its own under .cache/image/podman and runc as its runtime."""

    root: Path = CACHE / "image" / "podman"

    def command(self, *args: str) -> list[str]:
        return [
            "podman",
            "--root",
            str(self.root / "storage"),
            "--runroot",
            str(self.root / "run"),
            "--storage-driver",
            "overlay",
            "--runtime",
            "runc",
            "--cgroup-manager",
            "cgroupfs",
            "--events-backend",
            "file",
            *args,
        ]

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args), capture_output=True, text=True, timeout=timeout, check=False
        )

    def load(self, archive: Path) -> str:
        """Load an OCI archive into this storage; return the image id."""
        result = self.run("load", "--quiet", "--input", str(archive), timeout=300)
        if result.returncode != 0:
            raise ContainerError(f"podman load {archive}: {result.stderr}")
        # The image the name pointed at before this load is of no further use.
        self.run("image", "prune", "--force")
        # "Loaded image: <name or id>"
        return result.stdout.strip().rpartition(" ")[2]


@dataclass
class Container:
    """A container started by `running`."""

    podman: Podman
    name: str

    def state(self) -> str:
        result = self.podman.run("inspect", "--format", "{{.State.Status}}", self.name)
        return result.stdout.strip() if result.returncode == 0 else "gone"

    def logs(self) -> str:
        result = self.podman.run("logs", self.name)
        return result.stdout + result.stderr

    def signal_and_wait(self, signal: str, timeout: float) -> tuple[int, float]:
        """Send `signal` to the entry point; its exit code and the seconds it took to exit."""
        started = time.monotonic()
        sent = self.podman.run("kill", "--signal", signal, self.name)
        if sent.returncode != 0:
            raise ContainerError(f"podman kill {self.name}: {sent.stderr}")
        waited = self.podman.run("wait", self.name, timeout=timeout)
        if waited.returncode != 0:
            raise ContainerError(f"podman wait {self.name}: {waited.stderr}")
        return int(waited.stdout.strip()), time.monotonic() - started


@contextlib.contextmanager
def running(podman: Podman, run: PodRun, name: str) -> Iterator[Container]:
    """Start the image detached; remove the container (killing it if still up) afterwards."""
    podman.run("rm", "--force", name)
    options = [*_limits(), *run.podman_args()]
    started = podman.run("run", "--detach", "--name", name, *options, run.image)
    if started.returncode != 0:
        raise ContainerError(f"podman run: {started.stderr}")
    try:
        yield Container(podman, name)
    finally:
        podman.run("rm", "--force", "--time", "0", name)
