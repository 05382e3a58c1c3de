"""Property: a CSV file mangled line by line never crashes an ingest, every row read is accounted for,
and every line the mangling left untouched is still accepted (one bad line costs that line only)."""

import os
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import lake_rows
from shadowserver_fixtures import file_name, report_csv
from sitrep.feeds.shadowserver import load_reports
from sitrep.lake.ingest import ingest_paths
from sitrep.lake.rejects import list_rejects

# A few per report in every test run; SITREP_MANGLE_EXAMPLES=500 for a long hunt.
EXAMPLES = int(os.environ.get("SITREP_MANGLE_EXAMPLES", "6"))
ROWS = 60
REPORTS = [r for r in load_reports() if r.key in ("event4_sinkhole", "malware_url", "scan_http_vulnerable")]
_DAMAGE = (b'"', b",", b'",', b'","', b"\xff", b"\x00", b"\r", b"\n", b'"\n"', b"x" * 3)


def mangle(lines: list[bytes], seed: int, edits: int) -> tuple[list[bytes], set[int]]:
    """The lines with ``edits`` damaged or inserted ones, and the indexes of the original lines touched."""
    rng = random.Random(seed)
    out = list(lines)
    touched: set[int] = set()
    origin = list(range(len(lines)))  # original index of each line of ``out`` (-1: inserted)
    for _ in range(edits):
        i = rng.randrange(1, len(out))  # never the header
        kind = rng.randrange(4)
        if kind == 0:
            out[i] = out[i][: rng.randrange(len(out[i]) + 1)]
        elif kind == 1:
            at = rng.randrange(len(out[i]) + 1)
            out[i] = out[i][:at] + rng.choice(_DAMAGE) + out[i][at:]
        elif kind == 2:
            out[i] = out[i].replace(b'","', b'",,"', 1)
        else:
            out.insert(i, rng.choice([b'"garbage', b'","', b"\xfe\xff", b"", b'"2025-01-07 00:00:00"', b",,,"]))
            origin.insert(i, -1)
            continue
        if origin[i] >= 0:
            touched.add(origin[i])
    return out, touched


@pytest.mark.parametrize("report", REPORTS, ids=lambda r: r.key)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32), edits=st.integers(1, 8))
def test_mangled_csv_costs_only_the_damaged_lines(workspace, tmp_path, report, seed, edits):
    lines = report_csv(report, ROWS).encode().split(b"\n")[:-1]
    mangled, touched = mangle(lines, seed, edits)
    path = tmp_path / f"{seed}-{edits}" / file_name(report)
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"\n".join(mangled) + b"\n")
    before_events, before_rejects = len(lake_rows(workspace)), len(list_rejects(workspace))
    [result] = ingest_paths(workspace, [path])
    assert result.error is None, result.error
    assert result.read == result.accepted + result.duplicates + result.rejected
    assert len(lake_rows(workspace)) - before_events == result.accepted
    assert len(list_rejects(workspace)) - before_rejects == result.rejected
    # Each generated row has its own source address: every untouched row must be in the lake (accepted
    # now, or a duplicate of the same row of an earlier example).
    column = report.columns.index("ip" if "ip" in report.columns else "src_ip")
    untouched = {lines[i].split(b'","')[column].strip(b'"').decode() for i in range(1, len(lines)) if i not in touched}
    kept = {r["source_ip"] for r in lake_rows(workspace)}
    assert untouched <= kept, sorted(untouched - kept)
