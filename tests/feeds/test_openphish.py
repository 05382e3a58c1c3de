import json
import os
import zipfile
from datetime import UTC, datetime

from helpers import SAMPLES, lake_rows
from sitrep.feeds import all_feeds, detect
from sitrep.feeds.base import Sample
from sitrep.lake.ingest import ingest_paths, sample_of
from sitrep.lake.rejects import list_rejects

PLAIN = SAMPLES / "openphish-feed.txt"
PREMIUM = SAMPLES / "openphish-premium.jsonl"
WRITTEN = datetime(2025, 1, 6, 9, 30, tzinfo=UTC)


def _copy_with_time(src, tmp_path, name="feed.txt"):
    target = tmp_path / name
    target.write_bytes(src.read_bytes())
    os.utime(target, (WRITTEN.timestamp(), WRITTEN.timestamp()))
    return target


def test_both_layouts_recognised_from_content(tmp_path):
    plain = tmp_path / "a.dat"
    plain.write_bytes(PLAIN.read_bytes())
    premium = tmp_path / "b.dat"
    premium.write_bytes(PREMIUM.read_bytes())
    assert detect(sample_of(plain)).name == "openphish"
    assert detect(sample_of(premium)).name == "openphish-json"


def test_plain_url_list_with_comment_block_is_not_claimed():
    sample = Sample("urls.txt", "# URLhaus plain-text dump\nhttp://198.51.100.1/x\nhttp://198.51.100.2/y\n")
    assert not any(f.name == "openphish" and f.recognise(sample) for f in all_feeds())


def test_plain_feed_takes_the_file_time(workspace, tmp_path):
    [result] = ingest_paths(workspace, [_copy_with_time(PLAIN, tmp_path)])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (9, 6, 1, 2)
    rows = lake_rows(workspace)
    assert [r["source_line"] for r in rows] == [1, 2, 3, 5, 8, 10]
    assert {r["time_source"] for r in rows} == {WRITTEN}
    assert {r["time_observation"] for r in rows} == {WRITTEN}
    assert rows[0]["source_url"] == "https://secure-icbc-login.example.top/cn/index.html"
    assert {(r["classification_taxonomy"], r["classification_type"]) for r in rows} == {("fraud", "phishing")}
    assert rows[0]["event_description_target"] is None
    rejects = {r["line"]: r["reason"] for r in list_rejects(workspace)}
    assert rejects == {6: "line is not an http(s) URL", 9: "line is not an http(s) URL"}


def test_plain_feed_in_a_zip_takes_the_member_date(workspace, tmp_path):
    archive = tmp_path / "openphish.zip"
    with zipfile.ZipFile(archive, "w") as z:
        info = zipfile.ZipInfo("feed.txt", date_time=(2025, 1, 5, 12, 0, 0))
        z.writestr(info, PLAIN.read_bytes())
    [result] = ingest_paths(workspace, [archive])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (9, 6, 1, 2)
    assert result.file.endswith("openphish.zip!feed.txt")
    # Zip dates are local time without a zone; the member date is read in the machine's zone.
    expected = datetime(2025, 1, 5, 12, 0, 0).astimezone(UTC)
    assert {r["time_source"] for r in lake_rows(workspace)} == {expected}


def test_premium_feed_maps_brand_ip_and_country(workspace):
    [result] = ingest_paths(workspace, [PREMIUM])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (10, 4, 1, 5)
    rows = lake_rows(workspace)
    assert [r["source_line"] for r in rows] == [1, 2, 3, 10]
    first = rows[0]
    assert first["event_description_target"] == "Industrial and Commercial Bank of China"
    assert first["source_ip"] == "47.74.12.34"
    assert first["source_asn"] == 45102
    assert first["source_geolocation_cc"] == "SG"
    assert first["source_fqdn"] == "icbc-verify.example.top"
    assert first["time_source"] == datetime(2025, 1, 6, 3, 12, 9, tzinfo=UTC)
    extra = json.loads(first["extra"])
    assert (extra["sector"], extra["family_id"]) == ("Financial", "8a1f0c2d9e7b4a6f1c3e5d7b9a0f2e4c")
    # A null phishing_kit is left out rather than kept as "null".
    assert "phishing_kit" not in extra
    assert rows[1]["target_domain"] == "www.gov.cn"
    # Without isotime, discover_time (day first, "UTC" written out) is the time.
    assert rows[1]["time_source"] == datetime(2025, 1, 6, 4, 0, tzinfo=UTC)
    # "Generic/Spear Phishing" means the target is unknown.
    assert rows[2]["event_description_target"] is None
    assert rows[2]["source_ip"] == "2001:db8::1f"
    # An isotime with an offset is converted to UTC.
    assert rows[3]["time_source"] == datetime(2025, 1, 6, 0, 45, tzinfo=UTC)
    assert json.loads(rows[3]["extra"])["phishing_kit"] == "jd-kit-v2"
    assert {r["tlp"] for r in rows} == {"CLEAR"}


def test_premium_rejects_keep_record_line_and_reason(workspace):
    ingest_paths(workspace, [PREMIUM])
    rejects = {r["line"]: r["reason"] for r in list_rejects(workspace)}
    assert rejects == {
        5: "ip is not an IP address",
        6: "isotime/discover_time is missing or not a date-time",
        7: "url is empty",
        8: "not a JSON object",
        9: "not a JSON object",
    }
