"""`peerlex-server audit`: sign a checkpoint of the audit log now, or verify the whole log."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import click
from flask import Flask

from server.db import db_session
from server.services.audit.checkpoints import AuditLogCorrupt, make_checkpoint, signed_checkpoint
from server.services.audit.verify import HeldCheckpoint, log_summary, verify_audit_log


def read_held_checkpoint(path: Path) -> HeldCheckpoint:
    """A checkpoint kept by a client: `GET /api/v1/audit/checkpoint`'s answer, or a bundle's
    `audit/checkpoint.json` (with `checkpoint.sig` beside it when there is one)."""
    raw = path.read_bytes()
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise click.BadParameter(f"{path} is not JSON", param_hint="--checkpoint") from exc
    if isinstance(data, dict) and isinstance(data.get("statement"), str):
        signature = data.get("signature")
        return HeldCheckpoint(
            str(path), data["statement"].encode(), signature if isinstance(signature, str) else None
        )
    beside = path.with_suffix(".sig")
    return HeldCheckpoint(str(path), raw, beside.read_text() if beside.is_file() else None)


def register(main: click.Group, app_for: Callable[[click.Context], Flask]) -> None:
    """Add the `audit` group to the peerlex-server command line."""

    @main.group("audit")
    def audit_group() -> None:
        """Checkpoint and verify the audit log."""

    @audit_group.command("checkpoint")
    @click.pass_context
    def checkpoint(ctx: click.Context) -> None:
        """Sign a checkpoint (tree size, root hash, time) of the audit log as it is now."""
        app = app_for(ctx)
        with app.app_context():
            session = db_session()
            try:
                made = make_checkpoint(session)
            except AuditLogCorrupt as exc:
                raise click.ClickException(
                    f"the audit log does not verify ({exc}); run `peerlex-server audit verify`"
                ) from exc
            session.commit()
            payload = asdict(signed_checkpoint(made))
        click.echo(json.dumps(payload, indent=2, sort_keys=True))

    @audit_group.command("verify")
    @click.option(
        "--checkpoint",
        "held",
        multiple=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="A checkpoint fetched earlier (JSON); catches a log cut short. Repeatable.",
    )
    @click.pass_context
    def verify(ctx: click.Context, held: tuple[Path, ...]) -> None:
        """Recompute the tree from every entry and check every checkpoint against it."""
        kept = [read_held_checkpoint(path) for path in held]
        app = app_for(ctx)
        with app.app_context():
            problems = verify_audit_log(kept)
            entries, checkpoints = log_summary()
        for problem in problems:
            click.echo(problem)
        if problems:
            raise click.ClickException(f"the audit log does not verify: {len(problems)} problem(s)")
        click.echo(
            f"audit log ok: {entries} entries, {checkpoints} stored and {len(kept)} held "
            "checkpoint(s) match"
        )
