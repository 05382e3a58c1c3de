"""The HTTP API under a real Uvicorn server: tokens and roles, the endpoints, problems, the spec."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sitrep.accounts import service as accounts
from sitrep.incidents.db import open_store
from sitrep.report.archive import load_issue
from sitrep.web.api import create_api

from .conftest import HOSTILE, ROLES, RunningDesk
from .serving import serve

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def api(web: RunningDesk) -> Iterator[str]:
    """The API of the web tests' workspace on its own loopback port: its base URL."""
    with serve(create_api(web.workspace)) as url:
        yield url


@pytest.fixture(scope="module")
def tokens(web: RunningDesk) -> dict[str, str]:
    """A fresh API token of each role's user."""
    store = open_store(web.workspace)
    return {role: accounts.issue_token(store, role).token for role in ROLES}


def _as(api: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=api, headers=headers, timeout=60)


def test_no_token_or_a_bad_one_is_refused_as_a_problem(api, tokens):
    for token in (None, "sitrep_not-a-token"):
        response = _as(api, token).get("/incidents")
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["status"] == 401
    assert _as(api, tokens["viewer"]).get("/incidents").status_code == 200


def test_a_revoked_token_no_longer_works(api, web):
    store = open_store(web.workspace)
    issued = accounts.issue_token(store, "analyst")
    assert _as(api, issued.token).get("/partners").status_code == 200
    accounts.revoke_token(store, "analyst", issued.id)
    assert _as(api, issued.token).get("/partners").status_code == 401


def test_incidents_list_and_show_with_hostile_text_as_data(api, tokens):
    viewer = _as(api, tokens["viewer"])
    page = viewer.get("/incidents", params={"search": "INC-HOSTILE"}).json()
    refs = {i["ref"]: i for i in page["items"]}
    assert set(refs) == {"INC-HOSTILE-1", "INC-HOSTILE-2"} and page["next"] is None
    assert refs["INC-HOSTILE-1"]["title"] == f"仿冒{HOSTILE}"  # JSON carries the text as it is
    detail = viewer.get("/incidents/INC-HOSTILE-1").json()
    assert detail["requests"][0]["partner"] == f"阿里云{HOSTILE}"
    missing = viewer.get("/incidents/NO-SUCH-REF")
    assert missing.status_code == 404 and "NO-SUCH-REF" in missing.json()["detail"]


def test_cursor_pages_cover_every_incident_once(api, tokens):
    analyst = _as(api, tokens["analyst"])
    for i in range(5):
        assert analyst.post("/incidents", json={"title": f"page {i}", "category": "malware"}).status_code == 201
    seen, url = [], "/incidents?limit=2"
    while url:
        page = analyst.get(url).json()
        assert len(page["items"]) <= 2
        seen += [i["ref"] for i in page["items"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) >= 7
    everything = analyst.get("/incidents", params={"limit": 1000}).json()["items"]
    assert seen == [i["ref"] for i in everything]


def test_creating_needs_a_role_that_edits_and_records_the_caller(api, tokens):
    body = {"title": "仿冒网银", "category": "phishing", "assets": ["http://bank-login.example.com/"], "tlp": "GREEN"}
    refused = _as(api, tokens["viewer"]).post("/incidents", json=body)
    assert refused.status_code == 403 and "viewer" in refused.json()["detail"]
    created = _as(api, tokens["analyst"]).post("/incidents", json=body)
    assert created.status_code == 201, created.text
    detail = created.json()
    assert created.headers["location"].endswith(f"/incidents/{detail['ref']}")
    assert detail["status"] == "new" and detail["audit"][0]["actor"] == "analyst"
    assert _as(api, tokens["viewer"]).get(created.headers["location"]).json()["title"] == "仿冒网银"


def test_bad_input_is_a_problem_naming_it(api, tokens):
    analyst = _as(api, tokens["analyst"])
    wrong = analyst.post("/incidents", json={"title": "x", "category": "spam-ish"})
    assert wrong.status_code == 400 and "spam-ish" in wrong.json()["detail"]
    extra = analyst.post("/incidents", json={"title": "x", "category": "phishing", "colour": "red"})
    assert extra.status_code == 422 and "colour" in extra.json()["detail"]
    duplicate = analyst.post("/incidents", json={"title": "x", "category": "phishing", "ref": "INC-HOSTILE-1"})
    assert duplicate.status_code == 409
    week = analyst.get("/metrics/2025-W99")
    assert week.status_code in (400, 422) and week.headers["content-type"] == "application/problem+json"
    unbounded = analyst.get("/events", params={"start": "2000-01-01", "end": "2030-01-01"})
    assert unbounded.status_code == 400 and unbounded.json()["title"] == "Bad Request"


def test_metrics_events_and_the_report_answer(api, tokens, web):
    viewer = _as(api, tokens["viewer"])
    metrics = viewer.get(f"/metrics/{web.week}").json()
    assert metrics["schema"] == "sitrep.metrics/1" and metrics["week"] == str(web.week)
    events = viewer.get("/events", params={"week": str(web.week)}).json()
    assert events["items"] == [] and events["next"] is None and events["start"] < events["end"]
    report = viewer.get(f"/reports/{web.week}").json()
    assert report["schema"] == "sitrep.report/2" and report["week"] == str(web.week)
    # The published issue's frozen numbers, whatever the desk did since (CLEAR incidents: refs shown).
    issue = load_issue(web.workspace, web.week)
    assert issue is not None
    frozen = issue.facts.incidents.handled
    handled = report["incidents"]["handled"]
    assert handled["value"] == frozen.value == len(handled["incidents"])
    assert handled["incidents"] == list(frozen.refs)


def test_the_committed_spec_is_the_one_the_code_serves(api, tokens):
    served = _as(api, None).get("/openapi.json").json()
    assert served["openapi"].startswith("3.1")
    assert served["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    spec = importlib.util.spec_from_file_location("openapi_tool", ROOT / "tools" / "openapi.py")
    assert spec and spec.loader
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    committed = (ROOT / "docs" / "api" / "openapi.json").read_text(encoding="utf-8")
    assert committed == tool.spec_text(), "docs/api/openapi.json is stale: run .venv/bin/python tools/openapi.py"
    assert json.loads(committed)["paths"].keys() == served["paths"].keys()


def test_a_change_is_made_against_the_version_read_and_refused_when_it_moved(api, tokens):
    analyst = _as(api, tokens["analyst"])
    ref = analyst.post("/incidents", json={"title": "etag", "category": "malware"}).json()["ref"]
    read = analyst.get(f"/incidents/{ref}")
    etag = read.headers["etag"]
    assert etag == f'"{read.json()["version"]}"'
    without = analyst.patch(f"/incidents/{ref}", json={"owner": "alice"})
    assert without.status_code == 428
    changed = analyst.patch(f"/incidents/{ref}", json={"owner": "alice"}, headers={"If-Match": etag})
    assert changed.status_code == 200, changed.text
    assert changed.json()["owner"] == "alice" and changed.headers["etag"] != etag
    assert changed.json()["audit"][-1]["actor"] == "analyst"
    # A second writer still holding the first version is refused, and nothing of its change is kept.
    stale = analyst.patch(f"/incidents/{ref}", json={"owner": "bob"}, headers={"If-Match": etag})
    assert stale.status_code == 412 and ref in stale.json()["detail"]
    assert analyst.get(f"/incidents/{ref}").json()["owner"] == "alice"
    illegal = analyst.patch(
        f"/incidents/{ref}", json={"status": "resolved"}, headers={"If-Match": changed.headers["etag"]}
    )
    assert illegal.status_code in (400, 409) and illegal.headers["content-type"] == "application/problem+json"
    viewer = _as(api, tokens["viewer"]).patch(f"/incidents/{ref}", json={"owner": "x"}, headers={"If-Match": etag})
    assert viewer.status_code == 403


def test_a_retried_create_with_the_same_key_makes_one_incident(api, tokens):
    analyst = _as(api, tokens["analyst"])
    body = {"title": "重试", "category": "phishing", "assets": ["http://retry.example.com/"]}
    key = {"Idempotency-Key": "retry-7f3a"}
    first = analyst.post("/incidents", json=body, headers=key)
    again = analyst.post("/incidents", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json()["ref"] == first.json()["ref"]
    assert len(analyst.get("/incidents", params={"search": "重试"}).json()["items"]) == 1
    reused = analyst.post("/incidents", json={**body, "title": "另一个"}, headers=key)
    assert reused.status_code == 422 and first.json()["ref"] in reused.json()["detail"]
    # Keys belong to their client: another user's same key is another request.
    other = _as(api, tokens["publisher"]).post("/incidents", json=body, headers=key)
    assert other.status_code == 201 and other.json()["ref"] != first.json()["ref"]


def test_the_desk_serves_the_api_with_its_security_headers(web, tokens):
    mounted = _as(f"{web.url}/api/v1", tokens["viewer"])
    answer = mounted.get("/incidents", params={"limit": 1})
    assert answer.status_code == 200 and "items" in answer.json()
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert mounted.get("/openapi.json").json()["info"]["title"] == "Sitrep API"
    # No CSRF token is asked of a bearer call, and a browser's session cookie is no credential here.
    analyst = _as(f"{web.url}/api/v1", tokens["analyst"])
    created = analyst.post("/incidents", json={"title": "经由工作台", "category": "other"})
    assert created.status_code == 201, created.text
    assert _as(f"{web.url}/api/v1", None).get("/incidents").status_code == 401
