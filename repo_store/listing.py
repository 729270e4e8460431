"""The files of a commit prepared to be signed elsewhere, so its signer can check its tree."""

from __future__ import annotations

from repo_store.commits import PreparedCommit
from repo_store.documents import git_blob_id
from repo_store.objects import tree_files
from repo_store.store import RepoStore


def tree_listing(store: RepoStore, prepared: PreparedCommit) -> dict[str, str]:
    """Every file of the prepared commit's tree and its blob id, sorted by path.

    With it a signer recomputes the tree id the payload names, without the repository, and
    sees every file the commit would hold.
    """
    party, parent = prepared.party, prepared.parent
    root = bytes.fromhex(store.commit(party, parent).tree) if parent else None
    listing = {path: sha.hex() for path, sha in tree_files(store.reader(party), root).items()}
    listing |= {path: git_blob_id(data).hex() for path, data in prepared.files.items()}
    return dict(sorted(listing.items()))
