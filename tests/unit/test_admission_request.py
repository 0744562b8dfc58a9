"""parse_review: the AdmissionReview kube-apiserver sends, and every malformed shape refused."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from aigov.admission.request import AdmissionRequest, MalformedReview, UserInfo, parse_review

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "llm", "namespace": "team-a", "labels": {"app": "llm"}},
    "spec": {"replicas": 2},
}


def review(**request_overrides: Any) -> dict[str, Any]:
    """An AdmissionReview as kube-apiserver sends it for `kubectl scale deployment/llm`."""
    old = copy.deepcopy(DEPLOYMENT)
    old["spec"]["replicas"] = 1
    request: dict[str, Any] = {
        "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
        "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
        "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
        "subResource": "scale",
        "requestKind": {"group": "apps", "version": "v1", "kind": "Deployment"},
        "requestResource": {"group": "apps", "version": "v1", "resource": "deployments"},
        "name": "llm",
        "namespace": "team-a",
        "operation": "UPDATE",
        "userInfo": {
            "username": "alice@example.com",
            "uid": "014fbff9a07c",
            "groups": ["system:authenticated", "team-a-devs"],
            "extra": {"scopes.example.com": ["read"]},
        },
        "object": copy.deepcopy(DEPLOYMENT),
        "oldObject": old,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "UpdateOptions"},
        "dryRun": True,
    }
    request.update(request_overrides)
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}


def without(path: str) -> dict[str, Any]:
    """A valid review with the dotted `path` (under request) removed."""
    body = review()
    *parents, last = path.split(".")
    node: dict[str, Any] = body["request"]
    for part in parents:
        node = node[part]
    del node[last]
    return body


def test_parses_a_valid_review() -> None:
    body = review()
    parsed = parse_review(body)
    assert parsed == AdmissionRequest(
        uid="705ab4f5-6393-11e8-b7cc-42010a800002",
        operation="UPDATE",
        group="apps",
        version="v1",
        resource="deployments",
        kind="Deployment",
        namespace="team-a",
        name="llm",
        user=UserInfo(
            username="alice@example.com",
            groups=("system:authenticated", "team-a-devs"),
            uid="014fbff9a07c",
        ),
        subresource="scale",
        object=body["request"]["object"],
        old_object=body["request"]["oldObject"],
        dry_run=True,
    )
    assert parsed.object["spec"]["replicas"] == 2
    assert parsed.old_object["spec"]["replicas"] == 1


def test_core_group_and_optional_fields() -> None:
    body = review(
        kind={"group": "", "version": "v1", "kind": "Pod"},
        resource={"group": "", "version": "v1", "resource": "pods"},
        object={"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "web-"}},
        operation="CREATE",
    )
    for key in ("subResource", "name", "oldObject", "dryRun"):
        del body["request"][key]
    body["request"]["userInfo"] = {"username": "bob"}
    parsed = parse_review(body)
    assert parsed.group == ""
    assert parsed.resource == "pods"
    assert parsed.kind == "Pod"
    assert parsed.name == ""
    assert parsed.subresource == ""
    assert parsed.old_object == {}
    assert parsed.dry_run is False
    assert parsed.user == UserInfo(username="bob", groups=(), uid="")


def test_missing_group_key_counts_as_core_group() -> None:
    body = review()
    del body["request"]["resource"]["group"]
    assert parse_review(body).group == ""


def test_delete_carries_only_the_old_object() -> None:
    body = review(operation="DELETE", object=None, subResource=None)
    del body["request"]["object"]
    parsed = parse_review(body)
    assert parsed.operation == "DELETE"
    assert parsed.object == {}
    assert parsed.old_object["metadata"]["name"] == "llm"


@pytest.mark.parametrize(
    ("namespace", "name", "subresource", "kind", "expected"),
    [
        ("team-a", "llm", "", "Deployment", "Deployment team-a/llm"),
        ("team-a", "llm", "scale", "Deployment", "Deployment team-a/llm (scale)"),
        ("", "ai-prod", "", "Namespace", "Namespace ai-prod"),
        ("team-a", "", "", "Pod", "Pod team-a/"),
    ],
)
def test_ref(namespace: str, name: str, subresource: str, kind: str, expected: str) -> None:
    request = AdmissionRequest(
        uid="u",
        operation="CREATE",
        group="",
        version="v1",
        resource="x",
        kind=kind,
        namespace=namespace,
        name=name,
        user=UserInfo("alice"),
        subresource=subresource,
    )
    assert request.ref == expected


def _set(**overrides: Any) -> Callable[[], object]:
    return lambda: review(**overrides)


def _top(**top: Any) -> Callable[[], object]:
    def build() -> object:
        body = review()
        body.update(top)
        return body

    return build


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: "AdmissionReview", "AdmissionReview must be an object, got str"),
        (lambda: [review()], "AdmissionReview must be an object, got list"),
        (
            _top(apiVersion="admission.k8s.io/v1beta1"),
            "expected apiVersion admission.k8s.io/v1 and kind AdmissionReview, got "
            "'admission.k8s.io/v1beta1' 'AdmissionReview'",
        ),
        (
            _top(kind="AdmissionResponse"),
            "expected apiVersion admission.k8s.io/v1 and kind AdmissionReview, got "
            "'admission.k8s.io/v1' 'AdmissionResponse'",
        ),
        (_top(request=None), "request must be an object, got NoneType"),
        (_top(request="x"), "request must be an object, got str"),
        (lambda: without("resource"), "request.resource must be an object, got NoneType"),
        (_set(resource=["apps"]), "request.resource must be an object, got list"),
        (lambda: without("kind"), "request.kind must be an object, got NoneType"),
        (lambda: without("userInfo"), "request.userInfo must be an object, got NoneType"),
        (_set(operation="PATCH"), "request.operation 'PATCH' is not an admission operation"),
        (_set(operation="create"), "request.operation 'create' is not an admission operation"),
        (_set(operation=""), "request.operation must be a non-empty string"),
        (lambda: without("operation"), "request.operation must be a non-empty string"),
        (
            _set(userInfo={"username": "a", "groups": "system:masters"}),
            "request.userInfo.groups must be a list of strings",
        ),
        (
            _set(userInfo={"username": "a", "groups": ["ok", 7]}),
            "request.userInfo.groups must be a list of strings",
        ),
        (_set(object=None, oldObject=None), "request has neither object nor oldObject"),
        (lambda: without("uid"), "request.uid must be a non-empty string"),
        (_set(uid=""), "request.uid must be a non-empty string"),
        (_set(uid=42), "request.uid must be a non-empty string"),
        (
            lambda: without("resource.version"),
            "request.resource.version must be a non-empty string",
        ),
        (
            lambda: without("resource.resource"),
            "request.resource.resource must be a non-empty string",
        ),
        (
            _set(kind={"group": "apps", "version": "v1"}),
            "request.kind.kind must be a non-empty string",
        ),
        (
            _set(resource={"group": 1, "version": "v1", "resource": "pods"}),
            "request.resource.group must be a non-empty string",
        ),
        (_set(namespace=5), "request.namespace must be a non-empty string"),
        (_set(object="a Deployment"), "request.object must be an object, got str"),
        (_set(oldObject=[1]), "request.oldObject must be an object, got list"),
    ],
)
def test_malformed_reviews_say_what_is_wrong(build: Callable[[], object], message: str) -> None:
    with pytest.raises(MalformedReview) as info:
        parse_review(build())
    assert str(info.value) == message


GARBAGE: list[object] = [
    None,
    [],
    "x",
    1,
    1.5,
    True,
    {},
    {"apiVersion": "admission.k8s.io/v1"},
    {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"},
    {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": []},
    {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {}},
    {"apiVersion": ["admission.k8s.io/v1"], "kind": {"AdmissionReview": 1}},
    review(resource="deployments"),
    review(kind=["Deployment"]),
    review(userInfo=None),
    review(userInfo={"username": ["alice"], "groups": []}),
    review(userInfo={"username": "alice", "groups": {"a": 1}}),
    review(userInfo={"username": "alice", "groups": [None]}),
    review(operation=["CREATE"]),
    review(operation=None),
    review(uid=None),
    review(uid={"id": 1}),
    review(resource={"group": "apps", "version": None, "resource": "deployments"}),
    review(resource={"group": "apps", "version": "v1", "resource": {}}),
    review(kind={"kind": 0}),
    review(namespace=["team-a"]),
    review(name=3.0),
    review(subResource={"scale": True}),
    review(object=1, oldObject=None),
    review(object=None, oldObject="x"),
]


@pytest.mark.parametrize("body", GARBAGE, ids=[f"garbage-{i}" for i in range(len(GARBAGE))])
def test_garbage_raises_only_malformed_review(body: object) -> None:
    with pytest.raises(MalformedReview):
        parse_review(body)
