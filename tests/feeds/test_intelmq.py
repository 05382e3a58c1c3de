import json
from datetime import UTC, datetime

from helpers import SAMPLES, lake_rows
from sitrep.feeds import detect
from sitrep.lake.ingest import ingest_paths, sample_of
from sitrep.lake.rejects import list_rejects
from sitrep.taxonomy import taxonomy_of

SAMPLE = SAMPLES / "intelmq-output.jsonl"


def test_recognised_from_content_even_when_renamed(tmp_path):
    renamed = tmp_path / "events.txt"
    renamed.write_bytes(SAMPLE.read_bytes())
    assert detect(sample_of(renamed)).name == "intelmq"


def test_maps_every_intelmq_field_with_a_column(workspace):
    [result] = ingest_paths(workspace, [SAMPLE])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (19, 13, 1, 5)
    rows = lake_rows(workspace)
    assert [r["source_line"] for r in rows] == [1, 2, 3, 4, 5, *range(12, 20)]
    first = rows[0]
    assert first["time_source"] == datetime(2025, 1, 6, 8, 12, 30, tzinfo=UTC)
    assert first["time_observation"] == datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    assert (
        first["classification_taxonomy"],
        first["classification_type"],
        first["classification_identifier"],
    ) == (
        "malicious-code",
        "infected-system",
        "andromeda",
    )
    assert (first["source_ip"], first["source_port"], first["source_asn"]) == ("114.114.114.114", 51234, 4134)
    assert (first["source_geolocation_cc"], first["source_geolocation_region"]) == ("CN", "JIANGSU")
    assert (first["destination_ip"], first["destination_port"]) == ("198.51.100.7", 80)
    assert first["malware_name"] == "andromeda"
    assert first["tlp"] == "AMBER"
    assert json.loads(first["extra"]) == {
        "feed.accuracy": 100.0,
        "feed.name": "Shadowserver Sinkhole",
        "feed.provider": "Shadowserver",
        "source.as_name": "CHINANET-BACKBONE",
        "protocol.transport": "tcp",
        "public_source": "CNCERT",
        "tags": ["sinkhole", "botnet"],
    }
    phish = rows[1]
    assert phish["source_url"] == "https://icbc-login.example.top/"
    assert phish["source_fqdn"] == "icbc-login.example.top"
    assert phish["event_description_target"] == "www.icbc.com.cn"
    assert phish["tlp"] == "CLEAR"  # TLP:WHITE is TLP 1.0 for CLEAR


def test_old_intelmq_classification_is_translated(workspace):
    ingest_paths(workspace, [SAMPLE])
    rows = lake_rows(workspace)
    classes = [
        (r["classification_taxonomy"], r["classification_type"], r["classification_identifier"]) for r in rows[2:5]
    ]
    assert classes == [
        ("information-content-security", "unauthorised-information-modification", "defacement"),
        ("malicious-code", "infected-system", None),
        ("intrusions", "system-compromise", "backdoor"),
    ]
    # No time.source: the observation time stands in; no tlp: the feed default.
    assert rows[3]["time_source"] == datetime(2025, 1, 6, 12, 0, tzinfo=UTC)
    assert rows[3]["tlp"] == "AMBER"
    assert json.loads(rows[4]["extra"])["webshell"] == "china chopper"


def test_rejects_keep_line_and_reason(workspace):
    ingest_paths(workspace, [SAMPLE])
    rejects = {r["line"]: r["reason"] for r in list_rejects(workspace)}
    assert rejects == {
        7: "time.source/time.observation is missing or not a date-time",
        8: "source.ip is not an IP address",
        9: "tlp is not a TLP label",
        10: "nothing observed: no IP, URL, host name or vulnerability id",
        11: "not a JSON object",
    }


def test_missing_taxonomy_is_derived_from_the_type_as_intelmq_does(workspace):
    ingest_paths(workspace, [SAMPLE])
    classes = {
        r["source_line"]: (r["classification_taxonomy"], r["classification_type"])
        for r in lake_rows(workspace, where="source_line >= 12")
    }
    assert classes == {
        12: ("fraud", "phishing"),
        13: ("information-gathering", "scanner"),
        14: ("vulnerable", "ddos-amplifier"),
        # An old name is translated first, then its taxonomy derived.
        15: ("malicious-code", "c2-server"),
        # A taxonomy without a type: the type is "undetermined"; neither: other/undetermined.
        16: ("vulnerable", "undetermined"),
        17: ("other", "undetermined"),
        # A type IntelMQ does not list is kept (lower case) under "other".
        18: ("other", "brand-new-type"),
        19: ("malicious-code", "infected-system"),
    }


def test_taxonomy_table_covers_every_rsit_type():
    # ENISA RSIT (Reference Security Incident Taxonomy), the types of each taxonomy.
    rsit = {
        "abusive-content": ("spam", "harmful-speech", "violence"),
        "malicious-code": ("infected-system", "c2-server", "malware-distribution", "malware-configuration"),
        "information-gathering": ("scanner", "sniffing", "social-engineering"),
        "intrusion-attempts": ("ids-alert", "brute-force", "exploit"),
        "intrusions": (
            "privileged-account-compromise",
            "unprivileged-account-compromise",
            "application-compromise",
            "system-compromise",
            "burglary",
        ),
        "availability": ("dos", "ddos", "misconfiguration", "sabotage", "outage"),
        "information-content-security": (
            "unauthorised-information-access",
            "unauthorised-information-modification",
            "data-loss",
            "data-leak",
        ),
        "fraud": ("unauthorised-use-of-resources", "copyright", "masquerade", "phishing"),
        "vulnerable": (
            "weak-crypto",
            "ddos-amplifier",
            "potentially-unwanted-accessible",
            "information-disclosure",
            "vulnerable-system",
        ),
        "other": ("other", "undetermined"),
        "test": ("test",),
    }
    assert {t: taxonomy_of(t) for types in rsit.values() for t in types} == {
        t: taxonomy for taxonomy, types in rsit.items() for t in types
    }
    assert taxonomy_of("not-a-type") == "other"


def test_ports_and_as_numbers_that_are_none_are_rejected_not_nulled(workspace, tmp_path):
    base = {"time.source": "2025-01-06T03:00:00+00:00", "classification.type": "scanner", "source.ip": "198.51.100.9"}
    bad = [
        {"source.port": "1e3"},
        {"source.port": 70000},
        {"source.asn": 4294967296},
        {"destination.port": "0x50"},
        {"destination.ip": "198.51.100"},
        {"source.port": 8080, "source.asn": 4134, "destination.port": 443},
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(base | b) + "\n" for b in bad), encoding="utf-8")
    [result] = ingest_paths(workspace, [path])
    assert (result.accepted, result.rejected) == (1, 5)
    assert {r["line"]: r["reason"] for r in list_rejects(workspace)} == {
        1: "source.port is not a port number",
        2: "source.port is not a port number",
        3: "source.asn is not an AS number",
        4: "destination.port is not a port number",
        5: "destination.ip is not an IP address",
    }
    [row] = lake_rows(workspace)
    assert (row["source_port"], row["source_asn"], row["destination_port"]) == (8080, 4134, 443)


def test_a_defanged_url_gets_the_site_of_its_real_host(workspace, tmp_path):
    base = {"time.source": "2025-01-06T03:00:00+00:00", "classification.type": "phishing"}
    path = tmp_path / "events.jsonl"
    path.write_text(
        json.dumps(base | {"source.url": "hxxps://login.example[.]gov[.]cn/x"})
        + "\n"
        + json.dumps(base | {"source.fqdn": "mail.example[.]gov[.]cn"})
        + "\n",
        encoding="utf-8",
    )
    [result] = ingest_paths(workspace, [path])
    assert (result.accepted, result.rejected) == (2, 0)
    url, host = lake_rows(workspace)
    assert (url["source_url"], url["site"], url["site_domain"], url["is_gov"]) == (
        "https://login.example.gov.cn/x",
        "login.example.gov.cn",
        "example.gov.cn",
        True,
    )
    assert (host["source_fqdn"], host["site"], host["is_gov"]) == ("mail.example.gov.cn", "mail.example.gov.cn", True)


def test_a_file_whose_first_line_is_cut_off_is_still_recognised(workspace, tmp_path):
    good = {"time.source": "2025-01-06T03:00:00+00:00", "classification.type": "scanner", "source.ip": "198.51.100.9"}
    path = tmp_path / "events.jsonl"
    path.write_text('{"time.source": "2025-01-06T02:00:00+00:00", "source.ip": "198.51\n' + json.dumps(good) + "\n")
    assert detect(sample_of(path)).name == "intelmq"
    [result] = ingest_paths(workspace, [path])
    assert (result.accepted, result.rejected) == (1, 1)
