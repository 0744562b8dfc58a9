"""The status of a RiskAssessment or ModelApproval: does it still apply to its model?

Risk officers and approvers see at a glance (`kubectl get ra,mapr`) whether their decision
still counts: Current, Stale (the model's spec changed since), Expired (past validUntil) or
Orphaned (no such model). Pure: no clock reads, no I/O.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aigov.api.enums import BindingPhase
from aigov.api.models import BindingStatus, GovernedModel, ModelApproval, RiskAssessment

_OWNED_FIELDS = {"phase", "bound_to_current_spec", "observed_generation"}
"""The status fields aigov writes on RiskAssessments and ModelApprovals."""


def binding_phase(
    obj: RiskAssessment | ModelApproval, model: GovernedModel | None, now: dt.datetime
) -> BindingPhase:
    """The first of Orphaned, Stale, Expired that holds, else Current.

    `model` is the GovernedModel named by `obj.spec.modelRef.name` in the same namespace, or
    None if there is none; a model of another name counts as none. Expired from validUntil
    on, like standing(); a ModelApproval without validUntil never expires by itself.
    """
    ref = obj.spec.model_ref
    if model is None or model.metadata.name != ref.name:
        return BindingPhase.ORPHANED
    if ref.spec_hash != model.spec.canonical_hash():
        return BindingPhase.STALE
    until = obj.spec.valid_until
    if until is not None and until <= now:
        return BindingPhase.EXPIRED
    return BindingPhase.CURRENT


def binding_status(
    obj: RiskAssessment | ModelApproval, model: GovernedModel | None, now: dt.datetime
) -> dict[str, Any]:
    """The fields of `status` aigov owns on `obj`, camelCase, for a merge patch.

    Only phase, boundToCurrentSpec and observedGeneration: conditions are left alone, so a
    merge patch of this mapping never wipes what another writer put there.
    """
    bound = (
        model is not None
        and model.metadata.name == obj.spec.model_ref.name
        and obj.spec.model_ref.spec_hash == model.spec.canonical_hash()
    )
    status = BindingStatus(
        phase=binding_phase(obj, model, now),
        bound_to_current_spec=bound,
        observed_generation=obj.metadata.generation,
    )
    return status.model_dump(mode="json", by_alias=True, exclude_none=True, include=_OWNED_FIELDS)


def binding_patch(
    obj: RiskAssessment | ModelApproval, model: GovernedModel | None, now: dt.datetime
) -> dict[str, Any] | None:
    """`{"status": binding_status(...)}`, or None when obj's status already says so."""
    desired = binding_status(obj, model, now)
    current = obj.status.model_dump(
        mode="json", by_alias=True, exclude_none=True, include=_OWNED_FIELDS
    )
    return None if current == desired else {"status": desired}
