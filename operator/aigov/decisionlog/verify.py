"""Check decision-log lines against their hash chain and signed checkpoints.

Says where the log was changed, by file, line and sequence number:
- `altered`: a record's content no longer matches its hash, or it was re-hashed (the next
  record's prevHash names another record), or a run of records was rewritten consistently
  (only a signed checkpoint shows it: the range between the last matching and the first
  failing checkpoint is named);
- `removed`: a gap in the sequence numbers, or the log ends before a checkpoint's size;
- `reordered`: a record stands before one with a lower sequence number;
- `duplicated`, `unreadable`: a sequence number twice; a line that is not a record.
Notices are what could not be checked (no key given, records before the first one supplied).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aigov.decisionlog import checkpoint as cp
from aigov.decisionlog.chain import CHECKPOINT
from aigov.decisionlog.merkle import CompactRange
from aigov.decisionlog.record import GENESIS, REQUIRED, record_hash


@dataclass(frozen=True)
class Problem:
    """One place where the log is not what was written."""

    kind: str
    """altered, removed, reordered, duplicated, unreadable, truncated, signature."""
    message: str
    file: str = ""
    line: int = 0
    seq: int | None = None
    log: str = ""

    def render(self) -> str:
        where = f"{self.file}:{self.line}: " if self.file else ""
        seq = f"seq {self.seq}: " if self.seq is not None else ""
        return f"{where}{seq}{self.kind}: {self.message}"


@dataclass(frozen=True)
class LogSummary:
    """What was found of one log (one origin)."""

    log: str
    records: int
    first: int
    last: int
    checkpoints: int
    """Checkpoints whose root was compared with the records."""
    signed: int
    """Checkpoints whose signature was checked against the key."""


@dataclass
class Report:
    """The result: ok when no problem was found."""

    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    logs: list[LogSummary] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "logs": [vars(s) for s in self.logs],
            "problems": [vars(p) for p in self.problems],
            "notices": self.notices,
        }


@dataclass(frozen=True)
class _Entry:
    record: dict[str, Any]
    file: str
    line: int
    order: int
    """Position in the input: files in the order given, lines in file order."""

    @property
    def seq(self) -> int:
        value: int = self.record["seq"]
        return value


def _is_record(value: object) -> bool:
    return isinstance(value, dict) and "prevHash" in value and "log" in value


def _read(
    sources: Iterable[tuple[str, Iterable[str]]], mixed: bool, report: Report
) -> dict[str, list[_Entry]]:
    logs: dict[str, list[_Entry]] = {}
    order = 0
    for name, lines in sources:
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except ValueError:
                value = None
            if not _is_record(value):
                if not mixed:
                    report.problems.append(
                        Problem("unreadable", "not a decision-log record", name, number)
                    )
                continue
            missing = [k for k in REQUIRED if k not in value]
            if missing or not isinstance(value["seq"], int) or isinstance(value["seq"], bool):
                what = f"missing {', '.join(missing)}" if missing else "seq is not an integer"
                report.problems.append(
                    Problem("altered", f"malformed record: {what}", name, number)
                )
                continue
            order += 1
            logs.setdefault(str(value["log"]), []).append(_Entry(value, name, number, order))
    return logs


def _chain(log: str, entries: list[_Entry], report: Report) -> list[_Entry]:
    """Check order, gaps, duplicates and hashes; return the records in sequence order."""
    ordered = sorted(entries, key=lambda e: (e.seq, e.order))

    def problem(kind: str, message: str, entry: _Entry) -> None:
        report.problems.append(Problem(kind, message, entry.file, entry.line, entry.seq, log))

    def at(entry: _Entry, other: _Entry) -> str:
        """Where `other` is, seen from `entry`: its line, and its file when another."""
        where = f"line {other.line}" if other.file == entry.file else f"{other.file}:{other.line}"
        return f"seq {other.seq}, {where}"

    previous: _Entry | None = None
    kept: list[_Entry] = []
    for entry in ordered:
        rec = entry.record
        if record_hash(rec) != rec["hash"]:
            problem("altered", "the record's content does not match its hash", entry)
        if previous is not None and entry.seq == previous.seq:
            problem("duplicated", f"also at {at(entry, previous)}", entry)
            continue
        if previous is None:
            if entry.seq == 1 and rec["prevHash"] != GENESIS:
                problem("altered", "the first record of a log must have prevHash 0...0", entry)
            elif entry.seq > 1:
                report.notices.append(
                    f"{log}: records 1..{entry.seq - 1} not supplied (rotated away by "
                    "retention, or not given): its first prevHash and checkpoints cannot be "
                    "checked"
                )
        else:
            if entry.order < previous.order:
                problem("reordered", f"stands before {at(entry, previous)}", entry)
            if entry.seq > previous.seq + 1:
                gap = (
                    f"seq {previous.seq + 1}"
                    if entry.seq == previous.seq + 2
                    else f"seqs {previous.seq + 1}..{entry.seq - 1}"
                )
                before = at(entry, previous)
                problem("removed", f"{gap} missing (the record before: {before})", entry)
            elif rec["prevHash"] != previous.record["hash"]:
                problem(
                    "altered",
                    f"prevHash does not name the record before ({at(entry, previous)}): that "
                    "record was replaced or re-hashed",
                    entry,
                )
        previous = entry
        kept.append(entry)
    return kept


def _checkpoints_in(log: str, entries: Sequence[_Entry], report: Report) -> list[cp.Checkpoint]:
    found = []
    for entry in entries:
        if entry.record.get("type") != CHECKPOINT:
            continue
        try:
            signed = cp.parse(str(entry.record.get("checkpoint", "")))
        except cp.CheckpointError as exc:
            report.problems.append(
                Problem(
                    "altered", f"checkpoint record: {exc}", entry.file, entry.line, entry.seq, log
                )
            )
            continue
        if signed.origin != log:
            report.problems.append(Problem(
                "altered", f"checkpoint of another log ({signed.origin})", entry.file,
                entry.line, entry.seq, log,
            ))  # fmt: skip
            continue
        found.append(signed)
    return found


def _signatures(
    log: str, checkpoints: Sequence[cp.Checkpoint], keys: Sequence[cp.VerifierKey], report: Report
) -> int:
    """Check each checkpoint's signature against the keys; returns how many were good."""
    if not keys:
        return 0
    signed = 0
    names = ", ".join(sorted({k.name for k in keys}))
    for checkpoint in checkpoints:
        if any(cp.verify(checkpoint, key) for key in keys):
            signed += 1
            continue
        report.problems.append(Problem(
            "signature", f"checkpoint of size {checkpoint.size} is not signed by the given "
            f"key ({names}): forged or signed by another key", log=log,
        ))  # fmt: skip
    return signed


def _truncation(
    log: str, entries: Sequence[_Entry], checkpoints: Sequence[cp.Checkpoint], report: Report
) -> None:
    last = entries[-1].seq if entries else 0
    biggest = max(checkpoints, key=lambda c: c.size, default=None)
    if biggest is None or biggest.size <= last:
        return
    end = entries[-1] if entries else None
    report.problems.append(Problem(
        "removed", f"the log ends at seq {last} but a signed checkpoint covers "
        f"{biggest.size} records: seqs {last + 1}..{biggest.size} were removed (truncated)",
        end.file if end else "", end.line if end else 0, last or None, log,
    ))  # fmt: skip


def _roots(entries: Sequence[_Entry], sizes: set[int]) -> dict[int, bytes]:
    """The Merkle root at each of `sizes`, over the records in sequence order from seq 1
    (up to the first gap: roots past it cannot match, and the gap is reported already)."""
    roots: dict[int, bytes] = {}
    tree = CompactRange()
    if 0 in sizes:
        roots[0] = tree.root()
    for entry in entries:
        if len(roots) == len(sizes) or entry.seq != tree.size + 1:
            break
        try:
            tree.append(bytes.fromhex(str(entry.record["hash"])))
        except ValueError:
            tree.append(b"")  # not hex: the chain check reported it
        if tree.size in sizes:
            roots[tree.size] = tree.root()
    return roots


def _against(
    log: str,
    entries: Sequence[_Entry],
    checkpoints: Sequence[cp.Checkpoint],
    keys: Sequence[cp.VerifierKey],
    report: Report,
) -> tuple[int, int]:
    """Signatures, truncation and the Merkle root at each checkpoint's size; returns
    (roots compared, signatures good)."""
    signed = _signatures(log, checkpoints, keys, report)
    _truncation(log, entries, checkpoints, report)
    if not entries or entries[0].seq != 1:
        return 0, signed
    roots = _roots(entries, {c.size for c in checkpoints})
    compared = good = 0
    by_seq = {e.seq: e for e in entries}
    for checkpoint in sorted(checkpoints, key=lambda c: c.size):
        root = roots.get(checkpoint.size)
        if root is None:
            continue
        compared += 1
        if root == checkpoint.root:
            good = max(good, checkpoint.size)
            continue
        end = by_seq.get(checkpoint.size)
        report.problems.append(Problem(
            "altered", f"records {good + 1}..{checkpoint.size} do not match the signed "
            f"checkpoint of size {checkpoint.size}: at least one of them was rewritten "
            "(with its hashes recomputed)", end.file if end else "", end.line if end else 0,
            checkpoint.size, log,
        ))  # fmt: skip
    return compared, signed


def verify(
    sources: Iterable[tuple[str, Iterable[str]]],
    checkpoints: Iterable[cp.Checkpoint] = (),
    keys: Sequence[cp.VerifierKey] = (),
    mixed: bool = False,
) -> Report:
    """Check every log found in `sources` ((name, lines) in the order they were written).

    `checkpoints` are checked besides those the log carries itself (e.g. the latest ones
    kept in the cluster). `mixed`: skip lines that are not records (a collector's stream
    holding other log lines) instead of reporting them.
    """
    report = Report()
    logs = _read(sources, mixed, report)
    outside: dict[str, list[cp.Checkpoint]] = {}
    for checkpoint in checkpoints:
        outside.setdefault(checkpoint.origin, []).append(checkpoint)
    for log, entries in logs.items():
        ordered = _chain(log, entries, report)
        found = [*_checkpoints_in(log, ordered, report), *outside.get(log, [])]
        compared, signed = _against(log, ordered, found, keys, report)
        report.logs.append(
            LogSummary(log, len(ordered), ordered[0].seq, ordered[-1].seq, compared, signed)
        )
        if found and not keys:
            report.notices.append(
                f"{log}: {len(found)} checkpoints found, signatures not checked (no key given)"
            )
        if not found:
            report.notices.append(
                f"{log}: no checkpoint: records removed from the end cannot be detected"
            )
    for origin in outside.keys() - logs.keys():
        report.notices.append(f"{origin}: a checkpoint was given but no record of this log")
    return report
