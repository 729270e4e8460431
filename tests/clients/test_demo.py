"""`peerlex-server demo` seeds an empty data directory once, and refuses a used one; it says how
each account that must hold a second factor enrols one."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from server.cli import main as server_main
from server.config import Config
from server.demo import USERS, DemoRefused, seed_demo

ENROLS = "  peerlex login --email {} && peerlex mfa enrol"


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


def test_demo_command_says_how_heads_organisers_and_the_admin_enrol(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        server_main,
        ["--data", str(tmp_path / "data"), "demo"],
        env={"PEERLEX_REQUIRE_MFA": "roles", "PEERLEX_SCRYPT_N": "1024"},
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "with PEERLEX_REQUIRE_MFA=roles, these accounts must enrol" in result.output
    must = [email for email, _party, role, _ in USERS if role in ("head", "organiser", "admin")]
    assert len(must) == 6
    assert [line for line in lines if line.endswith("peerlex mfa enrol")] == [
        ENROLS.format(email) for email in must
    ]
    assert "on the web pages, signing in as one of them leads through the same enrolment" in (
        result.output
    )


@pytest.mark.parametrize(("require_mfa", "enrolling"), [("all", len(USERS)), ("none", 0)])
def test_demo_names_who_must_enrol_under_each_setting(
    tmp_path: Path, require_mfa: str, enrolling: int
) -> None:
    config = Config(data_dir=tmp_path / "data", scrypt_n=2**10, require_mfa=require_mfa)
    lines = seed_demo(config, "a demo password").lines()
    assert [line for line in lines if line.endswith("peerlex mfa enrol")] == [
        ENROLS.format(email) for email, _party, _role, _ in USERS
    ][:enrolling]
    assert any("PEERLEX_REQUIRE_MFA=" in line for line in lines) == bool(enrolling)
