import json
from datetime import UTC, datetime

from helpers import SAMPLES, lake_rows
from sitrep.feeds import detect
from sitrep.lake.ingest import ingest_paths, sample_of
from sitrep.lake.rejects import list_rejects

INFECTED = SAMPLES / "microsoft-ctip-infected-devices.json"
AZURE = SAMPLES / "microsoft-ctip-azure-ctip-infected-summary.json"


def test_both_layouts_recognised_from_content(tmp_path):
    for sample, name in ((INFECTED, "microsoft-ctip-infected"), (AZURE, "microsoft-ctip-azure")):
        renamed = tmp_path / "download.dat"
        renamed.write_bytes(sample.read_bytes())
        assert detect(sample_of(renamed)).name == name


def test_infected_devices_are_infected_systems_with_their_family(workspace):
    [result] = ingest_paths(workspace, [INFECTED])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (9, 4, 1, 4)
    rows = lake_rows(workspace)
    assert [r["source_line"] for r in rows] == [1, 2, 3, 9]
    assert {(r["classification_taxonomy"], r["classification_type"]) for r in rows} == {
        ("malicious-code", "infected-system")
    }
    first = rows[0]
    # firstreporteddatetime has no offset: UTC.
    assert first["time_source"] == datetime(2025, 1, 6, 3, 10, 11, tzinfo=UTC)
    assert (first["source_ip"], first["source_port"], first["source_asn"]) == ("114.114.114.114", 49321, 4134)
    assert (first["destination_ip"], first["destination_port"]) == ("198.51.100.80", 80)
    assert [r["malware_name"] for r in rows] == ["conficker", "b106-jenxcus", "b75-s12", "necurs"]
    assert [r["tlp"] for r in rows] == ["AMBER", "GREEN", "RED", "CLEAR"]
    # "203.0.113.45, 203.0.113.45" is one address; 0.0.0.0 is none.
    assert rows[1]["destination_ip"] == "203.0.113.45"
    assert rows[2]["destination_ip"] is None
    assert rows[3]["source_ip"] == "2001:db8:4::15"
    # A host name that repeats the destination IP and [null] metadata are left out.
    assert json.loads(first["extra"]) == {
        "description": "Host is a member of Botnet Conficker",
        "confidence": 100,
        "indicatorexpirationdatetime": "2025-01-08T03:12:40.1234567Z",
    }
    second = json.loads(rows[1]["extra"])
    assert (second["hostname"], second["additionalmetadata"]) == ("sink.example.net", ["bot-id=7f3a"])


def test_infected_devices_rejects(workspace):
    ingest_paths(workspace, [INFECTED])
    rejects = {r["line"]: r["reason"] for r in list_rejects(workspace)}
    assert rejects == {
        5: "firstreporteddatetime is missing or not a date-time",
        6: "networksourceipv4 is not an IP address",
        7: "indicatorthreattype is not Botnet (the only CTIP threat type)",
        8: "record is not a JSON object",
    }


def test_azure_lines_map_devices_and_c2_servers(workspace):
    [result] = ingest_paths(workspace, [AZURE])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (8, 4, 1, 3)
    rows = lake_rows(workspace)
    assert [r["source_line"] for r in rows] == [1, 2, 3, 8]
    first, avalanche, c2, unknown_tlp = rows
    # DateTimeReceivedUtc is a Windows file time (100 ns since 1601).
    assert first["time_source"] == datetime(2025, 1, 6, 8, 30, 12, 250000, tzinfo=UTC)
    assert (first["classification_type"], first["malware_name"], first["tlp"]) == ("infected-system", "emotet", "AMBER")
    assert (first["source_ip"], first["source_port"], first["source_asn"], first["source_geolocation_cc"]) == (
        "114.114.114.114",
        50123,
        4134,
        "CN",
    )
    assert first["source_geolocation_region"] == "Jiangsu"
    assert (first["destination_ip"], first["destination_port"]) == ("198.51.100.20", 8080)
    extra = json.loads(first["extra"])
    assert (extra["ThreatCode"], extra["TotalEncounters"]) == ("B77-GV", 4)
    # The base64 JSON payload is decoded; a text payload is kept as text.
    assert extra["Payload"]["family"] == "emotet"
    assert json.loads(avalanche["extra"])["Payload"] == "plain text payload"
    # CTIP writes Yellow for what TLP 2.0 calls AMBER; Microsoft's family name comes before the code.
    assert (avalanche["tlp"], avalanche["malware_name"]) == ("AMBER", "avalanche")
    # A C2 row is about the server: its address is the observed one.
    assert (c2["classification_type"], c2["source_ip"], c2["source_port"], c2["source_geolocation_region"]) == (
        "c2-server",
        "114.114.115.115",
        443,
        "Guangdong",
    )
    assert c2["destination_ip"] is None and json.loads(c2["extra"])["SourceIp"] == "192.0.2.10"
    # "Unknown" TLP falls back to the feed's AMBER; without Malware the threat code names the family.
    assert (unknown_tlp["tlp"], unknown_tlp["malware_name"]) == ("AMBER", "b106-ramnit")
    assert unknown_tlp["source_asn"] == 4812


def test_azure_rejects(workspace):
    ingest_paths(workspace, [AZURE])
    rejects = {r["line"]: r["reason"] for r in list_rejects(workspace)}
    assert rejects == {
        5: "DateTimeReceivedUtc is missing or not a Windows file time",
        6: "SourceIp (DestinationIp for C2) is not an IP address",
        7: "not a JSON object",
    }


def test_azure_ports_and_as_numbers_that_are_none_are_rejected_not_nulled(workspace, tmp_path):
    def line(**values):
        record = {
            "DataFeed": "CTIP-Infected",
            "SourcedFrom": "SinkHoleMessage",
            "DateTimeReceivedUtc": 133806294150000000,
            "ThreatCode": "B67-SS-TINBA",
            "TLP": "Amber",
            "SourceIp": "114.114.114.114",
            "SourcePort": 49152,
            "DestinationIp": "192.0.2.71",
            "DestinationPort": 80,
            "SourceIpInfo": {"SourceIpAsnNumber": "4134", "SourceIpCountryCode": "CN"},
        }
        return json.dumps(record | values) + "\n"

    path = tmp_path / "azure.json"
    path.write_text(
        line(SourcePort=70000)
        + line(SourcePort="1e3")
        + line(DestinationPort="0x50")
        + line(SourceIpInfo={"SourceIpAsnNumber": "4294967296"})
        + line(),
        encoding="utf-8",
    )
    [result] = ingest_paths(workspace, [path])
    assert (result.accepted, result.rejected) == (1, 4)
    assert {r["line"]: r["reason"] for r in list_rejects(workspace)} == {
        1: "SourcePort (DestinationPort for C2) is not a port number",
        2: "SourcePort (DestinationPort for C2) is not a port number",
        3: "DestinationPort is not a port number",
        4: "SourceIpAsnNumber (DestinationIpAsnNumber for C2) is not an AS number",
    }
    [row] = lake_rows(workspace)
    assert (row["source_port"], row["source_asn"], row["destination_port"]) == (49152, 4134, 80)
