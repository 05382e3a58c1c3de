"""Every Shadowserver report type through the one table-driven mechanism (sitrep.feeds.shadowserver)."""

import json
from collections import defaultdict

import pytest
from typer.testing import CliRunner

from helpers import SAMPLES, lake_rows
from shadowserver_fixtures import file_name, intelmq_schema, report_csv, write_all
from sitrep.cli import app
from sitrep.config import load_workspace
from sitrep.feeds import UnknownFormat, all_feeds, detect, get_feed
from sitrep.feeds.base import Sample
from sitrep.feeds.shadowserver import SchemaError, family, load_reports
from sitrep.lake.ingest import ingest_paths, sample_of
from sitrep.lake.rejects import list_rejects
from sitrep.metrics.weekly import compute
from sitrep.weeks import Week

REPORTS = load_reports()
BY_KEY = {r.key: r for r in REPORTS}


def _shared_headers() -> dict[str, list[str]]:
    """Report keys whose column sets are identical to another report's."""
    groups = defaultdict(list)
    for r in REPORTS:
        groups[frozenset(r.columns)].append(r.key)
    return {key: keys for keys in groups.values() for key in keys if len(keys) > 1}


SHARED = _shared_headers()


def test_the_built_in_table_holds_all_170_report_types():
    assert len(REPORTS) == 170
    assert len({r.feed_name for r in REPORTS}) == 170
    names = {f.name for f in all_feeds()}
    assert {r.feed_name for r in REPORTS} <= names
    for r in REPORTS:
        assert r.columns[0] == "timestamp" and "timestamp" in r.required, r.key
        assert set(r.required) <= set(r.columns), r.key


def test_the_old_hand_written_formats_are_entries_of_the_table():
    for name in (
        "shadowserver-event4-sinkhole",
        "shadowserver-event4-sinkhole-http",
        "shadowserver-event6-sinkhole-http",
        "shadowserver-compromised-website",
        "shadowserver-malware-url",
        "shadowserver-scan-exchange",
        "shadowserver-scan-http-vulnerable",
    ):
        assert get_feed(name).provider == "Shadowserver"
    with pytest.raises(UnknownFormat):
        get_feed("shadowserver-phish-url")  # no such Shadowserver report: the old layout was invented


def test_every_report_type_is_read_and_classified_as_the_schema_says(workspace, tmp_path):
    paths = write_all(tmp_path / "reports")
    results = {r.file: r for r in ingest_paths(workspace, paths.values())}
    rows = defaultdict(list)
    for row in lake_rows(workspace):
        rows[row["feed_name"]].append(row)
    for key, path in paths.items():
        report = BY_KEY[key]
        result = results[str(path)]
        assert (result.format, result.error) == (report.feed_name, None), key
        assert (result.read, result.accepted, result.rejected) == (3, 3, 0), (
            key,
            list_rejects(workspace, file=path.name),
        )
        for row in rows[report.feed_name]:
            if report.taxonomy:
                assert row["classification_taxonomy"] == report.taxonomy, key
                assert row["classification_type"] == report.type, key
            if report.identifier and key not in ("compromised_website", "compromised_website6"):
                assert row["classification_identifier"] == report.identifier, key
            assert row["tlp"] == "AMBER"
            assert row["time_source"].isoformat().startswith("2025-01-07T0"), key


def test_a_report_without_its_file_name_is_recognised_by_its_header_unless_the_header_is_shared():
    for report in REPORTS:
        sample = Sample("renamed.csv", report_csv(report))
        # IPv4 and IPv6 twins are told apart by the address; other shared headers need the name.
        alike = [k for k in SHARED.get(report.key, [report.key]) if BY_KEY[k].ipv6 == report.ipv6]
        if len(alike) == 1:
            assert detect(sample).name == report.feed_name, report.key
        else:
            with pytest.raises(UnknownFormat, match=report.key):
                detect(sample)


def test_the_file_name_decides_between_reports_that_share_a_header():
    for key in ("event4_sinkhole", "event4_microsoft_sinkhole", "event4_ddos_participant", "event4_honeypot_ddos"):
        report = BY_KEY[key]
        assert detect(Sample(file_name(report), report_csv(report))).name == report.feed_name
        # Inside a zip or gzip the member keeps Shadowserver's name.
        assert detect(Sample(file_name(report) + ".gz", report_csv(report))).name == report.feed_name


def test_a_honeypot_report_is_never_claimed_as_a_sinkhole_report():
    for key in ("event4_honeypot_ddos_amp", "event4_honeypot_darknet", "event4_ip_spoofer", "event4_ddos_participant"):
        report = BY_KEY[key]
        try:
            found = detect(Sample("renamed.csv", report_csv(report))).name
        except UnknownFormat:
            continue
        assert "sinkhole" not in found, key


def test_an_older_header_reads_missing_columns_as_null(workspace):
    # The sample's header predates the severity, ssl_cipher and ssl_servername columns.
    sample = SAMPLES / "2025-01-01-event4_sinkhole-cncert-cn.csv"
    header = sample.read_text().splitlines()[0]
    assert "severity" not in header and "ssl_cipher" not in header
    [result] = ingest_paths(workspace, [sample])
    assert (result.error, result.accepted) == (None, 3)


def test_a_file_without_a_required_column_is_rejected_whole(workspace, tmp_path):
    report = BY_KEY["scan_ssl"]
    text = report_csv(report).replace('"port"', '"not_port"', 1)
    path = tmp_path / file_name(report)
    path.write_text(text)
    [result] = ingest_paths(workspace, [path])
    assert result.error == "not a shadowserver-scan-ssl file: missing column(s) port, which the format requires"


def test_infected_hosts_count_only_the_reports_that_define_them(workspace, tmp_path):
    """A week with honeypot, DDoS, spoofer, scan and population reports beside the sinkhole report has
    the same number of infected hosts as the sinkhole report alone: their hosts are domestic too."""
    sinkhole = tmp_path / "2025-01-07-event4_sinkhole-cncert-cn.csv"
    sinkhole.write_text(report_csv(BY_KEY["event4_sinkhole"]))
    ingest_paths(workspace, [sinkhole])
    week = Week(2025, 2)
    alone = compute(workspace, week).indicators["infected_hosts"].value
    assert alone == 3
    others = []
    for key in (
        "event4_honeypot_ddos",
        "event4_honeypot_ddos_amp",
        "event4_honeypot_ddos_target",
        "event4_ddos_participant",
        "event4_ip_spoofer",
        "event4_honeypot_darknet",
        "event4_honeypot_brute_force",
        "scan_ssl",
        "scan_http_vulnerable",
        "scan_exchange",
        "population_http_proxy",
        "population_bgp",
        "blocklist",
    ):
        report = BY_KEY[key]
        # Other hosts than the sinkhole's, all domestic.
        text = report_csv(report).replace("114.114.114.114", "114.114.115.115").replace("223.5.5.5", "223.6.6.6")
        path = tmp_path / file_name(report)
        path.write_text(text.replace("180.76.76.76", "180.76.77.77"))
        others.append(path)
    results = ingest_paths(workspace, others)
    assert all(r.accepted == 3 for r in results), [(r.file, r.error) for r in results]
    assert len(lake_rows(workspace, where="domestic")) == 3 * (len(others) + 1)
    assert compute(workspace, week).indicators["infected_hosts"].value == alone


def test_scan_exchange_classes_follow_the_tag(workspace):
    [result] = ingest_paths(workspace, [SAMPLES / "2025-01-07-scan_exchange-cncert-cn.csv"])
    assert result.error is None
    rows = {r["source_line"]: r for r in lake_rows(workspace)}
    webshell = rows[3]
    assert (webshell["classification_taxonomy"], webshell["classification_type"]) == ("intrusions", "system-compromise")
    assert webshell["classification_identifier"] == "exchange-server-webshell"
    vulnerable = rows[2]
    assert (vulnerable["classification_taxonomy"], vulnerable["classification_type"]) == (
        "vulnerable",
        "vulnerable-system",
    )
    assert (vulnerable["classification_identifier"], vulnerable["vulnerability_cve"]) == (
        "vulnerable-exchange-server",
        "CVE-2021-26855",
    )
    assert json.loads(vulnerable["extra"])["tag"] == "exchange;cve-2021-26855"


def test_formats_json_lists_every_report_with_its_class():
    result = CliRunner().invoke(app, ["formats", "--json"])
    assert result.exit_code == 0, result.output
    formats = {f["name"]: f for f in json.loads(result.stdout)}
    assert formats["shadowserver-scan-ics"]["provider"] == "Shadowserver"
    assert formats["shadowserver-scan-ics"]["class"] == "vulnerable/vulnerable-system/open-ics"
    assert formats["shadowserver-event4-sinkhole"]["class"] == "malicious-code/infected-system"
    assert sum(1 for f in formats.values() if f["provider"] == "Shadowserver") == 170


def test_a_newer_schema_file_brings_a_new_report_type(workspace, tmp_path):
    schema = intelmq_schema(REPORTS)
    schema["event4_quantum_sinkhole"] = dict(schema["event4_sinkhole"]) | {
        "feed_name": "Quantum-Sinkhole-Events IPv4",
        "file_name": "event4_quantum_sinkhole",
    }
    path = workspace.root / "shadowserver-schema.json"
    path.write_text(json.dumps(schema))
    config = workspace.config_path
    text = config.read_text()
    assert 'shadowserver_schema = ""' in text
    config.write_text(text.replace('shadowserver_schema = ""', 'shadowserver_schema = "shadowserver-schema.json"'))
    ws = load_workspace(workspace.root)
    assert ws.shadowserver_schema == path
    new = tmp_path / "2025-01-07-event4_quantum_sinkhole-cncert-cn.csv"
    new.write_text(report_csv(BY_KEY["event4_sinkhole"]))
    assert detect(sample_of(new), ws.shadowserver_schema).name == "shadowserver-event4-quantum-sinkhole"
    [result] = ingest_paths(ws, [new])
    assert (result.format, result.accepted) == ("shadowserver-event4-quantum-sinkhole", 3)
    rows = lake_rows(ws)
    assert {(r["classification_taxonomy"], r["classification_type"], r["malware_name"]) for r in rows} == {
        ("malicious-code", "infected-system", "mirai")
    }
    # Without the setting the built-in table does not know the type.
    with pytest.raises(UnknownFormat):
        get_feed("shadowserver-event4-quantum-sinkhole")


def test_a_broken_schema_file_is_named_in_the_error(tmp_path):
    bad = tmp_path / "schema.json"
    bad.write_text('{"scan_x": {"feed_name": "X"}}')
    with pytest.raises(SchemaError, match=r"schema\.json: report 'scan_x'"):
        family(bad)
    bad.write_text("not json")
    with pytest.raises(SchemaError, match="cannot read a Shadowserver schema"):
        family(bad)
    with pytest.raises(SchemaError, match=r"missing\.json: cannot read a Shadowserver schema: No such file"):
        family(tmp_path / "missing.json")


def test_a_missing_schema_file_is_a_clear_error_of_the_command(workspace):
    config = workspace.config_path
    config.write_text(config.read_text().replace('shadowserver_schema = ""', 'shadowserver_schema = "missing.json"'))
    for command in (["ingest", str(SAMPLES / "2025-01-01-event4_sinkhole-cncert-cn.csv")], ["formats"]):
        result = CliRunner().invoke(app, ["--home", str(workspace.root), *command])
        assert result.exit_code == 2, command
        assert "missing.json: cannot read a Shadowserver schema" in result.stderr
        assert result.exception is None or isinstance(result.exception, SystemExit)


def test_columns_a_newer_header_adds_are_kept_in_extra(workspace, tmp_path):
    report = BY_KEY["scan_rdp"]
    lines = report_csv(report).splitlines()
    lines = [f'{line},"{"cert_sha3_fingerprint" if i == 0 else f"ab{i:02d}"}"' for i, line in enumerate(lines)]
    path = tmp_path / file_name(report)
    path.write_text("\n".join(lines) + "\n")
    [result] = ingest_paths(workspace, [path])
    assert (result.error, result.rejected) == (None, 0)
    rows = lake_rows(workspace)
    assert [json.loads(r["extra"])["cert_sha3_fingerprint"] for r in rows] == [
        f"ab{i:02d}" for i in range(1, len(lines))
    ]
    # The schema's own columns are kept as before.
    assert json.loads(rows[0]["extra"])["tag"]


def test_a_header_with_hundreds_of_undefined_columns_is_refused(workspace, tmp_path):
    report = BY_KEY["event4_sinkhole"]
    lines = report_csv(report, rows=2).splitlines()
    added = 257
    lines[0] += "".join(f',"x{i}"' for i in range(added))
    lines[1:] = [line + "," * added for line in lines[1:]]
    path = tmp_path / file_name(report)
    path.write_text("\n".join(lines) + "\n")
    [result] = ingest_paths(workspace, [path])
    assert result.error == (
        "not a shadowserver-event4-sinkhole file: its header has 257 columns the format does not define "
        "(at most 256 are kept in extra)"
    )


def test_a_blocklisted_network_is_kept_in_extra(workspace, tmp_path):
    """The blocklist's ``ip`` may be a network (IntelMQ: source.network), which has no event column."""
    report = BY_KEY["blocklist"]
    assert report.kept == ("ip",)
    header = ",".join(f'"{c}"' for c in report.columns)
    at = report.columns.index("ip")

    def row(address: str) -> str:
        values = [
            "2025-01-07 01:00:00" if c == "timestamp" else address if i == at else ""
            for i, c in enumerate(report.columns)
        ]
        return ",".join(f'"{v}"' for v in values)

    path = tmp_path / file_name(report)
    path.write_text("\n".join([header, row("61.160.9.9"), row("61.160.0.0/24")]) + "\n")
    [result] = ingest_paths(workspace, [path])
    assert (result.accepted, result.rejected) == (2, 0)
    found = {json.loads(r["extra"])["ip"]: r["source_ip"] for r in lake_rows(workspace)}
    assert found == {"61.160.9.9": "61.160.9.9", "61.160.0.0/24": None}
