"""Issue 10: the API server calls aigov only when it matters (matchConditions).

Real API server evaluating the generated CEL: a CPU web Deployment in a governed namespace is
admitted without any aigov webhook being called (the API server's own counters and the
operator's decision counter say so), while everything the new conditions could get wrong is
still sent: an engine named only in a command, a model label removed on update, a scale-up
through /scale; the mutating webhook is called in enforce namespaces only while an injecting
PlacementPolicy exists; and an object near the 3 MiB request limit neither exceeds the CEL
cost budget nor gets through when it asks for a GPU.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from tools.controlplane.operator import Operator
from tools.kubectl import Kube, Result

from aigov import webhooks
from aigov.api.constants import MODEL_LABEL
from tests.e2e import manifests

pytestmark = pytest.mark.e2e

VALIDATING = "workloads.aigov.io"
CONFIG = "aigov-e2e"
CPU_IMAGE = "registry.example.com/web/shop:1.4"


def _samples(text: str, metric: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == metric and labels.items() <= sample.labels.items():
                total += float(sample.value)
    return total


def calls(kube: Kube, webhook: str) -> float:
    """Requests the API server sent to one webhook (every operation, code and type)."""
    text = kube.run("get", "--raw", "/metrics", check=True).stdout
    return _samples(text, "apiserver_admission_webhook_request_total", name=webhook)


def decisions(operator: Operator) -> float:
    """Decisions the operator made on the validating workloads path."""
    import urllib.request

    url = f"http://127.0.0.1:{operator.health_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    return _samples(text, "aigov_admission_decisions_total", webhook=webhooks.VALIDATE_WORKLOADS)


def dry_run(kube: Kube, manifest: dict[str, Any], verb: str = "create") -> Result:
    return kube.run(verb, "--dry-run=server", "-f", "-", stdin=yaml.safe_dump(manifest))


@pytest.fixture
def ns(kube: Kube, operator: Operator, unique: str) -> str:
    return kube.namespace(f"mc-{unique}", mode="enforce")


def web(name: str, ns: str, **container: Any) -> dict[str, Any]:
    manifest = manifests.deployment(name, ns, image=CPU_IMAGE)
    manifest["spec"]["template"]["spec"]["containers"][0].update(container)
    return manifest


def test_a_cpu_web_deployment_is_admitted_without_a_review(
    kube: Kube, operator: Operator, ns: str
) -> None:
    before = (calls(kube, VALIDATING), decisions(operator))
    assert kube.apply(web("shop", ns)).ok
    # Its ReplicaSet and Pod are created by controllers, and skipped too.
    kube.wait_for(lambda: len(kube.list("pods", ns, "app=shop")) == 1, "the shop pod")
    assert (calls(kube, VALIDATING), decisions(operator)) == before
    kube.run("delete", "deployment", "shop", "-n", ns, "--wait=false")


def test_an_engine_named_only_in_a_command_is_sent(kube: Kube, operator: Operator, ns: str) -> None:
    before = calls(kube, VALIDATING)
    cmd = ["sh", "-c", "exec vllm serve meta-llama/Llama-3.1-8B-Instruct --port 8000"]
    assert dry_run(kube, web("llm", ns, command=cmd)).ok
    assert calls(kube, VALIDATING) == before + 1


@pytest.mark.parametrize(
    ("way", "spec"),
    [
        ("env", {"env": [{"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"}]}),
        ("runtime class", {"runtimeClassName": "nvidia"}),
    ],
)
def test_gpus_reached_without_a_request_are_refused(
    kube: Kube, ns: str, way: str, spec: dict[str, Any]
) -> None:
    manifest = web("gpu", ns, **(spec if "env" in spec else {}))
    if "runtimeClassName" in spec:
        manifest["spec"]["template"]["spec"]["runtimeClassName"] = spec["runtimeClassName"]
    result = dry_run(kube, manifest)
    assert not result.ok, way
    assert "UngovernedWorkload" in result.stderr, result.stderr


def test_a_model_label_removed_on_update_is_sent(
    kube: Kube, operator: Operator, unique: str
) -> None:
    ns = kube.namespace(f"mc-warn-{unique}", mode="warn")
    labelled = web("tagged", ns)
    for meta in (labelled["metadata"], labelled["spec"]["template"]["metadata"]):
        meta["labels"][MODEL_LABEL] = "ghost"
    created = kube.apply(labelled)
    assert created.ok, created.stderr
    assert "ModelNotFound" in created.stderr  # warn mode: admitted with a warning
    # Its ReplicaSet and Pod are judged too, a moment later: count from after them.
    kube.wait_for(
        lambda: len(kube.list("pods", ns, f"{MODEL_LABEL}=ghost")) == 1, "the labelled pod"
    )
    before = decisions(operator)
    assert kube.apply(web("tagged", ns)).ok  # both labels gone, still a CPU web server
    assert decisions(operator) == before + 1
    kube.run("delete", "deployment", "tagged", "-n", ns, "--wait=false")


def test_a_scale_up_through_the_scale_subresource_is_sent(
    kube: Kube, operator: Operator, unique: str
) -> None:
    ns = kube.namespace(f"mc-scale-{unique}", mode="warn")
    manifest = manifests.deployment("trainer", ns, gpus=1, replicas=0)
    assert kube.apply(manifest).ok
    # Its ReplicaSet (no replicas, still a GPU template) is judged a moment later: count from
    # after it, or its decision lands in the middle of the count.
    kube.wait_for(lambda: len(kube.list("replicasets", ns)) == 1, "the ReplicaSet")
    before = decisions(operator)
    up = kube.run("scale", "deployment/trainer", "-n", ns, "--replicas=1", "--dry-run=server")
    assert up.ok, up.stderr
    assert "UngovernedWorkload" in up.stderr  # warn mode: the scale-up was judged
    assert decisions(operator) == before + 1
    down = kube.run("scale", "deployment/trainer", "-n", ns, "--replicas=0", "--dry-run=server")
    assert down.ok
    assert decisions(operator) == before + 1  # no more replicas: not sent
    kube.run("delete", "deployment", "trainer", "-n", ns, "--wait=false")


def _governed_entry(kube: Kube) -> list[str]:
    body = kube.get("mutatingwebhookconfiguration", CONFIG)
    (entry,) = [w for w in body["webhooks"] if w["name"] == webhooks.GOVERNED_MUTATION]
    return [c["name"] for c in entry["matchConditions"]]


@pytest.fixture
def injecting_policy(kube: Kube, unique: str) -> Iterator[str]:
    name = f"inject-{unique}"
    policy = {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "PlacementPolicy",
        "metadata": {"name": name},
        "spec": {
            "mode": "inject",
            "nodePools": [{"name": "h100", "nodeSelector": {"nvidia.com/gpu.product": "H100"}}],
        },
    }
    assert kube.apply(policy).ok
    yield name
    kube.run("delete", "placementpolicy", name)


@pytest.fixture
def no_injecting_policy(kube: Kube) -> Iterator[None]:
    """Inject-mode PlacementPolicies other tests left (they are cluster-scoped: the examples'
    eu-gpu-pools injects) are set aside for the test and put back after it."""
    found = json.loads(kube.run("get", "placementpolicies", "-o", "json", check=True).stdout)
    kept = [p for p in found["items"] if (p.get("spec") or {}).get("mode") == "inject"]
    for policy in kept:
        kube.run("delete", "placementpolicy", policy["metadata"]["name"], check=True)
    try:
        yield
    finally:
        for policy in kept:
            meta = policy["metadata"]
            policy["metadata"] = {
                k: meta[k] for k in ("name", "labels", "annotations") if k in meta
            }
            policy.pop("status", None)
            kube.apply(policy)


@pytest.mark.usefixtures("no_injecting_policy")
def test_the_mutating_webhook_is_called_in_enforce_only_while_a_policy_injects(
    kube: Kube, ns: str, request: pytest.FixtureRequest
) -> None:
    narrow = ["changes-what-runs", "carries-violations"]
    wide = ["changes-what-runs", "names-a-model-or-carries-violations"]
    kube.wait_for(lambda: _governed_entry(kube) == narrow, "the narrow mutating scope", 45)
    labelled = manifests.deployment("scorer", ns, gpus=1, model="ghost")
    before = calls(kube, webhooks.GOVERNED_MUTATION)
    assert not dry_run(kube, labelled).ok  # ModelNotFound, by the validating webhook alone
    assert calls(kube, webhooks.GOVERNED_MUTATION) == before
    request.getfixturevalue("injecting_policy")
    kube.wait_for(lambda: _governed_entry(kube) == wide, "the wide mutating scope", 45)
    assert not dry_run(kube, labelled).ok
    assert calls(kube, webhooks.GOVERNED_MUTATION) == before + 1


def _big(name: str, ns: str, target: int, gpus: int = 0) -> dict[str, Any]:
    """A Deployment of about `target` bytes of JSON: many variables and arguments, which the
    conditions walk (affinity, which they do not, would cost them nothing)."""
    manifest = manifests.deployment(name, ns, gpus=gpus, image=CPU_IMAGE)
    box = manifest["spec"]["template"]["spec"]["containers"][0]
    count = target // 100
    box["env"] = [{"name": f"SETTING_{i:06d}", "value": "x" * 60} for i in range(count // 2)]
    box["args"] = [f"--option-{i:06d}=" + "y" * 60 for i in range(count // 2)]
    return manifest


def test_an_object_near_the_request_limit_stays_within_the_cel_budget(kube: Kube, ns: str) -> None:
    cpu = _big("big", ns, 2_800_000)
    assert 2_500_000 < len(json.dumps(cpu)) < 3 * 1024 * 1024
    before = calls(kube, VALIDATING)
    started = time.monotonic()
    result = dry_run(kube, cpu)
    took = time.monotonic() - started
    assert result.ok, result.stderr[-2000:]
    # More words than the conditions read within the budget: sent unread, and allowed.
    assert calls(kube, VALIDATING) == before + 1
    print(f"~2.8 MB CPU Deployment, server-side dry run with conditions: {took:.2f} s")
    gpu = _big("big-gpu", ns, 2_800_000, gpus=1)
    refused = dry_run(kube, gpu)
    assert not refused.ok
    assert "UngovernedWorkload" in refused.stderr, refused.stderr[-2000:]
