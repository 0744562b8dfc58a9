"""examples/04-gitops: the committed signatures still match the committed manifests and keys.

If this fails after an edit of the story, run `python -m tools.sign_examples` to sign again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml
from tools.examples import EXAMPLES

from aigov.api.models import ModelApproval, RiskAssessment
from aigov.api.signer import TrustedSigner
from aigov.policy.signing import signer_of, verify

FOLDER = EXAMPLES / "04-gitops"
NOW = dt.datetime.now(dt.UTC)


def _load(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((FOLDER / name).read_text()) if d]


def test_the_signed_examples_verify_against_the_example_signers() -> None:
    signers = [signer_of(TrustedSigner.from_body(d)) for d in _load("01-signers.yaml")]
    (ra_body,) = _load("04-assessment-signed.yaml")
    (ma_body,) = _load("05-approval-signed.yaml")
    ra, ma = RiskAssessment.from_body(ra_body), ModelApproval.from_body(ma_body)
    assessed = verify(ra, "ai-gitops", signers, NOW)
    approved = verify(ma, "ai-gitops", signers, NOW, ra.spec.content_hash())
    assert (assessed.signer.identity, approved.signer.identity) == ("bob", "carol")
