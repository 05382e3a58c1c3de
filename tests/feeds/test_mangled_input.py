"""Property: no feed file, however mangled, crashes an ingest, and every row read is accounted for."""

import os
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import SAMPLES, lake_rows
from sitrep.feeds import UnknownFormat, detect
from sitrep.lake.ingest import ingest_paths, sample_of
from sitrep.lake.rejects import list_rejects

# A few per sample in every test run; SITREP_MANGLE_EXAMPLES=500 for a long hunt.
EXAMPLES = int(os.environ.get("SITREP_MANGLE_EXAMPLES", "4"))


def _samples() -> list[tuple[Path, str]]:
    found = []
    for path in sorted(SAMPLES.iterdir()):
        if path.suffix in (".gz", ".zip", ".toml") or not path.is_file():
            continue
        try:
            found.append((path, detect(sample_of(path)).name))
        except UnknownFormat:
            continue
    return found


def mangle(data: bytes, seed: int, edits: int) -> bytes:
    rng = random.Random(seed)
    lines = data.split(b"\n")
    for _ in range(edits):
        choice = rng.randrange(6)
        i = rng.randrange(len(lines)) if lines else 0
        if choice == 0 and lines:
            del lines[i]
        elif choice == 1 and lines:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif choice == 2 and lines and lines[i]:
            j = rng.randrange(len(lines[i]))
            lines[i] = lines[i][:j] + bytes([rng.randrange(256)]) + lines[i][j + 1 :]
        elif choice == 3 and lines and lines[i]:
            lines[i] = lines[i][: rng.randrange(len(lines[i]))]
        elif choice == 4:
            lines.insert(i, rng.choice([b"<script>alert(1)</script>", b'",,,"', b"\xff\xfe\x00", b"{", b"#", b""]))
        else:
            lines.insert(i, b",".join([b'"' + b"x" * rng.randrange(5) + b'"'] * rng.randrange(1, 40)))
    return b"\n".join(lines)


@pytest.mark.parametrize(("sample", "feed"), _samples(), ids=lambda v: v.name if isinstance(v, Path) else v)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32), edits=st.integers(1, 12))
def test_mangled_file_never_crashes_and_accounts_for_rows(workspace, tmp_path, sample, feed, seed, edits):
    target = tmp_path / f"{seed}-{sample.name}"
    target.write_bytes(mangle(sample.read_bytes(), seed, edits))
    before_events = len(lake_rows(workspace))
    before_rejects = len(list_rejects(workspace))
    from sitrep.feeds import get_feed

    [result] = ingest_paths(workspace, [target], feed=get_feed(feed))
    if result.error:
        assert result.accepted == 0 and len(lake_rows(workspace)) == before_events
        return
    assert result.duplicates >= 0
    assert result.read == result.accepted + result.duplicates + result.rejected
    assert len(lake_rows(workspace)) - before_events == result.accepted
    assert len(list_rejects(workspace)) - before_rejects == result.rejected
