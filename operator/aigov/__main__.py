"""`python -m aigov`: run the operator against the current kubeconfig (or in-cluster)."""

from __future__ import annotations

import random
import sys

import kopf

import aigov.handlers  # noqa: F401 - importing registers the handlers with kopf
from aigov import logs
from aigov.config import ConfigError, Settings
from aigov.handlers.lifecycle import configure, prepare_certificates
from aigov.handlers.runtime import Runtime


def main(argv: list[str] | None = None) -> int:
    """Read settings once, set up logs and certificates, then hand over to kopf."""
    del argv
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"aigov: configuration error: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level)
    runtime = Runtime(settings=settings)
    runtime.cert_dir, runtime.ca_pem = prepare_certificates(settings)
    kopf_settings = kopf.OperatorSettings()
    configure(kopf_settings, runtime)
    kopf.run(
        clusterwide=True,
        standalone=not settings.peering,
        peering_name=settings.peering or None,
        priority=random.randint(1, 2**31 - 1),  # noqa: S311 - a tie-breaker, not a secret
        settings=kopf_settings,
        memo=kopf.Memo(runtime=runtime),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
