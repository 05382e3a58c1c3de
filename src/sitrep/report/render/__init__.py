"""Renderers: the report model formatted as HTML, PDF, Markdown, JSON and a WeChat article.

:func:`write_edition` writes the chosen formats of one edition into a folder, each file atomically.
"""

from __future__ import annotations

import os
import tempfile
from json import dumps  # ``json`` here is this package's JSON edition (render/json.py)
from pathlib import Path

from sitrep.report.errors import OutputError
from sitrep.report.model import Report

FORMATS = ("html", "pdf", "md", "json", "wechat")
SUFFIX = {"html": "html", "pdf": "pdf", "md": "md", "json": "json", "wechat": "wechat.html"}
# The media type each format is served with (the desk's downloads, the public archive).
MEDIA_TYPE = {
    "html": "text/html; charset=utf-8",
    "wechat": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "md": "text/markdown; charset=utf-8",
    "json": "application/json",
}


def file_name(lang: str, fmt: str) -> str:
    """``report.zh.html``, ``report.en.wechat.html``…"""
    return f"report.{lang}.{SUFFIX[fmt]}"


def write_json_file(path: Path, document: object) -> None:
    """Store ``document`` as ``path`` (indented UTF-8 JSON, atomically), never through a symbolic link:
    a workspace's own files (issues, narratives) are plain files, and a link could point anywhere.

    Raises :class:`~sitrep.report.errors.OutputError` when it cannot be written there.
    """
    if path.is_symlink():
        raise OutputError(f"{path}: a symbolic link, not a file of its own (replace it with the file itself)")
    atomic_write(path, dumps(document, ensure_ascii=False, indent=2) + "\n")


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write ``path`` whole or not at all (temporary file in the same folder, then rename).

    Raises :class:`~sitrep.report.errors.OutputError` when it cannot be written there.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except (FileExistsError, NotADirectoryError):
        blocking = next((p for p in [path.parent, *path.parent.parents] if p.exists() and not p.is_dir()), None)
        raise OutputError(f"cannot write {path}: {blocking or path.parent} is not a folder") from None
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    if path.is_dir():
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: a folder of that name is in the way")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates 0600 files; a report is for reading: give it the usual mode under the umask.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_edition(report: Report, formats: list[str], out: Path) -> list[Path]:
    """Render ``report`` in each of ``formats`` into ``out``; returns the files written.

    Each chart is drawn once, for the HTML, the PDF and the Markdown files (SVG with real text) and,
    laid out again on the same figure, for a phone (PNG) when it is in the WeChat edition; the font
    is cut once for the HTML and the PDF.
    """
    from sitrep.report.render import wechat
    from sitrep.report.render.html import (
        document_chars,
        draw_charts,
        font_face_css,
        font_subset,
        render_html,
        standalone_svg,
    )
    from sitrep.report.render.json import render_json
    from sitrep.report.render.markdown import chart_file, render_markdown

    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown format {unknown[0]!r}; use {', '.join(FORMATS)}")
    wanted = set(formats)
    pages = bool({"html", "pdf", "md"} & wanted)
    phone = [c.key for c in wechat.charts(report)] if "wechat" in wanted else []
    svgs, pngs = draw_charts(report, svgs=pages, phone=phone)
    font = font_subset(document_chars(render_html(report, svgs=svgs))) if pages else b""
    written = []
    for fmt in formats:
        path = out / file_name(report.lang, fmt)
        if fmt == "html":
            atomic_write(path, render_html(report, svgs=svgs, font_css=font_face_css(font)))
        elif fmt == "wechat":
            for key, data in pngs.items():
                image = out / wechat.image_path(report, key)
                atomic_write(image, data)
                written.append(image)
            atomic_write(path, wechat.render_wechat(report))
        elif fmt == "json":
            atomic_write(path, render_json(report))
        elif fmt == "md":
            for key, text in svgs.items():
                chart = out / chart_file(report, key)
                atomic_write(chart, standalone_svg(text, font))
                written.append(chart)
            atomic_write(path, render_markdown(report))
        else:
            from sitrep.report.render.pdf import render_pdf

            atomic_write(path, render_pdf(report, svgs=svgs, font=font))
        written.append(path)
    return written
