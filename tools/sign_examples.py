"""Write examples/04-gitops: the signed GitOps story, with fresh demo keys.

Run `python -m tools.sign_examples` after changing the story. It makes an Ed25519 key for
bob (assess) and an ECDSA P-256 key for carol (approve), writes their TrustedSigners and
signs the assessment and the approval with `aigov sign`, exactly as the people would in
their GitOps repository. The private keys are thrown away: only the signed manifests and
the public keys are committed (tests/unit/test_examples_signed.py checks they still match).
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from aigov.cli import main as aigov
from tools.examples import EXAMPLES

FOLDER = EXAMPLES / "04-gitops"
NAMESPACE = "ai-gitops"
GITOPS = "system:serviceaccount:gitops:deployer"
HEADER_AS = f"as={GITOPS} groups=system:serviceaccounts,system:authenticated"
SPEC_HASH = "810c50d78e5b5675ef5b8567fe761e49500859a06f30213d3a142b240bdbffca"
"""The spec hash of fraud-scorer 3.1.0 (examples/02-governed/01-model.yaml): same spec."""

ASSESSMENT: dict[str, Any] = {
    "apiVersion": "aigov.io/v1alpha1",
    "kind": "RiskAssessment",
    "metadata": {"name": "fraud-scorer-3.1.0-dpia", "namespace": NAMESPACE},
    "spec": {
        "modelRef": {"name": "fraud-scorer", "specHash": SPEC_HASH},
        "riskLevel": "high",
        "methodology": "ISO/IEC 23894 risk assessment with a GDPR Art. 35 DPIA",
        "validUntil": "2030-01-01T00:00:00Z",
    },
}
APPROVAL: dict[str, Any] = {
    "apiVersion": "aigov.io/v1alpha1",
    "kind": "ModelApproval",
    "metadata": {"name": "fraud-scorer-3.1.0-approval", "namespace": NAMESPACE},
    "spec": {
        "modelRef": {"name": "fraud-scorer", "specHash": SPEC_HASH},
        "riskAssessmentRef": "fraud-scorer-3.1.0-dpia",
        "decision": "approve",
        "justification": "Residual risk accepted with the DPIA mitigations in place",
    },
}


def _write(name: str, header: str, documents: list[dict[str, Any]]) -> None:
    text = "---\n".join(yaml.safe_dump(d, sort_keys=False) for d in documents)
    (FOLDER / name).write_text(header.strip() + "\n" + text)


def _run(*args: str) -> None:
    if aigov(list(args)) != 0:
        raise SystemExit(f"aigov {' '.join(args)} failed")


def main() -> int:
    """Write the signers and the signed manifests of examples/04-gitops."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        signers = []
        for person, duties, kind in (
            ("bob", "assess", "ed25519"),
            ("carol", "approve", "ecdsa-p256"),
        ):
            out = work / f"{person}-demo"
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                _run("sign", "keygen", "--out", str(out), "--identity", person,
                     "--duties", duties, "--type", kind)  # fmt: skip
            signer = yaml.safe_load(printed.getvalue())
            signer["spec"]["description"] = (
                "Demo key of examples/04-gitops; its private half is gone"
            )
            signers.append(signer)
        _write(
            "01-signers.yaml",
            "# aigov-example: expect=admitted\n"
            "# A platform admin trusts bob's key to sign assessments and carol's to sign\n"
            "# approvals (made with `aigov sign keygen`; only admins may write TrustedSigners).",
            signers,
        )
        ra_source, ma_source = work / "ra.yaml", work / "ma.yaml"
        ra_source.write_text(yaml.safe_dump(ASSESSMENT))
        ma_source.write_text(yaml.safe_dump(APPROVAL))
        _run("sign", "assessment", "-f", str(ra_source), "--key", str(work / "bob-demo.key"),
             "--keyid", "bob-demo", "-o", str(work / "ra-signed.yaml"))  # fmt: skip
        _run("sign", "approval", "-f", str(ma_source), "--key", str(work / "carol-demo.key"),
             "--keyid", "carol-demo", "--assessment", str(ra_source),
             "-o", str(work / "ma-signed.yaml"))  # fmt: skip
        _write(
            "04-assessment-signed.yaml",
            f"# aigov-example: expect=admitted {HEADER_AS}\n"
            "# The same assessment, signed by bob (`aigov sign assessment -f ... --key bob.key`)\n"
            "# in the Git repository. Applied by the same service account, it counts as bob's:\n"
            "# aigov stamps aigov.io/assessor=bob and aigov.io/signed-by=bob-demo.",
            [yaml.safe_load((work / "ra-signed.yaml").read_text())],
        )
        _write(
            "05-approval-signed.yaml",
            f"# aigov-example: expect=admitted {HEADER_AS}\n"
            "# carol signs the approval; the statement binds the model's spec hash, the decision\n"
            "# and the exact content of bob's assessment. aigov stamps aigov.io/approver=carol.",
            [yaml.safe_load((work / "ma-signed.yaml").read_text())],
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
