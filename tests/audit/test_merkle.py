"""The RFC 6962 tree: roots, proofs and the checks of RFC 9162, against a
direct transcription of the RFC's recursive definitions."""

from __future__ import annotations

import hashlib

import pytest

from appliance.audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    Tree,
    leaf_hash,
    node_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [leaf_hash(f"entry {i}".encode()) for i in range(70)]


def mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) of RFC 6962, section 2.1, over leaf hashes."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def test_leaf_and_node_hashes_use_distinct_prefixes():
    data = b"x" * 64
    assert leaf_hash(data) == hashlib.sha256(b"\x00" + data).digest()
    assert node_hash(data[:32], data[32:]) == hashlib.sha256(b"\x01" + data).digest()
    assert leaf_hash(data) != node_hash(data[:32], data[32:])


@pytest.mark.parametrize("size", range(71))
def test_frontier_root_matches_rfc_definition(size):
    assert root_of(LEAVES[:size]) == mth(LEAVES[:size])


def test_empty_tree_root_is_hash_of_nothing():
    assert Frontier().root() == EMPTY_ROOT == hashlib.sha256(b"").digest()


def test_frontier_round_trips_through_bytes():
    frontier = Frontier()
    frontier.extend(LEAVES[:37])
    again = Frontier.from_bytes(37, frontier.to_bytes())
    assert again.root() == frontier.root()
    again.append(LEAVES[37])
    assert again.root() == mth(LEAVES[:38])


def test_frontier_rejects_wrong_hash_count():
    with pytest.raises(ValueError):
        Frontier(5, [LEAVES[0]])


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 32, 33, 70])
def test_inclusion_proofs_verify_for_every_leaf(size):
    tree = Tree(LEAVES[:size])
    root = mth(LEAVES[:size])
    for index in range(size):
        proof = tree.inclusion_proof(index)
        assert verify_inclusion(LEAVES[index], index, size, proof, root), index


@pytest.mark.parametrize("new_size", [1, 2, 3, 7, 8, 9, 16, 31, 70])
def test_consistency_proofs_verify_for_every_old_size(new_size):
    tree = Tree(LEAVES[:new_size])
    for old_size in range(new_size + 1):
        proof = tree.consistency_proof(old_size, new_size)
        assert verify_consistency(
            old_size, new_size, mth(LEAVES[:old_size]), mth(LEAVES[:new_size]), proof
        ), old_size


def test_tree_roots_of_prefixes_match_rfc_definition():
    tree = Tree(LEAVES)
    for size in range(1, len(LEAVES) + 1):
        assert tree.root(size) == mth(LEAVES[:size])


def test_inclusion_rejects_index_outside_tree():
    tree = Tree(LEAVES[:8])
    proof = tree.inclusion_proof(3)
    assert not verify_inclusion(LEAVES[3], 8, 8, proof, tree.root())
    assert not verify_inclusion(LEAVES[3], -1, 8, proof, tree.root())


def test_inclusion_rejects_other_leaf_or_position():
    tree = Tree(LEAVES[:20])
    proof = tree.inclusion_proof(6)
    assert not verify_inclusion(LEAVES[7], 6, 20, proof, tree.root())
    assert not verify_inclusion(LEAVES[6], 7, 20, proof, tree.root())


def test_consistency_rejects_wrong_roots():
    tree = Tree(LEAVES[:20])
    proof = tree.consistency_proof(7, 20)
    old, new = tree.root(7), tree.root(20)
    assert verify_consistency(7, 20, old, new, proof)
    assert not verify_consistency(7, 20, tree.root(8), new, proof)
    assert not verify_consistency(7, 20, old, tree.root(19), proof)
    assert not verify_consistency(8, 20, old, new, proof)


def test_consistency_of_equal_sizes_needs_equal_roots_and_no_proof():
    root = mth(LEAVES[:5])
    assert verify_consistency(5, 5, root, root, [])
    assert not verify_consistency(5, 5, root, mth(LEAVES[:6]), [])
    assert not verify_consistency(5, 5, root, root, [root])
