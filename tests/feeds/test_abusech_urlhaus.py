import json
import os
from datetime import UTC, datetime

from helpers import SAMPLES, lake_rows
from sitrep.feeds import all_feeds, detect
from sitrep.feeds.base import Sample
from sitrep.lake.ingest import ingest_paths, sample_of
from sitrep.lake.rejects import list_rejects

SAMPLE = SAMPLES / "urlhaus-csv_recent.csv"


def test_recognised_from_content_even_when_renamed(tmp_path):
    renamed = tmp_path / "download.txt"
    renamed.write_bytes(SAMPLE.read_bytes())
    assert detect(sample_of(renamed)).name == "abusech-urlhaus"


def test_maps_rows_to_malware_distribution_urls(workspace):
    [result] = ingest_paths(workspace, [SAMPLE])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (11, 7, 1, 3)
    rows = lake_rows(workspace)
    assert [r["source_line"] for r in rows] == [10, 11, 12, 13, 14, 19, 20]
    first = rows[0]
    assert first["source_url"] == "http://117.50.183.91:44535/i"
    assert first["time_source"] == datetime(2025, 1, 6, 8, 1, 44, tzinfo=UTC)
    assert (first["classification_taxonomy"], first["classification_type"]) == (
        "malicious-code",
        "malware-distribution",
    )
    assert first["site"] == "117.50.183.91"
    # The family is the first tag that is not a file type or an architecture.
    assert [r["malware_name"] for r in rows] == ["mozi", "spynote", "agenttesla", None, None, None, "formbook"]
    assert json.loads(rows[1]["extra"])["tags"] == "apk,SpyNote"
    assert json.loads(first["extra"])["urlhaus_link"] == "https://urlhaus.abuse.ch/url/3350101/"
    assert "last_online" not in json.loads(rows[2]["extra"])


def test_rejects_keep_line_and_reason(workspace):
    ingest_paths(workspace, [SAMPLE])
    rejects = {r["line"]: r["reason"] for r in list_rejects(workspace)}
    assert set(rejects) == {16, 17, 18}
    assert rejects[16] == "dateadded is missing or not a date-time"
    assert rejects[17] == "url is empty"
    assert rejects[18] == "url is not a URL"


def test_short_row_keeps_its_fields_and_reads_the_missing_ones_as_null(workspace):
    ingest_paths(workspace, [SAMPLE])
    [row] = lake_rows(workspace, where="source_line = 19")
    assert row["source_url"] == "http://203.0.113.5/a.sh"
    assert json.loads(row["extra"]) == {"id": "3350093", "url_status": "online"}


# The per-ASN/country/TLD feeds ---------------------------------------------------------------------------

COUNTRY = SAMPLES / "abusech-urlhaus-feed-country-cn.csv"
TLD_WITH_TAGS = SAMPLES / "abusech-urlhaus-feed-tags-tld-cn.csv"
TEXT = SAMPLES / "abusech-urlhaus-text-online.txt"
MALWARE_DISTRIBUTION = ("malicious-code", "malware-distribution")


def test_every_layout_recognised_from_content(tmp_path):
    for source, name in (
        (SAMPLE, "abusech-urlhaus"),
        (COUNTRY, "abusech-urlhaus-feed"),
        (TLD_WITH_TAGS, "abusech-urlhaus-feed-tags"),
        (TEXT, "abusech-urlhaus-text"),
    ):
        renamed = tmp_path / "download"
        renamed.write_bytes(source.read_bytes())
        assert detect(sample_of(renamed)).name == name, source.name


def test_country_feed_maps_host_ip_as_and_country(workspace):
    [result] = ingest_paths(workspace, [COUNTRY])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (10, 4, 1, 5)
    rows = lake_rows(workspace)
    assert [r["source_line"] for r in rows] == [12, 13, 19, 21]
    assert {(r["classification_taxonomy"], r["classification_type"]) for r in rows} == {MALWARE_DISTRIBUTION}
    by_ip, named, short, gov_suffix = rows
    assert by_ip["time_source"] == datetime(2025, 1, 6, 7, 58, 10, tzinfo=UTC)
    assert (by_ip["source_url"], by_ip["source_ip"], by_ip["source_asn"]) == (
        "http://117.50.183.91:44535/i",
        "117.50.183.91",
        4808,
    )
    # A host that is the URL's IP address is no host name.
    assert by_ip["source_fqdn"] is None
    assert (named["source_fqdn"], named["source_geolocation_cc"], named["domestic"]) == (
        "mirror.example.cn",
        "CN",
        True,
    )
    assert json.loads(named["extra"]) == {"URL_status": "online", "Threat": "malware_download"}
    # A row cut after URL_status keeps what it has (the lake takes the IP from the URL's host).
    assert (short["source_url"], short["source_ip"], short["source_asn"], short["extra"]) == (
        "http://116.62.1.9:8080/Photo.scr",
        "116.62.1.9",
        None,
        '{"URL_status":"offline"}',
    )
    assert gov_suffix["source_asn"] == 21859
    assert {r["tlp"] for r in rows} == {"CLEAR"}


def test_country_feed_rejects_keep_line_and_reason(workspace):
    ingest_paths(workspace, [COUNTRY])
    rejects = {r["line"]: r["reason"] for r in list_rejects(workspace)}
    assert set(rejects) == {15, 16, 17, 18, 20}
    assert {line: rejects[line] for line in (15, 16, 17, 18)} == {
        15: "Dateadded is missing or not a date-time",
        16: "URL is empty",
        17: "IPaddress is not an IP address",
        18: "ASnumber is not an AS number",
    }
    # Nine fields for eight columns (the CSV reader words the reason).
    assert "9" in rejects[20] and "8" in rejects[20]


def test_feed_with_tags_takes_the_family_from_them(workspace):
    [result] = ingest_paths(workspace, [TLD_WITH_TAGS])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (5, 4, 0, 1)
    rows = lake_rows(workspace)
    assert [r["malware_name"] for r in rows] == ["spynote", None, None, "agenttesla"]
    assert json.loads(rows[0]["extra"])["Tags"] == "apk,SpyNote"
    # "None" is URLhaus' word for no tags, not a family.
    assert json.loads(rows[2]["extra"])["Tags"] == "None"
    assert (rows[2]["source_ip"], rows[2]["source_geolocation_cc"], rows[2]["domestic"]) == ("203.0.113.9", "NL", True)
    assert rows[3]["is_gov"] is True
    [reject] = list_rejects(workspace)
    assert (reject["line"], reject["reason"]) == (15, "Dateadded is missing or not a date-time")


def test_plain_url_list_takes_the_file_time(workspace, tmp_path):
    written = datetime(2025, 1, 6, 8, 5, 12, tzinfo=UTC)
    copy = tmp_path / "text_online.txt"
    copy.write_bytes(TEXT.read_bytes())
    os.utime(copy, (written.timestamp(), written.timestamp()))
    [result] = ingest_paths(workspace, [copy])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (6, 4, 1, 1)
    rows = lake_rows(workspace)
    # Lines count the comment block; the blank line is skipped, not counted.
    assert [r["source_line"] for r in rows] == [9, 10, 12, 15]
    assert {r["time_source"] for r in rows} == {written}
    assert {(r["classification_taxonomy"], r["classification_type"]) for r in rows} == {MALWARE_DISTRIBUTION}
    assert rows[1]["source_url"] == "https://update.example.cn/app/wechat_update.apk"
    assert [(r["line"], r["reason"]) for r in list_rejects(workspace)] == [(14, "line is not a URL")]


def test_url_list_without_urlhaus_preamble_is_not_claimed():
    sample = Sample("urls.txt", "# my own list\nhttp://198.51.100.1/x\nhttp://198.51.100.2/y\n")
    assert not any(f.name == "abusech-urlhaus-text" and f.recognise(sample) for f in all_feeds())
