import json
from datetime import UTC, datetime

from helpers import SAMPLES, lake_rows
from sitrep.feeds import detect
from sitrep.lake.ingest import ingest_paths, sample_of
from sitrep.lake.rejects import list_rejects

CURRENT = SAMPLES / "teamcymru-cap-20250107.txt"
LEGACY = SAMPLES / "teamcymru-cap-legacy-20180108.txt"


def _classes(rows):
    return {
        r["source_line"]: (r["classification_taxonomy"], r["classification_type"], r["classification_identifier"])
        for r in rows
    }


def test_both_layouts_recognised_from_content(tmp_path):
    for source, name in ((CURRENT, "teamcymru-cap"), (LEGACY, "teamcymru-cap-legacy")):
        renamed = tmp_path / "cymru.txt"
        renamed.write_bytes(source.read_bytes())
        assert detect(sample_of(renamed)).name == name


def test_infected_hosts_with_family_destination_and_as(workspace):
    [result] = ingest_paths(workspace, [CURRENT])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (22, 16, 1, 5)
    rows = {r["source_line"]: r for r in lake_rows(workspace)}
    mirai = rows[4]
    assert mirai["time_source"] == datetime(2025, 1, 6, 3, 44, 22, tzinfo=UTC)
    assert (mirai["source_ip"], mirai["source_asn"], mirai["source_geolocation_cc"]) == ("114.114.114.114", 4134, "CN")
    assert (mirai["malware_name"], mirai["destination_ip"], mirai["destination_port"]) == ("mirai", "198.51.100.7", 23)
    assert mirai["tlp"] == "AMBER"
    extra = json.loads(mirai["extra"])
    # The AS name is asinfo without its trailing country code; protocol 6 is TCP.
    assert (extra["as_name"], extra["protocol.transport"]) == ("CHINANET-BACKBONE No.31,Jin-rong Street", "tcp")
    assert rows[5]["source_port"] == 51234
    # A bot row still written the old way ("srcport … mwtype … dstaddr …").
    assert (rows[7]["malware_name"], rows[7]["source_port"], rows[7]["destination_ip"]) == (
        "conficker",
        61458,
        "198.51.100.9",
    )
    assert (rows[8]["malware_name"], rows[8]["classification_identifier"]) == ("conficker", "conficker")
    # AS 0 is no AS; an unassigned protocol number stays a number; no asinfo, no country.
    assert (rows[20]["source_asn"], rows[20]["source_geolocation_cc"]) == (None, None)
    assert json.loads(rows[20]["extra"])["protocol.transport"] == "200"
    infected = {line for line, r in rows.items() if r["classification_type"] == "infected-system"}
    assert infected == {4, 5, 7, 8, 20}
    assert {rows[line]["classification_taxonomy"] for line in infected} == {"malicious-code"}


def test_other_categories_are_classified_as_intelmq_does(workspace):
    ingest_paths(workspace, [CURRENT])
    rows = {r["source_line"]: r for r in lake_rows(workspace)}
    assert {line: c for line, c in _classes(rows.values()).items() if line in range(9, 20)} == {
        9: ("intrusion-attempts", "brute-force", "ssh"),
        10: ("malicious-code", "c2-server", "http_post"),
        11: ("information-gathering", "scanner", "darknet"),
        12: ("information-gathering", "scanner", "darknet"),
        13: ("information-gathering", "scanner", None),
        14: ("information-gathering", "scanner", "scanner"),
        15: ("fraud", "phishing", "phishing"),
        16: ("other", "proxy", "openproxy"),
        17: ("other", "proxy", "openproxy"),
        18: ("vulnerable", "vulnerable-system", "dns-open-resolver"),
        19: ("abusive-content", "spam", "spam"),
    }
    # "hostname: cc.example.comport: 8080": the port glued to the host name is taken apart.
    assert (rows[10]["source_fqdn"], rows[10]["source_port"], rows[10]["malware_name"]) == (
        "cc.example.com",
        8080,
        "http_post",
    )
    # Several destination ports: one event, the ports in extra (the total_count note dropped).
    assert (rows[11]["destination_port"], json.loads(rows[11]["extra"])["destination_ports"]) == (None, "23,2323")
    assert json.loads(rows[12]["extra"])["destination_ports"] == "17875,24526,54449"
    assert (rows[12]["source_port"], json.loads(rows[12]["extra"])["protocol.transport"]) == (40434, "udp")
    assert rows[13]["destination_port"] == 22
    assert rows[15]["source_url"] == "http://icbc.example-login.cn/login.php"
    assert (rows[16]["source_port"], json.loads(rows[16]["extra"])["protocol.application"]) == (3128, "http")
    assert (rows[17]["source_port"], json.loads(rows[17]["extra"])["protocol.application"]) == (1080, "socks4")
    assert json.loads(rows[18]["extra"])["protocol.application"] == "dns"


def test_rejects_keep_line_and_reason(workspace):
    ingest_paths(workspace, [CURRENT])
    rejects = {r["line"]: r["reason"] for r in list_rejects(workspace)}
    assert set(rejects) == {21, 22, 23, 24, 25}
    assert rejects[21] == "address is not an IP address"
    assert rejects[22] == "timestamp is missing or not a date-time"
    assert rejects[23] == "category is missing or not one of Team Cymru's"
    assert rejects[24] == "asn is not an AS number"
    # Seven fields where the layout has six (the reader words the reason).
    assert "7" in rejects[25]


def test_legacy_layout(workspace):
    [result] = ingest_paths(workspace, [LEGACY])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (14, 12, 0, 2)
    rows = {r["source_line"]: r for r in lake_rows(workspace)}
    assert _classes(rows.values()) == {
        3: ("malicious-code", "infected-system", "conficker"),
        4: ("malicious-code", "infected-system", "mirai mirai bot"),
        5: ("malicious-code", "infected-system", "zeus"),
        6: ("malicious-code", "infected-system", "slammer"),
        7: ("malicious-code", "infected-system", "toxbot"),
        8: ("intrusion-attempts", "brute-force", "ssh"),
        9: ("information-content-security", "unauthorised-information-modification", "defacement"),
        10: ("malicious-code", "malware-distribution", "malwareurl"),
        11: ("fraud", "phishing", "phishing"),
        12: ("other", "proxy", "openproxy"),
        13: ("information-gathering", "scanner", "scanner"),
        14: ("vulnerable", "vulnerable-system", "dns-open-resolver"),
    }
    first = rows[3]
    assert first["time_source"] == datetime(2018, 1, 7, 10, 0, 5, tzinfo=UTC)
    assert (first["source_port"], first["destination_ip"], first["malware_name"]) == (1337, "198.51.100.7", "conficker")
    assert json.loads(first["extra"])["as_name"] == "CHINANET-BACKBONE No.31,Jin-rong Street"
    # "destaddr <ip> <comment>": the comment after the address is no part of it.
    assert rows[5]["destination_ip"] == "198.51.100.8"
    assert rows[6]["malware_name"] == "slammer"
    assert (rows[9]["source_url"], json.loads(rows[9]["extra"])["zoneh_id"]) == (
        "http://www.jyj.example.gov.cn/index.html",
        "41000123",
    )
    assert rows[9]["is_gov"] is True
    assert rows[10]["source_url"] == "http://dl.example.cn/a.exe"
    assert rows[13]["source_port"] == 445
    rejects = {r["line"]: r["reason"] for r in list_rejects(workspace)}
    assert rejects == {
        15: "report ddosreport: its comment layout is not documented",
        16: "report is missing or not one of Team Cymru's",
    }


def test_ports_that_are_none_are_rejected_not_nulled(workspace, tmp_path):
    path = tmp_path / "cap-20250107.txt"
    path.write_text(
        "#generated on 20250107\n"
        "#category|address|asn|timestamp|optional_information|asninfo\n"
        "bot|198.51.100.10|4134|2025-01-06 00:31:31|family: azorult;port: 0x50;|CHINANET-BACKBONE, CN\n"
        "bot|198.51.100.11|4134|2025-01-06 00:32:10|family: mirai;dest_port: 70000;|CHINANET-BACKBONE, CN\n"
        "bot|198.51.100.12|4134|2025-01-06 00:33:02|family: mirai;dest_port: 23;port: 40112;|CHINANET-BACKBONE, CN\n",
        encoding="utf-8",
    )
    [result] = ingest_paths(workspace, [path])
    assert (result.accepted, result.rejected) == (1, 2)
    assert {r["line"]: r["reason"] for r in list_rejects(workspace)} == {
        3: "the source port in optional_information is not a port number",
        4: "the destination port in optional_information is not a port number",
    }
    [row] = lake_rows(workspace)
    assert (row["source_port"], row["destination_port"]) == (40112, 23)


def test_legacy_source_port_that_is_none_is_rejected(workspace, tmp_path):
    path = tmp_path / "cap-legacy.txt"
    path.write_text(
        "# Data file written at Mon Jan  8 00:00:00 2018\n"
        "# Format: report|ip|asn|timestamp|comments|asn_name\n"
        "bots|198.51.100.20|4134|2018-01-07 10:00:00|srcport 70000 mwtype Conficker destaddr 192.0.2.1|CHINANET\n"
        "bots|198.51.100.21|4134|2018-01-07 10:01:00|srcport 1337 mwtype Conficker destaddr 192.0.2.1|CHINANET\n",
        encoding="utf-8",
    )
    [result] = ingest_paths(workspace, [path])
    assert (result.accepted, result.rejected) == (1, 1)
    assert {r["line"]: r["reason"] for r in list_rejects(workspace)} == {
        3: "the source port in comments is not a port number"
    }
    assert lake_rows(workspace)[0]["source_port"] == 1337
