"""The event schema: one normalised row per observation, with IntelMQ-compatible names.

Columns are stored with ``_`` where IntelMQ writes ``.`` (``time.source`` is ``time_source``) so that
SQL engines (DuckDB, Spark) need no quoting; :data:`INTELMQ_NAMES` maps between the two.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class Column:
    """One event column: its name, Arrow type, SQL type and what it means."""

    name: str
    arrow: pa.DataType
    sql: str
    doc: str
    intelmq: str | None = None


TIMESTAMP = pa.timestamp("us", tz="UTC")

# Columns a feed maps from its raw fields.
MAPPED: tuple[Column, ...] = (
    Column("time_source", TIMESTAMP, "TIMESTAMPTZ", "When the observed activity happened (UTC).", "time.source"),
    Column(
        "time_observation",
        TIMESTAMP,
        "TIMESTAMPTZ",
        "When the feed observed or published it (UTC).",
        "time.observation",
    ),
    Column(
        "classification_taxonomy",
        pa.string(),
        "VARCHAR",
        "RSIT taxonomy, e.g. malicious-code.",
        "classification.taxonomy",
    ),
    Column(
        "classification_type",
        pa.string(),
        "VARCHAR",
        "RSIT type, e.g. infected-system.",
        "classification.type",
    ),
    Column(
        "classification_identifier",
        pa.string(),
        "VARCHAR",
        "Finer identifier, e.g. defacement, backdoor, webshell.",
        "classification.identifier",
    ),
    Column("source_ip", pa.string(), "VARCHAR", "IP address of the observed host.", "source.ip"),
    Column("source_port", pa.int32(), "INTEGER", "Port of the observed host.", "source.port"),
    Column("source_asn", pa.int64(), "BIGINT", "Autonomous system of the observed host.", "source.asn"),
    Column("source_fqdn", pa.string(), "VARCHAR", "Host name of the observed host or site.", "source.fqdn"),
    Column("source_url", pa.string(), "VARCHAR", "URL of the page or download.", "source.url"),
    Column(
        "source_geolocation_cc",
        pa.string(),
        "VARCHAR",
        "ISO country code as the feed gave it (the resolved country is ``country``).",
        "source.geolocation.cc",
    ),
    Column(
        "source_geolocation_region",
        pa.string(),
        "VARCHAR",
        "Region as the feed wrote it; enrichment normalises it into ``region``.",
        "source.geolocation.region",
    ),
    Column(
        "destination_ip",
        pa.string(),
        "VARCHAR",
        "IP the host connected to (e.g. a sinkhole).",
        "destination.ip",
    ),
    Column("destination_port", pa.int32(), "INTEGER", "Port the host connected to.", "destination.port"),
    Column("malware_name", pa.string(), "VARCHAR", "Malware family, lower case.", "malware.name"),
    Column(
        "event_description_target",
        pa.string(),
        "VARCHAR",
        "What a phishing page imitates (brand or site).",
        "event_description.target",
    ),
    Column("vulnerability_id", pa.string(), "VARCHAR", "CNVD or CVE identifier.", None),
    Column("vulnerability_cve", pa.string(), "VARCHAR", "The CVE the record names, if any.", None),
    Column("vulnerability_severity", pa.string(), "VARCHAR", "高 / 中 / 低.", None),
    Column("vulnerability_score", pa.float64(), "DOUBLE", "CVSS base score.", None),
    Column(
        "vulnerability_object_type",
        pa.string(),
        "VARCHAR",
        "Affected-object type (应用程序, WEB应用, 操作系统, 网络设备, 安全产品, 数据库, 智能设备).",
        None,
    ),
    Column("vulnerability_patched", pa.bool_(), "BOOLEAN", "Whether a vendor patch exists.", None),
    Column("tlp", pa.string(), "VARCHAR", "TLP 2.0 label (CLEAR, GREEN, AMBER, AMBER+STRICT, RED).", "tlp"),
    Column("extra", pa.string(), "VARCHAR", "JSON object of feed fields with no column of their own.", "extra"),
)

# Columns the lake adds: identity, provenance and enrichment.
DERIVED: tuple[Column, ...] = (
    Column(
        "event_id",
        pa.string(),
        "VARCHAR",
        "Deterministic id: hash of the normalised content (re-ingesting adds nothing).",
        None,
    ),
    Column(
        "feed_name",
        pa.string(),
        "VARCHAR",
        "Feed format name, e.g. shadowserver-event4-sinkhole.",
        "feed.name",
    ),
    Column("feed_provider", pa.string(), "VARCHAR", "Who publishes the feed.", "feed.provider"),
    Column("site", pa.string(), "VARCHAR", "Normalised site: lower-case host of the URL or FQDN.", None),
    Column("site_domain", pa.string(), "VARCHAR", "Registrable domain of the site (public-suffix list).", None),
    Column("site_suffix", pa.string(), "VARCHAR", "Public suffix of the site, e.g. gov.cn.", None),
    Column("is_gov", pa.bool_(), "BOOLEAN", "The site is under a configured government suffix.", None),
    Column("country", pa.string(), "VARCHAR", "ISO country of the IP (feed first, else the IP database).", None),
    Column("region", pa.string(), "VARCHAR", "Province-level division code of a domestic IP, e.g. GD.", None),
    Column("ip_domestic", pa.bool_(), "BOOLEAN", "The IP is in the constituency country or networks.", None),
    Column(
        "domestic",
        pa.bool_(),
        "BOOLEAN",
        "The host or site is domestic: domestic IP, or a site under the country's TLDs.",
        None,
    ),
    Column("target_domain", pa.string(), "VARCHAR", "Host of the phishing target when it is a site.", None),
    Column("ingest_id", pa.string(), "VARCHAR", "The ingest run that added the event.", None),
    Column("source_file", pa.string(), "VARCHAR", "File the event was read from.", None),
    Column("source_line", pa.int64(), "BIGINT", "Line (record number for JSON/XML) in that file.", None),
)

COLUMNS: tuple[Column, ...] = DERIVED[:3] + MAPPED + DERIVED[3:]
MAPPED_NAMES = tuple(c.name for c in MAPPED)
ARROW_SCHEMA = pa.schema([pa.field(c.name, c.arrow) for c in COLUMNS])
SQL_TYPES = {c.name: c.sql for c in COLUMNS}
INTELMQ_NAMES = {c.name: c.intelmq for c in COLUMNS if c.intelmq}

# Content that identifies an event: everything mapped except when the feed happened to observe it.
IDENTITY_COLUMNS = ("feed_name", *(n for n in MAPPED_NAMES if n != "time_observation"))

REJECT_SCHEMA = pa.schema(
    [
        pa.field("ingest_id", pa.string()),
        pa.field("file", pa.string()),
        pa.field("format", pa.string()),
        pa.field("line", pa.int64()),
        pa.field("reason", pa.string()),
        pa.field("raw", pa.string()),
    ]
)
