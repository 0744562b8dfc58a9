"""Namespace guard: only admin groups may add, change or remove aigov.io/mode."""

from __future__ import annotations

from typing import Any

import pytest

from aigov.admission.namespaces import judge
from aigov.admission.request import AdmissionRequest, UserInfo
from aigov.api.constants import Mode, Reason

ADMINS = ("system:masters", "aigov-admins")
TENANT = UserInfo("dev@example.com", ("system:authenticated", "team-a"))
ADMIN = UserInfo("ops@example.com", ("system:authenticated", "aigov-admins"))
PATH = "metadata.labels[aigov.io/mode]"


def namespace(labels: dict[str, Any] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "ai-prod"}
    if labels is not None:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}


def request(
    user: UserInfo,
    new: dict[str, Any],
    old: dict[str, Any] | None = None,
    operation: str = "UPDATE",
) -> AdmissionRequest:
    return AdmissionRequest(
        uid="uid-1",
        operation=operation,
        group="",
        version="v1",
        resource="namespaces",
        kind="Namespace",
        namespace="",
        name="ai-prod",
        user=user,
        object=new,
        old_object=old or {},
    )


@pytest.mark.parametrize(
    ("old", "new", "change"),
    [
        ({}, {"aigov.io/mode": "enforce"}, "set aigov.io/mode=enforce"),
        (None, {"aigov.io/mode": "audit"}, "set aigov.io/mode=audit"),
        (
            {"aigov.io/mode": "enforce"},
            {"aigov.io/mode": "audit"},
            "set aigov.io/mode=audit (was enforce)",
        ),
        ({"aigov.io/mode": "enforce"}, {}, "remove aigov.io/mode=enforce"),
        ({"aigov.io/mode": "warn"}, None, "remove aigov.io/mode=warn"),
    ],
    ids=["add", "add-no-labels", "change", "remove", "remove-all-labels"],
)
def test_non_admin_may_not_touch_the_mode(
    old: dict[str, Any] | None, new: dict[str, Any] | None, change: str
) -> None:
    outcome = judge(request(TENANT, namespace(new), namespace(old)), ADMINS)
    assert outcome.allowed is False
    assert outcome.decision.codes == (Reason.MODE_CHANGE_FORBIDDEN,)
    assert outcome.mode is Mode.ENFORCE
    assert outcome.verdict == "refused"
    (violation,) = outcome.decision.violations
    assert violation.path == PATH
    assert violation.message == (
        f"user 'dev@example.com' may not {change} on namespace 'ai-prod': only members of "
        "system:masters, aigov-admins may change how a namespace is governed"
    )
    assert outcome.message == (
        f"aigov refused Namespace ai-prod: ModeChangeForbidden at {PATH}: {violation.message}"
    )


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ({}, {"aigov.io/mode": "enforce"}),
        ({"aigov.io/mode": "enforce"}, {"aigov.io/mode": "warn"}),
        ({"aigov.io/mode": "enforce"}, {}),
    ],
    ids=["add", "change", "remove"],
)
@pytest.mark.parametrize("groups", [("system:masters",), ("x", "aigov-admins")])
def test_admin_may_touch_the_mode(
    old: dict[str, Any], new: dict[str, Any], groups: tuple[str, ...]
) -> None:
    outcome = judge(request(UserInfo("root", groups), namespace(new), namespace(old)), ADMINS)
    assert outcome.allowed is True
    assert outcome.decision.codes == ()
    assert outcome.message == ""
    assert outcome.verdict == "allowed"


def test_admin_groups_come_from_the_argument() -> None:
    outcome = judge(
        request(ADMIN, namespace({"aigov.io/mode": "warn"}), namespace({})), ("platform",)
    )
    assert outcome.allowed is False
    assert outcome.decision.codes == (Reason.MODE_CHANGE_FORBIDDEN,)
    assert "only members of platform may change" in outcome.message


def test_non_admin_may_edit_other_labels_keeping_the_mode() -> None:
    old = namespace({"aigov.io/mode": "enforce", "team": "a"})
    new = namespace({"aigov.io/mode": "enforce", "team": "b", "cost-centre": "42"})
    outcome = judge(request(TENANT, new, old), ADMINS)
    assert outcome.allowed is True
    assert outcome.decision.codes == ()
    assert outcome.message == ""


def test_non_admin_may_edit_an_ungoverned_namespace() -> None:
    outcome = judge(request(TENANT, namespace({"team": "b"}), namespace({"team": "a"})), ADMINS)
    assert outcome.allowed is True


@pytest.mark.parametrize("user", [TENANT, ADMIN], ids=["tenant", "admin"])
@pytest.mark.parametrize("value", ["Enforce", "off", "", "dry-run"])
def test_invalid_mode_is_refused_even_for_admins(user: UserInfo, value: str) -> None:
    old = namespace({"aigov.io/mode": value})  # unchanged: only the value is judged
    outcome = judge(request(user, namespace({"aigov.io/mode": value}), old), ADMINS)
    assert outcome.allowed is False
    assert outcome.decision.codes == (Reason.INVALID_MODE,)
    (violation,) = outcome.decision.violations
    assert violation.message == (
        f"aigov.io/mode={value!r} is not a mode: use enforce, warn or audit"
    )
    assert violation.path == PATH


def test_invalid_mode_set_by_a_tenant_reports_both_problems() -> None:
    outcome = judge(request(TENANT, namespace({"aigov.io/mode": "off"}), namespace({})), ADMINS)
    assert outcome.decision.codes == (Reason.MODE_CHANGE_FORBIDDEN, Reason.INVALID_MODE)


def test_create_with_a_mode_by_a_non_admin_is_refused() -> None:
    new = namespace({"aigov.io/mode": "audit"})
    outcome = judge(request(TENANT, new, operation="CREATE"), ADMINS)
    assert outcome.allowed is False
    assert outcome.decision.codes == (Reason.MODE_CHANGE_FORBIDDEN,)
    assert "may not set aigov.io/mode=audit on namespace 'ai-prod'" in outcome.message


def test_create_old_object_is_ignored() -> None:
    # On CREATE the API server sends no oldObject; a stray one must not count as "unchanged".
    new = namespace({"aigov.io/mode": "enforce"})
    outcome = judge(request(TENANT, new, new, operation="CREATE"), ADMINS)
    assert outcome.decision.codes == (Reason.MODE_CHANGE_FORBIDDEN,)


def test_create_with_a_mode_by_an_admin_is_allowed() -> None:
    new = namespace({"aigov.io/mode": "enforce"})
    assert judge(request(ADMIN, new, operation="CREATE"), ADMINS).allowed is True


def test_create_without_a_mode_by_a_non_admin_is_allowed() -> None:
    outcome = judge(request(TENANT, namespace({"team": "a"}), operation="CREATE"), ADMINS)
    assert outcome.allowed is True


@pytest.mark.parametrize(
    "labels",
    [{"aigov.io/mode": 1}, {"aigov.io/mode": None}, "not-a-map"],
    ids=["int", "null", "labels-not-a-map"],
)
def test_odd_label_shapes_count_as_no_mode(labels: Any) -> None:
    outcome = judge(request(TENANT, namespace(labels), namespace({})), ADMINS)
    assert outcome.allowed is True


def test_stop_on_loss_is_guarded_like_the_mode() -> None:
    old = namespace({"aigov.io/mode": "enforce"})
    new = namespace({"aigov.io/mode": "enforce", "aigov.io/stop-on-loss": "true"})
    refused = judge(request(TENANT, new, old), ADMINS)
    assert refused.allowed is False
    assert [v.path for v in refused.decision.violations] == [
        "metadata.labels[aigov.io/stop-on-loss]"
    ]
    assert judge(request(ADMIN, new, old), ADMINS).allowed is True
    bad = namespace({"aigov.io/stop-on-loss": "yes"})
    invalid = judge(request(ADMIN, bad, old), ADMINS)
    assert [v.code for v in invalid.decision.violations] == [Reason.INVALID_MODE]


def test_require_signed_approvals_is_guarded_like_the_mode() -> None:
    """Issue 9: a tenant must not switch off signatures the platform demands."""
    old = namespace({"aigov.io/require-signed-approvals": "true"})
    outcome = judge(request(TENANT, namespace({}), old), ADMINS)
    assert outcome.decision.codes == (Reason.MODE_CHANGE_FORBIDDEN,)
    assert outcome.decision.violations[0].path == (
        "metadata.labels[aigov.io/require-signed-approvals]"
    )
    assert judge(request(ADMIN, namespace({}), old), ADMINS).allowed
    bad = judge(request(ADMIN, namespace({"aigov.io/require-signed-approvals": "yes"})), ADMINS)
    assert bad.decision.codes == (Reason.INVALID_MODE,)
