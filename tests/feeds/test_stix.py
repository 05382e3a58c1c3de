import json
from datetime import UTC, datetime

from helpers import SAMPLES, lake_rows
from sitrep.feeds import detect, get_feed
from sitrep.lake.ingest import ingest_paths, sample_of
from sitrep.lake.rejects import list_rejects

SAMPLE = SAMPLES / "stix-bundle-2025-01-06.json"


def test_recognised_from_content_even_when_renamed(tmp_path):
    renamed = tmp_path / "taxii-download.json"
    renamed.write_bytes(SAMPLE.read_bytes())
    assert detect(sample_of(renamed)).name == "stix"


def test_indicators_observed_data_and_sightings(workspace):
    [result] = ingest_paths(workspace, [SAMPLE])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (15, 10, 0, 5)
    rows = lake_rows(workspace)
    assert [(r["source_line"], r["source_ip"] or r["source_fqdn"] or r["source_url"]) for r in rows] == [
        (1, "203.0.113.66"),  # one event per comparison of an OR
        (2, "114.114.114.114"),
        (3, "https://abc-bank.example-verify.top/login?next=%2F"),  # ... and of an AND
        (4, "abc-bank.example-verify.top"),
        (7, "2001:db8:9::1"),
        (8, "223.5.5.5"),  # observed-data object_refs, looked up in the bundle
        (9, "dl.example-cdn.net"),
        (10, "198.51.100.40"),  # observed-data's own objects (the file SCO is not mapped)
        (11, "203.0.113.66"),  # a sighting of the first indicator
        (12, "114.114.114.114"),
    ]
    assert rows[7]["source_url"] == "http://198.51.100.40/app/update.apk"
    assert [r["classification_type"] for r in rows] == [
        "c2-server",  # label c2
        "c2-server",
        "phishing",  # label phishing
        "phishing",
        "system-compromise",  # indicator_types compromised
        "malware-distribution",  # label malware-distribution
        "malware-distribution",
        "undetermined",  # nothing says what it is
        "c2-server",  # the sighted indicator's labels
        "c2-server",
    ]
    assert rows[4]["classification_identifier"] == "compromised"
    # TLP 2.0 amber; TLP 1.0 white = CLEAR; none = the feed's AMBER; 2.0 red; a sighting's own green.
    assert [r["tlp"] for r in rows] == [
        "AMBER",
        "AMBER",
        "CLEAR",
        "CLEAR",
        "AMBER",
        "AMBER",
        "AMBER",
        "RED",
        "GREEN",
        "GREEN",
    ]
    assert [r["time_source"] for r in (rows[0], rows[2], rows[4], rows[5], rows[8])] == [
        datetime(2025, 1, 6, 4, 0, tzinfo=UTC),  # valid_from
        datetime(2025, 1, 6, 5, 30, 0, 250000, tzinfo=UTC),
        datetime(2025, 1, 6, 7, 45, tzinfo=UTC),  # no valid_from: created
        datetime(2025, 1, 6, 9, 0, tzinfo=UTC),  # first_observed
        datetime(2025, 1, 7, 1, 0, tzinfo=UTC),  # first_seen
    ]
    assert rows[3]["source_fqdn"] == "abc-bank.example-verify.top"  # lower-cased
    extra = json.loads(rows[8]["extra"])
    assert (extra["stix_type"], extra["count"], extra["name"]) == ("sighting", 12, "Emotet C2 servers")
    assert extra["sighting_of_ref"] == "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"


def test_rejects_keep_record_number_and_reason(workspace):
    ingest_paths(workspace, [SAMPLE])
    rejects = {r["line"]: r for r in list_rejects(workspace)}
    assert {line: r["reason"] for line, r in rejects.items()} == {
        5: "pattern compares no ipv4-addr, ipv6-addr, url or domain-name value",
        6: "pattern_type is snort, not stix",
        13: "sighting_of_ref is not an indicator of the bundle",
        14: "revoked",
        15: "value is not an IP address",
    }
    assert json.loads(rejects[15]["raw"])["pattern"] == "[ipv4-addr:value = '999.0.0.1']"


def test_bundle_markings_escapes_and_benign_indicators(workspace, tmp_path):
    bundle = {
        "type": "bundle",
        "id": "bundle--0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
        "object_marking_refs": ["marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"],
        "objects": [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": "indicator--1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
                "created": "2025-01-08T00:00:00Z",
                "modified": "2025-01-08T00:00:00Z",
                "indicator_types": ["malicious-activity"],
                "labels": ["phishing"],
                "pattern": r"[url:value = 'http://example-login.top/it\'s-you'] FOLLOWEDBY "
                "[ipv4-addr:value = '192.0.2.5']",
                "pattern_type": "stix",
                "valid_from": "2025-01-08T00:00:00Z",
            },
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": "indicator--2a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
                "created": "2025-01-08T00:00:00Z",
                "modified": "2025-01-08T00:00:00Z",
                "indicator_types": ["benign"],
                "pattern": "[domain-name:value = 'www.example.com']",
                "pattern_type": "stix",
                "valid_from": "2025-01-08T00:00:00Z",
            },
        ],
    }
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    [result] = ingest_paths(workspace, [path])
    assert (result.format, result.read, result.accepted, result.rejected) == ("stix", 3, 2, 1)
    rows = lake_rows(workspace)
    # The pattern literal's \' is a quote; the bundle's own marking applies to unmarked objects.
    assert [r["source_url"] for r in rows] == ["http://example-login.top/it's-you", None]
    assert [r["tlp"] for r in rows] == ["AMBER+STRICT", "AMBER+STRICT"]
    assert {r["line"]: r["reason"] for r in list_rejects(workspace)} == {3: "indicator_types says benign"}


def test_an_object_type_is_matched_as_a_whole_name(workspace, tmp_path):
    pattern = "[x-custom-url:value = 'http://custom.example/'] OR [url:value = 'http://real.example/a']"
    bundle = {
        "type": "bundle",
        "id": "bundle--5c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
        "objects": [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": "indicator--3a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
                "created": "2025-01-08T00:00:00Z",
                "modified": "2025-01-08T00:00:00Z",
                "labels": ["phishing"],
                "pattern": pattern,
                "pattern_type": "stix",
                "valid_from": "2025-01-08T00:00:00Z",
            },
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": "indicator--4a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
                "created": "2025-01-08T00:00:00Z",
                "modified": "2025-01-08T00:00:00Z",
                "pattern": "[x-acme-domain-name:value = 'acme.example']",
                "pattern_type": "stix",
                "valid_from": "2025-01-08T00:00:00Z",
            },
        ],
    }
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    [result] = ingest_paths(workspace, [path])
    assert (result.accepted, result.rejected) == (1, 1)
    assert [r["source_url"] for r in lake_rows(workspace)] == ["http://real.example/a"]
    assert {r["line"]: r["reason"] for r in list_rejects(workspace)} == {
        2: "pattern compares no ipv4-addr, ipv6-addr, url or domain-name value"
    }


def test_a_document_that_is_no_bundle_is_refused(workspace, tmp_path):
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"Event": {"uuid": "a1", "Attribute": []}}))
    [result] = ingest_paths(workspace, [path], feed=get_feed("stix"))
    assert result.error == 'not a STIX bundle: the document\'s "type" is not "bundle"'
