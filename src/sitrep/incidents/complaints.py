"""Complaint intake: a mail to the abuse mailbox (or a saved ``.eml``) becomes a proposed incident.

:func:`take_complaint` takes one mail's bytes and says what became of it (:class:`ComplaintOutcome`):

- **proposed** — a new incident, status ``new``, ref ``P-<week received>-<hash of the mail>``, so it
  waits in the proposals queue like a proposal from the lake: reported via ``complaint`` (or
  ``partner``/``foreign-cert`` when the sender's address is a partner's of the directory), the
  reporter (``Name <address>``) and the reported time from the mail (``Date``, else when it was
  received; never later than that), the category guessed from its words
  (:mod:`sitrep.incidents.categorise`), the URLs, domains and IPs it names as assets
  (:mod:`sitrep.incidents.extract`), a coordination request to the partner routing picks for the first
  asset (the partner types of the ``[[incidents.propose]]`` rule of that category), and a note on its
  timeline with the sender, subject, attachments and the text of the mail;
- **attached** — the mail names an asset an open incident has (the same URL, domain or IP; a domain or
  IP also matches a URL on that host): it joins that incident instead (a note, its new assets, an
  entry in the history);
- **already** — the same bytes, or the same Message-ID from the same sender, were taken before: nothing
  new is written (a collector killed between the commit and marking the mail hands it over again);
- **quarantined** — the mail cannot be read reliably (no header at all, a multipart without its
  boundaries, too many MIME parts), or it is a machine's answer rather than a complaint (an automatic
  reply, a bounce, a read receipt): it is kept under ``<folder>/quarantine/`` with a reason file;
- **refused** — larger than ``[incidents.complaints] max_mb``: recorded, not kept (it stays where it
  came from).

Every mail taken is a row of the ``complaints`` table; the ``.eml`` of a proposed or attached one is
kept as ``<folder>/mail/<first two hex digits>/<SHA-256>.eml`` in the workspace, written atomically
before the transaction that records it commits, so a killed intake leaves either nothing or a mail
that is taken again whole.  What a mail says is hostile input: its text is read, never run
(:mod:`sitrep.incidents.mail`), and header values are cleaned to one line.

An acknowledgement with the ref goes back to the reporter when configured
(:mod:`sitrep.incidents.autoreply`), after the commit; whether it was sent is recorded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sitrep.config import ComplaintRules
from sitrep.hosts import is_under, under_any
from sitrep.incidents.autoreply import ReplyNotSent, automatic_answer, build_reply, send_reply, why_not
from sitrep.incidents.categorise import guess_category
from sitrep.incidents.desk import Desk
from sitrep.incidents.errors import IncidentError
from sitrep.incidents.extract import Found, find_assets, registrable_domain
from sitrep.incidents.inputs import plain_text
from sitrep.incidents.mail import Attachment, ComplaintMail, clean_text, one_line, read_mail
from sitrep.incidents.models import Asset, Complaint, Incident, Partner, utcnow
from sitrep.incidents.partners import route
from sitrep.incidents.refs import proposal_prefix
from sitrep.incidents.vocabulary import OPEN_STATUSES, AssetKind, ReportedVia
from sitrep.incidents.workflow import (
    MAX_NOTE,
    add_asset,
    add_note,
    add_request,
    check_actor,
    create_incident,
    record,
    refresh_cross_border,
)
from sitrep.report.errors import OutputError
from sitrep.report.render import atomic_write
from sitrep.taxonomy import TLP, IncidentCategory, PartnerType
from sitrep.weeks import Week

Action = Literal["proposed", "attached", "already", "quarantined", "refused"]
EXCERPT = 4000  # characters of the mail's text on the incident's timeline
MAX_TITLE = 200
_READ_CHUNK = 1 << 20


class ComplaintError(IncidentError):
    """A mail could not be taken at all (its file cannot be read, the workspace folder cannot be
    written); the message names the file or folder.  Nothing was recorded: it may be given again."""


@dataclass(frozen=True)
class ComplaintOutcome:
    """What became of one mail (see the module docstring).

    ``incident`` is the ref it proposed or joined (for ``already``, that of its first taking, and
    ``earlier`` what became of it then); ``reason`` why it was quarantined or refused, or, for
    ``already``, how it was recognised;
    ``kept`` where its ``.eml`` is (relative to the workspace); ``reply`` whether the reporter was
    acknowledged (``sent to …``, ``not sent: …``) or None when acknowledgements are off.
    """

    action: Action
    sha256: str
    size: int
    message_id: str | None = None
    incident: str | None = None
    reason: str | None = None
    kept: str | None = None
    reporter: str | None = None
    subject: str = ""
    category: str | None = None
    assets: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    warnings: tuple[str, ...] = ()
    reply: str | None = None
    earlier: str | None = None

    @property
    def ok(self) -> bool:
        """The mail is with an incident (proposed or attached, now or when it was taken before)."""
        return (self.earlier if self.action == "already" else self.action) in ("proposed", "attached")

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` form."""
        return {
            "action": self.action,
            "earlier": self.earlier,
            "incident": self.incident,
            "reason": self.reason,
            "kept": self.kept,
            "sha256": self.sha256,
            "size": self.size,
            "message_id": self.message_id,
            "reporter": self.reporter,
            "subject": self.subject,
            "category": self.category,
            "assets": list(self.assets),
            "attachments": [a.as_dict() for a in self.attachments],
            "warnings": list(self.warnings),
            "reply": self.reply,
        }


@dataclass(frozen=True)
class _Intake:
    """One taking of a mail: who takes it, from which source, when it arrived."""

    desk: Desk
    source: str
    actor: str
    received: datetime
    auto_reply: bool

    @property
    def rules(self) -> ComplaintRules:
        return self.desk.rules.complaints

    @property
    def root(self) -> Path:
        return self.desk.workspace.root

    def folder(self) -> Path:
        return self.root / Path(self.rules.folder).expanduser()

    def shown(self, path: Path) -> str:
        """``path`` as recorded: relative to the workspace when inside it."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)


def take_complaint(
    desk: Desk,
    raw: bytes,
    *,
    source: str,
    received_at: datetime | None = None,
    actor: str | None = None,
    auto_reply: bool | None = None,
) -> ComplaintOutcome:
    """Take one complaint mail (its RFC 5322 bytes) from ``source`` (a ``[[sources]]`` name, or
    ``intake`` by hand), received at ``received_at`` (an aware time; default now).

    ``actor`` is who the history names (default ``source``); ``auto_reply`` overrides
    ``[incidents.complaints] auto_reply``.  Safe to call again with the same mail: the second call
    answers ``already``.  Raises :class:`ComplaintError` only when the workspace folder cannot be
    written, and the store's errors when the database cannot be used — in both cases nothing was
    recorded and the mail should be given again later.
    """
    intake = _intake(desk, source, received_at, actor, auto_reply)
    return _take(intake, hashlib.sha256(raw).hexdigest(), len(raw), raw)


def take_complaint_file(
    desk: Desk,
    path: Path,
    *,
    source: str = "intake",
    actor: str | None = None,
    auto_reply: bool | None = None,
) -> ComplaintOutcome:
    """:func:`take_complaint` of a saved mail file; one over the size cap is refused without being read
    into memory.  :class:`ComplaintError` when the file cannot be read."""
    intake = _intake(desk, source, None, actor, auto_reply)
    cap = intake.rules.max_mb * 1024 * 1024
    try:
        if not path.is_file():
            raise ComplaintError(f"{path}: no such file")
        size = path.stat().st_size
        if size > cap:
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                while chunk := handle.read(_READ_CHUNK):
                    digest.update(chunk)
            return _take(intake, digest.hexdigest(), size, None)
        raw = path.read_bytes()
    except OSError as exc:
        raise ComplaintError(f"cannot read {path}: {exc.strerror or exc}") from None
    return _take(intake, hashlib.sha256(raw).hexdigest(), len(raw), raw)


def _intake(
    desk: Desk, source: str, received_at: datetime | None, actor: str | None, auto_reply: bool | None
) -> _Intake:
    name = plain_text(source, "source", max_length=64)
    if received_at is not None and received_at.tzinfo is None:
        raise IncidentError(f"received_at {received_at.isoformat()} carries no time zone")
    rules = desk.rules.complaints
    return _Intake(
        desk,
        name,
        check_actor(actor or name),
        received_at or utcnow(),
        rules.auto_reply if auto_reply is None else auto_reply,
    )


def _take(intake: _Intake, sha256: str, size: int, raw: bytes | None) -> ComplaintOutcome:
    earlier = _earlier(intake.desk, sha256, None, None)
    if earlier is not None:
        return earlier
    if raw is None or size > intake.rules.max_mb * 1024 * 1024:
        reason = f"{size} bytes, over the {intake.rules.max_mb} MB cap ([incidents.complaints] max_mb)"
        return _record_only(intake, ComplaintOutcome("refused", sha256, size, reason=reason), ComplaintMail())
    mail = read_mail(raw, max_parts=intake.rules.max_parts)
    earlier = _earlier(intake.desk, sha256, mail.message_id, mail.sender)
    if earlier is not None:
        return earlier
    answer = automatic_answer(mail)
    problem = mail.problem or (f"{answer}, not a complaint" if answer else None)
    if problem:
        kept = _quarantine(intake, sha256, raw, problem)
        outcome = _outcome(mail, "quarantined", sha256, size, reason=problem, kept=kept)
        return _record_only(intake, outcome, mail)
    return _file(intake, mail, sha256, raw)


# -- what was taken before ------------------------------------------------------------------------------


def _earlier(desk: Desk, sha256: str, message_id: str | None, sender: str | None) -> ComplaintOutcome | None:
    with desk.store.read() as session:
        return _earlier_in(session, desk.tz, sha256, message_id, sender)


def _earlier_in(
    session: Session, tz: ZoneInfo, sha256: str, message_id: str | None, sender: str | None
) -> ComplaintOutcome | None:
    """The outcome ``already`` when these bytes, or this Message-ID from this sender, were taken."""
    found = session.scalar(select(Complaint).where(Complaint.sha256 == sha256))
    how = "the same bytes"
    if found is None and message_id:
        statement = select(Complaint).where(Complaint.message_id == message_id)
        statement = statement.where(Complaint.sender.is_(None) if sender is None else Complaint.sender == sender)
        found = session.scalar(statement)
        how = "the same Message-ID from the same sender"
    if found is None:
        return None
    when = found.taken_at.astimezone(tz).isoformat(timespec="seconds")
    return ComplaintOutcome(
        "already",
        sha256,
        found.size,
        message_id=found.message_id,
        incident=found.incident.ref if found.incident else None,
        reason=f"{how} as the mail taken at {when} ({found.action})",
        kept=found.path,
        reporter=found.reporter,
        subject=found.subject or "",
        category=found.category,
        assets=tuple(found.assets or ()),
        earlier=found.action,
    )


# -- kept files ---------------------------------------------------------------------------------------


def _write(path: Path, data: bytes) -> None:
    try:
        atomic_write(path, data)
    except OutputError as exc:
        raise ComplaintError(str(exc)) from None


def _keep(intake: _Intake, sha256: str, raw: bytes) -> str:
    path = intake.folder() / "mail" / sha256[:2] / f"{sha256}.eml"
    if not path.is_file():
        _write(path, raw)
    return intake.shown(path)


def _quarantine(intake: _Intake, sha256: str, raw: bytes, reason: str) -> str:
    folder = intake.folder() / "quarantine"
    path = folder / f"{sha256}.eml"
    _write(path, raw)
    note = f"{reason}\nsource: {intake.source}\nreceived: {intake.received.isoformat()}\n"
    _write(folder / f"{sha256}.reason.txt", note.encode("utf-8"))
    return intake.shown(path)


# -- recording ----------------------------------------------------------------------------------------


def _outcome(mail: ComplaintMail, action: Action, sha256: str, size: int, **values: Any) -> ComplaintOutcome:
    return ComplaintOutcome(
        action,
        sha256,
        size,
        message_id=mail.message_id,
        reporter=mail.reporter,
        subject=mail.subject,
        attachments=tuple(mail.attachments),
        warnings=tuple(dict.fromkeys(mail.warnings)),
        **values,
    )


def _row(intake: _Intake, outcome: ComplaintOutcome, mail: ComplaintMail, reported_at: datetime | None) -> Complaint:
    return Complaint(
        sha256=outcome.sha256,
        message_id=mail.message_id,
        sender=mail.sender,
        source=intake.source,
        size=outcome.size,
        action=outcome.action,
        reason=outcome.reason,
        path=outcome.kept,
        reporter=mail.reporter,
        subject=mail.subject or None,
        category=outcome.category,
        assets=list(outcome.assets),
        attachments=[a.as_dict() for a in outcome.attachments],
        warnings=list(outcome.warnings),
        reported_at=reported_at,
        received_at=intake.received,
        taken_at=utcnow(),
    )


def _record_only(intake: _Intake, outcome: ComplaintOutcome, mail: ComplaintMail) -> ComplaintOutcome:
    """Record a mail that joins no incident (quarantined, refused)."""
    try:
        with intake.desk.store.write() as session:
            earlier = _earlier_in(session, intake.desk.tz, outcome.sha256, mail.message_id, mail.sender)
            if earlier is not None:
                return earlier
            session.add(_row(intake, outcome, mail, mail.date))
    except IntegrityError:
        # Another intake recorded the same mail between our check and our insert (PostgreSQL).
        return _earlier(intake.desk, outcome.sha256, mail.message_id, mail.sender) or outcome
    return outcome


def _reported_at(mail: ComplaintMail, received: datetime) -> datetime:
    """The mail's ``Date``, but never after it was received (a clock ahead, a forged date): a status
    change may not predate the report, and the incident is triaged after it arrived."""
    if mail.date is None:
        return received
    if mail.date > received:
        mail.warnings.append(f"Date {mail.date.isoformat()} is after the mail was received: the receipt time is used")
        return received
    return mail.date


def _proposal_ref(intake: _Intake, sha256: str) -> str:
    """``P-<week received>-<hash>``: the proposals queue of that week lists it, and the same mail always
    gets the same ref."""
    week = Week.of(intake.received.astimezone(intake.desk.tz).date())
    digest = hashlib.sha256(("complaint\0" + sha256).encode()).hexdigest()[:10]
    return f"{proposal_prefix(week)}{digest}"


def _file(intake: _Intake, mail: ComplaintMail, sha256: str, raw: bytes) -> ComplaintOutcome:
    """Propose an incident for ``mail`` or attach it to the open one that has its assets."""
    desk = intake.desk
    rules = intake.rules
    reported = _reported_at(mail, intake.received)
    texts = [mail.subject, *mail.texts]
    found = find_assets(texts, limit=rules.max_assets, skip=_skipping(intake, mail))
    if found.dropped:
        mail.warnings.append(f"{found.dropped} more assets named than the {rules.max_assets} kept (max_assets)")
    if found.truncated:
        mail.warnings.append("the text is longer than the scan reads: its end was not searched for assets")
    guess = guess_category(mail.subject, mail.texts, rules.default_category)
    kept = _keep(intake, sha256, raw)
    assets = [a.value for a in found.assets]
    try:
        with desk.store.write() as session:
            earlier = _earlier_in(session, desk.tz, sha256, mail.message_id, mail.sender)
            if earlier is not None:
                return earlier
            incident = _open_match(session, found.assets)
            if incident is None:
                incident = _propose(session, intake, mail, sha256, guess.category, found.assets, reported)
                action: Action = "proposed"
            else:
                action = "attached"
                for asset in found.assets:
                    add_asset(session, incident, asset.value, kind=asset.kind, actor=intake.actor, home=desk.home)
                refresh_cross_border(session, incident, desk.home, actor=intake.actor)
            outcome = _outcome(
                mail,
                action,
                sha256,
                len(raw),
                incident=incident.ref,
                kept=kept,
                category=guess.category.value,
                assets=tuple(assets),
            )
            row = _row(intake, outcome, mail, reported)
            incident.complaints.append(row)
            what = f"{mail.message_id or sha256} from {mail.sender or 'an unknown sender'} ({action}), kept as {kept}"
            record(session, incident, "complaint", None, what, intake.actor)
            add_note(session, incident, _note(mail, outcome), author=intake.actor)
            session.flush()
            row_id = row.id
    except IntegrityError:
        earlier = _earlier(desk, sha256, mail.message_id, mail.sender)
        if earlier is None:
            raise
        return earlier
    if not intake.auto_reply:
        return outcome
    return _acknowledge(intake, mail, outcome, row_id)


def _skipping(intake: _Intake, mail: ComplaintMail) -> Callable[[Found], bool]:
    """Which named assets are none: a protected site (the imitated target, not the abused host), a
    domain of ours or of ``ignore_domains``, and — written plainly, without a scheme — a name under the
    reporter's own domain (their signature, their website)."""
    settings = intake.desk.workspace.settings
    protected = settings.enrichment.protected_sites
    ours = [*intake.rules.ignore_domains]
    for address in (settings.smtp.sender, *intake.rules.own_addresses):
        if domain := registrable_domain(address.rpartition("@")[2]):
            ours.append(domain)
    reporter = registrable_domain(mail.sender.rpartition("@")[2]) if mail.sender else None

    def skip(asset: Found) -> bool:
        host = _host(asset.kind, asset.value)
        if asset.kind is AssetKind.IP:
            return False
        if under_any(host, protected) or under_any(host, ours):
            return True
        return (
            asset.kind is AssetKind.DOMAIN and not asset.defanged and reporter is not None and is_under(host, reporter)
        )

    return skip


def _host(kind: AssetKind, value: str) -> str:
    """The host an asset names: a domain or IP itself, the host of a URL."""
    if kind is not AssetKind.URL:
        return value
    return (urlsplit(value).hostname or "").rstrip(".")


def _open_match(session: Session, assets: Sequence[Found]) -> Incident | None:
    """The open incident that has most of ``assets`` (the oldest of equals): the same URL, domain or IP,
    a URL on a domain or IP it has, or a domain or IP that is the host of a URL it has."""
    urls = {a.value for a in assets if a.kind is AssetKind.URL}
    plain = {a.value for a in assets if a.kind is not AssetKind.URL}
    url_hosts = {_host(AssetKind.URL, u) for u in urls} - {""}
    if not urls and not plain:
        return None
    statement = (
        select(Asset.incident_id, Asset.kind, Asset.value)
        .join(Incident, Incident.id == Asset.incident_id)
        .where(Incident.status.in_([s.value for s in OPEN_STATUSES]))
        .where(
            or_(
                Asset.value.in_(sorted(urls | plain | url_hosts)),
                *(Asset.value.contains(f"://{host}", autoescape=True) for host in sorted(plain)),
            )
        )
    )
    scores: dict[int, int] = {}
    for incident_id, kind, value in session.execute(statement):
        if kind == AssetKind.URL.value:
            hit = value in urls or _host(AssetKind.URL, value) in plain
        else:
            hit = value in plain or value in url_hosts
        if hit:
            scores[incident_id] = scores.get(incident_id, 0) + 1
    if not scores:
        return None
    best = min(scores, key=lambda i: (-scores[i], i))
    return session.get(Incident, best)


def _reported_via(partner: Partner | None) -> ReportedVia:
    if partner is None:
        return ReportedVia.COMPLAINT
    return ReportedVia.FOREIGN_CERT if partner.type == PartnerType.FOREIGN_CERT.value else ReportedVia.PARTNER


def _sender_partner(partners: Sequence[Partner], sender: str | None) -> Partner | None:
    """The partner of the directory whose address the mail comes from.  Only the address itself: a
    domain would make every reporter on a mail provider (qq.com, 163.com) the partner that has one."""
    if not sender:
        return None
    return next((p for p in partners if p.email and p.email.lower() == sender.lower()), None)


def _propose(
    session: Session,
    intake: _Intake,
    mail: ComplaintMail,
    sha256: str,
    category: IncidentCategory,
    assets: Sequence[Found],
    reported: datetime,
) -> Incident:
    desk = intake.desk
    partners = list(session.scalars(select(Partner)))
    sender = _sender_partner(partners, mail.sender)
    home_sender = mail.sender and desk.home.host_is_domestic(mail.sender.rpartition("@")[2])
    label = mail.subject or (assets[0].value if assets else "") or "（无主题）"
    incident = create_incident(
        session,
        ref=_proposal_ref(intake, sha256),
        title=one_line(f"{category.zh}投诉：{label}", MAX_TITLE),
        category=category,
        actor=intake.actor,
        reported_via=_reported_via(sender),
        reporter=one_line(mail.reporter or "", 300) or None,
        reporter_country=sender.country if sender else (desk.home.country if home_sender else None),
        tlp=TLP(intake.rules.tlp),
        reported_at=reported,
    )
    for asset in assets:
        add_asset(session, incident, asset.value, kind=asset.kind, actor=intake.actor, home=desk.home)
    rule = next((r for r in desk.rules.propose if r.category is category), None)
    if rule is not None and incident.assets:
        first = incident.assets[0]
        found = route(
            partners,
            rule.partner_types,
            host=_host(AssetKind(first.kind), first.value),
            country=first.country,
        )
        if found is not None:
            add_request(session, incident, found.partner, actor=intake.actor)
    refresh_cross_border(session, incident, desk.home, actor=intake.actor)
    return incident


def _note(mail: ComplaintMail, outcome: ComplaintOutcome) -> str:
    """The mail on the incident's timeline: who, when, what, attachments, warnings and its text."""
    lines = [
        "投诉邮件 / complaint mail" + (" (attached to this incident)" if outcome.action == "attached" else ""),
        f"From: {mail.reporter or '-'}",
        f"Date: {mail.date.isoformat() if mail.date else '-'}",
        f"Subject: {mail.subject or '-'}",
        f"Message-ID: {mail.message_id or '-'}",
        f"Kept as: {outcome.kept}",
    ]
    for attachment in outcome.attachments:
        lines.append(
            f"Attachment: {attachment.name} ({attachment.content_type}, {attachment.size} bytes, "
            f"SHA-256 {attachment.sha256})"
        )
    lines += [f"Warning: {w}" for w in outcome.warnings]
    head = "\n".join(lines)
    body = clean_text("\n\n".join(t.strip() for t in mail.texts if t.strip())).strip()
    room = min(EXCERPT, MAX_NOTE - len(head) - 20)
    if len(body) > room:
        body = body[: max(room, 0)].rstrip() + "\n[…]"
    return clean_text(f"{head}\n\n{body}" if body else head)[:MAX_NOTE]


# -- the acknowledgement --------------------------------------------------------------------------------


def _acknowledge(intake: _Intake, mail: ComplaintMail, outcome: ComplaintOutcome, row_id: int) -> ComplaintOutcome:
    desk = intake.desk
    now = utcnow()
    with desk.store.read() as session:
        replies = (
            session.scalar(
                select(func.count())
                .select_from(Complaint)
                .where(Complaint.sender == mail.sender, Complaint.replied_at >= now - timedelta(days=1))
            )
            if mail.sender
            else 0
        )
    reason = why_not(mail, desk.workspace, replies or 0)
    sent_at = None
    if reason is None:
        assert outcome.incident is not None
        message = build_reply(mail, outcome.incident, outcome.action == "attached", desk.workspace, now)
        try:
            send_reply(message, desk.workspace)
        except ReplyNotSent as exc:
            reply = f"not sent: {exc}"
        else:
            reply, sent_at = f"sent to {mail.sender} ({message['Message-ID']})", utcnow()
    else:
        reply = f"not sent: {reason}"
    with desk.store.write() as session:
        row = session.get(Complaint, row_id)
        if row is not None:
            row.reply, row.replied_at = reply, sent_at
            if row.incident is not None:
                record(session, row.incident, "complaint.reply", None, reply, intake.actor)
    return replace(outcome, reply=reply)


@dataclass
class IntakeReport:
    """What ``sitrep incidents intake`` did with each file: its outcome, or why it could not be taken."""

    outcomes: list[tuple[str, ComplaintOutcome]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every file is with an incident."""
        return not self.failed and all(o.ok for _, o in self.outcomes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": [{"file": name, **outcome.as_dict()} for name, outcome in self.outcomes],
            "failed": [{"file": name, "reason": reason} for name, reason in self.failed],
        }


def intake_files(
    desk: Desk, paths: Sequence[Path], *, actor: str, source: str = "intake", auto_reply: bool | None = None
) -> IntakeReport:
    """Take each saved mail of ``paths`` (:func:`take_complaint_file`); a file that cannot be read is
    reported and the others are taken."""
    report = IntakeReport()
    for path in paths:
        try:
            outcome = take_complaint_file(desk, path, source=source, actor=actor, auto_reply=auto_reply)
        except ComplaintError as exc:
            report.failed.append((str(path), str(exc)))
            continue
        report.outcomes.append((str(path), outcome))
    return report
