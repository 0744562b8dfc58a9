"""Signed decisions: in-toto Statements in DSSE envelopes, made and checked offline.

Under GitOps one service account applies every object, so `request.userInfo` says nothing
about who assessed or approved. A RiskAssessment or ModelApproval may therefore carry
`spec.signature`: a DSSE envelope (payload type `application/vnd.in-toto+json`) whose
payload is an in-toto Statement v1 about exactly that object:

- subject: the model, `<namespace>/<model name>`, with digest sha256 = the spec hash decided on;
- predicateType: `https://aigov.io/assessment/v1` or `https://aigov.io/approval/v1`;
- predicate: the object's kind, namespace and name, `issuedAt`, and what was decided (the
  risk level and validity, or the decision, justification, validity and the assessment
  relied on with the sha256 of its spec).

`statement()` builds that Statement from the object alone, so signing (`aigov sign`) and
verifying (the admission webhook) cannot disagree on its content. Keys are Ed25519 or ECDSA
P-256 (SHA-256, DER signature, as cosign writes). Pure: `cryptography` only, no I/O, no
clock (`now` is an argument).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from aigov.api.assessment import (
    Envelope,
    EnvelopeSignature,
    ModelApproval,
    ModelApprovalSpec,
    RiskAssessment,
    RiskAssessmentSpec,
)
from aigov.api.signer import Duty, TrustedSigner

PAYLOAD_TYPE: Final = "application/vnd.in-toto+json"
STATEMENT_TYPE: Final = "https://in-toto.io/Statement/v1"
PREDICATES: Final[Mapping[str, str]] = {
    "RiskAssessment": "https://aigov.io/assessment/v1",
    "ModelApproval": "https://aigov.io/approval/v1",
}
DUTY_OF: Final[Mapping[str, Duty]] = {"RiskAssessment": Duty.ASSESS, "ModelApproval": Duty.APPROVE}
CLOCK_SKEW: Final = dt.timedelta(minutes=5)
"""How far in the future a statement's issuedAt may be: signers' clocks are not ours."""

PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey


class SignatureError(ValueError):
    """Why a signature is not accepted, in words the person who applied it can act on."""


class BadKeyError(ValueError):
    """A key that is not an Ed25519 or ECDSA P-256 key in PEM."""


@dataclass(frozen=True)
class Signer:
    """A TrustedSigner with its key loaded, as the admission path uses it."""

    name: str
    identity: str
    duties: frozenset[Duty]
    key: PublicKey


@dataclass(frozen=True)
class Verified:
    """Who signed, and when they say they did."""

    signer: Signer
    issued_at: dt.datetime


def _ed25519_or_p256(key: object) -> bool:
    """The two key types aigov accepts, public or private."""
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return True
    curve = getattr(key, "curve", None)
    is_ec = isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey)
    return is_ec and isinstance(curve, ec.SECP256R1)


def load_public_key(pem: str) -> PublicKey:
    """Parse a PEM public key; only Ed25519 and ECDSA P-256 are accepted."""
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError) as exc:
        raise BadKeyError(f"not a PEM public key: {exc}") from exc
    if not _ed25519_or_p256(key):
        raise BadKeyError(f"{type(key).__name__} is not an Ed25519 or ECDSA P-256 key")
    return cast(PublicKey, key)


def load_private_key(pem: bytes, password: bytes | None = None) -> PrivateKey:
    """Parse a PEM (PKCS#8) private key; only Ed25519 and ECDSA P-256 can sign."""
    try:
        key = serialization.load_pem_private_key(pem, password)
    except (ValueError, TypeError) as exc:
        raise BadKeyError(f"not a usable PEM private key: {exc}") from exc
    if not _ed25519_or_p256(key):
        raise BadKeyError("only Ed25519 and ECDSA P-256 keys can sign")
    return cast(PrivateKey, key)


def signer_of(obj: TrustedSigner) -> Signer:
    """The TrustedSigner with its key loaded; raises BadKeyError for a bad key."""
    return Signer(
        name=obj.metadata.name,
        identity=obj.spec.identity,
        duties=frozenset(obj.spec.duties),
        key=load_public_key(obj.spec.public_key),
    )


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: what is actually signed."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def _wire_time(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def statement(  # noqa: PLR0917 - one Statement, each part named where it is built
    kind: str,
    namespace: str,
    name: str,
    spec: RiskAssessmentSpec | ModelApprovalSpec,
    issued_at: dt.datetime,
    assessment_hash: str | None = None,
) -> dict[str, Any]:
    """The in-toto Statement a signature on this object must carry.

    `assessment_hash` is, for an approval, the content hash of the RiskAssessment it relies
    on (`RiskAssessmentSpec.content_hash()`); None when it names none.
    """
    ref = spec.model_ref
    predicate: dict[str, Any] = {
        "kind": kind,
        "namespace": namespace,
        "name": name,
        "issuedAt": _wire_time(issued_at),
    }
    if isinstance(spec, RiskAssessmentSpec):
        predicate |= {
            "riskLevel": spec.risk_level.value,
            "validUntil": _wire_time(spec.valid_until),
            "specHash": spec.content_hash(),
        }
    else:
        predicate |= {
            "decision": spec.decision.value,
            "justification": spec.justification,
            "validUntil": _wire_time(spec.valid_until),
            "riskAssessment": {"name": spec.risk_assessment_ref, "specHash": assessment_hash},
        }
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": f"{namespace}/{ref.name}", "digest": {"sha256": ref.spec_hash}}],
        "predicateType": PREDICATES[kind],
        "predicate": predicate,
    }


def _canonical(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def sign(payload: Mapping[str, Any], key: PrivateKey, keyid: str) -> Envelope:
    """A DSSE envelope over `payload` (a Statement), signed by `key`."""
    body = _canonical(payload)
    message = pae(PAYLOAD_TYPE, body)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        sig = key.sign(message)
    else:
        sig = key.sign(message, ec.ECDSA(hashes.SHA256()))
    return Envelope(
        payload_type=PAYLOAD_TYPE,
        payload=base64.b64encode(body).decode(),
        signatures=[EnvelopeSignature(keyid=keyid, sig=base64.b64encode(sig).decode())],
    )


def _verifies(key: PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
        else:
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError(f"{what} is not valid base64") from exc


def _issued_at(payload: Mapping[str, Any], now: dt.datetime) -> dt.datetime:
    predicate = payload.get("predicate")
    raw = predicate.get("issuedAt") if isinstance(predicate, Mapping) else None
    try:
        moment = dt.datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise SignatureError("the signed statement has no valid predicate.issuedAt (RFC 3339)")
    if moment > now + CLOCK_SKEW:
        raise SignatureError(f"the signed statement is issued in the future ({raw})")
    return moment


def _differences(signed: Any, expected: Any, path: str = "") -> list[str]:
    if isinstance(signed, Mapping) and isinstance(expected, Mapping):
        keys = sorted(set(signed) | set(expected))
        return [
            d for k in keys for d in _differences(signed.get(k), expected.get(k), f"{path}.{k}")
        ]
    return [] if signed == expected else [path.lstrip(".") or "<statement>"]


def verify(
    obj: RiskAssessment | ModelApproval,
    namespace: str,
    signers: Iterable[Signer],
    now: dt.datetime,
    assessment_hash: str | None = None,
) -> Verified:
    """Check `obj.spec.signature` against the trusted signers; raise SignatureError saying why.

    Accepted only if a signature verifies with a trusted key (its keyid is a hint, every key
    is tried), the Statement is exactly the one `statement()` builds for this object, and the
    key may perform this kind's duty.
    """
    envelope = obj.spec.signature
    if envelope is None:
        raise SignatureError("no spec.signature")
    if envelope.payload_type != PAYLOAD_TYPE:
        raise SignatureError(f"payloadType must be {PAYLOAD_TYPE}, got {envelope.payload_type!r}")
    body = _b64(envelope.payload, "spec.signature.payload")
    message = pae(envelope.payload_type, body)
    trusted = list(signers)
    signer = None
    for entry in envelope.signatures:
        sig = _b64(entry.sig, "spec.signature.signatures[].sig")
        hinted = sorted(trusted, key=lambda s: s.name != entry.keyid)
        signer = next((s for s in hinted if _verifies(s.key, sig, message)), None)
        if signer is not None:
            break
    if signer is None:
        raise SignatureError(
            "no TrustedSigner's key verifies the signature (unknown key, or the envelope "
            "was altered after signing)"
        )
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise SignatureError("the signed payload is not JSON") from exc
    if not isinstance(payload, Mapping):
        raise SignatureError("the signed payload is not an in-toto Statement")
    issued = _issued_at(payload, now)
    kind = type(obj).KIND
    expected = statement(kind, namespace, obj.metadata.name, obj.spec, issued, assessment_hash)
    differ = _differences(payload, expected)
    if differ:
        raise SignatureError(
            f"the signed statement does not match this {kind} ({', '.join(differ)} differ): "
            "sign the object as it is applied"
        )
    duty = DUTY_OF[kind]
    if duty not in signer.duties:
        allowed = ", ".join(sorted(d.value for d in signer.duties))
        raise SignatureError(
            f"TrustedSigner {signer.name!r} ({signer.identity}) may not {duty.value} "
            f"(its duties: {allowed})"
        )
    return Verified(signer=signer, issued_at=issued)
