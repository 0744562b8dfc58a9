"""The decision log's I/O: files rotate and expire, a failing sink never fails the caller,
checkpoints are carried in the log, and `aigov log verify` reads what was written."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import time
import types
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from prometheus_client import REGISTRY

from aigov import cli
from aigov.admission.outcome import Outcome
from aigov.admission.request import AdmissionRequest, UserInfo
from aigov.api.constants import Mode, Reason
from aigov.api.models import HistoryEntry
from aigov.config import ConfigError, Settings
from aigov.decisionlog.settings import LogSettings
from aigov.handlers import decisionlog
from aigov.handlers.runtime import Runtime
from aigov.policy.decision import Decision, Violation
from aigov.reconcile.workloads import Flag

REQUEST = AdmissionRequest(
    uid="u-1",
    operation="CREATE",
    group="",
    version="v1",
    resource="pods",
    kind="Pod",
    namespace="risk",
    name="p",
    user=UserInfo("alice", ("ml-engineers",)),
)
REFUSED = Outcome(Decision([Violation(Reason.NOT_APPROVED, "m", "metadata")]), Mode.ENFORCE)


def settings(directory: Path, **kw: object) -> LogSettings:
    base: dict[str, object] = {"directory": directory, "stdout": False, "replica": "r1"}
    base.update(kw)
    return LogSettings(**base)  # type: ignore[arg-type]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_file_sink_rotates_by_size_and_prunes_past_retention(tmp_path: Path) -> None:
    sink = decisionlog.FileSink(tmp_path, "decisions.x.r1", max_bytes=4096, retention_days=1)
    for i in range(100):
        sink.write(json.dumps({"i": i, "pad": "x" * 100}))
    files = sorted(tmp_path.glob("*.jsonl"))
    assert len(files) >= 3
    assert all(f.stat().st_size <= 4096 for f in files)
    assert sum(len(f.read_text().splitlines()) for f in files) == 100
    old = files[0]
    os.utime(old, (time.time() - 2 * 86400, time.time() - 2 * 86400))
    assert sink.prune(time.time()) == [old]
    assert not old.exists()
    sink.close()


async def _write_and_checkpoint(tmp_path: Path) -> decisionlog.DecisionLog:
    log = decisionlog.DecisionLog(
        settings(tmp_path, checkpoint_records=3, checkpoints_configmap=""),
        "aigov-system",
        Ed25519PrivateKey.generate(),
        dt.datetime(2026, 12, 2),
    )
    decisionlog._current = log
    try:
        before = sample("aigov_decision_log_records_total", type="admission")
        for _ in range(5):
            decisionlog.admission(REFUSED, REQUEST, 0.0002, "validate-workloads")
        assert sample("aigov_decision_log_records_total", type="admission") == before + 5
        await asyncio.sleep(0)  # the wake-up is scheduled thread-safely
        assert log.due.is_set()  # 3 records since the start: a checkpoint is due
        await log.checkpoint_now()
        assert log.latest is not None
        assert sample("aigov_decision_log_checkpoint_size") == log.latest.size == 6
    finally:
        decisionlog._current = None
        log.close()
    return log


def test_records_go_to_the_file_and_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = asyncio.run(_write_and_checkpoint(tmp_path))
    (path,) = tmp_path.glob("decisions.20261202T000000Z.r1.*.jsonl")
    records = [json.loads(t) for t in path.read_text().splitlines()]
    assert [r["type"] for r in records] == ["governance"] + ["admission"] * 5 + ["checkpoint"]
    assert records[1]["outcome"] == "refused"
    assert records[1]["latencyUs"] == 200
    assert records[1]["log"] == "aigov.io/decision-log/r1/20261202T000000Z"
    key = tmp_path / "key.vkey"
    key.write_text(log.vkey)
    assert cli.main(["log", "verify", str(tmp_path), "--key", str(key)]) == 0
    out = capsys.readouterr().out
    assert "OK: intact" in out
    assert "1 checkpoint roots compared, 1 signatures checked" in out


async def test_a_failing_sink_is_counted_and_never_raises(tmp_path: Path) -> None:
    log = decisionlog.DecisionLog(
        settings(tmp_path, checkpoints_configmap=""),
        "ns",
        Ed25519PrivateKey.generate(),
        dt.datetime(2026, 12, 2),
    )

    def broken(_: str) -> None:
        raise OSError("disk full")

    log.sinks.append(("broken", broken))
    decisionlog._current = log
    try:
        before = sample("aigov_decision_log_sink_errors_total", sink="broken")
        decisionlog.admission(REFUSED, REQUEST, 0.001, "validate-workloads")
        assert sample("aigov_decision_log_sink_errors_total", sink="broken") == before + 1
        assert log.chain.seq == 2  # the record was sealed and the file sink still got it
    finally:
        decisionlog._current = None
        log.close()


async def _two_runs(tmp_path: Path) -> decisionlog.DecisionLog:
    key = Ed25519PrivateKey.generate()
    first = decisionlog.DecisionLog(
        settings(tmp_path, checkpoints_configmap=""), "ns", key, dt.datetime(2026, 12, 2)
    )
    first.write({"type": "governance", "outcome": "Approved", "controls": []})
    first.close()
    second = decisionlog.DecisionLog(
        settings(tmp_path, checkpoints_configmap=""), "ns", key, dt.datetime(2026, 12, 3)
    )
    second.close()
    return first


def test_a_restart_links_to_the_previous_log(tmp_path: Path) -> None:
    first = asyncio.run(_two_runs(tmp_path))
    files = sorted(tmp_path.glob("*.jsonl"))
    started = json.loads(files[-1].read_text().splitlines()[0])
    assert started["outcome"] == "LogStarted"
    assert started["previousLog"] == {
        "log": first.chain.origin,
        "seq": 2,
        "hash": first.chain.last_hash,
    }


def test_verify_cli_reports_an_edit_with_its_position_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def write() -> None:
        log = decisionlog.DecisionLog(
            settings(tmp_path, checkpoints_configmap=""),
            "ns",
            Ed25519PrivateKey.generate(),
            dt.datetime(2026, 12, 2),
        )
        for _ in range(4):
            log.write({"type": "admission", "outcome": "admitted", "controls": []})
        log.close()

    asyncio.run(write())
    (path,) = tmp_path.glob("*.jsonl")
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace('"admitted"', '"refused"')
    path.write_text("\n".join(lines) + "\n")
    assert cli.main(["log", "verify", str(path), "-o", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    (problem,) = report["problems"]
    assert (problem["kind"], problem["file"], problem["line"], problem["seq"]) == (
        "altered",
        str(path),
        3,
        3,
    )


def test_verify_cli_says_what_is_wrong_with_its_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["log", "verify", str(tmp_path / "missing")]) == 2
    assert "no such file or directory" in capsys.readouterr().err
    assert cli.main(["log", "verify", str(tmp_path)]) == 2
    assert "no *.jsonl log files" in capsys.readouterr().err
    (tmp_path / "a.jsonl").write_text("")
    (tmp_path / "bad.note").write_text("not a note")
    assert (
        cli.main(["log", "verify", str(tmp_path), "--checkpoint", str(tmp_path / "bad.note")]) == 2
    )
    assert "no blank line" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AIGOV_DECISION_LOG_CHECKPOINT_RECORDS": "0"}, "expected 1..1000000000"),
        ({"AIGOV_DECISION_LOG_STDOUT": "maybe"}, "expected true or false"),
        ({"AIGOV_DECISION_LOG_KEY_NAME": "a b"}, "no spaces"),
        ({"AIGOV_DECISION_LOG_REPLICA": "a/b"}, "letters, digits"),
        ({"AIGOV_DECISION_LOG_RETENTION_DAYS": "x"}, "expected an integer"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        LogSettings.from_env({"AIGOV_DECISION_LOG_REPLICA": "r", **env})


def test_settings_defaults_keep_six_months() -> None:
    s = LogSettings.from_env({"POD_NAME": "aigov-abc"})
    assert (s.retention_days, s.checkpoint_records, s.checkpoint_seconds) == (183, 1000, 60)
    assert s.replica == "aigov-abc"
    assert s.directory is None


async def _governance(tmp_path: Path) -> decisionlog.DecisionLog:
    log = decisionlog.DecisionLog(
        settings(tmp_path, checkpoints_configmap=""),
        "ns",
        Ed25519PrivateKey.generate(),
        dt.datetime(2026, 12, 2),
    )
    decisionlog._current = log
    try:
        old = [
            HistoryEntry.model_validate(
                {
                    "time": "2026-12-02T10:00:00Z",
                    "event": "Created",
                    "actor": "alice",
                    "specHash": "aa" * 32,
                }
            )
        ]
        new = [
            *old,
            HistoryEntry.model_validate(
                {
                    "time": "2026-12-02T11:00:00Z",
                    "event": "Assessed",
                    "actor": "bob",
                    "specHash": "aa" * 32,
                }
            ),
            HistoryEntry.model_validate(
                {
                    "time": "2026-12-02T12:00:00Z",
                    "event": "Approved",
                    "actor": "carol",
                    "specHash": "aa" * 32,
                }
            ),
        ]
        decisionlog.model_history("risk", "scorer", old, new)
        flag = Flag("Deployment", "apps/v1", "risk", "llm", "uid-1", None, "Revoked")
        decisionlog.workload(flag, "AigovFlagged")
        decisionlog.model_deleted("risk", "scorer")
    finally:
        decisionlog._current = None
        log.close()
    return log


def test_governance_events_are_records_with_who_acted(tmp_path: Path) -> None:
    asyncio.run(_governance(tmp_path))
    (path,) = tmp_path.glob("*.jsonl")
    records = [json.loads(t) for t in path.read_text().splitlines()][1:]
    assert [(r["outcome"], r["user"]) for r in records] == [
        ("Assessed", "bob"),
        ("Approved", "carol"),
        ("WorkloadFlagged", None),
        ("ModelDeleted", None),
    ]
    assessed, approved, flagged, deleted = records
    assert assessed["object"] == {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "GovernedModel",
        "namespace": "risk",
        "name": "scorer",
    }
    assert approved["specHash"] == "aa" * 32
    assert {"A.5.2", "Art.9"} <= set(assessed["controls"])
    assert {"A.3.2", "Art.14"} <= set(approved["controls"])
    assert flagged["object"]["name"] == "llm"
    assert flagged["reasons"] == [{"code": "Revoked", "path": ""}]
    assert "Art.26(5)" in flagged["controls"]
    assert deleted["model"] == "scorer"


def test_checkpoint_age_is_exported() -> None:
    from aigov import metrics

    metrics.checkpointed(7, time.time() - 5)
    age = sample("aigov_decision_log_checkpoint_age_seconds")
    assert 5 <= age < 60


async def _start_and_stop(tmp_path: Path) -> None:
    memo = types.SimpleNamespace(runtime=Runtime(settings=Settings()))
    await decisionlog.start_decision_log(memo=memo)
    try:
        assert decisionlog.current() is not None
        decisionlog.admission(REFUSED, REQUEST, 0.001, "validate-workloads")
        await decisionlog.stop_decision_log(memo=memo)
        # Still open after the last checkpoint: a decision answered while the server stops
        # is still written.
        decisionlog.admission(REFUSED, REQUEST, 0.001, "validate-workloads")
    finally:
        log = decisionlog.current()
        decisionlog._current = None
        if log is not None:
            log.close()


def test_start_opens_the_log_and_stop_signs_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIGOV_DECISION_LOG_DIR", str(tmp_path))
    monkeypatch.setenv("AIGOV_DECISION_LOG_CONFIGMAP", "")
    monkeypatch.setenv("AIGOV_DECISION_LOG_STDOUT", "false")
    monkeypatch.setenv("AIGOV_DECISION_LOG_REPLICA", "unit")
    asyncio.run(_start_and_stop(tmp_path))
    (path,) = tmp_path.glob("decisions.*.unit.000001.jsonl")
    types_written = [json.loads(t)["type"] for t in path.read_text().splitlines()]
    assert types_written == ["governance", "admission", "checkpoint", "admission"]


def test_a_bad_setting_stops_the_start_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    import kopf

    monkeypatch.setenv("AIGOV_DECISION_LOG_RETENTION_DAYS", "soon")
    memo = types.SimpleNamespace(runtime=Runtime(settings=Settings()))
    with pytest.raises(kopf.PermanentError, match="AIGOV_DECISION_LOG_RETENTION_DAYS"):
        asyncio.run(decisionlog.start_decision_log(memo=memo))
