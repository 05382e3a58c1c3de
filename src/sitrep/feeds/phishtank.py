"""PhishTank ``online-valid.json``: a JSON array of verified, online phishing URLs.

The layout is PhishTank's developer page (https://www.phishtank.com/developer_info.php): ``phish_id``
(a positive integer), ``url``, ``phish_detail_url``, ``submission_time`` and ``verification_time``
(ISO 8601), ``verified`` and ``online`` (always ``yes`` in this file), ``target`` and ``details``, a list
of resolutions (``ip_address``, ``cidr_block``, ``announcing_network``, ``rir``, ``country``,
``detail_time``).  Each object is RSIT ``fraud/phishing``: ``url``, ``submission_time`` (time.source),
``verification_time`` (time.observation) and the imitated ``target`` (``Other`` means unknown); the
hosting IP, AS and country come from the first ``details`` entry (the current resolution).
"""

from __future__ import annotations

import re

from sitrep.feeds.base import Feed, JsonRecords, Sample
from sitrep.feeds.sql import (
    asn,
    bad_ip,
    bad_time,
    classified,
    country,
    extra,
    field,
    ip,
    missing,
    path,
    ts,
)
from sitrep.taxonomy import PHISHING

_HEAD = re.compile(r'^\s*\[\s*\{\s*"phish_id"')


def _recognise(sample: Sample) -> bool:
    return _HEAD.match(sample.text) is not None and '"phish_detail_url"' in sample.text


_URL = field("url")
_IP = path("$.details[0].ip_address")
_OWN = extra("phish_id", "phish_detail_url", "online", reader_json=True)

FEED = Feed(
    name="phishtank",
    provider="PhishTank",
    summary="PhishTank online-valid.json: verified phishing URLs with target and hosting IP.",
    reader=JsonRecords("$[*]"),
    recognise=_recognise,
    fields={
        "time_source": ts(field("submission_time")),
        "time_observation": ts(field("verification_time")),
        **classified(PHISHING),
        "source_url": _URL,
        "source_ip": ip(_IP),
        "source_asn": asn(path("$.details[0].announcing_network")),
        "source_geolocation_cc": country(path("$.details[0].country")),
        "event_description_target": (f"CASE WHEN lower({field('target')}) <> 'other' THEN {field('target')} END"),
        "extra": (
            # PhishTank's own fields plus the network the IP sits in.
            f"nullif(CAST(json_merge_patch(coalesce({_OWN}, '{{}}'), json_object("
            f"'cidr_block', {path('$.details[0].cidr_block')}, 'rir', {path('$.details[0].rir')}, "
            f"'detail_time', {path('$.details[0].detail_time')})) AS VARCHAR), '{{}}')"
        ),
    },
    checks=(
        (bad_time(field("submission_time")), "submission_time is missing or not a date-time"),
        (missing(_URL), "url is empty"),
        (f"NOT regexp_matches({_URL}, '^(?i)https?://[^/\\s]+')", "url is not an http(s) URL"),
        (f"lower({field('verified')}) IS DISTINCT FROM 'yes'", "not verified as a phish"),
        (bad_ip(_IP), "details[0].ip_address is not an IP address"),
    ),
    priority=60,
)
