"""`aigov evidence`: write the evidence pack an auditor reads, for a namespace or a model.

Reads the governance objects from the cluster of the kubeconfig (list calls only, as `aigov
why`) or from a directory of manifests (judged in order by the admission code, as `aigov
check`), hands them to the pure builder (aigov.evidencepack) and writes the directory:

    report.html                 one self-contained page for people
    report.json                 the same content for tools
    models/<ns>-<name>.cdx.json one CycloneDX 1.6 ML-BOM per model
    decisions.jsonl             the decision-log records of the period (with --log)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aigov import __version__
from aigov.cli import manifests
from aigov.cli.simulate import GOVERNANCE_KINDS, Cluster
from aigov.decisionlog.verify import Report as Verification
from aigov.decisionlog.verify import verify
from aigov.evidencepack import bom, page
from aigov.evidencepack.build import Snapshot, build
from aigov.evidencepack.report import DecisionExcerpt, Report, as_json, rfc3339
from aigov.policy.standing import Evidence
from aigov.policy.workload import parse_workload


def verification(report: Verification) -> str:
    """One sentence on the log's integrity, from `aigov log verify`'s checks of every file
    read (the whole log, not only the period: a record removed before the period breaks the
    chain as much as one inside it)."""
    if not report.ok:
        shown = "; ".join(p.render() for p in report.problems[:3])
        more = f" (and {len(report.problems) - 3} more)" if len(report.problems) > 3 else ""
        return f"FAILED: {len(report.problems)} problems: {shown}{more}"
    records = sum(s.records for s in report.logs)
    compared = sum(s.checkpoints for s in report.logs)
    return (
        f"verified: {records} records in {len(report.logs)} logs, each hash chain intact, "
        f"{compared} checkpoints matched (signatures not checked here: run aigov log verify "
        "--from-cluster or --key)"
    )


_DURATION = re.compile(r"^(?P<n>\d+)(?P<unit>[smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_RUNS = frozenset({"admitted", "warned", "audited"})
"""Verdicts under which a declared workload would exist in the cluster."""


class EvidenceInputError(Exception):
    """Bad arguments or unreadable input: printed as one line, exit code 2."""


def register(commands: Any) -> None:
    """Add `aigov evidence`."""
    cmd = commands.add_parser(
        "evidence", help="write an evidence pack (HTML, JSON, CycloneDX ML-BOMs) for auditors"
    )
    cmd.add_argument("-n", "--namespace", default=None, help="only this namespace")
    cmd.add_argument("--model", default=None, help="only this GovernedModel")
    cmd.add_argument(
        "--since", default=None, metavar="DURATION|DATE",
        help="decision-log period: 90d, 12h, 2w, or a date/time (2026-10-01, RFC 3339)",
    )  # fmt: skip
    cmd.add_argument(
        "--from", dest="source", default=None, metavar="DIR",
        help="read manifests from this directory instead of the cluster",
    )  # fmt: skip
    cmd.add_argument(
        "--log", default=None, metavar="PATH",
        help="decision log: a JSON-lines file or a directory of rotated files",
    )  # fmt: skip
    cmd.add_argument("-o", "--out", required=True, metavar="OUTDIR", help="pack directory")
    cmd.set_defaults(handler=run)


def parse_since(text: str | None, now: dt.datetime) -> dt.datetime | None:
    """`90d` -> now minus 90 days; `2026-10-01` or RFC 3339 -> that moment (UTC if no zone)."""
    if text is None:
        return None
    match = _DURATION.match(text.strip())
    if match:
        return now - dt.timedelta(seconds=int(match["n"]) * _UNITS[match["unit"]])
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise EvidenceInputError(
            f"--since {text!r}: give a duration (30m, 12h, 90d, 2w) or a date (2026-10-01)"
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _log_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    if path.is_file():
        return [path]
    raise EvidenceInputError(f"--log {path}: no such file or directory")


def _records(files: list[Path]) -> Iterator[tuple[str, dict[str, Any], dt.datetime]]:
    for file in files:
        try:
            lines = file.read_text().splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise EvidenceInputError(f"{file}: cannot read: {exc}") from exc
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{file}:{number}"
            try:
                record = json.loads(line)
                moment = dt.datetime.fromisoformat(str(record["time"]).replace("Z", "+00:00"))
            except (ValueError, KeyError, TypeError) as exc:
                raise EvidenceInputError(
                    f"{where}: not a decision-log record (a JSON object with a time): {exc}"
                ) from exc
            if moment.tzinfo is None:
                raise EvidenceInputError(f"{where}: time {record['time']!r} has no time zone")
            yield line, record, moment


def decision_excerpt(
    log: Path | None, since: dt.datetime | None
) -> tuple[DecisionExcerpt, list[str]]:
    """The records of the period (time >= since) from a log file or a directory of rotated
    files, as the lines to write, and what the pack says about them.

    The one place the pack touches the decision log: every file read is checked by the
    same verifier as `aigov log verify` (chain and the checkpoints the log carries).
    """
    if log is None:
        return DecisionExcerpt((), rfc3339(since), 0, "no decision log given", None), []
    files = _log_files(log)
    kept = [line for line, _, moment in _records(files) if since is None or moment >= since]
    report = verify((str(f), f.read_text(encoding="utf-8", errors="replace").splitlines())
                    for f in files)  # fmt: skip
    excerpt = DecisionExcerpt(
        tuple(str(f) for f in files), rfc3339(since), len(kept), verification(report)
    )
    return excerpt, kept


def _from_cluster(args: argparse.Namespace) -> tuple[Cluster, str]:
    from aigov.cli import live  # noqa: PLC0415 - the Kubernetes client only when asked

    cluster = Cluster(default_mode=None)
    live.load(cluster, args)
    server = live.api_client(args).configuration.host
    context = f", context {args.context}" if getattr(args, "context", None) else ""
    return cluster, f"the cluster at {server} (kubeconfig{context})"


def _files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise EvidenceInputError(f"--from {directory}: not a directory")
    return sorted(p for p in directory.rglob("*") if p.suffix in manifests.SUFFIXES)


def _from_manifests(
    directory: Path,
) -> tuple[Cluster, str, dict[tuple[str, str], list[tuple[str, str]]], frozenset[str]]:
    """The indexes' view after applying every manifest in order, the workloads the manifests
    declare for each model, and the stand-in identities the simulation used (offline, nobody
    is authenticated: the pack must not present them as people)."""
    cluster = Cluster(default_mode=None)
    declared: dict[tuple[str, str], list[tuple[str, str]]] = {}
    stand_ins: set[str] = set()
    for file in _files(directory):
        try:
            documents = manifests.read([str(file)])
        except manifests.NotKubernetesError as exc:
            print(f"aigov evidence: skipped {exc}", file=sys.stderr)
            continue
        except manifests.ManifestError as exc:
            raise EvidenceInputError(str(exc)) from exc
        for document in documents:
            finding = cluster.apply(document)
            if document.kind in GOVERNANCE_KINDS:
                stand_ins.add(f"{document.kind}/{finding.namespace}/{document.name}")
            if document.kind in GOVERNANCE_KINDS or finding.verdict not in _RUNS:
                continue
            model = parse_workload(document.body).model
            if model:
                key = (finding.namespace, str(model))
                declared.setdefault(key, []).append((document.kind, document.name))
    return cluster, f"the manifests in {directory}", declared, frozenset(stand_ins)


def write_pack(report: Report, out: Path, decisions: list[str]) -> list[Path]:
    """Write the pack's files; returns them, report.html first."""
    (out / "models").mkdir(parents=True, exist_ok=True)
    written = [out / "report.html", out / "report.json"]
    written[0].write_text(page.render(report))
    written[1].write_text(json.dumps(as_json(report), indent=2) + "\n")
    for model in report.models:
        path = out / model.bom
        document = bom.ml_bom(model, report.generated_at, __version__)
        path.write_text(json.dumps(document, indent=2) + "\n")
        written.append(path)
    if report.decisions.file is not None:
        path = out / report.decisions.file
        path.write_text("".join(line + "\n" for line in decisions))
        written.append(path)
    return written


def run(args: argparse.Namespace) -> int:
    """The command: read, build, write, say where."""
    now = dt.datetime.now(dt.UTC)
    since = parse_since(args.since, now)
    excerpt, lines = decision_excerpt(Path(args.log) if args.log else None, since)
    declared = None
    stand_ins: frozenset[str] = frozenset()
    if args.source:
        cluster, source, declared, stand_ins = _from_manifests(Path(args.source))
    else:
        cluster, source = _from_cluster(args)
    evidence: list[Evidence] = [cluster.evidence(ns, name) for ns, name in sorted(cluster.models)]
    snapshot = Snapshot(
        models=evidence,
        placement=cluster.placement(),
        now=now,
        source=source,
        decisions=excerpt,
        namespace=args.namespace,
        model=args.model,
        declared=declared,
        stand_ins=stand_ins,
    )
    report = build(snapshot)
    if args.model and not report.models:
        where = f" in {args.namespace}" if args.namespace else ""
        raise EvidenceInputError(f"GovernedModel {args.model!r} not found{where}")
    out = Path(args.out)
    try:
        written = write_pack(report, out, lines)
    except OSError as exc:
        raise EvidenceInputError(f"cannot write the pack to {out}: {exc}") from exc
    print(f"Evidence pack for {len(report.models)} models written to {out}/")
    for path in written:
        print(f"  {path}")
    return 0
