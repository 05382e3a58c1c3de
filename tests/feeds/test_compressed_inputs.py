"""``.gz`` and ``.zip`` inputs read like the plain files (CNVD's gzipped XML is in test_cnvd)."""

import gzip
import zipfile

from helpers import SAMPLES, lake_rows
from sitrep.feeds import detect
from sitrep.lake.ingest import ingest_paths, sample_of
from sitrep.lake.rejects import list_rejects


def _gzip(tmp_path, name):
    packed = tmp_path / f"{name}.gz"
    packed.write_bytes(gzip.compress((SAMPLES / name).read_bytes()))
    return packed


def test_gzipped_csv_with_comment_header_keeps_line_numbers(workspace, tmp_path):
    packed = _gzip(tmp_path, "urlhaus-csv_recent.csv")
    assert detect(sample_of(packed)).name == "abusech-urlhaus"
    [result] = ingest_paths(workspace, [packed])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (11, 7, 1, 3)
    assert {r["line"] for r in list_rejects(workspace)} == {16, 17, 18}


def test_gzipped_json_document(workspace, tmp_path):
    packed = _gzip(tmp_path, "phishtank-online-valid.json")
    assert detect(sample_of(packed)).name == "phishtank"
    [result] = ingest_paths(workspace, [packed])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (10, 4, 1, 5)


def test_gzipped_json_lines(workspace, tmp_path):
    [result] = ingest_paths(workspace, [_gzip(tmp_path, "intelmq-output.jsonl")])
    assert (result.format, result.read, result.accepted, result.rejected) == ("intelmq", 19, 13, 5)


def test_zip_members_are_ingested_one_by_one(workspace, tmp_path):
    archive = tmp_path / "weekly.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.write(SAMPLES / "nvd-cves-api-2.0.json", "nvd/cves.json")
        z.write(SAMPLES / "cnvd-2025-01-06.xml", "cnvd.xml")
    results = ingest_paths(workspace, [archive])
    assert [(r.file.split("!")[1], r.format, r.accepted, r.rejected) for r in results] == [
        ("nvd/cves.json", "nvd-cve", 5, 4),
        ("cnvd.xml", "cnvd", 8, 4),
    ]
    assert len(lake_rows(workspace, where="classification_identifier = 'vulnerability'")) == 13
