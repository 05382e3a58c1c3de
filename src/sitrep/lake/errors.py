"""What the lake refuses, as facts (importable without DuckDB, so the CLI can catch it cheaply)."""

from __future__ import annotations


class LakeError(Exception):
    """The lake folder is not as Sitrep keeps it (a stray or linked file where its own should be);
    the message names the path and what to do."""
