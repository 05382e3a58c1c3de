import json
from datetime import UTC, datetime

from helpers import SAMPLES, lake_rows
from sitrep.feeds import detect, get_feed
from sitrep.lake.ingest import ingest_paths, sample_of
from sitrep.lake.rejects import list_rejects

EVENT = SAMPLES / "misp-event-icbc-phishing.json"
SEARCH = SAMPLES / "misp-restsearch-response.json"


def _classes(rows):
    return [(r["classification_taxonomy"], r["classification_type"], r["classification_identifier"]) for r in rows]


def test_both_layouts_recognised_from_content(tmp_path):
    for sample in (EVENT, SEARCH):
        renamed = tmp_path / "export.txt"
        renamed.write_bytes(sample.read_bytes())
        assert detect(sample_of(renamed)).name == "misp"


def test_event_export_attributes_and_object_attributes(workspace):
    [result] = ingest_paths(workspace, [EVENT])
    # 11 network attributes (the md5 is not read): 9 of the event, 2 of its url object.
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (11, 7, 0, 4)
    rows = lake_rows(workspace)
    assert [r["source_line"] for r in rows] == [1, 2, 3, 4, 9, 10, 11]
    assert _classes(rows) == [
        ("fraud", "phishing", "phishing"),  # the event's ecsirt tag
        ("fraud", "phishing", "phishing"),
        ("malicious-code", "c2-server", "c2-server"),  # the attribute's rsit tag wins
        ("vulnerable", "vulnerable-system", "vulnerability"),  # a CVE, whatever the event
        ("malicious-code", "infected-system", "botnet-drone"),  # the attribute's ecsirt tag
        ("fraud", "phishing", "phishing"),  # object attributes take the event's tags too
        ("fraud", "phishing", "phishing"),
    ]
    url, domain, c2, cve, drone, object_url, object_ip = rows
    assert url["source_url"] == "https://icbc-secure.example-login.top/login"
    # first_seen, else the attribute's timestamp; the event's publication is the observation.
    assert url["time_source"] == datetime(2025, 1, 6, 1, 20, tzinfo=UTC)
    assert domain["time_source"] == datetime(2025, 1, 6, 2, 20, tzinfo=UTC)
    assert url["time_observation"] == datetime(2025, 1, 6, 2, 36, 40, tzinfo=UTC)
    assert domain["source_fqdn"] == "icbc-secure.example-login.top"
    assert (c2["source_ip"], c2["tlp"]) == ("203.0.113.10", "AMBER")  # attribute tlp:amber over event tlp:green
    assert [r["tlp"] for r in (url, domain, cve, drone, object_url)] == ["GREEN"] * 5
    assert (cve["vulnerability_id"], cve["vulnerability_cve"]) == ("CVE-2024-3400", "CVE-2024-3400")
    assert (drone["source_ip"], drone["source_port"]) == ("114.114.114.114", 8443)
    assert object_ip["source_ip"] == "114.114.115.115"
    assert json.loads(url["extra"]) == {
        "event_uuid": "4e8c2a10-7b3d-4f5e-a6c7-d8e9f0a1b2c3",
        "event_info": "Phishing kit imitating ICBC online banking",
        "attribute_uuid": "0a1f6c2e-1b2c-4d3e-8f40-5a6b7c8d9e01",
        "category": "Network activity",
        "type": "url",
        "comment": "landing page",
        "to_ids": True,
    }
    assert json.loads(object_url["extra"])["object_name"] == "url"
    assert json.loads(object_url["extra"])["object_relation"] == "url"


def test_event_export_rejects(workspace):
    ingest_paths(workspace, [EVENT])
    rejects = {r["line"]: r for r in list_rejects(workspace)}
    assert {line: r["reason"] for line, r in rejects.items()} == {
        5: "link to an analysis or reference, not an observation",
        6: "value is not an IP address for its type",
        7: "port is not a port",
        8: "attribute is deleted in MISP",
    }
    # The raw text is the attribute itself, ready to be fixed and ingested again.
    assert json.loads(rejects[6]["raw"])["value"] == "198.51.100.300"


def test_search_response_events_classified_from_category_and_type(workspace):
    [result] = ingest_paths(workspace, [SEARCH])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (8, 7, 0, 1)
    rows = lake_rows(workspace)
    assert _classes(rows) == [
        ("malicious-code", "c2-server", "c2-server"),  # ip-dst|port in Network activity
        ("malicious-code", "c2-server", "c2-server"),  # hostname in Network activity
        ("malicious-code", "malware-distribution", "malware-distribution"),  # Payload delivery
        ("other", "undetermined", "undetermined"),  # ip-src: a source, not where malware connects
        ("malicious-code", "c2-server", "c2-server"),  # domain|ip
        ("malicious-code", "c2-server", "c2-server"),  # the ip-port object's ip-dst (its port is not read)
        # The second event's rsit tag: unauthorised-information-modification counts as a defacement.
        ("information-content-security", "unauthorised-information-modification", "defacement"),
    ]
    c2, host, loader, _source, pair, object_ip, defaced = rows
    assert (c2["source_ip"], c2["source_port"]) == ("114.114.115.116", 8080)
    assert c2["time_source"] == datetime(2025, 1, 6, 22, 15, 30, 500000, tzinfo=UTC)
    # The event's "Payload type" attribute names the malware of its other attributes.
    assert {r["malware_name"] for r in rows[:6]} == {"emotet"}
    assert [r["tlp"] for r in rows] == ["CLEAR"] * 6 + ["AMBER+STRICT"]  # tlp:white is CLEAR
    assert host["source_fqdn"] == "update.example-cdn.net"
    assert (loader["source_url"], loader["source_ip"]) == ("http://198.51.100.23/dl/invoice.doc", "198.51.100.23")
    assert (pair["source_fqdn"], pair["source_ip"]) == ("cdn.example-mirror.com", "223.5.5.5")
    assert object_ip["source_ip"] == "203.0.113.77"
    # No attribute time: the event's date; never published (publish_timestamp 0): no observation time.
    assert defaced["time_source"] == datetime(2025, 1, 5, tzinfo=UTC)
    assert defaced["time_observation"] is None
    assert defaced["malware_name"] is None
    assert {r["line"]: r["reason"] for r in list_rejects(workspace)} == {8: "record is not a JSON object"}


def test_reingest_is_a_no_op(workspace):
    ingest_paths(workspace, [EVENT, SEARCH])
    again = ingest_paths(workspace, [EVENT, SEARCH])
    assert [(r.accepted, r.duplicates) for r in again] == [(0, 7), (0, 7)]


def test_broken_search_response_keeps_the_readable_events(workspace, tmp_path):
    text = SEARCH.read_text()
    # Cut the document inside the second event: the first event's attributes are still read.
    cut = text.index('"Defaced county government portal"')
    broken = tmp_path / "search.json"
    broken.write_text(text[:cut])
    [result] = ingest_paths(workspace, [broken])
    assert result.error is None
    assert (result.read, result.accepted, result.rejected) == (7, 6, 1)
    [reject] = list_rejects(workspace)
    assert reject["line"] == 7
    assert reject["reason"].startswith("unreadable JSON from line ")
    assert reject["reason"].endswith("on: the document ends inside this record")
    assert reject["raw"].lstrip().startswith('{\n            "Event"')


def _attribute(value, kind="ip-dst", **more):
    return {
        "uuid": "5f0c0000-0000-4000-8000-" + value.encode().hex()[:12].rjust(12, "0"),
        "category": "Network activity",
        "type": kind,
        "value": value,
        "timestamp": "1736150400",
        "to_ids": True,
        **more,
    }


def test_a_list_of_events_as_pymisp_returns_it(workspace, tmp_path):
    events = [
        {
            "Event": {
                "uuid": "a1",
                "info": "C2 of a botnet",
                "date": "2025-01-06",
                "Attribute": [_attribute("203.0.113.7")],
            }
        },
        {
            "Event": {
                "uuid": "a2",
                "info": "phishing",
                "date": "2025-01-06",
                "Attribute": [_attribute("http://x.example/", "url")],
            }
        },
    ]
    path = tmp_path / "search.json"
    path.write_text(json.dumps(events))
    assert detect(sample_of(path)).name == "misp"
    [result] = ingest_paths(workspace, [path])
    assert (result.accepted, result.rejected) == (2, 0)
    assert sorted(r["source_ip"] or r["source_url"] for r in lake_rows(workspace)) == [
        "203.0.113.7",
        "http://x.example/",
    ]


def test_an_attribute_search_response(workspace, tmp_path):
    found = {"response": {"Attribute": [_attribute("198.51.100.80", Tag=[{"name": "tlp:green"}])]}}
    path = tmp_path / "attributes.json"
    path.write_text(json.dumps(found))
    assert detect(sample_of(path)).name == "misp"
    [result] = ingest_paths(workspace, [path])
    assert (result.accepted, result.rejected) == (1, 0)
    [row] = lake_rows(workspace)
    assert (row["source_ip"], row["tlp"], row["classification_type"]) == ("198.51.100.80", "GREEN", "c2-server")
    assert row["time_source"] == datetime(2025, 1, 6, 8, 0, tzinfo=UTC)


def test_a_document_in_another_layout_is_refused_not_read_as_an_empty_week(workspace, tmp_path):
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--1", "objects": []}))
    [result] = ingest_paths(workspace, [path], feed=get_feed("misp"))
    assert result.error.startswith("not MISP JSON: neither an event")
    empty = tmp_path / "empty-search.json"
    empty.write_text('{"response": []}')
    [result] = ingest_paths(workspace, [empty], feed=get_feed("misp"))
    assert (result.error, result.read) == (None, 0)
