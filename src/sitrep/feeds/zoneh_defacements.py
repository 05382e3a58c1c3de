"""Zone-H defacement archive export (CSV): defaced web sites, one notification per row.

Zone-H publishes its archive as pages (``Time, Notifier, H, M, R, L, ☆, Domain, OS, View``) and each
mirror page adds ``IP address``, ``System`` and ``Web server``; the export a CERT receives puts those
in one CSV with this header::

    time,notifier,domain,ip,system,web_server,homepage,mass,redefacement,location,special,mirror

``time`` is the notification time in UTC (``2025-01-06 13:45:10``); ``domain`` is the defaced URL as
notified (``http://www.example.gov.cn/hacked.html``; a bare host name is read as ``http://``);
``homepage``/``mass``/``redefacement``/``special`` are Zone-H's ``H``/``M``/``R``/``☆`` flags
(``1`` or empty); ``location`` is the server's country code; ``mirror`` is the Zone-H mirror URL.
Rows are ``information-content-security/unauthorised-information-modification`` with identifier
``defacement``; the site is the URL's host.  A row needs a valid time and a domain; an IP, when
given, must be valid.
"""

from sitrep.enrich.sites import host_sql, url_sql
from sitrep.feeds.base import Csv, Feed
from sitrep.feeds.sql import bad_ip, bad_time, classified, col, country, extra, ip, missing, text, ts
from sitrep.taxonomy import DEFACEMENT

COLUMNS = (
    "time",
    "notifier",
    "domain",
    "ip",
    "system",
    "web_server",
    "homepage",
    "mass",
    "redefacement",
    "location",
    "special",
    "mirror",
)

FEED = Feed(
    name="zoneh-defacements",
    provider="Zone-H",
    summary="Zone-H defacement archive export (CSV): defaced web sites.",
    reader=Csv(),
    recognise=lambda sample: sample.has_columns("time", "notifier", "domain", "mirror"),
    columns=COLUMNS,
    required=("time", "domain"),
    fields={
        "time_source": ts(col("time")),
        **classified(DEFACEMENT),
        "source_ip": ip(col("ip")),
        "source_url": url_sql(text(col("domain"))),
        "source_fqdn": host_sql(text(col("domain"))),
        "source_geolocation_cc": country(col("location")),
        "extra": extra("notifier", "system", "web_server", "homepage", "mass", "redefacement", "special", "mirror"),
    },
    checks=(
        (bad_time(col("time")), "time is missing or not a date-time"),
        (missing(col("domain")), "domain is empty"),
        (bad_ip(col("ip")), "ip is not an IP address"),
    ),
    priority=50,
)
