"""The typed facts of an issue and their JSON form (the structure a published issue freezes)."""

from __future__ import annotations

import json

import pytest

from sitrep.report.facts import gather
from sitrep.report.facts_model import INCIDENT_NUMBERS, Facts
from sitrep.results import ResultError

from .data import WEEK


@pytest.fixture(scope="module")
def typed(built) -> Facts:
    return gather(built, WEEK)


def test_the_json_form_reads_back_to_the_same_facts(typed):
    stored = json.loads(json.dumps(typed.as_dict(), ensure_ascii=False))
    assert Facts.from_dict(stored) == typed
    assert list(stored) == [
        "schema",
        "week",
        "start",
        "end",
        "computed_at",
        "metrics",
        "evidence",
        "series",
        "history_start",
        "public_families",
        "public_events",
        "incidents",
        "rating",
        "public_regions",
        "sectors",
        "public_sectors",
        "vulnerability_list",
    ]


def test_incident_numbers_are_stored_apart_from_their_refs_as_issues_always_were(typed):
    stored = typed.as_dict()["incidents"]
    assert list(stored) == [
        "numbers",
        "partner_types",
        "by_category",
        "by_partner_type",
        "evidence",
        "major_infrastructure",
        "tlp",
        "partner_response",
    ]
    assert list(stored["numbers"]) == list(INCIDENT_NUMBERS)
    for key in INCIDENT_NUMBERS:
        counted = getattr(typed.incidents, key)
        assert stored["numbers"][key] == counted.value
        assert stored["evidence"][key] == list(counted.refs)
    assert typed.incidents.handled.value == len(typed.incidents.handled.refs) > 0


def test_series_weeks_keep_their_flat_form(typed):
    last = typed.as_dict()["series"][-1]
    assert last["week"] == str(WEEK)
    assert last["infected_hosts"] == typed.metrics.indicators["infected_hosts"].value


def test_an_issue_frozen_before_public_events_were_recorded_still_reads(typed):
    stored = typed.as_dict()
    del stored["public_events"]
    assert Facts.from_dict(stored).public_events == ()


def test_a_renamed_or_missing_field_is_refused_with_its_path(typed):
    stored = typed.as_dict()
    stored["incidents"]["numbers"]["handled_total"] = stored["incidents"]["numbers"].pop("handled")
    with pytest.raises(ResultError, match=r"incidents\.handled"):
        Facts.from_dict(stored)
    stored = typed.as_dict()
    stored["metrics"]["indicators"]["infected_hosts"]["value"] = "many"
    with pytest.raises(ResultError, match=r"metrics\.indicators\.infected_hosts\.value"):
        Facts.from_dict(stored)


def test_ratios_frozen_before_their_status_was_recorded_get_the_status_their_numbers_imply(typed):
    stored = typed.as_dict()
    ratios = stored["rating"]["ratios"]
    ratios[0].update(ratio=1.25, baseline=8.0)
    ratios[1].update(ratio=None, baseline=0.0)
    ratios[2].update(ratio=None, baseline=None)
    for r in ratios:
        del r["status"]
    read = Facts.from_dict(stored).rating.ratios
    assert [r.status for r in read[:3]] == ["rated", "new", "no_baseline"]
