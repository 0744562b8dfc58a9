"""Act as a ServiceAccount from outside the cluster: a TokenRequest token in a kubeconfig.

How the chart tests run the operator with exactly the identity (and so the RBAC) the chart
gives its pods: `kubectl create token` asks the API server's TokenRequest API for a
short-lived token, and the kubeconfig written here presents it to the same server, trusted
through the admin kubeconfig's CA.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tools.kubectl import Kube


def username(namespace: str, name: str) -> str:
    """The user the API server sees for ServiceAccount `name` in `namespace`."""
    return f"system:serviceaccount:{namespace}:{name}"


def token(kube: Kube, namespace: str, name: str, duration: str = "2h") -> str:
    """A fresh token for the ServiceAccount, from the TokenRequest API."""
    result = kube.run("create", "token", name, "-n", namespace, f"--duration={duration}")
    if not result.ok:
        raise AssertionError(f"kubectl create token {name} -n {namespace}: {result.stderr}")
    return result.stdout.strip()


def kubeconfig(kube: Kube, namespace: str, name: str, path: Path) -> Path:
    """Write a kubeconfig at `path` that authenticates as the ServiceAccount; return path."""
    admin: dict[str, Any] = yaml.safe_load(kube.kubeconfig.read_text())
    context = next(c["context"] for c in admin["contexts"] if c["name"] == admin["current-context"])
    cluster = next(c["cluster"] for c in admin["clusters"] if c["name"] == context["cluster"])
    user = username(namespace, name)
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "cluster", "cluster": cluster}],
        "users": [{"name": user, "user": {"token": token(kube, namespace, name)}}],
        "contexts": [{"name": "sa", "context": {"cluster": "cluster", "user": user}}],
        "current-context": "sa",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path
