"""Hostile JSON and XML documents: each one's exact outcome (error text, or counts and rejects)."""

import gzip
import json
import struct
import time
import tracemalloc
import zlib

from helpers import SAMPLES, lake_rows
from sitrep.feeds import get_feed
from sitrep.lake.ingest import ingest_paths
from sitrep.lake.rejects import list_rejects

MiB = 1024 * 1024


def _phish(number: int, **changes: object) -> dict:
    record = {
        "phish_id": 9100000 + number,
        "url": f"https://login-{number}.example-bank.top/",
        "phish_detail_url": f"http://www.phishtank.com/phish_detail.php?phish_id={9100000 + number}",
        "submission_time": "2025-01-06T02:11:49+00:00",
        "verified": "yes",
        "verification_time": "2025-01-06T02:20:03+00:00",
        "online": "yes",
        "details": [],
        "target": "Other",
    }
    record.update(changes)
    return record


def _ingest(workspace, path, feed):
    [result] = ingest_paths(workspace, [path], feed=get_feed(feed))
    return result


def _gzip_of_zeros(path, size: int) -> None:
    """A valid gzip of ``size`` zero bytes, written without holding them: one compressed 1 MiB block,
    flushed so that it repeats byte for byte, then the real CRC and length."""
    chunk = bytes(MiB)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflate.compress(chunk)
    deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    with open(path, "wb") as out:
        out.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03")
        for _ in range(size // MiB):
            out.write(block)
            crc = zlib.crc32(chunk, crc)
        out.write(deflate.flush(zlib.Z_FINISH))
        out.write(struct.pack("<II", crc, size & 0xFFFFFFFF))


def test_gzip_bomb_is_refused_quickly_in_bounded_memory(workspace, tmp_path):
    bomb = tmp_path / "online-valid.json.gz"
    _gzip_of_zeros(bomb, 1024 * MiB)
    assert bomb.stat().st_size < 2 * MiB
    with gzip.open(bomb) as check:  # it is a real gzip of zeros
        assert check.read(MiB) == bytes(MiB)
    tracemalloc.start()
    started = time.perf_counter()
    result = _ingest(workspace, bomb, "phishtank")
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result.error == (
        "content is larger than 268,435,456 bytes (the limit ingest.max_document_bytes); split the file"
    )
    assert (result.read, result.accepted) == (0, 0)
    # Refused after counting 256 MiB in 1 MiB steps: no copy of the content is held.
    assert peak < 32 * MiB
    assert seconds < 30
    assert lake_rows(workspace) == []


def test_truncated_gzip_json_is_refused(workspace, tmp_path):
    packed = gzip.compress((SAMPLES / "phishtank-online-valid.json").read_bytes())
    cut = tmp_path / "online-valid.json.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    result = _ingest(workspace, cut, "phishtank")
    assert result.error == (
        "the compressed stream is truncated or corrupt "
        "(Compressed file ended before the end-of-stream marker was reached)"
    )
    assert result.accepted == 0


def _cnvd_record(number: int) -> str:
    return (
        f"<vulnerability><number>CNVD-2025-0020{number}</number><cves><cve><cveNumber>CVE-2025-1000{number}"
        f"</cveNumber></cve></cves><title>某路由器命令执行漏洞{number}</title><serverity>高</serverity>"
        "<products><product>Example Router</product></products><openTime>2025-01-06</openTime>"
        "<formalWay>厂商已发布了漏洞修复程序</formalWay></vulnerability>\n"
    )


def test_truncated_gzip_xml_is_one_reject(workspace, tmp_path):
    document = "<?xml version='1.0' encoding='UTF-8'?>\n<vulnerabilitys>\n" + "".join(
        _cnvd_record(n) for n in range(1, 10)
    )
    packed = gzip.compress((document + "</vulnerabilitys>\n").encode(), mtime=0)
    cut = tmp_path / "cnvd.xml.gz"
    cut.write_bytes(packed[:-40])  # the end of the deflate stream and the trailer are gone
    result = _ingest(workspace, cut, "cnvd")
    # Python's gzip reader gives nothing of a block it cannot finish: the small file is one reject.
    assert (result.error, result.read, result.accepted, result.rejected) == (None, 1, 0, 1)
    [reject] = list_rejects(workspace)
    assert reject["line"] == 1
    assert reject["reason"] == (
        "unreadable XML after record 0: Compressed file ended before the end-of-stream marker was reached"
    )


def test_broken_xml_keeps_the_records_before_the_break_and_rejects_the_rest_with_its_text(workspace, tmp_path):
    broken = _cnvd_record(3).replace("</title>", "")
    document = (
        "<?xml version='1.0' encoding='UTF-8'?>\n<vulnerabilitys>\n"
        + _cnvd_record(1)
        + _cnvd_record(2)
        + broken
        + _cnvd_record(4)
        + "</vulnerabilitys>\n"
    )
    path = tmp_path / "cnvd.xml"
    path.write_text(document)
    result = _ingest(workspace, path, "cnvd")
    assert (result.error, result.read, result.accepted, result.rejected) == (None, 3, 2, 1)
    [reject] = list_rejects(workspace)
    assert reject["line"] == 3
    assert reject["reason"].startswith("unreadable XML after record 2: mismatched tag: line 5, column ")
    # The rest of the document from the end of the last good record: the broken one and what follows.
    assert reject["raw"] == broken + _cnvd_record(4) + "</vulnerabilitys>\n"


def test_json_records_that_are_not_objects(workspace, tmp_path):
    path = tmp_path / "online-valid.json"
    path.write_text(json.dumps([_phish(1), 42, "8712308", None, [1, 2], _phish(2)]))
    result = _ingest(workspace, path, "phishtank")
    assert (result.error, result.read, result.accepted, result.rejected) == (None, 6, 2, 4)
    assert [(r["line"], r["reason"], r["raw"]) for r in list_rejects(workspace)] == [
        (2, "record is not a JSON object", "42"),
        (3, "record is not a JSON object", '"8712308"'),
        (4, "record is not a JSON object", "null"),
        (5, "record is not a JSON object", "[1,2]"),
    ]


def test_empty_nvd_page(workspace, tmp_path):
    path = tmp_path / "nvd.json"
    path.write_text(
        '{"resultsPerPage":0,"startIndex":0,"totalResults":0,"format":"NVD_CVE","version":"2.0",'
        '"timestamp":"2025-01-13T00:00:00.000","vulnerabilities":[]}'
    )
    [result] = ingest_paths(workspace, [path])
    assert (result.format, result.error, result.read, result.accepted, result.rejected) == ("nvd-cve", None, 0, 0, 0)


def test_empty_cnvd_dump(workspace, tmp_path):
    path = tmp_path / "cnvd.xml"
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<vulnerabilitys/>\n')
    [result] = ingest_paths(workspace, [path])
    assert (result.format, result.error, result.read, result.accepted, result.rejected) == ("cnvd", None, 0, 0, 0)


def test_deeply_nested_record_is_read_and_rejected_alone(workspace, tmp_path):
    deep = '{"phish_id": 9100002, "details": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path = tmp_path / "online-valid.json"
    path.write_text("[\n" + json.dumps(_phish(1)) + ",\n" + deep + ",\n" + json.dumps(_phish(3)) + "\n]\n")
    result = _ingest(workspace, path, "phishtank")
    assert (result.error, result.read, result.accepted, result.rejected) == (None, 3, 2, 1)
    [reject] = list_rejects(workspace)
    # 100,000 levels parse (DuckDB's JSON parser does not recurse); the record lacks its time.
    assert (reject["line"], reject["reason"]) == (2, "submission_time is missing or not a date-time")
    assert reject["raw"].replace(" ", "") == deep.replace(" ", "")
    assert [r["source_url"] for r in lake_rows(workspace)] == [
        "https://login-1.example-bank.top/",
        "https://login-3.example-bank.top/",
    ]


def test_fifty_megabyte_string_value(workspace, tmp_path):
    path = tmp_path / "online-valid.json"
    huge = _phish(2, target="A" * (50 * 1000 * 1000))
    path.write_text(json.dumps([_phish(1), huge, _phish(3)]))
    result = _ingest(workspace, path, "phishtank")
    assert (result.error, result.read, result.accepted, result.rejected) == (None, 3, 2, 1)
    [reject] = list_rejects(workspace)
    assert reject["line"] == 2
    assert reject["reason"] == (
        "record is larger than 1,048,576 bytes (the limit ingest.max_line_bytes); its first 65,536 bytes are kept"
    )
    assert len(reject["raw"]) == 64 * 1024 and reject["raw"].startswith('{"phish_id":9100002')


def test_deeply_nested_record_in_a_broken_document_is_rejected_alone(workspace, tmp_path):
    deep = '{"phish_id": 9100002, "details": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path = tmp_path / "online-valid.json"
    # The missing comma after the first record makes DuckDB refuse the document: it is read element by element.
    path.write_text("[\n" + json.dumps(_phish(1)) + "\n" + deep + ",\n" + json.dumps(_phish(3)) + "\n]\n")
    result = _ingest(workspace, path, "phishtank")
    assert (result.error, result.read, result.accepted, result.rejected) == (None, 3, 2, 1)
    [reject] = list_rejects(workspace)
    assert (reject["line"], reject["reason"]) == (2, "record is nested deeper than 128 levels")
    assert reject["raw"] == deep[: 64 * 1024]


def test_document_that_is_not_json_names_where_it_breaks(workspace, tmp_path):
    path = tmp_path / "event.json"
    path.write_text('{"Event": {\n    "uuid": "4e8c2a10-7b3d-4f5e-a6c7-d8e9f0a1b2c3",\n    "info": oops\n}}\n')
    result = _ingest(workspace, path, "misp")
    assert result.error == "not valid JSON: unexpected character at line 3, column 13"
    assert result.accepted == 0
