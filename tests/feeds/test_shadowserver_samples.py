"""Hand-written Shadowserver reports of the types the weekly indicators are built on, in the published
layouts (some with an older header), read through the table-driven formats."""

import json
from datetime import UTC, datetime

import pytest

from helpers import SAMPLES, lake_rows
from sitrep.lake.ingest import ingest_paths
from sitrep.lake.rejects import list_rejects

SINKHOLE = SAMPLES / "2025-01-01-event4_sinkhole-cncert-cn.csv"
HTTP_V4 = SAMPLES / "2025-01-06-event4_sinkhole_http-cncert-cn.csv"
HTTP_V6 = SAMPLES / "2025-01-06-event6_sinkhole_http-cncert-cn.csv"
COMPROMISED = SAMPLES / "2025-01-06-compromised_website-cncert-cn.csv"
MALWARE_URL = SAMPLES / "2025-01-06-malware_url-cncert-cn.csv"
EXCHANGE = SAMPLES / "2025-01-07-scan_exchange-cncert-cn.csv"
HTTP_VULNERABLE = SAMPLES / "2025-01-07-scan_http_vulnerable-cncert-cn.csv"


def _rejects(workspace) -> dict[int, str]:
    return {r["line"]: r["reason"] for r in list_rejects(workspace)}


def test_sinkhole_rows_are_infected_hosts(workspace):
    [result] = ingest_paths(workspace, [SINKHOLE])
    assert (result.format, result.read, result.accepted, result.duplicates, result.rejected) == (
        "shadowserver-event4-sinkhole",
        7,
        3,
        1,
        3,
    )
    rows = lake_rows(workspace)
    assert [r["source_ip"] for r in rows] == ["114.114.114.114", "223.5.5.5", "8.8.8.8"]
    first = rows[0]
    assert (first["classification_taxonomy"], first["classification_type"]) == ("malicious-code", "infected-system")
    # The schema takes both the identifier and the malware name from ``infection``.
    assert (first["classification_identifier"], first["malware_name"]) == ("andromeda", "andromeda")
    assert first["time_source"] == datetime(2025, 1, 1, 0, 0, 5, tzinfo=UTC)
    assert (first["source_port"], first["source_asn"], first["destination_ip"]) == (51234, 4134, "198.51.100.7")
    assert first["tlp"] == "AMBER"
    # Columns without an event column stay in extra under their own names.
    assert json.loads(first["extra"]) == {
        "protocol": "tcp",
        "src_city": "NANJING",
        "dst_geo": "US",
        "public_source": "CNCERT",
        "family": "andromeda",
        "application": "http",
    }
    # Feed geo first (JIANGSU), then the IP database (223.5.5.5 is Zhejiang).
    assert [(r["country"], r["region"], r["domestic"]) for r in rows] == [
        ("CN", "JS", True),
        ("CN", "ZJ", True),
        ("US", None, False),
    ]
    assert [r["source_line"] for r in rows] == [2, 3, 8]
    assert _rejects(workspace) == {
        5: "timestamp is missing or not a date-time",
        6: "src_ip is not an IP address",
        7: "row has 3 of 30 fields; it lacks the required src_port",
    }


def test_sinkhole_http_keeps_the_request_in_extra(workspace):
    [result] = ingest_paths(workspace, [HTTP_V4])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (9, 6, 1, 2)
    rows = lake_rows(workspace)
    assert [r["source_ip"] for r in rows] == ["114.114.114.114", "223.5.5.5", "1.2.4.8", None, "8.8.8.8", "1.2.4.8"]
    first = rows[0]
    assert first["malware_name"] == "andromeda"
    # The sinkholed C&C is not the infected host's site.
    assert first["source_url"] is None and first["site"] is None
    extra = json.loads(first["extra"])
    assert (extra["http_host"], extra["family"]) == ("differentia.ru", "avalanche-andromeda")
    # A short row keeps what it has; its required fields are all there.
    assert (rows[2]["source_line"], rows[2]["source_asn"], rows[2]["source_geolocation_cc"]) == (7, 4808, "CN")
    assert rows[5]["malware_name"] == "mirai"  # lower-cased
    assert _rejects(workspace) == {5: "timestamp is missing or not a date-time", 6: "src_ip is not an IP address"}


def test_sinkhole_http_v6(workspace):
    [result] = ingest_paths(workspace, [HTTP_V6])
    assert result.format == "shadowserver-event6-sinkhole-http"
    rows = lake_rows(workspace)
    # Upper-case hex is stored lower-case.
    assert rows[0]["source_ip"] == "2001:da8:8000:1::1234"
    assert rows[0]["destination_ip"] == "2001:db8:1:332::ef"
    assert [(r["country"], r["region"]) for r in rows if r["source_ip"].startswith("2")][:2] == [
        ("CN", "BJ"),
        ("CN", "GD"),
    ]


def test_compromised_websites_are_defaced_backdoored_or_compromised(workspace):
    [result] = ingest_paths(workspace, [COMPROMISED])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (10, 7, 1, 2)
    rows = lake_rows(workspace)
    got = [
        (r["source_line"], r["classification_taxonomy"], r["classification_type"], r["classification_identifier"])
        for r in rows
    ]
    assert got == [
        (2, "information-content-security", "unauthorised-information-modification", "defacement"),
        (3, "intrusions", "system-compromise", "webshell"),
        (4, "intrusions", "system-compromise", "compromised-website"),
        (5, "intrusions", "system-compromise", "backdoor"),
        (9, "information-content-security", "unauthorised-information-modification", "defacement"),
        (10, "information-content-security", "unauthorised-information-modification", "defacement"),
        (11, "intrusions", "system-compromise", "compromised-website"),
    ]
    defaced, webshell, spam, backdoor, no_ip, short, _ = rows
    # http_host + url path make the URL; the site is its host.
    assert defaced["source_url"] == "http://www.edu.example.gov.cn/index.html"
    assert (defaced["site"], defaced["is_gov"], defaced["domestic"]) == ("www.edu.example.gov.cn", True, True)
    assert webshell["source_url"] == "https://shop.example.com.cn/upload/1.php"  # scheme from application
    assert webshell["malware_name"] == "china-chopper"
    # Without http_host there is no URL: the path alone names no site, the hostname is reverse DNS.
    assert (spam["source_url"], spam["source_fqdn"]) == (None, None)
    assert json.loads(spam["extra"])["hostname"] == "mail.example.cn"
    assert backdoor["source_url"] == "http://bbs.example.org/plugins/x.php"  # an absolute url is kept
    assert no_ip["source_ip"] is None and no_ip["site"] == "c.example.cn"
    assert short["source_line"] == 10 and short["source_ip"] == "180.76.76.78"
    assert _rejects(workspace) == {7: "timestamp is missing or not a date-time", 8: "ip is not an IP address"}


def test_malware_url_in_the_current_layout(workspace):
    [result] = ingest_paths(workspace, [MALWARE_URL])
    assert (result.format, result.read, result.accepted, result.duplicates, result.rejected) == (
        "shadowserver-malware-url",
        9,
        3,
        1,
        5,
    )
    rows = lake_rows(workspace)
    first = rows[0]
    assert (first["classification_taxonomy"], first["classification_type"], first["classification_identifier"]) == (
        "malicious-code",
        "malware-distribution",
        "malware-url",
    )
    assert (first["source_url"], first["source_ip"], first["source_port"]) == (
        "http://42.225.3.4:38173/Mozi.m",
        "42.225.3.4",
        38173,
    )
    # ``hostname`` is the URL's host: an IP address names no host.
    assert first["source_fqdn"] is None and rows[1]["source_fqdn"] == "down.example.cn"
    assert [r["source_line"] for r in rows] == [2, 3, 10]
    assert json.loads(first["extra"])["tag"] == "mozi"
    assert _rejects(workspace) == {
        5: "timestamp is missing or not a date-time",
        6: "ip is not an IP address",
        7: "source.url is not a web address (javascript:)",
        8: "row has 5 of 16 fields; it lacks the required port",
        9: "port is not a port number",
    }


def test_a_malware_url_file_with_the_old_header_lacks_the_required_port(workspace, tmp_path):
    old = tmp_path / MALWARE_URL.name
    lines = MALWARE_URL.read_text().splitlines()
    old.write_text("\n".join([lines[0].replace('"port",', ""), *lines[1:2]]) + "\n")
    [result] = ingest_paths(workspace, [old])
    assert result.error == "not a shadowserver-malware-url file: missing column(s) port, which the format requires"


@pytest.mark.parametrize(
    ("sample", "format"),
    [(EXCHANGE, "shadowserver-scan-exchange"), (HTTP_VULNERABLE, "shadowserver-scan-http-vulnerable")],
)
def test_scan_reports_are_vulnerable_systems_with_the_cve_of_their_tag(workspace, sample, format):
    [result] = ingest_paths(workspace, [sample])
    assert result.format == format
    rows = lake_rows(workspace)
    assert all(r["source_fqdn"] is None for r in rows)  # hostname is reverse DNS: kept in extra
    first = rows[0]
    assert first["classification_taxonomy"] == "vulnerable"
    assert first["vulnerability_cve"] in ("CVE-2021-26855", "CVE-2022-1388")
    assert first["vulnerability_id"] is None  # a scan finding is no new vulnerability
    assert first["tlp"] == "AMBER"
