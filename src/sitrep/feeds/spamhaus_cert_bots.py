"""Spamhaus CERT botnet feed ("bots"): hosts of a CERT's constituency that Spamhaus' sensors saw.

A comma-separated file with no header row and no quoting: ``;`` comment lines describe it, the last of
them naming the fields ``; ip, asn, country, lastseen, botname, domain, remote_ip, remote_port,
local_port, protocol``, and warning that "additional fields may be added in the future without notice"
(so longer rows keep their first ten fields).  ``lastseen`` is a Unix timestamp (UTC); ``asn`` is
written ``AS4134`` (``?`` when unknown); ``domain``/``remote_ip``/``remote_port`` describe the C&C when
known (``-`` or ``?`` when not).  The layout and the meaning of the bot names are those of IntelMQ's
Spamhaus CERT parser (certtools/intelmq ``intelmq/bots/parsers/spamhaus/parser_cert.py``).

Most bot names are malware families: RSIT ``malicious-code/infected-system`` (感染网络病毒的主机) with
the name as family (``auto`` is Spamhaus' "other": ``s_other``).  Some name what the host did instead,
classified as IntelMQ does: ``openrelay`` an open mail relay (vulnerable), ``sshauth``, ``telnetauth``,
``iotcmd``, ``iotuser``, ``iotrdp``, ``smtpauth`` login attempts (brute force), ``iotscan``,
``wpscanner``, ``w_wplogin`` scanning, ``l_spamlink`` a link seen in spam (its ``domain`` is the URL and
its ``local_port`` ``spam-ip:version:family``).
"""

from __future__ import annotations

from sitrep.feeds._rsit import Rule, classified_by
from sitrep.feeds.base import Csv, Feed, Sample
from sitrep.feeds.sql import (
    asn,
    bad_ip,
    col,
    country,
    epoch,
    extra_of,
    ip,
    lit,
    lower,
    missing_ip,
    port,
    text,
)
from sitrep.taxonomy import INFECTED_SYSTEM

COLUMNS = (
    "ip",
    "asn",
    "country",
    "lastseen",
    "botname",
    "domain",
    "remote_ip",
    "remote_port",
    "local_port",
    "protocol",
)

_BOT = lower(col("botname"))
# Spamhaus writes "auto" for a bot it could not name; IntelMQ calls that family "s_other".
_FAMILY = f"CASE {_BOT} WHEN 'auto' THEN 's_other' ELSE {_BOT} END"
_SPAM_LINK = "l_spamlink"
# Bot names that say what the host did rather than what infects it (IntelMQ's parser_cert.py).
ACTIVITIES: dict[str, Rule] = {
    "openrelay": Rule("vulnerable-system", lit("openrelay")),
    "iotrdp": Rule("brute-force", lit("rdp")),
    "sshauth": Rule("brute-force", lit("ssh")),
    "telnetauth": Rule("brute-force", lit("telnet")),
    "iotcmd": Rule("brute-force", lit("telnet")),
    "iotuser": Rule("brute-force", lit("telnet")),
    "smtpauth": Rule("brute-force", lit("smtp")),
    "iotscan": Rule("scanner", f"CASE WHEN {port(col('remote_port'))} = 23 THEN 'telnet' ELSE 'scanner-generic' END"),
    "wpscanner": Rule("scanner", lit("wordpress-vulnerabilities")),
    "w_wplogin": Rule("scanner", lit("wordpress-login")),
    _SPAM_LINK: Rule("spam", lit("spamlink")),
}
# A row cut before its bot name is a bot of no known family, not NULL (NULL would make NOT … NULL too).
_ACTIVITY = f"coalesce({_BOT}, '') IN ({', '.join(lit(b) for b in ACTIVITIES)})"
_IS_SPAM_LINK = f"coalesce({_BOT}, '') = {lit(_SPAM_LINK)}"


def _spam_link_part(index: int) -> str:
    """Part ``index`` of a spam link's ``local_port`` (``spam-ip:version:family``)."""
    return f"nullif(split_part({text(col('local_port'))}, ':', {index}), '')"


def _known(column: str) -> str:
    """The field, or NULL for Spamhaus' "not known" markers."""
    return f"CASE WHEN {text(col(column))} NOT IN ('-', '?') THEN {text(col(column))} END"


def _recognise(sample: Sample) -> bool:
    return sample.matches(r"(?m)^;\s*ip,\s*asn,\s*country,\s*lastseen,\s*botname\b")


FEED = Feed(
    name="spamhaus-cert-bots",
    provider="Spamhaus",
    summary="Spamhaus CERT botnet feed (bots CSV): infected hosts with bot name and C&C.",
    reader=Csv(header=False, names=COLUMNS, comment=";", quote="", more_fields=True),
    recognise=_recognise,
    columns=COLUMNS,
    required=("ip", "lastseen"),
    fields={
        "time_source": epoch(col("lastseen")),
        **classified_by(_BOT, ACTIVITIES, Rule(INFECTED_SYSTEM.type, f"coalesce({_FAMILY}, 'infected-system')")),
        "source_ip": ip(col("ip")),
        "source_port": f"CASE WHEN NOT {_IS_SPAM_LINK} THEN {port(col('local_port'))} END",
        "source_asn": asn(col("asn")),
        "source_geolocation_cc": country(col("country")),
        # A spam link's "domain" is the URL seen in the spam.
        "source_url": f"CASE WHEN {_IS_SPAM_LINK} THEN {_known('domain')} END",
        "destination_ip": ip(col("remote_ip")),
        "destination_port": port(col("remote_port")),
        "malware_name": (
            f"CASE WHEN {_IS_SPAM_LINK} THEN lower({_spam_link_part(3)}) WHEN NOT {_ACTIVITY} THEN {_FAMILY} END"
        ),
        "extra": extra_of(
            {
                "domain": f"CASE WHEN NOT {_IS_SPAM_LINK} THEN {_known('domain')} END",
                "protocol": _known("protocol"),
                # Not a port (IntelMQ: a host name there is the C&C's); a spam link's spam source.
                "local_port": f"CASE WHEN {port(col('local_port'))} IS NULL AND NOT {_IS_SPAM_LINK} "
                f"THEN {_known('local_port')} END",
                "spam_ip": f"CASE WHEN {_IS_SPAM_LINK} THEN {_spam_link_part(1)} END",
            }
        ),
    },
    checks=(
        (f"({epoch(col('lastseen'))}) IS NULL", "lastseen is missing or not a Unix timestamp"),
        (bad_ip(col("ip")), "ip is not an IP address"),
        (missing_ip(col("ip")), "ip is empty"),
    ),
    priority=50,
)
