"""RFC 6962 trees: roots, inclusion and consistency proofs, checked against the definitions."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from keys.merkle import (
    EMPTY_ROOT,
    CheckpointError,
    MerkleTree,
    checkpoint_statement,
    leaf_hash,
    node_hash,
    parse_checkpoint,
    root_of,
    verify_consistency,
    verify_inclusion,
)

MAX = 20
LEAVES = [leaf_hash(f"entry {i}".encode()) for i in range(MAX + 1)]


def mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 6962 §2.1 writes it."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) as RFC 6962 §2.1.1 writes it."""
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) as RFC 6962 §2.1.2 writes it."""
    n = len(leaves)
    if m == n:
        return [] if whole else [mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*subproof(m, leaves[:k], whole), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def test_hashes_are_domain_separated() -> None:
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    left, right = b"a" * 32, b"b" * 32
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    assert EMPTY_ROOT == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("size", range(MAX + 1))
def test_root_matches_the_recursive_definition(size: int) -> None:
    tree = MerkleTree(LEAVES[:size])
    assert tree.root() == mth(LEAVES[:size])
    assert root_of(LEAVES[:size]) == mth(LEAVES[:size])
    big = MerkleTree(LEAVES)
    assert big.root(size) == mth(LEAVES[:size])


def test_known_root_of_rfc6962_shape() -> None:
    # Three leaves: node(node(a, b), c), not node(a, node(b, c)).
    a, b, c = LEAVES[:3]
    assert MerkleTree([a, b, c]).root() == node_hash(node_hash(a, b), c)


def every_inclusion_proof() -> Iterator[tuple[int, int, list[bytes], bytes]]:
    """(size, index, proof, root) for every leaf of every tree of 1 to MAX of LEAVES."""
    tree = MerkleTree(LEAVES)
    for size in range(1, MAX + 1):
        root = tree.root(size)
        for index in range(size):
            yield size, index, tree.inclusion_proof(index, size), root


def test_every_inclusion_proof_verifies() -> None:
    for size, index, proof, root in every_inclusion_proof():
        assert proof == path(index, LEAVES[:size])
        assert verify_inclusion(LEAVES[index], index, size, proof, root)


def test_altered_inclusion_proofs_fail() -> None:
    for size, index, proof, root in every_inclusion_proof():
        other = LEAVES[(index + 1) % (MAX + 1)]
        assert not verify_inclusion(other, index, size, proof, root)
        assert not verify_inclusion(LEAVES[index], index, size, proof, EMPTY_ROOT)
        assert not verify_inclusion(LEAVES[index], index, size, [*proof, root], root)
        assert not verify_inclusion(LEAVES[index], size, size, proof, root)
        for at in range(len(proof)):
            changed = list(proof)
            changed[at] = bytes([changed[at][0] ^ 1]) + changed[at][1:]
            assert not verify_inclusion(LEAVES[index], index, size, changed, root)
            assert not verify_inclusion(
                LEAVES[index], index, size, proof[:at] + proof[at + 1 :], root
            )


def test_every_consistency_proof_verifies() -> None:
    tree = MerkleTree(LEAVES)
    for new in range(MAX + 1):
        for old in range(new + 1):
            proof = tree.consistency_proof(old, new)
            expected = [] if old in (0, new) else subproof(old, LEAVES[:new], True)
            assert proof == expected
            assert verify_consistency(old, new, tree.root(old), tree.root(new), proof)


def test_altered_consistency_proofs_fail() -> None:
    tree = MerkleTree(LEAVES)
    for new in range(2, MAX + 1):
        for old in range(1, new):
            old_root, new_root = tree.root(old), tree.root(new)
            proof = tree.consistency_proof(old, new)
            assert not verify_consistency(old, new, new_root, new_root, proof)
            assert not verify_consistency(old, new, old_root, old_root, proof)
            assert not verify_consistency(old, new, old_root, new_root, [])
            assert not verify_consistency(old, new, old_root, new_root, [*proof, old_root])
            for at in range(len(proof)):
                changed = list(proof)
                changed[at] = bytes([changed[at][0] ^ 1]) + changed[at][1:]
                assert not verify_consistency(old, new, old_root, new_root, changed)


def test_a_changed_leaf_breaks_consistency_with_the_old_head() -> None:
    tree = MerkleTree(LEAVES)
    forged = MerkleTree([LEAVES[0], leaf_hash(b"forged"), *LEAVES[2:]])
    proof = forged.consistency_proof(5, MAX)
    assert not verify_consistency(5, MAX, tree.root(5), forged.root(MAX), proof)


def test_appending_keeps_earlier_heads() -> None:
    tree = MerkleTree()
    heads = []
    for leaf in LEAVES:
        tree.append(leaf)
        heads.append(tree.root())
    assert heads == [mth(LEAVES[: i + 1]) for i in range(MAX + 1)]


def test_sizes_outside_the_tree_are_refused() -> None:
    tree = MerkleTree(LEAVES[:4])
    with pytest.raises(ValueError, match="outside"):
        tree.root(5)
    with pytest.raises(ValueError, match="not in a tree"):
        tree.inclusion_proof(4, 4)
    with pytest.raises(ValueError, match="consistent"):
        tree.consistency_proof(3, 2)
    with pytest.raises(ValueError, match="32 bytes"):
        tree.append(b"short")


def test_checkpoint_statement_round_trips_and_is_strict() -> None:
    root = mth(LEAVES[:7])
    statement = checkpoint_statement(7, root, "2024-05-01T10:00:00Z")
    assert parse_checkpoint(statement) == (7, root, "2024-05-01T10:00:00Z")
    for bad in (
        b"not json",
        b"[]",
        statement.replace(b'"size":7', b'"size":-1'),
        statement.replace(b'"size":7', b'"size":true'),
        statement.replace(root.hex().encode(), root.hex().upper().encode()),
        statement.replace(b"}", b',"extra":1}'),
        statement.replace(b"/v1", b"/v2"),
        statement.replace(b",", b", "),
    ):
        with pytest.raises(CheckpointError):
            parse_checkpoint(bad)
