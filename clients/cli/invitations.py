"""`peerlex invite` and `peerlex invitations`: invite a person to a party and role by a
one-time link, list the pending invitations, revoke one."""

from __future__ import annotations

import click

from clients.cli.app import State, main, pass_state
from clients.cli.output import Reply, json_reply, say, table
from clients.models import Invitation

ROLES = ("expert", "head", "organiser", "observer")


@main.command()
@click.argument("email")
@click.option("--party", required=True, help="The party, e.g. KGZ.")
@click.option("--role", type=click.Choice(ROLES), required=True)
@json_reply
@pass_state
def invite(state: State, email: str, party: str, role: str) -> Reply:
    """Invite EMAIL to a party and role; prints the one-time link to pass on (7 days)."""
    made = state.client().invite(email, party, role)

    def show() -> None:
        say(
            f"invitation {made['id']}: {made['email']} to {made['party']} as {made['role']}, "
            f"valid until {made['expires_at']}"
        )
        say("pass this link on by your own channel; it is shown only now:")
        say(made.get("url", ""))
        if made.get("mailed"):
            say(f"the link was also mailed to {made['email']}")

    return Reply(made, show)


def _print(found: list[Invitation]) -> None:
    if not found:
        say("no pending invitations")
        return
    rows = [["id", "email", "party", "role", "invited by", "valid until"]]
    for item in found:
        rows.append(
            [
                str(item["id"]),
                item["email"],
                item["party"],
                item["role"],
                item["invited_by"] or "-",
                item["expires_at"],
            ]
        )
    table(rows)


@main.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON, for scripts.")
@click.pass_context
def invitations(ctx: click.Context, as_json: bool) -> None:
    """The pending invitations you see (also `invitations list`); `invitations revoke ID`."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_invitations, as_json=as_json)


@invitations.command("list")
@json_reply
@pass_state
def list_invitations(state: State) -> Reply:
    """The pending invitations you see: all for an administrator, else the ones you made."""
    found = state.client().invitations()
    return Reply(found, lambda: _print(found))


@invitations.command("revoke")
@click.argument("invitation_id", type=click.IntRange(min=1, max=2**31 - 1))
@json_reply
@pass_state
def revoke(state: State, invitation_id: int) -> Reply:
    """Revoke an unused invitation: its link stops working at once."""
    done = state.client().revoke_invitation(invitation_id)
    return Reply(done, lambda: say(f"revoked invitation {done['id']} for {done['email']}"))
