"""Shadowserver *Vulnerable Exchange Server* report (``scan_exchange``).

Microsoft Exchange servers found vulnerable (``tag`` like ``exchange;cve-2021-26855``) or carrying a
webshell (``exchange;webshell``): the shared ``scan_*`` mapping (:func:`_shadowserver.scan_fields`)
plus the server's ``version``, ``servername`` and ``url`` in ``extra``.
"""

from sitrep.feeds import _shadowserver as ss
from sitrep.feeds.base import Csv, Feed

COLUMNS = (
    "timestamp",
    "ip",
    "port",
    "hostname",
    "tag",
    "asn",
    "geo",
    "region",
    "city",
    "naics",
    "sic",
    "sector",
    "version",
    "servername",
    "url",
)

FEED = Feed(
    name="shadowserver-scan-exchange",
    provider=ss.PROVIDER,
    summary="Shadowserver Vulnerable Exchange Server report (scan_exchange): vulnerable or webshell servers.",
    reader=Csv(),
    recognise=ss.recognise("scan6?_exchange", "ip", "port", "tag", "servername", "version"),
    columns=COLUMNS,
    required=("timestamp", "ip", "tag"),
    fields=ss.scan_fields("version", "servername", "url"),
    checks=ss.row_checks(),
    tlp=ss.TLP,
    priority=50,
)
