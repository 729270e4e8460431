"""README.txt inside a final bundle: how to verify it with standard tools, command by command."""

from __future__ import annotations

from keys.protocol import principal

README = """\
peerlex final bundle: {review}
{underline}

This archive is the signed record of what the delegations agreed in the review "{review}".
Everything in it can be checked offline, years from now, with standard tools only:
OpenSSH (ssh-keygen), coreutils (sha256sum), git and age. No peerlex software is needed.

Contents
--------
  manifest.json            what was agreed: parties, documents (party, slug, commit, sha256),
                           approvals, attachments (canonical JSON)
  SHA256SUMS               the sha256 of every other file
  SHA256SUMS.sig           the organiser's ({organiser}) SSH signature of SHA256SUMS
  allowed_signers          the public keys of every signer
  approvals/P/S.json       each State's approval statement of its document S
  approvals/P/S.sig        the State's SSH signature of that statement
  repos/P.git/             State P's approved commits, their trees and blobs: a shallow bare
                           git repository (its refs: refs/peerlex/approved/S)
  documents/P/S.md         the approved text of each document
  attachments/P/S/*.age    attachments, encrypted to the organisations' offline age keys
  audit/checkpoint.json    the server's audit log checkpoint (size, Merkle root, time)
  audit/checkpoint.sig     its signature by the deployment key

0. Check the keys
-----------------
The keys in allowed_signers must be the parties' real keys. Compare their fingerprints with
those the delegations read out or published:

    ssh-keygen -lf allowed_signers     # one line per key; compare the SHA256:... values

(ssh-keygen prints the first key only for some versions; `cut -d' ' -f3- allowed_signers`
shows every key.) Keep an allowed_signers file you trust (the parties' published keys) and use
it below instead of the one in this archive if you can. Each key is listed with the namespaces
it signs in (a State's: git and peerlex-approval; an organisation's: git and peerlex-bundle;
the deployment's: peerlex-audit) and the time it was valid: ssh-keygen and git refuse it
elsewhere.

1. The organiser's signature over the checksums
------------------------------------------------
    cd {review}
    ssh-keygen -Y verify -f allowed_signers -I {organiser_principal} -n peerlex-bundle \\
        -s SHA256SUMS.sig < SHA256SUMS

2. Every file against the checksums
-----------------------------------
    sha256sum -c SHA256SUMS
    # and nothing more is in the archive than SHA256SUMS lists (besides the two SHA256SUMS files):
    find . -type f ! -name 'SHA256SUMS*' | sed 's|^\\./||' | sort | diff - <(cut -c67- SHA256SUMS)

3. Each State's approval
------------------------
For each approvals/P/S.json (P a State code such as BLR; principal p@parties.peerlex in lower
case):

    ssh-keygen -Y verify -f allowed_signers -I blr@parties.peerlex -n peerlex-approval \\
        -s approvals/BLR/S.sig < approvals/BLR/S.json

The statement names the review, the State, the document, the approved commit and the time.

4. Every approved commit and its signature
-------------------------------------------
repos/BLR.git is a bare git repository holding only the approved commits (listed in its
`shallow` file, so their parents are not needed), their trees and their blobs. Git reads a
repository's config, which can name programs to run: first check that it is exactly

    [core]
    {tab}repositoryformatversion = 0
    {tab}bare = true

(`cat -A repos/BLR.git/config` shows each tab as ^I), then, still in {review}/:

    git --git-dir=repos/BLR.git fsck --strict
    git -c core.hooksPath=/dev/null -c gpg.ssh.program=ssh-keygen \\
        -c gpg.ssh.allowedSignersFile="$PWD/allowed_signers" \\
        --git-dir=repos/BLR.git verify-commit <commit from manifest.json>
    git --git-dir=repos/BLR.git show <commit>:documents/S.md | cmp - documents/BLR/S.md

Every commit is signed by its State (namespace "git"): verify-commit must say
Good "git" signature for blr@parties.peerlex. Its refs (refs/peerlex/approved/S) name the same
commits as manifest.json and the approvals.

5. Attachments
--------------
Each attachment is encrypted to the offline age keys of the organisations. With the
organisation's identity file (kept offline):

    age -d -i organisation-identity.txt -o annex.pdf attachments/BLR/S/<file>.age
    sha256sum annex.pdf      # compare with the plaintext size in manifest.json

6. The audit checkpoint
----------------------
    ssh-keygen -Y verify -f allowed_signers -I peerlex@parties.peerlex -n peerlex-audit \\
        -s audit/checkpoint.sig < audit/checkpoint.json

Keep the checkpoint: `peerlex-server audit verify --checkpoint checkpoint.json` on the server
proves later that its audit log still contains, unchanged, everything it had logged by then.

Any changed byte in any file makes one of these steps fail.
"""


def readme_text(review: str, organiser: str) -> str:
    return README.format(
        review=review,
        underline="=" * (len("peerlex final bundle: ") + len(review)),
        organiser=organiser,
        tab="\t",  # the config's lines are indented with a tab, as git writes them
        organiser_principal=principal(organiser),
    )
