"""The mutating webhook's scope follows the PlacementPolicies: wide only while one injects."""

from __future__ import annotations

import builders

from aigov.handlers.mutation_scope import injecting


def test_injecting_while_any_policy_has_mode_inject() -> None:
    validate = builders.placement_policy("check", mode="validate")
    inject = builders.placement_policy("pin", mode="inject")
    assert not injecting({})
    assert not injecting({"check": [validate]})
    assert injecting({"check": [validate], "pin": [inject]})
    # kopf's index holds a store per name; an unparsable policy is absent from it.
    assert not injecting({"broken": []})
