"""Signed assessments and approvals: DSSE envelopes over in-toto Statements, checked offline.

Keys are generated in each test; `aigov sign` (the CLI) makes the envelopes, so what is
tested is the path a GitOps user takes: keygen, sign the manifest, apply it unchanged.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import builders
import pytest
import yaml
from builders import NAMESPACE, model_approval_body, model_spec, risk_assessment_body
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from aigov.admission.governance import Context, judge, stamp
from aigov.admission.request import AdmissionRequest, UserInfo
from aigov.api import constants
from aigov.api.constants import Reason
from aigov.api.models import GovernedModel, ModelApproval, RiskAssessment, spec_hash
from aigov.api.signer import TrustedSigner
from aigov.cli import main as cli
from aigov.policy.signing import (
    PAYLOAD_TYPE,
    BadKeyError,
    SignatureError,
    Signer,
    load_public_key,
    pae,
    signer_of,
    verify,
)

SPEC = model_spec(weights=False)
CURRENT = spec_hash(SPEC)
NOW = dt.datetime.now(dt.UTC)
GITOPS = "system:serviceaccount:argocd:argocd-application-controller"
MODEL = GovernedModel.from_body(
    builders.governed_model_body(
        SPEC,
        annotations={
            constants.AUTHOR_ANNOTATION: GITOPS,
            constants.SPEC_EDITORS_ANNOTATION: json.dumps([GITOPS]),
        },
    )
)


def keygen(tmp: Path, name: str, identity: str, duties: str, kind: str = "ed25519") -> Signer:
    """`aigov sign keygen`, then the TrustedSigner a platform admin would apply."""
    out = tmp / name
    assert cli(["sign", "keygen", "--out", str(out), "--identity", identity,
                "--duties", duties, "--type", kind]) == 0  # fmt: skip
    pem = (tmp / f"{name}.pub").read_text()
    body = {
        "apiVersion": constants.API_VERSION,
        "kind": "TrustedSigner",
        "metadata": {"name": name},
        "spec": {"identity": identity, "publicKey": pem, "duties": duties.split(",")},
    }
    return signer_of(TrustedSigner.from_body(body))


def write(tmp: Path, name: str, body: dict[str, Any]) -> Path:
    path = tmp / name
    clean = copy.deepcopy(body)
    clean["metadata"].pop("annotations", None)
    path.write_text(yaml.safe_dump(clean))
    return path


def signed(tmp: Path, kind: str, path: Path, key: str, keyid: str, *extra: str) -> dict[str, Any]:
    out = tmp / f"signed-{path.name}"
    args = ["sign", kind, "-f", str(path), "--key", str(tmp / f"{key}.key"), "--keyid", keyid]
    assert cli([*args, "-o", str(out), *extra]) == 0
    doc: dict[str, Any] = yaml.safe_load(out.read_text())
    return doc


def ra_body() -> dict[str, Any]:
    return risk_assessment_body(CURRENT, annotations={})


def ma_body(decision: str = "approve") -> dict[str, Any]:
    return model_approval_body(CURRENT, decision=decision, annotations={})


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Signer]:
    return {
        "bob": keygen(tmp_path, "bob", "bob", "assess"),
        "carol": keygen(tmp_path, "carol", "carol", "approve", "ecdsa-p256"),
        "both": keygen(tmp_path, "both", "dave", "assess,approve"),
    }


def test_a_signed_assessment_verifies_and_names_its_signer(
    tmp_path: Path, keys: dict[str, Signer]
) -> None:
    before = dt.datetime.now(dt.UTC)
    doc = signed(tmp_path, "assessment", write(tmp_path, "ra.yaml", ra_body()), "bob", "bob")
    result = verify(RiskAssessment.from_body(doc), NAMESPACE, keys.values(), NOW)
    assert result.signer.identity == "bob"
    # Stamped when signed (NOW is fixed at import: a long suite runs this minutes later).
    assert before - dt.timedelta(seconds=1) <= result.issued_at <= dt.datetime.now(dt.UTC)
    assert doc["spec"]["signature"]["payloadType"] == PAYLOAD_TYPE


def test_a_signed_approval_binds_the_assessment_content(
    tmp_path: Path, keys: dict[str, Signer]
) -> None:
    ra_path = write(tmp_path, "ra.yaml", ra_body())
    doc = signed(
        tmp_path, "approval", write(tmp_path, "ma.yaml", ma_body()), "carol", "carol",
        "--assessment", str(ra_path),
    )  # fmt: skip
    ma = ModelApproval.from_body(doc)
    ra = RiskAssessment.from_body(ra_body())
    assert verify(ma, NAMESPACE, keys.values(), NOW, ra.spec.content_hash()).signer.name == "carol"
    other = copy.deepcopy(ra_body())
    other["spec"]["riskLevel"] = "low"
    with pytest.raises(SignatureError, match=r"predicate\.riskAssessment\.specHash differ"):
        verify(
            ma, NAMESPACE, keys.values(), NOW, RiskAssessment.from_body(other).spec.content_hash()
        )


def test_a_tampered_envelope_is_refused(tmp_path: Path, keys: dict[str, Signer]) -> None:
    doc = signed(tmp_path, "assessment", write(tmp_path, "ra.yaml", ra_body()), "bob", "bob")
    payload = json.loads(base64.b64decode(doc["spec"]["signature"]["payload"]))
    payload["predicate"]["riskLevel"] = "low"
    doc["spec"]["signature"]["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    with pytest.raises(SignatureError, match="no TrustedSigner's key verifies"):
        verify(RiskAssessment.from_body(doc), NAMESPACE, keys.values(), NOW)


def test_an_object_changed_after_signing_is_refused(
    tmp_path: Path, keys: dict[str, Signer]
) -> None:
    doc = signed(tmp_path, "assessment", write(tmp_path, "ra.yaml", ra_body()), "bob", "bob")
    doc["spec"]["riskLevel"] = "low"
    with pytest.raises(SignatureError, match=r"predicate\.riskLevel, predicate\.specHash differ"):
        verify(RiskAssessment.from_body(doc), NAMESPACE, keys.values(), NOW)


def test_a_signature_replayed_in_another_namespace_is_refused(
    tmp_path: Path, keys: dict[str, Signer]
) -> None:
    doc = signed(tmp_path, "assessment", write(tmp_path, "ra.yaml", ra_body()), "bob", "bob")
    with pytest.raises(SignatureError, match="differ"):
        verify(RiskAssessment.from_body(doc), "elsewhere", keys.values(), NOW)


def test_an_unknown_key_is_refused(tmp_path: Path, keys: dict[str, Signer]) -> None:
    keygen(tmp_path, "stranger", "mallory", "assess")
    doc = signed(tmp_path, "assessment", write(tmp_path, "ra.yaml", ra_body()), "stranger", "bob")
    with pytest.raises(SignatureError, match="no TrustedSigner's key verifies"):
        verify(RiskAssessment.from_body(doc), NAMESPACE, keys.values(), NOW)


def test_a_key_used_outside_its_duty_is_refused(tmp_path: Path, keys: dict[str, Signer]) -> None:
    doc = signed(tmp_path, "assessment", write(tmp_path, "ra.yaml", ra_body()), "carol", "carol")
    with pytest.raises(SignatureError, match=r"'carol' \(carol\) may not assess"):
        verify(RiskAssessment.from_body(doc), NAMESPACE, keys.values(), NOW)


def test_a_statement_from_the_future_is_refused(tmp_path: Path, keys: dict[str, Signer]) -> None:
    doc = signed(tmp_path, "assessment", write(tmp_path, "ra.yaml", ra_body()), "bob", "bob")
    with pytest.raises(SignatureError, match="issued in the future"):
        verify(RiskAssessment.from_body(doc), NAMESPACE, keys.values(), NOW - dt.timedelta(hours=1))


def test_only_ed25519_and_p256_keys_are_trusted() -> None:
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key()
    pem = p384.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    with pytest.raises(BadKeyError, match="not an Ed25519 or ECDSA P-256 key"):
        load_public_key(pem)
    with pytest.raises(BadKeyError, match="not a PEM public key"):
        load_public_key("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")


def test_pae_is_the_dsse_encoding() -> None:
    """The DSSE v1 spec's own example."""
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )
    key = ed25519.Ed25519PrivateKey.generate()
    assert len(key.sign(pae(PAYLOAD_TYPE, b"{}"))) == 64


# Admission of signed decisions ------------------------------------------------------------


def request(body: dict[str, Any], user: str = GITOPS) -> AdmissionRequest:
    kind = str(body["kind"])
    return AdmissionRequest(
        uid="u",
        operation="CREATE",
        group=constants.GROUP,
        version=constants.VERSION,
        resource={"RiskAssessment": "riskassessments", "ModelApproval": "modelapprovals"}[kind],
        kind=kind,
        namespace=NAMESPACE,
        name=str(body["metadata"]["name"]),
        user=UserInfo(username=user),
        object=body,
    )


def admit(body: dict[str, Any], ctx: Context, user: str = GITOPS) -> tuple[Any, dict[str, Any]]:
    changes = stamp(request(body, user), ctx).changes
    stamped = copy.deepcopy(body)
    annotations = stamped["metadata"].setdefault("annotations", {})
    annotations.update({k: v for k, v in changes.items() if v is not None})
    return judge(request(stamped, user), ctx, ()), annotations


def test_the_signer_not_the_applier_is_the_assessor(
    tmp_path: Path, keys: dict[str, Signer]
) -> None:
    doc = signed(tmp_path, "assessment", write(tmp_path, "ra.yaml", ra_body()), "bob", "bob")
    ctx = Context(model=MODEL, now=NOW, signers=tuple(keys.values()), require_signed=True)
    outcome, annotations = admit(doc, ctx)
    assert outcome.allowed, outcome.message
    assert annotations[constants.ASSESSOR_ANNOTATION] == "bob"
    assert annotations[constants.SIGNED_BY_ANNOTATION] == "bob"
    assert constants.SIGNED_AT_ANNOTATION in annotations


def test_an_unsigned_decision_is_refused_where_signatures_are_required(
    keys: dict[str, Signer],
) -> None:
    ctx = Context(model=MODEL, now=NOW, signers=tuple(keys.values()), require_signed=True)
    outcome, _ = admit(ra_body(), ctx)
    assert outcome.decision.codes == (Reason.SIGNATURE_INVALID,)
    assert outcome.decision.violations[0].path == "spec.signature"
    assert "aigov.io/require-signed-approvals=true" in outcome.message


def test_a_badly_signed_decision_is_refused_even_where_not_required(
    tmp_path: Path, keys: dict[str, Signer]
) -> None:
    doc = signed(tmp_path, "assessment", write(tmp_path, "ra.yaml", ra_body()), "bob", "bob")
    doc["spec"]["methodology"] = "changed after signing"
    ctx = Context(model=MODEL, now=NOW, signers=tuple(keys.values()))
    outcome, annotations = admit(doc, ctx)
    assert outcome.decision.codes == (Reason.SIGNATURE_INVALID,)
    assert constants.ASSESSOR_ANNOTATION not in annotations


def test_separation_of_duties_holds_between_signers(
    tmp_path: Path, keys: dict[str, Signer]
) -> None:
    """dave holds both duties; signing the assessment and then the approval is refused."""
    ra_path = write(tmp_path, "ra.yaml", ra_body())
    ra_doc = signed(tmp_path, "assessment", ra_path, "both", "both")
    ctx = Context(model=MODEL, now=NOW, signers=tuple(keys.values()), require_signed=True)
    outcome, annotations = admit(ra_doc, ctx)
    assert outcome.allowed, outcome.message
    stored = copy.deepcopy(ra_doc)
    stored["metadata"]["annotations"] = annotations
    stored["metadata"]["uid"] = "uid-ra"
    assessment = RiskAssessment.from_body(stored)
    ma_doc = signed(
        tmp_path, "approval", write(tmp_path, "ma.yaml", ma_body()), "both", "both",
        "--assessment", str(ra_path),
    )  # fmt: skip
    ctx = Context(
        model=MODEL, assessment=assessment, now=NOW, signers=tuple(keys.values()),
        require_signed=True,
    )  # fmt: skip
    outcome, _ = admit(ma_doc, ctx)
    assert outcome.decision.codes == (Reason.SEPARATION_OF_DUTIES,)
    assert "'dave' assessed GovernedModel" in outcome.message
    carol_doc = signed(
        tmp_path, "approval", write(tmp_path, "ma.yaml", ma_body()), "carol", "carol",
        "--assessment", str(ra_path),
    )  # fmt: skip
    outcome, annotations = admit(carol_doc, ctx)
    assert outcome.allowed, outcome.message
    assert annotations[constants.APPROVER_ANNOTATION] == "carol"
    assert annotations[constants.ASSESSMENT_UID_ANNOTATION] == "uid-ra"


def test_the_cli_says_what_is_wrong_with_its_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: Deployment\napiVersion: apps/v1\n")
    keygen(tmp_path, "k", "bob", "assess")
    code = cli(["sign", "assessment", "-f", str(bad), "--key", str(tmp_path / "k.key"),
                "--keyid", "k"])  # fmt: skip
    assert code == 2
    assert (
        "expected an aigov.io/v1alpha1 RiskAssessment or ModelApproval" in capsys.readouterr().err
    )
    assert cli([]) == 2
