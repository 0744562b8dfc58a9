"""The decision log's settings: one typed object read once from the environment.

Separate from aigov.config.Settings so the log can be configured (and tested) on its own;
the Helm chart sets the same variables.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aigov.config import ConfigError


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        number = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r}: expected an integer") from exc
    if not low <= number <= high:
        raise ConfigError(f"{name}={number}: expected {low}..{high}")
    return number


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={raw!r}: expected true or false")


_NAME = re.compile(r"[A-Za-z0-9][-A-Za-z0-9_.]*")


@dataclass(frozen=True)
class LogSettings:
    """How the decision log is written, signed, kept and published."""

    directory: Path | None = None
    """Directory of the rotating file sink (AIGOV_DECISION_LOG_DIR), e.g. a mounted PVC.
    Unset: no file sink (stdout only)."""

    stdout: bool = True
    """Write each record as one JSON line on stdout for the cluster's log collector
    (AIGOV_DECISION_LOG_STDOUT)."""

    checkpoint_records: int = 1000
    """Sign a checkpoint after this many records (AIGOV_DECISION_LOG_CHECKPOINT_RECORDS)."""

    checkpoint_seconds: int = 60
    """...or after this many seconds, whichever comes first, if anything was logged since
    the last one (AIGOV_DECISION_LOG_CHECKPOINT_SECONDS)."""

    key_file: Path | None = None
    """PEM (PKCS#8) Ed25519 private key that signs checkpoints (AIGOV_DECISION_LOG_KEY_FILE);
    the chart mounts it from a Secret it generates once. Unset (local runs): a key is made
    at start-up and its verifier key published with the checkpoints."""

    key_name: str = "aigov.io/decision-log"
    """The signer's name in signature lines (AIGOV_DECISION_LOG_KEY_NAME)."""

    retention_days: int = 183
    """Log files older than this are deleted (AIGOV_DECISION_LOG_RETENTION_DAYS); EU AI Act
    Art. 19(1) and 26(6) ask for at least six months."""

    max_file_bytes: int = 64 * 1024 * 1024
    """A log file is rotated when it reaches this size, or at midnight UTC
    (AIGOV_DECISION_LOG_MAX_FILE_BYTES)."""

    checkpoints_configmap: str = "aigov-checkpoints"
    """ConfigMap in the operator's namespace keeping each log's latest checkpoint
    (AIGOV_DECISION_LOG_CONFIGMAP); empty keeps none in the cluster."""

    replica: str = ""
    """This replica's name in its log's origin (AIGOV_DECISION_LOG_REPLICA, else POD_NAME,
    else the host name)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LogSettings:
        """Read from `env` (default os.environ); ConfigError names a bad variable."""
        e = os.environ if env is None else env
        d = cls()
        directory = e.get("AIGOV_DECISION_LOG_DIR", "").strip()
        key_file = e.get("AIGOV_DECISION_LOG_KEY_FILE", "").strip()
        key_name = e.get("AIGOV_DECISION_LOG_KEY_NAME", d.key_name).strip()
        if not key_name or any(c.isspace() for c in key_name) or "+" in key_name:
            raise ConfigError(f"AIGOV_DECISION_LOG_KEY_NAME={key_name!r}: no spaces or '+'")
        replica = (
            e.get("AIGOV_DECISION_LOG_REPLICA") or e.get("POD_NAME") or socket.gethostname()
        ).strip()
        if not _NAME.fullmatch(replica):
            raise ConfigError(
                f"replica name {replica!r}: letters, digits, '-', '_' and '.' only "
                "(AIGOV_DECISION_LOG_REPLICA)"
            )
        return cls(
            directory=Path(directory) if directory else None,
            stdout=_bool(e, "AIGOV_DECISION_LOG_STDOUT", d.stdout),
            checkpoint_records=_int(
                e, "AIGOV_DECISION_LOG_CHECKPOINT_RECORDS", d.checkpoint_records, 1, 10**9
            ),
            checkpoint_seconds=_int(
                e, "AIGOV_DECISION_LOG_CHECKPOINT_SECONDS", d.checkpoint_seconds, 1, 86400
            ),
            key_file=Path(key_file) if key_file else None,
            key_name=key_name,
            retention_days=_int(e, "AIGOV_DECISION_LOG_RETENTION_DAYS", d.retention_days, 1, 36500),
            max_file_bytes=_int(
                e, "AIGOV_DECISION_LOG_MAX_FILE_BYTES", d.max_file_bytes, 4096, 2**40
            ),
            checkpoints_configmap=e.get(
                "AIGOV_DECISION_LOG_CONFIGMAP", d.checkpoints_configmap
            ).strip(),
            replica=replica,
        )
