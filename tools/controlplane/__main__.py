"""`python -m tools.controlplane up|down|status|kubeconfig`: what the Makefile calls."""

from __future__ import annotations

import argparse
import sys

from tools.controlplane.binaries import MissingBinaryError
from tools.controlplane.cluster import Cluster, ClusterError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.controlplane")
    parser.add_argument("command", choices=["up", "down", "status", "kubeconfig"])
    args = parser.parse_args(argv)
    cluster = Cluster()
    try:
        if args.command == "up":
            cluster.up()
        elif args.command == "down":
            cluster.down()
        elif args.command == "kubeconfig":
            print(cluster.kubeconfig)
        else:
            healthy = cluster.healthy()
            print(f"{'up' if healthy else 'down'}: {cluster.server}")
            return 0 if healthy else 1
    except (ClusterError, MissingBinaryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
