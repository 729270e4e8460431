"""The audit log: every write and denied attempt as a leaf of a Merkle tree with signed heads.

entries appends, checkpoints signs the tree's heads, proofs answers inclusion and consistency
proofs, verify checks the whole log. Formats are in docs/audit.md.
"""

from server.services.audit.entries import record

__all__ = ["record"]
