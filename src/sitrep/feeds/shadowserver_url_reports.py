"""Shadowserver URL reports: *Phish URL* (``phish_url``) and *Malware URL* (``malware_url``).

Both list a ``url`` with its ``host`` and resolved ``ip`` (plus ``asn``/``geo``/``region``); the
malware report adds ``tag``, ``sha256`` and ``application``.  ``phish_url`` rows are RSIT
``fraud/phishing``; Shadowserver's layout has no brand column, so the imitated target comes from a
``tag`` column when the report carries one.  ``malware_url`` rows are
``malicious-code/malware-distribution``; ``tag`` names the family (``mozi``) or the exploited CVE, and
only a tag that is not a CVE is taken as the malware name.  A row needs a timestamp and a URL; an IP,
when given, must be valid.
"""

from sitrep.feeds import _shadowserver as ss
from sitrep.feeds.base import Csv, Feed
from sitrep.feeds.sql import classified, col, extra, ip, lower, missing, text, ts
from sitrep.taxonomy import MALWARE_DISTRIBUTION, PHISHING, EventClass

_COMMON = ("timestamp", "url", "host", "ip", "asn", "geo", "region", "city", "naics", "sector", "source")
PHISH_COLUMNS = (*_COMMON, "tag")
MALWARE_COLUMNS = (*_COMMON, "tag", "sha256", "application")

_TAG = lower(col("tag"))


def _feed(report: str, label: str, cls: EventClass, columns: tuple[str, ...], **specific: str) -> Feed:
    host = ss.host_fields()
    return Feed(
        name=f"shadowserver-{report.replace('_', '-')}",
        provider=ss.PROVIDER,
        summary=f"Shadowserver {label} report ({report}): {cls.en}s.",
        reader=Csv(),
        recognise=(
            ss.recognise(report, "url", "host", "ip", "source", "sha256")
            if "sha256" in columns
            else ss.recognise(report, "url", "host", "ip", "source", absent=("sha256", "port"))
        ),
        columns=columns,
        required=("timestamp", "url"),
        fields={
            "time_source": ts(col("timestamp")),
            **classified(cls),
            "source_ip": host["source_ip"],
            "source_asn": host["source_asn"],
            "source_geolocation_cc": host["source_geolocation_cc"],
            "source_geolocation_region": host["source_geolocation_region"],
            "source_url": text(col("url")),
            # ``host`` is the URL's host, an IP address when the URL has no name.
            "source_fqdn": f"CASE WHEN ({ip(col('host'))}) IS NULL THEN {lower(col('host'))} END",
            **specific,
        },
        checks=(*ss.row_checks(ip_required=False), (missing(col("url")), "url is empty")),
        tlp=ss.TLP,
        priority=50,
    )


FEEDS = (
    _feed(
        "phish_url",
        "Phish URL",
        PHISHING,
        PHISH_COLUMNS,
        event_description_target=text(col("tag")),
        extra=extra("source", "city", "sector"),
    ),
    _feed(
        "malware_url",
        "Malware URL",
        MALWARE_DISTRIBUTION,
        MALWARE_COLUMNS,
        malware_name=f"CASE WHEN NOT regexp_matches({_TAG}, '^cve-') THEN {_TAG} END",
        extra=extra("tag", "sha256", "application", "source", "city", "sector"),
    ),
)
