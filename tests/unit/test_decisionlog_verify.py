"""`aigov log verify`'s core: each kind of tampering is found, and named by its position."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from aigov.decisionlog import checkpoint as cp
from aigov.decisionlog.chain import Chain, checkpoint_fields
from aigov.decisionlog.record import line, record_hash
from aigov.decisionlog.verify import Report, verify

ORIGIN = "aigov.io/decision-log/replica-a/20261202T170000Z"
KEY = Ed25519PrivateKey.generate()
NAME = "aigov.io/decision-log"
VKEY = cp.VerifierKey.parse(cp.verifier_key(NAME, KEY.public_key()))


def make_log(records: int = 10, every: int = 0) -> tuple[list[str], Chain]:
    """`records` admission-like records, with a checkpoint record after every `every`."""
    chain = Chain(ORIGIN)
    lines = []
    for i in range(1, records + 1):
        fields = {"type": "admission", "outcome": "admitted", "uid": f"u{i}", "controls": []}
        lines.append(chain.append(fields, f"2026-12-02T17:00:{i % 60:02d}Z"))
        if every and i % every == 0:
            signed = chain.checkpoint(NAME, KEY)
            lines.append(chain.append(checkpoint_fields(signed), "2026-12-02T17:01:00Z"))
    return lines, chain


def run(lines: list[str], **kw: Any) -> Report:
    return verify([("log.jsonl", lines)], **kw)


def kinds(report: Report) -> list[tuple[str, int, int | None]]:
    return [(p.kind, p.line, p.seq) for p in report.problems]


def test_an_intact_log_verifies_with_its_checkpoints() -> None:
    lines, chain = make_log(12, every=4)
    latest = chain.checkpoint(NAME, KEY)
    report = run(lines, checkpoints=[latest], keys=[VKEY])
    assert report.ok, report.problems
    (summary,) = report.logs
    assert (summary.first, summary.last, summary.records) == (1, 15, 15)
    assert summary.checkpoints == 4  # three in the log, one from outside
    assert summary.signed == 4


def test_a_removed_record_is_named_by_the_line_after_the_gap() -> None:
    lines, _ = make_log(10)
    del lines[4]  # seq 5
    report = run(lines)
    assert kinds(report) == [("removed", 5, 6)]
    assert report.problems[0].message == "seq 5 missing (the record before: seq 4, line 4)"


def test_an_edited_record_is_named_by_its_line_and_seq() -> None:
    lines, _ = make_log(10)
    record = json.loads(lines[6])
    record["outcome"] = "refused"
    lines[6] = line(record)
    report = run(lines)
    assert kinds(report) == [("altered", 7, 7)]
    assert "does not match its hash" in report.problems[0].message


def test_an_edited_and_rehashed_record_breaks_the_next_link() -> None:
    lines, _ = make_log(10)
    record = json.loads(lines[6])
    record["user"] = "someone-else"
    record["hash"] = record_hash(record)
    lines[6] = line(record)
    report = run(lines)
    assert kinds(report) == [("altered", 8, 8)]
    assert "prevHash does not name the record before (seq 7, line 7)" in report.problems[0].message


def test_swapped_records_are_reported_as_reordered() -> None:
    lines, _ = make_log(10)
    lines[3], lines[4] = lines[4], lines[3]  # seq 5 now on line 4, seq 4 on line 5
    report = run(lines)
    assert kinds(report) == [("reordered", 4, 5)]
    assert report.problems[0].message == "stands before seq 4, line 5"


def test_a_duplicated_record_is_reported() -> None:
    lines, _ = make_log(5)
    lines.insert(3, lines[1])
    assert ("duplicated", 4, 2) in kinds(run(lines))


def test_truncation_shows_only_against_a_later_checkpoint() -> None:
    lines, chain = make_log(10)
    latest = chain.checkpoint(NAME, KEY)
    assert run(lines[:7]).ok  # without a checkpoint, a cut end is undetectable
    report = run(lines[:7], checkpoints=[latest], keys=[VKEY])
    assert kinds(report) == [("removed", 7, 7)]
    assert "seqs 8..10 were removed" in report.problems[0].message


def test_a_consistent_rewrite_is_bounded_between_two_checkpoints() -> None:
    lines, _ = make_log(12, every=4)  # checkpoints at sizes 4, 9 and 14
    # Rewrite seq 7 and re-hash it and every record after it: the chain alone is consistent.
    rewritten = lines[:6]
    previous = json.loads(lines[5])["hash"]
    for text in lines[6:]:
        record = json.loads(text)
        if record["seq"] == 7:
            record["uid"] = "forged"
        record["prevHash"] = previous
        record["hash"] = record_hash(record)
        previous = record["hash"]
        rewritten.append(line(record))
    report = run(rewritten, keys=[VKEY])
    assert [(p.kind, p.seq) for p in report.problems] == [("altered", 9), ("altered", 14)]
    assert "records 5..9 do not match the signed checkpoint of size 9" in report.problems[0].message


def test_a_checkpoint_signed_by_another_key_is_refused() -> None:
    lines, chain = make_log(4)
    forged = chain.checkpoint(NAME, Ed25519PrivateKey.generate())
    report = run(lines, checkpoints=[forged], keys=[VKEY])
    assert [p.kind for p in report.problems] == ["signature"]


def test_without_a_key_signatures_are_a_notice_not_a_pass() -> None:
    lines, _ = make_log(8, every=4)
    report = run(lines)
    assert report.ok
    assert any("signatures not checked" in n for n in report.notices)


def test_a_file_from_the_middle_of_a_log_checks_its_own_links() -> None:
    lines, _ = make_log(10)
    report = verify([("b.jsonl", lines[5:])])
    assert report.ok
    assert any("records 1..5 not supplied" in n for n in report.notices)


def test_rotated_files_verify_as_one_log_in_the_order_given() -> None:
    lines, _ = make_log(9)
    sources = [("a.jsonl", lines[:4]), ("b.jsonl", lines[4:])]
    assert verify(sources).ok
    report = verify(list(reversed(sources)))
    assert [(p.kind, p.file, p.line, p.seq) for p in report.problems] == [
        ("reordered", "b.jsonl", 1, 5)
    ]
    assert report.problems[0].message == "stands before seq 4, a.jsonl:4"


@pytest.mark.parametrize("junk", ["not json", '{"some": "log line"}', "[1, 2]"])
def test_a_line_that_is_no_record_is_reported_unless_mixed(junk: str) -> None:
    lines, _ = make_log(3)
    lines.insert(1, junk)
    assert kinds(run(lines)) == [("unreadable", 2, None)]
    assert run(lines, mixed=True).ok


def test_two_replicas_logs_in_one_stream_verify_separately() -> None:
    a, _ = make_log(3)
    chain = Chain("aigov.io/decision-log/replica-b/20261202T170000Z")
    b = [chain.append({"type": "x", "outcome": "o", "controls": []}, "t") for _ in range(3)]
    merged = [a[0], b[0], a[1], b[1], b[2], a[2]]
    report = run(merged)
    assert report.ok
    assert len(report.logs) == 2
