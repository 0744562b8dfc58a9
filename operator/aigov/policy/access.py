"""Rule AccessRestricted: nobody steps into a running high-risk model's pod unrecorded.

`kubectl exec`, `attach` and `port-forward` (the pods/exec, pods/attach and
pods/portforward subresources, operation CONNECT) reach past every admission rule: a shell
in a serving pod can swap the weights it loads, read the personal data it sees, or talk to
the model outside its audited front door. On pods of models whose risk class is restricted
(default: high) only members of a break-glass group may do it, and every attempt is a
decision record, allowed or not (EU AI Act Art. 12 record-keeping, Art. 14 oversight).

Pure: the pod's model comes from an in-memory index of labelled pods, the model from the
GovernedModel index; the requester's groups from the authenticated request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aigov.api.constants import MODEL_LABEL, Reason
from aigov.api.enums import RiskClass
from aigov.api.models import GovernedModel
from aigov.policy.decision import Violation

VERBS = {"exec": "kubectl exec", "attach": "kubectl attach", "portforward": "kubectl port-forward"}
"""The subresources judged, as the user typed them."""

MODEL_PATH = f"metadata.labels[{MODEL_LABEL}]"
"""Where the pod names its model: what makes the access restricted."""


@dataclass(frozen=True)
class AccessRules:
    """Which models' pods are restricted, and who may enter them anyway."""

    restricted: frozenset[RiskClass] = frozenset({RiskClass.HIGH})
    break_glass_groups: tuple[str, ...] = ("aigov-break-glass",)


@dataclass(frozen=True)
class AccessVerdict:
    """Violations (empty: allowed), and the break-glass group that allowed it, if one did."""

    violations: tuple[Violation, ...] = ()
    break_glass: str | None = None
    restricted: bool = False
    """The pod belongs to a restricted model (or one aigov cannot find): worth recording."""


def judge_access(
    subresource: str,
    pod: str,
    model_name: str | None,
    *,
    model: GovernedModel | None,
    groups: Sequence[str],
    rules: AccessRules,
) -> AccessVerdict:
    """The verdict on entering pod `pod` of model `model_name` (None: the pod names none).

    A pod naming a model aigov cannot find is restricted: its risk class is unknown, and
    failing open would let a deleted model's pods be entered freely.
    """
    if model_name is None or subresource not in VERBS:
        return AccessVerdict()
    if model is not None and model.spec.risk_class not in rules.restricted:
        return AccessVerdict()
    member = next((g for g in rules.break_glass_groups if g in groups), None)
    if member is not None:
        return AccessVerdict(break_glass=member, restricted=True)
    if model is None:
        why = f"its GovernedModel {model_name!r} does not exist, so its risk class is unknown"
    else:
        why = f"it runs GovernedModel {model_name!r} of risk class {model.spec.risk_class.value}"
    who = ", ".join(rules.break_glass_groups) or "(none configured)"
    message = (
        f"{VERBS[subresource]} into pod {pod!r} is restricted: {why}. Only members of the "
        f"break-glass group {who} may enter it (AIGOV_BREAK_GLASS_GROUPS), and every "
        "access is recorded"
    )
    return AccessVerdict((Violation(Reason.ACCESS_RESTRICTED, message, MODEL_PATH),), None, True)
