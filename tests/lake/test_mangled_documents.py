"""Property: a mangled JSON or XML document never crashes an ingest, every record read is accounted
for, and the valid records before the first damage are still accepted (both families keep the records
before a break; JSON also keeps the intact records after a damaged one when its brackets still match)."""

import json
import os
import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import lake_rows
from sitrep.feeds import get_feed
from sitrep.lake.ingest import ingest_paths
from sitrep.lake.rejects import list_rejects
from sitrep.workspace import init_workspace

EXAMPLES = int(os.environ.get("SITREP_MANGLE_EXAMPLES", "12"))
RECORDS = 8
_JUNK = [b"<script>alert(1)</script>", b'",,,"', b"\xff\xfe\x00", b"{", b"]", b"}", b"#", b"", b"<vulnerability>"]


def _phishtank() -> tuple[list[bytes], list[str]]:
    """An online-valid.json with one record per line (as PhishTank writes it), and each record's URL."""
    urls = [f"https://login-{n}.example-bank.top/" for n in range(RECORDS)]
    records = [
        json.dumps(
            {
                "phish_id": 9200000 + n,
                "url": url,
                "phish_detail_url": f"http://www.phishtank.com/phish_detail.php?phish_id={9200000 + n}",
                "submission_time": f"2025-01-06T0{n}:11:49+00:00",
                "verified": "yes",
                "verification_time": f"2025-01-06T0{n}:20:03+00:00",
                "online": "yes",
                "details": [{"ip_address": f"198.51.100.{n + 1}", "announcing_network": "64500", "country": "US"}],
                "target": "Other",
            }
        ).encode()
        for n, url in enumerate(urls)
    ]
    lines = [b"[", *(r + b"," for r in records[:-1]), records[-1], b"]"]
    return lines, urls


def _cnvd() -> tuple[list[bytes], list[str]]:
    """A CNVD dump with one record per line, and each record's number."""
    numbers = [f"CNVD-2025-0030{n}" for n in range(RECORDS)]
    records = [
        (
            f"<vulnerability><number>{number}</number><title>某内容管理系统SQL注入漏洞{n}</title>"
            f"<serverity>中</serverity><openTime>2025-01-0{n + 1}</openTime>"
            "<formalWay>厂商已发布了漏洞修复程序</formalWay></vulnerability>"
        ).encode()
        for n, number in enumerate(numbers)
    ]
    return [b'<?xml version="1.0" encoding="UTF-8"?>', b"<vulnerabilitys>", *records, b"</vulnerabilitys>"], numbers


def mangle(lines: list[bytes], seed: int, edits: int) -> tuple[bytes, int]:
    """The mangled document and how many of its first lines are still the original ones, in place."""
    rng = random.Random(seed)
    tagged: list[tuple[int, bytes]] = list(enumerate(lines))  # (original line, text); -1: not original
    for _ in range(edits):
        i = rng.randrange(len(tagged)) if tagged else 0
        choice = rng.randrange(5)
        if choice == 0 and tagged:
            del tagged[i]
        elif choice == 1 and tagged:
            tagged.insert(i, (-1, tagged[rng.randrange(len(tagged))][1]))
        elif choice == 2 and tagged and tagged[i][1]:
            text = tagged[i][1]
            j = rng.randrange(len(text))
            tagged[i] = (-1, text[:j] + bytes([rng.randrange(256)]) + text[j + 1 :])
        elif choice == 3 and tagged and tagged[i][1]:
            tagged[i] = (-1, tagged[i][1][: rng.randrange(len(tagged[i][1]))])
        else:
            tagged.insert(i, (-1, rng.choice(_JUNK)))
    intact = 0
    while intact < len(tagged) and tagged[intact][0] == intact:
        intact += 1
    return b"\n".join(text for _, text in tagged), intact


def _check(document: bytes, intact: int, first_record_line: int, keys: list[str], feed: str, column: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        workspace = init_workspace(Path(folder) / "ws")
        target = Path(folder) / "document"
        target.write_bytes(document)
        [result] = ingest_paths(workspace, [target], feed=get_feed(feed))
        rows = lake_rows(workspace)
        if result.error:
            assert result.accepted == 0 and rows == []
            # Only a document whose records' array cannot even be found is refused whole.
            assert intact <= first_record_line
            return
        assert result.duplicates >= 0
        assert result.read == result.accepted + result.duplicates + result.rejected
        assert len(rows) == result.accepted
        assert len(list_rejects(workspace)) == result.rejected
        # Records whose line, and every line before it, is untouched (the next line may be damaged).
        untouched = [keys[n] for n in range(len(keys)) if first_record_line + n < intact]
        found = {row[column] for row in rows}
        assert set(untouched) <= found


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32), edits=st.integers(1, 6))
def test_mangled_json_document(seed, edits):
    lines, urls = _phishtank()
    document, intact = mangle(lines, seed, edits)
    _check(document, intact, 1, urls, "phishtank", "source_url")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32), edits=st.integers(1, 6))
def test_mangled_xml_document(seed, edits):
    lines, numbers = _cnvd()
    document, intact = mangle(lines, seed, edits)
    _check(document, intact, 2, numbers, "cnvd", "vulnerability_id")


def test_untouched_json_records_after_a_damaged_one_are_kept():
    lines, urls = _phishtank()
    # A record whose brackets still match but which is not JSON inside: only it is lost.
    lines[3] = lines[3].replace(b'"verified": "yes"', b'"verified": yes')
    document = b"\n".join(lines)
    with tempfile.TemporaryDirectory() as folder:
        workspace = init_workspace(Path(folder) / "ws")
        target = Path(folder) / "online-valid.json"
        target.write_bytes(document)
        [result] = ingest_paths(workspace, [target], feed=get_feed("phishtank"))
        assert (result.read, result.accepted, result.rejected) == (RECORDS, RECORDS - 1, 1)
        assert {r["source_url"] for r in lake_rows(workspace)} == set(urls) - {urls[2]}
        [reject] = list_rejects(workspace)
        assert reject["line"] == 3
        assert reject["reason"].startswith("record is not valid JSON: unexpected character at byte ")
        assert reject["raw"] == lines[3].decode().rstrip(",")
