"""PhishTank ``online-valid.json`` and ``online-valid.csv``: the verified, online phishing URLs.

The JSON layout is PhishTank's developer page (https://www.phishtank.com/developer_info.php): ``phish_id``
(a positive integer), ``url``, ``phish_detail_url``, ``submission_time`` and ``verification_time``
(ISO 8601), ``verified`` and ``online`` (always ``yes`` in this file), ``target`` and ``details``, a list
of resolutions (``ip_address``, ``cidr_block``, ``announcing_network``, ``rir``, ``country``,
``detail_time``).  Each object is RSIT ``fraud/phishing``: ``url``, ``submission_time`` (time.source),
``verification_time`` (time.observation) and the imitated ``target`` (``Other`` means unknown); the
hosting IP, AS and country come from the first ``details`` entry (the current resolution).

The CSV PhishTank publishes beside it carries the same records without ``details``, one per line under
the header ``phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target``
(quoted where a URL holds a comma): the same fields, without the hosting IP.
"""

from __future__ import annotations

import re

from sitrep.feeds.base import Csv, Feed, JsonRecords, Sample
from sitrep.feeds.sql import (
    asn,
    bad_ip,
    bad_time,
    classified,
    col,
    country,
    extra,
    field,
    ip,
    missing,
    path,
    text,
    ts,
)
from sitrep.taxonomy import PHISHING

_HEAD = re.compile(r'^\s*\[\s*\{\s*"phish_id"')


def _recognise(sample: Sample) -> bool:
    return _HEAD.match(sample.text) is not None and '"phish_detail_url"' in sample.text


_CSV_COLUMNS = (
    "phish_id",
    "url",
    "phish_detail_url",
    "submission_time",
    "verified",
    "verification_time",
    "online",
    "target",
)


def _recognise_csv(sample: Sample) -> bool:
    return sample.csv_header()[:4] == ["phish_id", "url", "phish_detail_url", "submission_time"]


def _target(value: str) -> str:
    """The imitated brand; PhishTank's ``Other`` means it is not known."""
    return f"CASE WHEN lower({value}) <> 'other' THEN {value} END"


def _checks(time: str, url: str, verified: str) -> tuple[tuple[str, str], ...]:
    return (
        (bad_time(time), "submission_time is missing or not a date-time"),
        (missing(url), "url is empty"),
        (f"NOT regexp_matches({url}, '^(?i)https?://[^/\\s]+')", "url is not an http(s) URL"),
        (f"lower({verified}) IS DISTINCT FROM 'yes'", "not verified as a phish"),
    )


_URL = field("url")
_IP = path("$.details[0].ip_address")
_OWN = extra("phish_id", "phish_detail_url", "online", reader_json=True)

JSON = Feed(
    name="phishtank",
    provider="PhishTank",
    summary="PhishTank online-valid.json: verified phishing URLs with target and hosting IP.",
    reader=JsonRecords(
        "$[*]", layout="json_type(json) = 'ARRAY'", not_layout="not PhishTank's JSON: the document is not an array"
    ),
    recognise=_recognise,
    fields={
        "time_source": ts(field("submission_time")),
        "time_observation": ts(field("verification_time")),
        **classified(PHISHING),
        "source_url": _URL,
        "source_ip": ip(_IP),
        "source_asn": asn(path("$.details[0].announcing_network")),
        "source_geolocation_cc": country(path("$.details[0].country")),
        "event_description_target": _target(field("target")),
        "extra": (
            # PhishTank's own fields plus the network the IP sits in.
            f"nullif(CAST(json_merge_patch(coalesce({_OWN}, '{{}}'), json_object("
            f"'cidr_block', {path('$.details[0].cidr_block')}, 'rir', {path('$.details[0].rir')}, "
            f"'detail_time', {path('$.details[0].detail_time')})) AS VARCHAR), '{{}}')"
        ),
    },
    checks=(
        *_checks(field("submission_time"), _URL, field("verified")),
        (bad_ip(_IP), "details[0].ip_address is not an IP address"),
    ),
    priority=60,
)

_CSV_URL = text(col("url"))

CSV = Feed(
    name="phishtank-csv",
    provider="PhishTank",
    summary="PhishTank online-valid.csv: verified phishing URLs with target (no hosting IP).",
    reader=Csv(),
    recognise=_recognise_csv,
    columns=_CSV_COLUMNS,
    required=("url", "submission_time"),
    fields={
        "time_source": ts(col("submission_time")),
        "time_observation": ts(col("verification_time")),
        **classified(PHISHING),
        "source_url": _CSV_URL,
        "event_description_target": _target(text(col("target"))),
        "extra": extra("phish_id", "phish_detail_url", "online"),
    },
    checks=_checks(col("submission_time"), _CSV_URL, col("verified")),
    priority=60,
)

FEEDS = (JSON, CSV)
