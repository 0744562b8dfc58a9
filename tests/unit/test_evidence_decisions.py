"""The decision-log excerpt of an evidence pack: the period's records, from a file or a
directory of rotated files, and an honest word about their verification."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from aigov.cli.evidence import EvidenceInputError, decision_excerpt, parse_since
from aigov.decisionlog.chain import Chain

NOW = dt.datetime(2026, 12, 2, 12, tzinfo=dt.UTC)


def _line(seq: int, time: str) -> str:
    return json.dumps({"seq": seq, "time": time, "prevHash": "x", "outcome": "refused"})


def _chained(times: list[str]) -> list[str]:
    chain = Chain("aigov.io/decision-log/test/1")
    fields = {"type": "admission", "outcome": "refused", "controls": ["A.6.2.8"]}
    return [chain.append(dict(fields), t) for t in times]


def test_since_takes_a_duration_or_a_date() -> None:
    assert parse_since("90d", NOW) == NOW - dt.timedelta(days=90)
    assert parse_since("12h", NOW) == NOW - dt.timedelta(hours=12)
    assert parse_since("2w", NOW) == NOW - dt.timedelta(weeks=2)
    assert parse_since("2026-10-01", NOW) == dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    assert parse_since("2026-10-01T08:00:00Z", NOW) == dt.datetime(2026, 10, 1, 8, tzinfo=dt.UTC)
    assert parse_since(None, NOW) is None
    with pytest.raises(EvidenceInputError, match="give a duration"):
        parse_since("last quarter", NOW)


def test_the_excerpt_keeps_the_period_and_says_it_verified_the_log(tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    lines = _chained(["2026-09-01T00:00:00Z", "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"])
    log.write_text("\n".join(lines) + "\n\n")
    excerpt, kept = decision_excerpt(log, dt.datetime(2026, 10, 1, tzinfo=dt.UTC))
    assert kept == lines[1:]
    assert (excerpt.count, excerpt.file) == (2, "decisions.jsonl")
    assert excerpt.verification.startswith("verified: 3 records in 1 logs, each hash chain")
    assert excerpt.sources == (str(log),)
    everything, all_lines = decision_excerpt(log, None)
    assert (everything.count, all_lines) == (3, lines)


def test_a_directory_of_rotated_files_is_read_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "decisions-0001.jsonl").write_text(_line(1, "2026-11-01T00:00:00Z") + "\n")
    (tmp_path / "decisions-0002.jsonl").write_text(_line(2, "2026-11-02T00:00:00Z") + "\n")
    (tmp_path / ".hidden").write_text("not a record\n")
    excerpt, kept = decision_excerpt(tmp_path, None)
    assert [json.loads(k)["seq"] for k in kept] == [1, 2]
    assert len(excerpt.sources) == 2


def test_no_log_is_said_plainly() -> None:
    excerpt, kept = decision_excerpt(None, None)
    assert (excerpt.count, excerpt.file, kept) == (0, None, [])
    assert excerpt.verification == "no decision log given"


def test_a_bad_record_names_its_file_and_line(tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    log.write_text(_line(1, "2026-11-01T00:00:00Z") + "\n{not json\n")
    with pytest.raises(EvidenceInputError, match=r"decisions.jsonl:2: not a decision-log record"):
        decision_excerpt(log, None)
    log.write_text(json.dumps({"seq": 1}) + "\n")
    with pytest.raises(EvidenceInputError, match=r"decisions.jsonl:1: .*time"):
        decision_excerpt(log, None)
    log.write_text(_line(1, "2026-11-01T00:00:00") + "\n")
    with pytest.raises(EvidenceInputError, match="has no time zone"):
        decision_excerpt(log, None)
    with pytest.raises(EvidenceInputError, match="no such file"):
        decision_excerpt(tmp_path / "missing", None)


def test_a_record_removed_before_the_period_fails_the_verification(tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    lines = _chained(["2026-09-01T00:00:00Z", "2026-09-02T00:00:00Z", "2026-12-01T00:00:00Z"])
    log.write_text("\n".join([lines[0], lines[2]]) + "\n")
    excerpt, kept = decision_excerpt(log, dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    assert len(kept) == 1
    assert excerpt.verification.startswith("FAILED: ")
    assert "removed" in excerpt.verification
