"""The state of one log: its origin, the next sequence number, the last hash, the Merkle
tree so far. Appending turns a record's fields into the line to write."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from aigov.decisionlog import checkpoint
from aigov.decisionlog.controls import controls_for
from aigov.decisionlog.merkle import CompactRange
from aigov.decisionlog.record import GENESIS, line, record_hash

CHECKPOINT = "checkpoint"
"""`type` of the record that carries a signed checkpoint of the records before it."""


@dataclass
class Chain:
    """One replica's append-only log. Not thread-safe: one event loop appends."""

    origin: str
    seq: int = 0
    """Sequence number of the last record appended (0: none yet)."""
    last_hash: str = GENESIS
    tree: CompactRange = field(default_factory=CompactRange)

    def append(self, fields: dict[str, Any], time: str) -> str:
        """Seal `fields` as the next record at `time` (RFC 3339); return its log line.

        `fields` is taken over (the chain adds log, seq, time, prevHash and hash to it).
        """
        fields["log"] = self.origin
        fields["seq"] = self.seq + 1
        fields["time"] = time
        fields["prevHash"] = self.last_hash
        digest = record_hash(fields)
        fields["hash"] = digest
        self.seq += 1
        self.last_hash = digest
        self.tree.append(bytes.fromhex(digest))
        return line(fields)

    def checkpoint(self, name: str, key: Ed25519PrivateKey) -> checkpoint.Checkpoint:
        """A signed checkpoint of every record appended so far."""
        return checkpoint.sign(self.origin, self.tree.size, self.tree.root(), name, key)


def checkpoint_fields(signed: checkpoint.Checkpoint) -> dict[str, Any]:
    """A record carrying a checkpoint in the log itself: a log file or a collector's copy
    can then be checked against every checkpoint it holds, not only the latest one kept in
    the cluster, and a rewrite is bounded between two of them."""
    return {
        "type": CHECKPOINT,
        "outcome": "signed",
        "checkpoint": signed.note,
        "controls": controls_for(),
    }
