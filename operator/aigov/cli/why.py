"""`aigov why KIND/NAME` and `aigov get models`: the cluster's governance, for people.

Both read the live cluster (list calls only) into the same in-memory view `aigov check` uses,
then explain with the operator's own functions: a model's standing and who acts next; a
workload's verdict if it were applied now, and where its pods run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Mapping
from typing import Any

import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import ResourceNotFoundError

from aigov.api.constants import MODEL_LABEL
from aigov.api.kinds import workload_kinds
from aigov.cli import live
from aigov.cli.explain import explain
from aigov.cli.manifests import Document, Source
from aigov.cli.simulate import Cluster

MODEL_ALIASES = frozenset({"gm", "governedmodel", "governedmodels"})


class UsageError(Exception):
    """A command line that names nothing aigov can explain."""


def register(commands: Any) -> None:
    """Add `aigov why` and `aigov get`."""
    why = commands.add_parser("why", help="explain a model's standing or a workload's verdict")
    why.add_argument("target", metavar="KIND/NAME", help="gm/NAME, deploy/NAME, pod/NAME, ...")
    why.add_argument("-n", "--namespace", default=None, help="namespace (default: the context's)")
    why.add_argument("-o", "--output", choices=["text", "json", "yaml"], default="text")
    why.set_defaults(handler=run_why)
    get = commands.add_parser("get", help="tables of governance state")
    get.add_argument("what", choices=["models"], help="models: every GovernedModel")
    get.add_argument("-n", "--namespace", default=None, help="only this namespace")
    get.add_argument("-o", "--output", choices=["text", "json", "yaml"], default="text")
    get.set_defaults(handler=run_get)


def _view(args: argparse.Namespace) -> tuple[client.ApiClient, Cluster]:
    api = live.api_client(args)
    cluster = Cluster(default_mode=None)
    live.load(cluster, args)
    return api, cluster


def _namespace(args: argparse.Namespace) -> str:
    if args.namespace:
        return str(args.namespace)
    try:
        _, current = config.list_kube_config_contexts(config_file=args.kubeconfig)  # type: ignore[no-untyped-call]
    except Exception:
        return "default"
    return str((current or {}).get("context", {}).get("namespace") or "default")


def _print(data: Mapping[str, Any], form: str, text: str) -> None:
    if form == "json":
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    elif form == "yaml":
        sys.stdout.write(yaml.safe_dump(json.loads(json.dumps(data, default=str)), sort_keys=False))
    else:
        sys.stdout.write(text)


def run_why(args: argparse.Namespace) -> int:
    """Explain one model or workload; exit 1 when it may not run, 0 when it may."""
    kind, _, name = args.target.partition("/")
    kind = kind.lower()
    entry = workload_kinds().named(kind)
    if not name or (kind not in MODEL_ALIASES and entry is None):
        raise UsageError(
            f"cannot explain {args.target!r}: use gm/NAME or a workload such as deploy/NAME"
        )
    namespace = _namespace(args)
    api, cluster = _view(args)
    now = dt.datetime.now(dt.UTC)
    if kind in MODEL_ALIASES:
        return _why_model(cluster, namespace, name, now, args.output)
    assert entry is not None
    target = (entry.group, entry.version, entry.plural, entry.kind)
    return _why_workload(api, cluster, target, namespace, name, args.output)


def _why_model(cluster: Cluster, namespace: str, name: str, now: dt.datetime, form: str) -> int:
    found = explain(cluster.evidence(namespace, name), cluster.placement(), now)
    lines = [
        f"GovernedModel {namespace}/{name}: {found.phase}",
        *(f"  {s}" for s in found.sentences),
    ]
    lines.append(f"Next: {found.next_step}" if found.next_step else "Workloads of it may run.")
    data = {
        "model": name,
        "namespace": namespace,
        "phase": found.phase,
        "explanation": list(found.sentences),
        "next": found.next_step,
    }
    _print(data, form, "\n".join(lines) + "\n")
    return 0 if found.next_step is None else 1


def _read_workload(
    api: client.ApiClient, target: tuple[str, str, str, str], namespace: str, name: str
) -> dict[str, Any]:
    group, version, _, kind = target
    api_version = f"{group}/{version}" if group else version
    try:
        dynamic = DynamicClient(api)  # type: ignore[no-untyped-call]
        resource = dynamic.resources.get(api_version=api_version, kind=kind)
        body: dict[str, Any] = resource.get(name=name, namespace=namespace).to_dict()
    except ResourceNotFoundError as exc:
        raise UsageError(f"this cluster does not serve {kind} ({api_version})") from exc
    except ApiException as exc:
        if exc.status == 404:
            raise UsageError(f"{kind} {namespace}/{name} not found") from exc
        raise live.ClusterError(f"cannot read {kind} {namespace}/{name}: {exc.reason}") from exc
    return body


def _pods(api: client.ApiClient, body: Mapping[str, Any], namespace: str) -> list[tuple[str, str]]:
    """(pod, node) of the pods this workload runs, found by its selector or model label."""
    spec = body.get("spec") or {}
    meta = body.get("metadata") or {}
    if body.get("kind") == "Pod":
        return [(meta.get("name", ""), spec.get("nodeName") or "(not scheduled)")]
    labels = (spec.get("selector") or {}).get("matchLabels") or {}
    model = (meta.get("labels") or {}).get(MODEL_LABEL)
    if not labels and model:
        labels = {MODEL_LABEL: model}
    if not labels:
        return []
    text = ",".join(f"{k}={v}" for k, v in labels.items())
    listed = client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector=text)
    return [
        (str(p.metadata.name if p.metadata else ""), (p.spec.node_name if p.spec else None) or "-")
        for p in listed.items
    ]


def _why_workload(  # noqa: PLR0917 - one call site, each argument named there
    api: client.ApiClient,
    cluster: Cluster,
    target: tuple[str, str, str, str],
    namespace: str,
    name: str,
    form: str,
) -> int:
    body = _read_workload(api, target, namespace, name)
    finding = cluster.apply(Document(Source(f"{target[3]}/{name}", 1, 1), body))
    pods = _pods(api, body, namespace)
    pools = {n: info.labels.get("pool", "") for n, info in cluster.nodes.items()}
    lines = [f"{target[3]} {namespace}/{name}: {finding.verdict} if applied now"]
    if finding.note:
        lines.append(f"  ({finding.note})")
    lines.extend(f"  {v.render()}" for v in finding.decision.violations)
    flagged = ((body.get("metadata") or {}).get("annotations") or {}).get("aigov.io/flagged")
    if flagged:
        lines.append(f"  flagged by aigov: {flagged}")
    for pod, node in pods:
        pool = pools.get(node)
        lines.append(f"  pod {pod} runs on {node}" + (f" (pool {pool})" if pool else ""))
    data = {
        "kind": target[3],
        "namespace": namespace,
        "name": name,
        "verdict": finding.verdict,
        "violations": [v.to_dict() for v in finding.decision.violations],
        "flagged": flagged,
        "pods": [{"name": p, "node": n, "pool": pools.get(n)} for p, n in pods],
    }
    _print(data, form, "\n".join(lines) + "\n")
    return 1 if finding.decision.violations else 0


def run_get(args: argparse.Namespace) -> int:
    """`aigov get models`: one row per GovernedModel, across namespaces unless -n."""
    api = live.api_client(args)
    rows = []
    for body in live.aigov_objects(api, "governedmodels"):
        meta, spec, status = body["metadata"], body.get("spec") or {}, body.get("status") or {}
        if args.namespace and meta.get("namespace") != args.namespace:
            continue
        ra, ma = status.get("riskAssessment") or {}, status.get("approval") or {}
        expiries = [t for t in (ra.get("validUntil"), ma.get("validUntil")) if t]
        workloads = status.get("workloads") or []
        pools = sorted({p for w in workloads for p in w.get("pools") or []})
        rows.append(
            {
                "namespace": meta.get("namespace"),
                "model": meta.get("name"),
                "version": spec.get("version"),
                "phase": status.get("phase") or "Unknown",
                "risk": spec.get("riskClass"),
                "assessor": ra.get("assessor") or "-",
                "approver": ma.get("approver") if ma.get("decision") == "approve" else "-",
                "expires": min(expiries) if expiries else "-",
                "workloads": len(workloads),
                "pools": ",".join(pools) or "-",
            }
        )
    if args.output != "text":
        _print({"models": rows}, args.output, "")
        return 0
    header = ["NAMESPACE", "MODEL", "VERSION", "PHASE", "RISK", "ASSESSOR", "APPROVER",
              "EXPIRES", "WORKLOADS", "POOLS"]  # fmt: skip
    table = [header] + [[str(r[k.lower()] or "-") for k in header] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    out = "\n".join(
        "   ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in table
    )
    sys.stdout.write(out + "\n" if rows else "No GovernedModels found.\n")
    return 0
