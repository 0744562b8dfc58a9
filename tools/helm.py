"""A small helm driver for the chart tests: lint, render, install, upgrade, uninstall.

Values go to helm as YAML on stdin (`-f -`), so a test states them as a dict. helm keeps its
caches and repository configuration under `.cache/helm`, not in the user's home. Rendering
and linting pass `--kube-version` with the pinned Kubernetes version, so that they check the
chart against the version the local control plane runs rather than the one helm assumes
without a cluster (that of its own client-go, set by build.sh's upstream ldflags).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tools.controlplane import binaries
from tools.kubectl import Result

CHART = binaries.ROOT / "charts" / "aigov"


class HelmError(RuntimeError):
    """helm refused to render or install; carries its stderr."""


@dataclass(frozen=True)
class Helm:
    """helm against one kubeconfig (None: no cluster, rendering and linting only)."""

    helm_path: Path
    kubeconfig: Path | None = None
    chart: Path = CHART
    kube_version: str = binaries.versions().get("KUBERNETES_VERSION", "v1.37.2")
    timeout: float = 300

    @classmethod
    def find(cls, kubeconfig: Path | None = None) -> Helm:
        return cls(binaries.find("helm"), kubeconfig)

    def run(self, *args: str, values: Mapping[str, Any] | None = None) -> Result:
        home = binaries.CACHE / "helm"
        env = {
            **os.environ,
            "HELM_CACHE_HOME": str(home / "cache"),
            "HELM_CONFIG_HOME": str(home / "config"),
            "HELM_DATA_HOME": str(home / "data"),
        }
        if self.kubeconfig is not None:
            env["KUBECONFIG"] = str(self.kubeconfig)
        extra = ["-f", "-"] if values is not None else []
        proc = subprocess.run(
            [str(self.helm_path), *args, *extra],
            input=yaml.safe_dump(dict(values)) if values is not None else None,
            capture_output=True,
            text=True,
            env=env,
            timeout=self.timeout,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def lint(self, values: Mapping[str, Any] | None = None) -> Result:
        """`helm lint --strict`: warnings fail too."""
        return self.run(
            "lint", "--strict", "--kube-version", self.kube_version, str(self.chart), values=values
        )

    def template_text(
        self,
        values: Mapping[str, Any] | None = None,
        release: str = "aigov",
        namespace: str = "aigov-system",
    ) -> str:
        """The rendered manifests as YAML text; HelmError when helm refuses."""
        result = self.run(
            "template",
            release,
            str(self.chart),
            "--namespace",
            namespace,
            "--kube-version",
            self.kube_version,
            values=values or {},
        )
        if not result.ok:
            raise HelmError(result.stderr.strip())
        return result.stdout

    def template(
        self,
        values: Mapping[str, Any] | None = None,
        release: str = "aigov",
        namespace: str = "aigov-system",
    ) -> list[dict[str, Any]]:
        """The rendered objects (CRDs excluded, as `helm template` excludes them)."""
        text = self.template_text(values, release, namespace)
        return [doc for doc in yaml.safe_load_all(text) if doc]

    def install(
        self, release: str, namespace: str, values: Mapping[str, Any], *flags: str
    ) -> Result:
        return self.run(
            "install", release, str(self.chart), "--namespace", namespace, *flags, values=values
        )

    def upgrade(
        self, release: str, namespace: str, values: Mapping[str, Any], *flags: str
    ) -> Result:
        return self.run(
            "upgrade", release, str(self.chart), "--namespace", namespace, *flags, values=values
        )

    def uninstall(self, release: str, namespace: str, *flags: str) -> Result:
        return self.run("uninstall", release, "--namespace", namespace, *flags)


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The objects of one kind, in rendering order."""
    return [o for o in objects if o.get("kind") == kind]


def one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    """The single object of `kind`; AssertionError when there is not exactly one."""
    found = by_kind(objects, kind)
    if len(found) != 1:
        raise AssertionError(f"expected one {kind}, rendered {len(found)}")
    return found[0]
