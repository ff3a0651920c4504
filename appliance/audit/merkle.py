"""The Merkle tree of RFC 6962 (section 2.1), with the proof checks of
RFC 9162 (sections 2.1.3.2 and 2.1.4.2).

Leaves and interior nodes are hashed with different one-byte prefixes
(0x00 and 0x01), so a leaf can never be passed off as an interior node. A
tree of ``n`` leaves splits at ``k``, the largest power of two below ``n``.

``Frontier`` keeps the roots of the perfect subtrees that cover the leaves
appended so far: enough to append the next leaf and to compute the root in
O(log n) memory. ``Tree`` keeps every level of a finished list of leaf hashes
and produces inclusion and consistency proofs from it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(size: int) -> int:
    """Return the largest power of two strictly below ``size`` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


class Frontier:
    """The roots of the perfect subtrees covering leaves [0, size), from the
    largest (leftmost) to the smallest; one per set bit of ``size``."""

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != bin(size).count("1"):
            raise ValueError(
                f"a frontier of size {size} has {bin(size).count('1')} hashes, "
                f"not {len(hashes)}"
            )
        self.size = size
        self.hashes = list(hashes)

    def copy(self) -> Frontier:
        return Frontier(self.size, self.hashes)

    def append(self, leaf: bytes) -> None:
        """Append a leaf hash (already prefixed and hashed)."""
        node = leaf
        size = self.size
        # Each trailing one bit of the old size is a perfect subtree of the
        # same height as the node being carried; merge them right to left.
        while size & 1:
            node = node_hash(self.hashes.pop(), node)
            size >>= 1
        self.hashes.append(node)
        self.size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        root = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            root = node_hash(left, root)
        return root

    def to_bytes(self) -> bytes:
        return b"".join(self.hashes)

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> Frontier:
        if len(data) % HASH_SIZE:
            raise ValueError("frontier bytes are not a whole number of hashes")
        hashes = [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]
        return cls(size, hashes)


def root_of(leaves: Sequence[bytes]) -> bytes:
    frontier = Frontier()
    frontier.extend(leaves)
    return frontier.root()


class Tree:
    """Every level of the tree over ``leaves`` (leaf hashes), for proofs.

    Level ``h`` holds the roots of the aligned perfect subtrees of 2**h
    leaves; the subtree roots that RFC 6962's recursion needs are either one
    of those or are built from them along the right edge.
    """

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.size = len(leaves)
        self.levels: list[Sequence[bytes]] = [leaves]
        level = leaves
        while len(level) > 1:
            level = [
                node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)
            ]
            self.levels.append(level)

    def subtree_root(self, start: int, end: int) -> bytes:
        """Return MTH(D[start:end]) for a range that RFC 6962's recursion
        produces: ``start`` is a multiple of a power of two >= end - start."""
        count = end - start
        if count == 0:
            return EMPTY_ROOT
        height = count.bit_length() - 1
        if count == 1 << height:
            return self.levels[height][start >> height]
        k = split_point(count)
        return node_hash(
            self.subtree_root(start, start + k), self.subtree_root(start + k, end)
        )

    def root(self, size: int | None = None) -> bytes:
        return self.subtree_root(0, self.size if size is None else size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Return PATH(index, D[0:size]) of RFC 6962, leaf end first."""
        size = self.size if size is None else size
        if not 0 <= index < size <= self.size:
            raise ValueError(f"no leaf {index} in a tree of {size}")
        path: list[bytes] = []
        start, end = 0, size
        # Walk down from the root, collecting the sibling subtrees; the RFC
        # lists them from the leaf upwards, so the result is reversed.
        while end - start > 1:
            k = split_point(end - start)
            if index - start < k:
                path.append(self.subtree_root(start + k, end))
                end = start + k
            else:
                path.append(self.subtree_root(start, start + k))
                start += k
        path.reverse()
        return path

    def consistency_proof(
        self, old_size: int, new_size: int | None = None
    ) -> list[bytes]:
        """Return PROOF(old_size, D[0:new_size]) of RFC 6962."""
        new_size = self.size if new_size is None else new_size
        if not 0 <= old_size <= new_size <= self.size:
            raise ValueError(f"no consistency proof from {old_size} to {new_size}")
        if old_size in (0, new_size):
            return []
        return self._subproof(old_size, 0, new_size, True)

    def _subproof(self, m: int, start: int, end: int, complete: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if complete else [self.subtree_root(start, end)]
        k = split_point(n)
        if m <= k:
            proof = self._subproof(m, start, start + k, complete)
            proof.append(self.subtree_root(start + k, end))
        else:
            proof = self._subproof(m - k, start + k, end, False)
            proof.append(self.subtree_root(start, start + k))
        return proof


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Check an inclusion proof (RFC 9162, 2.1.3.2). Every element is used
    exactly once: a proof with an element too many or too few fails."""
    if not 0 <= index < size:
        return False
    if any(len(element) != HASH_SIZE for element in proof):
        return False
    fn, sn = index, size - 1
    result = leaf
    for element in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            result = node_hash(element, result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, element)
        fn >>= 1
        sn >>= 1
    return sn == 0 and result == root


def verify_consistency(
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: Sequence[bytes],
) -> bool:
    """Check a consistency proof (RFC 9162, 2.1.4.2), using every element."""
    if old_size < 0 or old_size > new_size:
        return False
    if any(len(element) != HASH_SIZE for element in proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    first = second = path[0]
    for element in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            first = node_hash(element, first)
            second = node_hash(element, second)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            second = node_hash(second, element)
        fn >>= 1
        sn >>= 1
    return sn == 0 and first == old_root and second == new_root
