"""A file replaced whole: the new content after the block, the old one after any failure."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from keys.files import replaced_whole


def test_the_new_content_replaces_the_old_in_one_piece(tmp_path: Path) -> None:
    target = tmp_path / "keys.json"
    target.write_bytes(b"old")
    with replaced_whole(target) as handle:
        handle.write(b"new, ")
        # Until the block ends, readers still see the old content.
        assert target.read_bytes() == b"old"
        handle.write(b"whole")
    assert target.read_bytes() == b"new, whole"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["keys.json"]


def test_a_failure_leaves_the_old_content_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "bundle.tar"
    target.write_bytes(b"old")

    def write_half() -> None:
        with replaced_whole(target) as handle:
            handle.write(b"half of it")
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_half()
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["bundle.tar"]


def test_the_mode_is_the_one_asked_for(tmp_path: Path) -> None:
    target = tmp_path / "output.age"
    with replaced_whole(target, mode=0o640, durable=False) as handle:
        handle.write(b"x")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
