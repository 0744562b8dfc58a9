"""A TCP round-robin proxy in front of several operator replicas, like a Service.

Why: the rolling-restart measurement needs two local operator processes behind one webhook
address, as the chart's webhook configuration points at one Service in front of its pods.
Like kube-proxy it forwards bytes (TLS passes through untouched, so the API server checks
the operators' own certificate), pins each connection to one backend for its life, sends new
connections only to backends whose readiness endpoint answers 200 (the Service's endpoints
are the ready pods, judged as the kubelet does: ready on one success, not ready after three
failed probes in a row, so one slow answer under load does not pull a replica), and skips a
backend whose connect fails. With no ready backend it tries every one, so a lone starting
replica is still reached (what it answers then is measured).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Backend:
    """One replica: where its webhook listens, and its readiness URL."""

    port: int
    ready_url: str
    ready: bool = False
    failed_probes: int = 0
    connections: int = 0

    def probed(self, ok: bool, failure_threshold: int = 3) -> None:
        """Record one readiness probe (the kubelet's successThreshold 1, failureThreshold 3)."""
        self.failed_probes = 0 if ok else self.failed_probes + 1
        if ok:
            self.ready = True
        elif self.failed_probes >= failure_threshold:
            self.ready = False


@dataclass
class RoundRobinProxy:
    """Listens on 127.0.0.1:`port` in a thread of its own; `stop()` ends it."""

    backends: Sequence[Backend]
    port: int
    probe_interval_s: float = 0.5
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _started: threading.Event = field(default_factory=threading.Event)
    _stopping: asyncio.Event | None = None
    _next: int = 0
    refused_connections: int = 0
    """Client connections closed because no backend accepted them."""

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="bench-proxy", daemon=True)
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError(f"the proxy did not start listening on 127.0.0.1:{self.port}")

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        probes = asyncio.create_task(self._probe_forever())
        self._started.set()
        async with server:
            await self._stopping.wait()
        probes.cancel()

    async def _probe_forever(self) -> None:
        while True:
            answers = await asyncio.gather(
                *(asyncio.to_thread(_ready, b.ready_url) for b in self.backends)
            )
            for backend, ok in zip(self.backends, answers, strict=True):
                backend.probed(ok)
            await asyncio.sleep(self.probe_interval_s)

    def _order(self) -> list[Backend]:
        """Ready backends first, round robin among them; then the others."""
        count = len(self.backends)
        start = self._next
        self._next = (self._next + 1) % count
        rotated = [self.backends[(start + i) % count] for i in range(count)]
        return [b for b in rotated if b.ready] + [b for b in rotated if not b.ready]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for backend in self._order():
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", backend.port)
            except OSError:
                continue
            backend.connections += 1
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
            return
        self.refused_connections += 1
        writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError):
            writer.close()


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - loopback only
            return bool(resp.status == 200)
    except OSError:
        return False
