"""CSV/JSON import: per-line rejects, idempotency by ref, updates with audit, local time zone."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from sitrep.cli import app
from sitrep.incidents.db import session_scope
from sitrep.incidents.importer import import_incidents, parse_time
from sitrep.incidents.models import AuditEntry, Incident, Partner
from sitrep.incidents.records import InputError, UnknownFormat

from .conftest import DATA

ACCEPTANCE = DATA / "acceptance_2025w01.csv"


def _import(ws, path, fmt=None):
    with session_scope(ws) as session:
        return import_incidents(session, path, workspace=ws, actor="importer", fmt=fmt)


def test_bad_rows_are_rejected_with_line_and_reason_and_the_rest_kept(ws):
    report = _import(ws, ACCEPTANCE)
    reasons = {r.line: r.reason for r in report.rejects}
    assert sorted(reasons) == [7, 32, 62, 77, 78]
    assert "unknown category 'spam'" in reasons[7]
    assert "not an ISO 8601 time" in reasons[32]
    assert "status resolved needs resolved_at" in reasons[62]
    assert "某未知机构" in reasons[77] and "partner_type" in reasons[77]
    assert "ref is empty" in reasons[78]
    assert report.read == 77
    assert report.created == 72
    assert report.read == report.created + report.updated + report.unchanged + report.rejected
    with session_scope(ws) as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 72
        assert session.scalar(select(Partner).where(Partner.name == "某未知机构")) is None


def test_reimport_is_idempotent(ws):
    _import(ws, ACCEPTANCE)
    with session_scope(ws) as session:
        audit_before = session.scalar(select(func.count()).select_from(AuditEntry))
    again = _import(ws, ACCEPTANCE)
    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 72, 5)
    with session_scope(ws) as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 72
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before


def test_a_changed_row_updates_its_incident_and_is_audited(ws, tmp_path):
    first = tmp_path / "a.csv"
    first.write_text(
        "ref,title,category,status,partner,partner_type,asset\n"
        "U-1,first,phishing,triaged,阿里云,cloud,http://a.example.com/\n",
        encoding="utf-8",
    )
    assert _import(ws, first).created == 1
    second = tmp_path / "b.csv"
    second.write_text(
        "ref,title,category,status,resolved_at,partner,asset\n"
        "U-1,second,phishing,resolved,2025-01-03T12:00:00,阿里云,http://b.example.com/\n",
        encoding="utf-8",
    )
    report = _import(ws, second)
    assert report.updated == 1 and not report.rejects
    with session_scope(ws) as session:
        incident = session.scalars(select(Incident).where(Incident.ref == "U-1")).one()
        assert incident.title == "second"
        assert incident.status == "resolved"
        assert incident.resolved_at == datetime(2025, 1, 3, 4, 0, tzinfo=UTC)  # 12:00 Asia/Shanghai
        assert [a.value for a in incident.assets] == ["http://a.example.com/", "http://b.example.com/"]
        changes = [(e.field, e.old, e.new) for e in incident.audit if e.field in ("title", "status")]
        assert changes == [
            ("status", "new", "triaged"),
            ("title", "first", "second"),
            ("status", "triaged", "coordinating"),
            ("status", "coordinating", "resolved"),
        ]
    # Going back is refused for that row only.
    third = tmp_path / "c.csv"
    third.write_text("ref,title,category,status\nU-1,second,phishing,coordinating\n", encoding="utf-8")
    report = _import(ws, third)
    assert report.rejects[0].line == 2
    assert "cannot go from resolved to coordinating" in report.rejects[0].reason


def test_json_import_with_lists_nulls_and_bad_records(ws):
    report = _import(ws, DATA / "incidents.json")
    assert report.created == 2
    assert [(r.line, r.reason) for r in report.rejects] == [
        (
            3,
            "unknown status 'finished'; use one of new, triaged, coordinating, resolved, rejected, unresolved",
        ),
        (4, "record is a list, not an object"),
    ]
    with session_scope(ws) as session:
        j1 = session.scalars(select(Incident).where(Incident.ref == "J-1")).one()
        assert j1.cross_border is True and j1.tlp == "GREEN" and j1.grade == "一般"
        assert sorted(a.kind for a in j1.assets) == ["ip", "url"]
        j2 = session.scalars(select(Incident).where(Incident.ref == "J-2")).one()
        assert j2.status == "triaged" and j2.cross_border is False
        assert j2.assets[0].country == "CN"
        assert j2.reported_at == datetime(2025, 1, 3, 16, 0, tzinfo=UTC)  # local midnight


def test_duplicate_ref_in_one_file_is_rejected(ws, tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("ref,title,category\nD-1,a,other\nD-1,b,other\n", encoding="utf-8")
    report = _import(ws, path)
    assert report.created == 1
    assert report.rejects[0].line == 3 and "first at line 2" in report.rejects[0].reason


def test_hostile_cells_never_crash(ws, tmp_path):
    path = tmp_path / "hostile.csv"
    path.write_text(
        "ref,title,category,asset,partner,partner_type,cross_border,tlp\n"
        'H-1,"<script>alert(1)</script>",phishing,"http://x.example.com/?q=<b>",,,,\n'
        'H-2,t,phishing,"not a url with spaces",,,,\n'
        "H-3,t,phishing,,a;b,cloud;registrar;telecom,,\n"
        "H-4,t,phishing,,,,maybe,\n"
        "H-5,t,phishing,,,,,PURPLE\n"
        "H-6,t,phishing,,,,,,extra,cells\n",
        encoding="utf-8",
    )
    report = _import(ws, path)
    reasons = {r.line: r.reason for r in report.rejects}
    assert report.created == 1
    assert "not a domain" in reasons[3]
    assert "partner_type has 3 values for 2 entries" in reasons[4]
    assert "cross_border 'maybe'" in reasons[5]
    assert "unknown tlp 'PURPLE'" in reasons[6]
    assert "fields but the header has" in reasons[7]


def test_unreadable_files_are_one_clear_error(ws, tmp_path):
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"ref,title\n\xff\xfe\x00")
    with pytest.raises(InputError, match="not UTF-8"):
        _import(ws, binary)
    unknown = tmp_path / "x.xlsx"
    shutil.copy(ACCEPTANCE, unknown)
    # The core states the fact; naming the option that cures it is the CLI's hint.
    with pytest.raises(UnknownFormat, match=r"cannot tell the format from '\.xlsx' \(csv, json") as caught:
        _import(ws, unknown)
    assert "--format" not in str(caught.value)
    assert _import(ws, unknown, fmt="csv").created == 72
    result = CliRunner().invoke(app, ["--home", str(ws.root), "incidents", "import", str(unknown)])
    assert result.exit_code == 2, result.output
    assert "cannot tell the format from '.xlsx'" in result.output and "name it with --format" in result.output
    assert "Traceback" not in result.output


def test_parse_time_uses_the_workspace_zone_only_without_offset(ws):
    tz = ws.timezone
    assert parse_time("2025-01-02T10:00:00", tz) == datetime(2025, 1, 2, 2, 0, tzinfo=UTC)
    assert parse_time("2025-01-02T10:00:00Z", tz) == datetime(2025, 1, 2, 10, 0, tzinfo=UTC)
    assert parse_time("2025-01-02 10:00+09:00", tz) == datetime(2025, 1, 2, 1, 0, tzinfo=UTC)
    assert parse_time("", tz) is None
