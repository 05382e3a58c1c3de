"""Any other Shadowserver scan report (``scan_*``/``scan6_*``): exposed or vulnerable hosts.

Scan reports share their first columns (``timestamp``, ``ip``, ``protocol``, ``port``, ``hostname``,
``tag``, ``asn``, ``geo``, ``region``, ``city``, ``naics``, ``sic``) and add their own after them;
those are not mapped.  The shared mapping is :func:`_shadowserver.scan_fields`.  This generic format
is tried after every specific Shadowserver one, and by content it only claims an IP-based scan
layout (no ``url``, ``http_host`` or ``src_ip`` columns).
"""

from sitrep.feeds import _shadowserver as ss
from sitrep.feeds.base import Csv, Feed

FEED = Feed(
    name="shadowserver-scan",
    provider=ss.PROVIDER,
    summary="Shadowserver scan reports (scan_*): vulnerable hosts; a webshell tag marks a backdoor.",
    reader=Csv(),
    recognise=ss.recognise(
        r"scan6?_[a-z0-9_]+",
        "ip",
        "port",
        "hostname",
        "tag",
        "asn",
        "geo",
        "naics",
        absent=("url", "http_host", "category", "src_ip"),
    ),
    columns=(*ss.SCAN_COLUMNS, "naics", "sic", "sector"),
    required=("timestamp", "ip", "tag"),
    fields=ss.scan_fields("protocol"),
    checks=ss.row_checks(),
    tlp=ss.TLP,
    priority=90,
)
