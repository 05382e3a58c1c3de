"""``sitrep send``: who gets which edition of a published issue, and sending it (or, in a dry run,
writing it as ``.eml`` files)."""

from __future__ import annotations

import smtplib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sitrep.config import Settings, Workspace, check_address
from sitrep.report.archive import load_issue
from sitrep.report.distribution.errors import DistributionError
from sitrep.report.distribution.log import AlreadySent, SentRecord, record_send, sent_log
from sitrep.report.distribution.message import Mail, attachment_name, build_message, sender_of
from sitrep.report.distribution.relay import Relay, answer, close, connect, detail, password_of, relay_of
from sitrep.report.errors import OutputError
from sitrep.report.render import atomic_write
from sitrep.report.wording import LANGS
from sitrep.weeks import Week


@dataclass
class Delivery:
    """What became of one message: ``accepted`` and ``refused`` (address → the server's answer or
    why it was not sent); ``eml`` is the file a dry run wrote, ``already`` the recipients an earlier
    send of this revision reached."""

    lang: str
    subject: str
    message_id: str
    size: int
    attachment: str
    attachment_bytes: int
    recipients: list[str]
    accepted: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    eml: Path | None = None
    already: list[str] = field(default_factory=list)


@dataclass
class SendResult:
    """What ``send_issue`` did (or, in a dry run, would do) for each language."""

    week: str
    revision: int
    relay: Relay
    dry_run: bool
    deliveries: list[Delivery]

    @property
    def complete(self) -> bool:
        """Every recipient got its message (always true for a dry run)."""
        return all(not d.refused for d in self.deliveries)

    def as_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data (``sitrep send --json``)."""
        relay = {
            k: v for k, v in asdict(self.relay).items() if k in ("host", "port", "security", "username", "section")
        }
        deliveries = [{**asdict(d), "eml": str(d.eml) if d.eml else None} for d in self.deliveries]
        return {
            "week": self.week,
            "revision": self.revision,
            "dry_run": self.dry_run,
            "relay": relay,
            "complete": self.complete,
            "deliveries": deliveries,
        }


def _published(workspace: Workspace, week: Week) -> int:
    """The revision of ``week``'s issue; refuses a week that is not published or is withdrawn."""
    issue = load_issue(workspace, week)
    if issue is None:
        raise DistributionError(f"{week} is not published: only published issues are sent (a draft never is)")
    if issue.withdrawn is not None:
        raise DistributionError(
            f"{week} was withdrawn on {issue.withdrawn.at[:10]} ({issue.withdrawn.reason}): "
            "a withdrawn issue is not sent"
        )
    return issue.revision


def default_langs(settings: Settings) -> list[str]:
    """The editions sent when none are chosen: every language with recipients."""
    return [lang for lang in LANGS if settings.distribution.recipients.get(lang)]


def _recipients(settings: Settings, langs: list[str], to: list[str] | None) -> dict[str, list[str]]:
    if to:
        try:
            chosen = list(dict.fromkeys(check_address(a) for a in to))
        except ValueError as exc:
            raise DistributionError(str(exc)) from None
        return {lang: chosen for lang in langs}
    found = {}
    for lang in langs:
        listed = settings.distribution.recipients.get(lang)
        if not listed:
            raise DistributionError(
                f"no recipients for the {lang} edition: list them in [distribution.recipients] {lang} = [...]"
            )
        found[lang] = list(listed)
    return found


def reached(earlier: list[SentRecord], recipients: list[str]) -> list[str]:
    """The ``recipients`` (as written) that ``earlier`` sends reached; addresses compare in any case."""
    got = {a.lower() for r in earlier for a in r["accepted"]}
    return [a for a in recipients if a.lower() in got]


def _earlier(log: list[SentRecord], revision: int, lang: str, recipients: list[str]) -> list[SentRecord]:
    return [r for r in log if r["revision"] == revision and r["lang"] == lang and reached([r], recipients)]


@dataclass(frozen=True)
class Plan:
    """Who gets which edition of an issue, before anything is rendered: the issue's revision, each
    language's recipients, and the sends of that revision and language that already reached some."""

    week: Week
    revision: int
    recipients: dict[str, list[str]]
    earlier: dict[str, list[SentRecord]]


def plan(workspace: Workspace, week: Week, *, langs: list[str] | None = None, to: list[str] | None = None) -> Plan:
    """The plan of sending ``week`` in ``langs`` (default :func:`default_langs`) to the configured
    recipients, or to ``to`` instead.  Raises :class:`DistributionError` when the week is not published
    or withdrawn, there is no sender, a language has no recipient or an address is not one."""
    revision = _published(workspace, week)
    settings = workspace.settings
    if not sender_of(settings):
        raise DistributionError("no sender: set [distribution] sender (or [smtp] sender)")
    chosen = list(dict.fromkeys(langs or default_langs(settings) or (list(LANGS) if to else [])))
    if not chosen:
        raise DistributionError("no recipients: list them in [distribution.recipients] (zh = [...], en = [...])")
    unknown = [lang for lang in chosen if lang not in LANGS]
    if unknown:
        raise DistributionError(f"unknown language {unknown[0]!r}: use {' or '.join(LANGS)}")
    recipients = _recipients(settings, chosen, to)
    log = sent_log(workspace, week)
    earlier = {lang: _earlier(log, revision, lang, recipients[lang]) for lang in chosen}
    return Plan(week, revision, recipients, earlier)


def render_mails(workspace: Workspace, chosen: Plan, *, now: datetime | None = None) -> list[Mail]:
    """The messages of ``chosen``'s editions, rendered from the issue's frozen numbers."""
    from sitrep.report.publish import editions  # loads the query engine: only once the issue may go out
    from sitrep.report.render.pdf import render_pdf

    moment = now or datetime.now(UTC)
    mails = []
    for report in editions(workspace, chosen.week, list(chosen.recipients)):
        if report.published_at is None or report.revision != chosen.revision:
            # Withdrawn or re-published meanwhile: a draft or another revision never goes out.
            raise DistributionError(f"{chosen.week} changed while its messages were prepared: run the send again")
        pdf = render_pdf(report)
        message = build_message(report, workspace.settings, pdf, now=moment)
        lang = report.lang
        mails.append(
            Mail(lang, chosen.recipients[lang], message, attachment_name(report), len(pdf), chosen.earlier[lang])
        )
    return mails


def batches(recipients: list[str], size: int) -> list[list[str]]:
    """``recipients`` in transactions of at most ``size``; addresses with non-ASCII characters go in
    transactions of their own (they need the server's SMTPUTF8, which may be missing: then only they
    fail)."""
    plain = [a for a in recipients if a.isascii()]
    international = [a for a in recipients if not a.isascii()]
    return [group[i : i + size] for group in (plain, international) for i in range(0, len(group), size)]


def _deliver(client: smtplib.SMTP, mail: Mail, sender: str, size: int, delivery: Delivery) -> str | None:
    """Send ``mail`` to its recipients (:func:`batches`), filling ``delivery``; returns why the
    connection was lost, if it was (the recipients not reached are marked so)."""
    chunks = batches(mail.recipients, size)
    for number, chunk in enumerate(chunks):
        lost, unreached = None, chunks[number:]
        try:
            refused = client.send_message(mail.message, from_addr=sender, to_addrs=chunk)
        except smtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            delivery.refused.update({a: f"message refused: {answer(exc)}" for a in chunk})
            if exc.smtp_code != 421:
                continue
            # 421: the server closes the connection (and smtplib with it).
            lost, unreached = f"the server closed the connection ({answer(exc)})", chunks[number + 1 :]
        except smtplib.SMTPNotSupportedError as exc:
            # An address with non-ASCII characters, and a server without SMTPUTF8.
            delivery.refused.update({a: f"not sent: {exc}" for a in chunk})
            continue
        except smtplib.SMTPServerDisconnected:
            lost = "the connection to the server was lost"
        except (smtplib.SMTPException, OSError) as exc:
            lost = f"the connection to the server was lost ({detail(exc)})"
        if lost:
            delivery.refused.update({a: f"not sent: {lost}" for group in unreached for a in group})
            return lost
        said = {a.lower(): f"{code} {text.decode('utf-8', 'replace')}" for a, (code, text) in refused.items()}
        for address in chunk:
            if address.lower() in said:
                delivery.refused[address] = said[address.lower()]
            else:
                delivery.accepted.append(address)
    return None


def send_issue(
    workspace: Workspace,
    week: Week,
    *,
    actor: str,
    langs: list[str] | None = None,
    to: list[str] | None = None,
    dry_run: bool = False,
    again: bool = False,
    out_dir: Path | None = None,
    now: datetime | None = None,
) -> SendResult:
    """Mail the published issue of ``week`` (see the module docstring); with ``dry_run`` write each
    message to ``out_dir`` (default ``reports/<week>/``) as ``mail.<lang>.eml`` instead.

    Raises :class:`AlreadySent` when the revision already reached some of the recipients and
    ``again`` is not given (never in a dry run), :class:`DistributionError` when nothing can be sent.
    A recipient the relay refuses, or a connection lost half-way, is reported in the result's
    deliveries; whatever was accepted is recorded.
    """
    relay = relay_of(workspace.settings)
    password = None if dry_run else password_of(relay)
    chosen = plan(workspace, week, langs=langs, to=to)
    earlier = [r for records in chosen.earlier.values() for r in records]
    if earlier and not again and not dry_run:
        got = sorted({a for lang, listed in chosen.recipients.items() for a in reached(chosen.earlier[lang], listed)})
        raise AlreadySent(
            f"{week} revision {chosen.revision} ({', '.join(sorted({r['lang'] for r in earlier}))}) was already "
            f"sent on {earlier[0]['at']} to {len(got)} of these recipients "
            f"({', '.join(got[:3])}{' …' if len(got) > 3 else ''}); pass --again to send it again",
            earlier,
        )
    if not dry_run:
        # Fail fast, before the seconds of rendering, on a relay that is down or refuses the login.
        close(connect(relay, password))
    mails = render_mails(workspace, chosen, now=now)
    deliveries = [
        Delivery(
            m.lang,
            m.subject,
            m.message_id,
            len(m.data),
            m.attachment,
            m.attachment_bytes,
            m.recipients,
            already=reached(m.earlier, m.recipients),
        )
        for m in mails
    ]
    result = SendResult(str(week), chosen.revision, relay, dry_run, deliveries)
    if dry_run:
        folder = out_dir or workspace.reports_dir / str(week)
        for mail, delivery in zip(mails, deliveries, strict=True):
            delivery.eml = folder / f"mail.{mail.lang}.eml"
            try:
                atomic_write(delivery.eml, mail.data)
            except OutputError as exc:
                raise DistributionError(str(exc)) from None
        return result
    client = connect(relay, password)
    sender = sender_of(workspace.settings)
    lost: str | None = None
    try:
        for mail, delivery in zip(mails, deliveries, strict=True):
            if lost:
                delivery.refused.update({a: f"not sent: {lost}" for a in mail.recipients})
                continue
            lost = _deliver(client, mail, sender, workspace.settings.distribution.max_recipients, delivery)
            if delivery.accepted:
                record_send(
                    workspace,
                    week,
                    {
                        "at": datetime.now(UTC).isoformat(timespec="seconds"),
                        "by": actor,
                        "week": str(week),
                        "revision": chosen.revision,
                        "lang": mail.lang,
                        "message_id": mail.message_id,
                        "subject": mail.subject,
                        "relay": str(relay),
                        "accepted": delivery.accepted,
                        "refused": delivery.refused,
                    },
                )
    finally:
        if not lost:
            close(client)
        else:
            client.close()
    return result
