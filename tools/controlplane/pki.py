"""The local cluster's PKI: one CA, serving and client certificates, service-account keys."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

import yaml

from aigov import certs


@dataclass(frozen=True)
class _Leaf:
    file: str
    cn: str
    orgs: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    server: bool = False
    client: bool = False


class Pki:
    """Files under `<cluster>/pki`, made once and reused while the directory exists."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory

    @property
    def ca_cert(self) -> Path:
        return self.dir / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.dir / "ca.key"

    def cert(self, name: str) -> Path:
        return self.dir / f"{name}.crt"

    def key(self, name: str) -> Path:
        return self.dir / f"{name}.key"

    def ensure(self) -> None:
        """Make every file that is missing."""
        self.dir.mkdir(parents=True, exist_ok=True)
        if not self.ca_cert.exists():
            certs.make_ca("aigov-local-cluster-ca").write(self.ca_cert, self.ca_key)
        ca = certs.KeyPair.read(self.ca_cert, self.ca_key)
        hosts = (
            "127.0.0.1",
            "localhost",
            "10.96.0.1",
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local",
        )
        leaves = (
            _Leaf("apiserver", "kube-apiserver", hosts=hosts, server=True),
            # Kubernetes reads CN as the user and O as groups.
            _Leaf("admin", "aigov-admin", orgs=("system:masters",), client=True),
            _Leaf("controller-manager", "system:kube-controller-manager", client=True),
            _Leaf("scheduler", "system:kube-scheduler", client=True),
        )
        for leaf in leaves:
            if self.cert(leaf.file).exists():
                continue
            pair = certs.issue(
                ca,
                leaf.cn,
                organizations=leaf.orgs,
                hosts=leaf.hosts,
                server=leaf.server,
                client=leaf.client,
            )
            pair.write(self.cert(leaf.file), self.key(leaf.file))
        if not self.key("sa").exists():
            private, public = certs.make_signing_key()
            self.key("sa").write_bytes(private)
            self.dir.joinpath("sa.pub").write_bytes(public)

    def kubeconfig(self, user: str, server: str) -> str:
        """A self-contained kubeconfig (certificates embedded) for client cert `user`."""

        def b64(path: Path) -> str:
            return base64.b64encode(path.read_bytes()).decode()

        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "aigov-local",
                    "cluster": {"server": server, "certificate-authority-data": b64(self.ca_cert)},
                }
            ],
            "users": [
                {
                    "name": user,
                    "user": {
                        "client-certificate-data": b64(self.cert(user)),
                        "client-key-data": b64(self.key(user)),
                    },
                }
            ],
            "contexts": [
                {"name": "aigov-local", "context": {"cluster": "aigov-local", "user": user}}
            ],
            "current-context": "aigov-local",
        }
        return yaml.safe_dump(config, sort_keys=False)
