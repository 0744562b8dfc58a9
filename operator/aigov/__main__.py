"""`python -m aigov`: run the operator against the current kubeconfig (or in-cluster)."""

from __future__ import annotations

import sys

import kopf

import aigov.handlers  # noqa: F401 - importing registers the handlers with kopf
from aigov import logs, replicas
from aigov.config import ConfigError, Settings
from aigov.handlers.lifecycle import configure, prepare_certificates
from aigov.handlers.reports import ReportWriter
from aigov.handlers.runtime import Runtime
from aigov.recognition import load_recognition


def main(argv: list[str] | None = None) -> int:
    """Read settings once, set up logs and certificates, then hand over to kopf.

    Standalone (AIGOV_PEERING empty) this process does everything. With a peering name it
    is one of several replicas: it always serves admission and reconciles only while it
    leads the peering (aigov.replicas).
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
    if settings.peering:
        reconciling_settings = kopf.OperatorSettings()
        configure(reconciling_settings, runtime)
        return replicas.run(
            registry=kopf.get_default_registry(),
            serving_settings=kopf_settings,
            reconciling_settings=reconciling_settings,
            peering=settings.peering,
            memo={"runtime": runtime},
            pinned_priority=settings.peering_priority,
        )
    kopf.run(
        clusterwide=True,
        standalone=True,
        settings=kopf_settings,
        memo=kopf.Memo(runtime=runtime),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
