"""The acknowledgement a reporter gets for a complaint mail: its tracking ref, mailed through ``[smtp]``.

Sent only when ``[incidents.complaints] auto_reply`` is on, and never (RFC 3834) to a mail that was
itself sent automatically — ``Auto-Submitted`` other than ``no``, ``Precedence: bulk|list|junk``,
a mailing list's ``List-*`` headers, ``X-Auto-Response-Suppress``, an ``X-Autoreply`` header, any
``multipart/report``, an empty ``Return-Path``, a ``MAILER-DAEMON``, ``postmaster`` or ``noreply``
sender — nor to a sender without an address, to ourselves (``[smtp] sender`` and
``own_addresses``), to a mail that answers one of our acknowledgements (its ``In-Reply-To`` or
``References`` names a Message-ID we made), or to a sender who already got
``replies_per_sender_per_day`` acknowledgements in the last 24 hours (two auto-responders that do
not mark their mail would otherwise answer each other for ever).

A machine's answer (an automatic reply, a bounce, a read receipt: :func:`automatic_answer`) is no
complaint at all: the intake quarantines it instead of proposing an incident.

The acknowledgement quotes nothing of the complaint — not its subject, not its links — so the desk
cannot be used to relay someone's words to a forged sender; it carries the ref, in Chinese and English.
"""

from __future__ import annotations

import smtplib
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from sitrep.config import Workspace
from sitrep.incidents.mail import ComplaintMail
from sitrep.report.distribution.errors import DistributionError
from sitrep.report.distribution.relay import answer, close, connect, detail, password_of, smtp_relay

ACK_MARK = "sitrep-ack"  # in the Message-ID of every acknowledgement: a reply to one is recognised
BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})
# The reports (multipart/report) that answer a mail someone sent: a bounce, a read receipt.
ANSWER_REPORTS = frozenset({"delivery-status", "disposition-notification"})
# Local parts of senders that are machines (bounces, system mail) and answer nobody.
MACHINE_SENDERS = frozenset(
    {"mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply", "donotreply", "bounce", "bounces"}
)

_TEXT = {
    "proposed": (
        "您好！\n\n{org}已收到您的报告，跟踪编号为 {ref}。我们将尽快核实处理；"
        "如需补充材料，请回复本邮件并保留主题中的编号。\n"
        "（本邮件由系统自动发送。）\n\n"
        "Hello,\n\n{org_en} has received your report; its tracking reference is {ref}. We will verify and "
        "handle it as soon as possible. To add information, reply to this message and keep the reference "
        "in the subject.\n(This message was sent automatically.)\n"
    ),
    "attached": (
        "您好！\n\n{org}已收到您的报告，该报告已并入正在处理的事件，跟踪编号为 {ref}。"
        "如需补充材料，请回复本邮件并保留主题中的编号。\n"
        "（本邮件由系统自动发送。）\n\n"
        "Hello,\n\n{org_en} has received your report and added it to a case already being handled; its "
        "tracking reference is {ref}. To add information, reply to this message and keep the reference "
        "in the subject.\n(This message was sent automatically.)\n"
    ),
}
_SUBJECT = "[{ref}] 已收到您的报告 / Report received"


class ReplyNotSent(Exception):
    """The relay could not take the acknowledgement; the message says why."""


def automatic_answer(mail: ComplaintMail) -> str | None:
    """Why ``mail`` is a machine's answer rather than a complaint — an automatic reply (``Auto-Submitted:
    auto-replied``, ``X-Autoreply``), a bounce or a read receipt (``multipart/report`` of a delivery
    status or disposition, a ``MAILER-DAEMON`` sender with an empty ``Return-Path``) — or None.
    (An automatically *generated* report, such as an ARF ``feedback-report``, is a complaint.)"""
    local = (mail.sender or "").lower().partition("@")[0]
    if mail.report_type in ANSWER_REPORTS:
        return f"a {mail.report_type} report (a bounce or a read receipt)"
    if mail.return_path == "<>" and local in MACHINE_SENDERS:
        return "a bounce"
    if mail.auto_submitted == "auto-replied" or mail.autoreply:
        return "an automatic reply"
    return None


def why_not(mail: ComplaintMail, workspace: Workspace, replies_today: int) -> str | None:
    """Why ``mail`` gets no acknowledgement (see the module docstring), or None when it gets one."""
    rules = workspace.settings.incidents.complaints
    if not mail.sender:
        return "the mail has no sender address"
    local = mail.sender.lower().partition("@")[0]
    if answer_reason := automatic_answer(mail):
        return f"it is {answer_reason}"
    if mail.auto_submitted and mail.auto_submitted != "no":
        return f"it was sent automatically (Auto-Submitted: {mail.auto_submitted})"
    if mail.precedence in BULK_PRECEDENCE:
        return f"it is bulk mail (Precedence: {mail.precedence})"
    if mail.mailing_list:
        return "it came through a mailing list"
    if mail.suppress_replies:
        return "it asks for no automatic reply (X-Auto-Response-Suppress)"
    if mail.report_type or mail.return_path == "<>" or local in MACHINE_SENDERS:
        return "it comes from a mail system (a report, an empty Return-Path or a system sender)"
    ours = {workspace.settings.smtp.sender.lower(), *(a.lower() for a in rules.own_addresses)}
    if mail.sender.lower() in ours:
        return "it comes from our own address"
    if any(ACK_MARK in reference for reference in mail.references):
        return "it answers one of our acknowledgements"
    if replies_today >= rules.replies_per_sender_per_day:
        return f"{mail.sender} already got {replies_today} acknowledgements in 24 hours"
    return None


def build_reply(mail: ComplaintMail, ref: str, attached: bool, workspace: Workspace, now: datetime) -> EmailMessage:
    """The acknowledgement of ``mail``: ref ``ref`` of the incident it proposed or was ``attached`` to."""
    organisation = workspace.settings.organisation
    smtp = workspace.settings.smtp
    message = EmailMessage()
    message["Subject"] = _SUBJECT.format(ref=ref)
    message["From"] = formataddr((smtp.sender_name, smtp.sender))
    message["To"] = mail.sender or ""
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(idstring=ACK_MARK, domain=smtp.sender.rpartition("@")[2] or None)
    if mail.message_id:
        message["In-Reply-To"] = mail.message_id
        message["References"] = mail.message_id
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"
    body = _TEXT["attached" if attached else "proposed"]
    message.set_content(body.format(org=organisation.name, org_en=organisation.name_en, ref=ref))
    return message


def send_reply(message: EmailMessage, workspace: Workspace) -> None:
    """Hand ``message`` to the ``[smtp]`` relay; :class:`ReplyNotSent` saying why when it cannot."""
    relay = smtp_relay(workspace.settings)
    try:
        client = connect(relay, password_of(relay))
    except DistributionError as exc:
        raise ReplyNotSent(str(exc)) from None
    try:
        client.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        reasons = "; ".join(answer(smtplib.SMTPResponseException(code, text)) for code, text in exc.recipients.values())
        raise ReplyNotSent(f"{relay} refused the reporter's address: {reasons}") from None
    except smtplib.SMTPResponseException as exc:
        raise ReplyNotSent(f"{relay} refused the message: {answer(exc)}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise ReplyNotSent(f"{relay} dropped the message: {detail(exc)}") from None
    finally:
        close(client)
