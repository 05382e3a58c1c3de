"""Shadowserver *Sinkhole Events IPv4* (``event4_sinkhole``): hosts that connected to a sinkhole.

Each row is an infected host (``src_ip``) seen talking to a sinkholed C&C (``dst_ip``): RSIT
``malicious-code/infected-system``, family from ``infection`` (the family column when present).
"""

from sitrep.feeds import _shadowserver as ss
from sitrep.feeds.base import Csv, Feed
from sitrep.feeds.sql import (
    asn,
    classified,
    coalesce,
    col,
    country,
    extra,
    ip,
    lit,
    lower,
    port,
    text,
    ts,
)
from sitrep.taxonomy import INFECTED_SYSTEM

COLUMNS = (
    "timestamp",
    "protocol",
    "src_ip",
    "src_port",
    "src_asn",
    "src_geo",
    "src_region",
    "src_city",
    "src_hostname",
    "src_naics",
    "src_sector",
    "device_vendor",
    "device_type",
    "device_model",
    "dst_ip",
    "dst_port",
    "dst_asn",
    "dst_geo",
    "dst_region",
    "dst_city",
    "dst_hostname",
    "dst_naics",
    "dst_sector",
    "public_source",
    "infection",
    "family",
    "tag",
    "application",
    "version",
    "event_id",
)

# Raw columns kept in ``extra`` (the HTTP sinkhole reports add their own to these).  Sinkhole reports
# run to millions of rows a day, so columns that are near-constant and unused downstream (protocol,
# application, public_source, city) are not copied into every event: each costs ingest time and space.
EXTRA = (
    "device_vendor",
    "device_type",
    "tag",
    "src_hostname",
    "dst_hostname",
)

FEED = Feed(
    name="shadowserver-event4-sinkhole",
    provider=ss.PROVIDER,
    summary="Shadowserver Sinkhole Events IPv4 report (event4_sinkhole): infected hosts.",
    reader=Csv(),
    recognise=ss.recognise("event4_sinkhole", "src_ip", "dst_ip", "infection", absent=("http_url", "http_agent")),
    columns=COLUMNS,
    required=("timestamp", "src_ip"),
    fields={
        "time_source": ts(col("timestamp")),
        **classified(INFECTED_SYSTEM, coalesce(lower(col("infection")), lit(INFECTED_SYSTEM.identifier))),
        "source_ip": ip(col("src_ip")),
        "source_port": port(col("src_port")),
        "source_asn": asn(col("src_asn")),
        "source_geolocation_cc": country(col("src_geo")),
        "source_geolocation_region": text(col("src_region")),
        "destination_ip": ip(col("dst_ip")),
        "destination_port": port(col("dst_port")),
        "malware_name": coalesce(lower(col("family")), lower(col("infection"))),
        "extra": extra(*EXTRA),
    },
    checks=ss.row_checks("src_ip"),
    tlp="AMBER",
    priority=50,
)
