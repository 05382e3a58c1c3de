"""Notify partners of pending coordination requests, and remind them of overdue ones, by e-mail (or
write ``.eml`` files in a dry run).

A request is pending while it has not been sent and its incident is triaged or coordinating (a ``new``
incident, e.g. a fresh proposal, waits for an analyst's triage before anyone outside is mailed).
Each active partner with pending requests and an e-mail address gets one message in its language
(zh/en) listing the incidents, with the affected assets as a CSV attachment.  After a message is
accepted by the relay, its requests get their ``sent_at`` (and so their due date) and their incidents
move to ``coordinating``; that is committed partner by partner, so a failure half-way never forgets
what was already sent.

A request that is overdue (:mod:`sitrep.incidents.sla`) gets a reminder in a second message per
partner, at most every ``[incidents] reminder_hours``; the reminder's time is recorded on the request.

One partner that cannot be mailed (a name or address that cannot go in a header, a refused recipient,
a dropped connection) is reported in ``failed`` and the others are still sent.
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import Literal, NotRequired, TypedDict
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from sitrep.config import Workspace
from sitrep.csvsafe import csv_text
from sitrep.incidents.desk import Desk
from sitrep.incidents.models import CoordinationRequest, Incident, Partner, utcnow
from sitrep.incidents.partners import get_partner
from sitrep.incidents.sla import overdue_condition
from sitrep.incidents.vocabulary import Status
from sitrep.incidents.workflow import transition, update_request
from sitrep.taxonomy import TLP, IncidentCategory

Kind = Literal["request", "reminder"]


class NotifyError(RuntimeError):
    """Mail cannot be sent at all (relay unreachable, login refused, password variable unset)."""


class Notice(TypedDict):
    """A message sent (or written, in a dry run) to one partner."""

    kind: Kind
    partner: str
    email: str
    incidents: list[str]
    file: NotRequired[str]
    message_id: NotRequired[str]


class NotSent(TypedDict):
    """A partner that got no message, and why."""

    kind: Kind
    partner: str
    reason: str


class NotifyReportDict(TypedDict):
    dry_run: bool
    sent: list[Notice]
    skipped: list[NotSent]
    failed: list[NotSent]


@dataclass
class NotifyReport:
    """What a notification run did: ``skipped`` partners cannot be mailed (no address, deactivated),
    ``failed`` ones could not be mailed this time."""

    dry_run: bool
    sent: list[Notice] = field(default_factory=list)
    skipped: list[NotSent] = field(default_factory=list)
    failed: list[NotSent] = field(default_factory=list)

    def as_dict(self) -> NotifyReportDict:
        return {"dry_run": self.dry_run, "sent": self.sent, "skipped": self.skipped, "failed": self.failed}


_LOAD = (
    selectinload(CoordinationRequest.partner),
    selectinload(CoordinationRequest.incident).selectinload(Incident.assets),
)


def _by_partner(requests: Sequence[CoordinationRequest]) -> dict[int, list[CoordinationRequest]]:
    grouped: dict[int, list[CoordinationRequest]] = {}
    for request in requests:
        grouped.setdefault(request.partner_id, []).append(request)
    return grouped


def pending_requests(session: Session, partner_id: int | None = None) -> dict[int, list[CoordinationRequest]]:
    """Unsent requests of triaged or coordinating incidents, by partner id (oldest first); only those
    of one partner with ``partner_id``."""
    query = (
        select(CoordinationRequest)
        .join(CoordinationRequest.incident)
        .where(
            CoordinationRequest.sent_at.is_(None),
            Incident.status.in_([Status.TRIAGED.value, Status.COORDINATING.value]),
        )
        .options(*_LOAD)
        .order_by(CoordinationRequest.partner_id, CoordinationRequest.id)
    )
    if partner_id is not None:
        query = query.where(CoordinationRequest.partner_id == partner_id)
    return _by_partner(list(session.scalars(query)))


def reminders_due(
    session: Session, now: datetime, every: timedelta, partner_id: int | None = None
) -> dict[int, list[CoordinationRequest]]:
    """Overdue requests not reminded of in the last ``every``, by partner id (oldest due first); only
    those of one partner with ``partner_id``."""
    query = (
        select(CoordinationRequest)
        .join(CoordinationRequest.incident)
        .where(
            overdue_condition(now),
            or_(CoordinationRequest.reminded_at.is_(None), CoordinationRequest.reminded_at <= now - every),
        )
        .options(*_LOAD)
        .order_by(CoordinationRequest.partner_id, CoordinationRequest.due_at, CoordinationRequest.id)
    )
    if partner_id is not None:
        query = query.where(CoordinationRequest.partner_id == partner_id)
    return _by_partner(list(session.scalars(query)))


def _strictest(labels: Sequence[str]) -> TLP:
    order = list(TLP)
    return max((TLP(label) for label in labels), key=order.index, default=TLP.AMBER)


def _local(moment: datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).isoformat() if moment else ""


def assets_csv(incidents: Sequence[Incident], tz: ZoneInfo) -> bytes:
    """The attachment: one row per affected asset (UTF-8 with BOM, so spreadsheet programs read it);
    no cell starts a formula (:mod:`sitrep.csvsafe`)."""
    rows = [
        [incident.ref, incident.category, asset.kind, asset.value, _local(incident.reported_at, tz), incident.tlp]
        for incident in incidents
        for asset in incident.assets
    ]
    return csv_text(["ref", "category", "kind", "asset", "reported_at", "tlp"], rows).encode("utf-8-sig")


class _Mail(TypedDict):
    subject: str
    greeting: str


class _Text(TypedDict):
    """A language's words of the notification mail: per kind of mail, and those both kinds share."""

    request: _Mail
    reminder: _Mail
    assets: str
    times: str
    footer: str


_TEXT: dict[str, _Text] = {
    "zh": {
        "request": {
            "subject": "[TLP:{tlp}] {org} 网络安全事件协调处置请求（{n}起）",
            "greeting": "{partner}：\n\n您好！{org}监测或接报以下网络安全事件，涉及贵单位负责的网络资源，"
            "请协助核实并处置，处置完成后请回复本邮件告知结果。\n",
        },
        "reminder": {
            "subject": "[TLP:{tlp}] {org} 网络安全事件处置催办（{n}起）",
            "greeting": "{partner}：\n\n您好！{org}此前发送的以下网络安全事件协调处置请求已超过处置时限，"
            "尚未收到处置结果，请尽快处置并回复本邮件告知结果。\n",
        },
        "assets": "   涉及资产：",
        "times": "   发送时间：{sent}；处置时限：{due}",
        "footer": "\n受影响资产清单见附件（CSV）。本邮件内容标记为 TLP:{tlp}，请仅在处置所需范围内使用。\n\n{org}\n",
    },
    "en": {
        "request": {
            "subject": "[TLP:{tlp}] {org} request for incident handling ({n} {incidents})",
            "greeting": "Dear {partner},\n\n{org} has detected or received reports of the following security "
            "incidents involving resources you are responsible for. Please verify and take "
            "action, and reply to this message with the outcome.\n",
        },
        "reminder": {
            "subject": "[TLP:{tlp}] {org} reminder: incident handling overdue ({n} {incidents})",
            "greeting": "Dear {partner},\n\nThe following requests for incident handling that {org} sent you "
            "are past their due date and we have not received the outcome. Please take action and "
            "reply to this message with the outcome.\n",
        },
        "assets": "   Affected: ",
        "times": "   Sent: {sent}; due: {due}",
        "footer": "\nThe affected assets are listed in the attached CSV file. This message is TLP:{tlp}; "
        "please use it only as needed to handle the incidents.\n\n{org}\n",
    },
}


def build_message(
    partner: Partner,
    requests: Sequence[CoordinationRequest],
    workspace: Workspace,
    now: datetime | None = None,
    kind: Kind = "request",
) -> EmailMessage:
    """The notification (or reminder) for one partner, in its language, with the assets CSV attached.

    Raises ``ValueError`` when the partner's name or address cannot go in a mail header.
    """
    now = now or utcnow()
    tz = workspace.timezone
    language = partner.language if partner.language in _TEXT else "en"
    text = _TEXT[language]
    organisation = workspace.settings.organisation
    org = organisation.name if language == "zh" else organisation.name_en
    smtp = workspace.settings.smtp
    incidents = [r.incident for r in requests]
    tlp = _strictest([i.tlp for i in incidents]).value
    lines = [text[kind]["greeting"].format(partner=partner.name, org=org)]
    for number, request in enumerate(requests, start=1):
        incident = request.incident
        category = IncidentCategory(incident.category)
        label = category.zh if language == "zh" else category.en
        lines.append(f"{number}. [{incident.ref}] {label}: {incident.title}")
        if kind == "reminder":
            sent, due = (f"{t.astimezone(tz):%Y-%m-%d %H:%M}" if t else "-" for t in (request.sent_at, request.due_at))
            lines.append(text["times"].format(sent=sent, due=due))
        lines.append(text["assets"] + ", ".join(a.value for a in incident.assets))
    lines.append(text["footer"].format(tlp=tlp, org=org))
    message = EmailMessage()
    n = len(incidents)
    message["Subject"] = text[kind]["subject"].format(
        tlp=tlp, org=org, n=n, incidents="incident" if n == 1 else "incidents"
    )
    message["From"] = formataddr((smtp.sender_name, smtp.sender))
    message["To"] = formataddr((partner.name, partner.email or ""))
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2] or None)
    message.set_content("\n".join(lines))
    stamp = now.astimezone(tz).strftime("%Y%m%d")
    message.add_attachment(assets_csv(incidents, tz), maintype="text", subtype="csv", filename=f"incidents-{stamp}.csv")
    return message


def _slug(name: str) -> str:
    return re.sub(r"[^\w.-]+", "-", name, flags=re.UNICODE).strip("-") or "partner"


def _connect(workspace: Workspace) -> smtplib.SMTP:
    smtp = workspace.settings.smtp
    try:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        client.ehlo()
        if smtp.starttls:
            context = ssl.create_default_context(cafile=smtp.ca_file or None)
            client.starttls(context=context)
            client.ehlo()
        if smtp.username:
            password = os.environ.get(smtp.password_env)
            if password is None:
                client.quit()
                raise NotifyError(
                    f"smtp.username is set but the environment variable {smtp.password_env} holding the password is not"
                )
            client.login(smtp.username, password)
    except (OSError, smtplib.SMTPException) as exc:
        raise NotifyError(f"cannot use the SMTP relay {smtp.host}:{smtp.port}: {exc}") from exc
    return client


class _Mailer:
    """One SMTP connection for the run, opened on first use; reopened after the relay drops it."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.client: smtplib.SMTP | None = None
        self.opened = False

    def send(self, message: EmailMessage) -> None:
        if self.client is None:
            try:
                self.client = _connect(self.workspace)
            except NotifyError:
                if not self.opened:
                    raise  # nothing can be sent at all: the caller says so once
                raise smtplib.SMTPServerDisconnected("the relay could not be reached again") from None
            self.opened = True
        try:
            self.client.send_message(message)
        except (smtplib.SMTPServerDisconnected, OSError):
            self.client = None
            raise

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.quit()
            except (smtplib.SMTPException, OSError):
                self.client.close()


def _deliver(
    desk: Desk,
    kind: Kind,
    batches: dict[int, list[CoordinationRequest]],
    report: NotifyReport,
    mailer: _Mailer,
    outbox: Path,
    actor: str,
) -> None:
    for requests in batches.values():
        partner = requests[0].partner
        refs = [r.incident.ref for r in requests]
        if not partner.active:
            report.skipped.append({"kind": kind, "partner": partner.name, "reason": "partner is deactivated"})
            continue
        if not partner.email:
            report.skipped.append({"kind": kind, "partner": partner.name, "reason": "no e-mail address"})
            continue
        now = utcnow()
        try:
            message = build_message(partner, requests, desk.workspace, now, kind)
        except ValueError as exc:
            report.failed.append({"kind": kind, "partner": partner.name, "reason": f"cannot write the message: {exc}"})
            continue
        notice: Notice = {"kind": kind, "partner": partner.name, "email": partner.email, "incidents": refs}
        if report.dry_run:
            outbox.mkdir(parents=True, exist_ok=True)
            path = outbox / f"{now:%Y%m%dT%H%M%S}-{kind}-{_slug(partner.name)}.eml"
            path.write_bytes(bytes(message))
            report.sent.append({**notice, "file": str(path)})
            continue
        try:
            mailer.send(message)
        except (smtplib.SMTPException, OSError) as exc:
            report.failed.append({"kind": kind, "partner": partner.name, "reason": f"not accepted by the relay: {exc}"})
            continue
        _record(desk, kind, [r.id for r in requests], now, actor)
        report.sent.append({**notice, "message_id": message["Message-ID"]})


class Due(TypedDict):
    """What the next notification run would send one partner: the refs of its pending requests and
    of the overdue ones a reminder is due for."""

    requests: list[str]
    reminders: list[str]


def notices_due(desk: Desk, *, now: datetime | None = None) -> dict[str, Due]:
    """By partner name, what :func:`send_notifications` would send now (nothing is sent or written)."""
    moment = now or utcnow()
    due: dict[str, Due] = {}
    with desk.store.read() as session:
        pending = pending_requests(session)
        overdue = reminders_due(session, moment, timedelta(hours=desk.rules.reminder_hours))
        for requests in pending.values():
            due.setdefault(requests[0].partner.name, {"requests": [], "reminders": []})["requests"] = [
                r.incident.ref for r in requests
            ]
        for requests in overdue.values():
            due.setdefault(requests[0].partner.name, {"requests": [], "reminders": []})["reminders"] = [
                r.incident.ref for r in requests
            ]
    return due


def send_notifications(
    desk: Desk,
    *,
    actor: str,
    dry_run: bool = False,
    out_dir: Path | None = None,
    reminders: bool = True,
    partner: str | None = None,
) -> NotifyReport:
    """Mail every partner (or only the one named ``partner``) its pending requests, then its overdue
    ones (see the module docstring).

    With ``dry_run`` each message is written to ``out_dir`` (default ``<workspace>/outbox``) as an
    ``.eml`` file and nothing is recorded.  Raises :class:`NotifyError` when the relay cannot be used
    at all, :class:`~sitrep.incidents.errors.UnknownPartner` for a ``partner`` not in the directory.
    """
    report = NotifyReport(dry_run=dry_run)
    outbox = out_dir or desk.workspace.root / "outbox"
    now = utcnow()
    with desk.store.read() as session:
        only = get_partner(session, partner).id if partner else None
        pending = pending_requests(session, only)
        every = timedelta(hours=desk.rules.reminder_hours)
        overdue = reminders_due(session, now, every, only) if reminders else {}
    mailer = _Mailer(desk.workspace)
    try:
        _deliver(desk, "request", pending, report, mailer, outbox, actor)
        _deliver(desk, "reminder", overdue, report, mailer, outbox, actor)
    finally:
        mailer.close()
    return report


def _record(desk: Desk, kind: Kind, request_ids: list[int], when: datetime, actor: str) -> None:
    with desk.store.write() as session:
        query = (
            select(CoordinationRequest)
            .where(CoordinationRequest.id.in_(request_ids))
            .options(selectinload(CoordinationRequest.partner))
        )
        for request in session.scalars(query):
            if kind == "reminder":
                update_request(session, request, actor=actor, reminded_at=when)
                continue
            update_request(session, request, actor=actor, sent_at=when, sla=desk.sla)
            if request.incident.status == Status.TRIAGED.value:
                transition(session, request.incident, Status.COORDINATING, actor=actor, at=when)
