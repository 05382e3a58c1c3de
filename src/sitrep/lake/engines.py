"""The engines an ingest runs on, by the names of ``[query] engine`` (``sitrep ingest --engine``).

Both run the same per-file pipeline and commit (:mod:`sitrep.lake.ingest`); they differ in where the
files are staged: in this process one after another (DuckDB), or as Spark tasks side by side
(:mod:`sitrep.lake.spark_ingest`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sitrep.config import Workspace
from sitrep.feeds.base import Feed
from sitrep.lake import ingest
from sitrep.lake.ingest import IngestResult, Reporter


def _on_spark(workspace: Workspace, paths: Iterable[Path], **options: Any) -> list[IngestResult]:
    from sitrep.lake import spark_ingest  # Ibis and PySpark are loaded only when Spark is chosen

    return spark_ingest.ingest_paths(workspace, paths, **options)


# By engine name: a function with the arguments and results of ``ingest.ingest_paths``.
INGESTERS: dict[str, Callable[..., list[IngestResult]]] = {"duckdb": ingest.ingest_paths, "spark": _on_spark}


def ingest_paths(
    workspace: Workspace,
    paths: Iterable[Path],
    *,
    feed: Feed | None = None,
    reporter: Reporter | None = None,
    on_result: Callable[[IngestResult], None] | None = None,
    tlp: str | None = None,
) -> list[IngestResult]:
    """Ingest files on the workspace's ``[query] engine`` (``--engine`` sets it for one command): the
    arguments and results of :func:`sitrep.lake.ingest.ingest_paths`."""
    ingester = INGESTERS[workspace.settings.query.engine]
    return ingester(workspace, paths, feed=feed, reporter=reporter, on_result=on_result, tlp=tlp)
