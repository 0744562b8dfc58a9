"""`make bench`: what aigov's admission costs on this machine, and whether it meets issue 10.

1. In process: parse + judge of the governed GPU Pod with 1,000 nodes and 1,000 / 10,000
   models (bench.inprocess).
2. Through the real kube-apiserver, with vegeta as the outside load generator: server-side
   dry-run Pod creates as a user (client certificate) at fixed rates and in closed loops,
   governed namespace vs ungoverned baseline (bench.loads), and the operator's CPU time per
   review during the governed 50-client loop.
3. Memory: the operator's resident memory after loading 1,000 (and 10,000) models, each
   with an assessment, an approval and a Deployment whose pod kwok runs (bench.fleet).
4. Starting and stopping: a CPU web Deployment probed while a replica starts; two replicas
   behind one webhook address rolled under load (bench.roll).

Prints one table and the targets; writes everything as JSON to
`.cache/bench/<short sha>-<UTC time>.json` for comparing commits.

Usage: python -m bench.admission [--quick]
Starts its own control plane on bench ports (AIGOV_* variables choose others; a running one
is reused and left running), and its own operators.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tools.controlplane import binaries
from tools.controlplane.cluster import Cluster, running
from tools.controlplane.operator import free_port, running_operator
from tools.kubectl import Kube

from aigov import certs
from bench import fleet, inprocess, loads, procstat, replicas, report, roll
from bench import manifests as m
from bench.kubeapi import KubeApi
from bench.proxy import Backend, RoundRobinProxy
from bench.vegeta import Driver, Tls

ROOT = Path(__file__).resolve().parents[1]
OUT = binaries.CACHE / "bench"
BENCH_CLUSTER = {
    "AIGOV_CLUSTER_DIR": str(OUT / "cluster"),
    "AIGOV_APISERVER_PORT": "17443",
    "AIGOV_ETCD_PORT": "17379",
    "AIGOV_ETCD_PEER_PORT": "17380",
    "AIGOV_KWOK_PORT": "17247",
}
"""Its own control plane, beside `make cluster-up`'s and the e2e tests'."""
CONFIG = "aigov-bench"
ROLL_CONFIG = "aigov-bench-roll"
WEBHOOK_CONFIGS = (
    "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
    "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _git(*args: str) -> str:
    out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return out.stdout.strip()


def _user_tls(cluster: Cluster) -> Tls:
    """A client certificate for the benchmark's user, issued by the cluster's CA."""
    directory = OUT / "user"
    directory.mkdir(parents=True, exist_ok=True)
    ca = certs.KeyPair.read(cluster.pki.ca_cert, cluster.pki.ca_key)
    certs.issue(ca, m.CLIENT, client=True).write(directory / "tls.crt", directory / "tls.key")
    return Tls(cluster.pki.ca_cert, directory / "tls.crt", directory / "tls.key")


def _api_factory(cluster: Cluster) -> Callable[[], KubeApi]:
    p = cluster.pki
    return lambda: KubeApi(cluster.server, p.ca_cert, p.cert("admin"), p.key("admin"))


def _settle(pid: int, budget_s: float) -> float:
    """Wait until the operator is nearly idle (under 5% of a core over 2 s): the backlog of
    reconciliations a load leaves is done. Returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < budget_s:
        before = procstat.cpu_seconds(pid)
        time.sleep(2)
        if procstat.cpu_seconds(pid) - before < 0.1:
            break
    return round(time.monotonic() - started, 1)


def _control_plane_pids(cluster: Cluster) -> dict[str, int]:
    """The API server's and etcd's pids, for the per-load CPU split."""
    return {
        name: int((cluster.pids / f"{name}.pid").read_text()) for name in ("kube-apiserver", "etcd")
    }


def _load_models(
    api: Callable[[], KubeApi], pid: int, first: int, last: int, settle_s: float
) -> dict[str, Any]:
    """Models first..last-1 into the fleet; the operator's RSS once their pods run."""

    async def go() -> dict[str, Any]:
        async with api() as client:
            await fleet.add_fleet_nodes(client, last)
            loaded = await fleet.load_fleet(client, first, last)
            if loaded.errors:
                raise fleet.LoadError("; ".join(loaded.errors[:5]))
            log(f"  {last - first} models created in {loaded.seconds:.0f} s; waiting for pods")
            pods = await fleet.wait_fleet_pods(client, last, timeout_s=max(120, last / 10))
            return {
                "create_s": round(loaded.seconds, 1),
                "create_retries": loaded.retries,
                "pods_running_after_s": None if pods is None else round(pods, 1),
            }

    result = asyncio.run(go())
    result["settle_s"] = _settle(pid, settle_s)
    result["models"] = last
    result["rss_mib"] = procstat.rss_mib(pid)
    log(
        f"  {last:,} models: created in {result['create_s']} s, pods running "
        f"{result['pods_running_after_s']} s later; operator RSS {result['rss_mib']} MiB"
    )
    return result


async def _copy_configs(api: KubeApi, address: str, ca_pem: bytes) -> None:
    """The managed operator's webhook configurations, pointed at the proxy."""
    for collection in WEBHOOK_CONFIGS:
        answer = await api.get(f"{collection}/{CONFIG}")
        if answer.status == 404:
            continue  # e.g. no mutating configuration when nothing can be injected
        if answer.status != 200:
            raise RuntimeError(f"GET {collection}/{CONFIG}: {answer.status} {answer.message}")
        body = replicas.rewrite_configuration(answer.body, ROLL_CONFIG, address, ca_pem)
        created = await api.create(collection, body)
        if created.status not in (200, 201):
            raise RuntimeError(f"webhook configuration copy: {created.status} {created.message}")


async def _delete_configs(api: KubeApi, name: str) -> None:
    for collection in WEBHOOK_CONFIGS:
        await api.request("DELETE", f"{collection}/{name}")


def _dump(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _dump(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _dump(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_dump(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short loads, 1,000 models only")
    parser.add_argument("--seconds", type=float, help="seconds per load (default 10, quick 3)")
    parser.add_argument(
        "--models",
        type=int,
        nargs="+",
        help="fleet sizes to load (default 1000 10000, quick 1000); for development",
    )
    parser.add_argument(
        "--roll-rate", type=int, default=100, help="governed req/s during the rolling restart"
    )
    args = parser.parse_args(argv)
    seconds = args.seconds or (3.0 if args.quick else 10.0)
    model_counts = tuple(args.models or ((1000,) if args.quick else (1000, 10000)))
    for key, value in BENCH_CLUSTER.items():
        os.environ.setdefault(key, value)
    started = dt.datetime.now(dt.UTC)
    result: dict[str, Any] = {
        "commit": _git("rev-parse", "--short", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "started": started.isoformat(timespec="seconds"),
        "quick": args.quick,
        "seconds_per_load": seconds,
    }

    log("in-process decision (parse + judge), 1,000 nodes")
    result["in_process"] = [
        inprocess.measure(1000 if args.quick else 5000, 1000, n) for n in model_counts
    ]
    for row in result["in_process"]:
        log(f"  {row['models']:,.0f} models: p50 {row['p50_us']:,.0f}, p99 {row['p99_us']:,.0f} us")

    try:
        cluster = Cluster()
        with running(cluster):
            kube = Kube(binaries.find("kubectl"), cluster.kubeconfig)
            for path in ("crds", "config/rbac"):
                kube.run(
                    "apply",
                    "--server-side",
                    "--force-conflicts",
                    "-f",
                    str(ROOT / path),
                    check=True,
                )
            driver = Driver(binaries.find("vegeta"), _user_tls(cluster), OUT / "work")
            api = _api_factory(cluster)
            with running_operator(
                cluster.kubeconfig,
                OUT / "operator.log",
                config_name=CONFIG,
                # A GPU Pod is judged in every namespace (reserved pools), so the baseline
                # namespace is excluded from every webhook: it measures the API server alone.
                AIGOV_EXCLUDED_NAMESPACES=f"kube-system,{m.NS_BASELINE}",
            ) as op:
                asyncio.run(_prepare(api))
                metrics_url = f"http://127.0.0.1:{op.health_port}/metrics"
                log(f"API server loads, {seconds:.0f} s each, as user {m.CLIENT}")
                rows, cpu = loads.run_loads(
                    driver,
                    cluster.server,
                    loads.FULL_LOADS,
                    seconds,
                    operator_pid=op.process.pid,
                    metrics_url=metrics_url,
                    processes=_control_plane_pids(cluster),
                )
                result["loads"] = rows
                result["webhook_cpu"] = (
                    None
                    if cpu is None
                    else {
                        **dataclasses.asdict(cpu),
                        "reviews_per_cpu_second": cpu.reviews_per_cpu_second,
                    }
                )
                log("loading the fleet")
                result["fleet"] = [_load_models(api, op.process.pid, 0, model_counts[0], 60)]
                proxy_port = free_port()
                ca_pem = replicas.make_cert_dir(OUT / "replica-certs")
                asyncio.run(
                    _with_api(api, lambda c: _copy_configs(c, f"127.0.0.1:{proxy_port}", ca_pem))
                )
            # The operator removes its configurations at exit, unless it had to be killed
            # (it did not stop within 30 s of SIGTERM): then they would still send every
            # request to a closed port.
            asyncio.run(_with_api(api, lambda c: _delete_configs(c, CONFIG)))
            _starting_and_stopping(
                result,
                api,
                cluster,
                driver,
                proxy_port=proxy_port,
                model_counts=model_counts,
                roll_rate=args.roll_rate,
            )
    except BaseException as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
        log(f"failed; partial results in {_write(result)}")
        raise
    _finish(result, seconds)
    return 0


async def _with_api(api: Callable[[], KubeApi], fn: Callable[[KubeApi], Any]) -> None:
    async with api() as client:
        await fn(client)


async def _prepare(api: Callable[[], KubeApi]) -> None:
    async with api() as client:
        await fleet.prepare(client, 0)


def _starting_and_stopping(
    out: dict[str, Any],
    api: Callable[[], KubeApi],
    cluster: Cluster,
    driver: Driver,
    *,
    proxy_port: int,
    model_counts: tuple[int, ...],
    roll_rate: int,
) -> None:
    """Start-up probe and rolling restart behind the proxy; then the larger fleet. Results
    go into `out` as they come, so a failure later keeps them."""
    logs = OUT / "replicas"
    a, b = (
        replicas.Replica.new(name, cluster.kubeconfig, OUT / "replica-certs", logs)
        for name in ("replica-a", "replica-b")
    )
    proxy = RoundRobinProxy([Backend(r.webhook_port, r.ready_url) for r in (a, b)], proxy_port)
    proxy.start()
    try:
        log(f"start-up: replica-a alone behind the webhook, {model_counts[0]:,} models loaded")
        out["startup"] = roll.startup(api, a)
        s = out["startup"]
        log(
            f"  ready after {s['ready_after_s']} s; CPU web Deployment refused "
            f"{s['cpu_web_deployment']['refused']} of "
            f"{s['cpu_web_deployment']['refused'] + s['cpu_web_deployment']['allowed']}; "
            f"GPU pod refused {s['governed_gpu_pod']['refused']}"
        )
        out["fresh_replica_rss_mib"] = procstat.rss_mib(a.pid)
        b.start()
        log(f"rolling restart of two replicas under {roll_rate} req/s governed load")
        out["roll"] = roll.rolling_restart(driver, cluster.server, (a, b), roll_rate)
        summary = out["roll"]["summary"]
        log(f"  roll: {summary.requests} requests, {report.failure_text(summary)} failed")
        for message in summary.messages:
            log(f"    {message}")
        if len(model_counts) > 1:
            b.stop()
            log(f"loading the fleet up to {model_counts[1]:,} models (replica-a serving)")
            out["fleet_more"] = _load_models(api, a.pid, model_counts[0], model_counts[1], 120)
    finally:
        for r in (a, b):
            r.stop()
        asyncio.run(_with_api(api, lambda c: _delete_configs(c, ROLL_CONFIG)))
        proxy.stop()


def _finish(result: dict[str, Any], seconds: float) -> None:
    fleets = [result["fleet"][0], *([result["fleet_more"]] if "fleet_more" in result else [])]
    rss = {f["models"]: f["rss_mib"] for f in fleets}
    roll_summary = result["roll"]["summary"]
    cpu = result.get("webhook_cpu") or {}
    targets = report.evaluate(
        result["loads"], cpu.get("reviews_per_cpu_second"), rss, roll_summary.failed
    )
    result["targets"] = targets
    dirty = " (dirty)" if result["dirty"] else ""
    lines = [
        f"aigov admission benchmark, commit {result['commit']}{dirty}, "
        f"{result['started']}, {seconds:.0f} s per load, dry-run GPU Pod creates via vegeta",
        "",
        report.render_table(result["loads"]),
        "",
        "CPU per request, baseline / governed (whole processes; machine busy = share of all "
        "cores):",
        "",
        report.render_cpu_table(result["loads"]),
        "",
    ]
    for row in result["in_process"]:
        lines.append(
            f"in-process decision, {row['nodes']:,.0f} nodes, {row['models']:,.0f} models: "
            f"p50 {row['p50_us']:,.0f} us, p99 {row['p99_us']:,.0f} us"
        )
    for f in fleets:
        lines.append(
            f"operator RSS after loading {f['models']:,} models (assessment, approval, "
            f"Deployment each): {f['rss_mib']:,.0f} MiB; created in {f['create_s']:,.0f} s, "
            f"pods running {f['pods_running_after_s']} s later"
        )
    if cpu:
        lines.append(
            f"webhook server: {cpu['reviews']} reviews ({cpu['requests']} requests) in "
            f"{cpu['cpu_seconds']:.1f} CPU-s = {cpu['reviews_per_cpu_second'] or 0:,.0f} reviews "
            "per CPU-second (whole operator process, governed 50-client loop)"
        )
    s = result["startup"]
    web = s["cpu_web_deployment"]
    lines.append(
        f"start-up ({s['ready_after_s']} s to ready): CPU web Deployment refused "
        f"{web['refused']} of {web['refused'] + web['allowed']} probes {web['codes'] or ''}; "
        f"governed GPU Pod refused {s['governed_gpu_pod']['refused']} of "
        f"{s['governed_gpu_pod']['refused'] + s['governed_gpu_pod']['allowed']}"
    )
    lines.append(
        f"rolling restart of 2 replicas at {result['roll']['rate']} req/s: "
        f"{roll_summary.requests} requests, {report.failure_text(roll_summary)} failed"
    )
    lines += ["", "targets (issue 10, item 6):", report.render_targets(targets)]
    text = "\n".join(lines)
    print(text)
    print(f"\nwritten {_write(result)}")


def _write(result: dict[str, Any]) -> Path:
    """The whole result as JSON, named for the commit and the time, for comparisons."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = OUT / f"{result['commit'] or 'nogit'}-{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_dump(result), indent=2))
    return path


if __name__ == "__main__":
    raise SystemExit(main())
