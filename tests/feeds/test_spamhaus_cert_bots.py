import json
from datetime import UTC, datetime

from helpers import SAMPLES, lake_rows
from sitrep.feeds import detect
from sitrep.lake.ingest import ingest_paths, sample_of
from sitrep.lake.rejects import list_rejects

SAMPLE = SAMPLES / "spamhaus-cert-bots.txt"


def test_recognised_from_content_even_when_renamed(tmp_path):
    renamed = tmp_path / "bots.csv"
    renamed.write_bytes(SAMPLE.read_bytes())
    assert detect(sample_of(renamed)).name == "spamhaus-cert-bots"


def test_maps_bots_to_infected_hosts(workspace):
    [result] = ingest_paths(workspace, [SAMPLE])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (15, 11, 1, 3)
    rows = lake_rows(workspace, where="source_line < 30")
    # Data lines start after the 20 comment lines.
    assert [r["source_line"] for r in rows] == [21, 22, 24, 28, 29]
    assert {(r["classification_taxonomy"], r["classification_type"]) for r in rows} == {
        ("malicious-code", "infected-system")
    }
    first = rows[0]
    assert first["source_ip"] == "114.114.114.114"  # spaces after commas are trimmed
    assert first["source_asn"] == 4134
    assert first["time_source"] == datetime(2025, 1, 7, 0, 0, tzinfo=UTC)  # lastseen 1736208000
    assert (first["destination_ip"], first["destination_port"], first["source_port"]) == (
        "198.51.100.7",
        80,
        49260,
    )
    assert first["malware_name"] == "andromeda"
    assert first["tlp"] == "CLEAR"
    assert rows[1]["malware_name"] == "qakbot"
    assert rows[2]["source_asn"] is None  # "?" is an unknown ASN, not an error
    assert (rows[0]["domestic"], rows[3]["domestic"]) == (True, False)


def test_rejects_keep_line_and_reason(workspace):
    ingest_paths(workspace, [SAMPLE])
    rejects = {r["line"]: r["reason"] for r in list_rejects(workspace)}
    assert rejects[25] == "lastseen is missing or not a Unix timestamp"
    assert rejects[26] == "ip is not an IP address"
    assert rejects[27] == "ip is empty"
    assert len(rejects) == 3


def test_short_row_is_kept_with_its_missing_trailing_fields_null(workspace):
    ingest_paths(workspace, [SAMPLE])
    [row] = lake_rows(workspace, where="source_line = 28")
    assert (row["source_ip"], row["malware_name"], row["source_port"]) == ("8.8.8.8", None, None)


def test_bot_names_that_name_an_activity_are_classified_as_intelmq_does(workspace):
    ingest_paths(workspace, [SAMPLE])
    rows = {r["source_line"]: r for r in lake_rows(workspace, where="source_line >= 30")}
    classes = {
        line: (
            r["classification_taxonomy"],
            r["classification_type"],
            r["classification_identifier"],
            r["malware_name"],
        )
        for line, r in rows.items()
    }
    assert classes == {
        30: ("intrusion-attempts", "brute-force", "ssh", None),
        31: ("vulnerable", "vulnerable-system", "openrelay", None),
        # iotscan towards port 23 is a telnet scan.
        32: ("information-gathering", "scanner", "telnet", None),
        33: ("abusive-content", "spam", "spamlink", "cutwail"),
        # "auto" is Spamhaus' unnamed bot.
        34: ("malicious-code", "infected-system", "s_other", "s_other"),
        35: ("malicious-code", "infected-system", "gootkit", "gootkit"),
    }
    # sshauth: "-" is no C&C domain; the local port is the host's.
    assert (rows[30]["source_port"], rows[30]["destination_port"], rows[30]["extra"]) == (
        51514,
        22,
        '{"protocol":"tcp"}',
    )
    # l_spamlink: the "domain" is the URL in the spam, local_port is spam-ip:version:family.
    assert rows[33]["source_url"] == "http://spam-target.example.top/x"
    assert (rows[33]["source_port"], json.loads(rows[33]["extra"])) == (
        None,
        {"protocol": "tcp", "spam_ip": "192.0.2.44"},
    )


def test_fields_added_without_notice_are_ignored_and_a_host_name_port_kept_in_extra(workspace):
    ingest_paths(workspace, [SAMPLE])
    [row] = lake_rows(workspace, where="source_line = 35")
    assert (row["destination_ip"], row["destination_port"], row["source_port"]) == ("198.51.100.66", 1696, None)
    assert json.loads(row["extra"]) == {"protocol": "tcp", "local_port": "cc.example.com"}
