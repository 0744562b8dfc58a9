"""`aigov check -f PATH...`: judge manifests before they reach a cluster.

The verdicts are the webhooks' own (aigov.cli.simulate runs the admission code), against the
governance objects in the same files and, with `--cluster`, those of a live cluster. Exit
code 0: nothing would be refused or flagged; 1: violations; 2: bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from aigov.api.constants import Mode
from aigov.cli import output
from aigov.cli.manifests import ManifestError, read
from aigov.cli.simulate import Cluster, Finding
from aigov.config import ConfigError, Settings
from aigov.recognition import load_recognition


def register(commands: Any) -> None:
    """Add `aigov check`."""
    cmd = commands.add_parser(
        "check", help="judge manifests offline with the admission rules (CI, pre-commit)"
    )
    cmd.add_argument(
        "-f", "--filename", action="append", required=True, metavar="PATH",
        help="file, folder or - (stdin); repeat for more; multi-document YAML is fine",
    )  # fmt: skip
    cmd.add_argument(
        "--mode", choices=[m.value for m in Mode], default=Mode.ENFORCE.value,
        help="mode of namespaces the files do not define (default enforce)",
    )  # fmt: skip
    cmd.add_argument(
        "--as", dest="user",
        help="who applies the files (default: a different person per governance object)",
    )  # fmt: skip
    cmd.add_argument(
        "--cluster", action="store_true",
        help="also use the governance objects, namespaces and nodes of the live cluster",
    )  # fmt: skip
    cmd.add_argument(
        "-n", "--namespace", default="default", help="namespace of objects that name none"
    )
    cmd.add_argument(
        "--engines", metavar="FILE",
        help="the engine table extension the cluster's operator uses (its AIGOV_ENGINES_FILE)",
    )  # fmt: skip
    cmd.add_argument("-o", "--output", choices=["text", "json", "yaml", "sarif"], default="text")
    cmd.set_defaults(handler=run)


PROGRESS_FROM = 500
"""Documents from which a terminal gets a progress line on stderr."""


def check(documents: list[Any], cluster: Cluster) -> list[Finding]:
    """Apply the documents in order; one finding each. Long runs on a terminal show progress
    on stderr (never on stdout, which may be piped into a SARIF upload)."""
    show = len(documents) >= PROGRESS_FROM and sys.stderr.isatty()
    findings = []
    for done, document in enumerate(documents, start=1):
        findings.append(cluster.apply(document))
        if show and (done % 100 == 0 or done == len(documents)):
            print(f"\raigov check: {done}/{len(documents)} documents", end="", file=sys.stderr)
    if show:
        print(file=sys.stderr)
    return findings


def run(args: argparse.Namespace) -> int:
    """The command: read, judge, print, and say by the exit code whether anything broke."""
    try:
        documents = read(args.filename)
    except ManifestError as exc:
        print(f"aigov check: {exc}", file=sys.stderr)
        return 2
    settings = Settings(engines_file=Path(args.engines)) if args.engines else Settings()
    try:
        recognition = load_recognition(settings)
    except ConfigError as exc:
        print(f"aigov check: {exc}", file=sys.stderr)
        return 2
    cluster = Cluster(
        default_mode=Mode(args.mode),
        user=args.user,
        default_namespace=args.namespace,
        recognition=recognition,
    )
    if args.cluster:
        from aigov.cli import live  # noqa: PLC0415 - the Kubernetes client only when asked

        live.load(cluster, args)
    findings = check(documents, cluster)
    sys.stdout.write(output.render(findings, args.output))
    return 1 if any(f.decision.violations for f in findings) else 0
