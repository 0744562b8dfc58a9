"""The webhooks' generated matchConditions, evaluated by a real CEL implementation.

cel-expr-python is Google's C++ CEL runtime with its type checker: the expressions compile
there as in the API server (which uses cel-go), and each request is evaluated as the API
server would see it (oldObject null on CREATE, omitted empty fields absent). The claims of
aigov/conditions.py are checked two ways: named cases for every way a workload could matter
(the bypass classes of the e2e suite), and generated workloads for which a skip must mean
that aigov's own answer is a plain allow.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any

import builders
import pytest
from cel_expr_python import cel
from cel_expr_python.ext import ext_strings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aigov import conditions, webhooks
from aigov.admission.request import AdmissionRequest, UserInfo
from aigov.admission.workloads import judge, needs_judging
from aigov.api.constants import MODEL_LABEL, VIOLATIONS_ANNOTATION, Mode
from aigov.api.kinds import workload_kinds
from aigov.policy.placement import PlacementContext
from aigov.policy.references import resolve
from aigov.policy.scheduling import NodeInfo, Taint
from aigov.policy.standing import Evidence
from aigov.policy.workload import parse_workload

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
VLLM = "vllm/vllm-openai:v0.8.0"
CPU = {"requests": {"cpu": "100m", "memory": "64Mi"}}


@functools.cache
def _env() -> Any:
    return cel.NewEnv(
        variables={"object": cel.Type.DYN, "oldObject": cel.Type.DYN, "request": cel.Type.DYN},
        extensions=[ext_strings.ExtStrings(2)],
    )


@functools.cache
def _program(expression: str) -> Any:
    return _env().compile(expression)


def _plural(obj: Mapping[str, Any]) -> str:
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    kind = workload_kinds().by_kind(group, str(obj.get("kind")))
    return kind.plural if kind is not None else str(obj.get("kind", "")).lower() + "s"


def evaluate(
    condition_list: list[dict[str, str]],
    obj: Mapping[str, Any] | None,
    old: Mapping[str, Any] | None = None,
    subresource: str = "",
    resource: str | None = None,
) -> dict[str, bool]:
    """Each condition's value for a request as the API server builds it; an error fails."""
    request: dict[str, Any] = {
        "operation": "UPDATE" if old is not None else "CREATE",
        "resource": {"group": "", "version": "v1", "resource": resource or _plural(obj or {})},
    }
    if subresource:
        request["subResource"] = subresource
    data = {"object": obj, "oldObject": old, "request": request}
    found: dict[str, bool] = {}
    for condition in condition_list:
        value = _program(condition["expression"]).eval(data=data).value()
        assert isinstance(value, bool), f"{condition['name']} errored: {value}"
        found[condition["name"]] = value
    return found


def sent(obj: Mapping[str, Any] | None, old: Mapping[str, Any] | None = None, **kw: Any) -> bool:
    """Whether the validating workloads webhook is called for this request."""
    return all(evaluate(conditions.workload_conditions(), obj, old, **kw).values())


def labels(**extra: str) -> dict[str, str]:
    return {"app": "web", **extra}


def container(**fields: Any) -> dict[str, Any]:
    return {"name": "web", "image": "nginx:1.27", "resources": CPU, **fields}


def deployment(*containers: dict[str, Any], meta: Any = None, **spec: Any) -> dict[str, Any]:
    template = {
        "metadata": {"labels": labels(), **(meta or {})},
        "spec": {"containers": list(containers) or [container()], **spec},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "team", "labels": labels()},
        "spec": {"replicas": 2, "selector": {"matchLabels": labels()}, "template": template},
    }


def pod(*containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "team", "labels": labels()},
        "spec": {"containers": list(containers) or [container()], **spec},
    }


def with_(obj: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `obj` with `value` at dotted `path` (digits index lists)."""
    found = copy.deepcopy(obj)
    node: Any = found
    *steps, last = path.split(".")
    for step in steps:
        node = node[int(step)] if step.isdigit() else node.setdefault(step, {})
    node[int(last) if last.isdigit() else last] = value
    return found


C0 = "spec.template.spec.containers.0"


def test_every_condition_compiles_with_the_type_checker() -> None:
    for name, found in webhooks.chart_conditions().items():
        for condition in found:
            _program(condition["expression"])
            # cel-go's default parser limit; the API server keeps it.
            assert len(condition["expression"]) < 100_000, name
    for inject in (True, False):
        for condition in webhooks.mutation_conditions(inject):
            _program(condition["expression"])


def test_a_cpu_web_deployment_is_not_sent() -> None:
    assert not sent(deployment())
    assert not sent(pod())


SEND_CASES = {
    "model label on the object": with_(deployment(), "metadata.labels", {MODEL_LABEL: "m"}),
    "model label only on the template": with_(
        deployment(), "spec.template.metadata.labels", {MODEL_LABEL: "m"}
    ),
    "empty model label": with_(pod(), "metadata.labels", {MODEL_LABEL: ""}),
    "a GPU limit": with_(deployment(), f"{C0}.resources.limits", {"nvidia.com/gpu": 1}),
    "a MIG slice request": with_(
        deployment(), f"{C0}.resources.requests", {"nvidia.com/mig-1g.10gb": 1}
    ),
    "an accelerator aigov has no name for": with_(
        deployment(), f"{C0}.resources.limits", {"example.com/npu": 1}
    ),
    "a DRA claim on the pod": with_(
        deployment(), "spec.template.spec.resourceClaims", [{"name": "gpu"}]
    ),
    "a DRA claim on a container": with_(deployment(), f"{C0}.resources.claims", [{"name": "gpu"}]),
    "pod-level GPU resources": with_(
        deployment(), "spec.template.spec.resources", {"limits": {"nvidia.com/gpu": 1}}
    ),
    "GPU env only": with_(
        deployment(), f"{C0}.env", [{"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"}]
    ),
    "GPU env from a secret": with_(
        deployment(),
        f"{C0}.env",
        [{"name": "NVIDIA_VISIBLE_DEVICES", "valueFrom": {"secretKeyRef": {"name": "s"}}}],
    ),
    "runtime class only": with_(deployment(), "spec.template.spec.runtimeClassName", "nvidia"),
    "a runtime class aigov does not list": with_(
        deployment(), "spec.template.spec.runtimeClassName", "kata-gpu"
    ),
    "a privileged container": with_(deployment(), f"{C0}.securityContext", {"privileged": True}),
    "a device host path": with_(
        deployment(), "spec.template.spec.volumes", [{"name": "d", "hostPath": {"path": "/dev"}}]
    ),
    "a CDI annotation on the template": deployment(
        meta={"annotations": {"cdi.k8s.io/gpu": "nvidia.com/gpu=all"}}
    ),
    "a CDI annotation on a pod": with_(
        pod(), "metadata.annotations", {"cdi.k8s.io/gpu": "nvidia.com/gpu=0"}
    ),
    "a GPU init container": with_(
        deployment(),
        "spec.template.spec.initContainers",
        [container(resources={"limits": {"nvidia.com/gpu": 1}})],
    ),
    "a GPU ephemeral container": with_(
        pod(), "spec.ephemeralContainers", [container(env=[{"name": "NVIDIA_VISIBLE_DEVICES"}])]
    ),
    "a toleration of the GPU taint": with_(
        deployment(), "spec.template.spec.tolerations", [{"key": "nvidia.com/gpu"}]
    ),
    "a toleration of every taint": with_(
        deployment(), "spec.template.spec.tolerations", [{"operator": "Exists"}]
    ),
    "a node name": with_(deployment(), "spec.template.spec.nodeName", "gpu-node-1"),
    "engine by image": with_(deployment(), f"{C0}.image", "registry.example.com/serving/VLLM"),
    "engine by image prefix": with_(deployment(), f"{C0}.image", "nvcr.io/nim/meta/llama3"),
    "engine by command only": with_(
        deployment(), f"{C0}.command", ["sh", "-c", "exec vllm serve meta-llama/Llama-3.1-8B"]
    ),
    "engine by module": with_(
        deployment(), f"{C0}.command", ["python", "-m", "sglang.launch_server"]
    ),
    "a model flag": with_(deployment(), f"{C0}.args", ["--model_name_or_path=org/m"]),
    "a model variable": with_(deployment(), f"{C0}.env", [{"name": "MODEL_ID", "value": "o/m"}]),
    "a store URI argument": with_(deployment(), f"{C0}.args", ["serve", "gs://bucket/model"]),
    "a violations record to clear": with_(
        deployment(), "metadata.annotations", {VIOLATIONS_ANNOTATION: "[]"}
    ),
}


@pytest.mark.parametrize("case", sorted(SEND_CASES))
def test_what_could_matter_is_sent(case: str) -> None:
    assert sent(SEND_CASES[case]), case
    obj = SEND_CASES[case]
    if obj["kind"] == "Deployment":
        # The same template in a CronJob, a JobSet (a list of templates) and a RayCluster.
        template = obj["spec"]["template"]
        cron = {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": obj["metadata"],
            "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": template}}},
        }
        jobset = {
            "apiVersion": "jobset.x-k8s.io/v1alpha2",
            "kind": "JobSet",
            "metadata": obj["metadata"],
            "spec": {
                "replicatedJobs": [
                    {"name": "a", "template": {"spec": {"template": deployment()["spec"]}}},
                    {"name": "b", "template": {"spec": {"template": template}}},
                ]
            },
        }
        ray = {
            "apiVersion": "ray.io/v1",
            "kind": "RayCluster",
            "metadata": obj["metadata"],
            "spec": {"workerGroupSpecs": [{"template": template}]},
        }
        for other in (cron, jobset, ray):
            assert sent(other), (case, other["kind"])


def test_cpu_objects_of_every_readable_kind_are_not_sent() -> None:
    template = deployment()["spec"]["template"]
    meta = {"name": "web", "labels": labels()}
    jobset = {
        "apiVersion": "jobset.x-k8s.io/v1alpha2",
        "kind": "JobSet",
        "metadata": meta,
        "spec": {"replicatedJobs": [{"template": {"spec": {"template": template}}}]},
    }
    lws = {
        "apiVersion": "leaderworkerset.x-k8s.io/v1",
        "kind": "LeaderWorkerSet",
        "metadata": meta,
        "spec": {"leaderWorkerTemplate": {"workerTemplate": template}},
    }
    for obj in (jobset, lws, with_(deployment(), "kind", "StatefulSet")):
        assert not sent(obj, resource=_plural(obj)), obj["kind"]


@pytest.mark.parametrize(
    "kind", [k for k in workload_kinds().kinds if k.serving], ids=lambda k: k.kind
)
def test_a_serving_kind_is_always_sent(kind: Any) -> None:
    obj = {"apiVersion": kind.api_version, "kind": kind.kind, "metadata": {"name": "x"}}
    assert sent(obj, resource=kind.plural)


def test_a_resource_the_conditions_do_not_know_is_sent() -> None:
    assert sent({"kind": "Widget", "metadata": {"name": "w"}}, resource="widgets")


def test_a_model_label_removed_on_update_is_sent() -> None:
    old = with_(deployment(), "metadata.labels", {MODEL_LABEL: "m"})
    assert sent(deployment(), old)


# ---- updates --------------------------------------------------------------------------------


def labelled() -> dict[str, Any]:
    obj = with_(deployment(), f"{C0}.resources.limits", {"nvidia.com/gpu": 1})
    return with_(obj, "metadata.labels", {MODEL_LABEL: "m"})


UPDATES: dict[str, tuple[dict[str, Any], bool]] = {
    "annotations only": (with_(labelled(), "metadata.annotations", {"note": "x"}), False),
    "fewer replicas": (with_(labelled(), "spec.replicas", 1), False),
    "suspended": (with_(labelled(), "spec.suspend", True), False),
    "more replicas": (with_(labelled(), "spec.replicas", 3), True),
    "a label changed": (with_(labelled(), "metadata.labels", {MODEL_LABEL: "other"}), True),
    "the template changed": (with_(labelled(), f"{C0}.image", "nginx:1.28"), True),
    "another spec field": (with_(labelled(), "spec.minReadySeconds", 5), True),
    "a spec field removed": (
        {**labelled(), "spec": {k: v for k, v in labelled()["spec"].items() if k != "selector"}},
        True,
    ),
}


@pytest.mark.parametrize("case", sorted(UPDATES))
def test_updates_are_sent_when_they_change_what_runs(case: str) -> None:
    new, expected = UPDATES[case]
    old = labelled()
    (changes,) = [
        v
        for k, v in evaluate(conditions.workload_conditions(), new, old).items()
        if k == conditions.CHANGES_WHAT_RUNS
    ]
    assert changes is expected
    assert needs_judging(_request(new, old)) is expected


def test_a_job_resumed_is_sent() -> None:
    old = with_(labelled(), "spec.suspend", True)
    assert sent(labelled(), old)


def _scale(replicas: int | None) -> dict[str, Any]:
    spec = {"replicas": replicas} if replicas else {}  # omitempty: a Scale of 0 has none
    return {
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": {"name": "w"},
        "spec": spec,
    }


@pytest.mark.parametrize(("old", "new", "expected"), [(1, 3, True), (0, 1, True), (3, 1, False)])
def test_scale_requests_are_sent_when_they_add_replicas(old: int, new: int, expected: bool) -> None:
    found = sent(_scale(new), _scale(old), subresource="scale", resource="deployments")
    assert found is expected


def test_an_ephemeral_container_update_is_judged_on_the_pod() -> None:
    gpu = with_(pod(), "spec.ephemeralContainers", [container(env=[{"name": "MODEL_ID"}])])
    assert sent(gpu, pod(), subresource="ephemeralcontainers")
    assert not sent(pod(), pod(), subresource="ephemeralcontainers")


def test_a_pod_status_write_is_sent_only_when_it_changes_labels() -> None:
    """The status strategy keeps label changes (issue 11): a status write that takes a GPU
    pod from its model is judged; a kubelet's status update never reaches aigov."""
    gpu = pod(container(resources={"limits": {"nvidia.com/gpu": "1"}}))
    gpu["metadata"]["labels"]["aigov.io/model"] = "scorer"
    running = with_(gpu, "status", {"phase": "Running"})
    assert not sent(running, gpu, subresource="status")
    unlabelled = with_(gpu, "metadata.labels", labels())
    assert sent(unlabelled, gpu, subresource="status")


# ---- the mutating webhook -------------------------------------------------------------------


def test_the_enforcing_mutation_entry_sends_models_only_while_a_policy_injects() -> None:
    def mutated(obj: dict[str, Any], inject: bool) -> bool:
        return all(evaluate(webhooks.mutation_conditions(inject), obj).values())

    assert mutated(labelled(), inject=True)
    assert not mutated(labelled(), inject=False)
    stale = with_(deployment(), "metadata.annotations", {VIOLATIONS_ANNOTATION: "[]"})
    assert mutated(stale, inject=False)
    assert not mutated(deployment(), inject=True)


# ---- a skip means a plain allow -------------------------------------------------------------

GPU_TAINT = Taint("nvidia.com/gpu", "", "NoSchedule")
RESERVED = PlacementContext(
    {
        "reserved": builders.placement_policy(
            "reserved",
            [builders.node_pool("h100", tolerations=())],
            reservePools=True,
        )
    },
    [
        NodeInfo("gpu-1", {"pool": "h100"}, (GPU_TAINT,)),
        NodeInfo("cpu-1", {"pool": "cpu"}),
    ],
)


def _request(obj: Mapping[str, Any], old: Mapping[str, Any] | None = None) -> AdmissionRequest:
    return AdmissionRequest(
        uid="u",
        operation="UPDATE" if old is not None else "CREATE",
        group="apps",
        version="v1",
        resource=_plural(obj),
        kind=str(obj["kind"]),
        namespace="team",
        name="web",
        user=UserInfo("alice"),
        object=obj,
        old_object=old or {},
    )


def _nothing_known(namespace: str, name: str) -> Evidence:
    return Evidence(namespace=namespace, name=name, model=None)


WORDS = st.sampled_from(
    ["--port", "8080", "serve", "app.py", "python", "-m", "http.server", "--workers", "4"]
)
ENGINE_WORDS = st.sampled_from(
    ["vllm", "--model", "org/name", "s3://b/m", "tritonserver", "--model-id", "hf://o/m"]
)
IMAGES = st.sampled_from(["nginx:1.27", "python:3.12", "vllm/vllm-openai:v1", "ollama/ollama"])
ENV = st.sampled_from(["PORT", "LOG_LEVEL", "MODEL_ID", "NVIDIA_VISIBLE_DEVICES", "STORAGE_URI"])
RESOURCES = st.sampled_from(["cpu", "memory", "nvidia.com/gpu", "example.com/fpga"])


@st.composite
def containers(draw: st.DrawFn) -> dict[str, Any]:
    words = st.one_of(WORDS, ENGINE_WORDS) if draw(st.booleans()) else WORDS
    found: dict[str, Any] = {"name": "c", "image": draw(IMAGES)}
    if draw(st.booleans()):
        found["args"] = draw(st.lists(words, max_size=4))
    if draw(st.booleans()):
        found["command"] = draw(st.lists(words, max_size=3))
    if draw(st.booleans()):
        found["env"] = [{"name": n, "value": "org/model"} for n in draw(st.lists(ENV, max_size=2))]
    if draw(st.booleans()):
        found["resources"] = {"limits": dict.fromkeys(draw(st.lists(RESOURCES, max_size=2)), "1")}
    if draw(st.booleans()):
        found["securityContext"] = {"privileged": draw(st.booleans())}
    return found


@st.composite
def workloads(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": draw(st.lists(containers(), min_size=1, max_size=2))}
    if draw(st.booleans()):
        spec["initContainers"] = draw(st.lists(containers(), max_size=1))
    if draw(st.integers(0, 5)) == 0:
        spec["runtimeClassName"] = draw(st.sampled_from(["nvidia", "runc"]))
    if draw(st.integers(0, 5)) == 0:
        spec["tolerations"] = [
            {"key": draw(st.sampled_from(["node.kubernetes.io/not-ready", "nvidia.com/gpu"]))}
        ]
    if draw(st.integers(0, 5)) == 0:
        spec["nodeName"] = draw(st.sampled_from(["gpu-1", "cpu-1"]))
    if draw(st.integers(0, 5)) == 0:
        spec["volumes"] = [{"name": "v", draw(st.sampled_from(["hostPath", "emptyDir"])): {}}]
    meta: dict[str, Any] = {"labels": labels()}
    if draw(st.integers(0, 5)) == 0:
        meta["labels"][MODEL_LABEL] = "m"
    if draw(st.integers(0, 5)) == 0:
        meta["annotations"] = {draw(st.sampled_from(["cdi.k8s.io/x", "note"])): "v"}
    obj = deployment(meta=meta)
    obj["spec"]["template"]["spec"] = spec
    return pod(**spec) if draw(st.booleans()) else obj


def _plain_allow_when_skipped(obj: dict[str, Any]) -> None:
    """The soundness claim of aigov/conditions.py, on one workload: skipped means no rule
    would refuse, warn or record anything, whatever the mode, with a reserved pool in the
    cluster; and the engine table reads no weights from it."""
    if sent(obj):
        return
    request = _request(obj)
    for mode in Mode:
        outcome = judge(request, mode, _nothing_known, NOW, placement=RESERVED)
        assert outcome.allowed, mode
        assert not outcome.warnings, mode
        assert not outcome.audit_annotations, mode
        assert not outcome.decision.violations, mode
    assert resolve(parse_workload(obj)).references == ()


@settings(max_examples=60, deadline=None, derandomize=True)
@given(workloads())
def test_a_workload_the_conditions_skip_gets_a_plain_allow_in_every_mode(
    obj: dict[str, Any],
) -> None:
    _plain_allow_when_skipped(obj)


@pytest.mark.slow
@settings(
    max_examples=2000, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(workloads())
def test_many_workloads_the_conditions_skip_get_a_plain_allow(obj: dict[str, Any]) -> None:
    _plain_allow_when_skipped(obj)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(workloads(), st.sampled_from(sorted(UPDATES)))
def test_an_update_the_conditions_skip_is_one_aigov_lets_through_unread(
    obj: dict[str, Any], change: str
) -> None:
    new, _ = UPDATES[change]
    updated = copy.deepcopy(obj)
    updated["metadata"] = {**obj["metadata"], **{"annotations": {"n": "1"}}}
    if "replicas" in new["spec"] and obj["kind"] == "Deployment":
        updated["spec"]["replicas"] = new["spec"]["replicas"]
    found = evaluate(conditions.workload_conditions(), updated, obj)
    if not found[conditions.CHANGES_WHAT_RUNS]:
        assert not needs_judging(_request(updated, obj))
