"""`make demo`: the aigov story on the local control plane, in readable output.

Builds nothing itself (make has done that), starts the control plane if needed, installs the
CRDs, starts the operator, applies examples/ in order as the users they name, and prints what
the API server admitted or refused and why. The cluster stays up afterwards for exploring.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tools import examples
from tools.controlplane import binaries
from tools.controlplane.cluster import Cluster, ClusterError
from tools.controlplane.operator import OperatorError, running_operator
from tools.kubectl import Kube, User
from tools.stand_ins import KSERVE_STAND_IN, stand_in_crds

BOLD, GREEN, RED, DIM, RESET = "\033[1m", "\033[32m", "\033[31m", "\033[2m", "\033[0m"


def _say(text: str = "") -> None:
    print(text, flush=True)


def _wrap(text: str, indent: str = "    ") -> str:
    return textwrap.fill(text, width=100, initial_indent=indent, subsequent_indent=indent)


def _refusal(stderr: str) -> str:
    marker = "denied the request: "
    text = stderr.strip()
    return text.split(marker, 1)[1] if marker in text else text


def _show(kube: Kube, example: examples.Example) -> bool:
    user = User(example.user, example.groups) if example.user else None
    who = f" as {example.user}" if example.user else " as cluster admin"
    _say(f"{BOLD}{example.name}{RESET}{DIM}{who}{RESET}")
    _say(_wrap(example.description))
    result = kube.apply(example.text, user=user)
    if result.ok:
        _say(f"  {GREEN}ADMITTED{RESET}")
        for line in result.stderr.strip().splitlines():
            _say(f"  {DIM}{line}{RESET}")
    else:
        _say(f"  {RED}REFUSED{RESET}")
        _say(_wrap(_refusal(result.stderr)))
    matched = (result.ok and example.expect == "admitted") or (
        not result.ok
        and example.expect == "refused"
        and (example.reason is None or example.reason in result.stderr)
    )
    if not matched:
        _say(f"  {RED}unexpected: this example should be {example.expect}{RESET}")
    _say()
    return matched


def _show_running(kube: Kube) -> None:
    _say(f"{BOLD}Where the admitted workloads run{RESET}")
    time.sleep(2)
    out = kube.run("get", "pods", "-A", "-l", "app", "-o", "json", check=True).stdout
    for pod in json.loads(out)["items"]:
        node = pod["spec"].get("nodeName", "")
        pool = ""
        if node:
            pool = kube.get("node", node)["metadata"]["labels"].get("pool", "")
        meta = pod["metadata"]
        _say(
            f"  {meta['namespace']}/{meta['name']:<40} {pod['status'].get('phase', ''):<9}"
            f" node={node} pool={pool}"
        )
    _say()


def _show_why(kube: Kube) -> None:
    """`aigov why`, the command line's answer to "why can this model not run?"."""
    _say(f"{BOLD}$ aigov why gm/fraud-scorer -n ai-prod{RESET}")
    aigov = Path(sys.executable).with_name("aigov")
    env = {**os.environ, "KUBECONFIG": str(kube.kubeconfig)}
    command = [str(aigov), "why", "gm/fraud-scorer", "-n", "ai-prod"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    for line in (result.stdout or result.stderr).splitlines():
        _say(textwrap.fill(line, 100, subsequent_indent="      "))
    _say()


def _show_evidence(kube: Kube) -> None:
    _say(f"{BOLD}The evidence aigov keeps{RESET}")
    deadline = time.monotonic() + 20
    flagged = None
    while time.monotonic() < deadline and flagged is None:
        meta = kube.get("deployment", "fraud-scorer", "ai-prod")["metadata"]
        flagged = (meta.get("annotations") or {}).get("aigov.io/flagged")
        time.sleep(0.5)
    _say(f"  Deployment ai-prod/fraud-scorer: aigov.io/flagged={flagged}")
    status = kube.get("governedmodel", "fraud-scorer", "ai-prod").get("status") or {}
    _say(
        f"  GovernedModel ai-prod/fraud-scorer: phase {status.get('phase')}, "
        f"spec hash {str(status.get('specHash'))[:12]}..."
    )
    for entry in status.get("history", []):
        _say(
            f"    {entry['time']}  {entry['event']:<12} {entry.get('actor') or '':<8} "
            f"{entry.get('message') or ''}"[:140]
        )
    _say()


def _write_evidence(kube: Kube) -> None:
    """`aigov evidence`: the pack an auditor reads, for the story's namespace."""
    out = binaries.CACHE / "demo" / "evidence"
    _say(f"{BOLD}$ aigov evidence -n ai-prod -o {out}{RESET}")
    aigov = Path(sys.executable).with_name("aigov")
    env = {**os.environ, "KUBECONFIG": str(kube.kubeconfig)}
    command = [str(aigov), "evidence", "-n", "ai-prod", "-o", str(out)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        _say(f"  {RED}aigov evidence failed: {result.stderr.strip()}{RESET}")
        return
    _say(
        _wrap(
            "The evidence pack for ai-prod: report.html (open it in a browser: each model's "
            "lineage graph, who assessed and approved it, its timeline and violations, the "
            "ISO/IEC 42001 and EU AI Act control tables), report.json for tools, and a "
            "CycloneDX 1.6 ML-BOM per model in models/."
        )
    )
    _say(f"  {GREEN}{out / 'report.html'}{RESET}")
    _say()


def main() -> int:
    cluster = Cluster()
    try:
        cluster.up()
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    kube = Kube(binaries.find("kubectl"), cluster.kubeconfig)
    for path in ("crds/", "config/rbac/", str(KSERVE_STAND_IN)):
        kube.run("apply", "--server-side", "--force-conflicts", "-f", path, check=True)
    stand_ins = stand_in_crds()  # LeaderWorkerSet and the other optional kinds, minimal
    for crd in stand_ins:
        kube.apply(crd)
    names = [f"crd/{crd['metadata']['name']}" for crd in stand_ins]
    names.append("crd/inferenceservices.serving.kserve.io")
    kube.run("wait", "--for=condition=Established", *names, "--timeout=60s")
    # A fresh story each time: the example namespaces are made again.
    kube.run("delete", "namespace", *examples.NAMESPACES, "--ignore-not-found", "--wait=true")
    log = binaries.CACHE / "demo" / "operator.log"
    _say(f"{DIM}operator log: {log}{RESET}\n")
    ok = True
    try:
        with running_operator(cluster.kubeconfig, log, config_name="aigov-demo"):
            for example in examples.catalogue():
                ok = _show(kube, example) and ok
            _show_running(kube)
            _show_evidence(kube)
            _show_why(kube)
            _write_evidence(kube)
    except OperatorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    _say(f"The control plane is still up: export KUBECONFIG={cluster.kubeconfig}")
    _say("Run the operator with `make run`; stop everything with `make cluster-down`.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
