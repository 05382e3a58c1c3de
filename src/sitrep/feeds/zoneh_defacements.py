"""Zone-H defacement report (CSV): the defacements of a CERT's constituency, one notification per row.

Zone-H mails it to CERTs (``datazh@zone-h.org``) as a CSV attachment; the layout is the one IntelMQ's
Zone-H parser reads (certtools/intelmq ``intelmq/bots/parsers/zoneh/parser.py`` and its tests), every
field quoted, with a header row::

    add_date, accept_date, attacker, domain, ip_address, system, web_server, reason, hackmode, image,
    type, redefacement, state, def_grade, defacement_id, country_code, country

``add_date`` is when the defacement was notified (UTC); ``accept_date`` when Zone-H verified it (a report
of notifications still pending has no such column); ``attacker`` is the notifier; ``domain`` is, despite
its name, the defaced URL; ``system``/``web_server`` the server's OS and web server; ``reason`` and
``hackmode`` what the notifier claimed; ``image`` the mirror path; ``type`` ``mass``/``regular``;
``redefacement`` ``yes``/``no``; ``state`` ``published``/``not published`` on Zone-H's archive;
``def_grade`` ``homepage``/``secondary``; ``defacement_id`` Zone-H's id; ``country_code`` lower case
(``zz`` unknown).

Rows are RSIT ``information-content-security/unauthorised-information-modification``, identifier
``defacement`` (被篡改网站); the site is the URL's host.  The report is sent to the CERT, not published,
so rows are TLP:AMBER, except those Zone-H shows in its public archive (``state`` ``published``): CLEAR.
"""

from __future__ import annotations

from sitrep.enrich.sites import host_sql, url_sql
from sitrep.feeds.base import Csv, Feed, Sample
from sitrep.feeds.sql import bad_ip, bad_time, classified, col, country, extra, ip, lower, missing, text, ts
from sitrep.taxonomy import DEFACEMENT

COLUMNS = (
    "add_date",
    "accept_date",
    "attacker",
    "domain",
    "ip_address",
    "system",
    "web_server",
    "reason",
    "hackmode",
    "image",
    "type",
    "redefacement",
    "state",
    "def_grade",
    "defacement_id",
    "country_code",
    "country",
)
# Zone-H's code for a server it could not place: no country rather than a made-up one.
_UNKNOWN_COUNTRY = "zz"


def _recognise(sample: Sample) -> bool:
    return sample.has_columns("add_date", "attacker", "domain", "ip_address", "defacement_id")


FEED = Feed(
    name="zoneh-defacements",
    provider="Zone-H",
    summary="Zone-H defacement report for CERTs (CSV): defaced web sites.",
    reader=Csv(),
    recognise=_recognise,
    columns=COLUMNS,
    required=("add_date", "domain"),
    fields={
        "time_source": ts(col("add_date")),
        **classified(DEFACEMENT),
        "source_ip": ip(col("ip_address")),
        "source_url": url_sql(text(col("domain"))),
        "source_fqdn": host_sql(text(col("domain"))),
        "source_geolocation_cc": (
            f"CASE WHEN {lower(col('country_code'))} <> '{_UNKNOWN_COUNTRY}' THEN {country(col('country_code'))} END"
        ),
        "tlp": f"CASE WHEN {lower(col('state'))} = 'published' THEN 'CLEAR' END",
        "extra": extra(
            "accept_date",
            "attacker",
            "system",
            "web_server",
            "reason",
            "hackmode",
            "image",
            "type",
            "redefacement",
            "state",
            "def_grade",
            "defacement_id",
            "country",
        ),
    },
    checks=(
        (bad_time(col("add_date")), "add_date is missing or not a date-time"),
        (missing(col("domain")), "domain is empty"),
        (bad_ip(col("ip_address")), "ip_address is not an IP address"),
    ),
    tlp="AMBER",
    priority=50,
)
