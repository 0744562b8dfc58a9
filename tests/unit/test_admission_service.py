"""The admission service over a plain-dictionary index view: routing, waiting, patches.

The rules themselves are tested in test_admission_*.py; here: what the service adds around
them (NotYet/Unavailable, JSON Patch only when something changes, audit Events, the
start-up allowance).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from aigov.admission import response, service
from aigov.admission.jsonpatch import from_merge, pointer
from aigov.admission.request import AdmissionRequest, UserInfo
from aigov.api.constants import VIOLATIONS_ANNOTATION, Mode
from aigov.policy.placement import PlacementContext
from aigov.policy.signing import Signer
from aigov.policy.standing import Evidence
from aigov.policy.workload import Workload, parse_workload

NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
RULES = service.Rules()
GPU = {"name": "srv", "image": "srv:1", "resources": {"limits": {"nvidia.com/gpu": "1"}}}
CPU = {"name": "web", "image": "web:1"}


@dataclass
class View:
    """An IndexView over dictionaries."""

    modes: dict[str, str | None] = field(default_factory=dict)
    scaled_objects: dict[tuple[str, str, str], Workload] = field(default_factory=dict)
    pods: dict[tuple[str, str], str] = field(default_factory=dict)

    def knows_namespace(self, namespace: str) -> bool:
        return namespace in self.modes

    def mode(self, namespace: str) -> Mode | None:
        value = self.modes.get(namespace)
        return Mode(value) if value else None

    def requires_signatures(self, namespace: str) -> bool:
        return False

    def evidence(self, namespace: str, name: str) -> Evidence:
        return Evidence(namespace=namespace, name=name, model=None)

    def pod_model(self, namespace: str, name: str) -> str | None:
        return self.pods.get((namespace, name))

    def scaled(self, resource: str, namespace: str, name: str) -> Workload | None:
        return self.scaled_objects.get((resource, namespace, name))

    def placement(self) -> PlacementContext:
        return PlacementContext(policies={}, nodes=[])

    def signers(self) -> tuple[Signer, ...]:
        return ()


def deployment(container: dict[str, Any], **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "llm", "namespace": "team-a", **meta},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [container]}}},
    }


def request(
    obj: dict[str, Any], *, operation: str = "CREATE", subresource: str = "", **extra: Any
) -> AdmissionRequest:
    return AdmissionRequest(
        uid="u-1",
        operation=operation,
        group="apps",
        version="v1",
        resource="deployments",
        kind="Deployment" if not subresource else "Scale",
        namespace="team-a",
        name="llm",
        user=UserInfo("alice"),
        subresource=subresource,
        object=obj,
        **extra,
    )


def test_unknown_namespace_waits_then_is_unavailable() -> None:
    view = View()
    with pytest.raises(service.NotYet):
        service.validate_workloads(request(deployment(GPU)), view, RULES, NOW, False)
    with pytest.raises(service.Unavailable, match="has not yet seen namespace 'team-a'"):
        service.validate_workloads(request(deployment(GPU)), view, RULES, NOW, True)


def test_enforce_refuses_an_unnamed_gpu_deployment_without_a_patch() -> None:
    reply = service.validate_workloads(
        request(deployment(GPU)), View({"team-a": "enforce"}), RULES, NOW, False
    )
    assert reply.outcome is not None
    assert not reply.allowed
    assert reply.patch == []
    assert reply.event is None


def test_audit_mode_asks_for_an_event_but_not_on_a_dry_run() -> None:
    view = View({"team-a": "audit"})
    reply = service.validate_workloads(request(deployment(GPU)), view, RULES, NOW, False)
    assert reply.allowed
    assert reply.event is not None
    assert reply.event.reason == "AigovAudit"
    assert reply.event.involved == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "namespace": "team-a",
        "name": "llm",
    }
    dry = service.validate_workloads(
        request(deployment(GPU), dry_run=True), view, RULES, NOW, False
    )
    assert dry.event is None


def test_mutate_in_enforce_with_nothing_to_inject_returns_no_patch() -> None:
    reply = service.mutate_workloads(
        request(deployment(GPU)), View({"team-a": "enforce"}), RULES, NOW, False
    )
    assert reply.outcome is None
    assert reply.patch == []


def test_mutate_in_audit_records_violations_and_clears_them_when_gone() -> None:
    view = View({"team-a": "audit"})
    reply = service.mutate_workloads(request(deployment(GPU)), view, RULES, NOW, False)
    (op,) = reply.patch
    assert op["op"] == "add"
    assert op["path"] == "/metadata/annotations"
    assert "UngovernedWorkload" in op["value"][VIOLATIONS_ANNOTATION]
    stale = deployment(CPU, annotations={VIOLATIONS_ANNOTATION: "[]", "keep": "me"})
    reply = service.mutate_workloads(request(stale), view, RULES, NOW, False)
    assert reply.patch == [
        {"op": "remove", "path": "/metadata/annotations/" + pointer((VIOLATIONS_ANNOTATION,))[1:]}
    ]


def test_scale_of_an_unseen_object_waits_then_is_unavailable() -> None:
    scale = {"apiVersion": "autoscaling/v1", "kind": "Scale", "spec": {"replicas": 3}}
    old = {"apiVersion": "autoscaling/v1", "kind": "Scale", "spec": {"replicas": 1}}
    req = request(scale, operation="UPDATE", subresource="scale", old_object=old)
    view = View({"team-a": "enforce"})
    with pytest.raises(service.NotYet):
        service.validate_workloads(req, view, RULES, NOW, False)
    with pytest.raises(service.Unavailable, match="does not know"):
        service.validate_workloads(req, view, RULES, NOW, True)
    view.scaled_objects[("deployments", "team-a", "llm")] = parse_workload(deployment(GPU))
    reply = service.validate_workloads(req, view, RULES, NOW, False)
    assert not reply.allowed  # the scaled Deployment asks for a GPU and names no model


@pytest.mark.parametrize(
    ("container", "extra", "expected"),
    [
        (CPU, {}, True),
        (GPU, {}, False),
        (CPU, {"tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists"}]}, False),
        (CPU, {"tolerations": [{"key": "node.kubernetes.io/not-ready"}]}, True),
        ({**CPU, "env": [{"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"}]}, {}, False),
    ],
    ids=["cpu-web", "gpu", "tolerates-gpu-taint", "lifecycle-toleration", "gpu-env"],
)
def test_never_judged_is_only_what_no_rule_could_refuse(
    container: dict[str, Any], extra: dict[str, Any], expected: bool
) -> None:
    obj = deployment(container)
    obj["spec"]["template"]["spec"].update(extra)
    assert service.never_judged(request(obj), RULES) is expected


def test_a_labelled_workload_is_always_judged() -> None:
    obj = deployment(CPU, labels={"aigov.io/model": "m"})
    assert service.never_judged(request(obj), RULES) is False


def test_from_merge_adds_parents_replaces_and_drops_absent_removals() -> None:
    original = {"a": {"b": 1, "c": {"d": 2}}, "x": [1]}
    ops = from_merge(original, {"a": {"b": 2, "c": None, "n": {"m": 1, "z": None}}, "q": None})
    assert ops == [
        {"op": "replace", "path": "/a/b", "value": 2},
        {"op": "remove", "path": "/a/c"},
        {"op": "add", "path": "/a/n", "value": {"m": 1}},
    ]
    assert from_merge(original, {"a": {"b": 1}}) == []
    assert pointer(("metadata", "annotations", "aigov.io/x~y")) == (
        "/metadata/annotations/aigov.io~1x~0y"
    )


def test_review_carries_uid_status_and_a_base64_patch() -> None:
    body = response.review(
        "u-9", allowed=True, warnings=["w"], patch=[{"op": "add", "path": "/a", "value": 1}]
    )
    resp = body["response"]
    assert resp["uid"] == "u-9"
    assert "status" not in resp
    assert resp["patchType"] == "JSONPatch"
    assert json.loads(base64.b64decode(resp["patch"])) == [{"op": "add", "path": "/a", "value": 1}]
    refused = response.refusal("u-9", 503, "starting")["response"]
    assert refused["allowed"] is False
    assert refused["status"] == {"code": 503, "message": "starting", "reason": "ServiceUnavailable"}
    assert response.uid_of({"request": {"uid": 3}}) == ""
    assert response.uid_of([]) == ""


async def test_while_starting_only_never_judged_workloads_are_admitted() -> None:
    """Before the indexes load, a CPU web Deployment is admitted (recorded), a GPU one gets
    a clear 503 refusal, and the mutating route changes nothing."""
    from aigov.config import Settings
    from aigov.handlers import admission
    from aigov.handlers.runtime import Runtime

    runtime = Runtime(settings=Settings())
    assert not runtime.ready
    handlers = admission.routes(runtime, View({"team-a": "enforce"}))
    validate = handlers["validate-workloads"]
    cpu = await validate(request(deployment(CPU)))
    assert cpu["response"] == {"uid": "u-1", "allowed": True}
    gpu = (await validate(request(deployment(GPU))))["response"]
    assert gpu["allowed"] is False
    assert gpu["status"]["code"] == 503
    assert gpu["status"]["message"] == "aigov is starting and has not loaded its indexes yet"
    mutated = await handlers["mutate-workloads"](request(deployment(CPU)))
    assert mutated["response"] == {"uid": "u-1", "allowed": True}
    runtime.indexed.set()
    refused = (await validate(request(deployment(GPU))))["response"]
    assert refused["status"]["code"] == 403
    assert "names no GovernedModel" in refused["status"]["message"]
