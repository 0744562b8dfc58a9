"""RFC 6962 Merkle tree hashes (section 2.1), computed incrementally.

Leaf hash: SHA-256(0x00 || leaf); interior node: SHA-256(0x01 || left || right); the root
of n leaves splits them at the largest power of two below n. The log's leaves are the
32-byte record hashes, so a checkpoint's root commits to every record up to its size, and
its size to where the log ended when it was signed (a truncation shows).

`CompactRange` keeps one subtree root per set bit of the size (at most 64 hashes), so an
append costs O(log n) hashes amortised and the root O(log n), however long the log grows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root of the empty tree (RFC 6962: the hash of the empty string)."""


def leaf_hash(leaf: bytes) -> bytes:
    """SHA-256(0x00 || leaf)."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


@dataclass
class CompactRange:
    """The roots of the perfect subtrees that make up a tree of `size` leaves, left first."""

    size: int = 0
    roots: list[bytes] = field(default_factory=list)

    def append(self, leaf: bytes) -> None:
        """Add one leaf (its data, not its hash)."""
        node = leaf_hash(leaf)
        size = self.size
        # Each trailing 1 bit of the old size is a perfect subtree the new node completes.
        while size & 1:
            node = node_hash(self.roots.pop(), node)
            size >>= 1
        self.roots.append(node)
        self.size += 1

    def root(self) -> bytes:
        """The RFC 6962 root of the leaves appended so far."""
        if not self.roots:
            return EMPTY_ROOT
        node = self.roots[-1]
        for left in reversed(self.roots[:-1]):
            node = node_hash(left, node)
        return node


def root_of(leaves: Iterable[bytes]) -> bytes:
    """The root of a whole list of leaves (tests, verification)."""
    compact = CompactRange()
    for leaf in leaves:
        compact.append(leaf)
    return compact.root()
