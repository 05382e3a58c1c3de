"""Complaint intake: saved RFC 5322 mails (tests/incidents/data/complaints) become proposed incidents in
a real store, their ``.eml`` kept in the workspace; hostile ones are refused or quarantined."""

from __future__ import annotations

import email
import hashlib
import json
import threading
import tracemalloc
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from sitrep.cli import app
from sitrep.incidents import service
from sitrep.incidents.complaints import intake_files, take_complaint, take_complaint_file
from sitrep.incidents.db import session_scope
from sitrep.incidents.desk import Desk
from sitrep.incidents.errors import IncidentError
from sitrep.incidents.models import AuditEntry, Complaint, Incident
from sitrep.incidents.partners import PartnerSpec, upsert_partner
from sitrep.taxonomy import PartnerType

from .conftest import DATA, make_workspace

MAILS = DATA / "complaints"
RECEIVED = datetime(2025, 1, 17, 2, 0, tzinfo=UTC)  # Friday of 2025-W03, 10:00 in Asia/Shanghai
PHISHING_ASSETS = [
    "https://icbc-verify.example.com/login.php?card=1",
    "icbc-safe.example.net",
    "47.96.12.34",
    "mobile-icbc.example.top",
]


def mail(name: str) -> bytes:
    return (MAILS / name).read_bytes()


@pytest.fixture
def desk(tmp_path) -> Desk:
    return Desk.open(make_workspace(tmp_path / "ws"))


def desk_with(tmp_path, backend: str | None = None, **complaints) -> Desk:
    return Desk.open(make_workspace(tmp_path / "ws", backend, incidents={"complaints": complaints}))


def take(desk: Desk, name: str, **options):
    return take_complaint(desk, mail(name), source="abuse-mailbox", received_at=RECEIVED, **options)


def count(desk: Desk, model) -> int:
    with desk.store.read() as session:
        return session.scalar(select(func.count()).select_from(model))


# -- a complaint becomes a proposed incident ---------------------------------------------------------------


def test_a_defanged_phishing_report_becomes_a_proposed_incident(desk):
    outcome = take(desk, "phishing-defanged.eml")
    assert outcome.action == "proposed"
    assert outcome.incident.startswith("P-2025-W03-")
    # icbc.com.cn is the imitated (protected) site, not an abused asset; www.example.cn is the signature.
    assert list(outcome.assets) == PHISHING_ASSETS
    assert outcome.category == "phishing"
    detail = service.show_incident(desk, outcome.incident)
    assert detail["status"] == "new"
    assert detail["reported_via"] == "complaint"
    assert detail["reporter"] == "张三 <zhangsan@example.cn>"
    assert detail["reporter_country"] == "CN"  # a sender under the home TLDs
    assert detail["timestamps"]["reported"] == "2025-01-07T09:15:00+08:00"  # the mail's Date
    assert detail["title"] == "网页仿冒投诉：举报仿冒工商银行的钓鱼网站"
    assert [a["value"] for a in detail["assets"]] == PHISHING_ASSETS
    [kept] = detail["complaints"]
    assert kept["action"] == "proposed" and kept["message_id"] == "<20250107091500.4711@mail.example.cn>"
    assert (desk.workspace.root / kept["file"]).read_bytes() == mail("phishing-defanged.eml")
    assert kept["file"] == outcome.kept and kept["file"].startswith("complaints/mail/")
    [note] = detail["notes"]
    assert (
        "Subject: 举报仿冒工商银行的钓鱼网站" in note["text"] and "hxxps://icbc-verify[.]example[.]com" in note["text"]
    )
    assert any(e["field"] == "complaint" and outcome.kept in e["new"] for e in detail["audit"])


def test_complaint_proposals_are_listed_as_proposed_and_in_their_weeks_queue(desk):
    proposed = take(desk, "phishing-defanged.eml").incident
    typed = service.add_incident(desk, title="recorded by hand", category="malware", actor="alice")["ref"]
    listed = service.list_incidents(desk, service.IncidentQuery(statuses=["proposed"])).incidents
    assert [r["ref"] for r in listed] == [proposed]
    both = service.list_incidents(desk, service.IncidentQuery(statuses=["proposed", "new"])).incidents
    assert {r["ref"] for r in both} == {proposed, typed}
    queue = service.list_proposed(desk, "2025-W03")
    assert [p["ref"] for p in queue.proposals] == [proposed]
    assert queue.proposals[0]["assets"] == PHISHING_ASSETS
    service.triage_incidents(desk, [proposed], "triaged", actor="alice")
    assert service.list_incidents(desk, service.IncidentQuery(statuses=["proposed"])).incidents == []
    with pytest.raises(IncidentError, match=r"unknown status 'propsed'; use one of new, .*, or proposed"):
        service.list_incidents(desk, service.IncidentQuery(statuses=["propsed"]))


def test_a_proposal_is_routed_like_the_lakes_by_its_categorys_rule(desk):
    with session_scope(desk.workspace) as session:
        spec = PartnerSpec.build(name="示例注册商", type=PartnerType.REGISTRAR, country="CN", suffixes=["example.com"])
        upsert_partner(session, spec, actor="t")
    outcome = take(desk, "phishing-defanged.eml")
    [request] = service.show_incident(desk, outcome.incident)["requests"]
    assert request["partner"] == "示例注册商" and request["sent_at"] is None


def test_a_mail_from_a_partners_address_is_reported_by_that_partner(desk):
    with session_scope(desk.workspace) as session:
        spec = PartnerSpec.build(
            name="Example CERT", type=PartnerType.FOREIGN_CERT, country="JP", email="LiSi@example.net"
        )
        upsert_partner(session, spec, actor="t")
    outcome = take(desk, "follow-up-same-url.eml")
    detail = service.show_incident(desk, outcome.incident)
    assert detail["reported_via"] == "foreign-cert"
    assert detail["reporter_country"] == "JP" and detail["cross_border"] is True


# -- the same mail twice, and a mail about an open incident --------------------------------------------


def test_taking_the_same_mail_again_adds_nothing(tmp_path, backend):
    desk = desk_with(tmp_path, backend)
    first = take(desk, "phishing-defanged.eml")
    changes = desk.store.changes()
    audit = count(desk, AuditEntry)
    again = take(desk, "phishing-defanged.eml")
    assert (again.action, again.earlier, again.ok) == ("already", "proposed", True)
    assert again.incident == first.incident
    assert "the same bytes" in again.reason and "(proposed)" in again.reason
    # Delivered again through another relay: other bytes, the same Message-ID and sender.
    relayed = b"Received: from mx2.example.org by mx.cert.example.org; Wed, 8 Jan 2025 10:00:00 +0800\n"
    relayed += mail("phishing-defanged.eml")
    resent = take_complaint(desk, relayed, source="other-mailbox")
    assert resent.action == "already" and "the same Message-ID from the same sender" in resent.reason
    assert (count(desk, Incident), count(desk, Complaint), count(desk, AuditEntry)) == (1, 1, audit)
    assert desk.store.changes() == changes
    # The same Message-ID from someone else is another mail (a Message-ID is no secret).
    forged = mail("phishing-defanged.eml").replace(b"zhangsan@example.cn", b"mallory@example.com")
    assert take(desk, "phishing-defanged.eml").action == "already"
    assert take_complaint(desk, forged, source="abuse-mailbox").action == "attached"


def test_two_intakes_of_one_mail_at_once_take_it_once(tmp_path, backend):
    desk = desk_with(tmp_path, backend)
    results, barrier = [], threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        results.append(take(desk, "gb2312-base64.eml").action)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["already", "proposed"]
    assert (count(desk, Incident), count(desk, Complaint)) == (1, 1)


def test_a_mail_naming_an_open_incidents_asset_is_attached_to_it(desk):
    first = take(desk, "phishing-defanged.eml")
    follow = take(desk, "follow-up-same-url.eml")
    assert follow.action == "attached" and follow.incident == first.incident
    # A bare host name matches the URL on that host; a new asset of the mail joins the incident.
    named = (
        b"From: Zhou <zhou@example.org>\nSubject: same site\nMessage-ID: <host-1@example.org>\n\n"
        b"The site icbc-verify.example.com also uses hxxp://other-icbc[.]example[.]net/x\n"
    )
    assert take_complaint(desk, named, source="abuse-mailbox").incident == first.incident
    assert count(desk, Incident) == 1
    detail = service.show_incident(desk, first.incident)
    assert [c["action"] for c in detail["complaints"]] == ["proposed", "attached", "attached"]
    assert detail["assets"][-1]["value"] == "http://other-icbc.example.net/x"
    entries = [e for e in detail["audit"] if e["field"] == "complaint"]
    assert len(entries) == 3 and "<CAF=follow.up.0001@mail.example.net>" in entries[1]["new"]
    assert len(detail["notes"]) == 3 and "(attached to this incident)" in detail["notes"][1]["text"]


def test_a_closed_incident_gets_no_mail_a_new_proposal_does(desk):
    first = take(desk, "phishing-defanged.eml").incident
    service.triage_incidents(desk, [first], "rejected", actor="alice", reason="test")
    follow = take(desk, "follow-up-same-url.eml")
    assert follow.action == "proposed" and follow.incident != first


def test_another_url_on_the_same_host_is_another_case(desk):
    take(desk, "phishing-defanged.eml")
    other = (
        b"From: Zhou <zhou@example.org>\nSubject: phishing\nMessage-ID: <path-1@example.org>\n\n"
        b"hxxps://icbc-verify[.]example[.]com/other-page\n"
    )
    assert take_complaint(desk, other, source="abuse-mailbox").action == "proposed"


# -- what a mail holds --------------------------------------------------------------------------------


def test_a_gb2312_base64_report_is_read_in_chinese(desk):
    outcome = take(desk, "gb2312-base64.eml")
    assert outcome.subject == "网站被篡改" and outcome.reporter == "某省信息中心 <webmaster@example.gov.cn>"
    assert outcome.category == "defacement"
    assert list(outcome.assets) == [
        "http://www.example.gov.cn/",
        "http://www.example.gov.cn/upload/shell.php",
        "47.96.88.21",
    ]
    assert outcome.warnings == ()
    note = service.show_incident(desk, outcome.incident)["notes"][0]["text"]
    assert "首页今天上午被篡改" in note


def test_attachments_are_listed_and_a_text_attachment_is_read(desk):
    outcome = take(desk, "malware-attachment.eml")
    parsed = email.message_from_bytes(mail("malware-attachment.eml"), policy=policy.default)
    sent = {p.get_filename(): p.get_payload(decode=True) for p in parsed.iter_attachments()}
    assert [(a.name, a.content_type, a.size, a.sha256) for a in outcome.attachments] == [
        (name, kind, len(sent[name]), hashlib.sha256(sent[name]).hexdigest())
        for name, kind in (("firewall.log", "text/plain"), ("sample.zip", "application/zip"))
    ]
    assert outcome.category == "malware" and outcome.reporter == "运维 赵六 <ops@example.com.cn>"
    assert "http://c2-update.example.com:8080/gate.php" in outcome.assets
    assert "c2-update.example.com" in outcome.assets  # named in the attached log
    detail = service.show_incident(desk, outcome.incident)
    assert detail["complaints"][0]["attachments"][1]["name"] == "sample.zip"
    assert f"sample.zip (application/zip, {len(sent['sample.zip'])} bytes, SHA-256 " in detail["notes"][0]["text"]


def test_a_forwarded_message_is_read_and_listed(desk):
    outcome = take(desk, "forwarded-rfc822.eml")
    # The link's real target counts; its text (the genuine bank's site) and the inner script do not.
    assert list(outcome.assets) == ["http://icbc-unfreeze.example.net/verify"]
    assert outcome.category == "phishing"
    [forwarded] = outcome.attachments
    assert (forwarded.name, forwarded.content_type) == ("suspicious.eml", "message/rfc822")
    assert "您的账户已被冻结" in service.show_incident(desk, outcome.incident)["notes"][0]["text"]


def test_html_is_read_as_text_and_its_scripts_are_left_out(desk):
    outcome = take(desk, "html-script.eml")
    assert list(outcome.assets) == ["http://alipay-login.example.com/auth", "https://collect.example.com/post.php"]
    assert any("HTML with script" in w for w in outcome.warnings)
    note = service.show_incident(desk, outcome.incident)["notes"][0]["text"]
    assert "支付宝登录" in note
    for code in ("<script", "document.cookie", "onerror", "alert(", "<a href", "background"):
        assert code not in note


def test_multipart_alternative_is_read_once(desk):
    outcome = take(desk, "alternative-html.eml")
    assert outcome.category == "defacement"
    assert list(outcome.assets) == ["http://news.example.cn/", "http://news.example.cn/index.html", "47.96.200.7"]
    note = service.show_incident(desk, outcome.incident)["notes"][0]["text"]
    assert note.count("was defaced last night") == 1


def test_a_date_after_receipt_falls_back_to_the_receipt_time(desk):
    raw = mail("follow-up-same-url.eml").replace(b"Wed, 08 Jan 2025", b"Wed, 08 Jan 2031")
    outcome = take_complaint(desk, raw, source="abuse-mailbox", received_at=RECEIVED)
    assert service.show_incident(desk, outcome.incident)["timestamps"]["reported"] == "2025-01-17T10:00:00+08:00"
    assert any("after the mail was received" in w for w in outcome.warnings)
    undated = b"From: a@example.com\nSubject: no date\n\nhttp://undated.example.com/\n"
    later = take_complaint(desk, undated, source="abuse-mailbox", received_at=RECEIVED)
    assert service.show_incident(desk, later.incident)["timestamps"]["reported"] == "2025-01-17T10:00:00+08:00"


# -- hostile mail ---------------------------------------------------------------------------------------


def test_a_huge_mail_is_refused_and_not_kept(tmp_path):
    desk = desk_with(tmp_path, max_mb=1)
    huge = b"From: big@example.com\nSubject: big\n\n" + b"http://huge.example.com/ " * 50_000  # 1.2 MB
    outcome = take_complaint(desk, huge, source="abuse-mailbox")
    assert outcome.action == "refused" and "over the 1 MB cap" in outcome.reason and outcome.kept is None
    assert not (desk.workspace.root / "complaints").exists()
    assert count(desk, Incident) == 0 and count(desk, Complaint) == 1
    assert take_complaint(desk, huge, source="abuse-mailbox").action == "already"
    big_file = tmp_path / "big.eml"
    big_file.write_bytes(huge + b"x" * 1_000_000)
    from_file = take_complaint_file(desk, big_file)
    assert from_file.action == "refused" and from_file.size == big_file.stat().st_size
    assert from_file.sha256 == hashlib.sha256(big_file.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("malformed-mime.eml", "malformed MIME: MultipartInvariantViolationDefect, StartBoundaryNotFoundDefect"),
        ("no-headers.eml", "not a mail message: no From, To, Subject, Date or Message-ID header"),
        ("auto-reply.eml", "an automatic reply, not a complaint"),
        ("bounce.eml", "a delivery-status report (a bounce or a read receipt), not a complaint"),
    ],
)
def test_a_mail_that_is_no_readable_complaint_is_quarantined(desk, name, reason):
    outcome = take(desk, name)
    assert (outcome.action, outcome.reason, outcome.incident) == ("quarantined", reason, None)
    kept = desk.workspace.root / outcome.kept
    assert kept.parent.name == "quarantine" and kept.read_bytes() == mail(name)
    assert reason in kept.with_name(f"{outcome.sha256}.reason.txt").read_text(encoding="utf-8")
    assert count(desk, Incident) == 0
    again = take(desk, name)
    assert (again.action, again.earlier, again.ok) == ("already", "quarantined", False)


def test_too_many_mime_parts_are_quarantined(tmp_path):
    desk = desk_with(tmp_path, max_parts=50)
    parts = "".join(f"--b\nContent-Type: text/plain\n\npart {i}\n" for i in range(100))
    raw = f'From: a@example.com\nSubject: parts\nContent-Type: multipart/mixed; boundary="b"\n\n{parts}--b--\n'
    outcome = take_complaint(desk, raw.encode(), source="abuse-mailbox")
    assert outcome.action == "quarantined" and outcome.reason == "more than 50 MIME parts"


def test_forwards_nested_too_deep_are_not_read(desk):
    inner = "From: x@example.com\nSubject: level 9\n\nhttp://deepest.example.com/\n"
    for level in range(8, -1, -1):
        inner = (
            f'From: x@example.com\nSubject: level {level}\nContent-Type: multipart/mixed; boundary="b{level}"\n\n'
            f"--b{level}\nContent-Type: message/rfc822\n\n{inner}\n--b{level}--\n"
        )
    outcome = take_complaint(desk, inner.encode(), source="abuse-mailbox")
    assert outcome.action == "proposed" and "http://deepest.example.com/" not in outcome.assets
    assert any("nested deeper than 5" in w for w in outcome.warnings)


def test_undecodable_charsets_are_read_with_replacement(desk):
    outcome = take(desk, "undecodable-charset.eml")
    assert outcome.action == "proposed"
    assert list(outcome.assets) == ["http://charset-phish.example.com/login"]
    assert any("unknown charset 'x-klingon'" in w for w in outcome.warnings)
    assert all(ord(c) >= 32 for c in outcome.subject)


def test_a_zip_bomb_is_listed_by_its_compressed_size_and_never_opened(desk):
    tracemalloc.start()
    try:
        outcome = take(desk, "zip-bomb.eml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    [bomb] = outcome.attachments
    parsed = email.message_from_bytes(mail("zip-bomb.eml"), policy=policy.default)
    sent = next(parsed.iter_attachments()).get_payload(decode=True)
    assert (bomb.name, bomb.content_type, bomb.size) == ("invoice.zip", "application/zip", len(sent))
    assert bomb.sha256 == hashlib.sha256(sent).hexdigest()
    assert len(sent) < 100_000 and peak < 32 * 1024 * 1024  # it unpacks to 64 MiB
    assert outcome.assets == ("http://bomb-host.example.com/dl",)


def test_thousands_of_urls_are_capped(tmp_path):
    desk = desk_with(tmp_path, max_assets=20)
    outcome = take(desk, "many-urls.eml")
    assert len(outcome.assets) == 20 and outcome.assets[0] == "http://spam0.example.com/p/0"
    assert "4980 more assets named than the 20 kept" in " ".join(outcome.warnings)
    assert len(service.show_incident(desk, outcome.incident)["assets"]) == 20


def test_header_injection_in_the_subject_and_the_sender_stays_one_line(desk):
    outcome = take(desk, "header-injection.eml")
    assert outcome.subject == "Phishing report Bcc: victim@example.net body"
    # The address is the one written outside the encoded display name, not the one hidden in it.
    assert outcome.reporter == "Attacker Bcc: victim@example.net <attacker@example.com>"
    detail = service.show_incident(desk, outcome.incident)
    assert "\n" not in detail["title"] and "\r" not in detail["reporter"]


def test_received_at_needs_a_time_zone(desk):
    with pytest.raises(IncidentError, match="carries no time zone"):
        take_complaint(desk, mail("phishing-defanged.eml"), source="x", received_at=datetime(2025, 1, 8))


def test_intake_of_files_reports_an_unreadable_one_and_takes_the_others(desk, tmp_path):
    report = intake_files(desk, [MAILS / "gb2312-base64.eml", tmp_path / "missing.eml"], actor="alice")
    assert [o.action for _, o in report.outcomes] == ["proposed"]
    assert report.failed == [(str(tmp_path / "missing.eml"), f"{tmp_path / 'missing.eml'}: no such file")]
    assert not report.ok
    row = json.loads(json.dumps(report.as_dict()))
    assert row["files"][0]["action"] == "proposed" and row["files"][0]["kept"].endswith(".eml")


def test_a_folder_that_cannot_be_written_is_an_error_and_records_nothing(tmp_path):
    desk = desk_with(tmp_path, folder="blocked")
    (desk.workspace.root / "blocked").write_text("a file where the folder belongs")
    with pytest.raises(IncidentError, match=r"cannot write .*blocked"):
        take(desk, "phishing-defanged.eml")
    assert count(desk, Complaint) == 0


def test_kept_mail_is_a_content_addressed_file_of_its_own(desk):
    outcome = take(desk, "gb2312-base64.eml")
    path = Path(outcome.kept)
    assert path.name == f"{outcome.sha256}.eml" and path.parent.name == outcome.sha256[:2]


# -- the command ----------------------------------------------------------------------------------------


def _sitrep(desk: Desk, *args: str):
    return CliRunner().invoke(app, ["--home", str(desk.workspace.root), *args], env={"SITREP_USER": "analyst"})


def test_the_intake_command_takes_saved_mails_and_they_are_listed_as_proposed(desk, tmp_path):
    files = [str(MAILS / n) for n in ("phishing-defanged.eml", "gb2312-base64.eml", "malformed-mime.eml")]
    result = _sitrep(desk, "incidents", "intake", *files, "--json")
    assert result.exit_code == 1  # one was quarantined; the others are taken
    rows = json.loads(result.stdout)["files"]
    assert [r["action"] for r in rows] == ["proposed", "proposed", "quarantined"]
    listed = _sitrep(desk, "incidents", "list", "--status", "proposed", "--json")
    assert listed.exit_code == 0, listed.output
    assert sorted(r["ref"] for r in json.loads(listed.stdout)) == sorted(r["incident"] for r in rows[:2])
    shown = _sitrep(desk, "incidents", "show", rows[0]["incident"])
    assert f"{rows[0]['kept']} ({len(mail('phishing-defanged.eml'))} bytes, 0 attachment(s))" in shown.stdout
    assert "proposed  张三 <zhangsan@example.cn>  举报仿冒工商银行的钓鱼网站" in shown.stdout
    again = _sitrep(desk, "incidents", "intake", files[0], str(tmp_path / "missing.eml"))
    assert again.exit_code == 1
    assert "already taken (the same bytes as the mail taken at 20" in again.output
    assert f"missing.eml: not taken: {tmp_path / 'missing.eml'}: no such file" in again.output
    assert "2 mail(s): 1 already, 1 unreadable" in again.output


def test_the_intake_command_prints_one_line_per_mail_and_its_warnings(desk):
    result = _sitrep(desk, "incidents", "intake", str(MAILS / "html-script.eml"), "--no-reply")
    assert result.exit_code == 0, result.output
    assert "html-script.eml: proposed P-" in result.output
    assert "(phishing, 2 asset(s), 0 attachment(s))" in result.output
    assert "  warning: HTML with script" in result.output
    assert "1 mail(s): 1 proposed" in result.output
    unknown = _sitrep(desk, "incidents", "list", "--status", "propsed")
    assert unknown.exit_code == 2 and "or proposed" in unknown.output
