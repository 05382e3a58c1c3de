"""The workspace and its ``sitrep.toml``: validated settings with documented defaults.

A workspace is a folder holding ``sitrep.toml``, the Parquet event lake, the SQLite database and the
reports.  ``--home DIR`` or ``SITREP_HOME`` selects it; otherwise the current folder is the workspace.
Every setting is documented in ``docs/configuration.md``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import tomllib
import zoneinfo
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from sitrep.taxonomy import INDICATOR_KEYS, TLP, IncidentCategory, PartnerType

CONFIG_NAME = "sitrep.toml"
HOME_ENV = "SITREP_HOME"


class ConfigError(Exception):
    """A missing or invalid workspace configuration; the message names the key and what is wrong."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Organisation(_Section):
    """Who publishes the report and for which constituency."""

    name: str = "CNCERT"
    name_en: str = "CNCERT/CC"
    constituency: str = "我国"
    constituency_en: str = "China"
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = "CN"
    timezone: str = "Asia/Shanghai"
    vulnerability_database: str = "国家信息安全漏洞共享平台（CNVD）"
    vulnerability_database_en: str = "China National Vulnerability Database (CNVD)"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as 'Asia/Shanghai')") from exc
        return value


class Enrichment(_Section):
    """How events are judged domestic, governmental, or aimed at a protected target."""

    country_tlds: list[str] = Field(default_factory=lambda: ["cn", "中国"])
    gov_suffixes: list[str] = Field(default_factory=lambda: ["gov.cn"])
    constituency_networks: list[str] = Field(default_factory=list)
    protected_sites: list[str] = Field(
        default_factory=lambda: [
            "icbc.com.cn",
            "ccb.com",
            "boc.cn",
            "abchina.com",
            "bankcomm.com",
            "cmbchina.com",
            "95559.com.cn",
            "alipay.com",
            "taobao.com",
            "jd.com",
            "qq.com",
            "weixin.qq.com",
            "12306.cn",
            "chinatax.gov.cn",
            "10086.cn",
            "189.cn",
            "10010.com",
        ]
    )
    protected_brands: list[str] = Field(
        default_factory=lambda: [
            "中国工商银行",
            "ICBC",
            "中国建设银行",
            "CCB",
            "中国银行",
            "Bank of China",
            "中国农业银行",
            "交通银行",
            "招商银行",
            "支付宝",
            "Alipay",
            "淘宝",
            "Taobao",
            "京东",
            "微信",
            "WeChat",
            "中国移动",
            "中国电信",
            "中国联通",
            "12306",
            "国家税务总局",
        ]
    )

    @field_validator("gov_suffixes", "country_tlds", "protected_sites")
    @classmethod
    def _lower_domains(cls, values: list[str]) -> list[str]:
        return [v.strip().strip(".").lower() for v in values if v.strip()]

    @field_validator("constituency_networks")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError as exc:
                raise ValueError(f"{value!r} is not an IP network in CIDR form") from exc
        return values


class ObjectStore(_Section):
    """How a lake at an ``s3://`` URL is reached (any S3-compatible store).  Empty values fall back to
    the standard AWS environment variables and files (``AWS_ENDPOINT_URL``, ``AWS_REGION``,
    ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``~/.aws``).  The secret key is never written
    here: it is read from the variable ``secret_access_key_env`` or the file ``secret_access_key_file``."""

    endpoint_url: str = ""
    region: str = ""
    access_key_id: str = ""
    secret_access_key_env: str = "AWS_SECRET_ACCESS_KEY"
    secret_access_key_file: str = ""

    @field_validator("endpoint_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
            raise ValueError(f"{value!r} is not an http:// or https:// address")
        return value.rstrip("/")


class Storage(_Section):
    """Where the workspace keeps its data; relative paths are inside the workspace.  The lake may be an
    ``s3://bucket/prefix`` URL (see ``[storage.s3]``).  A server database (PostgreSQL) is reached
    through a pool of connections per process: ``database_pool_size`` kept open, up to
    ``database_max_overflow`` more at a peak (SQLite needs no pool)."""

    lake: str = "lake"
    database_url: str = "sqlite:///sitrep.db"
    database_pool_size: Annotated[int, Field(ge=1, le=1000)] = 5
    database_max_overflow: Annotated[int, Field(ge=0, le=1000)] = 10
    reports: str = "reports"
    s3: ObjectStore = Field(default_factory=ObjectStore)

    @field_validator("lake")
    @classmethod
    def _lake_location(cls, value: str) -> str:
        if "://" in value and not re.fullmatch(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\s]*)?", value):
            raise ValueError(
                f"{value!r}: a lake is a folder or an s3://bucket/prefix URL (a bucket name is 3-63 lower-case "
                "letters, digits, dots and hyphens)"
            )
        return value


class Ingest(_Section):
    """Resource limits for ingestion (DuckDB spills to disk beyond ``memory_limit``) and the limits that
    keep a hostile file from exhausting them."""

    memory_limit: str = "1GB"
    threads: Annotated[int, Field(ge=1, le=256)] = 2
    # A longer line (CSV record, JSON line, list entry) is rejected on its own.
    max_line_bytes: Annotated[int, Field(ge=1024)] = 1024 * 1024
    # A JSON or XML document is read whole: a larger one (after decompression) is refused.
    max_document_bytes: Annotated[int, Field(ge=1024)] = 256 * 1024 * 1024
    # A JSON record (line) with more keys is rejected.
    max_json_keys: Annotated[int, Field(ge=1)] = 1000
    # A zip member that unpacks to more is refused (a zip bomb would otherwise fill the disk).
    max_unpacked_bytes: Annotated[int, Field(ge=1024)] = 16 * 1024**3
    # Event times outside [earliest_time, now + future_hours] are rejected as implausible.
    earliest_time: date = date(1990, 1, 1)
    future_hours: Annotated[int, Field(ge=0)] = 24


# The query engines the lake's queries run on (``[query] engine``, ``--engine``).
QUERY_ENGINES = ("duckdb", "spark")
QueryEngine = Literal["duckdb", "spark"]
# A Spark master URL: local mode (``local``, ``local[4]``, ``local[*]``, ``local[4,2]``) or a cluster manager.
_SPARK_MASTER = re.compile(r"^(local(\[(\d+|\*)(,\d+)?\])?|(spark|k8s|mesos)://\S+|yarn)$")


class Spark(_Section):
    """The Apache Spark session the queries run in when ``engine = "spark"``: its master URL and any
    further Spark properties (``spark.executor.memory`` = ``"4g"``…)."""

    master: str = "local[2]"
    options: dict[str, str | int | float | bool] = Field(default_factory=dict)

    @field_validator("master")
    @classmethod
    def _master_url(cls, value: str) -> str:
        if not _SPARK_MASTER.match(value):
            raise ValueError(
                f"{value!r} is not a Spark master URL (local[2], local[*], spark://host:7077, yarn, k8s://https://host)"
            )
        return value

    @field_validator("options")
    @classmethod
    def _spark_properties(cls, value: dict[str, Any]) -> dict[str, Any]:
        # Spark ignores, with a warning nobody reads, a property that does not start with "spark.".
        wrong = [key for key in value if not key.startswith("spark.")]
        if wrong:
            raise ValueError(f"{', '.join(map(repr, wrong))}: Spark properties start with 'spark.'")
        return value


class Query(_Section):
    """The queries over the lake (metrics, report, check, proposals, the web desk's pages): the engine
    they run on and its resources.  With DuckDB (the default), one database per process, shared by its
    queries at once, which spills to disk beyond ``memory_limit``.  Larger than ingestion's by default:
    a week's report with its 8-week trend over 20M events needs about 2 GB, and a web server runs its
    pages' queries side by side.  With Spark, one session per process (``[query.spark]``)."""

    engine: QueryEngine = "duckdb"
    memory_limit: str = "2GB"
    threads: Annotated[int, Field(ge=1, le=256)] = 2
    spark: Spark = Field(default_factory=Spark)


class Feeds(_Section):
    """Feed formats: where a newer Shadowserver schema is (empty: the table built into Sitrep)."""

    shadowserver_schema: str = ""


class Smtp(_Section):
    """The mail relay partner notifications go through; the password is read from ``password_env``."""

    host: str = "localhost"
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    starttls: bool = True
    username: str = ""
    password_env: str = "SITREP_SMTP_PASSWORD"
    sender: str = "cert@example.org"
    sender_name: str = "CNCERT/CC"
    ca_file: str = ""
    timeout: Annotated[float, Field(gt=0)] = 30.0


class ProposeRule(_Section):
    """One rule of ``sitrep incidents propose``: which events make which incident, routed to whom."""

    name: str
    category: IncidentCategory
    classification_types: list[str] = Field(default_factory=list)
    classification_identifiers: list[str] = Field(default_factory=list)
    url_pattern: str = ""
    require: Literal["any", "domestic-site", "domestic-target"] = "any"
    group_by: Literal["site", "url"] = "site"
    partner_types: list[PartnerType] = Field(default_factory=list)

    @field_validator("url_pattern")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"url_pattern {value!r} is not a regular expression: {exc}") from exc
        return value


def _default_propose_rules() -> list[ProposeRule]:
    return [
        ProposeRule(
            name="mobile-malware-apk",
            category=IncidentCategory.MOBILE_MALWARE,
            classification_types=["malware-distribution"],
            url_pattern=r"(?i)\.apk([?#].*)?$",
            group_by="url",
            partner_types=[PartnerType.APP_STORE],
        ),
        ProposeRule(
            name="phishing-domestic-target",
            category=IncidentCategory.PHISHING,
            classification_types=["phishing"],
            require="domestic-target",
            partner_types=[
                PartnerType.REGISTRAR,
                PartnerType.HOSTING,
                PartnerType.CLOUD,
                PartnerType.FOREIGN_CERT,
            ],
        ),
        ProposeRule(
            name="defacement-domestic",
            category=IncidentCategory.DEFACEMENT,
            classification_identifiers=["defacement"],
            require="domestic-site",
            partner_types=[PartnerType.BRANCH],
        ),
        ProposeRule(
            name="backdoor-domestic",
            category=IncidentCategory.BACKDOOR,
            classification_identifiers=["backdoor", "webshell"],
            require="domestic-site",
            partner_types=[PartnerType.BRANCH],
        ),
    ]


# Hours a partner of each type has to act on a request once it is sent (its due date).
DEFAULT_SLA_HOURS: dict[PartnerType, int] = {
    PartnerType.CLOUD: 24,
    PartnerType.REGISTRAR: 48,
    PartnerType.APP_STORE: 48,
    PartnerType.BRANCH: 72,
    PartnerType.INTL_ORG: 120,
    PartnerType.FOREIGN_CERT: 120,
    PartnerType.TELECOM: 48,
    PartnerType.HOSTING: 48,
    PartnerType.OTHER: 72,
}


class ComplaintRules(_Section):
    """Complaint intake (``sitrep incidents intake``, a ``complaints`` mailbox): what a mail may be, what
    of it is kept, and the acknowledgement sent back to the reporter."""

    folder: Annotated[str, Field(min_length=1)] = "complaints"
    max_mb: Annotated[int, Field(ge=1, le=1000)] = 25
    max_parts: Annotated[int, Field(ge=1, le=10_000)] = 200
    max_assets: Annotated[int, Field(ge=1, le=10_000)] = 50
    default_category: IncidentCategory = IncidentCategory.OTHER
    tlp: str = TLP.AMBER.value
    ignore_domains: list[str] = Field(default_factory=list)
    auto_reply: bool = False
    own_addresses: list[str] = Field(default_factory=list)
    replies_per_sender_per_day: Annotated[int, Field(ge=0, le=1000)] = 5

    @field_validator("tlp")
    @classmethod
    def _tlp(cls, value: str) -> str:
        return TLP.parse(value).value

    @field_validator("ignore_domains")
    @classmethod
    def _domains(cls, values: list[str]) -> list[str]:
        return [v.strip().strip(".").lower() for v in values if v.strip()]

    @field_validator("own_addresses")
    @classmethod
    def _own(cls, values: list[str]) -> list[str]:
        return [check_address(v) for v in values]


class IncidentRules(_Section):
    """Incident handling: proposal rules, partner SLAs and reminders, when a silent partner counts as not
    answering, refs of new incidents, and how long a writer waits for the database."""

    no_response_hours: Annotated[int, Field(ge=1)] = 72
    max_linked_events: Annotated[int, Field(ge=1)] = 1000
    # Partner types missing from the table keep their default.
    sla_hours: dict[PartnerType, Annotated[int, Field(ge=1)]] = Field(default_factory=lambda: dict(DEFAULT_SLA_HOURS))
    reminder_hours: Annotated[int, Field(ge=1)] = 24
    ref_prefix: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9]{0,19}$")] = "INC"
    busy_timeout_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0
    propose: list[ProposeRule] = Field(default_factory=_default_propose_rules)
    complaints: ComplaintRules = Field(default_factory=ComplaintRules)

    @field_validator("sla_hours")
    @classmethod
    def _every_type(cls, values: dict[PartnerType, int]) -> dict[PartnerType, int]:
        return {**DEFAULT_SLA_HOURS, **values}


RATING_INDICATORS = (
    "infected_hosts",
    "defaced_sites",
    "backdoored_sites",
    "phishing_pages",
    "new_high_vulnerabilities",
)


class RatingBand(_Section):
    """Scores below ``below`` get ``label`` (the last band of the list catches the rest)."""

    below: Annotated[float, Field(gt=0)]
    label: Literal["优", "良", "中", "差", "危"]


class Rating(_Section):
    """The week's overall rating (DESIGN.md §6): mean of this week / baseline over the indicators."""

    indicators: list[str] = Field(default_factory=lambda: list(RATING_INDICATORS))
    baseline_weeks: Annotated[int, Field(ge=1, le=52)] = 8
    bands: list[RatingBand] = Field(
        default_factory=lambda: [
            RatingBand(below=0.8, label="优"),
            RatingBand(below=1.1, label="良"),
            RatingBand(below=1.4, label="中"),
            RatingBand(below=2.0, label="差"),
        ]
    )
    otherwise: Literal["优", "良", "中", "差", "危"] = "危"
    # A major (重大/特别重大) infrastructure incident in the week lifts a better rating to this one.
    major_infrastructure_floor: Literal["优", "良", "中", "差", "危"] = "中"

    @field_validator("indicators")
    @classmethod
    def _known_indicators(cls, values: list[str]) -> list[str]:
        unknown = [v for v in values if v not in INDICATOR_KEYS]
        if unknown or not values:
            raise ValueError(f"rating indicators must be among {', '.join(INDICATOR_KEYS)} (got {values!r})")
        return values

    @field_validator("bands")
    @classmethod
    def _increasing(cls, bands: list[RatingBand]) -> list[RatingBand]:
        limits = [b.below for b in bands]
        if limits != sorted(limits) or len(set(limits)) != len(limits):
            raise ValueError("bands must be listed with strictly increasing 'below' limits")
        return bands


class Report(_Section):
    """Publishing: where the archive site lives (absolute links in the Atom feed) and its title."""

    base_url: str = ""
    site_title: str = "网络安全信息与动态周报"
    site_title_en: str = "Weekly Network Security Report"

    # The archive (report/site.py): the address the site is published at.
    @field_validator("base_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        from urllib.parse import urlsplit

        url = value.strip()
        parts = urlsplit(url)
        if url and (parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment):
            raise ValueError(
                f"{value!r} is not the absolute address of a folder, e.g. 'https://cert.example.org/weekly/' "
                "(http or https, no query or fragment); leave it empty for relative links"
            )
        return url


# The public-data policy (DESIGN.md §11) as data: each use of data in a public (TLP:CLEAR) output, what
# it covers, and the most restricted TLP label ``[public]`` may let feed it.  RED feeds nothing public,
# and no identifier of AMBER data is ever shown: an aggregate reveals no recipient's data, an identifier
# does.
PublicUse = Literal["counts", "names", "identifiers"]
PUBLIC_USES: dict[PublicUse, tuple[str, TLP]] = {
    "counts": (
        "numbers: indicators, breakdown counts, the rating, incident numbers, partner response times",
        TLP.AMBER_STRICT,
    ),
    "names": ("category names printed beside a count: malware families, regions, sectors", TLP.AMBER_STRICT),
    "identifiers": ("IPs, URLs, domains, incident refs, event IDs, the vulnerability list's entries", TLP.GREEN),
}
_TLP_ORDER = tuple(TLP)  # least to most restricted


class PublicData(_Section):
    """Which data may feed the public report, by use (:data:`PUBLIC_USES`): for each, the most restricted
    TLP label whose data it may come from.  Unlabelled data counts as CLEAR."""

    counts: str = "AMBER"
    names: str = "AMBER"
    identifiers: str = "GREEN"

    @field_validator("counts", "names", "identifiers")
    @classmethod
    def _within_ceiling(cls, value: str, info: ValidationInfo) -> str:
        use: PublicUse = info.field_name  # type: ignore[assignment]
        ceiling = PUBLIC_USES[use][1]
        allowed = _TLP_ORDER[: _TLP_ORDER.index(ceiling) + 1]
        try:
            label = TLP.parse(value)
        except ValueError:
            label = None
        if label not in allowed:
            raise ValueError(f"{value!r}: use one of {', '.join(t.value for t in allowed)}")
        return label.value

    @model_validator(mode="after")
    def _nested(self) -> PublicData:
        # A name is printed beside its count and an identifier beside its name: none may be looser than
        # what it is printed with.
        if self._rank("names") > self._rank("counts"):
            raise ValueError(f"names ({self.names}) may not be looser than counts ({self.counts})")
        if self._rank("identifiers") > self._rank("names"):
            raise ValueError(f"identifiers ({self.identifiers}) may not be looser than names ({self.names})")
        return self

    def _rank(self, use: PublicUse) -> int:
        return _TLP_ORDER.index(TLP(getattr(self, use)))

    def labels(self, use: PublicUse) -> tuple[str, ...]:
        """The TLP labels whose data may feed ``use`` (``counts``, ``names`` or ``identifiers``)."""
        return tuple(t.value for t in _TLP_ORDER[: self._rank(use) + 1])


class Explorer(_Section):
    """The event explorer (``sitrep events``, the web desk): the longest time window one search covers."""

    max_days: Annotated[int, Field(ge=1, le=366)] = 31


class Jobs(_Section):
    """Long jobs of the web desk (an uploaded feed file's ingest, a week's rendering): how many run at
    once in the server process, and the largest feed file an upload may carry."""

    workers: Annotated[int, Field(ge=1, le=16)] = 1
    max_upload_mb: Annotated[int, Field(ge=1, le=100_000)] = 200


# --- Collection (``sitrep collect``): feeds that arrive by themselves -------------------------------
_EVERY = re.compile(r"^([1-9][0-9]{0,5})([smhd])$")
_EVERY_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class _SourceBase(_Section):
    """What every ``[[sources]]`` entry has: a name, how often it is due, and optionally the format of
    what it delivers and the TLP label of rows that carry none."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    every: str = "1h"
    format: str | None = None
    tlp: str | None = None

    @field_validator("every")
    @classmethod
    def _duration(cls, value: str) -> str:
        if not _EVERY.fullmatch(value):
            raise ValueError(f'every = {value!r} is not a duration like "30m", "1h" or "1d"')
        return value

    @field_validator("tlp")
    @classmethod
    def _tlp(cls, value: str | None) -> str | None:
        return None if value is None else TLP.parse(value).value

    @property
    def interval(self) -> timedelta:
        """How often the source is due (``every``)."""
        found = _EVERY.fullmatch(self.every)
        assert found is not None  # validated
        return timedelta(**{_EVERY_UNIT[found.group(2)]: int(found.group(1))})


class FolderSource(_SourceBase):
    """A drop folder (``kind = "folder"``): files put in ``path`` are ingested, then moved to ``done/``
    there, or to ``failed/`` with a reason file beside them when unreadable."""

    kind: Literal["folder"]
    path: Annotated[str, Field(min_length=1)]


def _web_address(key: str, value: str) -> str:
    """``value`` as an http(s) address; ``ValueError`` naming ``key`` otherwise."""
    from urllib.parse import urlsplit

    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{key} = {value!r} is not an http(s) address")
    return value.strip()


class DownloadSource(_SourceBase):
    """What every source that downloads has: its timeouts, retries and size cap (``collect/http.py``)."""

    timeout_seconds: Annotated[float, Field(gt=0, le=3600)] = 60.0
    retries: Annotated[int, Field(ge=0, le=10)] = 3
    retry_seconds: Annotated[float, Field(ge=0, le=600)] = 5.0
    max_mb: Annotated[int, Field(ge=1, le=100_000)] = 500


class HttpSource(DownloadSource):
    """A feed downloaded from ``url`` (``kind = "http"``): asked with the ``ETag`` and ``Last-Modified``
    of the last download, so an unchanged feed is not fetched again; ``headers_env`` names the
    environment variables whose values are sent as headers (an API key never sits in the file)."""

    kind: Literal["http"]
    url: str
    headers_env: dict[str, str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _web_address("url", value)


_VARIABLE = r"^[A-Za-z_][A-Za-z0-9_]*$"


class ShadowserverApiSource(DownloadSource):
    """Shadowserver's reports API (``kind = "shadowserver-api"``, ``collect/shadowserver_api.py``): the
    reports of the last ``days`` days listed, each one not taken yet downloaded and ingested.  The API
    key and secret are read from the files ``apikey_file``/``secret_file`` (inside the workspace when
    relative) or else from the variables ``apikey_env``/``secret_env``, never from this file.
    ``reports`` (mailing-list names) and ``types`` (report types, ``scan_http``) narrow what is taken;
    a report that fails to ingest is tried again on the next runs, ``max_attempts`` times in all."""

    kind: Literal["shadowserver-api"]
    apikey_env: Annotated[str, Field(pattern=_VARIABLE)] = "SHADOWSERVER_API_KEY"
    apikey_file: str = ""
    secret_env: Annotated[str, Field(pattern=_VARIABLE)] = "SHADOWSERVER_API_SECRET"
    secret_file: str = ""
    reports: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(default_factory=list)
    types: list[Annotated[str, Field(pattern=r"^[a-z0-9_]{1,100}$")]] = Field(default_factory=list)
    days: Annotated[int, Field(ge=0, le=90)] = 2
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 3
    api_url: str = "https://transform.shadowserver.org/api2/"
    download_url: str = "https://dl.shadowserver.org/"

    @field_validator("api_url", "download_url")
    @classmethod
    def _urls(cls, value: str, info: ValidationInfo) -> str:
        return _web_address(str(info.field_name), value)


# How a connection to a mail server is secured: TLS from the first byte, upgraded by STARTTLS, or none.
Security = Literal["none", "starttls", "ssl"]
# The port an IMAP server serves each way of securing the connection on (a source's ``port = 0``).
IMAP_PORTS: dict[str, int] = {"ssl": 993, "starttls": 143, "none": 143}
# What a mailbox does with a message once its data is committed (``then``).
MailboxThen = Literal["seen", "move", "delete"]


def is_loopback(host: str) -> bool:
    """``host`` is this machine (``localhost``, ``127.0.0.0/8``, ``::1``): a password sent to it in
    clear does not cross the network."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class MailboxSource(_SourceBase):
    """A mailbox on an IMAP server that a source reads (the reusable part of ``kind = "imap"``): how to
    reach and log in to it, which unseen messages are its own (``from_pattern``, ``subject_pattern``:
    regular expressions searched in the ``From`` and ``Subject`` headers, case-insensitively), and
    what is done with a message once taken (``then``).  The password is read from the file
    ``password_file`` or the variable ``password_env``, never from this file."""

    host: Annotated[str, Field(min_length=1)]
    port: Annotated[int, Field(ge=0, le=65535)] = 0
    security: Security = "ssl"
    ca_file: str = ""
    user: Annotated[str, Field(min_length=1)]
    password_env: str = ""
    password_file: str = ""
    folder: Annotated[str, Field(min_length=1)] = "INBOX"
    from_pattern: str = ""
    subject_pattern: str = ""
    then: MailboxThen = "seen"
    move_to: str = ""
    max_mb: Annotated[int, Field(ge=1, le=2000)] = 100
    timeout_seconds: Annotated[float, Field(gt=0, le=3600)] = 60.0

    @field_validator("from_pattern", "subject_pattern")
    @classmethod
    def _regex(cls, value: str, info: ValidationInfo) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"{info.field_name} = {value!r} is not a regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> MailboxSource:
        if bool(self.password_env) == bool(self.password_file):
            raise ValueError("set one of password_env (the environment variable holding the password) or password_file")
        if self.then == "move" and not self.move_to:
            raise ValueError('then = "move" needs move_to, the folder taken messages are moved to')
        if self.move_to and self.then != "move":
            raise ValueError(f'move_to = {self.move_to!r} is set but then = "{self.then}" (use then = "move")')
        if self.security == "none" and not is_loopback(self.host):
            raise ValueError(
                f'security = "none" would send the password to {self.host} in clear: it is allowed only to '
                'this machine (localhost, 127.0.0.1, ::1); use "ssl" or "starttls"'
            )
        if self.port == 0:
            self.port = IMAP_PORTS[self.security]
        return self


# The attachments an ``imap`` source takes by default: the files feeds are delivered as.
MAIL_ATTACHMENTS = (".csv", ".tsv", ".txt", ".json", ".jsonl", ".xml", ".gz", ".zip")


class ImapSource(MailboxSource):
    """Feeds mailed as attachments (``kind = "imap"``): the attachments whose names end with one of
    ``attachments`` of the unseen messages of a mailbox are ingested, then the message is marked."""

    kind: Literal["imap"]
    attachments: list[str] = Field(default_factory=lambda: list(MAIL_ATTACHMENTS))

    @field_validator("attachments")
    @classmethod
    def _suffixes(cls, values: list[str]) -> list[str]:
        suffixes = [v.strip().lower() for v in values]
        bad = [v for v in suffixes if not re.fullmatch(r"\.[a-z0-9][a-z0-9.]{0,15}", v)]
        if bad or not suffixes:
            shown = repr(bad[0]) if bad else "an empty list"
            raise ValueError(f'attachments: {shown} is not a file name ending such as ".csv" or ".zip"')
        return suffixes


class ComplaintsSource(MailboxSource):
    """An abuse mailbox (``kind = "complaints"``, ``collect/complaints.py``): each unseen message that
    matches the patterns is taken as a complaint (``[incidents.complaints]``: a proposed incident, or a
    note on the open incident it names), then marked."""

    kind: Literal["complaints"]


Source = Annotated[
    FolderSource | HttpSource | ImapSource | ComplaintsSource | ShadowserverApiSource, Field(discriminator="kind")
]


# --- Distribution (``sitrep send``): mailing a published issue to its readers --------------------
# The port each way of securing the connection is served on when ``[distribution] port`` is 0.
STANDARD_PORTS: dict[str, int] = {"none": 25, "starttls": 587, "ssl": 465}
_ADDRESS = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+\.[^@\s<>(),;:\"\[\]]+$")


def check_address(value: str) -> str:
    """``value`` as a bare e-mail address (``name@example.org``); ``ValueError`` naming it otherwise."""
    address = value.strip()
    if not _ADDRESS.match(address):
        raise ValueError(f"{value!r} is not an e-mail address (write it bare: name@example.org)")
    return address


class Distribution(_Section):
    """``sitrep send``: who gets the published issue, from whom, through which relay.

    The relay keys apply when ``host`` is set; with ``host`` empty the issue goes through ``[smtp]``
    (the relay of partner notifications).  The password is read from the variable ``password_env``
    names, never from this file.
    """

    host: str = ""
    port: Annotated[int, Field(ge=0, le=65535)] = 0
    security: Security = "starttls"
    username: str = ""
    password_env: str = "SITREP_DISTRIBUTION_PASSWORD"
    ca_file: str = ""
    timeout: Annotated[float, Field(gt=0)] = 30.0
    sender: str = ""
    sender_name: str = ""
    to: str = ""
    list_unsubscribe: str = ""
    max_recipients: Annotated[int, Field(ge=1, le=10_000)] = 50
    # Language of the edition (zh, en) → its readers' addresses.
    recipients: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("sender", "to")
    @classmethod
    def _address(cls, value: str) -> str:
        return check_address(value) if value else value

    @field_validator("recipients")
    @classmethod
    def _addresses(cls, values: dict[str, list[str]]) -> dict[str, list[str]]:
        checked = {}
        for lang, addresses in values.items():
            if lang not in ("zh", "en"):
                raise ValueError(f"{lang!r} is not a language of the report (use zh or en)")
            # One copy per reader: the same address written twice (in any case) is kept once.
            unique: dict[str, str] = {}
            for address in addresses:
                unique.setdefault(check_address(address).lower(), check_address(address))
            checked[lang] = list(unique.values())
        return checked


class Settings(_Section):
    """The whole ``sitrep.toml``.  Sections other issues add (``rating``, ``smtp``…) live beside these."""

    model_config = ConfigDict(extra="allow")

    organisation: Organisation = Field(default_factory=Organisation)
    enrichment: Enrichment = Field(default_factory=Enrichment)
    storage: Storage = Field(default_factory=Storage)
    ingest: Ingest = Field(default_factory=Ingest)
    query: Query = Field(default_factory=Query)
    feeds: Feeds = Field(default_factory=Feeds)
    smtp: Smtp = Field(default_factory=Smtp)
    incidents: IncidentRules = Field(default_factory=IncidentRules)
    rating: Rating = Field(default_factory=Rating)
    report: Report = Field(default_factory=Report)
    public: PublicData = Field(default_factory=PublicData)
    explorer: Explorer = Field(default_factory=Explorer)
    jobs: Jobs = Field(default_factory=Jobs)
    distribution: Distribution = Field(default_factory=Distribution)
    sources: list[Source] = Field(default_factory=list)

    @field_validator("sources")
    @classmethod
    def _distinct_sources(cls, sources: list[Source]) -> list[Source]:
        names = [s.name for s in sources]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"two sources are named {repeated[0]!r}: each [[sources]] needs a name of its own")
        return sources


@dataclass(frozen=True)
class Workspace:
    """A workspace folder and its validated settings."""

    root: Path
    settings: Settings

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def lake_dir(self) -> Path:
        """The lake's folder; for a lake on object storage, the local folder of its work files."""
        if self.lake_url:
            return self.root / ".lake-work"
        return self.root / self.settings.storage.lake

    @property
    def lake_url(self) -> str | None:
        """The ``s3://bucket/prefix`` of a lake on object storage, or None for a local lake."""
        lake = self.settings.storage.lake
        return lake.rstrip("/") if lake.startswith("s3://") else None

    @property
    def reports_dir(self) -> Path:
        return self.root / self.settings.storage.reports

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL; a relative SQLite path is resolved inside the workspace."""
        url = self.settings.storage.database_url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            return prefix + str(self.root / url[len(prefix) :])
        return url

    @property
    def shadowserver_schema(self) -> Path | None:
        """The Shadowserver schema file ``[feeds] shadowserver_schema`` names (inside the workspace when
        relative), or None for the built-in table."""
        name = self.settings.feeds.shadowserver_schema
        return (self.root / Path(name).expanduser()) if name else None

    @property
    def timezone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.settings.organisation.timezone)


def with_engine(workspace: Workspace, engine: str | None) -> Workspace:
    """``workspace`` with its queries on ``engine`` (one of :data:`QUERY_ENGINES`) instead of the
    configured ``[query] engine``; ``None`` keeps the configured one."""
    if engine is None or engine == workspace.settings.query.engine:
        return workspace
    if engine not in QUERY_ENGINES:
        raise ConfigError(f"unknown query engine {engine!r}: the engines are {', '.join(QUERY_ENGINES)}")
    query = workspace.settings.query.model_copy(update={"engine": engine})
    return dataclasses.replace(workspace, settings=workspace.settings.model_copy(update={"query": query}))


def settings_key(workspace: Workspace) -> str:
    """The workspace's settings as one string: part of the key of every result kept across requests
    (:mod:`sitrep.memo`), since they change what is counted and how it is worded."""
    return workspace.settings.model_dump_json()


def _format_error(path: Path, exc: ValidationError) -> str:
    lines = [f"{path}: invalid configuration"]
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key (see docs/configuration.md)"
        lines.append(f"  {key}: {message}")
    return "\n".join(lines)


def parse_settings(data: dict[str, Any], path: Path) -> Settings:
    """Validate a parsed ``sitrep.toml``; raise :class:`ConfigError` naming each bad key."""
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(path, exc)) from None


def resolve_home(home: str | os.PathLike[str] | None = None) -> Path:
    """The workspace folder: ``home`` if given, else ``$SITREP_HOME``, else the current folder."""
    chosen = home or os.environ.get(HOME_ENV) or os.getcwd()
    return Path(chosen).expanduser().resolve()


def load_workspace(home: str | os.PathLike[str] | None = None) -> Workspace:
    """Open an existing workspace; raise :class:`ConfigError` when there is none or it is invalid."""
    root = resolve_home(home)
    path = root / CONFIG_NAME
    if not path.is_file():
        raise ConfigError(
            f"no workspace at {root} ({CONFIG_NAME} not found); run 'sitrep init {root}' "
            f"or pass --home / set {HOME_ENV}"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return Workspace(root, parse_settings(data, path))


def default_config_text() -> str:
    """The ``sitrep.toml`` written by ``sitrep init``: every default, with a pointer to the docs."""
    header = (
        "# Sitrep workspace configuration. Every key is documented in docs/configuration.md.\n"
        "# Remove a key to fall back to its default.\n\n"
    )
    # No ``sources = []``: a ``[[sources]]`` table added below would then be a TOML error.
    defaults = Settings().model_dump(mode="json", exclude={"sources"})
    sources = (
        "\n# Feeds that arrive by themselves (sitrep collect; docs/collection.md), one table each:\n"
        '# [[sources]]\n# name = "partners"\n# kind = "folder"\n# path = "drop"\n# every = "1h"\n'
    )
    return header + tomli_w.dumps(defaults) + sources
