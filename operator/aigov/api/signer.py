"""TrustedSigner: a key that may sign assessments and approvals (crds/, trustedsigners).

Under GitOps every object is applied by the same service account, so the request's user says
nothing about who decided. A TrustedSigner, written only by platform admins, names a person
(`identity`, their Kubernetes user name), their public key and the duties the key may
perform; a signed RiskAssessment or ModelApproval then counts as that person's act.

Pure data and computation: no kopf, no Kubernetes client, no I/O.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field

from aigov.api.base import ApiModel, Resource


class Duty(StrEnum):
    """What a signing key may be used for."""

    ASSESS = "assess"
    """Sign RiskAssessments."""
    APPROVE = "approve"
    """Sign ModelApprovals (approve, reject and revoke)."""


class TrustedSignerSpec(ApiModel):
    """A person's public key and the duties it may sign."""

    identity: str
    """The person the key belongs to, spelled as their Kubernetes user name, so separation
    of duties compares signed and unsigned acts alike."""
    public_key: str
    """PEM SubjectPublicKeyInfo of an Ed25519 or ECDSA P-256 key."""
    duties: list[Annotated[Duty, Field(strict=False)]]
    """assess, approve, or both (separation of duties still holds per model)."""
    description: str | None = None
    """Free text for people: whose key, where the private half is kept."""


class TrustedSigner(Resource):
    """A TrustedSigner object (cluster-scoped)."""

    KIND: ClassVar[str] = "TrustedSigner"

    spec: TrustedSignerSpec
    """The key and what it may sign."""
