"""The SMTP server the issue goes through: ``[distribution]`` or ``[smtp]``, its password, and an
open, secured, logged-in connection (errors name the server and what went wrong)."""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from dataclasses import dataclass

from sitrep.config import STANDARD_PORTS, Security, Settings, is_loopback
from sitrep.report.distribution.errors import DistributionError


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
    return smtp_relay(settings)


def smtp_relay(settings: Settings) -> Relay:
    """``[smtp]``'s relay: the one partner notifications and complaint acknowledgements go through."""
    s = settings.smtp
    security: Security = "starttls" if s.starttls else "none"
    return Relay(s.host, s.port, security, s.username, s.password_env, s.ca_file, s.timeout, "smtp")


def answer(exc: smtplib.SMTPResponseException) -> str:
    """The server's answer in an SMTP error, e.g. ``550 5.1.1 no such mailbox``."""
    error = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    return f"{exc.smtp_code} {error}".strip()


def detail(exc: Exception) -> str:
    """What a network or SMTP error says, in a few words (the OS's reason when it has one)."""
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__


def password_of(relay: Relay) -> str | None:
    """The relay's password from its environment variable (None when it logs in as no one).

    Raises :class:`DistributionError` when a login is set but the variable is not, or the password
    would cross the network unencrypted."""
    if not relay.username:
        return None
    if relay.security == "none" and not is_loopback(relay.host):
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
        close(client)
        raise
    except smtplib.SMTPAuthenticationError as exc:
        close(client)
        raise DistributionError(f"{relay} refused the login of {relay.username!r}: {answer(exc)}") from None
    except ssl.SSLCertVerificationError as exc:
        close(client)
        raise DistributionError(
            f"TLS with {relay} failed: its certificate is not trusted ({exc.verify_message or exc.reason}); "
            f"for a private CA set [{relay.section}] ca_file"
        ) from None
    except ssl.SSLError as exc:
        close(client)
        hint = " (the server did not answer in TLS: is security right for this port?)"
        why = f"{exc.reason or exc}{hint if exc.reason == 'WRONG_VERSION_NUMBER' else ''}"
        raise DistributionError(f"TLS with {relay} failed: {why}") from None
    except smtplib.SMTPNotSupportedError as exc:
        close(client)
        raise DistributionError(f"{relay} cannot do what [{relay.section}] asks: {exc}") from None
    except smtplib.SMTPResponseException as exc:
        close(client)
        raise DistributionError(f"{relay} refused the session: {answer(exc)}") from None
    except socket.gaierror as exc:
        raise DistributionError(f"cannot find the SMTP server {relay.host!r}: {exc.strerror}") from None
    except ConnectionRefusedError:
        raise DistributionError(f"{relay} refused the connection (is an SMTP server listening there?)") from None
    except TimeoutError:
        close(client)
        raise DistributionError(f"{relay} did not answer within {relay.timeout:g} s") from None
    except (smtplib.SMTPException, OSError) as exc:
        close(client)
        raise DistributionError(f"cannot use the SMTP server {relay}: {detail(exc)}") from None


def close(client: smtplib.SMTP | None) -> None:
    """End the session politely (QUIT), or just drop the connection when the server is gone."""
    if client is None:
        return
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()
