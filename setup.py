"""Build the one compiled module of peerlex; everything else is declared in pyproject.toml."""

from glob import glob

from setuptools import Extension, setup

setup(
    ext_modules=[
        # The diff's per-block loops (repo_store/diff/_speedups.c, docs/decisions.md).
        Extension(
            "repo_store.diff._speedups",
            sorted(glob("repo_store/diff/_speedups*.c")),
            depends=["repo_store/diff/_speedups.h"],
            extra_compile_args=["-Wall", "-Wextra", "-Wno-unused-parameter"],
        )
    ]
)
