"""The start-up activity is retried until it succeeds (an operator may start while the API
server is down): a retry must not fail on what the first attempt already did."""

from __future__ import annotations

import socket
from types import SimpleNamespace

import aiohttp

from aigov.config import Settings
from aigov.handlers import lifecycle
from aigov.handlers.runtime import Runtime


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


INDEXES = {name: {} for name in ("namespace_modes", "namespace_signed", "model_pods")}
"""What kopf passes start-up handlers: its (here empty) indexes by name."""


async def test_a_retried_start_keeps_the_servers_it_opened() -> None:
    settings = Settings(
        health_port=_free_port(), webhook_port=_free_port(), webhook_host="127.0.0.1"
    )
    runtime = Runtime(settings=settings)
    runtime.cert_dir, runtime.ca_pem = lifecycle.prepare_certificates(settings)
    memo = SimpleNamespace(runtime=runtime)
    await lifecycle.start(memo=memo, **INDEXES)
    first, server = memo.health_runner, memo.admission_server
    try:
        # What kopf does after a failed first attempt: binding a port twice would fail.
        await lifecycle.start(memo=memo, **INDEXES)
        assert memo.health_runner is first
        assert memo.admission_server is server
        url = f"http://127.0.0.1:{settings.health_port}/healthz"
        async with aiohttp.ClientSession() as session, session.get(url) as resp:
            assert resp.status == 200
    finally:
        await first.cleanup()
        await server.stop()
