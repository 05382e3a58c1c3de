"""The API's coordination requests, notes and bulk changes under a real Uvicorn server, in a workspace
of their own: roles, tokens, versions of a request (ETag/If-Match), overdue pages, per-ref outcomes
of bulk changes and refused input as problems naming the value."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from sitrep.accounts import service as accounts
from sitrep.incidents import service
from sitrep.incidents.db import open_store
from sitrep.incidents.desk import Desk
from sitrep.incidents.models import utcnow
from sitrep.web.api import create_api
from sitrep.workspace import init_workspace

from .conftest import HOSTILE, PASSWORD, ROLES
from .serving import serve

PROBLEM = "application/problem+json"
CLOUD = f"云{HOSTILE}"  # a partner name with markup and a slash, as a path segment too
REGISTRAR = "CN Registrar"
RETIRED = "Retired Host"


@dataclass(frozen=True)
class Api:
    url: str
    desk: Desk
    tokens: dict[str, str]

    def as_(self, role: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    ws = init_workspace(Path(tmp_path_factory.mktemp("api-requests")) / "ws")
    store = open_store(ws)
    for role in ROLES:
        accounts.add_user(store, role, role, PASSWORD)
    tokens = {role: accounts.issue_token(store, role).token for role in ROLES}
    desk = Desk.open(ws)
    service.add_partner(desk, CLOUD, "cloud", actor="test", country="US")
    service.add_partner(desk, REGISTRAR, "registrar", actor="test", country="CN")
    service.add_partner(desk, RETIRED, "hosting", actor="test")
    service.remove_partner(desk, RETIRED, actor="test", deactivate=True)
    with serve(create_api(ws)) as url:
        yield Api(url, desk, tokens)


def _incident(api: Api, title: str, *, hours_ago: int = 72) -> str:
    reported = (utcnow() - timedelta(hours=hours_ago)).isoformat()
    answer = api.as_("analyst").post(
        "/incidents", json={"title": title, "category": "phishing", "reported_at": reported}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["ref"]


def _problem(answer: httpx.Response, status: int, *named: str) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body = answer.json()
    assert body["status"] == status
    for value in named:
        assert value in body["detail"], body
    return body


def test_opening_a_request_sets_its_due_date_by_the_sla_and_notes_it(api):
    ref = _incident(api, "open a request")
    analyst = api.as_("analyst")
    sent = (utcnow() - timedelta(hours=2)).replace(microsecond=0)
    opened = analyst.post(
        f"/incidents/{ref}/requests", json={"partner": CLOUD, "sent": sent.isoformat(), "note": "已发邮件\n第二行"}
    )
    assert opened.status_code == 201, opened.text
    request = opened.json()
    assert request["partner"] == CLOUD and request["partner_type"] == "cloud"
    due = datetime.fromisoformat(request["due_at"])
    assert due == sent + timedelta(hours=api.desk.sla.hours["cloud"])
    assert opened.headers["etag"] == f'"{request["version"]}"'
    # Location names the request, the partner's markup and slash escaped in the path.
    assert opened.headers["location"].endswith(f"/incidents/{ref}/requests/{quote(CLOUD, safe='')}")
    again = api.as_("viewer").get(opened.headers["location"])
    assert again.status_code == 200 and again.json() == request
    notes = api.as_("viewer").get(f"/incidents/{ref}/notes").json()
    assert [(n["author"], n["text"]) for n in notes] == [("analyst", "已发邮件\n第二行")]
    detail = api.as_("viewer").get(f"/incidents/{ref}").json()
    assert detail["cross_border"] is True  # the partner is abroad
    assert [r["partner"] for r in api.as_("viewer").get(f"/incidents/{ref}/requests").json()] == [CLOUD]
    # Unsent, a request has no due date until one is given.
    plain = analyst.post(f"/incidents/{ref}/requests", json={"partner": REGISTRAR})
    assert plain.status_code == 201 and plain.json()["due_at"] is None and plain.json()["sent_at"] is None


def test_a_second_request_to_a_partner_or_a_bad_one_is_refused(api):
    ref = _incident(api, "refused requests")
    analyst = api.as_("analyst")
    assert analyst.post(f"/incidents/{ref}/requests", json={"partner": REGISTRAR}).status_code == 201
    _problem(analyst.post(f"/incidents/{ref}/requests", json={"partner": REGISTRAR}), 409, REGISTRAR)
    _problem(analyst.post(f"/incidents/{ref}/requests", json={"partner": "No Such Partner"}), 404, "No Such Partner")
    _problem(analyst.post(f"/incidents/{ref}/requests", json={"partner": RETIRED}), 409, RETIRED)
    _problem(analyst.post("/incidents/NO-SUCH/requests", json={"partner": REGISTRAR}), 404, "NO-SUCH")
    _problem(
        analyst.post(f"/incidents/{ref}/requests", json={"partner": CLOUD, "sent": "last tuesday"}), 400, "last tuesday"
    )
    _problem(analyst.post(f"/incidents/{ref}/requests", json={"partner": CLOUD, "colour": "red"}), 422, "colour")
    _problem(analyst.post(f"/incidents/{ref}/requests", json={"partner": "x" * 201}), 422, "partner")
    _problem(analyst.post(f"/incidents/{ref}/requests", json={"partner": CLOUD, "note": "a\x00b"}), 400, "U+0000")
    # Nothing of the refused ones was kept.
    assert [r["partner"] for r in analyst.get(f"/incidents/{ref}/requests").json()] == [REGISTRAR]
    _problem(analyst.get(f"/incidents/{ref}/requests/{quote(CLOUD, safe='')}"), 404, CLOUD)


def test_roles_and_tokens_decide_who_may_write(api):
    ref = _incident(api, "roles")
    viewer, nobody = api.as_("viewer"), api.as_(None)
    writes = [
        ("post", f"/incidents/{ref}/requests", {"partner": REGISTRAR}),
        ("patch", f"/incidents/{ref}/requests/{quote(REGISTRAR)}", {"acknowledged": "now"}),
        ("post", f"/incidents/{ref}/notes", {"text": "viewer's note"}),
        ("post", "/incidents/bulk/resolve", {"refs": [ref], "status": "rejected"}),
        ("post", "/incidents/bulk/assign", {"refs": [ref], "owner": "viewer"}),
    ]
    for method, path, body in writes:
        _problem(getattr(viewer, method)(path, json=body, headers={"If-Match": "*"}), 403, "viewer")
        assert getattr(nobody, method)(path, json=body).status_code == 401
    for path in (f"/incidents/{ref}/requests", f"/incidents/{ref}/notes", "/requests/overdue"):
        assert viewer.get(path).status_code == 200
        refused = nobody.get(path)
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
    detail = viewer.get(f"/incidents/{ref}").json()
    assert detail["status"] == "new" and detail["owner"] is None and detail["notes"] == detail["requests"] == []


def test_a_request_changes_against_its_own_version(api):
    ref = _incident(api, "request versions")
    analyst, publisher = api.as_("analyst"), api.as_("publisher")
    path = f"/incidents/{ref}/requests/{quote(CLOUD, safe='')}"
    opened = analyst.post(f"/incidents/{ref}/requests", json={"partner": CLOUD, "sent": "now"})
    etag = opened.headers["etag"]
    _problem(analyst.patch(path, json={"acknowledged": "now"}), 428, "If-Match")
    # A note and another partner's request move the incident's version, not this request's.
    assert analyst.post(f"/incidents/{ref}/notes", json={"text": "called them"}).status_code == 201
    assert analyst.post(f"/incidents/{ref}/requests", json={"partner": REGISTRAR}).status_code == 201
    assert analyst.get(path).headers["etag"] == etag
    acknowledged = analyst.patch(path, json={"acknowledged": "now"}, headers={"If-Match": etag})
    assert acknowledged.status_code == 200, acknowledged.text
    assert acknowledged.json()["acknowledged_at"] is not None
    assert acknowledged.headers["etag"] != etag
    # The second writer, still at the first version, is refused, and nothing of its change kept.
    stale = publisher.patch(path, json={"outcome": "refused"}, headers={"If-Match": etag})
    _problem(stale, 412, ref, CLOUD)
    assert analyst.get(path).json()["outcome"] is None
    done = publisher.patch(
        path, json={"actioned": "now", "outcome": "taken-down"}, headers={"If-Match": acknowledged.headers["etag"]}
    )
    assert done.status_code == 200 and done.json()["outcome"] == "taken-down"
    trail = [(e["actor"], e["field"]) for e in analyst.get(f"/incidents/{ref}").json()["audit"]]
    assert ("analyst", "request.acknowledged_at") in trail and ("publisher", "request.outcome") in trail
    # If-Match: * changes whatever is stored; bad values are refused naming them.
    star = analyst.patch(path, json={"verified": "now"}, headers={"If-Match": "*"})
    assert star.status_code == 200 and star.json()["verified_at"] is not None
    _problem(analyst.patch(path, json={"outcome": "vanished"}, headers={"If-Match": "*"}), 422, "outcome")
    _problem(analyst.patch(path, json={"due": "2025-13-45"}, headers={"If-Match": "*"}), 400, "2025-13-45")
    early = (utcnow() - timedelta(days=30)).isoformat()
    _problem(
        analyst.patch(path, json={"sent": early}, headers={"If-Match": "*"}), 409, "before the incident was reported"
    )
    _problem(analyst.patch(f"/incidents/{ref}/requests/Nobody", json={}, headers={"If-Match": "*"}), 404, "Nobody")


def test_overdue_requests_come_in_cursor_pages_longest_overdue_first(api):
    analyst = api.as_("analyst")
    for hours in (30, 10, 20):
        ref = _incident(api, f"overdue {hours}h", hours_ago=100)
        sent = utcnow() - timedelta(hours=hours + 1)
        due = sent + timedelta(hours=1)
        body = {"partner": REGISTRAR, "sent": sent.isoformat(), "due": due.isoformat()}
        assert analyst.post(f"/incidents/{ref}/requests", json=body).status_code == 201
    expected = service.overdue_requests(api.desk)
    assert len(expected) >= 3
    seen, url = [], "/requests/overdue?limit=1"
    while url:
        page = api.as_("viewer").get(url)
        assert page.status_code == 200, page.text
        assert len(page.json()["items"]) <= 1
        seen += page.json()["items"]
        url = page.json()["next"]
    assert [(r["ref"], r["partner"]) for r in seen] == [(r["ref"], r["partner"]) for r in expected]
    hours = [r["hours_overdue"] for r in seen]
    assert hours == sorted(hours, reverse=True)
    only = api.as_("viewer").get("/requests/overdue", params={"partner": CLOUD}).json()["items"]
    assert all(r["partner"] == CLOUD for r in only)
    _problem(api.as_("viewer").get("/requests/overdue", params={"partner": "Nobody"}), 404, "Nobody")
    _problem(api.as_("viewer").get("/requests/overdue", params={"cursor": "99999999999999999999999"}), 400, "cursor")
    _problem(api.as_("viewer").get("/requests/overdue", params={"limit": 0}), 422, "limit")


def test_notes_are_the_callers_and_refuse_bad_text(api):
    ref = _incident(api, "notes")
    analyst = api.as_("analyst")
    added = analyst.post(f"/incidents/{ref}/notes", json={"text": f"partner said {HOSTILE}\n\tdone"})
    assert added.status_code == 201, added.text
    assert added.json()["author"] == "analyst" and added.json()["text"] == f"partner said {HOSTILE}\n\tdone"
    back = (utcnow() - timedelta(hours=1)).replace(microsecond=0)
    dated = analyst.post(f"/incidents/{ref}/notes", json={"text": "back-dated", "at": back.isoformat()})
    assert dated.status_code == 201 and datetime.fromisoformat(dated.json()["at"]) == back
    _problem(analyst.post(f"/incidents/{ref}/notes", json={"text": ""}), 422, "text")
    _problem(analyst.post(f"/incidents/{ref}/notes", json={"text": "   "}), 400, "note")
    _problem(analyst.post(f"/incidents/{ref}/notes", json={"text": "x" * 10_001}), 422, "text")
    _problem(analyst.post(f"/incidents/{ref}/notes", json={"text": "bell\x07"}), 400, "U+0007")
    _problem(analyst.post(f"/incidents/{ref}/notes", json={"text": "soon", "at": "tomorrow"}), 400, "tomorrow")
    early = (utcnow() - timedelta(days=30)).isoformat()
    _problem(analyst.post(f"/incidents/{ref}/notes", json={"text": "early", "at": early}), 409, "before")
    _problem(analyst.get("/incidents/NO-SUCH/notes"), 404, "NO-SUCH")
    assert [n["text"] for n in analyst.get(f"/incidents/{ref}/notes").json()] == [added.json()["text"], "back-dated"]


def _coordinating(api: Api, title: str) -> str:
    ref = _incident(api, title)
    analyst = api.as_("analyst")
    for status in ("triaged", "coordinating"):
        etag = analyst.get(f"/incidents/{ref}").headers["etag"]
        assert analyst.patch(f"/incidents/{ref}", json={"status": status}, headers={"If-Match": etag}).is_success
    return ref


def test_bulk_resolve_reports_each_incident_and_a_retry_closes_nothing_twice(api):
    analyst = api.as_("analyst")
    ready, fresh = _coordinating(api, "bulk ready"), _incident(api, "bulk fresh")
    body = {"refs": [ready, fresh], "outcome": "taken-down"}
    first = analyst.post("/incidents/bulk/resolve", json=body)
    assert first.status_code == 200, first.text
    report = first.json()
    assert report["status"] == "resolved" and report["dry_run"] is False
    assert report["closed"] == [ready]
    assert [r["ref"] for r in report["refused"]] == [fresh] and "new" in report["refused"][0]["reason"]
    assert analyst.get(f"/incidents/{ready}").json()["status"] == "resolved"
    audit = len(analyst.get(f"/incidents/{ready}").json()["audit"])
    retry = analyst.post("/incidents/bulk/resolve", json=body).json()
    assert retry["closed"] == [] and {r["ref"] for r in retry["refused"]} == {ready, fresh}
    assert len(analyst.get(f"/incidents/{ready}").json()["audit"]) == audit
    # By a filter, dry: what would be closed, nothing changed.
    dry = analyst.post(
        "/incidents/bulk/resolve", json={"filter": {"search": "bulk fresh"}, "status": "rejected", "dry_run": True}
    ).json()
    assert dry["closed"] == [fresh] and dry["dry_run"] is True
    assert analyst.get(f"/incidents/{fresh}").json()["status"] == "new"
    _problem(analyst.post("/incidents/bulk/resolve", json={"refs": [fresh, "NO-SUCH-REF"]}), 404, "NO-SUCH-REF")
    assert analyst.get(f"/incidents/{fresh}").json()["status"] == "new"
    _problem(analyst.post("/incidents/bulk/resolve", json={}), 400, "criterion")
    _problem(analyst.post("/incidents/bulk/resolve", json={"refs": [fresh], "filter": {"open": True}}), 400, "not both")
    _problem(analyst.post("/incidents/bulk/resolve", json={"refs": [fresh], "status": "triaged"}), 422, "status")
    _problem(analyst.post("/incidents/bulk/resolve", json={"refs": [fresh], "at": "someday"}), 400, "someday")
    _problem(analyst.post("/incidents/bulk/resolve", json={"refs": ["x"] * 1001}), 422, "refs")


def test_bulk_assign_reports_each_ref_and_a_retry_records_nothing_new(api):
    analyst = api.as_("analyst")
    one, two = _incident(api, "assign one"), _incident(api, "assign two")
    body = {"refs": [one, "NO-SUCH-REF", two], "owner": "alice"}
    first = analyst.post("/incidents/bulk/assign", json=body)
    assert first.status_code == 200, first.text
    assert first.json()["owner"] == "alice" and first.json()["assigned"] == [one, two]
    assert [(r["ref"], "NO-SUCH-REF" in r["reason"]) for r in first.json()["refused"]] == [("NO-SUCH-REF", True)]
    detail = analyst.get(f"/incidents/{one}").json()
    assert detail["owner"] == "alice" and detail["audit"][-1]["actor"] == "analyst"
    retry = analyst.post("/incidents/bulk/assign", json=body).json()
    assert retry["assigned"] == [one, two]
    assert analyst.get(f"/incidents/{one}").json()["audit"] == detail["audit"]
    nobody = analyst.post("/incidents/bulk/assign", json={"refs": [two], "owner": None}).json()
    assert nobody["owner"] is None and analyst.get(f"/incidents/{two}").json()["owner"] is None
    _problem(analyst.post("/incidents/bulk/assign", json={"refs": []}), 422, "refs")
    _problem(analyst.post("/incidents/bulk/assign", json={"refs": [one], "owner": "a\nb"}), 400, "U+000A")
