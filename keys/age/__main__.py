"""Command line for the age format, compatible with the `age` tool for the common cases."""

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from keys.age import (
    AgeError,
    decrypt,
    encrypt,
    generate_x25519_identity,
    identity_string,
    parse_identity_file,
    parse_recipient,
    parse_recipients_file,
    recipient_string,
)
from keys.files import replaced_whole

_PROG = "python -m keys.age"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Encrypt to age X25519 recipients, decrypt with identities, or make a key.",
        epilog=f"'{_PROG} keygen [-o FILE]' is the same as -k.",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("-e", "--encrypt", action="store_true", help="encrypt (the default)")
    mode.add_argument("-d", "--decrypt", action="store_true", help="decrypt")
    mode.add_argument("-k", "--keygen", action="store_true", help="print a new identity")
    parser.add_argument(
        "-r",
        "--recipient",
        action="append",
        default=[],
        metavar="RECIPIENT",
        help="encrypt to this age1... recipient (repeatable)",
    )
    parser.add_argument(
        "-R",
        "--recipients-file",
        action="append",
        default=[],
        metavar="PATH",
        help="encrypt to the recipients listed in PATH (repeatable)",
    )
    parser.add_argument(
        "-i",
        "--identity",
        action="append",
        default=[],
        metavar="PATH",
        help="decrypt with the identities in PATH (repeatable)",
    )
    parser.add_argument("-o", "--output", metavar="OUTPUT", help="write here, not to stdout")
    parser.add_argument("input", nargs="?", default="-", help="input file (default stdin)")
    return parser


@contextlib.contextmanager
def _output(path: str | None, mode: int = 0o666) -> Iterator[BinaryIO]:
    """Yield the output stream; a file appears under its name only once all is written.

    Writing to a temporary file and renaming it means a decryption that fails
    part way leaves no partial plaintext behind under the requested name.
    """
    if path is None or path == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    target = Path(path)
    # Like the age tool: the output is not fsynced, and its mode follows the umask.
    with replaced_whole(target, mode=mode & ~_umask(), durable=False) as stream:
        yield stream


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@contextlib.contextmanager
def _input(path: str) -> Iterator[BinaryIO]:
    if path == "-":
        yield sys.stdin.buffer
        return
    with open(path, "rb") as stream:
        yield stream


def _keygen(output: str | None) -> None:
    identity = generate_x25519_identity()
    public = recipient_string(identity.public_key())
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = f"# created: {created}\n# public key: {public}\n{identity_string(identity)}\n"
    with _output(output, 0o600) as stream:
        stream.write(text.encode("ascii"))
    if output not in (None, "-") or not sys.stdout.isatty():
        print(f"Public key: {public}", file=sys.stderr)


def _read_text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    return Path(path).read_text(encoding="utf-8")


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if args.keygen:
        if args.recipient or args.recipients_file or args.identity or args.input != "-":
            parser.error("-k takes only -o")
        _keygen(args.output)
        return
    if args.decrypt:
        if args.recipient or args.recipients_file:
            parser.error("-r and -R are for encryption; -d takes -i")
        if not args.identity:
            parser.error("-d needs at least one -i IDENTITY_FILE")
        identities = [
            key for path in args.identity for key in parse_identity_file(_read_text(path))
        ]
        with _input(args.input) as src, _output(args.output) as dst:
            decrypt(src, dst, identities)
        return
    if args.identity:
        parser.error("-i is for decryption; use -d")
    recipients = [parse_recipient(text) for text in args.recipient]
    for path in args.recipients_file:
        recipients.extend(parse_recipients_file(_read_text(path)))
    if not recipients:
        parser.error("encryption needs at least one -r RECIPIENT or -R RECIPIENTS_FILE")
    if args.output in (None, "-") and sys.stdout.isatty():
        parser.error("refusing to write binary ciphertext to a terminal; use -o")
    with _input(args.input) as src, _output(args.output) as dst:
        encrypt(src, dst, recipients)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["keygen"]:
        arguments[0] = "-k"
    parser = _parser()
    args = parser.parse_args(arguments)
    try:
        _run(args, parser)
    except (AgeError, OSError) as error:
        print(f"{_PROG}: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
