"""A small kubectl driver with impersonation, for the demo and the end-to-end tests.

Tests talk to the real API server the way users do: through kubectl, as distinct users
(`--as`, `--as-group`), so the webhook sees `request.userInfo` exactly as in production.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Result:
    """What kubectl said."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass(frozen=True)
class User:
    """An identity to impersonate; None means the cluster admin."""

    name: str
    groups: tuple[str, ...] = ("system:authenticated",)


@dataclass
class Kube:
    """kubectl against one kubeconfig."""

    kubectl_path: Path
    kubeconfig: Path
    default_timeout: float = 60
    created_namespaces: list[str] = field(default_factory=list)

    def run(
        self, *args: str, user: User | None = None, stdin: str | None = None, check: bool = False
    ) -> Result:
        cmd = [str(self.kubectl_path), f"--kubeconfig={self.kubeconfig}"]
        if user is not None:
            cmd.append(f"--as={user.name}")
            cmd.extend(f"--as-group={g}" for g in user.groups)
        cmd.extend(args)
        proc = subprocess.run(
            cmd,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=self.default_timeout,
            check=False,
        )
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        if check and not result.ok:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
        return result

    def apply(self, manifest: Mapping[str, Any] | str, user: User | None = None) -> Result:
        """`kubectl apply` one manifest (dict or YAML text), returning kubectl's answer."""
        text = manifest if isinstance(manifest, str) else yaml.safe_dump(dict(manifest))
        return self.run("apply", "-f", "-", user=user, stdin=text)

    def create(self, manifest: Mapping[str, Any] | str, user: User | None = None) -> Result:
        text = manifest if isinstance(manifest, str) else yaml.safe_dump(dict(manifest))
        return self.run("create", "-f", "-", user=user, stdin=text)

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        ns = ["-n", namespace] if namespace else []
        result = self.run("get", kind, name, *ns, "-o", "json", check=True)
        obj: dict[str, Any] = json.loads(result.stdout)
        return obj

    def list(self, kind: str, namespace: str, selector: str = "") -> list[dict[str, Any]]:
        sel = ["-l", selector] if selector else []
        result = self.run("get", kind, "-n", namespace, *sel, "-o", "json", check=True)
        items: list[dict[str, Any]] = json.loads(result.stdout)["items"]
        return items

    def namespace(self, name: str, mode: str | None = None) -> str:
        """Create a fresh namespace (deleted at session end), labelled with `mode`."""
        labels = {"aigov.io/mode": mode} if mode else {}
        self.apply(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}
        )
        self.created_namespaces.append(name)
        # The ServiceAccount admission plugin refuses pods until the default SA exists.
        self.wait_for(
            lambda: self.run("get", "serviceaccount", "default", "-n", name).ok,
            f"default ServiceAccount in {name}",
        )
        return name

    def wait_for(self, predicate: Callable[[], bool], what: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {seconds:.0f}s waiting for {what}")
            time.sleep(0.3)
