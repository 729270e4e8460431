"""`peerlex mfa` commands: enrol an authenticator app, list and remove second factors; and the
fresh code that approving and building a bundle ask for (step-up)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from clients.cli.app import State, main, pass_state
from clients.cli.exits import STEP_UP_REQUIRED
from clients.cli.output import Reply, json_reply, say, table
from clients.cli.sessions import read_code
from clients.client import Client
from clients.errors import Forbidden

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def code_option(command: F) -> F:
    """--code: a fresh code given up front, for acts that may ask for one again (step-up)."""
    return click.option(
        "--code",
        help="A code of your authenticator app, in case the server asks for a fresh one "
        "(a sign-in older than 15 minutes); without it, peerlex asks when needed.",
    )(command)


def with_step_up(act: Callable[[str | None], T], code: str | None) -> T:
    """Do act; if the server asks for a fresh code and none was given, ask for it and retry
    once. A code given and refused is not asked for again: the failure says so."""
    try:
        return act(code)
    except Forbidden as exc:
        if exc.kind != STEP_UP_REQUIRED or code is not None:
            raise
    return act(read_code())


@main.group()
def mfa() -> None:
    """Second factors: an authenticator app's codes, and recovery codes."""


def confirm_enrolment(client: Client) -> None:
    """Confirm the authenticator waiting with the code it shows; print the recovery codes."""
    codes = client.confirm_totp(read_code("Code your authenticator app shows now"))
    say("authenticator confirmed: every sign-in now asks for a code after the password")
    say("recovery codes, each usable once in place of a code (shown only now):")
    for code in codes:
        say(f"  {code}")
    say("store them offline (on paper, or in a password manager), not on this machine")


@mfa.command("enrol")
@click.option("--label", default="", help="A name for the authenticator, e.g. 'phone'.")
@click.option(
    "--later",
    is_flag=True,
    help="Only show the secret; confirm with `peerlex mfa confirm` once the app shows codes.",
)
@click.option("-q", "--quiet", is_flag=True, help="With --later, print only the secret.")
@pass_state
def mfa_enrol(state: State, label: str, later: bool, quiet: bool) -> None:
    """Enrol an authenticator app: show its secret, then confirm it with a code it shows.

    The code is read from a prompt, or from the next line of stdin when it is not a terminal.
    """
    client = state.client()
    enrolment = client.enrol_totp(label)
    if quiet and later:
        say(enrolment["secret"])
        return
    say(f"secret (base32, type it into your authenticator app): {enrolment['secret']}")
    say(f"otpauth URI (for a QR code): {enrolment['otpauth_uri']}")
    if later:
        say("confirm it with: peerlex mfa confirm (it asks for a code the app shows)")
        return
    confirm_enrolment(client)


@mfa.command("confirm")
@pass_state
def mfa_confirm(state: State) -> None:
    """Confirm the authenticator enrolled with --later, with a code it shows (stdin or prompt)."""
    confirm_enrolment(state.client())


@mfa.command("list")
@json_reply
@pass_state
def mfa_list(state: State) -> Reply:
    """Your second factors, pending ones too, and how many recovery codes are left."""
    found = state.client().factors()

    def show() -> None:
        table(
            [
                (
                    str(f["id"]),
                    f["kind"],
                    f["label"] or "-",
                    f"confirmed {f['confirmed_at']}" if f["confirmed_at"] else "pending",
                )
                for f in found["factors"]
            ]
        )
        if not found["factors"]:
            say("no second factor; enrol one with: peerlex mfa enrol")
        say(f"{found['recovery_codes_left']} recovery code(s) left")

    return Reply(found, show)


@mfa.command("remove")
@click.argument("factor_id", metavar="ID", type=click.IntRange(min=1))
@click.option("--code", help="A fresh code (any factor's, or a recovery code); else asked for.")
@pass_state
def mfa_remove(state: State, factor_id: int, code: str | None) -> None:
    """Remove one of your second factors (ID as `peerlex mfa list` shows it)."""
    client = state.client()
    client.remove_factor(factor_id, code.strip() if code is not None else read_code())
    say(f"second factor {factor_id} removed")
