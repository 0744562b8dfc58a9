"""The first rule end to end: the API server refuses an ungoverned GPU workload."""

from __future__ import annotations

from tools.controlplane.operator import Operator
from tools.kubectl import Kube

from tests.e2e import manifests


def test_gpu_deployment_naming_no_model_is_refused_in_enforce(
    kube: Kube, operator: Operator, unique: str
) -> None:
    ns = kube.namespace(f"enforce-{unique}", mode="enforce")
    result = kube.apply(manifests.deployment("llm", ns, gpus=1))
    assert not result.ok
    assert 'admission webhook "workloads.aigov.io" denied the request' in result.stderr
    assert "UngovernedWorkload" in result.stderr
    assert "requests nvidia.com/gpu but names no GovernedModel" in result.stderr
    assert "aigov.io/model" in result.stderr
    assert kube.run("get", "deployment", "llm", "-n", ns).returncode != 0


def test_gpu_pod_naming_no_model_is_refused_in_enforce(
    kube: Kube, operator: Operator, unique: str
) -> None:
    ns = kube.namespace(f"enforce-{unique}", mode="enforce")
    result = kube.apply(manifests.pod("notebook", ns, gpus=1))
    assert not result.ok
    assert "UngovernedWorkload" in result.stderr


def test_cpu_deployment_is_admitted_untouched_in_enforce(
    kube: Kube, operator: Operator, unique: str
) -> None:
    ns = kube.namespace(f"enforce-{unique}", mode="enforce")
    manifest = manifests.deployment("web", ns)
    result = kube.apply(manifest)
    assert result.ok, result.stderr
    assert not result.stderr.strip()  # no warnings either
    stored = kube.get("deployment", "web", ns)
    (applied,) = manifest["spec"]["template"]["spec"]["containers"]
    (kept,) = stored["spec"]["template"]["spec"]["containers"]
    assert (kept["image"], kept["resources"]) == (applied["image"], applied["resources"])
    assert stored["metadata"]["labels"] == manifest["metadata"]["labels"]
    annotations = stored["metadata"].get("annotations", {})
    assert not any(k.startswith("aigov.io/") for k in annotations)

    def running() -> bool:
        pods = kube.list("pods", ns, "app=web")
        return len(pods) == 1 and pods[0]["status"].get("phase") == "Running"

    kube.wait_for(running, "the CPU pod Running (its pod passed admission too)", 90)


def test_gpu_deployment_in_unlabelled_namespace_is_admitted_and_runs(
    kube: Kube, operator: Operator, unique: str
) -> None:
    ns = kube.namespace(f"free-{unique}")
    result = kube.apply(manifests.deployment("llm", ns, gpus=1))
    assert result.ok, result.stderr
    assert "aigov" not in result.stderr

    def running() -> bool:
        pods = kube.list("pods", ns, "app=llm")
        return len(pods) == 1 and pods[0]["status"].get("phase") == "Running"

    kube.wait_for(running, "the ungoverned GPU pod Running", 90)
    (pod,) = kube.list("pods", ns, "app=llm")
    node = kube.get("node", pod["spec"]["nodeName"])
    assert "nvidia.com/gpu" in node["status"]["allocatable"]


def test_refusal_names_every_problem_with_its_path(
    kube: Kube, operator: Operator, unique: str
) -> None:
    ns = kube.namespace(f"enforce-{unique}", mode="enforce")
    manifest = manifests.deployment("llm", ns, gpus=1, model="fraud-scorer")
    manifest["spec"]["template"]["metadata"]["labels"].pop("aigov.io/model")
    result = kube.apply(manifest)
    assert not result.ok
    assert "UngovernedWorkload at spec.template.metadata.labels" in result.stderr


def _metric(operator: Operator, name: str, **labels: str) -> float:
    """The value of one series on the operator's /metrics (0 when absent)."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    url = f"http://127.0.0.1:{operator.health_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                return float(sample.value)
    return 0.0


def test_metrics_count_decisions_by_reason(kube: Kube, operator: Operator, unique: str) -> None:
    """Issue 12, metrics: a refusal counts under its reason code and mode."""
    labels = {"webhook": "validate-workloads", "decision": "refused", "mode": "enforce"}
    before = _metric(
        operator, "aigov_admission_decisions_total", **labels, reason="UngovernedWorkload"
    )
    ns = kube.namespace(f"metrics-{unique}", mode="enforce")
    assert not kube.apply(manifests.deployment("llm", ns, gpus=1)).ok
    after = _metric(
        operator, "aigov_admission_decisions_total", **labels, reason="UngovernedWorkload"
    )
    assert after == before + 1
    assert (
        _metric(operator, "aigov_admission_latency_seconds_count", webhook="validate-workloads")
        >= 1
    )
