"""Issue 9 end to end: an approval chain no one person can rewrite.

Each test reproduces one way a person who holds every role (mallory) or a GitOps service
account could complete the chain alone, against the real API server and webhook, and shows it
refused or closed with its reason code.
"""

from __future__ import annotations

import base64
import json
import ssl
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from tools.controlplane.operator import Operator, free_port
from tools.kubectl import Kube, User

from aigov import certs
from aigov.api.base import spec_hash
from tests.e2e import governed, manifests
from tests.e2e.governed import ALICE, BOB, CAROL, IMAGE, MALLORY, OTHER_IMAGE


@pytest.fixture
def ns(kube: Kube, operator: Operator, unique: str) -> Iterator[str]:
    name = kube.namespace(f"chain-{unique}", mode="enforce")
    governed.bind_personas(kube, name)
    return name


def _status(kube: Kube, ns: str, name: str) -> dict[str, Any]:
    status: dict[str, Any] = kube.get("governedmodel", name, ns).get("status") or {}
    return status


def _phase_is(kube: Kube, ns: str, name: str, phase: str) -> None:
    kube.wait_for(lambda: _status(kube, ns, name).get("phase") == phase, f"{name} {phase}")


def _refused(result: Any, code: str, *fragments: str) -> None:
    assert not result.ok, result.stdout
    assert code in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_every_spec_editor_counts_and_assessments_are_immutable(kube: Kube, ns: str) -> None:
    """Scenario 1: alice writes, bob assesses; mallory edits the spec, then tries to move
    bob's assessment to her spec, to assess it herself and to approve it."""
    spec = governed.govern(kube, ns, "m", approve=False)
    changed = governed.model_spec(
        artifacts=[{"name": "server", "image": IMAGE}, {"name": "mine", "image": OTHER_IMAGE}]
    )
    assert kube.apply(governed.model("m", ns, changed), user=MALLORY).ok
    annotations = kube.get("governedmodel", "m", ns)["metadata"]["annotations"]
    assert json.loads(annotations["aigov.io/spec-editors"]) == ["alice", "mallory"]
    assert annotations["aigov.io/last-editor"] == "mallory"

    patch = {"spec": {"modelRef": {"name": "m", "specHash": spec_hash(changed)}}}
    patch["spec"]["riskLevel"] = "low"  # type: ignore[index]
    moved = kube.run(
        "patch", "riskassessment", "m-ra", "-n", ns, "--type=merge", "-p", json.dumps(patch),
        user=MALLORY,
    )  # fmt: skip
    assert not moved.ok
    assert "RiskAssessment spec is immutable: create a new RiskAssessment" in moved.stderr
    assert kube.get("riskassessment", "m-ra", ns)["spec"]["riskLevel"] == "medium"

    own = governed.assessment("m-ra-mallory", ns, "m", changed, level="low")
    _refused(
        kube.apply(own, user=MALLORY),
        "SeparationOfDuties",
        "'mallory' authored the spec of GovernedModel 'm' and may not assess it",
    )
    assert kube.apply(governed.assessment("m-ra2", ns, "m", changed), user=BOB).ok
    approval = governed.approval("m-ok", ns, "m", changed, assessment_name="m-ra2")
    _refused(
        kube.apply(approval, user=MALLORY),
        "SeparationOfDuties",
        "'mallory' authored the spec of GovernedModel 'm' and may not approve it",
    )
    assert kube.apply(approval, user=CAROL).ok
    _phase_is(kube, ns, "m", "Approved")
    status = _status(kube, ns, "m")
    assert status["specEditors"] == ["alice", "mallory"]
    events = [(h["event"], h.get("actor")) for h in status["history"]]
    assert ("SpecChanged", "mallory") in events
    assert ("Assessed", "bob") in events
    assert ("Approved", "carol") in events
    assert spec_hash(spec) != status["specHash"]
    wide = kube.run("get", "gm", "m", "-n", ns, "-o", "wide", check=True).stdout
    header, row = wide.splitlines()[:2]
    assert header.split()[8:13] == ["AUTHORS", "ASSESSOR", "APPROVER", "SIGNED", "BY"]
    assert '["alice","mallory"]' in row
    assert " bob " in row
    assert " carol " in row


def test_a_revocation_is_final_for_every_spec_hash(kube: Kube, ns: str) -> None:
    """Scenario 2: approve H1, change to H2, approve and revoke H2, restore H1."""
    h1 = governed.govern(kube, ns, "r")
    _phase_is(kube, ns, "r", "Approved")
    h2 = {**h1, "version": "2.0.0"}
    assert kube.apply(governed.model("r", ns, h2), user=ALICE).ok
    assert kube.apply(governed.assessment("r-ra2", ns, "r", h2), user=BOB).ok
    assert kube.apply(
        governed.approval("r-ok2", ns, "r", h2, assessment_name="r-ra2"), user=CAROL
    ).ok
    _phase_is(kube, ns, "r", "Approved")
    assert kube.apply(governed.approval("r-revoke2", ns, "r", h2, "revoke"), user=CAROL).ok
    _phase_is(kube, ns, "r", "Rejected")

    assert kube.apply(governed.model("r", ns, h1), user=ALICE).ok
    kube.wait_for(
        lambda: _status(kube, ns, "r").get("specHash") == spec_hash(h1), "the spec back at H1"
    )
    status = _status(kube, ns, "r")
    assert status["phase"] == "Rejected"
    assert status["approval"]["name"] == "r-revoke2"
    deployment = manifests.deployment("r", ns, gpus=1, model="r", image=IMAGE)
    _refused(
        kube.apply(deployment, user=ALICE),
        "NotApproved",
        "revoked GovernedModel 'r'",
        "voids every approval made before it, for every spec hash",
    )
    assert kube.apply(
        governed.approval("r-ok3", ns, "r", h1, assessment_name="r-ra"), user=CAROL
    ).ok
    _phase_is(kube, ns, "r", "Approved")
    assert kube.apply(deployment, user=ALICE).ok
    kube.run("delete", "deployment", "r", "-n", ns, "--wait=false")  # give the GPU back


def test_a_revocation_the_operator_could_not_read_is_refused(kube: Kube, ns: str) -> None:
    """Scenario 3: a validUntil the API server accepts but aigov cannot parse."""
    spec = governed.govern(kube, ns, "t")
    _phase_is(kube, ns, "t", "Approved")
    revoke = governed.approval("t-revoke", ns, "t", spec, "revoke")
    revoke["spec"]["validUntil"] = "2030-01-01T00:00:00+99:00"
    _refused(
        kube.apply(revoke, user=CAROL),
        "InvalidResource",
        "spec.validUntil",
        "aigov could not read this ModelApproval",
    )
    assert _status(kube, ns, "t")["phase"] == "Approved"


def test_an_unsigned_decision_by_a_service_account_is_refused(kube: Kube, ns: str) -> None:
    """Issue 11: the edit role may impersonate any ServiceAccount of its namespace, and an
    AdmissionReview shows only the impersonated identity, so a ServiceAccount's unsigned
    assessment names no person: refused; a signed one names its signer."""
    spec = governed.govern(kube, ns, "sa", approve=False)
    binding = governed.role_binding(ns, "pipeline", "aigov-risk-assessor")
    binding["subjects"] = [{"kind": "ServiceAccount", "name": "pipeline", "namespace": ns}]
    assert kube.apply(binding).ok
    robot = User(f"system:serviceaccount:{ns}:pipeline", ("system:serviceaccounts",))
    _refused(
        kube.apply(governed.assessment("sa-ra2", ns, "sa", spec), user=robot),
        "SeparationOfDuties",
        "is a ServiceAccount: anyone who may impersonate it",
    )


class _RogueWebhook(BaseHTTPRequestHandler):
    """A later mutating webhook that writes aigov.io/approver=carol on every approval."""

    def do_POST(self) -> None:
        review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        patch = [
            {"op": "add", "path": "/metadata/annotations/aigov.io~1approver", "value": "carol"}
        ]
        answer = {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "response": {
                "uid": review["request"]["uid"],
                "allowed": True,
                "patchType": "JSONPatch",
                "patch": base64.b64encode(json.dumps(patch).encode()).decode(),
            },
        }
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        return


@pytest.fixture
def rogue_webhook(kube: Kube, ns: str, tmp_path: Path) -> Iterator[None]:
    ca = certs.make_ca("rogue-ca")
    leaf = certs.issue(ca, "127.0.0.1", hosts=("127.0.0.1",), server=True)
    leaf.write(tmp_path / "tls.crt", tmp_path / "tls.key")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "tls.crt", tmp_path / "tls.key")
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), _RogueWebhook)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    name = f"zz-rogue-{ns}"  # sorts after aigov's configuration: called after its stamp
    config = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": name},
        "webhooks": [
            {
                "name": "rogue.example.com",
                "clientConfig": {
                    "url": f"https://127.0.0.1:{port}/",
                    "caBundle": base64.b64encode(ca.cert_pem).decode(),
                },
                "rules": [
                    {
                        "apiGroups": ["aigov.io"],
                        "apiVersions": ["v1alpha1"],
                        "resources": ["modelapprovals"],
                        "operations": ["CREATE"],
                    }
                ],
                "namespaceSelector": {
                    "matchLabels": {"kubernetes.io/metadata.name": ns},
                },
                "admissionReviewVersions": ["v1"],
                "sideEffects": "None",
                "failurePolicy": "Fail",
                "reinvocationPolicy": "Never",
            }
        ],
    }
    assert kube.apply(config).ok
    yield
    kube.run("delete", "mutatingwebhookconfiguration", name)
    server.shutdown()


def test_a_stamp_forged_by_a_later_webhook_is_refused(
    kube: Kube, ns: str, rogue_webhook: None
) -> None:
    """Scenario 4: the stamp is checked on validation, after every mutating webhook."""
    spec = governed.govern(kube, ns, "f", approve=False)
    approval = governed.approval("f-ok", ns, "f", spec, assessment_name="f-ra")
    _refused(
        kube.apply(approval, user=MALLORY),
        "StampProtected",
        "aigov.io/approver is written by aigov only",
        "must be 'mallory', found 'carol'",
    )
    assert kube.run("get", "modelapproval", "f-ok", "-n", ns).ok is False


# Scenario 5: GitOps, one service account applies everything; signatures name the people.

GITOPS = User("system:serviceaccount:gitops:deployer", ("system:serviceaccounts",))


def _aigov(*args: str) -> str:
    """The `aigov` command line, as a user runs it (the package's console script)."""
    import subprocess

    exe = Path(sys.executable).with_name("aigov")
    result = subprocess.run([str(exe), *args], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _signed(tmp: Path, manifest: dict[str, Any], kind: str, key: str, *extra: str) -> str:
    """`aigov sign` of `manifest` with `key` (a file made by keygen in `tmp`)."""
    source = tmp / f"{manifest['metadata']['name']}-{key}.yaml"
    source.write_text(yaml.safe_dump(manifest))
    return _aigov(
        "sign", kind, "-f", str(source), "--key", str(tmp / f"{key}.key"), "--keyid", key,
        *extra,
    )  # fmt: skip


@pytest.fixture
def signed_ns(kube: Kube, operator: Operator, unique: str, tmp_path: Path) -> Iterator[str]:
    """A namespace that requires signatures, GitOps allowed to apply every aigov kind, and
    keys for bob (assess), carol (approve) and dave (both), made with `aigov sign keygen`."""
    name = kube.namespace(f"signed-{unique}", mode="enforce")
    kube.run("label", "namespace", name, "aigov.io/require-signed-approvals=true", check=True)
    for role in ("aigov-model-author", "aigov-risk-assessor", "aigov-approver", "edit"):
        binding = governed.role_binding(name, "deployer", role)
        binding["subjects"] = [
            {"kind": "ServiceAccount", "name": "deployer", "namespace": "gitops"}
        ]
        assert kube.apply(binding).ok
    signers = []
    for person, duties in (("bob", "assess"), ("carol", "approve"), ("dave", "assess,approve")):
        keygen = ("sign", "keygen", "--out", str(tmp_path / person), "--identity", person)
        signer = yaml.safe_load(_aigov(*keygen, "--duties", duties))
        signer["metadata"]["name"] = f"{person}-{unique}"
        signers.append(signer["metadata"]["name"])
        assert kube.apply(signer).ok
    yield name
    kube.run("delete", "trustedsigners", *signers, "--wait=false")


def test_gitops_decisions_count_as_their_signers(
    kube: Kube, signed_ns: str, tmp_path: Path
) -> None:
    ns = signed_ns
    spec = governed.model_spec()
    assert kube.apply(governed.model("g", ns, spec), user=GITOPS).ok
    author = kube.get("governedmodel", "g", ns)["metadata"]["annotations"]["aigov.io/author"]
    assert author == GITOPS.name

    ra = governed.assessment("g-ra", ns, "g", spec)
    _refused(
        kube.apply(ra, user=GITOPS),
        "SignatureInvalid",
        "requires signed assessments and approvals",
    )
    stranger_dir = tmp_path / "stranger"
    stranger_dir.mkdir()
    _aigov("sign", "keygen", "--out", str(stranger_dir / "bob"), "--identity", "bob",
           "--duties", "assess")  # fmt: skip
    _refused(
        kube.apply(_signed(stranger_dir, ra, "assessment", "bob"), user=GITOPS),
        "SignatureInvalid",
        "no TrustedSigner's key verifies the signature",
    )
    tampered = yaml.safe_load(_signed(tmp_path, ra, "assessment", "bob"))
    tampered["spec"]["riskLevel"] = "low"
    _refused(
        kube.apply(tampered, user=GITOPS),
        "SignatureInvalid",
        "does not match this RiskAssessment",
    )
    _refused(
        kube.apply(_signed(tmp_path, ra, "assessment", "carol"), user=GITOPS),
        "SignatureInvalid",
        "may not assess",
    )
    assert kube.apply(_signed(tmp_path, ra, "assessment", "dave"), user=GITOPS).ok
    stamped = kube.get("riskassessment", "g-ra", ns)["metadata"]["annotations"]
    assert stamped["aigov.io/assessor"] == "dave"
    assert stamped["aigov.io/signed-by"].startswith("dave-")  # the TrustedSigner's name

    ra_file = tmp_path / "g-ra-source.yaml"
    ra_file.write_text(yaml.safe_dump(ra))
    approval = governed.approval("g-ok", ns, "g", spec, assessment_name="g-ra")
    extra = ("--assessment", str(ra_file))
    _refused(
        kube.apply(_signed(tmp_path, approval, "approval", "dave", *extra), user=GITOPS),
        "SeparationOfDuties",
        "'dave' assessed GovernedModel 'g'",
    )
    _refused(
        kube.apply(_signed(tmp_path, approval, "approval", "bob", *extra), user=GITOPS),
        "SignatureInvalid",
        "may not approve",
    )
    assert kube.apply(_signed(tmp_path, approval, "approval", "carol", *extra), user=GITOPS).ok
    _phase_is(kube, ns, "g", "Approved")
    status = _status(kube, ns, "g")
    assert status["riskAssessment"]["assessor"] == "dave"
    assert status["approval"]["approver"] == "carol"
    assert status["approval"]["signedBy"].startswith("carol-")
    assert ("Approved", "carol") in [(h["event"], h.get("actor")) for h in status["history"]]
    deployment = manifests.deployment("g", ns, gpus=1, model="g", image=IMAGE)
    assert kube.apply(deployment, user=GITOPS).ok
    kube.run("delete", "deployment", "g", "-n", ns, "--wait=false")  # give the GPU back

    governed.allow_namespace_labelling(kube)
    removed = kube.run("label", "namespace", ns, "aigov.io/require-signed-approvals-", user=MALLORY)
    _refused(removed, "ModeChangeForbidden")
