"""`aigov log verify`: check decision-log files against their hash chain and checkpoints.

Reads a file, or a directory of rotated files (`decisions.*.jsonl`, in name order, which
is writing order), and the signed checkpoints: those the log carries, files given with
--checkpoint, and the latest ones kept in the cluster (--from-cluster). Exit 0 when the log
is intact, 1 when a record was removed, altered or reordered (each named by file, line and
sequence number), 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aigov.cli import live
from aigov.decisionlog import checkpoint as cp
from aigov.decisionlog.events import CHECKPOINT_SUFFIX, VKEY_SUFFIX
from aigov.decisionlog.verify import Report, verify


class LogInputError(Exception):
    """A path, checkpoint or key the command cannot use; printed as one line, exit 2."""


def register(commands: Any) -> None:
    """Add `aigov log verify`."""
    group = commands.add_parser("log", help="the tamper-evident decision log")
    sub = group.add_subparsers(dest="log_command", metavar="COMMAND", required=True)
    check = sub.add_parser(
        "verify",
        help="check log files against the hash chain and signed checkpoints",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("paths", nargs="+", metavar="FILE|DIR", help="log files or directories")
    check.add_argument(
        "--checkpoint", action="append", default=[], metavar="FILE",
        help="a signed checkpoint note (repeatable)",
    )  # fmt: skip
    check.add_argument(
        "--from-cluster", action="store_true",
        help="also check against the latest checkpoints kept in the cluster",
    )  # fmt: skip
    check.add_argument(
        "-n", "--namespace", default="aigov-system",
        help="the operator's namespace (with --from-cluster)",
    )  # fmt: skip
    check.add_argument("--configmap", default="aigov-checkpoints", help="the checkpoints ConfigMap")
    check.add_argument(
        "--key", action="append", default=[], metavar="PUB",
        help="verifier key file: signed-note `name+hash+key`, or a PEM Ed25519 public key",
    )  # fmt: skip
    check.add_argument(
        "--mixed", action="store_true",
        help="skip lines that are not records (a collector's stream with other log lines)",
    )  # fmt: skip
    check.add_argument("-o", "--output", choices=["text", "json"], default="text")
    check.set_defaults(handler=run_verify)


def log_files(paths: list[str]) -> list[Path]:
    """The files to read, each directory expanded to its log files in name order."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(path.glob("*.jsonl"))
            if not found:
                raise LogInputError(f"{path}: no *.jsonl log files in this directory")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise LogInputError(f"{path}: no such file or directory")
    return files


def _lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8", errors="replace") as f:
        yield from f


def _read_text(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise LogInputError(f"{what} {path}: {exc.strerror or exc}") from exc


def _inputs(
    args: argparse.Namespace,
) -> tuple[list[cp.Checkpoint], list[cp.VerifierKey], list[str]]:
    notes: list[str] = []
    checkpoints: list[cp.Checkpoint] = []
    keys: list[cp.VerifierKey] = []
    try:
        for path in args.checkpoint:
            checkpoints.append(cp.parse(_read_text(path, "checkpoint")))
        for path in args.key:
            keys.append(cp.VerifierKey.parse(_read_text(path, "key"), "aigov.io/decision-log"))
    except cp.CheckpointError as exc:
        raise LogInputError(str(exc)) from exc
    if args.from_cluster:
        data = live.configmap_data(args, args.namespace, args.configmap)
        cluster_keys = []
        for name, value in sorted(data.items()):
            try:
                if name.endswith(CHECKPOINT_SUFFIX):
                    checkpoints.append(cp.parse(value))
                elif name.endswith(VKEY_SUFFIX):
                    cluster_keys.append(cp.VerifierKey.parse(value))
            except cp.CheckpointError as exc:
                raise LogInputError(f"ConfigMap {args.configmap} key {name}: {exc}") from exc
        if not keys and cluster_keys:
            keys = cluster_keys
            notes.append(
                "signatures checked with the verifier keys kept in the cluster next to the "
                "checkpoints; pin the key with --key for a check independent of the cluster"
            )
    return checkpoints, keys, notes


def _text(report: Report, files: int) -> str:
    lines = [p.render() for p in report.problems]
    lines.extend(f"note: {n}" for n in report.notices)
    for s in report.logs:
        lines.append(
            f"{s.log}: {s.records} records (seq {s.first}..{s.last}), "
            f"{s.checkpoints} checkpoint roots compared, {s.signed} signatures checked"
        )
    verdict = "OK: intact" if report.ok else f"FAILED: {len(report.problems)} problems"
    lines.append(f"{verdict} ({files} files, {len(report.logs)} logs)")
    return "\n".join(lines) + "\n"


def run_verify(args: argparse.Namespace) -> int:
    """Verify; print the report; 0 intact, 1 problems found, 2 bad input."""
    try:
        files = log_files(args.paths)
        checkpoints, keys, notes = _inputs(args)
    except LogInputError as exc:
        print(f"aigov: {exc}", file=sys.stderr)
        return 2
    report = verify(((str(f), _lines(f)) for f in files), checkpoints, keys=keys, mixed=args.mixed)
    report.notices.extend(notes)
    if args.output == "json":
        sys.stdout.write(
            json.dumps({**report.to_dict(), "files": [str(f) for f in files]}, indent=2) + "\n"
        )
    else:
        sys.stdout.write(_text(report, len(files)))
    return 0 if report.ok else 1
