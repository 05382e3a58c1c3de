"""Shadowserver *Sinkhole HTTP Events* (``event4_sinkhole_http`` and ``event6_sinkhole_http``).

Infected hosts (``src_ip``) that made an HTTP request to a sinkholed C&C (``dst_ip``; the request in
``http_url``, ``http_host``, ``http_agent``): RSIT ``malicious-code/infected-system``.  The layout is
the sinkhole report's (:mod:`sitrep.feeds.shadowserver_event4_sinkhole`) plus the HTTP columns, so the
mapping is that report's; the HTTP request describes the C&C, not the infected host, and goes to
``extra``.  Both reports share one header: the IPv6 one is told apart by its name or by an IPv6
``src_ip`` in the first row, and rejects rows whose ``src_ip`` is not IPv6.
"""

from sitrep.feeds import _shadowserver as ss
from sitrep.feeds import shadowserver_event4_sinkhole as sinkhole
from sitrep.feeds.base import Csv, Feed, Sample
from sitrep.feeds.sql import col, extra, ip

HTTP_COLUMNS = (
    "http_url",
    "http_host",
    "http_agent",
    "forwarded_by",
    "ssl_cipher",
    "http_referer",
    "machine_name",
)
COLUMNS = (*sinkhole.COLUMNS, *HTTP_COLUMNS)


def _is_v6(sample: Sample) -> bool:
    return ":" in ss.first_row(sample).get("src_ip", "")


def _recognise_v4(sample: Sample) -> bool:
    return _header(sample, "event4_sinkhole_http") and not _is_v6(sample)


def _recognise_v6(sample: Sample) -> bool:
    return _header(sample, "event6_sinkhole_http") and ("event6_sinkhole_http" in sample.name.lower() or _is_v6(sample))


def _header(sample: Sample, report: str) -> bool:
    # The referer reports share most columns but carry the referrer's own IP/ASN/geo.
    return ss.recognise(report, "src_ip", "dst_ip", "http_url", "http_agent", absent=("http_referer_ip",))(sample)


def _feed(version: int) -> Feed:
    report = f"event{version}_sinkhole_http"
    checks = sinkhole.FEED.checks
    if version == 6:
        checks += ((f"NOT contains({ip(col('src_ip'))}, ':')", "src_ip is not an IPv6 address"),)
    return Feed(
        name=f"shadowserver-event{version}-sinkhole-http",
        provider=ss.PROVIDER,
        summary=f"Shadowserver Sinkhole HTTP Events IPv{version} report ({report}): infected hosts.",
        reader=Csv(),
        recognise=_recognise_v6 if version == 6 else _recognise_v4,
        columns=COLUMNS,
        required=("timestamp", "src_ip", "http_url"),
        fields={**sinkhole.FEED.fields, "extra": extra(*sinkhole.EXTRA, *HTTP_COLUMNS)},
        checks=checks,
        tlp=ss.TLP,
        # Before the plain sinkhole report and the IPv4 reading of the shared header.
        priority=40 if version == 6 else 45,
    )


FEEDS = (_feed(4), _feed(6))
