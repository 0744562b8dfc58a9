"""The decision log's I/O: sinks (stdout, rotating files), the signing key, and the task
that signs checkpoints and keeps the latest in the cluster.

What a record holds and how it is chained and checked is aigov.decisionlog (pure); this
module only moves lines. Writing a record is synchronous and cheap (one JSON encoding, one
SHA-256, one write per sink) so the admission path calls it inline; a sink that fails is
logged and counted (aigov_decision_log_sink_errors_total) and never fails the request: the
decision stands, and that copy of the log shows a gap `aigov log verify` reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kopf
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from aigov import kube, logs, metrics
from aigov.admission.outcome import Outcome
from aigov.admission.request import AdmissionRequest
from aigov.api.models import HistoryEntry
from aigov.config import ConfigError
from aigov.decisionlog import events
from aigov.decisionlog.chain import CHECKPOINT, Chain, checkpoint_fields
from aigov.decisionlog.checkpoint import Checkpoint, verifier_key
from aigov.decisionlog.record import admission_fields, governance_fields
from aigov.decisionlog.settings import LogSettings
from aigov.handlers.runtime import Runtime
from aigov.reconcile.workloads import Flag

log = logs.get("aigov.decisionlog")

ORIGIN_PREFIX = "aigov.io/decision-log"
_PRUNE_SECONDS = 3600.0


class FileSink:
    """Append-only JSON-lines files in one directory, rotated by size and UTC day.

    Files are named `decisions.<run>.<replica>.<n>.jsonl`, so sorting the names puts each
    log's files in writing order. Files older than the retention are deleted.
    """

    def __init__(self, directory: Path, stem: str, max_bytes: int, retention_days: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.stem = stem
        self.max_bytes = max_bytes
        self.retention_seconds = retention_days * 86400
        self.path: Path | None = None
        self._fd = -1
        self._size = 0
        self._day: tuple[int, int, int] | None = None
        self._index = 0

    def write(self, text: str) -> None:
        """One line, in one write(2) on an O_APPEND descriptor: a crash leaves whole lines."""
        data = (text + "\n").encode()
        day = time.gmtime()[:3]
        if self._fd < 0 or day != self._day or self._size + len(data) > self.max_bytes:
            self._rotate(day)
        os.write(self._fd, data)
        self._size += len(data)

    def _rotate(self, day: tuple[int, int, int]) -> None:
        self.close()
        self._index += 1
        self.path = self.directory / f"{self.stem}.{self._index:06d}.jsonl"
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        self._size = os.fstat(self._fd).st_size
        self._day = day

    def prune(self, now: float) -> list[Path]:
        """Delete the log files older than the retention (never the one being written)."""
        gone = []
        for path in sorted(self.directory.glob("decisions.*.jsonl")):
            if path != self.path and path.stat().st_mtime < now - self.retention_seconds:
                path.unlink(missing_ok=True)
                gone.append(path)
        return gone

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _stdout(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _previous_log(directory: Path | None, replica: str) -> dict[str, Any] | None:
    """The last record this replica wrote before (the newest of its files), to link to."""
    if directory is None or not directory.is_dir():
        return None
    files = sorted(directory.glob(f"decisions.*.{replica}.*.jsonl"))
    for path in reversed(files):
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 65536))
            lines = f.read().splitlines()
        for raw in reversed(lines):
            try:
                last = json.loads(raw)
            except ValueError:
                continue
            if isinstance(last, dict) and "hash" in last:
                return {"log": last.get("log"), "seq": last.get("seq"), "hash": last.get("hash")}
    return None


def load_key(settings: LogSettings) -> Ed25519PrivateKey:
    """The checkpoint signing key: the mounted one, or (local runs) one made now and kept in
    a private temporary directory for the life of the process."""
    if settings.key_file is not None:
        try:
            key = serialization.load_pem_private_key(settings.key_file.read_bytes(), None)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"AIGOV_DECISION_LOG_KEY_FILE={settings.key_file}: {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(f"{settings.key_file}: not an Ed25519 private key")
        return key
    key = Ed25519PrivateKey.generate()
    directory = Path(tempfile.mkdtemp(prefix="aigov-decision-log-key-"))
    (directory / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return key


class DecisionLog:
    """This replica's log: its chain, its sinks, its checkpoints."""

    def __init__(
        self, settings: LogSettings, namespace: str, key: Ed25519PrivateKey, now: dt.datetime
    ) -> None:
        self.settings = settings
        self.namespace = namespace
        self.key = key
        self.run_id = now.strftime("%Y%m%dT%H%M%SZ")
        self.entry = f"{self.run_id}.{settings.replica}"
        """This log's name in the checkpoints ConfigMap (sorts by start time)."""
        self.chain = Chain(f"{ORIGIN_PREFIX}/{settings.replica}/{self.run_id}")
        self.vkey = verifier_key(settings.key_name, key.public_key())
        self.files: FileSink | None = None
        self.sinks: list[tuple[str, Callable[[str], None]]] = []
        if settings.stdout:
            self.sinks.append(("stdout", _stdout))
        previous = _previous_log(settings.directory, settings.replica)
        if settings.directory is not None:
            self.files = FileSink(
                settings.directory,
                f"decisions.{self.run_id}.{settings.replica}",
                settings.max_file_bytes,
                settings.retention_days,
            )
            self.sinks.append(("file", self.files.write))
        self.since_checkpoint = 0
        self.due = asyncio.Event()
        self.loop = asyncio.get_running_loop()
        self.lock = threading.Lock()
        """With peering the reconciler runs in its own thread and event loop: one chain,
        so appends are serialised (uncontended, the lock costs well under a microsecond)."""
        self.latest: Checkpoint | None = None
        self.write(events.started_fields(previous))

    def write(self, fields: dict[str, Any]) -> None:
        """Seal one record and hand it to every sink; a failing sink is counted, not raised."""
        kind = str(fields.get("type"))
        with self.lock:
            now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
            text = self.chain.append(fields, now.replace("+00:00", "Z"))
            for name, sink in self.sinks:
                try:
                    sink(text)
                except Exception as exc:  # the decision stands; this copy has a gap
                    metrics.LOG_SINK_ERRORS.labels(sink=name).inc()
                    log.warning("decision log sink failed", sink=name, seq=self.chain.seq,
                                error=str(exc))  # fmt: skip
            due = False
            if kind != CHECKPOINT:
                self.since_checkpoint += 1
                due = self.since_checkpoint == self.settings.checkpoint_records
        metrics.LOG_RECORDS.labels(type=kind).inc()
        if due:
            self.loop.call_soon_threadsafe(self.due.set)

    def sign(self) -> Checkpoint:
        """Sign a checkpoint of everything so far and carry it in the log itself."""
        with self.lock:
            signed = self.chain.checkpoint(self.settings.key_name, self.key)
            self.since_checkpoint = 0
        self.write(checkpoint_fields(signed))
        self.latest = signed
        metrics.checkpointed(signed.size, time.time())
        return signed

    async def publish(self, signed: Checkpoint) -> None:
        """Keep the checkpoint in the cluster; drop the oldest logs' entries beyond the cap."""
        name = self.settings.checkpoints_configmap
        if not name:
            return
        data: dict[str, str | None] = {
            f"{self.entry}{events.CHECKPOINT_SUFFIX}": signed.note,
            f"{self.entry}{events.VKEY_SUFFIX}": self.vkey,
        }
        existing = await kube.read_configmap_data(self.namespace, name)
        for key in events.stale_entries([*(existing or {}), *data]):
            data[key] = None
        labels = {"app.kubernetes.io/name": "aigov", "app.kubernetes.io/component": "decision-log"}
        await kube.write_configmap_data(self.namespace, name, data, labels)
        metrics.CHECKPOINT_PUBLISHED.set(time.time())

    async def checkpoint_now(self) -> None:
        """Sign (if anything was logged since the last one) and publish; never raises."""
        if self.since_checkpoint == 0 and self.latest is not None:
            return
        signed = self.sign()
        try:
            await self.publish(signed)
        except Exception as exc:  # kept in the log itself meanwhile; the next one retries
            metrics.LOG_SINK_ERRORS.labels(sink="cluster").inc()
            log.warning("checkpoint not kept in the cluster", size=signed.size, error=str(exc))

    async def run(self) -> None:
        """Checkpoint every N records or T seconds; prune old files hourly."""
        pruned = 0.0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.due.wait(), self.settings.checkpoint_seconds)
            self.due.clear()
            await self.checkpoint_now()
            if self.files is not None and time.monotonic() - pruned > _PRUNE_SECONDS:
                pruned = time.monotonic()
                for path in await asyncio.to_thread(self.files.prune, time.time()):
                    log.info("decision log file past retention deleted", file=str(path))

    def close(self) -> None:
        if self.files is not None:
            self.files.close()


_current: DecisionLog | None = None


def current() -> DecisionLog | None:
    """The running log, or None before start-up (and in unit tests of the handlers)."""
    return _current


def _write(fields: dict[str, Any]) -> None:
    if _current is None:
        return
    try:
        _current.write(fields)
    except Exception as exc:  # never fail a request or a reconcile because of the log
        metrics.LOG_SINK_ERRORS.labels(sink="record").inc()
        log.warning("decision record not written", error=str(exc))


def admission(
    outcome: Outcome,
    request: AdmissionRequest,
    seconds: float,
    webhook: str,
    spec_hash: str | None = None,
) -> None:
    """Record one admission decision (every webhook's, dry runs marked). Never raises."""
    if _current is None:
        return
    try:
        fields = admission_fields(outcome, request, webhook, spec_hash)
        fields["latencyUs"] = round(seconds * 1_000_000)
    except Exception as exc:
        metrics.LOG_SINK_ERRORS.labels(sink="record").inc()
        log.warning("decision record not built", uid=request.uid, error=str(exc))
        return
    _write(fields)


def model_history(
    namespace: str, name: str, old: list[HistoryEntry], new: list[HistoryEntry]
) -> None:
    """Record the history entries a reconcile just wrote to a model's status."""
    if _current is None:
        return
    for fields in events.history_records(namespace, name, name, events.added(old, new)):
        _write(fields)


def workload(flag: Flag, event: str) -> None:
    """Record a workload flagged, unflagged, stopped or handed to a person."""
    reasons = [flag.reason] if flag.reason else []
    _write(
        governance_fields(
            events.TELL_EVENTS.get(event, event),
            actor=None,
            kind=flag.kind,
            namespace=flag.namespace,
            name=flag.name,
            model=None,
            reasons=reasons,
            api_version=flag.api_version,
        )
    )


def model_deleted(namespace: str, name: str) -> None:
    """Record that a GovernedModel is gone while the operator watched."""
    _write(
        governance_fields(
            "ModelDeleted", actor=None, kind="GovernedModel", namespace=namespace, name=name,
            model=name, api_version="aigov.io/v1alpha1",
        )
    )  # fmt: skip


@kopf.on.startup()
async def start_decision_log(*, memo: Any, **_: Any) -> None:
    """Open this replica's log before any request is served."""
    global _current  # noqa: PLW0603 - one log per process, written from every handler
    runtime: Runtime = memo.runtime
    try:
        settings = LogSettings.from_env()
        key = load_key(settings)
    except ConfigError as exc:
        raise kopf.PermanentError(f"decision log: {exc}") from exc
    decision_log = DecisionLog(settings, runtime.settings.namespace, key, dt.datetime.now(dt.UTC))
    _current = decision_log
    memo.decision_log_task = asyncio.get_running_loop().create_task(decision_log.run())
    log.info(
        "decision log started", log=decision_log.chain.origin, directory=str(settings.directory),
        verifier_key=decision_log.vkey,
    )  # fmt: skip


@kopf.on.cleanup()
async def stop_decision_log(*, memo: Any, **_: Any) -> None:
    """A last checkpoint, so the log's end is signed.

    The log stays open: kopf runs this before the webhook server stops (handlers clean up in
    the order they were registered), and a decision answered meanwhile is still written
    (unbuffered, so nothing waits in memory); the files close with the process.
    """
    task = getattr(memo, "decision_log_task", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if _current is not None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_current.checkpoint_now(), 5)
