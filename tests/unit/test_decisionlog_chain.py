"""The decision log's pure parts: canonical form, hash chain, RFC 6962 roots, signed notes."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from aigov.admission.outcome import Outcome
from aigov.admission.request import AdmissionRequest, UserInfo
from aigov.api.constants import Mode, Reason
from aigov.api.models import HistoryEntry
from aigov.decisionlog import checkpoint as cp
from aigov.decisionlog import events, merkle
from aigov.decisionlog.chain import Chain
from aigov.decisionlog.controls import BY_REASON, controls_for
from aigov.decisionlog.record import GENESIS, admission_fields, canonical, record_hash
from aigov.policy.decision import Decision, Violation

# RFC 6962 reference tree (certificate-transparency's merkle tests): leaves and the root of
# the first n leaves for n = 0..8.
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

# golang.org/x/mod/sumdb/note's reference note: a signer key (seed), its verifier key, a
# text and the exact signature line Go produces (Ed25519 signatures are deterministic).
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIG = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)


def _go_key() -> Ed25519PrivateKey:
    seed = base64.b64decode(GO_SKEY.split("+", 4)[4])[1:]
    return Ed25519PrivateKey.from_private_bytes(seed)


@pytest.mark.parametrize("size", range(9))
def test_merkle_root_matches_the_rfc6962_reference_tree(size: int) -> None:
    assert merkle.root_of(CT_LEAVES[:size]).hex() == CT_ROOTS[size]


def _recursive_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1 as written: split at the largest power of two below n."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return merkle.leaf_hash(leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return merkle.node_hash(_recursive_root(leaves[:k]), _recursive_root(leaves[k:]))


def test_incremental_root_equals_the_recursive_definition_at_every_size() -> None:
    leaves = [hashlib.sha256(str(i).encode()).digest() for i in range(70)]
    compact = merkle.CompactRange()
    for n, leaf in enumerate(leaves, start=1):
        compact.append(leaf)
        assert compact.root() == _recursive_root(leaves[:n]), n
    assert len(compact.roots) == bin(70).count("1")


def test_canonical_form_is_sorted_compact_utf8_without_the_hash() -> None:
    record = {"b": 1, "a": {"z": "ü", "y": [True, None]}, "hash": "ignored"}
    assert canonical(record) == '{"a":{"y":[true,null],"z":"ü"},"b":1}'.encode()
    assert record_hash(record) == hashlib.sha256(canonical(record)).hexdigest()
    # Key order of the input does not matter; the hash field does not count.
    assert record_hash({"a": {"y": [True, None], "z": "ü"}, "b": 1}) == record_hash(record)


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "a": '\u00fc\x00\x1f\x7f"\\\n\t\u2028\U0001f600', "z": [True, None, -5]},
        {"\u00e9": 1, "e": 2, "Z": {"y": [], "x": {}}},
        {"n": 2**53, "s": "", "l": [[], [{}]]},
    ],
)
def test_canonical_form_is_the_documented_json_dumps_call(value: dict[str, object]) -> None:
    documented = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical(value) == documented.encode()


def test_chain_links_each_record_to_the_one_before() -> None:
    chain = Chain("aigov.io/decision-log/r1/20261202T170000Z")
    lines = [chain.append({"type": "t", "n": i}, f"2026-12-02T17:00:0{i}Z") for i in range(3)]
    records = [json.loads(text) for text in lines]
    assert [r["seq"] for r in records] == [1, 2, 3]
    assert records[0]["prevHash"] == GENESIS
    for before, after in itertools.pairwise(records):
        assert after["prevHash"] == before["hash"]
    for record, text in zip(records, lines, strict=True):
        assert record["hash"] == record_hash(record)
        # The line is the canonical form with the hash added: re-encoding changes nothing.
        assert json.dumps(record, sort_keys=True, separators=(",", ":")) == text
    leaves = [bytes.fromhex(r["hash"]) for r in records]
    assert chain.tree.root() == merkle.root_of(leaves)


def test_signed_note_matches_go_sumdb_note_byte_for_byte() -> None:
    key = _go_key()
    assert cp.verifier_key("PeterNeumann", key.public_key()) == GO_VKEY
    signature = cp.key_hash("PeterNeumann", key.public_key()) + key.sign(GO_TEXT.encode())
    assert base64.b64encode(signature).decode() == GO_SIG
    note = f"{GO_TEXT}\n\u2014 PeterNeumann {GO_SIG}\n"
    text, signatures = cp.parse_note(note)
    assert text == GO_TEXT
    assert cp.verify_note(text, signatures, cp.VerifierKey.parse(GO_VKEY))
    assert not cp.verify_note(text.upper(), signatures, cp.VerifierKey.parse(GO_VKEY))


def test_checkpoint_is_a_tlog_checkpoint_that_verifies_and_detects_edits() -> None:
    key = Ed25519PrivateKey.generate()
    root = merkle.root_of(CT_LEAVES)
    signed = cp.sign("aigov.io/decision-log/r1/x", 8, root, "aigov.io/decision-log", key)
    lines = signed.note.split("\n")
    assert lines[:4] == ["aigov.io/decision-log/r1/x", "8", base64.b64encode(root).decode(), ""]
    assert lines[4].startswith("\u2014 aigov.io/decision-log ")
    vkey = cp.VerifierKey.parse(cp.verifier_key("aigov.io/decision-log", key.public_key()))
    parsed = cp.parse(signed.note)
    assert (parsed.origin, parsed.size, parsed.root) == (signed.origin, 8, root)
    assert cp.verify(parsed, vkey)
    assert not cp.verify(cp.parse(signed.note.replace("\n8\n", "\n9\n")), vkey)
    other = cp.VerifierKey("aigov.io/decision-log", Ed25519PrivateKey.generate().public_key())
    assert not cp.verify(parsed, other)


@pytest.mark.parametrize(
    ("note", "message"),
    [
        ("origin\n1\nAAAA\n", "no blank line"),
        ("origin\nten\n" + "A" * 44 + "\n\n\u2014 k AAAAAAAA\n", "not a decimal"),
        ("origin\n1\nAAAA\n\n\u2014 k AAAAAAAA\n", "not 32"),
        ("origin\n1\n" + base64.b64encode(b"x" * 32).decode() + "\n\n", "no signature"),
        ("origin\n1\n" + base64.b64encode(b"x" * 32).decode() + "\n\n- k AAAA\n", "em dash"),
    ],
)
def test_malformed_checkpoints_are_refused_with_the_reason(note: str, message: str) -> None:
    with pytest.raises(cp.CheckpointError, match=message):
        cp.parse(note)


def test_verifier_key_with_a_wrong_hash_is_refused() -> None:
    with pytest.raises(cp.CheckpointError, match="key hash does not match"):
        cp.VerifierKey.parse(GO_VKEY.replace("c74f20a3", "c74f20a4"))


def _request(**kw: object) -> AdmissionRequest:
    base: dict[str, object] = {
        "uid": "u-1",
        "operation": "CREATE",
        "group": "apps",
        "version": "v1",
        "resource": "deployments",
        "kind": "Deployment",
        "namespace": "risk",
        "name": "scorer",
        "user": UserInfo("alice", ("ml-engineers", "system:authenticated")),
        "object": {
            "spec": {"template": {"spec": {"containers": [{"env": [{"value": "s3cr3t"}]}]}}}
        },
    }
    base.update(kw)
    return AdmissionRequest(**base)  # type: ignore[arg-type]


def test_admission_record_holds_who_what_outcome_reasons_and_controls_but_no_body() -> None:
    violation = Violation(Reason.NOT_APPROVED, "no approval", "metadata.labels")
    outcome = Outcome(Decision([violation]), Mode.ENFORCE, "refused", model="fraud-scorer")
    fields = admission_fields(outcome, _request(dry_run=True), "validate-workloads", "ab" * 32)
    assert fields["outcome"] == "refused"
    assert fields["dryRun"] is True
    assert fields["user"] == "alice"
    assert fields["groups"] == ["ml-engineers", "system:authenticated"]
    assert fields["object"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "namespace": "risk",
        "name": "scorer",
    }
    assert fields["reasons"] == [{"code": "NotApproved", "path": "metadata.labels"}]
    assert fields["specHash"] == "ab" * 32
    assert {"A.6.2.8", "Art.12", *BY_REASON["NotApproved"]} <= set(fields["controls"])
    assert "s3cr3t" not in json.dumps(fields)


@pytest.mark.parametrize(
    ("mode", "violations", "word"),
    [
        (Mode.ENFORCE, True, "refused"),
        (Mode.WARN, True, "warned"),
        (Mode.AUDIT, True, "recorded"),
        (Mode.ENFORCE, False, "admitted"),
        (None, False, "admitted"),
    ],
)
def test_outcome_words(mode: Mode | None, violations: bool, word: str) -> None:
    found = [Violation(Reason.UNGOVERNED_WORKLOAD, "m", "spec")] if violations else []
    fields = admission_fields(Outcome(Decision(found), mode), _request(), "validate-workloads")
    assert fields["outcome"] == word


def test_controls_are_listed_once_every_record_ones_first() -> None:
    ids = controls_for("validate-workloads", ["LineageIncomplete", "LineageIncomplete"])
    assert ids[:2] == ["A.6.2.8", "Art.12"]
    assert ids.count("A.7.5") == 1
    assert "Art.10" in ids


def test_new_history_entries_follow_the_last_recorded_one() -> None:
    def entry(n: int) -> HistoryEntry:
        return HistoryEntry.model_validate({"time": f"2026-12-02T17:00:{n:02d}Z", "event": f"E{n}"})

    old = [entry(1), entry(2)]
    assert events.added(old, [*old, entry(3), entry(4)]) == [entry(3), entry(4)]
    assert events.added([], old) == old
    assert events.added(old, old) == []
    # The cap dropped the oldest: still only what is new.
    assert events.added(old, [entry(2), entry(3)]) == [entry(3)]


def test_only_the_newest_logs_are_kept_in_the_configmap() -> None:
    keys = [
        f"2026120{d}T000000Z.r{suffix}" for d in range(1, 5) for suffix in (".checkpoint", ".vkey")
    ]
    assert events.stale_entries(keys, keep=2) == sorted(keys[:4])
    assert events.stale_entries(keys, keep=10) == []


def test_verifier_key_whose_base64_holds_a_plus_is_read() -> None:
    # transparency-dev/formats note tests: a key whose base64 contains '+'.
    key = cp.VerifierKey.parse("TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6")
    assert key.name == "TEST"
    assert cp.verifier_key("TEST", key.public).endswith(
        "AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"
    )
