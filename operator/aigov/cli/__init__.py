"""The `aigov` command line (also `kubectl aigov`, the kubectl plugin convention).

One frame, one module per subcommand: `aigov operator` runs the operator (as
`python -m aigov` does), `aigov sign` makes signed assessments and approvals. Exit codes a
CI step can use: 0 done, 1 a verdict against the input, 2 usage or input error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from aigov.cli import check, evidence, live, log, sign, why


class InputError(Exception):
    """Bad input the user can fix: printed as one line, exit code 2."""


def _operator(_: argparse.Namespace) -> int:
    from aigov.__main__ import main as run_operator  # noqa: PLC0415 - kopf only when needed

    return run_operator()


def parser() -> argparse.ArgumentParser:
    """The `aigov` argument parser, with every subcommand."""
    root = argparse.ArgumentParser(
        prog="aigov",
        description="Governance for AI models on Kubernetes GPU clusters.",
    )
    root.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)")
    root.add_argument("--context", help="kubeconfig context to use")
    commands = root.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser("operator", help="run the operator (as `python -m aigov`)")
    run.set_defaults(handler=_operator)
    check.register(commands)
    sign.register(commands)
    log.register(commands)
    why.register(commands)
    evidence.register(commands)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `aigov` and `kubectl-aigov`."""
    args = parser().parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser().print_help()
        return 2
    try:
        code: int = handler(args)
    except (
        sign.SignInputError,
        why.UsageError,
        live.ClusterError,
        evidence.EvidenceInputError,
    ) as exc:
        print(f"aigov: {exc}", file=sys.stderr)
        return 2
    return code
