"""RFC 6962 Merkle tree hashes, inclusion and consistency proofs, and the audit checkpoint.

The tree, the proofs and the checkpoint statement are described in docs/audit.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from keys.statements import canonical_json

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()
# The audit log's signer: a key-store entry for this reserved code, and its SSHSIG namespace.
DEPLOYMENT_PARTY = "PEERLEX"
CHECKPOINT_FORMAT = "peerlex-audit-checkpoint/v1"
CHECKPOINT_FIELDS = frozenset({"format", "size", "root", "time"})


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the hash of one leaf (RFC 6962 §2.1)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node (RFC 6962 §2.1)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def entry_leaf_hash(fields: Mapping[str, Any]) -> bytes:
    """The leaf hash of an audit entry: its fields as canonical JSON."""
    return leaf_hash(canonical_json(dict(fields)))


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1): where RFC 6962 splits a tree of n."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """An append-only list of leaf hashes with every complete subtree's hash kept.

    A subtree in an RFC 6962 tree starts at a multiple of a power of two at least its size, so
    it is a run of complete ("perfect") subtrees of falling sizes; keeping those makes any
    subtree hash cost O(log n), and building the whole tree O(n).
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        for leaf in leaf_hashes:
            self.append(leaf)

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash at the end."""
        if len(leaf) != 32:
            raise ValueError("a leaf hash is 32 bytes")
        self._levels[0].append(leaf)
        level = 0
        while len(self._levels[level]) % 2 == 0:
            below = self._levels[level]
            if level + 1 == len(self._levels):
                self._levels.append([])
            self._levels[level + 1].append(node_hash(below[-2], below[-1]))
            level += 1

    def leaf(self, index: int) -> bytes:
        return self._levels[0][index]

    def _subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a subtree of the RFC 6962 shape."""
        pieces = []
        position = start
        while position < end:
            height = (end - position).bit_length() - 1
            pieces.append(self._levels[height][position >> height])
            position += 1 << height
        if not pieces:
            return EMPTY_ROOT
        result = pieces[-1]
        for piece in reversed(pieces[:-1]):
            result = node_hash(piece, result)
        return result

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ValueError(f"tree size {size} is outside 0..{self.size}")

    def root(self, size: int | None = None) -> bytes:
        """The tree head of the first `size` leaves (all of them by default)."""
        size = self.size if size is None else size
        self._check_size(size)
        return self._subtree(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[0:size]) of RFC 6962 §2.1.1, nearest the leaf first."""
        size = self.size if size is None else size
        self._check_size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf {index} is not in a tree of {size}")
        path = []
        start, end = 0, size
        while end - start > 1:
            middle = start + _split(end - start)
            if index < middle:
                path.append(self._subtree(middle, end))
                end = middle
            else:
                path.append(self._subtree(start, middle))
                start = middle
        path.reverse()
        return path

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """PROOF(old_size, D[0:new_size]) of RFC 6962 §2.1.2; empty when either is trivial."""
        new_size = self.size if new_size is None else new_size
        self._check_size(new_size)
        if not 0 <= old_size <= new_size:
            raise ValueError(f"cannot prove {old_size} consistent with {new_size}")
        if old_size in (0, new_size):
            return []
        proof = []
        start, end, old, whole = 0, new_size, old_size, True
        while old != end - start:
            k = _split(end - start)
            if old <= k:
                proof.append(self._subtree(start + k, end))
                end = start + k
            else:
                proof.append(self._subtree(start, start + k))
                start, old, whole = start + k, old - k, False
        if not whole:
            proof.append(self._subtree(start, end))
        proof.reverse()
        return proof


def root_of(leaf_hashes: Iterable[bytes]) -> bytes:
    """The tree head of a list of leaf hashes."""
    return MerkleTree(leaf_hashes).root()


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether proof shows the leaf hash at index in the tree of size with this root.

    The algorithm of RFC 9162 §2.1.3.2, which checks RFC 6962 audit paths.
    """
    if not 0 <= index < size:
        return False
    fn, sn, result = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and result == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether proof shows the tree of old_size is a prefix of the tree of new_size.

    The algorithm of RFC 9162 §2.1.4.2, which checks RFC 6962 consistency proofs.
    """
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    first = second = path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            first, second = node_hash(node, first), node_hash(node, second)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            second = node_hash(second, node)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and first == old_root and second == new_root


class CheckpointError(ValueError):
    """A checkpoint statement that is not in the expected form."""


def checkpoint_statement(size: int, root: bytes, time: str) -> bytes:
    """The bytes a checkpoint signs: canonical JSON of format, size, root (hex) and time."""
    return canonical_json(
        {"format": CHECKPOINT_FORMAT, "size": size, "root": root.hex(), "time": time}
    )


def parse_checkpoint(statement: bytes) -> tuple[int, bytes, str]:
    """(size, root, time) from a checkpoint statement; strict about its form."""
    try:
        data = json.loads(statement)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError("a checkpoint is not JSON") from exc
    if not isinstance(data, dict) or set(data) != CHECKPOINT_FIELDS:
        raise CheckpointError(f"a checkpoint has exactly the fields {sorted(CHECKPOINT_FIELDS)}")
    size, root, time = data["size"], data["root"], data["time"]
    if data["format"] != CHECKPOINT_FORMAT:
        raise CheckpointError(f"not a {CHECKPOINT_FORMAT} statement")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise CheckpointError("a checkpoint's size is a whole number")
    if not isinstance(root, str) or len(root) != 64:
        raise CheckpointError("a checkpoint's root is 64 hex digits")
    try:
        root_bytes = bytes.fromhex(root)
    except ValueError as exc:
        raise CheckpointError("a checkpoint's root is 64 hex digits") from exc
    if not isinstance(time, str):
        raise CheckpointError("a checkpoint's time is a string")
    if checkpoint_statement(size, root_bytes, time) != statement:
        raise CheckpointError("a checkpoint statement is not in canonical form")
    return size, root_bytes, time
