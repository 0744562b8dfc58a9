"""Issue 8 items 6 and 7 end to end: reserved GPU pools in every namespace (with the
matchConditions that keep the API server from calling aigov for what cannot matter), access
to running high-risk models, and 0 -> N scale-ups after a revocation."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tools.controlplane.operator import Operator
from tools.kubectl import Kube, User

from aigov import webhooks
from tests.e2e import governed, manifests
from tests.e2e.governed import ALICE, CAROL, IMAGE

pytestmark = pytest.mark.e2e

RESERVED_POOLS = ("h100-eu", "h200-eu")
GPU_TOLERATION = manifests.GPU_TOLERATION
ONCALL = User("alice", ("ml-engineers", "aigov-break-glass", "system:authenticated"))
MEASURED = Path(__file__).resolve().parents[2] / ".cache" / "e2e" / "match-conditions.json"


@pytest.fixture(scope="module")
def reserved(kube: Kube, operator: Operator) -> Iterator[str]:
    """A validate-mode PlacementPolicy reserving the EU pools, for this module only: the
    cluster's pools are shared with every other test."""
    name = "reserved-eu-e2e"
    policy = {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "PlacementPolicy",
        "metadata": {"name": name},
        "spec": {
            "mode": "validate",
            "reservePools": True,
            "nodePools": [
                {"name": p, "nodeSelector": {"pool": p}, "tolerations": [GPU_TOLERATION]}
                for p in RESERVED_POOLS
            ],
        },
    }
    assert kube.apply(policy).ok
    # The index sees the policy a moment later: a dry run shows when it does.
    probe = manifests.pod("probe", "default", gpus=1)
    kube.wait_for(
        lambda: not kube.run("create", "--dry-run=server", "-f", "-", stdin=json.dumps(probe)).ok,
        "the reservation to be in force",
        30,
    )
    yield name
    kube.run("delete", "placementpolicy", name, "--wait=true")


@pytest.fixture
def open_ns(kube: Kube, operator: Operator, unique: str) -> str:
    """A namespace without aigov.io/mode: not governed."""
    return kube.namespace(f"open-{unique}")


@pytest.fixture
def enforced(kube: Kube, operator: Operator, unique: str) -> str:
    name = kube.namespace(f"res-{unique}", mode="enforce")
    governed.bind_personas(kube, name)
    return name


def _records(operator: Operator, namespace: str, webhook: str) -> list[dict[str, Any]]:
    """The operator's decision records for `namespace` from `webhook`."""
    found = []
    for line in operator.log.read_text(errors="replace").splitlines():
        if f'"{namespace}"' not in line:
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if (
            record.get("event") == "admission decision"
            and record.get("namespace") == namespace
            and record.get("webhook") == webhook
        ):
            found.append(record)
    return found


def _cpu_deployment(name: str, ns: str) -> dict[str, Any]:
    return manifests.deployment(name, ns)


def _running_on(kube: Kube, ns: str, pod: str) -> str:
    def running() -> bool:
        return kube.get("pod", pod, ns)["status"].get("phase") == "Running"

    kube.wait_for(running, f"pod {pod} Running", 90)
    node = kube.get("pod", pod, ns)["spec"]["nodeName"]
    pool: str = kube.get("node", node)["metadata"]["labels"]["pool"]
    return pool


def test_cpu_workloads_of_an_ungoverned_namespace_never_reach_aigov(
    kube: Kube, operator: Operator, reserved: str, open_ns: str
) -> None:
    assert kube.apply(manifests.pod("web", open_ns)).ok
    assert kube.apply(_cpu_deployment("web-deploy", open_ns)).ok
    assert kube.run("create", "configmap", "settings", "-n", open_ns).ok
    kube.wait_for(lambda: len(kube.list("pods", open_ns)) == 2, "the Deployment's pod", 60)
    # A GPU pod in the same namespace does reach aigov, so the log is read correctly.
    gpu = kube.apply(manifests.pod("gpu", open_ns, gpus=1))
    assert not gpu.ok
    (record,) = _records(operator, open_ns, "validate-reserved")
    assert record["name"] == "gpu"
    assert record["decision"] == "refused"


def test_a_gpu_pod_that_could_land_on_a_reserved_pool_is_refused_anywhere(
    kube: Kube, reserved: str, open_ns: str
) -> None:
    result = kube.apply(manifests.pod("gpu", open_ns, gpus=1))
    assert not result.ok
    assert "PlacementViolation" in result.stderr
    assert "reserved pool h100-eu (PlacementPolicy reserved-eu-e2e)" in result.stderr
    deploy = manifests.deployment("gpu-deploy", open_ns, gpus=1)
    result = kube.apply(deploy)
    assert not result.ok
    assert "PlacementViolation at spec.template.spec" in result.stderr
    # nodeName skips the scheduler and its taints: refused at the field.
    by_name = manifests.pod("by-name", open_ns, nodeName="h200-eu-0")
    result = kube.apply(by_name)
    assert not result.ok
    assert "PlacementViolation at spec.nodeName" in result.stderr


@pytest.mark.parametrize("pool", ["a100-shared-us", "cpu"])
def test_the_same_pod_pinned_to_an_unreserved_pool_is_admitted(
    kube: Kube, reserved: str, open_ns: str, pool: str
) -> None:
    gpus = 1 if pool != "cpu" else 0
    pod = manifests.pod("pinned", open_ns, gpus=gpus, nodeSelector={"pool": pool})
    pod["spec"]["tolerations"] = [GPU_TOLERATION]
    result = kube.apply(pod)
    assert result.ok, result.stderr
    assert _running_on(kube, open_ns, "pinned") == pool


def test_the_approved_models_pod_runs_on_its_reserved_pool(
    kube: Kube, reserved: str, open_ns: str, enforced: str
) -> None:
    for ns in (open_ns, enforced):
        governed.bind_personas(kube, ns)
        spec = governed.model_spec(riskClass="high", placementPolicy=reserved)
        governed.govern(kube, ns, "reserved-model", spec)
        # Either reserved pool: the GPUs are shared with the whole e2e session, and what
        # earlier tests leave running can fill one pool.
        anywhere_reserved = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": "pool", "operator": "In", "values": list(RESERVED_POOLS)}
                            ]
                        }
                    ]
                }
            }
        }
        pod = manifests.pod(
            "served", ns, gpus=1, model="reserved-model", affinity=anywhere_reserved
        )
        pod["spec"]["containers"][0]["image"] = IMAGE
        result = kube.apply(pod, user=ALICE)
        assert result.ok, result.stderr
        assert _running_on(kube, ns, "served") in RESERVED_POOLS
        # Its label alone opens nothing: another image under it is refused.
        other = manifests.pod(
            "impostor", ns, gpus=1, model="reserved-model", nodeSelector={"pool": "h100-eu"}
        )
        result = kube.apply(other, user=ALICE)
        assert not result.ok
        assert "ArtifactNotApproved" in result.stderr


def test_exec_into_a_high_risk_models_pod_needs_break_glass(
    kube: Kube, operator: Operator, reserved: str, enforced: str
) -> None:
    spec = governed.model_spec(riskClass="high", placementPolicy=reserved)
    governed.govern(kube, enforced, "secret-model", spec)
    pod = manifests.pod(
        "secret", enforced, gpus=1, model="secret-model", nodeSelector={"pool": "h200-eu"}
    )
    pod["spec"]["containers"][0]["image"] = IMAGE
    assert kube.apply(pod, user=ALICE).ok
    _running_on(kube, enforced, "secret")
    result = kube.run("exec", "secret", "-n", enforced, "--", "cat", "/etc/hostname", user=ALICE)
    assert not result.ok
    assert "AccessRestricted" in result.stderr
    assert "aigov-break-glass" in result.stderr
    result = kube.run("port-forward", "pod/secret", "-n", enforced, "18080:80", user=ALICE)
    assert not result.ok
    assert "AccessRestricted" in result.stderr
    # The break-glass group passes aigov (kwok's fake kubelet then has nothing to run).
    result = kube.run("exec", "secret", "-n", enforced, "--", "true", user=ONCALL)
    assert "AccessRestricted" not in result.stderr
    # One decision record per request (kubectl retries a refused WebSocket upgrade over
    # SPDY, so a refusal may be recorded twice).
    records = _records(operator, enforced, "validate-access")
    seen = {(r["subresource"], r["decision"], r.get("break_glass")) for r in records}
    assert seen == {
        ("exec", "refused", None),
        ("portforward", "refused", None),
        ("exec", "allowed", "aigov-break-glass"),
    }
    assert {(r["user"], r["model"]) for r in records} == {("alice", "secret-model")}


def test_scale_from_zero_after_a_revocation_is_refused(
    kube: Kube, reserved: str, enforced: str
) -> None:
    spec = governed.govern(kube, enforced, "dormant")
    deploy = manifests.deployment(
        "dormant",
        enforced,
        gpus=1,
        model="dormant",
        replicas=0,
        image=IMAGE,
        nodeSelector={"pool": "a100-shared-us"},
    )
    result = kube.apply(deploy, user=ALICE)
    assert result.ok, result.stderr
    revoke = governed.approval("dormant-revoke", enforced, "dormant", spec, decision="revoke")
    assert kube.apply(revoke, user=CAROL).ok
    scale = ("scale", "deployment", "dormant", "-n", enforced, "--replicas=1")
    # The revocation reaches the operator's index through its watch: wait for a refusal.
    deadline = time.monotonic() + 20
    result = kube.run(*scale, "--dry-run=server", user=ALICE)
    while result.ok and time.monotonic() < deadline:
        time.sleep(0.3)
        result = kube.run(*scale, "--dry-run=server", user=ALICE)
    result = kube.run(*scale, user=ALICE)
    assert not result.ok
    assert "NotApproved" in result.stderr
    assert kube.get("deployment", "dormant", enforced)["spec"]["replicas"] == 0


def _mixed_workload(kube: Kube, ns: str) -> int:
    """CPU Pods, CPU Deployments, ConfigMaps and a few GPU pods; returns how many API writes
    were made directly (the controllers add ReplicaSets and Pods)."""
    writes = 0
    for i in range(12):
        assert kube.apply(manifests.pod(f"cpu-{i}", ns)).ok
        writes += 1
    for i in range(6):
        assert kube.apply(_cpu_deployment(f"web-{i}", ns)).ok
        writes += 1
    for i in range(6):
        assert kube.run("create", "configmap", f"cm-{i}", "-n", ns).ok
        writes += 1
    for i in range(3):
        pinned = manifests.pod(f"gpu-{i}", ns, gpus=1, nodeSelector={"pool": "a100-shared-us"})
        assert kube.apply(pinned).ok
        writes += 1
    for i in range(3):
        assert not kube.apply(manifests.pod(f"stray-{i}", ns, gpus=1)).ok
        writes += 1
    kube.wait_for(lambda: len(kube.list("pods", ns)) == 12 + 6 + 3, "every pod", 90)
    time.sleep(3)  # the Deployment controller's follow-up updates of its ReplicaSets
    return writes


def test_match_conditions_save_most_calls_on_a_mixed_workload(
    kube: Kube, operator: Operator, reserved: str, unique: str
) -> None:
    """The same mix, with the webhook's matchConditions and without them: the fraction of
    admission calls to aigov they save (written to .cache/e2e/match-conditions.json)."""
    config = operator.config_name
    with_ns = kube.namespace(f"mix-on-{unique}")
    writes = _mixed_workload(kube, with_ns)
    with_calls = len(_records(operator, with_ns, "validate-reserved"))

    hooks = kube.get("validatingwebhookconfiguration", config)["webhooks"]
    index = next(i for i, h in enumerate(hooks) if h["name"] == "reserved.aigov.io")
    remove = [{"op": "remove", "path": f"/webhooks/{index}/matchConditions"}]
    assert kube.run(
        "patch", "validatingwebhookconfiguration", config, "--type=json", "-p", json.dumps(remove)
    ).ok
    try:
        without_ns = kube.namespace(f"mix-off-{unique}")
        # The API server sees the changed configuration through an informer: a CPU pod's
        # dry run reaches aigov once it has.
        probe = json.dumps(manifests.pod("probe", without_ns))
        kube.wait_for(
            lambda: bool(
                kube.run("create", "--dry-run=server", "-f", "-", stdin=probe).ok
                and _records(operator, without_ns, "validate-reserved")
            ),
            "the webhook without matchConditions",
            30,
        )
        _mixed_workload(kube, without_ns)
        without_calls = len(
            [r for r in _records(operator, without_ns, "validate-reserved") if r["name"] != "probe"]
        )
    finally:
        path = f"/webhooks/{index}/matchConditions"
        restore = [{"op": "add", "path": path, "value": webhooks.match_conditions()}]
        assert kube.run(
            "patch",
            "validatingwebhookconfiguration",
            config,
            "--type=json",
            "-p",
            json.dumps(restore),
        ).ok
    saved = 1 - with_calls / without_calls
    MEASURED.parent.mkdir(parents=True, exist_ok=True)
    MEASURED.write_text(
        json.dumps(
            {
                "direct_writes": writes,
                "calls_with_match_conditions": with_calls,
                "calls_without_match_conditions": without_calls,
                "fraction_saved": round(saved, 3),
            }
        )
    )
    assert with_calls == 6  # the 3 pinned GPU pods and the 3 strays, nothing else
    assert without_calls > 3 * with_calls
    assert saved > 0.6
