"""`peerlex-server demo` seeds an empty data directory once, and refuses a used one."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from server.cli import main as server_main
from server.config import Config
from server.demo import DemoRefused, seed_demo


def test_demo_seeds_a_review_then_refuses_to_seed_again(tmp_path: Path) -> None:
    config = Config(data_dir=tmp_path / "data", scrypt_n=2**10)
    report = seed_demo(config, "a demo password")
    assert (tmp_path / "data" / "master.key").exists()
    assert set(report.versions) == {
        "BLR/export-law",
        "KGZ/control-list",
        "TJK/biosecurity-regulation",
    }
    assert report.comments == 4
    assert "a demo password" in "\n".join(report.lines())
    with pytest.raises(DemoRefused, match="already has 6 parties"):
        seed_demo(config, "a demo password")


def test_demo_command_refuses_a_weak_password(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        server_main, ["--data", str(tmp_path / "d"), "demo", "--password", "x"]
    )
    assert result.exit_code == 2
    assert not (tmp_path / "d").exists()
