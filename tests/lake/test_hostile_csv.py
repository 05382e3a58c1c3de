"""Hostile CSV files and values: each case's exact outcome.  One bad row costs one row, never the file,
and nothing produces a traceback."""

import codecs
import gzip
import json
import zipfile

import pytest

from helpers import lake_rows
from shadowserver_fixtures import report_csv
from sitrep.config import load_workspace
from sitrep.feeds.shadowserver import load_reports
from sitrep.lake.ingest import ingest_paths
from sitrep.lake.rejects import list_rejects

SINKHOLE = next(r for r in load_reports() if r.key == "event4_sinkhole")
MALWARE_URL = next(r for r in load_reports() if r.key == "malware_url")
NAME = "2025-01-07-event4_sinkhole-test-cn.csv"


def _lines(rows: int = 3) -> list[str]:
    return report_csv(SINKHOLE, rows).splitlines()


def _row(i: int, **values: str) -> str:
    """Row ``i`` of the generated sinkhole report with some fields replaced (values are quoted)."""
    fields = dict(zip(SINKHOLE.columns, _lines(3)[1 + i].split('","'), strict=True))
    fields = {k: v.strip('"') for k, v in fields.items()} | values
    return ",".join('"' + fields[c].replace('"', '""') + '"' for c in SINKHOLE.columns)


def _ingest(workspace, tmp_path, data: bytes, name: str = NAME):
    path = tmp_path / name
    path.write_bytes(data)
    [result] = ingest_paths(workspace, [path])
    return result, {r["line"]: r["reason"] for r in list_rejects(workspace)}


def _text(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def test_a_doubled_quote_inside_a_field_is_read(workspace, tmp_path):
    lines = _lines()
    lines[1] = _row(0, tag='say "hi", twice')
    result, rejects = _ingest(workspace, tmp_path, _text(lines))
    assert (result.accepted, rejects) == (3, {})
    row = lake_rows(workspace)[0]
    assert json.loads(row["extra"])["tag"] == 'say "hi", twice'


def test_a_backslash_escaped_quote_in_a_doubling_dialect_is_read_as_a_quote(workspace, tmp_path):
    # Shadowserver doubles quotes, but some HTTP headers in its reports come with \" inside a field.
    lines = _lines()
    lines[2] = lines[2].replace('"protocol-1"', '"Basic realm=\\"proxy\\""', 1)
    result, rejects = _ingest(workspace, tmp_path, _text(lines))
    assert (result.read, result.accepted, rejects) == (3, 3, {})
    row = lake_rows(workspace, where="source_line = 3")[0]
    assert json.loads(row["extra"])["protocol"] == 'Basic realm="proxy"'


def test_a_backslash_elsewhere_stays_a_backslash(workspace, tmp_path):
    lines = _lines()
    lines[2] = lines[2].replace('"protocol-1"', '"C:\\path\\to"', 1)
    result, rejects = _ingest(workspace, tmp_path, _text(lines))
    assert (result.accepted, rejects) == (3, {})
    row = lake_rows(workspace, where="source_line = 3")[0]
    assert json.loads(row["extra"])["protocol"] == "C:\\path\\to"


def test_an_unterminated_quote_costs_one_line_and_every_later_row_is_kept(workspace, tmp_path):
    # A line broken off inside a quoted field, then more rows: the open quote would swallow them.
    lines = report_csv(SINKHOLE, 401).splitlines()
    lines[1] = lines[1][:50]
    result, rejects = _ingest(workspace, tmp_path, _text(lines))
    assert (result.read, result.accepted, result.rejected) == (401, 400, 1)
    assert rejects == {2: "a quote is not closed on this line"}
    assert [r["source_line"] for r in lake_rows(workspace)][:3] == [3, 4, 5]


def test_a_quote_inside_a_quoted_field_costs_its_line(workspace, tmp_path):
    lines = _lines(3)
    lines[2] = lines[2].replace('"protocol-1"', '"proto"col-1"', 1)
    result, rejects = _ingest(workspace, tmp_path, _text(lines))
    assert (result.accepted, list(rejects)) == (2, [3])
    assert rejects[3].startswith("malformed quoting")


def test_a_file_cut_off_mid_line_keeps_every_complete_row(workspace, tmp_path):
    lines = _lines(3)
    data = "\n".join([*lines[:3], lines[3][:40]]).encode()  # no newline, inside a quoted field
    result, rejects = _ingest(workspace, tmp_path, data)
    assert (result.read, result.accepted, result.rejected) == (3, 2, 1)
    assert rejects == {4: "a quote is not closed on this line"}


def test_a_short_row_lacking_only_optional_fields_is_kept(workspace, tmp_path):
    lines = _lines(3)
    lines[2] = ",".join(lines[2].split(",")[:6])  # timestamp … src_region: every required field
    lines[3] = ",".join(lines[3].split(",")[:3])  # no src_port, which is required
    result, rejects = _ingest(workspace, tmp_path, _text(lines))
    assert (result.read, result.accepted, result.rejected) == (3, 2, 1)
    assert rejects == {4: "row has 3 of 33 fields; it lacks the required src_port"}
    short = lake_rows(workspace, where="source_line = 3")[0]
    assert (short["source_ip"], short["source_asn"], short["destination_ip"]) == ("223.5.5.5", 4134, None)


def test_a_row_longer_than_the_header_is_rejected(workspace, tmp_path):
    lines = _lines(3)
    lines[2] += ',"one more"'
    result, rejects = _ingest(workspace, tmp_path, _text(lines))
    assert (result.accepted, list(rejects)) == (2, [3])
    assert rejects[3].startswith("more fields than the header has")


def test_an_over_long_line_is_rejected_alone(workspace, tmp_path):
    config = workspace.config_path
    config.write_text(config.read_text().replace("max_line_bytes = 1048576", "max_line_bytes = 4096"))
    ws = load_workspace(workspace.root)
    lines = _lines(3)
    lines[2] = _row(1, tag="x" * 10_000)
    result, rejects = _ingest(ws, tmp_path, _text(lines))
    assert (result.read, result.accepted, result.rejected) == (3, 2, 1)
    assert rejects[3] == "line is longer than 4,096 bytes"
    # Its beginning is kept (up to 64 KiB), so the row can be found and fixed.
    [reject] = list_rejects(ws)
    assert reject["raw"] == lines[2]


@pytest.mark.parametrize(
    ("label", "encode"),
    [
        ("BOM", lambda text: codecs.BOM_UTF8 + text.encode()),
        ("CRLF", lambda text: text.replace("\n", "\r\n").encode()),
        ("lone CR", lambda text: text.replace("\n", "\r").encode()),
        ("UTF-16 LE with BOM", lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le")),
        ("UTF-16 BE with BOM", lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be")),
        ("gzip without .gz", lambda text: gzip.compress(text.encode())),
    ],
)
def test_encodings_and_line_ends_read_as_plain_utf8(workspace, tmp_path, label, encode):
    result, rejects = _ingest(workspace, tmp_path, encode(report_csv(SINKHOLE, 3)))
    assert (result.error, result.accepted, rejects) == (None, 3, {}), label
    assert [r["source_line"] for r in lake_rows(workspace)] == [2, 3, 4]


def test_bad_utf8_costs_its_line(workspace, tmp_path):
    data = _text(_lines(3)).replace(b"GUANGZHOU", b"GUANG\xff\xfeZHOU", 1)
    result, rejects = _ingest(workspace, tmp_path, data)
    assert (result.accepted, list(rejects)) == (2, [2])
    assert rejects[2] == "not valid UTF-8"


def test_a_nul_byte_in_a_text_field_is_kept_as_text_and_in_an_address_rejects_the_row(workspace, tmp_path):
    lines = _lines(3)
    lines[1] = _row(0, tag="mir\x00ai")
    lines[2] = _row(1, src_ip="223.5.\x005.5")
    result, rejects = _ingest(workspace, tmp_path, _text(lines))
    assert (result.accepted, rejects) == (2, {3: "src_ip is not an IP address"})
    assert json.loads(lake_rows(workspace)[0]["extra"])["tag"] == "mir\x00ai"


def test_a_header_only_file_is_zero_rows_and_no_error(workspace, tmp_path):
    result, rejects = _ingest(workspace, tmp_path, _text(_lines(0)))
    assert (result.error, result.read, result.accepted, rejects) == (None, 0, 0, {})


def test_a_truncated_gzip_is_an_error_of_that_file_and_the_next_file_is_read(workspace, tmp_path):
    cut = tmp_path / f"{NAME}.gz"
    cut.write_bytes(gzip.compress(report_csv(SINKHOLE, 3000).encode())[:-64])
    good = tmp_path / "2025-01-07-event4_sinkhole-good-cn.csv"
    good.write_text(report_csv(SINKHOLE, 3))
    first, second = ingest_paths(workspace, [cut, good])
    assert first.error and "truncated or corrupt" in first.error
    assert (second.error, second.accepted) == (None, 3)
    assert len(lake_rows(workspace)) == 3


def test_a_corrupt_zip_member_is_an_error_of_that_member(workspace, tmp_path):
    archive = tmp_path / "reports.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(NAME, report_csv(SINKHOLE, 3))
        z.writestr("2025-01-07-malware_url-test-cn.csv", report_csv(MALWARE_URL, 3))
    data = bytearray(archive.read_bytes())
    start = data.index(b"PK\x03\x04") + 30 + len(NAME)  # the first member's compressed bytes
    data[start : start + 20] = b"\x00" * 20
    archive.write_bytes(bytes(data))
    bad, good = ingest_paths(workspace, [archive])
    assert bad.error and bad.file.endswith(NAME)
    assert (good.error, good.accepted) == (None, 3)
    truncated = tmp_path / "cut.zip"
    truncated.write_bytes(bytes(data[:100]))
    [cut] = ingest_paths(workspace, [truncated])
    assert cut.error == "the zip archive is truncated or corrupt (no central directory)"


def test_a_zip_bomb_member_is_refused_unpacked_and_the_other_members_are_read(workspace, tmp_path):
    config = workspace.config_path
    text = config.read_text()
    assert f"max_unpacked_bytes = {16 * 1024**3}" in text  # the default is written out, to be found
    config.write_text(text.replace(f"max_unpacked_bytes = {16 * 1024**3}", "max_unpacked_bytes = 1048576"))
    ws = load_workspace(workspace.root)
    archive = tmp_path / "reports.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("2025-01-07-malware_url-test-cn.csv", b"\0" * (64 * 1024 * 1024))
        z.writestr(NAME, report_csv(SINKHOLE, 3))
    assert archive.stat().st_size < 200_000
    bomb, good = ingest_paths(ws, [archive])
    assert bomb.file == f"{archive}!2025-01-07-malware_url-test-cn.csv"
    assert bomb.error == "the zip member unpacks to 67,108,864 bytes, over [ingest] max_unpacked_bytes = 1,048,576"
    assert (good.error, good.accepted) == (None, 3)
    assert not list((ws.root / "lake").rglob("member-*"))  # nothing of the bomb is left on disk


@pytest.mark.parametrize(
    ("timestamp", "reason"),
    [
        ("9999-12-31 23:59:59", "time.source 9999-12-31 23:59:59+00 is outside the plausible window"),
        ("0000-01-01 00:00:00", "time.source 0001-01-01 (BC) 00:00:00+00 is outside the plausible window"),
        ("0001-01-01 00:00:00", "time.source 0001-01-01 00:00:00+00 is outside the plausible window"),
        ("1989-12-31 23:59:59", "time.source 1989-12-31 23:59:59+00 is outside the plausible window"),
        ("infinity", "time.source infinity is outside the plausible window"),
        ("2025-02-30 00:00:00", "timestamp is missing or not a date-time"),
    ],
)
def test_implausible_times_are_rejected_with_their_reason(workspace, tmp_path, timestamp, reason):
    lines = _lines(3)
    lines[2] = _row(1, timestamp=timestamp)
    result, rejects = _ingest(workspace, tmp_path, _text(lines))
    assert (result.error, result.accepted, list(rejects)) == (None, 2, [3])
    assert rejects[3].startswith(reason)


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("src_port", "70000", "src_port is not a port number"),
        ("src_port", "-1", "src_port is not a port number"),
        ("src_port", "1e3", "src_port is not a port number"),
        ("dst_port", "0x50", "dst_port is not a port number"),
        ("src_asn", "4294967296", "src_asn is not an AS number"),
        ("src_asn", "AS-X", "src_asn is not an AS number"),
        ("src_ip", "114.114.114", "src_ip is not an IP address"),
    ],
)
def test_values_out_of_range_are_rejected_not_nulled(workspace, tmp_path, column, value, reason):
    lines = _lines(3)
    lines[2] = _row(1, **{column: value})
    result, rejects = _ingest(workspace, tmp_path, _text(lines))
    assert (result.accepted, rejects) == (2, {3: reason})


def test_unknown_as_markers_and_as0_read_as_no_as(workspace, tmp_path):
    lines = _lines(3)
    lines[1] = _row(0, src_asn="0")
    lines[2] = _row(1, src_asn="?")
    result, rejects = _ingest(workspace, tmp_path, _text(lines))
    assert (result.accepted, rejects) == (3, {})
    assert [r["source_asn"] for r in lake_rows(workspace)] == [None, None, 4134]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("javascript:alert(document.cookie)", "source.url is not a web address (javascript:)"),
        ("data:text/html;base64,PHNjcmlwdD4=", "source.url is not a web address (data:)"),
        ("http://evil.example.cn/\x07bell", "source.url contains control characters"),
    ],
)
def test_urls_that_are_no_web_address_are_rejected(workspace, tmp_path, url, reason):
    lines = report_csv(MALWARE_URL, 3).splitlines()
    fields = lines[2].split('","')
    fields[MALWARE_URL.columns.index("url")] = url
    lines[2] = '","'.join(fields)
    result, rejects = _ingest(workspace, tmp_path, _text(lines), "2025-01-07-malware_url-test-cn.csv")
    assert (result.accepted, rejects) == (2, {3: reason})


def test_an_optional_address_that_is_none_reads_as_no_address(workspace, tmp_path):
    # As IntelMQ's validate_ip has it: a garbled sinkhole address does not cost the infected host.
    lines = _lines(3)
    lines[2] = _row(1, dst_ip="148.81.111.11.12")
    result, rejects = _ingest(workspace, tmp_path, _text(lines))
    assert (result.accepted, rejects) == (3, {})
    row = lake_rows(workspace, where="source_line = 3")[0]
    assert (row["source_ip"], row["destination_ip"]) == ("223.5.5.5", None)
