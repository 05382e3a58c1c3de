"""One edition's message: a short body (plain text and HTML, ``templates/mail.html``) and the PDF
edition attached."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from sitrep.config import Settings
from sitrep.report.distribution.log import SentRecord
from sitrep.report.model import Report


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


def sender_of(settings: Settings) -> str:
    return settings.distribution.sender or settings.smtp.sender


def build_message(report: Report, settings: Settings, pdf: bytes, *, now: datetime) -> EmailMessage:
    """The message of one edition: the short body (plain text and HTML) and the PDF attached."""
    d = settings.distribution
    sender = sender_of(settings)
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
