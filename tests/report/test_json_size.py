"""The public JSON of a demo-sized week stays under 1 MB and still carries every number and the IDs
behind each indicator (restricted events counted, with a keyed digest of their set)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

from sitrep.config import Settings
from sitrep.report.compose import compose
from sitrep.report.redact import restricted_id
from sitrep.report.render.json import render_json

MB = 1_000_000


def _ids(prefix: str, n: int) -> tuple[str, ...]:
    # Lake event IDs are 16-hex content hashes.
    return tuple(hashlib.blake2b(f"{prefix}{i}".encode(), digest_size=8).hexdigest() for i in range(n))


def _demo_sized(facts):
    """The shared week's facts with the evidence of the demo's week 2026-W48: 56,578 TLP:AMBER events
    behind the infected hosts, hundreds behind the website numbers, 1,772 public ones."""
    restricted = {"infected_hosts": 56_578, "defaced_sites": 391, "backdoored_sites": 224}
    public = {"phishing_pages": 878, "new_vulnerabilities": 576, "malware_hosting": 318}
    evidence = dict(facts.evidence)
    for key, n in {**restricted, **public}.items():
        evidence[key] = _ids(key, n)
    evidence["new_high_vulnerabilities"] = evidence["new_vulnerabilities"][:206]
    shown = sorted({i for key in public for i in evidence[key]})
    return replace(facts, evidence=evidence, public_events=tuple(shown))


def test_a_demo_sized_week_is_under_1_mb_with_every_number_and_the_ids_behind_it(facts, secret):
    big = _demo_sized(facts)
    for lang in ("zh", "en"):
        text = render_json(compose(big, Settings(), lang, previous=[], secret=secret))
        assert len(text.encode("utf-8")) < MB, f"{lang}: {len(text.encode()) / MB:.2f} MB"
        data = json.loads(text)
        public = set(big.public_events)
        for key, item in big.metrics.indicators.items():
            shown = data["indicators"][key]
            assert (shown["value"], shown["previous"], shown["change_pct"]) == (
                item.value,
                item.previous,
                item.change_pct,
            )
        for key, behind in big.evidence.items():
            entry = data["evidence"][key]
            hidden = sorted(i for i in behind if i not in public)
            assert entry["events"] == sorted(i for i in behind if i in public), key
            assert entry["restricted_events"]["count"] == len(hidden), key
            expected = restricted_id(secret, "events", "\n".join(hidden)) if hidden else None
            assert entry["restricted_events"]["digest"] == expected, key
        assert len(data["evidence"]["phishing_pages"]["events"]) == 878
        assert data["evidence"]["infected_hosts"]["restricted_events"]["count"] == 56_578
        # No restricted event ID, not even as an opaque per-event ID, is in the public JSON.
        assert big.evidence["infected_hosts"][0] not in text
        assert restricted_id(secret, "event", big.evidence["infected_hosts"][0]) not in text
