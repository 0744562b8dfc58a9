"""`aigov sign`: sign RiskAssessments and ModelApprovals offline, for GitOps repositories.

The signature is a DSSE envelope written into the manifest's `spec.signature`; the
statement inside is the one the admission webhook rebuilds (aigov.policy.signing), so a
manifest signed here and applied unchanged by any service account verifies. `keygen` makes
an Ed25519 or ECDSA P-256 key pair and the TrustedSigner a platform admin applies.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from aigov.api.base import InvalidResource
from aigov.api.constants import API_VERSION
from aigov.api.models import ModelApproval, RiskAssessment
from aigov.api.signer import Duty
from aigov.cli.manifests import ManifestError, read
from aigov.policy.signing import BadKeyError, PrivateKey, load_private_key, sign, statement

PASSWORD_ENV = "AIGOV_KEY_PASSWORD"  # noqa: S105 - the variable's name, not a password
"""Environment variable holding the private key's password, if it has one."""


class SignInputError(Exception):
    """A file, key or manifest `aigov sign` cannot use; the message says which and why."""


def register(commands: Any) -> None:
    """Add `aigov sign` and its subcommands."""
    top = commands.add_parser("sign", help="sign assessments and approvals; make signing keys")
    sub = top.add_subparsers(dest="what", metavar="WHAT", required=True)
    for kind in ("assessment", "approval"):
        cmd = sub.add_parser(kind, help=f"sign a {kind} manifest (writes spec.signature)")
        cmd.add_argument("-f", "--filename", required=True, help="the manifest to sign")
        cmd.add_argument("--key", required=True, help="PEM private key (PKCS#8)")
        cmd.add_argument("--keyid", required=True, help="your TrustedSigner's name")
        cmd.add_argument("-n", "--namespace", help="namespace, if the manifest names none")
        cmd.add_argument("-o", "--output", help="write here instead of standard output")
        if kind == "approval":
            cmd.add_argument(
                "--assessment",
                help="the RiskAssessment manifest the approval relies on (to bind its content)",
            )
        cmd.set_defaults(handler=_sign)
    keygen = sub.add_parser("keygen", help="make a key pair and its TrustedSigner manifest")
    keygen.add_argument("--out", required=True, help="path prefix: PREFIX.key, PREFIX.pub")
    keygen.add_argument("--identity", required=True, help="the person's Kubernetes user name")
    keygen.add_argument(
        "--duties", default="approve", help="comma-separated: assess, approve (default approve)"
    )
    keygen.add_argument("--type", choices=["ed25519", "ecdsa-p256"], default="ed25519")
    keygen.set_defaults(handler=_keygen)


def _load_yaml(path: str) -> dict[str, Any]:
    try:
        documents = read([path])
    except ManifestError as exc:
        raise SignInputError(str(exc)) from exc
    if len(documents) != 1:
        raise SignInputError(f"{path} must hold exactly one object, it holds {len(documents)}")
    return dict(documents[0].body)


def _load_key(path: str) -> PrivateKey:
    password = os.environ.get(PASSWORD_ENV)
    try:
        return load_private_key(Path(path).read_bytes(), password.encode() if password else None)
    except OSError as exc:
        raise SignInputError(f"cannot read key {path}: {exc.strerror}") from exc
    except BadKeyError as exc:
        raise SignInputError(f"{path}: {exc}") from exc


def _parse(doc: dict[str, Any], path: str) -> RiskAssessment | ModelApproval:
    kinds: dict[str, type[RiskAssessment] | type[ModelApproval]] = {
        "RiskAssessment": RiskAssessment,
        "ModelApproval": ModelApproval,
    }
    parser = kinds.get(str(doc.get("kind")))
    if parser is None or doc.get("apiVersion") != API_VERSION:
        raise SignInputError(
            f"{path}: expected an {API_VERSION} RiskAssessment or ModelApproval, got "
            f"{doc.get('apiVersion')} {doc.get('kind')}"
        )
    unsigned = {**doc, "spec": {**(doc.get("spec") or {}), "signature": None}}
    try:
        return parser.from_body(unsigned)
    except InvalidResource as exc:
        raise SignInputError(f"{path}: {exc}") from exc


def _sign(args: argparse.Namespace) -> int:
    doc = _load_yaml(args.filename)
    obj = _parse(doc, args.filename)
    wanted = "RiskAssessment" if args.what == "assessment" else "ModelApproval"
    if wanted != type(obj).KIND:
        raise SignInputError(f"{args.filename} is a {type(obj).KIND}, not a {wanted}")
    namespace = obj.metadata.namespace or args.namespace
    if not namespace or not obj.metadata.name:
        raise SignInputError(f"{args.filename}: give metadata.name and a namespace to sign")
    assessment_hash = None
    if isinstance(obj, ModelApproval) and obj.spec.risk_assessment_ref:
        if not getattr(args, "assessment", None):
            raise SignInputError("an approval binds its assessment: pass --assessment FILE")
        ra = _parse(_load_yaml(args.assessment), args.assessment)
        if not isinstance(ra, RiskAssessment) or ra.metadata.name != obj.spec.risk_assessment_ref:
            raise SignInputError(
                f"{args.assessment} is not RiskAssessment {obj.spec.risk_assessment_ref!r}"
            )
        assessment_hash = ra.spec.content_hash()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    payload = statement(wanted, namespace, obj.metadata.name, obj.spec, now, assessment_hash)
    envelope = sign(payload, _load_key(args.key), args.keyid)
    doc.setdefault("spec", {})["signature"] = envelope.to_k8s()
    text = yaml.safe_dump(doc, sort_keys=False)
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def _keygen(args: argparse.Namespace) -> int:
    try:
        duties = sorted({Duty(d.strip()) for d in args.duties.split(",") if d.strip()})
    except ValueError as exc:
        raise SignInputError(f"--duties: use assess and/or approve ({exc})") from exc
    key: PrivateKey = (
        ed25519.Ed25519PrivateKey.generate()
        if args.type == "ed25519"
        else ec.generate_private_key(ec.SECP256R1())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key_path, pub_path = Path(f"{args.out}.key"), Path(f"{args.out}.pub")
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private)
    pub_path.write_bytes(public)
    name = Path(args.out).name
    signer = {
        "apiVersion": API_VERSION,
        "kind": "TrustedSigner",
        "metadata": {"name": name},
        "spec": {
            "identity": args.identity,
            "publicKey": public.decode(),
            "duties": [d.value for d in duties],
        },
    }
    sys.stdout.write(yaml.safe_dump(signer, sort_keys=False))
    print(f"# private key: {key_path} (keep it secret), public key: {pub_path}", file=sys.stderr)
    return 0
