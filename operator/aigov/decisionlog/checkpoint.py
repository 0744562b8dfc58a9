"""Signed checkpoints: C2SP tlog-checkpoint bodies in C2SP signed-note envelopes, Ed25519.

Body (https://c2sp.org/tlog-checkpoint): the origin line (names the log: aigov's replica and
run), the tree size in decimal, the base64 RFC 6962 root hash, each ending in a newline.
Note (https://c2sp.org/signed-note): the body, a blank line, then one signature line per
signer: an em dash, a space, the key name, a space, and base64 of the 4-byte key hash
followed by the 64-byte Ed25519 signature of the body. Key hash: the first 4 bytes of
SHA-256(key name || 0x0A || 0x01 || 32-byte public key). A verifier key is written the
signed-note way, `<name>+<hex key hash>+<base64(0x01 || public key)>`.

Pure: keys are passed in; nothing here reads files or the clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01
"""The signed-note signature type of Ed25519."""

_DASH = "\u2014 "


class CheckpointError(ValueError):
    """A checkpoint or key that cannot be read; says what is wrong with it."""


@dataclass(frozen=True)
class Checkpoint:
    """A parsed signed checkpoint: what it claims and the signatures it carries."""

    origin: str
    size: int
    root: bytes
    text: str
    """The signed body, exactly as signed."""
    signatures: tuple[tuple[str, bytes], ...]
    """(key name, 4-byte key hash || signature) per signature line."""

    @property
    def note(self) -> str:
        """The whole note again: body, blank line, signature lines."""
        lines = "".join(
            f"{_DASH}{name} {base64.b64encode(sig).decode()}\n" for name, sig in self.signatures
        )
        return f"{self.text}\n{lines}"


def _check_name(name: str) -> None:
    if not name or any(c.isspace() for c in name) or "+" in name:
        raise CheckpointError(f"key name {name!r} must be non-empty, without spaces or '+'")


def key_hash(name: str, public: Ed25519PublicKey) -> bytes:
    """The 4-byte key hash of a signed-note Ed25519 key."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + raw).digest()[:4]


def verifier_key(name: str, public: Ed25519PublicKey) -> str:
    """`<name>+<hex key hash>+<base64(0x01 || public key)>`: what a verifier is given."""
    _check_name(name)
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    encoded = base64.b64encode(bytes([ED25519]) + raw).decode()
    return f"{name}+{key_hash(name, public).hex()}+{encoded}"


@dataclass(frozen=True)
class VerifierKey:
    """A key name and Ed25519 public key a checkpoint's signature must match."""

    name: str
    public: Ed25519PublicKey

    @classmethod
    def parse(cls, text: str, name: str = "") -> VerifierKey:
        """A signed-note verifier key, or a PEM Ed25519 public key (then named `name`)."""
        text = text.strip()
        if text.startswith("-----BEGIN"):
            try:
                public = serialization.load_pem_public_key(text.encode())
            except ValueError as exc:
                raise CheckpointError(f"not a PEM public key: {exc}") from exc
            if not isinstance(public, Ed25519PublicKey):
                raise CheckpointError("the PEM key is not an Ed25519 public key")
            return cls(name, public)
        parts = text.split("+", 2)  # the base64 key may itself contain '+'
        if len(parts) != 3:
            raise CheckpointError("a verifier key reads <name>+<hex key hash>+<base64 key>")
        vname, hex_hash, encoded = parts
        _check_name(vname)
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise CheckpointError(f"verifier key {vname!r}: the key is not base64") from exc
        if len(raw) != 33 or raw[0] != ED25519:
            raise CheckpointError(f"verifier key {vname!r}: not an Ed25519 key (0x01 + 32 bytes)")
        public = Ed25519PublicKey.from_public_bytes(raw[1:])
        if key_hash(vname, public).hex() != hex_hash.lower():
            raise CheckpointError(f"verifier key {vname!r}: key hash does not match the key")
        return cls(vname, public)


def body(origin: str, size: int, root: bytes) -> str:
    """The checkpoint body: origin, size, base64 root, each line ending in a newline."""
    if not origin or "\n" in origin:
        raise CheckpointError("the origin must be one non-empty line")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def sign(origin: str, size: int, root: bytes, name: str, key: Ed25519PrivateKey) -> Checkpoint:
    """A checkpoint of `size` records with root `root`, signed by `key` named `name`."""
    _check_name(name)
    text = body(origin, size, root)
    signature = key_hash(name, key.public_key()) + key.sign(text.encode())
    return Checkpoint(origin, size, root, text, ((name, signature),))


def parse_note(note: str) -> tuple[str, tuple[tuple[str, bytes], ...]]:
    """A signed note's text (with its final newline) and its signature lines."""
    text, sep, sigs = note.partition("\n\n")
    if not sep:
        raise CheckpointError("no blank line between the checkpoint and its signatures")
    signatures = []
    for sig_line in sigs.splitlines():
        if not sig_line:
            continue
        if not sig_line.startswith(_DASH):
            raise CheckpointError(f"signature line {sig_line!r} does not start with an em dash")
        name, _, encoded = sig_line[len(_DASH) :].rpartition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise CheckpointError(f"signature of {name!r} is not base64") from exc
        if len(raw) < 5:
            raise CheckpointError(f"signature of {name!r} is too short")
        signatures.append((name, raw))
    if not signatures:
        raise CheckpointError("the checkpoint carries no signature")
    return text + "\n", tuple(signatures)


def parse(note: str) -> Checkpoint:
    """Read a signed checkpoint note; CheckpointError says which part is malformed."""
    text, signatures = parse_note(note)
    lines = text.split("\n")
    if len(lines) < 4:
        raise CheckpointError("a checkpoint has an origin, a size and a root hash line")
    origin, size_line, root_line = lines[:3]
    if not origin:
        raise CheckpointError("the origin line is empty")
    if not size_line.isdigit() or (size_line.startswith("0") and size_line != "0"):
        raise CheckpointError(f"tree size {size_line!r} is not a decimal number")
    try:
        root = base64.b64decode(root_line, validate=True)
    except binascii.Error as exc:
        raise CheckpointError(f"root hash {root_line!r} is not base64") from exc
    if len(root) != 32:
        raise CheckpointError(f"root hash has {len(root)} bytes, not 32")
    return Checkpoint(origin, int(size_line), root, text, signatures)


def verify_note(text: str, signatures: Iterable[tuple[str, bytes]], key: VerifierKey) -> bool:
    """Whether `key` signed `text`: a signature line with its name and key hash verifies."""
    wanted = key_hash(key.name, key.public)
    for name, raw in signatures:
        if name != key.name or raw[:4] != wanted:
            continue
        try:
            key.public.verify(raw[4:], text.encode())
        except InvalidSignature:
            return False
        return True
    return False


def verify(checkpoint: Checkpoint, key: VerifierKey) -> bool:
    """Whether `key` signed the checkpoint."""
    return verify_note(checkpoint.text, checkpoint.signatures, key)
