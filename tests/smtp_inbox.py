"""A real SMTP server's handler for the mail tests (aiosmtpd on loopback): what arrived, and a login."""

from __future__ import annotations

import email
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import AuthResult, LoginPassword


class Inbox:
    """aiosmtpd handler keeping every message that arrived; ``refused@…`` is not a mailbox, and a
    message to ``shutdown@…`` is answered as by a server shutting down."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if any(a.startswith("shutdown@") for a in envelope.rcpt_tos):
            return "421 4.3.2 service shutting down"  # and smtplib closes the connection
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"

    def parsed(self) -> list[EmailMessage]:
        return [email.message_from_bytes(raw, policy=policy.default) for _, _, raw in self.messages]


def authenticator(user: str, password: str) -> Callable[..., AuthResult]:
    """An aiosmtpd authenticator that lets ``user`` in with ``password`` only."""

    def check(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            user.encode(),
            password.encode(),
        )
        # handled=False: let aiosmtpd answer 535 itself (True means "I already replied").
        return AuthResult(success=ok, handled=False)

    return check
