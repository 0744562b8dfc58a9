"""`python -m aigov`: run the operator against the current kubeconfig (or in-cluster)."""

from __future__ import annotations

import asyncio
import sys

import kopf
import uvloop

import aigov.handlers  # noqa: F401 - importing registers the handlers with kopf
from aigov import logs
from aigov.config import ConfigError, Settings
from aigov.handlers.lifecycle import configure, prepare_certificates
from aigov.handlers.reports import ReportWriter
from aigov.handlers.runtime import Runtime
from aigov.recognition import load_recognition


def main(argv: list[str] | None = None) -> int:
    """Read settings once, set up logs and certificates, then hand over to kopf.

    One kopf operator per process: every replica watches, indexes and serves admission; the
    model reconcilers run only in the replica holding the leader Lease (handlers.leadership).
    """
    del argv
    try:
        settings = Settings.from_env()
        recognition = load_recognition(settings)
    except ConfigError as exc:
        print(f"aigov: configuration error: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level)
    runtime = Runtime(
        settings=settings,
        recognition=recognition,
        reports=ReportWriter.for_setting(settings.reports, recognition),
    )
    runtime.cert_dir, runtime.ca_pem = prepare_certificates(settings)
    kopf_settings = kopf.OperatorSettings()
    configure(kopf_settings, runtime)
    # uvloop: the admission server's TLS and HTTP handling cost about a tenth less CPU per
    # review than on asyncio's own loop (issue 10); the Runner closes the loop, its async
    # generators and the default thread pool at exit, which kopf.run(loop=...) leaves to us.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        kopf.run(
            loop=runner.get_loop(),
            clusterwide=True,
            standalone=True,
            settings=kopf_settings,
            memo=kopf.Memo(runtime=runtime),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
