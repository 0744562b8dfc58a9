"""Run the aigov operator as a local process against a cluster: for the demo and e2e tests.

The operator runs exactly as `make run` runs it (`python -m aigov`), with its webhook on
127.0.0.1 and the webhook configurations it manages itself, on ports chosen free.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


class OperatorError(RuntimeError):
    """The operator did not become ready; carries the tail of its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Operator:
    """A running operator process."""

    process: subprocess.Popen[bytes]
    log: Path
    webhook_port: int
    health_port: int
    config_name: str

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def ready(self) -> bool:
        try:
            url = f"http://127.0.0.1:{self.health_port}/readyz"
            with urllib.request.urlopen(url, timeout=1) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False


@contextlib.contextmanager
def running_operator(
    kubeconfig: Path, log: Path, config_name: str = "aigov-local", **env: str
) -> Iterator[Operator]:
    """Start `python -m aigov`, wait until ready, stop it (SIGTERM, graceful) afterwards."""
    webhook_port, health_port = free_port(), free_port()
    log.parent.mkdir(parents=True, exist_ok=True)
    environment = {
        **os.environ,
        "KUBECONFIG": str(kubeconfig),
        "AIGOV_MANAGE_WEBHOOKS": "true",
        "AIGOV_WEBHOOK_CONFIG_NAME": config_name,
        # Its own Lease: a demo and a test session against one cluster both reconcile.
        "AIGOV_LEASE_NAME": config_name,
        "AIGOV_WEBHOOK_PORT": str(webhook_port),
        "AIGOV_HEALTH_PORT": str(health_port),
        **env,
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "aigov"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=environment,
        )
    operator = Operator(process, log, webhook_port, health_port, config_name)
    try:
        _wait_ready(operator, 90)
        yield operator
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(operator: Operator, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not operator.ready():
        if operator.process.poll() is not None:
            raise OperatorError(
                f"operator exited ({operator.process.returncode}):\n{operator.tail()}"
            )
        if time.monotonic() > deadline:
            raise OperatorError(f"operator not ready after {seconds:.0f}s:\n{operator.tail()}")
        time.sleep(0.2)
