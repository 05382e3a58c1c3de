import json
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from helpers import SAMPLES, lake_rows
from sitrep.cli import app
from sitrep.feeds import UnknownFormat, detect
from sitrep.feeds.generic_csv import MappingError, feed_from_mapping
from sitrep.lake.ingest import ingest_paths, sample_of
from sitrep.lake.rejects import list_rejects

CSV = SAMPLES / "generic" / "partner-phishing.csv"
MAPPING = SAMPLES / "generic" / "partner-phishing.toml"


def test_never_detected_automatically():
    with pytest.raises(UnknownFormat):
        detect(sample_of(CSV))


def test_mapping_file_drives_the_columns(workspace):
    [result] = ingest_paths(workspace, [CSV], feed=feed_from_mapping(MAPPING))
    assert result.format == "partner-phishing"
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (7, 3, 1, 3)
    rows = lake_rows(workspace)
    assert [r["source_line"] for r in rows] == [2, 3, 7]
    first = rows[0]
    # 09:15 Beijing time, with the mapping's own timestamp format.
    assert first["time_source"] == datetime(2025, 1, 6, 1, 15, tzinfo=UTC)
    assert (first["classification_taxonomy"], first["classification_type"]) == ("fraud", "phishing")
    assert first["source_url"] == "https://icbc-secure.example.top/login"
    assert first["source_ip"] == "47.74.1.2"
    assert first["event_description_target"] == "www.icbc.com.cn"
    assert first["tlp"] == "AMBER"
    assert first["feed_provider"] == "某省分中心"
    assert json.loads(first["extra"]) == {"备注": "短信诱导", "来源": "省分中心"}
    assert json.loads(rows[1]["extra"]) == {"来源": "用户举报"}
    assert rows[2]["source_ip"] is None


def test_rejects_keep_line_and_reason(workspace):
    ingest_paths(workspace, [CSV], feed=feed_from_mapping(MAPPING))
    rejects = {r["line"]: r["reason"] for r in list_rejects(workspace)}
    assert rejects[5] == "发现时间 is missing or not a date-time"
    assert rejects[6] == "IP地址 is not an IP address"
    assert rejects[8] == "row has 3 of 6 fields; it lacks the required 仿冒对象, 备注, 来源"
    assert len(rejects) == 3


def test_a_csv_without_a_mapped_column_is_rejected_whole(workspace, tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("发现时间;网址\n2025/01/06 09:15;https://a.example.com/\n", encoding="utf-8")
    [result] = ingest_paths(workspace, [other], feed=feed_from_mapping(MAPPING))
    assert "missing column(s) 仿冒网址, IP地址, 仿冒对象, 备注, 来源" in result.error


def _mapping(tmp_path, text):
    path = tmp_path / "map.toml"
    path.write_text(text, encoding="utf-8")
    return path


BASE = """
[constants]
classification_taxonomy = "fraud"
classification_type = "phishing"
[columns]
time_source = "t"
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("delimeter = ';'\n" + BASE, "unknown key 'delimeter'"),
        (BASE + "source_address = 'ip'\n", "unknown event column 'columns.source_address'"),
        (BASE + "source_url = { column = 'u', fmt = 'x' }\n", "unknown key 'columns.source_url.fmt'"),
        (BASE.replace("classification_type", "classification_typ"), "'constants.classification_typ'"),
        (BASE + "source_ip = { column = 'ip', format = '%d' }\n", "format applies to time columns only"),
        ("timezone = 'Mars/Olympus'\n" + BASE, "unknown timezone 'Mars/Olympus'"),
        ("tlp = 'PURPLE'\n" + BASE, "tlp 'PURPLE' is not a TLP label"),
        (BASE.replace('time_source = "t"', 'source_url = "u"'), "columns.time_source is required"),
        ("[columns]\ntime_source = 't'\n", "classification_taxonomy is required"),
        ("header = false\n" + BASE, "header = false needs names"),
        ("[columns\n", "cannot read mapping file"),
    ],
)
def test_mapping_errors_name_the_culprit(tmp_path, text, message):
    with pytest.raises(MappingError, match=message.replace("(", r"\(").replace("[", r"\[")):
        feed_from_mapping(_mapping(tmp_path, text))


runner = CliRunner()


def _flat(output: str) -> str:
    """CLI output with the console's line wrapping undone."""
    return " ".join(output.split())


def test_cli_ingest_with_mapping(workspace):
    result = runner.invoke(
        app,
        [
            "--home",
            str(workspace.root),
            "ingest",
            str(CSV),
            "--format",
            "generic-csv",
            "--mapping",
            str(MAPPING),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    [summary] = json.loads(result.stdout)
    assert (summary["format"], summary["accepted"], summary["rejected"]) == ("partner-phishing", 3, 3)


def test_cli_generic_csv_needs_a_mapping_and_reports_mapping_errors(workspace, tmp_path):
    home = ["--home", str(workspace.root)]
    result = runner.invoke(app, [*home, "ingest", str(CSV), "--format", "generic-csv"])
    assert result.exit_code == 2
    assert "needs --mapping" in _flat(result.output)
    bad = _mapping(tmp_path, BASE + "colour = 'x'\n")
    result = runner.invoke(app, [*home, "ingest", str(CSV), "--mapping", str(bad)])
    assert result.exit_code == 2
    assert "unknown event column 'columns.colour'" in _flat(result.output)
    result = runner.invoke(app, [*home, "ingest", str(CSV), "--format", "cnvd", "--mapping", str(MAPPING)])
    assert result.exit_code == 2
    assert "--mapping goes with --format generic-csv" in _flat(result.output)
