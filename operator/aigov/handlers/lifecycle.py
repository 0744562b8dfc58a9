"""Start-up and shutdown: certificates, webhook configurations (local runs), health server."""

from __future__ import annotations

import asyncio
import base64
import tempfile
from pathlib import Path
from typing import Any

import aiohttp.web
import kopf
import prometheus_client

from aigov import certs, kube, logs, webhooks
from aigov.api.constants import FINALIZER, MODEL_LABEL
from aigov.config import Settings
from aigov.handlers import admission
from aigov.handlers.indexes import KopfIndexView
from aigov.handlers.runtime import Runtime
from aigov.handlers.server import AdmissionServer, TlsFiles

log = logs.get("aigov.lifecycle")

STARTUP_RETRY_SECONDS = 2.0
"""Between attempts of the start-up activity (kopf's default is 60 s): an operator started
while the API server is down serves soon after it is back (tests/faults measures it)."""


def prepare_certificates(settings: Settings) -> tuple[Path, bytes]:
    """The directory holding tls.crt/tls.key/ca.crt, and the CA bundle to publish.

    A mounted directory (cert-manager or the chart's Secret) wins; otherwise a CA and a
    serving certificate for the webhook host are made in a private temporary directory.
    """
    if settings.cert_dir is not None:
        return settings.cert_dir, (settings.cert_dir / "ca.crt").read_bytes()
    directory = Path(tempfile.mkdtemp(prefix="aigov-certs-"))
    ca = certs.make_ca("aigov-webhook-ca")
    leaf = certs.issue(
        ca, settings.webhook_host, hosts=(settings.webhook_host, "localhost"), server=True
    )
    leaf.write(directory / "tls.crt", directory / "tls.key")
    (directory / "ca.crt").write_bytes(ca.cert_pem)
    return directory, ca.cert_pem


def configure(kopf_settings: kopf.OperatorSettings, runtime: Runtime) -> None:
    """Our names for kopf's bookkeeping, quiet event posting, no kopf webhook server (ours
    is started by start() below)."""
    prefix = "operator.aigov.io"
    kopf_settings.persistence.finalizer = FINALIZER
    kopf_settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=prefix)
    kopf_settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=prefix, key="last-handled-configuration"
    )
    kopf_settings.posting.level = 30  # WARNING: handler chatter does not become Events
    # Only pods that name a model matter (the pods index and the reconcilers' wake-ups);
    # the API server filters the list and watch, so no replica holds every pod of the cluster.
    kopf_settings.watching.label_selectors["", "v1", "pods"] = MODEL_LABEL
    kopf_settings.admission.managed = None  # configurations come from us or the chart
    kopf_settings.admission.server = None


def _client_config(runtime: Runtime) -> dict[str, Any]:
    s = runtime.settings
    return {
        "url": f"https://{s.webhook_host}:{s.webhook_port}",
        "caBundle": base64.b64encode(runtime.ca_pem).decode(),
    }


@kopf.on.startup(backoff=STARTUP_RETRY_SECONDS)
async def start(*, memo: Any, **kwargs: Any) -> None:
    """Serve admission, health and metrics; for local runs, route the API server's webhooks
    to us.

    kopf passes start-up handlers its live indexes (empty until the watches load them):
    the admission server reads them through one KopfIndexView for the life of the process
    and refuses what it cannot judge until Runtime.ready.

    Retried until it succeeds (an operator may start while the API server is down), so each
    step is done once: a retry must not bind a port a second time.
    """
    runtime: Runtime = memo.runtime
    settings = runtime.settings
    cert_dir = runtime.cert_dir
    assert cert_dir is not None
    if getattr(memo, "admission_server", None) is None:
        server = AdmissionServer(
            admission.routes(runtime, KopfIndexView(kwargs, runtime)),
            host=settings.webhook_host,
            port=settings.webhook_port,
            tls=TlsFiles(cert=cert_dir / "tls.crt", key=cert_dir / "tls.key"),
        )
        await server.start()
        memo.admission_server = server
    if settings.health_port and getattr(memo, "health_runner", None) is None:
        memo.health_runner = await _start_health(runtime, memo.admission_server)
    if settings.manage_webhooks:
        for build in (webhooks.mutating_configuration, webhooks.validating_configuration):
            body = build(
                settings.webhook_config_name,
                _client_config(runtime),
                settings.never_intercepted,
                settings.failure_policy,
                extra_engines=settings.engines_file is not None,
            )
            await kube.apply_webhook_configuration(body)
        log.info("webhook configurations applied", name=settings.webhook_config_name)


@kopf.on.cleanup()
async def stop(*, memo: Any, **_: Any) -> None:
    """Remove what start() wrote: a stopped local operator must not block the cluster."""
    runtime: Runtime = memo.runtime
    if runtime.settings.manage_webhooks:
        for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
            await kube.delete_webhook_configuration(kind, runtime.settings.webhook_config_name)
        log.info("webhook configuration removed", name=runtime.settings.webhook_config_name)
    runner = getattr(memo, "health_runner", None)
    if runner is not None:
        await runner.cleanup()
    server = getattr(memo, "admission_server", None)
    if server is not None:
        await server.stop()


async def _listening(host: str, port: int) -> bool:
    """Whether the webhook server accepts connections (kopf starts it after its scan)."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=1)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True


DRAIN_SECONDS_MAX = 30.0
"""Longest /drain wait: within the pod's termination grace period (30 s in the chart)."""


async def _start_health(runtime: Runtime, server: AdmissionServer) -> aiohttp.web.AppRunner:
    async def healthz(_: aiohttp.web.Request) -> aiohttp.web.Response:
        return aiohttp.web.json_response({"status": "ok"})

    async def drain(request: aiohttp.web.Request) -> aiohttp.web.Response:
        """The chart's preStop hook: stop keeping admission connections alive (and answer
        not ready), then wait `seconds` while the endpoint leaves the Service; SIGTERM
        follows."""
        try:
            seconds = min(float(request.query.get("seconds", "0")), DRAIN_SECONDS_MAX)
        except ValueError:
            return aiohttp.web.json_response({"status": "seconds must be a number"}, status=400)
        server.drain()
        await asyncio.sleep(max(seconds, 0.0))
        return aiohttp.web.json_response({"status": "drained"})

    async def readyz(_: aiohttp.web.Request) -> aiohttp.web.Response:
        if server.draining:
            return aiohttp.web.json_response({"status": "draining"}, status=503)
        if not runtime.ready:
            return aiohttp.web.json_response({"status": "indexes loading"}, status=503)
        if not await _listening(runtime.settings.webhook_host, runtime.settings.webhook_port):
            return aiohttp.web.json_response({"status": "webhook not serving"}, status=503)
        return aiohttp.web.json_response({"status": "ready"})

    async def metrics(_: aiohttp.web.Request) -> aiohttp.web.Response:
        return aiohttp.web.Response(
            body=prometheus_client.generate_latest(),
            headers={"Content-Type": prometheus_client.CONTENT_TYPE_LATEST},
        )

    app = aiohttp.web.Application()
    app.add_routes(
        [
            aiohttp.web.get("/healthz", healthz),
            aiohttp.web.get("/readyz", readyz),
            aiohttp.web.get("/metrics", metrics),
            aiohttp.web.get("/drain", drain),
        ]
    )
    runner = aiohttp.web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    host = "127.0.0.1" if runtime.settings.webhook_host == "127.0.0.1" else "0.0.0.0"  # noqa: S104
    await aiohttp.web.TCPSite(runner, host, runtime.settings.health_port).start()
    log.info("health endpoint", host=host, port=runtime.settings.health_port)
    return runner
