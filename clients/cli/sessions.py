"""`peerlex` commands for logging in and out, and for asking who and where one is."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from clients.cli.app import DEFAULT_SERVER, State, main, pass_state
from clients.cli.exits import EXIT_AUTH, EXIT_INVALID, Failure
from clients.cli.output import Reply, json_reply, say
from clients.client import Client
from clients.errors import ApiError, ServerUnavailable, Unauthorized
from clients.models import Token
from clients.profiles import Profile, delete_profile, load_profile, profiles_path, save_profile

# The problem type of a sign-in that needs a second factor's code.
SECOND_FACTOR = "mfa-required"


def read_secret(prompt: str, what: str, hide: bool = True) -> str:
    """From a prompt, or the next line of stdin when it is not a terminal."""
    if sys.stdin.isatty():
        value: str = click.prompt(prompt, hide_input=hide)
        return value
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise Failure(f"no {what} on standard input", EXIT_INVALID)
    return line


def read_code(prompt: str = "Code from your authenticator app, or a recovery code") -> str:
    """A second factor's code: from a prompt, or the next line of stdin."""
    return read_secret(prompt, "code", hide=False).strip()


def read_password() -> str:
    """From a hidden prompt, or the first line of stdin when it is not a terminal."""
    return read_secret("Password", "password")


def _log_in(client: Client, email: str, password: str) -> Token:
    """Log in; when the account has a second factor, ask for its code and try once more."""
    try:
        return client.login(email, password)
    except Unauthorized as exc:
        if exc.kind != SECOND_FACTOR:
            raise Failure("login refused: wrong email or password", EXIT_AUTH) from None
    code = read_code()
    try:
        token = client.login(email, password, code)
    except Unauthorized as exc:
        refusal = "wrong code" if exc.kind == SECOND_FACTOR else "wrong email or password"
        raise Failure(f"login refused: {refusal}", EXIT_AUTH) from None
    left = token.get("recovery_codes_left")
    if left is not None:
        say(f"a recovery code was used; {left} left")
    return token


@main.command()
@click.option(
    "--server",
    envvar="PEERLEX_SERVER",
    default=DEFAULT_SERVER,
    show_default=True,
    help="The server's address (also PEERLEX_SERVER).",
)
@click.option("--email", required=True, help="Your account's email address.")
@click.option(
    "--key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The SSH key you sign with on this machine, saved for push and approve: a private "
    "key file, or a .pub file whose private half ssh-agent holds.",
)
@pass_state
def login(state: State, server: str, email: str, key: Path | None) -> None:
    """Log in and keep an API token; the password (and, for an account with a second factor,
    its code, on the next line) is read from stdin when it is not a terminal."""
    try:
        client = Client(server)
    except ValueError as exc:
        raise Failure(str(exc), EXIT_INVALID) from None
    password = read_password()
    token = _log_in(client, email, password)
    previous = load_profile(state.profile)
    if previous is not None:
        try:  # the token this one replaces is of no more use to anyone
            Client(previous.server, previous.token, timeout=5).logout()
        except ApiError:
            pass
    same_person = previous is not None and previous.email == email.strip().lower()
    signing_key = str(key.resolve()) if key else (previous.key if previous and same_person else "")
    path = save_profile(
        Profile(
            state.profile,
            server,
            email.strip().lower(),
            token["token"],
            token["expires_at"],
            signing_key,
        )
    )
    say(
        f"logged in to {server} as {email} (profile {state.profile}); "
        f"token saved in {path}, valid until {token['expires_at']}"
    )


@main.command()
@click.option(
    "--everywhere",
    is_flag=True,
    help="Also end every other session and token of this user (e.g. after losing a laptop).",
)
@pass_state
def logout(state: State, everywhere: bool) -> None:
    """Revoke the profile's token on the server and forget it."""
    profile = load_profile(state.profile)
    if profile is None:
        say(f"profile {state.profile} was not logged in")
        return
    client = Client(profile.server, profile.token)
    try:
        if everywhere:
            client.logout_everywhere()
        else:
            client.logout()
    except Unauthorized:
        if everywhere:  # without a valid session there is no one to speak for
            raise
        # expired or revoked already: nothing left to revoke
    delete_profile(state.profile)
    what = f"every session of {profile.email} ended" if everywhere else "logged out"
    say(f"{what} (profile {state.profile})")


@main.command()
@json_reply
@pass_state
def whoami(state: State) -> Reply:
    """Who the profile is logged in as, on which server, and in which parties."""
    profile = state.saved()
    me = Client(profile.server, profile.token).me()

    def show() -> None:
        roles = ", ".join(f"{m['role']} of {m['party']}" for m in me["memberships"])
        if me.get("is_admin"):
            roles = ", ".join(filter(None, ["admin", roles]))
        say(f"{me['email']} on {profile.server} (profile {profile.name}): {roles or 'no role'}")

    return Reply({"profile": profile.name, "server": profile.server, **me}, show)


@main.command()
@click.option("--server", envvar="PEERLEX_SERVER", help="Default: the profile's server.")
@click.option("--wait", type=float, default=0.0, help="Keep trying for this many seconds.")
@pass_state
def ping(state: State, server: str | None, wait: float) -> None:
    """Check that the server answers (exit 6 if it does not)."""
    if server is None:
        profile = load_profile(state.profile)
        server = profile.server if profile else DEFAULT_SERVER
    client = Client(server, retries=0, timeout=5)
    deadline = time.monotonic() + wait
    while True:
        try:
            health = client.health()
        except ServerUnavailable:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)
            continue
        say(f"{server}: {health.get('status', 'ok')}")
        return


@main.command("config-path")
def config_path() -> None:
    """Print the file that keeps your logins."""
    say(str(profiles_path()))
