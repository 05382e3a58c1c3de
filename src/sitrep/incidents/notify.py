"""Notify partners of pending coordination requests by e-mail (or write ``.eml`` files in a dry run).

A request is pending while it has not been sent and its incident is triaged or coordinating (a ``new``
incident, e.g. a fresh proposal, waits for an analyst's triage before anyone outside is mailed).
Each partner with pending requests and an e-mail address gets one message in its language (zh/en)
listing the incidents, with the affected assets as a CSV attachment.  After a message is accepted by
the relay, its requests get their ``sent_at`` and their incidents move to ``coordinating``; that is
committed partner by partner, so a failure half-way never forgets what was already sent.
"""

from __future__ import annotations

import csv
import io
import os
import re
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from sitrep.config import Workspace
from sitrep.incidents.db import session_factory
from sitrep.incidents.models import CoordinationRequest, Incident, Partner, utcnow
from sitrep.incidents.vocabulary import Status
from sitrep.incidents.workflow import transition, update_request
from sitrep.taxonomy import TLP, IncidentCategory


class NotifyError(RuntimeError):
    """Mail cannot be sent at all (relay unreachable, login refused, password variable unset)."""


@dataclass
class NotifyReport:
    """What a notification run did."""

    dry_run: bool
    sent: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "sent": self.sent, "skipped": self.skipped, "failed": self.failed}


def pending_requests(session: Session) -> dict[int, list[CoordinationRequest]]:
    """Unsent requests of triaged or coordinating incidents, by partner id (oldest first)."""
    query = (
        select(CoordinationRequest)
        .join(CoordinationRequest.incident)
        .where(
            CoordinationRequest.sent_at.is_(None),
            Incident.status.in_([Status.TRIAGED.value, Status.COORDINATING.value]),
        )
        .options(
            selectinload(CoordinationRequest.partner),
            selectinload(CoordinationRequest.incident).selectinload(Incident.assets),
        )
        .order_by(CoordinationRequest.partner_id, CoordinationRequest.id)
    )
    grouped: dict[int, list[CoordinationRequest]] = {}
    for request in session.scalars(query):
        grouped.setdefault(request.partner_id, []).append(request)
    return grouped


def _strictest(labels: Sequence[str]) -> TLP:
    order = list(TLP)
    return max((TLP(label) for label in labels), key=order.index, default=TLP.AMBER)


def assets_csv(incidents: Sequence[Incident], tz: Any) -> bytes:
    """The attachment: one row per affected asset (UTF-8 with BOM, so spreadsheet programs read it)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["ref", "category", "kind", "asset", "reported_at", "tlp"])
    for incident in incidents:
        reported = incident.reported_at.astimezone(tz).isoformat() if incident.reported_at else ""
        for asset in incident.assets:
            writer.writerow([incident.ref, incident.category, asset.kind, asset.value, reported, incident.tlp])
    return buffer.getvalue().encode("utf-8-sig")


_TEXT = {
    "zh": {
        "subject": "[TLP:{tlp}] {org} 网络安全事件协调处置请求（{n}起）",
        "greeting": "{partner}：\n\n您好！{org}监测或接报以下网络安全事件，涉及贵单位负责的网络资源，"
        "请协助核实并处置，处置完成后请回复本邮件告知结果。\n",
        "assets": "   涉及资产：",
        "footer": "\n受影响资产清单见附件（CSV）。本邮件内容标记为 TLP:{tlp}，请仅在处置所需范围内使用。\n\n{org}\n",
    },
    "en": {
        "subject": "[TLP:{tlp}] {org} request for incident handling ({n} incidents)",
        "greeting": "Dear {partner},\n\n{org} has detected or received reports of the following security "
        "incidents involving resources you are responsible for. Please verify and take "
        "action, and reply to this message with the outcome.\n",
        "assets": "   Affected: ",
        "footer": "\nThe affected assets are listed in the attached CSV file. This message is TLP:{tlp}; "
        "please use it only as needed to handle the incidents.\n\n{org}\n",
    },
}


def build_message(
    partner: Partner, incidents: Sequence[Incident], workspace: Workspace, now: datetime | None = None
) -> EmailMessage:
    """The notification for one partner, in its language, with the assets CSV attached."""
    language = partner.language if partner.language in _TEXT else "en"
    text = _TEXT[language]
    organisation = workspace.settings.organisation
    org = organisation.name if language == "zh" else organisation.name_en
    smtp = workspace.settings.smtp
    tlp = _strictest([i.tlp for i in incidents]).value
    lines = [text["greeting"].format(partner=partner.name, org=org)]
    for number, incident in enumerate(incidents, start=1):
        category = IncidentCategory(incident.category)
        label = category.zh if language == "zh" else category.en
        lines.append(f"{number}. [{incident.ref}] {label}: {incident.title}")
        lines.append(text["assets"] + ", ".join(a.value for a in incident.assets))
    lines.append(text["footer"].format(tlp=tlp, org=org))
    message = EmailMessage()
    message["Subject"] = text["subject"].format(tlp=tlp, org=org, n=len(incidents))
    message["From"] = formataddr((smtp.sender_name, smtp.sender))
    message["To"] = formataddr((partner.name, partner.email or ""))
    message["Date"] = format_datetime(now or utcnow())
    message["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2] or None)
    message.set_content("\n".join(lines))
    stamp = (now or utcnow()).astimezone(workspace.timezone).strftime("%Y%m%d")
    message.add_attachment(
        assets_csv(incidents, workspace.timezone), maintype="text", subtype="csv", filename=f"incidents-{stamp}.csv"
    )
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


def send_notifications(
    workspace: Workspace, *, actor: str, dry_run: bool = False, out_dir: Path | None = None
) -> NotifyReport:
    """Mail every partner with pending requests (see module docstring); return what happened.

    With ``dry_run`` each message is written to ``out_dir`` (default ``<workspace>/outbox``) as an
    ``.eml`` file and nothing is recorded.
    """
    report = NotifyReport(dry_run=dry_run)
    outbox = out_dir or workspace.root / "outbox"
    with session_factory(workspace) as factory:
        with factory() as session:
            pending = pending_requests(session)
            batches = [(reqs[0].partner, [r.incident for r in reqs], [r.id for r in reqs]) for reqs in pending.values()]
        client: smtplib.SMTP | None = None
        try:
            for partner, incidents, request_ids in batches:
                refs = [i.ref for i in incidents]
                if not partner.email:
                    report.skipped.append({"partner": partner.name, "reason": "no e-mail address"})
                    continue
                now = utcnow()
                message = build_message(partner, incidents, workspace, now)
                if dry_run:
                    outbox.mkdir(parents=True, exist_ok=True)
                    path = outbox / f"{now:%Y%m%dT%H%M%S}-{_slug(partner.name)}.eml"
                    path.write_bytes(bytes(message))
                    report.sent.append(
                        {"partner": partner.name, "email": partner.email, "incidents": refs, "file": str(path)}
                    )
                    continue
                if client is None:
                    client = _connect(workspace)
                try:
                    client.send_message(message)
                except smtplib.SMTPRecipientsRefused as exc:
                    report.failed.append({"partner": partner.name, "reason": f"recipient refused: {exc}"})
                    continue
                except smtplib.SMTPException as exc:
                    raise NotifyError(f"sending to {partner.name} failed: {exc}") from exc
                _record_sent(factory, request_ids, now, actor)
                report.sent.append(
                    {
                        "partner": partner.name,
                        "email": partner.email,
                        "incidents": refs,
                        "message_id": message["Message-ID"],
                    }
                )
        finally:
            if client is not None:
                try:
                    client.quit()
                except smtplib.SMTPException:
                    client.close()
    return report


def _record_sent(factory: Any, request_ids: list[int], when: datetime, actor: str) -> None:
    with factory() as session, session.begin():
        requests = session.scalars(select(CoordinationRequest).where(CoordinationRequest.id.in_(request_ids)))
        for request in requests:
            update_request(session, request, actor=actor, sent_at=when)
            if request.incident.status == Status.TRIAGED.value:
                transition(session, request.incident, Status.COORDINATING, actor=actor, at=when)
