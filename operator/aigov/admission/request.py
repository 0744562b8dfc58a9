"""The parts of an AdmissionReview aigov reads, parsed once at the boundary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class MalformedReview(ValueError):  # noqa: N818 - reads as a verdict: "malformed review"
    """The AdmissionReview is not one the API server would send; says what is missing."""


@dataclass(frozen=True)
class UserInfo:
    """The authenticated requester, as the API server saw it: never a field a user typed."""

    username: str
    groups: tuple[str, ...] = ()
    uid: str = ""


@dataclass(frozen=True)
class AdmissionRequest:
    """One admission request: who does what to which object."""

    uid: str
    operation: str
    group: str
    version: str
    resource: str
    kind: str
    namespace: str
    name: str
    user: UserInfo
    subresource: str = ""
    object: Mapping[str, Any] = field(default_factory=dict)
    old_object: Mapping[str, Any] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def ref(self) -> str:
        """`Kind namespace/name` for messages and logs."""
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        sub = f" ({self.subresource})" if self.subresource else ""
        return f"{self.kind} {where}{sub}"


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedReview(f"{what} must be an object, got {type(value).__name__}")
    return value


def _text(container: Mapping[str, Any], key: str, what: str, required: bool = True) -> str:
    value = container.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value and key != "group"):
        raise MalformedReview(f"{what}.{key} must be a non-empty string")
    return value


def parse_review(review: object) -> AdmissionRequest:
    """Parse an `admission.k8s.io/v1` AdmissionReview; MalformedReview says what is wrong."""
    body = _mapping(review, "AdmissionReview")
    if body.get("apiVersion") != "admission.k8s.io/v1" or body.get("kind") != "AdmissionReview":
        raise MalformedReview(
            f"expected apiVersion admission.k8s.io/v1 and kind AdmissionReview, got "
            f"{body.get('apiVersion')!r} {body.get('kind')!r}"
        )
    req = _mapping(body.get("request"), "request")
    resource = _mapping(req.get("resource"), "request.resource")
    kind = _mapping(req.get("kind"), "request.kind")
    userinfo = _mapping(req.get("userInfo"), "request.userInfo")
    operation = _text(req, "operation", "request")
    if operation not in {"CREATE", "UPDATE", "DELETE", "CONNECT"}:
        raise MalformedReview(f"request.operation {operation!r} is not an admission operation")
    obj = req.get("object")
    old = req.get("oldObject")
    if obj is None and old is None:
        raise MalformedReview("request has neither object nor oldObject")
    groups = userinfo.get("groups") or []
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise MalformedReview("request.userInfo.groups must be a list of strings")
    return AdmissionRequest(
        uid=_text(req, "uid", "request"),
        operation=operation,
        group=_text(resource, "group", "request.resource", required=False),
        version=_text(resource, "version", "request.resource"),
        resource=_text(resource, "resource", "request.resource"),
        kind=_text(kind, "kind", "request.kind"),
        namespace=_text(req, "namespace", "request", required=False),
        name=_text(req, "name", "request", required=False),
        subresource=_text(req, "subResource", "request", required=False),
        user=UserInfo(
            username=_text(userinfo, "username", "request.userInfo", required=False),
            groups=tuple(groups),
            uid=_text(userinfo, "uid", "request.userInfo", required=False),
        ),
        object=_mapping(obj, "request.object") if obj is not None else {},
        old_object=_mapping(old, "request.oldObject") if old is not None else {},
        dry_run=bool(req.get("dryRun")),
    )
