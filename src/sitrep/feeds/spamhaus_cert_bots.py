"""Spamhaus CERT botnet feed ("bots"): infected hosts in a CERT's constituency.

A comma-separated file with no header row: ``;`` comment lines describe it, the last of them naming
the fields ``; ip, asn, country, lastseen, botname, domain, remote_ip, remote_port, local_port,
protocol``.  ``lastseen`` is a Unix timestamp (UTC); ``asn`` is written ``AS4134`` (``?`` when
unknown); ``domain``/``remote_ip``/``remote_port`` describe the C&C when known.  Rows are RSIT
``malicious-code/infected-system`` with the bot name as the malware family.
"""

from sitrep.feeds.base import Csv, Feed, Sample
from sitrep.feeds.sql import (
    asn,
    bad_ip,
    classified,
    coalesce,
    col,
    country,
    epoch,
    extra,
    ip,
    lit,
    lower,
    missing_ip,
    port,
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


def _recognise(sample: Sample) -> bool:
    return sample.matches(r"(?m)^;\s*ip,\s*asn,\s*country,\s*lastseen,\s*botname\b")


FEED = Feed(
    name="spamhaus-cert-bots",
    provider="Spamhaus",
    summary="Spamhaus CERT botnet feed (bots CSV): infected hosts with bot name and C&C.",
    reader=Csv(header=False, names=COLUMNS, comment=";"),
    recognise=_recognise,
    columns=COLUMNS,
    required=("ip", "lastseen"),
    fields={
        "time_source": epoch(col("lastseen")),
        **classified(INFECTED_SYSTEM, coalesce(lower(col("botname")), lit(INFECTED_SYSTEM.identifier))),
        "source_ip": ip(col("ip")),
        "source_port": port(col("local_port")),
        "source_asn": asn(col("asn")),
        "source_geolocation_cc": country(col("country")),
        "destination_ip": ip(col("remote_ip")),
        "destination_port": port(col("remote_port")),
        "malware_name": lower(col("botname")),
        "extra": extra("domain", "protocol"),
    },
    checks=(
        (f"({epoch(col('lastseen'))}) IS NULL", "lastseen is missing or not a Unix timestamp"),
        (bad_ip(col("ip")), "ip is not an IP address"),
        (missing_ip(col("ip")), "ip is empty"),
    ),
    priority=50,
)
