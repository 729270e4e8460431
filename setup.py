"""Build the one compiled module of peerlex; everything else is declared in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        # The loop of the block parser (repo_store/diff/blocks.py, docs/decisions.md).
        Extension(
            "repo_store.diff._speedups",
            ["repo_store/diff/_speedups.c"],
            extra_compile_args=["-Wall", "-Wextra", "-Wno-unused-parameter"],
        )
    ]
)
