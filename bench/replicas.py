"""Operator replicas as local processes behind one webhook address, as the chart runs them.

The chart renders the webhook configurations once (they point at a Service) and every
replica serves the same certificate. Here the replicas are `python -m aigov` processes with
AIGOV_MANAGE_WEBHOOKS off and one shared certificate directory, and the configurations are
the ones a managed operator wrote, copied under another name with their URLs pointing at the
proxy (bench.proxy) instead of one process.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tools.controlplane.operator import Operator, free_port

from aigov import certs


def make_cert_dir(directory: Path) -> bytes:
    """A CA and a serving certificate for 127.0.0.1 (tls.crt, tls.key, ca.crt); the CA."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = certs.make_ca("aigov-bench-webhook-ca")
    leaf = certs.issue(ca, "127.0.0.1", hosts=("127.0.0.1", "localhost"), server=True)
    leaf.write(directory / "tls.crt", directory / "tls.key")
    (directory / "ca.crt").write_bytes(ca.cert_pem)
    return ca.cert_pem


def rewrite_configuration(
    body: dict[str, Any], name: str, address: str, ca_pem: bytes
) -> dict[str, Any]:
    """A copy of a webhook configuration named `name` whose every webhook calls `address`
    (host:port; the path is kept) and trusts `ca_pem`."""
    out = {
        "apiVersion": body["apiVersion"],
        "kind": body["kind"],
        "metadata": {"name": name},
        "webhooks": copy.deepcopy(body.get("webhooks", [])),
    }
    for hook in out["webhooks"]:
        client = hook["clientConfig"]
        if "url" not in client:
            raise ValueError(f"webhook {hook.get('name')} has no clientConfig.url to rewrite")
        parts = urlsplit(client["url"])
        client["url"] = urlunsplit((parts.scheme, address, parts.path, parts.query, ""))
        client["caBundle"] = base64.b64encode(ca_pem).decode()
    return out


@dataclass
class Replica:
    """One operator process; start() and stop() may be called again and again."""

    name: str
    kubeconfig: Path
    cert_dir: Path
    log: Path
    webhook_port: int
    health_port: int
    process: subprocess.Popen[bytes] | None = None

    @classmethod
    def new(cls, name: str, kubeconfig: Path, cert_dir: Path, logs: Path) -> Replica:
        return cls(name, kubeconfig, cert_dir, logs / f"{name}.log", free_port(), free_port())

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} is not running"
        return self.process.pid

    @property
    def ready_url(self) -> str:
        return f"http://127.0.0.1:{self.health_port}/readyz"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.health_port}/metrics"

    def _view(self) -> Operator:
        assert self.process is not None
        return Operator(self.process, self.log, self.webhook_port, self.health_port, "")

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "AIGOV_MANAGE_WEBHOOKS": "false",
            "AIGOV_CERT_DIR": str(self.cert_dir),
            "AIGOV_WEBHOOK_PORT": str(self.webhook_port),
            "AIGOV_HEALTH_PORT": str(self.health_port),
        }
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "aigov"],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
            )

    def ready(self) -> bool:
        return self.process is not None and self.process.poll() is None and self._view().ready()

    def wait_ready(self, seconds: float) -> float:
        """Seconds from now until ready; RuntimeError with the log's tail otherwise."""
        started = time.monotonic()
        while not self.ready():
            if self.process is None or self.process.poll() is not None:
                tail = self._view().tail() if self.process else ""
                raise RuntimeError(f"replica {self.name} exited:\n{tail}")
            if time.monotonic() - started > seconds:
                raise RuntimeError(f"replica {self.name} not ready after {seconds:.0f} s")
            time.sleep(0.1)
        return time.monotonic() - started

    def stop(self, timeout_s: float = 30, drain_s: float = 3) -> float:
        """What the kubelet does with the chart's pod: the preStop hook (GET /drain, which
        stops keeping connections alive and answers not ready for `drain_s`), then SIGTERM;
        wait. Seconds it took to exit."""
        if self.process is None or self.process.poll() is not None:
            return 0.0
        started = time.monotonic()
        if drain_s > 0:
            url = f"http://127.0.0.1:{self.health_port}/drain?seconds={drain_s:g}"
            with contextlib.suppress(OSError):
                urllib.request.urlopen(url, timeout=drain_s + 5).close()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return time.monotonic() - started
