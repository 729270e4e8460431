"""Transfer progress bars: shown on a terminal once a transfer outlasts the delay, else never."""

from __future__ import annotations

import io
import sys

import pytest

from clients.cli import transfer as cli


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_bar_for_a_quick_transfer(monkeypatch: pytest.MonkeyPatch) -> None:
    err = _Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    with cli.TransferProgress("uploading") as progress:
        progress(100, 200)
        progress(100, 200)
    assert progress.bar is None
    assert err.getvalue() == ""


def test_bar_once_the_transfer_is_slow(monkeypatch: pytest.MonkeyPatch) -> None:
    err = _Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(cli, "PROGRESS_DELAY", 0.0)
    with cli.TransferProgress("uploading annex.pdf") as progress:
        progress(100, 200)
        progress(100, 200)
    assert progress.bar is not None
    assert "uploading annex.pdf" in err.getvalue()
    assert "100%" in err.getvalue()


def test_no_bar_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    monkeypatch.setattr(cli, "PROGRESS_DELAY", 0.0)
    with cli.TransferProgress("downloading") as progress:
        progress(10, 10)
    assert progress.bar is None
