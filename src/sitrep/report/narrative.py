"""The narrative of a week's issue: a summary paragraph and a few highlights per language, written by an
analyst (``sitrep narrative``, the web desk's report workspace).

The computed report says what the numbers are; the narrative says what they mean this week.  It is
plain text: every output escapes it, and it changes no number (the composer prints it beside the
overview's computed sentences).  The working copy of a week is ``reports/narrative/<week>.json``,
written atomically.  Publishing freezes the working copy into the issue with the facts
(:mod:`.publish`), so the archive shows what was published; an edit after that reaches the issue with
``sitrep publish --refresh``, which records it as a new revision.

Any week that has started may be edited: a draft is published with its narrative, and a published or
withdrawn week is re-published with it.  A week that has not started is refused, as publishing it is.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sitrep.config import Workspace
from sitrep.report.errors import OutputError
from sitrep.report.render import write_json_file
from sitrep.report.wording import LANGS
from sitrep.weeks import Week

SCHEMA = "sitrep.narrative/1"
MAX_SUMMARY = 1500
MAX_HIGHLIGHTS = 8
MAX_HIGHLIGHT = 300
MAX_AUTHOR = 200
# Characters that change how text around them is shown (bidirectional overrides and isolates): a
# highlight could otherwise display reversed or spoof its neighbour.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


class NarrativeError(Exception):
    """A narrative that cannot be stored or read as asked; the message names the value or the file."""


class StaleNarrative(NarrativeError):
    """The narrative changed since the version the edit was made against (someone else saved first)."""


@dataclass(frozen=True)
class Text:
    """The narrative of one language: the summary paragraph and the highlights, in order."""

    summary: str = ""
    highlights: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.summary and not self.highlights

    def as_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "highlights": list(self.highlights)}


@dataclass(frozen=True)
class Narrative:
    """A week's narrative in every language (an empty :class:`Text` where none was written)."""

    week: Week
    texts: dict[str, Text] = field(default_factory=dict)
    updated_at: str | None = None
    updated_by: str | None = None

    def text(self, lang: str) -> Text:
        return self.texts.get(lang, Text())

    @property
    def empty(self) -> bool:
        return all(self.text(lang).empty for lang in LANGS)

    def as_dict(self) -> dict[str, Any]:
        """The texts by language, as an issue freezes them."""
        return {lang: self.text(lang).as_dict() for lang in LANGS}

    def says(self, texts: Mapping[str, Text]) -> bool:
        """Whether ``texts`` (e.g. those an issue froze) are this narrative's, in every language."""
        return all(self.text(lang) == texts.get(lang, Text()) for lang in LANGS)

    @property
    def version(self) -> str:
        """A digest of the texts: an edit made against another version was made against stale text."""
        canonical = json.dumps(self.as_dict(), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def _plain(text: str, what: str, *, limit: int, lang: str) -> str:
    """``text`` as one paragraph of plain text: lines joined (without a space in Chinese), spaces
    collapsed; control and direction-changing characters refused; at most ``limit`` characters."""
    lines = [" ".join(line.split()) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    joined = ("" if lang == "zh" else " ").join(line for line in lines if line)
    bad = next(
        (c for c in joined if unicodedata.category(c) in ("Cc", "Cs", "Co") or c in _BIDI_CONTROLS),
        None,
    )
    if bad is not None:
        raise NarrativeError(f"the {what} contains the control character U+{ord(bad):04X}: use plain text")
    if len(joined) > limit:
        raise NarrativeError(f"the {what} is {len(joined)} characters long; keep it to {limit}")
    return joined


def clean_text(lang: str, summary: str, highlights: Iterable[str]) -> Text:
    """The narrative of ``lang`` as it is stored: the summary one paragraph, empty highlights dropped.

    Raises :class:`NarrativeError` naming what is too long or not plain text.
    """
    if lang not in LANGS:
        raise NarrativeError(f"unknown language {lang!r}: use {' or '.join(LANGS)}")
    kept = []
    for i, item in enumerate(highlights, 1):
        line = _plain(item, f"{lang} highlight {i}", limit=MAX_HIGHLIGHT, lang=lang)
        if line:
            kept.append(line)
    if len(kept) > MAX_HIGHLIGHTS:
        raise NarrativeError(f"{len(kept)} {lang} highlights; keep it to {MAX_HIGHLIGHTS}")
    return Text(_plain(summary, f"{lang} summary", limit=MAX_SUMMARY, lang=lang), tuple(kept))


def texts_from_dict(data: Any, where: str) -> dict[str, Text]:
    """The texts of a stored narrative (a working copy, or the one an issue froze).

    Raises :class:`NarrativeError` naming ``where`` when they are not in the stored form.
    """
    if not isinstance(data, dict):
        raise NarrativeError(f"{where}: the narrative is not an object")
    texts = {}
    for lang in LANGS:
        item = data.get(lang, {})
        summary = item.get("summary", "") if isinstance(item, dict) else None
        highlights = item.get("highlights", []) if isinstance(item, dict) else None
        if not isinstance(summary, str) or not (
            isinstance(highlights, list) and all(isinstance(h, str) for h in highlights)
        ):
            raise NarrativeError(f"{where}: the {lang} narrative is damaged (a summary and a list of highlights)")
        texts[lang] = Text(summary, tuple(highlights))
    return texts


def narrative_dir(workspace: Workspace) -> Path:
    """Where the working copies are kept (inside the workspace's reports folder)."""
    return workspace.reports_dir / "narrative"


def narrative_path(workspace: Workspace, week: Week) -> Path:
    return narrative_dir(workspace) / f"{week}.json"


def written_weeks(workspace: Workspace) -> list[Week]:
    """The weeks with a working copy (a file named after the week in the narrative folder)."""
    folder = narrative_dir(workspace)
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            week = Week.parse(path.stem)
        except ValueError:
            continue
        if str(week) == path.stem:
            found.append(week)
    return found


def load_narrative(workspace: Workspace, week: Week) -> Narrative:
    """The working copy of ``week``'s narrative (empty when none was written).

    Raises :class:`NarrativeError` when its file exists but cannot be read as a narrative of the week.
    """
    path = narrative_path(workspace, week)
    if path.is_symlink():
        raise NarrativeError(f"{path}: a symbolic link, not a narrative file (replace it with the file itself)")
    if not path.exists():
        return Narrative(week, {lang: Text() for lang in LANGS})
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NarrativeError(f"{path}: not a readable narrative ({exc})") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA or document.get("week") != str(week):
        raise NarrativeError(f"{path}: not the narrative of {week} (schema {SCHEMA!r})")
    texts = texts_from_dict(document.get("texts"), str(path))
    return Narrative(week, texts, document.get("updated_at"), document.get("updated_by"))


def save_narrative(
    workspace: Workspace,
    week: Week,
    texts: Mapping[str, Text],
    *,
    author: str,
    expected_version: str | None = None,
    now: datetime | None = None,
) -> Narrative:
    """Store the narrative of the languages in ``texts`` (the others stay as they were); returns it.

    ``texts`` come from :func:`clean_text`.  With ``expected_version``, the edit is refused with
    :class:`StaleNarrative` when the stored narrative is no longer that version.  Raises
    :class:`NarrativeError` for a week that has not started or a file that cannot be written.
    """
    moment = now or datetime.now(UTC)
    start, _ = week.bounds(workspace.timezone)
    if start > moment:
        raise NarrativeError(f"{week} has not started yet (it begins {week.monday}): there is nothing to report")
    author = author.strip()[:MAX_AUTHOR]
    current = load_narrative(workspace, week)
    if expected_version is not None and expected_version != current.version:
        raise StaleNarrative(f"the narrative of {week} was changed by {current.updated_by or 'someone'} meanwhile")
    merged = {lang: texts.get(lang, current.text(lang)) for lang in LANGS}
    stored = Narrative(week, merged, moment.isoformat(timespec="seconds"), author or None)
    document = {
        "schema": SCHEMA,
        "week": str(week),
        "updated_at": stored.updated_at,
        "updated_by": stored.updated_by,
        "texts": stored.as_dict(),
    }
    try:
        write_json_file(narrative_path(workspace, week), document)
    except OutputError as exc:
        raise NarrativeError(f"cannot store the narrative of {week}: {exc}") from None
    return stored


def leaves(texts: Mapping[str, Text]) -> dict[str, str]:
    """The texts as ``path → text`` (``narrative.zh.summary``, ``narrative.en.highlights[2]``…), the form
    a re-publication compares: a highlight is compared by its place, so a reordering shows too."""
    found = {}
    for lang in LANGS:
        text = texts.get(lang, Text())
        if text.summary:
            found[f"narrative.{lang}.summary"] = text.summary
        for i, item in enumerate(text.highlights, 1):
            found[f"narrative.{lang}.highlights[{i}]"] = item
    return found


# The keys a narrative file may give each language (``sitrep publish --summary-file``).
FILE_KEYS = ("summary", "highlights")


def parse_narrative_file(text: str, where: str) -> dict[str, Text]:
    """The narrative a file gives (``sitrep publish --summary-file``), cleaned as :func:`clean_text` does.

    The file is TOML with one table per language, each with an optional ``summary`` (a string) and
    optional ``highlights`` (a list of strings)::

        [zh]
        summary = "本周……"
        highlights = ["……", "……"]

        [en]
        summary = "This week …"

    A language the file leaves out is not in the result (its working copy stays as it is); a key left
    out of a language's table keeps an empty value.  Raises :class:`NarrativeError` naming ``where``
    and the bad key or value.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise NarrativeError(f"{where}: not valid TOML ({exc})") from None
    unknown = sorted(set(data) - set(LANGS))
    if unknown:
        raise NarrativeError(f"{where}: unknown language table {unknown[0]!r} (the tables are {' and '.join(LANGS)})")
    if not data:
        raise NarrativeError(f"{where}: no narrative in it (give a zh or en table with a summary or highlights)")
    texts = {}
    for lang, table in data.items():
        if not isinstance(table, dict):
            raise NarrativeError(f"{where}: {lang} must be a table with summary and highlights")
        extra = sorted(set(table) - set(FILE_KEYS))
        if extra:
            raise NarrativeError(f"{where}: unknown key {lang}.{extra[0]} (use {' and '.join(FILE_KEYS)})")
        summary, highlights = table.get("summary", ""), table.get("highlights", [])
        if not isinstance(summary, str):
            raise NarrativeError(f"{where}: {lang}.summary must be a string")
        if not isinstance(highlights, list) or not all(isinstance(h, str) for h in highlights):
            raise NarrativeError(f"{where}: {lang}.highlights must be a list of strings")
        try:
            texts[lang] = clean_text(lang, summary, highlights)
        except NarrativeError as exc:
            raise NarrativeError(f"{where}: {exc}") from None
    return texts
