"""Every manifest in examples/ is applied, as the user it names, with the outcome it claims."""

from __future__ import annotations

import pytest
from tools import examples
from tools.controlplane.operator import Operator
from tools.kubectl import Kube, User


@pytest.fixture(scope="module", autouse=True)
def fresh_story(kube: Kube) -> None:
    """The examples tell one story from its start: remove what an earlier run left."""
    kube.run(
        "delete",
        "namespace",
        "ai-prod",
        "ai-sandbox",
        "ai-gitops",
        "--ignore-not-found",
        "--wait=true",
    )


@pytest.mark.parametrize("example", examples.catalogue(), ids=lambda e: e.name)
def test_example(kube: Kube, operator: Operator, example: examples.Example) -> None:
    user = User(example.user, example.groups) if example.user else None
    result = kube.apply(example.text, user=user)
    if example.expect == "admitted":
        assert result.ok, result.stderr
    else:
        assert not result.ok, f"{example.name} was admitted"
        assert example.reason is not None
        assert example.reason in result.stderr, result.stderr
