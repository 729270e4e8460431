"""A small real SMTP server on a local port that keeps every message it receives (RFC 5321's
commands, no TLS), for the tests of mailed invitations."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage


@dataclass
class Sink:
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)


class _Session(socketserver.StreamRequestHandler):
    sink: Sink

    def _say(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self._say("220 sink ESMTP")
        while line := self.rfile.readline():
            verb = line.decode("ascii", "replace").strip().split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self._say("250-sink")
                self._say("250 8BITMIME")
            elif verb == "RCPT":
                self.sink.recipients.append(line.decode().strip())
                self._say("250 OK")
            elif verb == "DATA":
                self._say("354 end with .")
                body = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    body += chunk[1:] if chunk.startswith(b"..") else chunk
                parsed = message_from_bytes(body, policy=policy.default)
                assert isinstance(parsed, EmailMessage)
                self.sink.messages.append(parsed)
                self._say("250 queued")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("250 OK")


@contextmanager
def smtp_sink() -> Iterator[Sink]:
    """Serve SMTP on a free local port until the block ends."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Session)
    sink = Sink(server.server_address[1])
    _Session.sink = sink
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
