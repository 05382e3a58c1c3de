"""Shadowserver *Compromised Website* report (``compromised_website``): hacked web sites.

Each row is a site (``http_host``, else the server's ``hostname``) on ``ip`` found compromised, with
Shadowserver's ``tag`` (e.g. ``hacked-webserver-stealrat-t1``) and ``category`` (``spam``,
``phishing``, ``defacement``, ``webshell`` …).  ``url`` is the path of the evidence on that host.
Classification, first match wins: a webshell or backdoor → ``intrusions/system-compromise``
(identifier ``webshell``/``backdoor``; the root compromise outranks a visible defacement); a
defacement → ``information-content-security/unauthorised-information-modification`` (identifier
``defacement``); anything else → ``intrusions/system-compromise`` with identifier ``compromised``.
"""

from sitrep.feeds import _shadowserver as ss
from sitrep.feeds.base import Csv, Feed
from sitrep.feeds.sql import coalesce, col, extra, lower, text, ts
from sitrep.taxonomy import BACKDOOR, DEFACEMENT

COLUMNS = (
    "timestamp",
    "ip",
    "port",
    "hostname",
    "tag",
    "application",
    "asn",
    "geo",
    "region",
    "city",
    "url",
    "http_host",
    "category",
    "system",
    "detected_since",
    "server",
    "redirect_target",
    "naics",
    "sic",
    "sector",
    "cc_url",
    "family",
)

_HOST = coalesce(lower(col("http_host")), lower(col("hostname")))
_PATH = text(col("url"))
# ``url`` is usually a path on the host; an absolute URL is kept as it is.
_URL = (
    f"CASE WHEN regexp_matches({_PATH}, '^[A-Za-z][A-Za-z0-9+.-]*://') THEN {_PATH} "
    f"WHEN {_HOST} IS NOT NULL THEN "
    f"CASE WHEN {lower(col('application'))} = 'https' THEN 'https://' ELSE 'http://' END "
    f"|| {_HOST} || CASE WHEN starts_with({_PATH}, '/') THEN {_PATH} "
    f"ELSE '/' || coalesce({_PATH}, '') END END"
)

FEED = Feed(
    name="shadowserver-compromised-website",
    provider=ss.PROVIDER,
    summary="Shadowserver Compromised Website report: defaced, backdoored and otherwise hacked sites.",
    reader=Csv(),
    recognise=ss.recognise("compromised_website", "ip", "http_host", "category", "detected_since"),
    columns=COLUMNS,
    required=("timestamp", "ip"),
    fields={
        "time_source": ts(col("timestamp")),
        **ss.classify(
            f"concat_ws(';', {lower(col('tag'))}, {lower(col('category'))})",
            (
                ("webshell", BACKDOOR, "webshell"),
                ("backdoor", BACKDOOR, "backdoor"),
                ("deface", DEFACEMENT, DEFACEMENT.identifier),
            ),
            (BACKDOOR, "compromised"),
        ),
        **ss.host_fields(),
        "source_fqdn": _HOST,
        "source_url": _URL,
        "malware_name": lower(col("family")),
        "extra": extra(
            "tag",
            "category",
            "application",
            "system",
            "detected_since",
            "server",
            "redirect_target",
            "cc_url",
            "city",
            "sector",
        ),
    },
    checks=ss.row_checks(),
    tlp=ss.TLP,
    priority=50,
)
