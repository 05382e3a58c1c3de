"""Property: a mangled line file (plain lines, JSON lines) never crashes an ingest, every line read is
accounted for, and the valid lines the mangling did not touch are still accepted.

Line files have no structure across lines, so damage must stay where it is: a broken line may be
rejected, a line turned into a copy of another may become a duplicate, but an untouched good line keeps
its event.  Events are compared by ``event_id`` (a hash of the content, never of the line number), so
inserted or split lines do not matter.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import SAMPLES, lake_rows
from sitrep.feeds import get_feed
from sitrep.lake.ingest import ingest_paths
from sitrep.lake.rejects import list_rejects
from sitrep.workspace import init_workspace

# A few per file in every test run; SITREP_MANGLE_EXAMPLES=500 for a long hunt.
EXAMPLES = int(os.environ.get("SITREP_MANGLE_EXAMPLES", "4"))
# Plain-line feeds take the file's time: every copy gets this one, so event ids compare.
WRITTEN = datetime(2025, 1, 6, 9, 30, tzinfo=UTC).timestamp()

# (sample, forced format): the two line-oriented reader families.
FILES = (
    ("openphish-feed.txt", "openphish"),
    ("abusech-urlhaus-text-online.txt", "abusech-urlhaus-text"),
    ("openphish-premium.jsonl", "openphish-json"),
    ("intelmq-output.jsonl", "intelmq"),
)
# Bytes whose presence at a file's very start changes how the whole file is read (UTF-16 byte-order
# marks, gzip magic): a file-level signature, not damage to one line.
_SIGNATURES = (b"\xff\xfe", b"\xfe\xff", b"\x1f\x8b")
_JUNK_LINES = (
    b"",
    b"#",
    b"{",
    b"}",
    b"[]",
    b'{"url": ',
    b"null",
    b'"just a string"',
    b"\xff\xfe\x00",
    b"\x00\x00\x00",
    b"<script>alert(1)</script>",
    b'{"time.source": "2025-01-06T00:00:00Z", "source.ip": "999.1.1.1"}',
    b'{"url": "https://x.example/", "isotime": [1, 2]}',
    b"http://",
    b"\t \t",
    b"\r",
)


@dataclass(frozen=True)
class Mangled:
    data: bytes
    # The indices of the original lines no edit touched.
    untouched: frozenset[int]


def mangle(data: bytes, seed: int, edits: int) -> Mangled:
    """Edit ``data`` line by line, remembering which original lines no edit touched."""
    rng = random.Random(seed)
    lines: list[tuple[int | None, bytes]] = list(enumerate(data.split(b"\n")))
    touched: set[int] = set()
    for _ in range(edits):
        i = rng.randrange(len(lines)) if lines else 0
        choice = rng.randrange(7)
        if choice == 0 and lines:  # drop a line
            origin, _ = lines.pop(i)
            if origin is not None:
                touched.add(origin)
        elif choice == 1 and lines:  # a copy of some line, anywhere
            lines.insert(i, (None, lines[rng.randrange(len(lines))][1]))
        elif choice == 2 and lines and lines[i][1]:  # one byte replaced by any byte (NUL, CR, LF included)
            origin, line = lines[i]
            j = rng.randrange(len(line))
            byte = rng.randrange(256)
            lines[i] = (None, line[:j] + bytes([byte]) + line[j + 1 :])
            if origin is not None:
                touched.add(origin)
        elif choice == 3 and lines and lines[i][1]:  # truncated
            origin, line = lines[i]
            lines[i] = (None, line[: rng.randrange(len(line))])
            if origin is not None:
                touched.add(origin)
        elif choice == 4:  # a junk line
            lines.insert(i, (None, rng.choice(_JUNK_LINES)))
        elif choice == 5 and lines:  # bytes that are not UTF-8 inside a line
            origin, line = lines[i]
            j = rng.randrange(len(line) + 1)
            lines[i] = (None, line[:j] + rng.choice((b"\xc3\x28", b"\xa0\xa1", b"\xed\xa0\x80", b"\xf8")) + line[j:])
            if origin is not None:
                touched.add(origin)
        elif choice == 6 and lines:  # a line ending changed to CRLF
            origin, line = lines[i]
            lines[i] = (None, line + b"\r")
            if origin is not None:
                touched.add(origin)
    untouched = frozenset(o for o, _ in lines if o is not None) - touched
    return Mangled(b"\n".join(line for _, line in lines), untouched)


_CLEAN: dict[str, dict[int, str]] = {}


def _ingest(root: Path, path: Path, feed: str):
    workspace = init_workspace(root)
    os.utime(path, (WRITTEN, WRITTEN))
    [result] = ingest_paths(workspace, [path], feed=get_feed(feed))
    return workspace, result


def _clean_events(tmp_path: Path, sample: str, feed: str) -> dict[int, str]:
    """Line index (0-based) → event id of each accepted line of the untouched sample."""
    if sample not in _CLEAN:
        copy = tmp_path / f"clean-{sample}"
        copy.write_bytes((SAMPLES / sample).read_bytes())
        workspace, result = _ingest(tmp_path / "clean", copy, feed)
        assert result.error is None and result.accepted > 0
        _CLEAN[sample] = {r["source_line"] - 1: r["event_id"] for r in lake_rows(workspace)}
    return _CLEAN[sample]


@pytest.mark.parametrize(("sample", "feed"), FILES)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32), edits=st.integers(1, 12))
def test_mangled_line_file_keeps_its_untouched_lines(tmp_path, sample, feed, seed, edits):
    clean = _clean_events(tmp_path, sample, feed)
    mangled = mangle((SAMPLES / sample).read_bytes(), seed, edits)
    target = tmp_path / f"{seed}-{edits}-{sample}"
    target.write_bytes(mangled.data)
    workspace, result = _ingest(tmp_path / f"ws-{seed}-{edits}", target, feed)

    accepted = lake_rows(workspace)
    rejects = list_rejects(workspace)
    assert result.read == result.accepted + result.duplicates + result.rejected
    assert len(accepted) == result.accepted
    assert len(rejects) == result.rejected
    assert all(r["reason"] for r in rejects)
    if mangled.data.startswith(_SIGNATURES):
        return
    assert result.error is None
    kept = {r["event_id"] for r in accepted}
    lost = {line + 1 for line, event in clean.items() if line in mangled.untouched and event not in kept}
    assert not lost, f"untouched good lines {sorted(lost)} lost their events"
