"""Rule PlacementViolation for `pods/binding`: a pod bound to a node by hand.

The scheduler binds pods where their spec allows, and that spec was judged when the pod was
created. Anyone else holding `pods/binding` can put a pending pod on any node, skipping the
scheduler and every placement rule (issue 11). So a binding by anyone but the scheduler is
judged on its target node: a pod of a model must land in its PlacementPolicy's pools, and a
node of a reserved pool takes only pods of approved models whose policy allows it.
Pure: the pod's model comes from an index, the rest from the placement context.
"""

from __future__ import annotations

import datetime as dt

from aigov.api.constants import Reason
from aigov.policy.decision import Decision, Violation
from aigov.policy.placement import PlacementContext, pool_of, resolve
from aigov.policy.reserved import reservations
from aigov.policy.standing import Evidence, standing

TARGET_PATH = "target.name"


def judge_binding(
    pod: str,
    target: str,
    evidence: Evidence | None,
    ctx: PlacementContext,
    now: dt.datetime,
) -> Decision:
    """Whether pod `pod` (of the model `evidence` describes, None if unlabelled) may be bound
    to node `target`."""
    node = next((n for n in ctx.nodes if n.name == target), None)
    if node is None:
        message = f"binding pod {pod!r} to node {target!r}, which aigov does not know"
        return Decision([Violation(Reason.PLACEMENT_VIOLATION, message, TARGET_PATH)])
    held = reservations(ctx.policies, ctx.nodes).get(target, ())
    found: list[Violation] = []
    model = evidence.model if evidence is not None else None
    if model is None:
        if held:
            who = (
                f"names GovernedModel {evidence.name!r}, which does not exist"
                if evidence
                else ("names no GovernedModel")
            )
            pools = ", ".join(r.describe() for r in held)
            message = (
                f"pod {pod!r} {who}: node {target!r} is in reserved pool {pools}, which only "
                "approved models may use"
            )
            found.append(Violation(Reason.PLACEMENT_VIOLATION, message, TARGET_PATH))
        return Decision(found)
    resolution = resolve(model, ctx)
    policy = resolution.policy
    name = model.metadata.name
    if policy is not None and pool_of(node, policy.spec.node_pools) is None:
        pools = ", ".join(p.name for p in policy.spec.node_pools)
        message = (
            f"node {target!r} is outside the pools of GovernedModel {name!r} (PlacementPolicy "
            f"{policy.metadata.name!r}: {pools})"
        )
        found.append(Violation(Reason.PLACEMENT_VIOLATION, message, TARGET_PATH))
    if held and evidence is not None:
        allowed = policy is not None and pool_of(node, policy.spec.node_pools) is not None
        approved = standing(
            model, evidence.assessments, evidence.approvals, now, evidence.unreadable
        ).may_run
        if not (allowed and approved):
            pools = ", ".join(r.describe() for r in held)
            message = (
                f"node {target!r} is in reserved pool {pools}: only approved models whose "
                f"policy allows it may use it (GovernedModel {name!r} is "
                f"{'approved' if approved else 'not approved'})"
            )
            found.append(Violation(Reason.PLACEMENT_VIOLATION, message, TARGET_PATH))
    return Decision(found)
