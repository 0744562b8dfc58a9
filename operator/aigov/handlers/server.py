"""The admission web server: plain aiohttp over TLS, one POST route per webhook path.

Why not kopf's webhook server: per review it deep-copies the object to build a patch that is
empty on every validation, parses the body twice, diffs, builds a cause and matches every
handler; the same decision costs 2-3 times less CPU here (issue 10). This server parses the
body once (orjson), hands the parsed request to a route (aigov.handlers.admission), and
writes the answer. Nothing a client sends can take it down: a body that is not JSON or not
an AdmissionReview gets a clear 400 refusal, an exception in a route a clear refusal (never a
stack trace), and every answer carries the request's uid.

The serving certificate is read from files (made at start-up, or mounted from a Secret that
cert-manager or the chart renews); the server checks them every few seconds and loads new
ones into the live TLS context, so a renewed certificate is served without a restart, and
closes its keep-alive connections so that the API server's next call shakes hands again.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp.web
import orjson

from aigov import logs
from aigov.admission import response
from aigov.admission.request import AdmissionRequest, MalformedReview, parse_review

log = logs.get("aigov.webhook")

MAX_REVIEW_BYTES = 8 * 1024 * 1024
"""Largest AdmissionReview read: an object and its old object at the API server's 3 MiB
each, with room. aiohttp's default (1 MiB) would answer a large object with a 413, which the
API server treats as a failed call (failurePolicy), not a verdict."""

CERT_CHECK_SECONDS = 5.0
"""How often the certificate files are checked for a renewal."""

KEEPALIVE_SECONDS = 120.0
"""How long an idle keep-alive connection is kept. Longer than the API server's own idle
timeout for webhook connections (90 s, Go's default transport), so the client ends an idle
connection, never the server: a server closing it would race the client's next request on
it, which then fails ("EOF") and the failurePolicy decides (aiohttp's default is 75 s)."""

Route = Callable[[AdmissionRequest], Awaitable[dict[str, Any]]]
"""A webhook path's handler: the parsed request in, the AdmissionReview answer out."""


@dataclass(frozen=True)
class TlsFiles:
    """The serving certificate and key (PEM files; the key is never logged)."""

    cert: Path
    key: Path

    def stamp(self) -> tuple[float, float]:
        """Modification times: a change means a renewed certificate."""
        return (self.cert.stat().st_mtime, self.key.stat().st_mtime)


def _json(body: Mapping[str, Any], status: int = 200) -> aiohttp.web.Response:
    return aiohttp.web.Response(
        body=orjson.dumps(body), status=status, content_type="application/json"
    )


class AdmissionServer:
    """Serves `routes` (webhook path -> Route) on host:port over TLS."""

    def __init__(self, routes: Mapping[str, Route], *, host: str, port: int, tls: TlsFiles) -> None:
        self._routes = dict(routes)
        self._host = host
        self._port = port
        self._tls = tls
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._context.load_cert_chain(tls.cert, tls.key)
        self._stamp = tls.stamp()
        self._runner: aiohttp.web.AppRunner | None = None
        self._watcher: asyncio.Task[None] | None = None
        self.draining = False
        """Set by drain(): every answer closes its connection."""

    async def start(self) -> None:
        app = aiohttp.web.Application(client_max_size=MAX_REVIEW_BYTES)
        app.router.add_post("/{path}", self._handle)
        self._runner = aiohttp.web.AppRunner(
            app, handle_signals=False, access_log=None, keepalive_timeout=KEEPALIVE_SECONDS
        )
        await self._runner.setup()
        site = aiohttp.web.TCPSite(
            self._runner, self._host, self._port, ssl_context=self._context, backlog=1024
        )
        await site.start()
        self._watcher = asyncio.get_running_loop().create_task(self._watch_certificates())
        log.info("admission server listening", host=self._host, port=self._port)

    def drain(self) -> None:
        """Stop keeping connections alive: from now on every answer says `Connection: close`
        and closes its connection; the idle ones are closed by stop().

        For a replica about to stop (the chart's preStop calls /drain on the health port,
        waits, then SIGTERM stops the server): the API server's keep-alive connections to
        this pod would otherwise be closed under it, and a request sent on one in that
        instant fails ("EOF"), which the failurePolicy decides. Every connection the API
        server uses during the wait is ended by the client after its answer and reconnects
        through the Service to a replica that stays. Idle ones are left alone until stop():
        closing one races the client picking it, and the later that happens, the deeper it
        sits in the client's most-recently-used-first pool and the less likely it is picked.
        """
        if not self.draining:
            self.draining = True
            log.info("admission server draining: connections are no longer kept alive")

    async def stop(self) -> None:
        self.drain()
        self._close_idle_connections()
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        if self._runner is not None:
            await self._runner.cleanup()

    def reload_certificates(self) -> bool:
        """Load the certificate files again if they changed; True when reloaded.

        A half-written pair (a Secret update in progress) fails to load: the old certificate
        stays until the next check finds a consistent pair.
        """
        try:
            stamp = self._tls.stamp()
            if stamp == self._stamp:
                return False
            self._context.load_cert_chain(self._tls.cert, self._tls.key)
        except (OSError, ssl.SSLError) as exc:
            log.warning("serving certificate not reloaded", error=str(exc))
            return False
        self._stamp = stamp
        self._close_idle_connections()
        log.info("serving certificate reloaded", cert=str(self._tls.cert))
        return True

    def _close_idle_connections(self) -> None:
        """Close open keep-alive connections: the API server's client would otherwise keep
        using sessions made with the old certificate, and only new connections see the new
        one (or an expired one: then it fails closed now, not whenever the connection
        happens to be dropped).

        An idle connection is closed at once; one serving a request after its answer.
        aiohttp's graceful close() alone leaves an idle connection open but deaf, so the
        client's next request on it would hang until its timeout; whether a request is in
        progress is not public in aiohttp 3.14 (tests/unit/test_server_guard.py checks
        the behaviour).
        """
        server = self._runner.server if self._runner is not None else None
        for connection in server.connections if server is not None else ():
            if getattr(connection, "_request_in_progress", True):
                connection.close()
            else:
                connection.force_close()

    async def _watch_certificates(self) -> None:
        while True:
            await asyncio.sleep(CERT_CHECK_SECONDS)
            self.reload_certificates()

    async def _handle(self, web_request: aiohttp.web.Request) -> aiohttp.web.Response:
        route = self._routes.get(web_request.match_info["path"])
        if route is None:
            return _json(response.refusal("", 400, "aigov: no webhook at this path"), 404)
        try:
            body = orjson.loads(await web_request.read())
        except orjson.JSONDecodeError as exc:
            return _json(
                response.refusal("", 400, f"aigov: the request body is not JSON: {exc}"), 400
            )
        try:
            parsed = parse_review(body)
        except MalformedReview as exc:
            uid = response.uid_of(body)
            log.warning("malformed admission review", error=str(exc), uid=uid)
            # HTTP 200: the API server shows the message to the user as the refusal.
            return _json(response.refusal(uid, 400, f"aigov: malformed AdmissionReview: {exc}"))
        try:
            answer = _json(await route(parsed))
        except Exception as exc:
            # A bug of ours must not take the server down nor leak a stack trace to users.
            log.exception("admission handler crashed", uid=parsed.uid)
            return _json(
                response.refusal(
                    parsed.uid,
                    500,
                    f"aigov could not review this request (internal error: {type(exc).__name__}); "
                    "the operator log has the details",
                )
            )
        if self.draining:
            answer.force_close()
        return answer
