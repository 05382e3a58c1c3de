"""Distribution: mailing a published issue to its readers (``sitrep send``).

Each language's edition is one message to that language's recipient list (``[distribution.recipients]``):
a short body — title, rating, the overview's sentences and narrative, the key-indicator table — as
HTML with a plain-text alternative, and the PDF edition attached.  The full HTML edition is not the
body: it is about 0.5 MB (Gmail cuts a body after about 100 KB), its charts are inline SVG and its
font an ``@font-face`` data URI, which most mail clients strip, and its links are relative to the
archive.  One message per language rather than both in one ``multipart/alternative``: clients show
one alternative and none chooses by language, so half the readers would get the wrong one.

Recipients are envelope recipients only, never in a header (readers are not shown to each other);
``To`` is ``[distribution] to`` or the sender.  Only the issue's public outputs go out, rendered
from the frozen numbers: a week that is not published, or whose issue is withdrawn, is refused.

Every message the relay accepted is recorded in ``reports/sent/<week>.json`` (when, by whom, which
revision and language, its Message-ID, who got it and who was refused).  Sending a revision again to
anyone who already got it is refused unless ``again`` is given.  A dry run writes each message as an
``.eml`` file and sends nothing.
"""

from __future__ import annotations

import ipaddress
import json
import os
import smtplib
import socket
import ssl
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import Any, TypedDict

from sitrep.config import STANDARD_PORTS, Security, Settings, Workspace, check_address
from sitrep.report.archive import load_issue
from sitrep.report.errors import OutputError
from sitrep.report.model import Report
from sitrep.report.render import atomic_write, write_json_file
from sitrep.report.wording import LANGS
from sitrep.weeks import Week

SENT_SCHEMA = "sitrep.sent/1"


class DistributionError(Exception):
    """Nothing was sent: the issue may not go out, the configuration is incomplete, or the relay
    cannot be used (the message names the week, the key, the server or the recipient)."""


class AlreadySent(DistributionError):
    """The revision already went to some of the recipients; ``earlier`` are those sends."""

    def __init__(self, message: str, earlier: list[SentRecord]) -> None:
        super().__init__(message)
        self.earlier = earlier


class SentRecord(TypedDict):
    """One message the relay accepted, as ``reports/sent/<week>.json`` keeps it."""

    at: str
    by: str
    week: str
    revision: int
    lang: str
    message_id: str
    subject: str
    relay: str
    accepted: list[str]
    refused: dict[str, str]


@dataclass(frozen=True)
class Relay:
    """The SMTP server mail goes through; ``section`` is where in ``sitrep.toml`` it is set."""

    host: str
    port: int
    security: Security
    username: str
    password_env: str
    ca_file: str
    timeout: float
    section: str

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def relay_of(settings: Settings) -> Relay:
    """``[distribution]``'s relay when its ``host`` is set, else ``[smtp]``'s (partner notifications)."""
    d = settings.distribution
    if d.host:
        port = d.port or STANDARD_PORTS[d.security]
        return Relay(d.host, port, d.security, d.username, d.password_env, d.ca_file, d.timeout, "distribution")
    s = settings.smtp
    security: Security = "starttls" if s.starttls else "none"
    return Relay(s.host, s.port, security, s.username, s.password_env, s.ca_file, s.timeout, "smtp")


@dataclass
class Mail:
    """One edition's message and who it goes to; ``earlier`` are the sends of this revision and
    language that already reached some of ``recipients``."""

    lang: str
    recipients: list[str]
    message: EmailMessage
    attachment: str
    attachment_bytes: int
    earlier: list[SentRecord] = field(default_factory=list)

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def data(self) -> bytes:
        return self.message.as_bytes()


@dataclass
class Delivery:
    """What became of one message: ``accepted`` and ``refused`` (address → the server's answer or
    why it was not sent); ``eml`` is the file a dry run wrote."""

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


# The mail's own wording (the body's other strings come from the report model).
_TEXT = {
    "zh": {
        "revision": "（修订版{revision}）",
        "rating": "{label}：{rating}（{score_label} {score}）",
        "attached": "完整报告（含图表）见附件 {file}。",
        "online": "在线阅读：",
        "unsubscribe": "退订：",
    },
    "en": {
        "revision": " (revision {revision})",
        "rating": "{label}: {rating} ({score_label} {score})",
        "attached": "The full report, with its charts, is attached: {file}.",
        "online": "Read it online:",
        "unsubscribe": "Unsubscribe:",
    },
}


@dataclass(frozen=True)
class _Row:
    cells: list[str]
    sub: bool


@dataclass(frozen=True)
class _Line:
    text: str
    href: str = ""


@dataclass(frozen=True)
class _Body:
    """The message body's content, rendered as HTML (``mail.html``) and as plain text."""

    lang: str
    brand: str
    title: str
    meta: str
    rating: str
    paragraphs: list[str]
    summary: str
    highlights_title: str
    highlights: list[str]
    columns: list[str]
    rows: list[_Row]
    footer: list[_Line]


def attachment_name(report: Report) -> str:
    """The attached PDF's file name, e.g. ``report-2025-W01.zh.pdf``."""
    return f"report-{report.week}.{report.lang}.pdf"


def _body(report: Report, settings: Settings) -> _Body:
    text = _TEXT[report.lang]
    labels = report.labels
    overview = report.section("overview")
    score = "—" if report.score is None else f"{report.score:.2f}"
    meta = [labels["tlp"], report.issue]
    if report.published_at:
        published = f"{labels['published']} {report.published_at}"
        meta.append(published + (f" (r{report.revision})" if report.revision > 1 else ""))
    footer = [_Line(text["attached"].format(file=attachment_name(report)))]
    base = settings.report.base_url.rstrip("/")
    if base:
        footer.append(_Line(text["online"], f"{base}/{report.week}/report.{report.lang}.html"))
    unsubscribe = settings.distribution.list_unsubscribe
    if unsubscribe:
        footer.append(_Line(text["unsubscribe"], unsubscribe))
    footer.append(_Line(f"{report.organisation} · {labels['site_title']}"))
    return _Body(
        lang=report.lang,
        brand=f"{report.organisation} · {labels['site_title']}",
        title=report.title,
        meta=" · ".join(meta),
        rating=text["rating"].format(
            label=labels["rating_label"], rating=report.rating_word, score_label=labels["score_label"], score=score
        ),
        paragraphs=list(overview.paragraphs),
        summary=overview.summary,
        highlights_title=labels["highlights"],
        highlights=list(overview.highlights),
        columns=[labels[k] for k in ("col_indicator", "col_value", "col_previous", "col_change")],
        rows=[_Row([r.label, r.value_text, r.previous_text, r.change_text], r.sub) for r in overview.table],
        footer=footer,
    )


def _plain(body: _Body) -> str:
    lines = [body.brand, "", body.title, body.meta, "", body.rating, ""]
    lines += [*body.paragraphs, *([body.summary] if body.summary else [])]
    if body.highlights:
        lines += ["", body.highlights_title, *(f"- {h}" for h in body.highlights)]
    lines += ["", " | ".join(body.columns)]
    lines += [("  " if row.sub else "") + " | ".join(row.cells) for row in body.rows]
    lines += ["", *(f"{line.text} {line.href}".strip() for line in body.footer)]
    return "\n".join(lines) + "\n"


def _html(body: _Body) -> str:
    from sitrep.report.render.html import environment

    return environment().get_template("mail.html").render(m=body)


def _sender(settings: Settings) -> str:
    return settings.distribution.sender or settings.smtp.sender


def build_message(report: Report, settings: Settings, pdf: bytes, *, now: datetime) -> EmailMessage:
    """The message of one edition: the short body (plain text and HTML) and the PDF attached."""
    d = settings.distribution
    sender = _sender(settings)
    body = _body(report, settings)
    message = EmailMessage()
    revision = _TEXT[report.lang]["revision"].format(revision=report.revision) if report.revision > 1 else ""
    message["Subject"] = report.title + revision
    message["From"] = formataddr((d.sender_name or report.organisation, sender))
    message["To"] = d.to or sender
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    if d.list_unsubscribe:
        target = d.list_unsubscribe
        message["List-Unsubscribe"] = f"<{target if ':' in target else 'mailto:' + target}>"
    message.set_content(_plain(body))
    message.add_alternative(_html(body), subtype="html")
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=attachment_name(report))
    # After the parts: setting the content clears every Content-* header.
    message["Content-Language"] = "zh-CN" if report.lang == "zh" else "en"
    return message


# --- the send log ------------------------------------------------------------------------------------


def sent_path(workspace: Workspace, week: Week) -> Path:
    """Where the sends of ``week`` are recorded."""
    return workspace.reports_dir / "sent" / f"{week}.json"


def sent_log(workspace: Workspace, week: Week) -> list[SentRecord]:
    """Every recorded send of ``week``, oldest first; :class:`DistributionError` when the file is damaged."""
    path = sent_path(workspace, week)
    if not path.exists():
        return []
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DistributionError(f"{path}: the send log cannot be read ({exc})") from None
    if not isinstance(document, dict) or document.get("schema") != SENT_SCHEMA:
        raise DistributionError(f"{path}: not a send log (expected schema {SENT_SCHEMA!r})")
    return list(document.get("sends", []))


def _record(workspace: Workspace, week: Week, record: SentRecord) -> None:
    path = sent_path(workspace, week)
    document: dict[str, Any] = {"schema": SENT_SCHEMA, "week": str(week), "sends": [*sent_log(workspace, week), record]}
    try:
        write_json_file(path, document)
    except OutputError as exc:
        raise DistributionError(f"the message went out but cannot be recorded: {exc}") from None


# --- building and sending ----------------------------------------------------------------------------


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


def _earlier(log: list[SentRecord], revision: int, lang: str, recipients: list[str]) -> list[SentRecord]:
    wanted = {r.lower() for r in recipients}
    return [
        r
        for r in log
        if r["revision"] == revision and r["lang"] == lang and wanted & {a.lower() for a in r["accepted"]}
    ]


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
    if not _sender(settings):
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
        pdf = render_pdf(report)
        message = build_message(report, workspace.settings, pdf, now=moment)
        lang = report.lang
        mails.append(
            Mail(lang, chosen.recipients[lang], message, attachment_name(report), len(pdf), chosen.earlier[lang])
        )
    return mails


def _said(exc: smtplib.SMTPResponseException) -> str:
    error = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    return f"{exc.smtp_code} {error}".strip()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def password_of(relay: Relay) -> str | None:
    """The relay's password from its environment variable (None when it logs in as no one).

    Raises :class:`DistributionError` when a login is set but the variable is not, or the password
    would cross the network unencrypted."""
    if not relay.username:
        return None
    if relay.security == "none" and not _is_loopback(relay.host):
        raise DistributionError(
            f"[{relay.section}] logs in to {relay} without TLS: the password would cross the network in clear "
            "(use security = 'starttls' or 'ssl')"
        )
    password = os.environ.get(relay.password_env)
    if password is None:
        raise DistributionError(
            f"[{relay.section}] username is set but the environment variable {relay.password_env} "
            "holding its password is not"
        )
    return password


def connect(relay: Relay, password: str | None) -> smtplib.SMTP:
    """An open, secured and logged-in connection to ``relay``; :class:`DistributionError` naming the
    server and what went wrong otherwise."""
    client: smtplib.SMTP | None = None
    try:
        context = ssl.create_default_context(cafile=relay.ca_file or None)
        if relay.security == "ssl":
            client = smtplib.SMTP_SSL(relay.host, relay.port, timeout=relay.timeout, context=context)
        else:
            client = smtplib.SMTP(relay.host, relay.port, timeout=relay.timeout)
        client.ehlo()
        if relay.security == "starttls":
            if not client.has_extn("starttls"):
                raise DistributionError(f"{relay} does not offer STARTTLS (set [{relay.section}] security)")
            client.starttls(context=context)
            client.ehlo()
        if password is not None:
            client.login(relay.username, password)
        return client
    except DistributionError:
        _close(client)
        raise
    except smtplib.SMTPAuthenticationError as exc:
        _close(client)
        raise DistributionError(f"{relay} refused the login of {relay.username!r}: {_said(exc)}") from None
    except ssl.SSLCertVerificationError as exc:
        _close(client)
        raise DistributionError(
            f"TLS with {relay} failed: its certificate is not trusted ({exc.verify_message or exc.reason}); "
            f"for a private CA set [{relay.section}] ca_file"
        ) from None
    except ssl.SSLError as exc:
        _close(client)
        hint = " (the server did not answer in TLS: is security right for this port?)"
        detail = f"{exc.reason or exc}{hint if exc.reason == 'WRONG_VERSION_NUMBER' else ''}"
        raise DistributionError(f"TLS with {relay} failed: {detail}") from None
    except smtplib.SMTPNotSupportedError as exc:
        _close(client)
        raise DistributionError(f"{relay} cannot do what [{relay.section}] asks: {exc}") from None
    except smtplib.SMTPResponseException as exc:
        _close(client)
        raise DistributionError(f"{relay} refused the session: {_said(exc)}") from None
    except socket.gaierror as exc:
        raise DistributionError(f"cannot find the SMTP server {relay.host!r}: {exc.strerror}") from None
    except ConnectionRefusedError:
        raise DistributionError(f"{relay} refused the connection (is an SMTP server listening there?)") from None
    except TimeoutError:
        _close(client)
        raise DistributionError(f"{relay} did not answer within {relay.timeout:g} s") from None
    except (smtplib.SMTPException, OSError) as exc:
        _close(client)
        raise DistributionError(f"cannot use the SMTP server {relay}: {_detail(exc)}") from None


def _close(client: smtplib.SMTP | None) -> None:
    if client is None:
        return
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _deliver(client: smtplib.SMTP, mail: Mail, sender: str, batch: int, delivery: Delivery) -> str | None:
    """Send ``mail`` to its recipients, ``batch`` per transaction, filling ``delivery``; returns why
    the connection was lost, if it was (the recipients not reached are marked so)."""
    for start in range(0, len(mail.recipients), batch):
        chunk = mail.recipients[start : start + batch]
        lost, unreached = None, mail.recipients[start:]
        try:
            refused = client.send_message(mail.message, from_addr=sender, to_addrs=chunk)
        except smtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            delivery.refused.update({a: f"message refused: {_said(exc)}" for a in chunk})
            if exc.smtp_code != 421:
                continue
            # 421: the server closes the connection (and smtplib with it).
            lost, unreached = f"the server closed the connection ({_said(exc)})", mail.recipients[start + batch :]
        except smtplib.SMTPServerDisconnected:
            lost = "the connection to the server was lost"
        except (smtplib.SMTPException, OSError) as exc:
            lost = f"the connection to the server was lost ({_detail(exc)})"
        if lost:
            delivery.refused.update({a: f"not sent: {lost}" for a in unreached})
            return lost
        said = {a.lower(): f"{code} {text.decode('utf-8', 'replace')}" for a, (code, text) in refused.items()}
        for address in chunk:
            if address.lower() in said:
                delivery.refused[address] = said[address.lower()]
            else:
                delivery.accepted.append(address)
    return None


def _detail(exc: Exception) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__


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
        wanted = {a for listed in chosen.recipients.values() for a in listed}
        got = sorted({a for r in earlier for a in r["accepted"]} & wanted)
        raise AlreadySent(
            f"{week} revision {chosen.revision} ({', '.join(sorted({r['lang'] for r in earlier}))}) was already "
            f"sent on {earlier[0]['at']} to {len(got)} of these recipients "
            f"({', '.join(got[:3])}{' …' if len(got) > 3 else ''}); pass --again to send it again",
            earlier,
        )
    if not dry_run:
        # Fail fast, before the seconds of rendering, on a relay that is down or refuses the login.
        _close(connect(relay, password))
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
            already=sorted({a for r in m.earlier for a in r["accepted"]} & set(m.recipients)),
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
    sender = _sender(workspace.settings)
    lost: str | None = None
    try:
        for mail, delivery in zip(mails, deliveries, strict=True):
            if lost:
                delivery.refused.update({a: f"not sent: {lost}" for a in mail.recipients})
                continue
            lost = _deliver(client, mail, sender, workspace.settings.distribution.max_recipients, delivery)
            if delivery.accepted:
                _record(
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
            _close(client)
        else:
            client.close()
    return result
