"""The decision log end to end: refused, warned and admitted requests and governance events
each leave a chained record; `aigov log verify` finds a deleted or edited record by its
position; checkpoints are signed and kept in the cluster."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tools.controlplane.operator import Operator
from tools.kubectl import Kube

from tests.e2e import governed, manifests
from tests.e2e.conftest import OPERATOR_NAMESPACE
from tests.e2e.governed import ALICE, IMAGE

BIN = Path(sys.executable).parent
CONFIGMAP = "aigov-checkpoints"


def _records(directory: Path) -> list[dict[str, Any]]:
    return [
        json.loads(text)
        for path in sorted(directory.glob("*.jsonl"))
        for text in path.read_text().splitlines()
        if text.strip()
    ]


def _find(
    kube: Kube, directory: Path, what: str, match: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    found: list[dict[str, Any]] = []

    def present() -> bool:
        found[:] = [r for r in _records(directory) if match(r)]
        return bool(found)

    kube.wait_for(present, what, 60)
    return found[-1]


def _aigov(kube: Kube, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        "KUBECONFIG": str(kube.kubeconfig),
        "HOME": os.environ.get("HOME", "/tmp"),
    }
    return subprocess.run(["aigov", *args], env=env, capture_output=True, text=True, check=False)


def _on(ns: str, name: str) -> Callable[[dict[str, Any]], bool]:
    def match(record: dict[str, Any]) -> bool:
        obj = record.get("object") or {}
        return obj.get("namespace") == ns and obj.get("name") == name

    return match


def test_refused_warned_admitted_and_governance_events_leave_records(
    kube: Kube, operator: Operator, decision_log_dir: Path, unique: str
) -> None:
    enforce = kube.namespace(f"declog-{unique}", mode="enforce")
    warn = kube.namespace(f"declog-warn-{unique}", mode="warn")
    governed.bind_personas(kube, enforce)
    governed.bind_personas(kube, warn)

    refused = kube.apply(manifests.deployment("llm", enforce, gpus=1), user=ALICE)
    assert not refused.ok
    record = _find(kube, decision_log_dir, "the refusal's record", _on(enforce, "llm"))
    assert record["type"] == "admission"
    assert record["outcome"] == "refused"
    assert record["mode"] == "enforce"
    assert record["user"] == "alice"
    assert "ml-engineers" in record["groups"]
    assert record["operation"] == "CREATE"
    assert record["object"]["kind"] == "Deployment"
    assert [r["code"] for r in record["reasons"]] == ["UngovernedWorkload"]
    assert all(r["path"] for r in record["reasons"])
    assert {"A.6.2.8", "Art.12"} <= set(record["controls"])
    assert record["dryRun"] is False
    assert record["uid"]

    warned = kube.apply(manifests.deployment("llm", warn, gpus=1, replicas=0), user=ALICE)
    assert warned.ok, warned.stderr
    record = _find(kube, decision_log_dir, "the warning's record", _on(warn, "llm"))
    assert (record["outcome"], record["mode"]) == ("warned", "warn")

    governed.govern(kube, enforce, "scorer")
    manifest = manifests.deployment(
        "scorer", enforce, gpus=1, model="scorer", replicas=0, image=IMAGE
    )
    dry = kube.run("apply", "--dry-run=server", "-f", "-", user=ALICE, stdin=json.dumps(manifest))
    assert dry.ok, dry.stderr
    record = _find(
        kube,
        decision_log_dir,
        "the dry run's record",
        lambda r: _on(enforce, "scorer")(r) and r.get("dryRun") is True,
    )
    assert record["outcome"] == "admitted"
    admitted = kube.apply(manifest, user=ALICE)
    assert admitted.ok, admitted.stderr
    record = _find(
        kube,
        decision_log_dir,
        "the admission's record",
        lambda r: (
            _on(enforce, "scorer")(r)
            and r.get("type") == "admission"
            and r.get("dryRun") is False
            and r.get("object", {}).get("kind") == "Deployment"
        ),
    )
    assert (record["outcome"], record["model"], record["user"]) == ("admitted", "scorer", "alice")

    # The reconciler's history of the model, one record per event, with who acted.
    for event, actor in (("Created", "alice"), ("Assessed", "bob"), ("Approved", "carol")):
        record = _find(
            kube,
            decision_log_dir,
            f"the model's {event} record",
            lambda r, e=event: _on(enforce, "scorer")(r) and r.get("outcome") == e,
        )
        assert record["type"] == "governance"
        assert record["user"] == actor
        assert record["specHash"]
    kube.run("delete", "deployment", "scorer", "llm", "-n", enforce, "--ignore-not-found")


def _checkpoint_entry(kube: Kube, origin: str) -> tuple[str, dict[str, str]]:
    """The ConfigMap key of the checkpoint of log `origin`, and the ConfigMap's data. Other
    operators of the session (chart replicas, the certificate test's) keep theirs there too:
    each replica run is its own log."""
    found: dict[str, str] = {}

    def mine() -> list[str]:
        return [
            k
            for k, v in found.items()
            if k.endswith(".checkpoint") and v.splitlines()[:1] == [origin]
        ]

    def kept() -> bool:
        result = kube.run("get", "configmap", CONFIGMAP, "-n", OPERATOR_NAMESPACE, "-o", "json")
        if not result.ok:
            return False
        found.update(json.loads(result.stdout).get("data") or {})
        return bool(mine())

    kube.wait_for(kept, f"a checkpoint of {origin} in ConfigMap {CONFIGMAP}", 60)
    (name,) = mine()
    return name, found


def test_a_checkpoint_is_kept_in_the_cluster_and_the_log_verifies_against_it(
    kube: Kube, operator: Operator, decision_log_dir: Path, tmp_path: Path
) -> None:
    origin = next(r["log"] for r in _records(decision_log_dir) if "log" in r)
    name, data = _checkpoint_entry(kube, origin)
    note = data[name]
    origin = note.splitlines()[0]
    assert origin.startswith("aigov.io/decision-log/")
    assert "\n\n\u2014 aigov.io/decision-log " in note
    (tmp_path / "cp.note").write_text(note)
    (tmp_path / "key.vkey").write_text(data[name.replace(".checkpoint", ".vkey")])
    # Copy after reading the checkpoint: the copy holds every record it covers.
    copy = tmp_path / "log"
    shutil.copytree(decision_log_dir, copy)
    result = _aigov(
        kube,
        "log",
        "verify",
        str(copy),
        "--checkpoint",
        str(tmp_path / "cp.note"),
        "--key",
        str(tmp_path / "key.vkey"),
        "-o",
        "json",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    (summary,) = [s for s in report["logs"] if s["log"] == origin]
    assert summary["checkpoints"] >= 1
    assert summary["signed"] == summary["checkpoints"]

    # The same check with the checkpoints read from the cluster by the command itself. A
    # checkpoint signed between the copy and the read covers records the copy lacks (and is
    # rightly reported as truncation), so copy again and retry a few times.
    for _ in range(5):
        shutil.rmtree(copy)
        shutil.copytree(decision_log_dir, copy)
        result = _aigov(
            kube, "log", "verify", str(copy), "--from-cluster", "-n", OPERATOR_NAMESPACE
        )
        if result.returncode == 0:
            break
        assert "were removed (truncated)" in result.stdout, result.stdout + result.stderr
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: intact" in result.stdout


def _log_copy(kube: Kube, ns: str, source: Path, target: Path) -> list[Path]:
    """Refuse a few requests (so the log has records), then copy the log."""
    for i in range(3):
        kube.apply(manifests.deployment(f"llm-{i}", ns, gpus=1), user=ALICE)
    shutil.copytree(source, target)
    return sorted(target.glob("*.jsonl"))


def test_a_deleted_record_is_found_with_its_position(
    kube: Kube, operator: Operator, decision_log_dir: Path, tmp_path: Path, unique: str
) -> None:
    ns = kube.namespace(f"declog-t-{unique}", mode="enforce")
    files = _log_copy(kube, ns, decision_log_dir, tmp_path / "log")
    path = files[-1]
    lines = path.read_text().splitlines()
    assert len(lines) >= 4
    index = len(lines) - 2  # a record with one after it
    removed = json.loads(lines[index])
    del lines[index]
    path.write_text("\n".join(lines) + "\n")
    result = _aigov(kube, "log", "verify", str(tmp_path / "log"))
    assert result.returncode == 1, result.stdout + result.stderr
    seq = removed["seq"]
    expected = (
        f"{path}:{index + 1}: seq {seq + 1}: removed: seq {seq} missing "
        f"(the record before: seq {seq - 1}, line {index})"
    )
    assert expected in result.stdout, result.stdout


def test_an_edited_record_is_found_with_its_position(
    kube: Kube, operator: Operator, decision_log_dir: Path, tmp_path: Path, unique: str
) -> None:
    ns = kube.namespace(f"declog-t-{unique}", mode="enforce")
    files = _log_copy(kube, ns, decision_log_dir, tmp_path / "log")
    path = files[-1]
    lines = path.read_text().splitlines()
    index = next(i for i, t in enumerate(lines) if json.loads(t).get("outcome") == "refused")
    record = json.loads(lines[index])
    lines[index] = lines[index].replace('"outcome":"refused"', '"outcome":"admitted"')
    path.write_text("\n".join(lines) + "\n")
    result = _aigov(kube, "log", "verify", str(tmp_path / "log"), "-o", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    problems = json.loads(result.stdout)["problems"]
    assert {
        "kind": "altered",
        "file": str(path),
        "line": index + 1,
        "seq": record["seq"],
        "log": record["log"],
        "message": "the record's content does not match its hash",
    } in problems
