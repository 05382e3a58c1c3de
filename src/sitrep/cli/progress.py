"""The progress bar of commands that ingest files (``sitrep ingest``, ``sitrep collect``): one bar for
the file being ingested, drawn on a terminal only, gone when the command ends."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from sitrep.cli.common import console


class FileProgress:
    """Draws one bar per file from DuckDB's own progress of the running pass."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("", total=100)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start_file(self, name: str) -> None:
        self._halt()
        self.progress.reset(self.task, total=100, description=f"{name}: starting")

    def stage(self, name: str, done: Callable[[], float]) -> None:
        self._halt()
        description = self.progress.tasks[self.task].description.split(":")[0]
        self.progress.update(self.task, description=f"{description}: {name}", completed=0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, args=(done, self._stop), daemon=True)
        self._thread.start()

    def _poll(self, done: Callable[[], float], stop: threading.Event) -> None:
        while not stop.wait(0.2):
            if (percent := done()) >= 0:
                self.progress.update(self.task, completed=percent)

    def _halt(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
            self._thread = None

    def finish(self) -> None:
        self._halt()


@contextmanager
def file_progress(show: bool) -> Iterator[FileProgress]:
    """A reporter for ``ingest_paths`` drawing the bar on stderr when ``show`` (nothing otherwise)."""
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not show) as progress:
        reporter = FileProgress(progress)
        try:
            yield reporter
        finally:
            reporter.finish()
